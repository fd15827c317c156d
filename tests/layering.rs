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

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The library's name, as the binaries write it in paths.
const LIB: &str = "flashsale_bot";

/// What the domain may not touch at all, beyond the rest of the crate.
const IO: &[&[&str]] = &[
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
const SHARED_PLATFORM_HELPERS: &[&str] = &["download"];

/// The outbound clients: what the use cases call out to.
const OUTBOUND_CLIENTS: &[&str] = &[
    "src/storefront/",
    "src/render/",
    "src/catalog/",
    "src/store/",
];

/// What starts a loop that lives as long as the process (a call ending in
/// one of these paths).
const LONG_RUNNING: &[&[&str]] = &[
    &["start_background"],
    &["start_http"],
    &["leader", "campaign"],
    &["reconcile_loop"],
    &["digest", "start"],
    &["http", "serve"],
    &["shutdown_signal"],
];

// ---------------------------------------------------------------------------
// Reading the source
// ---------------------------------------------------------------------------

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    Punct,
    Literal,
}

#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    text: String,
    line: usize,
}

impl Token {
    fn is(&self, text: &str) -> bool {
        self.kind != Kind::Literal && self.text == text
    }
}

/// The tokens of a file: identifiers, `::` and single punctuation, literals
/// as an empty placeholder; comments dropped.
fn lex(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let word_char = |c: char| c.is_alphanumeric() || c == '_';
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let push =
        |tokens: &mut Vec<Token>, kind, text: String, line| tokens.push(Token { kind, text, line });
    while i < n {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < n && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < n {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < n && word_char(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut hashes = 0;
            while at(i + hashes) == '#' {
                hashes += 1;
            }
            if matches!(word.as_str(), "r" | "br" | "cr") && at(i + hashes) == '"' {
                // A raw string: up to a quote followed by as many hashes.
                let first = line;
                i += hashes + 1;
                while i < n && !(chars[i] == '"' && (1..=hashes).all(|h| at(i + h) == '#')) {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
                i += hashes + 1;
                push(&mut tokens, Kind::Literal, String::new(), first);
            } else if word == "r" && hashes == 1 && word_char(at(i + 1)) {
                // A raw identifier, `r#type`.
                i += 1;
                let start = i;
                while i < n && word_char(chars[i]) {
                    i += 1;
                }
                push(
                    &mut tokens,
                    Kind::Ident,
                    chars[start..i].iter().collect(),
                    line,
                );
            } else if matches!(word.as_str(), "b" | "c") && matches!(at(i), '"' | '\'') {
                // A byte or C string prefix: the literal follows.
            } else {
                push(&mut tokens, Kind::Ident, word, line);
            }
        } else if c == '"' {
            let first = line;
            i += 1;
            while i < n && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                line += usize::from(at(i) == '\n');
                i += 1;
            }
            i += 1;
            push(&mut tokens, Kind::Literal, String::new(), first);
        } else if c == '\'' {
            if at(i + 1) == '\\' {
                // An escaped char: '\n', '\'', '\u{..}'.
                i += 3;
                while i < n && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
                push(&mut tokens, Kind::Literal, String::new(), line);
            } else if at(i + 2) == '\'' {
                i += 3;
                push(&mut tokens, Kind::Literal, String::new(), line);
            } else {
                // A lifetime or a label.
                i += 1;
                while i < n && word_char(chars[i]) {
                    i += 1;
                }
            }
        } else if c.is_ascii_digit() {
            while i < n && (word_char(chars[i]) || (chars[i] == '.' && at(i + 1).is_ascii_digit()))
            {
                i += 1;
            }
            push(&mut tokens, Kind::Literal, String::new(), line);
        } else if c == ':' && at(i + 1) == ':' {
            i += 2;
            push(&mut tokens, Kind::Punct, "::".to_owned(), line);
        } else {
            i += 1;
            push(&mut tokens, Kind::Punct, c.to_string(), line);
        }
    }
    tokens
}

/// Index just past the bracket group that opens at `open` (`{`, `(` or `[`).
fn past_group(tokens: &[Token], open: usize) -> usize {
    let mut depth = 0i64;
    let mut i = open;
    while i < tokens.len() {
        let t = &tokens[i];
        if t.is("{") || t.is("(") || t.is("[") {
            depth += 1;
        } else if t.is("}") || t.is(")") || t.is("]") {
            depth -= 1;
            if depth == 0 {
                return i + 1;
            }
        }
        i += 1;
    }
    i
}

/// The tokens without `#[cfg(test)]` items, and the `mod x;` files those
/// items declare (test-only files).
fn without_tests(tokens: Vec<Token>) -> (Vec<Token>, Vec<String>) {
    let cfg_test = ["#", "[", "cfg", "(", "test", ")", "]"];
    let mut kept = Vec::new();
    let mut test_files = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let is_cfg_test = cfg_test
            .iter()
            .enumerate()
            .all(|(k, text)| tokens.get(i + k).is_some_and(|t| t.is(text)));
        if !is_cfg_test {
            kept.push(tokens[i].clone());
            i += 1;
            continue;
        }
        let mut j = i + cfg_test.len();
        // More attributes, then the item, up to its `;` or its closing `}`.
        while j + 1 < tokens.len() && tokens[j].is("#") && tokens[j + 1].is("[") {
            j = past_group(&tokens, j + 1);
        }
        let mut k = j;
        if tokens.get(k).is_some_and(|t| t.is("pub")) {
            k += 1;
            if tokens.get(k).is_some_and(|t| t.is("(")) {
                k = past_group(&tokens, k);
            }
        }
        if tokens.get(k).is_some_and(|t| t.is("mod"))
            && tokens.get(k + 2).is_some_and(|t| t.is(";"))
        {
            test_files.push(tokens[k + 1].text.clone());
        }
        while j < tokens.len() {
            let t = &tokens[j];
            if t.is(";") {
                j += 1;
                break;
            }
            if t.is("{") || t.is("(") || t.is("[") {
                let closes_item = t.is("{");
                j = past_group(&tokens, j);
                if closes_item {
                    if tokens.get(j).is_some_and(|t| t.is(";")) {
                        j += 1;
                    }
                    break;
                }
                continue;
            }
            j += 1;
        }
        i = j;
    }
    (kept, test_files)
}

