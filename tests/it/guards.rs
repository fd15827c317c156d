//! The money guards through the use cases: a line that loses money or fakes
//! a discount is refused with the numbers wherever items enter a draft
//! (typing, paste, import) and again at submit and approve; a suspicious one
//! is only flagged; an approver may override a refusal with a reason.

use chrono::Duration;
use flashsale_bot::app::cards::{approval_request, session_card};
use flashsale_bot::app::job_notices;
use flashsale_bot::app::{
    AppError, ImportError, ImportTarget, ItemChange, OverrideInput, RowProblem,
};
use flashsale_bot::chat::Text;
use flashsale_bot::domain::guards::Finding;
use flashsale_bot::domain::{Money, Policy, RuleViolation, Sku, SkuRules, Status};
use sqlx::PgPool;

use crate::support::app::*;
use crate::support::catalog::{sample_products, CatalogServer};

/// The sample catalog where FS-003 (IDR 32,900) costs IDR 20,000: with the 5 %
/// floor the flash price may not go below IDR 21,000, so 36 % is the deepest.
async fn with_cost(pool: PgPool, policy: Policy) -> TestApp {
    let products = sample_products()
        .into_iter()
        .map(|p| {
            if p.sku == "FS-003" {
                p.costing(20_000)
            } else {
                p
            }
        })
        .collect();
    let catalog = CatalogServer::start(products).await;
    TestApp::with_catalog(pool, policy, catalog, std::time::Duration::from_millis(500)).await
}

fn sku(raw: &str) -> Sku {
    Sku::parse(raw, &SkuRules::default()).unwrap()
}

fn plain(text: &Text) -> String {
    text.render(|at, _| at.to_rfc3339())
}

fn idr(minor: i64) -> Money {
    Money::from_minor(minor, test_policy().currency)
}

/// A row in the price history as if observed `days` days before the test's now.
async fn observed(t: &TestApp, sku: &str, minor: i64, days: i64) {
    sqlx::query(
        "insert into price_observation (sku, currency, price_minor, observed_at) \
         values ($1, 'IDR', $2, $3)",
    )
    .bind(sku)
    .bind(minor)
    .bind(test_now() - Duration::days(days))
    .execute(&t.pool)
    .await
    .unwrap();
}

/// The guard finding a refusal carries.
pub fn guard(v: &RuleViolation) -> Option<&Finding> {
    match v {
        RuleViolation::Guard(f) => Some(f),
        _ => None,
    }
}

fn below_cost(err: &AppError) -> Option<&Finding> {
    match err {
        AppError::Rule(v) => guard(v).filter(|f| matches!(f, Finding::BelowMarginFloor { .. })),
        _ => None,
    }
}

