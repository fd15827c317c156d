//! Recurring flash-sale slots ("every day 00:00-02:00") and the week they are
//! planned in.
//!
//! A slot is declared in wall-clock time in the business time zone, because
//! that is how the team thinks of it ("the midnight sale"), and expanded into
//! UTC windows here, the one place that knows how. Daylight saving moves the
//! instants, never the wall-clock times: a local time that does not exist (the
//! hour skipped in spring) starts at the first instant after the gap, and one
//! that happens twice (the hour repeated in autumn) at its first occurrence.
//! Unlike a typed session window (`window`), which refuses such a time so the
//! person can say what they meant, a slot recurs without anyone to ask, so it
//! must resolve to something; these two rules keep its length as close to the
//! declared one as the clock allows.

use std::fmt;

use chrono::{
    DateTime, Datelike, Days, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Utc, Weekday,
};
use chrono_tz::Tz;

use super::window::format_span;

/// Which days of the week a slot recurs on; Monday is bit 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlotDays(u8);

impl SlotDays {
    pub const DAILY: SlotDays = SlotDays(0b111_1111);
    pub const WEEKDAYS: SlotDays = SlotDays(0b001_1111);
    pub const WEEKENDS: SlotDays = SlotDays(0b110_0000);

    /// `daily`, `weekdays`, `weekends`, or days separated by commas
    /// (`mon,wed,fri`, full names too), case-insensitive.
    pub fn parse(input: &str) -> Result<SlotDays, SlotError> {
        let lower = input.trim().to_ascii_lowercase();
        match lower.as_str() {
            "" => return Err(SlotError::BadDays(input.to_owned())),
            "daily" | "every day" | "everyday" => return Ok(SlotDays::DAILY),
            "weekdays" => return Ok(SlotDays::WEEKDAYS),
            "weekends" => return Ok(SlotDays::WEEKENDS),
            _ => {}
        }
        let mut bits = 0u8;
        for part in lower.split(',').map(str::trim) {
            let day = part
                .parse::<Weekday>()
                .map_err(|_| SlotError::BadDays(input.chars().take(40).collect()))?;
            bits |= 1 << day.num_days_from_monday();
        }
        Ok(SlotDays(bits))
    }

    /// As stored (`slot.days`); `None` for a value no parse can give.
    pub fn from_bits(bits: i16) -> Option<SlotDays> {
        u8::try_from(bits)
            .ok()
            .filter(|b| (1..=0b111_1111).contains(b))
            .map(SlotDays)
    }

    pub fn bits(self) -> i16 {
        i16::from(self.0)
    }

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }
}

impl fmt::Display for SlotDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SlotDays::DAILY => f.write_str("daily"),
            SlotDays::WEEKDAYS => f.write_str("weekdays"),
            SlotDays::WEEKENDS => f.write_str("weekends"),
            days => {
                let names: Vec<String> = (0..7)
                    .filter_map(|i| Weekday::try_from(i).ok())
                    .filter(|d| days.contains(*d))
                    .map(|d| d.to_string().to_ascii_lowercase())
                    .collect();
                f.write_str(&names.join(","))
            }
        }
    }
}

/// A slot as declared: the days it recurs on and its wall-clock start and
/// end. An end at or before the start runs into the next day (`22:00-02:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlotSpec {
    days: SlotDays,
    start: NaiveTime,
    end: NaiveTime,
}

impl SlotSpec {
    /// `start` and `end` as `HH:MM`; `days` as [`SlotDays::parse`] reads it.
    pub fn parse(days: &str, start: &str, end: &str) -> Result<SlotSpec, SlotError> {
        let days = SlotDays::parse(days)?;
        let start = clock_time(start)?;
        let end = clock_time(end)?;
        if start == end {
            return Err(SlotError::Empty);
        }
        Ok(SlotSpec { days, start, end })
    }

