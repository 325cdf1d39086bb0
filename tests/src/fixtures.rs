//! Invented data the tests send: NIPs, request bodies, instants. People and institutions are
//! made up; NIPs are generated (valid ones by the domain's own check-digit algorithm), so no
//! real taxpayer number appears in a test.

use serde_json::{json, Value};

/// Parses an RFC 3339 instant (test input: a bad literal is a test bug).
pub fn instant(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .expect("RFC 3339 instant")
        .with_timezone(&chrono::Utc)
}

/// Valid NIPs: nine digits from `seed` plus the computed check digit. Distinct seeds give
/// distinct NIPs except where nine digits have no check digit (then the next seed's is used).
pub fn nip(seed: u32) -> String {
    (seed..)
        .find_map(|n| domain::values::Nip::completing(100_000_000 + n % 800_000_000))
        .map(|n| n.to_string())
        .unwrap_or_default()
}

/// `nip(seed)` with a wrong check digit: a NIP the service must refuse.
pub fn bad_nip(seed: u32) -> String {
    let good = nip(seed);
    let (nine, check) = good.split_at(9);
    let check: u32 = check.parse().expect("nip() ends in its check digit");
    // Only one check digit is right, so any other is wrong.
    format!("{nine}{}", (check + 1) % 10)
}

/// An institution as the API takes it: `kind` (JST, PES, CIS, …), `name` and `nip(seed)`.
pub fn institution(kind: &str, name: &str, seed: u32) -> Value {
    json!({"name": name, "type": kind, "nip": nip(seed)})
}

/// The body announcing the seed's visit.
pub fn visit_body(max_per_institution: Option<u32>) -> Value {
    json!({
        "title": "Wizyta studyjna: dobre praktyki ekonomii społecznej",
        "destination": "województwo wielkopolskie",
        "description": "Prezentacja dobrych praktyk współpracy JST z PES oraz Centrów Usług Społecznych.",
        "eligible_institution_types": ["JST", "JOPS", "PES", "OWES"],
        "max_per_institution": max_per_institution,
        "preferences": [
            {"code": "cus_declared", "label": "JST, które zadeklarowały utworzenie CUS", "kind": "listed"},
            {"code": "new_to_project", "label": "Nie brały udziału w projekcie 2019-2021", "kind": "not_listed"}
        ],
        "funding": {"project": "Koordynacja rozwoju ekonomii społecznej w województwie kujawsko-pomorskim",
                    "programme": "RPO WK-P 2014-2020", "priority_axis": "9", "measure": "9.4", "sub_measure": "9.4.2"}
    })
}

/// A public application body (invented person).
pub fn application_body(email: &str, nip: &str, kind: &str) -> Value {
    json!({
        "person": {"first_name": "Zofia", "last_name": "Wiśniewska", "email": email, "phone": "+48 600 000 000", "job_title": "specjalistka"},
        "institution": {"name": format!("Instytucja {nip}"), "type": kind, "nip": nip},
        "consent": true
    })
}
