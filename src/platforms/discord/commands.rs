//! The `/flashsale` slash commands. Each one parses its options, builds the
//! `Actor` from the member's roles, calls one use case, and renders the reply.
//!
//! Every reply is private to the person who ran the command: what the team
//! must see (approval cards, their updates, rejections, announcements) `app`
//! posts itself through the chat port. Commands that call a use case defer
//! first, so Discord's three-second window is met however slow the catalog,
//! the database or Discord itself is; a command that opens a form cannot
//! defer (a form must be the first answer) and only reads the database first.

use poise::serenity_prelude as serenity;

use super::input::{self, ArgError};
use super::{autocomplete, download, forms, Ctx, Error};
use crate::app::headlines;
use crate::app::{
    log_file_name, AppError, DraftFields, ImportError, ImportTarget, ItemEdit, ListRange, NewItem,
    OverrideInput,
};
use crate::domain::{status, Action};

mod answering;
mod week;

use answering::{actor, answer, changing, deferred, open_form, refuse, session_change, WithFiles};
pub(super) use answering::{arrived, first_time, in_our_guild, Stopped};
use week::{plan, slot, slots, template, templates};

/// All commands, for the framework and for registration.
pub fn all() -> Vec<poise::Command<super::Data, Error>> {
    vec![flashsale()]
}

/// Draft, approve and publish flash sales
#[poise::command(
    slash_command,
    guild_only,
    check = "first_time",
    subcommand_required,
    subcommands(
        "draft",
        "add_sku",
        "edit_sku",
        "remove_sku",
        "view",
        "list",
        "submit",
        "withdraw",
        "cancel",
        "revoke",
        "override_guard",
        "stop",
        "log",
        "clone",
        "import",
        "export",
        "plan",
        "slots",
        "slot",
        "templates",
        "template",
        "help"
    )
)]
pub async fn flashsale(_: Ctx<'_>) -> Result<(), Error> {
    Ok(())
}

/// Which sessions `list` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poise::ChoiceParameter)]
pub enum Range {
    #[name = "upcoming"]
    Upcoming,
    #[name = "today"]
    Today,
    #[name = "week"]
    Week,
}

/// Create a draft session (opens a form: title, start, end, notes)
#[poise::command(slash_command, guild_only)]
async fn draft(ctx: Ctx<'_>) -> Result<(), Error> {
    // Spare a member who may not draft a form whose submit would be refused.
    if let Err(refused) = status::start_draft(actor(ctx).roles) {
        return refuse(ctx, AppError::from(refused)).await;
    }
    open_form(ctx, forms::draft(ctx.data().render.time_zone)).await
}

/// Add one SKU to a draft, or leave sku empty to paste up to six lines
#[poise::command(slash_command, guild_only, rename = "add-sku")]
async fn add_sku(
    ctx: Ctx<'_>,
    #[description = "The draft session (number or pick one)"]
    #[autocomplete = "autocomplete::session"]
    #[max_length = 100]
    session: String,
    #[description = "SKU to add; leave empty to paste several lines"]
    #[autocomplete = "autocomplete::sku"]
    #[max_length = 40]
    sku: Option<String>,
    #[description = "Discount in percent, 1-90"]
    #[min = 1]
    #[max = 90]
    discount: Option<i64>,
    #[description = "Flash-sale units, at most the stock"]
    #[min = 1]
    #[max = 100000]
    quantity: Option<i64>,
) -> Result<(), Error> {
    // Parsed before anything else: a paste opens a form, which cannot follow a defer.
    let session_id = match input::session_id(&session) {
        Ok(id) => id,
        Err(e) => return refuse(ctx, e).await,
    };
    let (sku, discount, quantity) = match (sku, discount, quantity) {
        (None, None, None) => {
            let allowed = ctx
                .data()
                .app
                .desk
                .check_allowed(&actor(ctx), session_id, Action::EditItems)
                .await;
            return match allowed {
                Ok(()) => open_form(ctx, forms::paste(session_id)).await,
                Err(e) => refuse(ctx, e).await,
            };
        }
        (Some(sku), Some(discount), Some(quantity)) => (sku, discount, quantity),
        _ => return refuse(ctx, ArgError::IncompleteItem).await,
    };
    changing(ctx, async {
        let app = &ctx.data().app;
        // Typed options go straight into the domain's types: no detour through text.
        let item = NewItem::from_options(&sku, discount, quantity, &app.policy)?;
        let view = app.desk.add_item(&actor(ctx), session_id, &item).await?;
        let headline = headlines::added(&view, item.sku.as_str());
        Ok(ctx.data().render.session(&view, &headline))
    })
    .await
}

