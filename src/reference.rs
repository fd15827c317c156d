//! References: the short id that leads from what a person was shown in chat
//! to the log line with what they were not shown.
//!
//! Two kinds of text stay out of chat: an internal failure's cause
//! (`AppError::unexpected`), and a transport's own words, which name
//! internal URLs and hosts (a catalog or storefront that could not be
//! reached, or answered something unreadable). Both are logged once, with a
//! fresh reference, and people see only the reference.

use std::error::Error;
use std::fmt;

/// A fresh reference: eight hex digits, e.g. `1a2b3c4d`.
pub fn new() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}

/// An error and its causes on one line, for a detail to log (an HTTP
/// library's own message hides the interesting part in its causes). A cause
/// whose words are already on the line is left out: some libraries put their
/// cause's text in their own message and return it as the source too, and
/// the line would say it twice (serenity's HTTP error, sqlx's I/O error).
pub fn chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !said.is_empty() && !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

/// A detail people must not see (a URL, a host, an HTTP library's words):
/// logged when it is made, with a fresh reference, and displayed only as
/// `reference 1a2b3c4d`. The detail stays readable in code (`detail`, and
/// `Debug` for tests), never in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withheld {
    reference: String,
    detail: String,
}

impl Withheld {
    /// Logs `detail` as a warning that says `what` happened, under a new reference.
    pub fn new(what: &str, detail: impl Into<String>) -> Withheld {
        let (reference, detail) = (new(), detail.into());
        tracing::warn!(%reference, detail, "{what}");
        Withheld { reference, detail }
    }

    pub fn reference(&self) -> &str {
        &self.reference
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for Withheld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reference {}", self.reference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error that says its cause's words and returns it as the source too.
    #[derive(Debug, thiserror::Error)]
    #[error("sending failed: {0}")]
    struct Echoing(#[source] std::io::Error);

    #[test]
    fn a_cause_already_said_is_not_said_again() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(chain(&Echoing(io)), "sending failed: refused");
        let outer =
            anyhow::Error::new(Echoing(std::io::Error::other("reset"))).context("Discord failed");
        let outer: &(dyn Error + 'static) = outer.as_ref();
        assert_eq!(chain(outer), "Discord failed: sending failed: reset");
    }

    #[test]
    fn a_withheld_detail_shows_only_its_reference() {
        let withheld = Withheld::new(
            "catalog unreachable",
            "error sending request for url (http://10.0.0.7:8080/api/products)",
        );
        let shown = withheld.to_string();
        assert_eq!(shown, format!("reference {}", withheld.reference()));
        assert_eq!(withheld.reference().len(), 8);
        assert!(!shown.contains("10.0.0.7"));
        assert!(withheld.detail().contains("10.0.0.7"));
    }

    #[test]
    fn references_differ() {
        assert_ne!(new(), new());
    }
}
