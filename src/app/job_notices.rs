//! What the scheduler's jobs tell people: the announcements and alerts a job
//! writes to the outbox, and the outcome line the approval card shows after
//! it. Written here, next to the rest of the bot's wording (`cards`,
//! `notices`, `headlines`), so the scheduler decides what happened and this
//! module says it; the scheduler holds no sentence.
//!
//! Each function takes the session as the job read (or changed) it and the
//! typed facts of what happened: a lateness, a storefront error, the
//! problems a re-check found.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::cards;
use super::notices::Notice;
use super::{AppError, SessionView};
use crate::chat::{Channel, Mention, Message, Text, TimeStyle};
use crate::domain::sale::Shown;
use crate::domain::{ActivityKind, RuleViolation, Status};
use crate::storefront::StorefrontError;

/// "Ended", for the whole team; `early` when an approver stopped it.
pub fn ended(view: &SessionView, early: bool) -> Notice {
    Notice::new(
        "ended",
        Channel::Announcements,
        cards::ended(view, ended_how(early)),
    )
}

/// The approval card's outcome once the sale ended.
pub fn ended_outcome(early: bool) -> Text {
    Text::from(format!("Ended{}", ended_how(early)))
}

fn ended_how(early: bool) -> &'static str {
    if early {
        " early"
    } else {
        ""
    }
}

/// The storefront refused to end the sale (an answer retrying cannot change).
pub fn end_refused(view: &SessionView, e: &StorefrontError) -> Notice {
    Notice::alert(
        "end_refused",
        Text::from(format!(
            "The storefront refused to end #{} \"{}\" ({e}). It is still live there, so it stays \
             live here; retrying. Check flash sale {} on the storefront.",
            view.id, view.title, view.id
        )),
    )
}

/// Ending the sale has failed `attempts` times for reasons that may pass.
pub fn end_failing(view: &SessionView, attempts: i32, e: &StorefrontError) -> Notice {
    Notice::alert(
        "end_failing",
        Text::from(format!(
            "Ending #{} \"{}\" on the storefront has failed {} times ({e}); still retrying.",
            view.id, view.title, attempts
        )),
    )
}

/// The approval deadline passed before anyone approved the session.
pub fn expired(view: &SessionView) -> Notice {
    let message = Message {
        text: Text::from(format!(
            "#{} \"{}\" was not approved by its deadline and will not go live. Clone it to a new start to try again.",
            view.id, view.title
        )),
        mentions: vec![Mention::Editors],
        ..Message::default()
    };
    Notice::new("expired", Channel::Announcements, message)
}

/// The approval card's outcome once the session expired.
pub fn expired_outcome() -> Text {
    Text::from("Expired: not approved in time")
}

/// Shortly before go-live, the catalog re-checked and every item still fine.
pub fn armed(view: &SessionView) -> Notice {
    let message = Message {
        text: Text::new()
            .plain(format!("Armed: #{} \"{}\" goes live ", view.id, view.title))
            .time(view.window.starts_at(), TimeStyle::FullAndRelative)
            .plain(". Catalog and stock checked."),
        ..Message::default()
    };
    Notice::new("heads_up", Channel::Announcements, message)
}

/// Shortly before go-live, the re-check found `problems` with the items.
pub fn heads_up_problems(view: &SessionView, problems: &[RuleViolation]) -> Notice {
    let mut text = Text::new()
        .plain(format!(
            "Urgent: #{} \"{}\" goes live ",
            view.id, view.title
        ))
        .time(view.window.starts_at(), TimeStyle::Relative)
        .plain(", but:");
    for problem in problems {
        text = text.plain(format!("\n- {problem}"));
    }
    text = text.plain("\nRevoke it and fix the items, or cancel it.");
    Notice::alert("heads_up_problems", text)
}

/// Shortly before go-live, the re-check itself failed.
pub fn heads_up_unchecked(view: &SessionView, e: &AppError) -> Notice {
    Notice::alert(
        "heads_up_unchecked",
        Text::from(format!(
            "Could not re-check #{} \"{}\" before go-live: {e}",
            view.id, view.title
        )),
    )
}

/// A publish this much after its start says so in "now live".
const LATE_ENOUGH_TO_SAY: Duration = Duration::from_secs(60);

/// "Now live", saying how late when it went up `late` after its start.
pub fn live(view: &SessionView, late: Duration) -> Notice {
    let mut message = cards::now_live(view);
    if late >= LATE_ENOUGH_TO_SAY {
        message.text = message.text.plain(format!(
            " It went up {} after its start: no bot was able to publish it sooner.",
            how_long(late)
        ));
    }
    Notice::new("live", Channel::Announcements, message)
}

/// The approval card's outcome once the sale is live.
pub fn live_outcome(view: &SessionView) -> Text {
    Text::new()
        .plain("Live since ")
        .time(view.window.starts_at(), TimeStyle::Relative)
}

