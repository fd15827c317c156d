//! Planning the week (issue 28): recurring slots, what covers each
//! occurrence, the coverage alarm, and the calendar feed. `plan` drafts the
//! sessions for a week's slots; `templates` keeps the saved sets of lines
//! they are filled from; `ics` writes the feed.
//!
//! An occurrence is **taken** when a session that may still run (draft,
//! pending approval, approved or live) overlaps it: `plan` leaves it alone.
//! It is **covered** only when an approved or live session overlaps it: until
//! then the alarm speaks, unless an approver marked it **skipped** with a
//! reason. Every session a plan drafts is an ordinary draft: the rules, four
//! eyes and the money guards apply to it as to one typed by hand.

mod ics;
mod plan;
mod refusal;
mod templates;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::json;

use super::{AppError, Desk, Operations, Queries};
use crate::chat::{Channel, Mention, Message, Text, TimeStyle};
use crate::domain::slot::due_reminder;
use crate::domain::{Actor, Occurrence, Reason, ReasonError, SlotSpec, Status};
use crate::store::week::{self, SessionSpan, SkipRecord, SlotRecord};

pub use plan::{PlanInput, PlanReport, PlanSource, PlannedDraft, SkippedSlot};
pub use refusal::WeekError;
pub use templates::{templates_text, TemplateFile, TemplateView};

/// How far ahead the alarm looks, and when before a slot it speaks
/// (`COVERAGE_HORIZON_HOURS`, `COVERAGE_REMINDER_HOURS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageSettings {
    pub horizon_hours: u32,
    /// Hours before the slot, e.g. 24 and 6.
    pub reminder_hours: Vec<u32>,
}

impl Default for CoverageSettings {
    fn default() -> Self {
        CoverageSettings {
            horizon_hours: 48,
            reminder_hours: vec![24, 6],
        }
    }
}

/// One occurrence of a slot and what holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccurrenceView {
    pub slot_id: i64,
    pub occurrence: Occurrence,
    pub coverage: Coverage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coverage {
    /// An approved or live session overlaps it.
    Covered { session: i64, status: Status },
    /// A draft or a session waiting for approval overlaps it: not covered yet.
    Waiting { session: i64, status: Status },
    /// Nothing overlaps it.
    Empty,
    /// An approver decided to leave it empty.
    Skipped { reason: String, by: String },
}

impl Coverage {
    /// True when the alarm should speak for it.
    pub fn is_uncovered(&self) -> bool {
        matches!(self, Coverage::Waiting { .. } | Coverage::Empty)
    }
}

impl OccurrenceView {
    /// `Thu 10 Dec 00:00–02:00 WIB (slot 1) · NOT COVERED: no session` and the like.
    pub fn describe(&self, tz: chrono_tz::Tz) -> String {
        let what = match &self.coverage {
            Coverage::Covered { session, status } => {
                format!("covered by #{session} ({})", status.label())
            }
            Coverage::Waiting { session, status } => {
                format!(
                    "NOT COVERED: #{session} is {}",
                    status.label().to_lowercase()
                )
            }
            Coverage::Empty => "NOT COVERED: no session".to_owned(),
            Coverage::Skipped { reason, by } => format!("skipped by {by}: {reason}"),
        };
        format!(
            "{} (slot {}) · {what}",
            self.occurrence.label(tz),
            self.slot_id
        )
    }
}

/// The slots in force and what holds each occurrence ahead.
#[derive(Debug, Clone)]
pub struct SlotsView {
    pub slots: Vec<SlotRecord>,
    /// Occurrences starting within the horizon, in start order.
    pub upcoming: Vec<OccurrenceView>,
    pub horizon_hours: u32,
    pub time_zone: chrono_tz::Tz,
}

