//! The codes of refusals and of invalid values are a promise: clients branch on them and the
//! Polish catalogue (`service::http::messages`) has a sentence for each. The lists that
//! promise them, `domain::error::CODES` and `domain::values::CODES`, are held to the sources
//! here: every code a call site gives (`DomainError::invalid(field, "code", …)`,
//! `DomainError::conflict("code", …)`, `DomainError::not_found("code", …)`,
//! `ValueError::new("code", …)`) must be listed, and every listed code must be given
//! somewhere. So a new rule cannot ship a code the catalogue has never heard of, and a
//! retired one does not linger in the list.
//!
//! The sources are read as text, as `event_catalogue.rs` reads the docs: a call's arguments
//! are split at its top-level commas (strings, chars and brackets skipped over), and the code
//! must be a string literal, so that it can be read at all.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// The calls that make an error, and which argument (from 0) is its code.
const CALLS: &[(&str, usize, Family)] = &[
    ("DomainError::invalid(", 1, Family::Domain),
    ("DomainError::conflict(", 0, Family::Domain),
    ("DomainError::not_found(", 0, Family::Domain),
    ("ValueError::new(", 0, Family::Value),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    Domain,
    Value,
}

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

/// The code of a file without its tests: test modules (a `tests.rs`, or what follows
/// `#[cfg(test)]`, which this crate keeps at the end of a file) may make errors of any code.
fn production_code(path: &Path, text: &str) -> Option<String> {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return None;
    }
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    // Comment lines blanked (a call quoted in a doc comment is not a call).
    Some(
        code.lines()
            .map(|l| {
                if l.trim_start().starts_with("//") {
                    ""
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// The arguments of the call whose `(` ends just before `rest`, as source text, split at the
/// commas between them.
fn arguments(rest: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                current.push(c);
                while let Some(s) = chars.next() {
                    current.push(s);
                    if s == '\\' {
                        if let Some(escaped) = chars.next() {
                            current.push(escaped);
                        }
                    } else if s == '"' {
                        break;
                    }
                }
            }
            '\'' => {
                // A char literal ('x', '\''), or a lifetime (left as it is).
                current.push(c);
                let mut lookahead = chars.clone();
                let literal = matches!(
                    (lookahead.next(), lookahead.next()),
                    (Some('\\'), Some(_)) | (Some(_), Some('\''))
                );
                if literal {
                    // The char (an escape is two), then the closing quote.
                    let first = chars.next();
                    current.extend(first);
                    if first == Some('\\') {
                        current.extend(chars.next());
                    }
                    current.extend(chars.next());
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                current.push(c);
            }
            ')' | ']' | '}' => {
                if depth == 0 {
                    args.push(current.trim().to_owned());
                    return args;
                }
                depth -= 1;
                current.push(c);
            }
            ',' if depth == 0 => {
                args.push(current.trim().to_owned());
                current.clear();
            }
            _ => current.push(c),
        }
    }
    args
}

/// The string a plain literal argument holds (`"deadline_passed"`), or None for anything
/// else (a variable, a `format!`).
fn literal(arg: &str) -> Option<&str> {
    let inner = arg.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('"') && !inner.contains('\\')).then_some(inner)
}

/// Every code the crate's production code gives, by family, with one place each is given.
fn used_codes() -> BTreeMap<(Family, String), String> {
    let mut files = Vec::new();
    sources(Path::new(SRC), &mut files);
    files.sort();
    assert!(files.len() > 10, "no sources found under {SRC}");
    let mut used = BTreeMap::new();
    let mut not_literal = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let Some(code) = production_code(file, &text) else {
            continue;
        };
        for (call, index, family) in CALLS {
            for (at, _) in code.match_indices(call) {
                // `ValueError::new(` inside `crate::values::ValueError::new(` still counts;
                // a longer name ending the same (`MyValueError::new(`) does not.
                let before = code[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let line = code[..at].lines().count().max(1);
                let place = format!(
                    "{}:{line}",
                    file.strip_prefix(SRC).unwrap_or(file).display()
                );
                let args = arguments(&code[at + call.len()..]);
                match args.get(*index).map(String::as_str).and_then(literal) {
                    Some(c) => {
                        used.entry((*family, c.to_owned())).or_insert(place);
                    }
                    None => not_literal.push(format!("{place}: {call}{}…", args.join(", "))),
                }
            }
        }
    }
    assert!(
        not_literal.is_empty(),
        "an error's code must be a string literal, so that it can be listed:\n{}",
        not_literal.join("\n")
    );
    used
}

fn listed(list: &[&str], name: &str) -> BTreeSet<String> {
    let set: BTreeSet<String> = list.iter().map(|c| (*c).to_owned()).collect();
    assert_eq!(set.len(), list.len(), "{name} names a code twice");
    let mut sorted = list.to_vec();
    sorted.sort_unstable();
    assert_eq!(sorted, list, "{name} is kept sorted");
    for c in list {
        assert!(
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{name}: '{c}' is not a code of lower-case letters, digits and '_' (it names a problem type, /problems/<code>)"
        );
    }
    set
}

fn check(family: Family, list: &[&str], name: &str) {
    let listed = listed(list, name);
    let used = used_codes();
    let given: BTreeMap<&str, &str> = used
        .iter()
        .filter(|((f, _), _)| *f == family)
        .map(|((_, c), place)| (c.as_str(), place.as_str()))
        .collect();
    let missing: Vec<String> = given
        .iter()
        .filter(|(c, _)| !listed.contains(**c))
        .map(|(c, place)| format!("{c} (given at {place})"))
        .collect();
    assert!(
        missing.is_empty(),
        "codes given in the sources but missing from {name} (add them, and their Polish sentence to service/src/http/messages.rs):\n{}",
        missing.join("\n")
    );
    let unused: Vec<&String> = listed
        .iter()
        .filter(|c| !given.contains_key(c.as_str()))
        .collect();
    assert!(
        unused.is_empty(),
        "{name} names codes no call site gives (remove them): {unused:?}"
    );
}

#[test]
fn every_refusal_code_is_listed_and_every_listed_one_is_used() {
    check(Family::Domain, domain::error::CODES, "domain::error::CODES");
}

#[test]
fn every_value_code_is_listed_and_every_listed_one_is_used() {
    check(
        Family::Value,
        domain::values::CODES,
        "domain::values::CODES",
    );
}

#[test]
fn the_two_lists_share_one_namespace_without_overlapping() {
    let refusals = listed(domain::error::CODES, "domain::error::CODES");
    let values = listed(domain::values::CODES, "domain::values::CODES");
    let both: Vec<&String> = refusals.intersection(&values).collect();
    assert!(
        both.is_empty(),
        "a code means one thing: {both:?} is both a refusal and a value's reason"
    );
}

#[test]
fn the_reader_splits_arguments_as_rust_does() {
    assert_eq!(
        arguments(r#"format!("{prefix}ends_on"), "ends_before_start", format!("a, b ({})", x))"#),
        vec![
            r#"format!("{prefix}ends_on")"#,
            r#""ends_before_start""#,
            r#"format!("a, b ({})", x)"#
        ]
    );
    assert_eq!(
        arguments(r#""code", "it's \"quoted\", with ',' and '\''", 'x')"#),
        vec![
            r#""code""#,
            r#""it's \"quoted\", with ',' and '\''""#,
            "'x'"
        ]
    );
    assert_eq!(
        arguments(r#"'\\', "a, b", 'x)"#),
        vec![r#"'\\'"#, r#""a, b""#, "'x"]
    );
    assert_eq!(literal(r#""nip_digits""#), Some("nip_digits"));
    assert_eq!(literal("code"), None);
    assert_eq!(literal(r#"format!("x")"#), None);
}
