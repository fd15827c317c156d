//! A `Services` service wired to the test's database, a fake catalog server
//! on loopback and a manual clock, plus the people of our stories.

use std::fmt::Debug;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use flashsale_bot::app::{
    AppError, DraftFields, DraftInput, ImportReport, ImportTarget, ItemChange, ItemInput,
    ManualClock, Services, SessionView,
};
use flashsale_bot::catalog::{CachedCatalog, HttpCatalog};
use flashsale_bot::chat::RecordingChat;
use flashsale_bot::domain::{
    Actor, ActorId, Currency, Policy, Roles, SchedulePolicy, SkuRules, WindowRules,
};
use sqlx::PgPool;

use super::catalog::{sample_products, CatalogServer};

/// The app's "now" in tests: the next 10:00 UTC (17:00 in Jakarta) at least
/// an hour from the present, fixed for the whole test run.
///
/// Relative to the present, so every session a test places after it lies in
/// the future by the database's clock too, which decides due-ness (the
/// scheduler never sees a test's deadline as passed unless the test makes a
/// job due); at a fixed time of day, so "tomorrow 00:00" is always 7 hours
/// away and "today 18:30" always ahead. Once per run, so two calls on either
/// side of 10:00 agree.
pub fn test_now() -> DateTime<Utc> {
    static NOW: OnceLock<DateTime<Utc>> = OnceLock::new();
    *NOW.get_or_init(|| {
        let earliest = Utc::now() + chrono::Duration::hours(1);
        let ten = earliest
            .date_naive()
            .and_hms_opt(10, 0, 0)
            .expect("10:00 exists")
            .and_utc();
        if ten >= earliest {
            ten
        } else {
            ten + chrono::Duration::days(1)
        }
    })
}

/// The business-zone (Jakarta) date `days` after `test_now()`'s, as people
/// type it: `day(1)` is "tomorrow".
pub fn day(days: i64) -> String {
    (test_now()
        .with_timezone(&chrono_tz::Asia::Jakarta)
        .date_naive()
        + chrono::Duration::days(days))
    .format("%Y-%m-%d")
    .to_string()
}

/// `day(days)` at `time` (`HH:MM`) in Jakarta, as people type it.
pub fn at(days: i64, time: &str) -> String {
    format!("{} {time}", day(days))
}

/// The instant of `at(days, time)`.
pub fn instant(days: i64, time: &str) -> DateTime<Utc> {
    let local = chrono::NaiveDateTime::parse_from_str(&at(days, time), "%Y-%m-%d %H:%M")
        .expect("a valid date and time");
    chrono::TimeZone::from_local_datetime(&chrono_tz::Asia::Jakarta, &local)
        .single()
        .expect("Jakarta has no DST")
        .with_timezone(&Utc)
}

pub fn test_policy() -> Policy {
    Policy {
        sku: SkuRules::default(),
        window: WindowRules::default(),
        approval_cutoff: chrono::Duration::minutes(60),
        four_eyes: true,
        currency: Currency::from_code("IDR").unwrap(),
        time_zone: chrono_tz::Asia::Jakarta,
        schedule: SchedulePolicy::default(),
        guards: Default::default(),
    }
}

pub fn editor(name: &str) -> Actor {
    Actor::new(ActorId::new("test", name), name, Roles::EDITOR)
}

pub fn approver(name: &str) -> Actor {
    Actor::new(ActorId::new("test", name), name, Roles::APPROVER)
}

pub fn editor_and_approver(name: &str) -> Actor {
    Actor::new(ActorId::new("test", name), name, Roles::BOTH)
}

pub fn nobody(name: &str) -> Actor {
    Actor::new(ActorId::new("test", name), name, Roles::NONE)
}

/// Items typed as text, the way the console and a paste send them: parsed with
/// the app's policy (the shared text parser), then the typed use case. Tests of
/// refusals go through it, so a bad discount is refused exactly as typed.
#[allow(async_fn_in_trait)]
pub trait TextInput {
    async fn add_text(
        &self,
        actor: &Actor,
        session_id: i64,
        input: &ItemInput,
    ) -> Result<SessionView, AppError>;

    async fn update_text(
        &self,
        actor: &Actor,
        session_id: i64,
        change: &ItemChange,
    ) -> Result<SessionView, AppError>;
}

