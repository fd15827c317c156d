//! Importing Marketing's spreadsheets: fixtures are built here (rust_xlsxwriter
//! workbooks and CSV text), imported against the real database and the fake
//! catalog, and every refusal is checked to have written nothing.

use std::future::Future;
use std::time::Duration;

use flashsale_bot::app::{
    AppError, DraftFields, ImportError, ImportReport, ImportTarget, RowProblem, SessionProblem,
};
use flashsale_bot::domain::{Actor, RuleViolation, Status, TransitionRefused};
use rust_xlsxwriter::{Format, Workbook, Worksheet};
use sqlx::PgPool;

use crate::support::app::*;
use crate::support::assert_matches;
use crate::support::catalog::CatalogServer;

mod console;
mod files;

/// A workbook whose first sheet `fill` writes.
pub fn xlsx(fill: impl FnOnce(&mut Worksheet)) -> Vec<u8> {
    let mut book = Workbook::new();
    fill(book.add_worksheet());
    book.save_to_buffer().unwrap()
}

/// Title and times as labelled cells above a table of six good rows (header on row 5).
fn six_row_workbook() -> Vec<u8> {
    xlsx(|s| {
        let bold = Format::new().set_bold();
        let percent = Format::new().set_num_format("0%");
        s.write_string(0, 0, "Title").unwrap();
        s.write_string(0, 1, "Lunch Flash").unwrap();
        s.write_string(1, 0, "Start").unwrap();
        s.write_string(1, 1, at(1, "12:00")).unwrap();
        s.write_string(2, 0, "End").unwrap();
        s.write_string(2, 1, at(1, "14:00")).unwrap();
        for (col, name) in (0u16..).zip(["SKU", "Product", "Discount %", "Flash Qty"]) {
            s.write_string_with_format(4, col, name, &bold).unwrap();
        }
        for (i, sku) in SIX.iter().enumerate() {
            let row = 5 + i as u32;
            s.write_string(row, 0, *sku).unwrap();
            s.write_string(row, 1, "whatever the sheet says").unwrap();
            s.write_number_with_format(row, 2, 0.1 + 0.05 * i as f64, &percent)
                .unwrap();
            s.write_number(row, 3, 10.0 + i as f64).unwrap();
        }
    })
}

/// Alice imports `text` as a new draft whose title and times the options give.
async fn import_with_options(
    t: &TestApp,
    name: &str,
    text: &str,
    (title, start, end): (&str, &str, &str),
) -> Result<ImportReport, AppError> {
    let fields = DraftFields {
        title: Some(title.into()),
        start: Some(start.into()),
        end: Some(end.into()),
    };
    t.app
        .desk
        .import(
            &t.alice,
            name,
            text.as_bytes(),
            None,
            ImportTarget::NewDraft(fields),
        )
        .await
}

/// Sessions, items and log entries in the whole database: a refusal leaves all three alone.
async fn counts(t: &TestApp) -> (i64, i64, i64) {
    sqlx::query_as(
        "select (select count(*) from session), (select count(*) from session_item), \
                (select count(*) from activity)",
    )
    .fetch_one(&t.pool)
    .await
    .unwrap()
}

/// Awaits an import the app must refuse; checks that it wrote nothing at all.
async fn refused_import(
    t: &TestApp,
    import: impl Future<Output = Result<ImportReport, AppError>>,
) -> AppError {
    let before = counts(t).await;
    let err = import
        .await
        .expect_err("the import should have been refused");
    assert_eq!(counts(t).await, before, "a refused import wrote something");
    err
}

fn lines(view: &flashsale_bot::app::SessionView) -> Vec<(String, u8, u32)> {
    view.items
        .iter()
        .map(|i| (i.sku.to_string(), i.discount.get(), i.quantity.get()))
        .collect()
}

