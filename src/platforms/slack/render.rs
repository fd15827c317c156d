//! How a chat `Message` looks in Slack: Block Kit blocks plus the plain
//! `text` Slack shows in notifications.
//!
//! `app` decides what a card says; this file decides only how it looks here:
//! the card's title as a header, its status (with a symbol for the tone) as
//! context, its fields as section fields, buttons in an actions block whose
//! `action_id` and `value` are the port's button id. Times are Slack date
//! tokens (`<!date^…^{date_short_pretty} {time}|…>`), so every viewer sees
//! their own zone, followed by the business zone people type times in (as
//! Discord does); the token's fallback is the business-zone time too.
//!
//! Everything a person typed (titles, notes, reasons, product names) goes out
//! escaped (`&`, `<`, `>`), so it can never become a mention, a `<!channel>`
//! or a link; only the mentions a message lists are written as markup, and
//! `link_names` is never set, so a typed `@channel` stays text. Every text is
//! cut to Block Kit's limits by characters, never inside an escape or a date
//! token, so no title can make Slack refuse a message with `invalid_blocks`.
//!
//! Pictures (`Message::picture`) are not rendered here: cards carry all their
//! information as text, and `upload::Pictures` shares the picture in the
//! card's thread after the card went out.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use slack_morphism::prelude::{
    SlackActionBlockElement, SlackActionId, SlackActionsBlock, SlackBlock, SlackBlockButtonElement,
    SlackBlockButtonStyle, SlackBlockMarkDownText, SlackBlockPlainTextOnly, SlackBlockText,
    SlackContextBlock, SlackContextBlockElement, SlackHeaderBlock, SlackSectionBlock,
};

use super::is_slack_id;
use crate::chat::{
    Button, ButtonStyle, Card, Channel, Mention, Message, Span, Text, TimeStyle, Tone,
};
use crate::config::SlackConfig;
use crate::domain::window::format_local;

/// Block Kit's documented limits (characters unless said otherwise).
pub mod limits {
    /// Blocks in one message.
    pub const BLOCKS: usize = 50;
    /// A section's text, a context element's text.
    pub const TEXT: usize = 3000;
    /// Each of a section's fields.
    pub const FIELD: usize = 2000;
    /// Fields in one section.
    pub const FIELDS: usize = 10;
    pub const HEADER: usize = 150;
    pub const ACTION_ID: usize = 255;
    pub const BUTTON_TEXT: usize = 75;
    pub const BUTTON_VALUE: usize = 2000;
    /// Elements in one actions block.
    pub const ACTIONS: usize = 25;
    /// Elements in one context block.
    pub const CONTEXT_ELEMENTS: usize = 10;
    /// A modal's title.
    pub const MODAL_TITLE: usize = 24;
    /// Input blocks in one view.
    pub const INPUTS: usize = 100;
    /// The top-level `text` (Slack cuts at 40 000; notifications show far less).
    pub const MESSAGE_TEXT: usize = 3000;
}

use crate::chat::non_empty;
/// For plain text only (headers, buttons): mrkdwn is cut by `Markup::fit`.
pub use crate::chat::truncate;

/// `&`, `<` and `>` as Slack wants them in any text a person typed.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        c => out.push(c),
    }
}

fn escaped_len(c: char) -> usize {
    match c {
        '&' => 5,
        '<' | '>' => 4,
        _ => 1,
    }
}

/// mrkdwn under construction: typed text (escaped on the way out) and our own
/// markup (mentions, date tokens), kept apart so a cut never splits either.
#[derive(Debug, Clone, Default)]
pub struct Markup(Vec<Piece>);

#[derive(Debug, Clone)]
enum Piece {
    Typed(String),
    Markup(String),
}

impl Markup {
    pub fn typed(mut self, s: impl Into<String>) -> Markup {
        let s = s.into();
        if !s.is_empty() {
            self.0.push(Piece::Typed(s));
        }
        self
    }

    pub fn markup(mut self, s: impl Into<String>) -> Markup {
        let s = s.into();
        if !s.is_empty() {
            self.0.push(Piece::Markup(s));
        }
        self
    }

