//! The console's forms for API commands: a form is described once ([`Spec`]: its fields, each
//! named by the JSON path of the API request it fills), shown as plain HTML, and its post is
//! turned into that request's JSON and sent to the API in-process (`console::api`). The
//! API's answer decides what the person sees: a 2xx goes on to the next page, a 422 shows the
//! form again with every error in the GOV.UK pattern (a summary linking to each field, the
//! message beside the field, what was typed kept), a 409 shows the refusal in the summary.
//!
//! Why JSON paths as field names: the API's errors name fields by the same paths
//! (`indicators[1].target`), so an error finds its field without a table per form. Rows that
//! may stay empty (indicators, institutions) are dropped before sending, and the error
//! paths of the rows left are mapped back to the rows as shown.

use std::collections::HashMap;

use askama::Template;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Europe::Warsaw;
use infra::accounts::User;
use serde_json::{Map, Value};

use super::api::{Answer, Api};
use crate::http::forms::{csrf_for, csrf_sent, with_cookie};
use crate::http::page::{not_found, private, render, Message};
use crate::http::state::AppState;

/// The hidden field holding a form's key (see [`FormPage::key`]).
const KEY: &str = "klucz";

/// What a field holds and how it is shown.
#[derive(Clone, Copy)]
pub enum Kind {
    /// One line of text.
    Text,
    /// Several lines of text.
    Long,
    /// A date, typed as Poles write it (`27.05.2027`, also `2027-05-27`), sent as
    /// `YYYY-MM-DD`. A text field, not the browser's date picker: GOV.UK found pickers hard
    /// to use by keyboard and screen reader, and old browsers show them as text anyway.
    Date,
    /// A date and hour in Polish time (`20.05.2027 12:00`), sent as an RFC 3339 instant.
    DateTime,
    /// A whole number.
    Integer,
    /// One of these values (value, label); the first is chosen when nothing was.
    Select(&'static [(&'static str, &'static str)]),
    /// Any of these values, sent as an array.
    Checks(&'static [(&'static str, &'static str)]),
    /// A date as schedules write it (`koniec maja 2027`, `7-8.05.2027`), sent as the
    /// `PlannedDate` it reads as.
    Planned,
    /// One value per line, sent as an array of strings.
    Lines,
}

/// One field of a form.
#[derive(Clone)]
pub struct Field {
    /// The JSON path it fills, e.g. `title`, `period.start`, `indicators[0].code`.
    pub path: String,
    pub label: String,
    pub hint: Option<&'static str>,
    pub kind: Kind,
    /// Left out of the request when empty. A field that is not optional is sent even
    /// empty (`""`), so the API names every missing field at once, not the first only.
    pub optional: bool,
}

impl Field {
    pub fn new(path: impl Into<String>, label: impl Into<String>, kind: Kind) -> Self {
        Self {
            path: path.into(),
            label: label.into(),
            hint: None,
            kind,
            optional: false,
        }
    }

    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    pub fn hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }
}

/// Fields shown together, under a legend when they belong to one thing.
pub struct Group {
    pub legend: Option<String>,
    pub fields: Vec<Field>,
}

impl Group {
    pub fn plain(fields: Vec<Field>) -> Self {
        Self {
            legend: None,
            fields,
        }
    }

    pub fn titled(legend: impl Into<String>, fields: Vec<Field>) -> Self {
        Self {
            legend: Some(legend.into()),
            fields,
        }
    }
}

/// `n` groups of the same fields for the rows of an array at `array` (`indicators`), each
/// field's path under `array[i]`; rows left empty are not sent.
pub fn rows(
    n: usize,
    array: &str,
    legend: &str,
    fields: &[(&str, &str, Kind)],
) -> impl Iterator<Item = Group> {
    let array = array.to_owned();
    let legend = legend.to_owned();
    let fields: Vec<(String, String, Kind)> = fields
        .iter()
        .map(|(p, l, k)| ((*p).to_owned(), (*l).to_owned(), *k))
        .collect();
    (0..n).map(move |i| {
        Group::titled(
            format!("{legend} {}", i + 1),
            fields
                .iter()
                .map(|(p, l, k)| Field::new(format!("{array}[{i}].{p}"), l.clone(), *k))
                .collect(),
        )
    })
}

/// A console form for one API operation.
pub struct Spec {
    pub title: String,
    pub intro: Option<String>,
    pub groups: Vec<Group>,
    pub submit: &'static str,
    /// Where "back" leads.
    pub back: String,
    /// The API operation.
    pub method: Method,
    pub api_path: String,
    /// Paths holding arrays of `{code, value}` rows sent as one object `{code: value}`.
    pub maps: &'static [&'static str],
}

