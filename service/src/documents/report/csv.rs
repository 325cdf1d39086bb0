//! The report as a ZIP of `instytucje.csv`, `osoby.csv` and `raport.json`: the form the
//! monitoring system imports, with a summary that lets an evaluator check the two tables
//! were not edited after download (their SHA-256 is in `raport.json`).
//!
//! The CSV files follow the project's spreadsheet conventions (UTF-8 with BOM, `;`, CRLF,
//! RFC 4180 quoting, `'` before formula-like text); `writer()` and `text()` repeat them
//! here only until they are switched to the service's shared helpers in
//! `http/spreadsheet.rs`.
//!
//! Nothing here reads the clock: the entries' timestamps are `taken_at`, so the same
//! report always gives the same bytes.

use std::borrow::Cow;
use std::io::{Cursor, Write};

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, System, ZipWriter};

use super::super::csv_file::{text, writer};
use super::table::{
    facts, institution_cells, person_cells, Cell, Facts, ParticipantReport, ReportError,
    INSTITUTIONS_FILE, INSTITUTION_COLUMNS, PEOPLE_FILE, PERSON_COLUMNS, SUMMARY_FILE,
};

/// The report as a ZIP holding `instytucje.csv`, `osoby.csv` and `raport.json`, in that
/// order; byte-identical for the same report.
///
/// # Errors
/// [`ReportError::LastEvent`] when only one of `last_position` and `last_hash` is given;
/// otherwise only when a writer fails (out of memory).
pub fn csv_zip(r: &ParticipantReport) -> Result<Vec<u8>, ReportError> {
    let facts = facts(r)?;
    let institutions = table(
        &INSTITUTION_COLUMNS,
        r.institutions.iter().map(institution_cells),
    )?;
    let people = table(&PERSON_COLUMNS, r.people.iter().map(person_cells))?;
    let summary = summary(&facts, &institutions, &people)?;

    // Every option that would otherwise come from the machine is pinned: the time (the
    // default is now, with zip's `time` feature on somewhere in the tree), the system
    // (the default is the one compiled for, which Windows would change) and the mode.
    // The level is pinned too, so a change of zip's default cannot change the bytes.
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(dos_time(r.taken_at))
        .system(System::Unix)
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in [
        (INSTITUTIONS_FILE, &institutions),
        (PEOPLE_FILE, &people),
        (SUMMARY_FILE, &summary),
    ] {
        zip.start_file(name, options)?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// One CSV file: the header, then a line per row.
fn table<'a, const N: usize>(
    header: &[&str; N],
    rows: impl Iterator<Item = [Cell<'a>; N]>,
) -> Result<Vec<u8>, ReportError> {
    let mut w = writer();
    w.write_record(header)?;
    for row in rows {
        let fields: Vec<Cow<'_, str>> = row.iter().map(field).collect();
        w.write_record(fields.iter().map(|f| f.as_bytes()))?;
    }
    w.into_inner().map_err(|e| ReportError::Io(e.into_error()))
}

/// A cell as CSV text: every text goes through `text()` (names, NIPs and titles are typed
/// by the public), a count is its decimal digits.
fn field<'a>(cell: &'a Cell<'a>) -> Cow<'a, str> {
    match cell {
        Cell::Text(t) => text(t),
        Cell::Count(n) => Cow::Owned(n.to_string()),
    }
}

/// `raport.json`. Field order is the key order of the file (serde writes struct fields
/// in declaration order), which is part of the contract.
#[derive(Serialize)]
struct Summary<'a> {
    raport: &'static str,
    zakres: &'static str,
    id: &'a str,
    tytul: &'a str,
    stan_na: &'a str,
    ostatnie_zdarzenie: Option<LastEvent<'a>>,
    liczba_instytucji: usize,
    liczba_osob: usize,
    pliki: Files,
}

#[derive(Serialize)]
struct LastEvent<'a> {
    pozycja: i64,
    skrot: &'a str,
}

/// SHA-256 (lower-case hex) of the two CSV files as they are in the ZIP.
#[derive(Serialize)]
struct Files {
    #[serde(rename = "instytucje.csv")]
    instytucje: String,
    #[serde(rename = "osoby.csv")]
    osoby: String,
}

