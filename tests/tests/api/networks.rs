//! Networks through HTTP (seed 004, also 002): the founding day of the Regional Cooperation
//! Platform of CIS, KIS, ZAZ and WTZ with its chair and vice-chair and, beside it, the
//! regional OWES network with its coordinator; declarations of accession, regulations,
//! elections and succession, a member leaving with its office, the meetings of 2020, and
//! who may see what. People are invented.
#![allow(clippy::unwrap_used)]

use infra::tokens::{self, Role};
use serde_json::{json, Value};
use tests::{expect, institution, nip, spawn, Answer, TestApp};

const PLATFORM: &str = "Regionalna Platforma Współpracy na rzecz Rozwoju Ekonomii Społecznej";
const OWES_NETWORK: &str = "Warmińsko-Mazurska Sieć Ośrodków Wsparcia Ekonomii Społecznej";
const DECLARATION: &str = "deklaracja__przystapienia_do_sieci.docx";
const REGULATIONS: &str = "regulamin__Platforma_Współpracy_na_Rzecz_Rozwoju_ES.DOC";

/// The members of the platform: (key, type, name, NIP seed).
const PLATFORM_MEMBERS: [(&str, &str, &str, u32); 9] = [
    (
        "cis_elblag",
        "CIS",
        "Centrum Integracji Społecznej w Elblągu",
        400010,
    ),
    (
        "cis_ketrzyn",
        "CIS",
        "Centrum Integracji Społecznej w Kętrzynie",
        400020,
    ),
    (
        "cis_olsztyn",
        "CIS",
        "Centrum Integracji Społecznej w Olsztynie",
        400030,
    ),
    (
        "kis_ilawa",
        "KIS",
        "Klub Integracji Społecznej w Iławie",
        400110,
    ),
    (
        "kis_gizycko",
        "KIS",
        "Klub Integracji Społecznej w Giżycku",
        400120,
    ),
    (
        "zaz_biskupiec",
        "ZAZ",
        "Zakład Aktywności Zawodowej w Biskupcu",
        400210,
    ),
    (
        "zaz_elk",
        "ZAZ",
        "Zakład Aktywności Zawodowej w Ełku",
        400220,
    ),
    (
        "wtz_susz",
        "WTZ",
        "Warsztat Terapii Zajęciowej w Suszu",
        400310,
    ),
    (
        "wtz_bartoszyce",
        "WTZ",
        "Warsztat Terapii Zajęciowej w Bartoszycach",
        400320,
    ),
];

const OWES_MEMBERS: [(&str, &str, &str, u32); 3] = [
    (
        "owes_elblag",
        "OWES",
        "Ośrodek Wsparcia Ekonomii Społecznej w Elblągu",
        401010,
    ),
    (
        "owes_olsztyn",
        "OWES",
        "Ośrodek Wsparcia Ekonomii Społecznej w Olsztynie",
        401020,
    ),
    (
        "owes_elk",
        "OWES",
        "Ośrodek Wsparcia Ekonomii Społecznej w Ełku",
        401030,
    ),
];

/// Invented officers.
const CHAIR: (&str, &str) = ("Tadeusz", "Wróblewski");
const VICE_CHAIR: (&str, &str) = ("Halina", "Jaskólska");
const OWES_COORDINATOR: (&str, &str) = ("Bogdan", "Szczygieł");
const NEW_CHAIR: (&str, &str) = ("Renata", "Kowalczyk-Zięba");

/// What the founding day left: the two networks and their members' ids.
struct Founding {
    platform: String,
    owes: String,
    members: Vec<(String, String)>,
    chair: String,
    vice_chair: String,
    coordinator: String,
    position: i64,
}

impl Founding {
    fn member(&self, key: &str) -> String {
        self.members
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, id)| id.clone())
            .unwrap()
    }
}

async fn join(app: &TestApp, network: &str, inst: Value) -> Answer {
    app.post(
        &format!("/api/v1/networks/{network}/members"),
        &app.other_coordinator,
        json!({"institution": inst, "declaration": {"signed_on": "2016-12-08", "document_ref": DECLARATION}}),
    )
    .await
}

async fn elect(
    app: &TestApp,
    network: &str,
    role: &str,
    person: (&str, &str),
    member: &str,
    starts: &str,
    ends: &str,
) -> Answer {
    app.post(
        &format!("/api/v1/networks/{network}/officers"),
        &app.other_coordinator,
        json!({"role": role, "person": {"first_name": person.0, "last_name": person.1},
               "member_id": member, "term_starts_on": starts, "term_ends_on": ends}),
    )
    .await
}

