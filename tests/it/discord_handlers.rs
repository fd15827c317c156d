//! The Discord adapter's buttons and forms against the real app and Postgres:
//! members are built from their Discord roles exactly as the adapter does,
//! presses and submits go through the adapter's handlers, and the answers are
//! the private replies a member would see.

use std::collections::HashMap;

use flashsale_bot::app::AppError;
use flashsale_bot::chat::{Channel, Mention};
use flashsale_bot::domain::{Actor, RuleViolation, Status, TransitionRefused};
use flashsale_bot::platforms::discord::forms::{self, FormId};
use flashsale_bot::platforms::discord::interactions::{pressed, submitted, Pressed};
use flashsale_bot::platforms::discord::{Data, Rendered};
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::discord::{data, member, APPROVER_ROLE, EDITOR_ROLE, OTHER_ROLE};

fn bob() -> Actor {
    member(71, "Bob", &[APPROVER_ROLE])
}

fn approve_id(session: i64, version: i32) -> String {
    format!("fs:approve:{session}:{version}")
}

fn reply(p: Pressed) -> Rendered {
    match p {
        Pressed::Reply(r) => r,
        Pressed::Form(f) => panic!("expected a reply, got a form {f:?}"),
    }
}

fn values(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn status(t: &TestApp, id: i64) -> Status {
    t.app.queries.get(id).await.unwrap().status
}

#[sqlx::test]
async fn a_member_without_the_approver_role_is_refused_and_nothing_changes(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let d = data(&t.app);
    let session = t.submitted().await;
    let eve = member(70, "Eve", &[EDITOR_ROLE, OTHER_ROLE]);
    let approve_button = approve_id(session.id, session.version);
    let reject_button = format!("fs:reject:{}:{}", session.id, session.version);

    let approve = reply(
        t.unchanged(session.id, pressed(&d, &eve, "i1", &approve_button))
            .await,
    );
    let reject = t
        .unchanged(session.id, pressed(&d, &eve, "i2", &reject_button))
        .await;

    assert!(
        approve.content.starts_with("Only approvers can do this"),
        "{}",
        approve.content
    );
    assert!(approve.embeds.is_empty());
    let Pressed::Reply(reject) = reject else {
        panic!("a non-approver must not get the reason form")
    };
    assert!(
        reject.content.starts_with("Only approvers can do this"),
        "{}",
        reject.content
    );
}

#[sqlx::test]
async fn an_approver_approves_from_the_card_and_sees_the_session(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let d = data(&t.app);
    let session = t.submitted().await;

    let answer = reply(pressed(&d, &bob(), "i1", &approve_id(session.id, session.version)).await);

    let go_live = session.window.starts_at().timestamp();
    assert_eq!(
        answer.content,
        format!("Approved #{}. It goes live <t:{go_live}:R>.", session.id)
    );
    assert_eq!(answer.embeds.len(), 1);
    let approved = t.app.queries.get(session.id).await.unwrap();
    assert_eq!(approved.status, Status::Approved);
    assert_eq!(approved.approved_by.unwrap().as_str(), "discord:71");
}

#[sqlx::test]
async fn a_double_click_approves_once(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let d = data(&t.app);
    let session = t.submitted().await;
    let id = approve_id(session.id, session.version);

    let first = reply(pressed(&d, &bob(), "same-interaction", &id).await);
    let second = reply(pressed(&d, &bob(), "same-interaction", &id).await);

    assert!(first.content.starts_with("Approved #"));
    assert_eq!(second.content, "This was already handled.");
    assert_eq!(t.activity_count(session.id, "approved").await, 1);
}

#[sqlx::test]
async fn a_member_with_both_roles_cannot_approve_what_they_drafted(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let d = data(&t.app);
    let dana = member(72, "Dana", &[EDITOR_ROLE, APPROVER_ROLE]);
    let draft = values(&[
        (forms::TITLE, "Payday"),
        (forms::START, "tomorrow 00:00"),
        (forms::END, "tomorrow 12:00"),
    ]);
    let drafted = submitted(&d, &dana, "f1", FormId::Draft, &draft).await;
    let id = t
        .app
        .queries
        .list(flashsale_bot::app::ListRange::Upcoming)
        .await
        .unwrap()[0]
        .id;
    assert!(drafted.content.starts_with(&format!("Drafted #{id}.")));
    let lines =
        "FS-001 30% 10\nFS-002 30% 10\nFS-003 30% 10\nFS-004 30% 10\nFS-005 30% 10\nFS-006 30% 10";
    submitted(
        &d,
        &dana,
        "f2",
        FormId::Paste { session_id: id },
        &values(&[(forms::LINES, lines)]),
    )
    .await;
    let pending = t.app.desk.submit(&dana, id).await.unwrap();

    let answer = reply(pressed(&d, &dana, "i1", &approve_id(id, pending.version)).await);

    assert_eq!(
        answer.content,
        AppError::Rule(RuleViolation::SelfApproval).to_string()
    );
    assert_eq!(status(&t, id).await, Status::PendingApproval);
}

#[sqlx::test]
async fn a_press_on_a_stale_card_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let d = data(&t.app);
    let old = t.submitted().await;
    t.app.desk.withdraw(&t.alice, old.id).await.unwrap();
    let current = t.app.desk.submit(&t.alice, old.id).await.unwrap();

    let answer = reply(pressed(&d, &bob(), "i1", &approve_id(old.id, old.version)).await);

    let stale = RuleViolation::StaleVersion {
        seen: old.version,
        current: current.version,
    };
    assert_eq!(answer.content, AppError::Rule(stale).to_string());
    assert_eq!(status(&t, old.id).await, Status::PendingApproval);
}

