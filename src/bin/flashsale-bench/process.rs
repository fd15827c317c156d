//! The bot as a process: how fast `flashsale-bot console` is ready (database
//! migrated, scheduler running, banner printed) and how much memory it holds idle.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;
use tokio::io::AsyncBufReadExt;

use crate::setup::Bench;
use crate::{quantile, Figure};

const RUNS: usize = 5;

/// The `flashsale-bot` binary built beside this bench (release).
pub fn bot_exe() -> anyhow::Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?
        .parent()
        .context("no folder for the bench binary")?
        .join("flashsale-bot");
    anyhow::ensure!(
        exe.exists(),
        "{} is missing: build it with `cargo build --release --bins`",
        exe.display()
    );
    Ok(exe)
}

pub async fn measure() -> anyhow::Result<Vec<Figure>> {
    let bench = Bench::start("process").await?;
    let exe = bot_exe()?;
    eprintln!("process: starting the console bot {RUNS} times...");
    let mut startups = Vec::new();
    let mut idle = None;
    for run in 0..RUNS {
        let mut command = tokio::process::Command::new(&exe);
        command
            .arg("console")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        for (k, v) in &bench.env {
            command.env(k, v);
        }
        let started = Instant::now();
        let mut child = command.spawn()?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let banner = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
        anyhow::ensure!(
            matches!(banner, Ok(Ok(Some(_)))),
            "the console did not start"
        );
        startups.push(started.elapsed().as_secs_f64() * 1000.0);
        if run == RUNS - 1 {
            // Idle: ready, nothing to do but the scheduler's poll.
            tokio::time::sleep(Duration::from_secs(3)).await;
            idle = child.id().and_then(|pid| rss_kib(pid, "VmRSS:"));
        }
        drop(child.stdin.take());
        let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    }
    startups.sort_by(f64::total_cmp);
    let median = quantile(&startups, 0.5);
    let worst = startups[startups.len() - 1];
    let idle_mb = idle.map(|k| k as f64 / 1024.0);
    Ok(vec![
        Figure {
            name: "start-up to ready (console mode)",
            value: format!("median {median:.0} ms, worst {worst:.0} ms of {RUNS}"),
            target: "< 1 s",
            met: Some(worst < 1000.0),
            json: json!({ "runs_ms": startups }),
        },
        Figure {
            name: "memory: bot process idle (RSS)",
            value: idle_mb.map_or("unknown".to_owned(), |mb| format!("{mb:.1} MB")),
            target: "< 40 MB",
            met: idle_mb.map(|mb| mb < 40.0),
            json: json!({ "idle_rss_kib": idle }),
        },
    ])
}

/// A `Vm*` line of /proc/<pid>/status, in KiB.
pub fn rss_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
