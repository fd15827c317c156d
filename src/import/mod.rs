//! Reading Marketing's spreadsheets: the rows of a flash-sale file as text,
//! ready for the domain parsers. Pure: bytes in, rows out, no IO.
//!
//! Marketing keeps one Excel file per schedule. `read` takes such a file
//! (`.xlsx`, `.xls`, `.ods` or `.csv`) as uploaded, picks the first sheet or
//! a named one, finds the header row by meaning (`SKU`, `Disc (%)`,
//! `Stock for flash sale`...), reads optional title/start/end/notes from
//! labelled cells above the table or from columns, and returns every item
//! row with the row number the person sees in their spreadsheet. Values stay
//! text (`"30"`, `"12345"`): `app` parses them with the same domain types as
//! typed input, so a file and a chat command are refused in the same words.
//!
//! Layout:
//! - `cell`: a cell's value and how it becomes text (percent formats,
//!   numbers Excel made of SKUs, dates).
//! - `header`: header names and labels by meaning; totals labels.
//! - `workbook`: `.xlsx` (streamed, with number formats), `.xls` and `.ods`
//!   through calamine.
//! - `package`, `ods_size`, `xls_size`: how big a file becomes once unzipped
//!   or expanded, measured before calamine is asked to hold it.
//! - `text`: `.csv`: encoding, BOM, delimiter.
//! - `sheet`: a grid of cells into the header, the session fields and the rows.

mod cell;
mod header;
mod ods_size;
mod package;
pub mod samples;
mod sheet;
mod text;
mod workbook;
mod xls_size;

use std::collections::BTreeMap;

pub use cell::Cell;
pub use header::Field;
pub use package::{
    Oversize, MAX_CELLS, MAX_CELL_CHARS, MAX_RATIO, MAX_ROWS as MAX_ROW_ELEMENTS,
    MAX_UNZIPPED_BYTES,
};

/// The largest file accepted. A session's sheet is a few kilobytes; the cap
/// keeps a stray export of the whole catalog (or a decompression bomb) from
/// being read into memory.
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;
/// Filled rows read from one sheet before giving up on it.
pub const MAX_ROWS: usize = 1000;
/// Item rows under the header that are validated one by one (a session holds six).
pub const MAX_ITEM_ROWS: usize = 50;
/// Columns read; cells further right are ignored.
pub const MAX_COLUMNS: u32 = 100;
/// Rows searched for the header.
pub const HEADER_SCAN_ROWS: usize = 30;

/// A flash-sale sheet as read: where the table is, its rows, and the
/// session fields the file gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSheet {
    /// The sheet read (`None` for a CSV file, which has one).
    pub sheet: Option<String>,
    /// 1-based, as the spreadsheet shows it.
    pub header_row: u32,
    pub rows: Vec<ImportRow>,
    pub title: Option<SheetValue>,
    pub start: Option<SheetValue>,
    pub end: Option<SheetValue>,
    pub notes: Option<SheetValue>,
}

/// One item row, values as text for `Sku::parse`, `DiscountPercent::parse`
/// and `Quantity::parse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// 1-based, as the spreadsheet shows it, so refusals point at the right row.
    pub row: u32,
    pub sku: String,
    pub discount: String,
    pub quantity: String,
}

/// A session field found in the file, with the row it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetValue {
    pub row: u32,
    pub text: String,
}

