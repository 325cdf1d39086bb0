//! Dates at the precisions people plan with: a day, a range of days, a month, or the
//! early/mid/late part of a month (the schedules in the seeds mix all four).

use std::cmp::Ordering;
use std::fmt;

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::ValueError;

/// Parses a calendar date written strictly as `YYYY-MM-DD`.
fn parse_day(s: &str, field: &str) -> Result<NaiveDate, ValueError> {
    let shaped = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    let date = shaped
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten();
    date.ok_or_else(|| {
        ValueError::new(
            "date_format",
            format!("{field} must be a calendar date written YYYY-MM-DD, got '{s}'"),
        )
    })
}

/// A calendar month, e.g. `2020-09`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct YearMonth(NaiveDate);

impl YearMonth {
    /// Builds a month from its year (1000..=9999) and month number (1..=12).
    pub fn new(year: i32, month: u32) -> Result<Self, ValueError> {
        if !(1000..=9999).contains(&year) {
            return Err(ValueError::new("year_digits", "year must have four digits"));
        }
        NaiveDate::from_ymd_opt(year, month, 1)
            .map(Self)
            .ok_or_else(|| ValueError::new("month_number", "month must be between 01 and 12"))
    }

    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let err = || {
            ValueError::new(
                "month_format",
                format!("month must be written YYYY-MM, got '{s}'"),
            )
        };
        let shaped = s.len() == 7
            && s.bytes().enumerate().all(|(i, b)| match i {
                4 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        if !shaped {
            return Err(err());
        }
        let year: i32 = s[..4].parse().map_err(|_| err())?;
        let month: u32 = s[5..].parse().map_err(|_| err())?;
        Self::new(year, month)
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// The month number, 1..=12.
    pub fn month(self) -> u32 {
        self.0.month()
    }

    /// The first day of the month.
    pub fn first_day(self) -> NaiveDate {
        self.0
    }

    /// The last day of the month.
    pub fn last_day(self) -> NaiveDate {
        self.0
            .checked_add_months(Months::new(1))
            .and_then(|d| d.pred_opt())
            .unwrap_or(self.0)
    }

    /// The month a date falls in.
    pub fn of(date: NaiveDate) -> Self {
        Self(date.with_day(1).unwrap_or(date))
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

impl TryFrom<String> for YearMonth {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<YearMonth> for String {
    fn from(m: YearMonth) -> String {
        m.to_string()
    }
}

/// Which part of a month a date is planned for ("early September").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonthPart {
    /// Days 1–10.
    Early,
    /// Days 11–20.
    Mid,
    /// Day 21 to the end of the month.
    Late,
}

impl MonthPart {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Early => "early",
            Self::Mid => "mid",
            Self::Late => "late",
        }
    }

    /// Parses `early`, `mid` or `late`.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        match s {
            "early" => Ok(Self::Early),
            "mid" => Ok(Self::Mid),
            "late" => Ok(Self::Late),
            _ => Err(ValueError::new(
                "month_part_unknown",
                format!("part must be early, mid or late, got '{s}'"),
            )),
        }
    }

    fn first_day_number(self) -> u64 {
        match self {
            Self::Early => 1,
            Self::Mid => 11,
            Self::Late => 21,
        }
    }
}

/// A range of days, `from` ≤ `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DateRange {
    from: NaiveDate,
    to: NaiveDate,
}

impl DateRange {
    /// Accepts `from` ≤ `to`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, ValueError> {
        if from > to {
            return Err(ValueError::new(
                "date_range_reversed",
                format!("a date range must not end ({to}) before it starts ({from})"),
            ));
        }
        Ok(Self { from, to })
    }

    /// The first day.
    pub fn from(self) -> NaiveDate {
        self.from
    }

    /// The last day.
    pub fn to(self) -> NaiveDate {
        self.to
    }
}

/// A date at the precision it was planned with. JSON forms:
/// `{"day": "2020-02-07"}`, `{"from": "2020-05-07", "to": "2020-05-08"}`,
/// `{"month": "2020-02"}`, `{"month": "2020-09", "part": "early"|"mid"|"late"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PlannedDateRepr", into = "PlannedDateRepr")]
pub enum PlannedDate {
    /// One day.
    Day(NaiveDate),
    /// A range of days.
    Range(DateRange),
    /// A whole month.
    Month(YearMonth),
    /// The early, mid or late part of a month.
    PartOfMonth(YearMonth, MonthPart),
}

impl PlannedDate {
    /// The first day it may fall on (early → 1st, mid → 11th, late → 21st).
    pub fn first_day(&self) -> NaiveDate {
        match *self {
            Self::Day(d) => d,
            Self::Range(r) => r.from,
            Self::Month(m) => m.first_day(),
            Self::PartOfMonth(m, p) => m
                .first_day()
                .checked_add_days(Days::new(p.first_day_number() - 1))
                .unwrap_or(m.first_day()),
        }
    }

