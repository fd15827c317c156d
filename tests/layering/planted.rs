//! Each rule fails: a planted violation, held in memory, for every rule.

use crate::assert_none;
use crate::reader::*;
use crate::rules::*;
use crate::tree::*;

// ---------------------------------------------------------------------------
// Each rule fails: a planted violation, held in memory
// ---------------------------------------------------------------------------

fn planted(files: &[(&str, &str)]) -> Tree {
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|(path, text)| ((*path).to_owned(), (*text).to_owned()))
        .collect();
    Tree::new(&sources)
}

/// `found` is exactly one violation per `expected`, each starting with it
/// (`file:line: what`).
fn assert_caught(found: &[String], expected: &[&str]) {
    let missing: Vec<&&str> = expected
        .iter()
        .filter(|e| !found.iter().any(|f| f.starts_with(**e)))
        .collect();
    assert!(
        missing.is_empty() && found.len() == expected.len(),
        "expected {expected:#?}\nfound {found:#?}"
    );
}

#[test]
fn planted_the_domain_naming_the_store_fails() {
    let tree = planted(&[
        ("src/lib.rs", "pub mod domain;\npub mod store;\n"),
        ("src/store/mod.rs", "pub struct Pool;\n"),
        ("src/domain/mod.rs", "pub mod rules;\n"),
        (
            "src/domain/rules.rs",
            "//! Rules: nothing here names the store but lines 2 and 7.
use crate::store::Pool;

pub fn check() {
    // crate::store::Pool, in a comment
    let _ = \"crate::store::Pool\";
    let _ = crate::store::Pool;
}

#[cfg(test)]
mod tests {
    use crate::store::Pool;
}
",
        ),
    ]);
    assert_caught(
        &check_domain(&tree),
        &[
            "src/domain/rules.rs:2: use crate::store::Pool (names store)",
            "src/domain/rules.rs:7: crate::store::Pool (names store)",
        ],
    );
}

#[test]
fn planted_io_in_the_domain_fails() {
    let tree = planted(&[
        ("src/lib.rs", "pub mod domain;\n"),
        (
            "src/domain/mod.rs",
            "use std::{collections::BTreeMap,
    fs};

pub async fn wait() {
    tokio::time::sleep(TICK);
}
",
        ),
    ]);
    assert_caught(
        &check_domain(&tree),
        &[
            "src/domain/mod.rs:2: use std::fs (IO: std::fs)",
            "src/domain/mod.rs:5: tokio::time::sleep (IO: tokio)",
            "src/domain/mod.rs:4: async",
        ],
    );
}

#[test]
fn planted_the_chat_port_naming_the_use_cases_fails() {
    let tree = planted(&[
        (
            "src/lib.rs",
            "pub mod app;\npub mod chat;\npub mod domain;\n",
        ),
        (
            "src/app/mod.rs",
            "pub struct FlashSales;\npub enum AppError {}\n",
        ),
        ("src/domain/mod.rs", "pub struct Sku;\n"),
        (
            "src/chat/mod.rs",
            "use crate::{
    domain::Sku,
    app::{AppError, FlashSales as App},
};
",
        ),
    ]);
    assert_caught(
        &check_chat_port(&tree),
        &[
            "src/chat/mod.rs:3: use crate::app::AppError (names app)",
            "src/chat/mod.rs:3: use crate::app::FlashSales (names app)",
        ],
    );
}

#[test]
fn planted_an_adapter_touching_the_store_or_the_wiring_fails() {
    let tree = planted(&[
        (
            "src/lib.rs",
            "pub mod platforms;\npub mod store;\npub mod leader;\n",
        ),
        ("src/store/mod.rs", "pub mod sessions;\n"),
        ("src/store/sessions.rs", "pub fn load() {}\n"),
        ("src/leader.rs", "pub fn is_leader() -> bool { true }\n"),
        ("src/platforms/mod.rs", "pub mod slack;\n"),
        ("src/platforms/slack/mod.rs", "mod inbound;\n"),
        (
            "src/platforms/slack/inbound.rs",
            "pub fn on_event() {
    let sessions = super::super::super::store::sessions::load();
    if crate::leader::is_leader() {}
}
",
        ),
    ]);
    assert_caught(
        &check_adapters(&tree),
        &[
            "src/platforms/slack/inbound.rs:2: super::super::super::store::sessions::load (names store)",
            "src/platforms/slack/inbound.rs:3: crate::leader::is_leader (names leader)",
        ],
    );
}