#[sqlx::test]
async fn a_flash_price_below_cost_is_refused_with_the_numbers_and_the_deepest_allowed(
    pool: PgPool,
) {
    let t = with_cost(pool, test_policy()).await;
    let session = t.draft_with(2).await;

    let err = t.refused_add(session.id, item("FS-003", "50", "10")).await;

    assert!(below_cost(&err).is_some(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "FS-003 at 50% would sell at IDR 16,450, below its cost IDR 20,000 plus the 5 % floor: \
         the deepest allowed is 36%."
    );
    // The deepest allowed is accepted.
    let view = t
        .app
        .add_text(&t.alice, session.id, &item("FS-003", "36", "10"))
        .await
        .unwrap();
    assert_eq!(view.items.len(), 3);
    // And an edit past it is refused the same way.
    let err = t
        .refused(
            session.id,
            t.app.update_text(
                &t.alice,
                session.id,
                &ItemChange {
                    sku: "FS-003".into(),
                    discount: Some("37".into()),
                    quantity: None,
                },
            ),
        )
        .await;
    assert!(below_cost(&err).is_some(), "{err:?}");
}

#[sqlx::test]
async fn a_pasted_guarded_line_is_refused_and_the_others_land(pool: PgPool) {
    let t = with_cost(pool, test_policy()).await;
    let session = t.draft().await;

    let report = t
        .app
        .desk
        .add_pasted(
            &t.alice,
            session.id,
            "FS-001 30 5\nFS-003 70 5\nFS-002 20 5",
        )
        .await
        .unwrap();

    assert_eq!(report.added(), 2);
    let refused = &report.lines[1];
    assert_eq!(refused.sku, "FS-003");
    let err = refused
        .result
        .as_ref()
        .expect_err("FS-003 at 70 % loses money");
    assert!(below_cost(err).is_some(), "{err:?}");
}

#[sqlx::test]
async fn a_discount_not_below_the_30_day_low_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    // FS-002 sold at IDR 30,000 twenty days ago; IDR 45,000 now.
    observed(&t, "FS-002", 45_000, 40).await;
    observed(&t, "FS-002", 30_000, 20).await;
    observed(&t, "FS-002", 45_000, 10).await;
    let session = t.draft().await;

    let err = t.refused_add(session.id, item("FS-002", "30", "5")).await;

    assert_eq!(
        err.to_string(),
        "FS-002 at 30% would sell at IDR 31,500, not below its lowest price of the last 30 days, \
         IDR 30,000: the discount would not be real. The smallest real discount is 34%.",
        "{err:?}"
    );
    let AppError::Rule(v) = &err else {
        panic!("{err:?}")
    };
    assert!(matches!(guard(v), Some(Finding::NotARealDiscount { .. })));
    // 34 % sells at IDR 29,700, below the low: a real discount.
    t.app
        .add_text(&t.alice, session.id, &item("FS-002", "34", "5"))
        .await
        .unwrap();
}

#[sqlx::test]
async fn an_import_lists_the_guarded_rows_with_the_other_problems(pool: PgPool) {
    let t = with_cost(pool, test_policy()).await;
    let text = "SKU,Discount,Quantity\n\
                FS-001,30,10\n\
                FS-002,30,10\n\
                FS-003,70,10\n\
                FS-004,30,10\n\
                NOPE-1,30,10\n\
                FS-006,30,10\n";
    let before: i64 = sqlx::query_scalar("select count(*) from session")
        .fetch_one(&t.pool)
        .await
        .unwrap();

    let err = import_new(&t, "mixed.csv", text.as_bytes())
        .await
        .expect_err("two rows are bad");

    let AppError::Import(ImportError::Invalid { rows, .. }) = &err else {
        panic!("{err:?}")
    };
    let found: Vec<u32> = rows.iter().map(|r| r.row).collect();
    assert_eq!(found, [4, 6], "{rows:?}");
    let RowProblem::Rule(v) = &rows[0].problems[0] else {
        panic!("{rows:?}")
    };
    assert!(matches!(guard(v), Some(Finding::BelowMarginFloor { .. })));
    assert!(err
        .to_string()
        .contains("- Row 4: FS-003 at 70% would sell at IDR 9,870, below its cost IDR 20,000"));
    let after: i64 = sqlx::query_scalar("select count(*) from session")
        .fetch_one(&t.pool)
        .await
        .unwrap();
    assert_eq!(after, before, "nothing is written");

    // Into an existing draft, the good rows alone are imported.
    let draft = t.draft().await;
    let good = "SKU,Discount,Quantity\nFS-001,30,10\nFS-003,30,10\n";
    let report = t
        .app
        .desk
        .import(
            &t.alice,
            "good.csv",
            good.as_bytes(),
            None,
            ImportTarget::Existing(draft.id),
        )
        .await
        .unwrap();
    assert_eq!(report.rows.len(), 2);
}

#[sqlx::test]
async fn a_cost_learned_after_submit_refuses_approval_with_the_numbers(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;
    // FS-003 is at 30 %: IDR 23,030. The shop now says it costs IDR 25,000;
    // approval asks the catalog live.
    t.catalog.set_cost("FS-003", 25_000).await;

    let err = t
        .refused(
            session.id,
            t.app.desk.approve(&t.bob, session.id, session.version),
        )
        .await;

    let AppError::InvalidItems(problems) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(err
        .to_string()
        .contains("FS-003 at 30% would sell at IDR 23,030, below its cost IDR 25,000"));
}