#[sqlx::test]
async fn forged_and_damaged_button_ids_are_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let d = data(&t.app);
    let session = t.submitted().await;

    for (n, forged) in [
        format!("fs:approve:{}:0", session.id),
        format!("fs:delete:{}:{}", session.id, session.version),
        format!("fs:approve:{}:{}:1", session.id, session.version),
        "fs:approve:x:1".to_owned(),
    ]
    .iter()
    .enumerate()
    {
        let answer = reply(
            t.unchanged(session.id, pressed(&d, &bob(), &format!("i{n}"), forged))
                .await,
        );
        assert!(
            answer.content.starts_with("This button is not one of ours"),
            "{forged}: {}",
            answer.content
        );
    }
    let missing = reply(
        t.unchanged(
            session.id,
            pressed(&d, &bob(), "i9", &approve_id(999_999, 1)),
        )
        .await,
    );
    assert_eq!(
        missing.content,
        AppError::SessionNotFound(999_999)
            .message()
            .render(|_, _| String::new())
    );
}

#[sqlx::test]
async fn reject_asks_for_a_reason_then_rejects_once_and_tells_the_submitter(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let d = data(&t.app);
    let session = t.submitted().await;

    let form = match pressed(
        &d,
        &bob(),
        "i1",
        &format!("fs:reject:{}:{}", session.id, session.version),
    )
    .await
    {
        Pressed::Form(form) => serde_json::to_value(form).unwrap(),
        Pressed::Reply(r) => panic!("expected the reason form, got {}", r.content),
    };
    assert_eq!(
        form["custom_id"],
        format!("fs:form:reason:{}:{}", session.id, session.version)
    );
    assert_eq!(
        t.activity_actions(session.id).await.last().unwrap(),
        "submitted",
        "opening the form changes nothing"
    );

    let form_id = FormId::parse(form["custom_id"].as_str().unwrap()).unwrap();
    let reason = values(&[(forms::REASON, "FS-004 is in another sale")]);
    let first = submitted(&d, &bob(), "m1", form_id, &reason).await;
    let again = submitted(&d, &bob(), "m1", form_id, &reason).await;

    assert_eq!(
        first.content,
        format!(
            "Rejected #{}: it is a draft again and the submitter was told why.",
            session.id
        )
    );
    assert_eq!(again.content, "This was already handled.");
    t.deliver_notices().await;
    let rejected = t.app.queries.get(session.id).await.unwrap();
    assert_eq!(rejected.status, Status::Draft);
    assert_eq!(
        rejected.rejection_reason.as_deref(),
        Some("FS-004 is in another sale")
    );
    let told = t.chat.posts_to(Channel::Announcements);
    assert_eq!(told.len(), 1);
    assert_eq!(
        told[0].message.mentions,
        [Mention::User(t.alice.id.clone())]
    );
}

