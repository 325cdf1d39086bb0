//! `networks`: a network driven through every event it has — establishment, regulations
//! adopted twice (the later version adopted for an earlier day), members joining and one
//! leaving with its office, a re-election ending the previous chair's term, meetings at
//! every date precision recorded out of date order — beside a network of another organizer.
//!
//! Two things are held: the live read model and a replay of all the network's events
//! answer every query alike (the registry, the list); and at every cut of the history, the
//! replayed registry holds what the aggregate replayed from the same events holds, ordered
//! as the registry promises. The second is what `?at=` answered before it read a replay:
//! rows derived from the aggregate field by field. Equal at every cut, the switch changed
//! no answer.

use domain::network::{Declaration, Network, NetworkCommand, NetworkEvent, OfficerRole};
use domain::services::AggregateServices;
use domain::values::{Institution, InstitutionType, OrganizerId, Regon};
use infra::{CommandBus, StoredEvent};
use projections::networks::read::{self, MemberStatus, Registry, Summary};
use projections::networks::{Networks, NETWORK};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{clock, context, day, institution, planned, shared, text, Database};

const ORGANIZER: &str = "rops-olsztyn";
const OTHER_ORGANIZER: &str = "rops-gdansk";

/// An institution with a valid NIP made of `seed`.
fn member_institution(
    kind: InstitutionType,
    name: &str,
    seed: u32,
    regon: Option<&str>,
) -> Institution {
    Institution {
        regon: regon.map(|r| Regon::parse(r).unwrap()),
        ..institution(kind, name, seed)
    }
}

fn bus(pool: &PgPool) -> CommandBus<Network> {
    let clock = clock(0);
    CommandBus::new(
        pool.clone(),
        AggregateServices::new(shared(&clock)),
        domain::upcasting::upcasters(NETWORK),
        |n: &Network| n.organizer().map(|o| o.as_str().to_owned()),
    )
}

/// Runs `cmd` on network `id` as a coordinator of `organizer` would.
async fn run(bus: &CommandBus<Network>, id: Uuid, organizer: &str, cmd: NetworkCommand) {
    let scope = match cmd {
        // A new network has no owner to be scoped by yet.
        NetworkCommand::Establish { .. } => None,
        _ => Some(organizer),
    };
    bus.execute(&id.to_string(), cmd.clone(), &context(cmd.name(), scope))
        .await
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
}

fn establish(id: Uuid, organizer: &str, name: &str, types: Vec<InstitutionType>) -> NetworkCommand {
    NetworkCommand::Establish {
        network_id: id,
        organizer: OrganizerId::parse(organizer).unwrap(),
        name: text(name),
        region: text("warmińsko-mazurskie"),
        member_types: types,
        established_on: day("2016-12-08"),
    }
}

fn join(
    member_id: Uuid,
    institution: Institution,
    signed_on: &str,
    doc: Option<&str>,
) -> NetworkCommand {
    NetworkCommand::JoinMember {
        member_id,
        institution,
        declaration: Declaration {
            signed_on: day(signed_on),
            document_ref: doc.map(text),
        },
    }
}

fn elect(
    officer_id: Uuid,
    role: OfficerRole,
    member_id: Uuid,
    starts: &str,
    ends: Option<&str>,
) -> NetworkCommand {
    NetworkCommand::ElectOfficer {
        officer_id,
        role,
        member_id,
        term_starts_on: day(starts),
        term_ends_on: ends.map(day),
    }
}

fn regulations(version: &str, adopted_on: &str) -> NetworkCommand {
    NetworkCommand::AdoptRegulations {
        version: text(version),
        title: text(&format!("Regulamin Platformy, wersja {version}")),
        adopted_on: day(adopted_on),
        document_ref: text(&format!("RPW/{version}")),
    }
}

fn meeting(
    title: &str,
    at: serde_json::Value,
    location: Option<&str>,
    topics: &[&str],
) -> NetworkCommand {
    NetworkCommand::RecordMeeting {
        meeting_id: Uuid::now_v7(),
        title: text(title),
        when: planned(at),
        location: location.map(text),
        participants_total: 30,
        topics: topics.iter().map(|t| text(t)).collect(),
    }
}