impl SlotsView {
    /// The answer to `slots`, the same on every platform.
    pub fn text(&self) -> Text {
        if self.slots.is_empty() {
            return Text::from("No slots are declared. An approver declares one with ")
                .command(
                    "slot add",
                    &[
                        ("days", "daily".to_owned()),
                        ("start", "00:00".to_owned()),
                        ("end", "02:00".to_owned()),
                    ],
                )
                .plain(".");
        }
        let mut text = Text::from(format!("Flash-sale slots ({}):", self.time_zone.name()));
        for slot in &self.slots {
            text = text.line(Text::from(format!(
                "  slot {} · {} · declared by {}",
                slot.id, slot.spec, slot.created_by_name
            )));
        }
        text = text.line(Text::from(format!(
            "The next {} hours:",
            self.horizon_hours
        )));
        if self.upcoming.is_empty() {
            text = text.line(Text::from("  no slot starts in that time."));
        }
        for o in &self.upcoming {
            text = text.line(Text::from(format!("  {}", o.describe(self.time_zone))));
        }
        text
    }
}

/// The uncovered occurrences as lines under a calendar or a digest; `None`
/// when every slot ahead is covered or skipped.
pub fn uncovered_text(uncovered: &[OccurrenceView], tz: chrono_tz::Tz) -> Option<Text> {
    let open: Vec<&OccurrenceView> = uncovered
        .iter()
        .filter(|o| o.coverage.is_uncovered())
        .collect();
    if open.is_empty() {
        return None;
    }
    let mut text = Text::from(format!("Slots without an approved sale ({}):", open.len()));
    for o in open {
        text = text.line(Text::from(format!("  ⚠ {}", o.describe(tz))));
    }
    Some(text)
}

