//! Downloads: CSV and XLSX tables (rosters, programme evaluations), the HTTP side of the
//! spreadsheet files whose conventions (BOM, `;`, CRLF, defused formulas) are explained and
//! kept in `crate::documents::csv_file`; and any finished file as an attachment (PDFs, the
//! participant report).

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

pub use crate::documents::csv_file::{text, writer, BOM, DELIMITER};
use crate::http::problem::ApiError;

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
    Ok(attachment(bytes, "text/csv; charset=utf-8", filename))
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
    Ok(attachment(bytes, XLSX, filename))
}

/// The media type of an XLSX workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `bytes` as a download of `content_type` named `filename` (ASCII: ids and fixed words).
pub fn attachment(bytes: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    let mut res = bytes.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    res
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