/// Seed 004: ROPS Olsztyn establishes both networks on 8 December 2016, adopts the
/// platform's regulations, admits members by declaration and constitutes the authorities.
async fn founding_day(app: &TestApp) -> Founding {
    let coord = &app.other_coordinator;
    let platform = expect(
        app.post(
            "/api/v1/networks",
            coord,
            json!({"name": PLATFORM, "region": "warmińsko-mazurskie",
                   "member_types": ["CIS", "KIS", "ZAZ", "WTZ"], "established_on": "2016-12-08"}),
        )
        .await,
        201,
    )
    .str("id");
    let owes = expect(
        app.post(
            "/api/v1/networks",
            coord,
            json!({"name": OWES_NETWORK, "region": "warmińsko-mazurskie",
                   "member_types": ["OWES"], "established_on": "2016-12-08"}),
        )
        .await,
        201,
    )
    .str("id");
    expect(
        app.post(
            &format!("/api/v1/networks/{platform}/regulations"),
            coord,
            json!({"version": "1.0", "title": "Regulamin Regionalnej Platformy Współpracy",
                   "adopted_on": "2016-12-08", "document_ref": REGULATIONS}),
        )
        .await,
        200,
    );
    let mut members = Vec::new();
    for (key, kind, name, seed) in PLATFORM_MEMBERS {
        let a = expect(
            join(app, &platform, institution(kind, name, seed)).await,
            201,
        );
        members.push((key.to_owned(), a.str("member_id")));
    }
    for (key, kind, name, seed) in OWES_MEMBERS {
        let a = expect(join(app, &owes, institution(kind, name, seed)).await, 201);
        members.push((key.to_owned(), a.str("member_id")));
    }
    let find = |key: &str| members.iter().find(|(k, _)| k == key).unwrap().1.clone();
    let chair = expect(
        elect(
            app,
            &platform,
            "chair",
            CHAIR,
            &find("zaz_biskupiec"),
            "2016-12-08",
            "2020-12-31",
        )
        .await,
        200,
    )
    .str("officer_id");
    let vice_chair = expect(
        elect(
            app,
            &platform,
            "vice_chair",
            VICE_CHAIR,
            &find("cis_elblag"),
            "2016-12-08",
            "2020-12-31",
        )
        .await,
        200,
    )
    .str("officer_id");
    let a = expect(
        elect(
            app,
            &owes,
            "coordinator",
            OWES_COORDINATOR,
            &find("owes_elblag"),
            "2016-12-08",
            "2020-12-31",
        )
        .await,
        200,
    );
    let coordinator = a.str("officer_id");
    let a = expect(
        app.post(
            &format!("/api/v1/networks/{platform}/meetings"),
            coord,
            json!({"title": "Spotkanie sieciujące podmioty reintegracyjne",
                   "when": {"from": "2016-12-08", "to": "2016-12-09"}, "location": "Olsztyn",
                   "participants_total": 100,
                   "topics": ["powołanie Regionalnej Platformy Współpracy", "ukonstytuowanie władz",
                              "dobre praktyki ZAZ i WTZ", "rewitalizacja zdegradowanych terenów miejskich"]}),
        )
        .await,
        201,
    );
    Founding {
        platform,
        owes,
        members,
        chair,
        vice_chair,
        coordinator,
        position: a.position(),
    }
}

async fn registry(app: &TestApp, network: &str, token: &str, position: i64) -> Answer {
    app.get(
        &format!("/api/v1/networks/{network}/registry?min_position={position}"),
        token,
    )
    .await
}

