//! Presence that is real: the check asks Postgres whether this connection's
//! own backend still holds the lock (not merely whether something answers),
//! and a bot refuses to start behind a pooler that hands backends out per
//! transaction, where no session-level lock stays with its taker. Tried
//! against Debian's pgbouncer in both pool modes (`support::pgbouncer`).

use flashsale_bot::config::Config;
use flashsale_bot::runtime::{self, StartupError};
use flashsale_bot::store::presence::{self, Pooling, Presence, NAMESPACE};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use crate::support::assert_matches;
use crate::support::bot_process::database_url;
use crate::support::pgbouncer::{PgBouncer, PoolMode};

fn config(database_url: &str) -> Config {
    Config::from_lookup(|var| (var == "DATABASE_URL").then(|| database_url.to_owned()))
        .expect("a configuration with only DATABASE_URL set")
}

#[sqlx::test]
async fn the_check_says_no_once_the_lock_was_let_go_on_a_connection_still_up(pool: PgPool) {
    let mut presence = Presence::hold(&pool).await.unwrap();
    assert!(presence.check().await.unwrap(), "just taken: held");
    assert!(presence::is_present(&pool, presence.key()).await.unwrap());

    presence.unlock_behind_its_back().await.unwrap();

    // The connection still answers (`select 1` would pass), but nobody holds
    // the key: claims stamped with it are anybody's.
    assert!(!presence::is_present(&pool, presence.key()).await.unwrap());
    assert!(
        !presence.check().await.unwrap(),
        "the check must see that this backend no longer holds the lock"
    );
}

#[sqlx::test]
async fn the_check_fails_once_its_backend_is_gone(pool: PgPool) {
    let mut presence = Presence::hold(&pool).await.unwrap();
    let pid: i32 = sqlx::query_scalar(
        "select pid from pg_locks where locktype = 'advisory' and granted \
         and classid::int8 = $1 and objid::int8 = $2 and objsubid = 2",
    )
    .bind(i64::from(NAMESPACE))
    .bind(i64::from(presence.key()))
    .fetch_one(&pool)
    .await
    .unwrap();
    let terminated: bool = sqlx::query_scalar("select pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(terminated);

    let check = presence.check().await;
    assert!(
        !matches!(check, Ok(true)),
        "a terminated backend holds nothing: {check:?}"
    );
}

#[sqlx::test]
async fn a_direct_connection_passes_the_start_up_check(pool: PgPool) {
    assert_eq!(
        presence::detect_pooling(&pool).await.unwrap(),
        Pooling::PerConnection
    );
    let direct = database_url(&pool).await;
    let connected = runtime::connect_database(&config(&direct)).await;
    assert!(connected.is_ok(), "{:?}", connected.err());
}

#[sqlx::test]
async fn a_bot_behind_transaction_pooling_refuses_to_start(pool: PgPool) {
    let Some(bouncer) = PgBouncer::start(&pool, PoolMode::Transaction).await else {
        return;
    };
    let refused = runtime::connect_database(&config(&bouncer.url())).await;
    let error = refused.expect_err("start-up refused");
    assert_matches!(error, StartupError::TransactionPooling);
    let message = error.to_string();
    for needed in ["transaction", "session", "directly", "README"] {
        assert!(message.contains(needed), "{needed:?} in {message:?}");
    }

    // What the refusal spares: a presence lock taken through the pooler
    // sits on a backend the pooler then lends to another client, and the
    // presence connection's next transaction runs elsewhere.
    let pooled = PgPoolOptions::new()
        .max_connections(2)
        .connect(&bouncer.url())
        .await
        .unwrap();
    assert_eq!(
        presence::detect_pooling(&pooled).await.unwrap(),
        Pooling::PerTransaction
    );
    let mut presence = Presence::hold(&pooled).await.unwrap();
    let mut other = pooled.begin().await.unwrap();
    sqlx::raw_sql("select 1")
        .execute(&mut *other)
        .await
        .unwrap();
    let check = presence.check().await;
    assert!(
        !matches!(check, Ok(true)),
        "the lock is on another client's backend now, not this connection's: {check:?}"
    );
    other.rollback().await.unwrap();
}

#[sqlx::test]
async fn a_bot_behind_session_pooling_starts(pool: PgPool) {
    let Some(bouncer) = PgBouncer::start(&pool, PoolMode::Session).await else {
        return;
    };
    let connected = runtime::connect_database(&config(&bouncer.url())).await;
    let pooled = connected.unwrap_or_else(|e| panic!("refused through a session pooler: {e}"));
    let mut presence = Presence::hold(&pooled).await.unwrap();
    assert!(presence.check().await.unwrap());
}
