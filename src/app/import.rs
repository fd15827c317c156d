//! Importing a spreadsheet: a new draft with its six SKUs, or more SKUs for
//! an existing draft, all or nothing.
//!
//! `crate::import` reads the file into rows of text; here every row is parsed
//! with the same domain types as typed input and checked against the catalog
//! (one live call for all SKUs), the stock, the other rows and the draft's
//! items. Any problem refuses the whole file, listing every bad row by the row
//! number the person sees in their spreadsheet (`paste.rs` is the opposite:
//! line by line). A good file is written in one transaction that locks the
//! session (or creates it), inserts the items and appends one `imported`
//! activity entry naming the file.

use serde_json::json;

mod problems;
mod rows;

pub use problems::{BadRow, ImportError, RowProblem, SessionProblem};

use rows::GoodRow;

use super::intake::{self, check_draft, DraftProblem, DraftText, NewDraft, When};
use super::{lock_session, view, AppError, Desk, SessionView};
use crate::chat::Text;
use crate::domain::rules;
use crate::domain::status::{self, transition};
use crate::domain::{text, Action, ActivityKind, Actor, Notes, Sku, MAX_ITEMS};
use crate::import::{self, ImportSheet};
use crate::store::{activity, items, sessions};

/// Where the rows go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportTarget {
    /// A new draft; what is `None` comes from the file.
    NewDraft(DraftFields),
    /// An existing draft, by id.
    Existing(i64),
}

/// A new draft's fields as given with the command; they win over the file's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftFields {
    /// Default: the file's Title cell or column, else the file's name.
    pub title: Option<String>,
    /// Business-zone time as `create_draft` takes it; default: the file's Start.
    pub start: Option<String>,
    /// Default: the file's End.
    pub end: Option<String>,
}

impl ImportTarget {
    /// From a command's options: with a session, that draft is filled;
    /// otherwise a new draft is made. Both at once is refused.
    pub fn from_options(
        session: Option<i64>,
        fields: DraftFields,
    ) -> Result<ImportTarget, ImportError> {
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
        match session {
            Some(_) if !(blank(&fields.title) && blank(&fields.start) && blank(&fields.end)) => {
                Err(ImportError::SessionAndDraftFields)
            }
            Some(id) => Ok(ImportTarget::Existing(id)),
            None => Ok(ImportTarget::NewDraft(fields)),
        }
    }
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// The session as it is now, with the imported items.
    pub session: SessionView,
    /// True when the import made a new draft.
    pub created: bool,
    /// The file's own name (no folder), as the reply and the log show it.
    pub file_name: String,
    /// The sheet read; `None` for a CSV file.
    pub sheet: Option<String>,
    /// Spreadsheet row number and SKU of each row added, in file order.
    pub rows: Vec<(u32, Sku)>,
}

impl ImportReport {
    /// One line for the chat reply, the same in every adapter.
    pub fn headline(&self) -> Text {
        let n = self.rows.len();
        let skus = if n == 1 { "SKU" } else { "SKUs" };
        let sheet = self
            .sheet
            .as_deref()
            .map_or_else(String::new, |s| format!(" (sheet \"{s}\")"));
        if self.created {
            Text::from(format!(
                "Imported {n} {skus} from \"{}\"{sheet} into new draft #{}. Check it, then ",
                self.file_name, self.session.id
            ))
            .command("submit", &[("session", self.session.id.to_string())])
            .plain(".")
        } else {
            Text::from(format!(
                "Imported {n} {skus} from \"{}\"{sheet} into #{}: it has {} of {MAX_ITEMS}.",
                self.file_name,
                self.session.id,
                self.session.items.len()
            ))
        }
    }
}

impl Desk {
    /// Whether `actor` may import into `target`: adapters ask before they
    /// fetch the file, so a member who may not import costs no download.
    /// Gives the existing draft, if that is the target.
    pub async fn check_import_allowed(
        &self,
        actor: &Actor,
        target: &ImportTarget,
    ) -> Result<Option<SessionView>, AppError> {
        match target {
            ImportTarget::NewDraft(_) => {
                status::start_draft(actor.roles)?;
                Ok(None)
            }
            ImportTarget::Existing(id) => {
                let view = self.core.view(*id).await?;
                transition(view.status, Action::EditItems, actor.roles)?;
                Ok(Some(view))
            }
        }
    }