    /// The last day it may fall on (early → 10th, mid → 20th, late → month end).
    pub fn last_day(&self) -> NaiveDate {
        match *self {
            Self::Day(d) => d,
            Self::Range(r) => r.to,
            Self::Month(m) => m.last_day(),
            Self::PartOfMonth(m, MonthPart::Late) => m.last_day(),
            Self::PartOfMonth(m, p) => m
                .first_day()
                .checked_add_days(Days::new(p.first_day_number() + 8))
                .unwrap_or(m.first_day()),
        }
    }

    /// The year and month it starts in (the calendar files it under that month).
    pub fn month(&self) -> (i32, u32) {
        let d = self.first_day();
        (d.year(), d.month())
    }

    /// The month it starts in, written `YYYY-MM`.
    pub fn month_string(&self) -> String {
        let (y, m) = self.month();
        format!("{y:04}-{m:02}")
    }

    /// 0 for the most precise form (a day) up to 3 for a whole month.
    fn precision_rank(&self) -> u8 {
        match self {
            Self::Day(_) => 0,
            Self::Range(_) => 1,
            Self::PartOfMonth(..) => 2,
            Self::Month(_) => 3,
        }
    }
}

impl Ord for PlannedDate {
    /// By first day, then precision (day, range, part of month, month), then last day.
    fn cmp(&self, other: &Self) -> Ordering {
        (self.first_day(), self.precision_rank(), self.last_day()).cmp(&(
            other.first_day(),
            other.precision_rank(),
            other.last_day(),
        ))
    }
}

impl PartialOrd for PlannedDate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for PlannedDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Day(d) => write!(f, "{d}"),
            Self::Range(r) => write!(f, "{} – {}", r.from, r.to),
            Self::Month(m) => write!(f, "{m}"),
            Self::PartOfMonth(m, p) => write!(f, "{m} ({})", p.as_str()),
        }
    }
}

/// The JSON shape of a [`PlannedDate`], checked on the way in.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlannedDateRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    day: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    month: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    part: Option<String>,
}

impl TryFrom<PlannedDateRepr> for PlannedDate {
    type Error = ValueError;
    fn try_from(r: PlannedDateRepr) -> Result<Self, Self::Error> {
        match (r.day, r.from, r.to, r.month, r.part) {
            (Some(day), None, None, None, None) => Ok(Self::Day(parse_day(&day, "day")?)),
            (None, Some(from), Some(to), None, None) => Ok(Self::Range(DateRange::new(
                parse_day(&from, "from")?,
                parse_day(&to, "to")?,
            )?)),
            (None, None, None, Some(month), None) => Ok(Self::Month(YearMonth::parse(&month)?)),
            (None, None, None, Some(month), Some(part)) => Ok(Self::PartOfMonth(
                YearMonth::parse(&month)?,
                MonthPart::parse(&part)?,
            )),
            (None, Some(_), None, None, None) | (None, None, Some(_), None, None) => Err(
                ValueError::new(
                    "date_range_incomplete",
                    "a date range needs both 'from' and 'to'",
                ),
            ),
            (None, None, None, None, Some(_)) => {
                Err(ValueError::new(
                "month_part_without_month",
                "'part' needs a 'month' to belong to",
            ))
            }
            _ => Err(ValueError::new(
                "planned_date_shape",
                "a planned date is exactly one of {\"day\"}, {\"from\", \"to\"}, {\"month\"} or {\"month\", \"part\"}",
            )),
        }
    }
}

impl PlannedDate {
    /// Reads the JSON form (`{"day": …}`, `{"from", "to"}`, `{"month"}`, `{"month", "part"}`)
    /// from a JSON value, as `serde_json::from_value` would, but keeping the reason's
    /// [`ValueError::code`] (serde's error keeps only the sentence). A value of another shape
    /// (not an object, an unknown key, a non-string) is `planned_date_shape`, with serde's
    /// sentence.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, ValueError> {
        let repr = PlannedDateRepr::deserialize(v)
            .map_err(|e| ValueError::new("planned_date_shape", e.to_string()))?;
        Self::try_from(repr)
    }
}

impl From<PlannedDate> for PlannedDateRepr {
    fn from(p: PlannedDate) -> Self {
        match p {
            PlannedDate::Day(d) => Self {
                day: Some(d.to_string()),
                ..Self::default()
            },
            PlannedDate::Range(r) => Self {
                from: Some(r.from.to_string()),
                to: Some(r.to.to_string()),
                ..Self::default()
            },
            PlannedDate::Month(m) => Self {
                month: Some(m.to_string()),
                ..Self::default()
            },
            PlannedDate::PartOfMonth(m, part) => Self {
                month: Some(m.to_string()),
                part: Some(part.as_str().to_owned()),
                ..Self::default()
            },
        }
    }
}

