//! What the sign-in sheet and the certificate share: the embedded fonts, text measuring
//! and wrapping, the display list (`PageBuf`) layouts are built into, the renderer that
//! turns it into a PDF with krilla, and [`PdfError`]. Kept apart from `pdf/mod.rs` so the
//! documents import a sibling, never their parent.

use chrono::{Datelike, NaiveDate};
use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::Document;
use skrifa::charmap::Charmap;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

/// DejaVu Sans (regular). The only place the font path is spelled out; the licence
/// sits next to the file as `LICENSE-DejaVu.txt`.
const REGULAR: &[u8] = include_bytes!("../../../fonts/DejaVuSans.ttf");
/// DejaVu Sans Bold, used for headings, names and the verification code.
const BOLD: &[u8] = include_bytes!("../../../fonts/DejaVuSans-Bold.ttf");

/// PDF points per millimetre; layouts are thought out in millimetres.
pub(super) const MM: f32 = 72.0 / 25.4;
/// A4 in points, portrait.
pub(super) const A4_W: f32 = 210.0 * MM;
pub(super) const A4_H: f32 = 297.0 * MM;

/// Everything that can go wrong while producing a document.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The data handed in cannot be printed (e.g. a certificate without any day).
    #[error("invalid document data: {0}")]
    InvalidInput(&'static str),
    /// One of the embedded fonts could not be parsed (a broken build, not bad input).
    #[error("embedded font could not be loaded: {0}")]
    Font(&'static str),
    /// A page size, rectangle or path came out degenerate (e.g. NaN from odd input).
    #[error("invalid page geometry")]
    Geometry,
    /// krilla refused to serialise the document.
    #[error("PDF serialisation failed: {0}")]
    Render(String),
}

/// `27.05.2027`, the way dates are written on Polish documents.
pub(super) fn fmt_date(d: NaiveDate) -> String {
    format!("{:02}.{:02}.{:04}", d.day(), d.month(), d.year())
}

/// `27.05.2027, 28.05.2027`.
pub(super) fn fmt_dates(days: &[NaiveDate]) -> String {
    days.iter()
        .map(|d| fmt_date(*d))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Metadata date taken from the data, never from the clock, so output stays
/// reproducible.
pub(super) fn pdf_date(d: NaiveDate) -> DateTime {
    // Years outside u16 cannot occur for real documents; clamp instead of failing.
    let year = u16::try_from(d.year().clamp(0, 9999)).unwrap_or(0);
    // chrono guarantees month 1..=12 and day 1..=31, both fit in u8.
    DateTime::new(year)
        .month(u8::try_from(d.month()).unwrap_or(1))
        .day(u8::try_from(d.day()).unwrap_or(1))
        .utc_offset_hour(0)
}

/// Input strings come from forms and databases: collapse newlines, tabs and runs of
/// spaces into single spaces and drop other control characters, so a stray `\n`
/// cannot break a line layout that assumes one line per entry.
pub(super) fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().filter(|c| !c.is_control()));
    }
    out
}

/// Font weight; the two faces we embed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Weight {
    Regular,
    Bold,
}

/// How a piece of text looks.
#[derive(Clone, Copy, Debug)]
pub(super) struct Style {
    pub weight: Weight,
    /// Font size in points.
    pub size: f32,
    /// Line height as a multiple of the size.
    pub leading: f32,
    /// 0 = black, 255 = white.
    pub gray: u8,
}

impl Style {
    pub(super) const fn new(weight: Weight, size: f32) -> Self {
        Style {
            weight,
            size,
            leading: 1.25,
            gray: 0,
        }
    }

    pub(super) const fn gray(mut self, gray: u8) -> Self {
        self.gray = gray;
        self
    }

    pub(super) const fn leading(mut self, leading: f32) -> Self {
        self.leading = leading;
        self
    }

    /// The same style at `factor` times the size (used to shrink a layout to fit).
    pub(super) fn scaled(mut self, factor: f32) -> Self {
        self.size *= factor;
        self
    }