/// The platform's history (the network under test) and, beside it, another organizer's
/// network, so that the live tables hold rows a replay of the platform must not see.
async fn drive(db: &Database) -> Uuid {
    use InstitutionType::{CIS, KIS, OWES, WTZ, ZAZ};
    let bus = bus(&db.pool);
    let platform = Uuid::now_v7();
    let other = Uuid::now_v7();
    let [cis, kis, zaz, wtz, owes] = [(); 5].map(|()| Uuid::now_v7());
    let [chair, vice_chair, new_chair, secretary, coordinator] = [(); 5].map(|()| Uuid::now_v7());
    let p = |cmd| run(&bus, platform, ORGANIZER, cmd);

    p(establish(
        platform,
        ORGANIZER,
        "Regionalna Platforma Współpracy",
        vec![CIS, KIS, ZAZ, WTZ],
    ))
    .await;
    p(regulations("1.0", "2016-12-08")).await;
    p(join(
        cis,
        member_institution(
            CIS,
            "Centrum Integracji Społecznej w Ełku",
            6010,
            Some("123456785"),
        ),
        "2016-12-08",
        Some("deklaracja-cis.docx"),
    ))
    .await;
    p(join(
        kis,
        member_institution(KIS, "Klub Integracji Społecznej w Iławie", 6020, None),
        "2016-12-08",
        None,
    ))
    .await;
    p(join(
        zaz,
        member_institution(ZAZ, "Zakład Aktywności Zawodowej w Biskupcu", 6030, None),
        "2017-01-10",
        Some("deklaracja-zaz.pdf"),
    ))
    .await;
    p(elect(
        chair,
        OfficerRole::Chair,
        cis,
        "2016-12-08",
        Some("2020-12-31"),
    ))
    .await;
    p(elect(
        vice_chair,
        OfficerRole::ViceChair,
        zaz,
        "2017-01-10",
        None,
    ))
    .await;
    // Meetings out of date order, at every precision; two on the same first day (a whole
    // month and its first day), two on the very same day.
    p(meeting(
        "Spotkanie jesienne",
        serde_json::json!({"from": "2020-10-29", "to": "2020-10-30"}),
        Some("Olsztyn"),
        &["ekonomia społeczna", "zamówienia"],
    ))
    .await;
    p(meeting(
        "Spotkanie wiosenne",
        serde_json::json!({"month": "2020-05", "part": "late"}),
        None,
        &[],
    ))
    .await;
    p(meeting(
        "Spotkanie majowe",
        serde_json::json!({"month": "2020-05"}),
        Some("Ełk"),
        &["sprawozdanie"],
    ))
    .await;
    p(meeting(
        "Spotkanie 1 maja",
        serde_json::json!({"day": "2020-05-01"}),
        None,
        &[],
    ))
    .await;
    p(meeting(
        "Warsztaty",
        serde_json::json!({"day": "2020-05-01"}),
        Some("Iława"),
        &["warsztaty"],
    ))
    .await;
    p(meeting(
        "Spotkanie założycielskie",
        serde_json::json!({"day": "2016-12-08"}),
        Some("Olsztyn"),
        &[],
    ))
    .await;
    // A re-election: the chair's term ends (succeeded), the new chair's begins.
    p(elect(
        new_chair,
        OfficerRole::Chair,
        kis,
        "2019-01-01",
        None,
    ))
    .await;
    p(join(
        wtz,
        member_institution(WTZ, "Warsztat Terapii Zajęciowej w Suszu", 6040, None),
        "2019-03-01",
        None,
    ))
    .await;
    p(elect(
        secretary,
        OfficerRole::Secretary,
        wtz,
        "2019-03-01",
        None,
    ))
    .await;
    // The ZAZ leaves, and its vice-chair's office with it (member_left).
    p(NetworkCommand::LeaveMember {
        member_id: zaz,
        left_on: day("2020-06-30"),
        reason: text("Likwidacja zakładu"),
    })
    .await;
    // Adopted after 2.0 but for an earlier day: 2.0 stays in force.
    p(regulations("2.0", "2020-05-21")).await;
    p(regulations("1.5", "2019-01-01")).await;

    let o = |cmd| run(&bus, other, OTHER_ORGANIZER, cmd);
    o(establish(
        other,
        OTHER_ORGANIZER,
        "Pomorska Sieć OWES",
        vec![OWES],
    ))
    .await;
    o(join(
        owes,
        member_institution(OWES, "OWES w Gdańsku", 7010, None),
        "2017-02-01",
        None,
    ))
    .await;
    o(elect(
        coordinator,
        OfficerRole::Coordinator,
        owes,
        "2017-02-01",
        None,
    ))
    .await;
    o(meeting(
        "Spotkanie sieci",
        serde_json::json!({"day": "2017-03-01"}),
        None,
        &[],
    ))
    .await;
    platform
}

