//! The time window of a flash-sale session, entered in the business time zone.
//!
//! Marketers think in local wall-clock time ("tomorrow 22:00"); the store and the
//! storefront think in UTC instants. This module is the one place that converts, and it
//! refuses wall-clock times that daylight saving makes missing or doubled rather than
//! guessing which instant was meant.

use chrono::{
    DateTime, Days, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;

/// Limits on windows, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowRules {
    /// Approvers, reminders and the storefront need time to act before go-live.
    pub min_lead: Duration,
    /// A flash sale is a short event; a long one is usually a date typo.
    pub max_duration: Duration,
}

impl Default for WindowRules {
    fn default() -> Self {
        WindowRules {
            min_lead: Duration::minutes(5),
            max_duration: Duration::hours(24),
        }
    }
}

/// A half-open interval `[starts_at, ends_at)` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

/// The day part of what was typed; `Bare` is decided by the caller (start or end).
enum Day {
    Bare,
    Today,
    Tomorrow,
    Date(NaiveDate),
}

impl Window {
    /// Error times are shown in UTC here, since no business time zone is known.
    pub fn new(
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        now: DateTime<Utc>,
        rules: &WindowRules,
    ) -> Result<Window, WindowError> {
        Self::checked(starts_at, ends_at, now, rules, Tz::UTC)
    }

    /// As [`Window::new`], with error times shown in `tz`: instants already
    /// resolved (a clone's new start plus its source's length) are checked as
    /// typed ones are, without a detour through wall-clock text, which
    /// daylight saving could make missing or doubled.
    pub fn new_in(
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        tz: Tz,
        now: DateTime<Utc>,
        rules: &WindowRules,
    ) -> Result<Window, WindowError> {
        Self::checked(starts_at, ends_at, now, rules, tz)
    }

