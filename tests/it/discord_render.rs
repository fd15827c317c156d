//! What the Discord adapter sends, serialised exactly as serenity sends it:
//! the approval card, its updates, replies, the list, the log, the paste
//! report, forms and the command registration (those in `replies`), each
//! within Discord's limits. No database and no network: views are built by hand.

use chrono::{DateTime, Duration, TimeZone, Utc};
use flashsale_bot::app::cards::{approval_request, card_update, ended, now_live, session_card};
use flashsale_bot::app::{ItemView, SessionView};
use flashsale_bot::chat::{Mention, Message, Text};
use flashsale_bot::domain::{
    ActorId, Currency, DiscountPercent, Money, Quantity, Sku, SkuRules, Status, Window, WindowRules,
};
use serde_json::{json, Value};

use crate::support::discord::{assert_within_discord_limits, json, renderer};

/// The list, the log, the paste report, help, forms and the command registration.
mod replies;

/// Friday 2026-11-27 00:00 in Jakarta.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 17, 0, 0).unwrap()
}

fn window(from: DateTime<Utc>, hours: i64) -> Window {
    Window::new(
        from,
        from + Duration::hours(hours),
        from - Duration::days(1),
        &WindowRules::default(),
    )
    .unwrap()
}

fn item(slot: i16, sku: &str, name: &str) -> ItemView {
    let idr = Currency::from_code("IDR").unwrap();
    let discount = DiscountPercent::new(30).unwrap();
    let base = Money::from_minor(149_500, idr);
    ItemView {
        slot,
        sku: Sku::parse(sku, &SkuRules::new("[A-Z0-9][A-Z0-9._-]*", 100).unwrap()).unwrap(),
        product_name: name.to_owned(),
        flash_price: base.discounted(discount),
        base_price: base,
        discount,
        quantity: Quantity::new(10).unwrap(),
        stock_seen: 100,
        money: Default::default(),
    }
}

fn session(status: Status, items: usize) -> SessionView {
    SessionView {
        id: 12,
        title: "Midnight Deals".to_owned(),
        window: window(start(), 12),
        status,
        version: 7,
        approval_deadline: start() - Duration::hours(1),
        created_by: ActorId::new("discord", "81"),
        created_by_name: "Alice".to_owned(),
        submitted_by: Some(ActorId::new("discord", "81")),
        submitted_by_name: Some("Alice".to_owned()),
        approved_by: None,
        rejection_reason: None,
        notes: None,
        items: (1..=items)
            .map(|i| item(i as i16, &format!("FS-00{i}"), "Kopi Arabika Gayo 250 g"))
            .collect(),
        money: Default::default(),
    }
}

/// Every text at its maximum: a 100-character title of multi-byte
/// characters, 100-character SKUs, 1000-character product names, notes and reason.
fn longest_session() -> SessionView {
    let mut view = session(Status::Draft, 0);
    view.title = "界".repeat(100);
    view.created_by_name = "名".repeat(300);
    view.notes = Some("n".repeat(1000));
    view.rejection_reason = Some("r".repeat(1000));
    view.items = (1..=6)
        .map(|i| {
            let sku = format!("{i}{}", "X".repeat(99));
            item(i as i16, &sku, &"🎉".repeat(1000))
        })
        .collect();
    view
}

#[test]
fn the_approval_deadline_shows_only_while_approval_is_ahead() {
    for (status, shown) in [
        (Status::Draft, true),
        (Status::PendingApproval, true),
        (Status::Approved, false),
        (Status::Live, false),
        (Status::Ended, false),
    ] {
        let card = session_card(&session(status, 6));
        assert_eq!(
            card.fields.iter().any(|f| f.name == "Approval deadline"),
            shown,
            "{status:?}"
        );
    }
}

fn no_pings() -> Value {
    json!({ "parse": [], "users": [], "roles": [] })
}

#[test]
fn the_approval_card_has_the_items_the_buttons_and_pings_only_the_approvers() {
    let message = json(renderer().message(&approval_request(&session(Status::PendingApproval, 6))));
    assert_within_discord_limits(&message);
    assert!(message["content"]
        .as_str()
        .unwrap()
        .starts_with("<@&5> #12"));
    assert_eq!(
        message["allowed_mentions"],
        json!({ "parse": [], "users": [], "roles": ["5"] })
    );

    let embed = &message["embeds"][0];
    assert_eq!(embed["title"], "#12 Midnight Deals");
    assert_eq!(embed["color"], 0xF1C40F, "pending approval is amber");
    let fields = embed["fields"].as_array().unwrap();
    assert_eq!(
        fields[0],
        json!({ "name": "Status", "value": "Pending approval", "inline": true })
    );
    assert_eq!(fields[1]["name"], "Window");
    assert_eq!(
        fields[1]["value"],
        "<t:1795712400:F> (2026-11-27 00:00 WIB) → <t:1795755600:F> (2026-11-27 12:00 WIB)"
    );
    assert_eq!(fields[2]["name"], "Approval deadline");
    assert!(fields[2]["value"]
        .as_str()
        .unwrap()
        .contains("<t:1795708800:R>"));
    assert_eq!(
        fields.len(),
        3 + 6,
        "status, window, deadline and the six items"
    );
    assert_eq!(fields[3]["name"], "1. FS-001 · Kopi Arabika Gayo 250 g");
    assert_eq!(
        fields[3]["value"],
        "IDR 149,500 → IDR 104,650 (-30%) · 10 units · stock 100"
    );

    let buttons = message["components"][0]["components"].as_array().unwrap();
    assert_eq!(message["components"].as_array().unwrap().len(), 1);
    assert_eq!(
        (
            buttons[0]["custom_id"].clone(),
            buttons[0]["style"].clone(),
            buttons[0]["label"].clone()
        ),
        (json!("fs:approve:12:7"), json!(3), json!("Approve"))
    );
    assert_eq!(
        (
            buttons[1]["custom_id"].clone(),
            buttons[1]["style"].clone(),
            buttons[1]["label"].clone()
        ),
        (json!("fs:reject:12:7"), json!(4), json!("Reject"))
    );
}

