//! This process's presence lock while its scheduler loop runs
//! (`store::presence` says what the lock is for): taken before the first
//! claim, checked every heartbeat, taken again when its connection drops,
//! and let go only after the loop has handed its claims back.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use tokio::sync::watch;

use super::Scheduler;
use crate::store::presence::Presence;

/// This process's presence key while its lock is known to be held
/// (`store::presence`); claims are stamped with it. Keys are non-negative,
/// so a negative value means "not held": claims then rely on the lease.
#[derive(Clone)]
pub(super) struct PresentKey(Arc<AtomicI64>);

impl PresentKey {
    pub(super) fn absent() -> PresentKey {
        PresentKey(Arc::new(AtomicI64::new(-1)))
    }

    pub(super) fn set(&self, key: Option<i32>) {
        self.0.store(key.map_or(-1, i64::from), Ordering::Relaxed);
    }

    pub(super) fn get(&self) -> Option<i32> {
        i32::try_from(self.0.load(Ordering::Relaxed))
            .ok()
            .filter(|k| *k >= 0)
    }
}

impl Scheduler {
    /// Takes the presence lock for the first claim, so that claim carries the
    /// key. Without it, claims rely on their lease until `keep_present` gets one.
    pub(super) async fn take_presence(&self) -> Option<Presence> {
        match Presence::hold(&self.pool).await {
            Ok(presence) => {
                self.present.set(Some(presence.key()));
                Some(presence)
            }
            Err(e) => {
                tracing::warn!(error = %e, "no presence lock yet; claims rely on their lease");
                None
            }
        }
    }

    /// Holds this process's presence lock while the loop runs, reconnecting
    /// when its connection drops. While it is not held, claims carry no key
    /// and only their lease protects them.
    pub(super) async fn keep_present(
        self,
        mut held: Option<Presence>,
        mut leaving: watch::Receiver<bool>,
    ) {
        let mut failures: i32 = 0;
        while !*leaving.borrow() {
            let next = match held.take() {
                Some(presence) => Ok(presence),
                None => Presence::hold(&self.pool).await,
            };
            let mut presence = match next {
                Ok(presence) => presence,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(error = %e, attempt = failures, "no presence lock; claims rely on their lease");
                    let wait = self.database_backoff(failures);
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        changed = leaving.changed() => if changed.is_err() { break },
                    }
                    continue;
                }
            };
            failures = 0;
            self.present.set(Some(presence.key()));
            tracing::debug!(key = presence.key(), "presence lock held");
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.heartbeat) => {
                        match presence.check().await {
                            Ok(true) => {}
                            Ok(false) => {
                                // The connection is up but its backend let the
                                // lock go (an unlock, a reset): claims made with
                                // the key are already anybody's, so stop stamping
                                // it and take a lock that is really held.
                                tracing::warn!(key = presence.key(), "presence lock no longer held on its connection; taking a new lock");
                                self.present.set(None);
                                presence.release().await;
                                break;
                            }
                            Err(e) => {
                                // The lock went with the connection: claims made
                                // with the old key are already anybody's.
                                tracing::warn!(error = %e, "presence connection lost; taking a new lock");
                                self.present.set(None);
                                break;
                            }
                        }
                    }
                    _ = leaving.changed() => {
                        self.present.set(None);
                        presence.release().await;
                        return;
                    }
                }
            }
        }
        self.present.set(None);
    }
}
