//! Discord-side helpers: members with the configured roles, the adapter's
//! `Data` around a `TestApp`, and one check of every Discord limit on a
//! serialised message, so each test can say "and it fits".

use flashsale_bot::app::Services;
use flashsale_bot::config::DiscordConfig;
use flashsale_bot::domain::Actor;
use flashsale_bot::platforms::discord::{Data, Rendered, Renderer, RoleIds};
use poise::serenity_prelude::{RoleId, UserId};
use secrecy::SecretString;
use serde_json::Value;

pub const EDITOR_ROLE: u64 = 4;
pub const APPROVER_ROLE: u64 = 5;
pub const OTHER_ROLE: u64 = 9;

pub fn roles() -> RoleIds {
    RoleIds {
        editor: RoleId::new(EDITOR_ROLE),
        approver: RoleId::new(APPROVER_ROLE),
    }
}

pub fn renderer() -> Renderer {
    Renderer {
        time_zone: chrono_tz::Asia::Jakarta,
        editor_role: RoleId::new(EDITOR_ROLE),
        approver_role: RoleId::new(APPROVER_ROLE),
    }
}

/// A guild member holding `role_ids`, as the adapter sees them.
pub fn member(user_id: u64, name: &str, role_ids: &[u64]) -> Actor {
    let member_roles: Vec<RoleId> = role_ids.iter().map(|r| RoleId::new(*r)).collect();
    flashsale_bot::platforms::discord::input::actor(
        UserId::new(user_id),
        name,
        &member_roles,
        roles(),
    )
}

pub fn discord_config() -> DiscordConfig {
    DiscordConfig {
        token: SecretString::from("test-token".to_owned()),
        guild_id: 1,
        announcements_channel_id: 2,
        approvals_channel_id: 3,
        editor_role_id: EDITOR_ROLE,
        approver_role_id: APPROVER_ROLE,
        api_base: None,
        register_globally: false,
    }
}

pub fn data(app: &Services) -> Data {
    Data::new(app.front(), &discord_config())
}

/// The message as Discord would receive it when posted to a channel.
pub fn json(rendered: Rendered) -> Value {
    serde_json::to_value(rendered.create_message()).expect("builders serialise")
}

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

/// Asserts every limit Discord puts on a message (FACTS.md).
pub fn assert_within_discord_limits(message: &Value) {
    assert!(chars(&message["content"]) <= 2000, "content too long");
    let mut total = 0;
    for embed in message["embeds"].as_array().into_iter().flatten() {
        let title = chars(&embed["title"]);
        let description = chars(&embed["description"]);
        let footer = chars(&embed["footer"]["text"]);
        assert!(title <= 256, "embed title {title}");
        assert!(description <= 4096, "embed description {description}");
        assert!(footer <= 2048, "footer {footer}");
        total += title + description + footer;
        let fields = embed["fields"].as_array().cloned().unwrap_or_default();
        assert!(fields.len() <= 25, "{} fields", fields.len());
        for field in &fields {
            let (name, value) = (chars(&field["name"]), chars(&field["value"]));
            assert!((1..=256).contains(&name), "field name {name}");
            assert!((1..=1024).contains(&value), "field value {value}");
            total += name + value;
        }
    }
    assert!(total <= 6000, "embeds total {total}");
    let rows = message["components"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(rows.len() <= 5, "{} rows", rows.len());
    for row in &rows {
        let buttons = row["components"].as_array().cloned().unwrap_or_default();
        assert!(
            (1..=5).contains(&buttons.len()),
            "{} buttons",
            buttons.len()
        );
        for button in &buttons {
            assert!(
                (1..=100).contains(&chars(&button["custom_id"])),
                "custom_id"
            );
            assert!(chars(&button["label"]) <= 80, "label");
        }
    }
}

/// Every character of a message a person reads: content and embed texts.
pub fn all_text(message: &Value) -> String {
    let mut text = message["content"].as_str().unwrap_or_default().to_owned();
    for embed in message["embeds"].as_array().into_iter().flatten() {
        for key in ["title", "description"] {
            text.push('\n');
            text.push_str(embed[key].as_str().unwrap_or_default());
        }
        for field in embed["fields"].as_array().into_iter().flatten() {
            text.push('\n');
            text.push_str(field["name"].as_str().unwrap_or_default());
            text.push('\n');
            text.push_str(field["value"].as_str().unwrap_or_default());
        }
        text.push('\n');
        text.push_str(embed["footer"]["text"].as_str().unwrap_or_default());
    }
    text
}
