//! The sign-in sheet (lista obecności) for one term of a study visit: a heading that
//! says what the sheet is for, then a table with one row per participant and one
//! signature column per day, paginated with the table header repeated on every page.
//!
//! Layout is computed first (row heights come from the wrapped cell text), then the
//! pages are numbered and rendered by the shared helpers in the parent module.

use chrono::NaiveDate;

use super::draw::{
    clean, fmt_date, fmt_dates, metadata, number_pages, render, Align, CellBox, Fonts, PageBuf,
    PdfError, Span, Style, Weight, A4_H, A4_W, MM,
};

/// One printable sign-in sheet: one term of a study visit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignInSheet {
    /// e.g. "Regionalny Ośrodek Polityki Społecznej w Toruniu" or an id like "rops-torun".
    pub organizer: String,
    pub visit_title: String,
    pub destination: String,
    /// EU funding line, one sentence, may be long (it is wrapped).
    pub funding_line: Option<String>,
    pub term_label: String,
    /// 1..=N days; one signature column per day.
    pub days: Vec<NaiveDate>,
    /// 0..N rows; the table is paginated with its header repeated on each page.
    pub rows: Vec<SheetRow>,
}

/// One participant line of the sheet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SheetRow {
    pub name: String,
    pub institution: String,
}

const MARGIN_X: f32 = 15.0 * MM;
const MARGIN_TOP: f32 = 14.0 * MM;
/// Space kept free at the bottom for the "Strona X z Y" footer.
const MARGIN_BOTTOM: f32 = 16.0 * MM;
const LP_W: f32 = 10.0 * MM;
/// Narrowest name / institution columns before days are split over several tables.
const MIN_NAME_W: f32 = 40.0 * MM;
const MIN_INST_W: f32 = 45.0 * MM;
/// A signature needs room: below 17 mm per day the days go to a further table.
const MIN_DAY_W: f32 = 17.0 * MM;
/// Wider signature cells would only steal room from the names.
const MAX_DAY_W: f32 = 32.0 * MM;
/// What name + institution get before the days take the rest (names and institutions
/// then wrap to at most two lines in most real data).
const TEXT_TARGET_W: f32 = 105.0 * MM;
/// Rows must be tall enough to sign in.
const ROW_MIN_H: f32 = 10.0 * MM;
const HEADER_MIN_H: f32 = 9.0 * MM;
const PAD: f32 = 1.5 * MM;
/// Cell text shrinks through these sizes until it fits in three lines...
const CELL_SIZES: [f32; 4] = [9.0, 8.0, 7.0, 6.5];
const CELL_COMFORT_LINES: usize = 3;
/// ...and is cut with "…" beyond this many lines, so a single row can never be taller
/// than a page (which would break pagination).
const CELL_MAX_LINES: usize = 10;
const GRID_W: f32 = 0.5;
const HEADER_FILL: u8 = 232;

/// Renders the sign-in sheet as a PDF.
///
/// Portrait for up to three days, landscape beyond. If even landscape cannot give
/// every day a signable column (more than ~10 days), the days are split into several
/// consecutive tables, each listing all participants.
pub fn sign_in_sheet(s: &SignInSheet) -> Result<Vec<u8>, PdfError> {
    if s.days.is_empty() {
        return Err(PdfError::InvalidInput(
            "a sign-in sheet needs at least one day",
        ));
    }
    let fonts = Fonts::load()?;
    let (page_w, page_h) = if s.days.len() > 3 {
        (A4_H, A4_W)
    } else {
        (A4_W, A4_H)
    };
    let content_w = page_w - 2.0 * MARGIN_X;
    let bottom = page_h - MARGIN_BOTTOM;

    let mut pages: Vec<PageBuf> = Vec::new();
    for days in day_groups(&s.days, content_w) {
        let cols = Columns::new(content_w, days.len());
        let header = HeaderRow::layout(&fonts, &cols, days);
        let rows: Vec<RowLayout> = s
            .rows
            .iter()
            .map(|r| RowLayout::new(&fonts, &cols, r))
            .collect();

        let mut next = 0;
        loop {
            let mut page = PageBuf::new(page_w, page_h);
            let mut y = MARGIN_TOP;
            y += if pages.is_empty() {
                heading(&fonts, &mut page, s, content_w, y)
            } else {
                running_heading(&fonts, &mut page, s, content_w, y)
            };

            let table_top = y;
            header.draw(&fonts, &mut page, &cols, y);
            y += header.h;
            let mut rules = vec![table_top, y];

            if rows.is_empty() {
                grid(&mut page, &cols, &rules);
                let note = Style::new(Weight::Regular, 10.0).gray(40);
                let span = Span::new(MARGIN_X, content_w, Align::Left);
                page.paragraph(
                    &fonts,
                    span,
                    y + 4.0 * MM,
                    note,
                    "Brak osób z przydzielonym miejscem.",
                );
                pages.push(page);
                break;
            }

            let mut placed_here = 0;
            // The `placed_here == 0` clause guarantees progress even if a row were
            // taller than the free space (cells are capped, so it does not happen).
            while let Some(row) = rows.get(next) {
                if placed_here > 0 && y + row.h > bottom {
                    break;
                }
                row.draw(&fonts, &mut page, &cols, y, next + 1);
                y += row.h;
                rules.push(y);
                next += 1;
                placed_here += 1;
            }
            grid(&mut page, &cols, &rules);
            pages.push(page);
            if next >= rows.len() {
                break;
            }
        }
    }

    number_pages(&fonts, &mut pages);
    let title = format!("Lista obecności – {} – {}", s.visit_title, s.term_label);
    render(&fonts, &pages, metadata(&title, None))
}

