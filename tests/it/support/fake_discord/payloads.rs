//! Discord's documented object shapes, as the fake sends them: users, members,
//! the guild, READY, interactions and the message objects REST answers with.
//!
//! serenity drops a gateway event it cannot deserialize without a word, so
//! every field serenity 0.12 requires is here (role `colors`, interaction
//! `attachment_size_limit`, `entitlements`, `locale`, `version`, a full
//! `message` on component interactions). `check_dispatch` deserializes an
//! event exactly as serenity does and says why it would be dropped.

use serde_json::{json, Value};

use super::{
    Origin, Person, ANNOUNCEMENTS_CHANNEL, APPLICATION_ID, APPROVALS_CHANNEL, APPROVER_ROLE,
    BOT_USER_ID, EDITOR_ROLE, GENERAL_CHANNEL, GUILD_ID, OTHER_GUILD_ID, PLAIN_ROLE,
};

/// Everything a bot may do, as a permissions string (Discord sends them as strings).
const ALL_PERMISSIONS: &str = "2251799813685247";
/// View, send, embed links, read history: what docs/discord.md asks the bot to get.
const BOT_ROLE_PERMISSIONS: &str = "84992";
/// Discord's default for a guild without boosts: 10 MiB.
const ATTACHMENT_SIZE_LIMIT: u64 = 10_485_760;

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({
        "id": id.to_string(),
        "username": name.to_lowercase(),
        "discriminator": "0",
        "global_name": name,
        "avatar": null,
        "bot": bot,
        "public_flags": 0,
    })
}

pub fn bot_user() -> Value {
    user(BOT_USER_ID, "Flashsale", true)
}

/// The current user as `GET /users/@me` and READY describe it.
pub fn current_user() -> Value {
    let mut me = bot_user();
    me["verified"] = json!(true);
    me["mfa_enabled"] = json!(false);
    me["flags"] = json!(0);
    me
}

pub fn member(person: &Person) -> Value {
    json!({
        "user": user(person.id, person.name, false),
        "nick": null,
        "avatar": null,
        "roles": person.roles.iter().map(u64::to_string).collect::<Vec<_>>(),
        "joined_at": "2025-01-06T03:00:00.000000+00:00",
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "permissions": ALL_PERMISSIONS,
        "communication_disabled_until": null,
    })
}

fn role(id: u64, name: &str, position: u64, permissions: &str, mentionable: bool) -> Value {
    json!({
        "id": id.to_string(),
        "name": name,
        "color": 0,
        "colors": { "primary_color": 0, "secondary_color": null, "tertiary_color": null },
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": position,
        "permissions": permissions,
        "managed": false,
        "mentionable": mentionable,
        "flags": 0,
    })
}

fn text_channel(id: u64, name: &str, position: u64) -> Value {
    json!({
        "id": id.to_string(),
        "type": 0,
        "guild_id": GUILD_ID.to_string(),
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "topic": null,
        "nsfw": false,
        "last_message_id": null,
        "rate_limit_per_user": 0,
        "parent_id": null,
        "flags": 0,
    })
}

pub fn channel_name(id: u64) -> &'static str {
    match id {
        ANNOUNCEMENTS_CHANNEL => "announcements",
        APPROVALS_CHANNEL => "approvals",
        GENERAL_CHANNEL => "general",
        _ => "unknown",
    }
}

/// GUILD_CREATE's guild: the three roles of our stories, three text channels
/// and the bot's own member.
pub fn guild() -> Value {
    let bot_member = json!({
        "user": bot_user(),
        "nick": null,
        "avatar": null,
        "roles": [],
        "joined_at": "2025-01-06T03:00:00.000000+00:00",
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
    });
    let guild = json!({
        "id": GUILD_ID.to_string(),
        "name": "Marketplace Marketing",
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": "1300000000000000499",
        "afk_channel_id": null,
        "afk_timeout": 300,
        "widget_enabled": false,
        "widget_channel_id": null,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": [
            role(GUILD_ID, "@everyone", 0, BOT_ROLE_PERMISSIONS, false),
            role(EDITOR_ROLE, "flash-editor", 1, "0", true),
            role(APPROVER_ROLE, "flash-approver", 2, "0", true),
            role(PLAIN_ROLE, "shopkeeper", 3, "0", false),
        ],
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": GENERAL_CHANNEL.to_string(),
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_presences": null,
        "max_members": 250000,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
        "incidents_data": null,
    });
    // In two parts: one json! this size exceeds the macro recursion limit.
    let state = json!({
        "joined_at": "2025-01-06T03:00:00.000000+00:00",
        "large": false,
        "unavailable": false,
        "member_count": 5,
        "voice_states": [],
        "members": [bot_member],
        "channels": [
            text_channel(GENERAL_CHANNEL, "general", 0),
            text_channel(ANNOUNCEMENTS_CHANNEL, "announcements", 1),
            text_channel(APPROVALS_CHANNEL, "approvals", 2),
        ],
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    });
    let mut guild = guild;
    let fields = guild.as_object_mut().expect("an object");
    fields.extend(state.as_object().cloned().unwrap_or_default());
    guild
}

