//! End to end through the Discord protocol: the real bot (`flashsale-bot run`)
//! against a fake Discord on loopback (`support::fake_discord`), the dev
//! storefront and the test's own database. Members type commands, press
//! buttons and fill forms; each story checks what Discord receives and what
//! the database holds, and `Story::finish` checks every body the bot sent
//! against Discord's limits.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::support::fake_discord::payloads;
use crate::support::fake_discord::story::{alice, bob, carol, eve, typed, Story};
use crate::support::fake_discord::{
    check_dispatch, Origin, Recorded, ANNOUNCEMENTS_CHANNEL, API, APPROVALS_CHANNEL, APPROVER_ROLE,
};

/// Far enough ahead for the default approval deadline (60 minutes before start).
fn in_three_hours() -> (DateTime<Utc>, DateTime<Utc>) {
    let start = Utc::now() + Duration::hours(3);
    (start, start + Duration::hours(2))
}

fn session_option(session: i64) -> (&'static str, Value) {
    ("session", json!(session.to_string()))
}

/// The fake's own payloads are what serenity reads: if one were not, serenity
/// would drop it silently and a story would only time out.
#[test]
fn the_fake_speaks_shapes_serenity_reads() {
    let frame = |t: &str, d: Value| json!({ "op": 0, "s": 1, "t": t, "d": d });
    assert_eq!(
        check_dispatch(&frame(
            "READY",
            payloads::ready("s", "ws://127.0.0.1:1/gateway")
        )),
        None
    );
    assert_eq!(
        check_dispatch(&frame("GUILD_CREATE", payloads::guild())),
        None
    );
    let mut role_without_colors = payloads::guild();
    role_without_colors["roles"][1]
        .as_object_mut()
        .unwrap()
        .remove("colors");
    assert!(check_dispatch(&frame("GUILD_CREATE", role_without_colors)).is_some());
    serde_json::from_value::<serenity::all::CurrentApplicationInfo>(payloads::application())
        .unwrap();
    serde_json::from_value::<serenity::all::CurrentUser>(payloads::current_user()).unwrap();
    let sent =
        json!({ "name": "flashsale", "description": "Flash sales", "type": 1, "options": [] });
    serde_json::from_value::<serenity::all::Command>(payloads::registered_command(
        &sent,
        7,
        Some(1),
    ))
    .unwrap();
    let posted = json!({ "content": "hi", "embeds": [{ "title": "t" }], "components": [
        { "type": 1, "components": [{ "type": 2, "style": 3, "label": "Approve", "custom_id": "fs:approve:1:2" }] }
    ] });
    serde_json::from_value::<serenity::all::Message>(payloads::message(9, 10, &posted, false))
        .unwrap();
}