/// One leaf of a `use` declaration: `use a::{b, c::d as e}` has two.
#[derive(Clone, Debug)]
struct UseLeaf {
    line: usize,
    /// The path as written, e.g. `["super", "render", "Rendered"]`.
    path: Vec<String>,
    /// The name it brings into scope (`None` for `*` and `_`).
    name: Option<String>,
    glob: bool,
    /// `pub` or `pub(..)`: others may name it through this file.
    public: bool,
    /// The inline modules it sits in, innermost last.
    scope: Vec<String>,
    /// At item level of the file (not inside a function or an inline module).
    top: bool,
}

/// A path in code with at least two segments, or a call of one name.
#[derive(Clone, Debug)]
struct CodePath {
    line: usize,
    path: Vec<String>,
    /// Followed by `(`.
    call: bool,
    /// A method: `.name(`, not resolved.
    method: bool,
    scope: Vec<String>,
}

/// What the reader takes from one file.
#[derive(Debug, Default)]
struct Read {
    uses: Vec<UseLeaf>,
    paths: Vec<CodePath>,
    /// `mod x;` and `mod x { .. }`: (inline modules around it, x).
    mods: Vec<(Vec<String>, String)>,
    /// `#[cfg(test)] mod x;`: files that are test code.
    test_mods: Vec<String>,
    /// Every identifier outside `use` declarations.
    idents: BTreeSet<String>,
    /// Lines with `async` or `.await`.
    asyncs: Vec<usize>,
    /// Unreadable constructs: (line, what).
    unreadable: Vec<(usize, String)>,
}

