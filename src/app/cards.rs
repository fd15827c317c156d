//! What the bot's cards and announcements say, for every platform.
//!
//! The words, fields and buttons of a session card are decided here, once;
//! adapters only decide how a `Message` looks. The buttons carry ids from
//! the chat port (`chat::buttons`), which every adapter parses the same way.

use std::sync::Arc;

use crate::chat::buttons::{ButtonId, CardAction};
use crate::chat::{Button, ButtonStyle, Card, Field, Mention, Message, Text, TimeStyle, Tone};
use crate::domain::Status;
use crate::render::Picture;

use super::view::{ItemView, SessionView};

fn tone(status: Status) -> Tone {
    match status {
        Status::Draft => Tone::Neutral,
        Status::PendingApproval => Tone::Attention,
        Status::Approved => Tone::Success,
        Status::Live => Tone::Live,
        Status::Ended => Tone::Neutral,
        Status::Expired | Status::Cancelled | Status::Failed => Tone::Danger,
    }
}

fn item_field(item: &ItemView) -> Field {
    let units = if item.quantity.get() == 1 {
        "unit"
    } else {
        "units"
    };
    let mut value = Text::from(format!(
        "{} → {} (-{}) · {} {units} · stock {}",
        item.base_price, item.flash_price, item.discount, item.quantity, item.stock_seen
    ));
    if let Some(money) = line_money(item) {
        value = value.line(Text::from(money));
    }
    for flag in &item.money.flags {
        value = value.line(Text::from(format!("⚠ {flag}")));
    }
    Field {
        name: format!("{}. {} · {}", item.slot, item.sku, item.product_name),
        value,
        inline: false,
    }
}