/// How many day columns fit next to the minimal name/institution columns.
fn max_days_per_table(content_w: f32) -> usize {
    let free = content_w - LP_W - MIN_NAME_W - MIN_INST_W;
    // Float-to-int `as` saturates; at least one day per table.
    ((free / MIN_DAY_W).floor() as usize).max(1)
}

/// Splits the days into as few tables as needed, of balanced size (11 days become
/// 6 + 5, not 10 + 1).
fn day_groups(days: &[NaiveDate], content_w: f32) -> std::slice::Chunks<'_, NaiveDate> {
    let max = max_days_per_table(content_w);
    let groups = days.len().div_ceil(max).max(1);
    days.chunks(days.len().div_ceil(groups).max(1))
}

/// Column boundaries of the table: Lp. | name | institution | day 1 | … | day n.
struct Columns {
    /// `x[i]..x[i + 1]` is column `i`; `len = 3 + days + 1`.
    x: Vec<f32>,
}

impl Columns {
    fn new(content_w: f32, days: usize) -> Self {
        let n = days.max(1) as f32;
        let rest = content_w - LP_W;
        // Days share what is left after a comfortable name/institution width, within
        // signable bounds; names and institutions take the remainder, institutions
        // the larger part as they tend to be longer.
        let day_w = ((rest - TEXT_TARGET_W) / n).clamp(MIN_DAY_W, MAX_DAY_W);
        let text_w = rest - day_w * n;
        let name_w = text_w * 0.45;
        let inst_w = text_w - name_w;
        let mut x = vec![MARGIN_X, MARGIN_X + LP_W];
        x.push(MARGIN_X + LP_W + name_w);
        x.push(MARGIN_X + LP_W + name_w + inst_w);
        for i in 1..=days {
            x.push(MARGIN_X + LP_W + text_w + day_w * i as f32);
        }
        Columns { x }
    }

    fn left(&self) -> f32 {
        self.x.first().copied().unwrap_or(MARGIN_X)
    }

    fn right(&self) -> f32 {
        self.x.last().copied().unwrap_or(MARGIN_X)
    }

    /// Left edge and width of column `i` (0 when out of range, which cannot happen
    /// for the indices used here).
    fn col(&self, i: usize) -> (f32, f32) {
        match (self.x.get(i), self.x.get(i + 1)) {
            (Some(a), Some(b)) => (*a, b - a),
            _ => (self.right(), 0.0),
        }
    }

    fn cell(&self, i: usize, y: f32, h: f32, align: Align) -> CellBox {
        let (x, w) = self.col(i);
        CellBox {
            x,
            y,
            w,
            h,
            pad: PAD,
            align,
        }
    }
}

/// Picks the largest cell size at which `text` fits in a few lines; at the smallest
/// size the text may take more lines (the row grows) up to a hard cap.
fn fit_cell(fonts: &Fonts, text: &str, width: f32) -> (Style, Vec<String>) {
    let mut style = Style::new(Weight::Regular, CELL_SIZES[0]).leading(1.15);
    for size in CELL_SIZES {
        style = Style::new(Weight::Regular, size).leading(1.15);
        let lines = fonts.wrap(text, style, width);
        if lines.len() <= CELL_COMFORT_LINES {
            return (style, lines);
        }
    }
    let lines = fonts.wrap_max(text, style, width, CELL_MAX_LINES);
    (style, lines)
}

