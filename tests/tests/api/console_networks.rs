//! The console's networks pages through HTTP (seed 004): ROPS Olsztyn keeps the registry
//! of the Regional Cooperation Platform from the forms — establishing it, its regulations,
//! members by declaration of accession, the chair and vice-chair, the founding meeting and
//! a member leaving — as a coordinator would in a browser, and what the API's registry
//! then holds. Another organizer's coordinator does not find the network; an evaluator
//! reads it without a form and cannot post. People are invented.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use infra::tokens::Role;
use serde_json::{json, Value};
use tests::console::{account, Browser, Page, PASSWORD};
use tests::{expect, institution, nip, TestApp};

const PLATFORM: &str = "Regionalna Platforma Współpracy na rzecz Rozwoju Ekonomii Społecznej";
const DECLARATION: &str = "deklaracja__przystapienia_do_sieci.docx";
const REGULATIONS: &str = "regulamin__Platforma_Współpracy_na_Rzecz_Rozwoju_ES.DOC";

/// Invented officers.
const CHAIR: (&str, &str) = ("Tadeusz", "Wróblewski");
const VICE_CHAIR: (&str, &str) = ("Halina", "Jaskólska");

/// Some of the platform's members: (type, name, NIP seed).
const MEMBERS: [(&str, &str, u32); 3] = [
    ("ZAZ", "Zakład Aktywności Zawodowej w Biskupcu", 400210),
    ("CIS", "Centrum Integracji Społecznej w Elblągu", 400010),
    ("WTZ", "Warsztat Terapii Zajęciowej w Suszu", 400310),
];

