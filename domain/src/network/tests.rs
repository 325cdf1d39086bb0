//! Command rules of the network, driven through `handle` as the framework does.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use uuid::Uuid;

use super::*;
use crate::error::ErrorKind;
use crate::services::FixedClock;
use crate::values::{Institution, InstitutionType, Nip, NonEmptyText, OrganizerId, PlannedDate};

use InstitutionType::{CIS, JST, KIS, NGO, OWES, PES, WTZ, ZAZ};

fn nip(n: u32) -> Nip {
    let weights = [6, 5, 7, 2, 3, 4, 5, 6, 7];
    let mut base = n;
    loop {
        let s = format!("{:09}", base % 1_000_000_000);
        let sum: u32 = s
            .chars()
            .filter_map(|c| c.to_digit(10))
            .zip(weights)
            .map(|(d, w)| d * w)
            .sum();
        if sum % 11 != 10 {
            return Nip::parse(&format!("{s}{}", sum % 11)).expect("valid nip");
        }
        base += 1_000_000;
    }
}

fn text(s: &str) -> NonEmptyText {
    NonEmptyText::parse(s).expect("text")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

const NETWORK: Uuid = Uuid::from_u128(0x5_1EC1);

fn member(n: u128) -> Uuid {
    Uuid::from_u128(0xBEE0 + n)
}

fn officer(n: u128) -> Uuid {
    Uuid::from_u128(0x0FF0 + n)
}

fn inst(n: u32, kind: InstitutionType) -> Institution {
    Institution {
        name: text(&format!("{kind} nr {n}")),
        kind,
        nip: nip(n),
        regon: None,
    }
}

fn establish(types: Vec<InstitutionType>) -> NetworkCommand {
    NetworkCommand::Establish {
        network_id: NETWORK,
        organizer: OrganizerId::parse("rops-olsztyn").expect("slug"),
        name: text("Regionalna Platforma Współpracy na rzecz Rozwoju Ekonomii Społecznej"),
        region: text("warmińsko-mazurskie"),
        member_types: types,
        established_on: day(2016, 12, 8),
    }
}

fn join(n: u128, institution: Institution) -> NetworkCommand {
    NetworkCommand::JoinMember {
        member_id: member(n),
        institution,
        declaration: Declaration {
            signed_on: day(2016, 12, 8),
            document_ref: Some(text("deklaracja_przystapienia_do_sieci.docx")),
        },
    }
}

fn elect(n: u128, role: OfficerRole, m: u128, starts: NaiveDate) -> NetworkCommand {
    NetworkCommand::ElectOfficer {
        officer_id: officer(n),
        role,
        member_id: member(m),
        term_starts_on: starts,
        term_ends_on: Some(day(2020, 12, 31)),
    }
}

fn leave(m: u128, on: NaiveDate) -> NetworkCommand {
    NetworkCommand::LeaveMember {
        member_id: member(m),
        left_on: on,
        reason: text("rezygnacja"),
    }
}

fn regulations(version: &str, on: NaiveDate) -> NetworkCommand {
    NetworkCommand::AdoptRegulations {
        version: text(version),
        title: text("Regulamin Platformy Współpracy"),
        adopted_on: on,
        document_ref: text("regulamin__Platforma_Współpracy_na_Rzecz_Rozwoju_ES.DOC"),
    }
}

fn meeting(n: u128, when: PlannedDate) -> NetworkCommand {
    NetworkCommand::RecordMeeting {
        meeting_id: Uuid::from_u128(0xEE00 + n),
        title: text("Regionalna Platforma Współpracy"),
        when,
        location: Some(text("Olsztyn")),
        participants_total: 40,
        topics: vec![text("aktywizacja zawodowa"), text("dobre praktyki")],
    }
}

struct Harness {
    network: Network,
    services: AggregateServices,
}

impl Harness {
    fn new() -> Self {
        let clock = Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2016, 12, 8, 9, 0, 0)
                .single()
                .expect("instant"),
        ));
        Self {
            network: Network::default(),
            services: AggregateServices::new(clock),
        }
    }

    /// The reintegration platform (CIS, KIS, ZAZ, WTZ), established.
    fn platform() -> Self {
        let mut h = Self::new();
        h.ok(establish(vec![CIS, KIS, ZAZ, WTZ]));
        h
    }

    fn exec(&mut self, cmd: NetworkCommand) -> Result<Vec<NetworkEvent>, DomainError> {
        let before = self.network.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let sink = EventSink::default();
        let result = rt.block_on(self.network.handle(cmd, &self.services, &sink));
        let events = rt.block_on(sink.collect());
        match result {
            Ok(()) => Ok(events),
            Err(e) => {
                assert!(events.is_empty(), "a refused command wrote events");
                assert_eq!(self.network, before, "a refused command changed the state");
                Err(e)
            }
        }
    }

    fn ok(&mut self, cmd: NetworkCommand) -> Vec<NetworkEvent> {
        self.exec(cmd).expect("accepted")
    }

    fn refused(&mut self, cmd: NetworkCommand) -> DomainError {
        self.exec(cmd).expect_err("refused")
    }
}

