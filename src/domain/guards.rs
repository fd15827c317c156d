//! Money guards: what a flash price costs the business, and whether the
//! discount it announces is real.
//!
//! A typo in a price can lose real money, and a discount shown against a price
//! raised last week misleads shoppers (EU Omnibus, Art. 6a of Directive
//! 98/6/EC: a reduction is announced against the lowest price of the previous
//! 30 days; marketplaces enforce the same and flag prices raised just before a
//! campaign). Each rule here reads what is known of one SKU's price (its
//! history, its cost, a minimum advertised price, its past flash discounts) or
//! of the whole session (its give-away against a budget) and returns
//! `Finding`s: a `Refuse` stops the line until an approver overrides it with a
//! reason, a `Flag` only warns on the card. No IO: `app` gathers the facts.
//!
//! Money stays integer minor units. A floor (cost plus margin) rounds up and a
//! flash price rounds half-up as the storefront's does (`Money::discounted`),
//! so "the deepest allowed" discount is one the storefront would really accept.

use chrono::{DateTime, Duration, Utc};

use super::discount::DiscountPercent;
use super::money::Money;
use super::quantity::Quantity;
use super::sku::Sku;

/// How each rule is tuned; `Default` is what a shop gets without settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardRules {
    /// The reference price is the lowest of this many days (Omnibus: 30).
    pub reference_days: u32,
    /// A base price raised within this many days is flagged...
    pub raised_days: u32,
    /// ...when it rose by more than this many percent.
    pub raised_tolerance_percent: u32,
    /// With a known unit cost, the flash price keeps at least this margin over it.
    pub margin_floor_percent: u32,
    /// The session's give-away may not exceed this (`None`: no session budget).
    pub session_budget: Option<Money>,
    /// All sessions of one business day together may not give away more (`None`: no day budget).
    pub daily_budget: Option<Money>,
    /// A discount this many points deeper than the SKU's deepest past flash
    /// discount is flagged as a likely typo...
    pub deep_points: u8,
    /// ...once the SKU has at least this many past flash discounts to compare with.
    pub deep_min_samples: usize,
}

impl Default for GuardRules {
    fn default() -> GuardRules {
        GuardRules {
            reference_days: 30,
            raised_days: 7,
            raised_tolerance_percent: 5,
            margin_floor_percent: 5,
            session_budget: None,
            daily_budget: None,
            deep_points: 20,
            deep_min_samples: 3,
        }
    }
}

/// One observation of an SKU's base price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricePoint {
    pub at: DateTime<Utc>,
    pub price: Money,
}

impl PricePoint {
    /// A price change the shop reports (from `from` to `to` at `at`) as the
    /// two observations it stands for: the old price applied until the
    /// change, the new one since.
    pub fn change(from: Money, at: DateTime<Utc>, to: Money) -> [PricePoint; 2] {
        [
            PricePoint {
                at: at - Duration::seconds(1),
                price: from,
            },
            PricePoint { at, price: to },
        ]
    }
}

/// What is known of one SKU's price when a line is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceFacts {
    /// The base price now (the catalog's).
    pub price: Money,
    /// Earlier observations, any order; the bot's own history.
    pub history: Vec<PricePoint>,
    /// The shop's own lowest price of the reference period, where it says.
    pub shop_reference: Option<Money>,
    pub unit_cost: Option<Money>,
    pub min_advertised: Option<Money>,
    /// The discounts this SKU had in earlier flash sales.
    pub past_discounts: Vec<DiscountPercent>,
}

/// One line of a session as the guards see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardedLine {
    pub sku: Sku,
    pub discount: DiscountPercent,
    pub quantity: Quantity,
}

/// The price a reduction is announced against, and how much history backs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub price: Money,
    /// False when the history is shorter than the reference period (and the
    /// shop gave no reference of its own): the low may be higher than the true one.
    pub complete: bool,
}

/// Whether a finding stops the line or only warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Refused until an approver overrides it with a reason.
    Refuse,
    /// Shown on the card and in the approval request.
    Flag,
}

