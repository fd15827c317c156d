//! The `/flashsale` commands: which options each takes, which are required,
//! and an example for refusals and `help`.

use std::collections::HashMap;

use super::{number, ParseError, Token};
use crate::app::ListRange;

/// The `/flashsale` commands, with the options as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Draft {
        title: String,
        start: String,
        end: String,
        notes: Option<String>,
    },
    AddSku {
        session: i64,
        sku: String,
        discount: String,
        quantity: String,
    },
    /// `add-sku` without a SKU: the next lines are a paste (see `PasteBuffer`).
    PasteSkus {
        session: i64,
    },
    EditSku {
        session: i64,
        sku: String,
        discount: Option<String>,
        quantity: Option<String>,
    },
    RemoveSku {
        session: i64,
        sku: String,
    },
    View {
        session: i64,
    },
    List {
        range: ListRange,
        /// 1-based.
        page: i64,
    },
    Submit {
        session: i64,
    },
    Withdraw {
        session: i64,
    },
    Cancel {
        session: i64,
        reason: Option<String>,
    },
    Stop {
        session: i64,
        reason: String,
    },
    Revoke {
        session: i64,
        reason: Option<String>,
    },
    /// An approver allows what a money guard refused: an SKU at a discount, or (no SKU) the budget.
    Override {
        session: i64,
        sku: Option<String>,
        discount: Option<String>,
        reason: String,
    },
    Log {
        session: i64,
        page: i64,
    },
    Clone {
        session: i64,
        start: String,
        end: Option<String>,
        title: Option<String>,
    },
    /// A spreadsheet file into a new draft, or into `session`.
    Import {
        path: String,
        session: Option<i64>,
        title: Option<String>,
        start: Option<String>,
        end: Option<String>,
        sheet: Option<String>,
    },
    /// The session as .csv and .xlsx files written into `dir` (default: `.local/exports`).
    Export {
        session: i64,
        dir: Option<String>,
    },
    /// `log session: export:true`: the whole log as a CSV file in `dir`.
    LogExport {
        session: i64,
        dir: Option<String>,
    },
    /// The declared slots and what holds each occurrence ahead.
    Slots,
    SlotAdd {
        days: String,
        start: String,
        end: String,
    },
    SlotRemove {
        slot: i64,
    },
    SlotSkip {
        slot: i64,
        /// The day the occurrence starts, `YYYY-MM-DD`.
        date: String,
        reason: String,
    },
    /// Drafts the sessions of a week's (or N days') empty slots.
    Plan {
        week: Option<String>,
        days: Option<String>,
        template: Option<String>,
        from: Option<String>,
    },
    Templates,
    TemplateSave {
        name: String,
        session: i64,
    },
    TemplateDelete {
        name: String,
    },
    /// The template as a CSV file written into `dir` (console) or uploaded.
    TemplateExport {
        name: String,
        dir: Option<String>,
    },
    /// A spreadsheet file into a new template: only the platform can read the file.
    TemplateImport {
        path: String,
        name: String,
        sheet: Option<String>,
    },
    Help,
}

impl Command {
    /// The command as Discord names it (`flashsale add-sku`), so the console's
    /// metrics line up with Discord's.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Draft { .. } => "flashsale draft",
            Command::AddSku { .. } | Command::PasteSkus { .. } => "flashsale add-sku",
            Command::EditSku { .. } => "flashsale edit-sku",
            Command::RemoveSku { .. } => "flashsale remove-sku",
            Command::View { .. } => "flashsale view",
            Command::List { .. } => "flashsale list",
            Command::Submit { .. } => "flashsale submit",
            Command::Withdraw { .. } => "flashsale withdraw",
            Command::Cancel { .. } => "flashsale cancel",
            Command::Stop { .. } => "flashsale stop",
            Command::Revoke { .. } => "flashsale revoke",
            Command::Override { .. } => "flashsale override",
            Command::Log { .. } | Command::LogExport { .. } => "flashsale log",
            Command::Clone { .. } => "flashsale clone",
            Command::Import { .. } => "flashsale import",
            Command::Export { .. } => "flashsale export",
            Command::Slots => "flashsale slots",
            Command::SlotAdd { .. } => "flashsale slot add",
            Command::SlotRemove { .. } => "flashsale slot remove",
            Command::SlotSkip { .. } => "flashsale slot skip",
            Command::Plan { .. } => "flashsale plan",
            Command::Templates => "flashsale templates",
            Command::TemplateSave { .. } => "flashsale template save",
            Command::TemplateDelete { .. } => "flashsale template delete",
            Command::TemplateExport { .. } => "flashsale template export",
            Command::TemplateImport { .. } => "flashsale template import",
            Command::Help => "flashsale help",
        }
    }
}

