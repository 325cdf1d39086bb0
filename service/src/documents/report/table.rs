//! The report's tables as data: the types the caller fills, the columns and the cells of
//! each row (built once, so the CSV and the XLSX cannot drift apart), and the facts
//! `raport.json` and the `raport` sheet both state. The formats are its siblings.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use uuid::Uuid;

/// Columns of the `instytucje` table (CSV header and XLSX header row), in order.
pub const INSTITUTION_COLUMNS: [&str; 7] = [
    "nip",
    "nazwa",
    "typ_instytucji",
    "rodzaj_wsparcia",
    "data_rozpoczecia_wsparcia",
    "data_zakonczenia_wsparcia",
    "liczba_osob",
];

/// Columns of the `osoby` table (CSV header and XLSX header row), in order.
pub const PERSON_COLUMNS: [&str; 8] = [
    "imie",
    "nazwisko",
    "nip_instytucji",
    "nazwa_instytucji",
    "stanowisko",
    "rodzaj_wsparcia",
    "data_rozpoczecia_wsparcia",
    "data_zakonczenia_wsparcia",
];

/// What stands in for the first and last name of a person whose data were erased: the row
/// stays, so the counts reported to the monitoring system do not change after an erasure.
pub const ERASED: &str = "[dane usunięte]";

/// Names of the ZIP entries, in the order they are written.
pub const INSTITUTIONS_FILE: &str = "instytucje.csv";
/// See [`INSTITUTIONS_FILE`].
pub const PEOPLE_FILE: &str = "osoby.csv";
/// See [`INSTITUTIONS_FILE`].
pub const SUMMARY_FILE: &str = "raport.json";

/// A participant report as read from the record at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantReport {
    /// What the report covers.
    pub subject: ReportSubject,
    /// The `at` instant the record was read at; also the files' timestamps.
    pub taken_at: DateTime<Utc>,
    /// Global feed position of the newest event covered (`None`: no event yet).
    pub last_position: Option<i64>,
    /// Hex hash of that event in the hash chain; given exactly when `last_position` is.
    pub last_hash: Option<String>,
    /// One row per institution, already sorted by the caller (written in this order).
    pub institutions: Vec<InstitutionRow>,
    /// One row per person, already sorted by the caller (written in this order).
    pub people: Vec<PersonRow>,
}

/// What a report covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportSubject {
    /// One study visit (`zakres`: `wizyta`).
    Visit { id: Uuid, title: String },
    /// A whole programme (`zakres`: `program`).
    Program { id: Uuid, title: String },
}

/// A row of the `instytucje` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstitutionRow {
    /// `nip`: kept as text, so leading zeros survive.
    pub nip: String,
    /// `nazwa`.
    pub name: String,
    /// `typ_instytucji`.
    pub institution_type: String,
    /// `rodzaj_wsparcia`, e.g. `wizyta studyjna`.
    pub support_kind: String,
    /// `data_rozpoczecia_wsparcia`.
    pub support_start: NaiveDate,
    /// `data_zakonczenia_wsparcia`.
    pub support_end: NaiveDate,
    /// `liczba_osob`; None where the record names no people (a programme's activities
    /// record institutions and a head count, not who came): written empty.
    pub people: Option<u32>,
}

/// A row of the `osoby` table.
///
/// A person with either name missing is written as erased: both names become [`ERASED`]
/// and `stanowisko` is left empty whatever `job_title` holds, so a half-erased record
/// never leaks the other half.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// `imie`; `None`: the person's data were erased.
    pub first_name: Option<String>,
    /// `nazwisko`; `None`: the person's data were erased.
    pub last_name: Option<String>,
    /// `nip_instytucji`.
    pub institution_nip: String,
    /// `nazwa_instytucji`.
    pub institution_name: String,
    /// `stanowisko`; `None`: not given or erased (written empty).
    pub job_title: Option<String>,
    /// `rodzaj_wsparcia`.
    pub support_kind: String,
    /// `data_rozpoczecia_wsparcia`.
    pub support_start: NaiveDate,
    /// `data_zakonczenia_wsparcia`.
    pub support_end: NaiveDate,
}

/// Why the files could not be written. All but [`ReportError::LastEvent`] come from the
/// writers (out of memory, a text longer than an XLSX cell takes, more rows than a sheet
/// holds); a caller answers them with an internal error.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Writing a CSV table failed.
    #[error("csv: {0}")]
    Csv(#[from] ::csv::Error),
    /// Writing the ZIP failed.
    #[error("zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// Writing the workbook failed.
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// Writing `raport.json` failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// Writing into memory failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// Only one of `last_position` and `last_hash` was given: the report would name an
    /// event it cannot identify, so it is refused rather than written half-empty.
    #[error("report: last_position and last_hash must be given together")]
    LastEvent,
    /// More rows than a worksheet can index.
    #[error("xlsx: {0} rows do not fit in a sheet")]
    TooManyRows(usize),
}

