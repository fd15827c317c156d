//! The forms (Discord modals): a new draft, pasted SKU lines, a reject reason.
//!
//! Forms are stateless: the command or button only opens one, and its submit
//! arrives later as its own interaction, routed by the form id. Nothing waits
//! for a form, so an abandoned form costs nothing and a restart loses nothing.
//! Form ids are built and parsed here, strictly: a submitted id is input.

use crate::domain::number::positive;
use std::collections::HashMap;
use std::fmt;

use chrono_tz::Tz;
use poise::serenity_prelude as serenity;
use serenity::{ActionRowComponent, CreateActionRow, CreateInputText, CreateModal, InputTextStyle};

use super::render::{limits, truncate};

const PREFIX: &str = "fs:form";

/// Input ids inside the forms.
pub const TITLE: &str = "title";
pub const START: &str = "start";
pub const END: &str = "end";
pub const NOTES: &str = "notes";
pub const LINES: &str = "lines";
pub const REASON: &str = "reason";

/// Which form was submitted, and for what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormId {
    Draft,
    Paste { session_id: i64 },
    Reject { session_id: i64, version: i32 },
}

impl fmt::Display for FormId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormId::Draft => write!(f, "{PREFIX}:draft"),
            FormId::Paste { session_id } => write!(f, "{PREFIX}:paste:{session_id}"),
            FormId::Reject {
                session_id,
                version,
            } => write!(f, "{PREFIX}:reason:{session_id}:{version}"),
        }
    }
}

impl FormId {
    pub fn parse(raw: &str) -> Option<FormId> {
        let rest = raw.strip_prefix(PREFIX)?.strip_prefix(':')?;
        let parts: Vec<&str> = rest.split(':').collect();
        match parts.as_slice() {
            ["draft"] => Some(FormId::Draft),
            ["paste", id] => Some(FormId::Paste {
                session_id: positive(id)?,
            }),
            ["reason", id, version] => Some(FormId::Reject {
                session_id: positive(id)?,
                version: positive(version)?,
            }),
            _ => None,
        }
    }
}

fn input(style: InputTextStyle, label: &str, id: &str) -> CreateInputText {
    CreateInputText::new(style, truncate(label, limits::INPUT_LABEL), id)
}

fn placeholder(input: CreateInputText, text: &str) -> CreateInputText {
    input.placeholder(truncate(text, limits::INPUT_PLACEHOLDER))
}

fn modal(id: FormId, title: &str, inputs: Vec<CreateInputText>) -> CreateModal {
    CreateModal::new(id.to_string(), truncate(title, limits::MODAL_TITLE))
        .components(inputs.into_iter().map(CreateActionRow::InputText).collect())
}

/// Title, start, end and notes; times are typed in the business zone.
pub fn draft(zone: Tz) -> CreateModal {
    let zone = zone.name();
    modal(
        FormId::Draft,
        "New flash sale",
        vec![
            input(InputTextStyle::Short, "Title", TITLE)
                .max_length(100)
                .placeholder("Midnight Deals"),
            placeholder(
                input(InputTextStyle::Short, &format!("Start ({zone})"), START).max_length(40),
                "tomorrow 00:00 · today 18:30 · 2026-11-27 09:00",
            ),
            placeholder(
                input(InputTextStyle::Short, &format!("End ({zone})"), END).max_length(40),
                "tomorrow 12:00 · 2026-11-27 21:00",
            ),
            input(InputTextStyle::Paragraph, "Notes (optional)", NOTES)
                .required(false)
                .max_length(1000),
        ],
    )
}

/// Up to six lines `SKU discount quantity`, as copied from a spreadsheet.
pub fn paste(session_id: i64) -> CreateModal {
    modal(
        FormId::Paste { session_id },
        &format!("Add SKUs to #{session_id}"),
        vec![placeholder(
            input(
                InputTextStyle::Paragraph,
                "One line per SKU: SKU discount quantity",
                LINES,
            )
            .max_length(2000),
            "FS-001 30% 50\nFS-002, 25, 10\nFS-003\t40\t5",
        )],
    )
}

/// The reason is required: the editors need to know what to change.
pub fn reject(session_id: i64, version: i32) -> CreateModal {
    modal(
        FormId::Reject {
            session_id,
            version,
        },
        &format!("Reject #{session_id}"),
        vec![placeholder(
            input(
                InputTextStyle::Paragraph,
                "Reason (the editors will see it)",
                REASON,
            )
            .max_length(1000),
            "e.g. FS-004 is in another sale that week; pick another bag.",
        )],
    )
}

/// What was typed into each input of a submitted form, trimmed; blank inputs are left out.
pub fn values(data: &serenity::ModalInteractionData) -> HashMap<String, String> {
    data.components
        .iter()
        .flat_map(|row| row.components.iter())
        .filter_map(|c| match c {
            ActionRowComponent::InputText(text) => {
                let value = text.value.as_deref().unwrap_or_default().trim();
                (!value.is_empty()).then(|| (text.custom_id.clone(), value.to_owned()))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_ids_round_trip() {
        for id in [
            FormId::Draft,
            FormId::Paste { session_id: 12 },
            FormId::Reject {
                session_id: 12,
                version: 7,
            },
        ] {
            assert_eq!(FormId::parse(&id.to_string()), Some(id));
        }
        let longest = FormId::Reject {
            session_id: i64::MAX,
            version: i32::MAX,
        };
        assert!(longest.to_string().len() <= limits::CUSTOM_ID);
    }

    #[test]
    fn malformed_form_ids_are_refused() {
        for raw in [
            "",
            "fs:form",
            "fs:form:",
            "fs:form:draft:1",
            "fs:form:paste",
            "fs:form:paste:0",
            "fs:form:paste:-1",
            "fs:form:paste:1x",
            "fs:form:reason:1",
            "fs:form:reason:1:0",
            "fs:approve:1:2",
            "xx:form:draft",
        ] {
            assert_eq!(FormId::parse(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn labels_and_titles_fit_with_the_longest_zone_name() {
        let form = draft(chrono_tz::America::Argentina::ComodRivadavia);
        let json = serde_json::to_value(&form).unwrap();
        assert!(json["title"].as_str().unwrap().chars().count() <= limits::MODAL_TITLE);
        for row in json["components"].as_array().unwrap() {
            let input = &row["components"][0];
            assert!(input["label"].as_str().unwrap().chars().count() <= limits::INPUT_LABEL);
        }
        let json = serde_json::to_value(paste(i64::MAX)).unwrap();
        assert!(json["title"].as_str().unwrap().chars().count() <= limits::MODAL_TITLE);
    }
}