    /// Reads `bytes` (a file named `file_name`; `sheet` or the first) and
    /// imports its rows into `target`, all or nothing.
    #[tracing::instrument(skip_all, fields(actor = %actor.id, file = %file_name))]
    pub async fn import(
        &self,
        actor: &Actor,
        file_name: &str,
        bytes: &[u8],
        sheet: Option<&str>,
        target: ImportTarget,
    ) -> Result<ImportReport, AppError> {
        // Who may do this is answered before the file is even read.
        let existing = self.check_import_allowed(actor, &target).await?;
        let file_name = base_name(file_name);
        let table = read_off_thread(&file_name, bytes, sheet).await?;

        let mut session_problems = Vec::new();
        let draft = match &target {
            ImportTarget::NewDraft(fields) => {
                if table.rows.len() != MAX_ITEMS {
                    session_problems.push(SessionProblem::WrongCount {
                        count: table.rows.len(),
                        required: MAX_ITEMS,
                    });
                }
                self.new_draft(fields, &table, &file_name, &mut session_problems)
            }
            ImportTarget::Existing(_) => None,
        };
        if let Some(view) = &existing {
            if view.items.len() + table.rows.len() > MAX_ITEMS {
                session_problems.push(SessionProblem::TooMany {
                    session: view.id,
                    existing: view.items.len(),
                    adding: table.rows.len(),
                    max: MAX_ITEMS,
                });
            }
        }
        let in_draft = existing.as_ref().map(SessionView::skus).unwrap_or_default();
        let session_id = existing.as_ref().map(|v| v.id);
        let (good, bad) = self.check_rows(&table, &in_draft, session_id).await?;
        if !session_problems.is_empty() || !bad.is_empty() {
            return Err(ImportError::Invalid {
                file_name,
                session: session_problems,
                rows: bad,
            }
            .into());
        }
        let report = self
            .write_import(actor, &target, draft, &file_name, &table, good)
            .await?;
        tracing::info!(
            session = report.session.id,
            rows = report.rows.len(),
            "file imported"
        );
        Ok(report)
    }

    /// Title, window and notes for a new draft: the command's, else the
    /// file's, checked as a typed draft is (`intake::check_draft`).
    fn new_draft(
        &self,
        fields: &DraftFields,
        table: &ImportSheet,
        file_name: &str,
        problems: &mut Vec<SessionProblem>,
    ) -> Option<NewDraft> {
        let given = |option: &Option<String>, in_file: &Option<import::SheetValue>| {
            option
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .or_else(|| in_file.as_ref().map(|v| v.text.clone()))
        };
        let stem = file_name
            .rsplit_once('.')
            .map_or(file_name, |(stem, _)| stem);
        let title = given(&fields.title, &table.title).unwrap_or_else(|| stem.to_owned());
        let start = given(&fields.start, &table.start);
        let end = given(&fields.end, &table.end);
        let checked = check_draft(
            &self.core.policy,
            self.core.clock.now(),
            DraftText {
                title: &title,
                when: When::Typed {
                    start: start.as_deref(),
                    end: end.as_deref(),
                },
                notes: table.notes.as_ref().map(|n| n.text.as_str()),
            },
        );
        let mut draft = match checked {
            Ok(draft) => draft,
            Err(found) => {
                problems.extend(found.into_iter().map(session_problem));
                return None;
            }
        };
        if table.notes.is_none() {
            // Where the draft came from. A file name is the uploader's to
            // choose: quoted short and clean, and left out if the text rule
            // refuses it.
            let from = format!("Imported from {}", text::excerpt(file_name, 100));
            draft.notes = Notes::parse(&from).ok().flatten();
        }
        Some(draft)
    }

