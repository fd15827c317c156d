//! Input a person gave that could not be parsed: the errors of the edge.
//!
//! A leaf: `AppError` wraps these, and the modules that parse input (typed
//! options, pasted lines, spreadsheet rows) name them without naming
//! `AppError` back, so no error type sits in an import cycle.

use crate::domain::{DiscountError, NotesError, QuantityError, SkuError, TitleError, WindowError};

/// Input a person typed that could not be parsed into a domain value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Sku(#[from] SkuError),
    #[error(transparent)]
    Discount(#[from] DiscountError),
    #[error(transparent)]
    Quantity(#[from] QuantityError),
    #[error(transparent)]
    Window(#[from] WindowError),
    #[error(transparent)]
    Title(#[from] TitleError),
    #[error(transparent)]
    Notes(#[from] NotesError),
    #[error("Nothing to change: give a new discount, a new quantity, or both.")]
    NothingToChange,
    #[error(
        "\"{0}\" is not a session number: give a whole number above 0, e.g. 12, or leave it blank."
    )]
    NotASession(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasteError {
    #[error(
        "Nothing to add: paste one line per SKU, like `ABC-123 30% 50` (SKU, discount, quantity)."
    )]
    Empty,
    #[error(
        "{count} lines were pasted: a session holds at most {max} SKUs. Paste at most {max} lines."
    )]
    TooManyLines { count: usize, max: usize },
    #[error("Line {line_no} (\"{raw}\") has {found} values: expected 3, SKU, discount and quantity, e.g. `ABC-123 30% 50`.")]
    WrongColumnCount {
        line_no: usize,
        raw: String,
        found: usize,
    },
}
