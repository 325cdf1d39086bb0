//! Messages for people in Polish: every field error and every refusal the service can give,
//! from one catalogue keyed by their stable codes, used by the pages (through [`field_pl`]
//! and [`refusal_pl`]) and by the JSON API when a client asks for Polish
//! (`Accept-Language: pl`, through [`localize`]).
//!
//! Why keyed by code: the English sentences are the API's default answer and stay as they
//! are; a code never changes with the wording, so the Polish is written once per reason, in
//! the words Polish public bodies use, and says how to fix the input where there is input to
//! fix (PAGES.md: "NIP ma 10 cyfr — sprawdź, czy nie brakuje cyfry"). The voice is the
//! GOV.UK-Polish one: an instruction in the imperative ("Wpisz…", "Podaj…", "Wybierz…"),
//! and an impersonal statement for a refusal ("Nabór na ten termin nie jest otwarty.").
//!
//! The values a sentence shows (the deadline, the NIP, the dates of a window) are read from
//! the English sentence the code came with, which is written by the domain in fixed forms:
//! dates `YYYY-MM-DD`, instants `YYYY-MM-DD HH:MM (Europe/Warsaw)` or RFC 3339, NIPs after
//! "NIP ", codes in single quotes. They are shown as Polish people write them
//! ("23 czerwca 2022 r., 11:00"). A sentence whose value is not found says the same without
//! it; a code the catalogue does not know still gets a Polish sentence (never the English),
//! and the tests below fail on any code of the domain or of the service without its own.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{ACCEPT_LANGUAGE, CONTENT_LANGUAGE, CONTENT_LENGTH, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

use crate::http::polish::plural;
use crate::http::problem::FieldError;

/// The codes the service gives of its own, beside the domain's (`domain::error::CODES`,
/// `domain::values::CODES`): field errors found at the HTTP boundary (serde's refusals,
/// query parameters, headers, the schedule import) and the problem types of refusals that
/// are not the domain's. Sorted; every one has its Polish sentence.
pub const SERVICE_CODES: &[&str] = &[
    "aggregate_type_unknown",
    "bad_request",
    "duplicate_field",
    "forbidden",
    "format_unknown",
    "idempotency_answer_lost",
    "idempotency_in_progress",
    "idempotency_key_characters",
    "idempotency_key_length",
    "idempotency_key_reused",
    "instant_format",
    "internal",
    "invalid_id",
    "invalid_input",
    "invalid_json",
    "invalid_length",
    "invalid_value",
    "method_not_allowed",
    "missing_field",
    "negative_number",
    "not_found",
    "not_present",
    "nul_character",
    "one_subject",
    "payload_too_large",
    "personal_data_erased",
    "planned_or_dates",
    "preference_kind_unknown",
    "range_empty",
    "request_timeout",
    "roster_provisional",
    "schedule_empty",
    "schedule_header",
    "schedule_row_invalid",
    "schedule_row_unreadable",
    "service_unavailable",
    "too_many_requests",
    "unauthorized",
    "unavailable",
    "unknown_field",
    "unknown_variant",
    "unsupported_media_type",
    "wrong_type",
];

/// The Polish message for a field error: what is wrong and how to fix it.
pub fn field_pl(e: &FieldError) -> String {
    catalogue(&e.code, &e.field, e.limit, &e.message)
        .map_or_else(|| "Popraw wartość tego pola.".to_owned(), tidy)
}

/// The Polish sentence for a refusal with `code` (a domain rule's, e.g. `deadline_passed`,
/// or the API's, e.g. `unauthorized`); `detail` is the English sentence it came with, from
/// which the values it names (the deadline, dates, a NIP) are taken.
pub fn refusal_pl(code: &str, detail: &str) -> String {
    catalogue(code, "", None, detail)
        .map_or_else(|| "Nie można wykonać tego polecenia.".to_owned(), tidy)
}

/// One full stop where a sentence ends on a date ("… 20 października 2013 r.").
fn tidy(text: String) -> String {
    match text.strip_suffix("r..") {
        Some(head) => format!("{head}r."),
        None => text,
    }
}

/// The Polish reason phrase of an HTTP status, for a problem's `title`.
pub fn title_pl(status: u16) -> &'static str {
    match status {
        400 => "Nieprawidłowe żądanie",
        401 => "Brak uwierzytelnienia",
        403 => "Brak uprawnień",
        404 => "Nie znaleziono",
        405 => "Niedozwolona metoda",
        406 => "Niedostępny format odpowiedzi",
        408 => "Przekroczony czas żądania",
        409 => "Konflikt",
        411 => "Wymagana długość treści",
        413 => "Zbyt duża treść żądania",
        414 => "Zbyt długi adres",
        415 => "Nieobsługiwany typ treści",
        422 => "Nieprawidłowe dane",
        429 => "Zbyt wiele żądań",
        431 => "Zbyt duże nagłówki żądania",
        500 => "Błąd wewnętrzny serwera",
        502 => "Błąd bramy",
        503 => "Usługa niedostępna",
        504 => "Przekroczony czas odpowiedzi",
        _ if (400..500).contains(&status) => "Błąd żądania",
        _ => "Błąd serwera",
    }
}

/// A day as Polish people write it: "23 czerwca 2022 r." (`crate::http::polish`).
pub fn polish_date(d: NaiveDate) -> String {
    crate::http::polish::date(d)
}

/// An instant as Polish people read it, in Europe/Warsaw: "23 czerwca 2022 r., 11:00".
pub fn polish_instant(at: DateTime<Utc>) -> String {
    crate::http::polish::instant(at)
}

/// A local time in Warsaw as Polish people read it.
fn polish_local(t: NaiveDateTime) -> String {
    format!("{}, {}", polish_date(t.date()), t.format("%H:%M"))
}

// ---------------------------------------------------------------------------------------
// Values named in the English sentences.
// ---------------------------------------------------------------------------------------

/// What an English sentence names, each in Polish form, in the order written.
#[derive(Debug, Default)]
struct Values {
    /// Dates and instants: "23 czerwca 2022 r." / "23 czerwca 2022 r., 11:00".
    dates: Vec<String>,
    /// Values the sentence quotes ('2024-01', 'cus_declared').
    quoted: Vec<String>,
    /// The NIP it names ("NIP 9562307984").
    nip: Option<String>,
    /// Whole numbers outside dates (bounds: "between 1 and 1000").
    numbers: Vec<u64>,
}

impl Values {
    fn of(english: &str) -> Self {
        let mut v = Values::default();
        let bytes = english.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let starts_word = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
            if starts_word && bytes[i].is_ascii_digit() {
                if let Some((text, len)) = date_at(&english[i..]) {
                    v.dates.push(text);
                    i += len;
                    continue;
                }
                let len = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
                let digits = &english[i..i + len];
                if len == 10 && english[..i].ends_with("NIP ") {
                    v.nip = Some(digits.to_owned());
                } else if let Ok(n) = digits.parse() {
                    v.numbers.push(n);
                }
                i += len;
                continue;
            }
            if starts_word && bytes[i] == b'\'' {
                let rest = &english[i + 1..];
                let end = rest.char_indices().find(|&(j, c)| {
                    c == '\''
                        && !rest[j + 1..]
                            .chars()
                            .next()
                            .is_some_and(|n| n.is_alphanumeric())
                });
                if let Some((j, _)) = end {
                    v.quoted.push(rest[..j].to_owned());
                    i += j + 2;
                    continue;
                }
            }
            i += 1;
        }
        v
    }

    fn date(&self, n: usize) -> Option<&str> {
        self.dates.get(n).map(String::as_str)
    }

    fn last_date(&self) -> Option<&str> {
        self.dates.last().map(String::as_str)
    }
}

/// A date or instant starting `s` in one of the domain's forms, in Polish, and its length.
fn date_at(s: &str) -> Option<(String, usize)> {
    let day = NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()?;
    let rest = &s[10..];
    // "2022-06-23 11:00 (Europe/Warsaw)": the domain's Warsaw time.
    const WARSAW: &str = " (Europe/Warsaw)";
    if let Some(time) = rest.get(..6).filter(|t| t.starts_with(' ')) {
        if rest[6..].starts_with(WARSAW) {
            if let Ok(t) = chrono::NaiveTime::parse_from_str(&time[1..], "%H:%M") {
                return Some((polish_local(day.and_time(t)), 10 + 6 + WARSAW.len()));
            }
        }
    }
    // "2022-06-23T11:00:00+02:00": RFC 3339, shown in Warsaw time.
    if rest.starts_with('T') {
        let len = s
            .char_indices()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '+' | '.')))
            .map_or(s.len(), |(j, _)| j);
        let token = s[..len].trim_end_matches('.');
        if let Ok(at) = DateTime::parse_from_rfc3339(token) {
            return Some((polish_instant(at.with_timezone(&Utc)), token.len()));
        }
    }
    Some((polish_date(day), 10))
}

