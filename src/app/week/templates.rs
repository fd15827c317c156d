//! Templates: a named, saved set of up to six lines (SKU, discount,
//! quantity) that `plan` fills its drafts from. Saved from a session or
//! from a spreadsheet (the layout `import` and `export` use), exported as a
//! CSV in that same layout, so an export imports back as the same template.
//!
//! A template holds no catalog facts: every line is checked again, live,
//! when a plan uses it, exactly as if it were typed into the draft.

use std::collections::HashSet;

use super::WeekError;
use crate::app::import::{base_name, read_off_thread};
use crate::app::{AppError, Desk, ItemInput, Queries};
use crate::chat::Text;
use crate::domain::{Actor, TemplateName, MAX_ITEMS};
use crate::store::week::{self, TemplateLine, TemplateRecord};

/// A template as people see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateView {
    pub name: String,
    /// `#12` or the file it was imported from.
    pub source: String,
    pub created_by_name: String,
    /// `FS-001 30% 50`, in order.
    pub lines: Vec<String>,
}

impl From<TemplateRecord> for TemplateView {
    fn from(t: TemplateRecord) -> TemplateView {
        TemplateView {
            name: t.name,
            source: t.source,
            created_by_name: t.created_by_name,
            lines: t
                .lines
                .iter()
                .map(|l| format!("{} {}% {}", l.sku, l.discount.get(), l.quantity.get()))
                .collect(),
        }
    }
}

impl TemplateView {
    /// One line: `midnight · 6 lines from #12 by alice: FS-001 30% 50, ...`.
    pub fn summary(&self) -> String {
        let n = self.lines.len();
        let noun = if n == 1 { "line" } else { "lines" };
        format!(
            "{} · {n} {noun} from {} by {}: {}",
            self.name,
            self.source,
            self.created_by_name,
            self.lines.join(", ")
        )
    }
}

/// The answer to `templates`.
pub fn templates_text(templates: &[TemplateView]) -> Text {
    if templates.is_empty() {
        return Text::from("No templates yet. Save a session's lines with ")
            .command(
                "template save",
                &[
                    ("name", "midnight".to_owned()),
                    ("session", "12".to_owned()),
                ],
            )
            .plain(".");
    }
    let mut text = Text::from(format!("Templates ({}):", templates.len()));
    for t in templates {
        text = text.line(Text::from(format!("  {}", t.summary())));
    }
    text
}

/// A template as a file: its name and the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFile {
    pub file_name: String,
    pub csv: Vec<u8>,
}

impl Desk {
    /// Saves the lines of session `session_id` as template `name` (editors).
    #[tracing::instrument(skip_all, fields(actor = %actor.id, session = session_id))]
    pub async fn save_template(
        &self,
        actor: &Actor,
        name: &str,
        session_id: i64,
    ) -> Result<TemplateView, AppError> {
        if !actor.roles.editor {
            return Err(WeekError::NotEditor.into());
        }
        let name = TemplateName::parse(name).map_err(WeekError::from)?;
        let session = self.core.view(session_id).await?;
        if session.items.is_empty() {
            return Err(WeekError::EmptySession(session_id).into());
        }
        let lines: Vec<TemplateLine> = session
            .items
            .iter()
            .map(|i| TemplateLine {
                sku: i.sku.clone(),
                discount: i.discount,
                quantity: i.quantity,
            })
            .collect();
        self.write_template(actor, &name, &format!("#{session_id}"), &lines)
            .await
    }

    /// Reads a spreadsheet (the layout `import` reads) into template `name`
    /// (editors). Every row is parsed as a typed line would be; any bad row
    /// refuses the whole file, naming each one.
    #[tracing::instrument(skip_all, fields(actor = %actor.id, file = %file_name))]
    pub async fn import_template(
        &self,
        actor: &Actor,
        name: &str,
        file_name: &str,
        bytes: &[u8],
        sheet: Option<&str>,
    ) -> Result<TemplateView, AppError> {
        if !actor.roles.editor {
            return Err(WeekError::NotEditor.into());
        }
        let name = TemplateName::parse(name).map_err(WeekError::from)?;
        let file_name = base_name(file_name);
        let table = read_off_thread(&file_name, bytes, sheet).await?;
        let mut problems = Vec::new();
        if table.rows.len() > MAX_ITEMS {
            problems.push(format!(
                "The file has {} SKU rows: a template holds at most {MAX_ITEMS}.",
                table.rows.len()
            ));
        }
        let mut lines = Vec::new();
        let mut seen = HashSet::new();
        for row in &table.rows {
            let input = ItemInput {
                sku: row.sku.clone(),
                discount: row.discount.clone(),
                quantity: row.quantity.clone(),
            };
            match input.parse(&self.core.policy) {
                Ok(item) if !seen.insert(item.sku.clone()) => problems.push(format!(
                    "Row {}: {} appears twice: each SKU can appear once in a template.",
                    row.row, item.sku
                )),
                Ok(item) => lines.push(TemplateLine {
                    sku: item.sku,
                    discount: item.discount,
                    quantity: item.quantity,
                }),
                Err(e) => problems.push(format!("Row {}: {e}", row.row)),
            }
        }
        if !problems.is_empty() {
            return Err(WeekError::TemplateFile {
                file: file_name,
                problems,
            }
            .into());
        }
        self.write_template(actor, &name, &file_name, &lines).await
    }

