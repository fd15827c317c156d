//! Exporting: a session as `.csv` and `.xlsx` in the layout `import` reads,
//! and a session's activity log as CSV.
//!
//! The session files open with labelled cells (Title, Start, End, Notes, in
//! the business time zone) above a table (SKU, Product, Discount %, Flash
//! Qty, prices, stock seen), so importing an export gives the same session.
//! The extra columns are for people; import ignores them. In the CSV files,
//! text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first)
//! gets an apostrophe in front, which import drops again.

use std::borrow::Cow;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::{AppError, Queries, SessionView};
use crate::domain::window::format_local;
use crate::domain::Money;
use crate::store::{activity, sessions};

/// A session as files, ready to attach or save.
#[derive(Debug, Clone)]
pub struct ExportFiles {
    pub csv: Vec<u8>,
    pub xlsx: Vec<u8>,
    /// `flashsale-12-midnight-deals`: add `.csv` or `.xlsx`.
    pub file_stem: String,
}

/// The activity log's file name.
pub fn log_file_name(session_id: i64) -> String {
    format!("flashsale-{session_id}-log.csv")
}

const TABLE_HEADER: [&str; 7] = [
    "SKU",
    "Product",
    "Discount %",
    "Flash Qty",
    "Base price",
    "Flash price",
    "Stock seen",
];
/// Excel opens a UTF-8 CSV as UTF-8 only with this mark in front.
const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];
const LOCAL_FORMAT: &str = "%Y-%m-%d %H:%M";

impl Queries {
    #[tracing::instrument(skip_all, fields(session = session_id))]
    pub async fn export_session(&self, session_id: i64) -> Result<ExportFiles, AppError> {
        let view = self.get(session_id).await?;
        let labels = self.labels(&view);
        Ok(ExportFiles {
            csv: session_csv(&labels, &view).map_err(AppError::unexpected)?,
            xlsx: session_xlsx(&labels, &view).map_err(AppError::unexpected)?,
            file_stem: file_stem(&view),
        })
    }

    /// The whole activity log, oldest first, with each entry in words.
    #[tracing::instrument(skip_all, fields(session = session_id))]
    pub async fn export_log(&self, session_id: i64) -> Result<Vec<u8>, AppError> {
        let mut conn = self.core.pool.acquire().await?;
        sessions::get(&mut conn, session_id)
            .await?
            .ok_or(AppError::SessionNotFound(session_id))?;
        let entries = activity::list_all(&mut conn, session_id).await?;
        let tz = self.core.policy.time_zone;
        let mut out = csv_writer();
        let local = format!("Time ({})", tz.name());
        out.write_record([
            local.as_str(),
            "Time (UTC)",
            "Who",
            "Actor id",
            "Action",
            "What",
            "Details",
        ])
        .map_err(AppError::unexpected)?;
        for e in &entries {
            let what = e.describe().render(|at, _| format_local(at, tz));
            out.write_record([
                e.at.with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
                    .as_str(),
                &e.at.to_rfc3339(),
                &guard(&e.actor_name),
                &e.actor_id,
                &e.action,
                &guard(&what),
                &e.details.to_string(),
            ])
            .map_err(AppError::unexpected)?;
        }
        finish(out).map_err(AppError::unexpected)
    }

    /// The labelled cells above the table, in order.
    fn labels(&self, view: &SessionView) -> Vec<(&'static str, String)> {
        let tz = self.core.policy.time_zone;
        let local = |at: chrono::DateTime<chrono::Utc>| {
            at.with_timezone(&tz).format(LOCAL_FORMAT).to_string()
        };
        vec![
            ("Title", view.title.clone()),
            ("Start", local(view.window.starts_at())),
            ("End", local(view.window.ends_at())),
            ("Notes", view.notes.clone().unwrap_or_default()),
            ("Session", format!("#{} · {}", view.id, view.status.label())),
            ("Time zone", tz.name().to_owned()),
        ]
    }
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(UTF8_BOM.to_vec())
}