    /// One transaction: the draft (made or locked), its items, one log entry.
    async fn write_import(
        &self,
        actor: &Actor,
        target: &ImportTarget,
        draft: Option<NewDraft>,
        file_name: &str,
        table: &ImportSheet,
        rows: Vec<GoodRow>,
    ) -> Result<ImportReport, AppError> {
        let mut tx = self.core.pool.begin().await?;
        let (session_id, created) = match (target, &draft) {
            (ImportTarget::NewDraft(_), Some(draft)) => {
                let session = self.insert_draft(&mut tx, actor, draft).await?;
                (session.id, true)
            }
            (ImportTarget::Existing(id), _) => {
                let session = lock_session(&mut tx, *id).await?;
                transition(session.status, Action::EditItems, actor.roles)?;
                // The draft may have changed since it was read: the rules again, under the lock.
                let mut present: Vec<Sku> = items::list(&mut tx, *id)
                    .await?
                    .into_iter()
                    .map(|i| i.sku)
                    .collect();
                for row in &rows {
                    rules::check_can_add(&present, &row.item.sku)?;
                    present.push(row.item.sku.clone());
                }
                (session.id, false)
            }
            // `import` parses a new draft's fields before it gets here.
            (ImportTarget::NewDraft(_), None) => {
                return Err(AppError::unexpected(anyhow::anyhow!(
                    "import reached the write without a parsed draft"
                )))
            }
        };
        let checked: Vec<_> = rows.iter().map(|row| &row.item).collect();
        let added = intake::write_items(&mut tx, session_id, &checked, actor).await?;
        if !created {
            sessions::bump_version(&mut tx, session_id).await?;
        }
        let details: Vec<_> = rows
            .iter()
            .zip(&added)
            .map(|(row, record)| {
                let mut details = row.item.details(record.slot);
                details["row"] = json!(row.row);
                details
            })
            .collect();
        activity::append(
            &mut tx,
            session_id,
            actor,
            ActivityKind::Imported.as_str(),
            json!({
                "file_name": file_name,
                "sheet": table.sheet,
                "created": created,
                "title": draft.as_ref().map(|d| d.title.as_str()),
                "starts_at": draft.as_ref().map(|d| d.window.starts_at()),
                "ends_at": draft.as_ref().map(|d| d.window.ends_at()),
                "items": details,
            }),
        )
        .await?;
        let session = view::load(&mut tx, session_id, &self.core.policy).await?;
        tx.commit().await?;
        Ok(ImportReport {
            session,
            created,
            file_name: file_name.to_owned(),
            sheet: table.sheet.clone(),
            rows: rows
                .into_iter()
                .map(|row| (row.row, row.item.sku))
                .collect(),
        })
    }
}

/// A new draft's problem as the refusal of the file lists it.
fn session_problem(problem: DraftProblem) -> SessionProblem {
    match problem {
        DraftProblem::Input(e) => SessionProblem::Input(e),
        DraftProblem::Rule(e) => SessionProblem::Rule(e),
        DraftProblem::MissingTime { field } => SessionProblem::MissingTime { field },
    }
}

/// Parses the file on a blocking thread: a workbook is CPU work that must not
/// stall the chat, and a third-party parser that panics on a hostile file
/// then fails this import, not the bot.
pub(super) async fn read_off_thread(
    file_name: &str,
    bytes: &[u8],
    sheet: Option<&str>,
) -> Result<ImportSheet, AppError> {
    let (name, owned, sheet) = (
        file_name.to_owned(),
        bytes.to_vec(),
        sheet.map(str::to_owned),
    );
    let read = tokio::task::spawn_blocking(move || import::read(&name, &owned, sheet.as_deref()));
    match read.await {
        Ok(table) => Ok(table.map_err(ImportError::from)?),
        Err(join) if join.is_panic() => {
            tracing::error!(file = %file_name, "the spreadsheet parser panicked on a file");
            Err(ImportError::from(import::FileError::Unreadable {
                name: file_name.to_owned(),
                format: "a spreadsheet",
            })
            .into())
        }
        Err(join) => Err(AppError::unexpected(join)),
    }
}

/// The file's own name, without any folder a console path or a browser gave it.
pub(super) fn base_name(file_name: &str) -> String {
    let name = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file_name)
        .trim();
    let name = if name.is_empty() { "file" } else { name };
    name.chars().take(100).collect()
}
