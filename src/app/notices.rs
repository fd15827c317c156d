//! Notices: the channel posts that report what happened to a session ("now
//! live", "ended", "could not go live", alerts to approvers), written to the
//! outbox in the same transaction as the change they report.
//!
//! A notice is keyed by (session, event, session version): a job that runs
//! again after a crash finds its notice already written and writes nothing,
//! and the scheduler delivers each key once (`scheduler::outbox`). Notices
//! about something other than a status change (a failing publish, a refused
//! take-down) use the session's current version, so each is said once per
//! version of the session.

use sqlx::PgConnection;

use super::{AppError, FlashSales, SessionView};
use crate::chat::{Channel, Mention, Message, Text};
use crate::store::{outbox, sessions};

/// One post for the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// What happened, e.g. `live`; part of the post's unique key.
    pub event: &'static str,
    pub channel: Channel,
    pub message: Message,
}

impl Notice {
    pub fn new(event: &'static str, channel: Channel, message: Message) -> Notice {
        Notice {
            event,
            channel,
            message,
        }
    }

    /// An alert for approvers, in their channel, mentioning them.
    pub fn alert(event: &'static str, text: Text) -> Notice {
        Notice::new(
            event,
            Channel::Approvals,
            Message {
                text,
                mentions: vec![Mention::Approvers],
                ..Message::default()
            },
        )
    }
}

/// Writes `notices` for the session as `view` shows it, in the caller's transaction.
pub(super) async fn enqueue(
    conn: &mut PgConnection,
    view: &SessionView,
    notices: &[Notice],
) -> Result<(), AppError> {
    for notice in notices {
        enqueue_at(conn, view.id, view.version, notice).await?;
    }
    Ok(())
}

async fn enqueue_at(
    conn: &mut PgConnection,
    session_id: i64,
    version: i32,
    notice: &Notice,
) -> Result<(), AppError> {
    let message = serde_json::to_value(&notice.message)
        .map_err(|e| AppError::unexpected(anyhow::anyhow!("a notice did not serialise: {e}")))?;
    outbox::enqueue(
        conn,
        session_id,
        notice.event,
        version,
        notice.channel.as_stored(),
        &message,
    )
    .await?;
    Ok(())
}

impl FlashSales {
    /// Writes a notice that goes with no status change (an alert), keyed by
    /// the session's current version.
    pub async fn notify(&self, session_id: i64, notice: Notice) -> Result<(), AppError> {
        let mut tx = self.pool.begin().await?;
        let Some(session) = sessions::get(&mut tx, session_id).await? else {
            return Err(AppError::SessionNotFound(session_id));
        };
        enqueue_at(&mut tx, session_id, session.version, &notice).await?;
        tx.commit().await?;
        Ok(())
    }
}