/// Change the discount or quantity of a SKU in a draft
#[poise::command(slash_command, guild_only, rename = "edit-sku")]
async fn edit_sku(
    ctx: Ctx<'_>,
    #[description = "The draft session (number or pick one)"]
    #[autocomplete = "autocomplete::session"]
    #[max_length = 100]
    session: String,
    #[description = "The SKU to change"]
    #[autocomplete = "autocomplete::sku"]
    #[max_length = 40]
    sku: String,
    #[description = "New discount in percent, 1-90"]
    #[min = 1]
    #[max = 90]
    discount: Option<i64>,
    #[description = "New flash-sale units"]
    #[min = 1]
    #[max = 100000]
    quantity: Option<i64>,
) -> Result<(), Error> {
    session_change(ctx, &session, |app, who, id| async move {
        let change = ItemEdit::from_options(&sku, discount, quantity, &app.policy)?;
        let view = app.desk.update_item(&who, id, &change).await?;
        let headline = headlines::changed(&view, change.sku.as_str());
        Ok((view, headline))
    })
    .await
}

/// Remove a SKU from a draft
#[poise::command(slash_command, guild_only, rename = "remove-sku")]
async fn remove_sku(
    ctx: Ctx<'_>,
    #[description = "The draft session (number or pick one)"]
    #[autocomplete = "autocomplete::session"]
    #[max_length = 100]
    session: String,
    #[description = "The SKU to remove"]
    #[autocomplete = "autocomplete::sku"]
    #[max_length = 40]
    sku: String,
) -> Result<(), Error> {
    session_change(ctx, &session, |app, who, id| async move {
        let view = app.desk.remove_item(&who, id, &sku).await?;
        let headline = headlines::removed(&view, &sku);
        Ok((view, headline))
    })
    .await
}

/// Show a session with its SKUs and prices
#[poise::command(slash_command, guild_only)]
async fn view(
    ctx: Ctx<'_>,
    #[description = "The session (number or pick one)"]
    #[autocomplete = "autocomplete::session"]
    #[max_length = 100]
    session: String,
) -> Result<(), Error> {
    deferred(ctx, async {
        let view = ctx
            .data()
            .app
            .queries
            .get(input::session_id(&session)?)
            .await?;
        Ok(ctx.data().render.session(&view, ""))
    })
    .await
}

/// The calendar: sessions with status, SKU count, deadline and free time between
#[poise::command(slash_command, guild_only)]
async fn list(
    ctx: Ctx<'_>,
    #[description = "Which sessions: upcoming (default), today or this week"] range: Option<Range>,
    #[description = "Page, from 1 (10 sessions a page)"]
    #[min = 1]
    page: Option<i64>,
) -> Result<(), Error> {
    let range = match range.unwrap_or(Range::Upcoming) {
        Range::Upcoming => ListRange::Upcoming,
        Range::Today => ListRange::Today,
        Range::Week => ListRange::Week,
    };
    deferred(ctx, async {
        let list = ctx
            .data()
            .app
            .queries
            .list_view(range, input::page(page)?)
            .await?;
        Ok(ctx.data().render.list(&list))
    })
    .await
}

/// Submit a draft with six SKUs for approval
#[poise::command(slash_command, guild_only)]
async fn submit(
    ctx: Ctx<'_>,
    #[description = "The draft session (number or pick one)"]
    #[autocomplete = "autocomplete::session"]
    #[max_length = 100]
    session: String,
) -> Result<(), Error> {
    let approvals = ctx.data().approvals_channel;
    session_change(ctx, &session, |app, who, id| async move {
        let view = app.desk.submit(&who, id).await?;
        let headline = headlines::submitted(id, &format!("<#{approvals}>"));
        Ok((view, headline))
    })
    .await
}