/// Largest size <= `style.size` (down to 5 pt) at which `text` fits on one line.
fn fit_line(fonts: &Fonts, text: &str, style: Style, width: f32) -> Style {
    let w = fonts.width(text, style);
    if w <= width || w <= 0.0 {
        return style;
    }
    let size = (style.size * width / w).max(5.0);
    Style { size, ..style }
}

/// One participant row, measured.
struct RowLayout {
    h: f32,
    name: (Style, Vec<String>),
    institution: (Style, Vec<String>),
}

impl RowLayout {
    fn new(fonts: &Fonts, cols: &Columns, row: &SheetRow) -> Self {
        let inner = |i: usize| cols.col(i).1 - 2.0 * PAD;
        let name = fit_cell(fonts, &row.name, inner(1));
        let institution = fit_cell(fonts, &row.institution, inner(2));
        let text_h = |(style, lines): &(Style, Vec<String>)| {
            lines.len() as f32 * style.line_height() + 2.0 * PAD
        };
        let h = ROW_MIN_H.max(text_h(&name)).max(text_h(&institution));
        RowLayout {
            h,
            name,
            institution,
        }
    }

    /// Day cells stay empty: they are for the signatures.
    fn draw(&self, fonts: &Fonts, page: &mut PageBuf, cols: &Columns, y: f32, number: usize) {
        let lp = Style::new(Weight::Regular, 9.0);
        let lp_style = fit_line(fonts, &format!("{number}."), lp, cols.col(0).1 - 2.0 * PAD);
        page.cell(
            fonts,
            cols.cell(0, y, self.h, Align::Center),
            lp_style,
            &[format!("{number}.")],
        );
        let (style, lines) = &self.name;
        page.cell(fonts, cols.cell(1, y, self.h, Align::Left), *style, lines);
        let (style, lines) = &self.institution;
        page.cell(fonts, cols.cell(2, y, self.h, Align::Left), *style, lines);
    }
}

/// The table header, repeated on every page.
struct HeaderRow {
    h: f32,
    label: Style,
    /// One date per day column, with the style it fits in.
    dates: Vec<(String, Style)>,
    sign: Style,
}

impl HeaderRow {
    fn layout(fonts: &Fonts, cols: &Columns, days: &[NaiveDate]) -> Self {
        let label = Style::new(Weight::Bold, 8.5).leading(1.15);
        let sign = Style::new(Weight::Regular, 7.5).leading(1.15).gray(60);
        let dates: Vec<(String, Style)> = days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let text = fmt_date(*d);
                let style = fit_line(fonts, &text, label, cols.col(3 + i).1 - 2.0 * PAD);
                (text, style)
            })
            .collect();
        let day_h = dates
            .iter()
            .map(|(_, s)| s.line_height())
            .fold(0.0, f32::max)
            + sign.line_height()
            + 2.0 * PAD;
        HeaderRow {
            h: HEADER_MIN_H.max(day_h),
            label,
            dates,
            sign,
        }
    }

    fn draw(&self, fonts: &Fonts, page: &mut PageBuf, cols: &Columns, y: f32) {
        page.rect(
            [cols.left(), y, cols.right() - cols.left(), self.h],
            Some(HEADER_FILL),
            None,
        );
        for (i, text) in ["Lp.", "Imię i nazwisko", "Instytucja"].iter().enumerate() {
            let cell = cols.cell(i, y, self.h, Align::Center);
            let style = fit_line(fonts, text, self.label, cell.w - 2.0 * PAD);
            page.cell(fonts, cell, style, &[(*text).to_owned()]);
        }
        for (i, (date, style)) in self.dates.iter().enumerate() {
            let (x, w) = cols.col(3 + i);
            let span = Span::new(x + PAD, w - 2.0 * PAD, Align::Center);
            let block = style.line_height() + self.sign.line_height();
            let top = y + (self.h - block) / 2.0;
            page.text(
                fonts,
                span,
                top + fonts.baseline_offset(*style),
                *style,
                date,
            );
            let sign = fit_line(fonts, "Podpis", self.sign, w - 2.0 * PAD);
            page.text(
                fonts,
                span,
                top + style.line_height() + fonts.baseline_offset(sign),
                sign,
                "Podpis",
            );
        }
    }
}

/// Table rules: a horizontal line at every `rules` y and vertical lines at every
/// column boundary from the first to the last of them.
fn grid(page: &mut PageBuf, cols: &Columns, rules: &[f32]) {
    let (Some(top), Some(bottom)) = (rules.first(), rules.last()) else {
        return;
    };
    for y in rules {
        page.line(cols.left(), *y, cols.right(), *y, GRID_W);
    }
    for x in &cols.x {
        page.line(*x, *top, *x, *bottom, GRID_W);
    }
}

