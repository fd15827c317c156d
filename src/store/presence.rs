//! Presence: how the replicas tell a process that died from one that is slow,
//! without waiting out its lease.
//!
//! A scheduler holds a session-level advisory lock, `(NAMESPACE, key)`, on a
//! connection of its own for as long as it runs, and stamps every claim it
//! makes with the key (`job.claimed_presence`, `outbox.claimed_presence`).
//! Postgres drops the lock the moment that connection closes, and a killed
//! process's sockets close when it dies, so a claim whose key nobody holds
//! (the `present_worker` view) is taken over at once instead of one lease
//! later. The lease stays the backstop for what a closed socket does not
//! show: a frozen process, a host gone without a FIN.
//!
//! A live process that loses its presence connection loses its claims early,
//! exactly as if its lease had run out: the fencing token refuses its late
//! writes and the job's idempotency key turns its repeated PUT into a replay.
//! So a claim is stamped only while the lock is known to be held.

use sqlx::{Connection, PgConnection, PgPool};

use super::StoreError;

/// The advisory-lock namespace of presence locks ("FLSH"); the migration's
/// `present_worker` view names the same number.
pub const NAMESPACE: i32 = 0x464C_5348;

/// A presence lock held on a connection of its own.
pub struct Presence {
    conn: PgConnection,
    key: i32,
}

impl Presence {
    /// Opens a connection with the pool's settings (outside the pool, so it
    /// neither takes a pooled connection for good nor is recycled by it) and
    /// takes a lock nobody else holds.
    pub async fn hold(pool: &PgPool) -> Result<Presence, StoreError> {
        let mut conn = PgConnection::connect_with(&pool.connect_options()).await?;
        // Random keys collide rarely; when one does, the holder is alive and
        // another draw costs a round trip.
        for _ in 0..8 {
            // Non-negative, so the view's oid-to-int4 cast gives it back unchanged.
            let key = (rand::random::<u32>() >> 1) as i32;
            let held: bool = sqlx::query_scalar("select pg_try_advisory_lock($1, $2)")
                .bind(NAMESPACE)
                .bind(key)
                .fetch_one(&mut conn)
                .await?;
            if held {
                return Ok(Presence { conn, key });
            }
        }
        Err(StoreError::NoPresenceKey)
    }

    /// The key this process stamps its claims with.
    pub fn key(&self) -> i32 {
        self.key
    }

    /// Whether this connection's backend still holds the lock. An answer
    /// alone proves only that some backend answered: behind a pooler that
    /// hands backends out per transaction it is not the one that took the
    /// lock, and `pg_advisory_unlock_all()` or a `DISCARD ALL` lets the lock
    /// go while the connection stays up. So ask `pg_locks` about this
    /// backend. False means claims stamped with the key are anybody's; an
    /// error means the connection is gone (and the lock with it).
    pub async fn check(&mut self) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(
            "select exists (select 1 from pg_locks \
                 where locktype = 'advisory' and granted and pid = pg_backend_pid() \
                   and database = (select oid from pg_database where datname = current_database()) \
                   and objsubid = 2 and classid::int8 = $1 and objid::int8 = $2)",
        )
        .bind(i64::from(NAMESPACE))
        .bind(i64::from(self.key))
        .fetch_one(&mut self.conn)
        .await?)
    }

    /// Lets the lock go on its own backend and keeps the connection, as a
    /// stray `pg_advisory_unlock_all()` or a pooler's `DISCARD ALL` would:
    /// for tests of `check`, which must then say the lock is not held.
    #[doc(hidden)]
    pub async fn unlock_behind_its_back(&mut self) -> Result<(), StoreError> {
        sqlx::query("select pg_advisory_unlock_all()")
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    /// Lets go of the lock (by closing its connection): from now on this
    /// process's claims read as a dead process's.
    pub async fn release(self) {
        if let Err(e) = self.conn.close().await {
            tracing::debug!(error = %e, "presence connection closed uncleanly");
        }
    }
}

/// Whether some connected process holds `key` now.
pub async fn is_present(pool: &PgPool, key: i32) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar("select exists (select 1 from present_worker where key = $1)")
            .bind(key)
            .fetch_one(pool)
            .await?,
    )
}

