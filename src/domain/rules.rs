//! Session rules that need more than one value: six slots, no duplicate SKU,
//! stock, the approval deadline, four eyes (tuned by `super::policy`).

use chrono::{DateTime, Utc};

use super::actor::ActorId;
use super::money::Money;
use super::policy::{approval_deadline, Policy};
use super::quantity::Quantity;
use super::sku::Sku;
use super::window::format_local;

/// A session shows exactly this many SKUs in the storefront's Flash Sale section.
pub const MAX_ITEMS: usize = 6;

/// What the catalog says about a product, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockFacts {
    pub active: bool,
    pub stock: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleViolation {
    #[error("The session is full: it already has {max} SKUs, the most a session can show. Remove one first.")]
    SessionFull { max: usize },
    #[error(
        "{sku} is already in this session: each SKU can appear once. Use edit-sku to change it."
    )]
    DuplicateSku { sku: String },
    #[error("{sku} is not in this session.")]
    ItemNotInSession { sku: String },
    #[error("The session has {count} SKUs: it needs exactly {required} to be submitted.")]
    WrongItemCount { count: usize, required: usize },
    #[error("{sku} is not in the catalog: check the SKU for typos.")]
    UnknownSku { sku: String },
    #[error("{sku} is not active in the catalog, so it can't be sold in a flash sale.")]
    InactiveSku { sku: String },
    #[error("{sku} has {stock} units in stock: the flash-sale quantity {quantity} is more than that. Allowed at most {stock}.")]
    NotEnoughStock {
        sku: String,
        quantity: u32,
        stock: i64,
    },
    #[error("{sku} costs {now} in the catalog now, not {was} as when it was added, so its flash price is out of date. Set the item again with edit-sku (in a draft) to take the new price.")]
    PriceChanged {
        sku: String,
        was: String,
        now: String,
    },
    #[error("The approval deadline ({deadline}) has passed: a session must be approved {cutoff_minutes} minutes before it starts.")]
    ApprovalDeadlinePassed {
        deadline: String,
        cutoff_minutes: i64,
    },
    #[error(
        "You edited or submitted this session, so someone else must approve it (four-eyes rule)."
    )]
    SelfApproval,
    #[error("A reason is required: tell the editors what to change.")]
    ReasonRequired,
    /// A reason that is too long or holds characters free text may not.
    #[error(transparent)]
    Reason(super::ReasonError),
    #[error("This session changed since you looked at it (you saw version {seen}, it is now version {current}). Look at the refreshed card and try again.")]
    StaleVersion { seen: i32, current: i32 },
    /// A page of a list past its end; `list` names the list, e.g. `the list of upcoming sessions`.
    #[error("Page {page} does not exist: {list} has {pages} {}, from 1.", if *.pages == 1 { "page" } else { "pages" })]
    ListPageNotFound { page: i64, pages: i64, list: String },
    /// `other` describes the session in the way, e.g. `#12 "Midnight Deals"`.
    /// A money guard refused it (`super::guards`), with the numbers.
    #[error(transparent)]
    Guard(Box<super::guards::Finding>),
    #[error("Only an approver can override a money guard.")]
    OverrideNotApprover,
    #[error("You edited or submitted this session, so someone else must override its money guards (four-eyes rule).")]
    SelfOverride,
    #[error("A reason is required: say why the guard may be overridden.")]
    OverrideReasonRequired,
    #[error("Only a draft or a session waiting for approval can have a money guard overridden; this one is {status}.")]
    OverrideTooLate { status: String },
    #[error("Give the discount the override covers, e.g. discount:70: an override covers one SKU at one discount.")]
    OverrideNeedsDiscount,
    #[error("This session overlaps {other}, which is {state}: the storefront shows one flash sale at a time. {free}")]
    Overlap {
        /// `#3 "Lunch Flash" (Fri 27 Nov 10:00–12:00 WIB)`.
        other: String,
        /// `approved` or `live`: what the other session is now.
        state: String,
        /// Where this one could go instead, or what to do when nothing is near.
        free: String,
    },
}

/// A new SKU fits when there is a free slot and the SKU is not there yet.
pub fn check_can_add(existing: &[Sku], sku: &Sku) -> Result<(), RuleViolation> {
    if existing.contains(sku) {
        return Err(RuleViolation::DuplicateSku {
            sku: sku.to_string(),
        });
    }
    if existing.len() >= MAX_ITEMS {
        return Err(RuleViolation::SessionFull { max: MAX_ITEMS });
    }
    Ok(())
}

/// Exactly six: fewer leaves holes in the storefront, more cannot be shown.
pub fn check_submittable(item_count: usize) -> Result<(), RuleViolation> {
    if item_count != MAX_ITEMS {
        return Err(RuleViolation::WrongItemCount {
            count: item_count,
            required: MAX_ITEMS,
        });
    }
    Ok(())
}

