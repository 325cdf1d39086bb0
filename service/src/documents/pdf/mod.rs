//! Printable A4 PDF documents (in Polish) generated in memory: the sign-in sheet
//! (lista obecności) for one term of a study visit and the certificate of
//! participation (zaświadczenie o udziale).
//!
//! This file holds what both documents share: the embedded fonts, text measuring and
//! wrapping, a tiny display list (`PageBuf`) that layouts are built into before
//! anything is drawn, the renderer that turns it into a PDF, and [`PdfError`].
//! Building a display list first lets the layouts paginate with the final page count
//! known ("Strona X z Y") and keeps the krilla-specific code in one place.
//!
//! # Why krilla
//!
//! [`krilla`](https://docs.rs/krilla) (0.8) is the PDF backend of typst, the most
//! heavily exercised pure-Rust PDF writer:
//! * pure Rust, `#![forbid(unsafe_code)]`, no system libraries or C toolchain;
//! * embeds TrueType fonts as CID fonts, **subsets** them (a document carries tens of
//!   kilobytes of DejaVu, not 700 kB per weight) and always writes a **ToUnicode**
//!   CMap built from the text we pass along with the glyphs, so Polish letters
//!   (ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ) can be copied, searched and extracted by `pdf-extract`;
//! * deterministic: no clock or random ids are written (document ids are hashes of
//!   the content), so the same input gives byte-identical output;
//! * actively maintained alongside typst, with a small, documented API.
//!
//! `printpdf` was the alternative; krilla was preferred for its subsetting and
//! ToUnicode handling, which are built in rather than left to the caller.
//!
//! Text is not shaped by krilla's `simple-text` feature (rustybuzz): we map characters
//! to glyphs and advances ourselves with `skrifa` (already a krilla dependency) and
//! draw them with `Surface::draw_glyphs`. That way the widths we wrap by are exactly
//! the widths that get drawn, so wrapped text can never run past its box. Polish needs
//! no complex shaping; kerning is deliberately not applied.
//!
//! # The fonts
//!
//! DejaVu Sans, regular and bold, from Debian's `fonts-dejavu-core`, are shipped in
//! `service/fonts/` with their licence (`LICENSE-DejaVu.txt`, the Bitstream Vera
//! licence, which allows embedding) and compiled into the binary, so a PDF looks the
//! same on every machine whatever fonts it has installed.

mod certificate;
mod draw;
mod sign_in_sheet;

pub use self::certificate::{certificate, Certificate};
pub use self::draw::PdfError;
pub use self::sign_in_sheet::{sign_in_sheet, SheetRow, SignInSheet};
