//! Column headers and labels by meaning: which column holds the SKU, the
//! discount, the quantity, and which cells name the session's title and times.
//!
//! Headers are compared after dropping case, spaces and punctuation
//! (`Disc (%)`, `DISC %` and `disc` are the same), first against the names
//! Marketing's files use (English and Indonesian), then by the word they
//! contain (`Flash sale qty` holds `qty`). An exact name beats a contained
//! word, so a sheet with both `Qty` and `Flash sale qty (units)` picks `Qty`.

use std::fmt;

/// What a column (or a label cell) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Sku,
    Discount,
    Quantity,
    Title,
    Start,
    End,
    Notes,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Sku => "SKU",
            Field::Discount => "discount",
            Field::Quantity => "quantity",
            Field::Title => "title",
            Field::Start => "start",
            Field::End => "end",
            Field::Notes => "notes",
        })
    }
}

/// How sure a header match is; the stronger wins when two columns compete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// The header contains a word of the field (`Flash sale qty`).
    Contains,
    /// The header is one of the field's names (`Flash Qty`).
    Exact,
}

#[rustfmt::skip] // One line per field reads as the table it is.
const EXACT: &[(Field, &[&str])] = &[
    (Field::Sku, &["sku", "skus", "productsku", "itemsku", "sellersku", "skucode", "skuid", "skuno",
        "kodesku", "skuproduk", "productcode", "itemcode", "kodeproduk", "kodebarang"]),
    (Field::Discount, &["discount", "discountpercent", "discountpercentage", "discountpct", "discountrate",
        "disc", "discpercent", "discpct", "diskon", "diskonpersen", "persendiskon", "potongan", "off",
        "percentoff", "flashdiscount", "flashsalediscount"]),
    (Field::Quantity, &["quantity", "qty", "flashqty", "flashquantity", "flashsaleqty", "flashsalequantity",
        "stockforflashsale", "flashsalestock", "flashstock", "stokflashsale", "units", "jumlah", "kuantitas",
        "kuota", "quota", "flashsalequota", "allocation", "alokasi"]),
    (Field::Title, &["title", "sessiontitle", "sessionname", "flashsaletitle", "flashsalename", "salename",
        "judul", "namasesi", "campaign", "campaignname"]),
    (Field::Start, &["start", "starts", "startsat", "startat", "starttime", "startdatetime", "from",
        "mulai", "waktumulai", "jammulai"]),
    (Field::End, &["end", "ends", "endsat", "endat", "endtime", "enddatetime", "until", "selesai",
        "waktuselesai", "jamselesai"]),
    (Field::Notes, &["notes", "note", "remarks", "catatan", "keterangan"]),
];