/// `30-day low IDR 140,000 · margin IDR 19,650 a unit`, where known.
fn line_money(item: &ItemView) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(reference) = &item.money.reference {
        parts.push(format!("30-day low {reference}"));
    }
    if let Some(margin) = &item.money.margin {
        parts.push(format!("margin {margin} a unit"));
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// `Gives away IDR 1,234,500 · budget left IDR 765,500`, and each override.
fn session_money(view: &SessionView) -> Option<Text> {
    let money = &view.money;
    let mut text = match (&money.giveaway, &money.budget_left) {
        (Some(given), Some(left)) => Some(Text::from(format!(
            "Gives away {given} · budget left {left}"
        ))),
        (Some(given), None) => Some(Text::from(format!("Gives away {given}"))),
        (None, _) => None,
    };
    for o in &money.overrides {
        let line = Text::from(format!(
            "Override: {} allowed by {}: {}",
            o.covers, o.by, o.reason
        ));
        text = Some(match text {
            Some(t) => t.line(line),
            None => line,
        });
    }
    text
}

/// The session as a card: window, deadline, the items with their prices.
pub fn session_card(view: &SessionView) -> Card {
    let mut fields = vec![Field {
        name: "Window".to_owned(),
        value: Text::new()
            .time(view.window.starts_at(), TimeStyle::Full)
            .plain(" → ")
            .time(view.window.ends_at(), TimeStyle::Full),
        inline: false,
    }];
    // The deadline matters only while approval is still ahead: on an approved or live card it
    // reads like something is still due.
    if matches!(view.status, Status::Draft | Status::PendingApproval) {
        fields.push(Field {
            name: "Approval deadline".to_owned(),
            value: Text::new().time(view.approval_deadline, TimeStyle::FullAndRelative),
            inline: false,
        });
    }
    fields.extend(view.items.iter().map(item_field));
    let empty = crate::domain::MAX_ITEMS.saturating_sub(view.items.len());
    let mut description = Text::new().plain(format!("{} of 6 SKUs", view.items.len()));
    if empty > 0 && view.status == Status::Draft {
        description = description.plain(format!(" · {empty} to add before it can be submitted"));
    }
    if let Some(reason) = &view.rejection_reason {
        description = description.line(Text::from("Rejected: ").typed(reason.to_string()));
    }
    if let Some(notes) = &view.notes {
        description = description.line(Text::from("Notes: ").typed(notes.to_string()));
    }
    if let Some(money) = session_money(view) {
        description = description.line(money);
    }
    Card {
        title: format!("#{} {}", view.id, view.title),
        status: view.status.label().to_owned(),
        tone: tone(view.status),
        description: Some(description),
        fields,
        footer: Some(footer(view)),
    }
}

/// `version 7 · drafted by Alice`; once submitted, who submitted it too:
/// `version 8 · drafted by Alice · submitted by Carol`, or `version 8 ·
/// submitted by Alice` when she did both. A draft again (withdrawn or
/// rejected) shows only its drafter: whoever submits it next is not known yet.
fn footer(view: &SessionView) -> String {
    let submitter = view
        .submitted_by_name
        .as_deref()
        .filter(|_| view.status != Status::Draft);
    match submitter {
        Some(name) if view.submitted_by.as_ref() == Some(&view.created_by) => {
            format!("version {} · submitted by {name}", view.version)
        }
        Some(name) => format!(
            "version {} · drafted by {} · submitted by {name}",
            view.version, view.created_by_name
        ),
        None => format!(
            "version {} · drafted by {}",
            view.version, view.created_by_name
        ),
    }
}

/// The session as shoppers will see it, for the approval card and "now live".
pub fn sale_picture(view: &SessionView) -> Picture {
    Picture::Sale(Arc::new(super::pictures::sale_sheet(view)))
}

/// The approval card posted on submit: the card, Approve/Reject, one ping for approvers.
pub fn approval_request(view: &SessionView) -> Message {
    let ids = |action| {
        ButtonId {
            action,
            session_id: view.id,
            version: view.version,
        }
        .to_string()
    };
    let flags = view
        .items
        .iter()
        .map(|i| i.money.flags.len())
        .sum::<usize>();
    let mut text = Text::new()
        .plain(format!("#{} \"", view.id))
        .typed(view.title.clone())
        .plain("\" is waiting for approval, due ")
        .time(view.approval_deadline, TimeStyle::Relative)
        .plain(".");
    if flags > 0 {
        let noun = if flags == 1 { "flag" } else { "flags" };
        text = text.plain(format!(
            " Money guards: {flags} {noun} to look at (⚠ on the card)."
        ));
    }
    Message {
        text,
        card: Some(session_card(view)),
        buttons: vec![
            Button {
                id: ids(CardAction::Approve),
                label: "Approve".to_owned(),
                style: ButtonStyle::Success,
            },
            Button {
                id: ids(CardAction::Reject),
                label: "Reject".to_owned(),
                style: ButtonStyle::Danger,
            },
        ],
        mentions: vec![Mention::Approvers],
        picture: Some(sale_picture(view)),
        dedupe_key: None,
    }
}

/// The approval card after anything happened to the session: no buttons, the
/// current status and `outcome` (who did what), so the card tells the truth.
pub fn card_update(view: &SessionView, outcome: Text) -> Message {
    Message {
        text: outcome,
        card: Some(session_card(view)),
        picture: Some(sale_picture(view)),
        ..Message::default()
    }
}

/// "Now live", for the whole team: the six products and when the sale ends.
pub fn now_live(view: &SessionView) -> Message {
    let card = session_card(view);
    Message {
        text: Text::new()
            .plain(format!("#{} \"", view.id))
            .typed(view.title.clone())
            .plain("\" is now live! Ends ")
            .time(view.window.ends_at(), TimeStyle::FullAndRelative)
            .plain("."),
        card: Some(card),
        picture: Some(sale_picture(view)),
        dedupe_key: Some(format!("live:{}", view.id)),
        ..Message::default()
    }
}

/// "Ended", for the whole team.
pub fn ended(view: &SessionView, how: &str) -> Message {
    Message {
        text: Text::from(format!("#{} \"", view.id))
            .typed(view.title.clone())
            .plain(format!("\" has ended{how}.")),
        dedupe_key: Some(format!("ended:{}", view.id)),
        ..Message::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn button_ids_round_trip() {
        let id = ButtonId {
            action: CardAction::Reject,
            session_id: 12,
            version: 7,
        };
        assert_eq!(id.to_string(), "fs:reject:12:7");
        assert_eq!(ButtonId::parse("fs:reject:12:7"), Ok(id));
    }

    #[test]
    fn forged_or_malformed_button_ids_are_refused() {
        for raw in [
            "",
            "fs:approve:12",
            "fs:approve:12:7:8",
            "xx:approve:12:7",
            "fs:delete:12:7",
            "fs:approve:-12:7",
            "fs:approve:+12:7",
            "fs:approve: 12:7",
            "fs:approve:12:0",
            "fs:approve:0:1",
            "fs:approve:99999999999999999999:1",
            "fs:approve:12:7 ",
        ] {
            assert!(ButtonId::parse(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn the_longest_button_id_fits_discord_limits() {
        let id = ButtonId {
            action: CardAction::Approve,
            session_id: i64::MAX,
            version: i32::MAX,
        };
        assert!(id.to_string().len() <= 100);
    }
}
