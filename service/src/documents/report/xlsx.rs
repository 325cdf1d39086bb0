//! The report as an XLSX workbook (`instytucje`, `osoby`, `raport`), for evaluators who
//! work in a spreadsheet rather than import CSV files.
//!
//! Every cell that comes from users is a string cell: a string cell is never evaluated, so
//! text typed by the public cannot become a formula and needs no `'` prefix (unlike the
//! CSV, where the same text gets one); NIPs keep leading zeros, dates stay the ISO text the
//! monitoring system imports. Only `liczba_osob` and the counts in `raport` are numbers.
//!
//! Nothing reads the clock: the workbook's creation time (which `rust_xlsxwriter` would
//! otherwise set to now) is `taken_at`, and `rust_xlsxwriter` stamps its ZIP entries with a
//! fixed date, so the same report always gives the same bytes.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet};

use super::table::{
    facts, institution_cells, person_cells, Cell, ParticipantReport, ReportError,
    INSTITUTION_COLUMNS, PERSON_COLUMNS,
};

/// Widest a column gets from autofit, in pixels (about 60 characters), so that one long
/// institution name does not push the other columns off the screen.
const MAX_WIDTH: u32 = 420;

/// The report as a workbook with the sheets `instytucje`, `osoby` and `raport`;
/// byte-identical for the same report.
///
/// # Errors
/// [`ReportError::LastEvent`] when only one of `last_position` and `last_hash` is given;
/// [`ReportError::Xlsx`] when a text is longer than a cell holds (32,767 characters) or a
/// table has more rows than a sheet (1,048,576 with the header); otherwise only when a
/// writer fails.
pub fn xlsx(r: &ParticipantReport) -> Result<Vec<u8>, ReportError> {
    fn text(t: &str) -> Cell<'_> {
        Cell::Text(t.into())
    }

    let facts = facts(r)?;
    let mut book = Workbook::new();
    book.set_properties(&DocProperties::new().set_creation_datetime(&created(r)?));
    let bold = Format::new().set_bold();

    table(
        book.add_worksheet().set_name("instytucje")?,
        &INSTITUTION_COLUMNS,
        r.institutions.iter().map(institution_cells),
        &bold,
    )?;
    table(
        book.add_worksheet().set_name("osoby")?,
        &PERSON_COLUMNS,
        r.people.iter().map(person_cells),
        &bold,
    )?;

    // `raport`: the facts of raport.json as `pole`/`wartosc` pairs. The position is text
    // (an identifier, exact at any size); the counts are numbers.
    let (position, hash) = match facts.last_event {
        Some((position, hash)) => (position.to_string(), hash),
        None => (String::new(), ""),
    };
    let count = |n: usize| u32::try_from(n).map_err(|_| ReportError::TooManyRows(n));
    let rows = [
        [text("zakres"), text(facts.zakres)],
        [text("id"), text(&facts.id)],
        [text("tytul"), text(facts.tytul)],
        [text("stan_na"), text(&facts.stan_na)],
        [text("pozycja"), text(&position)],
        [text("skrot"), text(hash)],
        [
            text("liczba_instytucji"),
            Cell::Count(count(facts.liczba_instytucji)?),
        ],
        [text("liczba_osob"), Cell::Count(count(facts.liczba_osob)?)],
    ];
    table(
        book.add_worksheet().set_name("raport")?,
        &["pole", "wartosc"],
        rows.into_iter(),
        &bold,
    )?;

    Ok(book.save_to_buffer()?)
}

