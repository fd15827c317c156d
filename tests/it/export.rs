//! Exporting a session as .csv and .xlsx (the layout import reads, so a round
//! trip gives the same session) and the activity log as CSV.

use flashsale_bot::app::{AppError, DraftInput, SessionView};
use sqlx::PgPool;

use crate::support::app::*;
use crate::support::assert_matches;

/// A draft with notes and six items whose discounts and quantities all differ.
async fn varied_draft(t: &TestApp, title: &str) -> SessionView {
    let draft = t
        .app
        .desk
        .create_draft(
            &t.alice,
            &DraftInput {
                title: title.into(),
                start: "tomorrow 00:00".into(),
                end: "tomorrow 01:30".into(),
                notes: Some("Payday, push coffee".into()),
            },
        )
        .await
        .unwrap();
    for (i, sku) in SIX.iter().enumerate() {
        let discount = (5 + 12 * i).to_string();
        let quantity = (1 + 7 * i).to_string();
        t.app
            .add_text(&t.alice, draft.id, &item(sku, &discount, &quantity))
            .await
            .unwrap();
    }
    t.app.queries.get(draft.id).await.unwrap()
}

/// What must survive a round trip: everything but who and when.
fn essence(v: &SessionView) -> impl PartialEq + std::fmt::Debug {
    let items: Vec<_> = v
        .items
        .iter()
        .map(|i| {
            (
                i.slot,
                i.sku.to_string(),
                i.discount,
                i.quantity,
                i.product_name.clone(),
                i.base_price.clone(),
                i.flash_price.clone(),
            )
        })
        .collect();
    (v.title.clone(), v.window, v.notes.clone(), v.status, items)
}

async fn reimport(t: &TestApp, name: &str, bytes: &[u8]) -> SessionView {
    import_new(t, name, bytes).await.unwrap().session
}

#[sqlx::test]
async fn export_then_import_gives_the_same_session_from_either_file(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let original = varied_draft(&t, "Payday Deals").await;

    let files = t.app.queries.export_session(original.id).await.unwrap();
    let from_xlsx = reimport(&t, &format!("{}.xlsx", files.file_stem), &files.xlsx).await;
    let from_csv = reimport(&t, &format!("{}.csv", files.file_stem), &files.csv).await;

    assert_eq!(
        files.file_stem,
        format!("flashsale-{}-payday-deals", original.id)
    );
    assert_ne!(from_xlsx.id, original.id);
    assert_eq!(essence(&from_xlsx), essence(&original));
    assert_eq!(essence(&from_csv), essence(&original));
}

#[sqlx::test]
async fn a_title_a_spreadsheet_would_run_as_a_formula_is_disarmed_and_survives(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let original = varied_draft(&t, "=HYPERLINK(\"x\") -50% Mega").await;

    let files = t.app.queries.export_session(original.id).await.unwrap();
    let csv = String::from_utf8(files.csv.clone()).unwrap();
    let back = reimport(&t, "mega.csv", &files.csv).await;

    assert!(
        csv.contains("Title,\"'=HYPERLINK(\"\"x\"\") -50% Mega\""),
        "{csv}"
    );
    assert_eq!(back.title, original.title);
}

#[sqlx::test]
async fn the_csv_export_reads_as_labels_then_a_table(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(2).await;

    let files = t.app.queries.export_session(session.id).await.unwrap();

    let csv = String::from_utf8(files.csv).unwrap();
    let expected = format!(
        "\u{feff}Title,Midnight Deals\nStart,{tomorrow} 00:00\nEnd,{tomorrow} 12:00\nNotes,\n\
         Session,#{} · Draft\nTime zone,Asia/Jakarta\n\n\
         SKU,Product,Discount %,Flash Qty,Base price,Flash price,Stock seen\n\
         FS-001,Kopi Arabika Gayo 250 g,30,10,149500,104650,100\n",
        session.id,
        tomorrow = day(1),
    );
    assert!(csv.starts_with(&expected), "{csv}");
    assert_eq!(csv.lines().count(), 10);
    assert!(files.xlsx.starts_with(b"PK\x03\x04"));
}

#[sqlx::test]
async fn the_activity_log_exports_every_entry_in_words(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;

    let csv = String::from_utf8(t.app.queries.export_log(session.id).await.unwrap()).unwrap();

    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "\u{feff}Time (Asia/Jakarta),Time (UTC),Who,Actor id,Action,What,Details"
    );
    // Drafted, six items added, submitted.
    assert_eq!(lines.len(), 1 + 8);
    assert!(
        lines[1].contains(",alice,test:alice,drafted,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("added FS-001 (Kopi Arabika Gayo 250 g) at 30% off, 10 units"),
        "{}",
        lines[2]
    );
    assert!(
        lines[8].contains("submitted it for approval"),
        "{}",
        lines[8]
    );
}

#[sqlx::test]
async fn exporting_a_session_that_does_not_exist_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;

    let files = t.app.queries.export_session(404).await;
    let log = t.app.queries.export_log(404).await;

    assert_matches!(files, Err(AppError::SessionNotFound(404)));
    assert_matches!(log, Err(AppError::SessionNotFound(404)));
}