#[test]
fn planted_adapters_naming_each_other_fail_and_a_new_one_is_found_by_itself() {
    let tree = planted(&[
        ("src/lib.rs", "pub mod platforms;\n"),
        (
            "src/platforms/mod.rs",
            "pub mod discord;\npub mod download;\npub mod irc;\npub mod slack;\npub mod teams;\n",
        ),
        ("src/platforms/download.rs", "pub fn fetch() {}\n"),
        ("src/platforms/slack/mod.rs", "pub mod render;\n"),
        ("src/platforms/slack/render.rs", "pub fn blocks() {}\n"),
        (
            "src/platforms/discord/mod.rs",
            "mod render;\npub use render::Renderer;\n",
        ),
        ("src/platforms/discord/render.rs", "pub struct Renderer;\n"),
        // A fourth and a fifth platform: a folder and a single file.
        (
            "src/platforms/teams/mod.rs",
            "use super::download;
use super::slack::render::blocks;
use crate::platforms::discord::Renderer;
",
        ),
        ("src/platforms/irc.rs", "fn post() { super::teams::x(); }\n"),
    ]);
    assert_eq!(
        adapters(&tree),
        ["discord", "irc", "slack", "teams"]
            .map(str::to_owned)
            .into()
    );
    assert_caught(
        &check_adapters(&tree),
        &[
            "src/platforms/teams/mod.rs:2: use super::slack::render::blocks (names the slack adapter)",
            "src/platforms/teams/mod.rs:3: use crate::platforms::discord::Renderer (names the discord adapter)",
            "src/platforms/irc.rs:1: super::teams::x (names the teams adapter)",
        ],
    );
}

#[test]
fn planted_an_adapter_named_below_runtime_fails() {
    let tree = planted(&[
        (
            "src/lib.rs",
            "pub mod app;\npub mod platforms;\npub mod runtime;\n",
        ),
        ("src/platforms/mod.rs", "pub mod discord;\n"),
        ("src/platforms/discord/mod.rs", "pub struct DiscordChat;\n"),
        ("src/app/mod.rs", "mod notices;\n"),
        (
            "src/app/notices.rs",
            "//! Posts.\nuse crate::platforms::discord::DiscordChat;\n",
        ),
        (
            "src/runtime/mod.rs",
            "use crate::platforms::discord::DiscordChat;\n",
        ),
    ]);
    assert_caught(
        &check_adapter_users(&tree),
        &["src/app/notices.rs:2: use crate::platforms::discord::DiscordChat (names the discord adapter)"],
    );
}

#[test]
fn planted_an_outbound_client_naming_the_use_cases_fails() {
    let tree = planted(&[
        (
            "src/lib.rs",
            "pub mod app;\npub mod render;\npub mod runtime;\npub mod store;\n",
        ),
        ("src/app/mod.rs", "pub enum AppError {}\n"),
        ("src/runtime/mod.rs", "pub struct Services;\n"),
        ("src/store/mod.rs", "use crate::app::AppError;\n"),
        (
            "src/render/mod.rs",
            "fn draw(s: &crate::runtime::Services) {}\n",
        ),
    ]);
    assert_caught(
        &check_outbound_clients(&tree),
        &[
            "src/store/mod.rs:1: use crate::app::AppError (names app)",
            "src/render/mod.rs:1: crate::runtime::Services (names runtime)",
        ],
    );
}

