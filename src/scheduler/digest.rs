//! When the daily digest goes out: a cron job in the business time zone that
//! asks `Operations::post_digest` (in `app::digest`, with what it says and
//! why every replica may run it).

use chrono_tz::Tz;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};

use crate::app::Operations;

/// Starts the cron job; keep the returned scheduler alive (and shut it down on exit).
pub async fn start(
    operations: Operations,
    cron: &str,
    time_zone: Tz,
) -> Result<JobScheduler, JobSchedulerError> {
    let scheduler = JobScheduler::new().await?;
    let job = Job::new_async_tz(cron, time_zone, move |_, _| {
        let operations = operations.clone();
        Box::pin(async move { operations.post_digest().await })
    })?;
    scheduler.add(job).await?;
    scheduler.start().await?;
    Ok(scheduler)
}