#[sqlx::test]
async fn a_session_over_its_budget_is_refused_at_submit(pool: PgPool) {
    let mut policy = test_policy();
    policy.guards.session_budget = Some(idr(100_000));
    let t = TestApp::with_policy(pool, policy).await;
    let session = t.draft_with(6).await;

    let err = t
        .refused(session.id, t.app.desk.submit(&t.alice, session.id))
        .await;

    let AppError::InvalidItems(problems) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        matches!(guard(&problems[0]), Some(Finding::OverSessionBudget { .. })),
        "{problems:?}"
    );
    assert!(err.to_string().contains("over its budget of IDR 100,000"));
    assert_eq!(
        t.app.queries.get(session.id).await.unwrap().status,
        Status::Draft
    );
}

#[sqlx::test]
async fn every_product_read_for_a_check_is_recorded_in_the_price_history(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(1).await;
    // Refused lines are recorded too: the price was read.
    t.refused_add(session.id, item("FS-OFF", "10", "1")).await;

    let skus: Vec<String> = sqlx::query_scalar("select sku from price_observation order by sku")
        .fetch_all(&t.pool)
        .await
        .unwrap();
    assert_eq!(skus, ["FS-001", "FS-OFF"]);
}

fn override_line(sku: &str, discount: i64, reason: &str) -> OverrideInput {
    OverrideInput::parse(
        Some(sku),
        Some(&discount.to_string()),
        reason,
        &test_policy(),
    )
    .unwrap()
}

#[sqlx::test]
async fn an_approver_overrides_a_refused_line_for_that_discount_only(pool: PgPool) {
    let t = with_cost(pool, test_policy()).await;
    let session = t.draft_with(2).await;
    let err = t.refused_add(session.id, item("FS-003", "50", "10")).await;
    assert!(below_cost(&err).is_some(), "{err:?}");

    let overridden = t
        .app
        .desk
        .override_guard(
            &t.bob,
            session.id,
            &override_line("FS-003", 50, "clearance, cost written off"),
        )
        .await
        .unwrap();
    assert!(
        overridden.version > session.version,
        "a stale card is refused"
    );
    assert_eq!(t.activity_count(session.id, "guard_overridden").await, 1);

    let view = t
        .app
        .add_text(&t.alice, session.id, &item("FS-003", "50", "10"))
        .await
        .unwrap();
    assert_eq!(view.items.len(), 3);
    // The card shows the override, who gave it and why.
    let card = session_card(&view);
    let description = plain(&card.description.unwrap());
    assert!(
        description.contains("Override: FS-003 at 50% allowed by bob: clearance, cost written off"),
        "{description}"
    );
    // Another discount is checked again.
    let err = t
        .refused(
            session.id,
            t.app.update_text(
                &t.alice,
                session.id,
                &ItemChange {
                    sku: "FS-003".into(),
                    discount: Some("55".into()),
                    quantity: None,
                },
            ),
        )
        .await;
    assert!(below_cost(&err).is_some(), "{err:?}");
    // Six lines, submitted by Alice, approved by Carol: the override holds to the end.
    for sku in ["FS-004", "FS-005", "FS-006"] {
        t.app
            .add_text(&t.alice, session.id, &item(sku, "30", "10"))
            .await
            .unwrap();
    }
    let submitted = t.app.desk.submit(&t.alice, session.id).await.unwrap();
    let approved = t
        .app
        .desk
        .approve(&t.carol, submitted.id, submitted.version)
        .await
        .unwrap();
    assert_eq!(approved.status, Status::Approved);
}

