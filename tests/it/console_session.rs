//! The real `flashsale-bot console` binary driven through stdin and stdout,
//! against a fresh database and the dev storefront on loopback: what a
//! newcomer types after `scripts/start.sh`.
//!
//! Every read has a timeout, so a console that hangs fails the test instead
//! of blocking CI. `Console::expect` waits for a line containing some text
//! and returns what was printed up to it, so a longer story (go-live) can
//! wait for "is now live" the same way.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flashsale_bot::devstore::{self, DevStore};
use reqwest::Url;
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::time::timeout;

/// Long enough for a cold start on a slow CI machine, short enough to fail fast.
const STEP: Duration = Duration::from_secs(30);

/// A start far enough ahead that the approval deadline (an hour before) is
/// never near, whenever the test runs.
const DRAFT: &str =
    r#"/flashsale draft title:"Midnight Deals" start:"tomorrow 12:00" end:"tomorrow 18:00""#;

/// The running console and everything it printed.
pub struct Console {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
    /// Every stdout line read so far, for failure messages.
    transcript: Vec<String>,
    /// The logs, for failure messages.
    stderr: Arc<Mutex<String>>,
}

impl Console {
    /// Starts `flashsale-bot console` on `pool`'s database, with the catalog
    /// (and publishing) at `store`. `env` adds or overrides variables.
    pub async fn start(pool: &PgPool, store: &DevStore, env: &[(&str, &str)]) -> Console {
        Console::start_in(pool, store, env, &std::env::temp_dir()).await
    }

    /// As [`Console::start`], running in the folder `cwd`.
    pub async fn start_in(
        pool: &PgPool,
        store: &DevStore,
        env: &[(&str, &str)],
        cwd: &std::path::Path,
    ) -> Console {
        let mut command = Command::new(env!("CARGO_BIN_EXE_flashsale-bot"));
        command
            .arg("console")
            // No .env from the developer's checkout: only what the test sets.
            .current_dir(cwd)
            .env_remove("DISCORD_TOKEN")
            .env("DATABASE_URL", database_url(pool).await)
            .env("STOREFRONT_URL", store.url())
            .env("STOREFRONT_WEBHOOK_SECRET", devstore::test_secret())
            .env("RUST_LOG", "warn")
            // Parallel consoles cannot share the default port.
            .env("HTTP_ADDR", "127.0.0.1:0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("the console binary starts");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(mut pipe) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            tokio::spawn(async move {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text).await;
                sink.lock().unwrap().push_str(&text);
            });
        }
        let mut console = Console {
            child,
            stdin,
            stdout,
            transcript: Vec::new(),
            stderr,
        };
        console.expect("Acting as you", STEP).await;
        console
    }

    /// Types one line.
    pub async fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("the console reads its input");
        stdin.flush().await.expect("flushed");
    }

    /// Reads until a line contains `needle`; returns the lines read, that one last.
    pub async fn expect(&mut self, needle: &str, within: Duration) -> Vec<String> {
        let mut read = Vec::new();
        let found = timeout(within, async {
            while let Ok(Some(line)) = self.stdout.next_line().await {
                self.transcript.push(line.clone());
                let hit = line.contains(needle);
                read.push(line);
                if hit {
                    return true;
                }
            }
            false
        })
        .await;
        if found != Ok(true) {
            let why = if found.is_err() {
                "timed out"
            } else {
                "stdout closed"
            };
            panic!(
                "{why} waiting for {needle:?}.\n--- stdout ---\n{}\n--- stderr ---\n{}",
                self.transcript.join("\n"),
                self.stderr.lock().unwrap()
            );
        }
        read
    }

    /// Kills the process outright (SIGKILL): no shutdown, no hand-back.
    pub async fn kill(mut self) -> Vec<String> {
        self.child.kill().await.expect("the console can be killed");
        self.transcript
    }

    /// Every stdout line read so far.
    pub fn transcript(&self) -> &[String] {
        &self.transcript
    }

    /// Closes stdin (EOF) and checks that the console says goodbye and exits cleanly.
    pub async fn finish(mut self) {
        drop(self.stdin.take());
        self.expect("Bye.", STEP).await;
        let status = timeout(STEP, self.child.wait())
            .await
            .expect("the console exits after EOF")
            .expect("exit status");
        assert!(status.success(), "exit status {status}");
    }
}