    /// As stored; the row was checked when it was written.
    pub fn from_parts(days: SlotDays, start: NaiveTime, end: NaiveTime) -> SlotSpec {
        SlotSpec { days, start, end }
    }

    pub fn days(&self) -> SlotDays {
        self.days
    }

    pub fn start(&self) -> NaiveTime {
        self.start
    }

    pub fn end(&self) -> NaiveTime {
        self.end
    }

    /// The declared length on a day without a clock change.
    pub fn nominal_length(&self) -> Duration {
        let length = self.end.signed_duration_since(self.start);
        if length > Duration::zero() {
            length
        } else {
            length + Duration::days(1)
        }
    }

    /// The occurrence that starts on the local date `day`, if the slot recurs
    /// on that weekday.
    pub fn on(&self, day: NaiveDate, tz: Tz) -> Option<Occurrence> {
        if !self.days.contains(day.weekday()) {
            return None;
        }
        let end_day = if self.end > self.start {
            day
        } else {
            day.checked_add_days(Days::new(1))?
        };
        let starts_at = resolve_local(day.and_time(self.start), tz)?;
        let ends_at = resolve_local(end_day.and_time(self.end), tz)?;
        // Only a clock change can bring the two together; there is no slot left then.
        (ends_at > starts_at).then_some(Occurrence {
            local_date: day,
            starts_at,
            ends_at,
        })
    }

    /// Every occurrence that starts in `[from, to)`, in start order.
    pub fn occurrences(&self, tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Occurrence> {
        let mut found = Vec::new();
        // A day earlier than `from`'s local date: nothing starts before it.
        let Some(mut day) = from
            .with_timezone(&tz)
            .date_naive()
            .checked_sub_days(Days::new(1))
        else {
            return found;
        };
        let last = to.with_timezone(&tz).date_naive();
        while day <= last {
            if let Some(o) = self.on(day, tz) {
                if o.starts_at >= from && o.starts_at < to {
                    found.push(o);
                }
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        found
    }
}

impl fmt::Display for SlotSpec {
    /// `daily 00:00-02:00`: how lists and logs show a slot.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}-{}",
            self.days,
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

/// One occurrence of a slot: the local date it starts on and its UTC window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Occurrence {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The business-zone date it starts on: "the same weekday last week" is
    /// seven of these back, not 168 hours (which daylight saving would shift).
    pub local_date: NaiveDate,
}

impl Occurrence {
    /// `Thu 10 Dec 00:00–02:00 WIB`.
    pub fn label(&self, tz: Tz) -> String {
        format_span(self.starts_at, self.ends_at, tz)
    }
}

/// A wall-clock time as one instant: the first instant after a gap, the
/// first of two when the time happens twice. `None` only when no instant of
/// the next hours exists either (no real time zone does that).
fn resolve_local(local: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        LocalResult::None => {
            // Gaps are whole minutes and at most a few hours: walk to the first minute that exists.
            (1..=24 * 60).find_map(|m| {
                tz.from_local_datetime(&(local + Duration::minutes(m)))
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
            })
        }
    }
}

fn clock_time(input: &str) -> Result<NaiveTime, SlotError> {
    NaiveTime::parse_from_str(input.trim(), "%H:%M")
        .map_err(|_| SlotError::BadTime(input.chars().take(40).collect()))
}

/// Which days `plan` drafts for: a calendar week (Monday to Sunday in the
/// business zone) or the next N days from today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanRange {
    /// The week that holds this date, from its Monday.
    WeekOf(NaiveDate),
    /// `days` local days from today, today included.
    Days(u32),
}

/// The most days one `plan` drafts for: two weeks is a plan, more is a typo.
pub const MAX_PLAN_DAYS: u32 = 14;

impl PlanRange {
    /// `week:` as typed: `this`, `next` or a date in the week (`YYYY-MM-DD`);
    /// `days:` a whole number 1-14. Neither: next week. Both: refused.
    pub fn parse(
        week: Option<&str>,
        days: Option<&str>,
        today: NaiveDate,
    ) -> Result<PlanRange, SlotError> {
        match (week.map(str::trim), days.map(str::trim)) {
            (Some(_), Some(_)) => Err(SlotError::WeekAndDays),
            (None, Some(raw)) => match raw.parse::<u32>() {
                Ok(n) if (1..=MAX_PLAN_DAYS).contains(&n) => Ok(PlanRange::Days(n)),
                _ => Err(SlotError::BadDayCount(raw.chars().take(40).collect())),
            },
            (None, None) => Ok(PlanRange::WeekOf(today + Days::new(7))),
            (Some(raw), None) => match raw.to_ascii_lowercase().as_str() {
                "this" => Ok(PlanRange::WeekOf(today)),
                "next" => Ok(PlanRange::WeekOf(today + Days::new(7))),
                _ => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .map(PlanRange::WeekOf)
                    .map_err(|_| SlotError::BadWeek(raw.chars().take(40).collect())),
            },
        }
    }