fn finish(out: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, anyhow::Error> {
    out.into_inner()
        .map_err(|e| anyhow::anyhow!("could not finish the CSV: {}", e.error()))
}

fn session_csv(labels: &[(&str, String)], view: &SessionView) -> Result<Vec<u8>, anyhow::Error> {
    let mut out = csv_writer();
    for (label, value) in labels {
        out.write_record([*label, &guard(value)])?;
    }
    // The csv crate writes an empty record as `""` (a single empty field, so that it reads back),
    // which a spreadsheet shows as a stray cell; the gap before the table is a bare line instead.
    let mut bytes = finish(out)?;
    bytes.push(b'\n');
    let mut out = csv::WriterBuilder::new().flexible(true).from_writer(bytes);
    out.write_record(TABLE_HEADER)?;
    for item in &view.items {
        out.write_record([
            item.sku.as_str(),
            &guard(&item.product_name),
            &item.discount.get().to_string(),
            &item.quantity.to_string(),
            &major_text(&item.base_price),
            &major_text(&item.flash_price),
            &item.stock_seen.to_string(),
        ])?;
    }
    finish(out)
}

fn session_xlsx(labels: &[(&str, String)], view: &SessionView) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0%");
    let exponent = view
        .items
        .first()
        .map_or(0, |i| i.base_price.currency().exponent());
    let money = Format::new().set_num_format(if exponent == 0 { "#,##0" } else { "#,##0.00" });
    let sheet = book.add_worksheet();
    sheet.set_name("Flash sale")?;
    let mut row: u32 = 0;
    for (label, value) in labels {
        // Strings stay strings: nothing here is read as a formula or a date.
        sheet.write_string_with_format(row, 0, *label, &bold)?;
        sheet.write_string(row, 1, value)?;
        row += 1;
    }
    row += 1;
    for (column, name) in (0u16..).zip(TABLE_HEADER) {
        sheet.write_string_with_format(row, column, name, &bold)?;
    }
    for item in &view.items {
        row += 1;
        sheet.write_string(row, 0, item.sku.as_str())?;
        sheet.write_string(row, 1, &item.product_name)?;
        // As Excel users store a percentage: 0.3 shown as 30%.
        sheet.write_number_with_format(row, 2, f64::from(item.discount.get()) / 100.0, &percent)?;
        sheet.write_number(row, 3, f64::from(item.quantity.get()))?;
        sheet.write_number_with_format(row, 4, major(&item.base_price), &money)?;
        sheet.write_number_with_format(row, 5, major(&item.flash_price), &money)?;
        sheet.write_number(row, 6, item.stock_seen as f64)?;
    }
    sheet.set_column_width(0, 14)?;
    sheet.set_column_width(1, 36)?;
    sheet.set_column_width(2, 11)?;
    sheet.set_column_width(3, 10)?;
    sheet.set_column_width(4, 13)?;
    sheet.set_column_width(5, 13)?;
    book.save_to_buffer()
}

/// `flashsale-12-midnight-deals`: the id, then the title as a safe file name.
fn file_stem(view: &SessionView) -> String {
    let mut slug = String::new();
    for c in view.title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        format!("flashsale-{}", view.id)
    } else {
        format!("flashsale-{}-{slug}", view.id)
    }
}

/// The amount in major units, for a spreadsheet to compute with.
fn major(money: &Money) -> f64 {
    let scale = 10f64.powi(i32::from(money.currency().exponent()));
    money.minor() as f64 / scale
}

/// `149500`, `12.50`: the amount in major units without grouping.
fn major_text(money: &Money) -> String {
    let exponent = usize::from(money.currency().exponent());
    let minor = money.minor();
    if exponent == 0 {
        return minor.to_string();
    }
    let digits = format!("{:0>width$}", minor.unsigned_abs(), width = exponent + 1);
    let (whole, fraction) = digits.split_at(digits.len() - exponent);
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{whole}.{fraction}")
}

/// Text a spreadsheet would run as a formula gets an apostrophe in front.
fn guard(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;

    #[test]
    fn amounts_are_written_in_major_units() {
        let idr = Currency::from_code("IDR").unwrap();
        let usd = Currency::from_code("USD").unwrap();
        assert_eq!(major_text(&Money::from_minor(149_500, idr)), "149500");
        assert_eq!(major_text(&Money::from_minor(1250, usd.clone())), "12.50");
        assert_eq!(major_text(&Money::from_minor(5, usd.clone())), "0.05");
        assert!((major(&Money::from_minor(1250, usd)) - 12.5).abs() < 1e-9);
    }

    #[test]
    fn formulas_are_disarmed_and_other_text_kept() {
        assert_eq!(guard("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(guard("-50% Mega"), "'-50% Mega");
        assert_eq!(guard("Midnight Deals"), "Midnight Deals");
    }
}