/// `DATABASE_URL` pointed at the test's own database.
async fn database_url(pool: &PgPool) -> String {
    let name: String = sqlx::query_scalar("select current_database()")
        .fetch_one(pool)
        .await
        .expect("database name");
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for the tests");
    let mut url = Url::parse(&base).expect("DATABASE_URL is a URL");
    url.set_path(&name);
    url.to_string()
}

pub use crate::support::storefront::dev_storefront;

/// The id in `Drafted #12. Add six SKUs ...`
pub fn draft_id(lines: &[String]) -> i64 {
    let line = lines.last().expect("a draft line");
    let digits: String = line
        .split('#')
        .nth(1)
        .unwrap_or_default()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no id in {line:?}"))
}

/// Drafts a session as the current person and fills it with six SKUs, three
/// typed and three pasted. Returns its id.
pub async fn draft_with_six_skus(console: &mut Console) -> i64 {
    console.send(DRAFT).await;
    let id = draft_id(&console.expect("Drafted #", STEP).await);
    for (sku, discount) in [("FS-001", "30"), ("FS-002", "25%"), ("FS-003", "40")] {
        console
            .send(&format!(
                "/flashsale add-sku session:{id} sku:{sku} discount:{discount} quantity:10"
            ))
            .await;
        console.expect(&format!("Added {sku} to #{id}"), STEP).await;
    }
    console
        .send(&format!("/flashsale add-sku session:{id}"))
        .await;
    console.expect("Paste up to six lines", STEP).await;
    for line in ["FS-004\t20%\t10", "FS-005, 15, 5", "FS-006 10 % 1", "."] {
        console.send(line).await;
    }
    let report = console.expect("Added 3 of 3 lines", STEP).await;
    assert!(
        report.iter().any(|l| l.contains("Pasted into #")),
        "{report:?}"
    );
    console.expect("6 of 6 SKUs", STEP).await;
    id
}