    /// The local dates it covers, first and last included.
    pub fn dates(&self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        match *self {
            PlanRange::WeekOf(day) => {
                let monday = day - Days::new(u64::from(day.weekday().num_days_from_monday()));
                (monday, monday + Days::new(6))
            }
            PlanRange::Days(n) => (today, today + Days::new(u64::from(n.max(1) - 1))),
        }
    }
}

/// When the coverage alarm speaks for an uncovered occurrence that starts at
/// `starts_at`: the latest reminder (hours before the start, e.g. 24 and 6)
/// whose time has come by `now`, while the slot is still ahead. Only the
/// latest, so a bot started five hours before a slot says "in 5h" once
/// rather than every reminder it missed.
pub fn due_reminder(starts_at: DateTime<Utc>, now: DateTime<Utc>, hours: &[u32]) -> Option<u32> {
    if now >= starts_at {
        return None;
    }
    hours
        .iter()
        .copied()
        .filter(|h| starts_at - Duration::hours(i64::from(*h)) <= now)
        .min()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    #[error(
        "\"{0}\" is not a list of days: use daily, weekdays, weekends, or days like mon,wed,fri."
    )]
    BadDays(String),
    #[error(
        "\"{0}\" is not a time of day: use HH:MM in the business time zone, e.g. 00:00 or 12:30."
    )]
    BadTime(String),
    #[error("A slot's start and end are the same time: give an end after the start (an earlier end runs into the next day).")]
    Empty,
    #[error("\"{0}\" is not a week: use this, next, or a date in the week as YYYY-MM-DD.")]
    BadWeek(String),
    #[error("\"{0}\" is not a number of days: give a whole number from 1 to {MAX_PLAN_DAYS}.")]
    BadDayCount(String),
    #[error("Give week or days, not both: a week is Monday to Sunday, days counts from today.")]
    WeekAndDays,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Asia::Jakarta, Europe::Berlin};

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn spec(days: &str, start: &str, end: &str) -> SlotSpec {
        SlotSpec::parse(days, start, end).unwrap()
    }

    #[test]
    fn days_read_names_lists_and_words() {
        assert_eq!(SlotDays::parse("Daily"), Ok(SlotDays::DAILY));
        assert_eq!(SlotDays::parse("weekends"), Ok(SlotDays::WEEKENDS));
        let mwf = SlotDays::parse("mon, wednesday,FRI").unwrap();
        assert!(mwf.contains(Weekday::Mon) && mwf.contains(Weekday::Wed));
        assert!(!mwf.contains(Weekday::Tue));
        assert_eq!(mwf.to_string(), "mon,wed,fri");
        assert_eq!(SlotDays::from_bits(mwf.bits()), Some(mwf));
        assert!(matches!(
            SlotDays::parse("mon,funday"),
            Err(SlotError::BadDays(_))
        ));
        assert!(matches!(SlotDays::parse(""), Err(SlotError::BadDays(_))));
    }

    #[test]
    fn a_slot_needs_two_different_clock_times() {
        assert_eq!(
            SlotSpec::parse("daily", "00:00", "00:00"),
            Err(SlotError::Empty)
        );
        assert!(matches!(
            SlotSpec::parse("daily", "24:00", "02:00"),
            Err(SlotError::BadTime(_))
        ));
        assert!(matches!(
            SlotSpec::parse("daily", "noon", "13:00"),
            Err(SlotError::BadTime(_))
        ));
        assert_eq!(
            spec("daily", "22:00", "02:00").nominal_length(),
            Duration::hours(4)
        );
    }

    #[test]
    fn a_daily_slot_recurs_every_day_across_a_month_end() {
        let s = spec("daily", "00:00", "02:00");
        // Jakarta is UTC+7 all year: 00:00 local is 17:00 UTC the day before.
        let found = s.occurrences(
            Jakarta,
            utc("2026-11-29T00:00:00Z"),
            utc("2026-12-03T00:00:00Z"),
        );
        let dates: Vec<String> = found.iter().map(|o| o.local_date.to_string()).collect();
        assert_eq!(
            dates,
            ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03"]
        );
        assert_eq!(found[1].starts_at, utc("2026-11-30T17:00:00Z"));
        assert_eq!(found[1].ends_at, utc("2026-11-30T19:00:00Z"));
    }

    #[test]
    fn an_overnight_slot_ends_on_the_next_day_across_a_year_end() {
        let s = spec("daily", "22:00", "02:00");
        let o = s.on(date("2026-12-31"), Jakarta).unwrap();
        assert_eq!(o.starts_at, utc("2026-12-31T15:00:00Z"));
        assert_eq!(o.ends_at, utc("2026-12-31T19:00:00Z"));
        assert_eq!(o.label(Jakarta), "Thu 31 Dec 22:00 – Fri 01 Jan 02:00 WIB");
    }

    #[test]
    fn weekday_slots_skip_the_weekend() {
        let s = spec("weekdays", "12:00", "13:00");
        // Fri 4 Dec 2026 to Tue 8 Dec: Friday, Monday, Tuesday.
        let found = s.occurrences(
            Berlin,
            utc("2026-12-04T00:00:00Z"),
            utc("2026-12-09T00:00:00Z"),
        );
        let days: Vec<Weekday> = found.iter().map(|o| o.local_date.weekday()).collect();
        assert_eq!(days, [Weekday::Fri, Weekday::Mon, Weekday::Tue]);
    }

    #[test]
    fn the_midnight_slot_keeps_its_wall_clock_time_across_the_spring_change_in_berlin() {
        let s = spec("daily", "00:00", "02:00");
        // Berlin goes from UTC+1 to UTC+2 at 02:00 on Sun 29 Mar 2026.
        let before = s.on(date("2026-03-28"), Berlin).unwrap();
        let during = s.on(date("2026-03-29"), Berlin).unwrap();
        let after = s.on(date("2026-03-30"), Berlin).unwrap();
        assert_eq!(before.starts_at, utc("2026-03-27T23:00:00Z"));
        assert_eq!(after.starts_at, utc("2026-03-29T22:00:00Z"));
        // 02:00 does not exist that night: the slot ends at the first instant after the gap,
        // 03:00 CEST, so it is one hour long, and the next day starts 23 hours later.
        assert_eq!(during.starts_at, utc("2026-03-28T23:00:00Z"));
        assert_eq!(during.ends_at, utc("2026-03-29T01:00:00Z"));
        assert_eq!(after.starts_at - during.starts_at, Duration::hours(23));
    }

    #[test]
    fn a_slot_starting_inside_the_spring_gap_starts_when_the_clock_resumes() {
        let s = spec("daily", "02:30", "04:00");
        let o = s.on(date("2026-03-29"), Berlin).unwrap();
        // 02:30 is skipped: it starts at 03:00 CEST (01:00 UTC) and ends at 04:00 CEST.
        assert_eq!(o.starts_at, utc("2026-03-29T01:00:00Z"));
        assert_eq!(o.ends_at, utc("2026-03-29T02:00:00Z"));
    }

    #[test]
    fn a_slot_in_the_repeated_autumn_hour_takes_its_first_occurrence_in_new_york() {
        // New York goes back from 02:00 EDT to 01:00 EST on Sun 1 Nov 2026.
        let s = spec("daily", "01:00", "03:00");
        let o = s.on(date("2026-11-01"), New_York).unwrap();
        assert_eq!(o.starts_at, utc("2026-11-01T05:00:00Z")); // 01:00 EDT
        assert_eq!(o.ends_at, utc("2026-11-01T08:00:00Z")); // 03:00 EST
        assert_eq!(o.ends_at - o.starts_at, Duration::hours(3));
        // A midnight slot that week is two hours on the day before and after, by the wall clock.
        let m = spec("daily", "00:00", "02:00");
        let found = m.occurrences(
            New_York,
            utc("2026-10-31T00:00:00Z"),
            utc("2026-11-03T00:00:00Z"),
        );
        let starts: Vec<DateTime<Utc>> = found.iter().map(|o| o.starts_at).collect();
        assert_eq!(
            starts,
            [
                utc("2026-10-31T04:00:00Z"),
                utc("2026-11-01T04:00:00Z"),
                utc("2026-11-02T05:00:00Z")
            ]
        );
    }

    #[test]
    fn occurrences_are_those_starting_in_the_range_half_open() {
        let s = spec("daily", "12:00", "13:00");
        let from = utc("2026-12-01T05:00:00Z"); // 12:00 WIB on 1 Dec
        let found = s.occurrences(Jakarta, from, from + Duration::days(2));
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].starts_at, from);
    }

    #[test]
    fn a_plan_range_is_a_monday_to_sunday_week_or_days_from_today() {
        let today = date("2026-12-03"); // a Thursday
        let next = PlanRange::parse(None, None, today).unwrap();
        assert_eq!(next.dates(today), (date("2026-12-07"), date("2026-12-13")));
        let this = PlanRange::parse(Some("this"), None, today).unwrap();
        assert_eq!(this.dates(today), (date("2026-11-30"), date("2026-12-06")));
        let of = PlanRange::parse(Some("2027-01-01"), None, today).unwrap();
        assert_eq!(of.dates(today), (date("2026-12-28"), date("2027-01-03")));
        let three = PlanRange::parse(None, Some("3"), today).unwrap();
        assert_eq!(three.dates(today), (today, date("2026-12-05")));
    }

    #[test]
    fn a_plan_range_refuses_what_it_cannot_read() {
        let today = date("2026-12-03");
        assert_eq!(
            PlanRange::parse(Some("next"), Some("3"), today),
            Err(SlotError::WeekAndDays)
        );
        assert!(matches!(
            PlanRange::parse(None, Some("15"), today),
            Err(SlotError::BadDayCount(_))
        ));
        assert!(matches!(
            PlanRange::parse(None, Some("0"), today),
            Err(SlotError::BadDayCount(_))
        ));
        assert!(matches!(
            PlanRange::parse(Some("soon"), None, today),
            Err(SlotError::BadWeek(_))
        ));
    }

    #[test]
    fn the_alarm_speaks_at_the_latest_reminder_that_is_due() {
        let start = utc("2026-12-10T17:00:00Z");
        let at = |h: i64| start - Duration::hours(h);
        assert_eq!(due_reminder(start, at(30), &[24, 6]), None);
        assert_eq!(due_reminder(start, at(24), &[24, 6]), Some(24));
        assert_eq!(due_reminder(start, at(7), &[24, 6]), Some(24));
        assert_eq!(due_reminder(start, at(5), &[24, 6]), Some(6));
        assert_eq!(due_reminder(start, start, &[24, 6]), None);
    }
}
