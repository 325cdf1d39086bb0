//! Documents people print or hand on, made in memory from data the HTTP layer gathers: the
//! sign-in sheet and the certificate as PDF ([`pdf`]), the EU participant report as CSV in
//! a ZIP and as XLSX ([`report`]), and the CSV conventions every spreadsheet file shares
//! ([`csv_file`]). Pure: no database, no clock; the same input gives the same bytes, which
//! is what lets an evaluator reproduce a report.

pub mod csv_file;
pub mod pdf;
pub mod report;
