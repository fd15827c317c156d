//! The whole bot on a real Medusa (`SHOP=medusa`): the catalog checks SKUs
//! against Medusa, an approval stages the sale as a price list, Medusa
//! switches it on by its own clock and the bot confirms it from the
//! shopper's view, the watch takes a line's flash price off once its flash
//! quantity is sold, and a stop ends it early.

use std::sync::Arc;
use std::time::Duration;

use flashsale_bot::app::{ManualClock, Services};
use flashsale_bot::chat::{Channel, RecordingChat};
use flashsale_bot::domain::sale::SalePhase;
use flashsale_bot::domain::{ShopCapabilities, Status};
use flashsale_bot::scheduler::{Scheduler, SchedulerConfig};
use flashsale_bot::storefront::Storefront;
use sqlx::PgPool;

use crate::support::app::{approver, editor, item, test_now, test_policy, TextInput};
use crate::support::golive::fast_config;
use crate::support::medusa::*;

const SIX: [&str; 6] = ["FS-001", "FS-002", "FS-003", "FS-004", "FS-005", "FS-006"];

async fn status(pool: &PgPool, id: i64) -> String {
    sqlx::query_scalar("select status from session where id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn wait_for(pool: &PgPool, id: i64, wanted: &str, secs: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while status(pool, id).await != wanted {
        assert!(
            tokio::time::Instant::now() < deadline,
            "session {id} never became {wanted} (is {})",
            status(pool, id).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn announcements(chat: &RecordingChat) -> Vec<String> {
    chat.posts_to(Channel::Announcements)
        .iter()
        .map(|p| p.message.text.render(|at, _| at.to_rfc3339()))
        .collect()
}

#[sqlx::test]
async fn a_sale_staged_on_medusa_goes_live_by_its_clock_sells_a_line_out_and_stops(pool: PgPool) {
    let medusa = Medusa::shared().await;
    let ns = medusa.namespace();
    let products = ns.copy_sample(&SIX).await;
    let shop = Arc::new(adapter(&medusa, &ns));
    assert_eq!(
        shop.capabilities(),
        ShopCapabilities {
            schedules_sales: true,
            caps_quantity: false
        }
    );

    let mut policy = test_policy();
    policy.schedule.shop = shop.capabilities();
    let chat = Arc::new(RecordingChat::new());
    let app = Services::new(
        pool.clone(),
        shop.clone(),
        policy,
        Arc::new(ManualClock::new(test_now())),
        chat.clone(),
    );
    let (alice, bob) = (editor("alice"), approver("bob"));
    let draft = app
        .desk
        .create_draft(
            &alice,
            &flashsale_bot::app::DraftInput {
                title: "Medusa Flash".into(),
                start: "tomorrow 00:00".into(),
                end: "tomorrow 12:00".into(),
                notes: None,
            },
        )
        .await
        .unwrap();
    for product in &products {
        app.add_text(&alice, draft.id, &item(product.sku.as_str(), "30", "3"))
            .await
            .unwrap_or_else(|e| panic!("{} refused: {e}", product.sku));
    }
    let submitted = app.desk.submit(&alice, draft.id).await.unwrap();
    app.desk
        .approve(&bob, draft.id, submitted.version)
        .await
        .unwrap();
    // The window comes in a few seconds (by the database's clock, which is
    // Medusa's too on this machine), with the jobs planned for it.
    sqlx::query(
        "update session set starts_at = now() + interval '3 seconds', \
             ends_at = now() + interval '10 minutes' where id = $1",
    )
    .bind(draft.id)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "update job j set due_at = case j.kind when 'end' then s.ends_at else s.starts_at end, \
             next_attempt_at = case j.kind when 'end' then s.ends_at else s.starts_at end \
         from session s where s.id = j.session_id and j.session_id = $1 \
           and j.kind in ('publish', 'watch', 'end')",
    )
    .bind(draft.id)
    .execute(&pool)
    .await
    .unwrap();

    let scheduler = Scheduler::new(
        pool.clone(),
        app.operations.clone(),
        shop.clone(),
        SchedulerConfig {
            watch_every: Duration::from_millis(500),
            ..fast_config("medusa")
        },
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(scheduler.run(stopped));

    // Staged at once: Medusa has the list, shoppers still pay the regular price.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let staged = loop {
        if let Some(sale) = shop.read_back(draft.id).await.unwrap() {
            break sale;
        }
        assert!(tokio::time::Instant::now() < deadline, "never staged");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(staged.phase, SalePhase::Scheduled);

    wait_for(&pool, draft.id, "live", 20).await;
    let live = shop.read_back(draft.id).await.unwrap().expect("on Medusa");
    assert_eq!(live.phase, SalePhase::Live);
    assert!(live.lines.iter().all(|l| l.sale_applies), "{live:?}");
    let posts = announcements(&chat);
    assert_eq!(
        posts.iter().filter(|p| p.contains("is now live")).count(),
        1,
        "{posts:#?}"
    );

    // Three units of the first line are ordered: its flash quantity is sold.
    place_order(&medusa, &[(products[0].variant_id.as_str(), 3)]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let sale = shop.read_back(draft.id).await.unwrap().expect("on Medusa");
        let first = sale
            .lines
            .iter()
            .find(|l| l.sku == products[0].sku)
            .expect("the first line");
        if !first.sale_applies {
            assert_eq!(first.shown, first.regular, "its regular price is back");
            assert!(
                sale.lines
                    .iter()
                    .filter(|l| l.sku != products[0].sku)
                    .all(|l| l.sale_applies),
                "the other lines stay on sale: {sale:?}"
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never sold out");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let posts = announcements(&chat);
        if let Some(post) = posts.iter().find(|p| p.contains("sold out")) {
            assert!(
                post.contains(&format!(
                    "{} sold out at the flash price (3 of 3)",
                    products[0].sku
                )),
                "{post}"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no sold-out post: {posts:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    app.desk.stop(&bob, draft.id, "enough").await.unwrap();
    wait_for(&pool, draft.id, "ended", 20).await;
    let after = shop.read_back(draft.id).await.unwrap();
    assert!(
        after.as_ref().is_none_or(|s| s.phase == SalePhase::Ended),
        "{after:?}"
    );
    stop.send(true).unwrap();
    running.await.unwrap();
    assert_eq!(status(&pool, draft.id).await, Status::Ended.as_str());
}
