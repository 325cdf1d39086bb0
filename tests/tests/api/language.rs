//! Refusals in the language the client asks for: the same problem documents in English (the
//! default) and in Polish (`Accept-Language: pl`), differing only in their sentences; the
//! deadline shown as Polish people write it; a stored idempotent answer replayed in Polish.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use tests::{application_body, bad_nip, instant, nip, Answer, TestApp};

const DEADLINE: &str = "2022-06-23T11:00:00+02:00";
const POLISH: (&str, &str) = ("Accept-Language", "pl-PL,pl;q=0.9,en-US;q=0.8,en;q=0.7");

/// A visit with one term whose recruitment is open until [`DEADLINE`].
async fn open_term(app: &TestApp) -> (String, String) {
    let visit = app.announce_visit(Some(2)).await;
    let a = app
        .post(
            &format!("/api/v1/study-visits/{visit}/terms"),
            &app.coordinator,
            json!({"label": "termin", "starts_on": "2022-06-27", "ends_on": "2022-06-28", "seats": 3, "recruitment_deadline": DEADLINE}),
        )
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    let term = a.str("term_id");
    app.open(&visit, &term).await;
    (visit, term)
}

fn applications(visit: &str, term: &str) -> String {
    format!("/api/v1/study-visits/{visit}/terms/{term}/applications")
}

fn header<'a>(a: &'a Answer, name: &str) -> &'a str {
    a.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// `(field, code)` of each error, in order.
fn fields_and_codes(a: &Answer) -> Vec<(String, String)> {
    a.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {a:?}"))
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn message_of<'a>(a: &'a Answer, field: &str) -> &'a str {
    a.body["errors"]
        .as_array()
        .and_then(|errors| errors.iter().find(|e| e["field"] == field))
        .and_then(|e| e["message"].as_str())
        .unwrap_or_else(|| panic!("no error for {field}: {a:?}"))
}