/// Take a session back from approval so it can be edited
#[poise::command(slash_command, guild_only)]
async fn withdraw(
    ctx: Ctx<'_>,
    #[description = "The pending session (number or pick one)"]
    #[autocomplete = "autocomplete::session"]
    #[max_length = 100]
    session: String,
) -> Result<(), Error> {
    session_change(ctx, &session, |app, who, id| async move {
        let view = app.desk.withdraw(&who, id).await?;
        Ok((view, headlines::withdrew(id)))
    })
    .await
}

/// Call a session off for good
#[poise::command(slash_command, guild_only)]
async fn cancel(
    ctx: Ctx<'_>,
    #[description = "The session (number or pick one)"]
    #[autocomplete = "autocomplete::session"]
    #[max_length = 100]
    session: String,
    #[description = "Why, for the activity log"]
    #[max_length = 1000]
    reason: Option<String>,
) -> Result<(), Error> {
    session_change(ctx, &session, |app, who, id| async move {
        let view = app.desk.cancel(&who, id, reason.as_deref()).await?;
        Ok((view, headlines::cancelled(id)))
    })
    .await
}

/// Unlock an approved session (before it goes live) so it can be edited again
#[poise::command(slash_command, guild_only)]
async fn revoke(
    ctx: Ctx<'_>,
    #[description = "The approved session (number or pick one)"]
    #[autocomplete = "autocomplete::session"]
    #[max_length = 100]
    session: String,
    #[description = "Why, for the editors and the activity log"]
    #[max_length = 1000]
    reason: Option<String>,
) -> Result<(), Error> {
    session_change(ctx, &session, |app, who, id| async move {
        let view = app.desk.revoke(&who, id, reason.as_deref()).await?;
        let headline = headlines::revoked(id);
        Ok((view, headline))
    })
    .await
}

/// Allow what a money guard refused (approvers): a SKU at a discount, or without a SKU the budget
#[poise::command(slash_command, guild_only, rename = "override")]
async fn override_guard(
    ctx: Ctx<'_>,
    #[description = "The session (number or pick one)"]
    #[autocomplete = "autocomplete::session"]
    #[max_length = 100]
    session: String,
    #[description = "Why, for the card and the activity log"]
    #[max_length = 1000]
    reason: String,
    #[description = "The refused SKU; leave out to override the session's budget"]
    #[autocomplete = "autocomplete::sku"]
    #[max_length = 40]
    sku: Option<String>,
    #[description = "The discount the override covers, in percent, 1-90"]
    #[min = 1]
    #[max = 90]
    discount: Option<i64>,
) -> Result<(), Error> {
    session_change(ctx, &session, |app, who, id| async move {
        let discount = discount.map(|d| d.to_string());
        let input =
            OverrideInput::parse(sku.as_deref(), discount.as_deref(), &reason, &app.policy)?;
        let view = app.desk.override_guard(&who, id, &input).await?;
        let headline = headlines::overridden(&view, &input);
        Ok((view, headline))
    })
    .await
}

/// End a live sale early (approvers), with a reason for the activity log
#[poise::command(slash_command, guild_only)]
async fn stop(
    ctx: Ctx<'_>,
    #[description = "The live session (number or pick one)"]
    #[autocomplete = "autocomplete::session"]
    #[max_length = 100]
    session: String,
    #[description = "Why it is stopped, for the team and the activity log"]
    #[max_length = 1000]
    reason: String,
) -> Result<(), Error> {
    session_change(ctx, &session, |app, who, id| async move {
        let view = app.desk.stop(&who, id, &reason).await?;
        let headline = headlines::stopping(id);
        Ok((view, headline))
    })
    .await
}

/// What happened to a session, oldest first, 15 entries a page
#[poise::command(slash_command, guild_only)]
async fn log(
    ctx: Ctx<'_>,
    #[description = "The session (number or pick one)"]
    #[autocomplete = "autocomplete::session"]
    #[max_length = 100]
    session: String,
    #[description = "Page, from 1"]
    #[min = 1]
    page: Option<i64>,
    #[description = "true: the whole log as a CSV file instead of a page"] export: Option<bool>,
) -> Result<(), Error> {
    if export == Some(true) {
        return deferred(ctx, async {
            let id = input::session_id(&session)?;
            let csv = ctx.data().app.queries.export_log(id).await?;
            let file = serenity::CreateAttachment::bytes(csv, log_file_name(id));
            let text = format!("The activity log of #{id}, oldest first.");
            Ok(WithFiles(text, vec![file]))
        })
        .await;
    }
    deferred(ctx, async {
        let id = input::session_id(&session)?;
        let page = ctx
            .data()
            .app
            .queries
            .activity(id, input::page(page)?)
            .await?;
        Ok(ctx.data().render.log(&page))
    })
    .await
}