#[test]
fn planted_long_running_work_outside_runtime_fails() {
    let code = "use crate::scheduler::digest;
pub async fn start_background() {}
pub fn go(s: Scheduler) {
    digest::start(app, cron);
    tokio::spawn(s.reconcile_loop(stop));
}
";
    let tree = planted(&[
        (
            "src/lib.rs",
            "pub mod app;\npub mod runtime;\npub mod scheduler;\n",
        ),
        ("src/scheduler/mod.rs", "pub mod digest;\n"),
        ("src/scheduler/digest.rs", "pub fn start() {}\n"),
        ("src/app/mod.rs", code),
        ("src/runtime/mod.rs", code),
    ]);
    assert_caught(
        &check_long_running(&tree),
        &[
            "src/app/mod.rs:4: digest::start (starts long-running work)",
            "src/app/mod.rs:5: reconcile_loop (starts long-running work)",
        ],
    );
}

/// The Discord adapter as it was: `commands/answering.rs` -> `interactions.rs`
/// (a pass-through) -> `commands::Stopped`, which `commands.rs` passes on from
/// `answering.rs`; the parent wires both and both use its `Data`.
fn discord_as_it_was(answering: &str) -> Tree {
    planted(&[
        ("src/lib.rs", "pub mod platforms;\n"),
        ("src/platforms/mod.rs", "pub mod discord;\n"),
        (
            "src/platforms/discord/mod.rs",
            "pub mod commands;
pub mod interactions;
pub struct Data;
pub fn framework() {
    commands::all();
    interactions::handle();
}
",
        ),
        (
            "src/platforms/discord/commands.rs",
            "mod answering;
pub(super) use answering::Stopped;
use super::Data;
pub fn all(_: &Data) {}
",
        ),
        ("src/platforms/discord/commands/answering.rs", answering),
        (
            "src/platforms/discord/interactions.rs",
            "use super::Data;
pub async fn first_delivery(_: &Data) -> bool { true }
pub fn handle() {
    let text = crate::platforms::discord::commands::Stopped::NotOurGuild;
}
",
        ),
    ])
}

#[test]
fn planted_the_discord_cycle_fails_and_its_fix_passes() {
    let tree = discord_as_it_was(
        "use super::super::{interactions, Data};
pub(in crate::platforms::discord) enum Stopped { NotOurGuild }
pub async fn first_time(data: &Data) {
    interactions::first_delivery(data).await;
}
",
    );
    let found = check_cycles(&tree);
    assert_caught(
        &found,
        &["a cycle inside src/platforms/discord/ (2 files tangled: src/platforms/discord/commands/answering.rs, src/platforms/discord/interactions.rs):"],
    );
    assert!(
        found[0].contains("\n    src/platforms/discord/commands/answering.rs:1: use super::super::interactions -> src/platforms/discord/interactions.rs")
            && found[0].contains("\n    src/platforms/discord/interactions.rs:4: crate::platforms::discord::commands::Stopped::NotOurGuild -> src/platforms/discord/commands/answering.rs"),
        "{}",
        found[0]
    );
    // Calling the app directly: what is left is the parent wiring its parts
    // and the parts using its `Data`, which is no cycle.
    let fixed = discord_as_it_was(
        "use super::super::Data;
pub(in crate::platforms::discord) enum Stopped { NotOurGuild }
pub async fn first_time(data: &Data) {
    data.app.first_delivery(PLATFORM).await;
}
",
    );
    assert_none("the fixed adapter", check_cycles(&fixed));
}

#[test]
fn planted_a_cycle_through_a_parent_that_defines_fails() {
    // `Stopped` defined in `commands.rs` itself: interactions -> commands,
    // which holds answering -> interactions.
    let tree = planted(&[
        ("src/lib.rs", "pub mod platforms;\n"),
        ("src/platforms/mod.rs", "pub mod discord;\n"),
        (
            "src/platforms/discord/mod.rs",
            "pub mod commands;\npub mod interactions;\n",
        ),
        (
            "src/platforms/discord/commands.rs",
            "mod answering;\npub enum Stopped { NotOurGuild }\npub fn first_time() { answering::check(); }\n",
        ),
        (
            "src/platforms/discord/commands/answering.rs",
            "use super::super::interactions;\npub fn check() { interactions::first_delivery(); }\n",
        ),
        (
            "src/platforms/discord/interactions.rs",
            "pub fn first_delivery() {}\npub fn handle() { let _ = super::commands::Stopped::NotOurGuild; }\n",
        ),
    ]);
    let found = check_cycles(&tree);
    assert_caught(
        &found,
        &["a cycle inside src/platforms/discord/ (3 files tangled"],
    );
    for edge in [
        "src/platforms/discord/commands.rs:3: answering::check -> src/platforms/discord/commands/answering.rs",
        "src/platforms/discord/commands/answering.rs:1: use super::super::interactions -> src/platforms/discord/interactions.rs",
        "src/platforms/discord/interactions.rs:2: super::commands::Stopped::NotOurGuild -> src/platforms/discord/commands.rs",
    ] {
        assert!(found[0].contains(edge), "{edge} not in\n{}", found[0]);
    }
}

