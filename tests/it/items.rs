//! Adding, changing and removing the SKUs of a draft.

use flashsale_bot::app::{AppError, InputError, ItemChange};
use flashsale_bot::domain::{
    DiscountError, QuantityError, RuleViolation, SkuError, TransitionRefused,
};
use sqlx::PgPool;

use crate::support::app::*;
use crate::support::assert_matches;

#[sqlx::test]
async fn six_skus_fill_a_session_with_flash_prices(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(6).await;

    assert_eq!(session.items.len(), 6);
    assert_eq!(session.version, 7, "one bump per added item");
    let first = &session.items[0];
    assert_eq!(first.sku.as_str(), "FS-001");
    assert_eq!(first.slot, 1);
    assert_eq!(first.discount.get(), 30);
    assert_eq!(first.quantity.get(), 10);
    assert_eq!(first.stock_seen, 100);
    assert_eq!(
        first.flash_price.minor(),
        first.base_price.minor() * 70 / 100
    );
    assert_eq!(t.activity_count(session.id, "item_added").await, 6);
}

#[sqlx::test]
async fn typed_input_is_normalised(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft().await;
    let view = t
        .app
        .add_text(&t.alice, session.id, &item("  fs-007 ", " 25 % ", " 5 "))
        .await
        .unwrap();
    let added = &view.items[0];
    assert_eq!(
        (
            added.sku.as_str(),
            added.discount.get(),
            added.quantity.get()
        ),
        ("FS-007", 25, 5)
    );
}

#[sqlx::test]
async fn seventh_sku_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(6).await;

    let err = t.refused_add(session.id, item("FS-007", "30", "10")).await;

    assert_matches!(err, AppError::Rule(RuleViolation::SessionFull { max: 6 }));
}

#[sqlx::test]
async fn duplicate_sku_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(3).await;

    let err = t.refused_add(session.id, item("fs-002", "50", "1")).await;

    assert_eq!(
        err.to_string(),
        "FS-002 is already in this session: each SKU can appear once. Use edit-sku to change it."
    );
}

#[sqlx::test]
async fn unknown_sku_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft().await;

    let err = t.refused_add(session.id, item("NOPE-1", "30", "1")).await;

    assert_matches!(err, AppError::Rule(RuleViolation::UnknownSku { .. }));
}

#[sqlx::test]
async fn inactive_sku_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft().await;

    let err = t.refused_add(session.id, item("FS-OFF", "30", "1")).await;

    assert_matches!(err, AppError::Rule(RuleViolation::InactiveSku { .. }));
}

#[sqlx::test]
async fn quantity_above_stock_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft().await;

    let err = t.refused_add(session.id, item("FS-LOW", "30", "4")).await;

    assert_eq!(
        err.to_string(),
        "FS-LOW has 3 units in stock: the flash-sale quantity 4 is more than that. Allowed at most 3."
    );
}

#[sqlx::test]
async fn malformed_values_are_refused_before_anything_is_asked(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft().await;
    let requests = t.catalog.request_count().await;

    let cases = [
        (
            item("FS-001", "95", "10"),
            "Discount 95% is out of range: allowed 1-90%.",
        ),
        (
            item("FS-001", "0", "10"),
            "Discount 0% is out of range: allowed 1-90%.",
        ),
    ];
    for (input, message) in cases {
        let err = t.refused_add(session.id, input).await;
        assert_eq!(err.to_string(), message);
    }
    let err = t
        .refused_add(session.id, item("FS-001", "50.5", "10"))
        .await;
    assert_matches!(
        err,
        AppError::Input(InputError::Discount(DiscountError::NotWhole { .. }))
    );
    let err = t.refused_add(session.id, item("FS-001", "30", "0")).await;
    assert_matches!(
        err,
        AppError::Input(InputError::Quantity(QuantityError::TooSmall { .. }))
    );
    let err = t.refused_add(session.id, item("FS 001", "30", "1")).await;
    assert_matches!(
        err,
        AppError::Input(InputError::Sku(SkuError::ContainsSpace { .. }))
    );

    assert_eq!(
        t.catalog.request_count().await,
        requests,
        "bad input never reaches the catalog"
    );
}

