//! The Slack forms (modals) the bot opens, their ids, and the checks made
//! on a submission before its ack: pure, no IO, so a field that does not
//! read is refused under that field within Slack's three seconds.

use serde_json::{json, Map, Value};

use crate::app::{parse_paste, AppError, DraftFields, Front, ImportTarget, InputError};
use crate::domain::{Notes, Title, Window, WindowPart, MAX_ITEMS};

/// Form (modal) ids: `callback_id`s, parsed strictly when submitted.
const DRAFT_FORM: &str = "fs:draft";
const PASTE_FORM: &str = "fs:paste";
const REASON_FORM: &str = "fs:reason";
const IMPORT_FORM: &str = "fs:import";
const TEMPLATE_IMPORT_FORM: &str = "fs:template-import";

/// Which form was submitted, from its `callback_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FormId {
    Draft,
    Import,
    /// A spreadsheet into a named template.
    TemplateImport,
    Paste {
        session: i64,
    },
    Reason {
        session: i64,
        version: i32,
    },
}

impl FormId {
    pub(super) fn parse(raw: &str) -> Option<FormId> {
        use crate::domain::number::positive;
        if raw == DRAFT_FORM {
            return Some(FormId::Draft);
        }
        if raw == IMPORT_FORM {
            return Some(FormId::Import);
        }
        if raw == TEMPLATE_IMPORT_FORM {
            return Some(FormId::TemplateImport);
        }
        if let Some(session) = raw
            .strip_prefix(PASTE_FORM)
            .and_then(|r| r.strip_prefix(':'))
        {
            return Some(FormId::Paste {
                session: positive(session)?,
            });
        }
        let rest = raw.strip_prefix(REASON_FORM)?.strip_prefix(':')?;
        let (session, version) = rest.split_once(':')?;
        Some(FormId::Reason {
            session: positive(session)?,
            version: positive(version)?,
        })
    }
}

/// A form's fields by block id (each block holds one input, its action id the same).
pub(super) fn form_values(view: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(blocks) = view["state"]["values"].as_object() {
        for (block, actions) in blocks {
            let value = actions
                .as_object()
                .and_then(|a| a.values().next())
                .and_then(|input| input["value"].as_str())
                .unwrap_or_default();
            out.insert(block.clone(), Value::String(value.to_owned()));
        }
    }
    out
}

pub(super) trait Values {
    fn text(&self, key: &str) -> String;
}

