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

    /// Confirms the connection, and so the lock, is still there.
    pub async fn check(&mut self) -> Result<(), StoreError> {
        sqlx::query("select 1").execute(&mut self.conn).await?;
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
