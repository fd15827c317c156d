//! What a use case can answer instead of a result.
//!
//! One enum for all use cases: most refusals (a rule, a status, bad input)
//! can come from several of them, and the chat adapters render them the same
//! way. Every variant but `Unexpected` is written for the person who typed
//! the command; `Unexpected` is logged with its cause chain and shown only as
//! a short apology with a reference to find that log line.

use crate::catalog::CatalogError;
use crate::chat::Text;
use crate::domain::{
    DiscountError, QuantityError, RuleViolation, SkuError, TitleError, TransitionRefused,
    WindowError,
};
use crate::store::StoreError;

use super::input::InputError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// `message()` adds the command that lists the sessions, in the adapter's syntax.
    #[error("Session #{0} does not exist.")]
    SessionNotFound(i64),
    #[error("Page {page} does not exist: the log of #{session_id} has {pages} {}, from 1.", if *.pages == 1 { "page" } else { "pages" })]
    PageNotFound {
        session_id: i64,
        page: i64,
        pages: i64,
    },
    /// A second approver pressed Approve: say who was first, and when (business time zone).
    #[error("#{session_id} was already approved by {by} ({at}): nothing to do.")]
    AlreadyApproved {
        session_id: i64,
        by: String,
        at: String,
    },
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Paste(super::input::PasteError),
    #[error(transparent)]
    Button(crate::chat::buttons::ButtonIdError),
    /// A spreadsheet that cannot be imported; every bad row is listed.
    #[error(transparent)]
    Import(super::ImportError),
    #[error(transparent)]
    Transition(#[from] TransitionRefused),
    /// Slots, plans and templates (`app::week`).
    #[error(transparent)]
    Week(#[from] super::WeekError),
    #[error(transparent)]
    Rule(#[from] RuleViolation),
    /// Several items failed a check at once; each line says which and why.
    #[error("{}", items_message(.0))]
    InvalidItems(Vec<RuleViolation>),
    /// A file the person named could not be read or written (the console reads imports and writes
    /// exports on this machine): theirs to fix, so it counts as refused, not as done.
    #[error("Could not {action} \"{path}\": {reason}.")]
    File {
        action: &'static str,
        path: String,
        reason: String,
    },
    #[error("The product catalog is unavailable right now ({0}), so nothing was changed. Try again in a minute.")]
    CatalogUnavailable(#[source] CatalogError),
    #[error(
        "Sorry, something went wrong on our side and nothing was changed. Reference: {reference}."
    )]
    Unexpected {
        reference: String,
        #[source]
        source: anyhow::Error,
    },
}

fn items_message(problems: &[RuleViolation]) -> String {
    let mut message = String::from("Some items are not valid any more, so nothing was changed:");
    for problem in problems {
        message.push_str("\n- ");
        message.push_str(&problem.to_string());
    }
    message
}

impl AppError {
    /// What a person is told: the error's own words, plus the command worth
    /// typing next where there is one. Commands stay typed (`Text::command`),
    /// so each adapter writes them in its platform's syntax.
    pub fn message(&self) -> Text {
        let said = Text::from(self.to_string());
        match self {
            AppError::SessionNotFound(_) => said
                .plain(" Use ")
                .command("list", &[])
                .plain(" to see the sessions."),
            _ => said,
        }
    }

    /// Logs an internal failure with its whole cause chain and a fresh reference
    /// id that the apology shows, so a report from chat leads to the log line.
    pub fn unexpected(source: impl Into<anyhow::Error>) -> AppError {
        let source = source.into();
        let reference = crate::reference::new();
        tracing::error!(%reference, error = format!("{source:#}"), "unexpected error in a use case");
        AppError::Unexpected { reference, source }
    }

    /// True when the person can act on the message (as opposed to an internal failure).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, AppError::Unexpected { .. })
    }

    /// The `outcome` label of `flashsale_commands_total` for a command that
    /// ended in this error, the same on every chat platform.
    pub fn outcome_label(&self) -> &'static str {
        if self.is_user_error() {
            "refused"
        } else {
            "error"
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::Violation(v) => AppError::Rule(v),
            other => AppError::unexpected(other),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> AppError {
        AppError::unexpected(e)
    }
}

impl From<CatalogError> for AppError {
    fn from(e: CatalogError) -> AppError {
        tracing::warn!(error = %e, "catalog unavailable");
        AppError::CatalogUnavailable(e)
    }
}

macro_rules! input_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for AppError {
            fn from(e: $t) -> AppError {
                AppError::Input(e.into())
            }
        }
    )*};
}
input_error_from!(
    SkuError,
    DiscountError,
    QuantityError,
    WindowError,
    TitleError
);

impl From<super::ImportError> for AppError {
    fn from(e: super::ImportError) -> AppError {
        AppError::Import(e)
    }
}