/// Reads the `use` tree starting at `tokens[*i]` into `out` as leaves
/// `(path, alias or last segment, glob, line)`.
fn use_tree(
    tokens: &[Token],
    i: &mut usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, Option<String>, bool, usize)>,
) {
    let mut path = prefix.to_vec();
    if tokens.get(*i).is_some_and(|t| t.is("::")) {
        // `use ::std::x`: an external crate (none of ours is called like one).
        *i += 1;
    }
    loop {
        let Some(t) = tokens.get(*i) else {
            return;
        };
        if t.is("{") {
            *i += 1;
            while tokens.get(*i).is_some_and(|t| !t.is("}")) {
                use_tree(tokens, i, &path, out);
                if tokens.get(*i).is_some_and(|t| t.is(",")) {
                    *i += 1;
                }
            }
            *i += 1;
            return;
        }
        if t.is("*") {
            *i += 1;
            out.push((path, None, true, t.line));
            return;
        }
        if t.kind != Kind::Ident {
            // Not a use tree after all (`;` or damage): stop here.
            return;
        }
        let line = t.line;
        path.push(t.text.clone());
        *i += 1;
        if tokens.get(*i).is_some_and(|t| t.is("::")) {
            *i += 1;
            continue;
        }
        let mut name = path.last().cloned();
        if tokens.get(*i).is_some_and(|t| t.is("as")) {
            name = tokens.get(*i + 1).map(|t| t.text.clone());
            *i += 2;
        }
        if path.last().is_some_and(|s| s == "self") {
            path.pop();
            if name.as_deref() == Some("self") {
                name = path.last().cloned();
            }
        }
        if name.as_deref() == Some("_") {
            name = None;
        }
        out.push((path, name, false, line));
        return;
    }
}

fn read(text: &str) -> Read {
    let (tokens, test_mods) = without_tests(lex(text));
    let mut read = Read {
        test_mods,
        ..Read::default()
    };
    // Inline modules we are in: (name, brace depth inside it).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut public = false;
    let mut i = 0;
    let scope = |inline: &[(String, usize)]| inline.iter().map(|(m, _)| m.clone()).collect();
    while i < tokens.len() {
        let t = &tokens[i];
        let prev = i.checked_sub(1).map(|p| &tokens[p]);
        let next = tokens.get(i + 1);
        if t.is("{") {
            depth += 1;
        } else if t.is("}") {
            depth = depth.saturating_sub(1);
            if inline.last().is_some_and(|(_, d)| *d > depth) {
                inline.pop();
            }
        }
        if t.is("#") && next.is_some_and(|n| n.is("[")) {
            let end = past_group(&tokens, i + 1);
            if tokens.get(i + 2).is_some_and(|t| t.is("path")) {
                read.unreadable
                    .push((t.line, "a #[path] attribute".to_owned()));
            }
            // Attributes name macros and derives, not modules: `#[poise::command]`
            // is still looked at for paths below, the rest is skipped.
            if !tokens
                .get(i + 2)
                .is_some_and(|t| t.is("cfg") || t.is("path"))
            {
                i += 1;
                continue;
            }
            i = end;
            continue;
        }
        if t.kind != Kind::Ident {
            if !t.is("(") || !prev.is_some_and(|p| p.is("pub")) {
                public = false;
            }
            if t.is("(") && prev.is_some_and(|p| p.is("pub")) {
                // `pub(crate)`, `pub(in crate::x)`: a visibility, not a use.
                i = past_group(&tokens, i);
                continue;
            }
            i += 1;
            continue;
        }
        match t.text.as_str() {
            "pub" => {
                public = true;
                i += 1;
                continue;
            }
            "use" if !prev.is_some_and(|p| p.is("::") || p.is(".")) => {
                let mut leaves = Vec::new();
                let mut j = i + 1;
                use_tree(&tokens, &mut j, &[], &mut leaves);
                let top = depth == inline.last().map_or(0, |(_, d)| *d);
                for (path, name, glob, line) in leaves {
                    if glob && public {
                        read.unreadable
                            .push((line, format!("a glob re-export `{}::*`", path.join("::"))));
                    }
                    read.uses.push(UseLeaf {
                        line,
                        path,
                        name,
                        glob,
                        public,
                        scope: scope(&inline),
                        top,
                    });
                }
                while j < tokens.len() && !tokens[j].is(";") {
                    j += 1;
                }
                public = false;
                i = j + 1;
                continue;
            }
            "mod" if next.is_some_and(|n| n.kind == Kind::Ident) => {
                let name = tokens[i + 1].text.clone();
                read.mods.push((scope(&inline), name.clone()));
                if tokens.get(i + 2).is_some_and(|t| t.is("{")) {
                    inline.push((name, depth + 1));
                }
                public = false;
                i += 2;
                continue;
            }
            "async" => read.asyncs.push(t.line),
            "await" if prev.is_some_and(|p| p.is(".")) => read.asyncs.push(t.line),
            _ => {}
        }
        public = false;
        read.idents.insert(t.text.clone());
        if prev.is_some_and(|p| p.is(".")) && next.is_some_and(|n| n.is("(")) {
            // A method call: `x.reconcile_loop(..)`.
            read.paths.push(CodePath {
                line: t.line,
                path: vec![t.text.clone()],
                call: true,
                method: true,
                scope: scope(&inline),
            });
        }
        let starts_path = !prev.is_some_and(|p| p.is("::") || p.is(".") || p.is("fn"));
        if !starts_path {
            i += 1;
            continue;
        }
        let line = t.line;
        let mut path = vec![t.text.clone()];
        let mut j = i + 1;
        while tokens.get(j).is_some_and(|t| t.is("::"))
            && tokens.get(j + 1).is_some_and(|t| t.kind == Kind::Ident)
        {
            path.push(tokens[j + 1].text.clone());
            read.idents.insert(tokens[j + 1].text.clone());
            j += 2;
        }
        let call = tokens.get(j).is_some_and(|t| t.is("("));
        if path.len() > 1 || call {
            read.paths.push(CodePath {
                line,
                path,
                call,
                method: false,
                scope: scope(&inline),
            });
        }
        i = j;
    }
    read
}

