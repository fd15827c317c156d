//! The calendar feed (`GET /calendar/<token>` on the operations listener,
//! `http`): approved and live sessions from yesterday to `FEED_DAYS` ahead,
//! and the slots in the coverage horizon that no approved session covers, as
//! an iCalendar file (RFC 5545) a calendar app subscribes to.
//!
//! Written by hand: a feed is a few dozen lines of text, and the rules that
//! matter are here (CRLF endings, escaped text, lines folded at 75 octets,
//! UTC times, a UID per event that stays the same between fetches so the
//! app updates an event instead of adding it again).

use chrono::{DateTime, Duration, Utc};

use super::{occurrences_between, Coverage};
use crate::app::{AppError, ListRange, Queries};
use crate::domain::Status;
use crate::store::week;

/// How many days ahead the feed shows approved sessions.
pub const FEED_DAYS: i64 = 14;

/// One event of the feed.
struct Event {
    uid: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    summary: String,
    description: String,
    /// `CONFIRMED` for a sale, `TENTATIVE` for an uncovered slot.
    status: &'static str,
}

impl Queries {
    /// The feed as an iCalendar document.
    pub async fn calendar_feed(&self) -> Result<String, AppError> {
        let now = self.core.clock.now();
        let tz = self.core.policy.time_zone;
        let sessions = self
            .core
            .list(ListRange::Between(
                now - Duration::days(1),
                now + Duration::days(FEED_DAYS),
            ))
            .await?;
        let mut events: Vec<Event> = sessions
            .iter()
            .filter(|s| matches!(s.status, Status::Approved | Status::Live))
            .map(|s| Event {
                uid: format!("session-{}@flashsale-bot", s.id),
                starts_at: s.window.starts_at(),
                ends_at: s.window.ends_at(),
                summary: format!("Flash sale #{}: {}", s.id, s.title),
                description: format!(
                    "{} · {}/6 SKUs. /flashsale view session:{}",
                    s.status.label(),
                    s.item_count,
                    s.id
                ),
                status: "CONFIRMED",
            })
            .collect();
        let horizon = now + Duration::hours(i64::from(self.core.coverage.horizon_hours));
        let open = {
            let mut conn = self.core.pool.acquire().await?;
            let slots = week::slots(&mut conn).await?;
            occurrences_between(&mut conn, &slots, tz, now, horizon).await?
        };
        events.extend(open.iter().filter(|o| o.coverage.is_uncovered()).map(|o| {
            let why = match &o.coverage {
                Coverage::Waiting { session, status } => {
                    format!(
                        "#{session} is {} and not approved yet.",
                        status.label().to_lowercase()
                    )
                }
                _ => "No session is planned for it.".to_owned(),
            };
            Event {
                uid: format!(
                    "slot-{}-{}@flashsale-bot",
                    o.slot_id,
                    o.occurrence.starts_at.format("%Y%m%dT%H%M%SZ")
                ),
                starts_at: o.occurrence.starts_at,
                ends_at: o.occurrence.ends_at,
                summary: format!("Uncovered flash-sale slot {}", o.slot_id),
                description: format!("{why} Plan it with /flashsale plan."),
                status: "TENTATIVE",
            }
        }));
        events.sort_by_key(|e| e.starts_at);
        Ok(document(&events, now))
    }
}

fn document(events: &[Event], now: DateTime<Utc>) -> String {
    let mut out = String::new();
    let mut put = |line: String| out.push_str(&fold(&line));
    put("BEGIN:VCALENDAR".into());
    put("VERSION:2.0".into());
    put("PRODID:-//flashsale-bot//week planning//EN".into());
    put("CALSCALE:GREGORIAN".into());
    put("METHOD:PUBLISH".into());
    put("X-WR-CALNAME:Flash sales".into());
    for e in events {
        put("BEGIN:VEVENT".into());
        put(format!("UID:{}", e.uid));
        put(format!("DTSTAMP:{}", stamp(now)));
        put(format!("DTSTART:{}", stamp(e.starts_at)));
        put(format!("DTEND:{}", stamp(e.ends_at)));
        put(format!("SUMMARY:{}", escape(&e.summary)));
        put(format!("DESCRIPTION:{}", escape(&e.description)));
        put(format!("STATUS:{}", e.status));
        put("TRANSP:TRANSPARENT".into());
        put("END:VEVENT".into());
    }
    put("END:VCALENDAR".into());
    out
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT values escape backslash, semicolon, comma and line breaks (RFC 5545, 3.3.11).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded so no line is longer than 75 octets (never
/// inside a character), ended by CRLF (RFC 5545, 3.1).
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_values_escape_what_the_format_reserves() {
        assert_eq!(escape("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_a_character() {
        let line = format!("SUMMARY:{}", "é".repeat(60));
        let folded = fold(&line);
        for part in folded.split("\r\n").filter(|p| !p.is_empty()) {
            assert!(part.len() <= 75, "{} octets: {part}", part.len());
        }
        let unfolded = folded.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, line);
    }
}
