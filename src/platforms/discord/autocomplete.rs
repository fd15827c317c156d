//! Suggestions while a member types a session or a SKU.
//!
//! Discord waits at most three seconds for suggestions, and a slow or broken
//! source must not break typing: each lookup has a budget well inside that,
//! and anything that fails or runs late suggests nothing.

use std::time::Duration;

use chrono_tz::Tz;
use poise::serenity_prelude as serenity;
use serenity::{AutocompleteChoice, CreateAutocompleteResponse};

use super::render::{limits, truncate};
use super::Ctx;
use crate::app::{ListRange, ProductSuggestion, SessionSummaryView};
use crate::domain::Status;

/// Time for the lookup, leaving the rest of Discord's three seconds for the answer.
const BUDGET: Duration = Duration::from_millis(2000);

pub async fn session(ctx: Ctx<'_>, partial: &str) -> CreateAutocompleteResponse {
    let data = ctx.data();
    let sessions =
        match tokio::time::timeout(BUDGET, data.app.queries.list(ListRange::Upcoming)).await {
            Ok(Ok(sessions)) => sessions,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "session autocomplete failed");
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
    respond(session_choices(&sessions, partial, data.render.time_zone))
}

pub async fn sku(ctx: Ctx<'_>, partial: &str) -> CreateAutocompleteResponse {
    let app = &ctx.data().app;
    let query = partial.trim();
    let products =
        match tokio::time::timeout(BUDGET, app.queries.suggest_products(query, limits::CHOICES))
            .await
        {
            Ok(Ok(products)) => products,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "SKU autocomplete failed");
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
    respond(sku_choices(&products))
}

fn respond(choices: Vec<(String, String)>) -> CreateAutocompleteResponse {
    CreateAutocompleteResponse::new().set_choices(
        choices
            .into_iter()
            .map(|(name, value)| AutocompleteChoice::new(name, value))
            .collect(),
    )
}

/// Drafts first (where editing happens), then the rest in start order; the
/// query matches the number or the title. Label and value, at most 25.
pub fn session_choices(
    sessions: &[SessionSummaryView],
    partial: &str,
    zone: Tz,
) -> Vec<(String, String)> {
    let query = partial.trim().trim_start_matches('#').to_lowercase();
    let mut matching: Vec<&SessionSummaryView> = sessions
        .iter()
        .filter(|s| {
            query.is_empty()
                || s.id.to_string().starts_with(&query)
                || s.title.to_lowercase().contains(&query)
        })
        .collect();
    matching.sort_by_key(|s| (s.status != Status::Draft, s.window.starts_at(), s.id));
    matching
        .into_iter()
        .take(limits::CHOICES)
        .map(|s| {
            let start = s.window.starts_at().with_timezone(&zone);
            let label = format!(
                "#{} {} · {} · {}",
                s.id,
                s.title,
                s.status.label(),
                start.format("%a %d %b %H:%M")
            );
            (truncate(&label, limits::CHOICE_NAME), s.id.to_string())
        })
        .collect()
}

/// `SKU - name - stock N`, the SKU as value.
pub fn sku_choices(products: &[ProductSuggestion]) -> Vec<(String, String)> {
    products
        .iter()
        .filter(|p| p.sku.as_str().chars().count() <= limits::CHOICE_NAME)
        .take(limits::CHOICES)
        .map(|p| {
            let inactive = if p.active { "" } else { " (inactive)" };
            let label = format!("{} - {} - stock {}{inactive}", p.sku, p.name, p.stock);
            (truncate(&label, limits::CHOICE_NAME), p.sku.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Sku, SkuRules, Window, WindowRules};
    use chrono::{Duration, TimeZone, Utc};

    fn summary(id: i64, title: &str, status: Status, hours_ahead: i64) -> SessionSummaryView {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap();
        let start = now + Duration::hours(hours_ahead);
        SessionSummaryView {
            id,
            title: title.to_owned(),
            window: Window::new(
                start,
                start + Duration::hours(2),
                now,
                &WindowRules::default(),
            )
            .unwrap(),
            status,
            item_count: 0,
            approval_deadline: start - Duration::hours(1),
            ended_at: None,
        }
    }

    #[test]
    fn drafts_come_first_then_the_rest_by_start() {
        let sessions = [
            summary(3, "Approved early", Status::Approved, 7),
            summary(5, "Late draft", Status::Draft, 30),
            summary(4, "Early draft", Status::Draft, 9),
        ];
        let choices = session_choices(&sessions, "", chrono_tz::Asia::Jakarta);
        let values: Vec<&str> = choices.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(values, ["4", "5", "3"]);
        assert_eq!(choices[0].0, "#4 Early draft · Draft · Fri 27 Nov 02:00");
    }

    #[test]
    fn the_query_matches_the_number_or_the_title_and_labels_fit() {
        let mut sessions: Vec<SessionSummaryView> = (1..=40)
            .map(|i| {
                summary(
                    i,
                    &format!("Payday {}", "界".repeat(100)),
                    Status::Draft,
                    8 + i,
                )
            })
            .collect();
        sessions.push(summary(77, "Midnight", Status::PendingApproval, 8));
        let tz = chrono_tz::Asia::Jakarta;
        assert_eq!(
            session_choices(&sessions, "payday", tz).len(),
            limits::CHOICES
        );
        assert_eq!(session_choices(&sessions, "#77", tz)[0].1, "77");
        assert_eq!(session_choices(&sessions, "midn", tz).len(), 1);
        for (label, _) in session_choices(&sessions, "", tz) {
            assert!(label.chars().count() <= limits::CHOICE_NAME);
        }
    }

    #[test]
    fn skus_show_name_and_stock_and_answer_the_sku() {
        let product = |sku: &str, active| ProductSuggestion {
            sku: Sku::parse(sku, &SkuRules::default()).unwrap(),
            name: "Kopi Arabika Gayo 250 g".to_owned(),
            stock: 100,
            active,
        };
        let choices = sku_choices(&[product("FS-001", true), product("FS-OFF", false)]);
        assert_eq!(
            choices,
            vec![
                (
                    "FS-001 - Kopi Arabika Gayo 250 g - stock 100".to_owned(),
                    "FS-001".to_owned()
                ),
                (
                    "FS-OFF - Kopi Arabika Gayo 250 g - stock 100 (inactive)".to_owned(),
                    "FS-OFF".to_owned()
                ),
            ]
        );
    }
}