/// Full heading on the first page; returns its height including the gap below.
fn heading(fonts: &Fonts, page: &mut PageBuf, s: &SignInSheet, width: f32, top: f32) -> f32 {
    let span = Span::new(MARGIN_X, width, Align::Center);
    let mut y = top;
    // Each heading entry is capped in lines so the heading can never push the table
    // off the first page.
    let block = |page: &mut PageBuf, y: f32, text: &str, style: Style, max_lines: usize| {
        let lines = fonts.wrap_max(text, style, width, max_lines);
        page.lines(fonts, span, y, style, &lines)
    };

    let title = Style::new(Weight::Bold, 18.0);
    y += block(page, y, "Lista obecności", title, 1);
    y += 1.0 * MM;
    y += block(
        page,
        y,
        &s.organizer,
        Style::new(Weight::Regular, 10.0).gray(40),
        2,
    );
    y += 2.0 * MM;
    y += block(page, y, &s.visit_title, Style::new(Weight::Bold, 12.0), 3);
    let info = Style::new(Weight::Regular, 10.0);
    if !clean(&s.destination).is_empty() {
        y += block(page, y, &format!("Miejsce: {}", s.destination), info, 2);
    }
    if !clean(&s.term_label).is_empty() {
        y += block(page, y, &format!("Termin: {}", s.term_label), info, 2);
    }
    let days_label = if s.days.len() == 1 {
        "Dzień wizyty"
    } else {
        "Dni wizyty"
    };
    y += block(
        page,
        y,
        &format!("{days_label}: {}", fmt_dates(&s.days)),
        info,
        3,
    );
    if let Some(funding) = s.funding_line.as_deref().filter(|f| !clean(f).is_empty()) {
        y += 1.5 * MM;
        y += block(
            page,
            y,
            funding,
            Style::new(Weight::Regular, 8.0).gray(70),
            5,
        );
    }
    y += 5.0 * MM;
    y - top
}

/// One-line reminder of what the sheet is on continuation pages.
fn running_heading(
    fonts: &Fonts,
    page: &mut PageBuf,
    s: &SignInSheet,
    width: f32,
    top: f32,
) -> f32 {
    let style = Style::new(Weight::Regular, 8.5).gray(40);
    let text = format!(
        "Lista obecności – {} – {}",
        clean(&s.visit_title),
        clean(&s.term_label)
    );
    let lines = fonts.wrap_max(&text, style, width, 2);
    let span = Span::new(MARGIN_X, width, Align::Left);
    page.lines(fonts, span, top, style, &lines) + 3.0 * MM
}