    /// Height of one line box.
    pub(super) fn line_height(&self) -> f32 {
        self.size * self.leading
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Align {
    Left,
    Center,
}

/// Horizontal placement of text: a box from `x` spanning `width`, aligned within it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Span {
    pub x: f32,
    pub width: f32,
    pub align: Align,
}

impl Span {
    pub(super) const fn new(x: f32, width: f32, align: Align) -> Self {
        Span { x, width, align }
    }
}

/// One embedded font: the krilla handle (for embedding/subsetting) plus the tables
/// we read to measure text.
struct Face {
    pdf: Font,
    charmap: Charmap<'static>,
    metrics: GlyphMetrics<'static>,
    units_per_em: f32,
    /// Ascender and descender (positive) as fractions of the em, to place baselines.
    ascent: f32,
    descent: f32,
    /// Cap height as a fraction of the em, to centre text in table cells optically.
    cap_height: f32,
}

impl Face {
    fn load(data: &'static [u8], what: &'static str) -> Result<Self, PdfError> {
        let font_ref = FontRef::new(data).map_err(|_| PdfError::Font(what))?;
        let pdf = Font::new(data.into(), 0).ok_or(PdfError::Font(what))?;
        let m = font_ref.metrics(Size::unscaled(), LocationRef::default());
        let units_per_em = f32::from(m.units_per_em);
        if units_per_em <= 0.0 {
            return Err(PdfError::Font(what));
        }
        Ok(Face {
            pdf,
            charmap: font_ref.charmap(),
            metrics: font_ref.glyph_metrics(Size::unscaled(), LocationRef::default()),
            units_per_em,
            ascent: m.ascent / units_per_em,
            descent: -m.descent / units_per_em,
            cap_height: m.cap_height.unwrap_or(m.ascent * 0.75) / units_per_em,
        })
    }

    /// Advance of one character in ems. Characters the font lacks fall back to
    /// `.notdef` (glyph 0); the original character still goes into ToUnicode.
    fn glyph(&self, c: char) -> (skrifa::GlyphId, f32) {
        let gid = self.charmap.map(c).unwrap_or(skrifa::GlyphId::NOTDEF);
        let advance = self.metrics.advance_width(gid).unwrap_or(0.0) / self.units_per_em;
        (gid, advance)
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.glyph(c).1).sum::<f32>() * size
    }

    /// One glyph per character, each carrying its byte range in `text`: krilla writes
    /// those ranges into the ToUnicode CMap, which is what makes text extractable.
    fn glyphs(&self, text: &str) -> Vec<KrillaGlyph> {
        text.char_indices()
            .map(|(i, c)| {
                let (gid, advance) = self.glyph(c);
                KrillaGlyph::new(
                    GlyphId::new(gid.to_u32()),
                    advance,
                    0.0,
                    0.0,
                    0.0,
                    i..i + c.len_utf8(),
                    None,
                )
            })
            .collect()
    }
}

/// Both faces used by the documents. Loaded per document: parsing is cheap and this
/// avoids global state.
pub(super) struct Fonts {
    regular: Face,
    bold: Face,
}

impl Fonts {
    pub(super) fn load() -> Result<Self, PdfError> {
        Ok(Fonts {
            regular: Face::load(REGULAR, "DejaVuSans.ttf")?,
            bold: Face::load(BOLD, "DejaVuSans-Bold.ttf")?,
        })
    }

