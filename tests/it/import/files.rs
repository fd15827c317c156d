//! Files as Marketing really makes them: Excel quirks, a CSV with a BOM and
//! semicolons, an OpenDocument sheet, things that are not spreadsheets, and
//! files over the caps.

use std::time::Duration;

use flashsale_bot::app::{AppError, ImportError};
use flashsale_bot::import::samples::{self, Bomb};
use flashsale_bot::import::{FileError, MAX_FILE_BYTES, MAX_ITEM_ROWS};
use rust_xlsxwriter::Format;
use sqlx::PgPool;

use super::{counts, import_new, lines, xlsx};
use crate::support::app::*;
use crate::support::catalog::{sample_products, CatalogServer, FakeProduct};

#[sqlx::test]
async fn what_spreadsheets_really_contain_is_understood(pool: PgPool) {
    let mut products = sample_products();
    products.push(FakeProduct::new(
        "12345",
        "Sabun Mandi Cair 400 ml",
        32_000,
        40,
    ));
    let catalog = CatalogServer::start(products).await;
    let t = TestApp::with_catalog(pool, test_policy(), catalog, Duration::from_millis(500)).await;
    let bytes = xlsx(|s| {
        let percent = Format::new().set_num_format("0.0%");
        s.write_string(1, 1, "  product sku ").unwrap();
        s.write_string(1, 2, "Disc (%)").unwrap();
        s.write_string(1, 3, "Stock for flash sale").unwrap();
        s.write_string(1, 4, "Start").unwrap();
        s.write_string(1, 5, "End").unwrap();
        // A percent format, a plain number, text with a sign, a bare fraction.
        s.write_string(2, 1, "FS-001  ").unwrap();
        s.write_number_with_format(2, 2, 0.3, &percent).unwrap();
        s.write_string(2, 3, "50 ").unwrap();
        s.write_string(2, 4, at(1, "12:00")).unwrap();
        s.write_string(2, 5, at(1, "14:00")).unwrap();
        s.write_string(3, 1, "fs-002").unwrap();
        s.write_number(3, 2, 25.0).unwrap();
        s.write_number(3, 3, 10.0).unwrap();
        // An empty row in between, then a SKU Excel turned into a number.
        s.write_number(5, 1, 12345.0).unwrap();
        s.write_string(5, 2, "40%").unwrap();
        s.write_string(5, 3, "5").unwrap();
        s.write_string(6, 1, "FS-004").unwrap();
        s.write_number(6, 2, 0.2).unwrap();
        s.write_string(6, 3, " 7").unwrap();
        s.write_string(7, 1, "FS-005").unwrap();
        s.write_string(7, 2, "15 %").unwrap();
        s.write_number(7, 3, 3.0).unwrap();
        s.write_string(8, 1, "FS-006").unwrap();
        s.write_string(8, 2, "10").unwrap();
        s.write_number(8, 3, 1.0).unwrap();
        // A totals row under the table.
        s.write_string(9, 1, "Total").unwrap();
        s.write_formula(9, 3, "=SUM(D3:D9)").unwrap();
    });

    let report = import_new(&t, "quirks.xlsx", &bytes).await.unwrap();

    assert_eq!(
        lines(&report.session),
        [
            ("FS-001".into(), 30, 50),
            ("FS-002".into(), 25, 10),
            ("12345".into(), 40, 5),
            ("FS-004".into(), 20, 7),
            ("FS-005".into(), 15, 3),
            ("FS-006".into(), 10, 1)
        ]
    );
    let rows: Vec<u32> = report.rows.iter().map(|r| r.0).collect();
    assert_eq!(rows, [3, 4, 6, 7, 8, 9]);
    // No title anywhere: the file's name stands in.
    assert_eq!(report.session.title, "quirks");
}