/// One source file, read, with its place in its crate.
#[derive(Debug)]
struct SourceFile {
    path: String,
    /// `lib`, or the binary's root file.
    krate: String,
    /// The module path in its crate: `["app", "import", "rows"]`.
    module: Vec<String>,
    read: Read,
}

/// A path a file names, resolved.
#[derive(Clone, Debug)]
struct Named {
    /// The file that names it.
    file: usize,
    line: usize,
    /// As written: `use super::super::interactions` or `crate::store::x`.
    written: String,
    /// The crate it is in and its absolute path there, if it is ours.
    absolute: Option<(String, Vec<String>)>,
    /// The file that holds what it names, past re-exports.
    target: Option<usize>,
    /// Not an import of this file: a `pub use` whose name it does not use itself.
    passage: bool,
    call: bool,
}

/// The whole source, read and resolved.
struct Tree {
    files: Vec<SourceFile>,
    /// (crate, module path) -> index in `files`.
    modules: BTreeMap<(String, Vec<String>), usize>,
    named: Vec<Named>,
}

/// Which crate a file is in and its module path there; `None` for a file
/// that is not a module (outside `src/`).
fn module_of(path: &str) -> Option<(String, Vec<String>)> {
    let rest = path.strip_prefix("src/")?.strip_suffix(".rs")?;
    let parts: Vec<&str> = rest.split('/').collect();
    let (krate, parts) = match parts.as_slice() {
        ["main"] => (path.to_owned(), &[][..]),
        ["bin", _] => (path.to_owned(), &[][..]),
        ["bin", dir, inner @ ..] => (format!("src/bin/{dir}"), inner),
        _ => ("lib".to_owned(), &parts[..]),
    };
    let mut module: Vec<String> = parts.iter().map(|p| (*p).to_owned()).collect();
    if matches!(
        module.last().map(String::as_str),
        Some("mod") | Some("lib") | Some("main")
    ) {
        module.pop();
    }
    Some((krate, module))
}

impl Tree {
    fn new(sources: &[(String, String)]) -> Tree {
        let mut files: Vec<SourceFile> = sources
            .iter()
            .filter_map(|(path, text)| {
                let (krate, module) = module_of(path)?;
                Some(SourceFile {
                    path: path.clone(),
                    krate,
                    module,
                    read: read(text),
                })
            })
            .collect();
        // Files a parent declares only under `#[cfg(test)]` are test code.
        let tests: BTreeSet<(String, Vec<String>)> = files
            .iter()
            .flat_map(|f| {
                f.read.test_mods.iter().map(|m| {
                    let mut module = f.module.clone();
                    module.push(m.clone());
                    (f.krate.clone(), module)
                })
            })
            .collect();
        files.retain(|f| !tests.contains(&(f.krate.clone(), f.module.clone())));
        let modules = files
            .iter()
            .enumerate()
            .map(|(i, f)| ((f.krate.clone(), f.module.clone()), i))
            .collect();
        let mut tree = Tree {
            files,
            modules,
            named: Vec::new(),
        };
        let mut named = Vec::new();
        for (fi, f) in tree.files.iter().enumerate() {
            for u in &f.read.uses {
                let absolute = tree.absolute(fi, &u.path, &u.scope, 0);
                let passage = u.public
                    && !u.glob
                    && u.name.as_ref().is_none_or(|n| !f.read.idents.contains(n));
                named.push(Named {
                    file: fi,
                    line: u.line,
                    written: format!(
                        "use {}{}",
                        u.path.join("::"),
                        if u.glob { "::*" } else { "" }
                    ),
                    target: absolute.as_ref().and_then(|a| tree.resolve(a)),
                    absolute,
                    passage,
                    call: false,
                });
            }
            for p in &f.read.paths {
                let absolute = if p.method {
                    None
                } else {
                    tree.absolute(fi, &p.path, &p.scope, 0)
                };
                named.push(Named {
                    file: fi,
                    line: p.line,
                    written: p.path.join("::"),
                    target: absolute.as_ref().and_then(|a| tree.resolve(a)),
                    absolute,
                    passage: false,
                    call: p.call,
                });
            }
        }
        tree.named = named;
        tree
    }