#[tokio::test]
async fn the_same_invalid_submission_in_english_and_in_polish() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let (visit, term) = open_term(&app).await;
    let mut body = application_body("anna@gmina.pl", &bad_nip(41), "JST");
    body["person"]["first_name"] = "   ".into();
    body["person"]["email"] = "anna@gmina".into();
    body["institution"]["regon"] = "1234".into();
    body["consent"] = false.into();
    let path = applications(&visit, &term);

    let english = app.call("POST", &path, None, Some(body.clone())).await;
    let polish = app
        .call_with("POST", &path, None, Some(body), &[POLISH])
        .await;

    for a in [&english, &polish] {
        assert_eq!(a.status, 422, "{a:?}");
        assert_eq!(a.body["type"], "/problems/invalid_input");
        assert_eq!(header(a, "vary"), "accept-language");
    }
    assert_eq!(header(&english, "content-language"), "en");
    assert_eq!(header(&polish, "content-language"), "pl");
    // The same fields with the same codes; only the sentences differ.
    let expected: Vec<(String, String)> = [
        ("person.first_name", "text_empty"),
        ("person.email", "email_domain"),
        ("institution.nip", "nip_check_digit"),
        ("institution.regon", "regon_digits"),
        ("consent", "consent_required"),
    ]
    .iter()
    .map(|(f, c)| ((*f).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(fields_and_codes(&english), expected);
    assert_eq!(fields_and_codes(&polish), expected);

    assert_eq!(english.body["title"], "Unprocessable Entity");
    assert_eq!(english.body["detail"], "5 fields are invalid");
    assert_eq!(
        message_of(&english, "institution.nip"),
        "NIP check digit is wrong"
    );
    assert_eq!(
        message_of(&english, "institution.regon"),
        "REGON must have 9 or 14 digits"
    );

    assert_eq!(polish.body["title"], "Nieprawidłowe dane");
    assert_eq!(
        polish.body["detail"],
        "5 pól zawiera błędy — popraw każde z nich."
    );
    assert_eq!(message_of(&polish, "person.first_name"), "Wpisz imię.");
    assert_eq!(
        message_of(&polish, "person.email"),
        "Po znaku @ wpisz domenę z kropką, np. gmina.pl."
    );
    assert!(
        message_of(&polish, "institution.nip").starts_with("Ten NIP ma błędną cyfrę kontrolną"),
        "{polish:?}"
    );
    assert_eq!(
        message_of(&polish, "institution.regon"),
        "REGON ma 9 lub 14 cyfr — sprawdź, czy nie brakuje cyfry ani nie ma zbędnej."
    );
    assert!(message_of(&polish, "consent").starts_with("Zaznacz zgodę"));

    // A NIP one digit short, alone: the detail names the field and says how to fix it.
    let mut short = application_body("anna@gmina.pl", &nip(42)[..9], "JST");
    short["person"]["first_name"] = "Anna".into();
    let a = app
        .call_with(
            "POST",
            &path,
            None,
            Some(short),
            &[("Accept-Language", "pl")],
        )
        .await;
    assert_eq!(a.status, 422, "{a:?}");
    assert_eq!(
        a.body["detail"],
        "institution.nip: NIP ma 10 cyfr — sprawdź, czy nie brakuje cyfry ani nie ma zbędnej."
    );
    assert_eq!(a.body["errors"][0]["code"], "nip_digits");
}

#[tokio::test]
async fn a_late_application_is_refused_in_polish_with_the_deadline_as_people_write_it() {
    let (app, clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    // The deadline watcher closes a term within a poll of its deadline, and a closed term
    // refuses with `recruitment_not_open` instead: a term whose submission lost that race is
    // tried again with a later one. The answer, stored under its Idempotency-Key, is then
    // replayed in each language.
    let mut refused = None;
    for day in 23..28 {
        let deadline = format!("2022-06-{day}T11:00:00+02:00");
        let a = app
            .post(
                &format!("/api/v1/study-visits/{visit}/terms"),
                &app.coordinator,
                json!({"label": format!("termin {day}"), "starts_on": "2022-06-29", "ends_on": "2022-06-30", "seats": 3, "recruitment_deadline": deadline}),
            )
            .await;
        assert_eq!(a.status, 201, "{a:?}");
        let term = a.str("term_id");
        app.open(&visit, &term).await;
        clock.set(instant(&deadline));
        let key = format!("late-{day}");
        let path = applications(&visit, &term);
        let body = application_body("za.pozno@gmina.pl", &nip(43), "JST");
        let polish = app
            .call_with(
                "POST",
                &path,
                None,
                Some(body.clone()),
                &[POLISH, ("Idempotency-Key", &key)],
            )
            .await;
        assert_eq!(polish.status, 409, "{polish:?}");
        if polish.body["type"] == "/problems/deadline_passed" {
            refused = Some((polish, path, body, key, day));
            break;
        }
        assert_eq!(polish.body["type"], "/problems/recruitment_not_open");
    }
    let (polish, path, body, key, day) = refused.expect("a submission reached its open term");
    assert_eq!(polish.body["title"], "Konflikt");
    assert_eq!(
        polish.body["detail"],
        format!(
            "Zgłoszenia na ten termin przyjmowano do {day} czerwca 2022 r., 11:00 — ten czas już minął."
        )
    );
    assert_eq!(header(&polish, "content-language"), "pl");

    // English is the default, and what a client preferring English gets.
    for asked in [None, Some("en, pl;q=0.5"), Some("de")] {
        let mut headers = vec![("Idempotency-Key", key.as_str())];
        headers.extend(asked.map(|v| ("Accept-Language", v)));
        let english = app
            .call_with("POST", &path, None, Some(body.clone()), &headers)
            .await;
        assert_eq!(english.status, 409, "{english:?}");
        assert_eq!(english.body["type"], polish.body["type"]);
        assert_eq!(english.body["title"], "Conflict");
        assert_eq!(
            english.body["detail"],
            format!(
                "The recruitment deadline for this term passed at 2022-06-{day} 11:00 (Europe/Warsaw)."
            )
        );
        assert_eq!(header(&english, "content-language"), "en");
    }
}

#[tokio::test]
async fn refusals_of_the_api_itself_and_replays_answer_in_polish_too() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let (visit, _term) = open_term(&app).await;

    // A 404 the domain named keeps `type` and gives its precise `code`.
    let missing = app
        .call_with(
            "POST",
            &applications(&visit, "0190c6a0-0000-7000-8000-000000000000"),
            None,
            Some(application_body("anna@gmina.pl", &nip(44), "JST")),
            &[("Accept-Language", "pl")],
        )
        .await;
    assert_eq!(missing.status, 404, "{missing:?}");
    assert_eq!(missing.body["type"], "/problems/not_found");
    assert_eq!(missing.body["code"], "term_not_found");
    assert_eq!(
        missing.body["detail"],
        "Ta wizyta studyjna nie ma takiego terminu — sprawdź identyfikator."
    );

    // Without a token.
    let a = app
        .call_with(
            "POST",
            "/api/v1/study-visits",
            None,
            Some(json!({})),
            &[("Accept-Language", "pl")],
        )
        .await;
    assert_eq!(a.status, 401, "{a:?}");
    assert_eq!(a.body["title"], "Brak uwierzytelnienia");
    assert!(a.body["detail"]
        .as_str()
        .unwrap()
        .starts_with("Podaj ważny token"));

    // Unparsable JSON, and a field of the wrong type.
    let a = app
        .call_raw(
            "POST",
            "/api/v1/study-visits",
            Some(&app.coordinator),
            "application/json",
            "{\"title\": ",
        )
        .await;
    assert_eq!(a.status, 400, "{a:?}");
    assert_eq!(a.body["errors"][0]["code"], "invalid_json");

    // An answer stored for an Idempotency-Key is replayed in the language asked now.
    let path = format!("/api/v1/study-visits/{visit}/terms");
    let bad_term = json!({"label": "x", "starts_on": "2022-07-02", "ends_on": "2022-07-01", "seats": 0, "recruitment_deadline": DEADLINE});
    let key = ("Idempotency-Key", "language-replay-1");
    let first = app
        .call_with(
            "POST",
            &path,
            Some(&app.coordinator),
            Some(bad_term.clone()),
            &[key],
        )
        .await;
    assert_eq!(first.status, 422, "{first:?}");
    let replayed = app
        .call_with(
            "POST",
            &path,
            Some(&app.coordinator),
            Some(bad_term),
            &[key, ("Accept-Language", "pl")],
        )
        .await;
    assert_eq!(replayed.status, 422, "{replayed:?}");
    assert_eq!(fields_and_codes(&replayed), fields_and_codes(&first));
    assert_eq!(header(&replayed, "content-language"), "pl");
    assert_eq!(
        message_of(&replayed, "seats"),
        "Podaj liczbę miejsc od 1 do 10 000."
    );
    let english: Value = first.body["errors"].clone();
    assert_ne!(replayed.body["errors"], english);
}
