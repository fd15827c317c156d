//! The layering the code promises (docs/development.md, Layout), checked on the source.
//!
//! Ports point inward: the domain is pure, the chat port and the storefront
//! client know nothing of the use cases, adapters render app views and never
//! touch the store or the catalog, and only `runtime` (with `main.rs` and the
//! other binaries) starts the bot's long-running work. Each rule is a scan of
//! the `crate::...` and `super::...` paths a file names, so breaking one fails
//! here with the file and the line, before a review has to notice.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, relative to the crate root, with its text.
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    files.sort();
    assert!(files.len() > 50, "found only {} source files", files.len());
    files
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).unwrap_or_default();
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            (rel, text)
        })
        .collect()
}

/// The lines of a file that are code: comments and `#[cfg(test)]` modules
/// (which may build fixtures from anything) are left out.
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    let mut lines = Vec::new();
    // Inside a `#[cfg(test)]` item: the brace depth it ends at, once opened.
    let mut test_item: Option<i64> = None;
    let mut depth: i64 = 0;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let before = depth;
        depth += line.matches('{').count() as i64 - line.matches('}').count() as i64;
        if trimmed.starts_with("#[cfg(test)]") {
            test_item = Some(before);
            continue;
        }
        if let Some(end) = test_item {
            if depth <= end && line.contains('}') {
                test_item = None;
            }
            continue;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        lines.push((n + 1, line));
    }
    lines
}

/// `file:line: text` for every code line of the files under `folder` that
/// names `crate::<module>` (as a path or in a `use` list).
fn references(folder_files: &[&(String, String)], modules: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (file, text) in folder_files {
        for (n, line) in code_lines(text) {
            for module in modules {
                let path = format!("crate::{module}");
                let named = line.match_indices(&path).any(|(at, _)| {
                    let after = &line[at + path.len()..];
                    after.starts_with("::") || after.starts_with(';') || after.starts_with(',')
                });
                if named {
                    found.push(format!("{file}:{n}: {}", line.trim()));
                }
            }
        }
    }
    found
}

fn under<'a>(all: &'a [(String, String)], prefix: &str) -> Vec<&'a (String, String)> {
    all.iter().filter(|(f, _)| f.starts_with(prefix)).collect()
}

fn assert_none(what: &str, found: Vec<String>) {
    assert!(found.is_empty(), "{what}:\n{}", found.join("\n"));
}

#[test]
fn the_domain_is_pure() {
    let all = sources();
    let domain = under(&all, "src/domain/");
    let outside = [
        "app",
        "store",
        "catalog",
        "chat",
        "storefront",
        "scheduler",
        "runtime",
        "config",
        "render",
        "http",
        "leader",
        "clock",
        "metrics",
    ];
    assert_none(
        "the domain names a module outside it",
        references(&domain, &outside),
    );
    let io: Vec<String> = domain
        .iter()
        .flat_map(|(file, text)| {
            code_lines(text)
                .into_iter()
                .filter(|(_, l)| {
                    [
                        "sqlx::",
                        "tokio::",
                        "reqwest::",
                        "async fn",
                        "std::fs",
                        "std::net",
                    ]
                    .iter()
                    .any(|io| l.contains(io))
                })
                .map(move |(n, l)| format!("{file}:{n}: {}", l.trim()))
        })
        .collect();
    assert_none("the domain does IO or async", io);
}

#[test]
fn no_chat_module_touches_the_store_or_the_catalog() {
    let all = sources();
    assert_none(
        "a chat module (port or adapter) names the store or the catalog",
        references(
            &[under(&all, "src/chat/"), under(&all, "src/platforms/")].concat(),
            &["store", "catalog"],
        ),
    );
}

#[test]
fn the_chat_port_knows_nothing_of_the_use_cases() {
    let all = sources();
    let port: Vec<&(String, String)> = all
        .iter()
        .filter(|(f, _)| f.starts_with("src/chat/"))
        .collect();
    assert!(port.iter().any(|(f, _)| f == "src/chat/mod.rs"));
    assert_none(
        "the chat port names the use cases or the wiring",
        references(&port, &["app", "runtime", "scheduler"]),
    );
}