/// The catalog must know the SKU, sell it, and hold enough stock for the sale.
pub fn check_stock(
    sku: &Sku,
    quantity: Quantity,
    product: Option<StockFacts>,
) -> Result<(), RuleViolation> {
    let product = product.ok_or_else(|| RuleViolation::UnknownSku {
        sku: sku.to_string(),
    })?;
    if !product.active {
        return Err(RuleViolation::InactiveSku {
            sku: sku.to_string(),
        });
    }
    if i64::from(quantity.get()) > product.stock {
        return Err(RuleViolation::NotEnoughStock {
            sku: sku.to_string(),
            quantity: quantity.get(),
            stock: product.stock,
        });
    }
    Ok(())
}

/// The discount was chosen, and the flash price shown, on the base price seen
/// when the item was set: if the catalog's price has moved since, what the
/// approvers saw is not what the storefront would sell.
pub fn check_price(sku: &Sku, agreed: &Money, current: &Money) -> Result<(), RuleViolation> {
    if agreed != current {
        return Err(RuleViolation::PriceChanged {
            sku: sku.to_string(),
            was: agreed.to_string(),
            now: current.to_string(),
        });
    }
    Ok(())
}

/// Submitting and approving are only possible before the approval deadline.
pub fn check_before_deadline(
    now: DateTime<Utc>,
    starts_at: DateTime<Utc>,
    policy: &Policy,
) -> Result<(), RuleViolation> {
    let deadline = approval_deadline(starts_at, policy);
    if now >= deadline {
        return Err(RuleViolation::ApprovalDeadlinePassed {
            deadline: format_local(deadline, policy.time_zone),
            cutoff_minutes: policy.approval_cutoff.num_minutes(),
        });
    }
    Ok(())
}

/// Four eyes: the approver must not be anyone who shaped the session.
pub fn check_four_eyes(
    approver: &ActorId,
    editors: &[ActorId],
    policy: &Policy,
) -> Result<(), RuleViolation> {
    if policy.four_eyes && editors.contains(approver) {
        return Err(RuleViolation::SelfApproval);
    }
    Ok(())
}

/// Who may override a money guard: an approver, never for a session they
/// edited or submitted (the four-eyes rule approvals follow), with a reason.
pub fn check_override(
    actor: &ActorId,
    is_approver: bool,
    editors: &[ActorId],
    policy: &Policy,
    reason: &str,
) -> Result<String, RuleViolation> {
    if !is_approver {
        return Err(RuleViolation::OverrideNotApprover);
    }
    if policy.four_eyes && editors.contains(actor) {
        return Err(RuleViolation::SelfOverride);
    }
    match super::Reason::parse(reason) {
        Ok(reason) => Ok(reason.into_string()),
        Err(super::ReasonError::Empty) => Err(RuleViolation::OverrideReasonRequired),
        Err(e) => Err(RuleViolation::Reason(e)),
    }
}

/// Approvers must approve what they saw.
pub fn check_version(seen: i32, current: i32) -> Result<(), RuleViolation> {
    if seen != current {
        return Err(RuleViolation::StaleVersion { seen, current });
    }
    Ok(())
}

