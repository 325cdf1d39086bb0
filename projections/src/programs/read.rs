//! Queries of the `programs` read model.

use domain::cooperation_program::evaluation::{ActivityFacts, EvaluationFacts};
use domain::cooperation_program::ActivityStatus;
use domain::cooperation_program::Indicator;
use infra::Checkpoint;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::read::{from_json, ReadError};

const MODEL: &str = "programs";

/// An activity row as the evaluation reads it: id, kind, status, participants, institutions.
type ActivityRow = (Uuid, String, String, Option<i32>, Option<Value>);

/// What the read model holds about a programme, as the facts its evaluation is computed
/// from (None when it has no row). Lenient where the projection may be: an unknown
/// activity status counts as planned, a participants count that is not a count as 0.
pub async fn facts(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<EvaluationFacts>, ReadError> {
    let row: Option<(Value, Option<Value>)> =
        sqlx::query_as("SELECT indicators, evaluation FROM rm_programs WHERE program_id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((indicators, evaluation)) = row else {
        return Ok(None);
    };
    let indicators: Vec<Indicator> = from_json(MODEL, "indicators", indicators)?;
    let evaluation = evaluation.unwrap_or(Value::Null);
    let verdict = evaluation
        .get("verdict")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let manual_values = evaluation
        .get("manual_values")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(code, v)| v.as_u64().map(|v| (code.clone(), v)))
                .collect()
        })
        .unwrap_or_default();
    let rows: Vec<ActivityRow> = sqlx::query_as(
        "SELECT activity_id, kind, status, participants_total, institutions
           FROM rm_program_activities WHERE program_id = $1",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let activities = rows
        .into_iter()
        .map(|(activity_id, kind, status, participants, institutions)| {
            let status = match status.as_str() {
                "held" => ActivityStatus::Held,
                "cancelled" => ActivityStatus::Cancelled,
                _ => ActivityStatus::Planned,
            };
            let institutions = institutions
                .as_ref()
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(|i| i.get("nip").and_then(Value::as_str))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let facts = ActivityFacts {
                kind,
                status,
                participants_total: participants
                    .and_then(|p| u64::try_from(p).ok())
                    .unwrap_or(0),
                institutions,
            };
            (activity_id, facts)
        })
        .collect();
    let partners: Vec<Uuid> =
        sqlx::query_scalar("SELECT partner_id FROM rm_program_partners WHERE program_id = $1")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    let feedback: Vec<(Uuid, Option<i16>)> =
        sqlx::query_as("SELECT feedback_id, rating FROM rm_program_feedback WHERE program_id = $1")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    Ok(Some(EvaluationFacts {
        indicators,
        activities,
        partners: partners.into_iter().collect(),
        feedback: feedback
            .into_iter()
            .map(|(id, rating)| (id, rating.map(i64::from)))
            .collect(),
        verdict,
        manual_values,
    }))
}

/// [`facts`] together with the read model's checkpoint, read in one snapshot, so that a
/// check against the events replays exactly the events these rows had applied.
pub async fn facts_as_processed(
    pool: &PgPool,
    id: Uuid,
) -> Result<(Checkpoint, Option<EvaluationFacts>), ReadError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let checkpoint = infra::checkpoints::of(&mut tx, MODEL).await?;
    let facts = facts(&mut tx, id).await?;
    tx.commit().await?;
    Ok((checkpoint, facts))
}
