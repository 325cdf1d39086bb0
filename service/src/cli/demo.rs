//! `koordynator demo`: loads the five source documents' data (seeds 000–004) with invented
//! people, so a newcomer sees something real on the dashboard.
//!
//! Every write goes through the HTTP application itself (the same router, middleware,
//! validation, command bus and hash chain as a client's request; sent in-process, without a
//! socket), so the demo's events are ordinary events with metadata, nothing a client could
//! not have written.
//!
//! **Dates.** Programmes, the 2020 schedule and the networks keep the documents' dates
//! (2013–2020). The study visit is the one thing that must be live, so its dates move: the
//! announcement day (15 June 2022, a Wednesday) becomes the latest Wednesday on or before
//! today, and every date of the visit moves by the same whole number of weeks (weekdays and
//! the distances between dates stay as written). Both recruitment deadlines are then 2 to 9
//! days ahead. Term I is closed by the coordinator right away (its applications in, the
//! allocation recorded; one allocated person then withdraws and the first waiting person is
//! promoted); term II stays open with a provisional ranking and a live countdown; term III is
//! only planned, for mid-month about a month later (the document's "mid-July").
//!
//! The demo loads only into a database without events, and refuses otherwise; run again on
//! its own database it only issues a new sign-in token.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use axum::body::Body;
use axum::http::{Method, Request};
use axum::Router;
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use infra::tokens::{self, Role};
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;
use tracing::instrument::WithSubscriber;

use crate::cli::progress::Progress;
use crate::http::state::{AppState, SystemClock};
use crate::startup::{self, Settings};

/// Name of the token the demo writes with; it is revoked once everything is loaded, and a
/// revoked token of this name is how a later run knows the demo is already there.
pub const LOADER_TOKEN_NAME: &str = "demo: ładowanie danych";

/// Name of the sign-in tokens the demo issues.
pub const SIGN_IN_TOKEN_NAME: &str = "demo: logowanie do panelu";

/// Events the demo writes (kept exact by the demo test), for the progress line's time left.
pub const EXPECTED_EVENTS: u64 = 169;

/// What a run of the demo did.
#[derive(Debug)]
pub struct Outcome {
    /// True when this run loaded the data; false when it was already there.
    pub loaded: bool,
    /// Events in the store afterwards.
    pub events: i64,
    /// A fresh read-only token (evaluator of every organizer) to sign in to the dashboard.
    pub sign_in_token: String,
}

/// Whether the database is empty, holds the demo, or holds something else.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    Empty,
    Demo,
    /// A demo load started but did not finish.
    Partial,
    Other(i64),
}

/// Looks at what the database holds.
pub async fn inspect(pool: &PgPool) -> anyhow::Result<Found> {
    let events: i64 = infra::feed::count(pool).await?;
    let loaders: Vec<_> = tokens::list(pool)
        .await?
        .into_iter()
        .filter(|t| t.name == LOADER_TOKEN_NAME)
        .collect();
    Ok(match (events, loaders.first()) {
        (_, Some(t)) if t.revoked_at.is_some() => Found::Demo,
        (_, Some(_)) => Found::Partial,
        (0, None) => Found::Empty,
        (n, None) => Found::Other(n),
    })
}

/// Loads the demo into an empty database (or finds it already loaded) and issues a
/// sign-in token. Refuses a database that holds other data.
pub async fn run(pool: &PgPool, now: DateTime<Utc>) -> anyhow::Result<Outcome> {
    let loaded = match inspect(pool).await? {
        Found::Demo => false,
        Found::Empty => {
            load(pool, now).await?;
            true
        }
        Found::Partial => bail!(
            "a previous demo load did not finish in this database; load the demo into a fresh one (another DATABASE_URL)"
        ),
        Found::Other(n) => bail!(
            "the database already holds {n} events that are not the demo's; the demo loads only into an empty database (use another DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/koordynator_demo)"
        ),
    };
    let events: i64 = infra::feed::count(pool).await?;
    let (_, sign_in_token) = tokens::issue(pool, Role::Evaluator, None, SIGN_IN_TOKEN_NAME).await?;
    Ok(Outcome {
        loaded,
        events,
        sign_in_token,
    })
}

/// [`write`] with warnings only in the log, unless RUST_LOG asks for more: a log line per
/// command would bury the progress line.
async fn load(pool: &PgPool, now: DateTime<Utc>) -> anyhow::Result<()> {
    let quiet = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .finish();
    write(pool, now).with_subscriber(quiet).await
}

/// Writes everything, then waits for the read models to catch up.
async fn write(pool: &PgPool, now: DateTime<Utc>) -> anyhow::Result<()> {
    let all = projections::all();
    projections::runner::setup(pool, &all).await?;
    let state = AppState::new(pool.clone(), Arc::new(SystemClock)).await?;
    let mut settings = Settings::new("", "");
    // Dozens of public applications from one process: the per-client limit is for the internet.
    settings.submission_rate_limit = 0;
    let app = startup::router_with(state, &settings);
    let (token_id, token) = tokens::issue(pool, Role::Admin, None, LOADER_TOKEN_NAME).await?;
    let runner = projections::Runner::start(pool.clone(), all, Duration::from_millis(100));
    let mut client = Client {
        app,
        token,
        last_position: 0,
        progress: Progress::new("demo", Some(EXPECTED_EVENTS)),
    };
    let result = async {
        study_visit(&mut client, now).await?;
        torun(&mut client).await?;
        lublin(&mut client).await?;
        olsztyn(&mut client).await?;
        networks(&mut client).await?;
        anyhow::Ok(())
    }
    .await;
    client.progress.finish();
    result?;
    // The dashboard should show everything at once: wait for the read models.
    let names: Vec<&str> = projections::all().iter().map(|p| p.name()).collect();
    let caught_up = projections::runner::wait_for_position(
        pool,
        &names,
        client.last_position,
        Duration::from_secs(60),
    )
    .await?;
    runner.abort();
    if !caught_up {
        bail!("the read models did not catch up with the demo's events within 60 s");
    }
    tokens::revoke(pool, token_id).await?;
    Ok(())
}

