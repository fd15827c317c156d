//! The layering the code promises (docs/development.md, Layout), checked on the source.
//!
//! Ports point inward: the domain is pure, the chat port and the outbound
//! clients know nothing of the use cases, the chat adapters (every module
//! under `src/platforms/`, found by listing it) render app views and never
//! touch the store, the catalog, the wiring or each other, and only `runtime`
//! (with `main.rs` and the other binaries) starts the bot's long-running work
//! or names an adapter. Inside and across modules, no files import each other
//! in a circle. Every failure names the file and line of the offending `use`
//! or path. A module counts as named by what a path says (`crate::store::x`)
//! and by where it resolves (an `app` re-export of a store type is the store).
//!
//! Each rule is a function from the read source to its violations, so the
//! tests at the end feed each one a planted violation held in memory and see
//! it fail: a rule that can no longer fail is caught here too.
//!
//! # What the reader recognises
//!
//! A small hand lexer, not a Rust parser. It drops comments, the insides of
//! string and char literals, and `#[cfg(test)]` items (test code may build
//! fixtures from anything; a `#[cfg(test)] mod x;` file is left out whole).
//! From what is left it reads:
//! - `use` declarations, grouped ones included (`use crate::{a, b::{c, d as e}}`),
//!   each leaf on its own line number (a `use` inside a function counts for
//!   the whole file);
//! - paths in code: `crate::x::y`, `super::super::x`, `self::x`, `flashsale_bot::x`
//!   (in the binaries), and paths that start with a name the file imported or a
//!   child module it declares (`use crate::app; app::buttons::press(..)` names
//!   `app::buttons`);
//! - `mod x;` declarations and inline `mod x { .. }` blocks (paths inside one
//!   resolve from it), `pub(in path)` visibilities (not a use of `path`).
//!
//! It does not expand macros, read `#[path]` attributes, see paths inside
//! strings (`#[serde(with = "..")]`), or follow glob re-exports (`pub use x::*`);
//! `the_reader_reads_the_whole_tree` fails if the tree starts using the ones
//! that would hide an import.
//!
//! # Files, modules and the import graph
//!
//! A file is a module: `src/app/mod.rs` and `src/app.rs` are `app`,
//! `src/app/import/rows.rs` is `app::import::rows`, `src/bin/x/main.rs` is the
//! root of the binary `x`. A path resolves to the deepest module file it names
//! (`crate::app::FlashSales` is `src/app/mod.rs`), then through `use` items of
//! that file: a name a file only passes on (`pub use drafting::DraftInput`) is
//! followed to the file it comes from, so naming `crate::app::DraftInput`
//! imports `src/app/drafting.rs`, not `src/app/mod.rs`.
//!
//! An edge `a -> b` is file `a` naming something of file `b`. A `pub use` whose
//! name the file does not use itself is a passage, not an edge (whoever names
//! it through this file gets the edge). A `mod x;` declaration is not an edge.
//!
//! A parent file and its own descendants (`discord/mod.rs` with `discord/chat.rs`,
//! `discord/commands.rs` with `discord/commands/answering.rs`) are one module
//! seen from two sides: the parent declares, re-exports and wires its parts
//! (an edge down), and the parts use what the parent defines, `super::Error`
//! (an edge up). Every `mod.rs` that holds shared types and wires its parts
//! has both, so counting both would call every such folder a cycle. The graph
//! is therefore searched twice: once with the edges down and not those up,
//! once with the edges up and not those down. A cycle is reported if either
//! search finds it; what neither finds is a circle that needs the parent as
//! both the kernel its parts use and the composer that uses them, the ordinary
//! shape of a Rust module. Siblings, cousins, a sibling and a parent it
//! depends on one way, or files in different modules: those are found.
//!
//! The graph holds every file of each crate, so a cycle inside any folder
//! under `src/` (found by walking it, not listed) is found, and so is one
//! across folders; each is reported with the deepest folder that holds it,
//! its files, and one cycle through them with each edge's file and line.

mod planted;
mod reader;
mod rules;
mod tree;

use std::sync::OnceLock;

use reader::*;
use rules::*;
use tree::*;

// ---------------------------------------------------------------------------
// The rules on the real tree
// ---------------------------------------------------------------------------

/// The real tree, read once for all the tests.
fn real() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| Tree::new(&sources()))
}

pub(crate) fn assert_none(what: &str, found: Vec<String>) {
    assert!(found.is_empty(), "{what}:\n  {}", found.join("\n  "));
}

/// A rule about `folder` passes on an empty folder: make sure it is there.
fn assert_present(tree: &Tree, folder: &str) {
    assert!(
        tree.files.iter().any(|f| f.path.starts_with(folder)),
        "no files under {folder}: a rule about it would check nothing"
    );
}

#[test]
fn the_reader_reads_the_whole_tree() {
    let tree = real();
    let unreadable: Vec<String> = tree
        .files
        .iter()
        .flat_map(|f| {
            f.read
                .unreadable
                .iter()
                .map(move |(line, what)| format!("{}:{line}: {what}", f.path))
        })
        .collect();
    assert_none(
        "the layering reader cannot follow these (see tests/layering/main.rs, What the reader recognises)",
        unreadable,
    );
    let edges: usize = import_graph(tree, Kin::Up).iter().map(Vec::len).sum();
    assert!(
        edges > tree.files.len(),
        "only {edges} imports among {} files: the reader is missing them",
        tree.files.len()
    );
}

#[test]
fn the_domain_is_pure() {
    assert_present(real(), "src/domain/");
    assert_none(
        "the domain names a module outside it, or does IO",
        check_domain(real()),
    );
}

#[test]
fn the_chat_port_knows_nothing_of_the_use_cases() {
    assert!(real().files.iter().any(|f| f.path == "src/chat/mod.rs"));
    assert_none(
        "the chat port names the use cases, the wiring or a platform",
        check_chat_port(real()),
    );
}

#[test]
fn adapters_touch_neither_the_store_nor_the_wiring_nor_each_other() {
    assert!(
        adapters(real()).len() >= 2,
        "adapters found under src/platforms/: {:?}",
        adapters(real())
    );
    assert_none(
        "a chat adapter names the store, the catalog, the wiring or another adapter",
        check_adapters(real()),
    );
}

#[test]
fn only_runtime_names_an_adapter() {
    assert_none(
        "an adapter is named below it (only runtime picks and wires one)",
        check_adapter_users(real()),
    );
}

#[test]
fn outbound_clients_know_nothing_of_the_use_cases() {
    for folder in OUTBOUND_CLIENTS {
        assert_present(real(), folder);
    }
    assert_none(
        "an outbound client names the use cases, an adapter or the wiring",
        check_outbound_clients(real()),
    );
}

#[test]
fn only_runtime_starts_the_long_running_work() {
    // Each call in the list is made somewhere, or the list is out of date.
    let made: Vec<&str> = long_running_calls(real())
        .map(|n| n.written.as_str())
        .collect();
    for call in LONG_RUNNING {
        assert!(
            made.iter().any(|m| m.ends_with(&call.join("::"))),
            "nothing calls {}: rename it in LONG_RUNNING (tests/layering/)",
            call.join("::")
        );
    }
    assert_none(
        "long-running work started outside runtime",
        check_long_running(real()),
    );
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    assert_none("files that import each other", check_cycles(real()));
}