    pub fn append(mut self, other: Markup) -> Markup {
        self.0.extend(other.0);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn len(&self) -> usize {
        self.0
            .iter()
            .map(|p| match p {
                Piece::Typed(s) => s.chars().map(escaped_len).sum(),
                Piece::Markup(m) => m.chars().count(),
            })
            .sum()
    }

    /// The mrkdwn, at most `max` characters: typed text is cut between
    /// characters (never inside `&amp;`), markup that does not fit is left
    /// out whole, and a cut ends in `…`.
    pub fn fit(&self, max: usize) -> String {
        let mut out = String::new();
        if self.len() <= max {
            for piece in &self.0 {
                match piece {
                    Piece::Typed(s) => s.chars().for_each(|c| push_escaped(&mut out, c)),
                    Piece::Markup(m) => out.push_str(m),
                }
            }
            return out;
        }
        let budget = max.saturating_sub(1);
        let mut used = 0;
        'pieces: for piece in &self.0 {
            match piece {
                Piece::Typed(s) => {
                    for c in s.chars() {
                        if used + escaped_len(c) > budget {
                            break 'pieces;
                        }
                        used += escaped_len(c);
                        push_escaped(&mut out, c);
                    }
                }
                Piece::Markup(m) => {
                    let n = m.chars().count();
                    if used + n > budget {
                        break 'pieces;
                    }
                    used += n;
                    out.push_str(m);
                }
            }
        }
        out.push('…');
        out
    }
}

/// What Slack should send: `text` for notifications and screen readers, the blocks to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub text: String,
    pub blocks: Vec<SlackBlock>,
}

/// Renders chat messages for one workspace: its business zone and who the
/// role mentions reach.
#[derive(Debug, Clone)]
pub struct Renderer {
    pub time_zone: Tz,
    pub editor_group: Option<String>,
    pub approver_group: Option<String>,
    /// Mentioned one by one when there is no group for the role.
    pub editor_users: Vec<String>,
    pub approver_users: Vec<String>,
    /// The channel ids a `Span::Channel` refers to (`<#C…>`).
    pub announcements_channel: String,
    pub approvals_channel: String,
}

/// Users mentioned for a role without a group, at most: a ping, not a roll call.
const ROLE_USERS_MENTIONED: usize = 10;

impl Renderer {
    pub fn new(config: &SlackConfig, time_zone: Tz) -> Renderer {
        Renderer {
            time_zone,
            editor_group: config.editor_group_id.clone(),
            approver_group: config.approver_group_id.clone(),
            editor_users: config.editor_user_ids.clone(),
            approver_users: config.approver_user_ids.clone(),
            announcements_channel: config.announcements_channel_id.clone(),
            approvals_channel: config.approvals_channel_id.clone(),
        }
    }

    /// `<#C0123ABCD>`, a link to the channel; its name when the configured
    /// id is not one (markup is only ever made of ids we checked).
    pub fn channel(&self, channel: Channel) -> Markup {
        let id = match channel {
            Channel::Announcements => &self.announcements_channel,
            Channel::Approvals => &self.approvals_channel,
        };
        if is_slack_id(id, &['C', 'G']) {
            Markup::default().markup(format!("<#{id}>"))
        } else {
            Markup::default().typed(format!("#{}", channel.name()))
        }
    }

    /// `<!date^1795712400^{date_short_pretty} {time}|2026-11-27 00:00 WIB> (2026-11-27 00:00 WIB)`:
    /// the viewer's zone, then the business zone.
    pub fn time(&self, at: DateTime<Utc>, style: TimeStyle) -> Markup {
        let unix = at.timestamp();
        let local = format_local(at, self.time_zone);
        let token = |format: &str| format!("<!date^{unix}^{format}|{}>", escape(&local));
        let full = token("{date_short_pretty} {time}");
        let ago = token("{ago}");
        match style {
            TimeStyle::Full => Markup::default().markup(full).typed(format!(" ({local})")),
            TimeStyle::Relative => Markup::default().markup(ago),
            TimeStyle::FullAndRelative => Markup::default()
                .markup(full)
                .typed(format!(" ({local}, "))
                .markup(ago)
                .typed(")"),
        }
    }

