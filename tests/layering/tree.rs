//! The whole source as a tree of files: where each path a file names
//! resolves (through `pub use` passages to the defining file), the crate doc
//! in `main.rs` says how ("Files, modules and the import graph").

use std::collections::{BTreeMap, BTreeSet};

use crate::reader::*;
/// One source file, read, with its place in its crate.
#[derive(Debug)]
pub(crate) struct SourceFile {
    pub(crate) path: String,
    /// `lib`, or the binary's root file.
    pub(crate) krate: String,
    /// The module path in its crate: `["app", "import", "rows"]`.
    pub(crate) module: Vec<String>,
    pub(crate) read: Read,
}

/// A path a file names, resolved.
#[derive(Clone, Debug)]
pub(crate) struct Named {
    /// The file that names it.
    pub(crate) file: usize,
    pub(crate) line: usize,
    /// As written: `use super::super::interactions` or `crate::store::x`.
    pub(crate) written: String,
    /// The crate it is in and its absolute path there, if it is ours.
    pub(crate) absolute: Option<(String, Vec<String>)>,
    /// The file that holds what it names, past re-exports.
    pub(crate) target: Option<usize>,
    /// Not an import of this file: a `pub use` whose name it does not use itself.
    pub(crate) passage: bool,
    pub(crate) call: bool,
}

/// The whole source, read and resolved.
pub(crate) struct Tree {
    pub(crate) files: Vec<SourceFile>,
    /// (crate, module path) -> index in `files`.
    pub(crate) modules: BTreeMap<(String, Vec<String>), usize>,
    pub(crate) named: Vec<Named>,
}

/// Which crate a file is in and its module path there; `None` for a file
/// that is not a module (outside `src/`).
pub(crate) fn module_of(path: &str) -> Option<(String, Vec<String>)> {
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
    pub(crate) fn new(sources: &[(String, String)]) -> Tree {
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

    pub(crate) fn module_file(&self, krate: &str, module: &[String]) -> Option<usize> {
        self.modules
            .get(&(krate.to_owned(), module.to_vec()))
            .copied()
    }

    /// The absolute path (crate, segments) of `path` as written in file `fi`
    /// inside inline modules `scope`; `None` if it is not ours (`std::..`,
    /// `Self::..`, a type parameter).
    pub(crate) fn absolute(
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
    pub(crate) fn resolve(&self, absolute: &(String, Vec<String>)) -> Option<usize> {
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
    pub(crate) fn at(&self, n: &Named) -> String {
        format!("{}:{}: {}", self.files[n.file].path, n.line, n.written)
    }

    /// The library's top-level modules: `src/*.rs` and `src/*/`.
    pub(crate) fn top_level(&self) -> BTreeSet<String> {
        self.files
            .iter()
            .filter(|f| f.krate == "lib")
            .filter_map(|f| f.module.first().cloned())
            .collect()
    }

    pub(crate) fn in_folder<'a>(&'a self, folder: &'a str) -> impl Iterator<Item = &'a Named> + 'a {
        self.named
            .iter()
            .filter(move |n| self.files[n.file].path.starts_with(folder))
    }
}
