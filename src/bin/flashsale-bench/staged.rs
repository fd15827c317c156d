//! Staged go-live on a real Medusa, timed as shoppers see it: the first
//! Store API read that shows the flash price, minus the start. Each round
//! drafts, fills, submits and approves a session through the bot's own use
//! cases (SHOP=medusa), so the bot's stage job hands the sale to Medusa; the
//! window is then placed a few seconds ahead by the database's clock (as the
//! tests do, so a round does not wait for a whole minute).
//!
//! Two ways per round:
//! - **bot up**: the scheduler runs through the start; also timed: "now live"
//!   in the channel after the start, and, once live, the sold-out window (an
//!   order for a line's whole flash quantity converted, until Medusa no longer
//!   charges that line's flash price).
//! - **bot down**: every scheduler of the bench is stopped `--stop-before-secs`
//!   (default 300) before the start, once the sale is staged; nothing of the
//!   bot runs at the start.
//!
//! Needs DATABASE_URL (a server the bench may create a database on) and the
//! `MEDUSA_*` variables; makes its own products under its own prefix, like
//! the `medusa` bench. Run against a test Medusa.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use flashsale_bot::app::{DraftInput, NewItem};
use flashsale_bot::chat::{Channel, RecordingChat};
use flashsale_bot::config::Config;
use flashsale_bot::domain::sale::SalePhase;
use flashsale_bot::domain::{Actor, ActorId, Roles, Sku, Status};
use flashsale_bot::runtime::{self, Services};
use flashsale_bot::scheduler::{Scheduler, SchedulerConfig};
use serde_json::json;

use crate::medusa::Admin;
use crate::{option, quantile, Figure};

/// How far ahead of the database's "now" a bot-up round's sale starts.
const LEAD_UP: Duration = Duration::from_secs(4);
/// How often the shopper's view is read around the start.
const READ_EVERY: Duration = Duration::from_millis(25);
/// The flash quantity of every line (the sold-out order buys all of it).
const QUANTITY: i64 = 5;

pub async fn measure(args: &[String]) -> anyhow::Result<Vec<Figure>> {
    let rounds = option(args, "--rounds", 3)?.max(1) as usize;
    let stop_before = Duration::from_secs(option(args, "--stop-before-secs", 300)?);
    let admin_url = std::env::var("DATABASE_URL").context("DATABASE_URL is not set")?;
    let prefix = format!("S{:08X}", rand::random::<u32>());
    let mut env: HashMap<String, String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("MEDUSA_"))
        .collect();
    env.insert(
        "DATABASE_URL".into(),
        crate::setup::fresh_database(&admin_url, "staged").await?,
    );
    env.insert("SHOP".into(), "medusa".into());
    env.insert("MEDUSA_KEY_PREFIX".into(), prefix.clone());
    env.insert("MIN_LEAD_MINUTES".into(), "0".into());
    env.insert("APPROVAL_CUTOFF_MINUTES".into(), "0".into());
    env.insert("DAILY_DIGEST_CRON".into(), "off".into());
    let config = Config::from_lookup(|k| env.get(k).cloned())
        .context("SHOP=medusa needs the MEDUSA_* variables (scripts/medusa.sh exports them)")?;
    let flashsale_bot::config::ShopChoice::Medusa(settings) = &config.shop else {
        bail!("SHOP=medusa was not taken");
    };
    let admin = Admin::new(settings)?;
    let currency = admin.region_currency(&settings.region_id).await?;
    let skus = admin.make_products(&prefix, &currency).await?;
    let pool = runtime::connect_database(&config).await?;
    let chat = Arc::new(RecordingChat::new());
    let services = runtime::build_with_chat(config, pool, chat.clone()).await?;

    let mut up_shopper = Vec::new();
    let mut up_posted = Vec::new();
    let mut sold_out = Vec::new();
    let mut down_shopper = Vec::new();
    eprintln!(
        "staged: {rounds} round(s) with the bot up, {rounds} with it stopped {} s before the start (prefix {prefix})...",
        stop_before.as_secs()
    );
    for round in 0..rounds {
        let up = Round::approved(&services, &skus, &format!("Up {round}")).await?;
        let (shopper, posted, window) = up.bot_up(&services, &chat, &admin, &skus).await?;
        up_shopper.push(shopper);
        up_posted.push(posted);
        sold_out.push(window);
        let down = Round::approved(&services, &skus, &format!("Down {round}")).await?;
        down_shopper.push(down.bot_down(&services, stop_before).await?);
        eprintln!(
            "  round {}: shopper lateness up {:.0} ms / down {:.0} ms, now live {:.0} ms, sold out after {:.0} ms",
            round + 1,
            up_shopper[round],
            down_shopper[round],
            up_posted[round],
            sold_out[round]
        );
    }
    Ok(vec![
        figure(
            "staged go-live, bot up: shopper-seen lateness p50 / max",
            &mut up_shopper,
            "set by the shop's clock",
            None,
        ),
        figure(
            "staged go-live, bot stopped before the start: shopper-seen lateness p50 / max",
            &mut down_shopper,
            "the same as with the bot up",
            None,
        ),
        figure(
            "staged go-live, bot up: \"now live\" posted after the start p50 / max",
            &mut up_posted,
            "< 2 s",
            Some(2000.0),
        ),
        figure(
            "medusa: sold-out window (order converted -> flash price off) p50 / max",
            &mut sold_out,
            "as short as the watch allows",
            None,
        ),
    ])
}

