//! The rules: each takes the read tree and returns its violations,
//! `file:line: what (why)`, none if the rule is kept; and the import graph
//! with its cycle search.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::tree::*;

/// What the domain may not touch at all, beyond the rest of the crate.
pub(crate) const IO: &[&[&str]] = &[
    &["sqlx"],
    &["tokio"],
    &["reqwest"],
    &["std", "fs"],
    &["std", "net"],
    &["std", "process"],
    &["std", "thread"],
    &["std", "env"],
];

/// Modules under `src/platforms/` every adapter may use: shared helpers, not adapters.
pub(crate) const SHARED_PLATFORM_HELPERS: &[&str] = &["download"];

/// The outbound clients: what the use cases call out to.
pub(crate) const OUTBOUND_CLIENTS: &[&str] = &[
    "src/storefront/",
    "src/render/",
    "src/catalog/",
    "src/medusa/",
    "src/shopify/",
    "src/store/",
];

/// What starts a loop that lives as long as the process (a call ending in
/// one of these paths).
pub(crate) const LONG_RUNNING: &[&[&str]] = &[
    &["start_background"],
    &["start_http"],
    &["leader", "campaign"],
    &["reconcile_loop"],
    &["digest", "start"],
    &["http", "serve_with"],
    &["shutdown_signal"],
];

// ---------------------------------------------------------------------------
// The rules: each returns its violations, `file:line: what (why)`, none if kept.
// ---------------------------------------------------------------------------

/// The library modules a named path reaches: the one its text names
/// (`store` for `crate::store::x`) and the one it resolves to (an `app`
/// re-export of a store type reaches `store` too), as module paths.
pub(crate) fn reaches(tree: &Tree, n: &Named) -> Vec<Vec<String>> {
    let mut reached = Vec::new();
    if let Some((krate, path)) = &n.absolute {
        if krate == "lib" {
            reached.push(path.clone());
        }
    }
    if let Some(t) = n.target {
        let target = &tree.files[t];
        if target.krate == "lib" {
            reached.push(target.module.clone());
        }
    }
    reached
}

/// The top-level library modules a named path reaches.
pub(crate) fn tops(tree: &Tree, n: &Named) -> BTreeSet<String> {
    reaches(tree, n)
        .into_iter()
        .filter_map(|path| path.first().cloned())
        .collect()
}

/// The module under `src/platforms/` a named path reaches, if any.
pub(crate) fn platform_reached(tree: &Tree, n: &Named) -> BTreeSet<String> {
    reaches(tree, n)
        .into_iter()
        .filter(|path| path.first().is_some_and(|m| m == "platforms"))
        .filter_map(|path| path.get(1).cloned())
        .collect()
}

/// Paths named in files under `folder` that reach one of `modules`.
pub(crate) fn naming(tree: &Tree, folder: &str, modules: &[&str]) -> Vec<String> {
    tree.in_folder(folder)
        .filter_map(|n| {
            let tops = tops(tree, n);
            let hit: Vec<&str> = modules
                .iter()
                .copied()
                .filter(|m| tops.contains(*m))
                .collect();
            (!hit.is_empty()).then(|| format!("{} (names {})", tree.at(n), hit.join(", ")))
        })
        .collect()
}

/// The domain names nothing of the crate outside it, and does no IO or async.
pub(crate) fn check_domain(tree: &Tree) -> Vec<String> {
    let outside: Vec<String> = tree
        .top_level()
        .into_iter()
        .filter(|m| m != "domain")
        .collect();
    let outside: Vec<&str> = outside.iter().map(String::as_str).collect();
    let mut found = naming(tree, "src/domain/", &outside);
    for n in tree.in_folder("src/domain/") {
        if n.absolute.is_some() {
            continue;
        }
        // `use std::{fs, net}` is two leaves, `tokio::spawn(..)` one path.
        let path: Vec<&str> = n.written.trim_start_matches("use ").split("::").collect();
        if let Some(io) = IO.iter().find(|io| path.starts_with(io)) {
            found.push(format!("{} (IO: {})", tree.at(n), io.join("::")));
        }
    }
    for f in &tree.files {
        if f.path.starts_with("src/domain/") {
            for line in &f.read.asyncs {
                found.push(format!("{}:{line}: async (the domain does no IO)", f.path));
            }
        }
    }
    found
}