fn decode(events: &[StoredEvent]) -> Vec<NetworkEvent> {
    events
        .iter()
        .map(|e| {
            domain::upcasting::decode(
                &e.aggregate_type,
                &e.event_type,
                &e.event_version,
                e.payload.clone(),
            )
            .unwrap()
        })
        .collect()
}

/// Which kind of event it is; exhaustive, so that a new kind of network event fails to
/// compile here until the history above covers it.
fn kind(e: &NetworkEvent) -> usize {
    match e {
        NetworkEvent::NetworkEstablished { .. } => 0,
        NetworkEvent::RegulationsAdopted { .. } => 1,
        NetworkEvent::MemberJoined { .. } => 2,
        NetworkEvent::MemberLeft { .. } => 3,
        NetworkEvent::OfficerElected { .. } => 4,
        NetworkEvent::OfficerTermEnded { .. } => 5,
        NetworkEvent::MeetingHeld { .. } => 6,
    }
}
const KINDS: usize = 7;

/// What the registry must hold after the events replayed into `network`, derived from the
/// aggregate field by field (the rows `?at=` used to build from it): members in joining
/// order, terms in election order with the member's institution, regulations in adoption
/// order, meetings by first day, then last day, then recording order.
fn expected(id: Uuid, network: &Network) -> Option<Registry> {
    let details = network.details()?;
    let mut meetings: Vec<(usize, &domain::network::Meeting)> =
        network.meetings().iter().enumerate().collect();
    meetings.sort_by_key(|(i, m)| (m.when.first_day(), m.when.last_day(), *i));
    Some(Registry {
        id,
        organizer: details.organizer.as_str().to_owned(),
        name: details.name.as_str().to_owned(),
        region: details.region.as_str().to_owned(),
        member_types: details.member_types.clone(),
        established_on: details.established_on,
        members: network
            .members()
            .iter()
            .map(|m| read::Member {
                member_id: m.member_id,
                institution: m.institution.clone(),
                joined_on: m.joined_on(),
                declaration_ref: m
                    .declaration
                    .document_ref
                    .as_ref()
                    .map(|d| d.as_str().to_owned()),
                status: if m.is_active() {
                    MemberStatus::Active
                } else {
                    MemberStatus::Left
                },
                left_on: m.left.as_ref().map(|(on, _)| *on),
                left_reason: m.left.as_ref().map(|(_, why)| why.as_str().to_owned()),
            })
            .collect(),
        officers: network
            .officer_terms()
            .iter()
            .map(|o| read::Officer {
                officer_id: o.officer_id,
                role: o.role,
                member_id: o.member_id,
                institution: network.member(o.member_id).map(|m| m.institution.clone()),
                term_starts_on: o.term_starts_on,
                term_ends_on: o.term_ends_on,
                ended_on: o.ended.map(|(on, _)| on),
                end_reason: o.ended.map(|(_, why)| why),
            })
            .collect(),
        regulations: network
            .regulations()
            .iter()
            .map(|r| read::RegulationsVersion {
                version: r.version.as_str().to_owned(),
                title: r.title.as_str().to_owned(),
                adopted_on: r.adopted_on,
                document_ref: r.document_ref.as_str().to_owned(),
            })
            .collect(),
        meetings: meetings
            .into_iter()
            .map(|(_, m)| read::Meeting {
                meeting_id: m.meeting_id,
                title: m.title.as_str().to_owned(),
                when: m.when,
                location: m.location.as_ref().map(|l| l.as_str().to_owned()),
                participants_total: m.participants_total,
                topics: m.topics.iter().map(|t| t.as_str().to_owned()).collect(),
            })
            .collect(),
    })
}