#[sqlx::test]
async fn a_workbook_with_six_rows_becomes_a_draft_with_its_title_and_times(pool: PgPool) {
    let t = TestApp::new(pool).await;

    let report = import_new(&t, "lunch.xlsx", &six_row_workbook())
        .await
        .unwrap();

    let s = &report.session;
    assert!(report.created);
    assert_eq!((s.status, s.title.as_str()), (Status::Draft, "Lunch Flash"));
    assert_eq!(s.window.starts_at(), instant(1, "12:00"));
    assert_eq!(s.window.ends_at(), instant(1, "14:00"));
    assert_eq!(s.notes.as_deref(), Some("Imported from lunch.xlsx"));
    assert_eq!(
        lines(s),
        [
            ("FS-001".into(), 10, 10),
            ("FS-002".into(), 15, 11),
            ("FS-003".into(), 20, 12),
            ("FS-004".into(), 25, 13),
            ("FS-005".into(), 30, 14),
            ("FS-006".into(), 35, 15)
        ]
    );
    // The catalog's name, not the sheet's.
    assert_eq!(s.items[0].product_name, "Kopi Arabika Gayo 250 g");
    assert_eq!(report.rows.first().map(|r| r.0), Some(6));
    assert_eq!(t.activity_actions(s.id).await, ["imported"]);
    assert_eq!(
        report.headline().render(|_, _| String::new()),
        format!(
            "Imported 6 SKUs from \"lunch.xlsx\" (sheet \"Sheet1\") into new draft #{0}. Check it, then /flashsale submit session:{0}.",
            s.id
        )
    );
    // It is a complete draft: it can be submitted as it is.
    t.app.desk.submit(&t.alice, s.id).await.unwrap();
}

#[sqlx::test]
async fn seven_rows_with_four_bad_ones_are_each_reported_and_nothing_is_written(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let text = "SKU,Discount,Quantity\n\
                FS-001,30,10\n\
                FS-002,30,10\n\
                FS-001,20,5\n\
                NOPE-1,30,10\n\
                FS-003,95%,10\n\
                FS-LOW,30,4\n\
                FS-004,30,10\n";

    let options = ("Seven", "tomorrow 00:00", "tomorrow 02:00");
    let err = refused_import(&t, import_with_options(&t, "bad.csv", text, options)).await;

    let AppError::Import(ImportError::Invalid { session, rows, .. }) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        session,
        &[SessionProblem::WrongCount {
            count: 7,
            required: 6
        }]
    );
    let found: Vec<(u32, &RowProblem)> = rows.iter().map(|r| (r.row, &r.problems[0])).collect();
    assert_eq!(found.len(), 4, "{found:?}");
    assert_eq!(
        found[0],
        (
            4,
            &RowProblem::Repeated {
                sku: "FS-001".into(),
                first_row: 2
            }
        )
    );
    assert_eq!(
        found[1],
        (
            5,
            &RowProblem::Rule(RuleViolation::UnknownSku {
                sku: "NOPE-1".into()
            })
        )
    );
    assert_eq!(found[2].0, 6);
    assert_eq!(
        found[3],
        (
            7,
            &RowProblem::Rule(RuleViolation::NotEnoughStock {
                sku: "FS-LOW".into(),
                quantity: 4,
                stock: 3
            })
        )
    );
    assert_eq!(
        err.to_string(),
        "Nothing was imported from \"bad.csv\": fix these and upload it again.\n\
         - The file has 7 SKU rows: a new draft needs exactly 6.\n\
         - Row 4: FS-001 is also on row 2: each SKU can appear once in a session.\n\
         - Row 5: NOPE-1 is not in the catalog: check the SKU for typos.\n\
         - Row 6: Discount 95% is out of range: allowed 1-90%.\n\
         - Row 7: FS-LOW has 3 units in stock: the flash-sale quantity 4 is more than that. Allowed at most 3."
    );
}

#[sqlx::test]
async fn an_existing_draft_is_filled_in_one_step_with_one_log_entry(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let draft = t.draft_with(2).await;
    let text = "SKU,Discount,Qty\nFS-003,30,1\nFS-004,30,1\nFS-005,30,1\nFS-006,30,1\n";

    let report = t
        .app
        .desk
        .import(
            &t.alice,
            "/home/alice/more.csv",
            text.as_bytes(),
            None,
            ImportTarget::Existing(draft.id),
        )
        .await
        .unwrap();

    assert!(!report.created);
    assert_eq!(report.session.id, draft.id);
    assert_eq!(report.session.items.len(), 6);
    assert!(report.session.version > draft.version);
    assert_eq!(report.file_name, "more.csv");
    let actions = t.activity_actions(draft.id).await;
    assert_eq!(actions.last().map(String::as_str), Some("imported"));
    assert_eq!(actions.iter().filter(|a| *a == "imported").count(), 1);
}

