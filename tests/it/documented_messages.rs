//! What commands.md promises the bot says after a command succeeds, against what the real console
//! binary says: every example in commands.md that starts like a success message must be one the
//! bot says, and every success message the bot says in a story through all the commands must be in
//! commands.md. Session numbers and relative times differ from the examples, so both sides are
//! compared with those replaced.

use std::collections::BTreeSet;
use std::time::Duration;

use flashsale_bot::app::headlines;
use regex::Regex;
use sqlx::PgPool;

use crate::console_session::{dev_storefront, Console};

const STEP: Duration = Duration::from_secs(30);

/// How success messages start; an example in commands.md starting so is a promise.
const SUCCESS: &[&str] = &[
    "Drafted #",
    "Added ",
    "Changed ",
    "Removed ",
    "Pasted into #",
    "Submitted #",
    "Withdrew #",
    "Cancelled #",
    "Revoked ",
    "Stopping #",
    "Cloned #",
    "Approved #",
    "Rejected #",
    "Overrode ",
];

/// Session numbers as `#N`, relative times as `in …`, so an example and a reply can be compared.
fn normalised(text: &str) -> String {
    let numbers = Regex::new(r"(#|session:)\d+").expect("regex");
    let relative = Regex::new(r"It goes live in [^.]+\.").expect("regex");
    let text = numbers.replace_all(text, "${1}N");
    relative
        .replace_all(&text, "It goes live in ….")
        .into_owned()
}

/// Every `code span` of commands.md that reads like a success message.
fn documented() -> BTreeSet<String> {
    let path = format!("{}/commands.md", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).expect("commands.md");
    Regex::new(r"`([^`\n]+)`")
        .expect("regex")
        .captures_iter(&text)
        .map(|c| c[1].to_owned())
        .filter(|span| {
            SUCCESS
                .iter()
                .any(|start| span.starts_with(start) && span.contains('#'))
        })
        .map(|span| normalised(&span))
        .collect()
}

/// The session number right after `prefix` in `text`.
fn number_after(prefix: &str, text: &str) -> i64 {
    let at = text.find(prefix).expect("the prefix") + prefix.len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().expect("a session number")
}

/// Types `line` and returns the reply line containing `needle`.
async fn said(console: &mut Console, line: &str, needle: &str) -> String {
    console.send(line).await;
    let lines = console.expect(needle, STEP).await;
    lines.last().cloned().unwrap_or_default()
}

#[sqlx::test]
async fn every_documented_success_message_is_what_the_bot_says(pool: PgPool) {
    let store = dev_storefront().await;
    let mut console = Console::start(&pool, &store, &[]).await;
    let mut replies: Vec<String> = Vec::new();

    console.send("as alice editor").await;
    let drafted = said(
        &mut console,
        r#"/flashsale draft title:"Midnight Deals" start:"tomorrow 12:00" end:"tomorrow 18:00""#,
        "Drafted #",
    )
    .await;
    let id = number_after("#", &drafted);
    replies.push(drafted);
    // Typed in lower case, answered as stored.
    let added = said(
        &mut console,
        &format!("/flashsale add-sku session:{id} sku:fs-001 discount:30 quantity:10"),
        "Added ",
    )
    .await;
    assert_eq!(added, format!("Added FS-001 to #{id}."));
    replies.push(added);
    let changed = format!("/flashsale edit-sku session:{id} sku:fs-001 quantity:5");
    replies.push(said(&mut console, &changed, "Changed ").await);
    let removed = format!("/flashsale remove-sku session:{id} sku:fs-001");
    replies.push(said(&mut console, &removed, "Removed ").await);
    console
        .send(&format!("/flashsale add-sku session:{id}"))
        .await;
    console.expect("Paste up to six lines", STEP).await;
    for line in [
        "FS-001 30% 10",
        "FS-002 25% 10",
        "FS-003 40% 5",
        "FS-004 20% 10",
        "FS-005 15% 5",
        "FS-006 10% 1",
    ] {
        console.send(line).await;
    }
    replies.push(said(&mut console, ".", "Pasted into #").await);
    let submit = format!("/flashsale submit session:{id}");
    replies.push(said(&mut console, &submit, "Submitted #").await);
    let withdraw = format!("/flashsale withdraw session:{id}");
    replies.push(said(&mut console, &withdraw, "Withdrew #").await);
    let clone = format!(r#"/flashsale clone session:{id} start:"tomorrow 20:00""#);
    let cloned = said(&mut console, &clone, "Cloned #").await;
    let copy = number_after("into #", &cloned);
    replies.push(cloned);
    let cancel = format!("/flashsale cancel session:{copy}");
    replies.push(said(&mut console, &cancel, "Cancelled #").await);

    said(&mut console, &submit, "Submitted #").await;
    console.send("as bob approver").await;
    console.send(&format!("press reject {id}")).await;
    console.expect("Reason?", STEP).await;
    console.send("FS-003 is out of season").await;
    console.expect("Type yes", STEP).await;
    replies.push(said(&mut console, "yes", "Rejected #").await);
    console.send("as alice editor").await;
    said(&mut console, &submit, "Submitted #").await;
    console.send("as bob approver").await;
    let approve = format!("press approve {id}");
    replies.push(said(&mut console, &approve, "Approved #").await);
    let revoke = format!("/flashsale revoke session:{id}");
    replies.push(said(&mut console, &revoke, "Revoked the approval").await);
    // Bob approved it, so he may override its guards (he neither edited nor submitted it).
    let line = format!(
        r#"/flashsale override session:{id} sku:FS-003 discount:70 reason:"clearance, cost written off""#
    );
    replies.push(said(&mut console, &line, "Overrode ").await);
    let budget = format!(r#"/flashsale override session:{id} reason:"launch week""#);
    replies.push(said(&mut console, &budget, "Overrode ").await);
    console.finish().await;
    // A live session is needed to stop one; the console calls the same wording.
    replies.push(headlines::stopping(id));

    let said: BTreeSet<String> = replies.iter().map(|r| normalised(r.trim())).collect();
    let documented = documented();
    let undocumented: Vec<&String> = said.difference(&documented).collect();
    let unsaid: Vec<&String> = documented.difference(&said).collect();
    assert!(
        undocumented.is_empty() && unsaid.is_empty(),
        "the bot says, commands.md does not: {undocumented:#?}\ncommands.md says, the bot does not: {unsaid:#?}"
    );
}