    fn face(&self, weight: Weight) -> &Face {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    /// Width of `text` in points, exactly as it will be drawn.
    pub(super) fn width(&self, text: &str, style: Style) -> f32 {
        self.face(style.weight).width(text, style.size)
    }

    /// Greedy line breaking by measured width. Breaks at spaces; a single word wider
    /// than the line (a URL, a 300-character name without spaces) is broken between
    /// characters, so no line is ever wider than `max_width`.
    pub(super) fn wrap(&self, text: &str, style: Style, max_width: f32) -> Vec<String> {
        let text = clean(text);
        let face = self.face(style.weight);
        let size = style.size;
        let space = face.width(" ", size);
        let mut lines = Vec::new();
        let mut line = String::new();
        let mut line_w = 0.0_f32;

        for word in text.split(' ') {
            let word_w = face.width(word, size);
            if !line.is_empty() && line_w + space + word_w <= max_width {
                line.push(' ');
                line.push_str(word);
                line_w += space + word_w;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_w = 0.0;
            }
            if word_w <= max_width {
                line.push_str(word);
                line_w = word_w;
                continue;
            }
            // Overlong word: break after hyphens and slashes first (double-barrelled
            // names, URLs), and only between arbitrary characters where a piece alone
            // is still too wide.
            for piece in word.split_inclusive(['-', '/']) {
                let piece_w = face.width(piece, size);
                if !line.is_empty() && line_w + piece_w > max_width {
                    lines.push(std::mem::take(&mut line));
                    line_w = 0.0;
                }
                if line_w + piece_w <= max_width {
                    line.push_str(piece);
                    line_w += piece_w;
                    continue;
                }
                for c in piece.chars() {
                    let w = face.glyph(c).1 * size;
                    if !line.is_empty() && line_w + w > max_width {
                        lines.push(std::mem::take(&mut line));
                        line_w = 0.0;
                    }
                    line.push(c);
                    line_w += w;
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// [`Fonts::wrap`] limited to `max_lines`; the last kept line ends with "…". Used
    /// where a box must not grow without bound (table cells, running headers).
    pub(super) fn wrap_max(
        &self,
        text: &str,
        style: Style,
        max_width: f32,
        max_lines: usize,
    ) -> Vec<String> {
        let mut lines = self.wrap(text, style, max_width);
        if lines.len() > max_lines.max(1) {
            lines.truncate(max_lines.max(1));
            if let Some(last) = lines.last_mut() {
                let ellipsis_w = self.width("…", style);
                while !last.is_empty() && self.width(last, style) + ellipsis_w > max_width {
                    last.pop();
                }
                let trimmed = last.trim_end().len();
                last.truncate(trimmed);
                last.push('…');
            }
        }
        lines
    }

    /// Distance from the top of a line box to its baseline, so the glyphs sit in the
    /// middle of the extra leading.
    pub(super) fn baseline_offset(&self, style: Style) -> f32 {
        let face = self.face(style.weight);
        let content = (face.ascent + face.descent) * style.size;
        (style.line_height() - content) / 2.0 + face.ascent * style.size
    }

    pub(super) fn cap_height(&self, style: Style) -> f32 {
        self.face(style.weight).cap_height * style.size
    }
}

/// One drawing operation in page coordinates (points, origin top-left, y down —
/// krilla's convention).
#[derive(Clone, Debug)]
enum Item {
    Text {
        x: f32,
        baseline: f32,
        style: Style,
        text: String,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
        gray: u8,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill_gray: Option<u8>,
        stroke: Option<(f32, u8)>,
    },
}

/// A page laid out but not yet drawn.
#[derive(Clone, Debug)]
pub(super) struct PageBuf {
    pub width: f32,
    pub height: f32,
    items: Vec<Item>,
}

impl PageBuf {
    pub(super) fn new(width: f32, height: f32) -> Self {
        PageBuf {
            width,
            height,
            items: Vec::new(),
        }
    }

    /// A single line of text placed horizontally by `span`; `baseline` is absolute.
    pub(super) fn text(
        &mut self,
        fonts: &Fonts,
        span: Span,
        baseline: f32,
        style: Style,
        text: &str,
    ) {
        if text.is_empty() {
            return;
        }
        let x = match span.align {
            Align::Left => span.x,
            Align::Center => span.x + (span.width - fonts.width(text, style)) / 2.0,
        };
        self.items.push(Item::Text {
            x,
            baseline,
            style,
            text: text.to_owned(),
        });
    }

    /// Already wrapped lines, stacked from `top`; returns the height used.
    pub(super) fn lines(
        &mut self,
        fonts: &Fonts,
        span: Span,
        top: f32,
        style: Style,
        lines: &[String],
    ) -> f32 {
        let lh = style.line_height();
        let off = fonts.baseline_offset(style);
        for (i, line) in lines.iter().enumerate() {
            self.text(fonts, span, top + i as f32 * lh + off, style, line);
        }
        lines.len() as f32 * lh
    }

    /// Wraps `text` to the span's width and stacks it from `top`; returns the height
    /// used.
    pub(super) fn paragraph(
        &mut self,
        fonts: &Fonts,
        span: Span,
        top: f32,
        style: Style,
        text: &str,
    ) -> f32 {
        let lines = fonts.wrap(text, style, span.width);
        self.lines(fonts, span, top, style, &lines)
    }

    /// Lines centred vertically in a table cell (optically, on the cap height).
    pub(super) fn cell(&mut self, fonts: &Fonts, cell: CellBox, style: Style, lines: &[String]) {
        if lines.is_empty() {
            return;
        }
        let lh = style.line_height();
        let ink = (lines.len() - 1) as f32 * lh + fonts.cap_height(style);
        let first_baseline = cell.y + (cell.h - ink) / 2.0 + fonts.cap_height(style);
        for (i, line) in lines.iter().enumerate() {
            let baseline = first_baseline + i as f32 * lh;
            let span = Span::new(cell.x + cell.pad, cell.w - 2.0 * cell.pad, cell.align);
            self.text(fonts, span, baseline, style, line);
        }
    }

    pub(super) fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, width: f32) {
        self.items.push(Item::Line {
            x1,
            y1,
            x2,
            y2,
            width,
            gray: 0,
        });
    }

    /// Rectangle `[x, y, w, h]`, filled and/or outlined (`(line width, gray)`).
    pub(super) fn rect(
        &mut self,
        [x, y, w, h]: [f32; 4],
        fill_gray: Option<u8>,
        stroke: Option<(f32, u8)>,
    ) {
        self.items.push(Item::Rect {
            x,
            y,
            w,
            h,
            fill_gray,
            stroke,
        });
    }
}

/// Where a table cell is and how its text sits in it.
#[derive(Clone, Copy, Debug)]
pub(super) struct CellBox {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub pad: f32,
    pub align: Align,
}

/// Adds "Strona X z Y" at the bottom centre of every page. Done after layout because
/// Y is only known then.
pub(super) fn number_pages(fonts: &Fonts, pages: &mut [PageBuf]) {
    let total = pages.len();
    let style = Style::new(Weight::Regular, 8.0).gray(60);
    for (i, page) in pages.iter_mut().enumerate() {
        let baseline = page.height - 8.0 * MM;
        let width = page.width;
        let span = Span::new(0.0, width, Align::Center);
        page.text(
            fonts,
            span,
            baseline,
            style,
            &format!("Strona {} z {}", i + 1, total),
        );
    }
}

/// Document-level metadata; `created` must come from the data (never `now()`), so
/// repeated runs give identical bytes.
pub(super) fn metadata(title: &str, created: Option<NaiveDate>) -> Metadata {
    let mut m = Metadata::new()
        .title(clean(title))
        .language("pl".to_owned())
        .creator("Koordynator".to_owned());
    if let Some(d) = created {
        m = m.creation_date(pdf_date(d));
    }
    m
}

fn fill(gray: u8) -> Fill {
    Fill {
        paint: luma::Color::new(gray).into(),
        ..Fill::default()
    }
}

fn stroke(width: f32, gray: u8) -> Stroke {
    Stroke {
        paint: luma::Color::new(gray).into(),
        width,
        ..Stroke::default()
    }
}

/// Draws the laid-out pages with krilla and serialises the PDF.
pub(super) fn render(
    fonts: &Fonts,
    pages: &[PageBuf],
    metadata: Metadata,
) -> Result<Vec<u8>, PdfError> {
    let mut document = Document::new();
    for buf in pages {
        let settings = PageSettings::from_wh(buf.width, buf.height).ok_or(PdfError::Geometry)?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for item in &buf.items {
            match item {
                Item::Text {
                    x,
                    baseline,
                    style,
                    text,
                } => {
                    let face = fonts.face(style.weight);
                    // Text is filled only; a leftover stroke would outline the glyphs.
                    surface.set_stroke(None);
                    surface.set_fill(Some(fill(style.gray)));
                    surface.draw_glyphs(
                        Point::from_xy(*x, *baseline),
                        &face.glyphs(text),
                        face.pdf.clone(),
                        text,
                        style.size,
                        false,
                    );
                }
                Item::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    width,
                    gray,
                } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(*x1, *y1);
                    pb.line_to(*x2, *y2);
                    let path = pb.finish().ok_or(PdfError::Geometry)?;
                    surface.set_fill(None);
                    surface.set_stroke(Some(stroke(*width, *gray)));
                    surface.draw_path(&path);
                }
                Item::Rect {
                    x,
                    y,
                    w,
                    h,
                    fill_gray,
                    stroke: outline,
                } => {
                    let mut pb = PathBuilder::new();
                    pb.push_rect(Rect::from_xywh(*x, *y, *w, *h).ok_or(PdfError::Geometry)?);
                    let path = pb.finish().ok_or(PdfError::Geometry)?;
                    surface.set_fill(fill_gray.map(fill));
                    surface.set_stroke(outline.map(|(width, gray)| stroke(width, gray)));
                    surface.draw_path(&path);
                }
            }
        }
        surface.finish();
        page.finish();
    }
    document.set_metadata(metadata);
    document
        .finish()
        .map_err(|e| PdfError::Render(e.to_string()))
}

#[cfg(test)]
mod tests {
    // Panicking on unexpected results is the point of a test.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn dates_are_polish_style() {
        let d = NaiveDate::from_ymd_opt(2027, 5, 7).unwrap();
        assert_eq!(fmt_date(d), "07.05.2027");
        let e = NaiveDate::from_ymd_opt(2027, 5, 28).unwrap();
        assert_eq!(fmt_dates(&[d, e]), "07.05.2027, 28.05.2027");
    }

    #[test]
    fn clean_collapses_whitespace_and_controls() {
        assert_eq!(clean("  a\n\tb  c\u{7}d "), "a b cd");
    }

    #[test]
    fn wrap_never_exceeds_width() {
        let fonts = Fonts::load().unwrap();
        let style = Style::new(Weight::Regular, 9.0);
        let long = format!(
            "Ośrodek {} Żółć {}",
            "bardzo długa nazwa ".repeat(20),
            "x".repeat(200)
        );
        for width in [30.0, 80.0, 150.0] {
            let lines = fonts.wrap(&long, style, width);
            assert!(lines.len() > 1);
            for l in &lines {
                assert!(fonts.width(l, style) <= width + 0.01, "{l:?} too wide");
            }
            assert_eq!(
                lines.join(" ").replace(' ', ""),
                clean(&long).replace(' ', "")
            );
        }
        let name = fonts.wrap("Łęcka-Ścibor-Wiśniewska-Przybyszewska", style, 120.0);
        assert_eq!(name, ["Łęcka-Ścibor-Wiśniewska-", "Przybyszewska"]);
        let capped = fonts.wrap_max(&long, style, 80.0, 3);
        assert_eq!(capped.len(), 3);
        assert!(capped[2].ends_with('…'));
        assert!(fonts.width(&capped[2], style) <= 80.01);
        assert!(fonts.wrap("", style, 50.0).is_empty());
    }
}