async fn events(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The position a form's redirect carries (`…?zrobione=1&po=N`).
fn position(done: &Page) -> i64 {
    done.location
        .split("po=")
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no position in {:?}", done.location))
}

/// The registry as the API answers it once it has `position`.
async fn registry(app: &TestApp, network: &str, position: i64) -> Value {
    let r = app
        .get(
            &format!("/api/v1/networks/{network}/registry?min_position={position}"),
            &app.other_coordinator,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// The member id of the institution with NIP `nip` in a registry.
fn member_id(registry: &Value, nip: &str) -> String {
    registry["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["institution"]["nip"] == nip)
        .and_then(|m| m["member_id"].as_str())
        .unwrap_or_else(|| panic!("no member with NIP {nip} in {registry}"))
        .to_owned()
}

fn assert_links(page: &Page, fields: &[&str]) {
    for field in fields {
        assert!(
            page.html.contains(&format!("href=\"#{field}\"")),
            "the summary links to {field}: {}",
            page.html
        );
    }
}

#[tokio::test]
async fn a_coordinator_keeps_the_platforms_registry_from_forms() {
    let app = tests::spawn().await;
    account(
        &app,
        "ewa@rops-olsztyn.pl",
        Role::Coordinator,
        Some("rops-olsztyn"),
    )
    .await;
    let mut b = Browser::new(&app);
    b.sign_in("ewa@rops-olsztyn.pl", PASSWORD).await;

    let list = b.get("/panel/sieci").await;
    assert_eq!(list.status, 200, "{}", list.html);
    assert!(list.html.contains("href=\"/panel/sieci/nowa\""));

    // Nothing filled in: every missing field is named at once, and nothing is written.
    let empty = b.fill("/panel/sieci/nowa", &[]).await;
    assert_eq!(empty.status, 422, "{}", empty.html);
    assert!(empty.html.contains("Popraw formularz"), "{}", empty.html);
    assert_links(
        &empty,
        &["f-name", "f-region", "f-member-types", "f-established-on"],
    );
    assert_eq!(events(&app).await, 0);

    // 8 December 2016: the platform of CIS, KIS, ZAZ and WTZ.
    let done = b
        .fill(
            "/panel/sieci/nowa",
            &[
                ("name", PLATFORM),
                ("region", "warmińsko-mazurskie"),
                ("member_types", "CIS"),
                ("member_types", "KIS"),
                ("member_types", "ZAZ"),
                ("member_types", "WTZ"),
                ("established_on", "2016-12-08"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.html);
    let network = done
        .location
        .strip_prefix("/panel/sieci/")
        .and_then(|r| r.split('?').next())
        .unwrap()
        .to_owned();
    let page = b.get(&done.location).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Zapisano."), "{}", page.html);
    assert!(page.html.contains(PLATFORM));
    let base = format!("/panel/sieci/{network}");
    for form in ["regulamin/nowy", "czlonkowie/nowy", "spotkania/nowe"] {
        assert!(
            page.html.contains(&format!("href=\"{base}/{form}\"")),
            "a link to {form}: {}",
            page.html
        );
    }

    let adopted = b
        .fill(
            &format!("{base}/regulamin/nowy"),
            &[
                ("version", "1.0"),
                ("title", "Regulamin Regionalnej Platformy Współpracy"),
                ("adopted_on", "2016-12-08"),
                ("document_ref", REGULATIONS),
            ],
        )
        .await;
    assert_eq!(adopted.status, 303, "{}", adopted.html);

    // The same version again is refused: the refusal heads the form, nothing is written.
    let before = events(&app).await;
    let again = b
        .fill(
            &format!("{base}/regulamin/nowy"),
            &[
                ("version", "1.0"),
                ("title", "Regulamin Regionalnej Platformy Współpracy"),
                ("adopted_on", "2017-01-10"),
                ("document_ref", REGULATIONS),
            ],
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.html);
    assert!(again.html.contains("Popraw formularz"), "{}", again.html);
    assert_links(&again, &["f-version"]);
    assert!(again.html.contains("value=\"2017-01-10\""));
    assert_eq!(events(&app).await, before);

    // Members by their declarations of accession.
    let mut last = 0;
    for (kind, name, seed) in MEMBERS {
        let joined = b
            .fill(
                &format!("{base}/czlonkowie/nowy"),
                &[
                    ("institution.name", name),
                    ("institution.type", kind),
                    ("institution.nip", &nip(seed)),
                    ("declaration.signed_on", "2016-12-08"),
                    ("declaration.document_ref", DECLARATION),
                ],
            )
            .await;
        assert_eq!(joined.status, 303, "{name}: {}", joined.html);
        last = position(&joined);
    }
    // A bad NIP is named by its field, what was typed kept.
    let bad = b
        .fill(
            &format!("{base}/czlonkowie/nowy"),
            &[
                ("institution.name", "Klub Integracji Społecznej w Iławie"),
                ("institution.type", "KIS"),
                ("institution.nip", "123"),
                ("declaration.signed_on", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.html);
    assert_links(&bad, &["f-institution-nip", "f-declaration-signed-on"]);
    assert!(bad
        .html
        .contains("value=\"Klub Integracji Społecznej w Iławie\""));

    // The platform admits reintegration entities only: an OWES is named by its type.
    let owes = b
        .fill(
            &format!("{base}/czlonkowie/nowy"),
            &[
                (
                    "institution.name",
                    "Ośrodek Wsparcia Ekonomii Społecznej w Elblągu",
                ),
                ("institution.type", "OWES"),
                ("institution.nip", &nip(401010)),
                ("declaration.signed_on", "2016-12-08"),
            ],
        )
        .await;
    assert_eq!(owes.status, 422, "{}", owes.html);
    assert_links(&owes, &["f-institution-type"]);

    let view = registry(&app, &network, last).await;
    let zaz = member_id(&view, &nip(MEMBERS[0].2));
    let cis = member_id(&view, &nip(MEMBERS[1].2));
    let wtz = member_id(&view, &nip(MEMBERS[2].2));

    // The election form lists the current members by name, the one asked for chosen.
    let election = format!("{base}/funkcje/nowa");
    let form = b.get(&format!("{election}?czlonek={zaz}")).await;
    assert_eq!(form.status, 200, "{}", form.html);
    assert!(
        form.html
            .contains(&format!("<option value=\"{zaz}\" selected>")),
        "{}",
        form.html
    );
    for (_, name, _) in MEMBERS {
        assert!(form.html.contains(name), "{name} is offered: {}", form.html);
    }
    let chair = b
        .fill(
            &election,
            &[
                ("role", "chair"),
                ("person.first_name", CHAIR.0),
                ("person.last_name", CHAIR.1),
                ("member_id", &zaz),
                ("term_starts_on", "2016-12-08"),
            ],
        )
        .await;
    assert_eq!(chair.status, 303, "{}", chair.html);
    // Missing names and a term ending before it starts: each named by its field.
    let wrong = b
        .fill(
            &election,
            &[
                ("role", "vice_chair"),
                ("person.first_name", ""),
                ("person.last_name", VICE_CHAIR.1),
                ("member_id", &cis),
                ("term_starts_on", "2016-12-08"),
                ("term_ends_on", "2016-01-01"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.html);
    assert_links(&wrong, &["f-person-first-name", "f-term-ends-on"]);
    assert!(wrong.html.contains(&format!("value=\"{}\"", VICE_CHAIR.1)));
    let vice = b
        .fill(
            &election,
            &[
                ("role", "vice_chair"),
                ("person.first_name", VICE_CHAIR.0),
                ("person.last_name", VICE_CHAIR.1),
                ("member_id", &cis),
                ("term_starts_on", "2016-12-08"),
                ("term_ends_on", "2020-12-08"),
            ],
        )
        .await;
    assert_eq!(vice.status, 303, "{}", vice.html);

    // The founding meeting: two days, 100 participants, its topics one per line.
    let meeting = format!("{base}/spotkania/nowe");
    let not_a_number = b
        .fill(
            &meeting,
            &[
                ("title", "Spotkanie sieciujące podmiotów reintegracyjnych"),
                ("when", "8-9.12.2016"),
                ("participants_total", "stu"),
            ],
        )
        .await;
    assert_eq!(not_a_number.status, 422, "{}", not_a_number.html);
    assert_links(&not_a_number, &["f-participants-total"]);
    let met = b
        .fill(
            &meeting,
            &[
                ("title", "Spotkanie sieciujące podmiotów reintegracyjnych"),
                ("when", "8-9.12.2016"),
                ("location", "Olsztyn"),
                ("participants_total", "100"),
                (
                    "topics",
                    "Założenia Regionalnej Platformy Współpracy\r\nDobre praktyki ZAZ i WTZ\r\n",
                ),
            ],
        )
        .await;
    assert_eq!(met.status, 303, "{}", met.html);

    // The workshop leaves.
    let left = b
        .fill(
            &format!("{base}/czlonkowie/{wtz}/wystapienie"),
            &[
                ("left_on", "2019-12-31"),
                ("reason", "Likwidacja warsztatu"),
            ],
        )
        .await;
    assert_eq!(left.status, 303, "{}", left.html);

    // The registry through the API holds all of it.
    let view = registry(&app, &network, position(&left)).await;
    assert_eq!(view["regulations"]["current"]["version"], "1.0");
    assert_eq!(view["regulations"]["current"]["document_ref"], REGULATIONS);
    let members = view["members"].as_array().unwrap();
    assert_eq!(members.len(), 3, "{view}");
    let status_of = |id: &str| {
        members
            .iter()
            .find(|m| m["member_id"] == id)
            .map(|m| m["status"].clone())
            .unwrap()
    };
    assert_eq!(status_of(&zaz), "active");
    assert_eq!(status_of(&wtz), "left");
    assert!(members
        .iter()
        .all(|m| m["declaration"]["document_ref"] == DECLARATION));
    let officers = view["officers"].as_array().unwrap();
    let holder = |role: &str| {
        officers
            .iter()
            .find(|o| o["role"] == role)
            .unwrap_or_else(|| panic!("no {role} in {view}"))
    };
    assert_eq!(holder("chair")["member_id"], zaz.as_str());
    assert_eq!(
        holder("chair")["person"],
        json!({"first_name": CHAIR.0, "last_name": CHAIR.1})
    );
    assert_eq!(holder("vice_chair")["member_id"], cis.as_str());
    assert_eq!(holder("vice_chair")["term_ends_on"], "2020-12-08");
    let meetings = view["meeting_list"].as_array().unwrap();
    assert_eq!(meetings.len(), 1, "{view}");
    assert_eq!(meetings[0]["participants_total"], 100);
    assert_eq!(meetings[0]["location"], "Olsztyn");
    assert_eq!(
        meetings[0]["topics"],
        json!([
            "Założenia Regionalnej Platformy Współpracy",
            "Dobre praktyki ZAZ i WTZ"
        ])
    );

    // The console's registry page shows it too, in Polish.
    let page = b.get(&left.location).await;
    assert_eq!(page.status, 200, "{}", page.html);
    for shown in [
        REGULATIONS,
        CHAIR.1,
        VICE_CHAIR.1,
        "przewodniczący",
        "Likwidacja warsztatu",
        "Dobre praktyki ZAZ i WTZ",
        "8–9 grudnia 2016 r.",
    ] {
        assert!(page.html.contains(shown), "{shown}: {}", page.html);
    }
    // Only current members can still leave.
    assert!(page
        .html
        .contains(&format!("{base}/czlonkowie/{zaz}/wystapienie")));
    assert!(!page
        .html
        .contains(&format!("{base}/czlonkowie/{wtz}/wystapienie")));
    let list = b.get("/panel/sieci").await;
    assert!(
        list.html.contains(&format!("href=\"{base}\"")),
        "{}",
        list.html
    );

    // Every event names the account that acted.
    let actors: Vec<String> = sqlx::query_scalar("SELECT DISTINCT metadata->>'actor' FROM events")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(actors.len(), 1, "{actors:?}");
    assert!(actors[0].starts_with("user:"), "{actors:?}");
}

#[tokio::test]
async fn another_organizer_finds_nothing_and_an_evaluator_only_reads() {
    let app = tests::spawn().await;
    // ROPS Olsztyn's platform, with a member and its chair, through the API.
    let network = expect(
        app.post(
            "/api/v1/networks",
            &app.other_coordinator,
            json!({"name": PLATFORM, "region": "warmińsko-mazurskie",
                   "member_types": ["CIS", "KIS", "ZAZ", "WTZ"], "established_on": "2016-12-08"}),
        )
        .await,
        201,
    )
    .str("id");
    let (kind, name, seed) = MEMBERS[0];
    let member = expect(
        app.post(
            &format!("/api/v1/networks/{network}/members"),
            &app.other_coordinator,
            json!({"institution": institution(kind, name, seed),
                   "declaration": {"signed_on": "2016-12-08", "document_ref": DECLARATION}}),
        )
        .await,
        201,
    )
    .str("member_id");
    let elected = expect(
        app.post(
            &format!("/api/v1/networks/{network}/officers"),
            &app.other_coordinator,
            json!({"role": "chair", "person": {"first_name": CHAIR.0, "last_name": CHAIR.1},
                   "member_id": member, "term_starts_on": "2016-12-08"}),
        )
        .await,
        200,
    );
    let written = elected.body["position"].as_i64().unwrap();
    registry(&app, &network, written).await;
    let base = format!("/panel/sieci/{network}");

    // A coordinator of ROPS Toruń: not found, not listed, and a post changes nothing.
    account(
        &app,
        "anna@rops-torun.pl",
        Role::Coordinator,
        Some("rops-torun"),
    )
    .await;
    let mut other = Browser::new(&app);
    other.sign_in("anna@rops-torun.pl", PASSWORD).await;
    for path in [
        base.clone(),
        format!("{base}/regulamin/nowy"),
        format!("{base}/czlonkowie/nowy"),
        format!("{base}/funkcje/nowa"),
        format!("{base}/spotkania/nowe"),
        format!("{base}/czlonkowie/{member}/wystapienie"),
    ] {
        assert_eq!(other.get(&path).await.status, 404, "{path}");
    }
    let before = events(&app).await;
    let post = other
        .post(
            &format!("{base}/spotkania/nowe"),
            &[
                ("title", "Cudze spotkanie"),
                ("when", "05.2020"),
                ("participants_total", "5"),
            ],
        )
        .await;
    assert_eq!(post.status, 404);
    assert!(!other.get("/panel/sieci").await.html.contains(PLATFORM));

    // An evaluator reads the registry, without a form or an officer's name.
    account(&app, "ocena@ewaluacja.pl", Role::Evaluator, None).await;
    let mut evaluator = Browser::new(&app);
    evaluator.sign_in("ocena@ewaluacja.pl", PASSWORD).await;
    let list = evaluator.get("/panel/sieci").await;
    assert!(list.html.contains(PLATFORM), "{}", list.html);
    assert!(!list.html.contains("/panel/sieci/nowa"));
    let page = evaluator.get(&base).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains(name), "{}", page.html);
    assert!(page.html.contains("przewodniczący"), "{}", page.html);
    assert!(!page.html.contains(CHAIR.1), "{}", page.html);
    assert!(!page.html.contains("<form"), "{}", page.html);
    assert!(!page.html.contains(&format!("{base}/")), "{}", page.html);
    let refused = evaluator
        .post(
            &format!("{base}/regulamin/nowy"),
            &[
                ("version", "2.0"),
                ("title", "Regulamin"),
                ("adopted_on", "2020-01-01"),
                ("document_ref", "regulamin.doc"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.html);
    assert!(
        refused.html.contains("Tylko do odczytu"),
        "{}",
        refused.html
    );
    assert_eq!(
        evaluator.get(&format!("{base}/funkcje/nowa")).await.status,
        403
    );
    assert_eq!(events(&app).await, before);
}