    /// Resolves a start time alone, as `parse` would (used to keep a cloned
    /// session's length when only a new start is given).
    pub fn parse_start(
        start: &str,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, WindowError> {
        let today = now.with_timezone(&tz).date_naive();
        resolve(start, on_day(start, tz, today)?, tz)
    }

    /// Parses a start and an end typed in `tz`, then checks them like [`Window::new`].
    pub fn parse(
        start: &str,
        end: &str,
        tz: Tz,
        now: DateTime<Utc>,
        rules: &WindowRules,
    ) -> Result<Window, WindowError> {
        let today = now.with_timezone(&tz).date_naive();
        let start_local = on_day(start, tz, today)?;
        let starts_at = resolve(start, start_local, tz)?;
        let (day, time) = split(end, tz)?;
        let end_local = match day {
            // "22:00 to 02:00" means overnight: a bare end belongs to the start's evening.
            Day::Bare => {
                let same_day = start_local.date().and_time(time);
                if same_day > start_local {
                    same_day
                } else {
                    next_day(end, tz, start_local.date())?.and_time(time)
                }
            }
            day => date_of(end, tz, day, today)?.and_time(time),
        };
        let ends_at = resolve(end, end_local, tz)?;
        Self::checked(starts_at, ends_at, now, rules, tz)
    }

    /// For windows read back from our store, already validated when written: no
    /// lead-time check, since a stored session's start is allowed to be near or past.
    pub(crate) fn from_stored(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Window {
        Window { starts_at, ends_at }
    }

    pub fn starts_at(&self) -> DateTime<Utc> {
        self.starts_at
    }

    pub fn ends_at(&self) -> DateTime<Utc> {
        self.ends_at
    }

    pub fn duration(&self) -> Duration {
        self.ends_at.signed_duration_since(self.starts_at)
    }

    /// Half-open, so one session may start the minute the previous one ends.
    pub fn overlaps(&self, other: &Window) -> bool {
        self.starts_at < other.ends_at && other.starts_at < self.ends_at
    }

    fn checked(
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        now: DateTime<Utc>,
        rules: &WindowRules,
        tz: Tz,
    ) -> Result<Window, WindowError> {
        let window = Window { starts_at, ends_at };
        // The start first: a start in the past is the mistake to name, even
        // when the end (measured from that start) also looks wrong.
        if starts_at < now {
            return Err(WindowError::StartPassed {
                start: format_local(starts_at, tz),
                min_lead_minutes: rules.min_lead.num_minutes(),
            });
        }
        // No earliest start representable means no start can be late enough.
        let earliest = now.checked_add_signed(rules.min_lead);
        if earliest.is_none_or(|earliest| starts_at < earliest) {
            return Err(WindowError::TooSoon {
                min_lead_minutes: rules.min_lead.num_minutes(),
            });
        }
        if ends_at <= starts_at {
            return Err(WindowError::EndNotAfterStart {
                start: format_local(starts_at, tz),
                end: format_local(ends_at, tz),
            });
        }
        if window.duration() > rules.max_duration {
            // Rounded up, so the hours shown are always more than the maximum.
            let hours = (window.duration().num_minutes() + 59) / 60;
            return Err(WindowError::TooLong {
                hours,
                max_hours: rules.max_duration.num_hours(),
            });
        }
        Ok(window)
    }
}

/// Up to `count` windows as long as `wanted` that overlap none of `taken`
/// and start no earlier than `earliest`, nearest to `wanted`'s start first:
/// what to offer someone whose window collides with another sale. The
/// candidates are the slots right before and right after each taken window,
/// which is where the nearest free time of that length begins or ends.
pub fn nearest_free(
    wanted: &Window,
    taken: &[Window],
    earliest: DateTime<Utc>,
    count: usize,
) -> Vec<Window> {
    let length = wanted.duration();
    let mut candidates: Vec<Window> = taken
        .iter()
        .flat_map(|t| {
            [
                Window::from_stored(t.ends_at, t.ends_at + length),
                Window::from_stored(t.starts_at - length, t.starts_at),
            ]
        })
        .filter(|c| c.starts_at >= earliest)
        .filter(|c| !taken.iter().any(|t| t.overlaps(c)))
        .collect();
    let distance = |c: &Window| (c.starts_at - wanted.starts_at).num_seconds().abs();
    candidates.sort_by_key(|c| (distance(c), c.starts_at));
    candidates.dedup();
    candidates.truncate(count);
    candidates
}

/// One local time typed in `tz` as a UTC instant; a bare `HH:MM` is on `today`.
pub fn parse_local(input: &str, tz: Tz, today: NaiveDate) -> Result<DateTime<Utc>, WindowError> {
    resolve(input, on_day(input, tz, today)?, tz)
}

/// `2026-11-27 00:00 WIB`: how every time is shown to users.
pub fn format_local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// `Fri 27 Nov 00:00–12:00 WIB`, or both dates when the span crosses midnight
/// in `tz`: how lists and logs show a session's window.
pub fn format_span(from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz) -> String {
    let (from, to) = (from.with_timezone(&tz), to.with_timezone(&tz));
    if from.date_naive() == to.date_naive() {
        format!(
            "{}–{}",
            from.format("%a %d %b %H:%M"),
            to.format("%H:%M %Z")
        )
    } else {
        format!(
            "{} – {}",
            from.format("%a %d %b %H:%M"),
            to.format("%a %d %b %H:%M %Z")
        )
    }
}

/// Splits `[day] HH:MM` (case-insensitive, any spaces) into its two parts.
fn split(input: &str, tz: Tz) -> Result<(Day, NaiveTime), WindowError> {
    let lower = input.trim().to_lowercase();
    let parts: Vec<&str> = lower.split_whitespace().collect();
    let parsed = match parts.as_slice() {
        [time] => parse_time(time).map(|t| (Day::Bare, t)),
        [day, time] => parse_day(day).zip(parse_time(time)),
        _ => None,
    };
    parsed.ok_or_else(|| bad_format(input, tz))
}

fn parse_day(s: &str) -> Option<Day> {
    match s {
        "today" => Some(Day::Today),
        "tomorrow" => Some(Day::Tomorrow),
        _ => {
            // Exactly YYYY-MM-DD: chrono alone would also take "2026-1-5" or "+2026-01-05".
            let shaped = s.len() == 10
                && s.bytes().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                });
            if !shaped {
                return None;
            }
            NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(Day::Date)
        }
    }
}

