//! Button presses and the reject-reason form, for every chat adapter.
//!
//! A press is input like a typed command: the id is parsed strictly, the
//! platform's event id makes a double click (or a redelivery) act once, and
//! the use case decides the rest. Adapters only translate the outcome.

use super::{AppError, Front, SessionView};
use crate::chat::buttons::{ButtonId, CardAction};
use crate::domain::{Action, Actor, RuleViolation};

#[derive(Debug)]
pub enum PressOutcome {
    /// The session was approved.
    Approved(SessionView),
    /// Reject was pressed by someone allowed to reject: ask for the reason,
    /// then call `reject_with_reason`.
    NeedsReason { session_id: i64, version: i32 },
    /// This event was handled before; nothing was done again.
    AlreadyHandled,
    /// Refused: a forged id, a missing role, four eyes, a stale card...
    Refused(AppError),
}

pub async fn press_button(
    app: &Front,
    actor: &Actor,
    platform: &str,
    event_id: &str,
    custom_id: &str,
) -> PressOutcome {
    let button = match ButtonId::parse(custom_id) {
        Ok(button) => button,
        Err(e) => return PressOutcome::Refused(AppError::Button(e)),
    };
    let outcome = match button.action {
        CardAction::Approve => match app.desk.first_delivery(platform, event_id).await {
            Ok(false) => PressOutcome::AlreadyHandled,
            Ok(true) => match app
                .desk
                .approve(actor, button.session_id, button.version)
                .await
            {
                Ok(view) => PressOutcome::Approved(view),
                Err(e) => PressOutcome::Refused(e),
            },
            Err(e) => PressOutcome::Refused(e),
        },
        // Opening the form changes nothing, so it is not recorded as handled;
        // refusing it early spares a non-approver (or one looking at an old
        // card) a form they cannot use.
        CardAction::Reject => match app
            .desk
            .check_allowed_at(actor, button.session_id, Action::Reject, button.version)
            .await
        {
            Ok(()) => PressOutcome::NeedsReason {
                session_id: button.session_id,
                version: button.version,
            },
            Err(e) => PressOutcome::Refused(e),
        },
    };
    if let PressOutcome::Refused(e) = &outcome {
        refresh_if_stale(app, button.session_id, e).await;
    }
    outcome
}

/// A card older than its session was pressed: show the current one, so the
/// refusal's "look at the refreshed card" is true on every platform.
async fn refresh_if_stale(app: &Front, session_id: i64, refused: &AppError) {
    if matches!(refused, AppError::Rule(RuleViolation::StaleVersion { .. })) {
        app.desk.refresh_card(session_id).await;
    }
}

/// The reason form was submitted: reject what the card showed (`seen_version`), once per event.
pub async fn reject_with_reason(
    app: &Front,
    actor: &Actor,
    platform: &str,
    event_id: &str,
    session_id: i64,
    seen_version: i32,
    reason: &str,
) -> Result<Option<SessionView>, AppError> {
    if !app.desk.first_delivery(platform, event_id).await? {
        return Ok(None);
    }
    let rejected = app
        .desk
        .reject_seen(actor, session_id, seen_version, reason)
        .await;
    if let Err(e) = &rejected {
        refresh_if_stale(app, session_id, e).await;
    }
    rejected.map(Some)
}