#[test]
fn adapters_do_not_wire_the_bot() {
    let all = sources();
    assert_none(
        "a chat adapter names the wiring, the store or the leader",
        references(
            &under(&all, "src/platforms/"),
            &["runtime", "leader", "scheduler"],
        ),
    );
}

#[test]
fn outbound_clients_know_nothing_of_the_use_cases() {
    let all = sources();
    for folder in [
        "src/storefront/",
        "src/render/",
        "src/catalog/",
        "src/store/",
    ] {
        assert_none(
            &format!("{folder} names the use cases or an adapter"),
            references(&under(&all, folder), &["app", "platforms", "runtime"]),
        );
    }
}

#[test]
fn only_runtime_starts_the_long_running_work() {
    let all = sources();
    // What starts a loop that lives as long as the process.
    let starts = [
        "start_background(",
        "start_http(",
        "leader::campaign(",
        "reconcile_loop(",
        "digest::start(",
        "http::serve(",
        "shutdown_signal(",
    ];
    let found: Vec<String> = all
        .iter()
        .filter(|(f, _)| {
            !f.starts_with("src/runtime/") && f != "src/main.rs" && !f.starts_with("src/bin/")
        })
        .flat_map(|(file, text)| {
            code_lines(text)
                .into_iter()
                .filter(|(_, l)| {
                    starts.iter().any(|s| l.contains(s))
                        && !l.trim_start().starts_with("pub async fn")
                        && !l.trim_start().starts_with("pub fn")
                        && !l.trim_start().starts_with("async fn")
                })
                .map(move |(n, l)| format!("{file}:{n}: {}", l.trim()))
        })
        .collect();
    assert_none("long-running work started outside runtime", found);
}

/// Which sibling modules of `folder` each module names (`super::x`,
/// `crate::<folder>::x`), e.g. `rules -> {policy, sku}`.
fn sibling_graph(all: &[(String, String)], folder: &str) -> BTreeMap<String, BTreeSet<String>> {
    let crate_path = format!(
        "crate::{}::",
        folder.trim_start_matches("src/").trim_end_matches('/')
    );
    let module_of = |file: &str| -> Option<String> {
        let rest = file.strip_prefix(folder)?;
        let first = rest.split('/').next()?;
        let name = first.trim_end_matches(".rs");
        (name != "mod").then(|| name.to_owned())
    };
    let siblings: BTreeSet<String> = all.iter().filter_map(|(f, _)| module_of(f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, text) in all {
        let Some(from) = module_of(file) else {
            continue;
        };
        // A file directly in the folder names siblings as `super::x`; one a
        // level deeper (`app/import/rows.rs`) would say `super::super::x`.
        let depth = file[folder.len()..].matches('/').count();
        let sup = "super::".repeat(depth + 1);
        for (_, line) in code_lines(text) {
            for prefix in [sup.as_str(), crate_path.as_str()] {
                for (at, _) in line.match_indices(prefix) {
                    let name: String = line[at + prefix.len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if siblings.contains(&name) && name != from {
                        graph.entry(from.clone()).or_default().insert(name);
                    }
                }
            }
        }
    }
    graph
}

/// A cycle in `graph` as `a -> b -> a`, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

#[test]
fn sibling_modules_do_not_import_each_other_in_a_circle() {
    let all = sources();
    for folder in [
        "src/domain/",
        "src/app/",
        "src/scheduler/",
        "src/store/",
        "src/platforms/",
    ] {
        let graph = sibling_graph(&all, folder);
        assert!(
            !graph.is_empty() || folder == "src/store/",
            "{folder}: no edges found"
        );
        if let Some(cycle) = find_cycle(&graph) {
            panic!("{folder}: a module cycle: {}", cycle.join(" -> "));
        }
    }
}