/// What the person typed, by field path (checkboxes: every value ticked).
pub type Values = HashMap<String, Vec<String>>;

/// The form's page.
#[derive(Template)]
#[template(path = "konsola/formularz.html")]
struct FormPage<'a> {
    spec: &'a Spec,
    action: &'a str,
    csrf: String,
    /// This rendering's key: the form sent twice is carried out once.
    key: String,
    groups: Vec<ShownGroup>,
    errors: Vec<Problem>,
}

/// An error in the summary: the field it links to (or none, for a refusal).
pub struct Problem {
    pub id: String,
    pub message: String,
}

struct ShownGroup {
    legend: Option<String>,
    fields: Vec<Shown>,
}

/// A field as shown: its value and error.
struct Shown {
    id: String,
    name: String,
    label: String,
    hint: Option<&'static str>,
    error: Option<String>,
    value: String,
    /// `input`'s type, or `textarea`, `select`, `checks`.
    control: &'static str,
    inputmode: Option<&'static str>,
    options: Vec<Choice>,
    describedby: String,
}

struct Choice {
    id: String,
    value: &'static str,
    label: &'static str,
    chosen: bool,
}

/// The HTML id of a field: its path with the characters ids and `#` links dislike replaced.
pub fn id_of(path: &str) -> String {
    let id: String = path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("f-{id}")
}

