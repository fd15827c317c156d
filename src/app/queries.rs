//! Read-only use cases: one session, a calendar of sessions, a session's log.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};

use super::calendar::{calendar, ListRange, ListView};
use super::view::{self, SessionSummaryView};
use super::{AppError, Core, Queries, SessionView};
use crate::chat::Text;
use crate::domain::{ActivityKind, RuleViolation, Sku};
use crate::store::{activity, sessions, ActivityRecord};

/// One page of a session's activity log, oldest entry first.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityPage {
    pub session_id: i64,
    pub entries: Vec<ActivityEntry>,
    /// 1-based.
    pub page: i64,
    pub pages: i64,
    pub total: i64,
}

impl ActivityPage {
    pub const PAGE_SIZE: i64 = 15;
}

/// A catalog product as a suggestion for a SKU field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSuggestion {
    pub sku: Sku,
    pub name: String,
    pub stock: i64,
    pub active: bool,
}

/// One line of the log as adapters show it: when, who, and what in words.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityEntry {
    /// The entry's id; ids grow in the order entries were written.
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_name: String,
    /// The stored action name (`item_added`), for tests and exports.
    pub action: String,
    /// What the actor did, e.g. `changed FS-002: discount 30% → 45%`.
    pub what: Text,
}

impl From<ActivityRecord> for ActivityEntry {
    fn from(record: ActivityRecord) -> ActivityEntry {
        ActivityEntry {
            what: record.describe(),
            id: record.id,
            at: record.at,
            actor_name: record.actor_name,
            action: record.action,
        }
    }
}

impl ActivityRecord {
    pub fn kind(&self) -> Option<ActivityKind> {
        ActivityKind::from_stored(&self.action)
    }
}

impl Queries {
    /// The session with its items and computed flash prices.
    pub async fn get(&self, session_id: i64) -> Result<SessionView, AppError> {
        let mut conn = self.core.pool.acquire().await?;
        view::load(&mut conn, session_id, &self.core.policy).await
    }

    /// A page (1-based, [`ListView::PAGE_SIZE`] sessions) of the calendar
    /// of `range`: its sessions in start order with the free time between them.
    pub async fn list_view(&self, range: ListRange, page: i64) -> Result<ListView, AppError> {
        let (from, to, include_final) = self.core.bounds(range);
        let mut conn = self.core.pool.acquire().await?;
        let total = sessions::count_between(&mut conn, from, to, include_final).await?;
        let pages = ((total + ListView::PAGE_SIZE - 1) / ListView::PAGE_SIZE).max(1);
        // An empty page would read as if there were nothing there.
        if !(1..=pages).contains(&page) {
            return Err(RuleViolation::ListPageNotFound {
                page,
                pages,
                list: range.described().to_owned(),
            }
            .into());
        }
        // The sessions before this page decide the free time before its first one.
        let upto = page * ListView::PAGE_SIZE;
        let summaries = sessions::list_between(&mut conn, from, to, include_final, upto).await?;
        let rows = calendar(
            summaries
                .into_iter()
                .map(|s| view::summary_view(s, &self.core.policy))
                .collect(),
        )
        .into_iter()
        .skip(((page - 1) * ListView::PAGE_SIZE) as usize)
        .collect();
        drop(conn);
        let uncovered = if page == 1 {
            let open = self.core.uncovered_between(from, to).await?;
            super::week::uncovered_text(&open, self.core.policy.time_zone)
        } else {
            None
        };
        Ok(ListView {
            range,
            rows,
            page,
            pages,
            total,
            uncovered,
        })
    }

    /// The sessions of `range` in start order (at most 200).
    pub async fn list(&self, range: ListRange) -> Result<Vec<SessionSummaryView>, AppError> {
        self.core.list(range).await
    }
}

impl Core {
    /// The sessions of `range` in start order (at most 200).
    pub(super) async fn list(&self, range: ListRange) -> Result<Vec<SessionSummaryView>, AppError> {
        let (from, to, include_final) = self.bounds(range);
        let mut conn = self.pool.acquire().await?;
        let summaries = sessions::list_between(&mut conn, from, to, include_final, 200).await?;
        Ok(summaries
            .into_iter()
            .map(|s| view::summary_view(s, &self.policy))
            .collect())
    }

    /// The span `range` covers, and whether finished sessions count.
    pub(super) fn bounds(&self, range: ListRange) -> (DateTime<Utc>, DateTime<Utc>, bool) {
        let now = self.clock.now();
        let tz = self.policy.time_zone;
        let start_of_today = || {
            let today = now.with_timezone(&tz).date_naive().and_time(NaiveTime::MIN);
            // A few zones skip midnight on DST days: then the day starts at
            // the first instant that exists, which `earliest` gives; if even
            // that fails, start from now.
            tz.from_local_datetime(&today)
                .earliest()
                .map_or(now, |t| t.with_timezone(&Utc))
        };
        match range {
            ListRange::Upcoming => (now, now + chrono::Duration::days(3650), false),
            ListRange::Today => {
                let from = start_of_today();
                (from, from + chrono::Duration::days(1), true)
            }
            ListRange::Week => {
                let from = start_of_today();
                (from, from + chrono::Duration::days(7), true)
            }
            ListRange::Between(from, to) => (from, to, true),
        }
    }
}

impl Queries {
    /// Catalog products whose SKU or name matches `query`, for autocompletion (at most `limit`).
    pub async fn suggest_products(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<ProductSuggestion>, AppError> {
        let products = self.core.catalog.search(query, limit).await?;
        Ok(products
            .into_iter()
            .map(|p| ProductSuggestion {
                sku: p.sku,
                name: p.name,
                stock: p.stock,
                active: p.active,
            })
            .collect())
    }

    /// A page (1-based) of the session's activity log.
    pub async fn activity(&self, session_id: i64, page: i64) -> Result<ActivityPage, AppError> {
        let mut conn = self.core.pool.acquire().await?;
        sessions::get(&mut conn, session_id)
            .await?
            .ok_or(AppError::SessionNotFound(session_id))?;
        let total = activity::count(&mut conn, session_id).await?;
        let pages = ((total + ActivityPage::PAGE_SIZE - 1) / ActivityPage::PAGE_SIZE).max(1);
        // Showing page 1 when page 5 was asked for reads as if the log were shorter than it is.
        if !(1..=pages).contains(&page) {
            return Err(AppError::PageNotFound {
                session_id,
                page,
                pages,
            });
        }
        let entries = activity::list(
            &mut conn,
            session_id,
            (page - 1) * ActivityPage::PAGE_SIZE,
            ActivityPage::PAGE_SIZE,
        )
        .await?
        .into_iter()
        .map(ActivityEntry::from)
        .collect();
        Ok(ActivityPage {
            session_id,
            entries,
            page,
            pages,
            total,
        })
    }
}
