//! The `flashsale-dev-storefront` binary: runs the dev storefront (`flashsale_bot::devstore`) until
//! Ctrl-C, so the bot can be tried end to end on one machine. Not production code: see the module.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context};
use flashsale_bot::config::LogFormat;
use flashsale_bot::{devstore, telemetry};

/// The secret signed calls must verify against; the bot signs with the same value.
const SECRET_VAR: &str = "STOREFRONT_WEBHOOK_SECRET";
/// Loopback by default: `/admin` has no auth.
const DEFAULT_ADDR: &str = "127.0.0.1:8088";

const USAGE: &str = "\
Usage: flashsale-dev-storefront [--addr HOST:PORT] [--catalog PATH] [--state PATH] [--publish-at-start]

A local stand-in for the marketplace storefront: serves the product catalog and the flash-sale
API the bot calls, verifies Standard Webhooks signatures, and shows the Flash Sale section at /.
For development and tests only.

Options:
  --addr HOST:PORT   Where to listen (default 127.0.0.1:8088).
  --catalog PATH     A JSON list of products (default: the embedded data/sample-catalog.json).
  --state PATH       Keep the sales (and the revisions applied) in this JSON file, read at start
                     and written after every change, so a restart does not lose them. Without it
                     the sales live in memory only. scripts/start.sh gives each database its own.
  --publish-at-start Do not tell the bot this shop schedules sales (GET /api/capabilities), so
                     it publishes each sale at its start instead of staging it at approval.
  -h, --help         Show this help.

Environment (or .env):
  STOREFRONT_WEBHOOK_SECRET   whsec_... secret for signed calls (default: the public dev secret).
  RUST_LOG                    log filter (default: info).";

/// What the command line asked for.
struct Args {
    addr: SocketAddr,
    catalog: Option<PathBuf>,
    state_file: Option<PathBuf>,
    schedules_sales: bool,
}

#[tokio::main]
async fn main() {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return;
        }
        Err(error) => {
            eprintln!("flashsale-dev-storefront: {error:#}\n\n{USAGE}");
            std::process::exit(1);
        }
    };
    if let Err(error) = run(args).await {
        eprintln!("flashsale-dev-storefront: {error:#}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    // A missing .env is normal; when present it lets the bot and this server share the secret.
    let _ = dotenvy::dotenv();
    telemetry::init(LogFormat::Text);

    let products = match &args.catalog {
        Some(path) => devstore::load_catalog(path)?,
        None => devstore::sample_catalog()?,
    };
    let webhook_secret = match std::env::var(SECRET_VAR) {
        Ok(secret) if !secret.trim().is_empty() => secret,
        Ok(_) | Err(std::env::VarError::NotPresent) => {
            tracing::warn!(
                "{SECRET_VAR} is not set: using the public dev secret, fine for local runs only"
            );
            devstore::test_secret()
        }
        Err(std::env::VarError::NotUnicode(_)) => bail!("{SECRET_VAR} is not valid UTF-8"),
    };

    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let count = products.len();
    let store = devstore::spawn(
        listener,
        devstore::DevStoreConfig {
            products,
            webhook_secret,
            schedules_sales: args.schedules_sales,
            state_file: args.state_file.clone(),
        },
    )
    .await?;
    tracing::info!(
        products = count,
        "dev storefront listening on {}",
        store.url()
    );
    tracing::info!("Flash Sale page: {}/", store.url());
    if let Some(path) = &args.state_file {
        tracing::info!("sales kept in {}", path.display());
    }

    if let Err(error) = tokio::signal::ctrl_c().await {
        tracing::error!(%error, "cannot wait for Ctrl-C; stopping now");
    }
    tracing::info!("stopping");
    store.shutdown().await;
    Ok(())
}

/// `Ok(None)` means "print the help".
fn parse_args(mut raw: impl Iterator<Item = String>) -> anyhow::Result<Option<Args>> {
    let mut addr = DEFAULT_ADDR.to_owned();
    let mut catalog = None;
    let mut state_file = None;
    let mut schedules_sales = true;
    while let Some(arg) = raw.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| raw.next())
                .with_context(|| format!("{name} needs a value"))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--addr" => addr = value()?,
            "--catalog" => catalog = Some(PathBuf::from(value()?)),
            "--state" => state_file = Some(PathBuf::from(value()?)),
            "--publish-at-start" => schedules_sales = false,
            other => bail!("unknown argument {other:?}"),
        }
    }
    let addr = addr
        .parse()
        .with_context(|| format!("--addr {addr:?} is not HOST:PORT, e.g. 127.0.0.1:8088"))?;
    Ok(Some(Args {
        addr,
        catalog,
        state_file,
        schedules_sales,
    }))
}
