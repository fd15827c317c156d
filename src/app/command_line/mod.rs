//! The `/flashsale` command line, for the platforms whose people type commands
//! as text (the console, Slack): the parser, and the one place that turns a
//! parsed command into a use case call.
//!
//! Adapters parse a line (`parser`), build the `Actor`, call `run`, and render
//! the `Answer` their own way; what a platform does differently (opening a
//! form, reading or writing a file) comes back as `Answer::ForPlatform`.
//! Discord's typed options call the use cases directly, with the same
//! headlines (`app::headlines`).

pub mod parser;

use super::week::{templates_text, PlanInput};
use super::{
    headlines, ActivityPage, AppError, BatchReport, DraftInput, Front, ItemChange, ItemInput,
    ListView, OverrideInput, SessionView,
};
use crate::chat::Text;
use crate::domain::Actor;
use parser::Command;

/// What a command answered, for the adapter to render.
#[derive(Debug)]
pub enum Answer {
    /// The session changed (or was made): a headline above its card.
    Session {
        headline: Text,
        view: SessionView,
    },
    /// `view`: the card alone.
    Card(SessionView),
    /// One page of the calendar, with its free time.
    Sessions(ListView),
    /// A status change told in one line (submit, withdraw, cancel, ...).
    Said(Text),
    Log(ActivityPage),
    /// Several items at once (clone): per line what happened, then the card.
    Batch {
        headline: String,
        report: BatchReport,
    },
    /// Files for the person who asked (export, log export), with their names.
    Files {
        headline: String,
        files: Vec<(String, Vec<u8>)>,
    },
    /// What only the platform can do: open the paste form, read an import
    /// file, show its own help. Returned untouched.
    ForPlatform(Command),
}

/// Runs `command` as `actor`. The answer to `submit` names the approvals
/// channel as a `Span::Channel`, which each platform writes its own way.
pub async fn run(app: &Front, actor: &Actor, command: Command) -> Result<Answer, AppError> {
    let session = |headline: Text| move |view: SessionView| Answer::Session { headline, view };
    let said = |text: String| Answer::Said(Text::from(text));
    Ok(match command {
        Command::Draft {
            title,
            start,
            end,
            notes,
        } => {
            let input = DraftInput {
                title,
                start,
                end,
                notes,
            };
            let view = app.desk.create_draft(actor, &input).await?;
            session(headlines::drafted(view.id))(view)
        }
        Command::AddSku {
            session: id,
            sku,
            discount,
            quantity,
        } => {
            let item = ItemInput {
                sku: sku.clone(),
                discount,
                quantity,
            }
            .parse(&app.policy)?;
            let view = app.desk.add_item(actor, id, &item).await?;
            session(Text::from(headlines::added(&view, &sku)))(view)
        }
        Command::EditSku {
            session: id,
            sku,
            discount,
            quantity,
        } => {
            let edit = ItemChange {
                sku: sku.clone(),
                discount,
                quantity,
            }
            .parse(&app.policy)?;
            let view = app.desk.update_item(actor, id, &edit).await?;
            session(Text::from(headlines::changed(&view, &sku)))(view)
        }
        Command::RemoveSku { session: id, sku } => {
            let view = app.desk.remove_item(actor, id, &sku).await?;
            session(Text::from(headlines::removed(&view, &sku)))(view)
        }
        Command::View { session: id } => Answer::Card(app.queries.get(id).await?),
        Command::List { range, page } => {
            Answer::Sessions(app.queries.list_view(range, page).await?)
        }
        Command::Submit { session: id } => Answer::Said(headlines::submitted_to_approvals(
            app.desk.submit(actor, id).await?.id,
        )),
        Command::Withdraw { session: id } => {
            said(headlines::withdrew(app.desk.withdraw(actor, id).await?.id))
        }
        Command::Cancel {
            session: id,
            reason,
        } => said(headlines::cancelled(
            app.desk.cancel(actor, id, reason.as_deref()).await?.id,
        )),
        Command::Revoke {
            session: id,
            reason,
        } => said(headlines::revoked(
            app.desk.revoke(actor, id, reason.as_deref()).await?.id,
        )),
        Command::Override {
            session: id,
            sku,
            discount,
            reason,
        } => {
            let input =
                OverrideInput::parse(sku.as_deref(), discount.as_deref(), &reason, &app.policy)?;
            let view = app.desk.override_guard(actor, id, &input).await?;
            let headline = Text::from(headlines::overridden(&view, &input));
            session(headline)(view)
        }
        Command::Stop {
            session: id,
            reason,
        } => said(headlines::stopping(
            app.desk.stop(actor, id, &reason).await?.id,
        )),
        Command::Log { session: id, page } => Answer::Log(app.queries.activity(id, page).await?),
        Command::Clone {
            session: id,
            start,
            end,
            title,
        } => {
            let report = app
                .desk
                .clone_session(actor, id, &start, end.as_deref(), title.as_deref())
                .await?;
            Answer::Batch {
                headline: headlines::cloned(id, report.session.id),
                report,
            }
        }
        Command::Export { session: id, .. } => {
            let files = app.queries.export_session(id).await?;
            let stem = &files.file_stem;
            Answer::Files {
                headline: format!("Exported #{id}."),
                files: vec![
                    (format!("{stem}.csv"), files.csv),
                    (format!("{stem}.xlsx"), files.xlsx),
                ],
            }
        }
        Command::LogExport { session: id, .. } => Answer::Files {
            headline: format!("The activity log of #{id}."),
            files: vec![(super::log_file_name(id), app.queries.export_log(id).await?)],
        },
        Command::Slots => Answer::Said(app.queries.slots().await?.text()),
        Command::SlotAdd { days, start, end } => {
            Answer::Said(app.desk.declare_slot(actor, &days, &start, &end).await?)
        }
        Command::SlotRemove { slot } => Answer::Said(app.desk.remove_slot(actor, slot).await?),
        Command::SlotSkip { slot, date, reason } => {
            Answer::Said(app.desk.skip_slot(actor, slot, &date, &reason).await?)
        }
        Command::Plan {
            week,
            days,
            template,
            from,
        } => {
            let today = app
                .clock
                .now()
                .with_timezone(&app.policy.time_zone)
                .date_naive();
            let input = PlanInput::parse(
                week.as_deref(),
                days.as_deref(),
                template.as_deref(),
                from.as_deref(),
                today,
            )
            .map_err(AppError::from)?;
            Answer::Said(app.desk.plan(actor, &input).await?.text())
        }
        Command::Templates => Answer::Said(templates_text(&app.queries.templates().await?)),
        Command::TemplateSave { name, session: id } => {
            let saved = app.desk.save_template(actor, &name, id).await?;
            said(format!("Saved template {}", saved.summary()))
        }
        Command::TemplateDelete { name } => {
            Answer::Said(app.desk.delete_template(actor, &name).await?)
        }
        Command::TemplateExport { name, .. } => {
            let file = app.queries.export_template(&name).await?;
            Answer::Files {
                headline: format!("Exported template {}.", name.trim().to_lowercase()),
                files: vec![(file.file_name, file.csv)],
            }
        }
        other @ (Command::PasteSkus { .. }
        | Command::Import { .. }
        | Command::TemplateImport { .. }
        | Command::Help) => Answer::ForPlatform(other),
    })
}