fn figure(name: &'static str, ms: &mut [f64], target: &'static str, limit: Option<f64>) -> Figure {
    ms.sort_by(f64::total_cmp);
    let (p50, max) = (quantile(ms, 0.5), ms.last().copied().unwrap_or(0.0));
    Figure {
        name,
        value: format!("{p50:.0} / {max:.0} ms ({} rounds)", ms.len()),
        target,
        met: limit.map(|limit| max < limit),
        json: json!({ "p50_ms": p50, "max_ms": max, "rounds": ms.len() }),
    }
}

/// One approved session of the bench's six products.
struct Round {
    id: i64,
}

fn actor(name: &str, roles: Roles) -> Actor {
    Actor::new(ActorId::new("bench", name), name, roles)
}

impl Round {
    async fn approved(services: &Services, skus: &[Sku], title: &str) -> anyhow::Result<Round> {
        let front = services.app.front();
        let (editor, approver) = (
            actor("editor", Roles::EDITOR),
            actor("approver", Roles::APPROVER),
        );
        let start = (front.clock.now() + chrono::Duration::days(1))
            .with_timezone(&front.policy.time_zone)
            .format("%Y-%m-%d 10:00")
            .to_string();
        let end = start.replace("10:00", "11:00");
        let draft = front
            .desk
            .create_draft(
                &editor,
                &DraftInput {
                    title: title.to_owned(),
                    start,
                    end,
                    notes: None,
                },
            )
            .await?;
        for sku in skus {
            let item = NewItem::from_options(sku.as_str(), 30, QUANTITY, &front.policy)?;
            front.desk.add_item(&editor, draft.id, &item).await?;
        }
        let submitted = front.desk.submit(&editor, draft.id).await?;
        front
            .desk
            .approve(&approver, draft.id, submitted.version)
            .await?;
        Ok(Round { id: draft.id })
    }

    /// Places the window `lead` ahead by the database's clock, with its
    /// planned jobs; returns its start.
    async fn window_in(
        &self,
        services: &Services,
        lead: Duration,
    ) -> anyhow::Result<DateTime<Utc>> {
        let starts_at: DateTime<Utc> = sqlx::query_scalar(
            "update session set starts_at = now() + make_interval(secs => $2), \
                 ends_at = now() + make_interval(secs => $2) + interval '10 minutes' \
             where id = $1 returning starts_at",
        )
        .bind(self.id)
        .bind(lead.as_secs_f64())
        .fetch_one(&services.pool)
        .await?;
        sqlx::query(
            "update job j set due_at = case j.kind when 'end' then s.ends_at else s.starts_at end, \
                 next_attempt_at = case j.kind when 'end' then s.ends_at else s.starts_at end \
             from session s where s.id = j.session_id and j.session_id = $1 \
               and j.kind in ('publish', 'watch', 'end')",
        )
        .bind(self.id)
        .execute(&services.pool)
        .await?;
        Ok(starts_at)
    }

    async fn staged(&self, services: &Services) -> anyhow::Result<bool> {
        Ok(sqlx::query_scalar(
            "select exists (select 1 from activity where session_id = $1 and action = 'staged')",
        )
        .bind(self.id)
        .fetch_one(&services.pool)
        .await?)
    }

