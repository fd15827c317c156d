//! Workbooks through calamine: which kind of file this is, and its sheet as
//! a grid of cells.
//!
//! The kind is decided by the bytes, not only the name: a `.xls` that a web
//! tool exported as CSV text is read as CSV, and a PDF named `.xlsx` is
//! refused as not a spreadsheet. `.xlsx` is streamed cell by cell with each
//! cell's number format, so a percent-formatted `0.3` is known to mean 30 %
//! and a sheet cannot make us allocate its whole used range up front.

use std::io::Cursor;

use calamine::{Data, DataRef, Ods, Reader, Style, Xls, Xlsx};

use super::ods_size::{self, OdsSize};
use super::package::{self, Oversize, PackageSize};
use super::xls_size::{self, XlsSize};
use chrono::Timelike;

use super::{Cell, FileError, Grid, GridBuilder};

/// What the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Xlsx,
    Xls,
    Ods,
    /// Delimited text (CSV).
    Text,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
/// An OpenDocument zip names its type in the first entry, `mimetype`, stored uncompressed.
const ODS_MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";

/// Refuses names that are no spreadsheet, then tells the format by content.
pub(super) fn detect(file_name: &str, bytes: &[u8]) -> Result<Format, FileError> {
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let known = matches!(
        extension.as_str(),
        "xlsx" | "xlsm" | "xls" | "ods" | "csv" | "txt" | "tsv"
    );
    if !known {
        return Err(not_spreadsheet(file_name));
    }
    if bytes.starts_with(ZIP_MAGIC) {
        let head = &bytes[..bytes.len().min(256)];
        let is_ods = head.windows(ODS_MIMETYPE.len()).any(|w| w == ODS_MIMETYPE);
        return Ok(if is_ods { Format::Ods } else { Format::Xlsx });
    }
    if bytes.starts_with(CFB_MAGIC) {
        return Ok(Format::Xls);
    }
    // Anything else must be text; `text` refuses what is not.
    Ok(Format::Text)
}

pub(super) fn not_spreadsheet(file_name: &str) -> FileError {
    FileError::NotSpreadsheet {
        name: file_name.to_owned(),
    }
}

fn unreadable(file_name: &str, format: Format) -> FileError {
    FileError::Unreadable {
        name: file_name.to_owned(),
        format: match format {
            Format::Xlsx => "an Excel workbook (.xlsx)",
            Format::Xls => "an Excel 97-2003 workbook (.xls)",
            Format::Ods => "an OpenDocument spreadsheet (.ods)",
            Format::Text => "a CSV file",
        },
    }
}

/// The chosen sheet's name and cells.
pub(super) fn read(
    file_name: &str,
    bytes: &[u8],
    format: Format,
    sheet: Option<&str>,
) -> Result<(String, Grid), FileError> {
    let cursor = Cursor::new(bytes);
    // Before calamine, which reads parts whole and would expand a bomb in memory.
    if matches!(format, Format::Xlsx | Format::Ods) {
        if let PackageSize::TooBig(what) = package::measure(bytes) {
            return Err(FileError::TooBig {
                name: file_name.to_owned(),
                what,
            });
        }
    }
    match format {
        Format::Xlsx => {
            let mut book: Xlsx<_> = Xlsx::new(cursor).map_err(|_| unreadable(file_name, format))?;
            let name = pick(&book.sheet_names(), sheet)?;
            let grid = xlsx_grid(&mut book, &name).map_err(|e| match e {
                Some(e) => e,
                None => unreadable(file_name, format),
            })?;
            Ok((name, grid))
        }
        Format::Xls => {
            // Before calamine, which lays out every sheet's extent when it opens the file.
            if let XlsSize::TooBig { cells } = xls_size::measure(bytes) {
                return Err(FileError::TooBig {
                    name: file_name.to_owned(),
                    what: Oversize::SheetExtent {
                        cells,
                        max: xls_size::MAX_SHEET_CELLS,
                    },
                });
            }
            let mut book: Xls<_> = Xls::new(cursor).map_err(|_| unreadable(file_name, format))?;
            let name = pick(&book.sheet_names(), sheet)?;
            let range = book
                .worksheet_range(&name)
                .map_err(|_| unreadable(file_name, format))?;
            Ok((name.clone(), range_grid(&range, &name)?))
        }
        Format::Ods => {
            // Before calamine, which would expand the repeats in memory.
            if let OdsSize::TooBig { table, cells } = ods_size::measure(bytes) {
                return Err(FileError::TooManyCells {
                    name: file_name.to_owned(),
                    table,
                    cells,
                });
            }
            let mut book: Ods<_> = Ods::new(cursor).map_err(|_| unreadable(file_name, format))?;
            let name = pick(&book.sheet_names(), sheet)?;
            let range = book
                .worksheet_range(&name)
                .map_err(|_| unreadable(file_name, format))?;
            Ok((name.clone(), range_grid(&range, &name)?))
        }
        Format::Text => Err(unreadable(file_name, format)),
    }
}