/// Sends requests to the in-process HTTP application.
struct Client {
    app: Router,
    token: String,
    last_position: i64,
    progress: Progress,
}

impl Client {
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        content_type: &str,
        body: String,
        auth: bool,
    ) -> anyhow::Result<Value> {
        let mut req = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("content-type", content_type);
        if auth {
            req = req.header("authorization", format!("Bearer {}", self.token));
        }
        let res = self
            .app
            .clone()
            .oneshot(req.body(Body::from(body))?)
            .await?;
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 4 * 1024 * 1024).await?;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{method} {path} answered {status}: {value}");
        }
        if let Some(p) = value.get("position").and_then(Value::as_i64) {
            self.last_position = self.last_position.max(p);
            self.progress
                .update(u64::try_from(self.last_position).unwrap_or(0));
        }
        Ok(value)
    }

    async fn post(&mut self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.send(
            Method::POST,
            path,
            "application/json",
            body.to_string(),
            true,
        )
        .await
    }

    async fn get(&mut self, path: &str) -> anyhow::Result<Value> {
        self.send(Method::GET, path, "application/json", String::new(), true)
            .await
    }

    /// Posts and returns the string field `key` of the answer (a new id).
    async fn create(&mut self, path: &str, body: Value, key: &str) -> anyhow::Result<String> {
        let v = self.post(path, body).await?;
        v.get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("POST {path} answered no {key}: {v}"))
    }
}

/// A valid NIP: nine digits from `seed` and the check digit (invented, never a real one).
pub fn nip(seed: u32) -> String {
    (seed..)
        .find_map(|n| domain::values::Nip::completing(100_000_000 + n % 800_000_000))
        .map(|n| n.to_string())
        .unwrap_or_default()
}

fn institution(name: &str, kind: &str, seed: u32) -> Value {
    json!({"name": name, "type": kind, "nip": nip(seed)})
}

// ------------------------------------------------------------------------------------------
// Seed 000: the study visit of ROPS Toruń
// ------------------------------------------------------------------------------------------

/// The visit's dates, moved by whole weeks so the announcement (15 June 2022) falls on the
/// latest Wednesday on or before `today`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitDates {
    pub announced_on: NaiveDate,
    pub term1: (NaiveDate, NaiveDate, DateTime<Utc>),
    pub term2: (NaiveDate, NaiveDate, DateTime<Utc>),
    /// `{"month": "YYYY-MM", "part": "mid"}` about a month after the announcement.
    pub term3_planned: Value,
}

impl VisitDates {
    /// The mapping described in the module documentation.
    pub fn for_today(today: NaiveDate) -> anyhow::Result<Self> {
        let announced = date(2022, 6, 15)?;
        let weeks = (today - announced).num_days().div_euclid(7);
        let shift = chrono::Duration::weeks(weeks);
        let day = |y, m, d| -> anyhow::Result<NaiveDate> { Ok(date(y, m, d)? + shift) };
        let deadline = |d: NaiveDate| -> anyhow::Result<DateTime<Utc>> {
            let local = d.and_time(NaiveTime::from_hms_opt(11, 0, 0).unwrap_or_default());
            chrono_tz::Europe::Warsaw
                .from_local_datetime(&local)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| anyhow!("no 11:00 on {d} in Warsaw"))
        };
        let mid_july = day(2022, 7, 15)?;
        Ok(Self {
            announced_on: day(2022, 6, 15)?,
            term1: (
                day(2022, 6, 27)?,
                day(2022, 6, 28)?,
                deadline(day(2022, 6, 23)?)?,
            ),
            term2: (
                day(2022, 6, 29)?,
                day(2022, 6, 30)?,
                deadline(day(2022, 6, 24)?)?,
            ),
            term3_planned: json!({"month": format!("{:04}-{:02}", mid_july.year(), mid_july.month()), "part": "mid"}),
        })
    }
}

fn date(y: i32, m: u32, d: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| anyhow!("no date {y}-{m}-{d}"))
}