#[test]
fn establishing_records_the_admitted_types_once() {
    let mut h = Harness::new();
    let events = h.ok(establish(vec![CIS, KIS, CIS, ZAZ, WTZ]));
    assert_eq!(events.len(), 1);
    let NetworkEvent::NetworkEstablished { member_types, .. } = &events[0] else {
        panic!("{events:?}");
    };
    assert_eq!(member_types, &vec![CIS, KIS, ZAZ, WTZ]);
    let d = h.network.details().expect("details");
    assert_eq!(d.network_id, NETWORK);
    assert_eq!(d.established_on, day(2016, 12, 8));
    assert_eq!(
        h.network.organizer().map(|o| o.as_str()),
        Some("rops-olsztyn")
    );
}

#[test]
fn establishing_needs_types_and_happens_once() {
    let mut h = Harness::new();
    let e = h.refused(establish(vec![]));
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(e.field.as_deref(), Some("member_types"));
    h.ok(establish(vec![OWES]));
    let e = h.refused(establish(vec![OWES]));
    assert_eq!(
        (e.kind, e.code),
        (ErrorKind::Conflict, "already_established")
    );
}

#[test]
fn commands_on_a_network_that_does_not_exist_are_not_found() {
    let mut h = Harness::new();
    for cmd in [
        regulations("1.0", day(2016, 12, 8)),
        join(1, inst(1, CIS)),
        leave(1, day(2017, 1, 1)),
        elect(1, OfficerRole::Chair, 1, day(2016, 12, 8)),
        meeting(1, PlannedDate::Day(day(2017, 1, 1))),
    ] {
        let e = h.refused(cmd);
        assert_eq!((e.kind, e.code), (ErrorKind::NotFound, "network_not_found"));
    }
}

#[test]
fn regulations_are_versioned_and_a_version_is_adopted_once() {
    let mut h = Harness::platform();
    h.ok(regulations("1.0", day(2016, 12, 8)));
    h.ok(regulations("2.0", day(2018, 3, 1)));
    // A version recorded late, adopted earlier, does not displace the one in force.
    h.ok(regulations("1.1", day(2017, 5, 1)));
    assert_eq!(h.network.regulations().len(), 3);
    assert_eq!(
        h.network.current_regulations().map(|r| r.version.as_str()),
        Some("2.0")
    );
    let e = h.refused(regulations("1.0", day(2019, 1, 1)));
    assert_eq!(
        (e.kind, e.code),
        (ErrorKind::Conflict, "regulations_version_exists")
    );
    let e = h.refused(regulations("0.9", day(2016, 12, 7)));
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(e.field.as_deref(), Some("adopted_on"));
}

#[test]
fn members_join_by_declaration_if_their_type_is_admitted() {
    let mut h = Harness::platform();
    let events = h.ok(join(1, inst(1, CIS)));
    assert!(
        matches!(&events[..], [NetworkEvent::MemberJoined { member_id, .. }] if *member_id == member(1))
    );
    h.ok(join(2, inst(2, KIS)));
    h.ok(join(3, inst(3, ZAZ)));
    h.ok(join(4, inst(4, WTZ)));
    for (n, t) in [(5, OWES), (6, NGO), (7, PES), (8, JST)] {
        let e = h.refused(join(n, inst(n as u32, t)));
        assert_eq!(e.kind, ErrorKind::Invalid, "{t}");
        assert_eq!(e.field.as_deref(), Some("institution.type"));
        assert_eq!(e.code, "type_not_admitted");
    }
    assert_eq!(h.network.active_members().count(), 4);
    assert_eq!(h.network.members()[0].joined_on(), day(2016, 12, 8));
}