// ---------------------------------------------------------------------------------------
// Dates as people write them in Polish schedules.
// ---------------------------------------------------------------------------------------

/// Month names without diacritics, in the nominative, genitive and locative cases.
const MONTHS: [[&str; 3]; 12] = [
    ["styczen", "stycznia", "styczniu"],
    ["luty", "lutego", "lutym"],
    ["marzec", "marca", "marcu"],
    ["kwiecien", "kwietnia", "kwietniu"],
    ["maj", "maja", "maju"],
    ["czerwiec", "czerwca", "czerwcu"],
    ["lipiec", "lipca", "lipcu"],
    ["sierpien", "sierpnia", "sierpniu"],
    ["wrzesien", "wrzesnia", "wrzesniu"],
    ["pazdziernik", "pazdziernika", "pazdzierniku"],
    ["listopad", "listopada", "listopadzie"],
    ["grudzien", "grudnia", "grudniu"],
];

/// Nominative month names as printed (for [`PlannedDate::to_polish`]).
const MONTHS_NOMINATIVE: [&str; 12] = [
    "Styczeń",
    "Luty",
    "Marzec",
    "Kwiecień",
    "Maj",
    "Czerwiec",
    "Lipiec",
    "Sierpień",
    "Wrzesień",
    "Październik",
    "Listopad",
    "Grudzień",
];

/// Genitive month names as printed (for [`PlannedDate::to_polish`]).
const MONTHS_GENITIVE: [&str; 12] = [
    "stycznia",
    "lutego",
    "marca",
    "kwietnia",
    "maja",
    "czerwca",
    "lipca",
    "sierpnia",
    "września",
    "października",
    "listopada",
    "grudnia",
];

/// Words naming a part of a month, without diacritics.
const PARTS: [(&str, MonthPart); 14] = [
    ("poczatek", MonthPart::Early),
    ("poczatku", MonthPart::Early),
    ("poczatkiem", MonthPart::Early),
    ("polowa", MonthPart::Mid),
    ("polowie", MonthPart::Mid),
    ("polowy", MonthPart::Mid),
    ("srodek", MonthPart::Mid),
    ("srodku", MonthPart::Mid),
    ("koniec", MonthPart::Late),
    ("konca", MonthPart::Late),
    ("koncu", MonthPart::Late),
    ("koncem", MonthPart::Late),
    ("koncowka", MonthPart::Late),
    ("koncowce", MonthPart::Late),
];

/// Prepositions that may lead a date ("w połowie lipca", "na początku marca", "pod koniec").
const PREPOSITIONS: [&str; 5] = ["w", "we", "na", "pod", "z"];

/// Lower case without Polish diacritics, dashes unified, whitespace collapsed.
fn fold(s: &str) -> String {
    let mapped: String = s
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'ą' => 'a',
            'ć' => 'c',
            'ę' => 'e',
            'ł' => 'l',
            'ń' => 'n',
            'ó' => 'o',
            'ś' => 's',
            'ź' | 'ż' => 'z',
            '–' | '—' | '‒' | '−' => '-',
            '\u{a0}' => ' ',
            c => c,
        })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn month_number(word: &str) -> Option<u32> {
    MONTHS
        .iter()
        .position(|forms| forms.contains(&word))
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn polish_error(original: &str, reason: impl fmt::Display) -> ValueError {
    ValueError::new(
        "planned_date_text",
        format!(
            "'{original}' is not a date this service can read: {reason}; write it like 7.02.2020, 7-8.05.2020, 30.04-2.05.2020, Luty 2020 or Koniec września 2020"
        ),
    )
}

fn parse_number(s: &str, what: &str) -> Result<u32, String> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{s}' is not a {what}"));
    }
    s.parse().map_err(|_| format!("'{s}' is not a {what}"))
}

fn parse_year(s: &str) -> Result<i32, String> {
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{s}' is not a year of four digits"));
    }
    let y: i32 = s.parse().map_err(|_| format!("'{s}' is not a year"))?;
    if y < 1000 {
        return Err(format!("'{s}' is not a year of four digits"));
    }
    Ok(y)
}

fn make_day(year: i32, month: u32, day: u32) -> Result<NaiveDate, String> {
    if !(1..=12).contains(&month) {
        return Err(format!("{month} is not a month number (1 to 12)"));
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
        let name = MONTHS_NOMINATIVE
            .get(month as usize - 1)
            .copied()
            .unwrap_or("that month");
        format!("{name} {year} has no day {day}")
    })
}