/// Institutions applying for the visit: (name, type, NIP seed).
const VISIT_INSTITUTIONS: [(&str, &str, u32); 20] = [
    ("Gmina Miasto Grudziądz", "JST", 500_010),
    ("Gmina Chełmża", "JST", 500_020),
    ("Gmina Lubicz", "JST", 500_030),
    ("Powiat Świecki", "JST", 500_040),
    ("Gmina Ciechocinek", "JST", 500_050),
    ("Gmina Kowalewo Pomorskie", "JST", 500_060),
    (
        "Miejski Ośrodek Pomocy Społecznej w Bydgoszczy",
        "JOPS",
        500_110,
    ),
    ("Miejski Ośrodek Pomocy Rodzinie w Toruniu", "JOPS", 500_120),
    (
        "Gminny Ośrodek Pomocy Społecznej w Łysomicach",
        "JOPS",
        500_130,
    ),
    (
        "Powiatowe Centrum Pomocy Rodzinie w Inowrocławiu",
        "JOPS",
        500_140,
    ),
    (
        "Gminny Ośrodek Pomocy Społecznej w Obrowie",
        "JOPS",
        500_150,
    ),
    (
        "Miejski Ośrodek Pomocy Społecznej we Włocławku",
        "JOPS",
        500_160,
    ),
    ("Spółdzielnia Socjalna „Razem” w Chełmnie", "PES", 500_210),
    ("Fundacja „Wspólna Droga” w Brodnicy", "PES", 500_220),
    ("Stowarzyszenie „Tęcza” w Rypinie", "PES", 500_230),
    (
        "Centrum Integracji Społecznej w Golubiu-Dobrzyniu",
        "CIS",
        500_240,
    ),
    (
        "Klub Integracji Społecznej w Nakle nad Notecią",
        "KIS",
        500_250,
    ),
    (
        "Ośrodek Wsparcia Ekonomii Społecznej w Toruniu",
        "OWES",
        500_310,
    ),
    (
        "Ośrodek Wsparcia Ekonomii Społecznej w Bydgoszczy",
        "OWES",
        500_320,
    ),
    (
        "Ośrodek Wsparcia Ekonomii Społecznej we Włocławku",
        "OWES",
        500_330,
    ),
];

/// Term I applicants in submission order, as indexes into [`VISIT_INSTITUTIONS`]:
/// four from Grudziądz and three from MOPS Bydgoszcz, so the cap of two per institution
/// passes some over; 32 candidates for 25 seats, so some wait.
const TERM1_APPLICANTS: [usize; 32] = [
    0, 6, 1, 13, 7, 0, 2, 17, 8, 3, 14, 6, 0, 9, 4, 15, 18, 10, 5, 0, 16, 11, 12, 6, 19, 1, 2, 3,
    7, 8, 9, 10,
];

/// Term II applicants so far (recruitment open).
const TERM2_APPLICANTS: [usize; 11] = [4, 5, 11, 12, 13, 15, 16, 17, 19, 14, 3];

const FIRST_NAMES: [&str; 16] = [
    "Agnieszka",
    "Bartosz",
    "Celina",
    "Dariusz",
    "Ewelina",
    "Filip",
    "Grażyna",
    "Henryk",
    "Iwona",
    "Jarosław",
    "Kamila",
    "Leszek",
    "Magdalena",
    "Norbert",
    "Oliwia",
    "Przemysław",
];
const LAST_NAMES: [&str; 12] = [
    "Przykładowa",
    "Testowy",
    "Zmyślona",
    "Wzorcowy",
    "Fikcyjna",
    "Pokazowy",
    "Próbna",
    "Demonstracyjny",
    "Umowna",
    "Szkicowy",
    "Makietowa",
    "Modelowy",
];

/// An invented person: Polish-looking, obviously made up, e-mail at example.org.
fn person(i: usize) -> Value {
    let first = FIRST_NAMES[i % FIRST_NAMES.len()];
    let mut last = LAST_NAMES[(i * 5 + i / FIRST_NAMES.len()) % LAST_NAMES.len()].to_owned();
    // The surname lists alternate feminine (-a) and masculine forms; keep them agreeing.
    let feminine = first.ends_with('a');
    if feminine && last.ends_with('y') {
        last = format!("{}a", &last[..last.len() - 1]);
    } else if !feminine && last.ends_with('a') {
        last = format!("{}y", &last[..last.len() - 1]);
    }
    let email = format!("{}.{}.{i}@example.org", ascii(first), ascii(&last));
    json!({"first_name": first, "last_name": last, "email": email,
           "phone": format!("+48 600 100 {i:03}"), "job_title": "specjalista/specjalistka"})
}

fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ą' => 'a',
            'ć' => 'c',
            'ę' => 'e',
            'ł' => 'l',
            'ń' => 'n',
            'ó' => 'o',
            'ś' => 's',
            'ź' | 'ż' => 'z',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