#[sqlx::test]
async fn an_override_needs_another_approver_and_a_reason(pool: PgPool) {
    let t = with_cost(pool, test_policy()).await;
    let dana = editor_and_approver("dana");
    let session = t.draft().await;
    t.app
        .add_text(&dana, session.id, &item("FS-001", "30", "10"))
        .await
        .unwrap();

    let cases = [
        (
            "an approver who edited it",
            &dana,
            "clearance",
            RuleViolation::SelfOverride,
        ),
        (
            "an editor",
            &t.alice,
            "clearance",
            RuleViolation::OverrideNotApprover,
        ),
        (
            "no reason",
            &t.bob,
            "   ",
            RuleViolation::OverrideReasonRequired,
        ),
    ];
    for (what, who, reason, expected) in cases {
        let err = t
            .refused(
                session.id,
                t.app
                    .desk
                    .override_guard(who, session.id, &override_line("FS-003", 50, reason)),
            )
            .await;
        assert!(
            matches!(&err, AppError::Rule(v) if *v == expected),
            "{what}: {err:?}"
        );
    }
    let err = t
        .refused(
            session.id,
            t.app
                .desk
                .override_guard(&dana, session.id, &override_line("FS-003", 50, "clearance")),
        )
        .await;
    assert_eq!(
        err.to_string(),
        "You edited or submitted this session, so someone else must override its money guards (four-eyes rule)."
    );
}

#[sqlx::test]
async fn a_budget_override_lets_the_session_through_submit(pool: PgPool) {
    let mut policy = test_policy();
    policy.guards.session_budget = Some(idr(100_000));
    let t = TestApp::with_policy(pool, policy).await;
    let session = t.draft_with(6).await;
    assert!(t.app.desk.submit(&t.alice, session.id).await.is_err());

    let budget = OverrideInput::parse(None, None, "launch week", &test_policy()).unwrap();
    let view = t
        .app
        .desk
        .override_guard(&t.bob, session.id, &budget)
        .await
        .unwrap();

    let money = &view.money;
    assert!(money.budget_left.as_ref().unwrap().minor() < 0, "{money:?}");
    assert_eq!(money.overrides.len(), 1);
    let submitted = t.app.desk.submit(&t.alice, session.id).await.unwrap();
    assert_eq!(submitted.status, Status::PendingApproval);
    let card = plain(&session_card(&submitted).description.unwrap());
    assert!(card.contains("Gives away IDR "), "{card}");
    assert!(card.contains("budget left IDR -"), "{card}");
}

#[sqlx::test]
async fn a_recently_raised_price_is_flagged_on_the_card_and_in_the_approval_request(pool: PgPool) {
    let t = with_cost(pool, test_policy()).await;
    // FS-001 was IDR 140,000 three days ago; IDR 149,500 now: +6.8 %, over the 5 % tolerance.
    observed(&t, "FS-001", 140_000, 3).await;
    let session = t.draft_with(6).await;

    let line = session.item(&sku("FS-001")).unwrap();
    assert_eq!(line.money.flags.len(), 1, "{:?}", line.money);
    assert!(line.money.flags[0]
        .starts_with("FS-001's price rose from IDR 140,000 to IDR 149,500 within the last 7 days"));
    assert_eq!(line.money.reference, Some(idr(140_000)));
    // FS-003's cost is known: IDR 23,030 at 30 % leaves IDR 3,030 a unit.
    let costed = session.item(&sku("FS-003")).unwrap();
    assert_eq!(costed.money.margin, Some(idr(3_030)));

    let card = session_card(&session);
    let fields: Vec<String> = card.fields.iter().map(|f| plain(&f.value)).collect();
    assert!(
        fields.iter().any(|f| f.contains("⚠ FS-001's price rose")),
        "{fields:#?}"
    );
    assert!(
        fields.iter().any(|f| f.contains("margin IDR 3,030 a unit")),
        "{fields:#?}"
    );
    let submitted = t.app.desk.submit(&t.alice, session.id).await.unwrap();
    let request = plain(&approval_request(&submitted).text);
    assert!(
        request.contains("Money guards: 1 flag to look at"),
        "{request}"
    );
}

