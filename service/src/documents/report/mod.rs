//! The participant report for the ESF monitoring system (SM EFS): who took part in a study
//! visit or a programme, by institution and by person, as files an evaluator downloads and
//! the monitoring system imports.
//!
//! Two formats of the same two tables:
//! - [`csv_zip`]: a ZIP with `instytucje.csv`, `osoby.csv` and `raport.json` (what the
//!   report covers, as of when, up to which event of the hash chain, and the SHA-256 of
//!   both CSV files, so an evaluator can check that the files were not edited afterwards);
//! - [`xlsx`]: a workbook with the sheets `instytucje`, `osoby` and `raport`.
//!
//! Both are byte-identical for the same input: nothing reads the clock. The ZIP entries'
//! timestamps and the workbook's creation time come from [`ParticipantReport::taken_at`],
//! so downloading the same report twice gives the same file (and the same hash).
//!
//! The column names ([`INSTITUTION_COLUMNS`], [`PERSON_COLUMNS`]) and the `raport.json`
//! keys are the contract with the monitoring system: do not rename them.
//!
//! The cells of both tables are built once here (`institution_cells`, `person_cells`), so
//! the CSV and the XLSX cannot drift apart; each format only decides how a text cell is
//! made safe (a `'` prefix in CSV, a string cell in XLSX).

mod csv;
mod table;
mod xlsx;

pub use self::csv::csv_zip;
pub use self::table::{
    InstitutionRow, ParticipantReport, PersonRow, ReportError, ReportSubject, ERASED,
    INSTITUTIONS_FILE, INSTITUTION_COLUMNS, PEOPLE_FILE, PERSON_COLUMNS, SUMMARY_FILE,
};
pub use self::xlsx::xlsx;