/// A new draft with another session's SKUs at a new start (each SKU re-checked)
#[poise::command(slash_command, guild_only)]
async fn clone(
    ctx: Ctx<'_>,
    #[description = "The session to copy (number or pick one)"]
    #[autocomplete = "autocomplete::session"]
    #[max_length = 100]
    session: String,
    #[description = "New start, e.g. tomorrow 00:00 or 2026-11-27 09:00"]
    #[max_length = 40]
    start: String,
    #[description = "New end; default: the same length as the original"]
    #[max_length = 40]
    end: Option<String>,
    #[description = "New title; default: the original's"]
    #[max_length = 100]
    title: Option<String>,
) -> Result<(), Error> {
    changing(ctx, async {
        let id = input::session_id(&session)?;
        let report = ctx
            .data()
            .app
            .desk
            .clone_session(&actor(ctx), id, &start, end.as_deref(), title.as_deref())
            .await?;
        let headline = headlines::cloned(id, report.session.id);
        Ok(ctx.data().render.batch(&headline, &report))
    })
    .await
}

/// Import a spreadsheet (.xlsx, .xls, .ods, .csv): a new draft, or more SKUs for a draft
#[poise::command(slash_command, guild_only)]
async fn import(
    ctx: Ctx<'_>,
    #[description = "The spreadsheet: SKU, discount and quantity columns, one row per SKU"]
    file: serenity::Attachment,
    #[description = "A draft to fill instead of making a new one"]
    #[autocomplete = "autocomplete::session"]
    #[max_length = 100]
    session: Option<String>,
    #[description = "New draft's title; default: the file's Title cell, else its name"]
    #[max_length = 100]
    title: Option<String>,
    #[description = "New draft's start, e.g. tomorrow 00:00; default: the file's Start cell"]
    #[max_length = 40]
    start: Option<String>,
    #[description = "New draft's end; default: the file's End cell"]
    #[max_length = 40]
    end: Option<String>,
    #[description = "The sheet to read; default: the first"]
    #[max_length = 100]
    sheet: Option<String>,
) -> Result<(), Error> {
    changing(ctx, async {
        let session = session.as_deref().map(input::session_id).transpose()?;
        let target = ImportTarget::from_options(session, DraftFields { title, start, end })
            .map_err(AppError::from)?;
        // Who may import, then the declared size, before anything is downloaded.
        ctx.data()
            .app
            .desk
            .check_import_allowed(&actor(ctx), &target)
            .await?;
        let too_big = |e| AppError::from(ImportError::from(e));
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
        let report = ctx
            .data()
            .app
            .desk
            .import(
                &actor(ctx),
                &file.filename,
                &bytes,
                sheet.as_deref(),
                target,
            )
            .await?;
        let render = &ctx.data().render;
        Ok(render.session(&report.session, &render.text(&report.headline())))
    })
    .await
}

/// The session as .csv and .xlsx files, in the layout /flashsale import reads
#[poise::command(slash_command, guild_only)]
async fn export(
    ctx: Ctx<'_>,
    #[description = "The session (number or pick one)"]
    #[autocomplete = "autocomplete::session"]
    #[max_length = 100]
    session: String,
) -> Result<(), Error> {
    deferred(ctx, async {
        let id = input::session_id(&session)?;
        let files = ctx.data().app.queries.export_session(id).await?;
        let stem = files.file_stem;
        let attachments = vec![
            serenity::CreateAttachment::bytes(files.csv, format!("{stem}.csv")),
            serenity::CreateAttachment::bytes(files.xlsx, format!("{stem}.xlsx")),
        ];
        let text = format!(
            "#{id} as CSV and Excel. Edit a copy and /flashsale import it to make a new draft."
        );
        Ok(WithFiles(text, attachments))
    })
    .await
}

/// The commands and the time formats they accept
#[poise::command(slash_command)]
async fn help(ctx: Ctx<'_>) -> Result<(), Error> {
    answer(ctx, Ok(ctx.data().render.help())).await
}
