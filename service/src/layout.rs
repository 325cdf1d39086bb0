//! Holds the crate to the layout its `lib.rs` describes, by reading its own sources: the
//! HTTP layer writes no SQL, no resource folder of `http` uses another, and no module of
//! the crate imports another in a circle. Each rule is easy to break by one convenient
//! `use`, and a reviewer would not see it; this test does.
//!
//! Modules are found from the files under `src/` (`a/b.rs` and `a/b/mod.rs` are `a::b`);
//! a module uses another when its file names it through `crate::`, `super::` or `self::`
//! paths, or names a child module it declares (`child::…`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The shared modules of `http` (see `http/mod.rs`): every other folder or file directly
/// under `http/` is a resource.
const SHARED: &[&str] = &[
    "audit_log",
    "auth",
    "certificate",
    "command",
    "consistency",
    "extract",
    "forms",
    "history",
    "idempotency",
    "institution",
    "limits",
    "messages",
    "openapi",
    "page",
    "polish",
    "problem",
    "request",
    "server",
    "spreadsheet",
    "state",
    "submission",
    "telemetry",
    "validate",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `crate::a::b` for `src/a/b.rs` or `src/a/b/mod.rs`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    std::iter::once("crate".to_owned())
        .chain(parts)
        .collect::<Vec<_>>()
        .join("::")
}

/// The source without its `#[cfg(test)] mod tests { … }` block (tests may reach anywhere)
/// and without comments (a module named in prose is not a module used).
fn code_of(text: &str) -> String {
    let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    // Comment lines are blanked, not dropped, so line numbers stay those of the file.
    code.lines()
        .map(|l| {
            if l.trim_start().starts_with("//") {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path starting with `crate::`, `super::` or `self::` in `text`, with `use` groups
/// spelled out: `crate::http::{self, auth::Auth}` is `crate::http` and `crate::http::auth::Auth`.
fn paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for start in ["crate::", "super::", "self::"] {
        // The character before a match is read from the whole text: the second `super::` of
        // `super::super::x` is part of the first path, not a path of its own.
        for (i, _) in text.match_indices(start) {
            let before = text[..i].chars().next_back();
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                expand("", &text[i..], &mut found);
            }
        }
    }
    found
}

fn is_path_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == ':'
}

/// Adds the path at the start of `tail` (after `prefix`), expanding a `{…}` group.
fn expand(prefix: &str, tail: &str, found: &mut Vec<String>) {
    let end = tail.find(|c: char| !is_path_char(c)).unwrap_or(tail.len());
    let head = format!("{prefix}{}", &tail[..end]);
    let rest = &tail[end..];
    if head.ends_with("::") && rest.starts_with('{') {
        let mut depth = 0;
        let mut item_start = 1;
        for (i, c) in rest.char_indices() {
            match c {
                '{' => depth += 1,
                '}' | ',' if depth == 1 => {
                    let item = rest[item_start..i].trim();
                    if item == "self" {
                        found.push(head.trim_end_matches(':').to_owned());
                    } else if !item.is_empty() {
                        expand(&head, item, found);
                    }
                    item_start = i + 1;
                    if c == '}' {
                        return;
                    }
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
    } else {
        found.push(head.trim_end_matches(':').to_owned());
    }
}

/// The module a path names: its longest prefix that is a module.
fn resolve(current: &str, path: &str, modules: &BTreeSet<String>) -> Option<String> {
    let mut segments: Vec<&str> = path.split("::").collect();
    let mut base: Vec<&str> = match segments.first() {
        Some(&"crate") => {
            segments.remove(0);
            vec!["crate"]
        }
        Some(&"super") => {
            let mut base: Vec<&str> = current.split("::").collect();
            while segments.first() == Some(&"super") {
                segments.remove(0);
                base.pop();
            }
            base
        }
        Some(&"self") => {
            segments.remove(0);
            current.split("::").collect()
        }
        _ => return None,
    };
    let full = base.len();
    base.extend(segments);
    (full..=base.len())
        .rev()
        .map(|n| base[..n].join("::"))
        .find(|m| modules.contains(m))
}

/// Every module of the crate and the modules it uses.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let texts: BTreeMap<String, String> = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            (module_of(src, f), code_of(&text))
        })
        .collect();
    let modules: BTreeSet<String> = texts.keys().cloned().collect();
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, text) in &texts {
        let out = uses.entry(module.clone()).or_default();
        for p in paths(text) {
            if let Some(target) = resolve(module, &p, &modules) {
                if &target != module {
                    out.insert(target);
                }
            }
        }
        for line in text.lines() {
            let line = line.trim_start();
            let decl = line
                .strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("mod "))
                .and_then(|r| r.strip_suffix(';'));
            if let Some(child) = decl {
                let named = text.contains(&format!("{child}::"));
                let child = format!("{module}::{child}");
                if named && modules.contains(&child) {
                    out.insert(child);
                }
            }
        }
    }
    uses
}

