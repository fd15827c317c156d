//! The daily digest: today's and tomorrow's sessions, their status and the
//! empty slots, posted at a cron time in the business time zone, with the two
//! days drawn as a timeline (`render::DaySheet`); its words are
//! `app::calendar::digest_text`.
//!
//! Every replica runs the cron, and each writes the day's digest to the
//! outbox under the key `digest:<date>` (`FlashSales::post_unattached`): the
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
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};

use crate::app::calendar::digest_text;
use crate::app::pictures;
use crate::app::{FlashSales, ListRange};
use crate::chat::{Channel, Message, Picture};

/// Starts the cron job; keep the returned scheduler alive (and shut it down on exit).
pub async fn start(app: FlashSales, cron: &str) -> Result<JobScheduler, JobSchedulerError> {
    let scheduler = JobScheduler::new().await?;
    let tz = app.policy().time_zone;
    let job = Job::new_async_tz(cron, tz, move |_, _| {
        let app = app.clone();
        Box::pin(async move { post_digest(&app).await })
    })?;
    scheduler.add(job).await?;
    scheduler.start().await?;
    Ok(scheduler)
}

/// Prunes what is past its retention (`prune`), then writes today's digest
/// for the chat unless another replica already did, and posts it if nobody
/// else is.
pub async fn post_digest(app: &FlashSales) {
    prune(app).await;
    let tz = app.policy().time_zone;
    let today = app.clock().now().with_timezone(&tz).date_naive();
    let midnight = today.and_time(NaiveTime::MIN);
    let from = tz
        .from_local_datetime(&midnight)
        .earliest()
        .map_or_else(|| app.clock().now(), |t| t.with_timezone(&Utc));
    let sessions = match app
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
    if let Err(e) = app
        .post_unattached(&event, Channel::Announcements, &message)
        .await
    {
        tracing::warn!(error = %e, "could not write the daily digest for the chat");
    }
}

/// Forgets handled events, finished jobs and delivered posts past their
/// retention; a failure is only logged (the tables just grow until the
/// next day).
pub async fn prune(app: &FlashSales) {
    match app.prune_processed_events().await {
        Ok(pruned) => tracing::info!(pruned, "pruned old handled events"),
        Err(e) => tracing::warn!(error = %e, "could not prune old handled events"),
    }
    match app.prune_finished_work().await {
        Ok(pruned) => tracing::info!(
            jobs = pruned.jobs,
            posts = pruned.posts,
            retention_days = app.queue_retention_days(),
            "pruned finished jobs and delivered posts"
        ),
        Err(e) => tracing::warn!(error = %e, "could not prune finished jobs and delivered posts"),
    }
}
