//! Attendance by day (DOMAIN.md, "Attendance by day"): a term lasts one or more days and
//! presence is recorded per person per day. A record without a day (the request every client
//! sent before days existed, and every `AttendanceRecorded` of version 1) stands for every
//! day of the term; a later record for one day overrides it for that day only.
//!
//! The value keeps what was recorded, not the term's days: a closed term's dates can no
//! longer change, so the days present are worked out when asked, from the term's dates.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::commands::TermDates;

/// What was recorded about one person's presence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendance {
    /// The last record made for every day at once (None: never).
    #[serde(default)]
    pub every_day: Option<bool>,
    /// Records for single days made after it (a record for every day clears them).
    #[serde(default)]
    pub days: BTreeMap<NaiveDate, bool>,
}

impl Attendance {
    /// Records presence on `day`, or on every day when `day` is None.
    pub fn record(&mut self, day: Option<NaiveDate>, attended: bool) {
        match day {
            None => {
                self.every_day = Some(attended);
                self.days.clear();
            }
            Some(day) => {
                self.days.insert(day, attended);
            }
        }
    }

    /// Whether anything was recorded at all.
    pub fn is_recorded(&self) -> bool {
        self.every_day.is_some() || !self.days.is_empty()
    }

    /// Present on `day`: the record for that day, else the record for every day.
    pub fn present_on(&self, day: NaiveDate) -> Option<bool> {
        self.days.get(&day).copied().or(self.every_day)
    }

    /// The days of a term lasting `first` to `last` on which the person was present, in
    /// order.
    pub fn days_present(&self, first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
        days(first, last)
            .filter(|d| self.present_on(*d) == Some(true))
            .collect()
    }

    /// "Attended" as reporting means it: None before any record, then whether the person
    /// was present on at least one day of the term lasting `first` to `last`.
    pub fn attended(&self, first: NaiveDate, last: NaiveDate) -> Option<bool> {
        self.is_recorded()
            .then(|| days(first, last).any(|d| self.present_on(d) == Some(true)))
    }

    /// The days of a term lasting `first` to `last` on which the person was recorded
    /// absent, in order (a day in neither list was not recorded).
    pub fn days_absent(&self, first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
        days(first, last)
            .filter(|d| self.present_on(*d) == Some(false))
            .collect()
    }

    /// [`Self::days_present`] of a dated term.
    pub fn days_present_in(&self, dates: &TermDates) -> Vec<NaiveDate> {
        self.days_present(dates.starts_on, dates.ends_on)
    }

    /// [`Self::attended`] of a dated term.
    pub fn attended_in(&self, dates: &TermDates) -> Option<bool> {
        self.attended(dates.starts_on, dates.ends_on)
    }
}

/// Every day from `first` to `last`, both included.
pub fn days(first: NaiveDate, last: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    first.iter_days().take_while(move |d| *d <= last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn two_days() -> TermDates {
        TermDates {
            starts_on: NaiveDate::from_ymd_opt(2027, 5, 27).expect("date"),
            ends_on: NaiveDate::from_ymd_opt(2027, 5, 28).expect("date"),
            recruitment_deadline: Utc.with_ymd_and_hms(2027, 5, 1, 10, 0, 0).unwrap(),
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 5, d).expect("date")
    }

    #[test]
    fn nothing_recorded_is_neither_present_nor_absent() {
        let a = Attendance::default();
        assert_eq!(a.attended_in(&two_days()), None);
        assert!(a.days_present_in(&two_days()).is_empty());
    }

    #[test]
    fn a_record_without_a_day_covers_every_day() {
        let mut a = Attendance::default();
        a.record(None, true);
        assert_eq!(a.days_present_in(&two_days()), vec![day(27), day(28)]);
        assert_eq!(a.attended_in(&two_days()), Some(true));
    }

    #[test]
    fn a_day_overrides_every_day_and_every_day_overrides_the_days() {
        let mut a = Attendance::default();
        a.record(None, true);
        a.record(Some(day(28)), false);
        assert_eq!(a.days_present_in(&two_days()), vec![day(27)]);
        a.record(Some(day(27)), false);
        assert_eq!(a.attended_in(&two_days()), Some(false));
        a.record(None, true);
        assert_eq!(a.days_present_in(&two_days()), vec![day(27), day(28)]);
    }

    #[test]
    fn one_day_present_is_attended() {
        let mut a = Attendance::default();
        a.record(Some(day(28)), true);
        assert_eq!(a.days_present_in(&two_days()), vec![day(28)]);
        assert_eq!(a.attended_in(&two_days()), Some(true));
    }

    #[test]
    fn days_include_both_ends() {
        assert_eq!(days(day(27), day(28)).count(), 2);
    }
}