/// "12 min", "2 h 5 min", "45 s": how late, for people.
fn how_long(late: Duration) -> String {
    let secs = late.as_secs();
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min", secs / 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

/// Why an approved session's window passed before it went live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissedBecause {
    /// Publishing was tried and kept failing.
    PublishingFailed,
    /// No bot process ran its publish while the window was open.
    NoBotRan,
}

impl MissedBecause {
    /// The reason as the alert says it (and the activity log records it).
    pub fn says(self) -> &'static str {
        match self {
            MissedBecause::PublishingFailed => "publishing kept failing until its window ended",
            MissedBecause::NoBotRan => "no bot was running to publish it while its window was open",
        }
    }
}

/// The session was marked missed at `noticed_at`, for approvers.
pub fn missed(view: &SessionView, because: MissedBecause, noticed_at: DateTime<Utc>) -> Notice {
    let text = Text::new()
        .plain(format!(
            "#{} \"{}\" could not go live: {}. It was due ",
            view.id,
            view.title,
            because.says()
        ))
        .time(view.window.starts_at(), TimeStyle::Full)
        .plain(" to ")
        .time(view.window.ends_at(), TimeStyle::Full)
        .plain(" and the bot got to it ")
        .time(noticed_at, TimeStyle::Full)
        .plain(". Clone it to a new start to run it again.");
    Notice::alert("missed", text)
}

/// The approval card's outcome once the session was marked missed.
pub fn missed_outcome() -> Text {
    Text::from("Missed: its window passed before it went live")
}

/// The storefront could not say whether a sale that must be down is up.
pub fn take_down_unknown(view: &SessionView, e: &StorefrontError) -> Notice {
    Notice::alert(
        "take_down_unknown",
        Text::from(format!(
            "#{} \"{}\" is {} but the storefront could not say whether its sale is up \
             ({e}). Check flash sale {} there.",
            view.id,
            view.title,
            view.status.label().to_lowercase(),
            view.id
        )),
    )
}

/// How taking down a sale that reached the storefront too late went.
#[derive(Debug, Clone, Copy)]
pub enum TakeDown<'a> {
    /// It is off the storefront again.
    Done,
    /// The storefront took the end but still shows the sale.
    StillUp,
    /// The storefront did not take the end.
    Failed(&'a StorefrontError),
}

/// A sale reached the storefront although its session is not live (it was
/// revoked, cancelled or marked failed meanwhile), and what taking it down did.
pub fn take_down(view: &SessionView, outcome: TakeDown<'_>) -> Notice {
    let what = match view.status {
        Status::Failed => format!(
            "#{} \"{}\" was marked failed after its sale reached the storefront",
            view.id, view.title
        ),
        status => format!(
            "#{} \"{}\" became {} while it was being published",
            view.id,
            view.title,
            status.label().to_lowercase()
        ),
    };
    match outcome {
        TakeDown::Done => Notice::alert(
            "taken_down",
            Text::from(format!(
                "{what}: it reached the storefront and was taken down again."
            )),
        ),
        TakeDown::StillUp => Notice::alert(
            "take_down_failed",
            Text::from(format!(
                "{what}, and it is still on the storefront after asking it to end the sale. \
                 Retrying; remove flash sale {} from the storefront by hand if it stays.",
                view.id
            )),
        ),
        TakeDown::Failed(e) => Notice::alert(
            "take_down_failed",
            Text::from(format!(
                "{what}, and it is on the storefront: taking it down failed ({e}). \
                 Retrying; remove flash sale {} from the storefront by hand if it stays.",
                view.id
            )),
        ),
    }
}

/// Publishing has failed `attempts` times for reasons that may pass.
pub fn publish_failing(view: &SessionView, attempts: i32, e: &StorefrontError) -> Notice {
    let text = Text::new()
        .plain(format!(
            "Publishing #{} \"{}\" has failed {} times ({e}). Still retrying until the sale would end, ",
            view.id, view.title, attempts
        ))
        .time(view.window.ends_at(), TimeStyle::Relative)
        .plain(".");
    Notice::alert("publish_failing", text)
}

/// Staging the approved sale on the shop has failed `attempts` times; the
/// publish job still puts it up at the start if the shop takes it by then.
pub fn stage_failing(view: &SessionView, attempts: i32, e: &StorefrontError) -> Notice {
    let text = Text::new()
        .plain(format!(
            "Staging #{} \"{}\" on the shop has failed {} times ({e}). Still retrying; if it is \
             not staged by its start, the bot puts it up itself at ",
            view.id, view.title, attempts
        ))
        .time(view.window.starts_at(), TimeStyle::Relative)
        .plain(".");
    Notice::alert("stage_failing", text)
}