#[test]
fn a_network_admitting_pes_admits_its_kinds() {
    let mut h = Harness::new();
    h.ok(establish(vec![PES, OWES]));
    for (n, t) in [
        (1, CIS),
        (2, KIS),
        (3, ZAZ),
        (4, WTZ),
        (5, NGO),
        (6, PES),
        (7, OWES),
    ] {
        h.ok(join(n, inst(n as u32, t)));
    }
    let e = h.refused(join(8, inst(8, JST)));
    assert_eq!(e.field.as_deref(), Some("institution.type"));
}

#[test]
fn an_institution_is_an_active_member_once_by_nip() {
    let mut h = Harness::platform();
    h.ok(join(1, inst(1, CIS)));
    let mut same = inst(1, CIS);
    same.name = text("CIS pod inną nazwą");
    let e = h.refused(join(2, same.clone()));
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "already_member"));
    let e = h.refused(join(1, inst(9, CIS)));
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "member_id_taken"));
    // Once it has left, it may join again under a new membership.
    h.ok(leave(1, day(2018, 1, 31)));
    h.ok(join(2, same));
    assert_eq!(h.network.members().len(), 2);
    assert_eq!(h.network.active_members().count(), 1);
}

#[test]
fn leaving_is_for_active_members_and_not_before_joining() {
    let mut h = Harness::platform();
    let e = h.refused(leave(1, day(2017, 1, 1)));
    assert_eq!((e.kind, e.code), (ErrorKind::NotFound, "member_not_found"));
    h.ok(join(1, inst(1, CIS)));
    let e = h.refused(leave(1, day(2016, 12, 7)));
    assert_eq!(e.field.as_deref(), Some("left_on"));
    let events = h.ok(leave(1, day(2017, 6, 30)));
    assert_eq!(
        events,
        vec![NetworkEvent::MemberLeft {
            member_id: member(1),
            left_on: day(2017, 6, 30),
            reason: text("rezygnacja"),
        }]
    );
    let m = h.network.member(member(1)).expect("member");
    assert!(!m.is_active());
    let e = h.refused(leave(1, day(2017, 7, 1)));
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "member_not_active"));
}

#[test]
fn officers_are_elected_from_active_members() {
    let mut h = Harness::platform();
    h.ok(join(1, inst(1, ZAZ)));
    h.ok(join(2, inst(2, CIS)));
    let e = h.refused(elect(1, OfficerRole::Chair, 9, day(2016, 12, 8)));
    assert_eq!(
        (e.kind, e.code),
        (ErrorKind::Conflict, "not_an_active_member")
    );
    let events = h.ok(elect(1, OfficerRole::Chair, 1, day(2016, 12, 8)));
    assert_eq!(
        events,
        vec![NetworkEvent::OfficerElected {
            officer_id: officer(1),
            role: OfficerRole::Chair,
            member_id: member(1),
            term_starts_on: day(2016, 12, 8),
            term_ends_on: Some(day(2020, 12, 31)),
        }]
    );
    h.ok(elect(2, OfficerRole::ViceChair, 2, day(2016, 12, 8)));
    assert_eq!(h.network.current_officers().count(), 2);
    assert_eq!(
        h.network
            .holder_of(OfficerRole::ViceChair)
            .map(|o| o.member_id),
        Some(member(2))
    );
    let e = h.refused(elect(1, OfficerRole::Secretary, 2, day(2017, 1, 1)));
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "officer_id_taken"));
    // A member that left cannot provide an officer.
    h.ok(join(3, inst(3, KIS)));
    h.ok(leave(3, day(2017, 1, 1)));
    let e = h.refused(elect(3, OfficerRole::Secretary, 3, day(2017, 2, 1)));
    assert_eq!(e.code, "not_an_active_member");
}

