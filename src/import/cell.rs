//! One spreadsheet cell as the import sees it, and how its value becomes the
//! text the domain parsers read (`Sku::parse`, `DiscountPercent::parse`,
//! `Quantity::parse`, `Window::parse`).
//!
//! Spreadsheets store what people meant in several ways: a discount of 30 %
//! as `0.3` with a percent format, as `30`, or as the text `"30%"`; a SKU as
//! the number `12345` (Excel turned it into one); a quantity as the text
//! `"50 "`. Each conversion here turns those into the one text the domain
//! accepts, and leaves anything else as written so the domain's refusal
//! quotes what the person typed.

use chrono::{NaiveDateTime, NaiveTime};

/// A cell's value, with the one piece of formatting that changes its meaning.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    /// `percent`: the cell's number format shows it as a percentage
    /// (`0.3` shown as `30%`).
    Number {
        value: f64,
        percent: bool,
    },
    /// A date (with its time) from a date-formatted cell.
    DateTime(NaiveDateTime),
    /// A time of day from a time-formatted cell with no date part.
    Time(NaiveTime),
    Bool(bool),
    /// An error the spreadsheet shows instead of a value, e.g. `#N/A`.
    Error(String),
}

/// How far a float may be from a whole number and still be that number:
/// `0.3 * 100` is `30.000000000000004` in binary floating point.
const WHOLE_TOLERANCE: f64 = 1e-9;
/// Beyond this a float no longer holds every whole number exactly.
const MAX_EXACT: f64 = 1e15;

impl Cell {
    pub fn number(value: f64) -> Cell {
        Cell::Number {
            value,
            percent: false,
        }
    }

    pub fn text(value: impl Into<String>) -> Cell {
        Cell::Text(value.into())
    }

    /// Empty, or text with nothing but spaces.
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The value as a person reads it: trimmed text, whole numbers without
    /// `.0`, dates as `YYYY-MM-DD HH:MM` (the form `Window::parse` reads).
    pub fn to_text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => unguard(t.trim()).to_owned(),
            Cell::Number { value, .. } => number_text(*value),
            Cell::DateTime(at) => at.format("%Y-%m-%d %H:%M").to_string(),
            Cell::Time(t) => t.format("%H:%M").to_string(),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
            Cell::Error(e) => e.clone(),
        }
    }

    /// A SKU: a number Excel made of it (`12345.0`) reads as `12345`, and a
    /// leading apostrophe (Excel's "keep as text" mark) is dropped.
    pub fn sku_text(&self) -> String {
        match self {
            Cell::Text(t) => t.trim().trim_start_matches('\'').trim().to_owned(),
            other => other.to_text(),
        }
    }

    /// A discount in whole percent: a percent-formatted `0.3` and a bare
    /// fraction (`0.3`, also as text) read as `30`, since no allowed
    /// discount is below 1 %: a fraction is a percentage whose format was
    /// lost (as in .xls, .ods and CSV files).
    pub fn discount_text(&self) -> String {
        match self {
            Cell::Number {
                value,
                percent: true,
            } => number_text(value * 100.0),
            Cell::Number { value, .. } if is_fraction(*value) => number_text(value * 100.0),
            Cell::Text(t) => {
                let t = t.trim();
                match t.parse::<f64>() {
                    Ok(value)
                        if is_fraction(value)
                            && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') =>
                    {
                        number_text(value * 100.0)
                    }
                    _ => t.to_owned(),
                }
            }
            other => other.to_text(),
        }
    }

    /// A quantity: `50.0` reads as `50`, text is trimmed.
    pub fn quantity_text(&self) -> String {
        self.to_text()
    }
}

fn is_fraction(value: f64) -> bool {
    value > 0.0 && value < 1.0
}

/// Whole numbers without a decimal part; others with at most six decimals,
/// so the domain can say "not a whole number" about what the sheet shows.
pub fn number_text(value: f64) -> String {
    let rounded = value.round();
    if (value - rounded).abs() < WHOLE_TOLERANCE && rounded.abs() < MAX_EXACT {
        // In range and whole, so the cast is exact.
        return format!("{}", rounded as i64);
    }
    let fixed = format!("{value:.6}");
    fixed.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Exports put an apostrophe before text starting with `=`, `+`, `-` or `@`
/// so no spreadsheet runs it as a formula; reading it back drops the mark.
fn unguard(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(value: f64) -> Cell {
        Cell::Number {
            value,
            percent: true,
        }
    }

    #[test]
    fn skus_that_excel_made_numbers_read_as_digits() {
        assert_eq!(Cell::number(12345.0).sku_text(), "12345");
        assert_eq!(Cell::number(12345.000000000002).sku_text(), "12345");
        assert_eq!(Cell::text(" fs-001  ").sku_text(), "fs-001");
        assert_eq!(Cell::text("'00123").sku_text(), "00123");
    }

    #[test]
    fn a_discount_reads_the_same_however_the_sheet_stores_it() {
        for cell in [
            pct(0.3),
            Cell::number(0.3),
            Cell::number(30.0),
            Cell::text("30"),
            Cell::text(" 30 "),
            Cell::text("0.3"),
        ] {
            assert_eq!(cell.discount_text(), "30", "{cell:?}");
        }
        assert_eq!(Cell::text("30%").discount_text(), "30%");
        assert_eq!(Cell::text("30 %").discount_text(), "30 %");
    }

    #[test]
    fn a_discount_that_is_not_whole_is_passed_on_as_the_sheet_shows_it() {
        assert_eq!(pct(0.305).discount_text(), "30.5");
        assert_eq!(Cell::number(95.0).discount_text(), "95");
        assert_eq!(pct(1.0).discount_text(), "100");
        assert_eq!(Cell::text("abc").discount_text(), "abc");
    }

    #[test]
    fn quantities_lose_trailing_spaces_and_a_zero_decimal() {
        assert_eq!(Cell::number(50.0).quantity_text(), "50");
        assert_eq!(Cell::text("50 ").quantity_text(), "50");
        assert_eq!(Cell::text("\u{a0}7\u{a0}").quantity_text(), "7");
        assert_eq!(Cell::number(2.5).quantity_text(), "2.5");
    }

    #[test]
    fn dates_and_times_read_as_the_window_parser_expects() {
        let at = NaiveDateTime::parse_from_str("2026-11-27 00:00", "%Y-%m-%d %H:%M").unwrap();
        assert_eq!(Cell::DateTime(at).to_text(), "2026-11-27 00:00");
        let t = NaiveTime::from_hms_opt(14, 5, 0).unwrap();
        assert_eq!(Cell::Time(t).to_text(), "14:05");
    }

    #[test]
    fn the_formula_guard_of_an_export_is_dropped_and_other_text_kept() {
        assert_eq!(Cell::text("'=Deals").to_text(), "=Deals");
        assert_eq!(Cell::text("'Tis the season").to_text(), "'Tis the season");
        assert!(Cell::text("  ").is_blank());
        assert!(!Cell::number(0.0).is_blank());
    }
}
