//! `plan`: one command drafts a session for every slot of a week (or the
//! next N days) that has none yet, each filled from a template or from the
//! session in the same slot a week earlier, and says what it made and what it
//! left alone, and why.
//!
//! Each draft goes through the same way in as a typed one (`intake`), and
//! each line through `add_item` (`paste::add_lines`), so a SKU gone inactive
//! or short of stock is left out and named with the usual refusal, and the
//! draft is still made. Plans are serialised by a transaction-scoped advisory
//! lock held while one runs: two editors planning at once would otherwise
//! each see a slot free and both draft it.

use chrono::Days;

use super::{templates, WeekError};
use crate::app::intake::{DraftText, When};
use crate::app::paste::BatchLine;
use crate::app::{AppError, Desk, LineOutcome, NewItem};
use crate::chat::Text;
use crate::domain::status::start_draft;
use crate::domain::{Actor, Occurrence, PlanRange, Status, TemplateName};
use crate::store::week::{self, SessionSpan, TemplateLine};

/// The advisory lock key plans take (`pg_try_advisory_xact_lock`); any
/// constant no other lock in the bot uses.
const PLAN_LOCK: i64 = 0x706c_616e; // "plan"

/// What `plan` was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanInput {
    pub range: PlanRange,
    pub source: PlanSource,
}

/// What a planned draft is filled from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanSource {
    Template(TemplateName),
    /// The session in the same slot seven local days earlier.
    LastWeek,
}

impl PlanInput {
    /// From the options as typed: `week:`/`days:`, and `template:` or `from:last-week`.
    pub fn parse(
        week: Option<&str>,
        days: Option<&str>,
        template: Option<&str>,
        from: Option<&str>,
        today: chrono::NaiveDate,
    ) -> Result<PlanInput, WeekError> {
        let range = PlanRange::parse(week, days, today)?;
        let source = match (template, from.map(|f| f.trim().to_ascii_lowercase())) {
            (Some(name), None) => PlanSource::Template(TemplateName::parse(name)?),
            (None, Some(f)) if f == "last-week" || f == "last week" => PlanSource::LastWeek,
            (None, Some(f)) => return Err(WeekError::BadPlanSource(f.chars().take(40).collect())),
            _ => return Err(WeekError::PlanSource),
        };
        Ok(PlanInput { range, source })
    }
}

/// One draft a plan made.
#[derive(Debug)]
pub struct PlannedDraft {
    pub session_id: i64,
    pub slot_id: i64,
    pub occurrence: Occurrence,
    /// Where the lines came from (`template midnight`, `#12`), or why there were none.
    pub filled_from: String,
    pub lines: Vec<LineOutcome>,
}

/// One slot a plan left alone, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedSlot {
    pub slot_id: i64,
    pub occurrence: Occurrence,
    pub why: String,
}

/// What `plan` did.
#[derive(Debug)]
pub struct PlanReport {
    pub created: Vec<PlannedDraft>,
    pub skipped: Vec<SkippedSlot>,
    pub first: chrono::NaiveDate,
    pub last: chrono::NaiveDate,
    pub time_zone: chrono_tz::Tz,
}

impl PlanReport {
    /// The summary every platform shows.
    pub fn text(&self) -> Text {
        let tz = self.time_zone;
        let mut text = Text::from(format!(
            "Planned {} to {}: {} drafted, {} left alone.",
            self.first.format("%a %d %b"),
            self.last.format("%a %d %b %Y"),
            self.created.len(),
            self.skipped.len()
        ));
        for d in &self.created {
            let added = d.lines.iter().filter(|l| l.result.is_ok()).count();
            text = text.line(Text::from(format!(
                "  ✓ #{} {} (slot {}) · {added} of {} lines from {}",
                d.session_id,
                d.occurrence.label(tz),
                d.slot_id,
                d.lines.len(),
                d.filled_from
            )));
            for line in &d.lines {
                if let Err(e) = &line.result {
                    text = text.line(Text::from(format!(
                        "      left out {}: {}",
                        line.sku,
                        e.message()
                            .render(|at, _| crate::domain::window::format_local(at, tz))
                    )));
                }
            }
        }
        for s in &self.skipped {
            text = text.line(Text::from(format!(
                "  · {} (slot {}) · {}",
                s.occurrence.label(tz),
                s.slot_id,
                s.why
            )));
        }
        if !self.created.is_empty() {
            text = text.line(
                Text::from("Each is a draft: check it, fill what was left out, then ")
                    .command("submit", &[("session", "<n>".to_owned())])
                    .plain(" as usual."),
            );
        }
        text
    }
}

