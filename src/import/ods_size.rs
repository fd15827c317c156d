//! How big an OpenDocument sheet becomes once its repeats are expanded,
//! measured before calamine reads it.
//!
//! ODS compresses runs of rows and cells into `number-rows-repeated` and
//! `number-columns-repeated`, and calamine expands them in memory: a 2 KB file
//! can ask for a million rows or hundreds of millions of cells, gigabytes for
//! a bot that serves everyone. This walks `content.xml` as a stream and sums
//! what calamine would hold: every row element at its full width, and the
//! block between the first and last filled cells with its repeats expanded.

use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::QName;
use quick_xml::Reader;

/// Cells any one table may expand to: far above a real session sheet (tens of
/// rows by tens of columns, plus the formatted empty columns LibreOffice
/// writes), far below what would strain the bot's memory (~32 bytes a cell).
pub const MAX_EXPANDED_CELLS: u64 = 2_000_000;

/// calamine's own caps on a sheet's rows and a row's columns.
const MAX_ROWS: u64 = 1_048_576;
const MAX_COLUMNS: u64 = 16_384;

/// `content.xml` is read up to this many bytes (the file itself is at most
/// 2 MiB, but it is compressed).
const MAX_CONTENT_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, PartialEq, Eq)]
pub enum OdsSize {
    /// Every table stays under the cap.
    Fits,
    /// The named table would expand to `cells` cells.
    TooBig { table: String, cells: u64 },
    /// Not a readable ODS package (calamine will say so in its own way).
    Unreadable,
}

/// Measures every table in the package (calamine parses them all when it
/// opens the file, whichever sheet is asked for).
pub fn measure(bytes: &[u8]) -> OdsSize {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return OdsSize::Unreadable;
    };
    let Ok(content) = zip.by_name("content.xml") else {
        return OdsSize::Unreadable;
    };
    let mut xml = Vec::new();
    if content
        .take(MAX_CONTENT_BYTES)
        .read_to_end(&mut xml)
        .is_err()
    {
        return OdsSize::Unreadable;
    }
    measure_content(&xml)
}

/// The running count for one table.
#[derive(Default)]
struct Table {
    name: String,
    /// Row elements at their full width: what calamine holds before trimming.
    raw_cells: u64,
    /// Expanded rows so far, and the expanded rows up to the last filled one
    /// and from the first.
    rows: u64,
    first_filled_row: Option<u64>,
    last_filled_row: u64,
    /// Filled column span over all rows.
    first_filled_column: u64,
    last_filled_column: u64,
}

impl Table {
    fn expanded(&self) -> u64 {
        let boxed = match self.first_filled_row {
            None => 0,
            Some(first) => {
                let rows = self.last_filled_row - first + 1;
                let columns = self
                    .last_filled_column
                    .saturating_sub(self.first_filled_column)
                    + 1;
                rows.saturating_mul(columns)
            }
        };
        boxed.max(self.raw_cells)
    }
}

/// The row being read: its repeat count and its cells so far.
struct Row {
    repeats: u64,
    width: u64,
    first_filled: Option<u64>,
    last_filled: u64,
}

pub fn measure_content(xml: &[u8]) -> OdsSize {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut table: Option<Table> = None;
    let mut row: Option<Row> = None;
    // The open cell's start column and repeat count, and whether it holds anything.
    let mut cell: Option<(u64, u64, bool)> = None;
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(_) => return OdsSize::Unreadable,
        };
        let opens = matches!(event, Event::Start(_));
        match event {
            Event::Eof => return OdsSize::Fits,
            Event::Start(e) | Event::Empty(e) if e.name() == QName("table:table") => {
                table = Some(Table {
                    name: attr(&e, "table:name").unwrap_or_default(),
                    first_filled_column: u64::MAX,
                    ..Table::default()
                });
            }
            Event::End(e) if e.name() == QName("table:table") => {
                if let Some(done) = table.take() {
                    let cells = done.expanded();
                    if cells > MAX_EXPANDED_CELLS {
                        return OdsSize::TooBig {
                            table: done.name,
                            cells,
                        };
                    }
                }
            }
            Event::Start(e) if e.name() == QName("table:table-row") => {
                row = Some(Row {
                    repeats: repeats(&e, "table:number-rows-repeated"),
                    width: 0,
                    first_filled: None,
                    last_filled: 0,
                });
            }
            Event::Empty(e) if e.name() == QName("table:table-row") => {
                if let Some(t) = table.as_mut() {
                    t.rows = (t.rows + repeats(&e, "table:number-rows-repeated")).min(MAX_ROWS);
                }
            }
            Event::End(e) if e.name() == QName("table:table-row") => {
                if let (Some(t), Some(r)) = (table.as_mut(), row.take()) {
                    t.raw_cells = t.raw_cells.saturating_add(r.width);
                    let start = t.rows;
                    t.rows = (t.rows + r.repeats).min(MAX_ROWS);
                    if let Some(first) = r.first_filled {
                        t.first_filled_row.get_or_insert(start);
                        t.last_filled_row = t.rows.saturating_sub(1);
                        t.first_filled_column = t.first_filled_column.min(first);
                        t.last_filled_column = t.last_filled_column.max(r.last_filled);
                    }
                }
            }
            Event::Start(e) | Event::Empty(e)
                if e.name() == QName("table:table-cell")
                    || e.name() == QName("table:covered-table-cell") =>
            {
                if let Some(r) = row.as_mut() {
                    let count = repeats(&e, "table:number-columns-repeated");
                    let start = r.width;
                    r.width = (r.width + count).min(MAX_COLUMNS);
                    let filled = attr(&e, "office:value-type").is_some();
                    if opens {
                        cell = Some((start, count, filled));
                    } else if filled {
                        mark_filled(r, start, count);
                    }
                }
            }
            Event::Start(e) if e.name() == QName("text:p") => {
                if let Some((_, _, filled)) = cell.as_mut() {
                    *filled = true;
                }
            }
            Event::End(e)
                if e.name() == QName("table:table-cell")
                    || e.name() == QName("table:covered-table-cell") =>
            {
                if let (Some(r), Some((start, count, true))) = (row.as_mut(), cell.take()) {
                    mark_filled(r, start, count);
                }
            }
            _ => {}
        }
        buf.clear();
    }
}