/// One cell of a table, before a format makes it safe: text (everything that users typed,
/// dates, NIPs) or a count (a number in XLSX).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell<'a> {
    Text(Cow<'a, str>),
    Count(u32),
}

/// The cells of an `instytucje` row, in [`INSTITUTION_COLUMNS`] order.
pub(super) fn institution_cells(row: &InstitutionRow) -> [Cell<'_>; 7] {
    [
        Cell::Text(Cow::Borrowed(&row.nip)),
        Cell::Text(Cow::Borrowed(&row.name)),
        Cell::Text(Cow::Borrowed(&row.institution_type)),
        Cell::Text(Cow::Borrowed(&row.support_kind)),
        Cell::Text(Cow::Owned(iso(row.support_start))),
        Cell::Text(Cow::Owned(iso(row.support_end))),
        row.people
            .map_or(Cell::Text(Cow::Borrowed("")), Cell::Count),
    ]
}

/// The cells of an `osoby` row, in [`PERSON_COLUMNS`] order (erasure as on [`PersonRow`]).
pub(super) fn person_cells(row: &PersonRow) -> [Cell<'_>; 8] {
    let (first, last, job) = match (&row.first_name, &row.last_name) {
        (Some(first), Some(last)) => (
            first.as_str(),
            last.as_str(),
            row.job_title.as_deref().unwrap_or(""),
        ),
        _ => (ERASED, ERASED, ""),
    };
    [
        Cell::Text(Cow::Borrowed(first)),
        Cell::Text(Cow::Borrowed(last)),
        Cell::Text(Cow::Borrowed(&row.institution_nip)),
        Cell::Text(Cow::Borrowed(&row.institution_name)),
        Cell::Text(Cow::Borrowed(job)),
        Cell::Text(Cow::Borrowed(&row.support_kind)),
        Cell::Text(Cow::Owned(iso(row.support_start))),
        Cell::Text(Cow::Owned(iso(row.support_end))),
    ]
}

/// A date as the monitoring system imports it: `YYYY-MM-DD`.
pub(super) fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// What `raport.json` and the `raport` sheet both say about the report.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Facts<'a> {
    /// `wizyta` or `program`.
    pub(super) zakres: &'static str,
    /// The visit's or programme's id, hyphenated lower case.
    pub(super) id: String,
    pub(super) tytul: &'a str,
    /// `taken_at` as RFC 3339 in UTC with `Z`, to the microsecond when it has a fraction
    /// (the store's precision): asked for again with this `at`, the report is the same.
    pub(super) stan_na: String,
    /// Position and hash of the newest event covered, if any.
    pub(super) last_event: Option<(i64, &'a str)>,
    pub(super) liczba_instytucji: usize,
    /// Rows of `osoby` (erased people included).
    pub(super) liczba_osob: usize,
}

pub(super) fn facts(r: &ParticipantReport) -> Result<Facts<'_>, ReportError> {
    let (zakres, id, tytul) = match &r.subject {
        ReportSubject::Visit { id, title } => ("wizyta", id, title),
        ReportSubject::Program { id, title } => ("program", id, title),
    };
    let last_event = match (r.last_position, r.last_hash.as_deref()) {
        (Some(position), Some(hash)) => Some((position, hash)),
        (None, None) => None,
        _ => return Err(ReportError::LastEvent),
    };
    Ok(Facts {
        zakres,
        id: id.hyphenated().to_string(),
        tytul,
        stan_na: r.taken_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        last_event,
        liczba_instytucji: r.institutions.len(),
        liczba_osob: r.people.len(),
    })
}

