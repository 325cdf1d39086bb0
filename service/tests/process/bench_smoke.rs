//! The benchmark (`koordynator bench`) at tiny sizes, as CI runs it: every section
//! of the report is measured (the sustained load on one term and the plain cqrs-es peer
//! included) and no acknowledged submission is lost or doubled.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use serde_json::Value;

use crate::common::{self, BIN};

#[test]
fn a_tiny_benchmark_reports_every_section_and_loses_nothing() {
    let _alone = common::alone_blocking();
    let server = tests::server_url();
    let output =
        std::env::temp_dir().join(format!("kdn-bench-{}.json", uuid::Uuid::new_v4().simple()));
    let status = Command::new(BIN)
        .args([
            "bench",
            "--server",
            &server,
            "--concurrency",
            "1,4",
            "--seconds",
            "0.5",
            "--visits",
            "3",
            "--crowd",
            "40",
            "--events",
            "3000",
            "--service-connections",
            "8",
            "--output",
            output.to_str().unwrap(),
        ])
        .env("RUST_LOG", "warn")
        .status()
        .unwrap();
    assert!(status.success(), "bench exited with {status}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    let _ = std::fs::remove_file(&output);

    for section in ["baseline", "submissions"] {
        let levels = report[section].as_array().unwrap();
        assert_eq!(levels.len(), 2, "{section}: {report}");
        for l in levels {
            assert!(
                l["ok"].as_u64().unwrap() > 0,
                "{section} measured nothing: {l}"
            );
            assert_eq!(l["failed"], 0, "{section}: {l}");
        }
    }
    for l in report["submissions"].as_array().unwrap() {
        assert!(
            l["lag"]["samples"].as_u64().unwrap() > 0,
            "(d) lag sampled: {l}"
        );
        assert_eq!(
            l["lag"]["unreached"], 0,
            "(d) every submission projected: {l}"
        );
    }
    let crowd = &report["crowd"];
    assert_eq!(
        crowd["ok"], 40,
        "(c) every crowd submission accepted: {crowd}"
    );
    for key in [
        "lost",
        "doubled",
        "stored_without_answer",
        "lost_in_submissions",
        "doubled_in_submissions",
    ] {
        assert_eq!(crowd[key], 0, "(c) {key}: {crowd}");
    }
    assert!(crowd["conflicts_retried"].is_u64());
    // (c2) the top concurrency kept submitting to one term: every answer a 201 (past the
    // seats too), each stored exactly once.
    let one_term = &report["one_term"];
    assert_eq!(
        one_term["concurrency"], 4,
        "(c2) at the top concurrency: {one_term}"
    );
    assert!(
        one_term["ok"].as_u64().unwrap() > 0,
        "(c2) measured nothing: {one_term}"
    );
    assert_eq!(one_term["failed"], 0, "(c2): {one_term}");
    for key in ["lost", "doubled"] {
        assert_eq!(one_term[key], 0, "(c2) {key}: {one_term}");
    }
    assert!(one_term["conflicts_retried"].is_u64());
    let rebuild = &report["rebuild"];
    assert!(
        rebuild["events"].as_u64().unwrap() >= 3000,
        "(e): {rebuild}"
    );
    assert!(rebuild["raw_per_second"].as_f64().unwrap() > 0.0);
    assert!(rebuild["rebuild_per_second"].as_f64().unwrap() > 0.0);
    assert_eq!(
        rebuild["per_projection"].as_array().unwrap().len(),
        5,
        "(e) every read model: {rebuild}"
    );
    let memory = &report["memory"];
    assert!(
        memory["peak_rss_mb_with_events"].as_f64().unwrap() > 1.0,
        "(f): {memory}"
    );
    assert!(memory["events_stored"].as_i64().unwrap() >= 3000);
    // (g) the peer measured at each concurrency and in a crowd, with what its view kept.
    let peer = &report["peer"];
    let levels = peer["submissions"].as_array().unwrap();
    assert_eq!(levels.len(), 2, "(g): {peer}");
    for level in levels {
        assert!(level[1]["ok"].as_u64().unwrap() > 0, "(g) measured: {peer}");
    }
    let crowd = &peer["crowd"];
    assert_eq!(
        crowd["ok"].as_u64().unwrap() + crowd["failed"].as_u64().unwrap(),
        40,
        "(g) every crowd submission answered: {peer}"
    );
    assert!(crowd["ok"].as_u64().unwrap() >= 1, "(g) one wins: {peer}");
    // Every success the framework returned is stored, and nothing else is.
    let successes: u64 = levels
        .iter()
        .map(|l| l[1]["ok"].as_u64().unwrap())
        .sum::<u64>()
        + crowd["ok"].as_u64().unwrap();
    assert_eq!(peer["stored"].as_u64().unwrap(), successes, "(g): {peer}");
    let targets = report["targets"].as_array().unwrap();
    assert!(targets.len() >= 9, "every target checked: {targets:?}");
    assert!(
        targets
            .iter()
            .any(|t| t["name"].as_str().unwrap().starts_with("(c2)")),
        "(c2) targets checked: {targets:?}"
    );
}
