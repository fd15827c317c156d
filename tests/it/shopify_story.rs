//! The whole bot on a Shopify store (`SHOP=shopify`), against the fake
//! Shopify (`support::fake_shopify`), which checks every request against
//! Shopify's full Admin schema. In discount mode an approval stages the sale
//! as a scheduled automatic discount, Shopify switches it on by its own clock
//! and the bot confirms it, the watch takes a line out of its discount once
//! its flash quantity is ordered, and a stop ends it; a revoke before the
//! start takes the staged discount off. In price mode the bot changes the
//! variants' prices at the start and puts them back at the end.
//!
//! The window is moved a few seconds ahead by the database's clock, which is
//! the fake's too (both read this machine's).

use std::sync::Arc;
use std::time::Duration;

use flashsale_bot::app::{ManualClock, Services};
use flashsale_bot::chat::{Channel, RecordingChat};
use flashsale_bot::domain::sale::SalePhase;
use flashsale_bot::domain::{Currency, ShopCapabilities, Status};
use flashsale_bot::scheduler::{Scheduler, SchedulerConfig};
use flashsale_bot::shopify::{ShopifyMode, ShopifySettings, ShopifyShop};
use flashsale_bot::storefront::Storefront;
use secrecy::SecretString;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::support::app::{approver, editor, item, test_now, test_policy, TextInput};
use crate::support::fake_shopify::{FakeShopify, TOKEN};
use crate::support::golive::fast_config;

/// Six products, FS-001 at 100,000 rupiah up to FS-006 at 150,000.
const SIX: [(&str, i64); 6] = [
    ("FS-001", 100_000),
    ("FS-002", 110_000),
    ("FS-003", 120_000),
    ("FS-004", 130_000),
    ("FS-005", 140_000),
    ("FS-006", 150_000),
];

/// 30 % off, rounded as the bot's rules round rupiah (whole rupiah).
fn flash(regular: i64) -> i64 {
    (regular * 70 + 50) / 100
}

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

