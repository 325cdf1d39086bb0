//! CSV files meant to be opened in spreadsheet programs (rosters, programme evaluations).
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

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::http::problem::ApiError;

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

/// Writes one record (errors only when memory runs out).
pub fn write<I, T>(w: &mut csv::Writer<Vec<u8>>, record: I) -> Result<(), ApiError>
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    w.write_record(record)
        .map_err(|e| ApiError::Internal(format!("csv: {e}")))
}

/// The finished file as a download named `filename`.
pub fn download(w: csv::Writer<Vec<u8>>, filename: &str) -> Result<Response, ApiError> {
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::Internal(format!("csv: {e}")))?;
    let mut res = bytes.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    Ok(res)
}

/// A table as an XLSX download named `filename`: the header row bold and frozen, columns fit
/// to their text. Every cell is written as text, so nothing typed by the public is run as a
/// formula (no `'` needed, unlike CSV) and NIPs keep their leading zeros.
pub fn xlsx(header: &[&str], rows: &[Vec<String>], filename: &str) -> Result<Response, ApiError> {
    let failed = |e: rust_xlsxwriter::XlsxError| ApiError::Internal(format!("xlsx: {e}"));
    let mut book = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let sheet = book.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        let c =
            u16::try_from(c).map_err(|_| ApiError::Internal("xlsx: too many columns".into()))?;
        sheet
            .write_string_with_format(0, c, *h, &bold)
            .map_err(failed)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r =
            u32::try_from(r + 1).map_err(|_| ApiError::Internal("xlsx: too many rows".into()))?;
        for (c, cell) in row.iter().enumerate() {
            let c = u16::try_from(c)
                .map_err(|_| ApiError::Internal("xlsx: too many columns".into()))?;
            sheet.write_string(r, c, cell).map_err(failed)?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(failed)?;
    sheet.autofit();
    let bytes = book.save_to_buffer().map_err(failed)?;
    let mut res = bytes.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    );
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_the_rest_stays() {
        assert_eq!(text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text("+48 601"), "'+48 601");
        assert_eq!(text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text("Spółdzielnia „Źródło”"), "Spółdzielnia „Źródło”");
        assert_eq!(text(""), "");
    }

    #[test]
    fn a_file_has_the_bom_semicolons_crlf_and_quotes() {
        let mut w = writer();
        write(&mut w, ["a", "b;c"]).expect("written");
        write(&mut w, ["ł\"ż", "x\ny"]).expect("written");
        let bytes = w.into_inner().expect("flushed");
        assert_eq!(
            bytes,
            "\u{feff}a;\"b;c\"\r\n\"ł\"\"ż\";\"x\ny\"\r\n".as_bytes()
        );
    }
}