/// Lower-case letters and digits only: `Disc (%)` -> `disc`.
pub fn normalize(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The field a column header names, if any.
pub fn header_field(raw: &str) -> Option<(Field, Strength)> {
    let name = normalize(raw);
    if name.is_empty() {
        // A header of only `%` is the discount.
        return raw
            .contains('%')
            .then_some((Field::Discount, Strength::Exact));
    }
    if let Some(field) = exact(&name) {
        return Some((field, Strength::Exact));
    }
    contained(&name).map(|field| (field, Strength::Contains))
}

/// The field a label cell above the table names (`Title`, `Start:`); only
/// the session's own fields, and only by exact name, since any text may
/// stand above a table.
pub fn label_field(raw: &str) -> Option<Field> {
    exact(&normalize(raw))
        .filter(|f| matches!(f, Field::Title | Field::Start | Field::End | Field::Notes))
}

fn exact(name: &str) -> Option<Field> {
    EXACT
        .iter()
        .find(|(_, names)| names.contains(&name))
        .map(|(field, _)| *field)
}

/// Words that name a field inside a longer header. Headers about prices or
/// current stock are left alone: `Discounted price` is not the discount and
/// `Stock` alone is what the warehouse holds, not the flash-sale quantity.
fn contained(name: &str) -> Option<Field> {
    let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
    if has(&["price", "harga", "amount", "nominal", "idr"]) {
        return None;
    }
    if has(&["sku"]) && !has(&["name", "nama"]) {
        return Some(Field::Sku);
    }
    if has(&["discount", "diskon", "disc"]) {
        return Some(Field::Discount);
    }
    if has(&["qty", "quantity", "kuantitas", "quota", "kuota"])
        || (has(&["stock", "stok"]) && has(&["flash"]))
    {
        return Some(Field::Quantity);
    }
    None
}

/// True for the label of a totals row (`Total`, `Grand total:`, `Jumlah`,
/// `Total 6 SKUs`): the word alone or followed by a separator, so a SKU such
/// as `SUMMER-01` or `TOTALCARE-1` is never taken for one.
pub fn is_totals_label(raw: &str) -> bool {
    const WORDS: [&str; 7] = [
        "total",
        "totals",
        "subtotal",
        "grandtotal",
        "sum",
        "jumlah",
        "totaljumlah",
    ];
    if WORDS.contains(&normalize(raw).as_str()) {
        return true;
    }
    let lower = raw.trim().to_lowercase();
    ["total", "grand total", "sub total", "subtotal", "jumlah"]
        .iter()
        .any(|w| {
            lower
                .strip_prefix(w)
                .and_then(|rest| rest.chars().next())
                .is_some_and(|c| c.is_whitespace() || matches!(c, ':' | '('))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(raw: &str) -> Option<Field> {
        header_field(raw).map(|(f, _)| f)
    }

    #[test]
    fn headers_are_matched_ignoring_case_spaces_and_punctuation() {
        for raw in [
            "SKU",
            "sku",
            " Product SKU ",
            "Kode SKU",
            "SKU code",
            "product_sku",
        ] {
            assert_eq!(field(raw), Some(Field::Sku), "{raw}");
        }
        for raw in [
            "Discount",
            "Discount %",
            "Disc (%)",
            "DISC%",
            "Diskon",
            "% off",
            "%",
        ] {
            assert_eq!(field(raw), Some(Field::Discount), "{raw}");
        }
        for raw in [
            "Flash Qty",
            "Quantity",
            "Qty",
            "Stock for flash sale",
            "Flash-sale stock",
            "Kuota",
        ] {
            assert_eq!(field(raw), Some(Field::Quantity), "{raw}");
        }
    }

    #[test]
    fn longer_headers_match_by_the_word_they_contain() {
        assert_eq!(
            header_field("Flash sale qty (units)"),
            Some((Field::Quantity, Strength::Contains))
        );
        assert_eq!(
            header_field("Discount for this slot"),
            Some((Field::Discount, Strength::Contains))
        );
        assert_eq!(
            header_field("Qty"),
            Some((Field::Quantity, Strength::Exact))
        );
    }

    #[test]
    fn prices_names_and_plain_stock_are_not_mistaken_for_item_columns() {
        for raw in [
            "Discounted price",
            "Flash price (IDR)",
            "SKU name",
            "Stock",
            "Stock seen",
            "Product",
            "Base price",
        ] {
            assert_eq!(field(raw), None, "{raw}");
        }
    }

    #[test]
    fn labels_above_the_table_name_only_the_sessions_own_fields() {
        assert_eq!(label_field("Title"), Some(Field::Title));
        assert_eq!(label_field("Start:"), Some(Field::Start));
        assert_eq!(label_field("End time"), Some(Field::End));
        assert_eq!(label_field("SKU"), None);
        assert_eq!(label_field("Prepared by"), None);
    }

    #[test]
    fn totals_rows_are_recognised() {
        for raw in ["Total", "TOTAL:", "Grand total", "Jumlah", "Sum"] {
            assert!(is_totals_label(raw), "{raw}");
        }
        assert!(is_totals_label("Total 6 SKUs"));
        for raw in [
            "FS-001",
            "SUMMER-01",
            "TOTALCARE-1",
            "TOTAL-CARE-1",
            "Totally Tea 100 g",
        ] {
            assert!(!is_totals_label(raw), "{raw}");
        }
    }
}