/// A rejection without a reason leaves the editors guessing.
pub fn require_reason(reason: &str) -> Result<String, RuleViolation> {
    match super::Reason::parse(reason) {
        Ok(reason) => Ok(reason.into_string()),
        Err(super::ReasonError::Empty) => Err(RuleViolation::ReasonRequired),
        Err(e) => Err(RuleViolation::Reason(e)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::money::Currency;
    use crate::domain::sku::SkuRules;
    use crate::domain::window::WindowRules;
    use chrono::{Duration, TimeZone};

    /// The defaults the domain's unit tests share: IDR, Jakarta, a
    /// 60-minute approval cutoff, four eyes on.
    pub(crate) fn policy() -> Policy {
        Policy {
            sku: SkuRules::default(),
            window: WindowRules::default(),
            approval_cutoff: Duration::minutes(60),
            four_eyes: true,
            currency: Currency::from_code("IDR").unwrap(),
            time_zone: chrono_tz::Asia::Jakarta,
            schedule: crate::domain::SchedulePolicy::default(),
            guards: Default::default(),
        }
    }

    fn sku(s: &str) -> Sku {
        Sku::parse(s, &SkuRules::default()).unwrap()
    }

    fn skus(n: usize) -> Vec<Sku> {
        (1..=n).map(|i| sku(&format!("FS-{i:03}"))).collect()
    }

    #[test]
    fn sixth_sku_fits_and_seventh_is_refused() {
        assert_eq!(check_can_add(&skus(5), &sku("NEW-1")), Ok(()));
        assert_eq!(
            check_can_add(&skus(6), &sku("NEW-1")),
            Err(RuleViolation::SessionFull { max: 6 })
        );
    }

    #[test]
    fn duplicate_sku_is_refused_even_when_lowercase_was_typed() {
        assert_eq!(
            check_can_add(&skus(3), &sku("fs-002")),
            Err(RuleViolation::DuplicateSku {
                sku: "FS-002".into()
            })
        );
    }

    #[test]
    fn only_exactly_six_items_can_be_submitted() {
        for count in [0, 1, 5, 7] {
            assert_eq!(
                check_submittable(count),
                Err(RuleViolation::WrongItemCount { count, required: 6 })
            );
        }
        assert_eq!(check_submittable(6), Ok(()));
    }

    #[test]
    fn stock_rules_refuse_unknown_inactive_and_short_stock() {
        let s = sku("FS-001");
        let q = |n| Quantity::new(n).unwrap();
        let facts = |active, stock| Some(StockFacts { active, stock });
        assert_eq!(
            check_stock(&s, q(1), None),
            Err(RuleViolation::UnknownSku {
                sku: "FS-001".into()
            })
        );
        assert_eq!(
            check_stock(&s, q(1), facts(false, 10)),
            Err(RuleViolation::InactiveSku {
                sku: "FS-001".into()
            })
        );
        assert_eq!(
            check_stock(&s, q(11), facts(true, 10)),
            Err(RuleViolation::NotEnoughStock {
                sku: "FS-001".into(),
                quantity: 11,
                stock: 10
            })
        );
        assert_eq!(check_stock(&s, q(10), facts(true, 10)), Ok(()));
    }

    #[test]
    fn a_catalog_price_change_since_the_item_was_set_is_refused() {
        let idr = Currency::new("IDR", 0).unwrap();
        let price = |minor| Money::from_minor(minor, idr.clone());
        let s = sku("FS-001");
        assert_eq!(check_price(&s, &price(100_000), &price(100_000)), Ok(()));
        let refused = check_price(&s, &price(100_000), &price(120_000)).unwrap_err();
        assert_eq!(
            refused,
            RuleViolation::PriceChanged {
                sku: "FS-001".into(),
                was: "IDR 100,000".into(),
                now: "IDR 120,000".into(),
            }
        );
        assert!(refused.to_string().contains("edit-sku"), "{refused}");
    }

    #[test]
    fn deadline_is_the_cutoff_before_start_and_is_exclusive() {
        let p = policy();
        let start = Utc.with_ymd_and_hms(2026, 11, 26, 17, 0, 0).unwrap();
        let deadline = approval_deadline(start, &p);
        assert_eq!(
            deadline,
            Utc.with_ymd_and_hms(2026, 11, 26, 16, 0, 0).unwrap()
        );
        assert_eq!(
            check_before_deadline(deadline - Duration::seconds(1), start, &p),
            Ok(())
        );
        let refused = check_before_deadline(deadline, start, &p).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "The approval deadline (2026-11-26 23:00 WIB) has passed: a session must be approved 60 minutes before it starts."
        );
    }

    #[test]
    fn four_eyes_refuses_an_editor_unless_switched_off() {
        let alice = ActorId::new("discord", "1");
        let bob = ActorId::new("discord", "2");
        let mut p = policy();
        assert_eq!(
            check_four_eyes(&alice, &[alice.clone(), bob.clone()], &p),
            Err(RuleViolation::SelfApproval)
        );
        assert_eq!(
            check_four_eyes(&alice, std::slice::from_ref(&bob), &p),
            Ok(())
        );
        p.four_eyes = false;
        assert_eq!(
            check_four_eyes(&alice, std::slice::from_ref(&alice), &p),
            Ok(())
        );
    }

    #[test]
    fn an_override_needs_an_approver_other_than_the_editors_and_a_reason() {
        let alice = ActorId::new("discord", "1");
        let bob = ActorId::new("discord", "2");
        let editors = [alice.clone()];
        let mut p = policy();
        type Case<'a> = (
            &'a str,
            &'a ActorId,
            bool,
            &'a str,
            Result<String, RuleViolation>,
        );
        let cases: &[Case<'_>] = &[
            (
                "an approver with a reason",
                &bob,
                true,
                " clearance ",
                Ok("clearance".into()),
            ),
            (
                "not an approver",
                &bob,
                false,
                "x",
                Err(RuleViolation::OverrideNotApprover),
            ),
            (
                "an editor of it",
                &alice,
                true,
                "x",
                Err(RuleViolation::SelfOverride),
            ),
            (
                "no reason",
                &bob,
                true,
                "  ",
                Err(RuleViolation::OverrideReasonRequired),
            ),
        ];
        for (what, who, approver, reason, expected) in cases {
            assert_eq!(
                &check_override(who, *approver, &editors, &p, reason),
                expected,
                "{what}"
            );
        }
        p.four_eyes = false;
        assert!(check_override(&alice, true, &editors, &p, "x").is_ok());
    }

    #[test]
    fn stale_version_is_refused() {
        assert_eq!(check_version(3, 3), Ok(()));
        assert_eq!(
            check_version(3, 4),
            Err(RuleViolation::StaleVersion {
                seen: 3,
                current: 4
            })
        );
    }

    #[test]
    fn blank_reason_is_refused() {
        assert_eq!(require_reason("  \n "), Err(RuleViolation::ReasonRequired));
        assert_eq!(
            require_reason(" wrong prices "),
            Ok("wrong prices".to_owned())
        );
    }
}