fn mark_filled(row: &mut Row, start: u64, count: u64) {
    row.first_filled.get_or_insert(start);
    row.last_filled = (start + count).min(MAX_COLUMNS) - 1;
}

/// An attribute's value as written (repeat counts and value types are plain ASCII;
/// a table name is only shown to the person).
fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.try_get_attribute(name)
        .ok()
        .flatten()
        .map(|a| a.value.into_owned())
}

/// A repeat attribute; 1 when absent, unreadable or zero.
fn repeats(e: &BytesStart<'_>, name: &str) -> u64 {
    attr(e, name)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &str) -> String {
        format!(
            r#"<office:document-content xmlns:office="o" xmlns:table="t" xmlns:text="x"><office:body><office:spreadsheet><table:table table:name="Plan">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
        )
    }

    fn cell(v: &str) -> String {
        format!(
            r#"<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>"#
        )
    }

    fn filled_row() -> String {
        format!(
            "<table:table-row>{}{}{}</table:table-row>",
            cell("SKU"),
            cell("Discount"),
            cell("Qty")
        )
    }

    #[test]
    fn a_session_sheet_with_libreoffice_padding_fits() {
        // LibreOffice pads formatted rows with empty columns and ends with one
        // huge repeated empty row; calamine trims both away.
        let padding = r#"<table:table-cell table:number-columns-repeated="1021"/>"#;
        let mut rows = String::new();
        for _ in 0..8 {
            rows.push_str(&filled_row().replace(
                "</table:table-row>",
                &format!("{padding}</table:table-row>"),
            ));
        }
        rows.push_str(r#"<table:table-row table:number-rows-repeated="1048568"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>"#);
        assert_eq!(measure_content(table(&rows).as_bytes()), OdsSize::Fits);
    }

    #[test]
    fn a_million_empty_rows_between_two_filled_ones_is_too_big() {
        let rows = format!(
            r#"{}<table:table-row table:number-rows-repeated="1000000"><table:table-cell/></table:table-row>{}"#,
            filled_row(),
            filled_row()
        );
        assert_eq!(
            measure_content(table(&rows).as_bytes()),
            OdsSize::TooBig {
                table: "Plan".into(),
                cells: 1_000_002 * 3
            }
        );
    }

    #[test]
    fn a_filled_cell_repeated_across_a_row_many_times_is_too_big() {
        let row = r#"<table:table-row table:number-rows-repeated="200"><table:table-cell table:number-columns-repeated="16000" office:value-type="float" office:value="1"/></table:table-row>"#;
        assert!(matches!(
            measure_content(table(row).as_bytes()),
            OdsSize::TooBig { cells, .. } if cells == 200 * 16_000
        ));
    }

    #[test]
    fn wide_distinct_rows_count_at_full_width_even_when_empty() {
        // calamine keeps every row element at its width before trimming.
        let row = r#"<table:table-row><table:table-cell table:number-columns-repeated="16384"/></table:table-row>"#;
        let rows = row.repeat(200);
        assert!(matches!(
            measure_content(table(&rows).as_bytes()),
            OdsSize::TooBig { cells, .. } if cells == 200 * 16_384
        ));
    }

    #[test]
    fn broken_xml_is_left_to_calamine() {
        assert_eq!(
            measure_content(b"<table:table><table:table-row>"),
            OdsSize::Fits
        );
        assert_eq!(measure(b"not a zip"), OdsSize::Unreadable);
    }
}