/// The chat port names nothing of the use cases, the wiring, the platforms
/// or what only the use cases touch.
pub(crate) fn check_chat_port(tree: &Tree) -> Vec<String> {
    naming(
        tree,
        "src/chat/",
        &[
            "app",
            "runtime",
            "scheduler",
            "platforms",
            "store",
            "catalog",
            "leader",
        ],
    )
}

/// The chat adapters: every module under `src/platforms/` but the shared
/// helpers, found by listing it (a fourth platform is an adapter the day it
/// appears, as a folder or a file).
pub(crate) fn adapters(tree: &Tree) -> BTreeSet<String> {
    tree.files
        .iter()
        .filter(|f| f.krate == "lib" && f.module.first().is_some_and(|m| m == "platforms"))
        .filter_map(|f| f.module.get(1).cloned())
        .filter(|m| !SHARED_PLATFORM_HELPERS.contains(&m.as_str()))
        .collect()
}

/// Adapters touch neither the store, the catalog nor the wiring, and never
/// each other (the shared helpers excepted).
pub(crate) fn check_adapters(tree: &Tree) -> Vec<String> {
    let mut found = naming(
        tree,
        "src/platforms/",
        &["store", "catalog", "runtime", "leader", "scheduler"],
    );
    let adapters = adapters(tree);
    for n in tree.in_folder("src/platforms/") {
        let own = tree.files[n.file].module.get(1);
        for other in platform_reached(tree, n) {
            if adapters.contains(&other) && own != Some(&other) {
                found.push(format!("{} (names the {other} adapter)", tree.at(n)));
            }
        }
    }
    found
}

/// Nothing in the library but `runtime` names an adapter: adapters sit above
/// `app`, and no arrow runs back up to them.
pub(crate) fn check_adapter_users(tree: &Tree) -> Vec<String> {
    let adapters = adapters(tree);
    let mut found = Vec::new();
    for n in &tree.named {
        let file = &tree.files[n.file];
        let top = file.module.first().map(String::as_str);
        if file.krate != "lib" || matches!(top, Some("runtime") | Some("platforms")) {
            continue;
        }
        for adapter in platform_reached(tree, n) {
            if adapters.contains(&adapter) {
                found.push(format!("{} (names the {adapter} adapter)", tree.at(n)));
            }
        }
    }
    found
}

/// The outbound clients know nothing of the use cases, the adapters or the wiring.
pub(crate) fn check_outbound_clients(tree: &Tree) -> Vec<String> {
    OUTBOUND_CLIENTS
        .iter()
        .flat_map(|folder| naming(tree, folder, &["app", "platforms", "runtime"]))
        .collect()
}

/// The calls that start long-running work, outside `runtime`, `main.rs` and
/// the other binaries.
pub(crate) fn check_long_running(tree: &Tree) -> Vec<String> {
    long_running_calls(tree)
        .filter(|n| {
            let f = &tree.files[n.file];
            f.krate == "lib" && f.module.first().is_none_or(|m| m != "runtime")
        })
        .map(|n| format!("{} (starts long-running work)", tree.at(n)))
        .collect()
}

/// Every call of one of `LONG_RUNNING`, by what it says or, through the
/// file's imports, what it resolves to (`use crate::leader::campaign; campaign(..)`).
pub(crate) fn long_running_calls(tree: &Tree) -> impl Iterator<Item = &Named> {
    tree.named.iter().filter(|n| {
        let written: Vec<&str> = n.written.split("::").collect();
        let absolute: Vec<&str> = n
            .absolute
            .iter()
            .flat_map(|(_, p)| p.iter().map(String::as_str))
            .collect();
        n.call
            && LONG_RUNNING
                .iter()
                .any(|call| written.ends_with(call) || absolute.ends_with(call))
    })
}

/// An edge of the import graph: its file names `to` at `line`, as `written`.
#[derive(Clone, Debug)]
pub(crate) struct Edge {
    pub(crate) to: usize,
    pub(crate) line: usize,
    pub(crate) written: String,
}

/// Whether `child` lies in the subtree of `parent` (a part of that module).
pub(crate) fn is_descendant(tree: &Tree, parent: usize, child: usize) -> bool {
    let (p, c) = (&tree.files[parent], &tree.files[child]);
    p.krate == c.krate && c.module.len() > p.module.len() && c.module.starts_with(&p.module)
}