/// The institution types listed after `marker` up to `end` (or the sentence's end), in the
/// API's spelling ("JST, JOPS, PES").
fn types_after(english: &str, marker: &str, end: &str) -> Option<String> {
    let rest = english.split_once(marker)?.1;
    let list = rest.split(end).next().unwrap_or(rest);
    let types: Vec<&str> = list
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| domain::values::InstitutionType::parse(w).is_ok())
        .collect();
    (!types.is_empty()).then(|| {
        let mut text = join_or(&types, "i");
        if types.contains(&"PES") {
            text.push_str(" (PES obejmuje też CIS, KIS, ZAZ, WTZ i NGO)");
        }
        text
    })
}

/// "a, b i c" (or "a, b lub c").
fn join_or(items: &[&str], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

/// A number as Polish prints it: "10 000", "1 000 000" (four digits stay together).
fn number(n: u64) -> String {
    let digits = n.to_string();
    if digits.len() <= 4 {
        return digits;
    }
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The last segment of a field path, without indices: `preferences[1].code` → `code`.
fn leaf(field: &str) -> &str {
    let last = field.rsplit('.').next().unwrap_or(field);
    last.split('[').next().unwrap_or(last)
}

/// How a text field is named: (to say "Wpisz …", to start a sentence). Pages name fields by
/// their form names (`institution_name`), the API by paths (`institution.name`).
fn label(field: &str) -> Option<(&'static str, &'static str)> {
    if matches!(field, "institution.name" | "institution_name")
        || field.ends_with(".institution.name")
    {
        return Some(("nazwę instytucji", "Nazwa instytucji"));
    }
    Some(match leaf(field) {
        "first_name" => ("imię", "Imię"),
        "last_name" => ("nazwisko", "Nazwisko"),
        "phone" => ("numer telefonu", "Numer telefonu"),
        "job_title" => ("stanowisko", "Stanowisko"),
        "name" | "label" => ("nazwę", "Nazwa"),
        "title" => ("tytuł", "Tytuł"),
        "reason" => ("powód", "Powód"),
        "destination" => ("miejsce wizyty", "Miejsce wizyty"),
        "location" => ("miejsce", "Miejsce"),
        "region" => ("region", "Region"),
        "subject" => ("temat", "Temat"),
        "summary" => ("podsumowanie", "Podsumowanie"),
        "text" => ("treść", "Treść"),
        "description" => ("opis", "Opis"),
        _ => return None,
    })
}

/// The counting date of an application card, by its field name, in Polish: (as the subject
/// of a sentence, as its object).
fn card_date(field: &str) -> Option<(&'static str, &'static str)> {
    match field {
        "sent_on" => Some(("data wysłania", "datę wysłania karty")),
        "postmarked_on" => Some(("data stempla pocztowego", "datę stempla pocztowego")),
        "delivered_on" => Some(("data doręczenia", "datę doręczenia karty")),
        _ => None,
    }
}

/// The columns of the schedule import named in `english` ("date: …; title: …"), in Polish,
/// each with what to write.
fn schedule_columns(english: &str) -> Vec<&'static str> {
    let mut columns = Vec::new();
    for part in english.split("; ") {
        let column = match part.split(':').next().unwrap_or_default() {
            "date" => "datę (np. 7.02.2020, 7-8.05.2020, Luty 2020 lub Koniec września 2020)",
            "title" => "tytuł (wymagany, najwyżej 500 znaków)",
            "kind" => {
                "rodzaj działania (np. training, meeting, conference; puste pole oznacza other)"
            }
            "location" => "miejsce (najwyżej 500 znaków)",
            "co_organizer" => "współorganizatora (najwyżej 500 znaków)",
            _ => continue,
        };
        if !columns.contains(&column) {
            columns.push(column);
        }
    }
    columns
}

/// The Polish sentence for `code`: `field` is the field's path (empty for a refusal),
/// `limit` its bound, `english` the sentence the code came with (for the values it names).
/// None for a code the catalogue does not know.
fn catalogue(code: &str, field: &str, limit: Option<usize>, english: &str) -> Option<String> {
    let v = Values::of(english);
    let fixed = |s: &str| Some(s.to_owned());
    let with = |value: Option<&str>, make: &dyn Fn(&str) -> String, without: &str| {
        Some(value.map_or_else(|| without.to_owned(), make))
    };
    match code {
        // --- Invalid values (domain::values::CODES) --------------------------------------
        "activity_kind_unknown" => fixed(
            "Wybierz rodzaj działania: consultation (konsultacje), forum, study_visit (wizyta studyjna), training (szkolenie), conference (konferencja), meeting (spotkanie), committee_sitting (posiedzenie komisji), monitoring_meeting (spotkanie monitorujące), publication (publikacja), gala lub other (inne).",
        ),
        "channel_unknown" => fixed(
            "Wybierz sposób przekazania karty: email (pocztą elektroniczną), post (pocztą) lub in_person (osobiście).",
        ),
        "date_format" => fixed("Wpisz datę w formacie RRRR-MM-DD, np. 2022-06-23."),
        "date_range_incomplete" => fixed("Podaj obie daty zakresu: początkową (from) i końcową (to)."),
        "date_range_reversed" => fixed(
            "Data końcowa zakresu nie może być wcześniejsza niż początkowa — popraw jedną z nich.",
        ),
        "email_at_sign" => fixed(
            "Adres e-mail musi zawierać dokładnie jeden znak @, np. jan.kowalski@gmina.pl.",
        ),
        "email_domain" => fixed("Po znaku @ wpisz domenę z kropką, np. gmina.pl."),
        "email_empty" => fixed("Wpisz adres e-mail."),
        "email_local_part" => fixed(
            "Przed znakiem @ wpisz nazwę skrzynki, np. jan.kowalski@gmina.pl.",
        ),
        "email_too_long" => fixed(
            "Adres e-mail może mieć najwyżej 254 znaki — sprawdź, czy nie wklejono do pola czegoś więcej.",
        ),
        "email_whitespace" => fixed("Usuń spacje z adresu e-mail."),
        "feedback_channel_unknown" => fixed(
            "Wybierz sposób zgłoszenia opinii: email (pocztą elektroniczną), post (pocztą), in_person (osobiście), phone (telefonicznie), online_form (przez formularz internetowy), survey (w ankiecie), meeting (na spotkaniu) lub other (inaczej).",
        ),
        "institution_type_unknown" => fixed(
            "Wybierz typ instytucji: JST, JOPS, OWES, PES, CIS, KIS, ZAZ, WTZ, NGO lub OTHER (inna).",
        ),
        "measure_unknown" => fixed(
            "Wybierz sposób pomiaru wskaźnika: participants_total (liczba uczestników), activities_held (liczba działań), activities_held:<rodzaj> (liczba działań jednego rodzaju), distinct_institutions (liczba instytucji), partners (liczba partnerów), feedback_received (liczba opinii) lub manual (wartość wpisywana ręcznie).",
        ),
        "month_format" => fixed("Wpisz miesiąc w formacie RRRR-MM, np. 2020-09."),
        "month_number" => fixed("Wpisz numer miesiąca od 01 do 12."),
        "month_part_unknown" => fixed(
            "Wybierz część miesiąca: early (początek), mid (połowa) lub late (koniec).",
        ),
        "month_part_without_month" => fixed("Część miesiąca (part) podaj razem z miesiącem (month)."),
        "nip_characters" => fixed("NIP może zawierać tylko cyfry, spacje i myślniki — usuń inne znaki."),
        "nip_check_digit" => fixed(
            "Ten NIP ma błędną cyfrę kontrolną — sprawdź, czy żadna cyfra nie została pomylona ani przestawiona.",
        ),
        "nip_digits" => fixed("NIP ma 10 cyfr — sprawdź, czy nie brakuje cyfry ani nie ma zbędnej."),
        "officer_role_unknown" => fixed(
            "Wybierz funkcję: chair (przewodniczący), vice_chair (wiceprzewodniczący), coordinator (koordynator) lub secretary (sekretarz).",
        ),
        "organizer_length" => fixed("Identyfikator organizatora ma od 2 do 64 znaków, np. rops-torun."),
        "organizer_slug" => fixed(
            "Identyfikator organizatora może zawierać tylko małe litery bez polskich znaków, cyfry i pojedyncze myślniki między nimi, np. rops-torun.",
        ),
        "planned_date_empty" => fixed("Wpisz datę, np. 7.02.2020 lub Luty 2020."),
        "planned_date_shape" => fixed(
            "Podaj datę w jednej z postaci: dzień (day), zakres dni (from i to), miesiąc (month) albo część miesiąca (month i part).",
        ),
        "planned_date_text" => fixed(
            "Nie udało się odczytać tej daty — wpisz ją razem z rokiem, np. 7.02.2020, 7-8.05.2020, 30.04-2.05.2020, Luty 2020 lub Koniec września 2020.",
        ),
        "preference_code_characters" => fixed(
            "Kod może zawierać tylko małe litery bez polskich znaków, cyfry i podkreślenia (_), np. cus_declared.",
        ),
        "preference_code_length" => fixed("Kod ma od 1 do 64 znaków."),
        "program_kind_unknown" => fixed(
            "Wybierz rodzaj: cooperation_programme (program współpracy) lub project (projekt).",
        ),
        "regon_characters" => fixed("REGON może zawierać tylko cyfry, spacje i myślniki — usuń inne znaki."),
        "regon_check_digit" => fixed(
            "Ten REGON ma błędną cyfrę kontrolną — sprawdź, czy żadna cyfra nie została pomylona ani przestawiona.",
        ),
        "regon_digits" => fixed(
            "REGON ma 9 lub 14 cyfr — sprawdź, czy nie brakuje cyfry ani nie ma zbędnej.",
        ),
        "text_empty" => Some(match label(field) {
            Some((what, _)) => format!("Wpisz {what}."),
            None => "Wypełnij to pole.".to_owned(),
        }),
        "text_too_long" => {
            let max = limit
                .and_then(|l| u64::try_from(l).ok())
                .or_else(|| v.numbers.first().copied());
            Some(match (max, label(field)) {
                (Some(n), Some((_, what))) => format!(
                    "{what} może mieć najwyżej {} {} — skróć tekst.",
                    number(n),
                    plural(n, "znak", "znaki", "znaków")
                ),
                (Some(n), None) => format!(
                    "Tekst może mieć najwyżej {} {} — skróć go.",
                    number(n),
                    plural(n, "znak", "znaki", "znaków")
                ),
                (None, _) => "Ten tekst jest za długi — skróć go.".to_owned(),
            })
        }
        "verdict_unknown" => fixed(
            "Wybierz ocenę: achieved (cele osiągnięto), partially_achieved (osiągnięto częściowo) lub not_achieved (nie osiągnięto).",
        ),
        "year_digits" => fixed("Wpisz rok czterema cyframi, np. 2022."),

        // --- Refusals of the domain (domain::error::CODES) -------------------------------
        "activity_cancelled" => fixed("To działanie zostało odwołane — nie można już niczego w nim zapisać."),
        "activity_held" => fixed("To działanie zostało już zapisane jako odbyte."),
        "activity_not_found" => fixed("Ten program nie ma takiego działania — sprawdź identyfikator."),
        "already_announced" => fixed("Ta wizyta studyjna została już ogłoszona."),
        "already_created" => fixed("Ten program został już utworzony."),
        "already_established" => fixed("Ta sieć została już założona."),
        "already_evaluated" => with(
            v.date(0),
            &|d| format!("Program został już oceniony ({d}) — nie można ocenić go ponownie ani zmienić okresu testowego."),
            "Program został już oceniony — nie można ocenić go ponownie ani zmienić okresu testowego.",
        ),
        "already_member" => with(
            v.nip.as_deref(),
            &|nip| format!("Instytucja o NIP {nip} jest już członkiem tej sieci."),
            "Ta instytucja jest już członkiem tej sieci.",
        ),
        "already_partner" => with(
            v.nip.as_deref(),
            &|nip| format!("Instytucja o NIP {nip} jest już partnerem tego programu."),
            "Ta instytucja jest już partnerem tego programu.",
        ),
        "already_withdrawn" => fixed("To zgłoszenie zostało już wycofane albo zwolniono przyznane mu miejsce."),
        "application_late" => {
            let counted = ["sent_on", "postmarked_on", "delivered_on"]
                .into_iter()
                .find(|f| english.contains(f))
                .and_then(card_date);
            Some(match (v.date(0), v.date(1), counted) {
                (Some(deadline), Some(on), Some((what, _))) => format!(
                    "Karty zgłoszeniowe przyjmowano do {deadline}; przy tym sposobie przekazania liczy się {what}, a ta przypada na {on}."
                ),
                (Some(deadline), _, _) => {
                    format!("Karty zgłoszeniowe przyjmowano do {deadline} — ta karta wpłynęła po terminie.")
                }
                _ => "Ta karta zgłoszeniowa wpłynęła po terminie.".to_owned(),
            })
        }
        "application_not_found" => fixed("Ta wizyta studyjna nie ma takiego zgłoszenia — sprawdź identyfikator."),
        "before_establishment" => with(
            v.last_date(),
            &|d| format!("Ta data nie może być wcześniejsza niż dzień założenia sieci ({d}) — popraw ją."),
            "Ta data nie może być wcześniejsza niż dzień założenia sieci — popraw ją.",
        ),
        "before_joining" => with(
            v.last_date(),
            &|d| format!("Członek nie może wystąpić z sieci przed dniem przystąpienia ({d}) — popraw datę."),
            "Członek nie może wystąpić z sieci przed dniem przystąpienia — popraw datę.",
        ),
        "closes_before_opening" => fixed(
            "Konsultacje nie mogą się zakończyć, zanim się zaczną — popraw datę zakończenia.",
        ),
        "consent_required" => fixed(
            "Zaznacz zgodę na przetwarzanie danych osobowych na potrzeby rekrutacji — bez niej nie można przyjąć zgłoszenia.",
        ),
        "consultation_not_found" => fixed("Ten program nie ma takich konsultacji — sprawdź identyfikator."),
        "date_required" => Some(match card_date(leaf(field)) {
            Some((_, what)) => {
                format!("Podaj {what} — przy tym sposobie przekazania karty to ona się liczy.")
            }
            None => "Podaj datę, która się liczy przy wybranym sposobie przekazania karty.".to_owned(),
        }),
        "dates_not_fixed" => fixed(
            "Nabór można otworzyć dopiero wtedy, gdy termin ma ustalone daty i koniec naboru — najpierw je ustal.",
        ),
        "deadline_after_term" => Some(match (v.date(0), v.date(1)) {
            (Some(deadline), Some(end)) => format!(
                "Nabór musi się zakończyć najpóźniej w ostatnim dniu wizyty ({end}), a wpisano {deadline} — wpisz wcześniejszy koniec naboru."
            ),
            _ => "Nabór musi się zakończyć najpóźniej w ostatnim dniu wizyty — wpisz wcześniejszy koniec naboru.".to_owned(),
        }),
        "deadline_not_reached" => with(
            v.date(0),
            &|d| format!("Zgłoszenia na ten termin są przyjmowane do {d}; nabór można zamknąć dopiero po tej chwili."),
            "Czas na zgłoszenia na ten termin jeszcze nie minął; nabór można zamknąć dopiero potem.",
        ),
        "deadline_passed" => with(
            v.date(0),
            &|d| format!("Zgłoszenia na ten termin przyjmowano do {d} — ten czas już minął."),
            "Czas na zgłoszenia na ten termin już minął.",
        ),
        "delivered_before_sent" => fixed(
            "Data doręczenia nie może być wcześniejsza niż data wysłania ani data stempla pocztowego — popraw datę.",
        ),
        "duplicate" => Some(match (leaf(field), v.quoted.first()) {
            ("code", Some(c)) => format!("Kod „{c}” powtarza się — nadaj każdej preferencji inny kod."),
            ("code", None) => "Ten kod powtarza się — nadaj każdej preferencji inny kod.".to_owned(),
            _ => "Ta wartość powtarza się — każda musi być inna.".to_owned(),
        }),
        "duplicate_application" => fixed(
            "Z tego adresu e-mail wysłano już zgłoszenie na tę wizytę studyjną, a jedna osoba może zgłosić się tylko raz. Jeśli chcesz zgłosić się na inny termin, najpierw wycofaj poprzednie zgłoszenie.",
        ),
        "duplicate_application_id" => fixed("Zgłoszenie o tym identyfikatorze już istnieje."),
        "duplicate_id" => fixed("Ten program ma już wpis o tym identyfikatorze."),
        "duplicate_indicator" => fixed(
            "Inny wskaźnik ma już ten kod — nadaj każdemu wskaźnikowi inny kod.",
        ),
        "duplicate_term" => fixed("Termin o tym identyfikatorze już istnieje."),
        "election_predates_current_term" => Some(match (v.date(0), v.date(1)) {
            (Some(current), Some(new)) => format!(
                "Obecna kadencja na tej funkcji zaczęła się {current} — kadencja następcy nie może zacząć się wcześniej ({new})."
            ),
            _ => "Kadencja następcy nie może zacząć się wcześniej niż obecna kadencja na tej funkcji.".to_owned(),
        }),
        "empty_schedule" => fixed("Harmonogram musi zawierać co najmniej jedno działanie."),
        "day_outside_term" => Some(match (v.date(0), v.date(1), v.date(2)) {
            (Some(from), Some(to), Some(day)) => format!(
                "Termin trwa od {from} do {to}, a {day} nie jest jednym z jego dni — wybierz dzień terminu."
            ),
            _ => "Ten dzień nie należy do terminu — wybierz jeden z dni terminu.".to_owned(),
        }),
        "ends_before_start" => fixed(match leaf(field) {
            "end" => "Koniec okresu nie może przypadać przed jego początkiem — popraw daty.",
            "term_ends_on" => "Kadencja nie może się skończyć, zanim się zacznie — popraw daty.",
            _ => "Data zakończenia nie może być wcześniejsza niż data rozpoczęcia — popraw jedną z nich.",
        }),
        "information_clause_changed" => fixed(
            "Organizator zmienił klauzulę informacyjną, od kiedy otwarto formularz. Przeczytaj jej obecną treść i zaznacz zgodę ponownie.",
        ),
        "information_clause_version_taken" => fixed(
            "Ta wersja klauzuli informacyjnej ma już inną treść — nadaj zmienionej treści nową wersję, np. 2026-02.",
        ),
        "institution_type_not_eligible" => with(
            types_after(english, "eligible types:", ".").as_deref(),
            &|types| format!("Instytucje tego typu nie mogą wziąć udziału w tej wizycie. Mogą się zgłaszać: {types}."),
            "Instytucje tego typu nie mogą wziąć udziału w tej wizycie — sprawdź w ogłoszeniu, kto może się zgłaszać.",
        ),
        "meeting_id_taken" => fixed("Spotkanie o tym identyfikatorze już istnieje."),
        "member_id_taken" => fixed("Członkostwo o tym identyfikatorze już istnieje."),
        "member_not_active" => fixed("Ten członek wystąpił już z sieci."),
        "member_not_found" => fixed("Ta sieć nie ma takiego członka — sprawdź identyfikator."),
        "network_not_found" => fixed("Nie ma takiej sieci — sprawdź identyfikator."),
        "no_offer" => fixed(
            "Temu zgłoszeniu nie jest teraz oferowane żadne miejsce — oferta mogła wygasnąć albo została już przyjęta lub odrzucona.",
        ),
        "offer_expired" => with(
            v.date(0),
            &|d| format!("Czas na przyjęcie miejsca minął {d}; miejsce przeszło do kolejnej osoby z listy."),
            "Czas na przyjęcie miejsca już minął; miejsce przeszło do kolejnej osoby z listy.",
        ),
        "offer_not_expired" => with(
            v.date(0),
            &|d| format!("Oferta miejsca jest ważna do {d} — jeszcze nie wygasła."),
            "Oferta miejsca jeszcze nie wygasła.",
        ),
        "no_seat" => fixed(
            "To zgłoszenie nie ma przyznanego miejsca w zamkniętym naborze, więc nie można tego zrobić.",
        ),
        "not_a_manual_indicator" => with(
            v.quoted.first().map(String::as_str),
            &|c| format!("Program nie ma wskaźnika „{c}” mierzonego ręcznie — podaj wartości tylko wskaźników z pomiarem manual."),
            "Program nie ma takiego wskaźnika mierzonego ręcznie — podaj wartości tylko wskaźników z pomiarem manual.",
        ),
        "not_an_active_member" => fixed("Funkcję może objąć tylko obecny członek sieci."),
        "not_waiting" => fixed(
            "Miejsce można przyznać ręcznie tylko zgłoszeniu z listy rezerwowej lub pominiętemu w zamkniętym naborze.",
        ),
        "officer_id_taken" => fixed("Wybór na funkcję o tym identyfikatorze jest już zapisany."),
        "out_of_range" => Some(match (leaf(field), v.numbers.as_slice()) {
            ("seats", _) => "Podaj liczbę miejsc od 1 do 10 000.".to_owned(),
            ("max_per_institution", _) => "Podaj limit miejsc na instytucję od 1 do 1000 albo zostaw to pole puste, jeśli limitu nie ma.".to_owned(),
            ("participants_total", _) => "Podaj liczbę uczestników od 0 do 1 000 000.".to_owned(),
            ("year", [low, high, ..]) => format!("Podaj rok od {low} do {high}."),
            (_, [low, high, ..]) => format!("Podaj liczbę od {} do {}.", number(*low), number(*high)),
            _ => "Ta liczba jest poza dopuszczalnym zakresem — popraw ją.".to_owned(),
        }),
        "outside_consultation_window" => Some(match (v.date(0), v.date(1), v.date(2)) {
            (Some(from), Some(to), Some(on)) => format!(
                "Uwagi przyjmowano od {from} do {to}, a tę złożono {on}."
            ),
            _ => "Tę uwagę złożono poza okresem konsultacji.".to_owned(),
        }),
        "preference_not_found" => with(
            v.quoted.first().map(String::as_str),
            &|c| format!("Ta wizyta studyjna nie ma preferencji o kodzie „{c}” — sprawdź kod."),
            "Ta wizyta studyjna nie ma takiej preferencji — sprawdź kod.",
        ),
        "preferences_frozen" => fixed(
            "Listy preferencji nie można już zmienić — nabór na jeden z terminów tej wizyty został zamknięty.",
        ),
        "program_closed" => with(
            v.date(0),
            &|d| format!("Program zamknięto {d} — nie można w nim już niczego zapisać."),
            "Program został zamknięty — nie można w nim już niczego zapisać.",
        ),
        "program_not_found" => fixed("Nie ma takiego programu — sprawdź identyfikator."),
        "rating_out_of_range" => fixed("Podaj ocenę od 1 do 5 albo zostaw to pole puste."),
        "recruitment_already_open" => fixed("Nabór na ten termin jest już otwarty."),
        "recruitment_closed" => fixed("Nabór na ten termin został już zamknięty."),
        "recruitment_not_open" => fixed("Nabór na ten termin nie jest teraz otwarty."),
        "regulations_version_exists" => with(
            v.quoted.first().map(String::as_str),
            &|ver| format!("Regulamin w wersji „{ver}” został już przyjęty — nadaj nowej wersji inne oznaczenie."),
            "Regulamin w tej wersji został już przyjęty — nadaj nowej wersji inne oznaczenie.",
        ),
        "required" => fixed(match leaf(field) {
            "member_types" => "Wybierz co najmniej jeden typ instytucji, które mogą należeć do sieci.",
            "eligible_institution_types" => {
                "Wybierz co najmniej jeden typ instytucji, które mogą się zgłaszać."
            }
            "decided_by" => "Podaj, kto podjął decyzję.",
            "organizer" => "Podaj organizatora, np. rops-torun — token administratora go nie wskazuje.",
            "email" => "Podaj adres e-mail.",
            "starts_on" => "Podaj datę rozpoczęcia.",
            "ends_on" => "Podaj datę zakończenia.",
            "recruitment_deadline" => "Podaj datę i godzinę końca naboru.",
            _ => "Wypełnij to pole.",
        }),
        "term_cancelled" => fixed("Ten termin został odwołany."),
        "term_not_editable" => fixed("Daty terminu można zmienić tylko przed otwarciem naboru."),
        "term_not_found" => fixed("Ta wizyta studyjna nie ma takiego terminu — sprawdź identyfikator."),
        "testing_period_not_over" => Some(match (v.date(0), v.date(1)) {
            (Some(until), Some(from)) => {
                format!("Okres testowy trwa do {until}; ocenę można zapisać od {from}.")
            }
            _ => "Okres testowy jeszcze trwa; ocenę można zapisać po jego zakończeniu.".to_owned(),
        }),
        "testing_period_not_set" => fixed(
            "Ocena następuje po okresie testowym, a ten nie został jeszcze ustalony — najpierw ustal okres testowy.",
        ),
        "type_not_admitted" => with(
            types_after(english, "admits only", ";").as_deref(),
            &|types| format!("Do tej sieci mogą należeć tylko: {types}; instytucja tego typu nie może do niej przystąpić."),
            "Instytucja tego typu nie może przystąpić do tej sieci.",
        ),
        "visit_not_found" => fixed("Nie ma takiej wizyty studyjnej — sprawdź identyfikator."),

        // --- The service's own field codes ----------------------------------------------
        "aggregate_type_unknown" => fixed(
            "Wybierz typ: StudyVisit (wizyta studyjna), CooperationProgram (program współpracy) lub Network (sieć).",
        ),
        "duplicate_field" => fixed("To pole występuje dwa razy — zostaw tylko jedno."),
        "idempotency_key_characters" => fixed(
            "Klucz Idempotency-Key może zawierać tylko drukowalne znaki ASCII: litery, cyfry, znaki interpunkcyjne i spacje.",
        ),
        "idempotency_key_length" => fixed("Klucz Idempotency-Key ma od 1 do 200 znaków."),
        "idempotency_key_reused" => fixed(
            "Tego klucza Idempotency-Key użyto już dla żądania o innej treści — do nowego żądania użyj nowego klucza.",
        ),
        "instant_format" => fixed(
            "Wpisz chwilę w formacie RFC 3339 ze strefą czasową, np. 2022-06-23T11:00:00+02:00.",
        ),
        "invalid_json" => fixed(
            "Treść żądania nie jest poprawnym dokumentem JSON — sprawdź nawiasy, cudzysłowy i przecinki.",
        ),
        "invalid_length" => fixed("Ta lista ma niewłaściwą liczbę elementów — porównaj ją z opisem pola w dokumentacji API."),
        "invalid_value" => fixed("Ta wartość jest nieprawidłowa — porównaj ją z opisem pola w dokumentacji API."),
        "missing_field" => fixed("Uzupełnij to pole — jest wymagane."),
        "negative_number" => fixed("Podaj liczbę równą 0 lub większą."),
        "nul_character" => fixed("Usuń znak NUL (\\u0000) — tekst nie może go zawierać."),
        "planned_or_dates" => fixed(
            "Podaj albo planowaną datę (planned), albo daty rozpoczęcia i zakończenia z końcem naboru — nie jedno i drugie.",
        ),
        "preference_kind_unknown" => fixed(
            "Wybierz rodzaj preferencji: listed (według listy) lub not_listed (spoza listy).",
        ),
        "range_empty" => fixed("Koniec zakresu (to) musi przypadać później niż jego początek (from)."),
        "schedule_empty" => fixed("Plik nie zawiera żadnego działania — dodaj wiersze pod nagłówkiem."),
        "schedule_header" => fixed(
            "Popraw nagłówek pliku: kolumny to date,title,kind,location,co_organizer; date i title są wymagane, a każda kolumna może wystąpić tylko raz.",
        ),
        "schedule_row_invalid" => {
            let columns = schedule_columns(english);
            Some(if columns.is_empty() {
                "Popraw ten wiersz harmonogramu.".to_owned()
            } else {
                format!("Popraw w tym wierszu {}.", join_or(&columns, "i"))
            })
        }
        "schedule_row_unreadable" => fixed(
            "Nie udało się odczytać tego wiersza — sprawdź cudzysłowy i liczbę pól (nie więcej niż kolumn w nagłówku).",
        ),
        "unknown_field" => fixed("To pole nie jest tu przyjmowane — usuń je."),
        "unknown_variant" => fixed("Wybierz jedną z dozwolonych wartości (lista w dokumentacji API)."),
        "wrong_type" => fixed(
            "Podaj wartość właściwego typu: tekst, liczbę, wartość logiczną, listę lub obiekt — jak w dokumentacji API.",
        ),

        // --- Refusals of the API --------------------------------------------------------
        "bad_request" => Some(bad_request(english, &v)),
        "forbidden" => fixed(forbidden(english)),
        "idempotency_answer_lost" => fixed(
            "Żądanie z tym kluczem Idempotency-Key zostało wykonane, ale odpowiedź na nie przepadła podczas awarii — odczytaj zasób, aby zobaczyć wynik.",
        ),
        "idempotency_in_progress" => fixed(
            "Żądanie z tym kluczem Idempotency-Key jest jeszcze wykonywane — ponów je z tym samym kluczem za chwilę.",
        ),
        "internal" => fixed(
            "Wystąpił nieoczekiwany błąd po stronie usługi; został zapisany w dzienniku zdarzeń.",
        ),
        "invalid_input" => fixed("Niektóre pola zawierają błędy — popraw je."),
        "method_not_allowed" => fixed("Ta metoda nie jest dozwolona dla tej ścieżki."),
        "not_found" => fixed(not_found(english)),
        "payload_too_large" => Some(match v.numbers.first() {
            Some(kib) => format!(
                "Treść żądania jest większa, niż usługa przyjmuje (najwyżej {kib} KiB) — wyślij mniej danych."
            ),
            None => "Treść żądania jest większa, niż usługa przyjmuje — wyślij mniej danych.".to_owned(),
        }),
        "format_unknown" => fixed("Wybierz format csv (archiwum ZIP z plikami CSV) albo xlsx."),
        "invalid_id" => fixed("Podaj identyfikator w postaci UUID, np. 01a203e3-c49e-70ed-b10a-530e05dd6266."),
        "one_subject" => fixed("Podaj albo wizytę (visit_id), albo program (program_id) — nie jedno i drugie."),
        "not_present" => fixed(
            "Zaświadczenie otrzymuje osoba obecna choć jeden dzień terminu — najpierw zapisz jej obecność.",
        ),
        "personal_data_erased" => fixed(
            "Dane tej osoby zostały usunięte, więc nie można już wydrukować zaświadczenia. Zaświadczenie wydane wcześniej nadal można sprawdzić po kodzie.",
        ),
        "roster_provisional" => fixed(
            "Lista obecności powstaje po zamknięciu naboru, gdy lista uczestników jest ostateczna.",
        ),
        "request_timeout" => fixed("Treść żądania nie dotarła na czas — wyślij je ponownie."),
        "service_unavailable" => fixed("Odpowiedź trwała zbyt długo — spróbuj ponownie za chwilę."),
        "too_many_requests" => fixed(
            "Z tego adresu wysłano zbyt wiele zgłoszeń — spróbuj ponownie za kilka minut.",
        ),
        "unauthorized" => fixed(
            "Podaj ważny token dostępu w nagłówku Authorization: Bearer <token>.",
        ),
        "unavailable" => fixed(if english.contains("position") {
            "Dane nie są jeszcze gotowe do odczytu — spróbuj ponownie za chwilę."
        } else {
            "Usługa jest chwilowo niedostępna — spróbuj ponownie za chwilę."
        }),
        "unsupported_media_type" => fixed(
            "Ten typ treści nie jest tu przyjmowany — sprawdź nagłówek Content-Type.",
        ),
        _ => None,
    }
}

/// A 400 without a field to blame, by the English sentence the service wrote.
fn bad_request(english: &str, v: &Values) -> String {
    if english.starts_with("The body is nested too deeply") {
        return match v.numbers.first() {
            Some(&n) => format!(
                "Treść żądania jest zbyt głęboko zagnieżdżona — zagnieżdżenie tablic i obiektów może mieć najwyżej {n} {}.",
                plural(n, "poziom", "poziomy", "poziomów")
            ),
            None => "Treść żądania jest zbyt głęboko zagnieżdżona — spłaszcz jej strukturę.".to_owned(),
        };
    }
    if english.starts_with("The body is not valid JSON") {
        "Treść żądania nie jest poprawnym dokumentem JSON — sprawdź nawiasy, cudzysłowy i przecinki."
    } else if english.starts_with("Send the schedule as text/csv") {
        "Wyślij harmonogram jako plik CSV (text/csv) z nagłówkiem date,title,kind,location,co_organizer."
    } else if english.starts_with("The schedule must be UTF-8") {
        "Zapisz harmonogram jako tekst w kodowaniu UTF-8."
    } else if english.starts_with("Failed to deserialize query string") {
        "Popraw parametry w adresie — któryś ma niewłaściwą nazwę lub wartość."
    } else if english.starts_with("Cannot read the request body")
        || english.starts_with("The request body is too large or unreadable")
    {
        "Nie udało się odczytać treści żądania — wyślij je ponownie."
    } else {
        "Nie udało się odczytać żądania — sprawdź jego treść i parametry."
    }
    .to_owned()
}

/// A 403, by the English sentence the service wrote.
fn forbidden(english: &str) -> &'static str {
    const KNOWN: [(&str, &str); 6] = [
        (
            "An evaluator token",
            "Token oceniającego pozwala tylko odczytywać dane, nie zmieniać ich.",
        ),
        (
            "A coordinator can only act",
            "Koordynator może działać tylko w imieniu własnego organizatora.",
        ),
        (
            "Audit checks and exports",
            "Kontrole i eksport historii są dostępne dla oceniających i administratorów.",
        ),
        (
            "A token with an organizer can export",
            "Token przypisany do organizatora pozwala eksportować tylko zdarzenia tego organizatora.",
        ),
        (
            "Requests about personal data",
            "Na wnioski dotyczące danych osobowych odpowiada administrator.",
        ),
        (
            "The access log covers every organizer",
            "Rejestr dostępu obejmuje wszystkich organizatorów — czytają go tylko administratorzy i oceniający bez przypisanego organizatora.",
        ),
    ];
    KNOWN
        .iter()
        .find(|(start, _)| english.starts_with(start))
        .map_or("Ten token nie uprawnia do tej operacji.", |(_, pl)| pl)
}