#[sqlx::test]
async fn a_csv_with_a_bom_and_semicolons_is_imported(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let text = "\u{feff}Title;Semicolon Sale\nStart;tomorrow 00:00\nEnd;tomorrow 02:00\n\n\
                Kode SKU;Diskon;Qty\nFS-001;30%;5\nFS-002;30;5\nFS-003;0,3;5\nFS-004;30;5\nFS-005;30;5\nFS-006;30;5\n";

    let err = import_new(&t, "semi.csv", text.as_bytes())
        .await
        .unwrap_err();
    // A decimal comma is not guessed at: the row is named.
    let AppError::Import(ImportError::Invalid { rows, .. }) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].row, 8);

    let fixed = text.replace("0,3", "30");
    let report = import_new(&t, "semi.csv", fixed.as_bytes()).await.unwrap();
    assert_eq!(report.session.title, "Semicolon Sale");
    assert_eq!(report.session.items.len(), 6);
    assert!(report.session.items.iter().all(|i| i.discount.get() == 30));
    assert_eq!(report.sheet, None);
}

#[sqlx::test]
async fn a_file_that_is_not_a_spreadsheet_is_refused_politely(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let before = counts(&t).await;

    let png = import_new(&t, "photo.png", b"\x89PNG\r\n\x1a\n\0\0")
        .await
        .unwrap_err();
    let renamed = import_new(&t, "photo.xlsx", b"\x89PNG\r\n\x1a\n\0\0")
        .await
        .unwrap_err();
    let pdf = import_new(&t, "plan.csv", b"%PDF-1.7\n\0\x01\x02")
        .await
        .unwrap_err();

    assert!(png.to_string().starts_with(
        "\"photo.png\" is not a spreadsheet: import reads .xlsx, .xls, .ods and .csv files"
    ));
    assert!(matches!(
        renamed,
        AppError::Import(ImportError::File(FileError::NotSpreadsheet { .. }))
    ));
    assert!(matches!(
        pdf,
        AppError::Import(ImportError::File(FileError::NotSpreadsheet { .. }))
    ));
    assert!(png.is_user_error());
    assert_eq!(counts(&t).await, before);
}

#[sqlx::test]
async fn files_over_the_size_or_row_caps_are_refused_with_the_limit(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let before = counts(&t).await;
    let huge = vec![b'x'; MAX_FILE_BYTES as usize + 1];
    let mut long = String::from("SKU,Discount,Qty\n");
    for i in 0..=MAX_ITEM_ROWS {
        long.push_str(&format!("FS-{i:03},10,1\n"));
    }

    let size = import_new(&t, "huge.csv", &huge).await.unwrap_err();
    let rows = import_new(&t, "long.csv", long.as_bytes())
        .await
        .unwrap_err();

    assert_eq!(
        size.to_string(),
        "\"huge.csv\" is 2049 KB: an import file may be at most 2048 KB. A session's sheet is much smaller: remove pictures and other sheets, or save it as .csv."
    );
    assert_eq!(
        rows.to_string(),
        "The table has 51 SKU rows: a session holds six, and at most 50 rows are checked. Check that it is the right sheet."
    );
    assert_eq!(counts(&t).await, before);
}

#[sqlx::test]
async fn an_opendocument_sheet_with_percent_and_date_cells_is_imported(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let mut rows = String::new();
    let cell = |kind: &str, value: &str| match kind {
        "string" => format!(
            r#"<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>"#
        ),
        "date" => format!(
            r#"<table:table-cell office:value-type="date" office:date-value="{value}"><text:p>x</text:p></table:table-cell>"#
        ),
        kind => format!(
            r#"<table:table-cell office:value-type="{kind}" office:value="{value}"><text:p>{value}</text:p></table:table-cell>"#
        ),
    };
    let row = |cells: &[String]| format!("<table:table-row>{}</table:table-row>", cells.concat());
    rows.push_str(&row(&[cell("string", "Title"), cell("string", "Ods Sale")]));
    rows.push_str(&row(&[
        cell("string", "Start"),
        cell("date", &format!("{}T12:00:00", day(1))),
    ]));
    rows.push_str(&row(&[
        cell("string", "End"),
        cell("date", &format!("{}T13:30:00", day(1))),
    ]));
    rows.push_str(
        r#"<table:table-row table:number-rows-repeated="2"><table:table-cell/></table:table-row>"#,
    );
    rows.push_str(&row(&[
        cell("string", "SKU"),
        cell("string", "Discount"),
        cell("string", "Qty"),
    ]));
    for sku in SIX {
        rows.push_str(&row(&[
            cell("string", sku),
            cell("percentage", "0.3"),
            cell("float", "5"),
        ]));
    }
    let ods = ods_package(&rows);

    let report = import_new(&t, "plan.ods", &ods).await.unwrap();

    assert_eq!(report.sheet.as_deref(), Some("Plan"));
    assert_eq!(report.session.title, "Ods Sale");
    assert_eq!(
        report.session.window.duration(),
        chrono::Duration::minutes(90)
    );
    assert!(report
        .session
        .items
        .iter()
        .all(|i| i.discount.get() == 30 && i.quantity.get() == 5));
    let rows: Vec<u32> = report.rows.iter().map(|r| r.0).collect();
    assert_eq!(rows, [7, 8, 9, 10, 11, 12]);
}

