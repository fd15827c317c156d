//! The daily digest (the scheduler runs it at its cron time, `scheduler::digest`): today's and tomorrow's sessions, their status and the
//! empty slots, posted at a cron time in the business time zone, with the two
//! days drawn as a timeline (`render::DaySheet`).
//!
//! Every replica runs the cron, and each writes the day's digest to the
//! outbox under the key `digest:<date>` (`Operations::post_unattached`): the
//! first write wins, and the post is recorded as the day's digest only once
//! the chat took it. Whoever wrote it posts it at once when it can; if the
//! chat is out at cron time, the schedulers deliver it when the chat is back,
//! once, on one replica (before, the day was claimed first and posted after,
//! so an outage at cron time lost that day's digest). It says what the
//! sessions were at cron time. The same job is the daily housekeeping: it
//! prunes `processed_event` past its retention, and finished jobs and
//! delivered posts past `QUEUE_RETENTION_DAYS` (`store::housekeeping`; every
//! replica may, deleting twice is harmless).

use std::sync::Arc;

use chrono::{Duration, NaiveTime, TimeZone, Utc};

use super::calendar::calendar;
use super::pictures;
use super::{AppError, ListRange, Operations, PrunedWork, SessionSummaryView};
use crate::chat::{Channel, Message, Picture, Text, TimeStyle};
use crate::domain::Status;

impl Operations {
    /// Prunes what is past its retention (`prune`), then writes today's digest
    /// for the chat unless another replica already did, and posts it if nobody
    /// else is.
    pub async fn post_digest(&self) {
        self.prune().await;
        let tz = self.core.policy.time_zone;
        let today = self.core.clock.now().with_timezone(&tz).date_naive();
        let midnight = today.and_time(NaiveTime::MIN);
        let from = tz
            .from_local_datetime(&midnight)
            .earliest()
            .map_or_else(|| self.core.clock.now(), |t| t.with_timezone(&Utc));
        let sessions = match self
            .core
            .list(ListRange::Between(from, from + Duration::days(2)))
            .await
        {
            Ok(sessions) => sessions,
            Err(e) => {
                tracing::warn!(error = %e, "could not list sessions for the digest");
                return;
            }
        };
        let message = Message {
            text: digest_text(&sessions),
            picture: Some(Picture::Day(Arc::new(pictures::day_sheet(
                today, &sessions,
            )))),
            dedupe_key: Some(format!("digest:{today}")),
            ..Message::default()
        };
        let event = format!("digest:{today}");
        if let Err(e) = self
            .post_unattached(&event, Channel::Announcements, &message)
            .await
        {
            tracing::warn!(error = %e, "could not write the daily digest for the chat");
        }
    }

    /// Forgets handled events, finished jobs and delivered posts past their
    /// retention; a failure is only logged (the tables just grow until the
    /// next day).
    pub async fn prune(&self) {
        match self.prune_processed_events().await {
            Ok(pruned) => tracing::info!(pruned, "pruned old handled events"),
            Err(e) => tracing::warn!(error = %e, "could not prune old handled events"),
        }
        match self.prune_finished_work().await {
            Ok(pruned) => tracing::info!(
                jobs = pruned.jobs,
                posts = pruned.posts,
                retention_days = self.queue_retention_days,
                "pruned finished jobs and delivered posts"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "could not prune finished jobs and delivered posts")
            }
        }
    }
}

impl Operations {
    /// Housekeeping: forgets handled events older than their retention
    /// (`store::events::RETENTION_DAYS`); returns how many.
    pub async fn prune_processed_events(&self) -> Result<u64, AppError> {
        let mut conn = self.core.pool.acquire().await?;
        Ok(crate::store::events::prune(&mut conn).await?)
    }

    /// Housekeeping: deletes finished jobs and delivered (or refused) posts
    /// of settled sessions older than the queue retention
    /// (`store::housekeeping` says which rows may go); returns how many.
    /// Batch by batch, so a large first prune holds no long locks.
    pub async fn prune_finished_work(&self) -> Result<PrunedWork, AppError> {
        use crate::store::housekeeping::{prune_jobs, prune_outbox, BATCH};
        // The domain says which statuses nothing leads out of; a status
        // added later is kept until it is declared final there.
        let final_statuses: Vec<&str> = Status::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .map(Status::as_str)
            .collect();
        let days = i32::try_from(self.queue_retention_days).unwrap_or(i32::MAX);
        let mut pruned = PrunedWork::default();
        loop {
            let n = prune_jobs(&self.core.pool, days, &final_statuses, BATCH).await?;
            pruned.jobs += n;
            if n < u64::from(BATCH) {
                break;
            }
        }
        loop {
            let n = prune_outbox(&self.core.pool, days, &final_statuses, BATCH).await?;
            pruned.posts += n;
            if n < u64::from(BATCH) {
                break;
            }
        }
        Ok(pruned)
    }
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

    fn session(id: i64, from_hour: i64, to_hour: i64, status: Status) -> SessionSummaryView {
        let base = Utc
            .with_ymd_and_hms(2030, 1, 2, 0, 0, 0)
            .single()
            .expect("a time");
        let starts = base + Duration::hours(from_hour);
        let window = Window::new(
            starts,
            base + Duration::hours(to_hour),
            base - Duration::days(1),
            &WindowRules::default(),
        )
        .expect("a window");
        SessionSummaryView {
            id,
            title: format!("S{id}"),
            window,
            status,
            item_count: 6,
            approval_deadline: starts - Duration::hours(1),
            ended_at: None,
        }
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
