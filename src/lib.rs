//! flashsale-bot: run a marketplace's flash sales from chat.
//!
//! Editors draft a session (a time slot showing exactly six discounted SKUs),
//! approvers lock it, and the bot publishes it to the storefront on time.
//! This crate is the whole bot; `main.rs` only picks the run mode, and
//! `runtime` wires it. `tests/layering/` checks the layering below.
//!
//! Layout:
//! - `domain`: the pure rules (value types, the status machine, session rules).
//!   No IO, no async.
//! - `app`: the use cases, one service per audience: `Desk` (what editors and
//!   approvers do), `Queries` (what people read), `Operations` (what the
//!   scheduler needs). Each loads, decides with `domain` and writes with
//!   `store`, in one transaction per mutation.
//! - `store`: Postgres through sqlx; every query of the use cases and the
//!   scheduler (`leader` and `http` run their own one-line lock and probe).
//! - `storefront`: the storefront's flash-sale API (publish, read back, end), signed.
//! - `catalog`: the live product catalog (names, prices, stock) over HTTP, cached briefly.
//! - `medusa`: a Medusa v2 store as both the catalog and the storefront (a
//!   sale is a price list Medusa switches by its own clock).
//! - `shopify`: a Shopify store as both the catalog and the storefront, through
//!   the Admin GraphQL API (automatic discounts or variant prices).
//! - `import`: Marketing's spreadsheets (.xlsx, .xls, .ods, .csv) read into
//!   item rows with their row numbers; pure, no IO.
//! - `render`: pictures for chat (a session's Flash Sale section, the digest's
//!   timeline) as SVG and PNG; pure, no browser.
//! - `chat`: the chat port alone (messages, text with typed times and
//!   commands, button ids, the `Chat` trait); it names nothing in `app`.
//! - `platforms`: the chat adapters, one folder each (Discord, Slack, the
//!   console): they parse input into domain types, call one use case and
//!   render its view, and implement `Chat`; above `app` in the import graph.
//! - `clock`: which clock decides what (the database's for the scheduler, the
//!   app's `Clock` for rules at the moment of a command).
//! - `config`: typed configuration from the environment, checked at start-up;
//!   one module per part (database, storefront, catalog, policy, host,
//!   scheduler, chat, Discord, Slack).
//! - `devstore`: the dev storefront (not production): the storefront contract in memory, for local runs and tests.
//! - `scheduler`: runs each session's due jobs (reminders, publish, end, expiry)
//!   exactly once across replicas, the outbox's deliveries, the reconciler and
//!   the daily digest's cron; what they do to sessions goes through `Operations`.
//! - `leader`: which bot process holds the Discord gateway (a Postgres
//!   advisory lock on a connection of its own); the others stand by.
//! - `runtime`: the only wiring: config, database, services, the chosen chat
//!   adapter, the background work, HTTP, leadership and shutdown, one module
//!   per run mode.
//! - `http`: the operations listener: `/healthz`, `/readyz` (`Readiness`), `/metrics`.
//! - `metrics`: the Prometheus metrics and the functions that record them.
//! - `telemetry`: logging set-up.
//! - `reference`: the short ids that lead from what chat shows to the log line
//!   with what it must not show (internal causes, transport details).

pub mod app;
pub mod catalog;
pub mod chat;
pub mod clock;
pub mod config;
pub mod devstore;
pub mod domain;
pub mod http;
pub mod import;
pub mod leader;
pub mod medusa;
pub mod metrics;
pub mod platforms;
pub mod reference;
pub mod render;
pub mod runtime;
pub mod scheduler;
pub mod shopify;
pub mod store;
pub mod storefront;
pub mod telemetry;