/// A few KB of OpenDocument can describe millions of cells, which calamine
/// would expand in memory: the file is refused before that, with the numbers.
#[sqlx::test]
async fn an_opendocument_sheet_that_expands_to_millions_of_cells_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let before = counts(&t).await;
    let cell =
        r#"<table:table-cell office:value-type="string"><text:p>SKU</text:p></table:table-cell>"#;
    let filled = format!("<table:table-row>{cell}{cell}{cell}</table:table-row>");
    let rows = format!(
        r#"{filled}<table:table-row table:number-rows-repeated="1000000"><table:table-cell/></table:table-row>{filled}"#
    );
    let ods = ods_package(&rows);
    assert!(ods.len() < 4096, "the file is tiny: {} bytes", ods.len());

    let err = import_new(&t, "bomb.ods", &ods).await.unwrap_err();

    assert_eq!(
        err.to_string(),
        "Sheet \"Plan\" in \"bomb.ods\" spans 3000006 cells once its repeated rows and columns are counted; \
         an import reads at most 2000000. Delete the empty rows and columns around the table (or other sheets), \
         or save it as .csv."
    );
    assert_eq!(counts(&t).await, before);
}

/// An OpenDocument spreadsheet with one table, "Plan", holding `rows`.
fn ods_package(rows: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Plan">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    stored_zip(&[
        (
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet".as_slice(),
        ),
        ("META-INF/manifest.xml", manifest.as_bytes()),
        ("content.xml", content.as_bytes()),
    ])
}

/// A zip with its files stored uncompressed: enough for an OpenDocument
/// fixture without a zip library.
fn stored_zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let (mut out, mut central) = (Vec::new(), Vec::new());
    let u16le = |v: usize| (v as u16).to_le_bytes();
    let u32le = |v: u32| v.to_le_bytes();
    for (name, data) in files {
        let offset = out.len() as u32;
        let common = [
            &u16le(20)[..],
            &u16le(0),
            &u16le(0),
            &u16le(0),
            &u16le(0x21),
            &u32le(crc32(data)),
            &u32le(data.len() as u32),
            &u32le(data.len() as u32),
            &u16le(name.len()),
            &u16le(0),
        ]
        .concat();
        out.extend_from_slice(&u32le(0x0403_4b50));
        out.extend_from_slice(&common);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(&u32le(0x0201_4b50));
        central.extend_from_slice(&u16le(20));
        central.extend_from_slice(&common);
        // Comment length, disk, internal attributes (2 bytes each), then external ones.
        central.extend_from_slice(&[0; 6]);
        central.extend_from_slice(&u32le(0));
        central.extend_from_slice(&u32le(offset));
        central.extend_from_slice(name.as_bytes());
    }
    let (start, size) = (out.len() as u32, central.len() as u32);
    out.extend_from_slice(&central);
    out.extend_from_slice(&u32le(0x0605_4b50));
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&u16le(files.len()));
    out.extend_from_slice(&u16le(files.len()));
    out.extend_from_slice(&u32le(size));
    out.extend_from_slice(&u32le(start));
    out.extend_from_slice(&u16le(0));
    out
}

fn bomb(kind: Bomb, unzipped: u64) -> Vec<u8> {
    let file = samples::xlsx(&samples::SESSION_TABLE, Some((kind, unzipped))).unwrap();
    assert!(file.len() as u64 <= MAX_FILE_BYTES, "{} bytes", file.len());
    file
}