impl Desk {
    /// Declares a recurring slot (approvers).
    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    pub async fn declare_slot(
        &self,
        actor: &Actor,
        days: &str,
        start: &str,
        end: &str,
    ) -> Result<Text, AppError> {
        if !actor.roles.approver {
            return Err(WeekError::NotApprover.into());
        }
        let spec = SlotSpec::parse(days, start, end).map_err(WeekError::from)?;
        let mut tx = self.core.pool.begin().await?;
        let Some(id) = week::insert_slot(&mut tx, &spec, actor).await? else {
            return Err(WeekError::SlotExists(spec.to_string()).into());
        };
        week::log_slot(
            &mut tx,
            id,
            actor,
            "declared",
            json!({ "slot": spec.to_string() }),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(slot = id, %spec, "slot declared");
        Ok(Text::from(format!(
            "Declared slot {id}: {spec} ({}). Plan it with ",
            self.core.policy.time_zone.name()
        ))
        .command("plan", &[])
        .plain("."))
    }

    /// Removes a slot (approvers); its sessions stay as they are.
    #[tracing::instrument(skip_all, fields(actor = %actor.id, slot = id))]
    pub async fn remove_slot(&self, actor: &Actor, id: i64) -> Result<Text, AppError> {
        if !actor.roles.approver {
            return Err(WeekError::NotApprover.into());
        }
        let mut tx = self.core.pool.begin().await?;
        if !week::remove_slot(&mut tx, id, actor).await? {
            return Err(WeekError::SlotNotFound(id).into());
        }
        week::log_slot(&mut tx, id, actor, "removed", json!({})).await?;
        tx.commit().await?;
        tracing::info!(slot = id, "slot removed");
        Ok(Text::from(format!(
            "Removed slot {id}. Its sessions stay as they are; the alarm no longer watches it."
        )))
    }

    /// Marks the occurrence of slot `id` that starts on the local `date` as
    /// skipped, with a reason (approvers): the alarm leaves it alone.
    #[tracing::instrument(skip_all, fields(actor = %actor.id, slot = id))]
    pub async fn skip_slot(
        &self,
        actor: &Actor,
        id: i64,
        date: &str,
        reason: &str,
    ) -> Result<Text, AppError> {
        if !actor.roles.approver {
            return Err(WeekError::NotApprover.into());
        }
        let reason = match Reason::parse(reason) {
            Ok(reason) => reason,
            Err(ReasonError::Empty) => return Err(WeekError::SkipReasonRequired.into()),
            Err(e) => return Err(WeekError::Reason(e).into()),
        };
        let day = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
            .map_err(|_| WeekError::BadDate(date.chars().take(40).collect()))?;
        let tz = self.core.policy.time_zone;
        let mut tx = self.core.pool.begin().await?;
        let slot = week::slots(&mut tx)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(WeekError::SlotNotFound(id))?;
        let occurrence = slot
            .spec
            .on(day, tz)
            .ok_or_else(|| WeekError::NoOccurrence {
                slot: id,
                spec: slot.spec.to_string(),
                date: day.format("%a %d %b %Y").to_string(),
                days: slot.spec.days().to_string(),
            })?;
        let label = occurrence.label(tz);
        if occurrence.starts_at <= self.core.clock.now() {
            return Err(WeekError::SkipTooLate(label).into());
        }
        if !week::insert_skip(&mut tx, id, occurrence.starts_at, reason.as_str(), actor).await? {
            return Err(WeekError::AlreadySkipped(label).into());
        }
        week::log_slot(
            &mut tx,
            id,
            actor,
            "skipped",
            json!({ "starts_at": occurrence.starts_at, "reason": reason.as_str() }),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(slot = id, starts_at = %occurrence.starts_at, reason = reason.as_str(), "slot skipped");
        Ok(Text::from(format!(
            "Skipped {label} (slot {id}): no alarm for it. Reason: {}",
            reason.as_str()
        )))
    }
}

impl Queries {
    /// The slots and what holds each occurrence in the coverage horizon.
    pub async fn slots(&self) -> Result<SlotsView, AppError> {
        let now = self.core.clock.now();
        let horizon = self.core.coverage.horizon_hours;
        let to = now + Duration::hours(i64::from(horizon));
        let mut conn = self.core.pool.acquire().await?;
        let slots = week::slots(&mut conn).await?;
        let upcoming =
            occurrences_between(&mut conn, &slots, self.core.policy.time_zone, now, to).await?;
        Ok(SlotsView {
            slots,
            upcoming,
            horizon_hours: horizon,
            time_zone: self.core.policy.time_zone,
        })
    }
}

impl super::Core {
    /// Occurrences in `[from, to)` not covered by an approved or live
    /// session nor skipped, capped to the coverage horizon from now.
    pub(super) async fn uncovered_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<OccurrenceView>, AppError> {
        let now = self.clock.now();
        let from = from.max(now);
        let to = to.min(now + Duration::hours(i64::from(self.coverage.horizon_hours)));
        if from >= to {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.acquire().await?;
        let slots = week::slots(&mut conn).await?;
        Ok(
            occurrences_between(&mut conn, &slots, self.policy.time_zone, from, to)
                .await?
                .into_iter()
                .filter(|o| o.coverage.is_uncovered())
                .collect(),
        )
    }
}

/// Every occurrence of `slots` starting in `[from, to)`, with what holds it.
async fn occurrences_between(
    conn: &mut sqlx::PgConnection,
    slots: &[SlotRecord],
    tz: chrono_tz::Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<OccurrenceView>, AppError> {
    let mut found: Vec<(i64, Occurrence)> = slots
        .iter()
        .flat_map(|s| {
            s.spec
                .occurrences(tz, from, to)
                .into_iter()
                .map(move |o| (s.id, o))
        })
        .collect();
    found.sort_by_key(|(id, o)| (o.starts_at, *id));
    let Some(last_end) = found.iter().map(|(_, o)| o.ends_at).max() else {
        return Ok(Vec::new());
    };
    let sessions = week::sessions_overlapping(conn, from, last_end).await?;
    let skips = week::skips_between(conn, from, to).await?;
    Ok(found
        .into_iter()
        .map(|(slot_id, occurrence)| OccurrenceView {
            slot_id,
            coverage: coverage_of(slot_id, &occurrence, &sessions, &skips),
            occurrence,
        })
        .collect())
}

/// What holds an occurrence: an approved or live session first, then a
/// skip, then a session still on its way.
fn coverage_of(
    slot_id: i64,
    o: &Occurrence,
    sessions: &[SessionSpan],
    skips: &[SkipRecord],
) -> Coverage {
    let overlapping = || {
        sessions
            .iter()
            .filter(|s| s.starts_at < o.ends_at && o.starts_at < s.ends_at)
    };
    if let Some(s) = overlapping().find(|s| matches!(s.status, Status::Approved | Status::Live)) {
        return Coverage::Covered {
            session: s.id,
            status: s.status,
        };
    }
    if let Some(skip) = skips
        .iter()
        .find(|k| k.slot_id == slot_id && k.starts_at == o.starts_at)
    {
        return Coverage::Skipped {
            reason: skip.reason.clone(),
            by: skip.skipped_by_name.clone(),
        };
    }
    match overlapping().find(|s| matches!(s.status, Status::Draft | Status::PendingApproval)) {
        Some(s) => Coverage::Waiting {
            session: s.id,
            status: s.status,
        },
        None => Coverage::Empty,
    }
}

impl Operations {
    /// The coverage alarm: for every occurrence in the horizon that is not
    /// covered nor skipped, the latest reminder whose time has come by the
    /// database's clock is posted under the key
    /// `coverage:<slot>:<start>:<hours>h`. Every replica may run it at any
    /// time: the outbox keeps one post per key (`post_unattached`), so each
    /// slot and reminder time is announced once. Returns the reminders due
    /// (posted now or before).
    pub async fn check_coverage(&self) -> Result<usize, AppError> {
        let now = crate::store::db_now(&self.core.pool).await?;
        let settings = &self.core.coverage;
        let to = now + Duration::hours(i64::from(settings.horizon_hours));
        let tz = self.core.policy.time_zone;
        let open = {
            let mut conn = self.core.pool.acquire().await?;
            let slots = week::slots(&mut conn).await?;
            occurrences_between(&mut conn, &slots, tz, now, to).await?
        };
        let mut due = 0;
        for o in open.iter().filter(|o| o.coverage.is_uncovered()) {
            let Some(hours) = due_reminder(o.occurrence.starts_at, now, &settings.reminder_hours)
            else {
                continue;
            };
            due += 1;
            let event = format!(
                "coverage:{}:{}:{hours}h",
                o.slot_id,
                o.occurrence.starts_at.timestamp()
            );
            let message = coverage_message(o, tz, &event);
            self.post_unattached(&event, Channel::Announcements, &message)
                .await?;
        }
        Ok(due)
    }
}

/// The alarm for one occurrence: what is missing and what to do, to editors and approvers.
fn coverage_message(o: &OccurrenceView, tz: chrono_tz::Tz, key: &str) -> Message {
    let missing = match &o.coverage {
        Coverage::Waiting { session, status } => format!(
            "#{session} is {} and not approved yet",
            status.label().to_lowercase()
        ),
        _ => "there is no session for it".to_owned(),
    };
    let text = Text::from(format!(
        "No approved flash sale for the slot {} (slot {}, starts ",
        o.occurrence.label(tz),
        o.slot_id
    ))
    .time(o.occurrence.starts_at, TimeStyle::Relative)
    .plain(format!("): {missing}. Draft it with "))
    .command("plan", &[("days", "2".to_owned())])
    .plain(", or skip it with ")
    .command(
        "slot skip",
        &[
            ("slot", o.slot_id.to_string()),
            ("date", o.occurrence.local_date.to_string()),
            ("reason", "\"...\"".to_owned()),
        ],
    )
    .plain(".");
    Message {
        text,
        mentions: vec![Mention::Editors, Mention::Approvers],
        dedupe_key: Some(key.to_owned()),
        ..Message::default()
    }
}
