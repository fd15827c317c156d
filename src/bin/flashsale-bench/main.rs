//! `flashsale-bench`: measures the figures that matter for flash sales and
//! prints them as a table (also written to `target/bench/results.json`, under `CARGO_TARGET_DIR`
//! when set).
//!
//!   flashsale-bench all                      every figure below
//!   flashsale-bench golive [--sessions N] [--spread-secs S] [--workers W]
//!   flashsale-bench golive-loaded [--editors E] [same as golive]
//!                                            go-live lateness while E editors run use cases
//!   flashsale-bench usecases [--secs S]      throughput and latency, six-slot race
//!   flashsale-bench process                  start-up time and idle memory of the bot
//!   flashsale-bench faults                   convergence under storefront faults
//!   flashsale-bench import                   time and peak memory of hostile import files
//!   flashsale-bench pictures [--pictures N]  time to draw a card's and the digest's picture
//!   flashsale-bench history                  the reconciler's scan with a long history vs none
//!   flashsale-bench medusa [--rounds N]      the Medusa adapter's calls against a real Medusa
//!                                            (MEDUSA_*; not part of `all`, which needs no Medusa)
//!
//! Needs `DATABASE_URL` (a server where it may create throwaway databases;
//! `scripts/bench.sh` starts one) and, for `process`, the release
//! `flashsale-bot` binary next to this one. Targets are printed next to each
//! figure and a missed one says MISSED; nothing here is asserted.

mod faults;
mod golive;
mod history;
mod import;
mod medusa;
mod pictures;
mod process;
mod races;
mod setup;
mod staged;
mod usecases;

use flashsale_bot::clock::{Clock, SystemClock};
use serde_json::{json, Value};

/// One line of the table.
pub struct Figure {
    pub name: &'static str,
    pub value: String,
    pub target: &'static str,
    pub met: Option<bool>,
    pub json: Value,
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("worker") => golive::worker().await,
        Some("import-one") => match args.get(1) {
            Some(path) => import::one(path),
            None => Err(anyhow::anyhow!("import-one needs a file")),
        },
        Some("all") => run(&args[1..], Parts::ALL).await,
        Some("golive") => {
            run(
                &args[1..],
                Parts {
                    golive: true,
                    ..Parts::NONE
                },
            )
            .await
        }
        Some("golive-loaded") => {
            run(
                &args[1..],
                Parts {
                    golive_loaded: true,
                    ..Parts::NONE
                },
            )
            .await
        }
        Some("usecases") => {
            run(
                &args[1..],
                Parts {
                    usecases: true,
                    ..Parts::NONE
                },
            )
            .await
        }
        Some("process") => {
            run(
                &args[1..],
                Parts {
                    process: true,
                    ..Parts::NONE
                },
            )
            .await
        }
        Some("faults") => {
            run(
                &args[1..],
                Parts {
                    faults: true,
                    ..Parts::NONE
                },
            )
            .await
        }
        Some("import") => {
            run(
                &args[1..],
                Parts {
                    import: true,
                    ..Parts::NONE
                },
            )
            .await
        }
        Some("history") => {
            run(
                &args[1..],
                Parts {
                    history: true,
                    ..Parts::NONE
                },
            )
            .await
        }
        Some("medusa") => {
            run(
                &args[1..],
                Parts {
                    medusa: true,
                    ..Parts::NONE
                },
            )
            .await
        }
        Some("staged") => {
            run(
                &args[1..],
                Parts {
                    staged: true,
                    ..Parts::NONE
                },
            )
            .await
        }
        Some("pictures") => {
            run(
                &args[1..],
                Parts {
                    pictures: true,
                    ..Parts::NONE
                },
            )
            .await
        }
        _ => {
            eprintln!(
                "usage: flashsale-bench all | golive [--sessions N] [--spread-secs S] [--workers W] | golive-loaded [--editors E] [golive's options] | usecases [--secs S] | process | faults | import | pictures [--pictures N] | history | medusa [--rounds N] | staged [--rounds N] [--stop-before-secs S]"
            );
            std::process::exit(2);
        }
    };
    if let Err(e) = outcome {
        eprintln!("flashsale-bench: {e:#}");
        std::process::exit(1);
    }
}

/// Which figures to measure.
#[derive(Clone, Copy)]
struct Parts {
    golive: bool,
    /// Go-live lateness while editors run use cases on the same database.
    golive_loaded: bool,
    usecases: bool,
    process: bool,
    faults: bool,
    /// Hostile import files; needs no database.
    import: bool,
    pictures: bool,
    /// The reconciler's scan with a long history.
    history: bool,
    /// The Medusa adapter's calls; needs a Medusa (MEDUSA_*), so `all` leaves it out.
    medusa: bool,
    /// Staged go-live on Medusa, as shoppers see it; needs a Medusa too.
    staged: bool,
}

impl Parts {
    const NONE: Parts = Parts {
        golive: false,
        golive_loaded: false,
        usecases: false,
        process: false,
        faults: false,
        import: false,
        pictures: false,
        history: false,
        medusa: false,
        staged: false,
    };
    const ALL: Parts = Parts {
        golive: true,
        golive_loaded: true,
        usecases: true,
        process: true,
        faults: true,
        import: true,
        pictures: true,
        history: true,
        medusa: false,
        staged: false,
    };
}

async fn run(args: &[String], parts: Parts) -> anyhow::Result<()> {
    let mut figures = Vec::new();
    if parts.golive {
        figures.extend(golive::measure(args).await?);
    }
    if parts.golive_loaded {
        figures.extend(golive::measure_loaded(args).await?);
    }
    if parts.usecases {
        figures.extend(usecases::measure(args).await?);
    }
    if parts.pictures {
        figures.extend(pictures::measure(args).await?);
    }
    if parts.process {
        figures.extend(process::measure().await?);
    }
    if parts.faults {
        figures.extend(faults::measure().await?);
    }
    if parts.import {
        figures.extend(import::measure().await?);
    }
    if parts.history {
        figures.extend(history::measure().await?);
    }
    if parts.medusa {
        figures.extend(medusa::measure(args).await?);
    }
    if parts.staged {
        figures.extend(staged::measure(args).await?);
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let commit = std::env::var("FLASHSALE_COMMIT").unwrap_or_else(|_| "unknown".to_owned());
    // The report's date: when it was measured, by the host's clock.
    let measured_at = SystemClock.now().to_rfc3339();
    println!("\nmachine: {cores} cores · {measured_at} · commit {commit}\n");
    println!("| figure | measured | target | |\n|---|---|---|---|");
    for f in &figures {
        let verdict = match f.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        };
        println!("| {} | {} | {} | {verdict} |", f.name, f.value, f.target);
    }
    let report = json!({
        "date": measured_at,
        "cores": cores,
        "commit": commit,
        "figures": figures.iter().map(|f| json!({
            "figure": f.name, "measured": f.value, "target": f.target, "met": f.met, "data": f.json,
        })).collect::<Vec<_>>(),
    });
    // Beside the binaries, as cargo places them: another checkout's run (or a shared
    // CARGO_TARGET_DIR) must not find this one's figures in its own ./target.
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(
            || std::path::PathBuf::from("target"),
            std::path::PathBuf::from,
        )
        .join("bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    eprintln!("written {}", path.display());
    Ok(())
}

/// `--name N` from the arguments, or `default`.
pub fn option(args: &[String], name: &str, default: u64) -> anyhow::Result<u64> {
    use anyhow::Context;
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("{name} needs a whole number")),
    }
}

/// The value at quantile `q` (0..=1) of sorted samples.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