/// A day written in part: the day, maybe the month, maybe the year.
#[derive(Debug, Clone, Copy)]
struct PartialDay {
    day: u32,
    month: Option<u32>,
    year: Option<i32>,
}

/// `7`, `7.02`, `7.02.2020`, `7 lutego`, `7 lutego 2020` (already folded).
fn parse_partial_day(s: &str) -> Result<PartialDay, String> {
    let s = s.trim().trim_end_matches('.');
    if s.is_empty() {
        return Err("a day is missing".to_owned());
    }
    if s.contains(' ') {
        let words: Vec<&str> = s.split(' ').collect();
        let (day, month, year) = match words.as_slice() {
            [d, m] => (*d, *m, None),
            [d, m, y] => (*d, *m, Some(*y)),
            _ => return Err(format!("'{s}' is not a day")),
        };
        let day = parse_number(day, "day of the month")?;
        let month =
            month_number(month).ok_or_else(|| format!("'{month}' is not a Polish month name"))?;
        let year = year.map(parse_year).transpose()?;
        return Ok(PartialDay {
            day,
            month: Some(month),
            year,
        });
    }
    let parts: Vec<&str> = s.split(['.', '/']).collect();
    match parts.as_slice() {
        [d] => Ok(PartialDay {
            day: parse_number(d, "day of the month")?,
            month: None,
            year: None,
        }),
        [d, m] => Ok(PartialDay {
            day: parse_number(d, "day of the month")?,
            month: Some(parse_number(m, "month number")?),
            year: None,
        }),
        [d, m, y] => Ok(PartialDay {
            day: parse_number(d, "day of the month")?,
            month: Some(parse_number(m, "month number")?),
            year: Some(parse_year(y)?),
        }),
        _ => Err(format!("'{s}' is not a day")),
    }
}

fn full_day(p: PartialDay, default_year: Option<i32>) -> Result<NaiveDate, String> {
    let month = p.month.ok_or("the month is missing")?;
    let year = p.year.or(default_year).ok_or("the year is missing")?;
    make_day(year, month, p.day)
}

/// Removes a trailing year marker (`r.`, `r`, `roku`) and stray punctuation.
fn strip_suffixes(s: &str) -> &str {
    let mut t = s.trim().trim_end_matches([',', ';']);
    for suffix in [" roku", " r.", " r", "r."] {
        if let Some(rest) = t.strip_suffix(suffix) {
            // `r.` glued to the year only when a digit precedes it (`2014r.`).
            if suffix != "r." || rest.ends_with(|c: char| c.is_ascii_digit()) {
                t = rest.trim_end();
                break;
            }
        }
    }
    t.trim_end_matches('.').trim_end()
}

fn parse_numeric(s: &str, default_year: Option<i32>) -> Result<PlannedDate, String> {
    // ISO day, as the API writes it.
    if s.len() == 10 && s.as_bytes().get(4) == Some(&b'-') && s.as_bytes().get(7) == Some(&b'-') {
        return parse_day(s, "date")
            .map(PlannedDate::Day)
            .map_err(|e| e.message);
    }
    if let Some((left, right)) = s.split_once('-') {
        let (left, right) = (left.trim(), right.trim());
        if right.contains('-') {
            return Err("a range has one dash between its first and last day".to_owned());
        }
        let to_part = parse_partial_day(right)?;
        let to = full_day(to_part, default_year)?;
        let from_part = parse_partial_day(left)?;
        let month = from_part.month.unwrap_or(to.month());
        let year = match from_part.year {
            Some(y) => y,
            // `30.12-2.01.2021` spans the turn of the year.
            None if month > to.month() => to.year() - 1,
            None => to.year(),
        };
        let from = make_day(year, month, from_part.day)?;
        return DateRange::new(from, to)
            .map(PlannedDate::Range)
            .map_err(|e| e.message);
    }
    let parts: Vec<&str> = s.split(['.', '/']).collect();
    // `02.2020`: a whole month.
    if let [m, y] = parts.as_slice() {
        if y.len() == 4 {
            let month = parse_number(m, "month number")?;
            let year = parse_year(y)?;
            return YearMonth::new(year, month)
                .map(PlannedDate::Month)
                .map_err(|e| e.message);
        }
    }
    full_day(parse_partial_day(s)?, default_year).map(PlannedDate::Day)
}