/// What a guard found, with the numbers a person needs to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Finding {
    #[error("{sku} at {discount} would sell at {flash}, not below its lowest price of the last {days} days, {reference}: the discount would not be real. {}", smallest_hint(.smallest_real))]
    NotARealDiscount {
        sku: Sku,
        discount: DiscountPercent,
        flash: Money,
        reference: Money,
        days: u32,
        /// The smallest discount that is below the reference, if any is.
        smallest_real: Option<DiscountPercent>,
    },
    #[error("{sku} at {discount} would sell at {flash}, below its cost {cost} plus the {floor_percent} % floor: {}", deepest_hint(.deepest_allowed, "the floor"))]
    BelowMarginFloor {
        sku: Sku,
        discount: DiscountPercent,
        flash: Money,
        cost: Money,
        floor_percent: u32,
        deepest_allowed: Option<DiscountPercent>,
    },
    #[error("{sku} at {discount} would sell at {flash}, below its minimum advertised price {minimum}: {}", deepest_hint(.deepest_allowed, "the minimum advertised price"))]
    BelowMinimumAdvertised {
        sku: Sku,
        discount: DiscountPercent,
        flash: Money,
        minimum: Money,
        deepest_allowed: Option<DiscountPercent>,
    },
    #[error("{sku}'s price rose from {from} to {to} within the last {days} days: a discount against the new price may not be real.")]
    RecentlyRaised {
        sku: Sku,
        from: Money,
        to: Money,
        at: DateTime<Utc>,
        days: u32,
    },
    #[error("{sku} at {discount} is far deeper than its past flash sales (at most {usual}): check it is not a typo.")]
    UnusuallyDeep {
        sku: Sku,
        discount: DiscountPercent,
        usual: DiscountPercent,
    },
    #[error("The session gives away {giveaway}, over its budget of {budget} by {over}.")]
    OverSessionBudget {
        giveaway: Money,
        budget: Money,
        over: Money,
    },
    #[error("The day's sessions together give away {giveaway}, over the day's budget of {budget} by {over}.")]
    OverDailyBudget {
        giveaway: Money,
        budget: Money,
        over: Money,
        /// This session's part of the day's give-away.
        session: Money,
    },
}

fn smallest_hint(smallest: &Option<DiscountPercent>) -> String {
    match smallest {
        Some(d) => format!("The smallest real discount is {d}."),
        None => "No discount makes it real.".to_owned(),
    }
}

fn deepest_hint(deepest: &Option<DiscountPercent>, what: &str) -> String {
    match deepest {
        Some(d) => format!("the deepest allowed is {d}."),
        None => format!("no discount keeps {what}."),
    }
}

impl Finding {
    pub fn severity(&self) -> Severity {
        match self {
            Finding::NotARealDiscount { .. }
            | Finding::BelowMarginFloor { .. }
            | Finding::BelowMinimumAdvertised { .. }
            | Finding::OverSessionBudget { .. }
            | Finding::OverDailyBudget { .. } => Severity::Refuse,
            Finding::RecentlyRaised { .. } | Finding::UnusuallyDeep { .. } => Severity::Flag,
        }
    }

    /// The SKU a line finding is about (`None` for the session's budget).
    pub fn sku(&self) -> Option<&Sku> {
        match self {
            Finding::NotARealDiscount { sku, .. }
            | Finding::BelowMarginFloor { sku, .. }
            | Finding::BelowMinimumAdvertised { sku, .. }
            | Finding::RecentlyRaised { sku, .. }
            | Finding::UnusuallyDeep { sku, .. } => Some(sku),
            Finding::OverSessionBudget { .. } | Finding::OverDailyBudget { .. } => None,
        }
    }
}

/// The lowest base price of the last `rules.reference_days` days, today's
/// included; the shop's own figure wins where it gives one (it saw every
/// price, the bot only those it read).
pub fn reference(facts: &PriceFacts, now: DateTime<Utc>, rules: &GuardRules) -> Reference {
    if let Some(shop) = &facts.shop_reference {
        return Reference {
            price: shop.clone(),
            complete: true,
        };
    }
    let since = now - Duration::days(i64::from(rules.reference_days));
    // The price in effect when the period began counts too: it applied until
    // the next observation, inside the period.
    let at_start = facts
        .history
        .iter()
        .filter(|p| p.at <= since)
        .max_by_key(|p| p.at);
    let inside = facts.history.iter().filter(|p| p.at > since && p.at <= now);
    let mut lowest = facts.price.clone();
    for point in at_start.into_iter().chain(inside) {
        if point.price.minor() < lowest.minor() {
            lowest = point.price.clone();
        }
    }
    // Complete when the bot knew the price at (or before) the period's start.
    let complete = at_start.is_some();
    Reference {
        price: lowest,
        complete,
    }
}

