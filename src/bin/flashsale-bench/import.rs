//! Hostile and heavy import files: how long `import::read` takes and how much
//! memory it holds for each, measured in a child process (`flashsale-bench
//! import-one <file>`) so every file starts from the same idle process and
//! its peak (`VmHWM`) is its own. The files are the ones the tests refuse
//! (`import::samples`), at the 2 MiB upload limit's scale.

use std::time::Instant;

use anyhow::Context;
use flashsale_bot::import::samples::{self, Bomb};
use flashsale_bot::import::{self, MAX_FILE_BYTES};
use serde_json::{json, Value};

use crate::process::rss_kib;
use crate::Figure;

const MIB: u64 = 1024 * 1024;
/// The targets: any file up to the upload limit answered within 2 s, with at
/// most 100 MB more than the idle process.
const MAX_MS: f64 = 2000.0;
const MAX_PEAK_MB: f64 = 100.0;

/// The files: (name, bytes).
fn files() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let bomb = |kind, bytes| samples::xlsx(&samples::SESSION_TABLE, Some((kind, bytes)));
    let mut out = vec![
        (
            "huge-cell-1.1GB.xlsx".to_owned(),
            bomb(Bomb::HugeCell, 1100 * MIB)?,
        ),
        (
            "whitespace-1.1GB.xlsx".to_owned(),
            bomb(Bomb::Whitespace, 1100 * MIB)?,
        ),
        (
            "empty-rows-12MB.xlsx".to_owned(),
            bomb(Bomb::EmptyRows, 12 * MIB)?,
        ),
        (
            "empty-rows-3MB.xlsx".to_owned(),
            bomb(Bomb::EmptyRows, 3 * MIB)?,
        ),
        (
            "whitespace-1MB.xlsx".to_owned(),
            bomb(Bomb::Whitespace, MIB)?,
        ),
        ("cell-64k.xlsx".to_owned(), bomb(Bomb::HugeCell, 32 * 1024)?),
        (
            "plain.xlsx".to_owned(),
            samples::xlsx(&samples::SESSION_TABLE, None)?,
        ),
    ];
    let mut corner = samples::session_cells();
    out.push(("plain.xls".to_owned(), samples::xls(&corner)));
    corner.push((65_535, 255, "1"));
    out.push(("corner.xls".to_owned(), samples::xls(&corner)));
    for (name, bytes) in &out {
        anyhow::ensure!(
            bytes.len() as u64 <= MAX_FILE_BYTES,
            "{name} is {} bytes, over the upload limit",
            bytes.len()
        );
    }
    Ok(out)
}

/// The child: reads one file and prints what it cost as one JSON line.
pub fn one(path: &str) -> anyhow::Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
    let name = std::path::Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file")
        .to_owned();
    let me = std::process::id();
    let before = rss_kib(me, "VmHWM:").context("no /proc/self/status")?;
    let started = Instant::now();
    let outcome = import::read(&name, &bytes, None);
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let after = rss_kib(me, "VmHWM:").context("no /proc/self/status")?;
    let (accepted, answer) = match outcome {
        Ok(sheet) => (true, format!("{} rows", sheet.rows.len())),
        Err(e) => (false, e.to_string()),
    };
    println!(
        "{}",
        json!({ "ms": ms, "peak_kib": after.saturating_sub(before), "accepted": accepted, "answer": answer })
    );
    Ok(())
}

pub async fn measure() -> anyhow::Result<Vec<Figure>> {
    let exe = std::env::current_exe()?;
    let dir = std::path::Path::new("target/bench/import");
    std::fs::create_dir_all(dir)?;
    eprintln!("import: building the files...");
    let mut results = Vec::new();
    for (name, bytes) in files()? {
        let path = dir.join(&name);
        std::fs::write(&path, &bytes)?;
        let output = tokio::process::Command::new(&exe)
            .arg("import-one")
            .arg(&path)
            .output()
            .await?;
        anyhow::ensure!(
            output.status.success(),
            "import-one {name} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut line: Value = serde_json::from_slice(&output.stdout)?;
        line["file"] = json!(name);
        line["file_kib"] = json!(bytes.len().div_ceil(1024));
        eprintln!("import: {line}");
        results.push(line);
    }
    let worst = |accepted: bool| -> Figure {
        let of_kind = results.iter().filter(|r| r["accepted"] == accepted);
        // The worst is the slowest; its peak is reported with the highest peak of the kind.
        let slowest = of_kind.clone().max_by(|a, b| {
            a["ms"]
                .as_f64()
                .unwrap_or(0.0)
                .total_cmp(&b["ms"].as_f64().unwrap_or(0.0))
        });
        let peak = of_kind
            .clone()
            .max_by_key(|r| r["peak_kib"].as_u64().unwrap_or(0));
        let ms = slowest.and_then(|r| r["ms"].as_f64()).unwrap_or(f64::NAN);
        let peak_mb = peak.and_then(|r| r["peak_kib"].as_u64()).unwrap_or(0) as f64 / 1024.0;
        let name_of = |r: Option<&Value>| r.map(|r| r["file"].to_string()).unwrap_or_default();
        Figure {
            name: if accepted {
                "import, worst accepted file"
            } else {
                "import, worst refused file"
            },
            value: format!(
                "{ms:.0} ms ({}), peak +{peak_mb:.1} MB ({})",
                name_of(slowest),
                name_of(peak)
            ),
            target: "<= 2 s and <= 100 MB above idle, any file up to 2 MiB",
            met: Some(ms <= MAX_MS && peak_mb <= MAX_PEAK_MB),
            json: json!(of_kind.collect::<Vec<_>>()),
        }
    };
    Ok(vec![worst(true), worst(false)])
}
