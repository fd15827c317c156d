//! Why an import is refused: the file as a whole, or each bad row with its
//! spreadsheet row number. Every problem is collected before answering, so
//! one upload tells the person everything to fix.

use crate::app::input::InputError;
use crate::domain::rules::RuleViolation;
use crate::import::FileError;

/// Why one row cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowProblem {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Rule(#[from] RuleViolation),
    #[error("{sku} is also on row {first_row}: each SKU can appear once in a session.")]
    Repeated { sku: String, first_row: u32 },
}

/// A row and everything wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// 1-based, as the spreadsheet shows it, so the person finds the row.
    pub row: u32,
    /// All of them, so one upload tells everything to fix in the row.
    pub problems: Vec<RowProblem>,
}

/// A problem of the file as a whole (the number of rows, the session's fields).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionProblem {
    #[error("The file has {count} SKU rows: a new draft needs exactly {required}.")]
    WrongCount { count: usize, required: usize },
    #[error("Session #{session} has {existing} SKUs and the file adds {adding}: a session holds at most {max}.")]
    TooMany {
        session: i64,
        existing: usize,
        adding: usize,
        max: usize,
    },
    #[error("No {field} time: give {field}: with the command, or a cell labelled {field} above the table, e.g. 2026-11-27 00:00.")]
    MissingTime { field: &'static str },
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Rule(#[from] RuleViolation),
}

/// Why nothing was imported; shown to the person as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be read as a flash-sale sheet at all.
    #[error(transparent)]
    File(#[from] FileError),
    #[error("Give either session (to fill that draft) or title, start and end (for a new draft), not both.")]
    SessionAndDraftFields,
    /// Every problem found; nothing was written.
    #[error("{}", refusal(.file_name, .session, .rows))]
    Invalid {
        file_name: String,
        /// Problems of the file as a whole, listed first.
        session: Vec<SessionProblem>,
        /// Bad rows in file order.
        rows: Vec<BadRow>,
    },
}

/// Rows listed in one refusal; a chat message has room for about this many.
const LISTED_ROWS: usize = 12;

fn refusal(file_name: &str, session: &[SessionProblem], rows: &[BadRow]) -> String {
    let mut message =
        format!("Nothing was imported from \"{file_name}\": fix these and upload it again.");
    for problem in session {
        message.push_str(&format!("\n- {problem}"));
    }
    for bad in rows.iter().take(LISTED_ROWS) {
        let reasons: Vec<String> = bad.problems.iter().map(ToString::to_string).collect();
        message.push_str(&format!("\n- Row {}: {}", bad.row, reasons.join(" ")));
    }
    if rows.len() > LISTED_ROWS {
        message.push_str(&format!(
            "\n- … and {} more rows.",
            rows.len() - LISTED_ROWS
        ));
    }
    message
}
