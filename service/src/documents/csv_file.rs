//! CSV files meant to be opened in spreadsheet programs (rosters, programme evaluations,
//! the participant report).
//!
//! What makes them open cleanly, found with Excel on Polish Windows and LibreOffice:
//! - UTF-8 with a byte-order mark: without it Excel reads the file as Windows-1250 and
//!   Polish letters turn into mojibake.
//! - `;` between fields: Excel splits a double-clicked CSV on the list separator of the
//!   regional settings, which is `;` in Polish ones (the comma is the decimal separator);
//!   a comma-separated file lands in one column. LibreOffice detects `;` in its import
//!   dialog. (A `sep=` first line would fix the separator but makes Excel ignore the BOM.)
//! - CRLF line ends and RFC 4180 quoting (the `csv` crate): fields with `;`, quotes or line
//!   breaks stay one cell.
//! - Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first: CSV
//!   injection) is prefixed with `'`, which spreadsheets show as text. Names typed by the
//!   public end up in rosters, so this matters.

use std::borrow::Cow;

/// UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Field separator (see the module comment).
pub const DELIMITER: u8 = b';';

/// A CSV writer into memory, BOM already written.
pub fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .delimiter(DELIMITER)
        .terminator(csv::Terminator::CRLF)
        .from_writer(BOM.to_vec())
}

/// `text` safe to open in a spreadsheet: a leading `=`, `+`, `-`, `@`, tab or carriage
/// return gets a `'` in front so the cell is shown, not evaluated.
pub fn text(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}