/// `H:MM` or `HH:MM`, hours 00-23: `24:00` is refused rather than read as midnight.
fn parse_time(s: &str) -> Option<NaiveTime> {
    let (h, m) = s.split_once(':')?;
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !(1..=2).contains(&h.len()) || m.len() != 2 || !digits(h) || !digits(m) {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

fn on_day(input: &str, tz: Tz, today: NaiveDate) -> Result<NaiveDateTime, WindowError> {
    let (day, time) = split(input, tz)?;
    Ok(date_of(input, tz, day, today)?.and_time(time))
}

fn date_of(input: &str, tz: Tz, day: Day, today: NaiveDate) -> Result<NaiveDate, WindowError> {
    match day {
        Day::Bare | Day::Today => Ok(today),
        Day::Tomorrow => next_day(input, tz, today),
        Day::Date(date) => Ok(date),
    }
}

/// Only fails at the end of chrono's calendar, which no one types on purpose.
fn next_day(input: &str, tz: Tz, date: NaiveDate) -> Result<NaiveDate, WindowError> {
    date.checked_add_days(Days::new(1))
        .ok_or_else(|| bad_format(input, tz))
}

fn resolve(input: &str, local: NaiveDateTime, tz: Tz) -> Result<DateTime<Utc>, WindowError> {
    let (input, tz_name) = (input.trim().to_owned(), tz.name().to_owned());
    match tz.from_local_datetime(&local) {
        LocalResult::Single(at) => Ok(at.with_timezone(&Utc)),
        LocalResult::None => Err(WindowError::NonExistentLocalTime { input, tz: tz_name }),
        LocalResult::Ambiguous(..) => Err(WindowError::AmbiguousLocalTime { input, tz: tz_name }),
    }
}

fn bad_format(input: &str, tz: Tz) -> WindowError {
    WindowError::BadFormat {
        input: input.trim().to_owned(),
        tz: tz.name().to_owned(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("\"{input}\" is not a time I understand: use YYYY-MM-DD HH:MM, today HH:MM, tomorrow HH:MM or HH:MM ({tz} time).")]
    BadFormat { input: String, tz: String },
    #[error("\"{input}\" does not exist in {tz}: the clocks jump forward over it that night (daylight saving), so pick a time outside the jump.")]
    NonExistentLocalTime { input: String, tz: String },
    #[error("\"{input}\" happens twice in {tz}: the clocks go back that night (daylight saving), so pick a time outside the repeated hour.")]
    AmbiguousLocalTime { input: String, tz: String },
    #[error("The end {end} is not after the start {start}: a session must end after it starts.")]
    EndNotAfterStart { start: String, end: String },
    #[error("The session would last about {hours} hours: allowed at most {max_hours} hours.")]
    TooLong { hours: i64, max_hours: i64 },
    #[error("The start {start} has already passed: the session must start at least {} from now.", minutes(*.min_lead_minutes))]
    StartPassed {
        start: String,
        min_lead_minutes: i64,
    },
    #[error("The start is too soon: the session must start at least {} from now.", minutes(*.min_lead_minutes))]
    TooSoon { min_lead_minutes: i64 },
}

/// Which of the two typed times a [`WindowError`] is about, so a form can
/// show it under the right field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowPart {
    Start,
    End,
}

impl WindowError {
    /// The field to blame. A bad format, a missing or doubled local time is
    /// about whichever text was typed, which only the caller knows (it parses
    /// the start alone first), so those answer `None`.
    pub fn part(&self) -> Option<WindowPart> {
        match self {
            WindowError::StartPassed { .. } | WindowError::TooSoon { .. } => {
                Some(WindowPart::Start)
            }
            WindowError::EndNotAfterStart { .. } | WindowError::TooLong { .. } => {
                Some(WindowPart::End)
            }
            WindowError::BadFormat { .. }
            | WindowError::NonExistentLocalTime { .. }
            | WindowError::AmbiguousLocalTime { .. } => None,
        }
    }
}

/// "1 minute", "5 minutes".
fn minutes(n: i64) -> String {
    if n == 1 {
        "1 minute".to_owned()
    } else {
        format!("{n} minutes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Asia::Jakarta};

    fn utc(s: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .unwrap()
            .and_utc()
    }

    /// 2026-11-26 17:00 in Jakarta (UTC+7, no daylight saving).
    fn now() -> DateTime<Utc> {
        utc("2026-11-26 10:00")
    }

    /// The parsed window as `MM-DD HH:MM..MM-DD HH:MM` Jakarta time, to keep tables short.
    fn jakarta(start: &str, end: &str) -> Result<String, WindowError> {
        let w = Window::parse(start, end, Jakarta, now(), &WindowRules::default())?;
        let local = |at: DateTime<Utc>| at.with_timezone(&Jakarta).format("%m-%d %H:%M");
        Ok(format!("{}..{}", local(w.starts_at()), local(w.ends_at())))
    }

    #[test]
    fn accepted_forms_resolve_in_the_business_time_zone() {
        for (start, end, expected) in [
            (
                "2026-11-27 00:00",
                "2026-11-27 02:00",
                "11-27 00:00..11-27 02:00",
            ),
            ("today 20:00", "today 22:30", "11-26 20:00..11-26 22:30"),
            (
                "  TOMORROW   9:05 ",
                "Tomorrow 10:00",
                "11-27 09:05..11-27 10:00",
            ),
            ("20:00", "21:00", "11-26 20:00..11-26 21:00"),
            ("tomorrow 22:00", "02:00", "11-27 22:00..11-28 02:00"),
            ("2026-11-30 10:00", "10:00", "11-30 10:00..12-01 10:00"),
            ("20:00", "tomorrow 01:00", "11-26 20:00..11-27 01:00"),
        ] {
            assert_eq!(
                jakarta(start, end).as_deref(),
                Ok(expected),
                "{start:?} to {end:?}"
            );
        }
    }

    #[test]
    fn the_window_is_stored_in_utc() {
        let rules = WindowRules::default();
        let w = Window::parse("2026-11-27 00:00", "02:00", Jakarta, now(), &rules).unwrap();
        assert_eq!(
            w,
            Window::from_stored(utc("2026-11-26 17:00"), utc("2026-11-26 19:00"))
        );
        assert_eq!(w.duration(), Duration::hours(2));
    }

    #[test]
    fn unreadable_times_are_refused_naming_the_time_zone() {
        // The trailing `|` adds the empty input.
        let inputs = "27/11 00:00|noon|24:00|12:60|10:0|123:00|2026-11-27|tomorrow|\
                      2026-02-30 10:00|2026-1-05 10:00|10:00 tomorrow|next friday 10:00|";
        for input in inputs.split('|') {
            let tz = "Asia/Jakarta".to_owned();
            let expected = WindowError::BadFormat {
                input: input.into(),
                tz,
            };
            let today = now().date_naive();
            assert_eq!(parse_local(input, Jakarta, today), Err(expected.clone()));
            assert_eq!(
                jakarta(input, "23:00"),
                Err(expected.clone()),
                "start {input:?}"
            );
            assert_eq!(jakarta("20:00", input), Err(expected), "end {input:?}");
        }
    }

    #[test]
    fn local_times_that_daylight_saving_skips_or_repeats_are_refused() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let message = |input| parse_local(input, New_York, day).map_err(|e| e.to_string());
        assert_eq!(
            message(" 2026-03-08 02:30"),
            Err(
                "\"2026-03-08 02:30\" does not exist in America/New_York: the clocks jump forward \
                 over it that night (daylight saving), so pick a time outside the jump."
                    .into()
            )
        );
        assert_eq!(
            message("2026-11-01 01:30"),
            Err(
                "\"2026-11-01 01:30\" happens twice in America/New_York: the clocks go back that \
                 night (daylight saving), so pick a time outside the repeated hour."
                    .into()
            )
        );
        assert_eq!(message("2026-03-08 03:30"), Ok(utc("2026-03-08 07:30")));
        assert_eq!(message("2026-11-01 02:30"), Ok(utc("2026-11-01 07:30")));
    }

    #[test]
    fn a_bare_end_in_the_skipped_hour_is_refused_too() {
        let now = utc("2026-03-01 00:00");
        let r = Window::parse(
            "2026-03-07 23:00",
            "02:30",
            New_York,
            now,
            &WindowRules::default(),
        );
        assert!(
            matches!(r, Err(WindowError::NonExistentLocalTime { .. })),
            "{r:?}"
        );
    }

    #[test]
    fn a_window_kept_as_instants_may_end_in_the_repeated_hour() {
        // 22:30 EDT plus three hours ends at 01:30 EDT, the first of the two
        // 01:30s of 2026-11-01 in New York: as wall-clock text it is refused.
        let now = utc("2026-10-01 00:00");
        let rules = WindowRules::default();
        let starts_at = Window::parse_start("2026-10-31 22:30", New_York, now).unwrap();
        let ends_at = starts_at + Duration::hours(3);
        let as_text = format_local(ends_at, New_York);
        assert_eq!(as_text, "2026-11-01 01:30 EDT");
        let reparsed = Window::parse("2026-10-31 22:30", &as_text[..16], New_York, now, &rules);
        assert!(
            matches!(reparsed, Err(WindowError::AmbiguousLocalTime { .. })),
            "{reparsed:?}"
        );
        let window = Window::new_in(starts_at, ends_at, New_York, now, &rules).unwrap();
        assert_eq!(window.starts_at(), utc("2026-11-01 02:30"));
        assert_eq!(window.ends_at(), utc("2026-11-01 05:30"));
        assert_eq!(window.duration(), Duration::hours(3));
    }

    #[test]
    fn instants_are_checked_like_typed_times_with_errors_in_the_zone() {
        let too_long = Window::new_in(
            utc("2026-11-27 00:00"),
            utc("2026-11-28 01:00"),
            Jakarta,
            now(),
            &WindowRules::default(),
        );
        assert_eq!(
            too_long,
            Err(WindowError::TooLong {
                hours: 25,
                max_hours: 24
            })
        );
        let backwards = Window::new_in(
            utc("2026-11-27 00:00"),
            utc("2026-11-26 23:00"),
            Jakarta,
            now(),
            &WindowRules::default(),
        );
        assert_eq!(
            backwards,
            Err(WindowError::EndNotAfterStart {
                start: "2026-11-27 07:00 WIB".into(),
                end: "2026-11-27 06:00 WIB".into()
            })
        );
    }

    #[test]
    fn a_lead_of_one_minute_is_one_minute() {
        assert_eq!(
            WindowError::TooSoon {
                min_lead_minutes: 1
            }
            .to_string(),
            "The start is too soon: the session must start at least 1 minute from now."
        );
    }

    #[test]
    fn windows_breaking_the_rules_are_refused_with_the_limit() {
        let new = |s: &str, e: &str| {
            let r = Window::new(utc(s), utc(e), now(), &WindowRules::default());
            r.map_err(|e| e.to_string())
        };
        assert!(
            new("2026-11-26 10:05", "2026-11-27 10:05").is_ok(),
            "exactly lead and maximum"
        );
        let too_soon = "The start is too soon: the session must start at least 5 minutes from now.";
        let passed = "The start 2026-11-26 09:00 UTC has already passed: \
                      the session must start at least 5 minutes from now.";
        let not_after =
            "The end 2026-11-26 11:00 UTC is not after the start 2026-11-26 12:00 UTC: \
                         a session must end after it starts.";
        let same = "The end 2026-11-26 12:00 UTC is not after the start 2026-11-26 12:00 UTC: \
                    a session must end after it starts.";
        let too_long = "The session would last about 25 hours: allowed at most 24 hours.";
        for (start, end, expected) in [
            ("2026-11-26 12:00", "2026-11-26 12:00", same),
            ("2026-11-26 12:00", "2026-11-26 11:00", not_after),
            ("2026-11-26 12:00", "2026-11-27 12:01", too_long),
            ("2026-11-26 10:04", "2026-11-26 12:00", too_soon),
            ("2026-11-26 09:00", "2026-11-26 12:00", passed),
            // A past start on a long window is the start's fault, not the length's.
            ("2026-11-26 09:00", "2026-11-30 12:00", passed),
            ("2026-11-26 10:04", "2026-11-30 12:00", too_soon),
        ] {
            assert_eq!(new(start, end), Err(expected.into()), "{start} to {end}");
        }
    }

    #[test]
    fn parse_reports_an_end_before_the_start_in_local_time() {
        let end = "2026-11-26 23:00 WIB".into();
        let start = "2026-11-27 10:00 WIB".into();
        let expected = Err(WindowError::EndNotAfterStart { start, end });
        assert_eq!(jakarta("tomorrow 10:00", "today 23:00"), expected);
    }

    #[test]
    fn a_start_earlier_today_has_passed_and_is_blamed_on_the_start() {
        let expected = Err(WindowError::StartPassed {
            start: "2026-11-26 16:00 WIB".into(),
            min_lead_minutes: 5,
        });
        assert_eq!(jakarta("16:00", "18:00"), expected);
        let long = jakarta("16:00", "2026-11-30 18:00").unwrap_err();
        assert_eq!(long.part(), Some(WindowPart::Start), "{long}");
        let backwards = jakarta("tomorrow 10:00", "today 23:00").unwrap_err();
        assert_eq!(backwards.part(), Some(WindowPart::End), "{backwards}");
    }

    #[test]
    fn the_nearest_free_windows_are_next_to_the_taken_ones_and_not_in_the_past() {
        let w = |s: &str, e: &str| Window::from_stored(utc(s), utc(e));
        let taken = [
            w("2026-11-27 10:00", "2026-11-27 12:00"),
            w("2026-11-27 12:30", "2026-11-27 14:00"),
        ];
        let wanted = w("2026-11-27 11:00", "2026-11-27 12:00");
        let free = nearest_free(&wanted, &taken, utc("2026-11-27 00:00"), 2);
        // 12:00-13:00 would overlap the second sale; 09:00-10:00 fits.
        assert_eq!(
            free,
            [
                w("2026-11-27 09:00", "2026-11-27 10:00"),
                w("2026-11-27 14:00", "2026-11-27 15:00")
            ]
        );
        let later = nearest_free(&wanted, &taken, utc("2026-11-27 09:30"), 2);
        assert_eq!(later, [w("2026-11-27 14:00", "2026-11-27 15:00")]);
    }

    #[test]
    fn stored_windows_skip_the_lead_time_check() {
        let w = Window::from_stored(utc("2020-01-01 00:00"), utc("2020-01-01 01:00"));
        assert_eq!(w.duration(), Duration::hours(1));
    }

    #[test]
    fn overlap_is_half_open() {
        let w = |s: &str, e: &str| Window::from_stored(utc(s), utc(e));
        let base = w("2026-11-27 10:00", "2026-11-27 12:00");
        for (other, expected) in [
            (w("2026-11-27 12:00", "2026-11-27 13:00"), false),
            (w("2026-11-27 08:00", "2026-11-27 10:00"), false),
            (w("2026-11-27 11:59", "2026-11-27 13:00"), true),
            (w("2026-11-27 10:30", "2026-11-27 11:00"), true),
            (w("2026-11-27 09:00", "2026-11-27 13:00"), true),
        ] {
            assert_eq!(base.overlaps(&other), expected, "{other:?}");
            assert_eq!(other.overlaps(&base), expected, "symmetric {other:?}");
        }
    }

    #[test]
    fn times_are_shown_with_the_zone_abbreviation() {
        let shown = |at, tz| format_local(utc(at), tz);
        assert_eq!(shown("2026-11-26 17:00", Jakarta), "2026-11-27 00:00 WIB");
        assert_eq!(shown("2026-07-01 16:00", New_York), "2026-07-01 12:00 EDT");
    }

    #[test]
    fn a_bad_format_message_lists_the_accepted_forms_and_the_zone() {
        let error = WindowError::BadFormat {
            input: "27/11 00:00".into(),
            tz: "Asia/Jakarta".into(),
        };
        let expected = "\"27/11 00:00\" is not a time I understand: use YYYY-MM-DD HH:MM, \
                        today HH:MM, tomorrow HH:MM or HH:MM (Asia/Jakarta time).";
        assert_eq!(error.to_string(), expected);
    }
}