#[test]
fn an_election_checks_the_term_dates() {
    let mut h = Harness::platform();
    h.ok(join(1, inst(1, ZAZ)));
    let e = h.refused(NetworkCommand::ElectOfficer {
        officer_id: officer(1),
        role: OfficerRole::Chair,
        member_id: member(1),
        term_starts_on: day(2017, 1, 1),
        term_ends_on: Some(day(2016, 12, 31)),
    });
    assert_eq!(e.field.as_deref(), Some("term_ends_on"));
    let e = h.refused(elect(1, OfficerRole::Chair, 1, day(2016, 12, 1)));
    assert_eq!(e.field.as_deref(), Some("term_starts_on"));
    // An open-ended term is allowed.
    h.ok(NetworkCommand::ElectOfficer {
        officer_id: officer(1),
        role: OfficerRole::Coordinator,
        member_id: member(1),
        term_starts_on: day(2016, 12, 8),
        term_ends_on: None,
    });
}

#[test]
fn a_new_election_ends_the_previous_holders_term() {
    let mut h = Harness::platform();
    h.ok(join(1, inst(1, ZAZ)));
    h.ok(join(2, inst(2, CIS)));
    h.ok(elect(1, OfficerRole::Chair, 1, day(2016, 12, 8)));
    h.ok(elect(2, OfficerRole::ViceChair, 2, day(2016, 12, 8)));
    let e = h.refused(elect(3, OfficerRole::Chair, 2, day(2016, 12, 7)));
    assert_eq!(e.field.as_deref(), Some("term_starts_on"));
    let events = h.ok(elect(3, OfficerRole::Chair, 2, day(2019, 1, 10)));
    assert_eq!(
        events,
        vec![
            NetworkEvent::OfficerTermEnded {
                officer_id: officer(1),
                role: OfficerRole::Chair,
                ended_on: day(2019, 1, 10),
                reason: TermEndReason::Succeeded,
            },
            NetworkEvent::OfficerElected {
                officer_id: officer(3),
                role: OfficerRole::Chair,
                member_id: member(2),
                term_starts_on: day(2019, 1, 10),
                term_ends_on: Some(day(2020, 12, 31)),
            },
        ]
    );
    let terms = h.network.officer_terms();
    assert_eq!(terms.len(), 3);
    assert_eq!(
        terms[0].ended,
        Some((day(2019, 1, 10), TermEndReason::Succeeded))
    );
    assert_eq!(
        h.network
            .holder_of(OfficerRole::Chair)
            .map(|o| o.officer_id),
        Some(officer(3))
    );
    // The vice-chair is untouched by the chair's election.
    assert_eq!(
        h.network
            .holder_of(OfficerRole::ViceChair)
            .map(|o| o.officer_id),
        Some(officer(2))
    );
    // A successor cannot take office before the current holder's term began.
    let e = h.refused(elect(4, OfficerRole::Chair, 1, day(2018, 1, 1)));
    assert_eq!(
        (e.kind, e.code),
        (ErrorKind::Conflict, "election_predates_current_term")
    );
}

#[test]
fn a_member_leaving_loses_the_offices_of_its_officers() {
    let mut h = Harness::platform();
    h.ok(join(1, inst(1, ZAZ)));
    h.ok(join(2, inst(2, CIS)));
    h.ok(elect(1, OfficerRole::Chair, 1, day(2016, 12, 8)));
    h.ok(elect(2, OfficerRole::ViceChair, 2, day(2016, 12, 8)));
    h.ok(elect(3, OfficerRole::Secretary, 1, day(2016, 12, 8)));
    let events = h.ok(leave(1, day(2018, 6, 30)));
    assert_eq!(
        events,
        vec![
            NetworkEvent::MemberLeft {
                member_id: member(1),
                left_on: day(2018, 6, 30),
                reason: text("rezygnacja"),
            },
            NetworkEvent::OfficerTermEnded {
                officer_id: officer(1),
                role: OfficerRole::Chair,
                ended_on: day(2018, 6, 30),
                reason: TermEndReason::MemberLeft,
            },
            NetworkEvent::OfficerTermEnded {
                officer_id: officer(3),
                role: OfficerRole::Secretary,
                ended_on: day(2018, 6, 30),
                reason: TermEndReason::MemberLeft,
            },
        ]
    );
    assert!(h.network.holder_of(OfficerRole::Chair).is_none());
    assert_eq!(h.network.current_officers().count(), 1);
    // The chair can be filled again without a "succeeded" end.
    let events = h.ok(elect(4, OfficerRole::Chair, 2, day(2018, 9, 1)));
    assert_eq!(events.len(), 1);
}

