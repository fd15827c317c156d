//! How a chat `Message` looks in Discord: content, one embed, buttons, mentions.
//!
//! `app` decides what a card says; this file decides only how it looks here:
//! embed colours per tone, buttons in action rows, times as Discord
//! timestamps (every viewer sees their own zone) next to the business-zone
//! time, and mentions that ping exactly what the message lists. Everything is
//! cut to Discord's limits by characters, so a long title or product name can
//! never make Discord refuse a message. A picture goes as an attached PNG that
//! the card's embed shows as its image (`attachment://<file name>`).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use poise::serenity_prelude as serenity;
use serenity::{
    CreateActionRow, CreateAllowedMentions, CreateAttachment, CreateButton, CreateEmbed,
    CreateEmbedFooter, CreateInteractionResponseMessage, CreateMessage, EditInteractionResponse,
    EditMessage, RoleId, UserId,
};

use crate::chat::{
    escape_markdown, Button, ButtonStyle, Card, CommandHint, Mention, Message, Text, TimeStyle,
    Tone,
};
use crate::domain::window::format_local;

/// Discord's limits (characters unless said otherwise).
pub mod limits {
    pub const CONTENT: usize = 2000;
    pub const EMBED_TITLE: usize = 256;
    pub const EMBED_DESCRIPTION: usize = 4096;
    pub const EMBED_FIELDS: usize = 25;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    pub const FOOTER: usize = 2048;
    /// Across every embed of one message.
    pub const EMBED_TOTAL: usize = 6000;
    pub const CUSTOM_ID: usize = 100;
    pub const BUTTON_LABEL: usize = 80;
    pub const BUTTONS_PER_ROW: usize = 5;
    pub const ROWS: usize = 5;
    pub const MODAL_TITLE: usize = 45;
    pub const INPUT_LABEL: usize = 45;
    pub const INPUT_PLACEHOLDER: usize = 100;
    pub const CHOICE_NAME: usize = 100;
    pub const CHOICES: usize = 25;
}

use crate::chat::non_empty;
pub use crate::chat::truncate;

/// What Discord should send: the parts every builder shares.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub content: String,
    pub embeds: Vec<CreateEmbed>,
    pub components: Vec<CreateActionRow>,
    /// Empty unless the message lists mentions: nothing else ever pings.
    pub allowed_mentions: CreateAllowedMentions,
    /// Files to upload with a channel message (the picture); replies carry none.
    pub files: Vec<CreateAttachment>,
}

impl Rendered {
    pub fn text(content: impl AsRef<str>) -> Rendered {
        Rendered {
            content: truncate(content.as_ref(), limits::CONTENT),
            ..Rendered::default()
        }
    }

    /// Attaches a drawn picture: the card's embed shows it as its image; a
    /// message without a card shows the file itself.
    pub fn with_picture(mut self, file_name: &str, png: &[u8]) -> Rendered {
        if let Some(embed) = self.embeds.first_mut() {
            *embed = std::mem::take(embed).image(format!("attachment://{file_name}"));
        }
        self.files
            .push(CreateAttachment::bytes(png.to_vec(), file_name));
        self
    }

    /// A new channel message.
    pub fn create_message(self) -> CreateMessage {
        let mut m = CreateMessage::new()
            .embeds(self.embeds)
            .add_files(self.files)
            .allowed_mentions(self.allowed_mentions);
        if !self.content.is_empty() {
            m = m.content(self.content);
        }
        if !self.components.is_empty() {
            m = m.components(self.components);
        }
        m
    }

    /// An edit that replaces everything, so buttons that are gone disappear,
    /// and so does an earlier picture (a new one replaces it, or none is shown).
    pub fn edit_message(self) -> EditMessage {
        let edit = EditMessage::new()
            .content(self.content)
            .embeds(self.embeds)
            .components(self.components)
            .allowed_mentions(self.allowed_mentions);
        if self.files.is_empty() {
            return edit.remove_all_attachments();
        }
        self.files
            .into_iter()
            .fold(edit, |edit, file| edit.new_attachment(file))
    }

    /// A reply to a slash command, seen only by the person who ran it.
    pub fn reply(self) -> poise::CreateReply {
        let mut r = poise::CreateReply::default()
            .ephemeral(true)
            .allowed_mentions(self.allowed_mentions);
        if !self.content.is_empty() {
            r = r.content(self.content);
        }
        for embed in self.embeds {
            r = r.embed(embed);
        }
        if !self.components.is_empty() {
            r = r.components(self.components);
        }
        r
    }

    /// An immediate, private answer to a button or form.
    pub fn response(self) -> CreateInteractionResponseMessage {
        let mut r = CreateInteractionResponseMessage::new()
            .ephemeral(true)
            .embeds(self.embeds)
            .allowed_mentions(self.allowed_mentions);
        if !self.content.is_empty() {
            r = r.content(self.content);
        }
        r
    }