#[test]
fn planted_a_cycle_through_a_re_export_fails() {
    // The shape left in src/app: calendar names `ListRange` through the
    // parent's `pub use self::queries::ListRange`, and queries calls the calendar.
    let tree = planted(&[
        ("src/lib.rs", "pub mod app;\n"),
        (
            "src/app/mod.rs",
            "mod calendar;\nmod queries;\npub use self::queries::ListRange;\n",
        ),
        (
            "src/app/calendar.rs",
            "use super::ListRange;\npub fn calendar(_: ListRange) {}\n",
        ),
        (
            "src/app/queries.rs",
            "pub enum ListRange {}\nfn list() { super::calendar::calendar(); }\n",
        ),
    ]);
    let found = check_cycles(&tree);
    assert_caught(&found, &["a cycle inside src/app/ (2 files tangled"]);
    for edge in [
        "src/app/calendar.rs:1: use super::ListRange -> src/app/queries.rs",
        "src/app/queries.rs:2: super::calendar::calendar -> src/app/calendar.rs",
    ] {
        assert!(found[0].contains(edge), "{edge} not in\n{}", found[0]);
    }
}

#[test]
fn the_reader_reads_what_it_says_it_reads() {
    let r = read(
        "//! use crate::commented;
use crate::{a, b::{self, c as d}, e::*};
pub(in crate::platforms::discord) enum Stopped {}
pub use self::f::G;
const S: &str = \"crate::in_a_string::x\";
const R: &str = r#\"crate::in_a_raw_string \"{\" \"#;
const C: char = '{';
fn f<'a>(x: &'a str) {
    crate::h::i(x);
    x.reconcile_loop();
}
/* crate::in_a_block /* nested */ comment */
pub mod limits {
    pub fn j() { super::k::l(); }
}
#[cfg(test)]
mod tests;
#[cfg(test)]
use crate::only_in_tests;
fn after() { crate::m::n(); }
",
    );
    let uses: Vec<(usize, String, Option<&str>, bool)> = r
        .uses
        .iter()
        .map(|u| (u.line, u.path.join("::"), u.name.as_deref(), u.public))
        .collect();
    assert_eq!(
        uses,
        [
            (2, "crate::a".to_owned(), Some("a"), false),
            (2, "crate::b".to_owned(), Some("b"), false),
            (2, "crate::b::c".to_owned(), Some("d"), false),
            (2, "crate::e".to_owned(), None, false),
            (4, "self::f::G".to_owned(), Some("G"), true),
        ]
    );
    let paths: Vec<(usize, String, Vec<String>)> = r
        .paths
        .iter()
        .filter(|p| p.path.len() > 1 || p.method)
        .map(|p| (p.line, p.path.join("::"), p.scope.clone()))
        .collect();
    assert_eq!(
        paths,
        [
            (9, "crate::h::i".to_owned(), vec![]),
            (10, "reconcile_loop".to_owned(), vec![]),
            (14, "super::k::l".to_owned(), vec!["limits".to_owned()]),
            (20, "crate::m::n".to_owned(), vec![]),
        ]
    );
    assert_eq!(r.test_mods, ["tests"]);
    assert!(r.unreadable.is_empty(), "{:?}", r.unreadable);
    let odd = read("#[path = \"x.rs\"]\nmod x;\npub use y::*;\n");
    assert_eq!(
        odd.unreadable,
        [
            (1, "a #[path] attribute".to_owned()),
            (3, "a glob re-export `y::*`".to_owned())
        ]
    );
}
