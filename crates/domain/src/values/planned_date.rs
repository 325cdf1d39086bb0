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
        ValueError::new(format!(
            "{field} must be a calendar date written YYYY-MM-DD, got '{s}'"
        ))
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
            return Err(ValueError::new("year must have four digits"));
        }
        NaiveDate::from_ymd_opt(year, month, 1)
            .map(Self)
            .ok_or_else(|| ValueError::new("month must be between 01 and 12"))
    }

    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let err = || ValueError::new(format!("month must be written YYYY-MM, got '{s}'"));
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
            _ => Err(ValueError::new(format!(
                "part must be early, mid or late, got '{s}'"
            ))),
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
            return Err(ValueError::new(format!(
                "a date range must not end ({to}) before it starts ({from})"
            )));
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
                ValueError::new("a date range needs both 'from' and 'to'"),
            ),
            (None, None, None, None, Some(_)) => {
                Err(ValueError::new("'part' needs a 'month' to belong to"))
            }
            _ => Err(ValueError::new(
                "a planned date is exactly one of {\"day\"}, {\"from\", \"to\"}, {\"month\"} or {\"month\", \"part\"}",
            )),
        }
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
}