impl Desk {
    /// Drafts a session for every slot occurrence in the range that starts
    /// ahead and has none, filled from the plan's source (editors).
    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    pub async fn plan(&self, actor: &Actor, input: &PlanInput) -> Result<PlanReport, AppError> {
        start_draft(actor.roles).map_err(|_| WeekError::NotEditor)?;
        let tz = self.core.policy.time_zone;
        let now = self.core.clock.now();
        let today = now.with_timezone(&tz).date_naive();
        let (first, last) = input.range.dates(today);

        // Held until the plan is done, then let go explicitly (below).
        let mut lock = self.core.pool.begin().await?;
        let got: bool = sqlx::query_scalar("select pg_try_advisory_xact_lock($1)")
            .bind(PLAN_LOCK)
            .fetch_one(&mut *lock)
            .await?;
        if !got {
            lock.rollback().await?;
            return Err(WeekError::PlanBusy.into());
        }
        let planned = self.plan_locked(actor, input, first, last).await;
        // Let the lock go now, whatever happened: a transaction merely dropped
        // rolls back only when its connection is next used, and until then the
        // pool holds the lock and the next plan would be told someone plans.
        lock.rollback().await?;
        let report = planned?;
        tracing::info!(
            created = report.created.len(),
            skipped = report.skipped.len(),
            "week planned"
        );
        Ok(report)
    }