/// A report exercising what the files must get right: Polish letters, a NIP with a
/// leading zero, CSV specials (`;`, quotes, a line break), formula-like text typed by the
/// public, and an erased person.
#[cfg(test)]
pub(super) fn sample(taken_at: DateTime<Utc>) -> ParticipantReport {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let start = day(2025, 3, 10);
    let end = day(2025, 3, 14);
    let kind = "wizyta studyjna".to_string();
    ParticipantReport {
        subject: ReportSubject::Visit {
            id: Uuid::from_u128(0x0192_f3a4_5b6c_7d8e_9f00_1122_3344_5566),
            title: "Wizyta w Lizbonie; „cyfrowe usługi”".to_string(),
        },
        taken_at,
        last_position: Some(4711),
        last_hash: Some("ab".repeat(32)),
        institutions: vec![
            InstitutionRow {
                nip: "0123456789".to_string(),
                name: "Gmina Żółkiewka".to_string(),
                institution_type: "jednostka samorządu terytorialnego".to_string(),
                support_kind: kind.clone(),
                support_start: start,
                support_end: end,
                people: Some(2),
            },
            InstitutionRow {
                nip: "5261040828".to_string(),
                name: "=HYPERLINK(\"http://x.example\";\"klik\")".to_string(),
                institution_type: "organizacja pozarządowa".to_string(),
                support_kind: kind.clone(),
                support_start: start,
                support_end: end,
                people: Some(1),
            },
        ],
        people: vec![
            PersonRow {
                first_name: Some("Łucja".to_string()),
                last_name: Some("Źdźbło-\"Nowak\"".to_string()),
                institution_nip: "0123456789".to_string(),
                institution_name: "Gmina Żółkiewka".to_string(),
                job_title: Some("kierowniczka\nreferatu".to_string()),
                support_kind: kind.clone(),
                support_start: start,
                support_end: end,
            },
            PersonRow {
                first_name: None,
                last_name: None,
                institution_nip: "0123456789".to_string(),
                institution_name: "Gmina Żółkiewka".to_string(),
                job_title: None,
                support_kind: kind.clone(),
                support_start: start,
                support_end: end,
            },
            PersonRow {
                first_name: Some("+48 Jan".to_string()),
                last_name: Some("@Kowalski".to_string()),
                institution_nip: "5261040828".to_string(),
                institution_name: "=HYPERLINK(\"http://x.example\";\"klik\")".to_string(),
                job_title: Some("-".to_string()),
                support_kind: kind,
                support_start: start,
                support_end: end,
            },
        ],
    }
}

#[cfg(test)]
/// The entries of a ZIP, in order: name, last-modified time, bytes.
pub(super) fn entries(zip: &[u8]) -> Vec<(String, zip::DateTime, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).expect("an entry");
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut bytes).expect("readable");
            let name = file.name().expect("a name").into_owned();
            let time = file.last_modified().expect("a time");
            (name, time, bytes)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 20, 9, 30, 15)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn an_erased_person_keeps_the_row_but_nothing_else() {
        let r = sample(at());
        let cells = person_cells(&r.people[1]);
        assert_eq!(cells[0], Cell::Text(ERASED.into()));
        assert_eq!(cells[1], Cell::Text(ERASED.into()));
        assert_eq!(cells[4], Cell::Text("".into()));
        assert_eq!(cells[2], Cell::Text("0123456789".into()));
    }

    #[test]
    fn half_an_erasure_erases_the_whole_name_and_the_job() {
        let mut person = sample(at()).people[0].clone();
        person.last_name = None;
        let cells = person_cells(&person);
        assert_eq!(cells[0], Cell::Text(ERASED.into()));
        assert_eq!(cells[1], Cell::Text(ERASED.into()));
        assert_eq!(cells[4], Cell::Text("".into()));
    }

    #[test]
    fn facts_say_what_the_report_covers() {
        let r = sample(at());
        let f = facts(&r).expect("facts");
        assert_eq!(f.zakres, "wizyta");
        assert_eq!(f.id, "0192f3a4-5b6c-7d8e-9f00-112233445566");
        assert_eq!(f.stan_na, "2025-03-20T09:30:15Z");
        assert_eq!(f.last_event, Some((4711, "ab".repeat(32).as_str())));
        assert_eq!((f.liczba_instytucji, f.liczba_osob), (2, 3));
    }

    #[test]
    fn stan_na_keeps_the_fraction_that_reproduces_the_report() {
        let mut r = sample(at());
        assert_eq!(facts(&r).expect("facts").stan_na, "2025-03-20T09:30:15Z");
        r.taken_at += chrono::Duration::microseconds(987_654);
        assert_eq!(
            facts(&r).expect("facts").stan_na,
            "2025-03-20T09:30:15.987654Z"
        );
    }

    #[test]
    fn a_position_without_a_hash_is_refused() {
        let mut r = sample(at());
        r.last_hash = None;
        assert!(matches!(facts(&r), Err(ReportError::LastEvent)));
        r.last_position = None;
        assert_eq!(facts(&r).expect("facts").last_event, None);
    }
}
