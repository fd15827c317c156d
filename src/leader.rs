//! Leadership: which one of several bot processes holds the Discord gateway.
//!
//! Discord should see one gateway session per bot, but the bot must survive
//! the loss of a machine, so several processes run and one of them leads. The
//! leader is whoever holds a Postgres session-level advisory lock
//! ([`LOCK_KEY`]), taken on a connection of its own (not from the pool, which
//! would hand it to whatever query came next). Postgres releases the lock
//! when that connection ends, so a leader that dies (or whose machine does)
//! is replaced within the poll interval of the others.
//!
//! A leader that loses its connection cannot know whether Postgres already
//! released its lock: it checks the connection every [`LeaderConfig::check`]
//! and steps down (its [`Term::lost`] resolves) on the first failure. The
//! others keep asking every [`LeaderConfig::poll`]; a failed connect backs off
//! up to [`LeaderConfig::retry_cap`], so a database outage is reported and
//! survived, never a reason to exit.
//!
//! Nothing here knows about Discord: the adapter calls [`campaign`], runs the
//! gateway for the [`Term`] it gets, and stops it when the term ends.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

/// The advisory lock every bot process of one database competes for
/// ("flashbot" in ASCII). Any other user of advisory locks in the same
/// database must stay clear of it. (The schedulers' presence locks,
/// `store::presence`, use the two-key form, which never meets a one-key lock.)
pub const LOCK_KEY: i64 = 0x666c_6173_6862_6f74;

#[derive(Debug, Clone)]
pub struct LeaderConfig {
    /// How often a follower asks for the lock.
    pub poll: Duration,
    /// How often the leader checks that its connection (and so its lock) is alive.
    pub check: Duration,
    /// How long a connect, a lock attempt or a check may take before it counts as failed.
    pub timeout: Duration,
    /// The longest wait between attempts while the database cannot be reached.
    pub retry_cap: Duration,
}

impl Default for LeaderConfig {
    fn default() -> LeaderConfig {
        LeaderConfig {
            poll: Duration::from_secs(1),
            check: Duration::from_secs(2),
            timeout: Duration::from_secs(3),
            retry_cap: Duration::from_secs(10),
        }
    }
}

/// One stretch of leadership: holds the connection that holds the lock.
/// Dropping it closes the connection, which releases the lock.
pub struct Term {
    conn: PgConnection,
    config: LeaderConfig,
}

/// Waits until this process holds the lock. Never fails: a database that
/// cannot be reached is logged and tried again with capped backoff.
pub async fn campaign(options: &PgConnectOptions, config: &LeaderConfig) -> Term {
    let mut conn: Option<PgConnection> = None;
    let mut failures: u32 = 0;
    let mut standing_by_logged = false;
    loop {
        let attempt = async {
            let mut c = match conn.take() {
                Some(c) => c,
                None => options.connect().await?,
            };
            let won: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
                .bind(LOCK_KEY)
                .fetch_one(&mut c)
                .await?;
            Ok::<_, sqlx::Error>((c, won))
        };
        let wait = match tokio::time::timeout(config.timeout, attempt).await {
            Ok(Ok((c, true))) => {
                tracing::info!("leadership acquired: this process holds the Discord gateway");
                return Term {
                    conn: c,
                    config: config.clone(),
                };
            }
            Ok(Ok((c, false))) => {
                if failures > 0 {
                    tracing::info!("database reachable again; still standing by");
                }
                failures = 0;
                if !standing_by_logged {
                    tracing::info!("standing by: another process holds the Discord gateway");
                    standing_by_logged = true;
                }
                conn = Some(c);
                config.poll
            }
            outcome => {
                let error = match outcome {
                    Ok(Err(e)) => e.to_string(),
                    _ => "timed out".to_owned(),
                };
                failures = failures.saturating_add(1);
                let wait = retry_wait(failures, config);
                if failures == 1 {
                    tracing::error!(%error, "leader election: database unreachable; retrying with backoff");
                } else {
                    tracing::warn!(%error, attempt = failures, wait_ms = wait.as_millis() as u64, "leader election: database still unreachable");
                }
                wait
            }
        };
        tokio::time::sleep(wait).await;
    }
}

/// Doubling from the poll interval up to the cap.
fn retry_wait(failures: u32, config: &LeaderConfig) -> Duration {
    let exponent = failures.saturating_sub(1).min(16);
    config
        .poll
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(config.retry_cap)
}

impl Term {
    /// Resolves when leadership is lost: the connection holding the lock
    /// failed a check, so Postgres may already have handed it to another
    /// process. The caller must stop the gateway at once.
    pub async fn lost(&mut self) {
        loop {
            tokio::time::sleep(self.config.check).await;
            let check = sqlx::query_scalar::<_, i32>("select 1").fetch_one(&mut self.conn);
            match tokio::time::timeout(self.config.timeout, check).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "leadership lost: the lock's database connection failed");
                    return;
                }
                Err(_) => {
                    tracing::error!(
                        "leadership lost: the lock's database connection stopped answering"
                    );
                    return;
                }
            }
        }
    }

    /// Gives the lock up now (on shutdown), so a follower need not wait for
    /// the connection to time out.
    pub async fn resign(mut self) {
        let unlock = sqlx::query("select pg_advisory_unlock($1)")
            .bind(LOCK_KEY)
            .execute(&mut self.conn);
        if let Ok(Err(e)) = tokio::time::timeout(self.config.timeout, unlock).await {
            tracing::warn!(error = %e, "could not release the leader lock; closing its connection");
        }
        let _ = tokio::time::timeout(self.config.timeout, self.conn.close()).await;
        tracing::info!("leadership released");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_from_the_poll_interval_up_to_the_cap() {
        let config = LeaderConfig::default();
        let waits: Vec<u64> = (1..=6).map(|f| retry_wait(f, &config).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
        assert_eq!(retry_wait(u32::MAX, &config), config.retry_cap);
    }
}
