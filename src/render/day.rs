//! The digest's picture: today and tomorrow in the business zone as two timelines, each session a
//! bar over its window (coloured by status), and the time no session holds shaded green and
//! labelled "free", so the team sees at a glance where a sale still fits.

use std::fmt::Write as _;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::svg::{self, Face, ACCENT, BACKGROUND, CARD, INK, MUTED, SANS};
use super::{HEIGHT, WIDTH};
use crate::domain::Status;

/// How many days one picture shows (the digest covers today and tomorrow).
pub const DAYS: u32 = 2;

/// What the digest's picture shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaySheet {
    /// The first day shown, in the business zone.
    pub first_day: NaiveDate,
    pub bars: Vec<Bar>,
}

/// One session on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bar {
    pub session_id: i64,
    pub title: String,
    /// The status's label, for the legend's colour.
    pub status: String,
    pub tone: BarTone,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub item_count: i64,
    /// How much of its window it holds the storefront for: the free time
    /// shaded green is what no bar holds.
    #[serde(default)]
    pub held: Held,
}

/// How much of its window a session holds the storefront for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Held {
    /// All of it (also what pictures stored before this field existed meant).
    #[default]
    Window,
    /// From its start until then: it was stopped early.
    Until(DateTime<Utc>),
    /// None of it: it leaves its time free (cancelled, expired, failed).
    Nothing,
}

/// How a bar is coloured: a status's colour on the Discord card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BarTone {
    Draft,
    Pending,
    Approved,
    Live,
    Ended,
    /// Expired, cancelled or failed.
    Stopped,
}

impl From<Status> for BarTone {
    fn from(status: Status) -> BarTone {
        match status {
            Status::Draft => BarTone::Draft,
            Status::PendingApproval => BarTone::Pending,
            Status::Approved => BarTone::Approved,
            Status::Live => BarTone::Live,
            Status::Ended => BarTone::Ended,
            Status::Expired | Status::Cancelled | Status::Failed => BarTone::Stopped,
        }
    }
}

const LEFT: f32 = 40.0;
/// Where the time axis starts (the day's name sits left of it).
const AXIS_X: f32 = 180.0;
const AXIS_W: f32 = WIDTH as f32 - AXIS_X - LEFT;
const LANE_TOP: [f32; DAYS as usize] = [104.0, 356.0];
const LANE_H: f32 = 190.0;
const FREE: &str = "#e3f4e8";
const FREE_INK: &str = "#2e7d32";

/// A bar's colour and the text colour that reads on it (the Discord card's tones).
fn colours(tone: BarTone) -> (&'static str, &'static str) {
    match tone {
        BarTone::Draft => ("#95a5a6", "#ffffff"),
        BarTone::Pending => ("#f1c40f", INK),
        BarTone::Approved => ("#2ecc71", INK),
        BarTone::Live => ("#9b59b6", "#ffffff"),
        BarTone::Ended => ("#7f8c8d", "#ffffff"),
        BarTone::Stopped => ("#e74c3c", "#ffffff"),
    }
}