/// The shop refused the staged sale itself: it will be put up at the start
/// the usual way, where the same refusal would fail it.
pub fn stage_refused(view: &SessionView, e: &StorefrontError) -> Notice {
    Notice::alert(
        "stage_refused",
        Text::from(format!(
            "The shop refused to stage #{} \"{}\" ({e}). It is not on the shop yet; at its start \
             the bot tries to put it up itself. Revoke it to change it.",
            view.id, view.title
        )),
    )
}

/// A staged sale could not be taken off the shop after its session stopped
/// being approved; the reconciler keeps asking.
pub fn unstage_failed(view: &SessionView, e: &StorefrontError) -> Notice {
    Notice::alert(
        "unstage_failed",
        Text::from(format!(
            "#{} \"{}\" is {}, but its staged sale could not be taken off the shop ({e}). \
             Retrying; it must not go live there.",
            view.id,
            view.title,
            view.status.as_str()
        )),
    )
}

/// The start came and the shop does not show the staged sale at its flash
/// prices yet: still checking (and putting it up) until it does or the
/// window ends.
pub fn not_shown_at_start(view: &SessionView, attempts: i32, e: &StorefrontError) -> Notice {
    Notice::alert(
        "not_shown_at_start",
        Text::from(format!(
            "#{} \"{}\" should be live on the shop by now, but the shop does not show it \
             ({attempts} checks; {e}). Still checking and putting it up until it ends.",
            view.id, view.title
        )),
    )
}

/// A line's flash quantity sold out and its flash price was taken off.
pub fn sold_out(
    view: &SessionView,
    sku: &str,
    sold: u32,
    quantity: u32,
    at: DateTime<Utc>,
) -> Notice {
    let text = Text::new()
        .plain(format!(
            "#{} \"{}\": {sku} sold out at the flash price ({sold} of {quantity}) at ",
            view.id, view.title
        ))
        .time(at, TimeStyle::Full)
        .plain(". Its regular price applies again; the other lines stay on sale.");
    Notice::new(
        format!("sold_out:{sku}"),
        Channel::Announcements,
        Message {
            text,
            ..Message::default()
        },
    )
}

/// Publishing failed for good: the session will not go live.
pub fn publish_failed(view: &SessionView, e: &StorefrontError) -> Notice {
    Notice::alert(
        "publish_failed",
        Text::from(format!(
            "#{} \"{}\" could not be published and will not go live: {e}.",
            view.id, view.title
        )),
    )
}

/// The approval card's outcome once publishing failed for good.
pub fn publish_failed_outcome(e: &StorefrontError) -> Text {
    Text::from(format!("Failed to publish: {e}"))
}

/// The storefront showed the sale the wrong way (`wanted` is what it must
/// show) and the repair put it right.
pub fn repaired(view: &SessionView, wanted: Shown) -> Notice {
    let (event, done) = match wanted {
        Shown::Up => (ActivityKind::Republished, "published again"),
        Shown::Down => (ActivityKind::TakenDown, "taken down"),
    };
    Notice::alert(
        event.as_str(),
        Text::from(format!("{}: it was {done}.", found(view, wanted))),
    )
}

/// The repair did not put the sale right: the storefront refused (`Some`)
/// or answered but still shows it the wrong way (`None`).
pub fn repair_failed(view: &SessionView, wanted: Shown, e: Option<&StorefrontError>) -> Notice {
    let (event, doing, still, advice) = match wanted {
        Shown::Up => (
            "republish_failed",
            "publishing it again",
            "it still does not show it",
            "stop it if it should not run.".to_owned(),
        ),
        Shown::Down => (
            "take_down_failed",
            "taking it down",
            "it still shows it",
            format!(
                "remove flash sale {} from the storefront by hand if it stays.",
                view.id
            ),
        ),
    };
    let why = e.map_or_else(|| still.to_owned(), ToString::to_string);
    Notice::alert(
        event,
        Text::from(format!(
            "{}, and {doing} failed ({why}). Retrying every few seconds; {advice}",
            found(view, wanted)
        )),
    )
}

/// `#12 "Midnight Deals" is live, but its sale was missing on the storefront`.
fn found(view: &SessionView, wanted: Shown) -> String {
    format!(
        "#{} \"{}\" is {}, but its sale was {} on the storefront",
        view.id,
        view.title,
        view.status.label().to_lowercase(),
        if wanted == Shown::Up { "missing" } else { "up" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lateness_reads_in_the_largest_unit_that_fits() {
        assert_eq!(how_long(Duration::from_secs(45)), "45 s");
        assert_eq!(how_long(Duration::from_secs(12 * 60 + 5)), "12 min");
        assert_eq!(
            how_long(Duration::from_secs(2 * 3600 + 5 * 60)),
            "2 h 5 min"
        );
    }
}