    /// The answer to a button or form that was deferred first.
    pub fn edit_response(self) -> EditInteractionResponse {
        EditInteractionResponse::new()
            .content(self.content)
            .embeds(self.embeds)
            .allowed_mentions(self.allowed_mentions)
    }
}

/// Renders chat messages for one guild: its business zone and role ids.
#[derive(Debug, Clone)]
pub struct Renderer {
    pub time_zone: Tz,
    pub editor_role: RoleId,
    pub approver_role: RoleId,
}

impl Renderer {
    /// `<t:…:F> (2026-11-27 00:00 WIB)`: the viewer's zone and the business zone.
    pub fn time(&self, at: DateTime<Utc>, style: TimeStyle) -> String {
        let unix = at.timestamp();
        let local = format_local(at, self.time_zone);
        match style {
            TimeStyle::Full => format!("<t:{unix}:F> ({local})"),
            TimeStyle::Relative => format!("<t:{unix}:R>"),
            TimeStyle::FullAndRelative => format!("<t:{unix}:F> ({local}, <t:{unix}:R>)"),
        }
    }

    pub fn text(&self, text: &Text) -> String {
        // Discord users type slash commands with `name:value` options; what
        // people typed is escaped so that it cannot become a masked link.
        text.render_escaped(
            |at, style| self.time(at, style),
            CommandHint::slash,
            escape_markdown,
        )
    }

    /// A whole chat message: mentions first, then the text, the card, the buttons.
    pub fn message(&self, message: &Message) -> Rendered {
        let (pings, allowed) = self.mentions(&message.mentions);
        let text = self.text(&message.text);
        let content = match (pings.is_empty(), text.is_empty()) {
            (true, _) => text,
            (false, true) => pings,
            (false, false) => format!("{pings} {text}"),
        };
        Rendered {
            content: truncate(&content, limits::CONTENT),
            embeds: message.card.iter().map(|c| self.card(c)).collect(),
            components: buttons(&message.buttons),
            allowed_mentions: allowed,
            files: Vec::new(),
        }
    }

    /// Exactly the listed roles and users may be pinged; `@everyone`, or a
    /// mention typed into a title, never pings.
    fn mentions(&self, mentions: &[Mention]) -> (String, CreateAllowedMentions) {
        let mut roles: Vec<RoleId> = Vec::new();
        let mut users: Vec<UserId> = Vec::new();
        for mention in mentions {
            match mention {
                Mention::Approvers => roles.push(self.approver_role),
                Mention::Editors => roles.push(self.editor_role),
                // Only Discord users can be pinged here; others are named in the text.
                Mention::User(id) => users.extend(discord_user(id.as_str())),
            }
        }
        roles.dedup();
        users.dedup();
        let text: Vec<String> = roles
            .iter()
            .map(|r| format!("<@&{r}>"))
            .chain(users.iter().map(|u| format!("<@{u}>")))
            .collect();
        let allowed = CreateAllowedMentions::new().roles(roles).users(users);
        (text.join(" "), allowed)
    }

    /// A card as an embed: status first, then the card's fields.
    pub fn card(&self, card: &Card) -> CreateEmbed {
        let mut fields = vec![EmbedField {
            name: "Status".to_owned(),
            value: card.status.clone(),
            inline: true,
        }];
        fields.extend(card.fields.iter().map(|f| EmbedField {
            name: f.name.clone(),
            value: self.text(&f.value),
            inline: f.inline,
        }));
        EmbedParts {
            // The title holds the session's typed title; the card adds no markdown to it.
            title: escape_markdown(&card.title),
            description: card.description.as_ref().map(|d| self.text(d)),
            colour: tone_colour(card.tone),
            fields,
            footer: card.footer.clone(),
        }
        .build()
    }
}

/// `discord:81234` -> the user id; ids from other platforms are not Discord users.
fn discord_user(actor_id: &str) -> Option<UserId> {
    let raw = actor_id.strip_prefix("discord:")?;
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<u64>().ok().filter(|n| *n > 0).map(UserId::new)
}

pub fn tone_colour(tone: Tone) -> u32 {
    match tone {
        Tone::Neutral => 0x95A5A6,
        Tone::Attention => 0xF1C40F,
        Tone::Success => 0x2ECC71,
        Tone::Live => 0x9B59B6,
        Tone::Danger => 0xE74C3C,
    }
}

fn button_style(style: ButtonStyle) -> serenity::ButtonStyle {
    match style {
        ButtonStyle::Primary => serenity::ButtonStyle::Primary,
        ButtonStyle::Secondary => serenity::ButtonStyle::Secondary,
        ButtonStyle::Success => serenity::ButtonStyle::Success,
        ButtonStyle::Danger => serenity::ButtonStyle::Danger,
    }
}