/// Story 1: an editor drafts through the form, adds one SKU by options and
/// five by the paste form, submits; the approval card appears in the
/// approvals channel with Approve and Reject and pings the approver role only.
#[sqlx::test]
async fn an_editor_drafts_fills_and_submits_and_the_card_pings_only_approvers(pool: PgPool) {
    let story = Story::start(pool).await;
    let carol = carol();
    let (start, end) = in_three_hours();

    let form = story.run(&carol, "draft", &[]).await;
    assert!(form.is_modal(), "{}", form.text());
    assert_eq!(form.custom_id(), "fs:form:draft");
    let inputs: Vec<&str> = form.body["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|row| row["components"][0]["custom_id"].as_str())
        .collect();
    assert_eq!(inputs, ["title", "start", "end", "notes"]);
    let session = story.draft(&carol, "Midnight Deals", start, end).await;
    assert_eq!(story.row(session).await.status, "draft");

    let added = story.add_sku(&carol, session, "FS-001", 30, 50).await;
    assert!(added.ephemeral);
    assert_eq!(added.content(), format!("Added FS-001 to #{session}."));
    assert!(added.text().contains("1 of 6 SKUs"), "{}", added.text());

    let pasted = story
        .paste(
            &carol,
            session,
            "SKU\tdiscount\tquantity\nFS-002\t25%\t40\nFS-003, 20, 30\n\nFS-004;15;20\nFS-005 10 10\nFS-006 35% 5",
        )
        .await;
    assert!(pasted.ephemeral);
    let report = pasted.text();
    assert!(
        report.contains(&format!("Pasted into #{session}.")),
        "{report}"
    );
    assert!(report.contains("Added 5 of 5 lines."), "{report}");
    assert_eq!(story.row(session).await.items, 6);

    let mark = story.fake.mark();
    let submitted = story.submit(&carol, session).await;
    assert!(submitted.ephemeral);
    assert_eq!(
        submitted.content(),
        format!("Submitted #{session} for approval: the card is in <#{APPROVALS_CHANNEL}>.")
    );

    let card = story.approval_card(mark, session).await;
    let row = story.row(session).await;
    assert_eq!(row.status, "pending_approval");
    assert_eq!(row.card_message, Some(card.message_id().to_string()));
    assert_eq!(
        card.button_ids(),
        [
            format!("fs:approve:{session}:{}", row.version),
            format!("fs:reject:{session}:{}", row.version)
        ]
    );
    let labels: Vec<&str> = card.body["components"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["Approve", "Reject"]);
    assert!(card.body["content"]
        .as_str()
        .unwrap()
        .starts_with(&format!("<@&{APPROVER_ROLE}>")));
    assert_eq!(
        card.body["allowed_mentions"],
        json!({ "parse": [], "roles": [APPROVER_ROLE.to_string()], "users": [] })
    );
    let text = card.text();
    for sku in ["FS-001", "FS-002", "FS-003", "FS-004", "FS-005", "FS-006"] {
        assert!(text.contains(sku), "{sku} missing from the card: {text}");
    }
    // The card is the only message that pings anyone.
    let pings: Vec<Recorded> = story
        .fake
        .requests()
        .into_iter()
        .filter(|r| {
            let m = &r.body["allowed_mentions"];
            m["roles"].as_array().is_some_and(|l| !l.is_empty())
                || m["users"].as_array().is_some_and(|l| !l.is_empty())
        })
        .collect();
    assert_eq!(pings.len(), 1, "{pings:#?}");
    story.finish().await;
}

/// Story 2: only another approver can approve from the card.
#[sqlx::test]
async fn only_another_approver_can_approve_from_the_card_and_then_it_is_locked(pool: PgPool) {
    let story = Story::start(pool).await;
    let (start, end) = in_three_hours();
    let (session, card) = story.submitted(start, end).await;
    let card_id = card.message_id();
    let approve = card.button_ids()[0].clone();
    let mark = story.fake.mark();

    let refused = story
        .refused(session, story.press(&eve(), card_id, &approve))
        .await;
    assert!(refused.ephemeral);
    refused.assert_starts_with("Only approvers can do this");

    let own = story
        .refused(session, story.press(&carol(), card_id, &approve))
        .await;
    assert!(own.ephemeral);
    assert_eq!(
        own.content(),
        "You edited or submitted this session, so someone else must approve it (four-eyes rule)."
    );
    assert!(
        story.edits_of(card_id, mark).is_empty(),
        "a refusal edited the card"
    );

    let approved = story.press(&bob(), card_id, &approve).await;
    assert!(approved.ephemeral);
    approved.assert_starts_with(&format!("Approved #{session}. It goes live <t:"));
    let edit = story.card_edit(mark, card_id, "approved").await;
    assert_eq!(edit.body["components"], json!([]), "the buttons must go");
    assert!(edit.text().contains("Approved by Bob"), "{}", edit.text());
    assert!(story.fake.message(card_id)["components"] == json!([]));
    let row = story.row(session).await;
    assert_eq!(row.status, "approved");
    assert_eq!(row.items, 6);

    let locked = story
        .refused(session, story.add_sku(&alice(), session, "FS-007", 10, 5))
        .await;
    locked.assert_starts_with("This session is approved and locked (read-only)");
    story.finish().await;
}

/// Story 3: a rejection needs a reason; with one, the session is a draft
/// again, the card says so and the submitter is told (and pinged).
#[sqlx::test]
async fn a_rejection_with_a_reason_returns_the_session_to_draft_and_tells_the_submitter(
    pool: PgPool,
) {
    let story = Story::start(pool).await;
    let (start, end) = in_three_hours();
    let (session, card) = story.submitted(start, end).await;
    let card_id = card.message_id();
    let reject = card.button_ids()[1].clone();
    let before = story.row(session).await;

    let form = story.press(&bob(), card_id, &reject).await;
    assert!(form.is_modal(), "{}", form.text());
    let form_id = format!("fs:form:reason:{session}:{}", before.version);
    assert_eq!(form.custom_id(), form_id);

    let blank = story
        .refused(
            session,
            story.submit_form(&bob(), &form_id, &[("reason", "   ")]),
        )
        .await;
    assert_eq!(
        blank.content(),
        "A reason is required: tell the editors what to change."
    );

    let mark = story.fake.mark();
    let reason = "FS-004 is in another sale that week; pick another shirt.";
    let rejected = story
        .submit_form(&bob(), &form_id, &[("reason", reason)])
        .await;
    assert!(rejected.ephemeral);
    assert_eq!(
        rejected.content(),
        format!("Rejected #{session}: it is a draft again and the submitter was told why.")
    );
    let row = story.row(session).await;
    assert_eq!(row.status, "draft");
    assert_eq!(row.rejection_reason.as_deref(), Some(reason));

    let edit = story.card_edit(mark, card_id, "rejected").await;
    assert_eq!(edit.body["components"], json!([]));
    assert!(edit.text().contains("Rejected by Bob"), "{}", edit.text());
    let told = story
        .post_in(ANNOUNCEMENTS_CHANNEL, mark, "was rejected by Bob")
        .await;
    let carol_id = carol().id.to_string();
    assert!(told.text().contains(reason), "{}", told.text());
    assert!(told.body["content"]
        .as_str()
        .unwrap()
        .contains(&format!("<@{carol_id}>")));
    assert_eq!(told.body["allowed_mentions"]["users"], json!([carol_id]));
    assert_eq!(told.body["allowed_mentions"]["roles"], json!([]));

    // Editable again.
    let edited = story
        .run(
            &carol(),
            "edit-sku",
            &[
                session_option(session),
                ("sku", json!("FS-004")),
                ("discount", json!(12)),
            ],
        )
        .await;
    assert_eq!(edited.content(), format!("Changed FS-004 in #{session}."));
    story.finish().await;
}

/// Story 4: approved to start shortly, the session goes live by itself: one
/// signed publish, "now live" once, the card says Live; at its end "ended".
#[sqlx::test]
async fn an_approved_session_goes_live_by_itself_and_ends(pool: PgPool) {
    let story = Story::start_with(
        pool,
        &[("APPROVAL_CUTOFF_MINUTES", "0"), ("MIN_LEAD_MINUTES", "0")],
    )
    .await;
    // Approved two minutes ahead, then the publish job moved to now instead of waiting.
    let (session, card, live, mark) = story.gone_live().await;
    let card_id = card.message_id();
    assert!(live.text().contains("FS-006"), "{}", live.text());
    let live_card = story.card_edit_saying(mark, card_id, "Live since").await;
    assert!(live_card.text().contains("Live"), "{}", live_card.text());
    story.wait_status(session, "live").await;
    let publishes: Vec<_> = story
        .store
        .calls()
        .into_iter()
        .filter(|c| c.method == "PUT" && c.path == format!("/api/flash-sales/{session}"))
        .collect();
    assert_eq!(publishes.len(), 1, "{publishes:#?}");
    assert_eq!(
        publishes[0].status, 200,
        "the storefront verifies the signature"
    );
    assert!(publishes[0].webhook_id.is_some());
    assert_eq!(
        publishes[0].body.as_ref().unwrap()["items"]
            .as_array()
            .unwrap()
            .len(),
        6
    );

    // End time.
    let mark = story.fake.mark();
    story.make_due(session, "end").await;
    story
        .post_in(ANNOUNCEMENTS_CHANNEL, mark, "has ended")
        .await;
    story.card_edit_saying(mark, card_id, "Ended").await;
    story.wait_status(session, "ended").await;
    assert!(story
        .store
        .calls()
        .iter()
        .any(|c| c.method == "DELETE" && c.path == format!("/api/flash-sales/{session}")));

    let announcements = format!("{API}/channels/{ANNOUNCEMENTS_CHANNEL}/messages");
    let posts = |needle: &str| {
        story
            .fake
            .requests()
            .iter()
            .filter(|r| r.is("POST", &announcements) && r.text().contains(needle))
            .count()
    };
    assert_eq!(posts("is now live!"), 1);
    assert_eq!(posts("has ended"), 1);
    story.finish().await;
}

/// Story 5: suggestions for `session` and `sku` are at most 25, in time.
#[sqlx::test]
async fn autocomplete_suggests_at_most_25_sessions_and_skus_in_time(pool: PgPool) {
    let story = Story::start(pool).await;
    let alice = alice();
    let (start, end) = in_three_hours();
    // 27 drafts, all forms opened and submitted at once.
    let forms: Vec<_> = (0..27)
        .map(|_| story.fake.slash(&alice, "draft", &[]))
        .collect();
    for form in &forms {
        assert!(story.fake.reply(form).await.is_modal());
    }
    let (start, end) = (typed(start), typed(end));
    // Titles without digits, so "#2" can only match session numbers.
    let titles: Vec<String> = (0..27u8)
        .map(|i| {
            format!(
                "Payday {}{}",
                char::from(b'A' + i % 26),
                "Z".repeat(usize::from(i / 26))
            )
        })
        .collect();
    let submits: Vec<_> = titles
        .iter()
        .map(|title| {
            story.fake.submit_form(
                &alice,
                "fs:form:draft",
                &[("title", title), ("start", &start), ("end", &end)],
            )
        })
        .collect();
    for submit in &submits {
        story
            .fake
            .reply(submit)
            .await
            .assert_starts_with("Drafted #");
    }
    assert_eq!(story.sessions().await, 27);

    let ask = |sub: &str, options: &[(&str, Value)], focused: &str| {
        story.fake.autocomplete(&alice, sub, options, focused)
    };
    let all = ask("add-sku", &[("session", json!(""))], "session");
    let all = story.fake.reply(&all).await.choices();
    assert_eq!(all.len(), 25);
    assert!(all
        .iter()
        .all(|(name, value)| name.starts_with(&format!("#{value} Payday"))));
    let typed = ask("view", &[("session", json!("#2"))], "session");
    let typed = story.fake.reply(&typed).await.choices();
    let values: Vec<&str> = typed.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(
        values,
        ["2", "20", "21", "22", "23", "24", "25", "26", "27"]
    );

    let skus = ask(
        "add-sku",
        &[("session", json!("1")), ("sku", json!(""))],
        "sku",
    );
    let skus = story.fake.reply(&skus).await.choices();
    assert_eq!(skus.len(), 25, "the catalog has 40 products: {skus:?}");
    let fs01 = ask(
        "add-sku",
        &[("session", json!("1")), ("sku", json!("FS-01"))],
        "sku",
    );
    let fs01 = story.fake.reply(&fs01).await.choices();
    let values: Vec<&str> = fs01.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(values, ["FS-010", "FS-011", "FS-012"]);
    assert!(
        fs01[0].0.starts_with("FS-010 - ") && fs01[0].0.ends_with(" - stock 120"),
        "{fs01:?}"
    );
    assert_eq!(story.sessions().await, 27, "suggesting changes nothing");
    story.finish().await;
}

/// Story 6: bad input through the protocol gets its clear refusal, and the
/// database stays as it was.
#[sqlx::test]
async fn bad_input_is_refused_clearly_and_changes_nothing(pool: PgPool) {
    let story = Story::start(pool).await;
    let (carol, bob) = (carol(), bob());
    let (start, end) = in_three_hours();
    let session = story.draft(&carol, "Midnight Deals", start, end).await;
    story
        .paste(
            &carol,
            session,
            "FS-001 30 10\nFS-002 30 10\nFS-003 30 10\nFS-004 20 10\nFS-005 30 10",
        )
        .await;
    let five = story.row(session).await;
    assert_eq!(five.items, 5);

    // Discord's client blocks numbers and lengths outside the registered
    // bounds (the app still refuses them; see tests/it/items.rs).
    let flashsale = story
        .fake
        .commands()
        .into_iter()
        .find(|c| c["name"] == "flashsale")
        .unwrap();
    let mut strings = 0;
    for sub in flashsale["options"].as_array().unwrap() {
        for option in sub["options"].as_array().into_iter().flatten() {
            let what = format!("{} {}", sub["name"], option["name"]);
            match (
                option["name"].as_str().unwrap(),
                option["type"].as_u64().unwrap(),
            ) {
                ("discount", 4) => assert_eq!(
                    (option["min_value"].as_f64(), option["max_value"].as_f64()),
                    (Some(1.0), Some(90.0)),
                    "{what}"
                ),
                ("quantity", 4) => assert_eq!(
                    (option["min_value"].as_f64(), option["max_value"].as_f64()),
                    (Some(1.0), Some(100_000.0)),
                    "{what}"
                ),
                ("page", 4) => assert_eq!(option["min_value"].as_f64(), Some(1.0), "{what}"),
                (name, 3) => {
                    strings += 1;
                    let max = option["max_length"].as_u64();
                    assert!(max.is_some(), "{what} has no max_length");
                    let expected = match name {
                        "sku" => Some(40),
                        "title" | "session" | "sheet" => Some(100),
                        "reason" => Some(1000),
                        "start" | "end" => Some(40),
                        _ => max,
                    };
                    assert_eq!(max, expected, "{what}");
                }
                _ => {}
            }
        }
    }
    assert!(strings > 20, "{strings} string options");

    for (sku, discount, quantity, refusal) in [(
        "FS-XYZ",
        30,
        10,
        "FS-XYZ is not in the catalog: check the SKU for typos.",
    )] {
        let reply = story
            .refused(
                session,
                story.add_sku(&carol, session, sku, discount, quantity),
            )
            .await;
        assert!(reply.ephemeral);
        assert_eq!(reply.content(), refusal);
    }
    let half = story
        .run(
            &carol,
            "add-sku",
            &[session_option(session), ("sku", json!("FS-006"))],
        )
        .await;
    assert_eq!(
        half.content(),
        "To add one SKU give sku, discount and quantity together; to paste several lines, give only the session."
    );
    let page_past_the_end = story.run(&carol, "list", &[("page", json!(2))]).await;
    assert_eq!(
        page_past_the_end.content(),
        "Page 2 does not exist: the list of upcoming sessions has 1 page, from 1."
    );
    let one_page = story.run(&carol, "list", &[("page", json!(1))]).await;
    assert_eq!(
        one_page.body["embeds"][0]["title"],
        "Upcoming flash sales (1)"
    );
    let not_a_session = story
        .run(&carol, "view", &[("session", json!("Midnight"))])
        .await;
    assert_eq!(
        not_a_session.content(),
        "\"Midnight\" is not a session: pick one from the list or type its number, e.g. 12."
    );

    story.add_sku(&carol, session, "FS-006", 30, 10).await;
    let seventh = story
        .refused(session, story.add_sku(&carol, session, "FS-007", 30, 10))
        .await;
    assert_eq!(
        seventh.content(),
        "The session is full: it already has 6 SKUs, the most a session can show. Remove one first."
    );

    let sessions = story.sessions().await;
    let past = Utc::now() - Duration::hours(1);
    let too_late = story
        .submit_form(
            &carol,
            "fs:form:draft",
            &[
                ("title", "Too late"),
                ("start", &typed(past)),
                ("end", &typed(end)),
            ],
        )
        .await;
    too_late.assert_starts_with("The start ");
    assert!(
        too_late.content().contains("has already passed"),
        "{}",
        too_late.content()
    );
    assert_eq!(story.sessions().await, sessions);

    // The card, then a forged button and a forged form.
    let mark = story.fake.mark();
    story.submit(&carol, session).await;
    let first_card = story.approval_card(mark, session).await;
    let pending = story.row(session).await;
    for forged in [
        format!("fs:approve:{session}:{}:1", pending.version),
        format!("fs:publish:{session}:{}", pending.version),
        "fs:approve:abc:1".to_owned(),
    ] {
        let reply = story
            .refused(session, story.press(&bob, first_card.message_id(), &forged))
            .await;
        assert!(
            reply
                .content()
                .starts_with("This button is not one of ours or is damaged"),
            "{forged}: {}",
            reply.text()
        );
    }
    let missing = story
        .refused(
            session,
            story.press(&bob, first_card.message_id(), "fs:approve:999:1"),
        )
        .await;
    assert_eq!(
        missing.content(),
        "Session #999 does not exist. Use /flashsale list to see the sessions."
    );
    let forged_form = story
        .refused(
            session,
            story.submit_form(
                &bob,
                &format!("fs:form:reason:{session}"),
                &[("reason", "x")],
            ),
        )
        .await;
    assert_eq!(
        forged_form.content(),
        "This form is not one of ours or is damaged; run the command again."
    );

    // A stale card: withdrawn, edited and submitted again; Approve on the first card.
    story
        .run(&carol, "withdraw", &[session_option(session)])
        .await;
    story
        .run(
            &carol,
            "edit-sku",
            &[
                session_option(session),
                ("sku", json!("FS-001")),
                ("quantity", json!(12)),
            ],
        )
        .await;
    let mark = story.fake.mark();
    story.submit(&carol, session).await;
    let second_card = story.approval_card(mark, session).await;
    let resubmitted = story.row(session).await;
    assert!(resubmitted.version > pending.version);
    let stale = story
        .refused(
            session,
            story.press(&bob, first_card.message_id(), &first_card.button_ids()[0]),
        )
        .await;
    assert_eq!(
        stale.content(),
        format!(
            "This session changed since you looked at it (you saw version {}, it is now version {}). Look at the refreshed card and try again.",
            pending.version, resubmitted.version
        )
    );

    // The same click delivered twice acts once; so does a double click.
    let approve = second_card.button_ids()[0].clone();
    let press = story.fake.press(&bob, second_card.message_id(), &approve);
    let approved = story.fake.reply(&press).await;
    approved.assert_starts_with(&format!("Approved #{session}."));
    let after = story.row(session).await;
    assert_eq!(after.status, "approved");
    let mark = story.fake.mark();
    story.fake.redeliver(&press);
    let again = story
        .fake
        .wait_after(mark, "the bot's answer to the redelivered press", |r| {
            r.path.contains(&press.token)
        })
        .await;
    assert_eq!(
        again.status, 400,
        "Discord refuses a second answer: {}",
        again.response
    );
    let click = story.fake.press(&bob, second_card.message_id(), &approve);
    let double = story.fake.reply(&click).await;
    assert!(
        double
            .content()
            .starts_with("This session changed since you looked at it")
            || double.content().contains("was already approved by Bob"),
        "{}",
        double.text()
    );
    assert_eq!(story.row(session).await, after);
    let approvals: i64 = sqlx::query_scalar(
        "select count(*) from activity where session_id = $1 and action = 'approved'",
    )
    .bind(session)
    .fetch_one(&story.pool)
    .await
    .unwrap();
    assert_eq!(approvals, 1);
    story.finish().await;
}

/// Story 7: the gateway connection drops mid-story; the bot resumes the
/// session, gets what was sent meanwhile, and the story goes on.
#[sqlx::test]
async fn a_dropped_gateway_connection_is_resumed_and_the_story_goes_on(pool: PgPool) {
    let story = Story::start(pool).await;
    let carol = carol();
    let (start, end) = in_three_hours();
    let session = story.draft(&carol, "Midnight Deals", start, end).await;
    story.add_sku(&carol, session, "FS-001", 30, 10).await;

    story.fake.disconnect(4000);
    // Sent while the bot is away: Discord keeps it for the RESUME.
    let add = story.fake.slash(
        &carol,
        "add-sku",
        &[
            session_option(session),
            ("sku", json!("FS-002")),
            ("discount", json!(20)),
            ("quantity", json!(5)),
        ],
    );
    let added = story.fake.reply(&add).await;
    assert_eq!(added.content(), format!("Added FS-002 to #{session}."));
    let ops: Vec<u64> = story
        .fake
        .gateway_frames()
        .iter()
        .filter_map(|f| f["op"].as_u64())
        .collect();
    assert_eq!(
        ops.iter().filter(|op| **op == 2).count(),
        1,
        "identified again instead of resuming: {ops:?}"
    );
    assert_eq!(ops.iter().filter(|op| **op == 6).count(), 1, "{ops:?}");
    let resume = story
        .fake
        .gateway_frames()
        .into_iter()
        .find(|f| f["op"] == 6)
        .unwrap();
    assert_eq!(resume["d"]["session_id"], "fake-session-1");
    let identify = story
        .fake
        .gateway_frames()
        .into_iter()
        .find(|f| f["op"] == 2)
        .unwrap();
    assert_eq!(resume["d"]["token"], identify["d"]["token"]);
    assert!(resume["d"]["seq"].as_u64() > Some(1), "{resume}");

    story
        .paste(
            &carol,
            session,
            "FS-003 30 10\nFS-004 20 10\nFS-005 30 10\nFS-006 30 10",
        )
        .await;
    let mark = story.fake.mark();
    story.submit(&carol, session).await;
    let card = story.approval_card(mark, session).await;
    story.approve_from_card(&bob(), session, &card).await;
    assert_eq!(story.row(session).await.status, "approved");
    story.finish().await;
}

/// Story 8: another server the bot is in (it registers globally there) and a
/// DM get a refusal for commands and buttons, and see no session.
#[sqlx::test]
async fn commands_and_buttons_from_another_server_or_a_dm_are_refused(pool: PgPool) {
    let story = Story::start_with(pool, &[("DISCORD_REGISTER_GLOBALLY", "true")]).await;
    let (start, end) = in_three_hours();
    let (session, card) = story.submitted(start, end).await;
    let refusal = "Flash sales are run from the team's own server: this bot answers nothing here.";

    for origin in [Origin::OtherGuild, Origin::DirectMessage] {
        let view = story
            .fake
            .slash_from(origin, &bob(), "view", &[session_option(session)]);
        let reply = story.fake.reply(&view).await;
        assert!(reply.ephemeral);
        assert_eq!(reply.content(), refusal, "{origin:?}");
        let list = story.fake.slash_from(origin, &carol(), "list", &[]);
        assert_eq!(
            story.fake.reply(&list).await.content(),
            refusal,
            "{origin:?}"
        );
    }
    let approve = card.button_ids()[0].clone();
    let press = story
        .refused(session, async {
            let ix = story
                .fake
                .press_from(Origin::OtherGuild, &bob(), card.message_id(), &approve);
            story.fake.reply(&ix).await
        })
        .await;
    assert!(press.ephemeral);
    assert_eq!(press.content(), refusal);
    assert_eq!(story.row(session).await.status, "pending_approval");
    story.finish().await;
}

/// Story 9: a button or form whose id is not ours gets an answer like any
/// damaged one, instead of Discord's "This interaction failed".
#[sqlx::test]
async fn a_button_or_form_that_is_not_ours_is_answered(pool: PgPool) {
    let story = Story::start(pool).await;
    let (start, end) = in_three_hours();
    let (session, card) = story.submitted(start, end).await;

    let press = story
        .refused(
            session,
            story.press(&bob(), card.message_id(), "poll:vote:1"),
        )
        .await;
    assert!(press.ephemeral);
    press.assert_starts_with("This button is not one of ours or is damaged");
    let form = story
        .refused(
            session,
            story.submit_form(&bob(), "other:form", &[("x", "y")]),
        )
        .await;
    assert_eq!(
        form.content(),
        "This form is not one of ours or is damaged; run the command again."
    );
    story.finish().await;
}

/// Story 10: the gateway delivers a slash command twice. The second delivery
/// is recognised before anything answers: no second callback, no error logged.
#[sqlx::test]
async fn a_redelivered_slash_command_is_answered_once_and_logs_no_error(pool: PgPool) {
    let story = Story::start(pool).await;
    let carol = carol();
    let (start, end) = in_three_hours();
    let session = story.draft(&carol, "Midnight Deals", start, end).await;
    let add = story.fake.slash(
        &carol,
        "add-sku",
        &[
            session_option(session),
            ("sku", json!("FS-001")),
            ("discount", json!(30)),
            ("quantity", json!(5)),
        ],
    );
    let added = story.fake.reply(&add).await;
    assert_eq!(added.content(), format!("Added FS-001 to #{session}."));
    let view = story.fake.slash(&carol, "view", &[session_option(session)]);
    story.fake.reply(&view).await;

    story.fake.redeliver(&add);
    story.fake.redeliver(&view);
    // Another command after them: once it is answered, the redeliveries
    // have long been seen.
    story.run(&carol, "help", &[]).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    for ix in [&add, &view] {
        let answers = story
            .fake
            .requests()
            .into_iter()
            .filter(|r| r.path.contains(&ix.token))
            .filter(|r| r.path.ends_with("/callback"))
            .count();
        assert_eq!(answers, 1, "{} was answered {answers} times", ix.label);
    }
    let errors: Vec<String> = story
        .first_log()
        .into_iter()
        .filter(|l| l.contains("ERROR") || l.contains("already been acknowledged"))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(story.row(session).await.items, 1);
    story.finish().await;
}

/// Story 11: the money guards through Discord's slash commands. Carol (editor
/// and approver) puts FS-003 below its cost (the sample catalog: IDR 18,000)
/// and is refused with the numbers; she may not override her own session;
/// Bob overrides it with a reason; then the line goes in and the card says why.
#[sqlx::test]
async fn a_refused_line_is_overridden_by_another_approver_through_discord(pool: PgPool) {
    let story = Story::start(pool).await;
    let (carol, bob) = (carol(), bob());
    let (start, end) = in_three_hours();
    let session = story.draft(&carol, "Midnight Deals", start, end).await;
    let add = [
        session_option(session),
        ("sku", json!("FS-003")),
        ("discount", json!(70)),
        ("quantity", json!(5)),
    ];
    let refused = story.run(&carol, "add-sku", &add).await;
    assert_eq!(
        refused.content(),
        "FS-003 at 70% would sell at IDR 9,870, below its cost IDR 18,000 plus the 5 % floor: \
         the deepest allowed is 42%."
    );
    let give = [
        session_option(session),
        ("reason", json!("clearance, cost written off")),
        ("sku", json!("FS-003")),
        ("discount", json!(70)),
    ];
    let own = story.run(&carol, "override", &give).await;
    assert_eq!(
        own.content(),
        "You edited or submitted this session, so someone else must override its money guards (four-eyes rule)."
    );

    let given = story.run(&bob, "override", &give).await;
    given.assert_starts_with(&format!(
        "Overrode the money guards for FS-003 at 70% in #{session}."
    ));
    let added = story.run(&carol, "add-sku", &add).await;
    added.assert_starts_with(&format!("Added FS-003 to #{session}."));
    assert!(
        added
            .text()
            .contains("Override: FS-003 at 70% allowed by Bob: clearance, cost written off"),
        "{}",
        added.text()
    );
    assert_eq!(story.row(session).await.items, 1);
    story.finish().await;
}
