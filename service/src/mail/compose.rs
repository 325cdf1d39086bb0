//! The mails in Polish: subject, plain text and HTML from one list of paragraphs (so the two
//! never say different things), and the term as an `.ics` for those with a seat. What a mail
//! says comes from its outbox row's facts (titles, dates, a position: nothing personal) and
//! from the person's data, read only now, when it is sent.

use chrono::{DateTime, NaiveDate, Utc};
use domain::values::PlannedDate;
use icalendar::{Calendar, Component, EventLike};
use infra::outbox::Mail;
use infra::personal_data::PersonRecord;
use serde_json::Value;

use super::notify::kind;
use crate::http::polish;

/// A mail ready to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Letter {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The term as an iCalendar file, for mails about a seat.
    pub ics: Option<String>,
}

/// What a row's facts say (absent facts read as empty: a mail is still sent).
struct Facts<'a>(&'a Value);

impl Facts<'_> {
    fn text(&self, key: &str) -> String {
        self.0
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    fn date(&self, key: &str) -> Option<NaiveDate> {
        self.0
            .get(key)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    fn instant(&self, key: &str) -> Option<DateTime<Utc>> {
        self.0
            .get(key)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    fn number(&self, key: &str) -> Option<u64> {
        self.0.get(key).and_then(Value::as_u64)
    }

    /// "II termin: 16–17 grudnia 2026 r." or the planned date.
    fn term(&self) -> String {
        let when = match (self.date("starts_on"), self.date("ends_on")) {
            (Some(from), Some(to)) => polish::days(from, to),
            _ => self
                .0
                .get("planned")
                .and_then(|p| serde_json::from_value::<PlannedDate>(p.clone()).ok())
                .map(|p| format!("planowany: {}", polish::planned(&p)))
                .unwrap_or_default(),
        };
        format!("{}: {when}", self.text("term_label"))
    }
}

/// The mail for `mail` to `person`; `link` is the applicant's own page, when the site's
/// public address is known; `organization` signs it.
pub fn compose(
    mail: &Mail,
    person: &PersonRecord,
    link: Option<&str>,
    organization: &str,
) -> Letter {
    let f = Facts(&mail.facts);
    let visit = f.text("visit_title");
    let term = f.term();
    let mut paragraphs = vec![format!(
        "Dzień dobry {} {},",
        person.first_name, person.last_name
    )];
    let (subject, ics) = match mail.kind.as_str() {
        kind::RECEIVED => {
            paragraphs.push(format!(
                "przyjęliśmy Twoje zgłoszenie na wizytę studyjną „{visit}”, {term}, jako przedstawicielki lub przedstawiciela instytucji {}.",
                f.text("institution")
            ));
            if let Some(deadline) = f.instant("deadline") {
                paragraphs.push(format!(
                    "Zgłoszenia przyjmujemy do {}. Po tym terminie napiszemy, czy masz miejsce.",
                    polish::instant(deadline)
                ));
            }
            (format!("Zgłoszenie przyjęte: {visit}"), false)
        }
        kind::QUALIFIED => {
            paragraphs.push(format!(
                "masz miejsce na wizycie studyjnej „{visit}”, {term}. W załączniku jest termin do dodania do kalendarza."
            ));
            paragraphs.push("Jeśli nie możesz pojechać, wycofaj zgłoszenie jak najszybciej: miejsce dostanie kolejna osoba z listy rezerwowej.".to_owned());
            (format!("Masz miejsce: {visit}"), true)
        }
        kind::WAITLISTED => {
            let position = f
                .number("waitlist_position")
                .map(|p| format!(" na miejscu {p}"))
                .unwrap_or_default();
            paragraphs.push(format!(
                "na wizycie studyjnej „{visit}”, {term}, zabrakło miejsc. Jesteś na liście rezerwowej{position}: gdy ktoś zrezygnuje, miejsce dostanie pierwsza osoba z listy, a my napiszemy do Ciebie."
            ));
            (format!("Lista rezerwowa: {visit}"), false)
        }
        kind::PASSED_OVER => {
            let cap = f
                .number("max_per_institution")
                .map(|n| format!(" (najwyżej {n} z jednej instytucji)"))
                .unwrap_or_default();
            paragraphs.push(format!(
                "na wizycie studyjnej „{visit}”, {term}, Twoja instytucja ma już tyle miejsc, ile organizator przewidział dla jednej instytucji{cap}. Twoje zgłoszenie czeka za listą rezerwową: jeśli zwolni się miejsce, którego nie zajmie nikt z listy, może trafić do Ciebie."
            ));
            (format!("Limit osób z instytucji: {visit}"), false)
        }
        kind::TERM_CANCELLED => {
            paragraphs.push(format!(
                "organizator odwołał termin wizyty studyjnej „{visit}”, {term}. Powód: {}.",
                f.text("reason").trim_end_matches('.')
            ));
            paragraphs
                .push("Sprawdź inne terminy tej wizyty albo zapytaj organizatora.".to_owned());
            (format!("Termin odwołany: {visit}"), false)
        }
        kind::REMINDER => {
            paragraphs.push(format!(
                "przypominamy o wizycie studyjnej „{visit}”, {term}, na której masz miejsce. W załączniku jest termin do kalendarza."
            ));
            paragraphs.push(
                "Jeśli nie możesz pojechać, wycofaj zgłoszenie: miejsce dostanie ktoś z listy rezerwowej."
                    .to_owned(),
            );
            (format!("Przypomnienie: {visit}"), true)
        }
        kind::SEAT_OFFERED => {
            let until = f
                .instant("offer_expires_at")
                .map(polish::instant)
                .unwrap_or_default();
            paragraphs.push(format!(
                "zwolniło się miejsce na wizycie studyjnej „{visit}”, {term}, i jest ono Twoje, jeśli je przyjmiesz do {until}. Przyjmij je albo odrzuć na swojej stronie zgłoszenia; bez odpowiedzi miejsce przejdzie do kolejnej osoby z listy rezerwowej, a Ty zostaniesz na liście."
            ));
            (format!("Oferta miejsca do {until}: {visit}"), false)
        }
        kind::OFFER_LAPSED => {
            paragraphs.push(format!(
                "czas na przyjęcie miejsca na wizycie studyjnej „{visit}”, {term}, minął, więc miejsce przeszło do kolejnej osoby. Twoje zgłoszenie nadal czeka na liście: jeśli zwolni się kolejne miejsce, możesz je dostać."
            ));
            (format!("Oferta miejsca wygasła: {visit}"), false)
        }
        other => {
            paragraphs.push(format!("wiadomość w sprawie wizyty „{visit}” ({other})."));
            (format!("Wizyta studyjna: {visit}"), false)
        }
    };
    if let Some(link) = link {
        paragraphs.push(format!(
            "Swoje zgłoszenie sprawdzisz i wycofasz na swojej stronie: {link}"
        ));
    }
    paragraphs.push(format!("Pozdrawiamy\n{organization}"));
    let text = paragraphs.join("\n\n") + "\n";
    let html = html(&subject, &paragraphs, link);
    let ics = if ics {
        term_ics(mail, &f, &visit)
    } else {
        None
    };
    Letter {
        subject,
        text,
        html,
        ics,
    }
}

/// Escapes text for HTML (the five characters that matter in content and attributes).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML part: the same paragraphs, the link clickable.
fn html(subject: &str, paragraphs: &[String], link: Option<&str>) -> String {
    let body: String = paragraphs
        .iter()
        .map(|p| {
            let mut escaped = escape(p).replace('\n', "<br>");
            if let Some(link) = link {
                let link = escape(link);
                escaped = escaped.replace(&link, &format!("<a href=\"{link}\">{link}</a>"));
            }
            format!("<p>{escaped}</p>\n")
        })
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"pl\">\n<head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{body}</body>\n</html>\n",
        escape(subject)
    )
}

/// The term as an all-day iCalendar event (dates only: the programme of the day is the
/// organizer's), with a UID stable per term.
fn term_ics(mail: &Mail, f: &Facts, visit: &str) -> Option<String> {
    let (from, to) = (f.date("starts_on")?, f.date("ends_on")?);
    let mut event = icalendar::Event::new();
    event
        .uid(&format!("{}@koordynator", mail.term_id))
        .summary(visit)
        .location(&f.text("destination"))
        .all_day(from)
        .ends(icalendar::DatePerhapsTime::Date(to.succ_opt()?));
    Some(Calendar::new().push(event.done()).done().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    fn mail(kind: &str, facts: Value) -> Mail {
        Mail {
            mail_id: Uuid::nil(),
            organizer: "rops-torun".into(),
            kind: kind.into(),
            application_id: Uuid::nil(),
            visit_id: Uuid::nil(),
            term_id: Uuid::from_u128(7),
            facts,
            status: "pending".into(),
            due_at: Utc::now(),
            attempts: 0,
            last_error: None,
            created_at: Utc::now(),
            sent_at: None,
        }
    }

    fn person() -> PersonRecord {
        PersonRecord {
            first_name: "Zofia".into(),
            last_name: "Wiśniewska <b>".into(),
            email: "zofia@example.org".into(),
            phone: None,
            job_title: None,
        }
    }

    fn facts() -> Value {
        json!({"visit_title": "Wizyta w Poznaniu", "destination": "Poznań", "term_label": "I termin",
               "starts_on": "2022-06-27", "ends_on": "2022-06-28",
               "deadline": "2022-06-23T09:00:00Z", "waitlist_position": 3})
    }

    #[test]
    fn a_seat_comes_with_the_term_in_a_calendar_and_names_in_html_are_escaped() {
        let l = compose(
            &mail(kind::QUALIFIED, facts()),
            &person(),
            Some("https://wizyty.example/zgloszenia/a/b"),
            "ROPS",
        );
        assert_eq!(l.subject, "Masz miejsce: Wizyta w Poznaniu");
        assert!(l.text.contains("27–28 czerwca 2022 r."), "{}", l.text);
        assert!(l.html.contains("Wiśniewska &lt;b&gt;"), "{}", l.html);
        assert!(l
            .html
            .contains("<a href=\"https://wizyty.example/zgloszenia/a/b\">"));
        let ics = l.ics.expect("an ics");
        assert!(ics.contains("DTSTART;VALUE=DATE:20220627"), "{ics}");
        assert!(ics.contains("DTEND;VALUE=DATE:20220629"), "{ics}");
    }

    #[test]
    fn the_waiting_list_says_the_position_and_the_deadline_is_polish() {
        let l = compose(&mail(kind::WAITLISTED, facts()), &person(), None, "ROPS");
        assert!(l.text.contains("na miejscu 3"), "{}", l.text);
        let l = compose(&mail(kind::RECEIVED, facts()), &person(), None, "ROPS");
        assert!(l.text.contains("23 czerwca 2022 r., 11:00"), "{}", l.text);
        assert!(l.ics.is_none());
    }
}