#[tokio::test]
async fn founding_day_of_the_platform_and_the_owes_network() {
    let app = spawn().await;
    let f = founding_day(&app).await;

    let r = expect(
        registry(&app, &f.platform, &app.other_coordinator, f.position).await,
        200,
    );
    let b = &r.body;
    assert_eq!(b["id"], f.platform.as_str());
    assert_eq!(b["organizer"], "rops-olsztyn");
    assert_eq!(b["name"], PLATFORM);
    assert_eq!(b["region"], "warmińsko-mazurskie");
    assert_eq!(b["member_types"], json!(["CIS", "KIS", "ZAZ", "WTZ"]));
    assert_eq!(b["established_on"], "2016-12-08");
    assert!(b["position"].as_i64().unwrap() >= f.position);

    // Members in joining order, each with its institution, joining day and status.
    let members = b["members"].as_array().unwrap();
    assert_eq!(members.len(), 9);
    for (m, (key, kind, name, seed)) in members.iter().zip(PLATFORM_MEMBERS) {
        assert_eq!(m["member_id"], f.member(key).as_str());
        assert_eq!(
            m["institution"],
            json!({"name": name, "type": kind, "nip": nip(seed)})
        );
        assert_eq!(m["joined_on"], "2016-12-08");
        assert_eq!(m["status"], "active");
        assert_eq!(m["declaration"]["document_ref"], DECLARATION);
    }
    assert_eq!(
        b["members_by_type"],
        json!({"CIS": 3, "KIS": 2, "ZAZ": 2, "WTZ": 2})
    );

    // The authorities: the chair from the ZAZ in Biskupiec, the vice-chair from the CIS in Elbląg.
    let officers = b["officers"].as_array().unwrap();
    assert_eq!(officers.len(), 2);
    assert_eq!(officers[0]["officer_id"], f.chair.as_str());
    assert_eq!(officers[0]["role"], "chair");
    assert_eq!(officers[0]["member_id"], f.member("zaz_biskupiec").as_str());
    assert_eq!(
        officers[0]["institution"]["name"],
        "Zakład Aktywności Zawodowej w Biskupcu"
    );
    assert_eq!(officers[0]["term_starts_on"], "2016-12-08");
    assert_eq!(officers[0]["term_ends_on"], "2020-12-31");
    assert_eq!(officers[0]["status"], "current");
    assert_eq!(
        officers[0]["person"],
        json!({"first_name": CHAIR.0, "last_name": CHAIR.1})
    );
    assert_eq!(officers[1]["officer_id"], f.vice_chair.as_str());
    assert_eq!(officers[1]["role"], "vice_chair");
    assert_eq!(officers[1]["member_id"], f.member("cis_elblag").as_str());
    assert_eq!(
        officers[1]["person"],
        json!({"first_name": VICE_CHAIR.0, "last_name": VICE_CHAIR.1})
    );
    assert_eq!(b["officer_history"].as_array().unwrap().len(), 2);

    let regulation = json!({"version": "1.0", "title": "Regulamin Regionalnej Platformy Współpracy",
                            "adopted_on": "2016-12-08", "document_ref": REGULATIONS});
    assert_eq!(b["regulations"]["current"], regulation);
    assert_eq!(b["regulations"]["versions"], json!([regulation]));
    assert_eq!(b["meetings"], 1);
    assert_eq!(
        b["meeting_list"][0]["when"],
        json!({"from": "2016-12-08", "to": "2016-12-09"})
    );
    assert_eq!(b["meeting_list"][0]["participants_total"], 100);
    assert_eq!(b["meeting_list"][0]["topics"].as_array().unwrap().len(), 4);

    // The OWES network beside it, with its coordinator.
    let r = expect(
        registry(&app, &f.owes, &app.other_coordinator, f.position).await,
        200,
    );
    assert_eq!(r.body["member_types"], json!(["OWES"]));
    assert_eq!(r.body["members_by_type"], json!({"OWES": 3}));
    assert_eq!(r.body["officers"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["officers"][0]["officer_id"], f.coordinator.as_str());
    assert_eq!(r.body["officers"][0]["role"], "coordinator");
    assert_eq!(
        r.body["officers"][0]["member_id"],
        f.member("owes_elblag").as_str()
    );
    assert_eq!(
        r.body["officers"][0]["person"],
        json!({"first_name": OWES_COORDINATOR.0, "last_name": OWES_COORDINATOR.1})
    );
    assert_eq!(
        r.body["regulations"],
        json!({"current": null, "versions": []})
    );
    assert_eq!(r.body["meetings"], 0);

    // The list of the organizer's networks.
    let l = expect(
        app.get(
            &format!("/api/v1/networks?min_position={}", f.position),
            &app.other_coordinator,
        )
        .await,
        200,
    );
    let list = l.body["networks"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    let p = list
        .iter()
        .find(|n| n["id"] == f.platform.as_str())
        .unwrap();
    assert_eq!(p["name"], PLATFORM);
    assert_eq!(p["active_members"], 9);
    assert_eq!(p["meetings"], 1);
    assert_eq!(p["current_regulations"], "1.0");
    let o = list.iter().find(|n| n["id"] == f.owes.as_str()).unwrap();
    assert_eq!(o["active_members"], 3);
    assert_eq!(o["current_regulations"], Value::Null);
}

#[tokio::test]
async fn admission_rules_types_and_duplicates() {
    let app = spawn().await;
    let f = founding_day(&app).await;

    // The OWES network admits only OWES: a ZAZ is refused, naming the field.
    let a = join(
        &app,
        &f.owes,
        institution("ZAZ", "Zakład Aktywności Zawodowej w Ełku", 400220),
    )
    .await;
    assert_eq!(a.status, 422, "{a:?}");
    assert_eq!(a.body["errors"][0]["field"], "institution.type");
    // So is a PES on the platform: it admits only the four reintegration kinds.
    let a = join(
        &app,
        &f.platform,
        institution("PES", "Spółdzielnia Socjalna Razem", 402010),
    )
    .await;
    assert_eq!(a.status, 422, "{a:?}");
    assert_eq!(a.body["errors"][0]["field"], "institution.type");

    // The same NIP again (even written with dashes, under another name) is a duplicate.
    let n = nip(400010);
    let dashed = format!("{}-{}-{}-{}", &n[0..3], &n[3..6], &n[6..8], &n[8..10]);
    let a = join(
        &app,
        &f.platform,
        json!({"name": "CIS Elbląg (inna nazwa)", "type": "CIS", "nip": dashed}),
    )
    .await;
    assert_eq!(a.status, 409, "{a:?}");
    assert_eq!(a.body["type"], "/problems/already_member");

    // A network admitting PES admits its kinds.
    let pes = expect(
        app.post(
            "/api/v1/networks",
            &app.other_coordinator,
            json!({"name": "Sieć PES", "region": "warmińsko-mazurskie", "member_types": ["PES"],
                   "established_on": "2017-03-01"}),
        )
        .await,
        201,
    )
    .str("id");
    for (i, kind) in ["CIS", "NGO", "WTZ", "PES"].iter().enumerate() {
        expect(
            join(
                &app,
                &pes,
                institution(kind, &format!("{kind} {i}"), 403000 + 10 * i as u32),
            )
            .await,
            201,
        );
    }
    let a = join(&app, &pes, institution("JST", "Gmina Testowo", 403100)).await;
    assert_eq!(a.status, 422, "{a:?}");

    // A second adoption of version 1.0 is refused.
    let a = app
        .post(
            &format!("/api/v1/networks/{}/regulations", f.platform),
            &app.other_coordinator,
            json!({"version": "1.0", "title": "Regulamin", "adopted_on": "2017-01-01", "document_ref": "x.doc"}),
        )
        .await;
    assert_eq!(a.status, 409, "{a:?}");
    // A new version becomes the current one; the history keeps both.
    let a = expect(
        app.post(
            &format!("/api/v1/networks/{}/regulations", f.platform),
            &app.other_coordinator,
            json!({"version": "2.0", "title": "Regulamin (tekst jednolity)", "adopted_on": "2019-05-20",
                   "document_ref": "regulamin_2019.pdf"}),
        )
        .await,
        200,
    );
    let r = expect(
        registry(&app, &f.platform, &app.other_coordinator, a.position()).await,
        200,
    );
    assert_eq!(r.body["regulations"]["current"]["version"], "2.0");
    let versions: Vec<&str> = r.body["regulations"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, vec!["1.0", "2.0"]);
}

#[tokio::test]
async fn succession_and_a_member_leaving_with_its_office() {
    let app = spawn().await;
    let f = founding_day(&app).await;
    let coord = &app.other_coordinator;

    // Re-election: a new chair from the CIS in Olsztyn ends the first chair's term.
    let a = expect(
        elect(
            &app,
            &f.platform,
            "chair",
            NEW_CHAIR,
            &f.member("cis_olsztyn"),
            "2019-01-15",
            "2022-12-31",
        )
        .await,
        200,
    );
    let new_chair = a.str("officer_id");
    let r = expect(registry(&app, &f.platform, coord, a.position()).await, 200);
    let chairs: Vec<&Value> = r.body["officers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["role"] == "chair")
        .collect();
    assert_eq!(chairs.len(), 1);
    assert_eq!(chairs[0]["officer_id"], new_chair.as_str());
    let history = r.body["officer_history"].as_array().unwrap();
    assert_eq!(history.len(), 3);
    let first = history
        .iter()
        .find(|o| o["officer_id"] == f.chair.as_str())
        .unwrap();
    assert_eq!(first["status"], "ended");
    assert_eq!(first["ended_on"], "2019-01-15");
    assert_eq!(first["end_reason"], "succeeded");
    assert_eq!(
        first["person"],
        json!({"first_name": CHAIR.0, "last_name": CHAIR.1})
    );
    let second = history
        .iter()
        .find(|o| o["officer_id"] == new_chair.as_str())
        .unwrap();
    assert_eq!(second["status"], "current");
    assert_eq!(second["end_reason"], Value::Null);

    // The CIS in Elbląg leaves: its vice-chair loses the office.
    let elblag = f.member("cis_elblag");
    let a = expect(
        app.post(
            &format!("/api/v1/networks/{}/members/{elblag}/leave", f.platform),
            coord,
            json!({"left_on": "2019-06-30", "reason": "likwidacja CIS"}),
        )
        .await,
        200,
    );
    let r = expect(registry(&app, &f.platform, coord, a.position()).await, 200);
    let b = &r.body;
    let m = b["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["member_id"] == elblag.as_str())
        .unwrap();
    assert_eq!(m["status"], "left");
    assert_eq!(m["left_on"], "2019-06-30");
    assert_eq!(m["left_reason"], "likwidacja CIS");
    assert_eq!(
        b["members_by_type"],
        json!({"CIS": 2, "KIS": 2, "ZAZ": 2, "WTZ": 2})
    );
    let roles: Vec<&str> = b["officers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, vec!["chair"]);
    let vice = b["officer_history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["officer_id"] == f.vice_chair.as_str())
        .unwrap();
    assert_eq!(vice["status"], "ended");
    assert_eq!(vice["ended_on"], "2019-06-30");
    assert_eq!(vice["end_reason"], "member_left");

    // It cannot leave twice, nor provide an officer any more.
    let a = app
        .post(
            &format!("/api/v1/networks/{}/members/{elblag}/leave", f.platform),
            coord,
            json!({"left_on": "2019-07-01", "reason": "ponownie"}),
        )
        .await;
    assert_eq!(a.status, 409, "{a:?}");
    let a = elect(
        &app,
        &f.platform,
        "vice_chair",
        VICE_CHAIR,
        &elblag,
        "2019-07-01",
        "2022-12-31",
    )
    .await;
    assert_eq!(a.status, 409, "{a:?}");
    // Nor can a member of another network, or an unknown one.
    let a = elect(
        &app,
        &f.platform,
        "secretary",
        VICE_CHAIR,
        &f.member("owes_olsztyn"),
        "2019-07-01",
        "2022-12-31",
    )
    .await;
    assert_eq!(a.status, 409, "{a:?}");
    let a = app
        .post(
            &format!(
                "/api/v1/networks/{}/members/{}/leave",
                f.platform,
                uuid::Uuid::now_v7()
            ),
            coord,
            json!({"left_on": "2019-07-01", "reason": "?"}),
        )
        .await;
    assert_eq!(a.status, 404, "{a:?}");
    // Having left, it may join again under a new membership.
    let a = join(
        &app,
        &f.platform,
        institution("CIS", "Centrum Integracji Społecznej w Elblągu", 400010),
    )
    .await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_ne!(a.str("member_id"), elblag);

    // Refused elections leave no name behind: one row per accepted election.
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM officer_personal_data")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(rows, 4);
}

#[tokio::test]
async fn the_meetings_of_2020() {
    let app = spawn().await;
    let f = founding_day(&app).await;
    let coord = &app.other_coordinator;
    let mut position = 0;
    let mut ids = Vec::new();
    for (when, participants, topics) in [
        (
            json!({"from": "2020-10-29", "to": "2020-10-30"}),
            35,
            json!(["podsumowanie roku", "plany na 2021"]),
        ),
        (
            json!({"from": "2020-05-21", "to": "2020-05-22"}),
            42,
            json!(["aktywizacja uczestników podmiotów reintegracyjnych"]),
        ),
    ] {
        let a = expect(
            app.post(
                &format!("/api/v1/networks/{}/meetings", f.platform),
                coord,
                json!({"title": "Regionalna Platforma Współpracy na Rzecz Rozwoju Ekonomii Społecznej",
                       "when": when, "participants_total": participants, "topics": topics}),
            )
            .await,
            201,
        );
        position = a.position();
        ids.push(a.str("meeting_id"));
    }
    let r = expect(registry(&app, &f.platform, coord, position).await, 200);
    assert_eq!(r.body["meetings"], 3);
    let list = r.body["meeting_list"].as_array().unwrap();
    // By date: the founding meeting, then May, then October.
    assert_eq!(
        list[0]["when"],
        json!({"from": "2016-12-08", "to": "2016-12-09"})
    );
    assert_eq!(list[1]["meeting_id"], ids[1].as_str());
    assert_eq!(
        list[1]["when"],
        json!({"from": "2020-05-21", "to": "2020-05-22"})
    );
    assert_eq!(list[1]["participants_total"], 42);
    assert_eq!(list[1]["location"], Value::Null);
    assert_eq!(list[2]["meeting_id"], ids[0].as_str());
    assert_eq!(
        list[2]["when"],
        json!({"from": "2020-10-29", "to": "2020-10-30"})
    );
    assert_eq!(
        list[2]["topics"],
        json!(["podsumowanie roku", "plany na 2021"])
    );

    // Other precisions are kept as given.
    let a = expect(
        app.post(
            &format!("/api/v1/networks/{}/meetings", f.owes),
            coord,
            json!({"title": "Spotkanie sieci OWES", "when": {"month": "2020-09", "part": "late"},
                   "location": "Olsztyn", "participants_total": 0}),
        )
        .await,
        201,
    );
    let r = expect(registry(&app, &f.owes, coord, a.position()).await, 200);
    assert_eq!(
        r.body["meeting_list"][0]["when"],
        json!({"month": "2020-09", "part": "late"})
    );
    assert_eq!(r.body["meeting_list"][0]["topics"], json!([]));

    // The shared schedule files each meeting under the month it starts in, precision kept.
    let s = expect(
        app.get(
            &format!("/api/v1/schedule?year=2020&min_position={}", a.position()),
            coord,
        )
        .await,
        200,
    );
    let network_entries = |month: &str| -> Vec<Value> {
        s.body["months"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["month"] == month)
            .flat_map(|m| m["entries"].as_array().unwrap().clone())
            .filter(|e| e["source"] == "network")
            .collect()
    };
    for (month, network, when) in [
        (
            "2020-05",
            &f.platform,
            json!({"from": "2020-05-21", "to": "2020-05-22"}),
        ),
        (
            "2020-09",
            &f.owes,
            json!({"month": "2020-09", "part": "late"}),
        ),
        (
            "2020-10",
            &f.platform,
            json!({"from": "2020-10-29", "to": "2020-10-30"}),
        ),
    ] {
        let entries = network_entries(month);
        assert_eq!(entries.len(), 1, "{month}: {entries:?}");
        assert_eq!(entries[0]["source_id"], network.as_str());
        assert_eq!(entries[0]["when"], when);
        assert_eq!(entries[0]["status"], "held");
    }
    // The founding meeting is in 2016's calendar, not 2020's.
    assert!(network_entries("2016-12").is_empty());
}

#[tokio::test]
async fn who_may_see_and_do_what() {
    let app = spawn().await;
    let f = founding_day(&app).await;
    let (_, olsztyn_evaluator) =
        tokens::issue(&app.pool, Role::Evaluator, Some("rops-olsztyn"), "test")
            .await
            .unwrap();
    let (_, all_evaluator) = tokens::issue(&app.pool, Role::Evaluator, None, "test")
        .await
        .unwrap();

    // Evaluators read the registry but never an officer's name.
    for token in [&olsztyn_evaluator, &all_evaluator] {
        let r = expect(registry(&app, &f.platform, token, f.position).await, 200);
        for list in ["officers", "officer_history"] {
            for o in r.body[list].as_array().unwrap() {
                assert!(o.get("person").is_none(), "{o}");
                assert!(o["role"].is_string());
            }
        }
        let text = r.body.to_string();
        assert!(
            !text.contains(CHAIR.1) && !text.contains(VICE_CHAIR.1),
            "{text}"
        );
    }
    // The admin sees names like the coordinator.
    let r = expect(
        registry(&app, &f.platform, &app.admin, f.position).await,
        200,
    );
    assert_eq!(r.body["officers"][0]["person"]["last_name"], CHAIR.1);

    // Another organizer's coordinator and evaluator find nothing, and cannot write.
    for token in [&app.coordinator, &app.evaluator] {
        let a = registry(&app, &f.platform, token, f.position).await;
        assert_eq!(a.status, 404, "{a:?}");
        let l = expect(app.get("/api/v1/networks", token).await, 200);
        assert_eq!(l.body["networks"], json!([]));
    }
    let a = app
        .post(
            &format!("/api/v1/networks/{}/meetings", f.platform),
            &app.coordinator,
            json!({"title": "x", "when": {"day": "2020-01-10"}, "participants_total": 1}),
        )
        .await;
    assert_eq!(a.status, 404, "{a:?}");
    let a = elect(
        &app,
        &f.platform,
        "secretary",
        ("Jan", "Obcy"),
        &f.member("kis_ilawa"),
        "2020-01-10",
        "2021-01-10",
    )
    .await;
    assert_eq!(a.status, 200, "the owner may elect: {a:?}");
    let a = app
        .post(
            &format!("/api/v1/networks/{}/officers", f.platform),
            &app.coordinator,
            json!({"role": "secretary", "person": {"first_name": "Jan", "last_name": "Intruz"},
                   "member_id": f.member("kis_ilawa"), "term_starts_on": "2020-02-10"}),
        )
        .await;
    assert_eq!(a.status, 404, "{a:?}");

    // Evaluators cannot change anything; there is no token, no access.
    let a = app
        .post(
            &format!("/api/v1/networks/{}/meetings", f.platform),
            &olsztyn_evaluator,
            json!({"title": "x", "when": {"day": "2020-01-10"}, "participants_total": 1}),
        )
        .await;
    assert_eq!(a.status, 403, "{a:?}");
    let a = app
        .post(
            &format!("/api/v1/networks/{}/officers", f.platform),
            &olsztyn_evaluator,
            json!({"role": "secretary", "person": {"first_name": "Jan", "last_name": "Ewaluator"},
                   "member_id": f.member("kis_ilawa"), "term_starts_on": "2020-02-10"}),
        )
        .await;
    assert_eq!(a.status, 403, "{a:?}");
    let a = app.call("GET", "/api/v1/networks", None, None).await;
    assert_eq!(a.status, 401, "{a:?}");
    let a = app
        .post(
            "/api/v1/networks",
            &app.evaluator,
            json!({"name": "x", "region": "y", "member_types": ["CIS"], "established_on": "2020-01-01"}),
        )
        .await;
    assert_eq!(a.status, 403, "{a:?}");

    // An admin must name the organizer; a coordinator may not name another one.
    let body = json!({"name": "Sieć", "region": "kujawsko-pomorskie", "member_types": ["CIS"], "established_on": "2020-01-01"});
    let a = app.post("/api/v1/networks", &app.admin, body.clone()).await;
    assert_eq!(a.status, 422, "{a:?}");
    assert_eq!(a.body["errors"][0]["field"], "organizer");
    let mut with_org = body.clone();
    with_org["organizer"] = json!("rops-torun");
    let a = expect(
        app.post("/api/v1/networks", &app.admin, with_org.clone())
            .await,
        201,
    );
    let l = expect(
        app.get(
            &format!("/api/v1/networks?min_position={}", a.position()),
            &app.coordinator,
        )
        .await,
        200,
    );
    assert_eq!(l.body["networks"].as_array().unwrap().len(), 1);
    let a = app
        .post("/api/v1/networks", &app.other_coordinator, with_org)
        .await;
    assert_eq!(a.status, 403, "{a:?}");

    // An erased name shows as erased; the office and its history stay.
    assert!(infra::officers::erase(&app.pool, f.chair.parse().unwrap())
        .await
        .unwrap());
    let r = expect(
        registry(&app, &f.platform, &app.other_coordinator, f.position).await,
        200,
    );
    let chair = r.body["officers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["officer_id"] == f.chair.as_str())
        .unwrap();
    assert_eq!(chair["person"], json!({"erased": true}));
    assert_eq!(chair["role"], "chair");
}

#[tokio::test]
async fn no_event_names_an_officer() {
    let app = spawn().await;
    let f = founding_day(&app).await;
    let events = app.all_events().await;
    let network_events: Vec<&Value> = events
        .iter()
        .filter(|e| e["aggregate_type"] == "Network")
        .collect();
    assert!(network_events.len() >= 18, "{}", network_events.len());
    let types: Vec<&str> = network_events
        .iter()
        .filter_map(|e| e["event_type"].as_str())
        .collect();
    for t in [
        "NetworkEstablished",
        "RegulationsAdopted",
        "MemberJoined",
        "OfficerElected",
        "MeetingHeld",
    ] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
    let text = Value::Array(events.clone()).to_string();
    for (first, last) in [CHAIR, VICE_CHAIR, OWES_COORDINATOR] {
        assert!(
            !text.contains(first) && !text.contains(last),
            "a name in the events: {first} {last}"
        );
    }
    let elected = network_events
        .iter()
        .find(|e| e["event_type"] == "OfficerElected")
        .unwrap();
    let payload = &elected["payload"]["OfficerElected"];
    assert_eq!(payload["officer_id"], f.chair.as_str());
    assert_eq!(payload["role"], "chair");
}

#[tokio::test]
async fn bad_input_is_answered_with_field_paths() {
    let app = spawn().await;
    let f = founding_day(&app).await;
    let coord = &app.other_coordinator;
    let meetings = format!("/api/v1/networks/{}/meetings", f.platform);

    // Unparsable JSON is 400.
    let res = app
        .call_raw(
            "POST",
            &meetings,
            Some(coord),
            "application/json",
            "{\"title\": ",
        )
        .await;
    assert_eq!(res.status, 400);

    let a = app
        .post(
            &meetings,
            coord,
            json!({"title": " ", "when": {"from": "2020-05-22", "to": "2020-05-21"},
                                        "participants_total": -1, "topics": [""]}),
        )
        .await;
    assert_eq!(a.status, 422, "{a:?}");
    let fields: Vec<&str> = a.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["title", "when", "participants_total", "topics[0]"]
    );
    let a = app
        .post(
            &meetings,
            coord,
            json!({"title": "x", "when": {"day": "2015-01-01"}, "participants_total": 1}),
        )
        .await;
    assert_eq!(a.status, 422, "{a:?}");
    assert_eq!(a.body["errors"][0]["field"], "when");

    let a = app
        .post(
            "/api/v1/networks",
            coord,
            json!({"name": "", "region": "r", "member_types": [], "established_on": "8.12.2016"}),
        )
        .await;
    assert_eq!(a.status, 422, "{a:?}");
    let fields: Vec<&str> = a.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["name", "member_types", "established_on"]);
    let a = app
        .post("/api/v1/networks", coord, json!({"name": "n", "region": "r", "member_types": ["ROPS"], "established_on": "2016-12-08"}))
        .await;
    assert_eq!(a.status, 422, "{a:?}");
    assert_eq!(a.body["errors"][0]["field"], "member_types[0]");

    let a = app
        .post(
            &format!("/api/v1/networks/{}/officers", f.platform),
            coord,
            json!({"role": "president", "person": {"first_name": "", "last_name": "X"},
                   "member_id": f.member("kis_ilawa"), "term_starts_on": "2020-01-10", "term_ends_on": "2019-01-10"}),
        )
        .await;
    assert_eq!(a.status, 422, "{a:?}");
    let fields: Vec<&str> = a.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["role", "person.first_name", "term_ends_on"]);
    let a = app
        .post(
            &format!("/api/v1/networks/{}/officers", f.platform),
            coord,
            json!({"role": "chair", "person": {"first_name": "A", "last_name": "B"}, "member_id": "not-a-uuid",
                   "term_starts_on": "2020-01-10"}),
        )
        .await;
    assert_eq!(a.status, 422, "{a:?}");
    assert_eq!(a.body["errors"][0]["field"], "member_id");

    let a = join(
        &app,
        &f.platform,
        json!({"name": "CIS", "type": "CIS", "nip": "1234567890"}),
    )
    .await;
    assert_eq!(a.status, 422, "{a:?}");
    assert_eq!(a.body["errors"][0]["field"], "institution.nip");
    let a = app
        .post(
            &format!("/api/v1/networks/{}/members", f.platform),
            coord,
            json!({"institution": {"name": "x"}}),
        )
        .await;
    assert_eq!(a.status, 422, "{a:?}");

    // Unknown networks and malformed ids are 404, never 500.
    let a = app
        .post(
            &format!("/api/v1/networks/{}/meetings", uuid::Uuid::now_v7()),
            coord,
            json!({"title": "x", "when": {"day": "2020-01-10"}, "participants_total": 1}),
        )
        .await;
    assert_eq!(a.status, 404, "{a:?}");
    let a = app.get("/api/v1/networks/nope/registry", coord).await;
    assert_eq!(a.status, 404, "{a:?}");
    let a = app
        .get(
            &format!("/api/v1/networks/{}/registry", uuid::Uuid::now_v7()),
            coord,
        )
        .await;
    assert_eq!(a.status, 404, "{a:?}");
    let a = app.get("/api/v1/networks?min_position=-1", coord).await;
    assert_eq!(a.status, 400, "{a:?}");
}