async fn study_visit(c: &mut Client, now: DateTime<Utc>) -> anyhow::Result<()> {
    let today = now.with_timezone(&chrono_tz::Europe::Warsaw).date_naive();
    let dates = VisitDates::for_today(today)?;
    let visit = c
        .create(
            "/api/v1/study-visits",
            json!({
                "organizer": "rops-torun",
                "title": "Wizyta studyjna do województwa wielkopolskiego: dobre praktyki ekonomii społecznej i Centrów Usług Społecznych",
                "destination": "województwo wielkopolskie",
                "description": "Prezentacja dobrych praktyk i korzyści z rozwoju ekonomii społecznej, form współpracy JST z PES oraz funkcjonowania Centrów Usług Społecznych. Udział bezpłatny.",
                "eligible_institution_types": ["JST", "JOPS", "PES", "OWES"],
                "max_per_institution": 2,
                "preferences": [
                    {"code": "cus_declared", "label": "Deklaracja utworzenia CUS", "kind": "listed"},
                    {"code": "new_to_project", "label": "Nowa instytucja (bez udziału w latach 2019–2021)", "kind": "not_listed"}
                ],
                "funding": {"project": "Koordynacja rozwoju ekonomii społecznej w województwie kujawsko-pomorskim",
                            "programme": "Regionalny Program Operacyjny Województwa Kujawsko-Pomorskiego na lata 2014-2020",
                            "priority_axis": "9 Solidarne społeczeństwo", "measure": "9.4 Wzmocnienie sektora ekonomii społecznej",
                            "sub_measure": "9.4.2 Koordynacja sektora ekonomii społecznej"}
            }),
            "id",
        )
        .await?;
    let nips = |idx: &[usize]| -> Vec<String> {
        idx.iter().map(|&i| nip(VISIT_INSTITUTIONS[i].2)).collect()
    };
    c.send(
        Method::PUT,
        &format!("/api/v1/study-visits/{visit}/preferences/cus_declared/institutions"),
        "application/json",
        json!({"nips": nips(&[0, 1, 2, 4])}).to_string(),
        true,
    )
    .await?;
    c.send(
        Method::PUT,
        &format!("/api/v1/study-visits/{visit}/preferences/new_to_project/institutions"),
        "application/json",
        json!({"nips": nips(&[7, 13, 17, 18])}).to_string(),
        true,
    )
    .await?;
    let terms = format!("/api/v1/study-visits/{visit}/terms");
    let term = |label: &str, t: &(NaiveDate, NaiveDate, DateTime<Utc>)| {
        json!({"label": label, "starts_on": t.0, "ends_on": t.1, "seats": 25,
               "recruitment_deadline": t.2.to_rfc3339()})
    };
    let t1 = c
        .create(&terms, term("I termin", &dates.term1), "term_id")
        .await?;
    let t2 = c
        .create(&terms, term("II termin", &dates.term2), "term_id")
        .await?;
    c.create(
        &terms,
        json!({"label": "III termin", "planned": dates.term3_planned, "seats": 25}),
        "term_id",
    )
    .await?;

    let mut applied = Vec::new();
    let mut n = 0;
    for (term_id, applicants) in [(&t1, &TERM1_APPLICANTS[..]), (&t2, &TERM2_APPLICANTS[..])] {
        c.post(&format!("{terms}/{term_id}/open"), json!({}))
            .await?;
        for &i in applicants {
            let (name, kind, seed) = VISIT_INSTITUTIONS[i];
            let a = c
                .send(
                    Method::POST,
                    &format!("{terms}/{term_id}/applications"),
                    "application/json",
                    json!({"person": person(n), "institution": institution(name, kind, seed), "consent": true})
                        .to_string(),
                    false,
                )
                .await?;
            n += 1;
            if term_id == &t1 {
                applied.push(a);
            }
        }
    }
    // Term I: the coordinator closes it (the allocation is recorded), then one allocated
    // person withdraws and the first eligible waiting person takes the seat.
    c.post(&format!("{terms}/{t1}/close"), json!({})).await?;
    let first = applied
        .first()
        .and_then(|a| a.get("application_id"))
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("no application id"))?
        .to_owned();
    c.post(
        &format!("/api/v1/study-visits/{visit}/applications/{first}/withdraw"),
        json!({}),
    )
    .await?;
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Seed 001: the Toruń programme of cooperation 2013–2014
// ------------------------------------------------------------------------------------------

const TORUN_NGOS: [(&str, &str, u32); 8] = [
    ("Stowarzyszenie „Na Starówce”", "NGO", 510_010),
    ("Fundacja „Mosty”", "NGO", 510_020),
    ("Spółdzielnia Socjalna „Piernik”", "PES", 510_030),
    ("Centrum Integracji Społecznej w Toruniu", "CIS", 510_040),
    ("Stowarzyszenie „Wisła Razem”", "NGO", 510_050),
    ("Fundacja „Dobry Start”", "NGO", 510_060),
    ("Klub Integracji Społecznej „Podgórz”", "KIS", 510_070),
    ("Urząd Miasta Torunia", "JST", 510_080),
];

fn torun_ngos(idx: &[usize]) -> Vec<Value> {
    idx.iter()
        .map(|&i| {
            let (n, k, s) = TORUN_NGOS[i];
            institution(n, k, s)
        })
        .collect()
}

/// (kind, title, planned, co-organizer, days held, participants, institutions).
type TorunActivity = (
    &'static str,
    &'static str,
    Value,
    Option<&'static str>,
    (&'static str, &'static str),
    u32,
    &'static [usize],
);

