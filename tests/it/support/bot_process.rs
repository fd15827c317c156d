//! The real bot as a child process (`flashsale-bot run`), shared by the
//! stories that drive it through a fake chat platform (Discord, Slack): its
//! environment, its log (kept to show when a story fails), and the test
//! database's URL for it.

use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use flashsale_bot::devstore;
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Start-up of the binary (database, migrations, connecting to the chat)
/// takes well under a second; the margin is for a loaded CI machine.
pub const START_LIMIT: Duration = Duration::from_secs(20);
/// Lines of the bot's log printed when a story fails.
pub const LOG_TAIL: usize = 200;

/// The real bot as a child process; killed when dropped.
pub struct BotProcess {
    pub child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl BotProcess {
    /// `flashsale-bot run` with exactly `env` (plus `HTTP_ADDR=127.0.0.1:0`
    /// unless `env` sets it, and the shifted clock of
    /// `scripts/test-shifted-clock.sh` when the tests run under it).
    pub fn spawn(env: &[(String, String)]) -> BotProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_flashsale-bot"));
        command
            .arg("run")
            // Only what the story sets: no .env, no developer's tokens.
            .env_clear()
            .current_dir(std::env::temp_dir())
            // Parallel bots cannot share the default port; a story may override it.
            .env("HTTP_ADDR", "127.0.0.1:0")
            // Under scripts/test-shifted-clock.sh the bot must live in the
            // same shifted time as the tests and Postgres.
            .envs(
                ["LD_PRELOAD", "FAKETIME"]
                    .into_iter()
                    .filter_map(|k| std::env::var(k).ok().map(|v| (k, v))),
            )
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("start flashsale-bot run");
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        for stream in [
            Box::new(stdout) as Box<dyn tokio::io::AsyncRead + Send + Unpin>,
            Box::new(stderr),
        ] {
            let log = log.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    log.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(line);
                }
            });
        }
        BotProcess { child, log }
    }

    /// Every line logged so far.
    pub fn lines(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The last `LOG_TAIL` lines, for failure messages.
    pub fn tail(&self) -> String {
        let log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        let skip = log.len().saturating_sub(LOG_TAIL);
        log[skip..].join("\n")
    }

    /// The exit status if the process has ended.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits until this process logs a line containing `needle`; `who` names
    /// it in the failure message.
    pub async fn wait_log(&self, who: &str, needle: &str) {
        self.wait_log_line(who, needle).await;
    }

    /// The first line containing `needle`, waiting for it.
    pub async fn wait_log_line(&self, who: &str, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + START_LIMIT;
        loop {
            if let Some(line) = self
                .log
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .find(|line| line.contains(needle))
            {
                return line.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{who} never logged {needle:?}; its log:\n{}",
                self.tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Where the health listener is (`http://127.0.0.1:PORT`), from the line
    /// the bot logs when it binds `HTTP_ADDR`.
    pub async fn http_base(&self, who: &str) -> String {
        let line = self
            .wait_log_line(who, "serving /healthz, /readyz and /metrics")
            .await;
        let addr = line
            .split_whitespace()
            .find_map(|word| word.strip_prefix("addr="))
            .unwrap_or_else(|| panic!("{who} logged no addr= in {line:?}"));
        format!("http://{}", addr.trim_matches('"'))
    }

    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}

/// The settings every story's bot shares: the test database, the storefront
/// at `storefront_url` with the dev secret, the business zone, a quick
/// scheduler, no digest, a log people can read.
pub async fn base_env(pool: &PgPool, storefront_url: String) -> Vec<(String, String)> {
    [
        ("DATABASE_URL", database_url(pool).await),
        ("STOREFRONT_URL", storefront_url),
        ("STOREFRONT_WEBHOOK_SECRET", devstore::test_secret()),
        ("BUSINESS_TIME_ZONE", "Asia/Jakarta".to_owned()),
        ("SCHEDULER_POLL_SECS", "1".to_owned()),
        ("DAILY_DIGEST_CRON", "off".to_owned()),
        // The log is read by people when a story fails: no colour codes.
        ("NO_COLOR", "1".to_owned()),
        (
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info,sqlx=warn".to_owned()),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// `vars` with each of `overrides` added or replacing the value it had.
pub fn with_overrides(
    mut vars: Vec<(String, String)>,
    overrides: &[(&str, &str)],
) -> Vec<(String, String)> {
    for (key, value) in overrides {
        vars.retain(|(k, _)| k != key);
        vars.push((key.to_string(), value.to_string()));
    }
    vars
}

/// The test database's URL: `DATABASE_URL` with the database `#[sqlx::test]` made.
pub async fn database_url(pool: &PgPool) -> String {
    let name: String = sqlx::query_scalar("select current_database()")
        .fetch_one(pool)
        .await
        .unwrap();
    // Read the way #[sqlx::test] reads it (the environment, then .env).
    let base = dotenvy::var("DATABASE_URL").expect("DATABASE_URL is set for #[sqlx::test]");
    let mut url = reqwest::Url::parse(&base).expect("DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// The session row as a story compares it: what a refusal must leave untouched.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Row {
    pub status: String,
    pub version: i32,
    pub items: i64,
    pub activity: i64,
    pub rejection_reason: Option<String>,
    pub card_message: Option<String>,
}

/// The session as the database has it.
pub async fn row(pool: &PgPool, session: i64) -> Row {
    sqlx::query_as(
        "select status, version, rejection_reason, card_message, \
                (select count(*) from session_item where session_id = s.id) as items, \
                (select count(*) from activity where session_id = s.id) as activity \
         from session s where id = $1",
    )
    .bind(session)
    .fetch_one(pool)
    .await
    .unwrap()
}

pub async fn sessions(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from session")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Makes the session's pending `kind` job due now (by the database clock).
pub async fn make_due(pool: &PgPool, session: i64, kind: &str) {
    let moved = sqlx::query(
        "update job set next_attempt_at = now() \
         where session_id = $1 and kind = $2 and state = 'pending'",
    )
    .bind(session)
    .bind(kind)
    .execute(pool)
    .await
    .unwrap();
    assert_eq!(
        moved.rows_affected(),
        1,
        "no pending {kind} job for #{session}"
    );
}

/// Waits until the session reaches `status`.
pub async fn wait_status(pool: &PgPool, session: i64, status: &str, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let now = row(pool, session).await.status;
        if now == status {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "#{session} stayed {now}, expected {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The number after `prefix` in `text`, e.g. 12 in "Drafted #12. Add ...".
pub fn session_number(text: &str, prefix: &str) -> Option<i64> {
    let rest = &text[text.find(prefix)? + prefix.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}