/// The named sheet (case and surrounding spaces ignored), or the first.
fn pick(names: &[String], wanted: Option<&str>) -> Result<String, FileError> {
    let found = match wanted.map(str::trim).filter(|w| !w.is_empty()) {
        None => names.first(),
        Some(wanted) => names
            .iter()
            .find(|n| n.trim().to_lowercase() == wanted.to_lowercase()),
    };
    found.cloned().ok_or_else(|| FileError::SheetNotFound {
        sheet: wanted.unwrap_or_default().trim().to_owned(),
        available: if names.is_empty() {
            "none".to_owned()
        } else {
            names
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        },
    })
}

/// Streams the sheet's cells with their styles. `Err(None)`: calamine failed.
fn xlsx_grid(book: &mut Xlsx<Cursor<&[u8]>>, name: &str) -> Result<Grid, Option<FileError>> {
    let place = format!("sheet \"{name}\"");
    let mut reader = book.worksheet_cells_reader(name).map_err(|_| None)?;
    // Style ids index the workbook's styles; only "is it a percentage" matters here.
    let percent: Vec<bool> = reader.styles().iter().map(is_percent_style).collect();
    let mut grid = GridBuilder::default();
    while let Some((cell, style)) = reader.next_cell_with_style_id().map_err(|_| None)? {
        let (row, column) = cell.get_position();
        let is_percent = percent.get(style).copied().unwrap_or(false);
        grid.put(
            row,
            column,
            from_data_ref(cell.get_value(), is_percent),
            &place,
        )
        .map_err(Some)?;
    }
    Ok(grid.build())
}

fn range_grid(range: &calamine::Range<Data>, name: &str) -> Result<Grid, FileError> {
    let place = format!("sheet \"{name}\"");
    let (row0, col0) = range.start().unwrap_or((0, 0));
    let mut grid = GridBuilder::default();
    for (row, column, data) in range.used_cells() {
        let (row, column) = (
            row0.saturating_add(u32::try_from(row).unwrap_or(u32::MAX)),
            col0.saturating_add(u32::try_from(column).unwrap_or(u32::MAX)),
        );
        grid.put(row, column, from_data(data), &place)?;
    }
    Ok(grid.build())
}

/// A number format that shows a percentage: a `%` outside quotes and escapes.
fn is_percent_style(style: &Style) -> bool {
    let Some(format) = &style.number_format else {
        return false;
    };
    let mut quoted = false;
    let mut escaped = false;
    for c in format.format_code.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '%' if !quoted => return true,
            _ => {}
        }
    }
    false
}

fn from_data_ref(data: &DataRef<'_>, percent: bool) -> Cell {
    match data {
        DataRef::Int(n) => Cell::Number {
            value: *n as f64,
            percent,
        },
        DataRef::Float(f) => Cell::Number { value: *f, percent },
        DataRef::String(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text((*s).to_owned()),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(dt) => date_time(dt),
        DataRef::DateTimeIso(s) => iso_date_time(s),
        DataRef::DurationIso(s) => Cell::Text(s.clone()),
        DataRef::Error(e) => Cell::Error(e.to_string()),
        DataRef::Empty => Cell::Empty,
    }
}

fn from_data(data: &Data) -> Cell {
    match data {
        Data::Int(n) => Cell::number(*n as f64),
        Data::Float(f) => Cell::number(*f),
        Data::String(s) => Cell::Text(s.clone()),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => date_time(dt),
        Data::DateTimeIso(s) => iso_date_time(s),
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(e.to_string()),
        Data::Empty => Cell::Empty,
    }
}

/// An Excel serial date, to the nearest minute (Excel keeps times as
/// fractions of a day, so 00:00 may come back as 23:59:59.999).
fn date_time(dt: &calamine::ExcelDateTime) -> Cell {
    let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
    let time = chrono::NaiveTime::from_hms_milli_opt(h.into(), mi.into(), s.into(), ms.into());
    let date = chrono::NaiveDate::from_ymd_opt(y.into(), mo.into(), d.into());
    let rounded = |at: chrono::NaiveDateTime| {
        let at = at + chrono::Duration::seconds(30);
        at.date()
            .and_hms_opt(at.time().hour(), at.time().minute(), 0)
            .unwrap_or(at)
    };
    match (date, time) {
        // Serial values below one day are a time of day with no date.
        (_, Some(time)) if dt.as_f64() < 1.0 => {
            Cell::Time(rounded(chrono::NaiveDate::MIN.and_time(time)).time())
        }
        (Some(date), Some(time)) => Cell::DateTime(rounded(date.and_time(time))),
        _ => Cell::number(dt.as_f64()),
    }
}

/// `2026-11-27T00:00:00` (OpenDocument dates) as a date-time; anything else as text.
fn iso_date_time(s: &str) -> Cell {
    let parsed = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"));
    match parsed {
        Ok(at) => Cell::DateTime(at),
        Err(_) => Cell::Text(s.to_owned()),
    }
}