#[sqlx::test]
async fn adding_to_a_session_that_does_not_exist_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let err = t
        .app
        .add_text(&t.alice, 999, &item("FS-001", "30", "1"))
        .await
        .unwrap_err();
    // The use case names the command; the adapter writes it (here: the slash form).
    assert_eq!(err.to_string(), "Session #999 does not exist.");
    assert_eq!(
        err.message().render(|_, _| String::new()),
        "Session #999 does not exist. Use /flashsale list to see the sessions."
    );
}

#[sqlx::test]
async fn an_approver_without_the_editor_role_cannot_add_items(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft().await;

    let err = t
        .refused(
            session.id,
            t.app
                .add_text(&t.bob, session.id, &item("FS-001", "30", "1")),
        )
        .await;

    assert_matches!(
        err,
        AppError::Transition(TransitionRefused::Forbidden { .. })
    );
}

#[sqlx::test]
async fn editing_an_item_changes_only_what_was_given_and_logs_before_and_after(pool: PgPool) {
    let t = TestApp::new(pool.clone()).await;
    let session = t.draft_with(2).await;

    let view = t
        .app
        .update_text(
            &t.alice,
            session.id,
            &ItemChange {
                sku: "fs-002".into(),
                discount: Some("45%".into()),
                quantity: None,
            },
        )
        .await
        .unwrap();

    let changed = &view.items[1];
    assert_eq!((changed.discount.get(), changed.quantity.get()), (45, 10));
    assert_eq!(
        view.items[0].discount.get(),
        30,
        "the other item is untouched"
    );
    assert_eq!(view.version, session.version + 1);
    let details: serde_json::Value = sqlx::query_scalar(
        "select details from activity where session_id = $1 and action = 'item_updated'",
    )
    .bind(session.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(details["before"]["discount_percent"], 30);
    assert_eq!(details["after"]["discount_percent"], 45);
    assert_eq!(details["after"]["quantity"], 10);
}

#[sqlx::test]
async fn editing_with_nothing_to_change_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(1).await;
    let change = ItemChange {
        sku: "FS-001".into(),
        ..ItemChange::default()
    };
    let err = t
        .app
        .update_text(&t.alice, session.id, &change)
        .await
        .unwrap_err();
    assert_matches!(err, AppError::Input(InputError::NothingToChange));
}

#[sqlx::test]
async fn raising_quantity_above_stock_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft().await;
    t.app
        .add_text(&t.alice, session.id, &item("FS-LOW", "30", "3"))
        .await
        .unwrap();
    let change = ItemChange {
        sku: "FS-LOW".into(),
        discount: None,
        quantity: Some("5".into()),
    };

    let err = t
        .refused(session.id, t.app.update_text(&t.alice, session.id, &change))
        .await;

    assert_matches!(
        err,
        AppError::Rule(RuleViolation::NotEnoughStock { stock: 3, .. })
    );
}

#[sqlx::test]
async fn editing_an_item_that_is_not_there_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(1).await;
    let change = ItemChange {
        sku: "FS-009".into(),
        discount: Some("10".into()),
        quantity: None,
    };
    let err = t
        .app
        .update_text(&t.alice, session.id, &change)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "FS-009 is not in this session.");
}

#[sqlx::test]
async fn removing_an_item_frees_its_slot_for_another(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(6).await;

    let view = t
        .app
        .desk
        .remove_item(&t.alice, session.id, "fs-003")
        .await
        .unwrap();
    assert_eq!(view.items.len(), 5);
    assert!(view.items.iter().all(|i| i.sku.as_str() != "FS-003"));

    let view = t
        .app
        .add_text(&t.alice, session.id, &item("FS-009", "20", "2"))
        .await
        .unwrap();
    assert_eq!(view.items.len(), 6);
    assert_eq!(
        view.item(&view.items[2].sku).map(|i| i.sku.as_str()),
        Some("FS-009")
    );
    assert_eq!(view.items[2].slot, 3, "the freed slot is reused");
}

