//! `read` end to end on small files built here: CSV text, and workbooks
//! written with rust_xlsxwriter.

use rust_xlsxwriter::{Format, Workbook};

use super::*;

fn rows(sheet: &ImportSheet) -> Vec<(u32, &str, &str, &str)> {
    sheet
        .rows
        .iter()
        .map(|r| {
            (
                r.row,
                r.sku.as_str(),
                r.discount.as_str(),
                r.quantity.as_str(),
            )
        })
        .collect()
}

fn csv(text: &str) -> Result<ImportSheet, FileError> {
    read("sale.csv", text.as_bytes(), None)
}

#[test]
fn the_table_is_found_under_labelled_cells_and_keeps_its_row_numbers() {
    let sheet = csv(
        "Title,Lunch Flash\nStart,2026-11-27 12:00\nEnd:,2026-11-27 14:00\n\n\
                     SKU,Product,Disc (%),Flash Qty\nFS-001,Kopi,30%,50\n,,,\nFS-002,Teh,25,10\n",
    )
    .unwrap();
    assert_eq!(sheet.header_row, 5);
    assert_eq!(
        rows(&sheet),
        [(6, "FS-001", "30%", "50"), (8, "FS-002", "25", "10")]
    );
    assert_eq!(sheet.title.unwrap().text, "Lunch Flash");
    assert_eq!(sheet.start.unwrap().text, "2026-11-27 12:00");
    assert_eq!(sheet.end.unwrap().text, "2026-11-27 14:00");
    assert_eq!(sheet.sheet, None);
}

#[test]
fn a_label_and_its_value_may_share_a_cell_and_a_value_is_never_a_label() {
    let sheet =
        csv("Title,Start\nStart: 2026-11-27 12:00\nSKU,Discount,Qty\nFS-001,30,5\n").unwrap();
    assert_eq!(sheet.title.unwrap().text, "Start");
    assert_eq!(sheet.start.unwrap().text, "2026-11-27 12:00");
}

#[test]
fn totals_rows_labelled_or_trailing_are_skipped() {
    let sheet = csv("SKU,Discount,Qty\nFS-001,30,5\nFS-002,30,5\nTotal,,10\n").unwrap();
    assert_eq!(rows(&sheet).len(), 2);
    let sheet = csv("SKU,Discount,Qty\nFS-001,30,5\nFS-002,30,5\n,,10\n").unwrap();
    assert_eq!(rows(&sheet).len(), 2);
    // A row in the middle missing its SKU is an item with a mistake, not a total.
    let sheet = csv("SKU,Discount,Qty\nFS-001,30,5\n,30,7\nFS-002,30,5\n").unwrap();
    assert_eq!(rows(&sheet)[1], (3, "", "30", "7"));
}

