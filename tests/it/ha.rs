//! High availability: two processes of the real bot share one database and
//! one (fake) Discord, only the leader holds the gateway and the other takes
//! over when it dies; a scheduler survives its database going away.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use flashsale_bot::app::Services;
use flashsale_bot::catalog::{CachedCatalog, HttpCatalog};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::support::app::test_policy;
use crate::support::fake_discord::story::{bob, carol, registers_commands, Story};
use crate::support::fake_discord::FakeDiscord;
use crate::support::golive::{fast_config, GoLive};
use crate::support::ops::{connected, get, listen};

/// A follower asks for the lock every second; a killed leader's connection
/// closes at once. The margin is for a loaded CI machine.
const TAKEOVER_LIMIT: Duration = Duration::from_secs(10);

fn identifies(fake: &FakeDiscord) -> usize {
    fake.gateway_frames()
        .iter()
        .filter(|frame| frame["op"] == json!(2))
        .count()
}

async fn wait_identifies(fake: &FakeDiscord, count: usize, within: Duration) -> Duration {
    let started = tokio::time::Instant::now();
    loop {
        let seen = identifies(fake);
        if seen >= count {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "{seen} gateway sessions after {within:?}, expected {count}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn publishes(story: &Story, session: i64) -> usize {
    let path = format!("/api/flash-sales/{session}");
    story
        .store
        .calls()
        .iter()
        .filter(|c| c.method == "PUT" && c.path == path && !c.replay)
        .count()
}

#[sqlx::test]
async fn only_the_leader_holds_the_gateway_and_a_follower_takes_over_when_it_is_killed(
    pool: PgPool,
) {
    let mut story = Story::start_with(
        pool,
        &[("APPROVAL_CUTOFF_MINUTES", "0"), ("MIN_LEAD_MINUTES", "0")],
    )
    .await;
    // The first process registered its commands: it leads.
    let second = story.spawn_replica();
    story.wait_replica_log(second, "standing by").await;
    assert_eq!(
        identifies(&story.fake),
        1,
        "only the leader opens a gateway session"
    );

    // Both schedulers run: the publish happens once.
    let start = Utc::now() + chrono::Duration::minutes(2);
    let (session, card) = story
        .submitted(start, start + chrono::Duration::minutes(30))
        .await;
    story.approve_from_card(&bob(), session, &card).await;
    story.make_due(session, "publish").await;
    story.wait_status(session, "live").await;
    assert_eq!(identifies(&story.fake), 1, "still one gateway session");

    // The leader's machine is lost.
    let mark = story.fake.mark();
    story.kill_first().await;
    let took = wait_identifies(&story.fake, 2, TAKEOVER_LIMIT).await;
    eprintln!("the follower took the gateway over in {took:?}");
    story
        .fake
        .wait_after(
            mark,
            "the new leader to register its commands",
            registers_commands,
        )
        .await;

    // The new leader answers members, and its scheduler ends the sale.
    let viewed = story
        .run(
            &carol(),
            "view",
            &[("session", Value::String(session.to_string()))],
        )
        .await;
    assert!(
        viewed.text().contains(&format!("#{session}")),
        "{}",
        viewed.text()
    );
    story.make_due(session, "end").await;
    story.wait_status(session, "ended").await;
    assert_eq!(publishes(&story, session), 1, "published exactly once");
    assert_eq!(identifies(&story.fake), 2);
    story.finish().await;
}

/// Postgres processes of this test's database holding the leader's lock (a
/// macro so queries stay literals: sqlx refuses dynamic SQL). It is the only
/// one-key advisory lock (`objsubid = 1`); every scheduler's presence lock
/// is a two-key one.
macro_rules! lock_holders {
    () => {
        "from pg_locks where locktype = 'advisory' and granted and objsubid = 1 \
         and database = (select oid from pg_database where datname = current_database())"
    };
}

/// A leader whose lock connection dies (a Postgres failover, a DBA's
/// `pg_terminate_backend`) cannot tell whether another process already holds
/// the lock: it must close its gateway, and afterwards exactly one leads.
#[sqlx::test]
async fn a_leader_that_loses_its_lock_connection_steps_down_and_one_process_leads(pool: PgPool) {
    let mut story = Story::start(pool.clone()).await;
    let second = story.spawn_replica();
    story.wait_replica_log(second, "standing by").await;
    assert_eq!(identifies(&story.fake), 1);

    let mark = story.fake.mark();
    let terminated: Vec<bool> = sqlx::query_scalar(concat!(
        "select pg_terminate_backend(pid) ",
        lock_holders!()
    ))
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(terminated, [true], "one process held the lock");

    story.wait_first_log("stepping down").await;
    wait_identifies(&story.fake, 2, TAKEOVER_LIMIT).await;
    story
        .fake
        .wait_after(
            mark,
            "the new leader to register its commands",
            registers_commands,
        )
        .await;
    let holders: i64 = sqlx::query_scalar(concat!("select count(*) ", lock_holders!()))
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(holders, 1, "exactly one leader");
    let listed = story.run(&carol(), "list", &[]).await;
    assert!(listed.text().contains("Nothing here"), "{}", listed.text());
    story.finish().await;
}

/// A TCP proxy on loopback in front of Postgres that the test can cut (every
/// open connection dropped, new ones refused) and restore.
struct Proxy {
    port: u16,
    up: watch::Sender<bool>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, up_rx) = watch::channel(true);
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                let mut up = up_rx.clone();
                if !*up.borrow() {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = up.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Proxy { port, up }
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn restore(&self) {
        self.up.send_replace(true);
    }
}

#[sqlx::test]
async fn a_database_outage_makes_the_bot_not_ready_and_the_job_due_during_it_runs_once_after(
    pool: PgPool,
) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;

    // The scheduler (and the app it drives) reach the database only through the proxy.
    let direct = g.t.pool.connect_options();
    let upstream = format!("{}:{}", direct.get_host(), direct.get_port());
    let proxy = Proxy::start(upstream).await;
    let database: String = sqlx::query_scalar("select current_database()")
        .fetch_one(&g.t.pool)
        .await
        .unwrap();
    let options: PgConnectOptions = (*direct)
        .clone()
        .host("127.0.0.1")
        .port(proxy.port)
        .database(&database);
    let proxied: PgPool = PgPoolOptions::new()
        .max_connections(5)
        .acquire_timeout(Duration::from_millis(500))
        .connect_with(options)
        .await
        .unwrap();
    // /readyz of a process whose database is behind the proxy.
    let ready_url = format!("{}/readyz", listen(connected(proxied.clone())).await);
    let policy = test_policy();
    let catalog = HttpCatalog::new(
        g.t.catalog.url(),
        policy.currency.clone(),
        Duration::from_millis(500),
    )
    .unwrap();
    let app = Services::new(
        proxied.clone(),
        Arc::new(CachedCatalog::new(catalog, Duration::from_secs(5))),
        policy,
        g.t.clock.clone(),
        g.t.chat.clone(),
    );
    let storefront = flashsale_bot::storefront::HttpStorefront::new(
        g.store.url().parse().unwrap(),
        &secrecy::SecretString::from(flashsale_bot::devstore::test_secret()),
        Duration::from_secs(2),
    )
    .unwrap();
    let scheduler = flashsale_bot::scheduler::Scheduler::new(
        proxied,
        app.operations,
        Arc::new(storefront),
        fast_config("proxied"),
    );
    let (stop, handle) = g.spawn_loop(scheduler);
    let ready = get(&ready_url).await;
    assert_eq!(ready.0, 200, "{}", ready.1);

    // The database goes away; the publish falls due during the outage.
    proxy.cut();
    g.make_due(session.id, "publish").await;
    // Not ready while the database is out (as soon as a check notices), and
    // the scheduler keeps running through a few failed claims meanwhile.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let (status, body) = loop {
        let (status, body) = get(&ready_url).await;
        if status == 503 || tokio::time::Instant::now() >= deadline {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, 503, "not ready while the database is out: {body}");
    assert!(body.contains("database"), "{body}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!handle.is_finished(), "the scheduler keeps running");
    assert!(
        g.publishes(session.id).is_empty(),
        "nothing can run while the database is out"
    );

    // It comes back: the job runs once, promptly.
    proxy.restore();
    g.wait_for_status(session.id, "live", 10).await;
    let (status, body) = get(&ready_url).await;
    assert_eq!(status, 200, "ready again once the database is back: {body}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(g.publishes(session.id).len(), 1, "published exactly once");
    stop.send(true).unwrap();
    handle.await.unwrap();
}

fn is_now_live_post(r: &crate::support::fake_discord::Recorded) -> bool {
    r.method == "POST"
        && r.path.ends_with("/messages")
        && r.body["content"]
            .as_str()
            .is_some_and(|c| c.contains("is now live"))
}

/// The bot is killed (SIGKILL) after Discord took "now live" and before the
/// bot heard back; the bot started again posts it again with the same nonce,
/// which Discord answers with the first message: one post in the channel,
/// recorded as sent once.
#[sqlx::test]
async fn a_bot_killed_mid_announcement_leaves_one_now_live_after_restart(pool: PgPool) {
    let mut story = Story::start_with(
        pool.clone(),
        &[("APPROVAL_CUTOFF_MINUTES", "0"), ("MIN_LEAD_MINUTES", "0")],
    )
    .await;
    let start = Utc::now() + chrono::Duration::minutes(2);
    let (session, card) = story
        .submitted(start, start + chrono::Duration::minutes(30))
        .await;
    story.approve_from_card(&bob(), session, &card).await;
    story
        .fake
        .hold_next_post_containing("is now live", Duration::from_secs(30));
    let mark = story.fake.mark();
    story.make_due(session, "publish").await;
    let first = story
        .fake
        .wait_after(mark, "the now-live post", is_now_live_post)
        .await;

    story.kill_first().await;
    story.spawn_replica();
    let deadline = tokio::time::Instant::now() + TAKEOVER_LIMIT;
    loop {
        let sent: i64 = sqlx::query_scalar(
            "select count(*) from outbox where session_id = $1 and event = 'live' and state = 'sent'",
        )
        .bind(session)
        .fetch_one(&pool)
        .await
        .unwrap();
        if sent == 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the restarted bot never recorded \"now live\" as sent"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let posts: Vec<_> = story
        .fake
        .requests()
        .into_iter()
        .filter(is_now_live_post)
        .collect();
    assert_eq!(posts.len(), 2, "posted again after the restart");
    assert_eq!(posts[1].body["nonce"], first.body["nonce"]);
    assert_eq!(posts[1].body["enforce_nonce"], true);
    assert_eq!(
        posts[1].response["id"], first.response["id"],
        "Discord answered with the first message: one post in the channel"
    );
    story.finish().await;
}
