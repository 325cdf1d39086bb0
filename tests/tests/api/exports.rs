//! Exports people open in other programs: the roster as CSV for Excel and LibreOffice, the
//! schedule as iCalendar, the programme evaluation as CSV. Each is read back with a real
//! parser (the `csv` crate, the `icalendar` crate's parser), not by looking for substrings.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Value};
use tests::{nip, spawn};

/// Parses a spreadsheet CSV (after checking its BOM) into records.
fn records(bytes: &[u8]) -> Vec<Vec<String>> {
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 byte-order mark first: {:?}",
        &bytes[..bytes.len().min(8)]
    );
    let body = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    assert!(
        body.lines().count() > 0 && body.contains("\r\n"),
        "CRLF line ends"
    );
    csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

#[tokio::test]
async fn roster_csv_keeps_polish_letters_and_awkward_values_in_their_cells() {
    let app = spawn().await;
    let (visit, term) = app
        .open_term(Some(2), 5, "2031-06-27", "2031-06-20T12:00:00Z")
        .await;
    // A comma, a semicolon (the separator), quotes and a line break in one name; a name a
    // spreadsheet would run as a formula; Polish letters everywhere.
    let awkward = "Fundacja \"Łąka\", Żywiec;\nul. Źródlana 3";
    let formula = "=HYPERLINK(\"http://example.org\",\"Kliknij\")";
    let people = [
        ("Jadwiga", "Żółtowska-Łęcka", awkward),
        ("Grzegorz", "Ćwikliński", formula),
        (
            "Łucja",
            "Śledź",
            "Gminny Ośrodek Pomocy Społecznej w Łęczycy",
        ),
    ];
    let mut last = 0;
    for (i, (first, last_name, inst)) in people.iter().enumerate() {
        let a = app
            .call(
                "POST",
                &format!("/api/v1/study-visits/{visit}/terms/{term}/applications"),
                None,
                Some(json!({
                    "person": {"first_name": first, "last_name": last_name, "email": format!("osoba{i}@example.org")},
                    "institution": {"name": inst, "type": "PES", "nip": nip(70 + i as u32)},
                    "consent": true
                })),
            )
            .await;
        assert_eq!(a.status, 201, "{a:?}");
        last = a.position();
    }
    app.roster(&visit, &term, last).await;
    let (status, ct, bytes) = app
        .download(
            &format!("/api/v1/study-visits/{visit}/terms/{term}/roster.csv?min_position={last}"),
            &app.coordinator,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(ct, "text/csv; charset=utf-8");
    // Polish letters as UTF-8 bytes, not transliterated or re-encoded.
    for word in ["Żółtowska-Łęcka", "Ćwikliński", "Łęczycy", "Śledź"] {
        let needle = word.as_bytes();
        assert!(
            bytes.windows(needle.len()).any(|w| w == needle),
            "{word} in the bytes"
        );
    }
    let rows = records(&bytes);
    let header = &rows[0];
    assert_eq!(rows.len(), 1 + 3, "{rows:?}");
    let name = column(header, "institution_name");
    let last_name = column(header, "last_name");
    let names: HashSet<&str> = rows[1..].iter().map(|r| r[name].as_str()).collect();
    assert!(names.contains(awkward), "round-trips whole: {names:?}");
    // The formula is kept as text: shown, never evaluated.
    assert!(names.contains(format!("'{formula}").as_str()), "{names:?}");
    assert!(
        rows[1..].iter().any(|r| r[last_name] == "Żółtowska-Łęcka"),
        "{rows:?}"
    );
    // Every record has as many cells as the header: nothing spilled into a neighbour.
    assert!(rows.iter().all(|r| r.len() == header.len()), "{rows:?}");
}

/// Undoes RFC 5545 text escaping (3.3.11).
fn unescape(v: &str) -> String {
    let mut out = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The events of an iCalendar text as property maps (name → (params, value)).
fn ics_events(text: &str) -> Vec<BTreeMap<String, (Vec<String>, String)>> {
    let unfolded = icalendar::parser::unfold(text);
    let cal = icalendar::parser::read_calendar(&unfolded).expect("valid iCalendar");
    cal.components
        .iter()
        .filter(|c| c.name == "VEVENT")
        .map(|c| {
            c.properties
                .iter()
                .map(|p| {
                    let params = p
                        .params
                        .iter()
                        .map(|x| {
                            format!(
                                "{}={}",
                                x.key.as_str(),
                                x.val.as_ref().map(|v| v.as_str()).unwrap_or("")
                            )
                        })
                        .collect();
                    (p.name.to_string(), (params, p.val.to_string()))
                })
                .collect()
        })
        .collect()
}

const SCHEDULE: &str = "date,title,kind,location,co_organizer\n\
07.02.2020,Spotkanie monitoringowe OWES (Olsztyn),monitoring_meeting,Olsztyn,\n\
Luty 2020,Badanie ewaluacyjne OWES,other,,\n\
Koniec września 2020,Wydanie Biuletynu,publication,,\n\
29-30.10.2020,\"Regionalna Platforma Współpracy na Rzecz Rozwoju Ekonomii Społecznej, Żywiec; \"\"Łąka\"\"\",meeting,,\n";

#[tokio::test]
async fn schedule_ics_is_rfc_5545_with_stable_uids_and_all_day_dates() {
    let app = spawn().await;
    let token = app.other_coordinator.clone();
    let p = app
        .post(
            "/api/v1/programs",
            &token,
            json!({
                "title": "Ekonomia Społeczna na Warmii i Mazurach",
                "kind": "project",
                "period": {"start": "2018-01-01", "end": "2020-12-31"},
                "goals": ["Koordynacja sektora ekonomii społecznej"],
                "indicators": [{"code": "staff", "label": "Pracownicy", "target": 400, "measure": "participants_total"}]
            }),
        )
        .await;
    assert_eq!(p.status, 201, "{p:?}");
    let program = p.str("id");
    let res = app
        .call_raw(
            "POST",
            &format!("/api/v1/programs/{program}/schedule/import?year=2020"),
            Some(&token),
            "text/csv",
            SCHEDULE,
        )
        .await;
    assert_eq!(res.status, 200);
    let imported: Value = res.body;
    let position = imported["position"].as_i64().unwrap();

    let path = format!("/api/v1/schedule.ics?year=2020&min_position={position}");
    let (status, ct, bytes) = app.download(&path, &token).await;
    assert_eq!(status, 200);
    assert_eq!(ct, "text/calendar; charset=utf-8");
    let text = String::from_utf8(bytes).expect("UTF-8");
    // CRLF only, and no content line longer than 75 octets (folded).
    assert!(text.ends_with("\r\n"));
    assert!(!text.replace("\r\n", "").contains('\n'), "bare LF");
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    assert!(
        text.split("\r\n").any(|l| l.starts_with(' ')),
        "the long title is folded"
    );
    let events = ics_events(&text);
    assert_eq!(events.len(), 4, "{text}");
    let by_title: BTreeMap<String, &BTreeMap<String, (Vec<String>, String)>> = events
        .iter()
        .map(|e| (unescape(&e["SUMMARY"].1), e))
        .collect();
    let long =
        "Regionalna Platforma Współpracy na Rzecz Rozwoju Ekonomii Społecznej, Żywiec; \"Łąka\"";
    assert!(
        by_title.contains_key(long),
        "escaped and unescaped whole: {by_title:?}"
    );
    assert!(text.contains("Żywiec\\;"), "the semicolon is escaped");
    for e in &events {
        assert!(e.contains_key("DTSTAMP") && e.contains_key("UID"), "{e:?}");
        for key in ["DTSTART", "DTEND"] {
            assert!(
                e[key].0.iter().any(|p| p == "VALUE=DATE"),
                "{key} is a date: {e:?}"
            );
        }
    }
    let dates = |title: &str| {
        let e = by_title[title];
        (
            e["DTSTART"].1.clone(),
            e["DTEND"].1.clone(),
            e["STATUS"].1.clone(),
        )
    };
    // A day: ends the next day (DTEND is exclusive).
    assert_eq!(
        dates("Spotkanie monitoringowe OWES (Olsztyn)"),
        ("20200207".into(), "20200208".into(), "CONFIRMED".into())
    );
    assert_eq!(
        dates(long),
        ("20201029".into(), "20201031".into(), "CONFIRMED".into())
    );
    // A month: the whole month, tentative, not busy.
    assert_eq!(
        dates("Badanie ewaluacyjne OWES"),
        ("20200201".into(), "20200301".into(), "TENTATIVE".into())
    );
    assert_eq!(
        by_title["Badanie ewaluacyjne OWES"]["TRANSP"].1,
        "TRANSPARENT"
    );
    let late = dates("Wydanie Biuletynu");
    assert_eq!(late.1, "20201001", "the end of September");
    assert!(
        late.0.starts_with("202009") && late.0.as_str() > "20200915",
        "{late:?}"
    );

    // The same UIDs on the next download: calendars update entries instead of duplicating.
    let (_, _, again) = app.download(&path, &token).await;
    let uids = |evs: &[BTreeMap<String, (Vec<String>, String)>]| -> HashSet<String> {
        evs.iter().map(|e| e["UID"].1.clone()).collect()
    };
    let first = uids(&events);
    assert_eq!(first.len(), 4, "one UID per activity");
    assert_eq!(uids(&ics_events(&String::from_utf8(again).unwrap())), first);

    // Same scope as the JSON schedule: another organizer's coordinator sees none of it.
    let (status, _, other) = app.download(&path, &app.coordinator).await;
    assert_eq!(status, 200);
    assert!(ics_events(&String::from_utf8(other).unwrap()).is_empty());
    let (status, _, _) = app.download("/api/v1/schedule.ics?year=20", &token).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn programme_evaluation_csv_has_the_figures_of_the_json_answer() {
    let app = spawn().await;
    let token = app.coordinator.clone();
    let p = app
        .post(
            "/api/v1/programs",
            &token,
            json!({
                "title": "Program współpracy Gminy Miasta Toruń",
                "kind": "cooperation_programme",
                "period": {"start": "2013-01-01", "end": "2014-12-31"},
                "goals": ["Poprawa współpracy"],
                "indicators": [
                    {"code": "trainings", "label": "Szkolenia, warsztaty; \"praktyczne\"", "target": 3, "measure": "activities_held:training"},
                    {"code": "participants", "label": "Uczestnicy wydarzeń", "target": 100, "measure": "participants_total"}
                ]
            }),
        )
        .await;
    assert_eq!(p.status, 201, "{p:?}");
    let program = p.str("id");
    let a = app
        .post(
            &format!("/api/v1/programs/{program}/activities"),
            &token,
            json!({"kind": "training", "title": "Szkolenie z zamówień", "planned": {"day": "2013-03-12"}}),
        )
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    let activity = a.str("activity_id");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let before_held = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let held = app
        .post(
            &format!("/api/v1/programs/{program}/activities/{activity}/held"),
            &token,
            json!({"starts_on": "2013-03-12", "ends_on": "2013-03-12", "participants_total": 25,
                   "institutions": [{"name": "Spółdzielnia Socjalna „Źródło”", "type": "PES", "nip": nip(90)}], "notes": ""}),
        )
        .await;
    assert_eq!(held.status, 200, "{held:?}");
    let pos = held.position();

    let json = app
        .get(
            &format!("/api/v1/programs/{program}/evaluation?min_position={pos}"),
            &token,
        )
        .await;
    assert_eq!(json.status, 200, "{json:?}");
    let (status, ct, bytes) = app
        .download(
            &format!("/api/v1/programs/{program}/evaluation.csv?min_position={pos}"),
            &token,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(ct, "text/csv; charset=utf-8");
    let rows = records(&bytes);
    let header = rows[0].clone();
    let col = |name: &str| column(&header, name);
    let find = |section: &str, code: &str| -> Vec<String> {
        rows.iter()
            .find(|r| r[col("section")] == section && r[col("code")] == code)
            .unwrap_or_else(|| panic!("no {section}/{code} in {rows:?}"))
            .clone()
    };
    let trainings = find("indicator", "trainings");
    assert_eq!(
        trainings[col("label")],
        "Szkolenia, warsztaty; \"praktyczne\""
    );
    assert_eq!(trainings[col("target")], "3");
    assert_eq!(trainings[col("actual")], "1");
    assert_eq!(trainings[col("achieved")], "false");
    let participants = find("indicator", "participants");
    assert_eq!(
        participants[col("actual")],
        json.body["indicators"][1]["actual"].to_string()
    );
    let total = find("activities", "total");
    assert_eq!(
        (total[col("planned")].as_str(), total[col("held")].as_str()),
        ("1", "1")
    );
    assert_eq!(find("activities", "training")[col("held")], "1");
    assert_eq!(find("summary", "participants_total")[col("actual")], "25");
    assert_eq!(find("summary", "distinct_institutions")[col("actual")], "1");
    assert_eq!(
        find("summary", "position")[col("actual")],
        json.body["position"].to_string()
    );

    // `?at=` before the activity was held: the evaluation as it stood then.
    let at = before_held.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (status, _, bytes) = app
        .download(
            &format!("/api/v1/programs/{program}/evaluation.csv?at={at}"),
            &token,
        )
        .await;
    assert_eq!(status, 200);
    let then = records(&bytes);
    let total = then
        .iter()
        .find(|r| r[col("section")] == "activities" && r[col("code")] == "total")
        .unwrap();
    assert_eq!(
        (total[col("planned")].as_str(), total[col("held")].as_str()),
        ("1", "0"),
        "{then:?}"
    );
    assert!(then.iter().any(|r| r[col("code")] == "at"), "{then:?}");
    let (status, _, _) = app
        .download(
            &format!("/api/v1/programs/{program}/evaluation.csv?at=yesterday"),
            &token,
        )
        .await;
    assert_eq!(status, 400);
    let (status, _, _) = app
        .download(
            &format!("/api/v1/programs/{program}/evaluation.csv"),
            &app.other_coordinator,
        )
        .await;
    assert_eq!(status, 404, "another organizer's programme is not there");
}