#[test]
fn meetings_are_recorded_with_their_planned_date() {
    let mut h = Harness::platform();
    let may = PlannedDate::Range(
        crate::values::DateRange::new(day(2020, 5, 21), day(2020, 5, 22)).expect("range"),
    );
    let events = h.ok(meeting(1, may));
    let NetworkEvent::MeetingHeld {
        when,
        participants_total,
        topics,
        ..
    } = &events[0]
    else {
        panic!("{events:?}");
    };
    assert_eq!((*when, *participants_total, topics.len()), (may, 40, 2));
    let e = h.refused(meeting(1, PlannedDate::Day(day(2020, 10, 29))));
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "meeting_id_taken"));
    let e = h.refused(meeting(2, PlannedDate::Day(day(2016, 12, 1))));
    assert_eq!(e.field.as_deref(), Some("when"));
    // Zero participants and no location are allowed.
    h.ok(NetworkCommand::RecordMeeting {
        meeting_id: Uuid::from_u128(0xEE03),
        title: text("Spotkanie on-line"),
        when: PlannedDate::Day(day(2020, 10, 29)),
        location: None,
        participants_total: 0,
        topics: vec![],
    });
    assert_eq!(h.network.meetings().len(), 2);
}

#[test]
fn events_are_externally_tagged_and_name_no_person() {
    let mut h = Harness::platform();
    let mut all = vec![];
    all.extend(h.ok(regulations("1.0", day(2016, 12, 8))));
    all.extend(h.ok(join(1, inst(1, ZAZ))));
    all.extend(h.ok(elect(1, OfficerRole::Chair, 1, day(2016, 12, 8))));
    all.extend(h.ok(elect(2, OfficerRole::Chair, 1, day(2017, 12, 8))));
    all.extend(h.ok(meeting(
        1,
        PlannedDate::Range(
            crate::values::DateRange::new(day(2016, 12, 8), day(2016, 12, 9)).expect("range"),
        ),
    )));
    all.extend(h.ok(leave(1, day(2018, 1, 1))));
    for e in &all {
        assert_eq!(e.event_version(), "1");
        let json = serde_json::to_value(e).expect("ser");
        let obj = json.as_object().expect("object");
        assert_eq!(obj.keys().collect::<Vec<_>>(), vec![&e.event_type()]);
        let back: NetworkEvent = serde_json::from_value(json).expect("de");
        assert_eq!(&back, e);
    }
    let json = serde_json::to_value(&all[2]).expect("ser");
    assert_eq!(
        json,
        serde_json::json!({"OfficerElected": {
            "officer_id": officer(1), "role": "chair", "member_id": member(1),
            "term_starts_on": "2016-12-08", "term_ends_on": "2020-12-31"}})
    );
    let ended = serde_json::to_value(&all[3]).expect("ser");
    assert_eq!(ended["OfficerTermEnded"]["reason"], "succeeded");
    let joined = serde_json::to_value(&all[1]).expect("ser");
    assert_eq!(
        joined["MemberJoined"]["declaration"]["signed_on"],
        "2016-12-08"
    );
    assert_eq!(joined["MemberJoined"]["institution"]["type"], "ZAZ");
    let met = serde_json::to_value(&all[5]).expect("ser");
    assert_eq!(
        met["MeetingHeld"]["when"],
        serde_json::json!({"from": "2016-12-08", "to": "2016-12-09"})
    );
    let left = serde_json::to_value(all.last().expect("last")).expect("ser");
    assert_eq!(left["OfficerTermEnded"]["reason"], "member_left");
}

#[test]
fn replaying_the_events_rebuilds_the_same_state() {
    let mut h = Harness::new();
    let mut all = vec![];
    all.extend(h.ok(establish(vec![CIS, KIS, ZAZ, WTZ])));
    all.extend(h.ok(regulations("1.0", day(2016, 12, 8))));
    all.extend(h.ok(join(1, inst(1, ZAZ))));
    all.extend(h.ok(join(2, inst(2, CIS))));
    all.extend(h.ok(elect(1, OfficerRole::Chair, 1, day(2016, 12, 8))));
    all.extend(h.ok(elect(2, OfficerRole::Chair, 2, day(2017, 12, 8))));
    all.extend(h.ok(leave(2, day(2018, 1, 1))));
    let mut replayed = Network::default();
    for e in all {
        replayed.apply(e);
    }
    assert_eq!(replayed, h.network);
    assert!(replayed.current_officers().next().is_none());
}