/// The page of `spec` with `values` and `errors` (field path → message; `""` for the form).
fn page(
    state: &AppState,
    headers: &HeaderMap,
    spec: &Spec,
    action: &str,
    values: &Values,
    errors: &[(String, String)],
    status: StatusCode,
) -> Response {
    let error_of = |path: &str| {
        errors
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let groups: Vec<ShownGroup> = spec
        .groups
        .iter()
        .map(|g| ShownGroup {
            legend: g.legend.clone(),
            fields: g
                .fields
                .iter()
                .map(|f| {
                    let id = id_of(&f.path);
                    let given = values.get(&f.path);
                    let value = given.and_then(|v| v.first()).cloned().unwrap_or_default();
                    let error = Some(error_of(&f.path)).filter(|e| !e.is_empty());
                    let mut describedby = Vec::new();
                    if f.hint.is_some() {
                        describedby.push(format!("{id}-podpowiedz"));
                    }
                    if error.is_some() {
                        describedby.push(format!("{id}-blad"));
                    }
                    let (control, inputmode) = match f.kind {
                        Kind::Text | Kind::Planned => ("text", None),
                        Kind::Long | Kind::Lines => ("textarea", None),
                        Kind::Date | Kind::DateTime => ("text", None),
                        Kind::Integer => ("text", Some("numeric")),
                        Kind::Select(_) => ("select", None),
                        Kind::Checks(_) => ("checks", None),
                    };
                    let options = match f.kind {
                        Kind::Select(o) | Kind::Checks(o) => o
                            .iter()
                            .enumerate()
                            .map(|(i, (v, l))| Choice {
                                id: format!("{id}-{i}"),
                                value: v,
                                label: l,
                                chosen: given.is_some_and(|g| g.iter().any(|x| x == v)),
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    Shown {
                        name: f.path.clone(),
                        label: f.label.clone(),
                        hint: f.hint,
                        error,
                        value,
                        control,
                        inputmode,
                        options,
                        describedby: describedby.join(" "),
                        id,
                    }
                })
                .collect(),
        })
        .collect();
    // The summary in the order of the form, then what belongs to no field.
    let mut summary: Vec<Problem> = Vec::new();
    for f in spec.groups.iter().flat_map(|g| &g.fields) {
        for (p, m) in errors {
            if *p == f.path {
                summary.push(Problem {
                    id: id_of(&f.path),
                    message: format!("{}: {m}", f.label),
                });
            }
        }
    }
    let first = spec
        .groups
        .iter()
        .flat_map(|g| &g.fields)
        .next()
        .map(|f| id_of(&f.path))
        .unwrap_or_default();
    for (p, m) in errors {
        if !spec
            .groups
            .iter()
            .flat_map(|g| &g.fields)
            .any(|f| f.path == *p)
        {
            summary.push(Problem {
                id: first.clone(),
                message: m.clone(),
            });
        }
    }
    let (csrf, cookie) = csrf_for(&state.forms, headers);
    let body = FormPage {
        spec,
        action,
        csrf,
        key: crate::http::forms::random_token(16),
        groups,
        errors: summary,
    };
    with_cookie(private(render(status, &body)), cookie)
}

/// The empty form (or filled with `values`, to change something).
pub fn show(
    state: &AppState,
    headers: &HeaderMap,
    spec: &Spec,
    action: &str,
    values: &Values,
) -> Response {
    page(state, headers, spec, action, values, &[], StatusCode::OK)
}

/// The values of a posted form, by name, and its CSRF token.
pub fn posted(body: &[u8]) -> (Values, String) {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let mut values = Values::new();
    let mut csrf = String::new();
    for (k, v) in pairs {
        if k == "csrf" {
            csrf = v;
        } else {
            values.entry(k).or_default().push(v);
        }
    }
    (values, csrf)
}

/// The answer when the form's CSRF token is missing or stale: nothing was changed.
pub fn expired(back: &str) -> Response {
    private(render(
        StatusCode::FORBIDDEN,
        &Message::new(
            "Formularz wygasł",
            vec![
                "Nic nie zostało zmienione. Otwórz formularz ponownie i wyślij go jeszcze raz."
                    .to_owned(),
            ],
        )
        .next(back.to_owned(), "Wróć"),
    ))
}

/// The answer to a post that is not the form the page sends (a file form sent without its
/// file encoding, say): nothing was changed.
pub fn not_a_form(back: &str) -> Response {
    private(render(
        StatusCode::BAD_REQUEST,
        &Message::new(
            "Nie udało się odczytać formularza",
            vec![
                "Nic nie zostało zmienione. Otwórz formularz ponownie i wyślij go jeszcze raz."
                    .to_owned(),
            ],
        )
        .next(back.to_owned(), "Wróć do formularza"),
    ))
}

/// The answer to an evaluator's post: read-only.
pub fn read_only(back: &str) -> Response {
    private(render(
        StatusCode::FORBIDDEN,
        &Message::new(
            "Tylko do odczytu",
            vec!["Konto ewaluatora może przeglądać, ale niczego nie zmienia.".to_owned()],
        )
        .next(back.to_owned(), "Wróć"),
    ))
}

/// What became of a submitted form.
pub enum Outcome {
    /// The API took it: its answer.
    Done(Answer),
    /// The page to show (the form with errors, a refusal, not found).
    Page(Response),
}

/// Checks the CSRF token, turns `values` into the request of `spec`, calls the API and
/// answers the form again with every error, or gives the API's answer back.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    state: &AppState,
    api: &Api,
    headers: &HeaderMap,
    user: &User,
    spec: &Spec,
    action: &str,
    values: &Values,
    csrf: &str,
) -> Outcome {
    if !csrf_sent(&state.forms, headers, csrf) {
        return Outcome::Page(expired(action));
    }
    if user.role == infra::tokens::Role::Evaluator {
        return Outcome::Page(read_only(&spec.back));
    }
    let (json, renames, mut errors) = request_of(spec, values);
    if !errors.is_empty() {
        return Outcome::Page(page(
            state,
            headers,
            spec,
            action,
            values,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let key = values
        .get(KEY)
        .and_then(|v| v.first())
        .filter(|k| (16..=64).contains(&k.len()));
    let answer = match key {
        Some(key) => {
            api.call_once(
                user,
                headers,
                spec.method.clone(),
                &spec.api_path,
                &json,
                &format!("konsola-{key}"),
            )
            .await
        }
        None => {
            api.call(
                user,
                headers,
                spec.method.clone(),
                &spec.api_path,
                Some(&json),
            )
            .await
        }
    };
    match answer.status {
        s if s.is_success() => Outcome::Done(answer),
        StatusCode::UNPROCESSABLE_ENTITY => {
            errors = answer
                .field_errors()
                .into_iter()
                .map(|(path, message)| (shown_path(spec, &renames, &path), message))
                .collect();
            if errors.is_empty() {
                errors.push((String::new(), answer.detail()));
            }
            Outcome::Page(page(
                state,
                headers,
                spec,
                action,
                values,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
        StatusCode::CONFLICT | StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN => {
            Outcome::Page(page(
                state,
                headers,
                spec,
                action,
                values,
                &[(String::new(), answer.detail())],
                answer.status,
            ))
        }
        StatusCode::NOT_FOUND => Outcome::Page(private(not_found())),
        _ => Outcome::Page(private(render(
            StatusCode::SERVICE_UNAVAILABLE,
            &Message::new(
                "Chwilowy problem",
                vec![
                    "Nie udało się tego zapisać. Spróbuj ponownie za kilka minut.".to_owned(),
                    answer.detail(),
                ],
            )
            .next(spec.back.clone(), "Wróć"),
        ))),
    }
}

/// [`submit`], then on success the page `next` names for the answer (with `?zrobione=1`).
#[allow(clippy::too_many_arguments)]
pub async fn submit_then(
    state: &AppState,
    api: &Api,
    headers: &HeaderMap,
    user: &User,
    spec: &Spec,
    action: &str,
    values: &Values,
    csrf: &str,
    next: impl FnOnce(&Answer) -> String,
) -> Response {
    match submit(state, api, headers, user, spec, action, values, csrf).await {
        Outcome::Done(answer) => {
            let to = next(&answer);
            let sep = if to.contains('?') { '&' } else { '?' };
            let po = answer
                .position()
                .map(|p| format!("&po={p}"))
                .unwrap_or_default();
            private(Redirect::to(&format!("{to}{sep}zrobione=1{po}")).into_response())
        }
        Outcome::Page(res) => res,
    }
}

/// A row's path as sent and as shown on the form (`rows[0]`, `rows[2]`).
type Rename = (String, String);

/// One segment of a JSON path.
enum Seg {
    Key(String),
    Index(usize),
}

/// `a.b[2].c` as segments.
fn segments(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            out.push(Seg::Key(rest[..i].to_owned()));
            rest = &rest[i..];
            while let Some(end) = rest.find(']') {
                if let Ok(n) = rest[1..end].parse() {
                    out.push(Seg::Index(n));
                }
                rest = &rest[end + 1..];
            }
        } else {
            out.push(Seg::Key(rest.to_owned()));
        }
    }
    out
}

/// Puts `value` at `path` in `root`, making the objects and arrays on the way.
fn put(root: &mut Value, path: &[Seg], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *root = value;
        return;
    };
    let slot = match first {
        Seg::Key(k) => {
            if !root.is_object() {
                *root = Value::Object(Map::new());
            }
            match root {
                Value::Object(m) => m.entry(k.clone()).or_insert(Value::Null),
                _ => return,
            }
        }
        Seg::Index(i) => {
            if !root.is_array() {
                *root = Value::Array(Vec::new());
            }
            match root {
                Value::Array(a) => {
                    while a.len() <= *i {
                        a.push(Value::Null);
                    }
                    &mut a[*i]
                }
                _ => return,
            }
        }
    };
    put(slot, rest, value);
}

/// Drops empty rows from arrays of objects (a row no field of which was filled) and records
/// the path each remaining row had on the form: `rows[0]` sent may be `rows[2]` shown.
fn compact(value: &mut Value, at: &str, renames: &mut Vec<(String, String)>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                let here = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                compact(v, &here, renames);
            }
            m.retain(|_, v| !v.is_null());
        }
        Value::Array(a) => {
            let mut kept = Vec::new();
            for (i, mut v) in std::mem::take(a).into_iter().enumerate() {
                compact(&mut v, &format!("{at}[{i}]"), renames);
                if v.is_null() || v.as_object().is_some_and(Map::is_empty) {
                    continue;
                }
                if kept.len() != i {
                    renames.push((format!("{at}[{}]", kept.len()), format!("{at}[{i}]")));
                }
                kept.push(v);
            }
            *a = kept;
        }
        _ => {}
    }
}

/// The JSON request of `spec` filled with `values`; the renames of rows dropped as empty;
/// and the errors found before asking the API (a number that is not one, an hour that is
/// not one), which the API could only name less clearly.
fn request_of(spec: &Spec, values: &Values) -> (Value, Vec<Rename>, Vec<(String, String)>) {
    let mut root = Value::Object(Map::new());
    let mut errors = Vec::new();
    let fields: Vec<&Field> = spec.groups.iter().flat_map(|g| &g.fields).collect();
    let typed = |f: &Field| {
        values
            .get(&f.path)
            .is_some_and(|v| v.iter().any(|s| !s.trim().is_empty()))
    };
    // A row (`rows[2].…`) nothing was typed into is not sent; its choices of a list do not
    // count, as a list always has one chosen.
    let blank_row = |f: &Field| {
        row_of(&f.path).is_some_and(|row| {
            !fields.iter().any(|g| {
                row_of(&g.path) == Some(row) && !matches!(g.kind, Kind::Select(_)) && typed(g)
            })
        })
    };
    for f in fields.iter().copied() {
        if blank_row(f) {
            continue;
        }
        let given: Vec<&str> = values
            .get(&f.path)
            .map(|v| v.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let one = given.first().map(|s| s.trim()).unwrap_or_default();
        let value = match f.kind {
            Kind::Checks(_) => Some(Value::Array(
                given
                    .iter()
                    .map(|v| Value::String((*v).to_owned()))
                    .collect(),
            )),
            Kind::Lines => {
                let lines: Vec<Value> = one
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| Value::String(l.to_owned()))
                    .collect();
                (!lines.is_empty()).then_some(Value::Array(lines))
            }
            _ if one.is_empty() && f.optional => None,
            Kind::Integer if one.is_empty() => {
                errors.push((f.path.clone(), "Wpisz liczbę.".to_owned()));
                None
            }
            Kind::DateTime if one.is_empty() => {
                errors.push((
                    f.path.clone(),
                    "Wpisz datę i godzinę, np. 20.05.2027 12:00.".to_owned(),
                ));
                None
            }
            Kind::Date if one.is_empty() => Some(Value::String(String::new())),
            Kind::Date => match iso_date(one) {
                Some(d) => Some(Value::String(d)),
                None => {
                    errors.push((f.path.clone(), "Wpisz datę, np. 27.05.2027.".to_owned()));
                    None
                }
            },
            Kind::Integer => match one.replace([' ', '\u{a0}'], "").parse::<i64>() {
                Ok(n) => Some(Value::from(n)),
                Err(_) => {
                    errors.push((f.path.clone(), "Wpisz liczbę całkowitą, np. 12.".to_owned()));
                    None
                }
            },
            Kind::Planned => match domain::values::PlannedDate::parse_polish(one)
                .ok()
                .and_then(|p| serde_json::to_value(p).ok())
            {
                Some(v) => Some(v),
                None => {
                    errors.push((
                        f.path.clone(),
                        "Wpisz datę tak, jak w harmonogramie, z rokiem, np. „koniec maja 2027”, „7-8.05.2027” albo „05.2027”.".to_owned(),
                    ));
                    None
                }
            },
            Kind::DateTime => match warsaw_instant(one) {
                Some(at) => Some(Value::String(at)),
                None => {
                    errors.push((
                        f.path.clone(),
                        "Wpisz datę i godzinę, np. 20.05.2027 12:00.".to_owned(),
                    ));
                    None
                }
            },
            Kind::Long => Some(Value::String(given.first().map_or("", |s| s).to_owned())),
            Kind::Text | Kind::Select(_) => Some(Value::String(one.to_owned())),
        };
        if let Some(v) = value {
            put(&mut root, &segments(&f.path), v);
        }
    }
    let mut renames = Vec::new();
    compact(&mut root, "", &mut renames);
    for map in spec.maps {
        if let Some(Value::Array(rows)) = root.get(*map).cloned() {
            let mut m = Map::new();
            for row in rows {
                if let (Some(code), Some(v)) =
                    (row.get("code").and_then(Value::as_str), row.get("value"))
                {
                    m.insert(code.to_owned(), v.clone());
                }
            }
            if let Value::Object(o) = &mut root {
                o.insert((*map).to_owned(), Value::Object(m));
            }
        }
    }
    (root, renames, errors)
}

/// A date as Poles write it (`27.05.2027`, `27-05-2027`, `27/05/2027`) or ISO
/// (`2027-05-27`), as `YYYY-MM-DD`.
fn iso_date(text: &str) -> Option<String> {
    ["%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%Y"]
        .iter()
        .find_map(|f| chrono::NaiveDate::parse_from_str(text, f).ok())
        .map(|d| d.to_string())
}

/// The row a field belongs to: its path up to the last index (`rows[2]` of
/// `rows[2].code`), or `None` outside rows.
fn row_of(path: &str) -> Option<&str> {
    path.rfind(']').map(|i| &path[..=i])
}

/// `2026-03-01T12:00` (what a `datetime-local` field sends; also with a space, or seconds)
/// in Polish time, as an RFC 3339 instant. `None` when it is not one, or names an hour
/// the clocks skip.
fn warsaw_instant(text: &str) -> Option<String> {
    let text: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("T")
        .replace(",T", "T");
    let local = [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%d.%m.%YT%H:%M",
        "%d-%m-%YT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok())?;
    let at = Warsaw.from_local_datetime(&local).earliest()?;
    Some(at.with_timezone(&chrono::Utc).to_rfc3339())
}

/// The field an error of the API names, as shown: the row it came from, and for an element
/// of a one-per-line list or a sub-field the form does not show, the field holding it.
fn shown_path(spec: &Spec, renames: &[(String, String)], path: &str) -> String {
    let mut path = path.to_owned();
    // Longest sent prefix first, so `rows[1]` does not also rename `rows[10]`.
    let mut sorted: Vec<&(String, String)> = renames.iter().collect();
    sorted.sort_by_key(|(sent, _)| std::cmp::Reverse(sent.len()));
    for (sent, shown) in sorted {
        if path == *sent
            || path.starts_with(&format!("{sent}."))
            || path.starts_with(&format!("{sent}["))
        {
            path = format!("{shown}{}", &path[sent.len()..]);
            break;
        }
    }
    let fields: Vec<&str> = spec
        .groups
        .iter()
        .flat_map(|g| &g.fields)
        .map(|f| f.path.as_str())
        .collect();
    // The field itself, else the longest field that holds it (`goals` for `goals[2]`).
    let mut probe = path.as_str();
    loop {
        if fields.contains(&probe) {
            return probe.to_owned();
        }
        match probe.rfind(['.', '[']) {
            Some(i) => probe = &probe[..i],
            None => break,
        }
    }
    // A row's error (`institutions[0]`) goes to the row's first field.
    fields
        .iter()
        .find(|f| f.starts_with(&format!("{path}.")) || f.starts_with(&format!("{path}[")))
        .map_or(String::new(), |f| (*f).to_owned())
}

/// Values for an edit form from `(path, value)` pairs.
pub fn values_of<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> Values {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), vec![v]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        let mut groups = vec![Group::plain(vec![
            Field::new("title", "Tytuł", Kind::Text),
            Field::new("seats", "Miejsca", Kind::Integer),
            Field::new("goals", "Cele", Kind::Lines),
            Field::new(
                "types",
                "Typy",
                Kind::Checks(&[("ops", "OPS"), ("pcpr", "PCPR")]),
            ),
            Field::new("period.start", "Od", Kind::Date),
        ])];
        groups.extend(rows(
            3,
            "indicators",
            "Wskaźnik",
            &[
                ("code", "Kod", Kind::Text),
                ("target", "Cel", Kind::Integer),
            ],
        ));
        Spec {
            title: "Test".into(),
            intro: None,
            groups,
            submit: "Zapisz",
            back: "/panel".into(),
            method: Method::POST,
            api_path: "/api/v1/x".into(),
            maps: &[],
        }
    }

    fn values(pairs: &[(&str, &str)]) -> Values {
        let mut v = Values::new();
        for (k, x) in pairs {
            v.entry((*k).to_owned()).or_default().push((*x).to_owned());
        }
        v
    }

    #[test]
    fn a_form_becomes_the_request_it_stands_for() {
        let (json, renames, errors) = request_of(
            &spec(),
            &values(&[
                ("title", " Wizyta "),
                ("seats", "1 200"),
                ("goals", "pierwszy\n\n drugi \n"),
                ("types", "ops"),
                ("types", "pcpr"),
                ("period.start", "2026-01-02"),
                ("indicators[0].code", ""),
                ("indicators[1].code", "a"),
                ("indicators[1].target", "5"),
                ("indicators[2].code", "b"),
                ("indicators[2].target", "0"),
            ]),
        );
        assert!(errors.is_empty());
        let expected = serde_json::json!({
            "title": "Wizyta", "seats": 1200, "goals": ["pierwszy", "drugi"],
            "types": ["ops", "pcpr"], "period": {"start": "2026-01-02"},
            "indicators": [{"code": "a", "target": 5}, {"code": "b", "target": 0}]
        });
        assert_eq!(json, expected);
        // The API's `indicators[0]` is the second row on the form.
        assert_eq!(
            shown_path(&spec(), &renames, "indicators[0].target"),
            "indicators[1].target"
        );
        assert_eq!(
            shown_path(&spec(), &renames, "indicators[1].code"),
            "indicators[2].code"
        );
        assert_eq!(shown_path(&spec(), &renames, "goals[1]"), "goals");
        assert_eq!(shown_path(&spec(), &renames, "period"), "period.start");
        assert_eq!(shown_path(&spec(), &renames, "organizer"), "");
    }

    #[test]
    fn numbers_and_hours_are_checked_before_asking() {
        let (json, _, errors) = request_of(
            &spec(),
            &values(&[
                ("seats", "dwanaście"),
                ("title", ""),
                ("indicators[0].code", "x"),
            ]),
        );
        let named: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(named, ["seats", "indicators[0].target"]);
        // An empty field that is not optional is sent empty, for the API to name it.
        assert_eq!(json["title"], "");
    }

    #[test]
    fn hours_are_polish_time() {
        // Winter: UTC+1; summer: UTC+2.
        assert_eq!(
            warsaw_instant("2026-01-15T12:00").as_deref(),
            Some("2026-01-15T11:00:00+00:00")
        );
        assert_eq!(
            warsaw_instant("2026-07-15 12:00").as_deref(),
            Some("2026-07-15T10:00:00+00:00")
        );
        assert_eq!(
            warsaw_instant("15.07.2026 12:00").as_deref(),
            Some("2026-07-15T10:00:00+00:00")
        );
        assert_eq!(warsaw_instant("15.07.2026"), None);
        assert_eq!(iso_date("27.05.2027").as_deref(), Some("2027-05-27"));
        assert_eq!(iso_date("2027-05-27").as_deref(), Some("2027-05-27"));
        assert_eq!(iso_date("31.02.2027"), None);
        // 02:30 on the last Sunday of March does not exist in Poland.
        assert_eq!(warsaw_instant("2026-03-29T02:30"), None);
    }
}