/// The strongly connected components of more than one module (Tarjan).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, v: &'g str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.entry(v).or_insert(lw);
                    *lv = (*lv).min(lw);
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.entry(v).or_insert(iw);
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_module_imports_another_in_a_circle() {
    let circles = circles(&graph(&src()));
    assert!(
        circles.is_empty(),
        "modules importing each other: {circles:#?}"
    );
}

#[test]
fn no_resource_of_http_uses_another() {
    let resource = |m: &str| -> Option<String> {
        let rest = m.strip_prefix("crate::http::")?;
        let first = rest.split("::").next()?;
        (!SHARED.contains(&first)).then(|| first.to_owned())
    };
    let mut crossings = Vec::new();
    for (from, targets) in graph(&src()) {
        let Some(mine) = resource(&from) else {
            continue;
        };
        for to in targets {
            if matches!(resource(&to), Some(theirs) if theirs != mine) || to == "crate::http" {
                crossings.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(
        crossings.is_empty(),
        "resources using each other: {crossings:#?}"
    );
}

#[test]
fn the_http_layer_writes_no_sql() {
    let mut files = Vec::new();
    sources(&src().join("http"), &mut files);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for (n, line) in code_of(&text).lines().enumerate() {
            let sql = ["sqlx::query", "sqlx::raw_sql", "query_as(", "query_scalar("]
                .iter()
                .any(|t| line.contains(t))
                || [
                    "\"SELECT ",
                    "\"INSERT ",
                    "\"UPDATE ",
                    "\"DELETE ",
                    "\"WITH ",
                ]
                .iter()
                .any(|t| line.contains(t));
            if sql {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "SQL in the HTTP layer: {found:#?}");
}

#[test]
fn the_checks_see_what_they_look_for() {
    // The checks above pass on a clean tree; here they must catch what they exist for.
    let mut g = BTreeMap::new();
    g.insert(
        "crate::a".to_owned(),
        BTreeSet::from(["crate::b".to_owned()]),
    );
    g.insert(
        "crate::b".to_owned(),
        BTreeSet::from(["crate::a".to_owned()]),
    );
    g.insert(
        "crate::c".to_owned(),
        BTreeSet::from(["crate::a".to_owned()]),
    );
    assert_eq!(circles(&g), vec![vec!["crate::a", "crate::b"]]);
    let modules: BTreeSet<String> = ["crate::http", "crate::http::auth", "crate::http::rosters"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        resolve("crate::http::rosters", "super::auth::Auth", &modules).as_deref(),
        Some("crate::http::auth")
    );
    assert_eq!(
        paths("use crate::http::{self, auth::Auth, c::{d, e}}; let y = foo::super::z;"),
        vec![
            "crate::http",
            "crate::http::auth::Auth",
            "crate::http::c::d",
            "crate::http::c::e"
        ]
    );
    // The real crate has the modules the rules are about.
    let real = graph(&src());
    assert!(real.contains_key("crate::http::rosters"));
    assert!(real["crate::http"].contains("crate::http::rosters"));
}

#[test]
fn a_path_up_two_levels_is_one_path() {
    let found = paths("use super::super::session;\nuse super::common::{a, b};");
    assert_eq!(
        found,
        [
            "super::super::session",
            "super::common::a",
            "super::common::b"
        ]
    );
}
