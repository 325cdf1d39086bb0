//! Read model `networks`: each network with its admitted types, members (active and left),
//! officers' terms (current and ended), regulations versions and meetings. The networks
//! list and the registry are read from here, through [`read`]; officers' names are not
//! (they are personal data, joined at read time from `officer_personal_data`).

pub mod read;

use std::sync::Arc;

use async_trait::async_trait;
use domain::network::NetworkEvent;
use sqlx::{Postgres, Transaction};

use crate::events::{aggregate_uuid, api_str, organizer, DecodedEvent};
use crate::runner::{Projection, ProjectionError};

/// The aggregate type under which network events are stored.
pub use crate::events::NETWORK;

/// The projections of this module.
pub fn projections() -> Vec<Arc<dyn Projection>> {
    vec![Arc::new(Networks)]
}

/// Networks, their members, officers, regulations and meetings.
pub struct Networks;

#[async_trait]
impl Projection for Networks {
    fn name(&self) -> &'static str {
        "networks"
    }

    fn schema_version(&self) -> i32 {
        1
    }

    fn create_sql(&self) -> &'static str {
        r#"
CREATE TABLE IF NOT EXISTS rm_networks (
    network_id     uuid PRIMARY KEY,
    organizer      text        NOT NULL,
    name           text        NOT NULL,
    region         text        NOT NULL,
    member_types   text[]      NOT NULL,
    established_on date        NOT NULL,
    established_at timestamptz NOT NULL,
    last_position  bigint      NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_networks_by_organizer ON rm_networks (organizer, established_on);
CREATE TABLE IF NOT EXISTS rm_network_members (
    member_id       uuid PRIMARY KEY,
    network_id      uuid    NOT NULL,
    position        bigint  NOT NULL,
    institution     jsonb   NOT NULL,
    kind            text    NOT NULL,
    nip             text    NOT NULL,
    joined_on       date    NOT NULL,
    declaration_ref text,
    status          text    NOT NULL,
    left_on         date,
    left_reason     text
);
CREATE INDEX IF NOT EXISTS rm_network_members_by_network ON rm_network_members (network_id, position);
CREATE TABLE IF NOT EXISTS rm_network_officers (
    officer_id     uuid PRIMARY KEY,
    network_id     uuid   NOT NULL,
    position       bigint NOT NULL,
    role           text   NOT NULL,
    member_id      uuid   NOT NULL,
    institution    jsonb,
    term_starts_on date   NOT NULL,
    term_ends_on   date,
    ended_on       date,
    end_reason     text
);
CREATE INDEX IF NOT EXISTS rm_network_officers_by_network ON rm_network_officers (network_id, position);
CREATE TABLE IF NOT EXISTS rm_network_regulations (
    network_id   uuid   NOT NULL,
    version      text   NOT NULL,
    position     bigint NOT NULL,
    title        text   NOT NULL,
    adopted_on   date   NOT NULL,
    document_ref text   NOT NULL,
    PRIMARY KEY (network_id, version)
);
CREATE TABLE IF NOT EXISTS rm_network_meetings (
    meeting_id         uuid PRIMARY KEY,
    network_id         uuid    NOT NULL,
    organizer          text    NOT NULL,
    position           bigint  NOT NULL,
    title              text    NOT NULL,
    planned            jsonb   NOT NULL,
    first_day          date    NOT NULL,
    last_day           date    NOT NULL,
    location           text,
    participants_total integer NOT NULL,
    topics             text[]  NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_network_meetings_by_network ON rm_network_meetings (network_id, first_day);
"#
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "rm_networks",
            "rm_network_members",
            "rm_network_officers",
            "rm_network_regulations",
            "rm_network_meetings",
        ]
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        event: &DecodedEvent,
    ) -> Result<(), ProjectionError> {
        let Some(e) = event.network()? else {
            return Ok(());
        };
        let network_id = aggregate_uuid(event)?;
        let db = &mut **tx;
        match e {
            NetworkEvent::NetworkEstablished {
                organizer: org,
                name,
                region,
                member_types,
                established_on,
                ..
            } => {
                let types: Vec<String> = member_types.iter().map(api_str).collect();
                sqlx::query(
                    "INSERT INTO rm_networks (network_id, organizer, name, region, member_types, established_on,
                        established_at, last_position)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(network_id)
                .bind(org.as_str())
                .bind(name.as_str())
                .bind(region.as_str())
                .bind(&types)
                .bind(established_on)
                .bind(event.recorded_at)
                .bind(event.position)
                .execute(db)
                .await?;
                return Ok(());
            }
            NetworkEvent::RegulationsAdopted {
                version,
                title,
                adopted_on,
                document_ref,
            } => {
                sqlx::query(
                    "INSERT INTO rm_network_regulations (network_id, version, position, title, adopted_on, document_ref)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(network_id)
                .bind(version.as_str())
                .bind(event.position)
                .bind(title.as_str())
                .bind(adopted_on)
                .bind(document_ref.as_str())
                .execute(&mut *db)
                .await?;
            }
            NetworkEvent::MemberJoined {
                member_id,
                institution,
                declaration,
            } => {
                sqlx::query(
                    "INSERT INTO rm_network_members (member_id, network_id, position, institution, kind, nip,
                        joined_on, declaration_ref, status)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active')",
                )
                .bind(member_id)
                .bind(network_id)
                .bind(event.position)
                .bind(serde_json::to_value(institution).unwrap_or_default())
                .bind(institution.kind.as_str())
                .bind(institution.nip.as_str())
                .bind(declaration.signed_on)
                .bind(declaration.document_ref.as_ref().map(|d| d.as_str()))
                .execute(&mut *db)
                .await?;
            }
            NetworkEvent::MemberLeft {
                member_id,
                left_on,
                reason,
            } => {
                sqlx::query(
                    "UPDATE rm_network_members SET status = 'left', left_on = $2, left_reason = $3 WHERE member_id = $1",
                )
                .bind(member_id)
                .bind(left_on)
                .bind(reason.as_str())
                .execute(&mut *db)
                .await?;
            }
            NetworkEvent::OfficerElected {
                officer_id,
                role,
                member_id,
                term_starts_on,
                term_ends_on,
            } => {
                // The institution as it was when the officer was elected.
                sqlx::query(
                    "INSERT INTO rm_network_officers (officer_id, network_id, position, role, member_id, institution,
                        term_starts_on, term_ends_on)
                     VALUES ($1, $2, $3, $4, $5,
                        (SELECT institution FROM rm_network_members WHERE member_id = $5), $6, $7)",
                )
                .bind(officer_id)
                .bind(network_id)
                .bind(event.position)
                .bind(role.as_str())
                .bind(member_id)
                .bind(term_starts_on)
                .bind(term_ends_on)
                .execute(&mut *db)
                .await?;
            }
            NetworkEvent::OfficerTermEnded {
                officer_id,
                ended_on,
                reason,
                ..
            } => {
                sqlx::query(
                    "UPDATE rm_network_officers SET ended_on = $2, end_reason = $3 WHERE officer_id = $1",
                )
                .bind(officer_id)
                .bind(ended_on)
                .bind(reason.as_str())
                .execute(&mut *db)
                .await?;
            }
            NetworkEvent::MeetingHeld {
                meeting_id,
                title,
                when,
                location,
                participants_total,
                topics,
            } => {
                let topics: Vec<String> = topics.iter().map(|t| t.as_str().to_owned()).collect();
                sqlx::query(
                    "INSERT INTO rm_network_meetings (meeting_id, network_id, organizer, position, title, planned,
                        first_day, last_day, location, participants_total, topics)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(meeting_id)
                .bind(network_id)
                .bind(organizer(event))
                .bind(event.position)
                .bind(title.as_str())
                .bind(serde_json::to_value(when).unwrap_or_default())
                .bind(when.first_day())
                .bind(when.last_day())
                .bind(location.as_ref().map(|l| l.as_str()))
                .bind(i32::try_from(*participants_total).unwrap_or(i32::MAX))
                .bind(&topics)
                .execute(&mut *db)
                .await?;
            }
        }
        sqlx::query("UPDATE rm_networks SET last_position = $2 WHERE network_id = $1")
            .bind(network_id)
            .bind(event.position)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
