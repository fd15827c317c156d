//! Debian's pgbouncer in front of the test database, in a pool mode of the
//! test's choosing: the start-up check that refuses transaction pooling is
//! tried against the real thing, not a simulation.
//!
//! `scripts/test.sh` installs pgbouncer (`scripts/pgbouncer.sh`) and sets
//! `FLASHSALE_REQUIRE_PGBOUNCER=1` once it is there; then a missing binary
//! fails the test. Without that variable (a bare `cargo test` on a machine
//! without pgbouncer) the test says why and skips.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::process::{Child, Command};

/// The pooler's `pool_mode`.
#[derive(Debug, Clone, Copy)]
pub enum PoolMode {
    Session,
    Transaction,
}

impl PoolMode {
    fn as_str(self) -> &'static str {
        match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
        }
    }
}

/// A running pgbouncer; killed (and its folder removed) when dropped.
pub struct PgBouncer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PGBOUNCER") {
        return Some(PathBuf::from(path));
    }
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    candidates
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("pgbouncer"))
        .find(|path| path.is_file())
}

/// pgbouncer refuses to run as root: the uid and gid of `nobody`, when we are root.
fn unprivileged() -> Option<(u32, u32)> {
    let me = std::process::Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&me.stdout).trim() != "0" {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&"nobody"))
            .then(|| Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?)))
            .flatten()
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl PgBouncer {
    /// Starts pgbouncer in `mode` in front of the database `pool` is
    /// connected to. `None` when pgbouncer is not installed and the run does
    /// not require it (the reason is printed).
    pub async fn start(pool: &PgPool, mode: PoolMode) -> Option<PgBouncer> {
        let Some(binary) = binary() else {
            assert!(
                std::env::var_os("FLASHSALE_REQUIRE_PGBOUNCER").is_none(),
                "FLASHSALE_REQUIRE_PGBOUNCER is set but no pgbouncer binary was found (scripts/pgbouncer.sh installs it)"
            );
            eprintln!(
                "SKIPPED: pgbouncer is not installed, so the {} pooling check is not tried against it \
                 (scripts/test.sh installs it; or apt-get install pgbouncer)",
                mode.as_str()
            );
            return None;
        };
        let database: String = sqlx::query_scalar("select current_database()")
            .fetch_one(pool)
            .await
            .unwrap();
        let upstream = reqwest::Url::parse(
            &dotenvy::var("DATABASE_URL").expect("DATABASE_URL is set for #[sqlx::test]"),
        )
        .expect("DATABASE_URL is a URL");
        let host = upstream.host_str().unwrap_or("127.0.0.1").to_owned();
        let upstream_port = upstream.port().unwrap_or(5432);
        let user = match upstream.username() {
            "" => "postgres".to_owned(),
            user => user.to_owned(),
        };
        let dir = std::env::temp_dir().join(format!(
            "flashsale-pgbouncer-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        // Readable by `nobody` (the umask leaves others read access).
        std::fs::create_dir_all(&dir).unwrap();
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port();
            let ini = dir.join("pgbouncer.ini");
            // auth_type = any: the test cluster trusts loopback, and every
            // database below logs in as one user. extra_float_digits is a
            // startup parameter sqlx sends and pgbouncer does not track.
            let password = upstream
                .password()
                .map(|p| format!(" password={p}"))
                .unwrap_or_default();
            std::fs::write(
                &ini,
                format!(
                    "[databases]\n\
                     probe = host={host} port={upstream_port} dbname={database} user={user}{password}\n\
                     [pgbouncer]\n\
                     listen_addr = 127.0.0.1\n\
                     listen_port = {port}\n\
                     unix_socket_dir =\n\
                     auth_type = any\n\
                     pool_mode = {mode}\n\
                     ignore_startup_parameters = extra_float_digits\n",
                    mode = mode.as_str(),
                ),
            )
            .unwrap();
            let log = std::fs::File::create(dir.join("stderr.log")).unwrap();
            let mut command = Command::new(&binary);
            command
                .arg(&ini)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .kill_on_drop(true);
            if let Some((uid, gid)) = unprivileged() {
                command.uid(uid).gid(gid);
            }
            let mut child = command.spawn().expect("pgbouncer starts");
            if wait_until_listening(&mut child, port).await {
                return Some(PgBouncer { child, port, dir });
            }
            // Most likely the port was taken between the pick and the bind.
            last_error = std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default();
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
        let _ = std::fs::remove_dir_all(&dir);
        panic!(
            "pgbouncer did not start in {} mode:\n{last_error}",
            mode.as_str()
        );
    }

    /// The URL a bot would be given: the test database, through the pooler.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/probe", self.port)
    }
}

/// Whether pgbouncer took connections within a few seconds (false: it exited).
async fn wait_until_listening(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