    fn module_file(&self, krate: &str, module: &[String]) -> Option<usize> {
        self.modules
            .get(&(krate.to_owned(), module.to_vec()))
            .copied()
    }

    /// The absolute path (crate, segments) of `path` as written in file `fi`
    /// inside inline modules `scope`; `None` if it is not ours (`std::..`,
    /// `Self::..`, a type parameter).
    fn absolute(
        &self,
        fi: usize,
        path: &[String],
        scope: &[String],
        hops: usize,
    ) -> Option<(String, Vec<String>)> {
        let f = &self.files[fi];
        let first = path.first()?.as_str();
        let mut here = f.module.clone();
        here.extend(scope.iter().cloned());
        let join = |mut base: Vec<String>, rest: &[String]| {
            base.extend(rest.iter().cloned());
            base
        };
        match first {
            "crate" | "$crate" => Some((f.krate.clone(), path[1..].to_vec())),
            LIB => Some(("lib".to_owned(), path[1..].to_vec())),
            "self" | "super" => {
                // `self::x`, `super::super::x`, even `self::super::x`.
                let lead = path
                    .iter()
                    .take_while(|s| *s == "self" || *s == "super")
                    .count();
                for segment in &path[..lead] {
                    if segment == "super" {
                        here.pop()?;
                    }
                }
                Some((f.krate.clone(), join(here, &path[lead..])))
            }
            _ if f.read.mods.iter().any(|(s, m)| s == scope && m == first) => {
                Some((f.krate.clone(), join(here, path)))
            }
            _ if hops < 8 => {
                let leaf =
                    f.read.uses.iter().find(|u| {
                        u.name.as_deref() == Some(first) && scope.starts_with(&u.scope)
                    })?;
                let (krate, base) = self.absolute(fi, &leaf.path, &leaf.scope, hops + 1)?;
                Some((krate, join(base, &path[1..])))
            }
            _ => None,
        }
    }

    /// The file holding what an absolute path names: its deepest module file,
    /// then through that file's `use` of the next name, if it has one.
    fn resolve(&self, absolute: &(String, Vec<String>)) -> Option<usize> {
        let (mut krate, mut path) = absolute.clone();
        let mut file = None;
        for _ in 0..8 {
            let mut module = Vec::new();
            let mut fi = self.module_file(&krate, &module)?;
            for segment in &path {
                module.push(segment.clone());
                match self.module_file(&krate, &module) {
                    Some(child) => fi = child,
                    None => {
                        module.pop();
                        break;
                    }
                }
            }
            file = Some(fi);
            let Some(item) = path.get(module.len()) else {
                return file;
            };
            let passed_on = self.files[fi]
                .read
                .uses
                .iter()
                .find(|u| u.top && u.scope.is_empty() && u.name.as_ref() == Some(item));
            let Some(leaf) = passed_on else {
                return file;
            };
            // An import from outside the crate: nothing of ours.
            let (k, mut next) = self.absolute(fi, &leaf.path, &[], 0)?;
            next.extend(path[module.len() + 1..].iter().cloned());
            krate = k;
            path = next;
        }
        file
    }

    /// `file:line: written` for a named path.
    fn at(&self, n: &Named) -> String {
        format!("{}:{}: {}", self.files[n.file].path, n.line, n.written)
    }

    /// The library's top-level modules: `src/*.rs` and `src/*/`.
    fn top_level(&self) -> BTreeSet<String> {
        self.files
            .iter()
            .filter(|f| f.krate == "lib")
            .filter_map(|f| f.module.first().cloned())
            .collect()
    }