/// Local midnight starting `day` in `zone` (the earlier one if a clock change doubles it).
fn midnight(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let local = day.and_time(NaiveTime::MIN);
    zone.from_local_datetime(&local)
        .earliest()
        // A zone that skips midnight starts the day an hour later.
        .or_else(|| {
            zone.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}

pub fn svg(sheet: &DaySheet, zone: Tz) -> String {
    let mut out = String::with_capacity(8 * 1024);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="{SANS}">"#
    );
    let _ = write!(
        out,
        r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="{BACKGROUND}"/><rect width="{WIDTH}" height="64" fill="{ACCENT}"/>"#
    );
    svg::text(
        &mut out,
        LEFT,
        43.0,
        r##"font-size="30" font-weight="bold" fill="#ffffff""##,
        "Flash sales: today and tomorrow",
    );
    svg::text(
        &mut out,
        WIDTH as f32 - LEFT,
        40.0,
        r##"font-size="18" fill="#ffffff" fill-opacity="0.9" text-anchor="end""##,
        &format!("times in {}", zone.name()),
    );
    for (lane, top) in LANE_TOP.iter().enumerate() {
        let day = sheet.first_day + Duration::days(lane as i64);
        let from = midnight(day, zone);
        let to = midnight(day + Duration::days(1), zone);
        day_lane(&mut out, sheet, day, *top, from, to, zone);
    }
    legend(&mut out);
    out.push_str("</svg>");
    out
}

/// The x of `at` on an axis running from `from` to `to`, clamped to the axis.
fn x_of(at: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>) -> f32 {
    let span = (to - from).num_seconds().max(1) as f32;
    let offset = (at - from)
        .num_seconds()
        .clamp(0, (to - from).num_seconds()) as f32;
    AXIS_X + AXIS_W * offset / span
}

#[allow(clippy::too_many_arguments)]
fn day_lane(
    out: &mut String,
    sheet: &DaySheet,
    day: NaiveDate,
    top: f32,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    zone: Tz,
) {
    svg::text(
        out,
        LEFT,
        top + 30.0,
        &format!(r#"class="day" font-size="20" font-weight="bold" fill="{INK}""#),
        &day.format("%a %d %b").to_string(),
    );
    let mut bars: Vec<&Bar> = sheet
        .bars
        .iter()
        .filter(|b| b.ends_at > from && b.starts_at < to)
        .collect();
    bars.sort_by_key(|b| (b.starts_at, b.ends_at, b.session_id));
    let held = held_spans(&bars, from, to);
    svg::text(
        out,
        LEFT,
        top + 58.0,
        &format!(r#"font-size="16" fill="{MUTED}""#),
        &match bars.len() {
            0 => "no sessions".to_owned(),
            1 => "1 session".to_owned(),
            n => format!("{n} sessions"),
        },
    );
    // The track: free everywhere first, then what sessions hold, then the hours.
    let _ = write!(
        out,
        r##"<rect x="{AXIS_X}" y="{top}" width="{AXIS_W}" height="{LANE_H}" rx="8" fill="{CARD}" stroke="#d8d8de"/>"##
    );
    for (start, end) in free_spans(&held, from, to) {
        let (x1, x2) = (x_of(start, from, to), x_of(end, from, to));
        let _ = write!(
            out,
            r#"<rect class="free" x="{x1:.1}" y="{top}" width="{:.1}" height="{LANE_H}" fill="{FREE}"/>"#,
            x2 - x1
        );
        if x2 - x1 >= 56.0 {
            let label = if start == from && end == to {
                "free all day"
            } else {
                "free"
            };
            let label = svg::fit(label, 16.0, Face::Bold, x2 - x1 - 8.0);
            svg::text(
                out,
                (x1 + x2) / 2.0,
                top + LANE_H - 12.0,
                &format!(
                    r#"class="free-label" font-size="16" font-weight="bold" fill="{FREE_INK}" text-anchor="middle""#
                ),
                &label,
            );
        }
    }
    for hour in (0..=24).step_by(3) {
        let x = AXIS_X + AXIS_W * hour as f32 / 24.0;
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{:.1}" stroke="#c9c9d1" stroke-width="1"/>"##,
            top + LANE_H
        );
        svg::text(
            out,
            x,
            top + LANE_H + 22.0,
            &format!(r#"font-size="15" fill="{MUTED}" text-anchor="middle""#),
            &format!("{hour:02}:00"),
        );
    }
    // Sessions that overlap go in rows below each other.
    let rows = rows(&bars);
    let row_count = rows.iter().copied().max().map_or(1, |r| r + 1);
    let row_h = ((LANE_H - 48.0) / row_count as f32).min(64.0);
    for (bar, row) in bars.iter().zip(rows) {
        let x1 = x_of(bar.starts_at, from, to);
        let x2 = x_of(bar.ends_at, from, to).max(x1 + 4.0);
        let y = top + 8.0 + row as f32 * row_h;
        let (fill, ink) = colours(bar.tone);
        let _ = write!(
            out,
            r#"<g class="bar" data-session="{}"><rect x="{x1:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" rx="6" fill="{fill}"/>"#,
            bar.session_id,
            x2 - x1,
            row_h - 6.0
        );
        // As much as fits: the number first, then the title, then the hours.
        let room = x2 - x1 - 8.0;
        let number = format!("#{}", bar.session_id);
        let both = format!("{number} {}", bar.title);
        let (first, title_below) = if svg::width(&both, 15.0, Face::Bold) <= room {
            (both, None)
        } else {
            (number, Some(bar.title.as_str()))
        };
        let (s, e) = (
            bar.starts_at.with_timezone(&zone),
            bar.ends_at.with_timezone(&zone),
        );
        let mut hours = format!("{}–{}", s.format("%H:%M"), e.format("%H:%M"));
        if svg::width(&hours, 13.0, Face::Regular) > room {
            // 10–12 rather than 10:00–1…: whole hours lose nothing.
            hours = hours.replace(":00", "");
        }
        let mut lines = vec![(first, 15.0, Face::Bold)];
        lines.extend(title_below.map(|t| (t.to_owned(), 13.0, Face::Regular)));
        lines.push((hours, 13.0, Face::Regular));
        let fitting = (((row_h - 6.0 - 4.0) / 17.0) as usize).max(1);
        for (line, (text, size, face)) in lines.into_iter().take(fitting).enumerate() {
            let weight = if face == Face::Bold {
                r#" font-weight="bold""#
            } else {
                ""
            };
            let text = svg::fit(&text, size, face, room);
            if text == "…" {
                break;
            }
            svg::text(
                out,
                x1 + 4.0,
                y + 17.0 + 17.0 * line as f32,
                &format!(r#"font-size="{size}"{weight} fill="{ink}""#),
                &text,
            );
        }
        out.push_str("</g>");
    }
}

/// The merged spans sessions hold within `[from, to)`.
fn held_spans(
    bars: &[&Bar],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut held: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for bar in bars {
        let held_until = match bar.held {
            Held::Window => bar.ends_at,
            Held::Until(until) => until.min(bar.ends_at),
            Held::Nothing => continue,
        };
        let (start, end) = (bar.starts_at.max(from), held_until.min(to));
        if end <= start {
            continue;
        }
        match held.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => held.push((start, end)),
        }
    }
    held
}

/// The gaps between held spans within `[from, to)`.
fn free_spans(
    held: &[(DateTime<Utc>, DateTime<Utc>)],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut free = Vec::new();
    let mut cursor = from;
    for (start, end) in held {
        if *start > cursor {
            free.push((cursor, *start));
        }
        cursor = cursor.max(*end);
    }
    if cursor < to {
        free.push((cursor, to));
    }
    free
}

/// The row of each bar (sorted by start): the first row whose last bar has ended.
fn rows(bars: &[&Bar]) -> Vec<usize> {
    let mut row_ends: Vec<DateTime<Utc>> = Vec::new();
    bars.iter()
        .map(
            |bar| match row_ends.iter().position(|end| *end <= bar.starts_at) {
                Some(row) => {
                    row_ends[row] = bar.ends_at;
                    row
                }
                None => {
                    row_ends.push(bar.ends_at);
                    row_ends.len() - 1
                }
            },
        )
        .collect()
}

fn legend(out: &mut String) {
    let mut x = AXIS_X;
    let y = HEIGHT as f32 - 20.0;
    let entries = [
        (FREE, "free"),
        (colours(BarTone::Draft).0, "draft"),
        (colours(BarTone::Pending).0, "pending approval"),
        (colours(BarTone::Approved).0, "approved"),
        (colours(BarTone::Live).0, "live"),
        (colours(BarTone::Ended).0, "ended"),
        (colours(BarTone::Stopped).0, "cancelled, expired, failed"),
    ];
    for (fill, label) in entries {
        let _ = write!(
            out,
            r##"<rect x="{x:.1}" y="{:.1}" width="16" height="16" rx="3" fill="{fill}" stroke="#c9c9d1"/>"##,
            y - 13.0
        );
        svg::text(
            out,
            x + 22.0,
            y,
            &format!(r#"font-size="15" fill="{MUTED}""#),
            label,
        );
        x += 22.0 + svg::width(label, 15.0, Face::Regular) + 22.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(id: i64, from: &str, to: &str) -> Bar {
        Bar {
            session_id: id,
            title: format!("Sale {id}"),
            status: "Approved".to_owned(),
            tone: BarTone::Approved,
            starts_at: from.parse().unwrap(),
            ends_at: to.parse().unwrap(),
            item_count: 6,
            held: Held::Window,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn free_time_is_what_no_session_holds() {
        let (a, b, c) = (
            bar(1, "2026-11-27T01:00:00Z", "2026-11-27T03:00:00Z"),
            bar(2, "2026-11-27T02:00:00Z", "2026-11-27T04:00:00Z"),
            bar(3, "2026-11-27T10:00:00Z", "2026-11-27T11:00:00Z"),
        );
        let (from, to) = (at("2026-11-27T00:00:00Z"), at("2026-11-28T00:00:00Z"));
        let held = held_spans(&[&a, &b, &c], from, to);
        assert_eq!(
            free_spans(&held, from, to),
            vec![
                (from, at("2026-11-27T01:00:00Z")),
                (at("2026-11-27T04:00:00Z"), at("2026-11-27T10:00:00Z")),
                (at("2026-11-27T11:00:00Z"), to),
            ]
        );
        assert_eq!(free_spans(&[], from, to), vec![(from, to)]);
    }

    #[test]
    fn a_cancelled_or_stopped_session_holds_none_or_part_of_its_window() {
        let (from, to) = (at("2026-11-27T00:00:00Z"), at("2026-11-28T00:00:00Z"));
        let mut cancelled = bar(1, "2026-11-27T01:00:00Z", "2026-11-27T03:00:00Z");
        cancelled.held = Held::Nothing;
        let mut stopped = bar(2, "2026-11-27T04:00:00Z", "2026-11-27T08:00:00Z");
        stopped.held = Held::Until(at("2026-11-27T05:30:00Z"));
        let mut stopped_before_it_began = bar(3, "2026-11-27T10:00:00Z", "2026-11-27T11:00:00Z");
        stopped_before_it_began.held = Held::Until(at("2026-11-27T09:00:00Z"));
        let held = held_spans(&[&cancelled, &stopped, &stopped_before_it_began], from, to);
        assert_eq!(
            held,
            vec![(at("2026-11-27T04:00:00Z"), at("2026-11-27T05:30:00Z"))]
        );
    }

    #[test]
    fn overlapping_sessions_go_in_rows_below_each_other() {
        let (a, b, c) = (
            bar(1, "2026-11-27T01:00:00Z", "2026-11-27T03:00:00Z"),
            bar(2, "2026-11-27T02:00:00Z", "2026-11-27T04:00:00Z"),
            bar(3, "2026-11-27T03:00:00Z", "2026-11-27T05:00:00Z"),
        );
        assert_eq!(rows(&[&a, &b, &c]), vec![0, 1, 0]);
    }

    #[test]
    fn days_start_at_local_midnight() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        assert_eq!(
            midnight(day, chrono_tz::Asia::Jakarta),
            at("2026-11-26T17:00:00Z")
        );
        // São Paulo skipped midnight on 2018-11-04: the day started at 01:00.
        let skipped = NaiveDate::from_ymd_opt(2018, 11, 4).unwrap();
        assert_eq!(
            midnight(skipped, chrono_tz::America::Sao_Paulo),
            at("2018-11-04T03:00:00Z")
        );
    }
}
