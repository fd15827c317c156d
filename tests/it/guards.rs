//! The money guards through the use cases: a line that loses money or fakes
//! a discount is refused with the numbers wherever items enter a draft
//! (typing, paste, import) and again at submit and approve; a suspicious one
//! is only flagged; an approver may override a refusal with a reason.

use chrono::Duration;
use flashsale_bot::app::{AppError, ImportError, ImportTarget, RowProblem};
use flashsale_bot::domain::guards::Finding;
use flashsale_bot::domain::{Money, Policy, RuleViolation, Status};
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
                &flashsale_bot::app::ItemChange {
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
         IDR 30,000: the discount would not be real. the deepest allowed is 34%.",
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
