//! Notices: the channel posts that report what happened to a session ("now
//! live", "ended", "could not go live", alerts to approvers), written to the
//! outbox in the same transaction as the change they report.
//!
//! A notice is keyed by (session, event, session version): a job that runs
//! again after a crash finds its notice already written and writes nothing,
//! and the scheduler delivers each key once (`app::outbox`). Notices
//! about something other than a status change (a failing publish, a refused
//! take-down) use the session's current version, so each is said once per
//! version of the session.
//!
//! Posts that report no state change go the same way, so that a chat that is
//! down delays them and a job run twice does not double them: the heads-up
//! before go-live (keyed by the approved session's version, which nothing
//! but a revoke or cancel changes), its alerts, and the reminders before the
//! approval deadline (`reminder:<minutes>`, written in the transaction that
//! finishes their job, see `Operations::finish_jobs_with_notices`). Reminders
//! due together are delivered as one post (`reminder_post`).
//!
//! The approval card goes the same way, written with the submit and posted
//! at once by the submit itself when the chat takes it (`app::outbox`).
//!
//! So does the daily digest, about no one session: written without one and
//! keyed by its date (`Operations::post_unattached`), so it counts as posted
//! only once the chat took it.
//!
//! What stays direct: edits of the approval card (each shows the whole card
//! again; one the chat did not take is caught up by the reconciler,
//! `Operations::redraw_stale_cards`, and a card the chat lost is replaced by
//! a fresh one at the next state change, `app::announce`).

use std::borrow::Cow;
use std::time::Duration;

use super::SessionView;
use crate::chat::{Channel, Mention, Message, Text, TimeStyle};
use crate::domain::{Actor, JobKind, Status, MAX_ITEMS};

/// One post for the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// What happened, e.g. `live` or `reminder:60`; part of the post's unique key.
    pub event: Cow<'static, str>,
    pub channel: Channel,
    pub message: Message,
    /// How long the schedulers leave it to the use case that wrote it
    /// (zero: theirs at once; see `store::outbox::enqueue`).
    pub held: Duration,
}

/// The outbox event of the approval card (`app::outbox`).
pub const CARD_EVENT: &str = "card";

impl Notice {
    pub fn new(event: impl Into<Cow<'static, str>>, channel: Channel, message: Message) -> Notice {
        Notice {
            event: event.into(),
            channel,
            message,
            held: Duration::ZERO,
        }
    }

    /// An alert for approvers, in their channel, mentioning them.
    pub fn alert(event: impl Into<Cow<'static, str>>, text: Text) -> Notice {
        Notice::new(
            event,
            Channel::Approvals,
            Message {
                text,
                mentions: vec![Mention::Approvers],
                ..Message::default()
            },
        )
    }
}

/// One session's line of a reminder (`event` is the job's kind,
/// `reminder:<minutes>`), mentioning who must act. Delivered alone or with
/// the others due at the same time as one post (`reminder_post`).
pub fn reminder(event: String, line: Text, who: Mention) -> Notice {
    Notice::new(
        event,
        Channel::Announcements,
        Message {
            text: line,
            mentions: vec![who],
            ..Message::default()
        },
    )
}

/// A session's reminder line, when it still needs someone to act (a draft:
/// its editors; pending: its approvers); `kind` is the reminder job's,
/// `reminder:<minutes>`, and the notice's event.
pub fn reminder_line(view: &SessionView, kind: JobKind) -> Option<Notice> {
    let (what, who) = match view.status {
        Status::Draft => {
            let missing = MAX_ITEMS.saturating_sub(view.items.len());
            let what = match missing {
                0 => "has its six SKUs and needs submission".to_owned(),
                1 => "needs 1 more SKU and submission".to_owned(),
                n => format!("needs {n} more SKUs and submission"),
            };
            (what, Mention::Editors)
        }
        Status::PendingApproval => ("is waiting for approval".to_owned(), Mention::Approvers),
        _ => return None,
    };
    let line = Text::new()
        .plain(format!("• #{} \"", view.id))
        .typed(view.title.clone())
        .plain(format!("\" {what}; approval closes "))
        .time(view.approval_deadline, TimeStyle::Relative);
    Some(reminder(kind.as_stored(), line, who))
}

/// The post for reminders delivered together: a header, one line per
/// session, and each mention once, editors before approvers.
pub fn reminder_post(lines: Vec<Message>) -> Message {
    let mut mentions: Vec<Mention> = Vec::new();
    let mut text = Text::from("Reminder:");
    for line in lines {
        text = text.line(line.text);
        for who in line.mentions {
            if !mentions.contains(&who) {
                mentions.push(who);
            }
        }
    }
    mentions.sort_by_key(|m| !matches!(m, Mention::Editors));
    Message {
        text,
        mentions,
        ..Message::default()
    }
}

/// Tells the submitter that an approver sent the session back to draft.
pub(super) fn rejected(view: &SessionView, approver: &Actor, reason: &str) -> Notice {
    let mut mentions = vec![];
    if let Some(submitter) = &view.submitted_by {
        mentions.push(Mention::User(submitter.clone()));
    }
    let message = Message {
        text: Text::from(format!("#{} \"", view.id))
            .typed(view.title.clone())
            .plain(format!("\" was rejected by {}: ", approver.name))
            .typed(reason)
            .plain("\nIt is a draft again: change it and submit it once more."),
        mentions,
        ..Message::default()
    };
    Notice::new("rejected", Channel::Announcements, message)
}

/// How long the schedulers leave a new approval card to the submit, which
/// posts it itself so the submitter finds it in the channel when told so.
const CARD_HELD_FOR_SUBMIT: Duration = Duration::from_secs(5);

/// A fresh approval card in place of a lost one (`message`, drawn from the
/// session as it is now), posted by the change that found the card lost.
pub(super) fn fresh_card(message: Message) -> Notice {
    Notice {
        held: CARD_HELD_FOR_SUBMIT,
        ..Notice::new(CARD_EVENT, Channel::Approvals, message)
    }
}

/// The approval card for a session just submitted.
pub(super) fn approval_card(view: &SessionView) -> Notice {
    Notice {
        held: CARD_HELD_FOR_SUBMIT,
        ..Notice::new(
            CARD_EVENT,
            Channel::Approvals,
            super::cards::approval_request(view),
        )
    }
}