    fn in_folder<'a>(&'a self, folder: &'a str) -> impl Iterator<Item = &'a Named> + 'a {
        self.named
            .iter()
            .filter(move |n| self.files[n.file].path.starts_with(folder))
    }
}

// ---------------------------------------------------------------------------
// The rules: each returns its violations, `file:line: what (why)`, none if kept.
// ---------------------------------------------------------------------------

/// The library modules a named path reaches: the one its text names
/// (`store` for `crate::store::x`) and the one it resolves to (an `app`
/// re-export of a store type reaches `store` too), as module paths.
fn reaches(tree: &Tree, n: &Named) -> Vec<Vec<String>> {
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
fn tops(tree: &Tree, n: &Named) -> BTreeSet<String> {
    reaches(tree, n)
        .into_iter()
        .filter_map(|path| path.first().cloned())
        .collect()
}

/// The module under `src/platforms/` a named path reaches, if any.
fn platform_reached(tree: &Tree, n: &Named) -> BTreeSet<String> {
    reaches(tree, n)
        .into_iter()
        .filter(|path| path.first().is_some_and(|m| m == "platforms"))
        .filter_map(|path| path.get(1).cloned())
        .collect()
}

/// Paths named in files under `folder` that reach one of `modules`.
fn naming(tree: &Tree, folder: &str, modules: &[&str]) -> Vec<String> {
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
fn check_domain(tree: &Tree) -> Vec<String> {
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
fn check_chat_port(tree: &Tree) -> Vec<String> {
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
fn adapters(tree: &Tree) -> BTreeSet<String> {
    tree.files
        .iter()
        .filter(|f| f.krate == "lib" && f.module.first().is_some_and(|m| m == "platforms"))
        .filter_map(|f| f.module.get(1).cloned())
        .filter(|m| !SHARED_PLATFORM_HELPERS.contains(&m.as_str()))
        .collect()
}

/// Adapters touch neither the store, the catalog nor the wiring, and never
/// each other (the shared helpers excepted).
fn check_adapters(tree: &Tree) -> Vec<String> {
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
fn check_adapter_users(tree: &Tree) -> Vec<String> {
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
fn check_outbound_clients(tree: &Tree) -> Vec<String> {
    OUTBOUND_CLIENTS
        .iter()
        .flat_map(|folder| naming(tree, folder, &["app", "platforms", "runtime"]))
        .collect()
}

/// The calls that start long-running work, outside `runtime`, `main.rs` and
/// the other binaries.
fn check_long_running(tree: &Tree) -> Vec<String> {
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
fn long_running_calls(tree: &Tree) -> impl Iterator<Item = &Named> {
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
struct Edge {
    to: usize,
    line: usize,
    written: String,
}

/// Whether `child` lies in the subtree of `parent` (a part of that module).
fn is_descendant(tree: &Tree, parent: usize, child: usize) -> bool {
    let (p, c) = (&tree.files[parent], &tree.files[child]);
    p.krate == c.krate && c.module.len() > p.module.len() && c.module.starts_with(&p.module)
}

/// Which edges between a file and its own ancestors a graph keeps.
#[derive(Clone, Copy, Debug)]
enum Kin {
    /// A parent naming its parts (composing them), not a part naming its parent.
    Down,
    /// A part naming its parent (what the parent defines), not the parent its parts.
    Up,
}

/// The file-level import graph (see the module doc): for each file, the
/// files it names, each with the first line that names it.
fn import_graph(tree: &Tree, kin: Kin) -> Vec<Vec<Edge>> {
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
fn tangles(graph: &[Vec<Edge>]) -> Vec<Vec<usize>> {
    struct State<'g> {
        graph: &'g [Vec<Edge>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        found: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State, v: usize) {
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
fn one_cycle(graph: &[Vec<Edge>], group: &[usize]) -> Vec<(usize, Edge)> {
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
fn common_folder(tree: &Tree, group: &[usize]) -> String {
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
fn check_cycles(tree: &Tree) -> Vec<String> {
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

// ---------------------------------------------------------------------------
// The rules on the real tree
// ---------------------------------------------------------------------------

/// The real tree, read once for all the tests.
fn real() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| Tree::new(&sources()))
}

fn assert_none(what: &str, found: Vec<String>) {
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
        "the layering reader cannot follow these (see tests/layering.rs, What the reader recognises)",
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
            "nothing calls {}: rename it in LONG_RUNNING (tests/layering.rs)",
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