async fn torun(c: &mut Client) -> anyhow::Result<()> {
    let p = c.create("/api/v1/programs", json!({
        "organizer": "rops-torun",
        "title": "Program współpracy Gminy Miasta Toruń z podmiotami ekonomii społecznej na 2013-2014",
        "kind": "cooperation_programme",
        "period": {"start": "2013-01-01", "end": "2014-12-31"},
        "goals": [
            "Poprawa współpracy pomiędzy toruńskimi podmiotami ekonomii społecznej a Urzędem Miasta Torunia",
            "Zwiększenie wzajemnego zaufania i znajomości potrzeb obu stron"
        ],
        "indicators": [
            {"code": "trainings", "label": "Szkolenia", "target": 3, "measure": "activities_held:training"},
            {"code": "forum", "label": "Toruńskie Forum Ekonomii Społecznej", "target": 1, "measure": "activities_held:forum"},
            {"code": "participants", "label": "Uczestnicy wydarzeń", "target": 150, "measure": "participants_total"},
            {"code": "institutions", "label": "Instytucje biorące udział", "target": 10, "measure": "distinct_institutions"},
            {"code": "opinions", "label": "Opinie, propozycje i sugestie", "target": 5, "measure": "feedback_received"},
            {"code": "trust", "label": "Wzajemne zaufanie (ocena 1–5)", "target": 4, "measure": "manual"}
        ],
        "partner_application_deadline": null
    }), "id").await?;
    let base = format!("/api/v1/programs/{p}");
    // (kind, title, planned, co-organizer, held days, participants, institutions)
    let activities: [TorunActivity; 6] = [
        (
            "consultation",
            "Indywidualne konsultacje dla podmiotów ekonomii społecznej",
            json!({"month": "2013-04"}),
            None,
            ("2013-04-08", "2013-04-26"),
            14,
            &[0, 1, 2, 7],
        ),
        (
            "training",
            "Szkolenie I: współpraca z administracją samorządową",
            json!({"day": "2013-05-20"}),
            None,
            ("2013-05-20", "2013-05-20"),
            22,
            &[0, 1, 4, 7],
        ),
        (
            "forum",
            "I Toruńskie Forum Ekonomii Społecznej",
            json!({"month": "2013-06"}),
            None,
            ("2013-06-14", "2013-06-14"),
            48,
            &[0, 1, 2, 3, 4, 5, 7],
        ),
        (
            "study_visit",
            "Wizyty studyjne w toruńskich organizacjach",
            json!({"month": "2013-09", "part": "mid"}),
            None,
            ("2013-09-16", "2013-09-17"),
            18,
            &[2, 3, 6, 7],
        ),
        (
            "training",
            "Szkolenie II: zlecanie zadań publicznych",
            json!({"from": "2013-10-14", "to": "2013-10-15"}),
            None,
            ("2013-10-14", "2013-10-15"),
            20,
            &[1, 5, 7],
        ),
        (
            "training",
            "Szkolenie III: zmiany w systemie pomocy społecznej i rynku pracy",
            json!({"day": "2014-02-03"}),
            Some("MOPR i PUP w Toruniu"),
            ("2014-02-03", "2014-02-03"),
            26,
            &[0, 3, 6, 7],
        ),
    ];
    for (kind, title, planned, co, days, participants, inst) in activities {
        let a = c
            .create(
                &format!("{base}/activities"),
                json!({"kind": kind, "title": title, "planned": planned, "location": "Toruń", "co_organizer": co}),
                "activity_id",
            )
            .await?;
        c.post(
            &format!("{base}/activities/{a}/held"),
            json!({"starts_on": days.0, "ends_on": days.1, "participants_total": participants,
                   "institutions": torun_ngos(inst), "notes": ""}),
        )
        .await?;
    }
    for (on, text, rating, inst) in [
        (
            "2014-02-10",
            "Platforma PES-TOR ułatwia kontakt z urzędem.",
            json!(5),
            Some(0),
        ),
        (
            "2014-02-17",
            "Prosimy o więcej szkoleń z zamówień publicznych i klauzul społecznych.",
            json!(4),
            Some(2),
        ),
        (
            "2014-03-03",
            "Forum warto powtarzać co roku.",
            json!(5),
            Some(4),
        ),
        (
            "2014-03-20",
            "Konsultacje indywidualne były zbyt krótkie.",
            json!(3),
            None,
        ),
    ] {
        c.post(
            &format!("{base}/feedback"),
            json!({"channel": "email", "received_on": on, "text": text, "rating": rating,
                   "institution": inst.map(|i| torun_ngos(&[i]).remove(0))}),
        )
        .await?;
    }
    c.post(
        &format!("{base}/testing-period"),
        json!({"ends_on": "2014-04-30"}),
    )
    .await?;
    c.post(&format!("{base}/evaluation"), json!({
        "verdict": "partially_achieved",
        "summary": "Program poprawił komunikację między PES a urzędem; zebrano mniej opinii i uczestników, niż zakładano.",
        "manual_values": {"trust": 4},
        "recommendations": ["Kontynuować Toruńskie Forum Ekonomii Społecznej", "Więcej szkoleń dla pracowników urzędu"]
    })).await?;
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Seed 003: the Lublin project "Liderzy kooperacji" and its partner deadline
// ------------------------------------------------------------------------------------------

async fn lublin(c: &mut Client) -> anyhow::Result<()> {
    let p = c.create("/api/v1/programs", json!({
        "organizer": "rops-lublin",
        "title": "Liderzy kooperacji",
        "kind": "project",
        "period": {"start": "2018-01-01", "end": "2019-03-31"},
        "goals": ["Wypracowanie i wdrożenie modelu kooperacji pomiędzy instytucjami pomocy i integracji społecznej a podmiotami innych polityk sektorowych"],
        "indicators": [
            {"code": "partners", "label": "Jednostki wojewódzkie w projekcie", "target": 6, "measure": "partners"},
            {"code": "trainings", "label": "Jednodniowe szkolenia Szkoły Kooperacji", "target": 2, "measure": "activities_held:training"},
            {"code": "consultation", "label": "Konsultacje Modelu Kooperacji", "target": 1, "measure": "activities_held:consultation"}
        ],
        "partner_application_deadline": "2018-07-13"
    }), "id").await?;
    let base = format!("/api/v1/programs/{p}");
    // Application cards by channel: e-mail counts the sending day, post the postmark, in
    // person the day of delivery; all on or before 13 July 2018.
    for (name, channel, dates, seed) in [
        (
            "Wojewódzki Urząd Pracy w Lublinie",
            "email",
            json!({"sent_on": "2018-07-13", "delivered_on": "2018-07-14"}),
            520_010,
        ),
        (
            "Komenda Wojewódzka Policji w Lublinie",
            "post",
            json!({"postmarked_on": "2018-07-13", "delivered_on": "2018-07-17"}),
            520_020,
        ),
        (
            "Lubelski Urząd Wojewódzki w Lublinie",
            "in_person",
            json!({"delivered_on": "2018-07-12"}),
            520_030,
        ),
        (
            "Kuratorium Oświaty w Lublinie",
            "email",
            json!({"sent_on": "2018-07-10"}),
            520_040,
        ),
    ] {
        let mut body = json!({"institution": institution(name, "OTHER", seed), "channel": channel});
        if let (Some(b), Some(d)) = (body.as_object_mut(), dates.as_object()) {
            b.extend(d.clone());
        }
        c.post(&format!("{base}/partners"), body).await?;
    }
    let partners = [
        institution("Wojewódzki Urząd Pracy w Lublinie", "OTHER", 520_010),
        institution("Komenda Wojewódzka Policji w Lublinie", "OTHER", 520_020),
        institution("Lubelski Urząd Wojewódzki w Lublinie", "OTHER", 520_030),
    ];
    for (title, planned, held, participants) in [
        (
            "Szkoła Kooperacji: szkolenie I",
            json!({"month": "2018-07"}),
            Some("2018-07-26"),
            18,
        ),
        (
            "Szkoła Kooperacji: szkolenie II",
            json!({"month": "2018-12"}),
            None,
            0,
        ),
    ] {
        let a = c
            .create(
                &format!("{base}/activities"),
                json!({"kind": "training", "title": title, "planned": planned, "location": "Lublin"}),
                "activity_id",
            )
            .await?;
        if let Some(day) = held {
            c.post(
                &format!("{base}/activities/{a}/held"),
                json!({"starts_on": day, "ends_on": day, "participants_total": participants,
                       "institutions": partners, "notes": ""}),
            )
            .await?;
        }
    }
    let consultation = c
        .create(
            &format!("{base}/activities"),
            json!({"kind": "consultation", "title": "Konsultacje Modelu Kooperacji",
                   "planned": {"month": "2019-01"}, "location": "Lublin"}),
            "activity_id",
        )
        .await?;
    c.post(
        &format!("{base}/activities/{consultation}/held"),
        json!({"starts_on": "2019-01-07", "ends_on": "2019-02-28", "participants_total": 11,
               "institutions": partners, "notes": "Konsultacje modelu w okresie styczeń–luty 2019"}),
    )
    .await?;
    let cons = c
        .create(
            &format!("{base}/consultations"),
            json!({"subject": "Model Kooperacji (projekt)", "opens_on": "2019-01-07", "closes_on": "2019-02-28"}),
            "consultation_id",
        )
        .await?;
    c.post(
        &format!("{base}/consultations/{cons}/comments"),
        json!({"institution": partners[0], "text": "Proponujemy wspólne dyżury doradców zawodowych w gminnych ośrodkach pomocy.", "submitted_on": "2019-01-21"}),
    )
    .await?;
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Seed 002: the Olsztyn project and its 2020 schedule
// ------------------------------------------------------------------------------------------

/// The 2020 schedule of seed 002, dates as written there (`?year=2020` for those without).
const OLSZTYN_2020: &str = r#"date,title,kind,location,co_organizer
Styczeń 2020,Uruchomienie procedury postępowania wyboru wykonawcy na badanie ewaluacyjne OWES,other,,
Luty 2020,Badanie ewaluacyjne OWES,other,,
Luty 2020,Spotkanie zespołu ds. opracowania WPRES 2021-2025,meeting,,
7.02.2020,Spotkanie monitoringowe OWES (Olsztyn),monitoring_meeting,Olsztyn,
Marzec 2020,Spotkanie zespołu ds. opracowania WPRES 2021-2025 (2 spotkania),meeting,,
Kwiecień 2020,Spotkanie branżowe PES,meeting,,
23.04.2020,Posiedzenie Regionalnego Komitetu Rozwoju Ekonomii Społecznej,committee_sitting,,
7-8.05.2020,Doradztwo eksperckie dla JST,other,,
13.05.2020,Spotkanie monitoringowe OWES (Nidzica),monitoring_meeting,Nidzica,
26-29.05.2020,Wizyta studyjna do Austrii (prezentacja wiosek tematycznych),study_visit,Austria,
05.06.2020,"Konferencja "" Ekonomia społeczna odpowiedzią na usługi społeczne w regionie Warmii i Mazur""",conference,,
18-19.06.2020,Wizyta studyjna dla przedstawicieli CIS,study_visit,,
22.06.2020,"Kapituła Konkursu Zakup Prospołeczny, Spotkanie Kapituły dot. Konkursu „Samorząd, biznes, szkoła przyjazna Ekonomii Społecznej”",committee_sitting,,
Lipiec,Praca nad Biuletynem „Ekonomia społeczna na Warmii i Mazurach”,publication,,
Sierpień,Praca nad Biuletynem „Ekonomia społeczna na Warmii i Mazurach”,publication,,
Wrzesień 2020,Forum Inicjatyw Lokalnych,forum,,ROPS Lublin
Wrzesień 2020,Spotkanie ze środowiskiem naukowym,meeting,,
04.09.2020,Spotkanie monitoringowe OWES (Ełk),monitoring_meeting,Ełk,
30.09.2020,II Gala Ekonomii Społecznej na Warmii i Mazurach,gala,,
Koniec września,Wydanie Biuletynu,publication,,
1-2.10.2020,Wizyta studyjna dla przedstawicieli podmiotów reintegracyjnych,study_visit,,
8-9.10.2020,Wizyta studyjna dla członków RKRES,study_visit,,
06.11.2020,Posiedzenie Regionalnego Komitetu Rozwoju Ekonomii Społecznej,committee_sitting,,
27.11.2020,Konferencja podsumowująca projekt Ekonomia Społeczna na Warmii i Mazurach w latach 2018-2020,conference,,
04.12.2020,Spotkanie monitoringowe OWES (Elbląg),monitoring_meeting,Elbląg,
"#;

async fn olsztyn(c: &mut Client) -> anyhow::Result<()> {
    let p = c.create("/api/v1/programs", json!({
        "organizer": "rops-olsztyn",
        "title": "Ekonomia Społeczna na Warmii i Mazurach",
        "kind": "project",
        "period": {"start": "2018-01-01", "end": "2020-12-31"},
        "goals": ["Koordynacja sektora ekonomii społecznej w województwie warmińsko-mazurskim",
                  "Wsparcie 400 pracowników lokalnych i regionalnych podmiotów działających na rzecz ekonomii społecznej"],
        "indicators": [
            {"code": "staff", "label": "Pracownicy instytucji lokalnych i regionalnych", "target": 400, "measure": "participants_total"},
            {"code": "monitoring", "label": "Spotkania monitoringowe OWES", "target": 4, "measure": "activities_held:monitoring_meeting"},
            {"code": "conferences", "label": "Konferencje", "target": 2, "measure": "activities_held:conference"}
        ]
    }), "id").await?;
    let base = format!("/api/v1/programs/{p}");
    c.send(
        Method::POST,
        &format!("{base}/schedule/import?year=2020"),
        "text/csv; charset=utf-8",
        OLSZTYN_2020.to_owned(),
        true,
    )
    .await?;
    // The first half of 2020 as it went: what the read model lists, marked held.
    let detail = c
        .get(&format!("{base}?min_position={}", c.last_position))
        .await?;
    let owes = [
        institution(
            "Ośrodek Wsparcia Ekonomii Społecznej w Olsztynie",
            "OWES",
            530_010,
        ),
        institution(
            "Ośrodek Wsparcia Ekonomii Społecznej w Elblągu",
            "OWES",
            530_020,
        ),
        institution(
            "Ośrodek Wsparcia Ekonomii Społecznej w Ełku",
            "OWES",
            530_030,
        ),
    ];
    let held: [(&str, &str, &str, u32); 4] = [
        ("Spotkanie monitoringowe OWES (Olsztyn)", "2020-02-07", "2020-02-07", 24),
        ("Posiedzenie Regionalnego Komitetu Rozwoju Ekonomii Społecznej", "2020-04-23", "2020-04-23", 31),
        ("Spotkanie monitoringowe OWES (Nidzica)", "2020-05-13", "2020-05-13", 22),
        ("Konferencja \" Ekonomia społeczna odpowiedzią na usługi społeczne w regionie Warmii i Mazur\"", "2020-06-05", "2020-06-05", 118),
    ];
    let activities = detail
        .get("activities")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (title, from, to, participants) in held {
        let id = activities
            .iter()
            .find(|a| a.get("title").and_then(Value::as_str) == Some(title))
            .and_then(|a| a.get("activity_id"))
            .and_then(Value::as_str)
            .with_context(|| format!("imported activity {title:?} not found"))?
            .to_owned();
        c.post(
            &format!("{base}/activities/{id}/held"),
            json!({"starts_on": from, "ends_on": to, "participants_total": participants,
                   "institutions": owes, "notes": ""}),
        )
        .await?;
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Seed 004 (also 002): the Warmia-Mazury networks
// ------------------------------------------------------------------------------------------

const PLATFORM_MEMBERS: [(&str, &str, u32); 9] = [
    ("Centrum Integracji Społecznej w Elblągu", "CIS", 540_010),
    ("Centrum Integracji Społecznej w Kętrzynie", "CIS", 540_020),
    ("Centrum Integracji Społecznej w Olsztynie", "CIS", 540_030),
    ("Klub Integracji Społecznej w Iławie", "KIS", 540_110),
    ("Klub Integracji Społecznej w Giżycku", "KIS", 540_120),
    ("Zakład Aktywności Zawodowej w Biskupcu", "ZAZ", 540_210),
    ("Zakład Aktywności Zawodowej w Ełku", "ZAZ", 540_220),
    ("Warsztat Terapii Zajęciowej w Suszu", "WTZ", 540_310),
    ("Warsztat Terapii Zajęciowej w Bartoszycach", "WTZ", 540_320),
];

const OWES_MEMBERS: [(&str, &str, u32); 3] = [
    (
        "Ośrodek Wsparcia Ekonomii Społecznej w Elblągu",
        "OWES",
        530_020,
    ),
    (
        "Ośrodek Wsparcia Ekonomii Społecznej w Olsztynie",
        "OWES",
        530_010,
    ),
    (
        "Ośrodek Wsparcia Ekonomii Społecznej w Ełku",
        "OWES",
        530_030,
    ),
];

async fn networks(c: &mut Client) -> anyhow::Result<()> {
    let declaration = json!({"signed_on": "2016-12-08", "document_ref": "deklaracja__przystapienia_do_sieci.docx"});
    let platform = c
        .create(
            "/api/v1/networks",
            json!({"organizer": "rops-olsztyn",
                   "name": "Regionalna Platforma Współpracy na rzecz Rozwoju Ekonomii Społecznej",
                   "region": "warmińsko-mazurskie", "member_types": ["CIS", "KIS", "ZAZ", "WTZ"],
                   "established_on": "2016-12-08"}),
            "id",
        )
        .await?;
    let owes = c
        .create(
            "/api/v1/networks",
            json!({"organizer": "rops-olsztyn",
                   "name": "Warmińsko-Mazurska Sieć Ośrodków Wsparcia Ekonomii Społecznej",
                   "region": "warmińsko-mazurskie", "member_types": ["OWES"],
                   "established_on": "2016-12-08"}),
            "id",
        )
        .await?;
    c.post(
        &format!("/api/v1/networks/{platform}/regulations"),
        json!({"version": "1.0", "title": "Regulamin Regionalnej Platformy Współpracy na rzecz Rozwoju Ekonomii Społecznej",
               "adopted_on": "2016-12-08", "document_ref": "regulamin__Platforma_Współpracy_na_Rzecz_Rozwoju_ES.DOC"}),
    )
    .await?;
    let mut platform_ids = Vec::new();
    for (name, kind, seed) in PLATFORM_MEMBERS {
        platform_ids.push(
            c.create(
                &format!("/api/v1/networks/{platform}/members"),
                json!({"institution": institution(name, kind, seed), "declaration": declaration}),
                "member_id",
            )
            .await?,
        );
    }
    let mut owes_ids = Vec::new();
    for (name, kind, seed) in OWES_MEMBERS {
        owes_ids.push(
            c.create(
                &format!("/api/v1/networks/{owes}/members"),
                json!({"institution": institution(name, kind, seed), "declaration": declaration}),
                "member_id",
            )
            .await?,
        );
    }
    // Officers (invented people): the chair from the ZAZ in Biskupiec, the vice-chair from
    // the CIS in Elbląg, the OWES network's coordinator from the OWES in Elbląg.
    for (network, role, (first, last), member) in [
        (
            &platform,
            "chair",
            ("Tadeusz", "Przykładowy"),
            &platform_ids[5],
        ),
        (
            &platform,
            "vice_chair",
            ("Halina", "Zmyślona"),
            &platform_ids[0],
        ),
        (&owes, "coordinator", ("Bogdan", "Wzorcowy"), &owes_ids[0]),
    ] {
        c.post(
            &format!("/api/v1/networks/{network}/officers"),
            json!({"role": role, "person": {"first_name": first, "last_name": last},
                   "member_id": member, "term_starts_on": "2016-12-08", "term_ends_on": "2020-12-31"}),
        )
        .await?;
    }
    for (title, when, participants, topics) in [
        (
            "Spotkanie sieciujące podmioty reintegracyjne",
            json!({"from": "2016-12-08", "to": "2016-12-09"}),
            100,
            json!([
                "powołanie Regionalnej Platformy Współpracy",
                "ukonstytuowanie władz",
                "dobre praktyki ZAZ i WTZ",
                "aspekty społeczne rewitalizacji"
            ]),
        ),
        (
            "Regionalna Platforma Współpracy: spotkanie wiosenne",
            json!({"from": "2020-05-21", "to": "2020-05-22"}),
            46,
            json!(["współpraca z OWES", "klauzule społeczne"]),
        ),
        (
            "Regionalna Platforma Współpracy: spotkanie jesienne",
            json!({"from": "2020-10-29", "to": "2020-10-30"}),
            38,
            json!(["podsumowanie roku"]),
        ),
    ] {
        c.post(
            &format!("/api/v1/networks/{platform}/meetings"),
            json!({"title": title, "when": when, "location": "Olsztyn", "participants_total": participants, "topics": topics}),
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_visit_moves_by_whole_weeks_and_its_deadlines_lie_ahead() {
        for day in 0..14 {
            let today = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap_or_default()
                + chrono::Duration::days(day);
            let d = VisitDates::for_today(today).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(d.announced_on.weekday(), chrono::Weekday::Wed);
            assert!(d.announced_on <= today && today - d.announced_on < chrono::Duration::days(7));
            assert_eq!(
                d.term1.0.weekday(),
                chrono::Weekday::Mon,
                "27 June 2022 was a Monday"
            );
            assert!(d.term1.2.date_naive() > today, "deadline I ahead");
            assert!(d.term2.2 > d.term1.2);
        }
        let d = VisitDates::for_today(NaiveDate::from_ymd_opt(2022, 6, 15).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.term1.2.to_rfc3339(), "2022-06-23T09:00:00+00:00");
        assert_eq!(d.term3_planned, json!({"month": "2022-07", "part": "mid"}));
    }

    #[test]
    fn invented_people_have_unique_example_org_addresses() {
        let emails: std::collections::BTreeSet<String> = (0..64)
            .map(|i| person(i)["email"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(emails.len(), 64);
        assert!(emails
            .iter()
            .all(|e| e.ends_with("@example.org") && e.is_ascii()));
    }
}