/// The `/flashsale` commands: name, options (required ones first), an example.
pub(super) struct Spec {
    name: &'static str,
    required: &'static [&'static str],
    optional: &'static [&'static str],
    example: &'static str,
}

#[rustfmt::skip] // One line per command reads as the table it is.
const SPECS: &[Spec] = &[
    Spec { name: "draft", required: &["title", "start", "end"], optional: &["notes"],
        example: r#"/flashsale draft title:"Midnight Deals" start:"tomorrow 00:00" end:"tomorrow 12:00""# },
    Spec { name: "add-sku", required: &["session"], optional: &["sku", "discount", "quantity"],
        example: "/flashsale add-sku session:3 sku:FS-001 discount:30 quantity:50" },
    Spec { name: "edit-sku", required: &["session", "sku"], optional: &["discount", "quantity"],
        example: "/flashsale edit-sku session:3 sku:FS-001 discount:25" },
    Spec { name: "remove-sku", required: &["session", "sku"], optional: &[],
        example: "/flashsale remove-sku session:3 sku:FS-001" },
    Spec { name: "view", required: &["session"], optional: &[], example: "/flashsale view session:3" },
    Spec { name: "list", required: &[], optional: &["range", "page"], example: "/flashsale list range:week page:2" },
    Spec { name: "submit", required: &["session"], optional: &[], example: "/flashsale submit session:3" },
    Spec { name: "withdraw", required: &["session"], optional: &[], example: "/flashsale withdraw session:3" },
    Spec { name: "cancel", required: &["session"], optional: &["reason"],
        example: r#"/flashsale cancel session:3 reason:"moved to Friday""# },
    Spec { name: "revoke", required: &["session"], optional: &["reason"],
        example: r#"/flashsale revoke session:3 reason:"price error""# },
    Spec { name: "override", required: &["session", "reason"], optional: &["sku", "discount"],
        example: r#"/flashsale override session:3 sku:FS-003 discount:70 reason:"clearance, cost written off""# },
    Spec { name: "stop", required: &["session", "reason"], optional: &[],
        example: r#"/flashsale stop session:3 reason:"wrong price on FS-002""# },
    Spec { name: "log", required: &["session"], optional: &["page", "export", "dir"], example: "/flashsale log session:3 page:2" },
    Spec { name: "clone", required: &["session", "start"], optional: &["end", "title"],
        example: r#"/flashsale clone session:3 start:"2026-12-04 00:00""# },
    Spec { name: "import", required: &["path"], optional: &["session", "title", "start", "end", "sheet"],
        example: r#"/flashsale import path:"Flash sale 27 Nov.xlsx" start:"tomorrow 00:00" end:"tomorrow 12:00""# },
    Spec { name: "export", required: &["session"], optional: &["dir"], example: "/flashsale export session:3 dir:exports" },
    Spec { name: "slots", required: &[], optional: &[], example: "/flashsale slots" },
    Spec { name: "slot add", required: &["start", "end"], optional: &["days"],
        example: "/flashsale slot add days:daily start:00:00 end:02:00" },
    Spec { name: "slot remove", required: &["slot"], optional: &[], example: "/flashsale slot remove slot:2" },
    Spec { name: "slot skip", required: &["slot", "date", "reason"], optional: &[],
        example: r#"/flashsale slot skip slot:1 date:2026-12-24 reason:"Christmas Eve, no sale""# },
    Spec { name: "plan", required: &[], optional: &["week", "days", "template", "from"],
        example: "/flashsale plan week:next template:midnight" },
    Spec { name: "templates", required: &[], optional: &[], example: "/flashsale templates" },
    Spec { name: "template save", required: &["name", "session"], optional: &[],
        example: "/flashsale template save name:midnight session:12" },
    Spec { name: "template delete", required: &["name"], optional: &[], example: "/flashsale template delete name:midnight" },
    Spec { name: "template export", required: &["name"], optional: &["dir"], example: "/flashsale template export name:midnight" },
    Spec { name: "template import", required: &["path", "name"], optional: &["sheet"],
        example: "/flashsale template import path:midnight.xlsx name:midnight" },
    Spec { name: "help", required: &[], optional: &[], example: "/flashsale help" },
];

pub(super) const SUBCOMMANDS: &str =
    "draft, add-sku, edit-sku, remove-sku, view, list, submit, withdraw, cancel, revoke, override, stop, log, clone, import, export, slots, slot add|remove|skip, plan, templates, template save|delete|export|import, help";

/// The commands written as two words (`slot add`, `template save`).
pub(super) const GROUPS: &[&str] = &["slot", "template"];
pub(super) fn find_spec(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name)
}

pub(super) fn subcommand(name: &str, tokens: &[Token]) -> Result<Command, ParseError> {
    let spec = find_spec(name)
        .ok_or_else(|| ParseError::UnknownSubcommand(name.chars().take(40).collect()))?;
    let mut o = Options::collect(spec, tokens)?;
    let command = match spec.name {
        "draft" => Command::Draft {
            title: o.required("title")?,
            start: o.required("start")?,
            end: o.required("end")?,
            notes: o.take("notes"),
        },
        "add-sku" => {
            let session = o.session()?;
            let (sku, discount, quantity) = (o.take("sku"), o.take("discount"), o.take("quantity"));
            match (sku, discount, quantity) {
                (None, None, None) => Command::PasteSkus { session },
                (None, _, _) => return Err(ParseError::PartialItem(spec.example)),
                (Some(sku), discount, quantity) => Command::AddSku {
                    session,
                    sku,
                    discount: discount.ok_or_else(|| o.missing("discount"))?,
                    quantity: quantity.ok_or_else(|| o.missing("quantity"))?,
                },
            }
        }
        "edit-sku" => Command::EditSku {
            session: o.session()?,
            sku: o.required("sku")?,
            discount: o.take("discount"),
            quantity: o.take("quantity"),
        },
        "remove-sku" => Command::RemoveSku {
            session: o.session()?,
            sku: o.required("sku")?,
        },
        "view" => Command::View {
            session: o.session()?,
        },
        "list" => Command::List {
            range: list_range(o.take("range"))?,
            page: match o.take("page") {
                Some(page) => number("page", &page, "page number")?,
                None => 1,
            },
        },
        "submit" => Command::Submit {
            session: o.session()?,
        },
        "withdraw" => Command::Withdraw {
            session: o.session()?,
        },
        "cancel" => Command::Cancel {
            session: o.session()?,
            reason: o.take("reason"),
        },
        "revoke" => Command::Revoke {
            session: o.session()?,
            reason: o.take("reason"),
        },
        "override" => Command::Override {
            session: o.session()?,
            sku: o.take("sku"),
            discount: o.take("discount"),
            reason: o.required("reason")?,
        },
        "stop" => Command::Stop {
            session: o.session()?,
            reason: o.required("reason")?,
        },
        "log" if o.flag("export")? => Command::LogExport {
            session: o.session()?,
            dir: o.take("dir"),
        },
        "log" => Command::Log {
            session: o.session()?,
            page: match o.take("page") {
                Some(page) => number("page", &page, "page number")?,
                None => 1,
            },
        },
        "import" => Command::Import {
            path: o.required("path")?,
            session: match o.take("session") {
                Some(raw) => Some(number("session", &raw, "session number")?),
                None => None,
            },
            title: o.take("title"),
            start: o.take("start"),
            end: o.take("end"),
            sheet: o.take("sheet"),
        },
        "export" => Command::Export {
            session: o.session()?,
            dir: o.take("dir"),
        },
        "clone" => Command::Clone {
            session: o.session()?,
            start: o.required("start")?,
            end: o.take("end"),
            title: o.take("title"),
        },
        "slots" => Command::Slots,
        "slot add" => Command::SlotAdd {
            days: o.take("days").unwrap_or_else(|| "daily".to_owned()),
            start: o.required("start")?,
            end: o.required("end")?,
        },
        "slot remove" => Command::SlotRemove { slot: o.slot()? },
        "slot skip" => Command::SlotSkip {
            slot: o.slot()?,
            date: o.required("date")?,
            reason: o.required("reason")?,
        },
        "plan" => Command::Plan {
            week: o.take("week"),
            days: o.take("days"),
            template: o.take("template"),
            from: o.take("from"),
        },
        "templates" => Command::Templates,
        "template save" => Command::TemplateSave {
            name: o.required("name")?,
            session: o.session()?,
        },
        "template delete" => Command::TemplateDelete {
            name: o.required("name")?,
        },
        "template export" => Command::TemplateExport {
            name: o.required("name")?,
            dir: o.take("dir"),
        },
        "template import" => Command::TemplateImport {
            path: o.required("path")?,
            name: o.required("name")?,
            sheet: o.take("sheet"),
        },
        _ => Command::Help,
    };
    Ok(command)
}

/// A command's options by name, checked against its spec.
struct Options {
    spec: &'static Spec,
    values: HashMap<String, String>,
}

impl Options {
    fn collect(spec: &'static Spec, tokens: &[Token]) -> Result<Options, ParseError> {
        let mut values = HashMap::new();
        for token in tokens {
            let Some(key) = &token.key else {
                return Err(ParseError::UnexpectedValue {
                    value: token.value.chars().take(40).collect(),
                    example: spec.example,
                });
            };
            let known = spec.required.iter().chain(spec.optional).any(|o| o == key);
            if !known {
                let all: Vec<&str> = spec.required.iter().chain(spec.optional).copied().collect();
                return Err(ParseError::UnknownOption {
                    command: spec.name,
                    option: key.chars().take(40).collect(),
                    accepted: if all.is_empty() {
                        "no options".to_owned()
                    } else {
                        all.join(", ")
                    },
                });
            }
            if values.insert(key.clone(), token.value.clone()).is_some() {
                return Err(ParseError::DuplicateOption {
                    option: key.clone(),
                });
            }
        }
        Ok(Options { spec, values })
    }

    fn take(&mut self, name: &str) -> Option<String> {
        self.values.remove(name)
    }

    fn missing(&self, name: &'static str) -> ParseError {
        ParseError::MissingOption {
            command: self.spec.name,
            option: name,
            example: self.spec.example,
        }
    }

    fn required(&mut self, name: &'static str) -> Result<String, ParseError> {
        self.take(name).ok_or_else(|| self.missing(name))
    }

    /// `export:true` (or yes, 1) is on; absent, false, no or 0 is off.
    fn flag(&mut self, name: &'static str) -> Result<bool, ParseError> {
        match self
            .values
            .get(name)
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("false" | "no" | "0") => Ok(false),
            Some("true" | "yes" | "1") => Ok(true),
            Some(_) => Err(ParseError::NotAFlag {
                option: name,
                value: self
                    .values
                    .get(name)
                    .map(|v| v.chars().take(40).collect())
                    .unwrap_or_default(),
            }),
        }
    }

    fn slot(&mut self) -> Result<i64, ParseError> {
        let raw = self.required("slot")?;
        number("slot", &raw, "slot number")
    }

    fn session(&mut self) -> Result<i64, ParseError> {
        let raw = self.required("session")?;
        number("session", &raw, "session number")
    }
}

fn list_range(raw: Option<String>) -> Result<ListRange, ParseError> {
    match raw
        .as_deref()
        .map(|r| r.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("upcoming") => Ok(ListRange::Upcoming),
        Some("today") => Ok(ListRange::Today),
        Some("week") => Ok(ListRange::Week),
        Some(_) => Err(ParseError::BadRange(
            raw.unwrap_or_default().chars().take(40).collect(),
        )),
    }
}

/// The example for each `/flashsale` command, for `help`.
pub fn examples() -> impl Iterator<Item = &'static str> {
    SPECS.iter().map(|s| s.example)
}
