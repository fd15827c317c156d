//! Reading the source: a small lexer and the `use` trees and paths of each
//! file (see the crate doc in `main.rs`, "What the reader recognises").

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The library's name, as the binaries write it in paths.
pub(crate) const LIB: &str = "flashsale_bot";

// ---------------------------------------------------------------------------
// Reading the source
// ---------------------------------------------------------------------------

/// Every `.rs` file under `src/`, relative to the crate root, with its text.
pub(crate) fn sources() -> Vec<(String, String)> {
    pub(crate) fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
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
pub(crate) enum Kind {
    Ident,
    Punct,
    Literal,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) text: String,
    pub(crate) line: usize,
}

impl Token {
    pub(crate) fn is(&self, text: &str) -> bool {
        self.kind != Kind::Literal && self.text == text
    }
}

/// The tokens of a file: identifiers, `::` and single punctuation, literals
/// as an empty placeholder; comments dropped.
pub(crate) fn lex(text: &str) -> Vec<Token> {
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
pub(crate) fn past_group(tokens: &[Token], open: usize) -> usize {
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
pub(crate) fn without_tests(tokens: Vec<Token>) -> (Vec<Token>, Vec<String>) {
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
pub(crate) struct UseLeaf {
    pub(crate) line: usize,
    /// The path as written, e.g. `["super", "render", "Rendered"]`.
    pub(crate) path: Vec<String>,
    /// The name it brings into scope (`None` for `*` and `_`).
    pub(crate) name: Option<String>,
    pub(crate) glob: bool,
    /// `pub` or `pub(..)`: others may name it through this file.
    pub(crate) public: bool,
    /// The inline modules it sits in, innermost last.
    pub(crate) scope: Vec<String>,
    /// At item level of the file (not inside a function or an inline module).
    pub(crate) top: bool,
}

/// A path in code with at least two segments, or a call of one name.
#[derive(Clone, Debug)]
pub(crate) struct CodePath {
    pub(crate) line: usize,
    pub(crate) path: Vec<String>,
    /// Followed by `(`.
    pub(crate) call: bool,
    /// A method: `.name(`, not resolved.
    pub(crate) method: bool,
    pub(crate) scope: Vec<String>,
}

/// What the reader takes from one file.
#[derive(Debug, Default)]
pub(crate) struct Read {
    pub(crate) uses: Vec<UseLeaf>,
    pub(crate) paths: Vec<CodePath>,
    /// `mod x;` and `mod x { .. }`: (inline modules around it, x).
    pub(crate) mods: Vec<(Vec<String>, String)>,
    /// `#[cfg(test)] mod x;`: files that are test code.
    pub(crate) test_mods: Vec<String>,
    /// Every identifier outside `use` declarations.
    pub(crate) idents: BTreeSet<String>,
    /// Lines with `async` or `.await`.
    pub(crate) asyncs: Vec<usize>,
    /// Unreadable constructs: (line, what).
    pub(crate) unreadable: Vec<(usize, String)>,
}

/// Reads the `use` tree starting at `tokens[*i]` into `out` as leaves
/// `(path, alias or last segment, glob, line)`.
pub(crate) fn use_tree(
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

pub(crate) fn read(text: &str) -> Read {
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