    pub fn text(&self, text: &Text) -> Markup {
        text.0.iter().fold(Markup::default(), |m, span| match span {
            // Our own words and people's alike go out escaped: Slack's masked
            // links and mentions need `<`, which escaping takes away.
            Span::Plain(s) | Span::Typed(s) => m.typed(s.clone()),
            Span::Time(at, style) => m.append(self.time(*at, *style)),
            Span::Channel(channel) => m.append(self.channel(*channel)),
            // Slack users type the same `/flashsale name key:value`; shown as code.
            Span::Command(hint) => m
                .markup("`".to_owned())
                .typed(hint.slash())
                .markup("`".to_owned()),
        })
    }

    /// The mentions a message lists, as markup: `<!subteam^S…>` for a role
    /// with a group, else its listed users; `<@U…>` for a Slack user.
    pub fn mentions(&self, mentions: &[Mention]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |m: String| {
            if !out.contains(&m) {
                out.push(m);
            }
        };
        for mention in mentions {
            let (group, users) = match mention {
                Mention::Editors => (&self.editor_group, &self.editor_users),
                Mention::Approvers => (&self.approver_group, &self.approver_users),
                Mention::User(id) => {
                    if let Some(user) = slack_user(id.as_str()) {
                        push(format!("<@{user}>"));
                    }
                    continue;
                }
            };
            match group.as_deref().filter(|g| is_slack_id(g, &['S'])) {
                Some(group) => push(format!("<!subteam^{group}>")),
                None => users
                    .iter()
                    .filter(|u| is_slack_id(u, &['U', 'W']))
                    .take(ROLE_USERS_MENTIONED)
                    .for_each(|u| push(format!("<@{u}>"))),
            }
        }
        out
    }

    /// A whole chat message: mentions and text first, then the card, then the buttons.
    pub fn message(&self, message: &Message) -> Rendered {
        let pings = self.mentions(&message.mentions);
        let mut lead = Markup::default();
        if !pings.is_empty() {
            lead = lead.markup(pings.join(" "));
            if !message.text.is_empty() {
                lead = lead.markup(" ");
            }
        }
        let lead = lead.append(self.text(&message.text));

        let card = message
            .card
            .as_ref()
            .map(|c| self.card(c))
            .unwrap_or_default();
        let actions = buttons(&message.buttons);
        let mut blocks: Vec<SlackBlock> = Vec::new();
        if !lead.is_empty() {
            blocks.push(section(lead.fit(limits::TEXT)));
        }
        // The buttons are what an approver needs; if anything must go, it is the card's tail.
        let room = limits::BLOCKS.saturating_sub(blocks.len() + actions.len());
        blocks.extend(fit_blocks(card, room));
        blocks.extend(actions);

        let text = if lead.is_empty() {
            message
                .card
                .as_ref()
                .map(|c| {
                    Markup::default()
                        .typed(c.title.clone())
                        .fit(limits::MESSAGE_TEXT)
                })
                .unwrap_or_default()
        } else {
            lead.fit(limits::MESSAGE_TEXT)
        };
        Rendered { text, blocks }
    }