    async fn write_template(
        &self,
        actor: &Actor,
        name: &TemplateName,
        source: &str,
        lines: &[TemplateLine],
    ) -> Result<TemplateView, AppError> {
        let mut tx = self.core.pool.begin().await?;
        if week::insert_template(&mut tx, name, source, lines, actor)
            .await?
            .is_none()
        {
            return Err(WeekError::TemplateExists(name.to_string()).into());
        }
        let saved = week::template(&mut tx, name).await?.ok_or_else(|| {
            AppError::unexpected(anyhow::anyhow!("template {name} vanished while saved"))
        })?;
        tx.commit().await?;
        tracing::info!(template = %name, source, lines = lines.len(), "template saved");
        Ok(saved.into())
    }

    /// Deletes template `name` (editors). Sessions planned from it keep their lines.
    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    pub async fn delete_template(&self, actor: &Actor, name: &str) -> Result<Text, AppError> {
        if !actor.roles.editor {
            return Err(WeekError::NotEditor.into());
        }
        let name = TemplateName::parse(name).map_err(WeekError::from)?;
        let mut conn = self.core.pool.acquire().await?;
        if !week::delete_template(&mut conn, &name).await? {
            return Err(WeekError::TemplateNotFound(name.to_string()).into());
        }
        tracing::info!(template = %name, "template deleted");
        Ok(Text::from(format!(
            "Deleted template {name}. Sessions planned from it keep their lines."
        )))
    }
}

impl Queries {
    /// Every template, by name.
    pub async fn templates(&self) -> Result<Vec<TemplateView>, AppError> {
        let mut conn = self.core.pool.acquire().await?;
        Ok(week::templates(&mut conn)
            .await?
            .into_iter()
            .map(TemplateView::from)
            .collect())
    }

    /// Template `name` as a CSV in the layout `import` reads (`SKU`,
    /// `Discount %`, `Flash Qty`), named `template-<name>.csv`.
    pub async fn export_template(&self, name: &str) -> Result<TemplateFile, AppError> {
        let name = TemplateName::parse(name).map_err(WeekError::from)?;
        let template = {
            let mut conn = self.core.pool.acquire().await?;
            week::template(&mut conn, &name)
                .await?
                .ok_or_else(|| WeekError::TemplateNotFound(name.to_string()))?
        };
        let mut out = csv::Writer::from_writer(Vec::new());
        let write = |out: &mut csv::Writer<Vec<u8>>, record: [String; 3]| {
            out.write_record(record).map_err(AppError::unexpected)
        };
        write(
            &mut out,
            ["SKU".into(), "Discount %".into(), "Flash Qty".into()],
        )?;
        for line in &template.lines {
            write(
                &mut out,
                [
                    line.sku.to_string(),
                    line.discount.get().to_string(),
                    line.quantity.get().to_string(),
                ],
            )?;
        }
        let csv = out
            .into_inner()
            .map_err(|e| AppError::unexpected(anyhow::anyhow!("template CSV: {}", e.error())))?;
        Ok(TemplateFile {
            file_name: format!("template-{name}.csv"),
            csv,
        })
    }
}

/// Template `name`'s lines for a plan, or why not.
pub(super) async fn lines_of(
    conn: &mut sqlx::PgConnection,
    name: &TemplateName,
) -> Result<Vec<TemplateLine>, AppError> {
    Ok(week::template(conn, name)
        .await?
        .ok_or_else(|| WeekError::TemplateNotFound(name.to_string()))?
        .lines)
}
