//! Replies other than cards: the list, the log, the paste report, help and
//! refusals, the forms, and the command registration.

use chrono::{DateTime, Duration, Utc};
use flashsale_bot::app::calendar::calendar;
use flashsale_bot::app::{
    ActivityEntry, ActivityPage, AppError, BatchReport, LineOutcome, ListRange, ListView,
    SessionSummaryView,
};
use flashsale_bot::domain::{RuleViolation, Status};
use flashsale_bot::platforms::discord::{commands, forms, Rendered};
use flashsale_bot::store::ActivityRecord;
use serde_json::{json, Value};

use super::{longest_session, no_pings, session, start, window};
use crate::support::discord::{assert_within_discord_limits, json, renderer};

fn summary(
    id: i64,
    status: Status,
    from: DateTime<Utc>,
    hours: i64,
    items: i64,
) -> SessionSummaryView {
    SessionSummaryView {
        id,
        title: format!("Session {id}"),
        window: window(from, hours),
        status,
        item_count: items,
        approval_deadline: from - Duration::hours(1),
        ended_at: None,
    }
}

/// All of `sessions` as one page of `range`, with the app's free time between them.
fn one_page(range: ListRange, sessions: Vec<SessionSummaryView>) -> ListView {
    ListView {
        range,
        total: sessions.len() as i64,
        uncovered: None,
        rows: calendar(sessions),
        page: 1,
        pages: 1,
    }
}

#[test]
fn the_list_is_a_compact_calendar_with_the_free_time_between_sessions() {
    let sessions = vec![
        summary(14, Status::Approved, start() + Duration::hours(18), 6, 6),
        summary(12, Status::Draft, start(), 12, 4),
        summary(13, Status::Cancelled, start() + Duration::hours(12), 6, 6),
    ];
    let sent = json(renderer().list(&one_page(ListRange::Upcoming, sessions)));
    assert_within_discord_limits(&sent);
    let embed = &sent["embeds"][0];
    assert_eq!(embed["title"], "Upcoming flash sales (3)");
    let text = embed["description"].as_str().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "**#12** Session 12 · Draft · 4/6");
    assert_eq!(
        lines[1],
        "<t:1795712400:f> → <t:1795755600:t> (Fri 27 Nov 00:00–12:00 WIB) · approve by <t:1795708800:R>"
    );
    // The cancelled session leaves its slot free; the approved one has no deadline to chase.
    assert!(text.contains("**#13** Session 13 · Cancelled · 6/6"));
    assert!(text.contains("*· free 6h: Fri 27 Nov 12:00–18:00 WIB ·*\n**#14**"));
    assert!(!text.contains("free 0m"));
    let approved = lines.iter().position(|l| l.starts_with("**#14**")).unwrap();
    assert!(!lines[approved + 1].contains("approve by"));
    assert_eq!(embed["footer"]["text"], "Times in Asia/Jakarta");
}

#[test]
fn a_full_page_of_the_longest_entries_fits_and_the_footer_names_the_next_page() {
    let sessions: Vec<SessionSummaryView> = (1..=ListView::PAGE_SIZE)
        .map(|i| {
            // A day apart: every entry carries a free-time line with two dates.
            let mut s = summary(i, Status::Draft, start() + Duration::hours(25 * i), 1, 0);
            s.title = "界".repeat(100);
            s.id = 1_000_000_000 + i;
            s
        })
        .collect();
    let page = ListView {
        page: 2,
        pages: 5,
        total: 45,
        uncovered: None,
        ..one_page(ListRange::Week, sessions)
    };
    let sent = json(renderer().list(&page));
    assert_within_discord_limits(&sent);
    let embed = &sent["embeds"][0];
    let text = embed["description"].as_str().unwrap();
    assert!(!text.contains(" more:"), "a whole page fits: {text}");
    assert_eq!(text.matches("*· free 1d: ").count(), 9, "{text}");
    assert_eq!(embed["title"], "Flash sales this week (45) · page 2 of 5");
    assert_eq!(
        embed["footer"]["text"],
        "Times in Asia/Jakarta · next: /flashsale list range:week page:3"
    );
}

#[test]
fn the_last_page_names_no_next_page() {
    let sessions = vec![summary(12, Status::Draft, start(), 12, 4)];
    let page = ListView {
        page: 3,
        pages: 3,
        total: 21,
        uncovered: None,
        ..one_page(ListRange::Upcoming, sessions)
    };
    let embed = &json(renderer().list(&page))["embeds"][0];
    assert_eq!(embed["title"], "Upcoming flash sales (21) · page 3 of 3");
    assert_eq!(embed["footer"]["text"], "Times in Asia/Jakarta");
}