/// A 404 the service gave of its own, by the English sentence it wrote.
fn not_found(english: &str) -> &'static str {
    if english.starts_with("No such route") {
        "Nie ma takiej ścieżki — sprawdź adres."
    } else if english.starts_with("Nothing has been sealed") {
        "Nic nie zostało jeszcze zapieczętowane."
    } else if english.contains("did not exist") {
        "W tej chwili to jeszcze nie istniało — podaj późniejszą chwilę."
    } else if english.starts_with("No audit state for aggregate type") {
        "Nie ma takiego typu agregatu — dostępne są StudyVisit, CooperationProgram i Network."
    } else {
        "Nie znaleziono — sprawdź adres i identyfikator."
    }
}

/// The `detail` of a 400 or 422 naming fields: the one field's message, or how many fields
/// are wrong ("3 pola zawierają błędy").
fn fields_detail(errors: &[FieldError]) -> String {
    match errors {
        [one] if one.field.is_empty() => field_pl(one),
        [one] => format!("{}: {}", one.field, field_pl(one)),
        many => {
            let n = many.len() as u64;
            format!(
                "{n} {} — popraw każde z nich.",
                plural(
                    n,
                    "pole zawiera błąd",
                    "pola zawierają błędy",
                    "pól zawiera błędy"
                )
            )
        }
    }
}