    /// The plan itself, run while this process holds the plan lock.
    async fn plan_locked(
        &self,
        actor: &Actor,
        input: &PlanInput,
        first: chrono::NaiveDate,
        last: chrono::NaiveDate,
    ) -> Result<PlanReport, AppError> {
        let tz = self.core.policy.time_zone;
        let now = self.core.clock.now();
        let mut conn = self.core.pool.acquire().await?;
        let slots = week::slots(&mut conn).await?;
        if slots.is_empty() {
            return Err(WeekError::NoSlots.into());
        }
        let template = match &input.source {
            PlanSource::Template(name) => Some((name, templates::lines_of(&mut conn, name).await?)),
            PlanSource::LastWeek => None,
        };
        let mut occurrences: Vec<(i64, Occurrence)> = Vec::new();
        let mut day = first;
        while day <= last {
            for slot in &slots {
                if let Some(o) = slot.spec.on(day, tz) {
                    occurrences.push((slot.id, o));
                }
            }
            day = match day.succ_opt() {
                Some(next) => next,
                None => break,
            };
        }
        occurrences.sort_by_key(|(id, o)| (o.starts_at, *id));
        let (Some(from), Some(to)) = (
            occurrences.iter().map(|(_, o)| o.starts_at).min(),
            occurrences.iter().map(|(_, o)| o.ends_at).max(),
        ) else {
            return Ok(PlanReport {
                created: Vec::new(),
                skipped: Vec::new(),
                first,
                last,
                time_zone: tz,
            });
        };
        let mut sessions = week::sessions_overlapping(&mut conn, from, to).await?;
        let skips = week::skips_between(&mut conn, from, to + chrono::Duration::seconds(1)).await?;
        drop(conn);

        let mut report = PlanReport {
            created: Vec::new(),
            skipped: Vec::new(),
            first,
            last,
            time_zone: tz,
        };
        for (slot_id, o) in occurrences {
            let skip = |why: String| SkippedSlot {
                slot_id,
                occurrence: o,
                why,
            };
            if o.starts_at <= now {
                report.skipped.push(skip("already started".to_owned()));
                continue;
            }
            if let Some(k) = skips
                .iter()
                .find(|k| k.slot_id == slot_id && k.starts_at == o.starts_at)
            {
                report.skipped.push(skip(format!(
                    "skipped by {}: {}",
                    k.skipped_by_name, k.reason
                )));
                continue;
            }
            if let Some(s) = sessions.iter().find(|s| {
                s.starts_at < o.ends_at && o.starts_at < s.ends_at && !s.status.is_final()
            }) {
                report
                    .skipped
                    .push(skip(format!("taken by #{} ({})", s.id, s.status.label())));
                continue;
            }
            let (title, filled_from, lines) = match &template {
                Some((name, lines)) => (
                    format!(
                        "{name} · {}",
                        o.starts_at.with_timezone(&tz).format("%a %d %b %H:%M")
                    ),
                    format!("template {name}"),
                    lines.clone(),
                ),
                None => match self.last_week(slot_id, &o).await? {
                    Some((id, title, lines)) => (title, format!("#{id}"), lines),
                    None => (
                        format!(
                            "Flash sale · {}",
                            o.starts_at.with_timezone(&tz).format("%a %d %b %H:%M")
                        ),
                        "nowhere: no session in this slot a week earlier".to_owned(),
                        Vec::new(),
                    ),
                },
            };
            let notes = format!("Planned for slot {slot_id} from {filled_from}");
            let drafted = self
                .draft_from(
                    actor,
                    DraftText {
                        title: &title,
                        when: When::Instants {
                            starts_at: o.starts_at,
                            ends_at: o.ends_at,
                        },
                        notes: Some(&notes),
                    },
                )
                .await;
            let draft = match drafted {
                Ok(draft) => draft,
                Err(e @ AppError::Unexpected { .. }) => return Err(e),
                Err(refused) => {
                    let why = refused
                        .message()
                        .render(|at, _| crate::domain::window::format_local(at, tz));
                    report.skipped.push(skip(format!("not drafted: {why}")));
                    continue;
                }
            };
            sessions.push(SessionSpan {
                id: draft.id,
                status: Status::Draft,
                starts_at: o.starts_at,
                ends_at: o.ends_at,
            });
            let batch: Vec<BatchLine> = lines
                .into_iter()
                .enumerate()
                .map(|(i, l)| BatchLine {
                    line_no: i + 1,
                    sku: l.sku.to_string(),
                    item: Ok(NewItem {
                        sku: l.sku,
                        discount: l.discount,
                        quantity: l.quantity,
                    }),
                })
                .collect();
            let lines = if batch.is_empty() {
                Vec::new()
            } else {
                self.add_lines(actor, draft.id, batch).await?.lines
            };
            report.created.push(PlannedDraft {
                session_id: draft.id,
                slot_id,
                occurrence: o,
                filled_from,
                lines,
            });
        }
        Ok(report)
    }

    /// The session in the same slot seven local days before `o`: its id,
    /// title and lines. An approved, live or ended one first (it ran, or
    /// was about to), then the newest other; cancelled, expired and failed
    /// ones count too, since their lines were once chosen for this slot.
    async fn last_week(
        &self,
        slot_id: i64,
        o: &Occurrence,
    ) -> Result<Option<(i64, String, Vec<TemplateLine>)>, AppError> {
        let tz = self.core.policy.time_zone;
        let mut conn = self.core.pool.acquire().await?;
        let slots = week::slots(&mut conn).await?;
        let Some(slot) = slots.iter().find(|s| s.id == slot_id) else {
            return Ok(None);
        };
        let Some(before) = o
            .local_date
            .checked_sub_days(Days::new(7))
            .and_then(|d| slot.spec.on(d, tz))
        else {
            return Ok(None);
        };
        let candidates =
            week::sessions_overlapping(&mut conn, before.starts_at, before.ends_at).await?;
        drop(conn);
        let rank = |s: &SessionSpan| {
            let ran = matches!(s.status, Status::Approved | Status::Live | Status::Ended);
            (s.starts_at == before.starts_at, ran, s.id)
        };
        let Some(best) = candidates.iter().max_by_key(|s| rank(s)) else {
            return Ok(None);
        };
        let view = self.core.view(best.id).await?;
        let lines = view
            .items
            .iter()
            .map(|i| TemplateLine {
                sku: i.sku.clone(),
                discount: i.discount,
                quantity: i.quantity,
            })
            .collect();
        Ok(Some((view.id, view.title, lines)))
    }
}
