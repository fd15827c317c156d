//! Staged go-live, on a shop that schedules sales (the dev storefront says so
//! at `GET /api/capabilities`): the sale is handed over at approval, taken
//! off when the session stops being approved, and at its start confirmed
//! from the shopper's view, not put up; a shop that cannot be read at the
//! start still shows it on time, and the bot says so when it can read it.

use flashsale_bot::chat::Channel;
use flashsale_bot::devstore::Faults;
use flashsale_bot::domain::sale::SalePhase;
use flashsale_bot::domain::Status;
use flashsale_bot::storefront::Storefront;
use sqlx::PgPool;

use crate::support::golive::*;

fn writes(g: &GoLive, session_id: i64, method: &str) -> usize {
    let path = format!("/api/flash-sales/{session_id}");
    g.store
        .calls()
        .iter()
        .filter(|c| c.method == method && c.path == path && c.status == 200)
        .count()
}

fn live_posts(g: &GoLive, session_id: i64) -> usize {
    g.t.chat
        .posts_to(Channel::Announcements)
        .iter()
        .filter(|p| p.message.dedupe_key.as_deref() == Some(&*format!("live:{session_id}")))
        .count()
}

#[sqlx::test]
async fn an_approved_sale_is_staged_at_once_and_shoppers_see_regular_prices_until_its_start(
    pool: PgPool,
) {
    let g = GoLive::staged(pool).await;
    let session = g.t.approved().await;

    g.scheduler("a").run_due_now().await.unwrap();

    assert_eq!(g.job(session.id, "stage").await.state, "done");
    assert_eq!(writes(&g, session.id, "PUT"), 1);
    let shown = g
        .storefront(std::time::Duration::from_secs(2))
        .read_back(session.id)
        .await
        .unwrap()
        .expect("the shop has the sale");
    assert_eq!(shown.phase, SalePhase::Scheduled);
    assert_eq!(shown.lines.len(), 6);
    for (line, item) in shown.lines.iter().zip(&session.items) {
        assert_eq!(line.sku, item.sku);
        assert!(!line.sale_applies);
        assert_eq!(
            line.shown, item.base_price,
            "regular price before the start"
        );
    }
    assert_eq!(g.status(session.id).await, Status::Approved);
    assert_eq!(g.t.activity_count(session.id, "staged").await, 1);
    assert_eq!(live_posts(&g, session.id), 0);
}

#[sqlx::test]
async fn a_shop_that_does_not_schedule_gets_no_stage_job(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.scheduler("a").run_due_now().await.unwrap();

    let staged: i64 =
        sqlx::query_scalar("select count(*) from job where session_id = $1 and kind = 'stage'")
            .bind(session.id)
            .fetch_one(&g.t.pool)
            .await
            .unwrap();
    assert_eq!(staged, 0);
    assert_eq!(
        writes(&g, session.id, "PUT"),
        0,
        "published at its start only"
    );
}

#[sqlx::test]
async fn at_its_start_a_staged_sale_is_confirmed_from_the_shoppers_view_not_put_up_again(
    pool: PgPool,
) {
    let g = GoLive::staged(pool).await;
    let session = g.t.approved().await;
    g.window_from_now(session.id, 1.5, 120.0).await;
    let (stop, handle) = g.spawn_loop(g.scheduler("a"));

    g.wait_for_status(session.id, "live", 10).await;
    g.wait_for_notices(session.id).await;
    stop.send(true).unwrap();
    handle.await.unwrap();

    assert_eq!(
        writes(&g, session.id, "PUT"),
        1,
        "staged once, never put up"
    );
    assert_eq!(g.job(session.id, "publish").await.state, "done");
    assert_eq!(live_posts(&g, session.id), 1);
    let shown = g
        .storefront(std::time::Duration::from_secs(2))
        .read_back(session.id)
        .await
        .unwrap()
        .expect("on the shop");
    assert_eq!(shown.phase, SalePhase::Live);
    assert!(shown.lines.iter().all(|l| l.sale_applies));
    // Live only once the shop showed it: its own clock switched it.
    let went_live: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
        "select at from activity where session_id = $1 and action = 'went_live'",
    )
    .bind(session.id)
    .fetch_one(&g.t.pool)
    .await
    .unwrap();
    let starts_at: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("select starts_at from session where id = $1")
            .bind(session.id)
            .fetch_one(&g.t.pool)
            .await
            .unwrap();
    assert!(went_live >= starts_at, "{went_live} < {starts_at}");
}

