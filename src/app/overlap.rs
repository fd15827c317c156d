//! One flash sale at a time: a window that overlaps an approved or live
//! session is refused when it is drafted, submitted and approved, each time
//! naming the session it collides with, what that session is now, and the
//! nearest free windows of the same length. The database's exclusion
//! constraint still decides a race between two approvals (`sessions::set_status`).

use sqlx::PgConnection;

use super::{AppError, Core};
use crate::domain::window::{format_span, nearest_free};
use crate::domain::{RuleViolation, Window};
use crate::store::sessions;

/// How far around a window its neighbours are read, to find free time near it.
const NEAR: chrono::Duration = chrono::Duration::days(2);
/// Free windows offered at most.
const OFFERED: usize = 2;

impl Core {
    /// Refuses `window` (of session `id`; 0 for one not written yet) when it
    /// overlaps an approved or live session.
    pub(super) async fn check_free(
        &self,
        conn: &mut PgConnection,
        id: i64,
        window: &Window,
    ) -> Result<(), AppError> {
        let near = sessions::taken_near(conn, id, window, NEAR).await?;
        let Some(other) = near.iter().find(|t| t.window.overlaps(window)) else {
            return Ok(());
        };
        let zone = self.policy.time_zone;
        let taken: Vec<Window> = near.iter().map(|t| t.window).collect();
        let earliest = self.clock.now() + self.policy.window.min_lead;
        let free = nearest_free(window, &taken, earliest, OFFERED);
        let free = if free.is_empty() {
            "Move one of them.".to_owned()
        } else {
            let spans: Vec<String> = free
                .iter()
                .map(|w| format_span(w.starts_at(), w.ends_at(), zone))
                .collect();
            format!(
                "Nearest free windows of the same length: {}.",
                spans.join(" or ")
            )
        };
        Err(RuleViolation::Overlap {
            other: format!(
                "#{} \"{}\" ({})",
                other.id,
                other.title,
                format_span(other.window.starts_at(), other.window.ends_at(), zone)
            ),
            state: other.status.label().to_lowercase(),
            free,
        }
        .into())
    }
}