#[test]
fn title_and_times_may_be_columns_but_must_agree() {
    let sheet = csv("SKU,Discount,Qty,Start,End\nFS-001,30,5,2026-11-27 12:00,2026-11-27 14:00\nFS-002,30,5,,\n")
        .unwrap();
    assert_eq!(sheet.start.unwrap().row, 2);
    let e =
        csv("SKU,Discount,Qty,Start\nFS-001,30,5,2026-11-27 12:00\nFS-002,30,5,2026-11-28 12:00\n")
            .unwrap_err();
    assert!(
        matches!(
            e,
            FileError::Conflicting {
                field: Field::Start,
                first_row: 2,
                row: 3,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn a_missing_column_is_named_in_the_refusal() {
    let e = csv("Name,Price\nSKU,Discount\nFS-001,30\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "No header row with SKU, discount and quantity columns in the first 30 rows of the file \
         (row 2 comes closest but has no quantity column). Name the columns e.g. SKU | Discount % | Flash Qty."
    );
}

#[test]
fn two_columns_claiming_one_field_are_refused() {
    let e = csv("SKU,Qty,Quantity,Discount\nFS-001,1,2,30\n").unwrap_err();
    assert!(
        matches!(
            e,
            FileError::AmbiguousColumn {
                field: Field::Quantity,
                ..
            }
        ),
        "{e:?}"
    );
    // A contained word loses to an exact name instead.
    let sheet = csv("SKU,Qty,Flash sale qty (units),Discount\nFS-001,1,2,30\n").unwrap();
    assert_eq!(rows(&sheet), [(2, "FS-001", "30", "1")]);
}

#[test]
fn caps_on_size_and_rows_are_refused_with_the_limit() {
    let big = vec![b'a'; (MAX_FILE_BYTES + 1) as usize];
    assert!(matches!(
        read("big.csv", &big, None),
        Err(FileError::TooLarge { .. })
    ));
    let mut text = String::from("SKU,Discount,Qty\n");
    for i in 0..=MAX_ITEM_ROWS {
        text.push_str(&format!("FS-{i:03},10,1\n"));
    }
    assert_eq!(
        csv(&text),
        Err(FileError::TooManyItemRows {
            count: MAX_ITEM_ROWS + 1
        })
    );
    let many = "x\n".repeat(MAX_ROWS + 1);
    assert!(matches!(csv(&many), Err(FileError::TooManyRows { .. })));
}

#[test]
fn files_that_are_not_spreadsheets_are_refused_politely() {
    let e = read("photo.png", b"\x89PNG\r\n", None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "\"photo.png\" is not a spreadsheet: import reads .xlsx, .xls, .ods and .csv files with SKU, discount and quantity columns."
    );
    assert!(matches!(
        read("x.csv", b"%PDF\x00\x01", None),
        Err(FileError::NotSpreadsheet { .. })
    ));
    assert!(matches!(
        read("x.xlsx", b"PK\x03\x04garbage", None),
        Err(FileError::Unreadable { .. })
    ));
    assert!(matches!(
        read(
            "x.xls",
            &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0],
            None
        ),
        Err(FileError::Unreadable { .. })
    ));
    assert!(matches!(
        read("x.csv", b"", None),
        Err(FileError::Empty { .. })
    ));
}

#[test]
fn a_csv_saved_with_an_xls_name_is_read_as_csv() {
    let sheet = read("export.xls", b"SKU;Discount;Qty\r\nFS-001;30;5\r\n", None).unwrap();
    assert_eq!(rows(&sheet), [(2, "FS-001", "30", "5")]);
}

fn workbook(sheets: &[&str]) -> Vec<u8> {
    let mut book = Workbook::new();
    let percent = Format::new().set_num_format("0%");
    for name in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(*name).unwrap();
        sheet.write_string(2, 1, "Product SKU").unwrap();
        sheet.write_string(2, 2, "Discount %").unwrap();
        sheet.write_string(2, 3, "Stock for flash sale").unwrap();
        sheet.write_number(3, 1, 12345.0).unwrap();
        sheet.write_number_with_format(3, 2, 0.3, &percent).unwrap();
        sheet.write_string(3, 3, "50 ").unwrap();
    }
    book.save_to_buffer().unwrap()
}

#[test]
fn a_workbook_is_read_with_its_formats_from_the_first_or_the_named_sheet() {
    let bytes = workbook(&["Notes", "Friday"]);
    let first = read("plan.xlsx", &bytes, None).unwrap();
    assert_eq!(first.sheet.as_deref(), Some("Notes"));
    assert_eq!(first.header_row, 3);
    assert_eq!(rows(&first), [(4, "12345", "30", "50")]);
    let named = read("plan.xlsx", &bytes, Some(" friday ")).unwrap();
    assert_eq!(named.sheet.as_deref(), Some("Friday"));
    assert_eq!(
        read("plan.xlsx", &bytes, Some("Saturday"))
            .unwrap_err()
            .to_string(),
        "There is no sheet \"Saturday\" in the file: its sheets are \"Notes\", \"Friday\"."
    );
}
