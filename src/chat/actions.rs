//! Button presses and the reject-reason form, for every chat adapter.
//!
//! A press is input like a typed command: the id is parsed strictly, the
//! platform's event id makes a double click (or a redelivery) act once, and
//! the use case decides the rest. Adapters only translate the outcome.

use crate::app::cards::{ButtonId, CardAction};
use crate::app::{AppError, FlashSales, SessionView};
use crate::domain::{Action, Actor};

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
    app: &FlashSales,
    actor: &Actor,
    platform: &str,
    event_id: &str,
    custom_id: &str,
) -> PressOutcome {
    let button = match ButtonId::parse(custom_id) {
        Ok(button) => button,
        Err(e) => return PressOutcome::Refused(AppError::Button(e)),
    };
    match button.action {
        CardAction::Approve => match app.first_delivery(platform, event_id).await {
            Ok(false) => PressOutcome::AlreadyHandled,
            Ok(true) => match app.approve(actor, button.session_id, button.version).await {
                Ok(view) => PressOutcome::Approved(view),
                Err(e) => PressOutcome::Refused(e),
            },
            Err(e) => PressOutcome::Refused(e),
        },
        // Opening the form changes nothing, so it is not recorded as handled;
        // refusing it early spares a non-approver a form they cannot use.
        CardAction::Reject => match app
            .check_allowed(actor, button.session_id, Action::Reject)
            .await
        {
            Ok(()) => PressOutcome::NeedsReason {
                session_id: button.session_id,
                version: button.version,
            },
            Err(e) => PressOutcome::Refused(e),
        },
    }
}

/// The reason form was submitted: reject, once per event.
pub async fn reject_with_reason(
    app: &FlashSales,
    actor: &Actor,
    platform: &str,
    event_id: &str,
    session_id: i64,
    reason: &str,
) -> Result<Option<SessionView>, AppError> {
    if !app.first_delivery(platform, event_id).await? {
        return Ok(None);
    }
    app.reject(actor, session_id, reason).await.map(Some)
}
