//! CSV files as Excel and Sheets save them: UTF-8 with or without a BOM,
//! UTF-16 ("Unicode text"), or a Windows code page; `,` or `;` (Excel in
//! locales with a decimal comma) or tabs between values; an optional
//! `sep=;` first line. Every value is text; `cell` reads numbers from it.

use super::workbook::not_spreadsheet;
use super::{Cell, FileError, Grid, GridBuilder};

const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];
const UTF16_LE_BOM: &[u8] = &[0xFF, 0xFE];
const UTF16_BE_BOM: &[u8] = &[0xFE, 0xFF];
/// Lines looked at to guess the delimiter.
const SNIFF_LINES: usize = 20;
const PLACE: &str = "the file";

/// The file read with each plausible delimiter, most likely first.
pub(super) fn grids(file_name: &str, bytes: &[u8]) -> Result<Vec<Grid>, FileError> {
    let text = decode(bytes).ok_or_else(|| not_spreadsheet(file_name))?;
    delimiters(&text)
        .into_iter()
        .map(|delimiter| grid(&text, delimiter))
        .collect()
}

/// The text, or `None` when the bytes are not text (a picture, a PDF...).
fn decode(bytes: &[u8]) -> Option<String> {
    let text = if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        String::from_utf8_lossy(rest).into_owned()
    } else if let Some(rest) = bytes.strip_prefix(UTF16_LE_BOM) {
        utf16(rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(UTF16_BE_BOM) {
        utf16(rest, u16::from_be_bytes)?
    } else {
        match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            // Excel's "CSV" on Windows is the ANSI code page; its letters
            // are Latin-1 where it matters for SKUs and numbers.
            Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
        }
    };
    looks_like_text(&text).then_some(text)
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| unit([pair[0], pair[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

/// Text has no NUL and almost no other control characters; binary files are full of them.
fn looks_like_text(text: &str) -> bool {
    let mut control = 0usize;
    let mut total = 0usize;
    for c in text.chars() {
        total += 1;
        if c == '\0' {
            return false;
        }
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}') {
            control += 1;
        }
    }
    control * 200 <= total
}

/// `sep=;` if given, then `,`, `;` and tab by how often they appear, most first.
fn delimiters(text: &str) -> Vec<u8> {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(SNIFF_LINES)
        .collect();
    let hinted = lines.first().and_then(|l| {
        let l = l.trim().to_ascii_lowercase();
        let hint = l.strip_prefix("sep=")?;
        (hint.len() == 1).then(|| hint.as_bytes()[0])
    });
    let mut counted: Vec<(usize, u8)> = [b',', b';', b'\t']
        .into_iter()
        .map(|d| {
            let count = lines
                .iter()
                .map(|l| l.bytes().filter(|b| *b == d).count())
                .sum();
            (count, d)
        })
        .filter(|(count, _)| *count > 0)
        .collect();
    counted.sort_by_key(|c| std::cmp::Reverse(c.0));
    let mut order: Vec<u8> = hinted.into_iter().collect();
    order.extend(
        counted
            .into_iter()
            .map(|(_, d)| d)
            .filter(|d| Some(*d) != hinted),
    );
    if order.is_empty() {
        order.push(b',');
    }
    order
}

fn grid(text: &str, delimiter: u8) -> Result<Grid, FileError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut grid = GridBuilder::default();
    let mut lines = LineCounter::new(text);
    for record in reader.records() {
        // The text is valid UTF-8 already, so a record only fails on a
        // malformed quote; such a line is skipped like the CSV reader would.
        let Ok(record) = record else { continue };
        let Some(position) = record.position() else {
            continue;
        };
        // The line the record starts on is the row Excel shows (blank lines count).
        let line = lines.record_line(position.byte());
        let row = u32::try_from(line.saturating_sub(1)).unwrap_or(u32::MAX);
        for (column, value) in record.iter().enumerate() {
            let column = u32::try_from(column).unwrap_or(u32::MAX);
            grid.put(row, column, Cell::text(value), PLACE)?;
        }
    }
    Ok(grid.build())
}

/// The CSV reader reports where it started reading a record, which is
/// before any blank lines it skipped; this finds the line the record is on.
struct LineCounter<'a> {
    bytes: &'a [u8],
    /// Byte offset reached so far, and the 1-based line it is on.
    at: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> LineCounter<'a> {
        LineCounter {
            bytes: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    /// Records come in order, so the count only moves forward.
    fn record_line(&mut self, start: u64) -> u64 {
        let start = usize::try_from(start)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        while self.at < start {
            self.step();
        }
        while matches!(self.bytes.get(self.at), Some(b'\r' | b'\n')) {
            self.step();
        }
        self.line
    }

    fn step(&mut self) {
        if self.bytes.get(self.at) == Some(&b'\n') {
            self.line += 1;
        }
        self.at += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bom_is_dropped_and_utf16_is_decoded() {
        assert_eq!(decode(b"\xEF\xBB\xBFSKU;Qty").unwrap(), "SKU;Qty");
        let utf16: Vec<u8> = UTF16_LE_BOM
            .iter()
            .copied()
            .chain("SKU\t1".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&utf16).unwrap(), "SKU\t1");
        assert_eq!(decode(b"Caf\xe9").unwrap(), "Café");
    }

    #[test]
    fn binary_content_is_not_text() {
        assert_eq!(decode(b"%PDF-1.7\n\x00\x01\x02binary"), None);
        assert_eq!(
            decode(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]),
            None
        );
    }

    #[test]
    fn the_most_frequent_delimiter_is_tried_first_and_a_sep_line_wins() {
        assert_eq!(
            delimiters("SKU;Discount;Qty\nFS-001;30,5;5"),
            vec![b';', b',']
        );
        assert_eq!(delimiters("SKU,Discount,Qty"), vec![b',']);
        assert_eq!(delimiters("sep=;\nSKU,Discount,Qty"), vec![b';', b',']);
        assert_eq!(delimiters("SKU"), vec![b',']);
    }
}
