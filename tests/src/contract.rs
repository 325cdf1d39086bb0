//! Every answer a test receives is held to the OpenAPI document the service serves: its
//! status must be one the operation declares, its content type one declared for that
//! status, and a JSON body must validate against the declared schema (JSON Schema 2020-12,
//! formats asserted). So each end-to-end test is also a test that the document tells the
//! truth: a client generated from it would read this answer.
//!
//! Requests to paths or methods the document does not describe (`/metrics`, the dashboard,
//! a route that does not exist) are not checked here; the tests about them assert their own
//! answers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

/// The served document, and a validator per declared response schema, made once per run.
struct Contract {
    doc: Value,
    /// `(segments of the path template, the template)`, literal templates first.
    templates: Vec<(Vec<String>, String)>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let doc = serde_json::to_value(service::http::openapi()).expect("the document is JSON");
        let mut templates: Vec<(Vec<String>, String)> = doc["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .keys()
                    .map(|t| (t.split('/').map(str::to_owned).collect(), t.clone()))
                    .collect()
            })
            .unwrap_or_default();
        // More literal segments first: `/audit/study-visits/{id}/verify` before
        // `/audit/{aggregate_type}/{id}/state`-like templates of the same length.
        templates.sort_by_key(|(segments, _)| {
            std::cmp::Reverse(segments.iter().filter(|s| !s.starts_with('{')).count())
        });
        Contract {
            doc,
            templates,
            validators: Mutex::new(HashMap::new()),
        }
    })
}

/// The template a concrete path (without its query) is an instance of.
fn template_of<'c>(c: &'c Contract, path: &str) -> Option<&'c str> {
    let segments: Vec<&str> = path.split('/').collect();
    c.templates.iter().find_map(|(template, name)| {
        let fits = template.len() == segments.len()
            && template
                .iter()
                .zip(&segments)
                .all(|(t, s)| t.starts_with('{') || t == s);
        fits.then_some(name.as_str())
    })
}

/// A JSON pointer token (RFC 6901).
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The validator of the schema at `pointer` in the document (with the document around it,
/// so its `$ref`s to `#/components/…` resolve).
fn validator(c: &Contract, pointer: &str) -> Result<Arc<jsonschema::Validator>, String> {
    let mut cache = c.validators.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(v) = cache.get(pointer) {
        return Ok(v.clone());
    }
    let mut root = c.doc.clone();
    // A URI fragment: the pointer's `{` and `}` (path templates) percent-encoded.
    let fragment: String = pointer
        .chars()
        .map(|ch| match ch {
            '{' => "%7B".to_owned(),
            '}' => "%7D".to_owned(),
            other => other.to_string(),
        })
        .collect();
    root["$ref"] = Value::String(format!("#{fragment}"));
    let v = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .map_err(|e| format!("the schema at {pointer} does not compile: {e}"))?;
    let v = Arc::new(v);
    cache.insert(pointer.to_owned(), v.clone());
    Ok(v)
}

/// Checks one answer against the document; `Err` says how it disagrees.
pub fn check(
    method: &str,
    path_and_query: &str,
    status: u16,
    content_type: &str,
    body: &str,
) -> Result<(), String> {
    let c = contract();
    let path = path_and_query.split('?').next().unwrap_or(path_and_query);
    let Some(template) = template_of(c, path) else {
        return Ok(());
    };
    let method = method.to_lowercase();
    let operation = &c.doc["paths"][template][&method];
    if operation.is_null() {
        return Ok(());
    }
    let responses = &operation["responses"];
    let code = status.to_string();
    let (code, response) = match (&responses[&code], &responses["default"]) {
        (r, _) if !r.is_null() => (code, r),
        (_, d) if !d.is_null() => ("default".to_owned(), d),
        _ => {
            return Err(format!(
                "{} {template}: status {status} is not declared (declared: {})",
                method.to_uppercase(),
                responses
                    .as_object()
                    .map(|r| r.keys().cloned().collect::<Vec<_>>().join(", "))
                    .unwrap_or_default()
            ))
        }
    };
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let declared = response["content"].as_object();
    let Some(declared) = declared.filter(|d| !d.is_empty()) else {
        return if body.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} {template} {status}: a {media} body where the document declares none",
                method.to_uppercase()
            ))
        };
    };
    let Some((declared_type, content)) = declared
        .iter()
        .find(|(t, _)| t.to_ascii_lowercase() == media)
    else {
        return Err(format!(
            "{} {template} {status}: content type {media:?} is not declared (declared: {})",
            method.to_uppercase(),
            declared.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    };
    let is_json = media == "application/json" || media.ends_with("+json");
    if !is_json || content["schema"].is_null() {
        return Ok(());
    }
    let instance: Value = serde_json::from_str(body).map_err(|e| {
        format!(
            "{} {template} {status}: the body is not JSON ({e})",
            method.to_uppercase()
        )
    })?;
    let pointer = format!(
        "/paths/{}/{method}/responses/{code}/content/{}/schema",
        escape(template),
        escape(declared_type)
    );
    let v = validator(c, &pointer)?;
    let errors: Vec<String> = v
        .iter_errors(&instance)
        .take(5)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} {template} {status}: the body disagrees with its schema:\n  {}\nbody: {}",
            method.to_uppercase(),
            errors.join("\n  "),
            body.chars().take(2000).collect::<String>()
        ))
    }
}

/// Checks `instance` against the schema the document names `name` under
/// `#/components/schemas/` (formats asserted, as for answers): for unit tests that hold a
/// request body, or the JSON of a domain value an answer carries, to the schema that
/// describes it.
pub fn check_schema(name: &str, instance: &Value) -> Result<(), String> {
    let c = contract();
    if c.doc["components"]["schemas"][name].is_null() {
        return Err(format!("the document has no schema {name}"));
    }
    let v = validator(c, &format!("/components/schemas/{}", escape(name)))?;
    let errors: Vec<String> = v
        .iter_errors(instance)
        .take(5)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{name}: the value disagrees with its schema:\n  {}\nvalue: {instance}",
            errors.join("\n  ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_find_their_templates_and_bodies_their_schemas() {
        let c = contract();
        assert_eq!(
            template_of(c, "/api/v1/study-visits/abc/terms/def/roster"),
            Some("/api/v1/study-visits/{id}/terms/{term_id}/roster")
        );
        assert_eq!(
            template_of(c, "/api/v1/study-visits/abc/terms/def/roster.csv"),
            Some("/api/v1/study-visits/{id}/terms/{term_id}/roster.csv")
        );
        assert_eq!(template_of(c, "/metrics"), None);
        // A problem document passes as a problem, and a wrong body does not.
        let problem = r#"{"type":"/problems/not_found","title":"Not Found","status":404,"detail":"No such study visit."}"#;
        check(
            "GET",
            "/api/v1/study-visits/x",
            404,
            "application/problem+json",
            problem,
        )
        .expect("a problem is what a 404 declares");
        assert!(check(
            "GET",
            "/api/v1/study-visits/x",
            404,
            "application/problem+json",
            "{}"
        )
        .is_err());
        assert!(check("GET", "/api/v1/study-visits/x", 404, "text/plain", "no").is_err());
        assert!(check(
            "GET",
            "/api/v1/study-visits/x",
            418,
            "application/problem+json",
            problem
        )
        .is_err());
    }
}