/// Every finding for one line, hard ones first.
pub fn check_line(
    line: &GuardedLine,
    facts: &PriceFacts,
    now: DateTime<Utc>,
    rules: &GuardRules,
) -> Vec<Finding> {
    let flash = facts.price.discounted(line.discount);
    let mut found = Vec::new();

    let reference = reference(facts, now, rules);
    if flash.minor() >= reference.price.minor() {
        found.push(Finding::NotARealDiscount {
            sku: line.sku.clone(),
            discount: line.discount,
            flash: flash.clone(),
            reference: reference.price.clone(),
            days: rules.reference_days,
            smallest_real: shallowest_below(&facts.price, reference.price.minor()),
        });
    }
    if let Some(cost) = &facts.unit_cost {
        let floor = with_margin(cost.minor(), rules.margin_floor_percent);
        if flash.minor() < floor {
            found.push(Finding::BelowMarginFloor {
                sku: line.sku.clone(),
                discount: line.discount,
                flash: flash.clone(),
                cost: cost.clone(),
                floor_percent: rules.margin_floor_percent,
                deepest_allowed: deepest_at_or_above(&facts.price, floor),
            });
        }
    }
    if let Some(minimum) = &facts.min_advertised {
        if flash.minor() < minimum.minor() {
            found.push(Finding::BelowMinimumAdvertised {
                sku: line.sku.clone(),
                discount: line.discount,
                flash: flash.clone(),
                minimum: minimum.clone(),
                deepest_allowed: deepest_at_or_above(&facts.price, minimum.minor()),
            });
        }
    }
    if let Some((from, at)) = recent_raise(facts, now, rules) {
        found.push(Finding::RecentlyRaised {
            sku: line.sku.clone(),
            from,
            to: facts.price.clone(),
            at,
            days: rules.raised_days,
        });
    }
    if facts.past_discounts.len() >= rules.deep_min_samples {
        if let Some(usual) = facts.past_discounts.iter().max() {
            if line.discount.get() > usual.get().saturating_add(rules.deep_points) {
                found.push(Finding::UnusuallyDeep {
                    sku: line.sku.clone(),
                    discount: line.discount,
                    usual: *usual,
                });
            }
        }
    }
    found
}

/// What a line gives away: quantity x (price - flash price).
pub fn line_giveaway(price: &Money, discount: DiscountPercent, quantity: Quantity) -> Money {
    let per_unit = price.minor() - price.discounted(discount).minor();
    Money::from_minor(
        per_unit.saturating_mul(i64::from(quantity.get())),
        price.currency().clone(),
    )
}

/// The session's give-away against its budget, and the day's (the other
/// sessions of the same business day, `day_others`, plus this one) against the day's.
pub fn check_budget(
    session_giveaway: &Money,
    day_others: &Money,
    rules: &GuardRules,
) -> Vec<Finding> {
    let mut found = Vec::new();
    if let Some(budget) = &rules.session_budget {
        if session_giveaway.minor() > budget.minor() {
            found.push(Finding::OverSessionBudget {
                giveaway: session_giveaway.clone(),
                budget: budget.clone(),
                over: minus(session_giveaway, budget),
            });
        }
    }
    if let Some(budget) = &rules.daily_budget {
        let day = Money::from_minor(
            session_giveaway.minor().saturating_add(day_others.minor()),
            session_giveaway.currency().clone(),
        );
        if day.minor() > budget.minor() {
            let over = minus(&day, budget);
            found.push(Finding::OverDailyBudget {
                giveaway: day,
                budget: budget.clone(),
                over,
                session: session_giveaway.clone(),
            });
        }
    }
    found
}

fn minus(a: &Money, b: &Money) -> Money {
    Money::from_minor(a.minor().saturating_sub(b.minor()), a.currency().clone())
}

