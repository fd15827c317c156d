//! How every part reads a variable: the one place that decides a blank value
//! counts as unset and that a refused value is reported with its variable.
//!
//! The parts only say what they expect; reading lives here once so that the
//! Slack settings and the scheduler's cannot drift into two meanings of
//! "unset" or two wordings of the same mistake.

use super::ConfigError;

/// A view of the variables through a lookup function, so tests need not
/// touch the process environment.
pub(super) struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Env<'a> {
    pub(super) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Env<'a> {
        Env { lookup }
    }

    /// A set, non-blank value.
    pub(super) fn optional(&self, var: &str) -> Option<String> {
        (self.lookup)(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub(super) fn required(
        &self,
        var: &'static str,
        expected: &'static str,
    ) -> Result<String, ConfigError> {
        self.optional(var)
            .ok_or(ConfigError::Missing { var, expected })
    }

    /// Parses the value, or `default` when unset, naming the variable on failure.
    pub(super) fn parse<T>(
        &self,
        var: &'static str,
        default: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T, ConfigError> {
        let value = self.optional(var).unwrap_or_else(|| default.to_owned());
        parse(&value).ok_or_else(|| ConfigError::Invalid {
            var,
            value,
            expected: expected.to_owned(),
        })
    }
}

/// The spellings people use for a switch in an env file.
pub(super) fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Runs a part's reader over `vars` alone; a later pair overrides an earlier
/// one, and a blank value counts as unset, as it does in a real `.env`.
#[cfg(test)]
pub(super) fn read_with<T>(vars: &[(&str, &str)], read: impl FnOnce(&Env<'_>) -> T) -> T {
    let vars: std::collections::HashMap<&str, &str> = vars.iter().copied().collect();
    let lookup = |var: &str| vars.get(var).map(|v| (*v).to_owned());
    read(&Env::new(&lookup))
}
