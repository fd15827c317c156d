//! A calendar of sessions with the free time between them, computed once for
//! every chat adapter and the daily digest, so Discord, the console and the
//! digest show the same gaps; and the digest's words (`digest_text`).

use chrono::{DateTime, Duration, Utc};

use super::view::SessionSummaryView;

/// Which sessions a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListRange {
    /// Everything not yet over, from now on (at most 200).
    Upcoming,
    /// Today in the business time zone, finished ones included.
    Today,
    /// The next seven days from the start of today, finished ones included.
    Week,
    /// An explicit range, finished ones included.
    Between(DateTime<Utc>, DateTime<Utc>),
}

impl ListRange {
    /// What a list of this range is called, e.g. `Upcoming flash sales`.
    pub fn heading(&self) -> &'static str {
        match self {
            ListRange::Upcoming => "Upcoming flash sales",
            ListRange::Today => "Flash sales today",
            ListRange::Week => "Flash sales this week",
            ListRange::Between(..) => "Flash sales",
        }
    }

    /// The `range:` option that asks for this range again (none for the default, upcoming).
    pub fn option(&self) -> Option<&'static str> {
        match self {
            ListRange::Today => Some("today"),
            ListRange::Week => Some("week"),
            ListRange::Upcoming | ListRange::Between(..) => None,
        }
    }

    /// The list in words, for a page that does not exist.
    pub(super) fn described(&self) -> &'static str {
        match self {
            ListRange::Upcoming => "the list of upcoming sessions",
            ListRange::Today => "today's list",
            ListRange::Week => "this week's list",
            ListRange::Between(..) => "the list",
        }
    }
}
use crate::chat::{Text, TimeStyle};

/// Time between two sessions that no session holds the storefront for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeSlot {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl FreeSlot {
    pub fn length(&self) -> Duration {
        self.to - self.from
    }

    /// `6h`, `1h 30m`, `2d 3h`: how long, as people say it.
    pub fn length_label(&self) -> String {
        duration_label(self.length())
    }
}

/// `6h`, `1h 30m`, `2d 3h`; `0m` for nothing.
pub fn duration_label(d: Duration) -> String {
    let minutes = d.num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let parts: Vec<String> = [(days, "d"), (hours, "h"), (mins, "m")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if parts.is_empty() {
        "0m".to_owned()
    } else {
        parts.join(" ")
    }
}

/// One session of a calendar, and the free time that ends where it starts
/// holding the storefront (if there is any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    pub free_before: Option<FreeSlot>,
    pub session: SessionSummaryView,
}

/// What `list` shows: one page of a calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListView {
    pub range: ListRange,
    /// This page's sessions in start order, each with the free time before it.
    pub rows: Vec<ListRow>,
    /// 1-based.
    pub page: i64,
    pub pages: i64,
    /// Sessions in the whole range, on every page.
    pub total: i64,
    /// The declared slots in the range (and the coverage horizon) that no
    /// approved session covers, as lines to show under the list (`week`);
    /// on the first page only.
    pub uncovered: Option<Text>,
}

impl ListView {
    /// Sessions a page: ten of the longest entries still fit one Discord message.
    pub const PAGE_SIZE: i64 = 10;

    /// The next page's number, when there is one.
    pub fn next_page(&self) -> Option<i64> {
        (self.page < self.pages).then_some(self.page + 1)
    }

    /// The command that shows the next page, e.g. `/flashsale list range:week page:2`.
    pub fn next_page_command(&self) -> Option<String> {
        let next = self.next_page()?;
        Some(match self.range.option() {
            Some(range) => format!("/flashsale list range:{range} page:{next}"),
            None => format!("/flashsale list page:{next}"),
        })
    }
}

/// The sessions in start order (then by id), each with the free time before
/// it: the gap between the time earlier sessions hold the storefront and
/// the start of one that holds it again. A session that holds no time (see
/// [`SessionSummaryView::holds`]) gets no gap and does not end one, so its
/// time shows as free around it.
pub fn calendar(mut sessions: Vec<SessionSummaryView>) -> Vec<ListRow> {
    sessions.sort_by_key(|s| (s.window.starts_at(), s.id));
    let mut held_until: Option<DateTime<Utc>> = None;
    sessions
        .into_iter()
        .map(|session| {
            let mut free_before = None;
            if let Some((start, end)) = session.holds() {
                if let Some(until) = held_until.filter(|until| start > *until) {
                    free_before = Some(FreeSlot {
                        from: until,
                        to: start,
                    });
                }
                held_until = held_until.max(Some(end));
            }
            ListRow {
                free_before,
                session,
            }
        })
        .collect()
}