/// Polls `done` every 100 ms until it holds, for at most `secs` seconds.
async fn eventually(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn announcements(chat: &RecordingChat) -> Vec<String> {
    chat.posts_to(Channel::Announcements)
        .iter()
        .map(|p| p.message.text.render(|at, _| at.to_rfc3339()))
        .collect()
}

/// A bot selling through a fake Shopify store in `mode`, with one approved
/// six-line sale at 30 % off (three of each) whose window starts
/// `starts_in` seconds from now and lasts `lasts` seconds, its jobs due then.
struct Story {
    fake: FakeShopify,
    shop: Arc<ShopifyShop>,
    app: Services,
    chat: Arc<RecordingChat>,
    pool: PgPool,
    session: i64,
}

impl Story {
    async fn approved(pool: PgPool, mode: ShopifyMode, starts_in: u32, lasts: u32) -> Story {
        let fake = FakeShopify::start("IDR", 0).await;
        for (sku, price) in SIX {
            fake.add_product(sku, &format!("Kopi {sku}"), price, 40, "ACTIVE");
        }
        let shop = Arc::new(
            ShopifyShop::new(
                ShopifySettings {
                    shop_url: fake.url().parse().expect("a URL"),
                    access_token: SecretString::from(TOKEN),
                    mode,
                    key_prefix: "FLASH".into(),
                    timeout: Duration::from_secs(5),
                },
                Currency::from_code("IDR").expect("IDR"),
            )
            .expect("an adapter"),
        );
        assert_eq!(
            shop.capabilities(),
            ShopCapabilities {
                schedules_sales: mode == ShopifyMode::Discount,
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
                    title: "Shopify Flash".into(),
                    start: "tomorrow 00:00".into(),
                    end: "tomorrow 12:00".into(),
                    notes: None,
                },
            )
            .await
            .unwrap();
        for (sku, _) in SIX {
            app.add_text(&alice, draft.id, &item(sku, "30", "3"))
                .await
                .unwrap_or_else(|e| panic!("{sku} refused: {e}"));
        }
        let submitted = app.desk.submit(&alice, draft.id).await.unwrap();
        app.desk
            .approve(&bob, draft.id, submitted.version)
            .await
            .unwrap();
        // The window comes in a few seconds by the database's clock, with
        // the jobs planned for it.
        sqlx::query(
            "update session set starts_at = now() + make_interval(secs => $2), \
                 ends_at = now() + make_interval(secs => $2 + $3) where id = $1",
        )
        .bind(draft.id)
        .bind(f64::from(starts_in))
        .bind(f64::from(lasts))
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
        Story {
            fake,
            shop,
            app,
            chat,
            pool,
            session: draft.id,
        }
    }

    /// The scheduler's loop, running until the sender says stop.
    fn run_scheduler(&self) -> (watch::Sender<bool>, JoinHandle<()>) {
        let scheduler = Scheduler::new(
            self.pool.clone(),
            self.app.operations.clone(),
            self.shop.clone(),
            SchedulerConfig {
                watch_every: Duration::from_millis(500),
                ..fast_config("shopify")
            },
        );
        let (stop, stopped) = watch::channel(false);
        (stop, tokio::spawn(scheduler.run(stopped)))
    }

    fn now_live_posts(&self) -> usize {
        announcements(&self.chat)
            .iter()
            .filter(|p| p.contains("is now live"))
            .count()
    }

    /// What a shopper pays for each of the six now, and what they paid before.
    fn shoppers_pay(&self) -> Vec<(i64, i64)> {
        SIX.iter()
            .map(|(sku, regular)| (self.fake.shopper_price(sku), *regular))
            .collect()
    }
}

#[sqlx::test]
async fn a_sale_staged_as_a_shopify_discount_goes_live_by_its_clock_sells_a_line_out_and_stops(
    pool: PgPool,
) {
    let story = Story::approved(pool, ShopifyMode::Discount, 4, 600).await;
    let (stop, running) = story.run_scheduler();

    // Staged at once: Shopify holds a scheduled discount, shoppers still pay
    // the regular price.
    eventually("staged on Shopify", 10, || {
        !story.fake.discounts().is_empty()
    })
    .await;
    let discounts = story.fake.discounts();
    assert_eq!(discounts.len(), 1, "one per percentage: {discounts:?}");
    assert_eq!(discounts[0].variants.len(), 6);
    assert!(discounts[0].starts_at > chrono::Utc::now(), "{discounts:?}");
    let staged = story.shop.read_back(story.session).await.unwrap();
    assert_eq!(staged.map(|s| s.phase), Some(SalePhase::Scheduled));
    assert!(
        story
            .shoppers_pay()
            .iter()
            .all(|(pays, regular)| pays == regular),
        "{:?}",
        story.shoppers_pay()
    );
    assert_eq!(story.now_live_posts(), 0);

    // Shopify switches it on by its clock; the bot confirms it once.
    wait_for(&story.pool, story.session, "live", 20).await;
    let live = story
        .shop
        .read_back(story.session)
        .await
        .unwrap()
        .expect("on Shopify");
    assert_eq!(live.phase, SalePhase::Live);
    assert!(live.lines.iter().all(|l| l.sale_applies), "{live:?}");
    assert!(
        story
            .shoppers_pay()
            .iter()
            .all(|(pays, regular)| *pays == flash(*regular)),
        "{:?}",
        story.shoppers_pay()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        story.now_live_posts(),
        1,
        "{:#?}",
        announcements(&story.chat)
    );

    // Three units of FS-001 are ordered: its flash quantity is sold.
    story.fake.place_order(&[("FS-001", 3)]);
    eventually("FS-001 out of the discount", 15, || {
        story.fake.shopper_price("FS-001") == 100_000
    })
    .await;
    assert!(
        story.fake.discounts()[0]
            .variants
            .iter()
            .all(|v| *v != story.fake.variant("FS-001").id),
        "{:?}",
        story.fake.discounts()
    );
    assert!(
        story.shoppers_pay()[1..]
            .iter()
            .all(|(pays, regular)| *pays == flash(*regular)),
        "the other lines stay on sale: {:?}",
        story.shoppers_pay()
    );
    eventually("a sold-out post", 5, || {
        announcements(&story.chat)
            .iter()
            .any(|p| p.contains("sold out"))
    })
    .await;
    let posts = announcements(&story.chat);
    assert!(
        posts
            .iter()
            .any(|p| p.contains("FS-001 sold out at the flash price (3 of 3)")),
        "{posts:#?}"
    );

    story
        .app
        .desk
        .stop(&approver("bob"), story.session, "enough")
        .await
        .unwrap();
    wait_for(&story.pool, story.session, "ended", 20).await;
    let after = story.shop.read_back(story.session).await.unwrap();
    assert!(
        after.as_ref().is_none_or(|s| s.phase == SalePhase::Ended),
        "{after:?}"
    );
    assert!(
        story
            .shoppers_pay()
            .iter()
            .all(|(pays, regular)| pays == regular),
        "{:?}",
        story.shoppers_pay()
    );
    stop.send(true).unwrap();
    running.await.unwrap();
    assert_eq!(
        status(&story.pool, story.session).await,
        Status::Ended.as_str()
    );
    assert_eq!(story.now_live_posts(), 1);
    story.fake.assert_no_problems();
}

#[sqlx::test]
async fn a_shopify_discount_revoked_before_its_start_is_taken_off_and_never_applies(pool: PgPool) {
    let story = Story::approved(pool, ShopifyMode::Discount, 6, 600).await;
    let (stop, running) = story.run_scheduler();
    eventually("staged on Shopify", 10, || {
        !story.fake.discounts().is_empty()
    })
    .await;

    story
        .app
        .desk
        .revoke(&approver("bob"), story.session, Some("wrong prices"))
        .await
        .unwrap();
    eventually("the staged discount taken off", 10, || {
        story.fake.discounts().is_empty()
    })
    .await;

    // Past the start: nothing applies, and the bot announced nothing.
    let starts_at: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("select starts_at from session where id = $1")
            .bind(story.session)
            .fetch_one(&story.pool)
            .await
            .unwrap();
    let wait = (starts_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_secs(2)).await;
    assert!(
        story.fake.discounts().is_empty(),
        "{:?}",
        story.fake.discounts()
    );
    assert!(
        story
            .shoppers_pay()
            .iter()
            .all(|(pays, regular)| pays == regular),
        "{:?}",
        story.shoppers_pay()
    );
    let shown = story.shop.read_back(story.session).await.unwrap();
    assert!(
        shown.as_ref().is_none_or(|s| s.phase == SalePhase::Ended),
        "{shown:?}"
    );
    assert_ne!(status(&story.pool, story.session).await, "live");
    stop.send(true).unwrap();
    running.await.unwrap();
    assert_eq!(
        story.now_live_posts(),
        0,
        "{:#?}",
        announcements(&story.chat)
    );
    story.fake.assert_no_problems();
}

#[sqlx::test]
async fn in_price_mode_the_flash_prices_go_up_at_the_start_with_the_old_ones_struck_and_come_back_at_the_end(
    pool: PgPool,
) {
    let story = Story::approved(pool, ShopifyMode::Price, 5, 8).await;
    let (stop, running) = story.run_scheduler();

    // Not staged: before the start Shopify has neither a discount nor a
    // changed price.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(status(&story.pool, story.session).await, "approved");
    assert!(story.fake.discounts().is_empty());
    assert_eq!(story.fake.calls_of("productVariantsBulkUpdate"), 0);
    assert!(
        SIX.iter().all(|(sku, regular)| {
            let v = story.fake.variant(sku);
            (v.price_minor, v.compare_at_minor) == (*regular, None)
        }),
        "changed before the start"
    );

    // Published at the start: the flash price, the regular one struck.
    wait_for(&story.pool, story.session, "live", 20).await;
    for (sku, regular) in SIX {
        let v = story.fake.variant(sku);
        assert_eq!(
            (v.price_minor, v.compare_at_minor),
            (flash(regular), Some(regular)),
            "{sku}"
        );
    }
    assert!(
        story.fake.discounts().is_empty(),
        "no discount in price mode"
    );
    let live = story
        .shop
        .read_back(story.session)
        .await
        .unwrap()
        .expect("on Shopify");
    assert_eq!(live.phase, SalePhase::Live);
    assert!(live.lines.iter().all(|l| l.sale_applies), "{live:?}");
    eventually("a now-live post", 5, || story.now_live_posts() == 1).await;

    // The window ends: every price as it was, compare-at cleared.
    wait_for(&story.pool, story.session, "ended", 30).await;
    for (sku, regular) in SIX {
        let v = story.fake.variant(sku);
        assert_eq!(
            (v.price_minor, v.compare_at_minor),
            (regular, None),
            "{sku}"
        );
    }
    let after = story.shop.read_back(story.session).await.unwrap();
    assert!(
        after.as_ref().is_none_or(|s| s.phase == SalePhase::Ended),
        "{after:?}"
    );
    stop.send(true).unwrap();
    running.await.unwrap();
    assert_eq!(
        story.now_live_posts(),
        1,
        "{:#?}",
        announcements(&story.chat)
    );
    story.fake.assert_no_problems();
}

#[sqlx::test]
async fn in_price_mode_a_stop_puts_the_prices_before_back_at_once(pool: PgPool) {
    let story = Story::approved(pool, ShopifyMode::Price, 3, 600).await;
    story
        .fake
        .set_variant("FS-002", |v| v.compare_at_minor = Some(130_000));
    let (stop, running) = story.run_scheduler();
    wait_for(&story.pool, story.session, "live", 20).await;
    assert_eq!(story.fake.shopper_price("FS-002"), flash(110_000));
    assert_eq!(story.fake.variant("FS-002").compare_at_minor, Some(110_000));

    story
        .app
        .desk
        .stop(&approver("bob"), story.session, "enough")
        .await
        .unwrap();
    wait_for(&story.pool, story.session, "ended", 20).await;
    for (sku, regular) in SIX {
        let v = story.fake.variant(sku);
        let compare_at = (sku == "FS-002").then_some(130_000);
        assert_eq!(
            (v.price_minor, v.compare_at_minor),
            (regular, compare_at),
            "{sku}"
        );
    }
    stop.send(true).unwrap();
    running.await.unwrap();
    story.fake.assert_no_problems();
}
