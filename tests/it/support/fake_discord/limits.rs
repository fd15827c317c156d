//! Discord's documented limits, checked on every body the bot sends. A body
//! that breaks one is refused with 400 "Invalid Form Body" as Discord would,
//! and the fake keeps the reason so the story fails naming it.

use serde_json::Value;

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

fn check(problems: &mut Vec<String>, ok: bool, what: impl FnOnce() -> String) {
    if !ok {
        problems.push(what());
    }
}

/// A message (channel post, edit, interaction reply or follow-up).
/// `new` is true for a message that must not be empty.
pub fn message(body: &Value, new: bool) -> Vec<String> {
    let mut p = Vec::new();
    let content = chars(&body["content"]);
    check(&mut p, content <= 2000, || {
        format!("content has {content} characters (at most 2000)")
    });
    let embeds = body["embeds"].as_array().cloned().unwrap_or_default();
    check(&mut p, embeds.len() <= 10, || {
        format!("{} embeds (at most 10)", embeds.len())
    });
    let mut total = 0;
    for embed in &embeds {
        let title = chars(&embed["title"]);
        let description = chars(&embed["description"]);
        let footer = chars(&embed["footer"]["text"]);
        let author = chars(&embed["author"]["name"]);
        check(&mut p, title <= 256, || {
            format!("embed title has {title} characters (at most 256)")
        });
        check(&mut p, description <= 4096, || {
            format!("embed description has {description} characters (at most 4096)")
        });
        check(&mut p, footer <= 2048, || {
            format!("embed footer has {footer} characters (at most 2048)")
        });
        check(&mut p, author <= 256, || {
            format!("embed author has {author} characters (at most 256)")
        });
        total += title + description + footer + author;
        let fields = embed["fields"].as_array().cloned().unwrap_or_default();
        check(&mut p, fields.len() <= 25, || {
            format!("embed has {} fields (at most 25)", fields.len())
        });
        for field in &fields {
            let (name, value) = (chars(&field["name"]), chars(&field["value"]));
            check(&mut p, (1..=256).contains(&name), || {
                format!("embed field name has {name} characters (1-256)")
            });
            check(&mut p, (1..=1024).contains(&value), || {
                format!("embed field value has {value} characters (1-1024)")
            });
            total += name + value;
        }
    }
    check(&mut p, total <= 6000, || {
        format!("embeds have {total} characters in all (at most 6000)")
    });
    let rows = body["components"].as_array().cloned().unwrap_or_default();
    check(&mut p, rows.len() <= 5, || {
        format!("{} action rows (at most 5)", rows.len())
    });
    for row in &rows {
        check(&mut p, row["type"] == 1, || {
            format!("a top-level component is not an action row: {row}")
        });
        let items = row["components"].as_array().cloned().unwrap_or_default();
        check(&mut p, (1..=5).contains(&items.len()), || {
            format!("an action row has {} components (1-5)", items.len())
        });
        for item in &items {
            if item["type"] != 2 {
                continue;
            }
            let label = chars(&item["label"]);
            check(&mut p, label <= 80, || {
                format!("button label has {label} characters (at most 80)")
            });
            if item["style"] == 5 {
                check(&mut p, item["url"].is_string(), || {
                    "a link button without url".to_owned()
                });
            } else {
                let id = chars(&item["custom_id"]);
                check(&mut p, (1..=100).contains(&id), || {
                    format!("button custom_id has {id} characters (1-100)")
                });
            }
        }
    }
    let mentions = &body["allowed_mentions"];
    if mentions.is_object() {
        let parse: Vec<&str> = mentions["parse"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for (kind, list) in [("roles", &mentions["roles"]), ("users", &mentions["users"])] {
            let listed = list.as_array().is_some_and(|l| !l.is_empty());
            check(&mut p, !(parse.contains(&kind) && listed), || {
                format!("allowed_mentions parses {kind} and lists {kind} too (mutually exclusive)")
            });
            let n = list.as_array().map_or(0, Vec::len);
            check(&mut p, n <= 100, || {
                format!("allowed_mentions lists {n} {kind} (at most 100)")
            });
        }
    }
    if let Some(nonce) = body["nonce"].as_str() {
        check(&mut p, nonce.chars().count() <= 25, || {
            format!("nonce {nonce:?} is longer than 25")
        });
    }
    if new {
        let empty = content == 0
            && embeds.is_empty()
            && rows.is_empty()
            && body["sticker_ids"].as_array().is_none_or(Vec::is_empty);
        check(&mut p, !empty, || {
            "an empty message (Discord: Cannot send an empty message)".to_owned()
        });
    }
    p
}

/// A modal (interaction callback type 9).
pub fn modal(data: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let title = chars(&data["title"]);
    check(&mut p, (1..=45).contains(&title), || {
        format!("modal title has {title} characters (1-45)")
    });
    let id = chars(&data["custom_id"]);
    check(&mut p, (1..=100).contains(&id), || {
        format!("modal custom_id has {id} characters (1-100)")
    });
    let rows = data["components"].as_array().cloned().unwrap_or_default();
    check(&mut p, (1..=5).contains(&rows.len()), || {
        format!("modal has {} rows (1-5)", rows.len())
    });
    for row in &rows {
        let inputs = row["components"].as_array().cloned().unwrap_or_default();
        check(&mut p, inputs.len() == 1, || {
            format!("a modal row holds {} inputs (exactly 1)", inputs.len())
        });
        for input in &inputs {
            check(&mut p, input["type"] == 4, || {
                format!("a modal input is not a text input: {input}")
            });
            let label = chars(&input["label"]);
            check(&mut p, (1..=45).contains(&label), || {
                format!("input label has {label} characters (1-45)")
            });
            let id = chars(&input["custom_id"]);
            check(&mut p, (1..=100).contains(&id), || {
                format!("input custom_id has {id} characters (1-100)")
            });
            let placeholder = chars(&input["placeholder"]);
            check(&mut p, placeholder <= 100, || {
                format!("input placeholder has {placeholder} characters (at most 100)")
            });
            let style = input["style"].as_u64().unwrap_or(0);
            check(&mut p, style == 1 || style == 2, || {
                format!("input style {style} (1 or 2)")
            });
            for key in ["min_length", "max_length"] {
                if let Some(n) = input[key].as_u64() {
                    check(&mut p, n <= 4000, || {
                        format!("input {key} {n} (at most 4000)")
                    });
                }
            }
        }
    }
    p
}

/// Autocomplete choices (interaction callback type 8).
pub fn choices(data: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let choices = data["choices"].as_array().cloned().unwrap_or_default();
    check(&mut p, choices.len() <= 25, || {
        format!("{} autocomplete choices (at most 25)", choices.len())
    });
    for choice in &choices {
        let name = chars(&choice["name"]);
        check(&mut p, (1..=100).contains(&name), || {
            format!("choice name has {name} characters (1-100)")
        });
        if choice["value"].is_string() {
            let value = chars(&choice["value"]);
            check(&mut p, value <= 100, || {
                format!("choice value has {value} characters (at most 100)")
            });
        }
    }
    p
}

/// Application commands (`PUT .../commands`).
pub fn commands(body: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let Some(list) = body.as_array() else {
        return vec!["the commands are not a list".to_owned()];
    };
    check(&mut p, list.len() <= 100, || {
        format!("{} commands (at most 100)", list.len())
    });
    for command in list {
        command_like(&mut p, command, "command");
    }
    p
}

fn command_like(p: &mut Vec<String>, item: &Value, what: &str) {
    let name = item["name"].as_str().unwrap_or_default();
    let name_ok = (1..=32).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c == '-' || c == '_' || c.is_alphanumeric() && !c.is_uppercase());
    check(p, name_ok, || {
        format!("{what} name {name:?} (1-32 lowercase letters, digits, - or _)")
    });
    let description = chars(&item["description"]);
    check(p, (1..=100).contains(&description), || {
        format!("{what} {name} description has {description} characters (1-100)")
    });
    let options = item["options"].as_array().cloned().unwrap_or_default();
    check(p, options.len() <= 25, || {
        format!("{what} {name} has {} options (at most 25)", options.len())
    });
    let mut optional_seen = false;
    for option in &options {
        let required = option["required"].as_bool().unwrap_or(false);
        check(p, !(required && optional_seen), || {
            format!(
                "{what} {name}: required option {} after an optional one",
                option["name"]
            )
        });
        optional_seen |= !required && option["type"].as_u64().unwrap_or(0) > 2;
        let choices = option["choices"].as_array().map_or(0, Vec::len);
        check(p, choices <= 25, || {
            format!(
                "option {} has {choices} choices (at most 25)",
                option["name"]
            )
        });
        command_like(p, option, "option");
    }
}
