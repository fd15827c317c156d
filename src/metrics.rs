//! Prometheus metrics: what `/metrics` serves.
//!
//! One registry of our own (not the `prometheus` crate's default one), built
//! lazily on first use and shared by the whole process. The recording
//! functions below are the only way in, so label values stay few and known:
//! a command name, a job kind, a storefront call, an outcome.
//!
//! Families:
//! - `flashsale_commands_total{command,outcome}`: chat commands answered
//!   (`ok`, `refused` when a rule or bad input said no, `duplicate` for a
//!   redelivered interaction, `error` when we failed).
//! - `flashsale_interaction_seconds`: from a command arriving to its answer.
//! - `flashsale_jobs_total{kind,outcome}`: scheduler jobs run (`done`,
//!   `retry`, `failed` for good, `error` for an internal failure retried later).
//! - `flashsale_golive_lateness_seconds`: how long after its due time a sale
//!   was published (only successful publishes).
//! - `flashsale_storefront_seconds{call}` and
//!   `flashsale_storefront_errors_total{call,kind}`: storefront API calls.
//! - `flashsale_leader`: 1 while this process holds the Discord gateway.
//! - `flashsale_outbox_posts_total{outcome}`: notices delivered from the
//!   outbox (`sent`, `retry` while the chat is unavailable, `refused`).
//! - `flashsale_reconcile_total{finding}`: what the reconciler found on the
//!   storefront (`agrees`, `taken_down`, `republished`, `unrepaired`,
//!   `unreadable`).
//! - `flashsale_pictures_total{picture,outcome}` and `flashsale_picture_seconds{picture}`:
//!   pictures drawn for chat (`sale`, `day`; `ok`, or `failed` when the message went without one:
//!   drawing failed or, in Slack, the upload did).

use std::sync::OnceLock;
use std::time::Duration;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// The metric families, registered in `registry`.
pub struct Metrics {
    /// Ours alone, so a library's metrics never leak into `/metrics`.
    registry: Registry,
    commands: IntCounterVec,
    interaction: Histogram,
    jobs: IntCounterVec,
    golive_lateness: Histogram,
    storefront: HistogramVec,
    storefront_errors: IntCounterVec,
    leader: IntGauge,
    outbox: IntCounterVec,
    reconcile: IntCounterVec,
    pictures: IntCounterVec,
    picture_seconds: HistogramVec,
}

/// Latency buckets for calls that should take well under a second but may
/// run into a multi-second timeout.
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Go-live lateness: the promise is "on the minute", so the interesting range
/// is from a few milliseconds to a few minutes.
const LATENESS_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0,
];

