//! The one writer per sale, as the scheduler uses it.
//!
//! Every storefront write (the publish, end and repair jobs, and the
//! take-downs they make) happens inside a [`Section`]: the session's
//! writer lock (`store::sale`), held from before the decision until the
//! outcome is recorded. Inside it the writer reads the session as committed
//! right now ([`Section::facts`]), lets `domain::sale` decide, and sends a
//! write whose revision ([`Scheduler::job_write`]) the storefront uses to
//! refuse anything older than what it applied.
//!
//! A process holds at most half its pool in sections: a writer needs a
//! second connection for what it records while its section holds one, and
//! sections all waiting for a connection their peers hold would stall.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Scheduler;
use crate::app::AppError;
use crate::domain::sale::SaleFacts;
use crate::domain::Window;
use crate::store::jobs::{self, ClaimedJob};
use crate::store::sale::WriterSection;
use crate::store::PgPool;
use crate::storefront::SaleWrite;

/// How many sections this process may hold at once.
pub(super) fn section_permits(pool: &PgPool) -> Arc<Semaphore> {
    let max = pool.options().get_max_connections() as usize;
    Arc::new(Semaphore::new((max / 2).max(1)))
}

/// The exclusive right to write one session's sale.
pub(super) struct Section {
    inner: WriterSection,
    /// The session's version at the last `facts` read.
    version: Option<i32>,
    _permit: OwnedSemaphorePermit,
}

impl Section {
    /// The session as committed now, with the database clock at the same
    /// read: what the writer decides from, read right before its call.
    pub(super) async fn facts(&mut self) -> Result<SaleFacts, AppError> {
        let id = self.inner.session_id();
        let state = self
            .inner
            .read()
            .await?
            .ok_or(AppError::SessionNotFound(id))?;
        self.version = Some(state.version);
        Ok(SaleFacts {
            status: state.status,
            window: Window::from_stored(state.starts_at, state.ends_at),
            stopping: state.stop_requested_at.is_some(),
            now: state.now,
        })
    }

    /// The session's version at the last `facts` read, to tell whether a
    /// body read before is still the one approved.
    pub(super) fn version(&self) -> Option<i32> {
        self.version
    }

    pub(super) async fn leave(self) {
        if let Err(e) = self.inner.leave().await {
            // The lock goes with the connection anyway.
            tracing::debug!(error = %e, "could not leave the writer section cleanly");
        }
    }
}

impl Scheduler {
    /// Waits for the session's writer section (no other writer for this sale
    /// in any process) and holds it.
    pub(super) async fn enter(&self, session_id: i64) -> Result<Section, AppError> {
        let permit =
            self.writers.clone().acquire_owned().await.map_err(|_| {
                AppError::unexpected(anyhow::anyhow!("the writer permits were closed"))
            })?;
        let inner = WriterSection::enter(&self.pool, session_id).await?;
        Ok(Section {
            inner,
            version: None,
            _permit: permit,
        })
    }

    /// The write for the job's current decision (`jobs::sale_write`): the
    /// same key and revision on a retry, new ones with `fresh`. `None` when
    /// the job's claim was lost.
    pub(super) async fn job_write(
        &self,
        job: &ClaimedJob,
        fresh: bool,
    ) -> Result<Option<SaleWrite>, AppError> {
        Ok(jobs::sale_write(&self.pool, job.fence(), fresh)
            .await?
            .map(|w| SaleWrite {
                key: w.key.to_string(),
                revision: w.revision,
            }))
    }
}
