//! The money guards (`domain::guards`) in the use cases: the facts each
//! rule reads, gathered from the catalog's product, the bot's price history
//! and the SKU's past flash discounts, and the overrides approvers gave.
//!
//! Lines are checked where items enter a draft (`intake`: typing, paste,
//! clone, import) and again, with the session's budget, at submit, approve
//! and the heads-up re-check. Every product read for a check is recorded in
//! the price history afterwards, best effort: a failed observation is logged
//! and never fails the use case.

use std::collections::HashMap;

use chrono::{Duration, NaiveTime, TimeZone, Utc};
use sqlx::PgConnection;

use super::{AppError, Core};
use crate::catalog::Product;
use crate::domain::guards::{
    self, check_budget, check_line, line_giveaway, verdict, Finding, GuardOverride, GuardedLine,
    PriceFacts, PricePoint,
};
use crate::domain::rules::RuleViolation;
use crate::domain::{Money, Sku};
use crate::store::{items, overrides, prices, ItemRecord, SessionRecord};

/// What the guards saw of a line when it was validated, kept on the item so
/// cards show it without asking anyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct GuardCapture {
    pub reference_minor: Option<i64>,
    pub unit_cost_minor: Option<i64>,
    /// The flags' messages (suspicious, shown, not refused).
    pub flags: Vec<String>,
}

/// The guards' word on one line.
#[derive(Debug, Clone, Default)]
pub(super) struct LineVerdict {
    pub capture: GuardCapture,
    /// Hard findings no override covers.
    pub refused: Vec<Finding>,
}

impl Core {
    /// The price facts of each product, read on `conn`: the bot's history
    /// over the longest window a rule uses, the shop's figures, and the SKU's
    /// discounts in sessions that went live other than `session_id`.
    async fn price_facts(
        &self,
        conn: &mut PgConnection,
        products: &[&Product],
        session_id: Option<i64>,
    ) -> Result<HashMap<Sku, PriceFacts>, AppError> {
        let rules = &self.policy.guards;
        let skus: Vec<Sku> = products.iter().map(|p| p.sku.clone()).collect();
        if skus.is_empty() {
            return Ok(HashMap::new());
        }
        let days = rules.reference_days.max(rules.raised_days);
        let since = self.clock.now() - Duration::days(i64::from(days));
        let mut history = prices::history(&mut *conn, &skus, since, &self.policy.currency).await?;
        let mut past = prices::past_discounts(&mut *conn, &skus, session_id.unwrap_or(0)).await?;
        Ok(products
            .iter()
            .map(|p| {
                let mut seen = history.remove(&p.sku).unwrap_or_default();
                // The shop's word on the last change: the old price applied
                // until the change, the current one since.
                if let Some(change) = &p.pricing.last_change {
                    seen.extend(PricePoint::change(
                        change.from.clone(),
                        change.at,
                        p.price.clone(),
                    ));
                }
                let facts = PriceFacts {
                    price: p.price.clone(),
                    history: seen,
                    // The shop's low is of 30 days: a reference only for a 30-day rule.
                    shop_reference: p
                        .pricing
                        .lowest_30d
                        .clone()
                        .filter(|_| rules.reference_days == 30),
                    unit_cost: p.pricing.unit_cost.clone(),
                    min_advertised: p.pricing.min_advertised.clone(),
                    past_discounts: past.remove(&p.sku).unwrap_or_default(),
                };
                (p.sku.clone(), facts)
            })
            .collect())
    }

    /// What approvers allowed in the session.
    pub(super) async fn overrides(
        &self,
        conn: &mut PgConnection,
        session_id: i64,
    ) -> Result<Vec<GuardOverride>, AppError> {
        Ok(overrides::list(conn, session_id, &self.policy.currency)
            .await?
            .into_iter()
            .map(|o| o.covers)
            .collect())
    }