impl Metrics {
    fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let commands = IntCounterVec::new(
            Opts::new(
                "flashsale_commands_total",
                "Chat commands answered, by command and outcome (ok, refused, error).",
            ),
            &["command", "outcome"],
        )?;
        let interaction = Histogram::with_opts(
            HistogramOpts::new(
                "flashsale_interaction_seconds",
                "Time from a chat command arriving to its answer being sent.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
        )?;
        let jobs = IntCounterVec::new(
            Opts::new(
                "flashsale_jobs_total",
                "Scheduler jobs run, by kind and outcome (done, retry, failed, error).",
            ),
            &["kind", "outcome"],
        )?;
        let golive_lateness = Histogram::with_opts(
            HistogramOpts::new(
                "flashsale_golive_lateness_seconds",
                "How long after its due time a sale was published to the storefront.",
            )
            .buckets(LATENESS_BUCKETS.to_vec()),
        )?;
        let storefront = HistogramVec::new(
            HistogramOpts::new(
                "flashsale_storefront_seconds",
                "Storefront API call latency, by call (publish, read_back, end).",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["call"],
        )?;
        let storefront_errors = IntCounterVec::new(
            Opts::new(
                "flashsale_storefront_errors_total",
                "Failed storefront API calls, by call and kind of failure.",
            ),
            &["call", "kind"],
        )?;
        let leader = IntGauge::new(
            "flashsale_leader",
            "1 while this process holds the Discord gateway (the leader), else 0.",
        )?;
        let outbox = IntCounterVec::new(
            Opts::new(
                "flashsale_outbox_posts_total",
                "Notices delivered from the outbox, by outcome (sent, retry, refused, unreadable).",
            ),
            &["outcome"],
        )?;
        let reconcile = IntCounterVec::new(
            Opts::new(
                "flashsale_reconcile_total",
                "Sessions the reconciler compared with the storefront, by what it found.",
            ),
            &["finding"],
        )?;
        registry.register(Box::new(outbox.clone()))?;
        registry.register(Box::new(reconcile.clone()))?;
        let pictures = IntCounterVec::new(
            Opts::new(
                "flashsale_pictures_total",
                "Pictures drawn for chat messages, by picture (sale, day) and outcome (ok, failed).",
            ),
            &["picture", "outcome"],
        )?;
        let picture_seconds = HistogramVec::new(
            HistogramOpts::new(
                "flashsale_picture_seconds",
                "Time to draw a picture for a chat message (SVG to PNG), by picture.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["picture"],
        )?;
        registry.register(Box::new(commands.clone()))?;
        registry.register(Box::new(interaction.clone()))?;
        registry.register(Box::new(jobs.clone()))?;
        registry.register(Box::new(golive_lateness.clone()))?;
        registry.register(Box::new(storefront.clone()))?;
        registry.register(Box::new(storefront_errors.clone()))?;
        registry.register(Box::new(leader.clone()))?;
        registry.register(Box::new(pictures.clone()))?;
        registry.register(Box::new(picture_seconds.clone()))?;
        Ok(Metrics {
            registry,
            commands,
            interaction,
            jobs,
            golive_lateness,
            storefront,
            storefront_errors,
            leader,
            outbox,
            reconcile,
            pictures,
            picture_seconds,
        })
    }
}

/// The process's metrics, or `None` if they could not be built (a bug in the
/// definitions above, logged once): recording then does nothing rather than
/// taking the bot down.
fn metrics() -> Option<&'static Metrics> {
    static METRICS: OnceLock<Option<Metrics>> = OnceLock::new();
    METRICS
        .get_or_init(|| match Metrics::new() {
            Ok(metrics) => Some(metrics),
            Err(e) => {
                tracing::error!(error = %e, "could not set up the metrics");
                None
            }
        })
        .as_ref()
}

/// A chat command was answered (`outcome`: ok, refused or error).
pub fn command(command: &str, outcome: &str, took: Option<Duration>) {
    if let Some(m) = metrics() {
        m.commands.with_label_values(&[command, outcome]).inc();
        if let Some(took) = took {
            m.interaction.observe(took.as_secs_f64());
        }
    }
}

/// A scheduler job ran (`kind`: publish, end, expire, heads_up, reminder).
pub fn job(kind: &str, outcome: &str) {
    if let Some(m) = metrics() {
        m.jobs.with_label_values(&[kind, outcome]).inc();
    }
}

/// A notice left the outbox with `outcome`.
pub fn outbox_post(outcome: &str) {
    if let Some(m) = metrics() {
        m.outbox.with_label_values(&[outcome]).inc();
    }
}

/// The reconciler compared one session with the storefront.
pub fn reconciled(finding: &str) {
    if let Some(m) = metrics() {
        m.reconcile.with_label_values(&[finding]).inc();
    }
}

/// A sale was published this long after it was due (negative counts as 0).
pub fn golive_lateness(seconds: f64) {
    if let Some(m) = metrics() {
        m.golive_lateness.observe(seconds.max(0.0));
    }
}

/// A storefront call finished after `took`; `error` names the kind of failure.
pub fn storefront_call(call: &str, took: Duration, error: Option<&str>) {
    if let Some(m) = metrics() {
        m.storefront
            .with_label_values(&[call])
            .observe(took.as_secs_f64());
        if let Some(kind) = error {
            m.storefront_errors.with_label_values(&[call, kind]).inc();
        }
    }
}

/// Whether this process leads (holds the Discord gateway).
pub fn set_leader(leader: bool) {
    if let Some(m) = metrics() {
        m.leader.set(i64::from(leader));
    }
}

/// A picture (`sale`, `day`) was drawn in `took`, or failed and its message went without it.
pub fn picture(picture: &str, took: Duration, ok: bool) {
    if let Some(m) = metrics() {
        let outcome = if ok { "ok" } else { "failed" };
        m.pictures.with_label_values(&[picture, outcome]).inc();
        m.picture_seconds
            .with_label_values(&[picture])
            .observe(took.as_secs_f64());
    }
}

/// Every family in the Prometheus text format (version 0.0.4).
pub fn render() -> String {
    let Some(m) = metrics() else {
        return String::new();
    };
    let mut out = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&m.registry.gather(), &mut out) {
        tracing::warn!(error = %e, "could not encode the metrics");
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The content type `render` produces.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_rendered_with_help_and_type() {
        // Vectors appear only once a label set was used.
        command("view", "ok", Some(Duration::from_millis(30)));
        job("publish", "done");
        storefront_call("publish", Duration::from_millis(5), Some("timeout"));
        golive_lateness(0.2);
        set_leader(true);
        picture("sale", Duration::from_millis(20), false);
        let text = render();
        for family in [
            "flashsale_commands_total",
            "flashsale_interaction_seconds",
            "flashsale_jobs_total",
            "flashsale_golive_lateness_seconds",
            "flashsale_storefront_seconds",
            "flashsale_storefront_errors_total",
            "flashsale_leader",
            "flashsale_pictures_total",
            "flashsale_picture_seconds",
        ] {
            assert!(
                text.contains(&format!("# TYPE {family} ")),
                "{family}:\n{text}"
            );
        }
        assert!(text.contains("flashsale_leader 1"));
        assert!(text.contains(r#"flashsale_jobs_total{kind="publish",outcome="done"}"#));
        assert!(text.contains(r#"flashsale_pictures_total{outcome="failed",picture="sale"} 1"#));
    }
}