#[test]
fn an_updated_card_loses_its_buttons_and_pings_nobody() {
    let mut view = session(Status::Approved, 6);
    view.approved_by = Some(ActorId::new("discord", "82"));
    let update = card_update(&view, Text::from("Approved by Bob"));
    let message = serde_json::to_value(renderer().message(&update).edit_message()).unwrap();
    assert_eq!(
        message["components"],
        json!([]),
        "an edit removes the buttons"
    );
    assert_eq!(message["content"], "Approved by Bob");
    assert_eq!(message["allowed_mentions"], no_pings());
    assert_eq!(message["embeds"][0]["color"], 0x2ECC71, "approved is green");
}

#[test]
fn announcements_and_replies_never_ping() {
    let view = session(Status::Live, 6);
    for message in [now_live(&view), ended(&view, " early")] {
        let sent = json(renderer().message(&message));
        assert_eq!(sent["allowed_mentions"], no_pings());
        assert!(sent.get("components").is_none());
    }
    // A mention typed into a title is shown as text but pings nobody.
    let mut sneaky = session(Status::Draft, 2);
    sneaky.title = "@everyone <@&5> deals".to_owned();
    let reply = json(renderer().session(&sneaky, "Drafted #12."));
    assert_eq!(reply["allowed_mentions"], no_pings());
    assert_eq!(reply["embeds"][0]["title"], "#12 @everyone <@&5> deals");
}

#[test]
fn a_masked_link_typed_into_a_title_notes_or_reason_stays_text() {
    let link = "[click](https://evil.example/x)";
    let mut view = session(Status::Live, 6);
    view.title = format!("Deals {link}");
    view.notes = Some(format!("see {link}"));
    view.rejection_reason = Some(format!("because {link}"));
    let escaped = "\\[click\\](https://evil.example/x)";
    for message in [now_live(&view), ended(&view, ""), approval_request(&view)] {
        let sent = json(renderer().message(&message));
        let body = sent.to_string();
        assert!(
            !body.contains("[click](https"),
            "a masked link went out: {body}"
        );
        let content = sent["content"].as_str().unwrap_or_default();
        assert!(content.contains(escaped), "{content}");
        if sent["embeds"][0].is_null() {
            continue; // "ended" has no card
        }
        let description = sent["embeds"][0]["description"]
            .as_str()
            .unwrap_or_default();
        assert!(
            description.contains(&format!("Notes: see {escaped}")),
            "{description}"
        );
        assert!(
            description.contains(&format!("Rejected: because {escaped}")),
            "{description}"
        );
    }
}

#[test]
fn a_user_mention_pings_that_user_only() {
    let message = Message {
        text: Text::from("#12 was rejected."),
        mentions: vec![
            Mention::User(ActorId::new("discord", "81234")),
            Mention::User(ActorId::new("console", "alice")),
        ],
        ..Message::default()
    };
    let sent = json(renderer().message(&message));
    assert_eq!(sent["content"], "<@81234> #12 was rejected.");
    assert_eq!(
        sent["allowed_mentions"],
        json!({ "parse": [], "users": ["81234"], "roles": [] })
    );
}

#[test]
fn a_session_at_every_maximum_length_stays_within_discord_limits() {
    let view = longest_session();
    let mut pending = view.clone();
    pending.status = Status::PendingApproval;
    for sent in [
        json(renderer().message(&approval_request(&pending))),
        json(renderer().message(&card_update(&view, Text::from("x".repeat(3000))))),
        json(renderer().session(&view, &"h".repeat(3000))),
    ] {
        assert_within_discord_limits(&sent);
    }
    let card = json(renderer().session(&view, "Drafted."));
    let embed = &card["embeds"][0];
    assert_eq!(
        embed["title"].as_str().unwrap().chars().count(),
        104,
        "#12 and the whole title"
    );
    let name = embed["fields"][3]["name"].as_str().unwrap();
    assert_eq!(name.chars().count(), 256);
    assert!(name.ends_with('…'), "a cut shows it was cut");
}