/// `cost * (100 + margin) / 100`, rounded up: a floor never lets a fraction through.
fn with_margin(cost: i64, margin_percent: u32) -> i64 {
    let scaled = i128::from(cost) * (100 + i128::from(margin_percent));
    let floor = (scaled + 99).div_euclid(100);
    i64::try_from(floor).unwrap_or(i64::MAX)
}

/// The deepest discount whose flash price stays at or above `floor`.
fn deepest_at_or_above(price: &Money, floor: i64) -> Option<DiscountPercent> {
    (DiscountPercent::MIN..=DiscountPercent::MAX)
        .rev()
        .filter_map(|d| DiscountPercent::new(i64::from(d)).ok())
        .find(|d| price.discounted(*d).minor() >= floor)
}

/// The smallest discount whose flash price is below `reference`.
fn shallowest_below(price: &Money, reference: i64) -> Option<DiscountPercent> {
    (DiscountPercent::MIN..=DiscountPercent::MAX)
        .filter_map(|d| DiscountPercent::new(i64::from(d)).ok())
        .find(|d| price.discounted(*d).minor() < reference)
}

/// The largest rise into today's price within `raised_days`, beyond the
/// tolerance: the price it rose from and when the higher price was first seen.
fn recent_raise(
    facts: &PriceFacts,
    now: DateTime<Utc>,
    rules: &GuardRules,
) -> Option<(Money, DateTime<Utc>)> {
    let since = now - Duration::days(i64::from(rules.raised_days));
    let mut points: Vec<&PricePoint> = facts.history.iter().filter(|p| p.at <= now).collect();
    points.sort_by_key(|p| p.at);
    // Each observation inside the window against the one before it; the
    // current price closes the series.
    let current = PricePoint {
        at: now,
        price: facts.price.clone(),
    };
    let mut worst: Option<(Money, DateTime<Utc>, i128)> = None;
    let series: Vec<&PricePoint> = points
        .into_iter()
        .chain(std::iter::once(&current))
        .collect();
    for pair in series.windows(2) {
        let (before, after) = (pair[0], pair[1]);
        if after.at < since || before.price.minor() <= 0 {
            continue;
        }
        let rise = i128::from(after.price.minor()) - i128::from(before.price.minor());
        // rise / before > tolerance / 100, in integers.
        let beyond = rise * 100
            > i128::from(before.price.minor()) * i128::from(rules.raised_tolerance_percent);
        if beyond && worst.as_ref().is_none_or(|(_, _, r)| rise > *r) {
            worst = Some((before.price.clone(), after.at, rise));
        }
    }
    // A raise later undone (today's price back down) is no reason to doubt today's discount.
    worst
        .filter(|(from, _, _)| facts.price.minor() > from.minor())
        .map(|(from, at, _)| (from, at))
}

/// What an approver allowed against a hard guard, with a reason kept elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardOverride {
    /// This SKU at exactly this discount (another discount is checked again).
    Line { sku: Sku, discount: DiscountPercent },
    /// The session's (and the day's) budget, up to this give-away.
    Budget { giveaway: Money },
}

/// Whether an approver's override covers `finding`. Flags need none: they
/// never stop anything.
pub fn is_overridden(finding: &Finding, overrides: &[GuardOverride]) -> bool {
    let line = |sku: &Sku, discount: DiscountPercent| {
        overrides.iter().any(|o| {
            matches!(o, GuardOverride::Line { sku: s, discount: d } if s == sku && *d == discount)
        })
    };
    let budget = |giveaway: &Money| {
        overrides.iter().any(|o| {
            matches!(o, GuardOverride::Budget { giveaway: covered }
                if covered.currency() == giveaway.currency() && giveaway.minor() <= covered.minor())
        })
    };
    match finding {
        Finding::NotARealDiscount { sku, discount, .. }
        | Finding::BelowMarginFloor { sku, discount, .. }
        | Finding::BelowMinimumAdvertised { sku, discount, .. } => line(sku, *discount),
        Finding::OverSessionBudget { giveaway, .. } => budget(giveaway),
        // Given for this session's give-away: the day's total also holds other sessions.
        Finding::OverDailyBudget { session, .. } => budget(session),
        Finding::RecentlyRaised { .. } | Finding::UnusuallyDeep { .. } => false,
    }
}

