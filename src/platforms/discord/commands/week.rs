//! `/flashsale plan`, `slots`, `slot ...`, `templates` and `template ...`:
//! planning the week (`app::week`). Each parses its options, calls one use
//! case and shows the app's words; the rules are the app's.

use poise::serenity_prelude as serenity;

use super::super::render::Rendered;
use super::super::{download, input, Ctx, Error};
use super::answering::{actor, changing, deferred, WithFiles};
use crate::app::week::{templates_text, PlanInput};
use crate::app::AppError;
use crate::chat::Text;

/// The app's words, written Discord's way.
fn said(ctx: Ctx<'_>, text: &Text) -> Rendered {
    Rendered::text(ctx.data().render.text(text))
}

/// Draft the sessions for a week's empty slots, from a template or last week
#[poise::command(slash_command, guild_only)]
pub(super) async fn plan(
    ctx: Ctx<'_>,
    #[description = "this, next (default) or a date in the week, YYYY-MM-DD"]
    #[max_length = 40]
    week: Option<String>,
    #[description = "Or the next N days from today, 1-14"]
    #[min = 1]
    #[max = 14]
    days: Option<i64>,
    #[description = "Fill each draft from this template (see /flashsale templates)"]
    #[max_length = 40]
    template: Option<String>,
    #[description = "Fill each draft from the same slot a week earlier instead"] last_week: Option<
        bool,
    >,
) -> Result<(), Error> {
    changing(ctx, async {
        let app = &ctx.data().app;
        let today = app
            .clock
            .now()
            .with_timezone(&app.policy.time_zone)
            .date_naive();
        let days = days.map(|d| d.to_string());
        let from = last_week.filter(|on| *on).map(|_| "last-week");
        let input = PlanInput::parse(
            week.as_deref(),
            days.as_deref(),
            template.as_deref(),
            from,
            today,
        )
        .map_err(AppError::from)?;
        let report = app.desk.plan(&actor(ctx), &input).await?;
        Ok(said(ctx, &report.text()))
    })
    .await
}

/// The recurring slots and what covers each one in the next hours
#[poise::command(slash_command, guild_only)]
pub(super) async fn slots(ctx: Ctx<'_>) -> Result<(), Error> {
    deferred(ctx, async {
        let view = ctx.data().app.queries.slots().await?;
        Ok(said(ctx, &view.text()))
    })
    .await
}

/// Declare, remove or skip a recurring slot (approvers)
#[poise::command(
    slash_command,
    guild_only,
    subcommand_required,
    subcommands("slot_add", "slot_remove", "slot_skip")
)]
pub(super) async fn slot(_: Ctx<'_>) -> Result<(), Error> {
    Ok(())
}

/// Declare a recurring slot in the business time zone
#[poise::command(slash_command, guild_only, rename = "add")]
async fn slot_add(
    ctx: Ctx<'_>,
    #[description = "Start, HH:MM, e.g. 00:00"]
    #[max_length = 5]
    start: String,
    #[description = "End, HH:MM; earlier than the start runs into the next day"]
    #[max_length = 5]
    end: String,
    #[description = "daily (default), weekdays, weekends or days like mon,wed,fri"]
    #[max_length = 60]
    days: Option<String>,
) -> Result<(), Error> {
    changing(ctx, async {
        let days = days.unwrap_or_else(|| "daily".to_owned());
        let answer = ctx
            .data()
            .app
            .desk
            .declare_slot(&actor(ctx), &days, &start, &end)
            .await?;
        Ok(said(ctx, &answer))
    })
    .await
}

/// Stop watching a recurring slot
#[poise::command(slash_command, guild_only, rename = "remove")]
async fn slot_remove(
    ctx: Ctx<'_>,
    #[description = "The slot's number (see /flashsale slots)"]
    #[min = 1]
    slot: i64,
) -> Result<(), Error> {
    changing(ctx, async {
        let answer = ctx.data().app.desk.remove_slot(&actor(ctx), slot).await?;
        Ok(said(ctx, &answer))
    })
    .await
}

