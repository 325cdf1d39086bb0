//! The certificate of participation (zaświadczenie o udziale) in a study visit: one
//! A4 portrait page stating who took part in what and on which days, with a box at
//! the bottom carrying the verification code and the address where the certificate
//! can be checked.
//!
//! The text flows top-down and is wrapped to the page width. If unusually long data
//! would not fit one page, the whole layout is shrunk step by step; only if that is
//! still not enough does the text flow onto further pages (nothing is ever cut off on
//! a certificate).

use chrono::NaiveDate;

use super::draw::{
    clean, fmt_date, fmt_dates, metadata, number_pages, render, Align, Fonts, PageBuf, PdfError,
    Span, Style, Weight, A4_H, A4_W, MM,
};

/// A certificate of participation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    pub organizer: String,
    pub visit_title: String,
    pub destination: String,
    pub funding_line: Option<String>,
    pub term_label: String,
    pub person_name: String,
    pub institution: String,
    /// At least one day.
    pub days_present: Vec<NaiveDate>,
    /// Verification code, e.g. "K7QF-2M9X-ABCD-EFGH".
    pub code: String,
    /// Address of the verification page, e.g. `https://example.org/weryfikacja/K7QF2M9X…`.
    pub verify_url: String,
    pub issued_on: NaiveDate,
}

const MARGIN_X: f32 = 25.0 * MM;
const CONTENT_W: f32 = A4_W - 2.0 * MARGIN_X;
const TOP: f32 = 40.0 * MM;
/// Top of the flow on continuation pages (no title there).
const TOP_CONTINUED: f32 = 25.0 * MM;
const BOTTOM: f32 = A4_H - 25.0 * MM;
/// Shrink factors tried in turn until everything fits on one page.
const SCALES: [f32; 5] = [1.0, 0.9, 0.8, 0.7, 0.6];
const BOX_PAD: f32 = 4.0 * MM;

/// Renders the certificate as a PDF (normally one page).
pub fn certificate(c: &Certificate) -> Result<Vec<u8>, PdfError> {
    if c.days_present.is_empty() {
        return Err(PdfError::InvalidInput(
            "a certificate needs at least one day present",
        ));
    }
    let fonts = Fonts::load()?;
    let mut pages = Vec::new();
    for scale in SCALES {
        let (laid_out, fits) = layout(&fonts, c, scale);
        pages = laid_out;
        if fits {
            break;
        }
    }
    if pages.len() > 1 {
        number_pages(&fonts, &mut pages);
    }
    let title = format!("Zaświadczenie – {}", c.person_name);
    render(&fonts, &pages, metadata(&title, Some(c.issued_on)))
}

/// Lays the certificate out at `scale`; the flag says whether it fit on one page with
/// the verification block in its place at the bottom.
fn layout(fonts: &Fonts, c: &Certificate, scale: f32) -> (Vec<PageBuf>, bool) {
    let mut flow = Flow::new(fonts);
    let s = |style: Style| style.scaled(scale);
    let center = Align::Center;

    flow.para(
        "Zaświadczenie",
        s(Style::new(Weight::Bold, 30.0).leading(1.1)),
        center,
    );
    flow.gap(2.0 * MM);
    // A short rule under the title, the only ornament besides the frame.
    let y = flow.y;
    flow.page
        .line(A4_W / 2.0 - 20.0 * MM, y, A4_W / 2.0 + 20.0 * MM, y, 0.8);
    flow.gap(14.0 * MM * scale);

    let body = s(Style::new(Weight::Regular, 12.0).leading(1.45));
    flow.para("Zaświadcza się, że", body, center);
    flow.gap(5.0 * MM * scale);
    flow.para(
        &c.person_name,
        s(Style::new(Weight::Bold, 20.0).leading(1.25)),
        center,
    );
    if !clean(&c.institution).is_empty() {
        flow.gap(2.0 * MM * scale);
        flow.para(&format!("z instytucji: {}", c.institution), body, center);
    }
    flow.gap(8.0 * MM * scale);

    let mut sentence = format!(
        "wziął(-ęła) udział w wizycie studyjnej „{}”",
        clean(&c.visit_title)
    );
    if !clean(&c.destination).is_empty() {
        sentence.push_str(&format!(" ({})", clean(&c.destination)));
    }
    if !clean(&c.term_label).is_empty() {
        sentence.push_str(&format!(", {}", clean(&c.term_label)));
    }
    flow.para(&sentence, body, center);
    let days_label = if c.days_present.len() == 1 {
        "w dniu"
    } else {
        "w dniach"
    };
    flow.para(
        &format!("{days_label}: {}", fmt_dates(&c.days_present)),
        body,
        center,
    );

    if let Some(funding) = c.funding_line.as_deref().filter(|f| !clean(f).is_empty()) {
        flow.gap(10.0 * MM * scale);
        flow.para(
            funding,
            s(Style::new(Weight::Regular, 9.0).leading(1.35).gray(60)),
            center,
        );
    }

    // The closing block (organizer, date, verification box) sits at the bottom of the
    // page; if the flow already reaches into it, it follows the flow instead.
    let closing = Closing::new(fonts, c, scale);
    let anchored_top = BOTTOM - closing.height();
    let fits = flow.pages.is_empty() && flow.y + 10.0 * MM * scale <= anchored_top;
    if fits {
        flow.y = anchored_top;
    } else {
        flow.gap(10.0 * MM * scale);
        flow.keep(closing.height());
    }
    let top = flow.y;
    closing.draw(fonts, &mut flow.page, top);
    (flow.finish(), fits)
}