pub fn ready(session_id: &str, resume_url: &str) -> Value {
    json!({
        "v": 10,
        "user": current_user(),
        "guilds": [{ "id": GUILD_ID.to_string(), "unavailable": true }],
        "session_id": session_id,
        "resume_gateway_url": resume_url,
        "shard": [0, 1],
        "application": { "id": APPLICATION_ID.to_string(), "flags": 0 },
        "private_channels": [],
        "relationships": [],
        "user_settings": {},
        "guild_join_requests": [],
        "presences": [],
        "geo_ordered_rtc_regions": ["singapore"],
        "session_type": "normal",
        "auth": {},
        "current_location": ["CONNECTED"],
    })
}

/// `GET /oauth2/applications/@me`.
pub fn application() -> Value {
    json!({
        "id": APPLICATION_ID.to_string(),
        "name": "Flashsale",
        "icon": null,
        "description": "Flash sales from chat",
        "summary": "",
        "type": null,
        "rpc_origins": [],
        "bot_public": false,
        "bot_require_code_grant": false,
        "bot": bot_user(),
        "verify_key": "0f3e0f5c8d8b3a1e4d0f2c9b7a6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e",
        "flags": 0,
        "hook": true,
        "is_monetized": false,
        "owner": user(1_300_000_000_000_000_499, "Owner", false),
        "team": null,
        "tags": [],
        "redirect_uris": [],
        "interactions_endpoint_url": null,
        "role_connections_verification_url": null,
    })
}

/// A registered command as Discord answers `PUT .../commands`: what was sent,
/// plus the ids and version Discord adds.
pub fn registered_command(sent: &Value, id: u64, guild: Option<u64>) -> Value {
    let mut command = sent.clone();
    let map = command.as_object_mut().expect("a command is an object");
    map.insert("id".into(), json!(id.to_string()));
    map.insert("application_id".into(), json!(APPLICATION_ID.to_string()));
    map.insert("version".into(), json!((id + 1).to_string()));
    map.entry("type").or_insert(json!(1));
    map.entry("default_member_permissions")
        .or_insert(Value::Null);
    map.entry("nsfw").or_insert(json!(false));
    if let Some(guild) = guild {
        map.insert("guild_id".into(), json!(guild.to_string()));
    }
    command
}

/// A message as Discord stores and answers it, built from what the bot sent.
pub fn message(id: u64, channel_id: u64, sent: &Value, webhook: bool) -> Value {
    let mut message = json!({
        "id": id.to_string(),
        "channel_id": channel_id.to_string(),
        "author": bot_user(),
        "content": sent.get("content").and_then(Value::as_str).unwrap_or_default(),
        "timestamp": now(),
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "reactions": [],
        "pinned": false,
        "type": 0,
        "flags": sent.get("flags").and_then(Value::as_u64).unwrap_or(0),
    });
    if webhook {
        message["webhook_id"] = json!(APPLICATION_ID.to_string());
        message["application_id"] = json!(APPLICATION_ID.to_string());
    }
    apply_edit(&mut message, sent);
    if let Some(nonce) = sent.get("nonce") {
        message["nonce"] = nonce.clone();
    }
    message
}

/// An edit replaces the fields it names and keeps the rest.
pub fn apply_edit(message: &mut Value, edit: &Value) {
    if let Some(content) = edit.get("content") {
        message["content"] = if content.is_null() {
            json!("")
        } else {
            content.clone()
        };
    }
    if let Some(embeds) = edit.get("embeds") {
        let embeds: Vec<Value> = embeds
            .as_array()
            .into_iter()
            .flatten()
            .map(|embed| {
                let mut embed = embed.clone();
                embed["type"] = json!("rich");
                embed
            })
            .collect();
        message["embeds"] = json!(embeds);
    }
    if let Some(components) = edit.get("components") {
        message["components"] = if components.is_null() {
            json!([])
        } else {
            components.clone()
        };
    }
    if let Some(flags) = edit.get("flags").and_then(Value::as_u64) {
        message["flags"] = json!(flags);
    }
}