/// Leave one day's slot empty on purpose: no alarm for it
#[poise::command(slash_command, guild_only, rename = "skip")]
async fn slot_skip(
    ctx: Ctx<'_>,
    #[description = "The slot's number (see /flashsale slots)"]
    #[min = 1]
    slot: i64,
    #[description = "The day it starts, YYYY-MM-DD"]
    #[max_length = 10]
    date: String,
    #[description = "Why it stays empty, for the log"]
    #[max_length = 1000]
    reason: String,
) -> Result<(), Error> {
    changing(ctx, async {
        let answer = ctx
            .data()
            .app
            .desk
            .skip_slot(&actor(ctx), slot, &date, &reason)
            .await?;
        Ok(said(ctx, &answer))
    })
    .await
}

/// The saved templates and their lines
#[poise::command(slash_command, guild_only)]
pub(super) async fn templates(ctx: Ctx<'_>) -> Result<(), Error> {
    deferred(ctx, async {
        let all = ctx.data().app.queries.templates().await?;
        Ok(said(ctx, &templates_text(&all)))
    })
    .await
}

/// Save, delete, export or import a template of lines
#[poise::command(
    slash_command,
    guild_only,
    subcommand_required,
    subcommands(
        "template_save",
        "template_delete",
        "template_export",
        "template_import"
    )
)]
pub(super) async fn template(_: Ctx<'_>) -> Result<(), Error> {
    Ok(())
}

/// Save a session's lines as a named template
#[poise::command(slash_command, guild_only, rename = "save")]
async fn template_save(
    ctx: Ctx<'_>,
    #[description = "The template's name: letters, digits, - or _"]
    #[max_length = 40]
    name: String,
    #[description = "The session whose lines to save (number or pick one)"]
    #[autocomplete = "super::super::autocomplete::session"]
    #[max_length = 100]
    session: String,
) -> Result<(), Error> {
    changing(ctx, async {
        let id = input::session_id(&session)?;
        let saved = ctx
            .data()
            .app
            .desk
            .save_template(&actor(ctx), &name, id)
            .await?;
        Ok(Rendered::text(format!(
            "Saved template {}",
            saved.summary()
        )))
    })
    .await
}

/// Delete a template (sessions planned from it keep their lines)
#[poise::command(slash_command, guild_only, rename = "delete")]
async fn template_delete(
    ctx: Ctx<'_>,
    #[description = "The template's name"]
    #[max_length = 40]
    name: String,
) -> Result<(), Error> {
    changing(ctx, async {
        let answer = ctx
            .data()
            .app
            .desk
            .delete_template(&actor(ctx), &name)
            .await?;
        Ok(said(ctx, &answer))
    })
    .await
}

/// A template as a CSV file, in the layout import reads
#[poise::command(slash_command, guild_only, rename = "export")]
async fn template_export(
    ctx: Ctx<'_>,
    #[description = "The template's name"]
    #[max_length = 40]
    name: String,
) -> Result<(), Error> {
    deferred(ctx, async {
        let file = ctx.data().app.queries.export_template(&name).await?;
        let text = format!(
            "{} attached: edit a copy and /flashsale template import it as a new template.",
            file.file_name
        );
        Ok(WithFiles(
            text,
            vec![serenity::CreateAttachment::bytes(file.csv, file.file_name)],
        ))
    })
    .await
}

/// Save a spreadsheet's lines (SKU, discount, quantity) as a named template
#[poise::command(slash_command, guild_only, rename = "import")]
async fn template_import(
    ctx: Ctx<'_>,
    #[description = "The spreadsheet: SKU, discount and quantity columns, up to six rows"]
    file: serenity::Attachment,
    #[description = "The template's name: letters, digits, - or _"]
    #[max_length = 40]
    name: String,
    #[description = "The sheet to read; default: the first"]
    #[max_length = 100]
    sheet: Option<String>,
) -> Result<(), Error> {
    changing(ctx, async {
        let too_big = |e| AppError::from(crate::app::ImportError::from(e));
        crate::import::check_size(&file.filename, u64::from(file.size)).map_err(too_big)?;
        let fetched = download::download(
            &ctx.data().downloads,
            &file.url,
            &file.filename,
            download::TIMEOUT,
        )
        .await;
        let bytes = match fetched {
            Ok(bytes) => bytes,
            Err(download::DownloadError::File(e)) => return Err(too_big(e).into()),
            Err(e) => return Err(AppError::unexpected(e).into()),
        };
        let saved = ctx
            .data()
            .app
            .desk
            .import_template(&actor(ctx), &name, &file.filename, &bytes, sheet.as_deref())
            .await?;
        Ok(Rendered::text(format!(
            "Saved template {}",
            saved.summary()
        )))
    })
    .await
}