/// Which edges between a file and its own ancestors a graph keeps.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kin {
    /// A parent naming its parts (composing them), not a part naming its parent.
    Down,
    /// A part naming its parent (what the parent defines), not the parent its parts.
    Up,
}

/// The file-level import graph (see the module doc): for each file, the
/// files it names, each with the first line that names it.
pub(crate) fn import_graph(tree: &Tree, kin: Kin) -> Vec<Vec<Edge>> {
    let mut graph: Vec<Vec<Edge>> = vec![Vec::new(); tree.files.len()];
    for n in &tree.named {
        let Some(to) = n.target else {
            continue;
        };
        let dropped = match kin {
            Kin::Down => is_descendant(tree, to, n.file),
            Kin::Up => is_descendant(tree, n.file, to),
        };
        if n.passage || to == n.file || dropped {
            continue;
        }
        if !graph[n.file].iter().any(|e| e.to == to) {
            graph[n.file].push(Edge {
                to,
                line: n.line,
                written: n.written.clone(),
            });
        }
    }
    graph
}

/// The groups of two or more files that reach each other (Tarjan's strongly
/// connected components), each sorted.
pub(crate) fn tangles(graph: &[Vec<Edge>]) -> Vec<Vec<usize>> {
    struct State<'g> {
        graph: &'g [Vec<Edge>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        found: Vec<Vec<usize>>,
    }
    pub(crate) fn visit(s: &mut State, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for e in &s.graph[v] {
            match s.index[e.to] {
                None => {
                    visit(s, e.to);
                    s.low[v] = s.low[v].min(s.low[e.to]);
                }
                Some(i) if s.on_stack[e.to] => s.low[v] = s.low[v].min(i),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                group.push(w);
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.found.push(group);
            }
        }
    }
    let n = graph.len();
    let mut s = State {
        graph,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.found.sort();
    s.found
}

/// A shortest cycle through the first file of `group`, as `(from, edge)`s.
pub(crate) fn one_cycle(graph: &[Vec<Edge>], group: &[usize]) -> Vec<(usize, Edge)> {
    let start = group[0];
    let mut came_from: BTreeMap<usize, (usize, Edge)> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    'search: while let Some(v) = queue.pop_front() {
        for e in &graph[v] {
            if !group.contains(&e.to) || came_from.contains_key(&e.to) {
                continue;
            }
            came_from.insert(e.to, (v, e.clone()));
            if e.to == start {
                break 'search;
            }
            queue.push_back(e.to);
        }
    }
    let mut cycle = Vec::new();
    let mut at = start;
    while let Some((from, edge)) = came_from.get(&at) {
        cycle.push((*from, edge.clone()));
        at = *from;
        if at == start {
            break;
        }
    }
    cycle.reverse();
    cycle
}

/// The deepest folder holding every file of `group`, e.g. `src/app/`.
pub(crate) fn common_folder(tree: &Tree, group: &[usize]) -> String {
    let folders: Vec<Vec<&str>> = group
        .iter()
        .map(|f| {
            let mut parts: Vec<&str> = tree.files[*f].path.split('/').collect();
            parts.pop();
            parts
        })
        .collect();
    let mut common = folders[0].clone();
    for f in &folders[1..] {
        let same = common.iter().zip(f).take_while(|(a, b)| a == b).count();
        common.truncate(same);
    }
    format!("{}/", common.join("/"))
}

/// Files that import each other in a circle: per tangle, its folder, its
/// files and one cycle through it, each edge with its file and line. Tangles
/// are looked for with the edges from parents down to their parts, then with
/// those from parts up to their parents (see the module doc).
pub(crate) fn check_cycles(tree: &Tree) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut found = Vec::new();
    for kin in [Kin::Down, Kin::Up] {
        let graph = import_graph(tree, kin);
        for group in tangles(&graph) {
            if !seen.insert(group.clone()) {
                continue;
            }
            let files: Vec<&str> = group.iter().map(|f| tree.files[*f].path.as_str()).collect();
            let mut report = format!(
                "a cycle inside {} ({} files tangled: {}):",
                common_folder(tree, &group),
                group.len(),
                files.join(", ")
            );
            for (from, edge) in one_cycle(&graph, &group) {
                report.push_str(&format!(
                    "\n    {}:{}: {} -> {}",
                    tree.files[from].path, edge.line, edge.written, tree.files[edge.to].path
                ));
            }
            found.push(report);
        }
    }
    found
}