#[sqlx::test]
async fn a_revoked_staged_sale_comes_off_the_shop_and_a_new_approval_stages_it_again(pool: PgPool) {
    let g = GoLive::staged(pool).await;
    let session = g.t.approved().await;
    let scheduler = g.scheduler("a");
    scheduler.run_due_now().await.unwrap();
    assert!(g.up_on_storefront(session.id));

    g.t.app
        .desk
        .revoke(&g.t.bob, session.id, Some("wrong prices"))
        .await
        .unwrap();
    scheduler.run_due_now().await.unwrap();

    assert!(
        !g.up_on_storefront(session.id),
        "still staged: {:?}",
        g.store.sale(session.id)
    );
    assert_eq!(writes(&g, session.id, "DELETE"), 1);
    assert_eq!(g.t.activity_count(session.id, "unstaged").await, 1);

    // Submitted and approved again: staged again, with a newer revision.
    let submitted = g.t.app.desk.submit(&g.t.alice, session.id).await.unwrap();
    g.t.app
        .desk
        .approve(&g.t.bob, session.id, submitted.version)
        .await
        .unwrap();
    scheduler.run_due_now().await.unwrap();
    assert!(g.up_on_storefront(session.id));
    assert_eq!(g.t.activity_count(session.id, "staged").await, 2);
    let revision = g.store.sale(session.id).unwrap()["revision"]
        .as_i64()
        .unwrap();
    assert!(revision >= 3, "stage, unstage, stage: revision {revision}");
}

#[sqlx::test]
async fn a_cancelled_session_that_was_never_staged_writes_nothing(pool: PgPool) {
    let g = GoLive::staged(pool).await;
    let session = g.t.submitted().await;
    g.t.app
        .desk
        .cancel(&g.t.alice, session.id, None)
        .await
        .unwrap();
    g.scheduler("a").run_due_now().await.unwrap();
    assert!(g.store.calls().iter().all(|c| c.method == "GET"));
}

#[sqlx::test]
async fn a_shop_unreadable_at_the_start_still_goes_live_by_its_clock_and_the_bot_confirms_later(
    pool: PgPool,
) {
    let g = GoLive::staged(pool).await;
    let session = g.t.approved().await;
    g.window_from_now(session.id, 1.0, 120.0).await;
    let scheduler = g.scheduler("a");
    // Staged while the shop answers.
    scheduler.run_due_now().await.unwrap();
    assert_eq!(g.t.activity_count(session.id, "staged").await, 1);
    // From now on every read and write fails, for a good while.
    g.store.set_faults(Faults {
        fail_next: 1_000,
        status: Some(503),
        ..Faults::default()
    });
    let (stop, handle) = g.spawn_loop(scheduler);
    g.wait_for_db_clock_past_start(session.id).await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;

    // Shoppers see it on time: the shop switched it by its own clock.
    assert_eq!(g.store.sale(session.id).expect("staged")["status"], "live");
    assert_eq!(
        g.status(session.id).await,
        Status::Approved,
        "not confirmed yet"
    );
    assert_eq!(live_posts(&g, session.id), 0);

    g.store.set_faults(Faults::default());
    g.wait_for_status(session.id, "live", 10).await;
    g.wait_for_notices(session.id).await;
    stop.send(true).unwrap();
    handle.await.unwrap();
    assert_eq!(live_posts(&g, session.id), 1);
    assert_eq!(
        writes(&g, session.id, "PUT"),
        1,
        "confirmed, not put up again"
    );
}

#[sqlx::test]
async fn the_heads_up_puts_back_a_staged_sale_someone_removed_on_the_shop(pool: PgPool) {
    let g = GoLive::staged(pool).await;
    let session = g.t.approved().await;
    let scheduler = g.scheduler("a");
    scheduler.run_due_now().await.unwrap();
    assert!(g.up_on_storefront(session.id));
    // Someone ends it on the shop by hand (a newer write than the bot's).
    let applied = g.store.sale(session.id).unwrap()["revision"]
        .as_i64()
        .unwrap();
    g.storefront(std::time::Duration::from_secs(2))
        .end(
            session.id,
            &flashsale_bot::storefront::SaleWrite {
                key: "by-hand".to_owned(),
                revision: applied + 1,
            },
        )
        .await
        .unwrap();
    assert!(!g.up_on_storefront(session.id));

    g.make_due(session.id, "heads_up").await;
    scheduler.run_due_now().await.unwrap();
    scheduler.run_due_now().await.unwrap();

    assert!(
        g.up_on_storefront(session.id),
        "not restaged: {:?}",
        g.store.sale(session.id)
    );
    assert_eq!(g.t.activity_count(session.id, "staged").await, 2);
    assert_eq!(g.status(session.id).await, Status::Approved);
}