/// What stands between the bot and Postgres, as far as a connection's
/// server backend is concerned (`detect_pooling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// A connection keeps one backend for as long as it is open: a direct
    /// connection, or a pooler in session mode. Session-level advisory
    /// locks (presence, leadership, the migrator's) and `LISTEN` work.
    PerConnection,
    /// Backends change hands between transactions (a pooler such as
    /// pgbouncer in transaction or statement mode): a session-level lock
    /// stays on a backend other clients then use, and is not where its
    /// taker looks for it. The bot cannot run this way.
    PerTransaction,
}

/// How long the probe's second look may wait for a backend. With a backend
/// of its own a connection answers `select pg_backend_pid()` at once; a
/// pooled one waits in the pooler's queue while the other probe connection
/// holds the only backend.
const PROBE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Finds out whether connections made with the pool's settings keep their
/// backend between transactions. Two connections of their own (outside the
/// pool, as the presence connection is): the first reads its backend's pid;
/// the second opens a transaction and reads its pid while the first is
/// idle; then the first reads its pid again while that transaction is
/// still open. Directly or through a session pooler the first keeps its
/// backend and the second cannot have it; a transaction pooler hands the
/// idle first backend to the second (pgbouncer reuses the most recently
/// used one) or the first a new one.
///
/// Only pid reads, in the simple query protocol: nothing is locked or
/// prepared that a pooled backend would keep for the next client.
pub async fn detect_pooling(pool: &PgPool) -> Result<Pooling, StoreError> {
    let options = pool.connect_options();
    let mut first = PgConnection::connect_with(&options).await?;
    let mut second = PgConnection::connect_with(&options).await?;
    let before = backend_pid(&mut first).await?;
    let mut open = second.begin().await?;
    let other = backend_pid(&mut open).await?;
    let (again, waited_out) = if other == before {
        // Already decided; and with a pool of one backend the first could
        // only wait for it.
        (None, false)
    } else {
        match tokio::time::timeout(PROBE_WAIT, backend_pid(&mut first)).await {
            Ok(pid) => (Some(pid?), false),
            Err(_) => (None, true),
        }
    };
    let pooling = judge_pooling(before, other, again);
    // Ending the transaction and the connections explicitly gives the
    // pooler its backends back at once; failures here change nothing. A
    // connection whose read was abandoned is only dropped: closing it would
    // wait for the answer it never got.
    let _ = open.rollback().await;
    let _ = second.close().await;
    if !waited_out {
        let _ = first.close().await;
    }
    Ok(pooling)
}

/// The decision of `detect_pooling` from the pids it read: the first
/// connection's backend, the second's (inside its open transaction), and
/// the first's again (`None` when it was not read, or a backend did not
/// come within `PROBE_WAIT`, which a connection with a backend of its own
/// never waits for).
pub fn judge_pooling(before: i32, other: i32, again: Option<i32>) -> Pooling {
    match again {
        Some(again) if other != before && again == before => Pooling::PerConnection,
        _ => Pooling::PerTransaction,
    }
}

async fn backend_pid(conn: &mut PgConnection) -> Result<i32, StoreError> {
    use sqlx::Row;
    let row = sqlx::raw_sql("select pg_backend_pid()")
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get(0)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_that_keeps_its_backend_while_another_holds_one_is_not_pooled_per_transaction() {
        assert_eq!(judge_pooling(10, 11, Some(10)), Pooling::PerConnection);
    }

    #[test]
    fn the_second_connection_getting_the_first_ones_backend_is_transaction_pooling() {
        // pgbouncer hands out the most recently used idle backend.
        assert_eq!(judge_pooling(10, 10, None), Pooling::PerTransaction);
        assert_eq!(judge_pooling(10, 10, Some(10)), Pooling::PerTransaction);
    }

    #[test]
    fn the_first_connection_coming_back_on_another_backend_is_transaction_pooling() {
        assert_eq!(judge_pooling(10, 11, Some(12)), Pooling::PerTransaction);
        assert_eq!(judge_pooling(10, 11, Some(11)), Pooling::PerTransaction);
    }

    #[test]
    fn a_first_connection_left_waiting_for_a_backend_is_transaction_pooling() {
        assert_eq!(judge_pooling(10, 11, None), Pooling::PerTransaction);
    }
}
