//! A template's name: what `plan` and `template` commands call a saved set of
//! lines. The lines themselves are the item types (`Sku`, `DiscountPercent`,
//! `Quantity`), checked again against the catalog whenever a template is used.

use std::fmt;

/// 1-40 letters, digits, `-` or `_`; compared without case, so `Midnight`
/// and `midnight` are one template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TemplateName(String);

pub const MAX_TEMPLATE_NAME: usize = 40;

impl TemplateName {
    pub fn parse(input: &str) -> Result<TemplateName, TemplateNameError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(TemplateNameError::Empty);
        }
        if name.chars().count() > MAX_TEMPLATE_NAME {
            return Err(TemplateNameError::TooLong {
                length: name.chars().count(),
            });
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(TemplateNameError::BadCharacter {
                name: name.chars().take(MAX_TEMPLATE_NAME).collect(),
                character: bad,
            });
        }
        Ok(TemplateName(name.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TemplateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateNameError {
    #[error(
        "A template needs a name: 1-{MAX_TEMPLATE_NAME} letters, digits, - or _, e.g. midnight."
    )]
    Empty,
    #[error("The template name is {length} characters long: allowed at most {MAX_TEMPLATE_NAME}.")]
    TooLong { length: usize },
    #[error("\"{name}\" has a {character:?} in it: a template name is letters, digits, - or _, e.g. midnight-week.")]
    BadCharacter { name: String, character: char },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed_and_compared_without_case() {
        assert_eq!(
            TemplateName::parse(" Midnight-Week ").unwrap().as_str(),
            "midnight-week"
        );
    }

    #[test]
    fn a_name_refuses_blanks_spaces_and_length() {
        assert_eq!(TemplateName::parse("  "), Err(TemplateNameError::Empty));
        assert!(matches!(
            TemplateName::parse("lunch deals"),
            Err(TemplateNameError::BadCharacter { character: ' ', .. })
        ));
        assert_eq!(
            TemplateName::parse(&"a".repeat(41)),
            Err(TemplateNameError::TooLong { length: 41 })
        );
    }
}