    /// A card as blocks: header, status, description, fields (ten to a section), footer.
    pub fn card(&self, card: &Card) -> Vec<SlackBlock> {
        let mut blocks = vec![SlackBlock::Header(SlackHeaderBlock::new(
            SlackBlockPlainTextOnly::from(truncate(non_empty(&card.title), limits::HEADER)),
        ))];
        let status = Markup::default()
            .markup(format!("{} *", tone_symbol(card.tone)))
            .typed(non_empty(&card.status))
            .markup("*");
        blocks.push(context(status.fit(limits::TEXT)));
        if let Some(description) = card.description.as_ref().filter(|d| !d.is_empty()) {
            blocks.push(section(self.text(description).fit(limits::TEXT)));
        }
        let fields: Vec<String> = card
            .fields
            .iter()
            .map(|f| {
                Markup::default()
                    .markup("*")
                    .typed(non_empty(&f.name))
                    .markup("*\n")
                    .append(if f.value.is_empty() {
                        Markup::default().typed("—")
                    } else {
                        self.text(&f.value)
                    })
                    .fit(limits::FIELD)
            })
            .collect();
        for chunk in fields.chunks(limits::FIELDS) {
            blocks.push(SlackBlock::Section(
                SlackSectionBlock::new().with_fields(
                    chunk
                        .iter()
                        .map(|f| SlackBlockText::MarkDown(SlackBlockMarkDownText::new(f.clone())))
                        .collect(),
                ),
            ));
        }
        if let Some(footer) = card.footer.as_deref().filter(|f| !f.trim().is_empty()) {
            blocks.push(context(Markup::default().typed(footer).fit(limits::TEXT)));
        }
        blocks
    }
}

/// At most `room` of the card's blocks: the first ones, and when some had
/// to go, a last line saying so instead of the last one that fitted.
fn fit_blocks(mut blocks: Vec<SlackBlock>, room: usize) -> Vec<SlackBlock> {
    if blocks.len() <= room {
        return blocks;
    }
    if room == 0 {
        return Vec::new();
    }
    let left_out = blocks.len() - (room - 1);
    blocks.truncate(room - 1);
    blocks.push(context(format!(
        "… {left_out} more part{} of this card not shown",
        if left_out == 1 { "" } else { "s" }
    )));
    blocks
}

fn section(mrkdwn: String) -> SlackBlock {
    SlackBlock::Section(SlackSectionBlock::new().with_text(SlackBlockText::MarkDown(
        SlackBlockMarkDownText::new(mrkdwn),
    )))
}

fn context(mrkdwn: String) -> SlackBlock {
    SlackBlock::Context(SlackContextBlock::new(vec![
        SlackContextBlockElement::MarkDown(SlackBlockMarkDownText::new(mrkdwn)),
    ]))
}

/// `slack:U81234` -> `U81234`; ids from other platforms are not Slack users.
pub fn slack_user(actor_id: &str) -> Option<&str> {
    let raw = actor_id.strip_prefix("slack:")?;
    is_slack_id(raw, &['U', 'W']).then_some(raw)
}

pub fn tone_symbol(tone: Tone) -> &'static str {
    match tone {
        Tone::Neutral => "⚪",
        Tone::Attention => "🟡",
        Tone::Success => "🟢",
        Tone::Live => "🟣",
        Tone::Danger => "🔴",
    }
}

/// Slack has two button colours: green for the action a card asks for
/// (Discord's primary and success), red for danger, and the default.
fn button_style(style: ButtonStyle) -> Option<SlackBlockButtonStyle> {
    match style {
        ButtonStyle::Primary | ButtonStyle::Success => Some(SlackBlockButtonStyle::Primary),
        ButtonStyle::Danger => Some(SlackBlockButtonStyle::Danger),
        ButtonStyle::Secondary => None,
    }
}