/// What every interaction carries, whatever its kind.
pub fn interaction(
    kind: u8,
    id: u64,
    token: &str,
    who: &Person,
    channel_id: u64,
    data: Value,
) -> Value {
    json!({
        "id": id.to_string(),
        "application_id": APPLICATION_ID.to_string(),
        "type": kind,
        "data": data,
        "guild_id": GUILD_ID.to_string(),
        "channel_id": channel_id.to_string(),
        "channel": {
            "id": channel_id.to_string(),
            "type": 0,
            "name": channel_name(channel_id),
            "guild_id": GUILD_ID.to_string(),
            "permissions": ALL_PERMISSIONS,
            "flags": 0,
        },
        "member": member(who),
        "token": token,
        "version": 1,
        "app_permissions": ALL_PERMISSIONS,
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": { "0": GUILD_ID.to_string() },
        "context": 0,
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    })
}

/// Moves an interaction built for our guild to `origin`: another guild's
/// id, or a DM (no guild, `user` instead of `member`).
pub fn move_to(payload: &mut Value, origin: Origin, who: &Person) {
    match origin {
        Origin::OurGuild => {}
        Origin::OtherGuild => {
            let other = OTHER_GUILD_ID.to_string();
            payload["guild_id"] = json!(other);
            payload["channel"]["guild_id"] = json!(other);
            payload["authorizing_integration_owners"] = json!({ "0": other });
            if payload["data"].get("guild_id").is_some() {
                payload["data"]["guild_id"] = json!(other);
            }
        }
        Origin::DirectMessage => {
            let map = payload
                .as_object_mut()
                .expect("an interaction is an object");
            map.remove("guild_id");
            map.remove("member");
            map.remove("guild_locale");
            map.insert("user".into(), user(who.id, who.name, false));
            map.insert("context".into(), json!(1));
            map.insert(
                "channel".into(),
                json!({ "id": map["channel_id"], "type": 1, "flags": 0 }),
            );
            if let Some(data) = map.get_mut("data").and_then(Value::as_object_mut) {
                data.remove("guild_id");
            }
        }
    }
}

/// The JSON type of a command option value: 3 string, 4 integer, 5 boolean, 10 number.
pub fn option_type(value: &Value) -> u8 {
    match value {
        Value::Bool(_) => 5,
        Value::Number(n) if n.is_i64() || n.is_u64() => 4,
        Value::Number(_) => 10,
        _ => 3,
    }
}

/// `/flashsale <sub> name:value ...` as `data`; `focused` marks the option an
/// autocomplete request is about.
pub fn command_data(
    command_id: u64,
    sub: &str,
    options: &[(&str, Value)],
    focused: Option<&str>,
) -> Value {
    let options: Vec<Value> = options
        .iter()
        .map(|(name, value)| {
            let mut option = json!({ "name": name, "type": option_type(value), "value": value });
            if focused == Some(*name) {
                option["focused"] = json!(true);
            }
            option
        })
        .collect();
    json!({
        "id": command_id.to_string(),
        "name": "flashsale",
        "type": 1,
        "guild_id": GUILD_ID.to_string(),
        "options": [{ "name": sub, "type": 1, "options": options }],
    })
}

/// A submitted modal: one text input per row, as Discord sends them back.
pub fn modal_data(custom_id: &str, values: &[(&str, &str)]) -> Value {
    let rows: Vec<Value> = values
        .iter()
        .map(|(id, value)| {
            json!({
                "type": 1,
                "components": [{ "type": 4, "custom_id": id, "value": value }],
            })
        })
        .collect();
    json!({ "custom_id": custom_id, "components": rows })
}

pub fn button_data(custom_id: &str) -> Value {
    json!({ "custom_id": custom_id, "component_type": 2 })
}

/// Why serenity would drop this dispatch frame, or `None` when it reaches the handlers.
pub fn check_dispatch(frame: &Value) -> Option<String> {
    use serenity::model::event::{Event, GatewayEvent};
    match serde_json::from_value::<GatewayEvent>(frame.clone()) {
        Ok(GatewayEvent::Dispatch(_, Event::Unknown(_))) => {
            // Name the field serenity trips over: parse the payload as the
            // specific type the event should have been.
            let d = frame["d"].clone();
            let why = match frame["t"].as_str() {
                Some("INTERACTION_CREATE") => {
                    serde_json::from_value::<serenity::all::Interaction>(d).err()
                }
                Some("GUILD_CREATE") => serde_json::from_value::<serenity::all::Guild>(d).err(),
                Some("READY") => serde_json::from_value::<serenity::all::Ready>(d).err(),
                _ => None,
            };
            Some(match why {
                Some(e) => format!("serenity would drop {}: {e}", frame["t"]),
                None => format!("serenity does not know the event {}", frame["t"]),
            })
        }
        Ok(_) => None,
        Err(e) => Some(format!("not a gateway frame serenity can read: {e}")),
    }
}