    /// Milliseconds from the start to the first read showing the flash price.
    async fn shopper_lateness(
        &self,
        services: &Services,
        starts_at: DateTime<Utc>,
    ) -> anyhow::Result<f64> {
        let shop = services.shop.sales.clone();
        let give_up = Instant::now() + Duration::from_secs(60) + until(starts_at);
        loop {
            if let Ok(Some(sale)) = shop.read_back(self.id).await {
                if sale.phase == SalePhase::Live && sale.lines.iter().any(|l| l.sale_applies) {
                    return Ok(ms_since(starts_at));
                }
            }
            if Instant::now() > give_up {
                bail!("session {}: Medusa never showed the flash price", self.id);
            }
            tokio::time::sleep(READ_EVERY).await;
        }
    }

    async fn bot_up(
        &self,
        services: &Services,
        chat: &RecordingChat,
        admin: &Admin,
        skus: &[Sku],
    ) -> anyhow::Result<(f64, f64, f64)> {
        let starts_at = self.window_in(services, LEAD_UP).await?;
        let bot = Bot::start(services);
        let shopper = self.shopper_lateness(services, starts_at).await?;
        let needle = format!("#{} ", self.id);
        let give_up = Instant::now() + Duration::from_secs(30);
        let posted = loop {
            let live = chat.posts_to(Channel::Announcements).iter().any(|p| {
                let text = p.message.text.render(|at, _| at.to_rfc3339());
                text.contains(&needle) && text.contains("is now live")
            });
            if live {
                break ms_since(starts_at);
            }
            if Instant::now() > give_up {
                bail!("session {}: no \"now live\" within 30 s", self.id);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        // The first line's whole flash quantity, ordered at once.
        let line = skus.first().context("six SKUs")?;
        admin
            .place_order(line, u32::try_from(QUANTITY).unwrap_or(1))
            .await?;
        let ordered = Instant::now();
        let shop = services.shop.sales.clone();
        let give_up = ordered + Duration::from_secs(30);
        let window = loop {
            if let Ok(Some(sale)) = shop.read_back(self.id).await {
                if sale.lines.iter().any(|l| &l.sku == line && !l.sale_applies) {
                    break ordered.elapsed().as_secs_f64() * 1000.0;
                }
            }
            if Instant::now() > give_up {
                bail!("session {}: {line} never sold out", self.id);
            }
            tokio::time::sleep(READ_EVERY).await;
        };
        self.stop(services).await?;
        bot.stop().await;
        Ok((shopper, posted, window))
    }

    async fn bot_down(&self, services: &Services, stop_before: Duration) -> anyhow::Result<f64> {
        let starts_at = self
            .window_in(services, stop_before + Duration::from_secs(5))
            .await?;
        let bot = Bot::start(services);
        let give_up = Instant::now() + Duration::from_secs(30);
        while !self.staged(services).await? {
            if Instant::now() > give_up {
                bail!("session {} was never staged", self.id);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bot.stop().await;
        let stopped_before = until(starts_at);
        eprintln!(
            "  every scheduler stopped {:.0} s before the start; waiting for it",
            stopped_before.as_secs_f64()
        );
        let shopper = self.shopper_lateness(services, starts_at).await?;
        // The bot comes back, confirms it, and the bench stops the sale.
        let bot = Bot::start(services);
        self.stop(services).await?;
        bot.stop().await;
        Ok(shopper)
    }

    /// Stops the sale and waits until the bot ended it.
    async fn stop(&self, services: &Services) -> anyhow::Result<()> {
        let front = services.app.front();
        let approver = actor("approver", Roles::APPROVER);
        let give_up = Instant::now() + Duration::from_secs(60);
        let mut asked = false;
        loop {
            let view = front.queries.get(self.id).await?;
            match view.status {
                Status::Live if !asked => {
                    asked = true;
                    front.desk.stop(&approver, self.id, "bench done").await?;
                }
                Status::Ended => return Ok(()),
                _ => {}
            }
            if Instant::now() > give_up {
                bail!("session {} did not end: {}", self.id, view.status.as_str());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// One scheduler, as a bot process runs it.
struct Bot {
    stop: tokio::sync::watch::Sender<bool>,
    running: tokio::task::JoinHandle<()>,
}

impl Bot {
    fn start(services: &Services) -> Bot {
        let scheduler = Scheduler::new(
            services.pool.clone(),
            services.app.operations.clone(),
            services.shop.sales.clone(),
            SchedulerConfig {
                poll: Duration::from_millis(500),
                ..SchedulerConfig::default()
            },
        );
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let running = tokio::spawn(scheduler.run(stopped));
        Bot { stop, running }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.running.await;
    }
}

fn ms_since(at: DateTime<Utc>) -> f64 {
    (Utc::now() - at).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0
}

fn until(at: DateTime<Utc>) -> Duration {
    (at - Utc::now()).to_std().unwrap_or_default()
}