/// `raport.json`, pretty-printed with a final newline (people open it in an editor).
fn summary(facts: &Facts<'_>, institutions: &[u8], people: &[u8]) -> Result<Vec<u8>, ReportError> {
    let summary = Summary {
        raport: "uczestnicy",
        zakres: facts.zakres,
        id: &facts.id,
        tytul: facts.tytul,
        stan_na: &facts.stan_na,
        ostatnie_zdarzenie: facts
            .last_event
            .map(|(pozycja, skrot)| LastEvent { pozycja, skrot }),
        liczba_instytucji: facts.liczba_instytucji,
        liczba_osob: facts.liczba_osob,
        pliki: Files {
            instytucje: sha256_hex(institutions),
            osoby: sha256_hex(people),
        },
    };
    let mut json = serde_json::to_vec_pretty(&summary)?;
    json.push(b'\n');
    Ok(json)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `taken_at` (UTC) as a ZIP timestamp. The DOS format covers 1980–2107 in steps of two
/// seconds: odd seconds round down, and an instant outside the range is clamped to its
/// nearest end rather than failing the download over a timestamp nobody reads.
fn dos_time(at: DateTime<Utc>) -> zip::DateTime {
    let t = at.naive_utc();
    let exact = || {
        zip::DateTime::from_date_and_time(
            u16::try_from(t.year()).ok()?,
            u8::try_from(t.month()).ok()?,
            u8::try_from(t.day()).ok()?,
            u8::try_from(t.hour()).ok()?,
            u8::try_from(t.minute()).ok()?,
            u8::try_from(t.second()).ok()?,
        )
        .ok()
    };
    // `default()` is 1980-01-01 00:00:00, the earliest DOS time; it is also the fallback
    // for the (unreachable) case of a date in range that zip still refuses.
    match t.year() {
        ..=1979 => zip::DateTime::default(),
        2108.. => zip::DateTime::from_date_and_time(2107, 12, 31, 23, 59, 58).unwrap_or_default(),
        _ => exact().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {

    use chrono::TimeZone;

    use super::super::table::{entries, sample};
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
            .single()
            .unwrap_or_default()
    }

    fn taken_at() -> DateTime<Utc> {
        at(2025, 3, 20, 9, 30, 15)
    }

    #[test]
    fn the_same_report_gives_the_same_bytes_and_another_instant_does_not() {
        let first = csv_zip(&sample(taken_at())).expect("zip");
        let second = csv_zip(&sample(taken_at())).expect("zip");
        assert_eq!(first, second);
        let later = csv_zip(&sample(at(2025, 3, 20, 9, 30, 17))).expect("zip");
        assert_ne!(first, later);
    }

    #[test]
    fn the_zip_holds_the_three_files_in_order_stamped_with_taken_at() {
        let zip = csv_zip(&sample(taken_at())).expect("zip");
        let entries = entries(&zip);
        let names: Vec<&str> = entries.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(names, ["instytucje.csv", "osoby.csv", "raport.json"]);
        for (_, time, _) in &entries {
            // 15 s rounds down to 14 s: DOS time counts in steps of two seconds.
            assert_eq!(time.to_string(), "2025-03-20 09:30:14");
        }
    }

    #[test]
    fn instytucje_csv_is_exactly_as_the_monitoring_system_expects() {
        let zip = csv_zip(&sample(taken_at())).expect("zip");
        let entries = entries(&zip);
        let expected = "\u{feff}nip;nazwa;typ_instytucji;rodzaj_wsparcia;\
            data_rozpoczecia_wsparcia;data_zakonczenia_wsparcia;liczba_osob\r\n\
            0123456789;Gmina Żółkiewka;jednostka samorządu terytorialnego;wizyta studyjna;\
            2025-03-10;2025-03-14;2\r\n\
            5261040828;\"'=HYPERLINK(\"\"http://x.example\"\";\"\"klik\"\")\";\
            organizacja pozarządowa;wizyta studyjna;2025-03-10;2025-03-14;1\r\n";
        assert_eq!(String::from_utf8_lossy(&entries[0].2), expected);
    }

    #[test]
    fn osoby_csv_keeps_erased_people_and_defuses_formulas() {
        let zip = csv_zip(&sample(taken_at())).expect("zip");
        let entries = entries(&zip);
        let expected = "\u{feff}imie;nazwisko;nip_instytucji;nazwa_instytucji;stanowisko;\
            rodzaj_wsparcia;data_rozpoczecia_wsparcia;data_zakonczenia_wsparcia\r\n\
            Łucja;\"Źdźbło-\"\"Nowak\"\"\";0123456789;Gmina Żółkiewka;\
            \"kierowniczka\nreferatu\";wizyta studyjna;2025-03-10;2025-03-14\r\n\
            [dane usunięte];[dane usunięte];0123456789;Gmina Żółkiewka;;\
            wizyta studyjna;2025-03-10;2025-03-14\r\n\
            '+48 Jan;'@Kowalski;5261040828;\
            \"'=HYPERLINK(\"\"http://x.example\"\";\"\"klik\"\")\";'-;\
            wizyta studyjna;2025-03-10;2025-03-14\r\n";
        assert_eq!(String::from_utf8_lossy(&entries[1].2), expected);
    }

    #[test]
    fn raport_json_describes_the_report_and_hashes_the_csv_files() {
        let zip = csv_zip(&sample(taken_at())).expect("zip");
        let entries = entries(&zip);
        let json = String::from_utf8(entries[2].2.clone()).expect("utf-8");
        let value: serde_json::Value = serde_json::from_str(&json).expect("json");
        assert_eq!(
            value,
            serde_json::json!({
                "raport": "uczestnicy",
                "zakres": "wizyta",
                "id": "0192f3a4-5b6c-7d8e-9f00-112233445566",
                "tytul": "Wizyta w Lizbonie; „cyfrowe usługi”",
                "stan_na": "2025-03-20T09:30:15Z",
                "ostatnie_zdarzenie": {"pozycja": 4711, "skrot": "ab".repeat(32)},
                "liczba_instytucji": 2,
                "liczba_osob": 3,
                "pliki": {
                    "instytucje.csv": sha256_hex(&entries[0].2),
                    "osoby.csv": sha256_hex(&entries[1].2),
                },
            })
        );
        // The hashes are of the very bytes in the ZIP, checked here independently.
        let hex = |b: &[u8]| -> String {
            Sha256::digest(b)
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect()
        };
        assert_eq!(value["pliki"]["osoby.csv"], hex(&entries[1].2));
        assert_eq!(
            value["pliki"]["instytucje.csv"].as_str().map(str::len),
            Some(64)
        );
        // Key order is part of the contract: check it in the text, not the parsed value.
        let keys = [
            "\"raport\"",
            "\"zakres\"",
            "\"id\"",
            "\"tytul\"",
            "\"stan_na\"",
            "\"ostatnie_zdarzenie\"",
            "\"pozycja\"",
            "\"skrot\"",
            "\"liczba_instytucji\"",
            "\"liczba_osob\"",
            "\"pliki\"",
            "\"instytucje.csv\"",
            "\"osoby.csv\"",
        ];
        let positions: Vec<usize> = keys.iter().map(|k| json.find(k).expect(k)).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{json}");
        assert!(json.starts_with("{\n  \"raport\": \"uczestnicy\",\n"));
        assert!(json.ends_with("}\n"));
    }

    #[test]
    fn a_report_without_events_says_null() {
        let mut r = sample(taken_at());
        r.last_position = None;
        r.last_hash = None;
        r.subject = super::super::table::ReportSubject::Program {
            id: uuid::Uuid::nil(),
            title: "Program".to_string(),
        };
        let zip = csv_zip(&r).expect("zip");
        let entries = entries(&zip);
        let value: serde_json::Value = serde_json::from_slice(&entries[2].2).expect("json");
        assert_eq!(value["ostatnie_zdarzenie"], serde_json::Value::Null);
        assert_eq!(value["zakres"], "program");
    }

    #[test]
    fn an_empty_report_still_has_its_headers() {
        let mut r = sample(taken_at());
        r.institutions.clear();
        r.people.clear();
        let entries = entries(&csv_zip(&r).expect("zip"));
        assert_eq!(
            entries[0].2,
            "\u{feff}nip;nazwa;typ_instytucji;rodzaj_wsparcia;data_rozpoczecia_wsparcia;\
             data_zakonczenia_wsparcia;liczba_osob\r\n"
                .as_bytes()
        );
    }

    #[test]
    fn timestamps_outside_the_dos_range_are_clamped() {
        assert_eq!(
            dos_time(at(1970, 1, 1, 0, 0, 0)).to_string(),
            "1980-01-01 00:00:00"
        );
        assert_eq!(
            dos_time(at(1979, 12, 31, 23, 59, 59)).to_string(),
            "1980-01-01 00:00:00"
        );
        assert_eq!(
            dos_time(at(1980, 1, 1, 0, 0, 1)).to_string(),
            "1980-01-01 00:00:00"
        );
        assert_eq!(
            dos_time(at(2107, 12, 31, 23, 59, 59)).to_string(),
            "2107-12-31 23:59:58"
        );
        assert_eq!(
            dos_time(at(2200, 6, 1, 12, 0, 0)).to_string(),
            "2107-12-31 23:59:58"
        );
        // And the ZIP is still written, with the clamped time.
        let entries = entries(&csv_zip(&sample(at(1970, 1, 1, 0, 0, 0))).expect("zip"));
        assert_eq!(entries[0].1.to_string(), "1980-01-01 00:00:00");
    }
}