/// Why a file cannot be read as a flash-sale sheet, in words for the person
/// who uploaded it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("\"{name}\" is empty: attach the spreadsheet with the six SKUs.")]
    Empty { name: String },
    #[error("\"{name}\" is {} KB: an import file may be at most {} KB. A session's sheet is much smaller: remove pictures and other sheets, or save it as .csv.", .size.div_ceil(1024), .max / 1024)]
    TooLarge { name: String, size: u64, max: u64 },
    #[error("\"{name}\" is not a spreadsheet: import reads .xlsx, .xls, .ods and .csv files with SKU, discount and quantity columns.")]
    NotSpreadsheet { name: String },
    #[error("\"{name}\" could not be read as {format}: it may be damaged or password-protected. Open it, save it again as .xlsx or .csv, and retry.")]
    Unreadable { name: String, format: &'static str },
    #[error("Sheet \"{table}\" in \"{name}\" spans {cells} cells once its repeated rows and columns are counted; an import reads at most {max}. Delete the empty rows and columns around the table (or other sheets), or save it as .csv.", max = ods_size::MAX_EXPANDED_CELLS)]
    TooManyCells {
        name: String,
        table: String,
        cells: u64,
    },
    #[error("\"{name}\" is too big to read: {what}. A session's sheet is much smaller: delete the empty rows and columns around the table (or other sheets), or save it as .csv.")]
    TooBig { name: String, what: Oversize },
    #[error("There is no sheet \"{sheet}\" in the file: its sheets are {available}.")]
    SheetNotFound { sheet: String, available: String },
    #[error("The sheet is empty: put a header row (e.g. SKU | Discount % | Flash Qty) and one row per SKU on {place}.")]
    EmptySheet { place: String },
    #[error("No header row with SKU, discount and quantity columns in the first {HEADER_SCAN_ROWS} rows of {place}{hint}. Name the columns e.g. SKU | Discount % | Flash Qty.")]
    NoHeader { place: String, hint: String },
    #[error("Row {row} has two {field} columns, \"{first}\" and \"{second}\": rename or remove one of them.")]
    AmbiguousColumn {
        row: u32,
        field: Field,
        first: String,
        second: String,
    },
    #[error("{place} has more than {max} filled rows: an import file holds one session. Check that it is the right file, or name the sheet to read.", max = MAX_ROWS)]
    TooManyRows { place: String },
    #[error("The table has {count} SKU rows: a session holds six, and at most {max} rows are checked. Check that it is the right sheet.", max = MAX_ITEM_ROWS)]
    TooManyItemRows { count: usize },
    #[error("The table under the header (row {header_row}) has no SKU rows: add one row per SKU.")]
    NoItems { header_row: u32 },
    #[error("Rows {first_row} and {row} give different {field}s (\"{first}\" and \"{second}\"): a file holds one session, so give one {field}.")]
    Conflicting {
        field: Field,
        first_row: u32,
        first: String,
        row: u32,
        second: String,
    },
}

/// Refuses a file by its size before it is downloaded or read.
pub fn check_size(file_name: &str, size: u64) -> Result<(), FileError> {
    if size > MAX_FILE_BYTES {
        return Err(FileError::TooLarge {
            name: file_name.to_owned(),
            size,
            max: MAX_FILE_BYTES,
        });
    }
    if size == 0 {
        return Err(FileError::Empty {
            name: file_name.to_owned(),
        });
    }
    Ok(())
}

/// Reads the flash-sale table of a file: the named sheet (case-insensitive)
/// or the first one.
pub fn read(file_name: &str, bytes: &[u8], sheet: Option<&str>) -> Result<ImportSheet, FileError> {
    check_size(file_name, bytes.len() as u64)?;
    match workbook::detect(file_name, bytes)? {
        workbook::Format::Text => {
            let candidates = text::grids(file_name, bytes)?;
            let mut first_error = None;
            // Each plausible delimiter in turn: the one whose table has a header wins.
            for grid in candidates {
                match sheet::extract(&grid, None, "the file") {
                    Ok(found) => return Ok(found),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            Err(first_error.unwrap_or(FileError::EmptySheet {
                place: "the file".to_owned(),
            }))
        }
        format => {
            let (name, grid) = workbook::read(file_name, bytes, format, sheet)?;
            let place = format!("sheet \"{name}\"");
            sheet::extract(&grid, Some(name.clone()), &place)
        }
    }
}

/// The filled cells of a sheet, by row, with the caps applied while reading.
#[derive(Debug, Default)]
pub(crate) struct Grid {
    /// Only rows with at least one cell, in order; each row's cells indexed by column.
    rows: Vec<GridRow>,
}

#[derive(Debug)]
pub(crate) struct GridRow {
    /// 1-based.
    number: u32,
    cells: Vec<Cell>,
}

impl GridRow {
    fn cell(&self, column: usize) -> &Cell {
        self.cells.get(column).unwrap_or(&Cell::Empty)
    }
}

/// Collects cells in any order; rows and columns beyond the caps are refused or ignored.
#[derive(Debug, Default)]
pub(crate) struct GridBuilder {
    rows: BTreeMap<u32, Vec<Cell>>,
}

impl GridBuilder {
    /// `row` and `column` 0-based, as spreadsheet libraries count.
    fn put(&mut self, row: u32, column: u32, cell: Cell, place: &str) -> Result<(), FileError> {
        if cell.is_blank() || column >= MAX_COLUMNS {
            return Ok(());
        }
        if !self.rows.contains_key(&row) && self.rows.len() >= MAX_ROWS {
            return Err(FileError::TooManyRows {
                place: place.to_owned(),
            });
        }
        let cells = self.rows.entry(row).or_default();
        let column = column as usize;
        if cells.len() <= column {
            cells.resize(column + 1, Cell::Empty);
        }
        cells[column] = cell;
        Ok(())
    }

    fn build(self) -> Grid {
        Grid {
            rows: self
                .rows
                .into_iter()
                .map(|(row, cells)| GridRow {
                    number: row.saturating_add(1),
                    cells,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests;