/// Rows of at most five buttons, at most five rows. A button whose id is too
/// long is left out rather than cut: a cut id would act on something else.
pub fn buttons(buttons: &[Button]) -> Vec<CreateActionRow> {
    let usable: Vec<CreateButton> = buttons
        .iter()
        .filter(|b| {
            let fits = (1..=limits::CUSTOM_ID).contains(&b.id.chars().count());
            if !fits {
                tracing::warn!(id = %truncate(&b.id, 120), "button id does not fit Discord; left out");
            }
            fits
        })
        .take(limits::ROWS * limits::BUTTONS_PER_ROW)
        .map(|b| {
            CreateButton::new(b.id.clone())
                .label(truncate(&b.label, limits::BUTTON_LABEL))
                .style(button_style(b.style))
        })
        .collect();
    usable
        .chunks(limits::BUTTONS_PER_ROW)
        .map(|row| CreateActionRow::Buttons(row.to_vec()))
        .collect()
}

pub struct EmbedField {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

/// An embed before it is fitted to Discord's limits.
pub struct EmbedParts {
    pub title: String,
    pub description: Option<String>,
    pub colour: u32,
    pub fields: Vec<EmbedField>,
    pub footer: Option<String>,
}

impl EmbedParts {
    /// Cuts every part to its limit, then the description (and, if ever
    /// needed, the last fields) so the whole embed stays within 6000.
    pub fn build(self) -> CreateEmbed {
        let title = truncate(&self.title, limits::EMBED_TITLE);
        let footer = self
            .footer
            .map(|f| truncate(&f, limits::FOOTER))
            .filter(|f| !f.is_empty());
        // Discord refuses empty field names and values.
        let mut fields: Vec<(String, String, bool)> = self
            .fields
            .into_iter()
            .take(limits::EMBED_FIELDS)
            .map(|f| {
                (
                    truncate(non_empty(&f.name), limits::FIELD_NAME),
                    truncate(non_empty(&f.value), limits::FIELD_VALUE),
                    f.inline,
                )
            })
            .collect();
        let len = |s: &str| s.chars().count();
        let fixed = |fields: &[(String, String, bool)]| {
            len(&title)
                + footer.as_deref().map_or(0, len)
                + fields
                    .iter()
                    .map(|(n, v, _)| len(n) + len(v))
                    .sum::<usize>()
        };
        while fixed(&fields) > limits::EMBED_TOTAL && fields.pop().is_some() {}
        let room = limits::EMBED_TOTAL
            .saturating_sub(fixed(&fields))
            .min(limits::EMBED_DESCRIPTION);
        let mut embed = CreateEmbed::new().title(title).colour(self.colour);
        if let Some(description) = self.description.filter(|d| !d.is_empty()) {
            if room > 0 {
                embed = embed.description(truncate(&description, room));
            }
        }
        embed = embed.fields(fields);
        if let Some(footer) = footer {
            embed = embed.footer(CreateEmbedFooter::new(footer));
        }
        embed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn renderer() -> Renderer {
        Renderer {
            time_zone: chrono_tz::Asia::Jakarta,
            editor_role: RoleId::new(4),
            approver_role: RoleId::new(5),
        }
    }

    #[test]
    fn truncation_counts_characters_and_never_splits_one() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
        let cut = truncate(&"é🎉".repeat(10), 5);
        assert_eq!(cut.chars().count(), 5);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn times_show_the_viewers_zone_and_the_business_zone() {
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 17, 0, 0).unwrap();
        let r = renderer();
        assert_eq!(
            r.time(at, TimeStyle::Full),
            "<t:1795712400:F> (2026-11-27 00:00 WIB)"
        );
        assert_eq!(r.time(at, TimeStyle::Relative), "<t:1795712400:R>");
        assert_eq!(
            r.time(at, TimeStyle::FullAndRelative),
            "<t:1795712400:F> (2026-11-27 00:00 WIB, <t:1795712400:R>)"
        );
    }

    #[test]
    fn only_discord_actor_ids_become_user_mentions() {
        assert_eq!(discord_user("discord:81234"), Some(UserId::new(81234)));
        for other in [
            "console:81234",
            "discord:",
            "discord:12a",
            "discord:0",
            "81234",
        ] {
            assert_eq!(discord_user(other), None, "{other}");
        }
    }

    #[test]
    fn seven_buttons_make_two_rows_and_overlong_ids_are_left_out() {
        let b = |id: String| Button {
            id,
            label: "x".repeat(200),
            style: ButtonStyle::Primary,
        };
        let mut list: Vec<Button> = (0..7).map(|i| b(format!("fs:{i}"))).collect();
        list.push(b("y".repeat(101)));
        let rows = buttons(&list);
        assert_eq!(rows.len(), 2);
        let json = serde_json::to_value(&rows).unwrap();
        assert_eq!(json[0]["components"].as_array().unwrap().len(), 5);
        assert_eq!(json[1]["components"].as_array().unwrap().len(), 2);
        let label = json[0]["components"][0]["label"].as_str().unwrap();
        assert_eq!(label.chars().count(), 80);
    }
}