// ---------------------------------------------------------------------------------------
// The JSON API in Polish.
// ---------------------------------------------------------------------------------------

/// Whether an `Accept-Language` value prefers Polish to English: `pl` (or `pl-PL`, …) with
/// a q-value above English's (`en`, `en-GB`, … or `*`, which this service serves in English),
/// or equal to it and listed first. Languages the service does not speak are passed over
/// (`de, pl;q=0.5` is Polish); absent, unparsable or `pl;q=0` is English.
pub fn prefers_polish(accept_language: &str) -> bool {
    let mut polish: Option<(f32, usize)> = None;
    let mut english: Option<(f32, usize)> = None;
    for (i, range) in accept_language.split(',').enumerate() {
        let mut parts = range.split(';');
        let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q=").map(str::trim))
            .map_or(Some(1.0), |q| q.parse::<f32>().ok())
            .filter(|q| (0.0..=1.0).contains(q));
        let Some(q) = q.filter(|q| *q > 0.0) else {
            continue;
        };
        let slot = if tag == "pl" || tag.starts_with("pl-") {
            &mut polish
        } else if tag == "en" || tag.starts_with("en-") || tag == "*" {
            &mut english
        } else {
            continue;
        };
        if slot.is_none_or(|(best, _)| q > best) {
            *slot = Some((q, i));
        }
    }
    match (polish, english) {
        (Some(_), None) => true,
        (Some((pq, pi)), Some((eq, ei))) => pq > eq || (pq == eq && pi < ei),
        _ => false,
    }
}

