//! A million events, fast: whole streams appended through the same hash-chained
//! `infra::store::append` the pipeline uses, many events per INSERT.

use std::sync::Arc;

use anyhow::Context;
use infra::store::{self, Head, NewEvent};
use serde_json::Value;
use sqlx::PgPool;

use super::load::Target;

/// A stored submission the bulk events are modelled on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Template {
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
}

/// The newest stored submission, as a template.
pub async fn template(pool: &PgPool) -> anyhow::Result<Template> {
    sqlx::query_as(
        "SELECT event_version, payload, metadata FROM events
          WHERE event_type = 'ApplicationSubmitted' ORDER BY position DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?
    .context("no stored submission to model the bulk events on")
}

/// Appends `count` ApplicationSubmitted events spread evenly over the open terms `targets`,
/// modelled on `template` (a stored submission: payload and metadata) with fresh ids.
/// Each stream continues from its stored head, so the chain and sequences stay valid.
pub async fn fill(
    pool: &PgPool,
    targets: &[Target],
    template: &Template,
    count: usize,
    writers: usize,
) -> anyhow::Result<usize> {
    let per_stream = count.div_ceil(targets.len().max(1));
    let template = Arc::new(template.clone());
    let chunks: Vec<Vec<Target>> = targets
        .chunks(targets.len().div_ceil(writers.max(1)).max(1))
        .map(<[Target]>::to_vec)
        .collect();
    let mut tasks = Vec::new();
    let mut left = count;
    for chunk in chunks {
        let mut quotas = Vec::new();
        for t in chunk {
            let n = per_stream.min(left);
            left -= n;
            quotas.push((t, n));
        }
        let (pool, template) = (pool.clone(), template.clone());
        tasks.push(tokio::spawn(async move {
            let mut written = 0;
            for (target, n) in quotas {
                written += fill_stream(&pool, &target, &template, n).await?;
            }
            anyhow::Ok(written)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.context("bulk writer")??;
    }
    Ok(total)
}

async fn fill_stream(
    pool: &PgPool,
    target: &Target,
    template: &Template,
    count: usize,
) -> anyhow::Result<usize> {
    let rows = store::load_stream(pool, "StudyVisit", &target.visit, 0).await?;
    let mut head = Head::after(&rows);
    let mut written = 0;
    while written < count {
        let n = (count - written).min(1000);
        let events: Vec<NewEvent> = (0..n)
            .map(|_| {
                let mut payload = template.payload.clone();
                let mut metadata = template.metadata.clone();
                if let Some(e) = payload.get_mut("ApplicationSubmitted") {
                    e["application_id"] = uuid::Uuid::now_v7().to_string().into();
                    e["subject_id"] = uuid::Uuid::new_v4().to_string().into();
                    e["term_id"] = target.term.clone().into();
                }
                metadata["correlation_id"] = uuid::Uuid::now_v7().to_string().into();
                metadata["causation_id"] = "bench:bulk".into();
                NewEvent {
                    event_type: "ApplicationSubmitted".into(),
                    event_version: template.event_version.clone(),
                    payload,
                    metadata,
                }
            })
            .collect();
        head = store::append(
            pool,
            "StudyVisit",
            &target.visit,
            head,
            &events,
            chrono::Utc::now(),
        )
        .await?;
        written += n;
    }
    Ok(written)
}
