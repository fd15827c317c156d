//! A grid of cells into a flash-sale table: the header row, the session
//! fields (labelled cells above the table, or columns), and the item rows.
//!
//! Rows a person leaves in their sheet that are not items are skipped: empty
//! rows, rows with nothing in the SKU, discount and quantity columns, and a
//! totals row (a `Total` label, or a last row with a sum but no SKU).

use std::collections::BTreeMap;

use super::header::{header_field, is_totals_label, label_field, Field, Strength};
use super::{
    Cell, FileError, Grid, GridRow, ImportRow, ImportSheet, SheetValue, HEADER_SCAN_ROWS,
    MAX_ITEM_ROWS,
};

/// Which column holds each field of the header row.
#[derive(Debug, Default)]
struct Columns {
    by_field: BTreeMap<Field, (usize, Strength, String)>,
    /// Two columns of the same strength claim one field.
    ambiguous: Option<FileError>,
}

impl Columns {
    fn of(row: &GridRow) -> Columns {
        let mut columns = Columns::default();
        for (index, cell) in row.cells.iter().enumerate() {
            let Cell::Text(raw) = cell else { continue };
            let Some((field, strength)) = header_field(raw) else {
                continue;
            };
            match columns.by_field.get(&field) {
                Some((_, held, _)) if *held > strength => {}
                Some((_, held, first)) if *held == strength => {
                    columns.ambiguous.get_or_insert(FileError::AmbiguousColumn {
                        row: row.number,
                        field,
                        first: first.clone(),
                        second: raw.trim().to_owned(),
                    });
                }
                _ => {
                    columns
                        .by_field
                        .insert(field, (index, strength, raw.trim().to_owned()));
                }
            }
        }
        columns
    }

    fn get(&self, field: Field) -> Option<usize> {
        self.by_field.get(&field).map(|(index, _, _)| *index)
    }

    fn item_fields(&self) -> usize {
        [Field::Sku, Field::Discount, Field::Quantity]
            .iter()
            .filter(|f| self.by_field.contains_key(f))
            .count()
    }
}

/// The session fields the file gives; a second, different value is refused.
#[derive(Debug, Default)]
struct Fields(BTreeMap<Field, SheetValue>);

impl Fields {
    fn set(&mut self, field: Field, row: u32, text: String) -> Result<(), FileError> {
        if text.is_empty() {
            return Ok(());
        }
        match self.0.get(&field) {
            Some(held) if held.text != text => Err(FileError::Conflicting {
                field,
                first_row: held.row,
                first: held.text.clone(),
                row,
                second: text,
            }),
            Some(_) => Ok(()),
            None => {
                self.0.insert(field, SheetValue { row, text });
                Ok(())
            }
        }
    }

    /// `Title | Midnight Deals` (value in the next filled cell) or `Start: 2026-11-27 00:00`.
    /// A value cell is never read as a label itself (a title may be "Start").
    fn read_labels(&mut self, row: &GridRow) -> Result<(), FileError> {
        let mut index = 0;
        while let Some(cell) = row.cells.get(index) {
            index += 1;
            let Cell::Text(raw) = cell else { continue };
            if let Some(field) = label_field(raw) {
                let value = (index..row.cells.len()).find(|&i| !row.cell(i).is_blank());
                if let Some(value) = value {
                    self.set(field, row.number, row.cell(value).to_text())?;
                    index = value + 1;
                }
            } else if let Some((label, value)) = raw.split_once(':') {
                if let Some(field) = label_field(label) {
                    self.set(field, row.number, value.trim().to_owned())?;
                }
            }
        }
        Ok(())
    }
}

