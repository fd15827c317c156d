//! Block Kit's documented limits, checked on every message and view the bot
//! sends. A body that breaks one is refused as Slack refuses it
//! (`invalid_blocks`, with the reasons in `errors`), so a test fails naming it.

use std::collections::HashSet;

use serde_json::Value;

pub const MESSAGE_BLOCKS: usize = 50;
pub const VIEW_BLOCKS: usize = 100;
pub const TEXT: usize = 3000;
pub const FIELD: usize = 2000;
pub const FIELDS: usize = 10;
pub const HEADER: usize = 150;
pub const ACTION_ID: usize = 255;
pub const BLOCK_ID: usize = 255;
pub const BUTTON_TEXT: usize = 75;
pub const BUTTON_VALUE: usize = 2000;
pub const ACTIONS: usize = 25;
pub const CONTEXT_ELEMENTS: usize = 10;
pub const MODAL_TITLE: usize = 24;
pub const INPUTS: usize = 100;
pub const INPUT_LABEL: usize = 2000;
/// The top-level `text` of a message (Slack answers `msg_too_long` past it).
pub const MESSAGE_TEXT: usize = 40_000;

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

struct Check {
    problems: Vec<String>,
    action_ids: HashSet<String>,
}

impl Check {
    fn ok(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.problems.push(what());
        }
    }

    /// A text object: `plain_text` or `mrkdwn`, 1 to `max` characters.
    fn text(&mut self, where_: &str, text: &Value, max: usize, plain_only: bool) {
        let kind = text["type"].as_str().unwrap_or_default();
        let kinds_ok = if plain_only {
            kind == "plain_text"
        } else {
            kind == "plain_text" || kind == "mrkdwn"
        };
        self.ok(kinds_ok, || {
            format!("{where_}: text type {kind:?} is not allowed here")
        });
        let n = chars(&text["text"]);
        self.ok((1..=max).contains(&n), || {
            format!("{where_}: text has {n} characters (1-{max})")
        });
    }

    fn button(&mut self, where_: &str, button: &Value) {
        self.text(
            &format!("{where_} button"),
            &button["text"],
            BUTTON_TEXT,
            true,
        );
        let id = button["action_id"].as_str().unwrap_or_default().to_owned();
        let n = id.chars().count();
        self.ok(n <= ACTION_ID, || {
            format!("{where_}: action_id has {n} characters (at most {ACTION_ID})")
        });
        if !id.is_empty() {
            let fresh = self.action_ids.insert(id.clone());
            self.ok(fresh, || {
                format!("{where_}: action_id {id:?} is used twice")
            });
        }
        let value = chars(&button["value"]);
        self.ok(value <= BUTTON_VALUE, || {
            format!("{where_}: button value has {value} characters (at most {BUTTON_VALUE})")
        });
        if let Some(style) = button["style"].as_str() {
            self.ok(style == "primary" || style == "danger", || {
                format!("{where_}: button style {style:?}")
            });
        }
    }

    fn block(&mut self, i: usize, block: &Value) -> bool {
        let kind = block["type"].as_str().unwrap_or_default();
        let where_ = format!("blocks[{i}] ({kind})");
        let block_id = chars(&block["block_id"]);
        self.ok(block_id <= BLOCK_ID, || {
            format!("{where_}: block_id has {block_id} characters")
        });
        let mut input = false;
        match kind {
            "section" => {
                let has_text = !block["text"].is_null();
                let fields = block["fields"].as_array().cloned().unwrap_or_default();
                self.ok(has_text || !fields.is_empty(), || {
                    format!("{where_}: needs text or fields")
                });
                if has_text {
                    self.text(&where_, &block["text"], TEXT, false);
                }
                self.ok(fields.len() <= FIELDS, || {
                    format!("{where_}: {} fields (at most {FIELDS})", fields.len())
                });
                for (j, f) in fields.iter().enumerate() {
                    self.text(&format!("{where_} fields[{j}]"), f, FIELD, false);
                }
                if block["accessory"]["type"] == "button" {
                    self.button(&where_, &block["accessory"]);
                }
            }
            "header" => self.text(&where_, &block["text"], HEADER, true),
            "divider" => {}
            "context" => {
                let elements = block["elements"].as_array().cloned().unwrap_or_default();
                self.ok((1..=CONTEXT_ELEMENTS).contains(&elements.len()), || {
                    format!(
                        "{where_}: {} elements (1-{CONTEXT_ELEMENTS})",
                        elements.len()
                    )
                });
                for e in &elements {
                    if e["type"] != "image" {
                        self.text(&where_, e, TEXT, false);
                    }
                }
            }
            "actions" => {
                let elements = block["elements"].as_array().cloned().unwrap_or_default();
                self.ok((1..=ACTIONS).contains(&elements.len()), || {
                    format!("{where_}: {} elements (1-{ACTIONS})", elements.len())
                });
                for e in &elements {
                    if e["type"] == "button" {
                        self.button(&where_, e);
                    }
                }
            }
            "input" => {
                input = true;
                self.text(
                    &format!("{where_} label"),
                    &block["label"],
                    INPUT_LABEL,
                    true,
                );
                let id = chars(&block["element"]["action_id"]);
                self.ok(id <= ACTION_ID, || {
                    format!("{where_}: action_id has {id} characters")
                });
                self.ok(block["element"].is_object(), || {
                    format!("{where_}: no element")
                });
            }
            other => self
                .problems
                .push(format!("blocks[{i}]: unknown block type {other:?}")),
        }
        input
    }

    fn blocks(&mut self, blocks: &Value, max: usize) -> usize {
        let Some(blocks) = blocks.as_array() else {
            if !blocks.is_null() {
                self.problems.push("blocks is not a list".to_owned());
            }
            return 0;
        };
        self.ok(blocks.len() <= max, || {
            format!("{} blocks (at most {max})", blocks.len())
        });
        blocks
            .iter()
            .enumerate()
            .filter(|(i, b)| self.block(*i, b))
            .count()
    }
}

fn check() -> Check {
    Check {
        problems: Vec::new(),
        action_ids: HashSet::new(),
    }
}

/// A message body (`chat.postMessage`, `chat.update`, `chat.postEphemeral`).
pub fn message(body: &Value) -> Vec<String> {
    let mut c = check();
    c.blocks(&body["blocks"], MESSAGE_BLOCKS);
    c.problems
}

/// A view (`views.open`, `views.update`): a modal's title, buttons, blocks and inputs.
pub fn view(view: &Value) -> Vec<String> {
    let mut c = check();
    c.ok(view["type"] == "modal", || {
        format!("view type {} (only modal)", view["type"])
    });
    c.text("title", &view["title"], MODAL_TITLE, true);
    for button in ["submit", "close"] {
        if !view[button].is_null() {
            c.text(button, &view[button], MODAL_TITLE, true);
        }
    }
    let inputs = c.blocks(&view["blocks"], VIEW_BLOCKS);
    c.ok(inputs <= INPUTS, || {
        format!("{inputs} inputs (at most {INPUTS})")
    });
    let metadata = chars(&view["private_metadata"]);
    c.ok(metadata <= 3000, || {
        format!("private_metadata has {metadata} characters (at most 3000)")
    });
    c.problems
}