/// One line per session, and the gaps between the sessions that hold the
/// storefront, as `list` shows them (`app::calendar`): a cancelled, expired
/// or failed session leaves its time free, and one stopped early holds it
/// only until it was stopped (`SessionSummaryView::holds` says why).
pub fn digest_text(sessions: &[SessionSummaryView]) -> Text {
    if sessions.is_empty() {
        return Text::from("Daily digest: no flash sales today or tomorrow. Every slot is free.");
    }
    let mut text = Text::from("Daily digest, today and tomorrow:");
    for row in calendar(sessions.to_vec()) {
        if let Some(free) = row.free_before {
            text = text.line(
                Text::new()
                    .plain("  (free: ")
                    .time(free.from, TimeStyle::Full)
                    .plain(" → ")
                    .time(free.to, TimeStyle::Full)
                    .plain(")"),
            );
        }
        let s = &row.session;
        text = text.line(
            Text::new()
                .plain(format!(
                    "• #{} \"{}\" · {} · {}/6 SKUs · ",
                    s.id,
                    s.title,
                    s.status.label(),
                    s.item_count
                ))
                .time(s.window.starts_at(), TimeStyle::Full)
                .plain(" → ")
                .time(s.window.ends_at(), TimeStyle::Full),
        );
        if let Some(stopped) = s.stopped_early_at() {
            text = text
                .plain(" (stopped early ")
                .time(stopped, TimeStyle::Full)
                .plain(")");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Status, Window, WindowRules};
    use chrono::TimeZone;

    fn session(id: i64, from_hour: i64, to_hour: i64, status: Status) -> SessionSummaryView {
        let base = Utc.with_ymd_and_hms(2030, 1, 2, 0, 0, 0).unwrap();
        let starts = base + Duration::hours(from_hour);
        SessionSummaryView {
            id,
            title: format!("S{id}"),
            window: Window::new(
                starts,
                base + Duration::hours(to_hour),
                base - Duration::days(1),
                &WindowRules::default(),
            )
            .unwrap(),
            status,
            item_count: 6,
            approval_deadline: starts - Duration::hours(1),
            ended_at: None,
        }
    }

    fn gaps(rows: &[ListRow]) -> Vec<(i64, u32, u32)> {
        use chrono::Timelike;
        rows.iter()
            .filter_map(|r| {
                r.free_before
                    .map(|f| (r.session.id, f.from.hour(), f.to.hour()))
            })
            .collect()
    }

    #[test]
    fn the_free_time_is_placed_before_the_session_that_ends_it() {
        let rows = calendar(vec![
            session(3, 18, 20, Status::Approved),
            session(1, 8, 10, Status::Draft),
            session(2, 12, 16, Status::Cancelled),
        ]);
        let order: Vec<i64> = rows.iter().map(|r| r.session.id).collect();
        assert_eq!(order, [1, 2, 3]);
        // The cancelled session holds nothing: one gap from 10 to 18, not 10-12 and again 10-18.
        assert_eq!(gaps(&rows), [(3, 10, 18)]);
    }

    #[test]
    fn overlapping_and_back_to_back_sessions_leave_no_gap() {
        let rows = calendar(vec![
            session(1, 8, 14, Status::Approved),
            session(2, 9, 11, Status::Draft),
            session(3, 14, 16, Status::PendingApproval),
            session(4, 17, 18, Status::Live),
        ]);
        assert_eq!(gaps(&rows), [(4, 16, 17)]);
    }

    #[test]
    fn durations_read_like_people_say_them() {
        assert_eq!(duration_label(Duration::minutes(360)), "6h");
        assert_eq!(duration_label(Duration::minutes(90)), "1h 30m");
        assert_eq!(duration_label(Duration::minutes(3060)), "2d 3h");
        assert_eq!(duration_label(Duration::minutes(-5)), "0m");
    }

    fn free_lines(sessions: &[SessionSummaryView]) -> Vec<String> {
        digest_text(sessions)
            .render(|at, _| at.format("%H:%M").to_string())
            .lines()
            .filter(|l| l.contains("free"))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn a_cancelled_session_leaves_its_time_free() {
        let sessions = [
            session(1, 8, 10, Status::Approved),
            session(2, 10, 16, Status::Cancelled),
            session(3, 18, 20, Status::Approved),
        ];
        assert_eq!(free_lines(&sessions), ["  (free: 10:00 → 18:00)"]);
    }

    #[test]
    fn expired_and_failed_sessions_leave_their_time_free_too() {
        for status in [Status::Expired, Status::Failed] {
            let sessions = [
                session(1, 8, 10, Status::Live),
                session(2, 9, 16, status),
                session(3, 18, 20, Status::Approved),
            ];
            assert_eq!(
                free_lines(&sessions),
                ["  (free: 10:00 → 18:00)"],
                "{status:?}"
            );
        }
    }

    #[test]
    fn a_stopped_session_holds_its_time_only_until_it_was_stopped() {
        let mut stopped = session(2, 10, 16, Status::Ended);
        stopped.ended_at = Some(stopped.window.starts_at() + Duration::hours(2));
        let sessions = [
            session(1, 8, 10, Status::Ended),
            stopped,
            session(3, 18, 20, Status::Approved),
        ];
        assert_eq!(free_lines(&sessions), ["  (free: 12:00 → 18:00)"]);
        let text = digest_text(&sessions).render(|at, _| at.format("%H:%M").to_string());
        assert!(
            text.contains("• #2 \"S2\" · Ended · 6/6 SKUs · 10:00 → 16:00 (stopped early 12:00)"),
            "{text}"
        );
        assert!(!text.contains("#1 \"S1\" · Ended · 6/6 SKUs · 08:00 → 10:00 (stopped"));
    }

    #[test]
    fn a_session_ended_on_time_holds_its_whole_window() {
        let mut ended = session(1, 8, 10, Status::Ended);
        // The end is recorded a moment after the planned end.
        ended.ended_at = Some(ended.window.ends_at() + Duration::seconds(3));
        let sessions = [ended, session(2, 10, 12, Status::Approved)];
        assert!(free_lines(&sessions).is_empty());
    }
}
