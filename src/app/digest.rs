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

use super::calendar::digest_text;
use super::pictures;
use super::{AppError, ListRange, Operations, PrunedWork};
use crate::catalog::Freshness;
use crate::chat::{Channel, Mention, Message, Picture, Text};
use crate::domain::Status;

impl Operations {
    /// Prunes what is past its retention (`prune`), then writes today's digest
    /// for the chat unless another replica already did, and posts it if nobody
    /// else is.
    pub async fn post_digest(&self) {
        self.prune().await;
        match self.observe_upcoming_prices().await {
            Ok(observed) => tracing::info!(observed, "observed the prices of upcoming SKUs"),
            Err(e) => tracing::warn!(error = %e, "could not observe the prices of upcoming SKUs"),
        }
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
        let mut text = digest_text(&sessions);
        match self.overrides_within(Duration::days(1)).await {
            Ok(0) => {}
            Ok(n) => {
                let noun = if n == 1 { "override" } else { "overrides" };
                text = text.line(Text::from(format!(
                    "Money guards: {n} {noun} given by approvers in the last 24 hours (see each session's log)."
                )));
            }
            Err(e) => tracing::warn!(error = %e, "could not count the money guards' overrides"),
        }
        // The slots ahead without an approved sale: said plainly, to the people who can fix it.
        let mut mentions = Vec::new();
        let now = self.core.clock.now();
        match self
            .core
            .uncovered_between(now, now + Duration::days(3650))
            .await
        {
            Ok(open) => {
                if let Some(uncovered) = super::week::uncovered_text(&open, tz) {
                    text = text.line(uncovered);
                    mentions = vec![Mention::Editors, Mention::Approvers];
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not read the slots for the digest"),
        }
        let message = Message {
            text,
            mentions,
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
        match self.prune_price_history().await {
            Ok(pruned) => tracing::info!(pruned, "pruned old price observations"),
            Err(e) => tracing::warn!(error = %e, "could not prune old price observations"),
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
    /// The daily observation: reads, live, the prices of the SKUs in
    /// sessions still ahead and records them in the price history, so a SKU
    /// nobody edits still has a history when its sale is checked. Returns
    /// how many products were read.
    pub async fn observe_upcoming_prices(&self) -> Result<usize, AppError> {
        let skus = {
            let mut conn = self.core.pool.acquire().await?;
            crate::store::prices::upcoming_skus(&mut conn).await?
        };
        if skus.is_empty() {
            return Ok(0);
        }
        let products = self.core.products(&skus, Freshness::Live).await?;
        self.core.record_prices(products.values()).await;
        Ok(products.len())
    }

    /// Housekeeping: forgets price observations past the longest window a
    /// money guard reads (each SKU keeps the last one before it: the price
    /// in effect when that window begins). Returns how many.
    pub async fn prune_price_history(&self) -> Result<u64, AppError> {
        let rules = &self.core.policy.guards;
        let days = rules.reference_days.max(rules.raised_days);
        let days = i32::try_from(days).unwrap_or(i32::MAX);
        let mut conn = self.core.pool.acquire().await?;
        Ok(crate::store::prices::prune(&mut conn, days).await?)
    }

    /// How many overrides approvers gave within the last `within` (by the
    /// database's clock, which stamped them), for the digest.
    pub async fn overrides_within(&self, within: Duration) -> Result<i64, AppError> {
        let mut conn = self.core.pool.acquire().await?;
        Ok(crate::store::overrides::count_within(&mut conn, within).await?)
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