#[test]
fn an_empty_list_says_how_to_start() {
    let sent = json(renderer().list(&one_page(ListRange::Today, vec![])));
    assert_eq!(
        sent["embeds"][0]["description"],
        "Nothing here. Start one with `/flashsale draft`."
    );
}

fn entry(id: i64, action: &str, details: Value) -> ActivityEntry {
    ActivityEntry::from(ActivityRecord {
        id,
        session_id: 12,
        at: start() - Duration::hours(5),
        actor_id: "discord:81".to_owned(),
        actor_name: "Alice".to_owned(),
        action: action.to_owned(),
        details,
    })
}

#[test]
fn the_log_says_who_did_what_and_when_page_by_page() {
    let page = ActivityPage {
        session_id: 12,
        entries: vec![
            entry(
                1,
                "drafted",
                json!({ "title": "Midnight Deals", "starts_at": start(), "ends_at": start() + Duration::hours(12) }),
            ),
            entry(
                2,
                "item_added",
                json!({ "sku": "FS-001", "product_name": "Kopi", "discount_percent": 30, "quantity": 10 }),
            ),
            entry(
                3,
                "item_updated",
                json!({ "sku": "FS-001", "before": { "discount_percent": 30, "quantity": 10 }, "after": { "discount_percent": 25, "quantity": 10 } }),
            ),
            entry(
                4,
                "rejected",
                json!({ "from": "pending_approval", "to": "draft", "reason": "FS-004 is out" }),
            ),
            entry(5, "something_new", json!({})),
        ],
        page: 1,
        pages: 2,
        total: 20,
    };
    let sent = json(renderer().log(&page));
    assert_within_discord_limits(&sent);
    let embed = &sent["embeds"][0];
    assert_eq!(embed["title"], "Activity of #12 · page 1 of 2");
    assert_eq!(
        embed["footer"]["text"],
        "20 entries · next: /flashsale log session:12 page:2"
    );
    let lines: Vec<&str> = embed["description"].as_str().unwrap().lines().collect();
    assert_eq!(
        lines,
        vec![
            "<t:1795694400:f> **Alice** drafted \"Midnight Deals\" for <t:1795712400:F> (2026-11-27 00:00 WIB) → <t:1795755600:F> (2026-11-27 12:00 WIB)",
            "<t:1795694400:f> **Alice** added FS-001 (Kopi) at 30% off, 10 units",
            "<t:1795694400:f> **Alice** changed FS-001: discount 30% → 25%",
            "<t:1795694400:f> **Alice** rejected it: FS-004 is out",
            "<t:1795694400:f> **Alice** something new",
        ]
    );
}

#[test]
fn a_full_log_page_with_long_details_fits() {
    let entries = (1..=15)
        .map(|i| entry(i, "cancelled", json!({ "reason": "界".repeat(2000) })))
        .collect();
    let page = ActivityPage {
        session_id: 12,
        entries,
        page: 3,
        pages: 3,
        total: 45,
    };
    let sent = json(renderer().log(&page));
    assert_within_discord_limits(&sent);
    assert_eq!(sent["embeds"][0]["footer"]["text"], "45 entries");
}

#[test]
fn the_paste_report_says_per_line_what_was_added_and_why_others_were_refused() {
    let report = BatchReport {
        lines: vec![
            LineOutcome {
                line_no: 1,
                sku: "FS-001".into(),
                result: Ok(()),
            },
            LineOutcome {
                line_no: 3,
                sku: "FS-XYZ".into(),
                result: Err(AppError::Rule(RuleViolation::UnknownSku {
                    sku: "FS-XYZ".into(),
                })),
            },
        ],
        session: session(Status::Draft, 1),
    };
    let sent = json(renderer().batch("Pasted into #12.", &report));
    assert_within_discord_limits(&sent);
    let content = sent["content"].as_str().unwrap();
    let unknown = AppError::Rule(RuleViolation::UnknownSku {
        sku: "FS-XYZ".into(),
    })
    .to_string();
    assert_eq!(
        content,
        format!("Pasted into #12.\nAdded 1 of 2 lines.\n✅ line 1 · FS-001 added\n❌ line 3 · FS-XYZ: {unknown}")
    );
    assert_eq!(sent["embeds"][0]["title"], "#12 Midnight Deals");
    assert_eq!(sent["allowed_mentions"], no_pings());
}