/// Actions blocks of at most 25 buttons. A button whose id does not fit an
/// `action_id` is left out rather than cut: a cut id would act on something
/// else. A repeated id is left out too: Slack wants them unique per message.
pub fn buttons(buttons: &[Button]) -> Vec<SlackBlock> {
    let mut seen: Vec<&str> = Vec::new();
    let usable: Vec<SlackActionBlockElement> = buttons
        .iter()
        .filter(|b| {
            let fits = (1..=limits::ACTION_ID).contains(&b.id.chars().count())
                && b.id.chars().count() <= limits::BUTTON_VALUE;
            if !fits {
                tracing::warn!(id = %truncate(&b.id, 300), "button id does not fit Slack; left out");
            }
            let fresh = !seen.contains(&b.id.as_str());
            seen.push(&b.id);
            fits && fresh
        })
        .map(|b| {
            let mut button = SlackBlockButtonElement::new(SlackBlockPlainTextOnly::from(
                truncate(non_empty(&b.label), limits::BUTTON_TEXT),
            ))
            .with_action_id(SlackActionId::new(b.id.clone()))
            .with_value(b.id.clone());
            button.style = button_style(b.style);
            SlackActionBlockElement::Button(button)
        })
        .collect();
    usable
        .chunks(limits::ACTIONS)
        .map(|chunk| SlackBlock::Actions(SlackActionsBlock::new(chunk.to_vec())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::Field;
    use crate::domain::ActorId;
    use chrono::TimeZone;
    use serde_json::Value;

    fn renderer() -> Renderer {
        Renderer {
            time_zone: chrono_tz::Asia::Jakarta,
            editor_group: Some("S0EDITORS".to_owned()),
            approver_group: Some("S0APPROVERS".to_owned()),
            editor_users: Vec::new(),
            approver_users: Vec::new(),
            announcements_channel: "C0ANNOUNCE".to_owned(),
            approvals_channel: "C0APPROVALS".to_owned(),
        }
    }

    #[test]
    fn a_channel_is_a_reference_and_typed_text_stays_text() {
        let text = Text::from("the card is in ")
            .channel(Channel::Approvals)
            .plain(" ")
            .typed("<#C0EVIL> [x](https://e.example)");
        assert_eq!(
            renderer().text(&text).fit(limits::TEXT),
            "the card is in <#C0APPROVALS> &lt;#C0EVIL&gt; [x](https://e.example)"
        );
    }

    fn json(rendered: &Rendered) -> Vec<Value> {
        rendered
            .blocks
            .iter()
            .map(|b| serde_json::to_value(b).unwrap())
            .collect()
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 17, 0, 0).unwrap()
    }

    fn card(fields: usize) -> Card {
        Card {
            title: "#12 Lunch Flash".to_owned(),
            status: "Pending approval".to_owned(),
            tone: Tone::Attention,
            description: Some(Text::from("6 of 6 SKUs")),
            fields: (1..=fields)
                .map(|i| Field {
                    name: format!("{i}. FS-00{i} · Kettle"),
                    value: Text::from("Rp 100.000 → Rp 70.000 (-30%)"),
                    inline: false,
                })
                .collect(),
            footer: Some("version 3 · drafted by Ana".to_owned()),
        }
    }

    fn approval() -> Message {
        Message {
            text: Text::new()
                .plain("#12 \"Lunch Flash\" is waiting for approval, due ")
                .time(at(), TimeStyle::Relative),
            card: Some(card(6)),
            buttons: vec![
                Button {
                    id: "fs:approve:12:3".to_owned(),
                    label: "Approve".to_owned(),
                    style: ButtonStyle::Success,
                },
                Button {
                    id: "fs:reject:12:3".to_owned(),
                    label: "Reject".to_owned(),
                    style: ButtonStyle::Danger,
                },
            ],
            mentions: vec![Mention::Approvers],
            ..Message::default()
        }
    }

    #[test]
    fn times_are_date_tokens_with_the_business_zone_as_fallback() {
        let r = renderer();
        assert_eq!(
            r.time(at(), TimeStyle::Full).fit(1000),
            "<!date^1795712400^{date_short_pretty} {time}|2026-11-27 00:00 WIB> (2026-11-27 00:00 WIB)"
        );
        assert_eq!(
            r.time(at(), TimeStyle::Relative).fit(1000),
            "<!date^1795712400^{ago}|2026-11-27 00:00 WIB>"
        );
        assert_eq!(
            r.time(at(), TimeStyle::FullAndRelative).fit(1000),
            "<!date^1795712400^{date_short_pretty} {time}|2026-11-27 00:00 WIB> (2026-11-27 00:00 WIB, <!date^1795712400^{ago}|2026-11-27 00:00 WIB>)"
        );
    }

    #[test]
    fn an_approval_card_has_header_status_fields_and_green_and_red_buttons() {
        let rendered = renderer().message(&approval());
        let blocks = json(&rendered);
        let kinds: Vec<&str> = blocks.iter().map(|b| b["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            ["section", "header", "context", "section", "section", "context", "actions"]
        );
        let lead = blocks[0]["text"]["text"].as_str().unwrap();
        assert!(
            lead.starts_with("<!subteam^S0APPROVERS> #12 \"Lunch Flash\" is waiting"),
            "{lead}"
        );
        assert!(
            lead.ends_with("<!date^1795712400^{ago}|2026-11-27 00:00 WIB>"),
            "{lead}"
        );
        assert_eq!(blocks[1]["text"]["type"], "plain_text");
        assert_eq!(blocks[1]["text"]["text"], "#12 Lunch Flash");
        assert_eq!(blocks[2]["elements"][0]["text"], "🟡 *Pending approval*");
        let fields = blocks[4]["fields"].as_array().unwrap();
        assert_eq!(fields.len(), 6);
        assert_eq!(
            fields[0]["text"],
            "*1. FS-001 · Kettle*\nRp 100.000 → Rp 70.000 (-30%)"
        );
        let buttons = blocks[6]["elements"].as_array().unwrap();
        assert_eq!(buttons[0]["action_id"], "fs:approve:12:3");
        assert_eq!(buttons[0]["value"], "fs:approve:12:3");
        assert_eq!(buttons[0]["style"], "primary");
        assert_eq!(buttons[0]["text"]["text"], "Approve");
        assert_eq!(buttons[1]["style"], "danger");
        assert!(
            rendered.text.starts_with("<!subteam^S0APPROVERS> #12"),
            "{}",
            rendered.text
        );
    }

    #[test]
    fn typed_text_is_escaped_so_it_can_never_mention_anyone() {
        let mut message = approval();
        message.mentions.clear();
        message.text = Text::from("Deals <!channel> <!here> <@U0ANA> & <https://evil|click>");
        let mut c = card(1);
        c.title = "<!everyone> title".to_owned();
        c.status = "<!here>".to_owned();
        c.footer = Some("drafted by <@U0BO>".to_owned());
        c.fields[0].name = "<!subteam^S0X>".to_owned();
        c.description = Some(Text::from("Notes: a > b & c < d"));
        message.card = Some(c);
        let rendered = renderer().message(&message);
        let all = serde_json::to_string(&json(&rendered)).unwrap() + &rendered.text;
        for markup in [
            "<!channel>",
            "<!here>",
            "<@U0ANA>",
            "<https:",
            "<@U0BO>",
            "<!subteam",
            "<!everyone>",
        ] {
            // The header is plain_text, which Slack never parses for mentions.
            let outside_header = all.replace("\"<!everyone> title\"", "");
            assert!(
                !outside_header.contains(markup),
                "{markup} got through: {all}"
            );
        }
        let blocks = json(&rendered);
        assert_eq!(
            blocks[0]["text"]["text"],
            "Deals &lt;!channel&gt; &lt;!here&gt; &lt;@U0ANA&gt; &amp; &lt;https://evil|click&gt;"
        );
        assert_eq!(blocks[3]["text"]["text"], "Notes: a &gt; b &amp; c &lt; d");
    }

    #[test]
    fn mentions_are_exactly_the_listed_ones() {
        let mut r = renderer();
        let user = Mention::User(ActorId::new("slack", "U0ANA"));
        let other = Mention::User(ActorId::new("discord", "81234"));
        assert_eq!(
            r.mentions(&[
                Mention::Approvers,
                Mention::Editors,
                user.clone(),
                other,
                Mention::Approvers
            ]),
            ["<!subteam^S0APPROVERS>", "<!subteam^S0EDITORS>", "<@U0ANA>"]
        );
        // Without a group, the role's listed users are mentioned instead.
        r.approver_group = None;
        r.approver_users = vec!["U0BO".to_owned(), "W0CY".to_owned()];
        assert_eq!(r.mentions(&[Mention::Approvers]), ["<@U0BO>", "<@W0CY>"]);
        let none = renderer().message(&Message {
            text: Text::from("hello"),
            ..Message::default()
        });
        assert_eq!(none.text, "hello");
    }

    #[test]
    fn only_slack_actor_ids_become_user_mentions() {
        assert_eq!(slack_user("slack:U0ANA"), Some("U0ANA"));
        for other in [
            "discord:81234",
            "slack:",
            "slack:u0ana",
            "slack:C0CHAN",
            "U0ANA",
            "slack:U0<!here>",
        ] {
            assert_eq!(slack_user(other), None, "{other}");
        }
    }

    #[test]
    fn cuts_never_split_an_escape_or_a_date_token() {
        let r = renderer();
        let text = Text::new()
            .plain("&".repeat(10))
            .time(at(), TimeStyle::Full);
        let cut = r.text(&text).fit(23);
        assert_eq!(cut, format!("{}…", "&amp;".repeat(4)));
        let cut = r.text(&text).fit(60);
        assert!(
            !cut.contains("<!date"),
            "a date token that does not fit is left out: {cut}"
        );
        assert!(cut.chars().count() <= 60);
        assert_eq!(r.text(&Text::from("é🎉<")).fit(6), "é🎉&lt;");
    }

    #[test]
    fn every_text_stays_within_block_kits_limits() {
        let long = "x<".repeat(5000);
        let mut c = card(23);
        c.title = long.clone();
        c.status = long.clone();
        c.description = Some(Text::from(long.clone()));
        c.footer = Some(long.clone());
        for f in &mut c.fields {
            f.name = long.clone();
            f.value = Text::from(long.clone());
        }
        let message = Message {
            text: Text::from(long.clone()),
            card: Some(c),
            buttons: (0..30)
                .map(|i| Button {
                    id: format!("fs:{i}"),
                    label: long.clone(),
                    style: ButtonStyle::Secondary,
                })
                .chain([Button {
                    id: "y".repeat(256),
                    label: "too long an id".to_owned(),
                    style: ButtonStyle::Primary,
                }])
                .collect(),
            ..Message::default()
        };
        let rendered = renderer().message(&message);
        assert!(rendered.text.chars().count() <= limits::MESSAGE_TEXT);
        let blocks = json(&rendered);
        assert!(blocks.len() <= limits::BLOCKS);
        let chars = |v: &Value| v.as_str().unwrap().chars().count();
        let mut buttons = 0;
        for b in &blocks {
            match b["type"].as_str().unwrap() {
                "header" => assert!(chars(&b["text"]["text"]) <= limits::HEADER),
                "section" => {
                    if let Some(t) = b["text"]["text"].as_str() {
                        assert!(t.chars().count() <= limits::TEXT);
                    }
                    let fields = b["fields"].as_array().cloned().unwrap_or_default();
                    assert!(fields.len() <= limits::FIELDS);
                    for f in fields {
                        assert!(chars(&f["text"]) <= limits::FIELD);
                    }
                }
                "context" => assert!(chars(&b["elements"][0]["text"]) <= limits::TEXT),
                "actions" => {
                    let elements = b["elements"].as_array().unwrap();
                    assert!(elements.len() <= limits::ACTIONS);
                    for e in elements {
                        assert!(chars(&e["action_id"]) <= limits::ACTION_ID);
                        assert!(chars(&e["text"]["text"]) <= limits::BUTTON_TEXT);
                        buttons += 1;
                    }
                }
                other => panic!("unexpected block {other}"),
            }
        }
        assert_eq!(buttons, 30, "the overlong id is left out, the others kept");
        // 23 fields make three sections: ten, ten and three.
        let sections_with_fields = blocks.iter().filter(|b| b["fields"].is_array()).count();
        assert_eq!(sections_with_fields, 3);
    }

    #[test]
    fn a_card_too_big_for_fifty_blocks_keeps_its_buttons_and_says_what_is_missing() {
        let message = Message {
            card: Some(card(600)),
            buttons: approval().buttons,
            ..Message::default()
        };
        let blocks = json(&renderer().message(&message));
        assert_eq!(blocks.len(), limits::BLOCKS);
        assert_eq!(blocks[49]["type"], "actions");
        let note = blocks[48]["elements"][0]["text"].as_str().unwrap();
        assert!(note.contains("not shown"), "{note}");
        // Without lead text the notification text is the card's title.
        assert_eq!(renderer().message(&message).text, "#12 Lunch Flash");
    }
}