/// Findings sorted by what they mean for the line or session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Hard findings no override covers: the line (or session) is refused.
    pub refused: Vec<Finding>,
    /// Hard findings an approver overrode.
    pub overridden: Vec<Finding>,
    /// Soft findings: shown, never refused.
    pub flagged: Vec<Finding>,
}

/// Sorts `findings` into refused, overridden and flagged.
pub fn verdict(findings: Vec<Finding>, overrides: &[GuardOverride]) -> Verdict {
    let mut out = Verdict::default();
    for finding in findings {
        match finding.severity() {
            Severity::Flag => out.flagged.push(finding),
            Severity::Refuse if is_overridden(&finding, overrides) => out.overridden.push(finding),
            Severity::Refuse => out.refused.push(finding),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;
    use crate::domain::sku::SkuRules;

    fn idr(minor: i64) -> Money {
        Money::from_minor(minor, Currency::from_code("IDR").unwrap())
    }

    fn usd(minor: i64) -> Money {
        Money::from_minor(minor, Currency::from_code("USD").unwrap())
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2030-03-10T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn days_ago(days: i64) -> DateTime<Utc> {
        now() - Duration::days(days)
    }

    fn line(discount: i64, quantity: i64) -> GuardedLine {
        GuardedLine {
            sku: Sku::parse("FS-003", &SkuRules::default()).unwrap(),
            discount: DiscountPercent::new(discount).unwrap(),
            quantity: Quantity::new(quantity).unwrap(),
        }
    }

    fn facts(price: Money) -> PriceFacts {
        PriceFacts {
            price,
            history: Vec::new(),
            shop_reference: None,
            unit_cost: None,
            min_advertised: None,
            past_discounts: Vec::new(),
        }
    }

    fn at(days: i64, price: Money) -> PricePoint {
        PricePoint {
            at: days_ago(days),
            price,
        }
    }

    fn pct(n: i64) -> DiscountPercent {
        DiscountPercent::new(n).unwrap()
    }

    fn kinds(found: &[Finding]) -> Vec<&'static str> {
        found
            .iter()
            .map(|f| match f {
                Finding::NotARealDiscount { .. } => "not real",
                Finding::BelowMarginFloor { .. } => "margin",
                Finding::BelowMinimumAdvertised { .. } => "map",
                Finding::RecentlyRaised { .. } => "raised",
                Finding::UnusuallyDeep { .. } => "deep",
                Finding::OverSessionBudget { .. } => "session budget",
                Finding::OverDailyBudget { .. } => "day budget",
            })
            .collect()
    }

    #[test]
    fn the_reference_is_the_lowest_price_of_the_period_today_included() {
        let rules = GuardRules::default();
        let cases: &[(&str, Vec<PricePoint>, i64, bool)] = &[
            (
                "no history: today's price, not backed",
                vec![],
                100_000,
                false,
            ),
            (
                "a lower price 10 days ago",
                vec![at(40, idr(100_000)), at(10, idr(80_000))],
                80_000,
                true,
            ),
            (
                "a lower price set 31 days ago still applied 30 days ago",
                vec![at(31, idr(60_000)), at(20, idr(100_000))],
                60_000,
                true,
            ),
            (
                "a lower price that ended before the period",
                vec![at(35, idr(60_000)), at(31, idr(100_000))],
                100_000,
                true,
            ),
            (
                "history shorter than the period",
                vec![at(12, idr(90_000))],
                90_000,
                false,
            ),
            (
                "an observation in the future is ignored",
                vec![at(-1, idr(10_000)), at(35, idr(100_000))],
                100_000,
                true,
            ),
        ];
        for (what, history, low, complete) in cases {
            let mut f = facts(idr(100_000));
            f.history = history.clone();
            let r = reference(&f, now(), &rules);
            assert_eq!((r.price.minor(), r.complete), (*low, *complete), "{what}");
        }
    }

    #[test]
    fn the_shops_own_reference_wins() {
        let mut f = facts(idr(100_000));
        f.history = vec![at(5, idr(50_000))];
        f.shop_reference = Some(idr(70_000));
        let r = reference(&f, now(), &GuardRules::default());
        assert_eq!((r.price.minor(), r.complete), (70_000, true));
    }

    #[test]
    fn a_discount_not_below_the_30_day_low_is_refused_with_the_smallest_real_one() {
        // Raised from 80,000 to 100,000 twenty days ago: 20 % off is 80,000, not below the low.
        let mut f = facts(idr(100_000));
        f.history = vec![at(40, idr(80_000)), at(20, idr(100_000))];
        let found = check_line(&line(20, 10), &f, now(), &GuardRules::default());
        assert_eq!(kinds(&found), ["not real"]);
        let Finding::NotARealDiscount { smallest_real, .. } = &found[0] else {
            unreachable!()
        };
        assert_eq!(*smallest_real, Some(pct(21)));
        assert_eq!(
            found[0].to_string(),
            "FS-003 at 20% would sell at IDR 80,000, not below its lowest price of the last 30 days, IDR 80,000: the discount would not be real. The smallest real discount is 21%."
        );
        assert_eq!(found[0].severity(), Severity::Refuse);
        // 21 % is real.
        assert!(check_line(&line(21, 10), &f, now(), &GuardRules::default()).is_empty());
    }

    #[test]
    fn a_one_percent_discount_that_rounds_back_to_the_price_is_not_real() {
        // 1 % of IDR 10 is 0.1 rupiah: the flash price rounds back to 10.
        let found = check_line(&line(1, 1), &facts(idr(10)), now(), &GuardRules::default());
        assert_eq!(kinds(&found), ["not real"]);
        // In cents the same price has room: USD 0.10 at 1 % is still 0.10, but 10 % is 0.09.
        assert_eq!(
            kinds(&check_line(
                &line(1, 1),
                &facts(usd(10)),
                now(),
                &GuardRules::default()
            )),
            ["not real"]
        );
        assert!(
            check_line(&line(10, 1), &facts(usd(10)), now(), &GuardRules::default()).is_empty()
        );
    }

    #[test]
    fn the_margin_floor_refuses_with_the_deepest_allowed_discount() {
        // The example: 99,000 at 70 % is 29,700, below 35,000 + 5 % = 36,750.
        let mut f = facts(idr(99_000));
        f.unit_cost = Some(idr(35_000));
        let found = check_line(&line(70, 5), &f, now(), &GuardRules::default());
        assert_eq!(kinds(&found), ["margin"]);
        assert_eq!(
            found[0].to_string(),
            "FS-003 at 70% would sell at IDR 29,700, below its cost IDR 35,000 plus the 5 % floor: the deepest allowed is 62%."
        );
        // 62 % is 37,620 >= 36,750; 63 % is 36,630 < 36,750.
        assert!(check_line(&line(62, 5), &f, now(), &GuardRules::default()).is_empty());
        assert_eq!(
            kinds(&check_line(&line(63, 5), &f, now(), &GuardRules::default())),
            ["margin"]
        );
    }

    #[test]
    fn the_margin_floor_rounds_up_in_minor_units() {
        // Cost USD 10.01 + 5 % = 10.5105, so the floor is 10.52 (1052 cents), not 10.51.
        let mut f = facts(usd(2104));
        f.unit_cost = Some(usd(1001));
        // 2104 at 50 % = 1052: exactly the floor, allowed.
        assert!(check_line(&line(50, 1), &f, now(), &GuardRules::default()).is_empty());
        // 51 % = 1030.96 -> 1031 < 1052.
        assert_eq!(
            kinds(&check_line(&line(51, 1), &f, now(), &GuardRules::default())),
            ["margin"]
        );
    }

    #[test]
    fn a_price_below_cost_at_any_discount_says_no_discount_keeps_the_floor() {
        let mut f = facts(idr(30_000));
        f.unit_cost = Some(idr(35_000));
        let found = check_line(&line(1, 1), &f, now(), &GuardRules::default());
        assert_eq!(kinds(&found), ["margin"]);
        assert!(found[0]
            .to_string()
            .ends_with("no discount keeps the floor."));
    }

    #[test]
    fn a_missing_cost_checks_no_margin() {
        let found = check_line(
            &line(90, 1),
            &facts(idr(99_000)),
            now(),
            &GuardRules::default(),
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn the_minimum_advertised_price_is_a_hard_floor() {
        let mut f = facts(idr(200_000));
        f.min_advertised = Some(idr(150_000));
        assert!(check_line(&line(25, 1), &f, now(), &GuardRules::default()).is_empty());
        let found = check_line(&line(26, 1), &f, now(), &GuardRules::default());
        assert_eq!(kinds(&found), ["map"]);
        assert!(found[0].to_string().contains("the deepest allowed is 25%"));
    }

    #[test]
    fn a_price_raised_within_seven_days_is_flagged_beyond_the_tolerance() {
        let rules = GuardRules::default();
        let cases: &[(&str, Vec<PricePoint>, i64, &[&str])] = &[
            (
                "raised 20 % three days ago",
                vec![at(40, idr(100_000)), at(3, idr(120_000))],
                120_000,
                &["not real", "raised"],
            ),
            (
                "raised 5 % (the tolerance) is not flagged",
                vec![at(40, idr(100_000)), at(3, idr(105_000))],
                105_000,
                &[],
            ),
            (
                "raised 6 %",
                vec![at(40, idr(100_000)), at(3, idr(106_000))],
                106_000,
                &["raised"],
            ),
            (
                "raised 20 % eight days ago",
                vec![at(40, idr(100_000)), at(8, idr(120_000))],
                120_000,
                &["not real"],
            ),
            (
                "raised and lowered back",
                vec![
                    at(40, idr(100_000)),
                    at(5, idr(130_000)),
                    at(2, idr(100_000)),
                ],
                100_000,
                &[],
            ),
            (
                "the raise seen only in today's read",
                vec![at(40, idr(100_000))],
                112_000,
                &["not real", "raised"],
            ),
        ];
        for (what, history, price, expected) in cases {
            let mut f = facts(idr(*price));
            f.history = history.clone();
            let found = check_line(&line(10, 1), &f, now(), &rules);
            assert_eq!(&kinds(&found), expected, "{what}");
            if let Some(raised) = found
                .iter()
                .find(|f| matches!(f, Finding::RecentlyRaised { .. }))
            {
                assert_eq!(raised.severity(), Severity::Flag);
            }
        }
    }

    #[test]
    fn a_raise_the_shop_reports_counts_though_the_bot_never_saw_the_old_price() {
        // Raised from 260,000 to 279,000 (7 %) three days ago, per the shop.
        let mut f = facts(idr(279_000));
        f.history = PricePoint::change(idr(260_000), days_ago(3), idr(279_000)).to_vec();
        // 10 % off is 251,100: below the old price, so real, but the raise is flagged.
        assert_eq!(
            kinds(&check_line(&line(10, 1), &f, now(), &GuardRules::default())),
            ["raised"]
        );
        // 5 % off is 265,050: not below the 260,000 applied three days ago.
        assert_eq!(
            kinds(&check_line(&line(5, 1), &f, now(), &GuardRules::default())),
            ["not real", "raised"]
        );
    }

    #[test]
    fn an_unusually_deep_discount_is_flagged_once_there_is_a_past_to_compare() {
        let rules = GuardRules::default();
        let cases: &[(&str, Vec<i64>, i64, bool)] = &[
            ("no past", vec![], 80, false),
            ("two past sales are too few", vec![10, 15], 80, false),
            (
                "within 20 points of the deepest",
                vec![10, 20, 30],
                50,
                false,
            ),
            ("21 points deeper", vec![10, 20, 30], 51, true),
            ("the typo", vec![15, 15, 20, 15], 90, true),
        ];
        for (what, past, discount, flagged) in cases {
            let mut f = facts(idr(100_000));
            f.past_discounts = past.iter().map(|d| pct(*d)).collect();
            let found = check_line(&line(*discount, 1), &f, now(), &rules);
            assert_eq!(kinds(&found).contains(&"deep"), *flagged, "{what}");
        }
    }

    #[test]
    fn the_giveaway_is_quantity_times_the_price_cut() {
        // 99,000 at 30 % is 69,300: 29,700 off, times 50.
        let g = line_giveaway(&idr(99_000), pct(30), Quantity::new(50).unwrap());
        assert_eq!(g.minor(), 1_485_000);
        // Cents: 19.99 at 15 % is 16.99 (16.9915 rounds to 16.99): 3.00 off, times 3.
        let g = line_giveaway(&usd(1999), pct(15), Quantity::new(3).unwrap());
        assert_eq!(g.minor(), 900);
    }

    #[test]
    fn budgets_refuse_what_is_over_and_say_by_how_much() {
        let rules = GuardRules {
            session_budget: Some(idr(1_000_000)),
            daily_budget: Some(idr(2_500_000)),
            ..GuardRules::default()
        };
        let cases: &[(&str, i64, i64, &[&str])] = &[
            ("within both", 1_000_000, 1_500_000, &[]),
            ("over the session's", 1_000_001, 0, &["session budget"]),
            (
                "over the day's with the others",
                900_000,
                1_600_001,
                &["day budget"],
            ),
            (
                "over both",
                1_200_000,
                2_000_000,
                &["session budget", "day budget"],
            ),
        ];
        for (what, session, others, expected) in cases {
            let found = check_budget(&idr(*session), &idr(*others), &rules);
            assert_eq!(&kinds(&found), expected, "{what}");
            assert!(found
                .iter()
                .all(|f| f.severity() == Severity::Refuse && f.sku().is_none()));
        }
        let found = check_budget(&idr(1_200_000), &idr(0), &rules);
        assert_eq!(
            found[0].to_string(),
            "The session gives away IDR 1,200,000, over its budget of IDR 1,000,000 by IDR 200,000."
        );
        assert!(check_budget(&idr(i64::MAX), &idr(i64::MAX), &GuardRules::default()).is_empty());
    }

    #[test]
    fn an_override_covers_that_sku_at_that_discount_only() {
        let rules = GuardRules::default();
        let mut costly = facts(idr(100_000));
        costly.unit_cost = Some(idr(60_000));
        costly.history = vec![at(3, idr(80_000))];
        let sku = line(50, 1).sku;
        let overrides = vec![GuardOverride::Line {
            sku: sku.clone(),
            discount: pct(50),
        }];
        let cases: &[(&str, i64, usize, usize, usize)] = &[
            // discount, refused, overridden, flagged
            ("at the overridden discount", 50, 0, 1, 1),
            ("at another discount it is checked again", 51, 1, 0, 1),
            ("a line that breaks nothing hard", 25, 0, 0, 1),
        ];
        for (what, discount, refused, overridden, flagged) in cases {
            let found = check_line(&line(*discount, 1), &costly, now(), &rules);
            let v = verdict(found, &overrides);
            assert_eq!(
                (v.refused.len(), v.overridden.len(), v.flagged.len()),
                (*refused, *overridden, *flagged),
                "{what}: {v:?}"
            );
        }
        // Another SKU at the same discount is not covered.
        let other = GuardOverride::Line {
            sku: Sku::parse("FS-004", &SkuRules::default()).unwrap(),
            discount: pct(50),
        };
        let found = check_line(&line(50, 1), &costly, now(), &rules);
        assert!(verdict(found, &[other]).overridden.is_empty());
    }

    #[test]
    fn a_budget_override_covers_the_giveaway_it_was_given_for_not_more() {
        let rules = GuardRules {
            session_budget: Some(idr(1_000_000)),
            daily_budget: Some(idr(1_500_000)),
            ..GuardRules::default()
        };
        let overrides = vec![GuardOverride::Budget {
            giveaway: idr(1_200_000),
        }];
        let covered = check_budget(&idr(1_200_000), &idr(900_000), &rules);
        assert_eq!(kinds(&covered), ["session budget", "day budget"]);
        let v = verdict(covered, &overrides);
        assert!(v.refused.is_empty(), "{v:?}");
        assert_eq!(v.overridden.len(), 2);

        let grown = check_budget(&idr(1_200_001), &idr(0), &rules);
        let v = verdict(grown, &overrides);
        assert_eq!(kinds(&v.refused), ["session budget"]);
        // A line override says nothing of the budget.
        let line_only = vec![GuardOverride::Line {
            sku: line(10, 1).sku,
            discount: pct(10),
        }];
        let v = verdict(check_budget(&idr(1_200_000), &idr(0), &rules), &line_only);
        assert_eq!(kinds(&v.refused), ["session budget"]);
    }
}