/// Zip bombs built here with the zip crate: each unzips to far more than it
/// weighs and is refused before calamine reads it, quickly, saying what was
/// too big; nothing is written. (Release builds answer the worst 2 MiB bomb
/// in well under 2 s, see `flashsale-bench import`; a debug build is slower.)
#[sqlx::test]
async fn xlsx_zip_bombs_are_refused_quickly_saying_what_was_too_big(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let before = counts(&t).await;
    const MIB: u64 = 1024 * 1024;
    let cases = [
        (
            Bomb::HugeCell,
            MIB,
            "a cell in part sheet1 holds more than 32767 characters, the most a cell may hold",
        ),
        (
            Bomb::HugeCell,
            256 * MIB,
            "its sheets unzip to more than 16 MB, and an import reads at most 16 MB",
        ),
        (
            Bomb::EmptyRows,
            8 * MIB,
            "it has more than 200000 rows, and an import reads at most 200000",
        ),
        (
            Bomb::Whitespace,
            64 * MIB,
            "its sheets unzip to more than 16 MB, and an import reads at most 16 MB",
        ),
    ];
    for (kind, unzipped, what) in cases {
        let file = bomb(kind, unzipped);
        let started = std::time::Instant::now();
        let err = import_new(&t, "bomb.xlsx", &file).await.unwrap_err();
        let took = started.elapsed();
        assert_eq!(
            err.to_string(),
            format!(
                "\"bomb.xlsx\" is too big to read: {what}. A session's sheet is much smaller: \
                 delete the empty rows and columns around the table (or other sheets), or save it as .csv."
            ),
            "{kind:?} of {unzipped} bytes"
        );
        assert!(
            took < Duration::from_secs(10),
            "{kind:?} of {unzipped} bytes took {took:?}"
        );
    }
    assert_eq!(counts(&t).await, before);
}

/// Whitespace before a valid table compresses about a thousand times: a file
/// that unzips to far more than real spreadsheet XML would is refused by its
/// ratio even under the byte cap.
#[sqlx::test]
async fn an_xlsx_that_unzips_to_hundreds_of_times_its_size_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let before = counts(&t).await;
    let file = bomb(Bomb::Whitespace, 8 * 1024 * 1024);

    let err = import_new(&t, "padded.xlsx", &file).await.unwrap_err();

    let message = err.to_string();
    assert!(
        message.starts_with("\"padded.xlsx\" is too big to read: it unzips to ")
            && message.contains(" times its size (8195 KB from ")
            && message.contains("an import allows at most 200 times."),
        "{message}"
    );
    assert_eq!(counts(&t).await, before);
}

/// The same table with a little padding is an ordinary file: the guard does
/// not refuse what calamine reads comfortably.
#[sqlx::test]
async fn a_table_behind_modest_padding_is_imported(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let file = bomb(Bomb::EmptyRows, 64 * 1024);

    let report = import_new(&t, "padded.xlsx", &file).await.unwrap();

    assert_eq!(report.session.title, "Sample sale");
    assert_eq!(report.session.items.len(), 6);
}

/// An .xls holds no compressed data, but calamine lays each sheet out from
/// its first to its last cell: two cells in opposite corners ask for 16.7
/// million cells (half a gigabyte). It is refused before calamine opens it;
/// the same table without the far cell is imported.
#[sqlx::test]
async fn an_xls_whose_cells_span_the_whole_grid_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let before = counts(&t).await;
    let mut cells = samples::session_cells();
    cells.push((65_535, 255, "1"));

    let err = import_new(&t, "corner.xls", &samples::xls(&cells))
        .await
        .unwrap_err();

    assert_eq!(
        err.to_string(),
        "\"corner.xls\" is too big to read: its sheets span 16777216 cells from the first to the \
         last used one, and an import reads at most 2000000. A session's sheet is much smaller: \
         delete the empty rows and columns around the table (or other sheets), or save it as .csv."
    );
    assert_eq!(counts(&t).await, before);

    let report = import_new(&t, "plan.xls", &samples::xls(&samples::session_cells()))
        .await
        .unwrap();
    assert_eq!(report.session.title, "Sample sale");
    assert_eq!(report.session.items.len(), 6);
}