/// Organizer, issue date and the verification box, measured once so the block can be
/// anchored to the bottom of the page.
struct Closing {
    info: Style,
    organizer: Vec<String>,
    issued: String,
    gap: f32,
    label: Style,
    code_style: Style,
    code_label: &'static str,
    code: String,
    url: Style,
    url_lines: Vec<String>,
}

impl Closing {
    fn new(fonts: &Fonts, c: &Certificate, scale: f32) -> Self {
        let info = Style::new(Weight::Regular, 10.0).leading(1.4).scaled(scale);
        let organizer = if clean(&c.organizer).is_empty() {
            Vec::new()
        } else {
            fonts.wrap(&format!("Organizator: {}", c.organizer), info, CONTENT_W)
        };
        let label = Style::new(Weight::Regular, 10.0).leading(1.5).scaled(scale);
        let code_style = Style::new(Weight::Bold, 12.0).leading(1.5).scaled(scale);
        let url = Style::new(Weight::Regular, 9.0).leading(1.35).scaled(scale);
        let url_lines = fonts.wrap(
            &format!(
                "Autentyczność zaświadczenia można sprawdzić na stronie {}",
                c.verify_url
            ),
            url,
            CONTENT_W - 2.0 * BOX_PAD,
        );
        Closing {
            info,
            organizer,
            issued: format!("Wystawiono {}", fmt_date(c.issued_on)),
            gap: 6.0 * MM * scale,
            label,
            code_style,
            code_label: "Kod weryfikacyjny: ",
            code: clean(&c.code),
            url,
            url_lines,
        }
    }

    fn box_height(&self) -> f32 {
        2.0 * BOX_PAD
            + self.code_style.line_height()
            + self.url_lines.len() as f32 * self.url.line_height()
    }

    fn height(&self) -> f32 {
        (self.organizer.len() + 1) as f32 * self.info.line_height() + self.gap + self.box_height()
    }

    fn draw(&self, fonts: &Fonts, page: &mut PageBuf, top: f32) {
        let left = Span::new(MARGIN_X, CONTENT_W, Align::Left);
        let mut y = top;
        y += page.lines(fonts, left, y, self.info, &self.organizer);
        y += page.lines(
            fonts,
            left,
            y,
            self.info,
            std::slice::from_ref(&self.issued),
        );
        y += self.gap;

        page.rect(
            [MARGIN_X, y, CONTENT_W, self.box_height()],
            Some(246),
            Some((0.8, 90)),
        );
        let inner = Span::new(MARGIN_X + BOX_PAD, CONTENT_W - 2.0 * BOX_PAD, Align::Left);
        y += BOX_PAD;
        // Label and code share a baseline; the code is bold and larger so it can be
        // read out over the phone.
        let baseline = y + fonts.baseline_offset(self.code_style);
        page.text(fonts, inner, baseline, self.label, self.code_label);
        let code_x = inner.x + fonts.width(self.code_label, self.label);
        let code_span = Span::new(code_x, inner.width - (code_x - inner.x), Align::Left);
        // An absurdly long code is shrunk to the box rather than overflowing it.
        let mut code_style = self.code_style;
        let w = fonts.width(&self.code, code_style);
        if w > code_span.width && w > 0.0 {
            code_style.size *= (code_span.width / w).max(0.1);
        }
        page.text(fonts, code_span, baseline, code_style, &self.code);
        y += self.code_style.line_height();
        page.lines(fonts, inner, y, self.url, &self.url_lines);
    }
}

/// Top-down text flow over as many pages as needed; each page gets the frame.
struct Flow<'f> {
    fonts: &'f Fonts,
    /// Finished pages.
    pages: Vec<PageBuf>,
    /// The page being filled.
    page: PageBuf,
    y: f32,
}

impl<'f> Flow<'f> {
    fn new(fonts: &'f Fonts) -> Self {
        Flow {
            fonts,
            pages: Vec::new(),
            page: framed_page(),
            y: TOP,
        }
    }

    fn break_page(&mut self) {
        let full = std::mem::replace(&mut self.page, framed_page());
        self.pages.push(full);
        self.y = TOP_CONTINUED;
    }

    fn gap(&mut self, h: f32) {
        self.y += h;
    }

    /// Starts a new page unless `h` more points fit on this one.
    fn keep(&mut self, h: f32) {
        if self.y + h > BOTTOM && self.y > TOP_CONTINUED {
            self.break_page();
        }
    }

    /// Wraps `text` to the content width and places it line by line.
    fn para(&mut self, text: &str, style: Style, align: Align) {
        let span = Span::new(MARGIN_X, CONTENT_W, align);
        for line in self.fonts.wrap(text, style, CONTENT_W) {
            self.keep(style.line_height());
            let lines = [line];
            self.y += self.page.lines(self.fonts, span, self.y, style, &lines);
        }
    }