/// The list entry the aggregate implies.
fn expected_summary(id: Uuid, network: &Network) -> Option<Summary> {
    let details = network.details()?;
    Some(Summary {
        id,
        organizer: details.organizer.as_str().to_owned(),
        name: details.name.as_str().to_owned(),
        region: details.region.as_str().to_owned(),
        member_types: details.member_types.clone(),
        established_on: details.established_on,
        active_members: i64::try_from(network.active_members().count()).unwrap(),
        meetings: i64::try_from(network.meetings().len()).unwrap(),
        current_regulations: network
            .current_regulations()
            .map(|r| r.version.as_str().to_owned()),
    })
}

#[tokio::test]
async fn live_and_replayed_networks_answer_alike() {
    let db = Database::fresh().await;
    let id = drive(&db).await;
    db.catch_up().await;
    let events = db.events_of(NETWORK, id).await;
    let decoded = decode(&events);
    let mut covered = [false; KINDS];
    for e in &decoded {
        covered[kind(e)] = true;
    }
    assert_eq!(
        covered, [true; KINDS],
        "every kind of network event is recorded"
    );

    // Live and replayed over every event: the same answer to every query.
    let mut live = db.pool.acquire().await.unwrap();
    let live_registry = read::registry(&mut live, id).await.unwrap().unwrap();
    let live_all = read::list(&mut live, None).await.unwrap();
    let live_own = read::list(&mut live, Some(ORGANIZER)).await.unwrap();
    assert_eq!(
        live_all.len(),
        2,
        "the other organizer's network is live too"
    );
    let mut replayed = projections::replay(&db.pool, &[&Networks], events.clone())
        .await
        .unwrap();
    assert_eq!(replayed.position, events.last().unwrap().position);
    assert_eq!(
        read::registry(replayed.conn(), id).await.unwrap().as_ref(),
        Some(&live_registry)
    );
    assert_eq!(
        read::list(replayed.conn(), Some(ORGANIZER)).await.unwrap(),
        live_own
    );
    // The replay holds this network's rows only.
    let this: Vec<Summary> = live_all.into_iter().filter(|n| n.id == id).collect();
    assert_eq!(read::list(replayed.conn(), None).await.unwrap(), this);
    drop(replayed);

    // What the registry shows after all of it, spelled out once.
    let whole = expected(id, &replay_aggregate(&decoded)).unwrap();
    assert_eq!(live_registry, whole);
    assert_eq!(
        live_registry
            .members
            .iter()
            .filter(|m| m.status == MemberStatus::Active)
            .count(),
        3
    );
    let ended: Vec<_> = live_registry
        .officers
        .iter()
        .filter_map(|o| o.end_reason)
        .collect();
    assert_eq!(
        ended,
        [
            domain::network::TermEndReason::Succeeded,
            domain::network::TermEndReason::MemberLeft
        ]
    );
    assert_eq!(
        live_registry
            .current_regulations()
            .map(|r| r.version.as_str()),
        Some("2.0")
    );
    let titles: Vec<&str> = live_registry
        .meetings
        .iter()
        .map(|m| m.title.as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "Spotkanie założycielskie",
            "Spotkanie 1 maja",
            "Warsztaty",
            "Spotkanie majowe",
            "Spotkanie wiosenne",
            "Spotkanie jesienne",
        ]
    );

    // Every cut of the history, from before the first event to the last: the replayed
    // registry and list hold what the aggregate replayed from the same events holds.
    for cut in 0..=events.len() {
        let mut replayed = projections::replay(&db.pool, &[&Networks], events[..cut].to_vec())
            .await
            .unwrap();
        let aggregate = replay_aggregate(&decoded[..cut]);
        assert_eq!(
            read::registry(replayed.conn(), id).await.unwrap(),
            expected(id, &aggregate),
            "registry after {cut} events"
        );
        assert_eq!(
            read::list(replayed.conn(), Some(ORGANIZER)).await.unwrap(),
            expected_summary(id, &aggregate)
                .into_iter()
                .collect::<Vec<_>>(),
            "list after {cut} events"
        );
    }
    db.drop_now().await;
}

fn replay_aggregate(events: &[NetworkEvent]) -> Network {
    let mut network = Network::default();
    for e in events {
        cqrs_es::Aggregate::apply(&mut network, e.clone());
    }
    network
}
