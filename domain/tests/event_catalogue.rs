//! docs/events.md is the catalogue evaluators and client writers read; this test keeps it
//! true. The set of (aggregate, event, current version) in its tables must equal the one
//! in the code, and every older version it lists (and every one the code implies) must
//! have an upcaster.

use std::collections::BTreeSet;

use domain::upcasting::{catalogue, upcasters};

const EVENTS_MD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/events.md");

/// What the document says.
#[derive(Debug, Default)]
struct Doc {
    /// (aggregate, event, current version) from each aggregate's table.
    current: BTreeSet<(String, String, String)>,
    /// (aggregate, event, old version, upcast to) from the "Older versions" table.
    older: BTreeSet<(String, String, String, String)>,
}

fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner
        .split('|')
        .map(|c| {
            c.trim()
                .trim_matches('*')
                .trim_matches('`')
                .trim()
                .to_owned()
        })
        .collect()
}

fn is_separator(row: &[String]) -> bool {
    row.iter()
        .all(|c| !c.is_empty() && c.chars().all(|ch| ch == '-' || ch == ':'))
}

/// The aggregate type a `## ...` heading introduces: "(aggregate type `StudyVisit`, ...)".
fn aggregate_of(heading: &str) -> Option<String> {
    let rest = heading.split("aggregate type `").nth(1)?;
    Some(rest.split('`').next()?.to_owned())
}

fn parse(text: &str) -> Doc {
    let mut doc = Doc::default();
    let mut aggregate: Option<String> = None;
    let mut header: Option<Vec<String>> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(heading) = trimmed.strip_prefix("## ") {
            aggregate = aggregate_of(heading);
        }
        if !trimmed.starts_with('|') {
            header = None;
            continue;
        }
        let row = cells(trimmed);
        let Some(head) = &header else {
            header = Some(row.iter().map(|c| c.to_lowercase()).collect());
            continue;
        };
        if is_separator(&row) {
            continue;
        }
        let col = |name: &str| {
            head.iter()
                .position(|h| h == name)
                .and_then(|i| row.get(i))
                .cloned()
        };
        if head.first().map(String::as_str) == Some("event") {
            let agg = aggregate
                .clone()
                .unwrap_or_else(|| panic!("event table outside an aggregate's section: {line}"));
            let (Some(event), Some(version)) = (col("event"), col("version")) else {
                panic!("row without event or version: {line}");
            };
            doc.current.insert((agg, event, version));
        } else if head.iter().any(|h| h == "old version") {
            let (Some(agg), Some(event), Some(old), Some(to)) = (
                col("aggregate"),
                col("event"),
                col("old version"),
                col("upcast to"),
            ) else {
                panic!("incomplete row of older versions: {line}");
            };
            doc.older.insert((agg, event, old, to));
        }
    }
    doc
}

fn read_doc() -> Doc {
    let text = std::fs::read_to_string(EVENTS_MD)
        .unwrap_or_else(|e| panic!("cannot read {EVENTS_MD}: {e}"));
    parse(&text)
}

fn code_current() -> BTreeSet<(String, String, String)> {
    catalogue()
        .into_iter()
        .map(|e| {
            (
                e.aggregate_type.to_owned(),
                e.event_type.to_owned(),
                e.current_version.to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_doc_lists_exactly_the_events_and_current_versions_of_the_code() {
    let doc = read_doc();
    let code = code_current();
    let missing: Vec<_> = code.difference(&doc.current).collect();
    let stale: Vec<_> = doc.current.difference(&code).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "docs/events.md is out of date.\n  in the code, not in the doc: {missing:?}\n  in the doc, not in the code: {stale:?}"
    );
}

#[test]
fn every_older_version_has_an_upcaster_to_the_next() {
    let doc = read_doc();
    for (agg, event, old, to) in &doc.older {
        let ups = upcasters(agg);
        let step = ups.iter().find(|u| u.can_upcast(event, old));
        assert!(
            step.is_some(),
            "docs/events.md lists {agg}/{event} version {old}, but no upcaster reads it"
        );
        let (Ok(old_n), Ok(to_n)) = (old.parse::<u32>(), to.parse::<u32>()) else {
            panic!("versions are whole numbers: {agg}/{event} {old} -> {to}");
        };
        assert_eq!(
            to_n,
            old_n + 1,
            "{agg}/{event}: an upcaster takes one version to the next"
        );
    }
}

#[test]
fn every_version_below_the_current_one_is_documented_as_older() {
    let doc = read_doc();
    for entry in catalogue() {
        let current: u32 = entry.current_version.parse().unwrap_or_else(|_| {
            panic!(
                "{}/{}: versions are whole numbers",
                entry.aggregate_type, entry.event_type
            )
        });
        for old in 1..current {
            let row = (
                entry.aggregate_type.to_owned(),
                entry.event_type.to_owned(),
                old.to_string(),
                (old + 1).to_string(),
            );
            assert!(
                doc.older.contains(&row),
                "{}/{} is at version {current}; docs/events.md must list version {old} under \"Older versions\"",
                entry.aggregate_type,
                entry.event_type
            );
        }
    }
    // And nothing older than a current version is listed as older for a current one.
    for (agg, event, old, _) in &doc.older {
        let current = catalogue()
            .into_iter()
            .find(|e| e.aggregate_type == agg && e.event_type == event)
            .unwrap_or_else(|| panic!("{agg}/{event} is listed as older but is not an event"));
        assert!(
            old.parse::<u32>().ok() < current.current_version.parse::<u32>().ok(),
            "{agg}/{event}: version {old} is not older than {}",
            current.current_version
        );
    }
}

#[test]
fn the_parser_reads_both_kinds_of_table() {
    // Guards the test itself: a catalogue parsed as empty would make the checks above vacuous.
    let doc = read_doc();
    for agg in ["StudyVisit", "CooperationProgram", "Network"] {
        assert!(
            doc.current.iter().any(|(a, _, _)| a == agg),
            "no events of {agg} parsed"
        );
    }
    assert!(doc.current.contains(&(
        "StudyVisit".into(),
        "ApplicationSubmitted".into(),
        "2".into()
    )));
    assert!(!doc.older.is_empty());
}
