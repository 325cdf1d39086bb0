//! Values written as people in Poland read them, for the pages: dates as `27 czerwca 2022 r.`,
//! instants in Europe/Warsaw as `23 czerwca 2022 r., 11:00`, planned dates as `połowa lipca
//! 2022`, institution types, term and application statuses in words.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Warsaw;
use domain::study_visit::{ApplicationStatus, BasisRule, RosterEntry, TermStatus};
use domain::values::{InstitutionType, MonthPart, PlannedDate};

/// Months in the genitive, as a date is written ("27 czerwca").
const GENITIVE: [&str; 12] = [
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

/// Months in the nominative, as a month alone is named ("lipiec 2022").
const NOMINATIVE: [&str; 12] = [
    "styczeń",
    "luty",
    "marzec",
    "kwiecień",
    "maj",
    "czerwiec",
    "lipiec",
    "sierpień",
    "wrzesień",
    "październik",
    "listopad",
    "grudzień",
];

fn genitive(month: u32) -> &'static str {
    GENITIVE[(month.clamp(1, 12) - 1) as usize]
}

/// `27 czerwca 2022 r.`
pub fn date(d: NaiveDate) -> String {
    format!("{} {} {} r.", d.day(), genitive(d.month()), d.year())
}

/// The calendar day of `at` in Europe/Warsaw (what a document issued then is dated).
pub fn warsaw_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Warsaw).date_naive()
}

/// `23 czerwca 2022 r., 11:00` (Europe/Warsaw).
pub fn instant(at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&Warsaw);
    format!("{}, {}", date(local.date_naive()), local.format("%H:%M"))
}

/// The days of a term: `27–28 czerwca 2022 r.`, `30 czerwca – 1 lipca 2022 r.`, or one day.
pub fn days(from: NaiveDate, to: NaiveDate) -> String {
    if from == to {
        date(from)
    } else if (from.year(), from.month()) == (to.year(), to.month()) {
        format!(
            "{}–{} {} {} r.",
            from.day(),
            to.day(),
            genitive(to.month()),
            to.year()
        )
    } else if from.year() == to.year() {
        format!(
            "{} {} – {} {} {} r.",
            from.day(),
            genitive(from.month()),
            to.day(),
            genitive(to.month()),
            to.year()
        )
    } else {
        format!("{} – {}", date(from), date(to))
    }
}

/// A planned date at its precision: `7 lutego 2020 r.`, `7–8 maja 2020 r.`, `luty 2020`,
/// `połowa lipca 2022`.
pub fn planned(p: &PlannedDate) -> String {
    match *p {
        PlannedDate::Day(d) => date(d),
        PlannedDate::Range(r) => days(r.from(), r.to()),
        PlannedDate::Month(m) => format!(
            "{} {}",
            NOMINATIVE[(m.month().clamp(1, 12) - 1) as usize],
            m.year()
        ),
        PlannedDate::PartOfMonth(m, part) => {
            let part = match part {
                MonthPart::Early => "początek",
                MonthPart::Mid => "połowa",
                MonthPart::Late => "koniec",
            };
            format!("{part} {} {}", genitive(m.month()), m.year())
        }
    }
}

/// What an institution type is called.
pub fn institution_type(t: InstitutionType) -> &'static str {
    match t {
        InstitutionType::JST => "jednostka samorządu terytorialnego (JST)",
        InstitutionType::JOPS => "jednostka organizacyjna pomocy społecznej (JOPS)",
        InstitutionType::OWES => "ośrodek wsparcia ekonomii społecznej (OWES)",
        InstitutionType::PES => "podmiot ekonomii społecznej (PES)",
        InstitutionType::CIS => "centrum integracji społecznej (CIS)",
        InstitutionType::KIS => "klub integracji społecznej (KIS)",
        InstitutionType::ZAZ => "zakład aktywności zawodowej (ZAZ)",
        InstitutionType::WTZ => "warsztat terapii zajęciowej (WTZ)",
        InstitutionType::NGO => "organizacja pozarządowa (NGO)",
        InstitutionType::OTHER => "inna instytucja",
    }
}

/// Where a term's recruitment stands, in words.
pub fn term_status(s: TermStatus) -> &'static str {
    match s {
        TermStatus::Planned => "termin planowany, daty nieustalone",
        TermStatus::Scheduled => "rekrutacja jeszcze nie otwarta",
        TermStatus::Open => "rekrutacja otwarta",
        TermStatus::Closed => "rekrutacja zakończona",
        TermStatus::Cancelled => "termin odwołany",
    }
}

/// The days of a term, or what is planned ("planowany: połowa lipca 2022").
pub fn term_when(t: &projections::study_visits::read::Term) -> String {
    match (t.starts_on, t.ends_on, &t.planned) {
        (Some(from), Some(to), _) => days(from, to),
        (_, _, Some(p)) => format!("planowany: {}", planned(p)),
        _ => "daty do ustalenia".to_owned(),
    }
}