#[cfg(test)]
mod tests {
    // Panicking on unexpected results is the point of a test.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 5, d).unwrap()
    }

    fn sheet(rows: usize, days: usize) -> SignInSheet {
        let mut r = vec![SheetRow {
            name: "Żaneta Łęcka-Ścibor".into(),
            institution: "Miejski Ośrodek Pomocy Społecznej w Gdańsku".into(),
        }];
        for i in 1..rows {
            r.push(SheetRow {
                name: format!("Uczestnik Źdźbło {i}"),
                institution: format!("Gminny Ośrodek Pomocy Społecznej nr {i}"),
            });
        }
        r.truncate(rows);
        SignInSheet {
            organizer: "Regionalny Ośrodek Polityki Społecznej w Toruniu".into(),
            visit_title: "Dobre praktyki w usługach społecznych".into(),
            destination: "Poznań".into(),
            funding_line: Some(
                "Projekt współfinansowany ze środków Unii Europejskiej w ramach Europejskiego \
                 Funduszu Społecznego Plus, program Fundusze Europejskie dla Kujaw i Pomorza \
                 2021–2027, Priorytet 8, Działanie 8.23 — wsparcie dla kadr pomocy społecznej."
                    .into(),
            ),
            term_label: "Termin II".into(),
            days: (0..days).map(|i| day(27 + i as u32 % 5)).collect(),
            rows: r,
        }
    }

    fn text_of(pdf: &[u8]) -> String {
        pdf_extract::extract_text_from_mem(pdf).expect("pdf-extract reads the sheet")
    }

    /// Text wrapped inside a cell comes back with the line break dropped (no space),
    /// so multi-line cell text is compared with all whitespace removed.
    fn contains_wrapped(text: &str, needle: &str) -> bool {
        let squash = |s: &str| s.split_whitespace().collect::<String>();
        squash(text).contains(&squash(needle))
    }

    #[test]
    fn sheet_text_is_extractable_with_polish_letters() {
        let pdf = sign_in_sheet(&sheet(3, 2)).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = text_of(&pdf);
        for needle in [
            "Lista obecności",
            "Żaneta Łęcka-Ścibor",
            "Regionalny Ośrodek Polityki Społecznej w Toruniu",
            "Dobre praktyki w usługach społecznych",
            "27.05.2027",
            "28.05.2027",
            "Imię i nazwisko",
            "Instytucja",
            "Podpis",
            "Strona 1 z 1",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        assert!(
            contains_wrapped(&text, "Miejski Ośrodek Pomocy Społecznej w Gdańsku"),
            "{text}"
        );
    }

    #[test]
    fn all_polish_letters_survive_extraction() {
        let mut s = sheet(1, 1);
        s.rows[0].name = "ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ".into();
        let text = text_of(&sign_in_sheet(&s).unwrap());
        assert!(text.contains("ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ"), "{text}");
    }

    #[test]
    fn forty_rows_take_two_pages_with_repeated_header() {
        let text = text_of(&sign_in_sheet(&sheet(40, 2)).unwrap());
        assert!(text.contains("Strona 1 z 2"), "{text}");
        assert!(text.contains("Strona 2 z 2"), "{text}");
        assert_eq!(text.matches("Imię i nazwisko").count(), 2, "{text}");
        assert!(text.contains("Uczestnik Źdźbło 39"));
    }

    #[test]
    fn landscape_for_more_than_three_days() {
        let pdf = sign_in_sheet(&sheet(5, 4)).unwrap();
        let text = text_of(&pdf);
        for d in 27..=30 {
            assert!(text.contains(&format!("{d}.05.2027")), "{text}");
        }
        // Landscape A4 media box (842 x 595 pt).
        let raw = String::from_utf8_lossy(&pdf);
        assert!(raw.contains("/MediaBox[0 0 841.8"), "not landscape");
    }

    #[test]
    fn many_days_are_split_into_several_tables() {
        let mut s = sheet(3, 1);
        s.days = (1..=14).map(day).collect();
        let text = text_of(&sign_in_sheet(&s).unwrap());
        for d in 1..=14 {
            assert!(text.contains(&format!("{d:02}.05.2027")), "{text}");
        }
        assert!(text.contains("Strona 2 z 2"), "{text}");
    }

    #[test]
    fn empty_sheet_prints_header_and_note() {
        let text = text_of(&sign_in_sheet(&sheet(0, 1)).unwrap());
        assert!(text.contains("Imię i nazwisko"));
        assert!(
            text.contains("Brak osób z przydzielonym miejscem."),
            "{text}"
        );
        assert!(text.contains("Strona 1 z 1"));
    }

    #[test]
    fn no_days_is_an_error() {
        let s = sheet(1, 0);
        assert!(matches!(sign_in_sheet(&s), Err(PdfError::InvalidInput(_))));
    }

    #[test]
    fn long_texts_wrap_instead_of_panicking() {
        let mut s = sheet(3, 5);
        s.rows[0].institution = "Stowarzyszenie Na Rzecz Rozwoju Ekonomii Społecznej ".repeat(6);
        assert!(s.rows[0].institution.len() >= 300);
        s.rows[1].name = "Bardzo-Długie-Nazwisko-Bez-Spacji-".repeat(8);
        s.rows[2].institution = "x".repeat(5000);
        s.funding_line = Some("Fundusze Europejskie ".repeat(60));
        s.visit_title = "Wizyta ".repeat(80);
        let pdf = sign_in_sheet(&s).unwrap();
        let text = text_of(&pdf);
        assert!(contains_wrapped(&text, "Stowarzyszenie Na Rzecz Rozwoju"));
        assert!(text.contains("Strona 1 z 1"), "{text}");
    }

    #[test]
    fn two_hundred_rows_paginate() {
        let text = text_of(&sign_in_sheet(&sheet(200, 3)).unwrap());
        assert!(text.contains("Uczestnik Źdźbło 199"));
        let pages = text.matches("Imię i nazwisko").count();
        assert!(pages >= 8, "{pages} pages");
        assert!(
            text.contains(&format!("Strona {pages} z {pages}")),
            "{text}"
        );
    }

    #[test]
    fn output_is_deterministic() {
        let s = sheet(40, 3);
        assert_eq!(sign_in_sheet(&s).unwrap(), sign_in_sheet(&s).unwrap());
    }
}