    /// Checks each line against the guards: per line, what was seen (to
    /// keep on the item) and the hard findings no override of `session_id`
    /// covers (empty: the line passes). Lines whose SKU has no product pass
    /// here; the catalog check refuses them.
    pub(super) async fn guard_lines(
        &self,
        conn: &mut PgConnection,
        session_id: Option<i64>,
        lines: &[(GuardedLine, &Product)],
    ) -> Result<Vec<LineVerdict>, AppError> {
        let products: Vec<&Product> = lines.iter().map(|(_, p)| *p).collect();
        let mut facts = self.price_facts(&mut *conn, &products, session_id).await?;
        let allowed = match session_id {
            Some(id) => self.overrides(&mut *conn, id).await?,
            None => Vec::new(),
        };
        let (now, rules) = (self.clock.now(), &self.policy.guards);
        Ok(lines
            .iter()
            .map(|(line, _)| match facts.remove(&line.sku) {
                None => LineVerdict::default(),
                Some(facts) => {
                    let found = verdict(check_line(line, &facts, now, rules), &allowed);
                    LineVerdict {
                        capture: GuardCapture {
                            reference_minor: Some(
                                guards::reference(&facts, now, rules).price.minor(),
                            ),
                            unit_cost_minor: facts.unit_cost.as_ref().map(Money::minor),
                            flags: found.flagged.iter().map(ToString::to_string).collect(),
                        },
                        refused: found.refused,
                    }
                }
            })
            .collect())
    }

    /// The session's lines and budget against the guards, as submit, approve
    /// and the heads-up check them: every hard finding no override covers.
    /// Items the catalog does not know are left to the catalog check.
    pub(super) async fn guard_problems(
        &self,
        conn: &mut PgConnection,
        session: &SessionRecord,
        items: &[ItemRecord],
        products: &HashMap<Sku, Product>,
    ) -> Result<Vec<RuleViolation>, AppError> {
        let known: Vec<&Product> = items.iter().filter_map(|i| products.get(&i.sku)).collect();
        let mut facts = self
            .price_facts(&mut *conn, &known, Some(session.id))
            .await?;
        let allowed = self.overrides(&mut *conn, session.id).await?;
        let (now, rules) = (self.clock.now(), &self.policy.guards);
        let mut found = Vec::new();
        for item in items {
            if let Some(facts) = facts.remove(&item.sku) {
                let line = GuardedLine {
                    sku: item.sku.clone(),
                    discount: item.discount,
                    quantity: item.quantity,
                };
                found.extend(check_line(&line, &facts, now, rules));
            }
        }
        let giveaway = self.giveaway(items);
        let others = self.day_giveaway(&mut *conn, session).await?;
        found.extend(check_budget(&giveaway, &others, rules));
        Ok(verdict(found, &allowed)
            .refused
            .into_iter()
            .map(|f| RuleViolation::Guard(Box::new(f)))
            .collect())
    }

    /// What the items give away together, at the prices they were set on.
    pub(super) fn giveaway(&self, items: &[ItemRecord]) -> Money {
        let currency = &self.policy.currency;
        let minor = items.iter().fold(0i64, |sum, i| {
            let price = Money::from_minor(i.base_price_minor, currency.clone());
            sum.saturating_add(line_giveaway(&price, i.discount, i.quantity).minor())
        });
        Money::from_minor(minor, currency.clone())
    }

    /// What the other approved or live sessions of the session's business
    /// day give away (zero without a day budget: nothing reads it then).
    async fn day_giveaway(
        &self,
        conn: &mut PgConnection,
        session: &SessionRecord,
    ) -> Result<Money, AppError> {
        let currency = &self.policy.currency;
        if self.policy.guards.daily_budget.is_none() {
            return Ok(Money::from_minor(0, currency.clone()));
        }
        let tz = self.policy.time_zone;
        let day = session.window.starts_at().with_timezone(&tz).date_naive();
        let start_of = |date: chrono::NaiveDate| {
            tz.from_local_datetime(&date.and_time(NaiveTime::MIN))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        };
        let (Some(from), Some(to)) = (start_of(day), day.succ_opt().and_then(start_of)) else {
            return Err(AppError::unexpected(anyhow::anyhow!(
                "the business day of {} has no start",
                session.window.starts_at()
            )));
        };
        let lines = items::day_lines(conn, session.id, from, to).await?;
        let minor = lines.iter().fold(0i64, |sum, l| {
            let price = Money::from_minor(l.base_price_minor, currency.clone());
            sum.saturating_add(line_giveaway(&price, l.discount, l.quantity).minor())
        });
        Ok(Money::from_minor(minor, currency.clone()))
    }

    /// Records the price of every product read for a check. Never fails the
    /// use case: a failed observation is logged and the next read tries again.
    pub(super) async fn record_prices<'a>(&self, products: impl IntoIterator<Item = &'a Product>) {
        let mut conn = match self.pool.acquire().await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "price observations not recorded: no connection");
                return;
            }
        };
        for product in products {
            if let Err(e) = prices::record(&mut conn, &product.sku, &product.price).await {
                tracing::warn!(sku = %product.sku, error = %e, "price observation not recorded");
            }
        }
    }
}
