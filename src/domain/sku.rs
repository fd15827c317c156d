//! Stock-keeping unit codes as marketers type them into chat.
//!
//! A SKU is the key we send to the catalog and the storefront, so it is made canonical
//! (trimmed, upper-cased) once, here, and checked against the shop's configured format
//! before any HTTP call is spent on it.

use std::fmt;

use regex::Regex;

/// The format our catalog uses unless configuration says otherwise.
const DEFAULT_PATTERN: &str = "[A-Z0-9][A-Z0-9._-]*";
const DEFAULT_MAX_LEN: usize = 40;

/// What a valid SKU looks like in this shop (from configuration).
#[derive(Debug, Clone)]
pub struct SkuRules {
    /// The pattern as configured, shown back to users in error messages.
    pattern: String,
    /// The same pattern anchored to the whole SKU, so a partial match cannot slip through.
    anchored: Regex,
    /// Longest SKU the catalog accepts, counted in characters.
    max_len: usize,
}

impl SkuRules {
    /// Compiles `pattern`, which is matched against the whole upper-cased SKU.
    pub fn new(pattern: &str, max_len: usize) -> Result<SkuRules, regex::Error> {
        // Compiling the bare pattern first rejects unbalanced groups such as `A)|(B`,
        // which would otherwise escape the anchors we wrap around it.
        Regex::new(pattern)?;
        let anchored = Regex::new(&format!("^(?:{pattern})$"))?;
        Ok(SkuRules {
            pattern: pattern.to_owned(),
            anchored,
            max_len,
        })
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    pub fn max_len(&self) -> usize {
        self.max_len
    }
}

/// Equal when configured alike; the compiled regex follows from the pattern.
impl PartialEq for SkuRules {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern && self.max_len == other.max_len
    }
}

impl Eq for SkuRules {}

impl Default for SkuRules {
    fn default() -> Self {
        match SkuRules::new(DEFAULT_PATTERN, DEFAULT_MAX_LEN) {
            Ok(rules) => rules,
            // DEFAULT_PATTERN is a constant; the test `default_rules_compile` guards it.
            Err(err) => unreachable!("the default SKU pattern is a valid regex: {err}"),
        }
    }
}

/// A canonical SKU: trimmed, upper-case, one word, in the shop's format.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sku(String);

impl Sku {
    pub fn parse(raw: &str, rules: &SkuRules) -> Result<Sku, SkuError> {
        let sku = raw.trim().to_uppercase();
        if sku.is_empty() {
            return Err(SkuError::Empty);
        }
        let len = sku.chars().count();
        if len > rules.max_len {
            return Err(SkuError::TooLong {
                sku,
                len,
                max: rules.max_len,
            });
        }
        if sku.chars().any(char::is_whitespace) {
            return Err(SkuError::ContainsSpace { sku });
        }
        if !rules.anchored.is_match(&sku) {
            return Err(SkuError::BadFormat {
                sku,
                pattern: rules.pattern.clone(),
            });
        }
        Ok(Sku(sku))
    }