/// An application's status as its applicant reads it (PAGES.md).
pub fn application_status(s: ApplicationStatus, waitlist_position: Option<u32>) -> String {
    match s {
        ApplicationStatus::Submitted => "złożone".to_owned(),
        ApplicationStatus::Allocated => "zakwalifikowany".to_owned(),
        ApplicationStatus::Waitlisted => match waitlist_position {
            Some(n) => format!("lista rezerwowa, miejsce {n}"),
            None => "lista rezerwowa".to_owned(),
        },
        ApplicationStatus::PassedOver => "pominięty — limit osób z instytucji".to_owned(),
        ApplicationStatus::Withdrawn => "wycofane".to_owned(),
        ApplicationStatus::Released => "miejsce zwolnione".to_owned(),
        // The page adds "do …" with the offer's expiry.
        ApplicationStatus::Offered => "oferta miejsca".to_owned(),
    }
}

/// The basis of a roster decision in Polish, for the console's lists (the recorded sentence
/// is English, for the API): the rule, the preferences met by their labels (`label_of`), and
/// for a decision by hand who took it and why.
pub fn basis(e: &RosterEntry, label_of: impl Fn(&str) -> String) -> String {
    let what = match e.rule {
        BasisRule::AllWithinSeats => "miejsce: zgłoszeń nie więcej niż miejsc".to_owned(),
        BasisRule::RankOrder => "miejsce według kolejności w rankingu".to_owned(),
        BasisRule::CapFill => {
            "miejsce pozostałe po przejściu listy, przyznane mimo limitu instytucji".to_owned()
        }
        BasisRule::Waitlist => "lista rezerwowa: zabrakło miejsc w kolejności rankingu".to_owned(),
        BasisRule::InstitutionCap => "pominięte: instytucja ma już limit miejsc".to_owned(),
        BasisRule::PromotionBelowCap => {
            "awans na zwolnione miejsce: pierwsza osoba w kolejce poniżej limitu instytucji"
                .to_owned()
        }
        BasisRule::PromotionFirstInLine => {
            "awans na zwolnione miejsce: pierwsza osoba w kolejce".to_owned()
        }
        BasisRule::Manual => format!(
            "miejsce przyznane poza kolejnością przez {}: {}",
            e.decided_by.as_deref().unwrap_or("(nie wiadomo kogo)"),
            e.reason.as_deref().unwrap_or("(bez powodu)")
        ),
    };
    let prefs = if e.preferences_met.is_empty() {
        "bez spełnionych preferencji".to_owned()
    } else {
        let labels: Vec<String> = e
            .preferences_met
            .iter()
            .map(|c| label_of(c.as_str()))
            .collect();
        format!("spełnione preferencje: {}", labels.join("; "))
    };
    format!("{what} ({prefs})")
}

/// "1 znak", "4 znaki", "12 znaków", "22 znaki": the Polish plural of a count.
pub fn plural<'a>(n: u64, one: &'a str, few: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else if (2..=4).contains(&(n % 10)) && !(12..=14).contains(&(n % 100)) {
        few
    } else {
        many
    }
}

/// The EU funding line as one sentence.
pub fn funding_line(f: &domain::study_visit::Funding) -> Option<String> {
    let parts: Vec<String> = [
        (&f.project, ""),
        (&f.programme, ""),
        (&f.priority_axis, "oś priorytetowa "),
        (&f.measure, "działanie "),
        (&f.sub_measure, "poddziałanie "),
    ]
    .into_iter()
    .filter(|(v, _)| !v.trim().is_empty())
    .map(|(v, prefix)| format!("{prefix}{}", v.trim()))
    .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "Projekt współfinansowany ze środków Unii Europejskiej: {}.",
            parts.join(", ")
        )
    })
}

/// An activity kind as Polish documents name it.
pub fn activity_kind(k: domain::cooperation_program::ActivityKind) -> &'static str {
    use domain::cooperation_program::ActivityKind as K;
    match k {
        K::Consultation => "konsultacje",
        K::Forum => "forum",
        K::StudyVisit => "wizyta studyjna",
        K::Training => "szkolenie",
        K::Conference => "konferencja",
        K::Meeting => "spotkanie",
        K::CommitteeSitting => "posiedzenie komitetu lub zespołu",
        K::MonitoringMeeting => "spotkanie monitoringowe",
        K::Publication => "publikacja",
        K::Gala => "gala",
        K::Other => "inne",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date")
    }

    #[test]
    fn dates_read_as_people_write_them() {
        assert_eq!(date(d("2022-06-27")), "27 czerwca 2022 r.");
        let deadline = DateTime::parse_from_rfc3339("2022-06-23T09:00:00Z")
            .expect("an instant")
            .with_timezone(&Utc);
        assert_eq!(instant(deadline), "23 czerwca 2022 r., 11:00");
        assert_eq!(
            days(d("2022-06-27"), d("2022-06-28")),
            "27–28 czerwca 2022 r."
        );
        assert_eq!(
            days(d("2022-06-30"), d("2022-07-01")),
            "30 czerwca – 1 lipca 2022 r."
        );
        let planned_mid: PlannedDate =
            serde_json::from_str(r#"{"month": "2022-07", "part": "mid"}"#).expect("planned");
        assert_eq!(planned(&planned_mid), "połowa lipca 2022");
        let month: PlannedDate = serde_json::from_str(r#"{"month": "2020-02"}"#).expect("month");
        assert_eq!(planned(&month), "luty 2020");
    }
}