#[sqlx::test]
async fn removing_an_item_that_is_not_there_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(2).await;
    let err = t
        .refused(
            session.id,
            t.app.desk.remove_item(&t.alice, session.id, "FS-005"),
        )
        .await;
    assert_matches!(err, AppError::Rule(RuleViolation::ItemNotInSession { .. }));
}

#[sqlx::test]
async fn items_cannot_change_while_waiting_for_approval(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;

    let add = t.refused_add(session.id, item("FS-009", "30", "1")).await;
    let change = ItemChange {
        sku: "FS-001".into(),
        discount: Some("10".into()),
        quantity: None,
    };
    let edit = t
        .refused(session.id, t.app.update_text(&t.alice, session.id, &change))
        .await;
    let remove = t
        .refused(
            session.id,
            t.app.desk.remove_item(&t.alice, session.id, "FS-001"),
        )
        .await;

    for err in [add, edit, remove] {
        assert_eq!(
            err.to_string(),
            "This session is waiting for approval: withdraw it first to change its items."
        );
    }
}

#[sqlx::test]
async fn an_approved_session_is_read_only(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.approved().await;

    let err = t
        .refused(
            session.id,
            t.app.desk.remove_item(&t.alice, session.id, "FS-001"),
        )
        .await;
    assert_eq!(
        err.to_string(),
        "This session is approved and locked (read-only): an approver must revoke it before its items can change."
    );
    let err = t.refused_add(session.id, item("FS-009", "30", "1")).await;
    assert_matches!(
        err,
        AppError::Transition(TransitionRefused::NotAllowed { .. })
    );
}

/// Edits build their reply from what they wrote instead of reading the
/// session back; the reply must still be exactly what is stored.
#[sqlx::test]
async fn every_edit_replies_with_the_session_as_stored(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(6).await;

    let removed = t
        .app
        .desk
        .remove_item(&t.alice, session.id, "FS-003")
        .await
        .unwrap();
    assert_eq!(removed, t.app.queries.get(session.id).await.unwrap());

    // The lowest free slot is in the middle: the reply keeps slot order.
    let added = t
        .app
        .add_text(&t.alice, session.id, &item("FS-009", "20", "2"))
        .await
        .unwrap();
    assert_eq!(added.items[2].sku.as_str(), "FS-009");
    assert_eq!(added, t.app.queries.get(session.id).await.unwrap());

    let change = ItemChange {
        sku: "FS-005".into(),
        discount: Some("45".into()),
        quantity: None,
    };
    let updated = t
        .app
        .update_text(&t.alice, session.id, &change)
        .await
        .unwrap();
    assert_eq!(
        updated
            .item(&updated.items[4].sku)
            .map(|i| i.discount.get()),
        Some(45)
    );
    assert_eq!(updated, t.app.queries.get(session.id).await.unwrap());
    assert_eq!(updated.version, session.version + 3);
}

/// Bad input is quoted back short: a 300-character SKU or a 2^63 quantity
/// is not echoed whole (nor misquoted as i64::MAX).
#[sqlx::test]
async fn long_bad_input_is_quoted_back_as_a_short_prefix(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let draft = t.draft().await;

    let sku = t
        .refused_add(draft.id, item(&"A".repeat(300), "30", "10"))
        .await;
    assert_eq!(
        sku.to_string(),
        format!(
            "SKU \"{}…\" is 300 characters long: allowed at most 40.",
            "A".repeat(24)
        )
    );
    let quantity = t
        .refused_add(draft.id, item("FS-001", "30", "9223372036854775808"))
        .await;
    assert_eq!(
        quantity.to_string(),
        "Quantity 922337203685… is too large: allowed 1-100000 units."
    );
    let discount = t
        .refused_add(draft.id, item("FS-001", "99999999999999999999%", "10"))
        .await;
    assert_eq!(
        discount.to_string(),
        "Discount 999999999999…% is out of range: allowed 1-90%."
    );
}