impl TextInput for Services {
    async fn add_text(
        &self,
        actor: &Actor,
        session_id: i64,
        input: &ItemInput,
    ) -> Result<SessionView, AppError> {
        let item = input.parse(&self.front().policy)?;
        self.desk.add_item(actor, session_id, &item).await
    }

    async fn update_text(
        &self,
        actor: &Actor,
        session_id: i64,
        change: &ItemChange,
    ) -> Result<SessionView, AppError> {
        let edit = change.parse(&self.front().policy)?;
        self.desk.update_item(actor, session_id, &edit).await
    }
}

pub fn item(sku: &str, discount: &str, quantity: &str) -> ItemInput {
    ItemInput {
        sku: sku.to_owned(),
        discount: discount.to_owned(),
        quantity: quantity.to_owned(),
    }
}

/// Delivers the notices waiting in the outbox through `app`'s chat, as every
/// bot process's scheduler does within a poll. Nothing here publishes: the
/// storefront it names is never called.
pub async fn deliver_notices(pool: &PgPool, app: &Services) {
    let storefront = flashsale_bot::storefront::HttpStorefront::new(
        "http://127.0.0.1:9/".parse().expect("a URL"),
        &secrecy::SecretString::from(flashsale_bot::devstore::test_secret()),
        Duration::from_millis(200),
    )
    .expect("a storefront client");
    let scheduler = flashsale_bot::scheduler::Scheduler::new(
        pool.clone(),
        app.operations.clone(),
        Arc::new(storefront),
        super::golive::fast_config("notices"),
    );
    scheduler.run_due_now().await.expect("the outbox delivered");
}

/// Alice imports `bytes` as a new draft; its title and times come from the file.
pub async fn import_new(t: &TestApp, name: &str, bytes: &[u8]) -> Result<ImportReport, AppError> {
    t.app
        .desk
        .import(
            &t.alice,
            name,
            bytes,
            None,
            ImportTarget::NewDraft(DraftFields::default()),
        )
        .await
}

/// The six SKUs most stories use.
pub const SIX: [&str; 6] = ["FS-001", "FS-002", "FS-003", "FS-004", "FS-005", "FS-006"];

pub struct TestApp {
    pub app: Services,
    pub pool: PgPool,
    pub catalog: CatalogServer,
    pub clock: Arc<ManualClock>,
    /// Everything the app said in chat.
    pub chat: Arc<RecordingChat>,
    pub alice: Actor,
    pub bob: Actor,
    pub carol: Actor,
}

impl TestApp {
    /// Delivers the notices waiting in the outbox (as every bot process's
    /// scheduler does within a poll), so a test can read what the chat got.
    pub async fn deliver_notices(&self) {
        deliver_notices(&self.pool, &self.app).await;
    }

    /// The requests to check a post in doubt, as the approvals channel got them.
    pub fn checks_asked(&self) -> Vec<String> {
        self.chat
            .posts_to(flashsale_bot::chat::Channel::Approvals)
            .into_iter()
            .map(|p| p.message.text.render(|_, _| String::new()))
            .filter(|said| said.contains("cannot tell whether the post arrived"))
            .collect()
    }

    /// Alice edits, Bob approves, Carol approves too (for concurrent approvals).
    pub async fn new(pool: PgPool) -> TestApp {
        Self::with_policy(pool, test_policy()).await
    }

    pub async fn with_policy(pool: PgPool, policy: Policy) -> TestApp {
        let catalog = CatalogServer::start(sample_products()).await;
        Self::with_catalog(pool, policy, catalog, Duration::from_millis(500)).await
    }

    pub async fn with_catalog(
        pool: PgPool,
        policy: Policy,
        catalog: CatalogServer,
        timeout: Duration,
    ) -> TestApp {
        let http = HttpCatalog::new(catalog.url(), policy.currency.clone(), timeout).unwrap();
        let cached = CachedCatalog::new(http, Duration::from_secs(5));
        let clock = Arc::new(ManualClock::new(test_now()));
        let chat = Arc::new(RecordingChat::new());
        let app = Services::new(
            pool.clone(),
            Arc::new(cached),
            policy,
            clock.clone(),
            chat.clone(),
        );
        TestApp {
            app,
            pool,
            catalog,
            clock,
            chat,
            alice: editor("alice"),
            bob: approver("bob"),
            carol: approver("carol"),
        }
    }