#[sqlx::test]
async fn a_blank_reason_is_refused_and_the_session_stays_pending(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let d = data(&t.app);
    let session = t.submitted().await;
    let form_id = FormId::Reject {
        session_id: session.id,
        version: session.version,
    };

    let answer = submitted(&d, &bob(), "m1", form_id, &values(&[])).await;

    assert_eq!(
        answer.content,
        AppError::Rule(RuleViolation::ReasonRequired).to_string()
    );
    assert_eq!(status(&t, session.id).await, Status::PendingApproval);
}

#[sqlx::test]
async fn the_draft_form_creates_one_draft_even_when_delivered_twice(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let d: Data = data(&t.app);
    let ed = member(73, "Ed", &[EDITOR_ROLE]);
    let form = values(&[
        (forms::TITLE, "Payday"),
        (forms::START, "tomorrow 00:00"),
        (forms::END, "tomorrow 12:00"),
        (forms::NOTES, "Bags only"),
    ]);

    let first = submitted(&d, &ed, "m1", FormId::Draft, &form).await;
    let again = submitted(&d, &ed, "m1", FormId::Draft, &form).await;

    let sessions = t
        .app
        .queries
        .list(flashsale_bot::app::ListRange::Upcoming)
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1);
    let id = sessions[0].id;
    assert_eq!(
        first.content,
        format!("Drafted #{id}. Add six SKUs with /flashsale add-sku session:{id}.")
    );
    assert_eq!(again.content, "This was already handled.");
    let view = t.app.queries.get(id).await.unwrap();
    assert_eq!(
        (view.title.as_str(), view.notes.as_deref()),
        ("Payday", Some("Bags only"))
    );
    assert_eq!(view.created_by.as_str(), "discord:73");
    assert_eq!(view.created_by_name, "Ed");
}

#[sqlx::test]
async fn a_member_without_the_editor_role_cannot_draft(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let d = data(&t.app);
    let guest = member(74, "Guest", &[OTHER_ROLE]);
    let form = values(&[
        (forms::TITLE, "x"),
        (forms::START, "tomorrow 00:00"),
        (forms::END, "tomorrow 12:00"),
    ]);

    let answer = submitted(&d, &guest, "m1", FormId::Draft, &form).await;

    assert_eq!(
        answer.content,
        AppError::Transition(TransitionRefused::DraftingForbidden).to_string()
    );
    assert!(t
        .app
        .queries
        .list(flashsale_bot::app::ListRange::Upcoming)
        .await
        .unwrap()
        .is_empty());
}

#[sqlx::test]
async fn pasted_lines_are_reported_one_by_one(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let d = data(&t.app);
    let session = t.draft().await;
    let ed = member(73, "Ed", &[EDITOR_ROLE]);
    let lines = "SKU\tDiscount\tQty\nFS-001\t30%\t10\nFS-NOPE 10 1\nFS-002, 25, 5";

    let answer = submitted(
        &d,
        &ed,
        "m1",
        FormId::Paste {
            session_id: session.id,
        },
        &values(&[(forms::LINES, lines)]),
    )
    .await;

    let content: Vec<&str> = answer.content.lines().collect();
    assert_eq!(content[0], format!("Pasted into #{}.", session.id));
    assert_eq!(content[1], "Added 2 of 3 lines.");
    assert_eq!(content[2], "✅ line 2 · FS-001 added");
    assert!(
        content[3].starts_with("❌ line 3 · FS-NOPE: "),
        "{}",
        content[3]
    );
    assert_eq!(content[4], "✅ line 4 · FS-002 added");
    assert_eq!(answer.embeds.len(), 1, "the session card comes with it");
    assert_eq!(t.app.queries.get(session.id).await.unwrap().items.len(), 2);
}