fn parse_words(s: &str, default_year: Option<i32>) -> Result<PlannedDate, String> {
    let mut words: Vec<&str> = s.split(' ').collect();
    while words.len() > 1 && words.first().is_some_and(|w| PREPOSITIONS.contains(w)) {
        words.remove(0);
    }
    let part = words
        .first()
        .and_then(|w| PARTS.iter().find(|(p, _)| p == w).map(|(_, part)| *part));
    if part.is_some() {
        words.remove(0);
    }
    let (month_word, year) = match words.as_slice() {
        [y] if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) => {
            return Err("the month is missing".to_owned())
        }
        [m] => (*m, None),
        [m, y] => (*m, Some(*y)),
        [] => return Err("the month is missing".to_owned()),
        _ => return Err("expected a month name and a year".to_owned()),
    };
    let month = month_number(month_word).ok_or_else(|| {
        if month_word.contains(|c: char| c.is_ascii_digit()) {
            format!("'{month_word}' is neither a day nor a Polish month name")
        } else {
            format!("'{month_word}' is not a Polish month name")
        }
    })?;
    let year = match year {
        Some(y) => parse_year(y)?,
        None => default_year.ok_or("the year is missing")?,
    };
    let ym = YearMonth::new(year, month).map_err(|e| e.message)?;
    Ok(match part {
        Some(p) => PlannedDate::PartOfMonth(ym, p),
        None => PlannedDate::Month(ym),
    })
}

fn parse_polish_impl(original: &str, default_year: Option<i32>) -> Result<PlannedDate, ValueError> {
    let folded = fold(original);
    let s = strip_suffixes(&folded);
    if s.is_empty() {
        return Err(ValueError::new(
            "planned_date_empty",
            "a date is required, e.g. 7.02.2020 or Luty 2020",
        ));
    }
    let starts_with_digit = s.starts_with(|c: char| c.is_ascii_digit());
    let result = if starts_with_digit {
        parse_numeric(s, default_year)
    } else {
        parse_words(s, default_year)
    };
    result.map_err(|reason| polish_error(original.trim(), reason))
}

impl PlannedDate {
    /// Reads a date the way people write it in Polish schedules: `7.02.2020`, `05.06.2020`,
    /// `7-8.05.2020`, `30.04-2.05.2020`, `30.04.2020-2.05.2020`, `3 lutego 2014 r.`,
    /// `Luty 2020`, `02.2020`, `Koniec września 2020`, `w połowie lipca 2022`,
    /// `początek marca 2020`. Month names in the nominative, genitive or locative, any
    /// letter case, with or without Polish diacritics. The year must be written.
    pub fn parse_polish(s: &str) -> Result<PlannedDate, ValueError> {
        parse_polish_impl(s, None)
    }

    /// [`PlannedDate::parse_polish`], taking `year` where the text leaves it out
    /// (`Koniec września` in a schedule headed "na 2020 rok").
    pub fn parse_polish_in_year(s: &str, year: i32) -> Result<PlannedDate, ValueError> {
        parse_polish_impl(s, Some(year))
    }