    /// A draft for tomorrow 00:00-12:00 (Jakarta), by Alice.
    pub async fn draft(&self) -> SessionView {
        self.draft_at("tomorrow 00:00", "tomorrow 12:00").await
    }

    pub async fn draft_at(&self, start: &str, end: &str) -> SessionView {
        self.app
            .desk
            .create_draft(
                &self.alice,
                &DraftInput {
                    title: "Midnight Deals".into(),
                    start: start.into(),
                    end: end.into(),
                    notes: None,
                },
            )
            .await
            .unwrap()
    }

    /// A draft holding the first `n` of `SIX`, 30% off, 10 units each.
    pub async fn draft_with(&self, n: usize) -> SessionView {
        let session = self.draft().await;
        self.fill(session.id, n).await
    }

    pub async fn fill(&self, session_id: i64, n: usize) -> SessionView {
        let mut view = self.app.queries.get(session_id).await.unwrap();
        for sku in SIX.iter().take(n) {
            view = self
                .app
                .add_text(&self.alice, session_id, &item(sku, "30", "10"))
                .await
                .unwrap();
        }
        view
    }

    /// Six items, submitted by Alice.
    pub async fn submitted(&self) -> SessionView {
        let session = self.draft_with(6).await;
        self.app.desk.submit(&self.alice, session.id).await.unwrap()
    }

    pub async fn submitted_at(&self, start: &str, end: &str) -> SessionView {
        let session = self.draft_at(start, end).await;
        self.fill(session.id, 6).await;
        self.app.desk.submit(&self.alice, session.id).await.unwrap()
    }

    /// Six items, submitted by Alice, approved by Bob.
    pub async fn approved(&self) -> SessionView {
        let session = self.submitted().await;
        self.app
            .desk
            .approve(&self.bob, session.id, session.version)
            .await
            .unwrap()
    }

    /// Everything a refusal must leave untouched.
    pub async fn snapshot(&self, session_id: i64) -> Snapshot {
        let session = self.app.queries.get(session_id).await.unwrap();
        let activity_entries: i64 =
            sqlx::query_scalar("select count(*) from activity where session_id = $1")
                .bind(session_id)
                .fetch_one(&self.pool)
                .await
                .unwrap();
        Snapshot {
            session,
            activity_entries,
        }
    }

    /// Awaits `call`, which the app must refuse, and checks that the refusal
    /// left session `session_id` as it was. Returns the refusal.
    pub async fn refused<T: Debug>(
        &self,
        session_id: i64,
        call: impl Future<Output = Result<T, AppError>>,
    ) -> AppError {
        let before = self.snapshot(session_id).await;
        let err = call.await.expect_err("the app should have refused");
        assert_eq!(
            self.snapshot(session_id).await,
            before,
            "refusing ({err}) changed session #{session_id}"
        );
        err
    }

    /// Alice adds `input` to the session; the app must refuse it and change
    /// nothing. Returns the refusal.
    pub async fn refused_add(&self, session_id: i64, input: ItemInput) -> AppError {
        self.refused(
            session_id,
            self.app.add_text(&self.alice, session_id, &input),
        )
        .await
    }

    /// Awaits `step` (a refused press, a read) and checks that it left session
    /// `session_id` as it was. Returns what the step returned.
    pub async fn unchanged<T>(&self, session_id: i64, step: impl Future<Output = T>) -> T {
        let before = self.snapshot(session_id).await;
        let outcome = step.await;
        assert_eq!(
            self.snapshot(session_id).await,
            before,
            "the step changed session #{session_id}"
        );
        outcome
    }

    /// How many times `action` stands in the session's activity log.
    pub async fn activity_count(&self, session_id: i64, action: &str) -> usize {
        self.activity_actions(session_id)
            .await
            .iter()
            .filter(|a| *a == action)
            .count()
    }

    pub async fn activity_actions(&self, session_id: i64) -> Vec<String> {
        sqlx::query_scalar("select action from activity where session_id = $1 order by id")
            .bind(session_id)
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }
}

#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub session: SessionView,
    pub activity_entries: i64,
}