#[test]
fn a_paste_report_of_long_refusals_fits() {
    let refused = |n| LineOutcome {
        line_no: n,
        sku: "界".repeat(200),
        result: Err(AppError::Rule(RuleViolation::UnknownSku {
            sku: "界".repeat(2000),
        })),
    };
    let report = BatchReport {
        lines: (1..=6).map(refused).collect(),
        session: longest_session(),
    };
    assert_within_discord_limits(&json(renderer().batch("Pasted.", &report)));
}

#[test]
fn help_and_refusals_fit_and_refusals_are_the_apps_words() {
    assert_within_discord_limits(&json(renderer().help()));
    let refusal = AppError::SessionNotFound(42);
    let sent = json(renderer().error(&refusal));
    assert_eq!(
        sent["content"],
        "Session #42 does not exist. Use /flashsale list to see the sessions."
    );
    assert!(sent.get("embeds").is_none_or(|e| e == &json!([])));
    let long = json(Rendered::text("é".repeat(5000)));
    assert_eq!(long["content"].as_str().unwrap().chars().count(), 2000);
}

#[test]
fn forms_fit_discords_modal_limits() {
    for (form, inputs) in [
        (forms::draft(chrono_tz::Asia::Jakarta), 4),
        (forms::paste(i64::MAX), 1),
        (forms::reject(i64::MAX, i32::MAX), 1),
    ] {
        let form = serde_json::to_value(form).unwrap();
        assert!(form["title"].as_str().unwrap().chars().count() <= 45);
        assert!(form["custom_id"].as_str().unwrap().len() <= 100);
        let rows = form["components"].as_array().unwrap();
        assert_eq!(rows.len(), inputs);
        for row in rows {
            let input = &row["components"][0];
            assert!(input["label"].as_str().unwrap().chars().count() <= 45);
            assert!(
                input["placeholder"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .count()
                    <= 100
            );
        }
    }
    let draft = serde_json::to_value(forms::draft(chrono_tz::Asia::Jakarta)).unwrap();
    assert_eq!(draft["custom_id"], "fs:form:draft");
    assert_eq!(
        draft["components"][1]["components"][0]["label"],
        "Start (Asia/Jakarta)"
    );
    assert_eq!(
        draft["components"][1]["components"][0]["placeholder"],
        "tomorrow 00:00 · today 18:30 · 2026-11-27 09:00"
    );
    assert_eq!(draft["components"][3]["components"][0]["required"], false);
    let reject = serde_json::to_value(forms::reject(12, 7)).unwrap();
    assert_eq!(reject["custom_id"], "fs:form:reason:12:7");
    assert_eq!(reject["components"][0]["components"][0]["required"], true);
    assert_eq!(
        reject["components"][0]["components"][0]["style"], 2,
        "paragraph"
    );
}

#[test]
fn the_commands_register_as_one_flashsale_group_within_discords_rules() {
    let registered = serde_json::to_value(poise::builtins::create_application_commands(
        &commands::all(),
    ))
    .unwrap();
    let groups = registered.as_array().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["name"], "flashsale");
    let names: Vec<&str> = groups[0]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sub| sub["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "draft",
            "add-sku",
            "edit-sku",
            "remove-sku",
            "view",
            "list",
            "submit",
            "withdraw",
            "cancel",
            "revoke",
            "override",
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
        ]
    );
    let described = |v: &Value| {
        let d = v["description"].as_str().unwrap_or_default();
        assert!(
            (1..=100).contains(&d.chars().count()),
            "{}: {d:?}",
            v["name"]
        );
    };
    described(&groups[0]);
    for sub in groups[0]["options"].as_array().unwrap() {
        let name = sub["name"].as_str().unwrap();
        assert!(name.len() <= 32 && name == name.to_lowercase());
        described(sub);
        // `slot` and `template` are groups (type 2) of subcommands (type 1).
        let subcommands = if matches!(name, "slot" | "template") {
            assert_eq!(sub["type"], 2, "{name} is a subcommand group");
            sub["options"].as_array().unwrap().iter().collect()
        } else {
            vec![sub]
        };
        for sub in subcommands {
            assert_eq!(sub["type"], 1, "{} is a subcommand", sub["name"]);
            described(sub);
            for option in sub["options"].as_array().into_iter().flatten() {
                described(option);
            }
        }
    }
    let range = &groups[0]["options"][5]["options"][0];
    let choices: Vec<(&str, i64)> = range["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["value"].as_i64().unwrap()))
        .collect();
    assert_eq!(choices, vec![("upcoming", 0), ("today", 1), ("week", 2)]);
}