    /// The date written the way [`PlannedDate::parse_polish`] reads it, e.g. `7-8.05.2020`
    /// or `Koniec września 2020`.
    pub fn to_polish(&self) -> String {
        let day = |d: NaiveDate| format!("{}.{:02}.{}", d.day(), d.month(), d.year());
        let idx = |m: YearMonth| (m.month() as usize).saturating_sub(1).min(11);
        match *self {
            Self::Day(d) => day(d),
            Self::Range(r) if (r.from.year(), r.from.month()) == (r.to.year(), r.to.month()) => {
                format!("{}-{}", r.from.day(), day(r.to))
            }
            Self::Range(r) if r.from.year() == r.to.year() => {
                format!("{}.{:02}-{}", r.from.day(), r.from.month(), day(r.to))
            }
            Self::Range(r) => format!("{}-{}", day(r.from), day(r.to)),
            Self::Month(m) => format!("{} {}", MONTHS_NOMINATIVE[idx(m)], m.year()),
            Self::PartOfMonth(m, p) => {
                let word = match p {
                    MonthPart::Early => "Początek",
                    MonthPart::Mid => "Połowa",
                    MonthPart::Late => "Koniec",
                };
                format!("{word} {} {}", MONTHS_GENITIVE[idx(m)], m.year())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn pd(json: &str) -> PlannedDate {
        serde_json::from_str(json).expect(json)
    }

    #[test]
    fn json_round_trips() {
        for json in [
            r#"{"day":"2020-02-07"}"#,
            r#"{"from":"2020-05-07","to":"2020-05-08"}"#,
            r#"{"from":"2020-05-07","to":"2020-05-07"}"#,
            r#"{"month":"2020-02"}"#,
            r#"{"month":"2020-09","part":"early"}"#,
            r#"{"month":"2020-09","part":"mid"}"#,
            r#"{"month":"2020-09","part":"late"}"#,
        ] {
            let p = pd(json);
            assert_eq!(serde_json::to_string(&p).expect("ser"), json);
        }
    }

    #[test]
    fn json_rejects_bad_combinations() {
        for bad in [
            r#"{}"#,
            r#"{"day":"2020-02-30"}"#,
            r#"{"day":"7.02.2020"}"#,
            r#"{"day":"2020-2-7"}"#,
            r#"{"from":"2020-05-08","to":"2020-05-07"}"#,
            r#"{"from":"2020-05-08"}"#,
            r#"{"to":"2020-05-08"}"#,
            r#"{"month":"2020-13"}"#,
            r#"{"month":"2020-9"}"#,
            r#"{"month":"2020-09","part":"end"}"#,
            r#"{"part":"late"}"#,
            r#"{"day":"2020-02-07","month":"2020-02"}"#,
            r#"{"day":"2020-02-07","extra":1}"#,
            r#""2020-02-07""#,
        ] {
            assert!(serde_json::from_str::<PlannedDate>(bad).is_err(), "{bad}");
        }
        let err = serde_json::from_str::<PlannedDate>(r#"{"from":"2020-05-08","to":"2020-05-07"}"#)
            .expect_err("reversed");
        assert!(err.to_string().contains("before it starts"), "{err}");
    }

    #[test]
    fn first_day_last_day_and_month() {
        assert_eq!(pd(r#"{"day":"2020-02-07"}"#).first_day(), d("2020-02-07"));
        let range = pd(r#"{"from":"2020-05-07","to":"2020-05-08"}"#);
        assert_eq!(
            (range.first_day(), range.last_day()),
            (d("2020-05-07"), d("2020-05-08"))
        );
        let feb = pd(r#"{"month":"2020-02"}"#);
        assert_eq!(
            (feb.first_day(), feb.last_day()),
            (d("2020-02-01"), d("2020-02-29"))
        );
        assert_eq!(feb.month(), (2020, 2));
        assert_eq!(feb.month_string(), "2020-02");
        let early = pd(r#"{"month":"2020-09","part":"early"}"#);
        let mid = pd(r#"{"month":"2020-09","part":"mid"}"#);
        let late = pd(r#"{"month":"2020-09","part":"late"}"#);
        assert_eq!(early.first_day(), d("2020-09-01"));
        assert_eq!(early.last_day(), d("2020-09-10"));
        assert_eq!(mid.first_day(), d("2020-09-11"));
        assert_eq!(mid.last_day(), d("2020-09-20"));
        assert_eq!(late.first_day(), d("2020-09-21"));
        assert_eq!(late.last_day(), d("2020-09-30"));
        assert_eq!(late.month_string(), "2020-09");
    }

    #[test]
    fn ordering_by_first_day_then_precision() {
        let mut v = [
            pd(r#"{"month":"2020-09"}"#),
            pd(r#"{"month":"2020-09","part":"late"}"#),
            pd(r#"{"day":"2020-09-01"}"#),
            pd(r#"{"month":"2020-09","part":"early"}"#),
            pd(r#"{"from":"2020-09-01","to":"2020-09-02"}"#),
            pd(r#"{"day":"2020-08-31"}"#),
        ];
        v.sort();
        let out: Vec<String> = v
            .iter()
            .map(|p| serde_json::to_string(p).expect("ser"))
            .collect();
        assert_eq!(
            out,
            vec![
                r#"{"day":"2020-08-31"}"#,
                r#"{"day":"2020-09-01"}"#,
                r#"{"from":"2020-09-01","to":"2020-09-02"}"#,
                r#"{"month":"2020-09","part":"early"}"#,
                r#"{"month":"2020-09"}"#,
                r#"{"month":"2020-09","part":"late"}"#,
            ]
        );
    }

    fn polish(s: &str) -> String {
        let p = PlannedDate::parse_polish(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        serde_json::to_string(&p).expect("ser")
    }

    #[test]
    fn polish_days_and_ranges() {
        for (text, json) in [
            ("7.02.2020", r#"{"day":"2020-02-07"}"#),
            ("05.06.2020", r#"{"day":"2020-06-05"}"#),
            (" 23.04.2020 ", r#"{"day":"2020-04-23"}"#),
            ("3.02.2014 r.", r#"{"day":"2014-02-03"}"#),
            ("3 lutego 2014 r.", r#"{"day":"2014-02-03"}"#),
            ("3 lutego 2014", r#"{"day":"2014-02-03"}"#),
            ("13.07.2018r.", r#"{"day":"2018-07-13"}"#),
            ("2020-02-07", r#"{"day":"2020-02-07"}"#),
            ("7-8.05.2020", r#"{"from":"2020-05-07","to":"2020-05-08"}"#),
            (
                "26-29.05.2020",
                r#"{"from":"2020-05-26","to":"2020-05-29"}"#,
            ),
            (
                "26 – 29.05.2020",
                r#"{"from":"2020-05-26","to":"2020-05-29"}"#,
            ),
            ("1-2.10.2020", r#"{"from":"2020-10-01","to":"2020-10-02"}"#),
            (
                "30.04-2.05.2020",
                r#"{"from":"2020-04-30","to":"2020-05-02"}"#,
            ),
            (
                "30.04.2020-2.05.2020",
                r#"{"from":"2020-04-30","to":"2020-05-02"}"#,
            ),
            (
                "30.04.2020 - 02.05.2020",
                r#"{"from":"2020-04-30","to":"2020-05-02"}"#,
            ),
            (
                "30.12-2.01.2021",
                r#"{"from":"2020-12-30","to":"2021-01-02"}"#,
            ),
            (
                "30.12.2020-2.01.2021",
                r#"{"from":"2020-12-30","to":"2021-01-02"}"#,
            ),
            (
                "8-9 grudnia 2016",
                r#"{"from":"2016-12-08","to":"2016-12-09"}"#,
            ),
            (
                "30 kwietnia - 2 maja 2020",
                r#"{"from":"2020-04-30","to":"2020-05-02"}"#,
            ),
            ("29.02.2020", r#"{"day":"2020-02-29"}"#),
        ] {
            assert_eq!(polish(text), json, "{text}");
        }
    }

    #[test]
    fn polish_months_and_parts() {
        for (text, json) in [
            ("Luty 2020", r#"{"month":"2020-02"}"#),
            ("Wrzesień 2020", r#"{"month":"2020-09"}"#),
            ("WRZESIEŃ 2020", r#"{"month":"2020-09"}"#),
            ("wrzesien 2020", r#"{"month":"2020-09"}"#),
            ("Styczeń 2020", r#"{"month":"2020-01"}"#),
            ("Październik 2020", r#"{"month":"2020-10"}"#),
            ("lutego 2020", r#"{"month":"2020-02"}"#),
            ("w lutym 2020", r#"{"month":"2020-02"}"#),
            ("02.2020", r#"{"month":"2020-02"}"#),
            ("Luty 2020 r.", r#"{"month":"2020-02"}"#),
            (
                "Koniec września 2020",
                r#"{"month":"2020-09","part":"late"}"#,
            ),
            (
                "koniec wrzesnia 2020",
                r#"{"month":"2020-09","part":"late"}"#,
            ),
            (
                "pod koniec września 2020 r.",
                r#"{"month":"2020-09","part":"late"}"#,
            ),
            (
                "w połowie lipca 2022",
                r#"{"month":"2022-07","part":"mid"}"#,
            ),
            (
                "W POŁOWIE LIPCA 2022",
                r#"{"month":"2022-07","part":"mid"}"#,
            ),
            ("połowa lipca 2022", r#"{"month":"2022-07","part":"mid"}"#),
            (
                "początek marca 2020",
                r#"{"month":"2020-03","part":"early"}"#,
            ),
            (
                "Początek marca 2020",
                r#"{"month":"2020-03","part":"early"}"#,
            ),
            (
                "na początku marca 2020",
                r#"{"month":"2020-03","part":"early"}"#,
            ),
            (
                "Początek marzec 2020",
                r#"{"month":"2020-03","part":"early"}"#,
            ),
        ] {
            assert_eq!(polish(text), json, "{text}");
        }
    }

    #[test]
    fn polish_default_year() {
        let p = PlannedDate::parse_polish_in_year("Koniec września", 2020).expect("parse");
        assert_eq!(p.to_polish(), "Koniec września 2020");
        let p = PlannedDate::parse_polish_in_year("7.02", 2020).expect("parse");
        assert_eq!(p, PlannedDate::Day(d("2020-02-07")));
        // A written year wins over the default.
        let p = PlannedDate::parse_polish_in_year("Luty 2019", 2020).expect("parse");
        assert_eq!(p.month_string(), "2019-02");
        let err = PlannedDate::parse_polish("Koniec września").expect_err("no year");
        assert!(err.message.contains("year is missing"), "{err}");
    }

    #[test]
    fn polish_errors_are_clear() {
        for (text, says) in [
            ("", "required"),
            ("   ", "required"),
            ("Smarzec 2020", "'smarzec' is not a Polish month name"),
            ("31.02.2020", "Luty 2020 has no day 31"),
            ("29.02.2019", "has no day 29"),
            ("7.13.2020", "13 is not a month number"),
            ("8-7.05.2020", "before it starts"),
            ("7.02.20", "'20' is not a year of four digits"),
            ("jutro", "'jutro' is not a Polish month name"),
            ("Koniec 2020", "the month is missing"),
            ("7-8-9.05.2020", "one dash"),
            ("7.02", "year is missing"),
            ("Luty", "year is missing"),
            (
                "Luty 2020 i marzec 2020",
                "expected a month name and a year",
            ),
            (
                "x.02.2020",
                "'x.02.2020' is neither a day nor a Polish month name",
            ),
            ("7.x.2020", "'x' is not a month number"),
        ] {
            let err = PlannedDate::parse_polish(text).expect_err(text);
            assert!(err.message.contains(says), "{text}: {err}");
            if !text.trim().is_empty() {
                assert!(err.message.contains(text.trim()), "{text}: {err}");
            }
        }
    }

    #[test]
    fn polish_text_round_trips() {
        for text in [
            "7.02.2020",
            "7-8.05.2020",
            "30.04-2.05.2020",
            "30.12.2020-2.01.2021",
            "Luty 2020",
            "Wrzesień 2020",
            "Koniec września 2020",
            "Połowa lipca 2022",
            "Początek marca 2020",
        ] {
            let p = PlannedDate::parse_polish(text).expect(text);
            assert_eq!(p.to_polish(), text);
            let json = serde_json::to_string(&p).expect("ser");
            assert_eq!(serde_json::from_str::<PlannedDate>(&json).expect("de"), p);
        }
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn any_day() -> impl Strategy<Value = NaiveDate> {
            (0u64..(366 * 30)).prop_map(|n| {
                NaiveDate::from_ymd_opt(2000, 1, 1)
                    .and_then(|d| d.checked_add_days(Days::new(n)))
                    .unwrap_or_default()
            })
        }

        fn any_planned() -> impl Strategy<Value = PlannedDate> {
            let part = prop_oneof![
                Just(MonthPart::Early),
                Just(MonthPart::Mid),
                Just(MonthPart::Late)
            ];
            prop_oneof![
                any_day().prop_map(PlannedDate::Day),
                (any_day(), 0u64..40).prop_map(|(from, len)| {
                    let to = from.checked_add_days(Days::new(len)).unwrap_or(from);
                    DateRange::new(from, to)
                        .map(PlannedDate::Range)
                        .unwrap_or(PlannedDate::Day(from))
                }),
                any_day().prop_map(|d| PlannedDate::Month(YearMonth::of(d))),
                (any_day(), part).prop_map(|(d, p)| PlannedDate::PartOfMonth(YearMonth::of(d), p)),
            ]
        }

        proptest! {
            #[test]
            fn ordering_agrees_with_the_month(a in any_planned(), b in any_planned()) {
                // A date filed under an earlier month always sorts first.
                if a.month() < b.month() {
                    prop_assert!(a < b, "{a} vs {b}");
                }
                if a < b {
                    prop_assert!(a.month() <= b.month(), "{a} vs {b}");
                }
                prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
                prop_assert_eq!(a == b, a.cmp(&b) == std::cmp::Ordering::Equal);
                // The month it is filed under contains its first day.
                let (y, m) = a.month();
                prop_assert_eq!((a.first_day().year(), a.first_day().month()), (y, m));
                prop_assert!(a.first_day() <= a.last_day());
            }

            #[test]
            fn parsers_never_panic_on_any_text(
                s in "\\PC*",
                polish in "[0-9 .\\-–a-zA-ZąćęłńóśźżĄĆĘŁŃÓŚŹŻ]{0,30}",
                year in any::<i32>(),
            ) {
                let _ = PlannedDate::parse_polish(&s);
                let _ = PlannedDate::parse_polish(&polish);
                let _ = PlannedDate::parse_polish_in_year(&polish, year);
                let _ = serde_json::from_str::<PlannedDate>(&s);
            }

            #[test]
            fn json_form_never_panics_on_any_fields(
                keys in proptest::collection::vec(prop_oneof![
                    Just("day"), Just("from"), Just("to"), Just("month"), Just("part"), Just("other")
                ], 0..4),
                values in proptest::collection::vec("\\PC{0,12}", 4),
            ) {
                let object: serde_json::Map<String, serde_json::Value> = keys
                    .iter()
                    .zip(&values)
                    .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v.clone())))
                    .collect();
                if let Ok(p) = serde_json::from_value::<PlannedDate>(serde_json::Value::Object(object)) {
                    // Whatever is accepted writes back to a form that reads the same.
                    let json = serde_json::to_value(p).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(serde_json::from_value::<PlannedDate>(json).ok(), Some(p));
                    prop_assert_eq!(PlannedDate::parse_polish(&p.to_polish()).ok(), Some(p));
                }
            }

            #[test]
            fn polish_and_json_round_trip(p in any_planned()) {
                let text = p.to_polish();
                prop_assert_eq!(PlannedDate::parse_polish(&text).map_err(|e| e.message), Ok(p), "{}", text);
                let lower = text.to_lowercase();
                prop_assert_eq!(PlannedDate::parse_polish(&lower).map_err(|e| e.message), Ok(p), "{}", lower);
                let json = serde_json::to_string(&p).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let back: PlannedDate = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(back, p);
            }
        }
    }
}