/// One sheet: the header row bold and frozen, a row per table row, columns fit to their
/// text up to `MAX_WIDTH`.
fn table<'a, const N: usize>(
    sheet: &mut Worksheet,
    header: &[&str; N],
    rows: impl Iterator<Item = [Cell<'a>; N]>,
    bold: &Format,
) -> Result<(), ReportError> {
    for (c, name) in (0u16..).zip(header) {
        sheet.write_string_with_format(0, c, *name, bold)?;
    }
    for (i, row) in rows.enumerate() {
        let r = u32::try_from(i + 1).map_err(|_| ReportError::TooManyRows(i + 1))?;
        for (c, cell) in (0u16..).zip(&row) {
            match cell {
                // An empty string writes no cell at all, which reads back as empty.
                Cell::Text(t) => sheet.write_string(r, c, t.as_ref())?,
                Cell::Count(n) => sheet.write_number(r, c, f64::from(*n))?,
            };
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.set_autofit_max_width(MAX_WIDTH);
    sheet.autofit();
    Ok(())
}

/// `taken_at` as the workbook's creation time (whole seconds, UTC). `rust_xlsxwriter` takes
/// Unix times within Excel's years 1900–9999 only; an instant outside is clamped to the
/// nearest end rather than failing the download over a property nobody reads.
fn created(r: &ParticipantReport) -> Result<ExcelDateTime, ReportError> {
    // 1900-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
    const FIRST: i64 = -2_208_988_800;
    const LAST: i64 = 253_402_300_799;
    Ok(ExcelDateTime::from_timestamp(
        r.taken_at.timestamp().clamp(FIRST, LAST),
    )?)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{open_workbook_from_rs, Data, Range, Reader, Xlsx};
    use chrono::{DateTime, TimeZone, Utc};

    use super::super::table::{entries, sample};
    use super::*;

    fn taken_at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 20, 9, 30, 15)
            .single()
            .unwrap_or_default()
    }

    fn open(bytes: Vec<u8>) -> Xlsx<Cursor<Vec<u8>>> {
        open_workbook_from_rs(Cursor::new(bytes)).expect("an xlsx")
    }

    /// A sheet's cells as text: strings as they are, numbers in their shortest form,
    /// missing and empty cells as "".
    fn cells(range: &Range<Data>) -> Vec<Vec<String>> {
        range
            .rows()
            .map(|row| {
                row.iter()
                    .map(|cell| match cell {
                        Data::String(s) => s.clone(),
                        Data::Float(f) => f.to_string(),
                        Data::Int(i) => i.to_string(),
                        Data::Empty => String::new(),
                        other => panic!("unexpected cell {other:?}"),
                    })
                    .collect()
            })
            .collect()
    }

    /// A CSV file's cells without the BOM and without the `'` the CSV adds before
    /// formula-like text: the XLSX holds that text raw in string cells, which are never
    /// evaluated, so this is the only difference the two formats may have.
    fn csv_cells(bytes: &[u8]) -> Vec<Vec<String>> {
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").expect("a BOM");
        csv::ReaderBuilder::new()
            .delimiter(b';')
            .has_headers(false)
            .from_reader(body)
            .records()
            .map(|record| {
                record
                    .expect("a record")
                    .iter()
                    .map(|field| match field.strip_prefix('\'') {
                        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => {
                            rest.to_string()
                        }
                        _ => field.to_string(),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_same_report_gives_the_same_bytes_and_another_instant_does_not() {
        let first = xlsx(&sample(taken_at())).expect("xlsx");
        let second = xlsx(&sample(taken_at())).expect("xlsx");
        assert_eq!(first, second);
        let later = xlsx(&sample(taken_at() + chrono::Duration::seconds(1))).expect("xlsx");
        assert_ne!(first, later);
    }

    #[test]
    fn the_creation_time_is_taken_at() {
        let bytes = xlsx(&sample(taken_at())).expect("xlsx");
        let mut zip = zip::ZipArchive::new(Cursor::new(&bytes[..])).expect("a zip");
        let mut core = String::new();
        std::io::Read::read_to_string(
            &mut zip.by_name("docProps/core.xml").expect("core"),
            &mut core,
        )
        .expect("utf-8");
        assert!(
            core.contains(">2025-03-20T09:30:15Z</dcterms:created>"),
            "{core}"
        );
        assert!(
            core.contains(">2025-03-20T09:30:15Z</dcterms:modified>"),
            "{core}"
        );
    }

    #[test]
    fn the_sheets_hold_the_same_cells_as_the_csv_files() {
        let r = sample(taken_at());
        let csv = entries(&csv_zip_bytes(&r));
        let mut book = open(xlsx(&r).expect("xlsx"));
        assert_eq!(book.sheet_names(), ["instytucje", "osoby", "raport"]);
        for (sheet, file) in [("instytucje", &csv[0].2), ("osoby", &csv[1].2)] {
            let range = book.worksheet_range(sheet).expect("a sheet");
            let expected = csv_cells(file);
            assert_eq!(cells(&range), expected, "{sheet}");
            assert_eq!(expected.len(), 1 + if sheet == "osoby" { 3 } else { 2 });
        }
    }

    fn csv_zip_bytes(r: &ParticipantReport) -> Vec<u8> {
        super::super::csv::csv_zip(r).expect("zip")
    }

    #[test]
    fn cells_have_the_types_the_monitoring_system_imports() {
        let mut book = open(xlsx(&sample(taken_at())).expect("xlsx"));
        let institutions = book.worksheet_range("instytucje").expect("a sheet");
        // NIP with its leading zero, the date as ISO text, the count as a number.
        assert_eq!(
            institutions.get((1, 0)),
            Some(&Data::String("0123456789".into()))
        );
        assert_eq!(
            institutions.get((1, 4)),
            Some(&Data::String("2025-03-10".into()))
        );
        assert_eq!(institutions.get((1, 6)), Some(&Data::Float(2.0)));
        // Formula-like text is a plain string cell, without the CSV's `'`.
        assert_eq!(
            institutions.get((2, 1)),
            Some(&Data::String(
                "=HYPERLINK(\"http://x.example\";\"klik\")".into()
            ))
        );
        let formulas = book.worksheet_formula("instytucje").expect("formulas");
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));

        let people = book.worksheet_range("osoby").expect("a sheet");
        assert_eq!(
            people.get((2, 0)),
            Some(&Data::String("[dane usunięte]".into()))
        );
        assert_eq!(
            people.get((2, 1)),
            Some(&Data::String("[dane usunięte]".into()))
        );
        assert_eq!(people.get((2, 4)), Some(&Data::Empty));
        assert_eq!(people.get((3, 0)), Some(&Data::String("+48 Jan".into())));
    }

    #[test]
    fn the_raport_sheet_states_the_facts_of_raport_json() {
        let mut book = open(xlsx(&sample(taken_at())).expect("xlsx"));
        let range = book.worksheet_range("raport").expect("a sheet");
        let hash = "ab".repeat(32);
        let expected: Vec<Vec<String>> = [
            ["pole", "wartosc"],
            ["zakres", "wizyta"],
            ["id", "0192f3a4-5b6c-7d8e-9f00-112233445566"],
            ["tytul", "Wizyta w Lizbonie; „cyfrowe usługi”"],
            ["stan_na", "2025-03-20T09:30:15Z"],
            ["pozycja", "4711"],
            ["skrot", hash.as_str()],
            ["liczba_instytucji", "2"],
            ["liczba_osob", "3"],
        ]
        .iter()
        .map(|row| row.iter().map(|s| s.to_string()).collect())
        .collect();
        assert_eq!(cells(&range), expected);
        assert_eq!(range.get((5, 1)), Some(&Data::String("4711".into())));
        assert_eq!(range.get((8, 1)), Some(&Data::Float(3.0)));
    }

    #[test]
    fn a_report_without_events_leaves_position_and_hash_empty() {
        let mut r = sample(taken_at());
        r.last_position = None;
        r.last_hash = None;
        let mut book = open(xlsx(&r).expect("xlsx"));
        let range = book.worksheet_range("raport").expect("a sheet");
        assert_eq!(range.get((5, 1)), Some(&Data::Empty));
        assert_eq!(range.get((6, 1)), Some(&Data::Empty));
    }

    #[test]
    fn creation_times_outside_excel_years_are_clamped() {
        let mut r = sample(taken_at());
        r.taken_at = Utc
            .with_ymd_and_hms(1850, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        assert!(xlsx(&r).is_ok());
        r.taken_at = DateTime::<Utc>::MAX_UTC;
        assert!(xlsx(&r).is_ok());
    }
}