fn asks_polish(headers: &HeaderMap) -> bool {
    let values: Vec<&str> = headers
        .get_all(ACCEPT_LANGUAGE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    prefers_polish(&values.join(","))
}

/// Says a problem document (`application/problem+json`) again in Polish: its `title`,
/// `detail` and each `errors[].message`. `type`, `status`, `code`, each `field` and
/// `errors[].code`, and any other member, stay as they are.
pub fn problem_pl(doc: &mut Value) {
    let Some(obj) = doc.as_object_mut() else {
        return;
    };
    let status = obj
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(500);
    let code = obj
        .get("code")
        .and_then(Value::as_str)
        .or_else(|| {
            obj.get("type")
                .and_then(Value::as_str)
                .and_then(|t| t.strip_prefix("/problems/"))
        })
        .unwrap_or_default()
        .to_owned();
    let english = obj
        .get("detail")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut errors = Vec::new();
    if let Some(Value::Array(items)) = obj.get_mut("errors") {
        for item in items {
            if let Ok(e) = serde_json::from_value::<FieldError>(item.clone()) {
                item["message"] = Value::String(field_pl(&e));
                errors.push(e);
            }
        }
    }
    let detail = if errors.is_empty() {
        refusal_pl(&code, &english)
    } else {
        fields_detail(&errors)
    };
    obj.insert(
        "title".to_owned(),
        Value::String(title_pl(status).to_owned()),
    );
    obj.insert("detail".to_owned(), Value::String(detail));
}

/// Answers problem documents in the language the request asked for. Every problem is
/// written in English where it is made (handlers, extractors, layers, stored idempotent
/// answers); this layer, outside all of them, says it again in Polish when the request
/// prefers Polish (`Accept-Language`, see [`prefers_polish`]), and marks every problem
/// with its `Content-Language` (and `Vary: Accept-Language`, for caches). Other answers
/// pass untouched.
pub async fn localize(req: Request, next: Next) -> Response {
    let polish = asks_polish(req.headers());
    let res = next.run(req).await;
    let is_problem = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if !is_problem {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    parts
        .headers
        .append(VARY, HeaderValue::from_static("accept-language"));
    let english = |mut parts: axum::http::response::Parts, body: Body| {
        parts
            .headers
            .insert(CONTENT_LANGUAGE, HeaderValue::from_static("en"));
        Response::from_parts(parts, body)
    };
    if !polish {
        return english(parts, body);
    }
    // Problem documents are small and already in memory (made whole by `serde_json`).
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return english(parts, Body::empty());
    };
    let mut doc: Value = match serde_json::from_slice(&bytes) {
        Ok(doc) => doc,
        Err(_) => return english(parts, Body::from(bytes)),
    };
    problem_pl(&mut doc);
    let Ok(body) = serde_json::to_vec(&doc) else {
        return english(parts, Body::from(bytes));
    };
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_LANGUAGE, HeaderValue::from_static("pl"));
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::http::problem::ApiError;

    /// Words that mark an English sentence (none is a Polish word).
    const ENGLISH: &[&str] = &[
        "the", "is", "are", "be", "been", "must", "has", "have", "this", "that", "cannot", "can",
        "already", "should", "was", "were", "which", "with", "from", "only", "not", "please", "of",
        "and", "or", "for", "at", "an", "it", "its", "there", "such", "yet", "will", "no", "must",
        "into", "than", "after", "before", "between",
    ];

    /// Why `text` is not a Polish sentence of the catalogue's kind, if it is not.
    fn not_polish(text: &str) -> Option<String> {
        if !text
            .chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
        {
            return Some("does not start with a capital letter".into());
        }
        if !text.ends_with('.') || text.ends_with("..") {
            return Some("does not end with one full stop".into());
        }
        // What stands in parentheses names the API's own words (`(from)`, `(in_person)`).
        let mut outside = String::new();
        let mut depth = 0usize;
        for c in text.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                c if depth == 0 => outside.push(c),
                _ => {}
            }
        }
        let english: Vec<&str> = outside
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .filter(|w| ENGLISH.contains(&w.to_lowercase().as_str()))
            .collect();
        (!english.is_empty()).then(|| format!("has English words {english:?}"))
    }

    /// Fields some sentences are chosen by.
    const FIELDS: &[&str] = &[
        "member_types",
        "eligible_institution_types",
        "decided_by",
        "organizer",
        "email",
        "starts_on",
        "ends_on",
        "recruitment_deadline",
        "seats",
        "max_per_institution",
        "participants_total",
        "year",
        "limit",
        "period.end",
        "term_ends_on",
        "preferences[0].code",
        "sent_on",
        "postmarked_on",
        "delivered_on",
        "person.first_name",
        "institution.name",
        "line 2",
    ];

    fn every_code() -> Vec<&'static str> {
        let mut codes: Vec<&str> = domain::error::CODES
            .iter()
            .chain(domain::values::CODES)
            .chain(SERVICE_CODES)
            .copied()
            .collect();
        codes.sort_unstable();
        codes
    }

    #[test]
    fn every_code_of_the_domain_and_of_the_service_has_a_polish_sentence() {
        let mut missing = Vec::new();
        let mut wrong = Vec::new();
        for code in every_code() {
            match catalogue(code, "", None, "") {
                None => missing.push(code),
                Some(text) => {
                    if let Some(why) = not_polish(&text) {
                        wrong.push(format!("{code}: {why}: {text}"));
                    }
                }
            }
            // The sentences chosen by field, or by values read from the English.
            for field in FIELDS {
                for english in ["", "must be between 1 and 5", "at most 7 (2020-01-02)"] {
                    let text = field_pl(&FieldError::new(*field, code, english));
                    if let Some(why) = not_polish(&text) {
                        wrong.push(format!("{code} of {field}: {why}: {text}"));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "codes without a Polish sentence in service/src/http/messages.rs: {missing:?}"
        );
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn the_service_list_is_sorted_and_its_own() {
        let mut sorted = SERVICE_CODES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            sorted, SERVICE_CODES,
            "SERVICE_CODES is kept sorted, each once"
        );
        let domain: BTreeSet<&str> = domain::error::CODES
            .iter()
            .chain(domain::values::CODES)
            .copied()
            .collect();
        let both: Vec<&&str> = SERVICE_CODES
            .iter()
            .filter(|c| domain.contains(**c))
            .collect();
        assert!(both.is_empty(), "the domain already lists {both:?}");
    }

    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The arguments of a call, from just after its `(`, split at top-level commas.
    fn arguments(rest: &str) -> Vec<String> {
        let (mut args, mut current, mut depth) = (Vec::new(), String::new(), 0usize);
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    current.push(c);
                    while let Some(s) = chars.next() {
                        current.push(s);
                        if s == '\\' {
                            current.extend(chars.next());
                        } else if s == '"' {
                            break;
                        }
                    }
                }
                '(' | '[' | '{' => {
                    depth += 1;
                    current.push(c);
                }
                ')' | ']' | '}' if depth == 0 => {
                    args.push(current.trim().to_owned());
                    return args;
                }
                ')' | ']' | '}' => {
                    depth -= 1;
                    current.push(c);
                }
                ',' if depth == 0 => args.push(std::mem::take(&mut current).trim().to_owned()),
                _ => current.push(c),
            }
        }
        args
    }

    /// Every code the service's sources write as a literal: in `f.fail(field, "code", …)`,
    /// `FieldError::new(field, "code", …)`, `ValueError::new("code", …)`,
    /// `ApiError::bad_param(field, "code", …)`, `ApiError::invalid_field(field, "code", …)`
    /// and `code: "code"`.
    fn codes_in_sources() -> BTreeSet<(String, String)> {
        const CALLS: [(&str, usize); 5] = [
            (".fail(", 1),
            ("FieldError::new(", 1),
            ("ValueError::new(", 0),
            ("bad_param(", 1),
            ("invalid_field(", 1),
        ];
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut files = Vec::new();
        sources(Path::new(src), &mut files);
        assert!(files.len() > 20, "no sources under {src}");
        let mut found = BTreeSet::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let code: String = text
                .split("#[cfg(test)]")
                .next()
                .unwrap_or_default()
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            let place = file.display().to_string();
            for (call, index) in CALLS {
                for (at, _) in code.match_indices(call) {
                    let args = arguments(&code[at + call.len()..]);
                    let literal = args
                        .get(index)
                        .and_then(|a| a.strip_prefix('"')?.strip_suffix('"'));
                    if let Some(c) = literal {
                        found.insert((c.to_owned(), place.clone()));
                    }
                }
            }
            for (at, _) in code.match_indices("code: \"") {
                let rest = &code[at + "code: \"".len()..];
                if let Some(end) = rest.find('"') {
                    found.insert((rest[..end].to_owned(), place.clone()));
                }
            }
        }
        found
    }

    #[test]
    fn every_code_the_service_writes_is_listed() {
        let known: BTreeSet<&str> = every_code().into_iter().collect();
        let found = codes_in_sources();
        assert!(
            found.iter().any(|(c, _)| c == "nul_character")
                && found.iter().any(|(c, _)| c == "required")
                && found.iter().any(|(c, _)| c == "idempotency_in_progress"),
            "the reader finds the codes of the sources: {found:?}"
        );
        let unknown: Vec<String> = found
            .iter()
            .filter(|(c, _)| !known.contains(c.as_str()))
            .map(|(c, place)| format!("{c} ({place})"))
            .collect();
        assert!(
            unknown.is_empty(),
            "codes written in the service but listed nowhere (add them to SERVICE_CODES with their Polish sentence): {unknown:?}"
        );
        for (_, code) in crate::http::extract::SERDE_CODES {
            assert!(known.contains(code), "{code}");
        }
        let lost = infra::idempotency::applied_answer(1);
        let lost = lost["type"]
            .as_str()
            .and_then(|t| t.strip_prefix("/problems/"));
        assert!(lost.is_some_and(|c| known.contains(c)), "{lost:?}");
    }

    #[test]
    fn every_problem_type_the_service_answers_has_polish() {
        let known: BTreeSet<&str> = every_code().into_iter().collect();
        let errors = [
            ApiError::BadRequest {
                detail: "x".into(),
                errors: vec![],
            },
            ApiError::invalid(vec![]),
            ApiError::Unauthorized,
            ApiError::Forbidden("x".into()),
            ApiError::NotFound("x".into()),
            ApiError::PayloadTooLarge("x".into()),
            ApiError::TooManyRequests {
                detail: "x".into(),
                retry_after_secs: 1,
            },
            ApiError::Unavailable {
                detail: "x".into(),
                retry_after_secs: 1,
            },
            ApiError::Internal("x".into()),
        ];
        for e in errors {
            let kind = e.problem().kind;
            let code = kind.strip_prefix("/problems/").unwrap_or_default();
            assert!(known.contains(code), "{kind}");
        }
        // What `plain_errors_as_problems` makes of the statuses layers answer.
        for status in [405u16, 408, 413, 415, 503] {
            let reason = axum::http::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or_default();
            let code = reason.to_lowercase().replace(' ', "_");
            assert!(known.contains(code.as_str()), "{status}: {code}");
        }
    }

    #[test]
    fn the_deadline_is_shown_as_polish_people_write_it() {
        // As the domain writes it (the end-to-end test in tests/tests/api/errors.rs takes
        // the domain's own sentence).
        let detail =
            "The recruitment deadline for this term passed at 2022-06-23 11:00 (Europe/Warsaw).";
        assert_eq!(
            refusal_pl("deadline_passed", detail),
            "Zgłoszenia na ten termin przyjmowano do 23 czerwca 2022 r., 11:00 — ten czas już minął."
        );
        // Without the instant the sentence still stands.
        assert_eq!(
            refusal_pl("deadline_passed", ""),
            "Czas na zgłoszenia na ten termin już minął."
        );
        // RFC 3339 instants are shown in Warsaw time, summer and winter.
        assert_eq!(
            Values::of("at 2022-06-23T09:00:00Z.").dates,
            ["23 czerwca 2022 r., 11:00"]
        );
        assert_eq!(
            Values::of("at 2022-01-10T10:05:00+00:00").dates,
            ["10 stycznia 2022 r., 11:05"]
        );
        assert_eq!(
            polish_date(NaiveDate::from_ymd_opt(2020, 9, 1).unwrap_or_default()),
            "1 września 2020 r."
        );
    }

    #[test]
    fn values_named_in_english_are_carried_over() {
        assert_eq!(
            refusal_pl(
                "already_member",
                "The institution with NIP 9562307984 is already a member of this network."
            ),
            "Instytucja o NIP 9562307984 jest już członkiem tej sieci."
        );
        assert_eq!(
            refusal_pl(
                "outside_consultation_window",
                "Comments are accepted from 2013-10-01 to 2013-10-14; this one was submitted on 2013-10-20."
            ),
            "Uwagi przyjmowano od 1 października 2013 r. do 14 października 2013 r., a tę złożono 20 października 2013 r."
        );
        assert_eq!(
            refusal_pl(
                "regulations_version_exists",
                "Version '2024-01' of the regulations has already been adopted."
            ),
            "Regulamin w wersji „2024-01” został już przyjęty — nadaj nowej wersji inne oznaczenie."
        );
        assert_eq!(
            refusal_pl(
                "application_late",
                "Application cards had to be sent by 2013-09-30; by post the postmarked_on counts, and it is 2013-10-02."
            ),
            "Karty zgłoszeniowe przyjmowano do 30 września 2013 r.; przy tym sposobie przekazania liczy się data stempla pocztowego, a ta przypada na 2 października 2013 r."
        );
        let e = FieldError::new(
            "institution.type",
            "institution_type_not_eligible",
            "Institutions of type OTHER cannot take part in this visit; eligible types: JST, JOPS, PES.",
        );
        assert_eq!(
            field_pl(&e),
            "Instytucje tego typu nie mogą wziąć udziału w tej wizycie. Mogą się zgłaszać: JST, JOPS i PES (PES obejmuje też CIS, KIS, ZAZ, WTZ i NGO)."
        );
        let e = FieldError::new(
            "institution.type",
            "type_not_admitted",
            "This network admits only OWES, PES; an institution of type JST cannot join it.",
        );
        assert!(field_pl(&e).starts_with("Do tej sieci mogą należeć tylko: OWES i PES"));
        assert_eq!(
            refusal_pl(
                "testing_period_not_over",
                "The testing period runs until 2014-12-31; the evaluation can be recorded from 2015-01-01 (today is 2014-06-01)."
            ),
            "Okres testowy trwa do 31 grudnia 2014 r.; ocenę można zapisać od 1 stycznia 2015 r."
        );
    }

    #[test]
    fn field_messages_name_the_field_and_its_limit() {
        let too_long = |field: &str, max: usize| {
            field_pl(&FieldError::of(
                field,
                domain::values::NonEmptyText::parse_max(&"x".repeat(max + 1), max)
                    .expect_err("too long"),
            ))
        };
        assert_eq!(
            too_long("person.first_name", 100),
            "Imię może mieć najwyżej 100 znaków — skróć tekst."
        );
        assert_eq!(
            too_long("comment", 22),
            "Tekst może mieć najwyżej 22 znaki — skróć go."
        );
        assert_eq!(
            too_long("institution.name", 10_000),
            "Nazwa instytucji może mieć najwyżej 10 000 znaków — skróć tekst."
        );
        let empty = |field: &str| {
            field_pl(&FieldError::of(
                field,
                domain::values::NonEmptyText::parse("").expect_err("empty"),
            ))
        };
        assert_eq!(empty("person.last_name"), "Wpisz nazwisko.");
        assert_eq!(empty("institution_name"), "Wpisz nazwę instytucji.");
        assert_eq!(empty("whatever"), "Wypełnij to pole.");
        let nip = |s: &str| {
            field_pl(&FieldError::of(
                "institution.nip",
                domain::values::Nip::parse(s).expect_err("bad"),
            ))
        };
        assert_eq!(
            nip("956230798"),
            "NIP ma 10 cyfr — sprawdź, czy nie brakuje cyfry ani nie ma zbędnej."
        );
        assert!(nip("9562307985").contains("cyfrę kontrolną"));
        assert_eq!(
            field_pl(&FieldError::new(
                "seats",
                "out_of_range",
                "must be between 1 and 10000"
            )),
            "Podaj liczbę miejsc od 1 do 10 000."
        );
        assert_eq!(
            field_pl(&FieldError::new(
                "limit",
                "out_of_range",
                "must be between 1 and 1000"
            )),
            "Podaj liczbę od 1 do 1000."
        );
        assert_eq!(
            field_pl(&FieldError::new(
                "line 3",
                "schedule_row_invalid",
                "date: '31.02.2020' is not a date this service can read: Luty 2020 has no day 31; write it like 7.02.2020; title: must not be empty"
            )),
            "Popraw w tym wierszu datę (np. 7.02.2020, 7-8.05.2020, Luty 2020 lub Koniec września 2020) i tytuł (wymagany, najwyżej 500 znaków)."
        );
        // An unknown code still gets Polish, never the English it came with.
        assert_eq!(
            field_pl(&FieldError::new("x", "no_such_code", "is wrong")),
            "Popraw wartość tego pola."
        );
        assert_eq!(
            refusal_pl("no_such_code", "Refused."),
            "Nie można wykonać tego polecenia."
        );
    }

    /// Every value parser's real refusals, said in Polish.
    #[test]
    fn real_refusals_of_the_parsers_read_as_polish() {
        use domain::values::*;
        let refusals = [
            Nip::parse("1").err(),
            Nip::parse("x").err(),
            Regon::parse("1").err(),
            Email::parse("a@b").err(),
            Email::parse(&format!("{}@b.pl", "a".repeat(260))).err(),
            OrganizerId::parse("A").err(),
            PreferenceCode::parse("A").err(),
            PlannedDate::parse_polish("Smarzec 2020").err(),
            PlannedDate::from_json(&serde_json::json!({"month": "2020-09", "part": "x"})).err(),
            InstitutionType::parse("ROPS").err(),
            crate::http::validate::instant("jutro").err(),
            crate::http::validate::date("jutro").err(),
        ];
        for e in refusals.into_iter().flatten() {
            let text = field_pl(&FieldError::of("field", e.clone()));
            assert!(not_polish(&text).is_none(), "{}: {text}", e.code);
            assert_ne!(text, e.message);
        }
    }

    #[test]
    fn accept_language_is_read_with_its_q_values() {
        for polish in [
            "pl",
            "pl-PL",
            "PL",
            "pl, en",
            "pl-PL,pl;q=0.9,en-US;q=0.8,en;q=0.7",
            "en;q=0.5, pl",
            "de, pl;q=0.5",
            "en;q=0.8, pl;q=0.9",
            "*;q=0.1, pl;q=0.2",
        ] {
            assert!(prefers_polish(polish), "{polish}");
        }
        for english in [
            "",
            "en",
            "en, pl",
            "en-GB,en;q=0.9,pl;q=0.8",
            "pl;q=0",
            "pl;q=0.5, en",
            "de",
            "*",
            "*, pl;q=0.5",
            "pl;q=abc",
            "pl;q=2",
        ] {
            assert!(!prefers_polish(english), "{english}");
        }
    }

    #[test]
    fn a_problem_document_is_said_again_in_polish_keeping_its_codes() {
        let english = serde_json::json!({
            "type": "/problems/invalid_input",
            "title": "Unprocessable Entity",
            "status": 422,
            "detail": "2 fields are invalid",
            "errors": [
                {"field": "institution.nip", "code": "nip_digits", "message": "NIP must have 10 digits"},
                {"field": "person.first_name", "code": "text_too_long", "message": "must be at most 100 characters long", "limit": 100}
            ],
            "position": 7
        });
        let mut doc = english.clone();
        problem_pl(&mut doc);
        assert_eq!(doc["title"], "Nieprawidłowe dane");
        assert_eq!(
            doc["detail"],
            "2 pola zawierają błędy — popraw każde z nich."
        );
        assert_eq!(
            doc["errors"][0]["message"],
            "NIP ma 10 cyfr — sprawdź, czy nie brakuje cyfry ani nie ma zbędnej."
        );
        assert_eq!(
            doc["errors"][1]["message"],
            "Imię może mieć najwyżej 100 znaków — skróć tekst."
        );
        for keep in ["type", "status", "position"] {
            assert_eq!(doc[keep], english[keep], "{keep}");
        }
        for i in 0..2 {
            for keep in ["field", "code", "limit"] {
                assert_eq!(doc["errors"][i][keep], english["errors"][i][keep]);
            }
        }
        // A 404 the domain named: its precise code chooses the sentence.
        let mut missing = serde_json::json!({
            "type": "/problems/not_found", "title": "Not Found", "status": 404,
            "detail": "This study visit has no term 0190c6a0-0000-7000-8000-000000000000.",
            "code": "term_not_found"
        });
        problem_pl(&mut missing);
        assert_eq!(
            missing["detail"],
            "Ta wizyta studyjna nie ma takiego terminu — sprawdź identyfikator."
        );
        assert_eq!(missing["code"], "term_not_found");
        // One field: its path and its message.
        let mut one = serde_json::to_value(
            ApiError::invalid_field("consent", "consent_required", "consent is required").problem(),
        )
        .unwrap_or_default();
        problem_pl(&mut one);
        assert_eq!(
            one["detail"],
            "consent: Zaznacz zgodę na przetwarzanie danych osobowych na potrzeby rekrutacji — bez niej nie można przyjąć zgłoszenia."
        );
    }

    #[test]
    fn reading_values_never_panics_on_any_text() {
        for english in [
            "",
            "'",
            "''",
            "ż'1ż'2022-01-01ż",
            "2022-13-45 and 2022-02-30T25:00:00Z",
            "2022-06-23 11:00 (Europe/Warsa",
            "2022-06-23T",
            "NIP 12345678901234567890123",
            "'ąę' 'x",
            "99999999999999999999999 then 1",
            "Ω2022-06-23Ω",
        ] {
            let v = Values::of(english);
            for code in every_code() {
                let _ = catalogue(code, "x", Some(3), english);
            }
            assert!(v.dates.len() <= 3, "{english}: {v:?}");
        }
        assert_eq!(Values::of("'ąę' 'x").quoted, ["ąę"]);
        assert_eq!(Values::of("Ω2022-06-23Ω").dates, ["23 czerwca 2022 r."]);
    }

    #[test]
    fn counts_and_plurals_are_polish() {
        assert_eq!(plural(1, "pole", "pola", "pól"), "pole");
        assert_eq!(plural(3, "pole", "pola", "pól"), "pola");
        assert_eq!(plural(5, "pole", "pola", "pól"), "pól");
        assert_eq!(plural(12, "pole", "pola", "pól"), "pól");
        assert_eq!(plural(22, "pole", "pola", "pól"), "pola");
        assert_eq!(number(1000), "1000");
        assert_eq!(number(20_000), "20 000");
        assert_eq!(number(1_000_000), "1 000 000");
        let five: Vec<FieldError> = (0..5)
            .map(|i| FieldError::new(format!("f{i}"), "required", "is required"))
            .collect();
        assert_eq!(
            fields_detail(&five),
            "5 pól zawiera błędy — popraw każde z nich."
        );
    }
}