impl Values for Map<String, Value> {
    fn text(&self, key: &str) -> String {
        self.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
}

/// The field errors of a submitted form, by block id, or `None` when it may
/// go to the use case. Pure (the app's policy and clock only): it runs before
/// the ack. What needs the database (the session's state, roles) is the use
/// case's to refuse, after.
pub(super) fn form_errors(
    callback: &str,
    values: &Map<String, Value>,
    app: &Front,
) -> Option<Value> {
    let mut errors = Map::new();
    match FormId::parse(callback)? {
        FormId::Draft => {
            if let Err(e) = Title::parse(&values.text("title")) {
                errors.insert("title".into(), e.to_string().into());
            }
            let policy = &app.policy;
            let now = app.clock.now();
            let (start, end) = (values.text("start"), values.text("end"));
            if let Err(e) = Window::parse_start(&start, policy.time_zone, now) {
                errors.insert("start".into(), e.to_string().into());
            } else if let Err(e) =
                Window::parse(&start, &end, policy.time_zone, now, &policy.window)
            {
                // The start alone parsed, so an error about no part is the end's text.
                let field = match e.part() {
                    Some(WindowPart::Start) => "start",
                    Some(WindowPart::End) | None => "end",
                };
                errors.insert(field.into(), e.to_string().into());
            }
            let notes = values.text("notes");
            if !notes.trim().is_empty() {
                if let Err(e) = Notes::parse(&notes) {
                    errors.insert("notes".into(), e.to_string().into());
                }
            }
        }
        FormId::Import => {
            if let Err(e) = import_target(values) {
                errors.insert(
                    "session".into(),
                    e.message().render(|_, _| String::new()).into(),
                );
            }
        }
        FormId::TemplateImport => {
            if let Err(e) = crate::domain::TemplateName::parse(&values.text("name")) {
                errors.insert("name".into(), e.to_string().into());
            }
        }
        FormId::Paste { .. } => {
            if let Err(e) = parse_paste(&values.text("lines")) {
                errors.insert("lines".into(), e.to_string().into());
            }
        }
        FormId::Reason { .. } => {
            // The rule reject itself applies, so the form says what the use case would.
            if let Err(e) = crate::domain::rules::require_reason(&values.text("reason")) {
                errors.insert("reason".into(), e.to_string().into());
            }
        }
    }
    (!errors.is_empty()).then_some(Value::Object(errors))
}

/// Where an import goes: the draft in `session`, or a new draft from the
/// optional title and times (the file's cells fill what is left blank).
pub(super) fn import_target(values: &Map<String, Value>) -> Result<ImportTarget, AppError> {
    let session = values.text("session");
    let session = match session.trim().trim_start_matches('#') {
        "" => None,
        id => Some(
            crate::domain::number::positive(id)
                .ok_or_else(|| AppError::from(InputError::NotASession(session.clone())))?,
        ),
    };
    let field = |key: &str| Some(values.text(key)).filter(|v| !v.trim().is_empty());
    let fields = DraftFields {
        title: field("title"),
        start: field("start"),
        end: field("end"),
    };
    Ok(ImportTarget::from_options(session, fields)?)
}

/// The file a `file_input` carried: Slack's name, size and private URL.
pub(super) struct UploadedFile {
    pub name: String,
    pub size: u64,
    pub url: String,
}

pub(super) fn uploaded_file(view: &Value) -> Option<UploadedFile> {
    let file = view["state"]["values"]["file"]["file"]["files"].get(0)?;
    Some(UploadedFile {
        name: file["name"].as_str()?.to_owned(),
        size: file["size"].as_u64().unwrap_or_default(),
        url: file["url_private_download"]
            .as_str()
            .or(file["url_private"].as_str())?
            .to_owned(),
    })
}

fn plain(text: &str) -> Value {
    json!({ "type": "plain_text", "text": text })
}

/// One input block: block and action id `id`.
fn input(id: &str, label: &str, placeholder: &str, multiline: bool, optional: bool) -> Value {
    json!({
        "type": "input",
        "block_id": id,
        "optional": optional,
        "label": plain(label),
        "element": {
            "type": "plain_text_input",
            "action_id": id,
            "multiline": multiline,
            "placeholder": plain(placeholder),
        },
    })
}

/// A modal; `channel` (where the form was asked for) comes back with the
/// submission, so the answer goes there.
fn modal(callback: String, title: &str, submit: &str, channel: &str, blocks: Vec<Value>) -> Value {
    json!({
        "type": "modal",
        "callback_id": callback,
        "title": plain(title),
        "submit": plain(submit),
        "close": plain("Cancel"),
        "private_metadata": channel,
        "blocks": blocks,
    })
}

pub(super) fn draft_form(channel: &str) -> Value {
    modal(
        DRAFT_FORM.to_owned(),
        "New flash sale",
        "Draft",
        channel,
        vec![
            input(
                "title",
                "Title (1-100 characters)",
                "Midnight Deals",
                false,
                false,
            ),
            input("start", "Start", "tomorrow 00:00", false, false),
            input("end", "End", "tomorrow 02:00", false, false),
            input(
                "notes",
                "Notes",
                "Anything approvers should know",
                true,
                true,
            ),
        ],
    )
}

pub(super) fn import_form(channel: &str) -> Value {
    let file = json!({
        "type": "input",
        "block_id": "file",
        "label": plain("Spreadsheet (.xlsx, .xls, .ods or .csv, at most 2 MiB)"),
        "element": {
            "type": "file_input",
            "action_id": "file",
            "filetypes": ["xlsx", "xls", "ods", "csv"],
            "max_files": 1,
        },
    });
    modal(
        IMPORT_FORM.to_owned(),
        "Import a spreadsheet",
        "Import",
        channel,
        vec![
            file,
            input(
                "session",
                "Into draft # (blank: a new draft)",
                "12",
                false,
                true,
            ),
            input(
                "title",
                "New draft's title (blank: the file's)",
                "Midnight Deals",
                false,
                true,
            ),
            input(
                "start",
                "Start (blank: the file's)",
                "tomorrow 00:00",
                false,
                true,
            ),
            input(
                "end",
                "End (blank: the file's)",
                "tomorrow 02:00",
                false,
                true,
            ),
            input("sheet", "Sheet (blank: the first)", "Sheet1", false, true),
        ],
    )
}

/// A spreadsheet (the layout `import` reads) into a new template `name`.
pub(super) fn template_import_form(channel: &str) -> Value {
    let file = json!({
        "type": "input",
        "block_id": "file",
        "label": plain("Spreadsheet (.xlsx, .xls, .ods or .csv, at most 2 MiB): one row per SKU"),
        "element": {
            "type": "file_input",
            "action_id": "file",
            "filetypes": ["xlsx", "xls", "ods", "csv"],
            "max_files": 1,
        },
    });
    modal(
        TEMPLATE_IMPORT_FORM.to_owned(),
        "Import a template",
        "Save",
        channel,
        vec![
            file,
            input("name", "Template name", "midnight", false, false),
            input("sheet", "Sheet (blank: the first)", "Sheet1", false, true),
        ],
    )
}

pub(super) fn paste_form(channel: &str, session: i64) -> Value {
    modal(
        format!("{PASTE_FORM}:{session}"),
        &format!("SKUs for #{session}"),
        "Add",
        channel,
        vec![input(
            "lines",
            &format!("Up to {MAX_ITEMS} lines: SKU, discount, quantity"),
            "FS-001 30% 50",
            true,
            false,
        )],
    )
}

pub(super) fn reason_form(channel: &str, session: i64, version: i32) -> Value {
    modal(
        format!("{REASON_FORM}:{session}:{version}"),
        &format!("Reject #{session}"),
        "Reject",
        channel,
        vec![input(
            "reason",
            "Why? The editors are told.",
            "FS-004 is in another sale",
            true,
            false,
        )],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn form_ids_are_parsed_strictly() {
        assert_eq!(FormId::parse("fs:draft"), Some(FormId::Draft));
        assert_eq!(
            FormId::parse("fs:paste:12"),
            Some(FormId::Paste { session: 12 })
        );
        assert_eq!(
            FormId::parse("fs:reason:12:3"),
            Some(FormId::Reason {
                session: 12,
                version: 3
            })
        );
        for bad in [
            "",
            "fs:paste",
            "fs:paste:0",
            "fs:paste:-1",
            "fs:reason:12",
            "fs:reason:a:1",
            "xx:draft",
        ] {
            assert_eq!(FormId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn forms_stay_within_slack_limits() {
        for form in [
            draft_form("C1"),
            import_form("C1"),
            paste_form("C1", 123456),
            reason_form("C1", 123456, 99),
        ] {
            let title = form["title"]["text"].as_str().unwrap_or_default();
            assert!(title.chars().count() <= 24, "{title}");
            assert!(form["callback_id"].as_str().unwrap_or_default().len() <= 255);
        }
    }

    #[test]
    fn values_are_read_by_block() {
        let view = json!({"state": {"values": {
            "title": {"title": {"type": "plain_text_input", "value": "Lunch"}},
            "notes": {"notes": {"type": "plain_text_input", "value": null}},
        }}});
        let values = form_values(&view);
        assert_eq!(values.text("title"), "Lunch");
        assert_eq!(values.text("notes"), "");
    }
}
