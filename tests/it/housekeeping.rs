//! Housekeeping: handled events (interaction ids, digest claims) are
//! forgotten after their retention, by the database clock.

use flashsale_bot::scheduler::digest;
use flashsale_bot::store::events::RETENTION_DAYS;
use sqlx::PgPool;

use crate::support::app::*;

async fn events(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("select event_id from processed_event order by event_id")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn handled_events_older_than_the_retention_are_pruned(pool: PgPool) {
    let t = TestApp::new(pool).await;
    assert_eq!(RETENTION_DAYS, 7);
    for (id, age_days) in [
        ("a-fresh", 0),
        ("b-six-days", 6),
        ("c-eight-days", 8),
        ("d-a-year", 365),
    ] {
        sqlx::query(
            "insert into processed_event (platform, event_id, processed_at) \
             values ('discord', $1, now() - make_interval(days => $2))",
        )
        .bind(id)
        .bind(age_days)
        .execute(&t.pool)
        .await
        .unwrap();
    }

    assert_eq!(t.app.prune_processed_events().await.unwrap(), 2);
    assert_eq!(events(&t.pool).await, ["a-fresh", "b-six-days"]);
    // The daily job does the same (and a second run finds nothing to do).
    digest::prune(&t.app).await;
    assert_eq!(events(&t.pool).await, ["a-fresh", "b-six-days"]);
}