async fn status(pool: &PgPool, id: i64) -> String {
    sqlx::query_scalar("select status from session where id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("the session is stored")
}

#[sqlx::test]
async fn an_editor_drafts_and_submits_and_another_person_approves_from_the_card(pool: PgPool) {
    let store = dev_storefront().await;
    let mut console = Console::start(&pool, &store, &[]).await;

    console.send("as alice editor").await;
    console.expect("Acting as alice (editor).", STEP).await;
    let id = draft_with_six_skus(&mut console).await;

    console
        .send(&format!("/flashsale submit session:{id}"))
        .await;
    let card = console.expect(&format!("Submitted #{id}"), STEP).await;
    assert!(
        card.iter().any(|l| l.contains("── #approvals")),
        "{card:#?}"
    );
    assert!(
        card.iter().any(|l| l.starts_with("@approvers")),
        "{card:#?}"
    );
    assert!(
        card.iter().any(|l| l.contains("Pending approval │")),
        "{card:#?}"
    );
    assert!(
        card.iter().any(|l| l.starts_with("[1 Approve] [2 Reject]")),
        "{card:#?}"
    );
    assert_eq!(status(&pool, id).await, "pending_approval");

    console.send("as bob approver").await;
    console.expect("Acting as bob (approver).", STEP).await;
    console.send(&format!("press approve {id}")).await;
    let approved = console.expect(&format!("Approved #{id}"), STEP).await;
    assert!(
        approved.iter().any(|l| l.contains("card updated")),
        "{approved:#?}"
    );
    assert!(
        approved
            .iter()
            .any(|l| l.contains(&format!("✓ #{id} Midnight Deals")) && l.contains("Approved │")),
        "the card shows Approved: {approved:#?}"
    );
    assert!(
        !approved.iter().any(|l| l.contains("[1 Approve]")),
        "an approved card has no buttons: {approved:#?}"
    );
    assert_eq!(status(&pool, id).await, "approved");

    console.finish().await;
}

#[sqlx::test]
async fn an_editor_pressing_approve_is_refused_and_nothing_changes(pool: PgPool) {
    let store = dev_storefront().await;
    let mut console = Console::start(&pool, &store, &[]).await;

    console.send("as alice editor").await;
    console.expect("Acting as alice", STEP).await;
    let id = draft_with_six_skus(&mut console).await;
    console.send(&format!("submit session:{id}")).await;
    console.expect(&format!("Submitted #{id}"), STEP).await;

    console.send("press approve").await;
    let refused = console.expect("✗", STEP).await;
    assert!(
        refused.last().is_some_and(|l| l.contains("approvers")),
        "{refused:#?}"
    );
    // With both roles, alice is still the one who drafted it: four eyes.
    console.send("as alice both").await;
    console
        .expect("Acting as alice (editor and approver).", STEP)
        .await;
    console.send("press 1").await;
    let refused = console.expect("✗", STEP).await;
    assert!(
        refused.last().is_some_and(|l| l.contains("four-eyes")),
        "{refused:#?}"
    );
    // Bad input is explained and changes nothing either.
    console.send("/flashsale withdraw session:x").await;
    console.expect("is not a session number", STEP).await;
    assert_eq!(status(&pool, id).await, "pending_approval");

    console.send("quit").await;
    console.finish().await;
}

#[sqlx::test]
async fn an_approver_rejects_with_a_reason_typed_on_the_next_line_and_confirmed(pool: PgPool) {
    let store = dev_storefront().await;
    let mut console = Console::start(&pool, &store, &[]).await;

    console.send("as alice editor").await;
    let id = draft_with_six_skus(&mut console).await;
    console.send(&format!("submit session:{id}")).await;
    console.expect(&format!("Submitted #{id}"), STEP).await;

    console.send("as bob approver").await;
    // A command typed by mistake where the reason goes is not announced as the reason.
    console.send(&format!("press reject {id}")).await;
    console.expect("Reason?", STEP).await;
    console.send("as carol").await;
    console
        .expect(&format!("Reject #{id} with the reason \"as carol\"?"), STEP)
        .await;
    console.send("as carol").await;
    console
        .expect(&format!("Not rejected: #{id} is still waiting"), STEP)
        .await;
    assert_eq!(status(&pool, id).await, "pending_approval");

    console.send(&format!("press reject {id}")).await;
    console.expect("Reason?", STEP).await;
    console.send("FS-003 is out of season").await;
    console.expect("Type yes to reject", STEP).await;
    console.send("yes").await;
    let rejected = console.expect(&format!("Rejected #{id}"), STEP).await;
    assert!(
        rejected.iter().any(|l| l.starts_with("@alice")
            && l.contains("was rejected by bob: FS-003 is out of season")),
        "the submitter is told why: {rejected:#?}"
    );
    assert_eq!(status(&pool, id).await, "draft");

    console.finish().await;
}

#[sqlx::test]
async fn an_approved_session_goes_live_on_the_storefront_and_the_console_says_so(pool: PgPool) {
    let store = dev_storefront().await;
    // Look at the jobs every second, so moving the publish job to "now" is
    // picked up quickly (a NOTIFY is only sent when a plan changes).
    let mut console = Console::start(&pool, &store, &[("SCHEDULER_POLL_SECS", "1")]).await;

    console.send("as alice editor").await;
    let id = draft_with_six_skus(&mut console).await;
    console.send(&format!("submit session:{id}")).await;
    console.expect(&format!("Submitted #{id}"), STEP).await;
    console.send("as bob approver").await;
    console.send(&format!("press approve {id}")).await;
    console.expect(&format!("Approved #{id}"), STEP).await;

    // The session starts tomorrow; its publish job is made due now instead of waiting.
    let moved = sqlx::query(
        "update job set next_attempt_at = now() where session_id = $1 and kind = 'publish' and state = 'pending'",
    )
    .bind(id)
    .execute(&pool)
    .await
    .expect("the publish job is planned");
    assert_eq!(moved.rows_affected(), 1, "approval planned one publish job");

    let live = console.expect("is now live", STEP).await;
    assert!(
        live.iter().any(|l| l.contains("── #announcements")),
        "{live:#?}"
    );
    console.expect("Live │", STEP).await;
    assert_eq!(status(&pool, id).await, "live");
    let published: Vec<_> = store
        .calls()
        .into_iter()
        .filter(|c| c.method == "PUT" && c.path == format!("/api/flash-sales/{id}") && !c.replay)
        .collect();
    assert_eq!(published.len(), 1, "{published:#?}");
    assert_eq!(published[0].status, 200, "the signed publish was accepted");

    console.finish().await;
}

/// Without `dir:` the files go into `.local/exports` of the folder the console runs in (the checkout,
/// under scripts/start.sh, which git ignores), not into that folder itself.
#[sqlx::test]
async fn export_without_a_folder_writes_into_local_exports(pool: PgPool) {
    let cwd = std::env::temp_dir().join(format!("flashsale-cwd-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&cwd).unwrap();
    let store = dev_storefront().await;
    let mut console = Console::start_in(&pool, &store, &[], &cwd).await;
    let id = draft_with_six_skus(&mut console).await;

    console
        .send(&format!("/flashsale export session:{id}"))
        .await;
    console.expect(&format!("Exported #{id}"), STEP).await;
    console.expect(".xlsx", STEP).await;
    console
        .send(&format!("/flashsale log session:{id} export:true"))
        .await;
    console
        .expect(&format!("The activity log of #{id}"), STEP)
        .await;
    console.finish().await;

    let exports = cwd.join(".local/exports");
    for name in [
        format!("flashsale-{id}-midnight-deals.csv"),
        format!("flashsale-{id}-midnight-deals.xlsx"),
        format!("flashsale-{id}-log.csv"),
    ] {
        assert!(exports.join(&name).is_file(), "{name} not in {exports:?}");
        assert!(!cwd.join(&name).exists(), "{name} in the working folder");
    }
    let _ = std::fs::remove_dir_all(&cwd);
}

/// The path printed under a card for its picture (`🖼 Picture: <path>`), if any.
fn picture_path(lines: &[String]) -> Option<std::path::PathBuf> {
    lines
        .iter()
        .find_map(|l| l.strip_prefix("🖼 Picture: "))
        .map(std::path::PathBuf::from)
}

#[sqlx::test]
async fn the_card_prints_the_path_of_its_picture_and_an_update_redraws_it(pool: PgPool) {
    let store = dev_storefront().await;
    let dir = std::env::temp_dir().join(format!("console-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut console = Console::start_in(&pool, &store, &[], &dir).await;
    console.send("as alice editor").await;
    console.expect("Acting as alice", STEP).await;
    let id = draft_with_six_skus(&mut console).await;

    console.send(&format!("submit session:{id}")).await;
    let card = console.expect("🖼 Picture:", STEP).await;
    let path = picture_path(&card).expect("a picture line");
    assert_eq!(path, dir.join("pictures").join(format!("sale-{id}.png")));
    let pending = std::fs::read(&path).unwrap();
    let png = resvg::tiny_skia::Pixmap::decode_png(&pending).expect("a PNG");
    assert_eq!((png.width(), png.height()), (1200, 630));

    console.send("as bob approver").await;
    console.expect("Acting as bob", STEP).await;
    console.send(&format!("press approve {id}")).await;
    let updated = console.expect("🖼 Picture:", STEP).await;
    assert!(
        updated.iter().any(|l| l.contains("card updated")),
        "{updated:#?}"
    );
    assert_eq!(picture_path(&updated), Some(path.clone()));
    assert_ne!(
        std::fs::read(&path).unwrap(),
        pending,
        "the picture shows the new status"
    );
    console.finish().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The money guards at the console: a line below cost is refused with the
/// numbers (the sample catalog: FS-003 costs IDR 18,000), the editor cannot
/// override it, an override without a reason is refused, an approver's
/// override lets that line in and the card shows it.
#[sqlx::test]
async fn a_line_below_cost_is_refused_until_an_approver_overrides_it(pool: PgPool) {
    let store = dev_storefront().await;
    let mut console = Console::start(&pool, &store, &[]).await;

    console.send("as alice editor").await;
    console.send(DRAFT).await;
    let id = draft_id(&console.expect("Drafted #", STEP).await);
    let add = format!("/flashsale add-sku session:{id} sku:FS-003 discount:70 quantity:5");
    console.send(&add).await;
    console
        .expect(
            "FS-003 at 70% would sell at IDR 9,870, below its cost IDR 18,000 plus the 5 % floor: \
             the deepest allowed is 42%.",
            STEP,
        )
        .await;
    let give = format!(
        r#"/flashsale override session:{id} sku:FS-003 discount:70 reason:"clearance, cost written off""#
    );
    console.send(&give).await;
    console
        .expect("Only an approver can override a money guard.", STEP)
        .await;

    console.send("as bob approver").await;
    console
        .send(&format!(
            "/flashsale override session:{id} sku:FS-003 discount:70"
        ))
        .await;
    console
        .expect("/flashsale override needs reason", STEP)
        .await;
    console
        .send(&format!(
            r#"/flashsale override session:{id} sku:FS-003 discount:70 reason:" ""#
        ))
        .await;
    console
        .expect(
            "A reason is required: say why the guard may be overridden.",
            STEP,
        )
        .await;
    console.send(&give).await;
    console
        .expect(
            &format!("Overrode the money guards for FS-003 at 70% in #{id}."),
            STEP,
        )
        .await;

    console.send("as alice editor").await;
    console.send(&add).await;
    console
        .expect(&format!("Added FS-003 to #{id}."), STEP)
        .await;
    console
        .expect(
            "Override: FS-003 at 70% allowed by bob: clearance, cost written off",
            STEP,
        )
        .await;
    console.finish().await;
}

/// What `flashsale-bot <mode>` prints on stderr when it cannot start, with
/// `DATABASE_URL` set to `url` and nothing from a `.env`.
async fn refused_start(mode: &str, url: &str) -> String {
    let output = timeout(
        STEP,
        Command::new(env!("CARGO_BIN_EXE_flashsale-bot"))
            .arg(mode)
            .current_dir(std::env::temp_dir())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", url)
            .env("STOREFRONT_WEBHOOK_SECRET", devstore::test_secret())
            .env("HTTP_ADDR", "off")
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .expect("a refused start ends within the step")
    .expect("the binary runs");
    assert!(
        !output.status.success(),
        "{mode} started without a database"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn an_unreachable_database_is_named_with_its_host_and_the_cause_said_once() {
    // A port nothing listens on: bound, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let closed = format!("postgres://postgres@127.0.0.1:{port}/flashsale");
    for mode in ["migrate", "console"] {
        let said = refused_start(mode, &closed).await;
        assert!(
            said.contains(&format!("could not reach the database at 127.0.0.1:{port}")),
            "{said}"
        );
        assert_eq!(said.matches("refused").count(), 1, "{said}");
        assert!(!said.contains("pool timed out"), "{said}");
    }
    let unknown_host = "postgres://postgres@flashsale-no-such-host.invalid/flashsale";
    let said = refused_start("migrate", unknown_host).await;
    assert!(
        said.contains("could not reach the database at flashsale-no-such-host.invalid:5432"),
        "{said}"
    );
    assert_eq!(said.matches("error communicating").count(), 1, "{said}");
}