    fn finish(mut self) -> Vec<PageBuf> {
        self.pages.push(self.page);
        self.pages
    }
}

/// A blank A4 page with a thin double frame.
fn framed_page() -> PageBuf {
    let mut page = PageBuf::new(A4_W, A4_H);
    let outer = 12.0 * MM;
    let inner = 13.5 * MM;
    page.rect(
        [outer, outer, A4_W - 2.0 * outer, A4_H - 2.0 * outer],
        None,
        Some((1.2, 110)),
    );
    page.rect(
        [inner, inner, A4_W - 2.0 * inner, A4_H - 2.0 * inner],
        None,
        Some((0.4, 110)),
    );
    page
}

#[cfg(test)]
mod tests {
    // Panicking on unexpected results is the point of a test.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, m, d).unwrap()
    }

    fn sample() -> Certificate {
        Certificate {
            organizer: "Regionalny Ośrodek Polityki Społecznej w Toruniu".into(),
            visit_title: "Dobre praktyki w usługach społecznych".into(),
            destination: "Poznań".into(),
            funding_line: Some(
                "Projekt współfinansowany ze środków Unii Europejskiej w ramach Europejskiego \
                 Funduszu Społecznego Plus, program Fundusze Europejskie dla Kujaw i Pomorza \
                 2021–2027."
                    .into(),
            ),
            term_label: "Termin II".into(),
            person_name: "Żaneta Łęcka-Ścibor".into(),
            institution: "Miejski Ośrodek Pomocy Społecznej w Gdańsku".into(),
            days_present: vec![day(5, 27), day(5, 28)],
            code: "K7QF-2M9X-ABCD-EFGH".into(),
            verify_url: "https://example.org/weryfikacja/K7QF2M9XABCDEFGH".into(),
            issued_on: NaiveDate::from_ymd_opt(2026, 12, 4).unwrap(),
        }
    }

    fn text_of(pdf: &[u8]) -> String {
        pdf_extract::extract_text_from_mem(pdf).expect("pdf-extract reads the certificate")
    }

    #[test]
    fn certificate_text_is_extractable() {
        let pdf = certificate(&sample()).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = text_of(&pdf);
        for needle in [
            "Zaświadczenie",
            "Zaświadcza się, że",
            "Żaneta Łęcka-Ścibor",
            "z instytucji: Miejski Ośrodek Pomocy Społecznej w Gdańsku",
            "wziął(-ęła) udział w wizycie studyjnej „Dobre praktyki w usługach społecznych”",
            "(Poznań), Termin II",
            "w dniach: 27.05.2027, 28.05.2027",
            "Organizator: Regionalny Ośrodek Polityki Społecznej w Toruniu",
            "Wystawiono 04.12.2026",
            "K7QF-2M9X-ABCD-EFGH",
            "Kod weryfikacyjny:",
            "https://example.org/weryfikacja/K7QF2M9XABCDEFGH",
            "Fundusze Europejskie",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        assert!(
            !text.contains("Strona"),
            "single page needs no page numbers"
        );
    }

    #[test]
    fn single_day_says_w_dniu() {
        let mut c = sample();
        c.days_present = vec![day(5, 27)];
        let text = text_of(&certificate(&c).unwrap());
        assert!(text.contains("w dniu: 27.05.2027"), "{text}");
    }

    #[test]
    fn no_days_is_an_error() {
        let mut c = sample();
        c.days_present.clear();
        assert!(matches!(certificate(&c), Err(PdfError::InvalidInput(_))));
    }

    #[test]
    fn creation_date_comes_from_issued_on() {
        let raw = certificate(&sample()).unwrap();
        let raw = String::from_utf8_lossy(&raw);
        assert!(raw.contains("D:20261204"), "creation date missing");
    }

    #[test]
    fn output_is_deterministic() {
        let c = sample();
        assert_eq!(certificate(&c).unwrap(), certificate(&c).unwrap());
    }

    #[test]
    fn long_texts_wrap_and_shrink() {
        let mut c = sample();
        c.institution = "Stowarzyszenie Na Rzecz Rozwoju Ekonomii Społecznej ".repeat(6);
        assert!(c.institution.len() >= 300);
        c.person_name = "Bardzo-Długie-Nazwisko-Bez-Spacji-".repeat(5);
        let pdf = certificate(&c).unwrap();
        let text = text_of(&pdf);
        assert!(text.contains("Stowarzyszenie Na Rzecz Rozwoju"));
        assert!(text.contains("K7QF-2M9X-ABCD-EFGH"));
    }

    #[test]
    fn absurdly_long_texts_flow_onto_more_pages() {
        let mut c = sample();
        c.funding_line = Some("Fundusze Europejskie dla Kujaw i Pomorza ".repeat(600));
        c.days_present = (1..=28).map(|d| day(2, d)).collect();
        let text = text_of(&certificate(&c).unwrap());
        assert!(text.contains("Strona 1 z "), "{text}");
        assert!(text.contains("K7QF-2M9X-ABCD-EFGH"));
    }
}