    /// Only for SKUs read back from our own store or the catalog, which are already
    /// canonical: it trims and upper-cases but skips the format check, so a change of
    /// the configured pattern cannot make existing sessions unreadable.
    pub(crate) fn from_canonical(s: impl Into<String>) -> Sku {
        Sku(s.into().trim().to_uppercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Sku {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkuError {
    #[error("SKU is empty: give a SKU such as ABC-123.")]
    Empty,
    #[error("SKU \"{}\" is {len} characters long: allowed at most {max}.", quoted(.sku))]
    TooLong { sku: String, len: usize, max: usize },
    #[error("SKU \"{}\" contains a space: a SKU is one word, e.g. ABC-123.", quoted(.sku))]
    ContainsSpace { sku: String },
    #[error("SKU \"{}\" is not in our SKU format: it must match {pattern}.", quoted(.sku))]
    BadFormat { sku: String, pattern: String },
}

/// The start of a refused SKU, clean and short: a pasted paragraph is not echoed whole.
fn quoted(sku: &str) -> String {
    super::text::excerpt(sku, 24)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_compile() {
        let rules = SkuRules::default();
        assert_eq!(rules.pattern(), DEFAULT_PATTERN);
        assert_eq!(rules.max_len(), 40);
        assert_eq!(rules, SkuRules::new(DEFAULT_PATTERN, 40).unwrap());
        assert_ne!(rules, SkuRules::new(DEFAULT_PATTERN, 39).unwrap());
    }

    #[test]
    fn valid_skus_are_trimmed_and_upper_cased() {
        let rules = SkuRules::default();
        for (raw, expected) in [
            ("ABC-123", "ABC-123"),
            ("  abc-123 ", "ABC-123"),
            ("x1", "X1"),
            ("9", "9"),
            ("a.b_c-d", "A.B_C-D"),
        ] {
            let sku = Sku::parse(raw, &rules).unwrap();
            assert_eq!(sku.as_str(), expected, "input {raw:?}");
            assert_eq!(sku.to_string(), expected);
        }
    }

    #[test]
    fn invalid_skus_are_refused_with_the_reason() {
        let rules = SkuRules::default();
        let long = "A".repeat(41);
        let cases: Vec<(&str, SkuError)> = vec![
            ("", SkuError::Empty),
            ("   ", SkuError::Empty),
            ("ab c", SkuError::ContainsSpace { sku: "AB C".into() }),
            (
                "AB\tC",
                SkuError::ContainsSpace {
                    sku: "AB\tC".into(),
                },
            ),
            (
                &long,
                SkuError::TooLong {
                    sku: long.clone(),
                    len: 41,
                    max: 40,
                },
            ),
            (
                "-ABC",
                SkuError::BadFormat {
                    sku: "-ABC".into(),
                    pattern: DEFAULT_PATTERN.into(),
                },
            ),
            (
                "AB/C",
                SkuError::BadFormat {
                    sku: "AB/C".into(),
                    pattern: DEFAULT_PATTERN.into(),
                },
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(Sku::parse(raw, &rules), Err(expected), "input {raw:?}");
        }
    }

    #[test]
    fn a_sku_of_exactly_max_len_characters_is_accepted() {
        let rules = SkuRules::new("[A-Z]+", 3).unwrap();
        assert!(Sku::parse("abc", &rules).is_ok());
        assert!(matches!(
            Sku::parse("abcd", &rules),
            Err(SkuError::TooLong { len: 4, max: 3, .. })
        ));
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        let rules = SkuRules::new(".+", 3).unwrap();
        assert_eq!(Sku::parse("ÄÖÜ", &rules).unwrap().as_str(), "ÄÖÜ");
    }

    #[test]
    fn the_pattern_must_match_the_whole_sku() {
        let rules = SkuRules::new("[A-Z]{3}", 40).unwrap();
        assert!(Sku::parse("abc", &rules).is_ok());
        assert!(matches!(
            Sku::parse("ABCD", &rules),
            Err(SkuError::BadFormat { .. })
        ));
        assert!(matches!(
            Sku::parse("1ABC", &rules),
            Err(SkuError::BadFormat { .. })
        ));
    }

    #[test]
    fn a_pattern_with_unbalanced_groups_is_refused() {
        assert!(SkuRules::new("A)|(B", 40).is_err());
        assert!(SkuRules::new("[", 40).is_err());
    }

    #[test]
    fn from_canonical_skips_the_pattern_but_still_canonicalises() {
        assert_eq!(Sku::from_canonical(" old/sku ").as_str(), "OLD/SKU");
    }

    #[test]
    fn messages_say_what_is_wrong_and_what_is_allowed() {
        assert_eq!(
            SkuError::Empty.to_string(),
            "SKU is empty: give a SKU such as ABC-123."
        );
        assert_eq!(
            SkuError::ContainsSpace { sku: "AB C".into() }.to_string(),
            "SKU \"AB C\" contains a space: a SKU is one word, e.g. ABC-123."
        );
        assert_eq!(
            SkuError::TooLong {
                sku: "ABCD".into(),
                len: 4,
                max: 3
            }
            .to_string(),
            "SKU \"ABCD\" is 4 characters long: allowed at most 3."
        );
        assert_eq!(
            SkuError::BadFormat {
                sku: "A/B".into(),
                pattern: "[A-Z]+".into()
            }
            .to_string(),
            "SKU \"A/B\" is not in our SKU format: it must match [A-Z]+."
        );
    }
}