#[sqlx::test]
async fn a_file_that_overfills_a_draft_or_repeats_its_skus_changes_nothing(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let draft = t.draft_with(4).await;
    let text = "SKU,Discount,Qty\nFS-001,30,1\nFS-007,30,1\nFS-008,30,1\n";

    let err = t
        .refused(
            draft.id,
            t.app.desk.import(
                &t.alice,
                "more.csv",
                text.as_bytes(),
                None,
                ImportTarget::Existing(draft.id),
            ),
        )
        .await;

    let AppError::Import(ImportError::Invalid { session, rows, .. }) = &err else {
        panic!("{err:?}")
    };
    assert_matches!(
        session[..],
        [SessionProblem::TooMany {
            existing: 4,
            adding: 3,
            max: 6,
            ..
        }]
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].problems,
        [RowProblem::Rule(RuleViolation::DuplicateSku {
            sku: "FS-001".into()
        })]
    );
}

#[sqlx::test]
async fn options_win_over_the_file_and_missing_times_are_asked_for(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let text = format!(
        "SKU,Discount,Qty\n{}",
        SIX.iter()
            .map(|s| format!("{s},30,1\n"))
            .collect::<String>()
    );

    let missing = import_new(&t, "plain.csv", text.as_bytes())
        .await
        .unwrap_err();
    let options = ("From options", "tomorrow 09:00", "tomorrow 10:00");
    let given = import_with_options(&t, "plain.csv", &text, options)
        .await
        .unwrap();

    let AppError::Import(ImportError::Invalid { session, rows, .. }) = &missing else {
        panic!("{missing:?}")
    };
    assert_eq!(
        session,
        &[
            SessionProblem::MissingTime { field: "start" },
            SessionProblem::MissingTime { field: "end" }
        ]
    );
    assert!(rows.is_empty());
    assert_eq!(given.session.title, "From options");
    assert_eq!(
        ImportTarget::from_options(
            Some(3),
            DraftFields {
                title: Some("x".into()),
                ..DraftFields::default()
            }
        ),
        Err(ImportError::SessionAndDraftFields)
    );
}

#[sqlx::test]
async fn only_editors_import_and_only_into_a_draft(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let submitted = t.submitted().await;

    let by_approver =
        import_new_as(&t, &t.bob, ImportTarget::NewDraft(DraftFields::default())).await;
    let into_pending = import_new_as(&t, &t.alice, ImportTarget::Existing(submitted.id)).await;
    let into_nothing = import_new_as(&t, &t.alice, ImportTarget::Existing(999)).await;

    assert_matches!(
        by_approver,
        Err(AppError::Transition(TransitionRefused::DraftingForbidden))
    );
    assert_matches!(into_pending, Err(AppError::Transition(_)));
    assert_matches!(into_nothing, Err(AppError::SessionNotFound(999)));
}

async fn import_new_as(
    t: &TestApp,
    actor: &Actor,
    target: ImportTarget,
) -> Result<ImportReport, AppError> {
    t.app
        .desk
        .import(actor, "lunch.xlsx", &six_row_workbook(), None, target)
        .await
}

#[sqlx::test]
async fn whoever_imported_a_session_may_not_approve_it(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let dana = editor_and_approver("dana");
    let report = import_new_as(&t, &dana, ImportTarget::NewDraft(DraftFields::default()))
        .await
        .unwrap();
    let pending = t
        .app
        .desk
        .submit(&t.alice, report.session.id)
        .await
        .unwrap();

    let refused = t.app.desk.approve(&dana, pending.id, pending.version).await;

    assert_matches!(refused, Err(AppError::Rule(RuleViolation::SelfApproval)));
}

#[sqlx::test]
async fn a_catalog_that_is_down_refuses_the_import_and_writes_nothing(pool: PgPool) {
    let catalog = CatalogServer::failing_with(500).await;
    let t = TestApp::with_catalog(pool, test_policy(), catalog, Duration::from_millis(500)).await;

    let err = refused_import(&t, import_new(&t, "lunch.xlsx", &six_row_workbook())).await;

    assert_matches!(err, AppError::CatalogUnavailable(_));
}