#[sqlx::test]
async fn a_price_raised_between_approval_and_the_heads_up_is_reported_with_the_guards(
    pool: PgPool,
) {
    let t = TestApp::new(pool).await;
    let session = t.approved().await;
    // FS-003 was IDR 32,900 at 30 %: IDR 23,030. Raised to IDR 50,000, 30 % off
    // sells at IDR 35,000, above the 30-day low: not a real discount either.
    t.catalog.set_price("FS-003", 50_000).await;
    // FS-005's cost is now known and above its flash price.
    t.catalog.set_cost("FS-005", 500_000).await;

    let problems = t.app.operations.recheck_items(session.id).await.unwrap();

    let kinds: Vec<&str> = problems
        .iter()
        .map(|p| match guard(p) {
            Some(Finding::NotARealDiscount { sku, .. }) if sku.as_str() == "FS-003" => "not real",
            Some(Finding::BelowMarginFloor { sku, .. }) if sku.as_str() == "FS-005" => "below cost",
            None if matches!(p, RuleViolation::PriceChanged { .. }) => "price changed",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        ["price changed", "not real", "below cost"],
        "{problems:#?}"
    );
    let alert = plain(
        &job_notices::heads_up_problems(&session, &problems)
            .message
            .text,
    );
    assert!(
        alert.contains("FS-003 at 30% would sell at IDR 35,000, not below its lowest price of the last 30 days, IDR 32,900"),
        "{alert}"
    );
    // The new price was recorded: the history now shows the raise.
    let seen: Vec<i64> = sqlx::query_scalar(
        "select price_minor from price_observation where sku = 'FS-003' order by observed_at",
    )
    .fetch_all(&t.pool)
    .await
    .unwrap();
    assert_eq!(seen.last(), Some(&50_000));
}

#[sqlx::test]
async fn the_daily_housekeeping_observes_upcoming_skus_prunes_old_prices_and_counts_overrides(
    pool: PgPool,
) {
    let t = with_cost(pool, test_policy()).await;
    let session = t.draft_with(2).await;
    // An old row past the 30-day window, then a newer one before it: the
    // older goes, the newer stays as the price in effect when the window began.
    sqlx::query(
        "insert into price_observation (sku, currency, price_minor, observed_at) values \
         ('FS-009', 'IDR', 100000, now() - interval '60 days'), \
         ('FS-009', 'IDR', 110000, now() - interval '40 days')",
    )
    .execute(&t.pool)
    .await
    .unwrap();
    // The prices move after the items were set; nobody edits them.
    t.catalog.set_price("FS-001", 155_000).await;
    t.catalog.set_price("FS-002", 47_000).await;
    t.app
        .desk
        .override_guard(
            &t.bob,
            session.id,
            &override_line("FS-003", 50, "clearance"),
        )
        .await
        .unwrap();

    assert_eq!(t.app.operations.observe_upcoming_prices().await.unwrap(), 2);
    assert_eq!(t.app.operations.prune_price_history().await.unwrap(), 1);
    t.app.operations.post_digest().await;

    let latest: Vec<(String, i64)> = sqlx::query_as(
        "select distinct on (sku) sku, price_minor from price_observation \
         order by sku, observed_at desc",
    )
    .fetch_all(&t.pool)
    .await
    .unwrap();
    assert_eq!(
        latest,
        [
            ("FS-001".to_owned(), 155_000),
            ("FS-002".to_owned(), 47_000),
            ("FS-009".to_owned(), 110_000)
        ]
    );
    t.deliver_notices().await;
    let digest = t
        .chat
        .posts_to(flashsale_bot::chat::Channel::Announcements)
        .into_iter()
        .map(|p| plain(&p.message.text))
        .find(|text| text.starts_with("Daily digest"))
        .expect("the digest was posted");
    assert!(
        digest.contains("Money guards: 1 override given by approvers in the last 24 hours"),
        "{digest}"
    );
}