pub(super) fn extract(
    grid: &Grid,
    sheet: Option<String>,
    place: &str,
) -> Result<ImportSheet, FileError> {
    if grid.rows.is_empty() {
        return Err(FileError::EmptySheet {
            place: place.to_owned(),
        });
    }
    let (header_index, columns) = find_header(grid, place)?;
    let header_row = grid.rows[header_index].number;
    let (Some(sku), Some(discount), Some(quantity)) = (
        columns.get(Field::Sku),
        columns.get(Field::Discount),
        columns.get(Field::Quantity),
    ) else {
        // find_header only returns a row with all three.
        return Err(no_header(place, ""));
    };

    let mut fields = Fields::default();
    for row in &grid.rows[..header_index] {
        fields.read_labels(row)?;
    }

    let body = &grid.rows[header_index + 1..];
    let has_sku = |row: &GridRow| {
        let cell = row.cell(sku);
        !cell.is_blank() && !is_totals_label(&cell.to_text())
    };
    let last_with_sku = body.iter().rposition(has_sku);
    let mut rows = Vec::new();
    for (index, row) in body.iter().enumerate() {
        let (sku_cell, discount_cell, quantity_cell) =
            (row.cell(sku), row.cell(discount), row.cell(quantity));
        if sku_cell.is_blank() && discount_cell.is_blank() && quantity_cell.is_blank() {
            continue;
        }
        if is_totals_row(row, sku_cell) {
            continue;
        }
        // A sum under the last item without a label is a totals row too.
        let trailing = last_with_sku.is_none_or(|last| index > last);
        if sku_cell.is_blank() && discount_cell.is_blank() && trailing {
            continue;
        }
        for field in [Field::Title, Field::Start, Field::End, Field::Notes] {
            if let Some(column) = columns.get(field) {
                fields.set(field, row.number, row.cell(column).to_text())?;
            }
        }
        rows.push(ImportRow {
            row: row.number,
            sku: sku_cell.sku_text(),
            discount: discount_cell.discount_text(),
            quantity: quantity_cell.quantity_text(),
        });
    }
    if rows.len() > MAX_ITEM_ROWS {
        return Err(FileError::TooManyItemRows { count: rows.len() });
    }
    if rows.is_empty() {
        return Err(FileError::NoItems { header_row });
    }
    let mut take = |field| fields.0.remove(&field);
    Ok(ImportSheet {
        sheet,
        header_row,
        rows,
        title: take(Field::Title),
        start: take(Field::Start),
        end: take(Field::End),
        notes: take(Field::Notes),
    })
}

/// The first row (of the first few) naming a SKU, a discount and a quantity column.
fn find_header(grid: &Grid, place: &str) -> Result<(usize, Columns), FileError> {
    let mut closest: Option<(u32, Columns)> = None;
    for (index, row) in grid.rows.iter().take(HEADER_SCAN_ROWS).enumerate() {
        let mut columns = Columns::of(row);
        if columns.item_fields() == 3 {
            return match columns.ambiguous.take() {
                Some(e) => Err(e),
                None => Ok((index, columns)),
            };
        }
        let better = closest
            .as_ref()
            .is_none_or(|(_, c)| columns.item_fields() > c.item_fields());
        if columns.item_fields() > 0 && better {
            closest = Some((row.number, columns));
        }
    }
    let hint = match closest {
        Some((row, columns)) => {
            let missing: Vec<String> = [Field::Sku, Field::Discount, Field::Quantity]
                .into_iter()
                .filter(|f| columns.get(*f).is_none())
                .map(|f| f.to_string())
                .collect();
            format!(
                " (row {row} comes closest but has no {} column)",
                missing.join(" or ")
            )
        }
        None => String::new(),
    };
    Err(no_header(place, &hint))
}

fn no_header(place: &str, hint: &str) -> FileError {
    FileError::NoHeader {
        place: place.to_owned(),
        hint: hint.to_owned(),
    }
}

/// A `Total`-like label in the row, and no real SKU.
fn is_totals_row(row: &GridRow, sku: &Cell) -> bool {
    let labelled = row
        .cells
        .iter()
        .any(|c| matches!(c, Cell::Text(t) if is_totals_label(t)));
    labelled && (sku.is_blank() || is_totals_label(&sku.to_text()))
}
