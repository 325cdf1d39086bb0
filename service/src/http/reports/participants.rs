//! The counting rules of the participant report (DOMAIN.md, "Reporting to the EU
//! monitoring system"), over an aggregate replayed to the report's instant:
//! - only people present on at least one day count as supported; their support runs from
//!   their first to their last day present;
//! - an institution counts once per project, by NIP, however many people and activities it
//!   had; its support runs from the first to the last day of any of them;
//! - a person whose data were erased stays, as erased, so no count changes.
//!
//! Rows are ordered by NIP, then by submission (people) so the order does not depend on
//! names, which an erasure removes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use domain::cooperation_program::{CooperationProgram, CooperationProgramEvent};
use domain::study_visit::StudyVisit;
use infra::personal_data::PersonRecord;
use uuid::Uuid;

use crate::documents::report::{InstitutionRow, PersonRow};
use crate::http::polish;

/// What a study visit is called as a kind of support.
pub const STUDY_VISIT: &str = "wizyta studyjna";

/// The two tables of a visit's report: institutions and people.
pub fn of_visit(
    visit: &StudyVisit,
    people: &HashMap<Uuid, PersonRecord>,
) -> (Vec<InstitutionRow>, Vec<PersonRow>) {
    let mut present: Vec<_> = visit
        .applications()
        .into_iter()
        .filter_map(|a| {
            let dates = visit.term(a.term_id)?.dates()?;
            let days = a.attendance.days_present_in(dates);
            Some((a, *days.first()?, *days.last()?))
        })
        .collect();
    present.sort_by(|(a, ..), (b, ..)| {
        (a.institution.nip.as_str(), a.order).cmp(&(b.institution.nip.as_str(), b.order))
    });
    let persons: Vec<PersonRow> = present
        .iter()
        .map(|(a, first, last)| {
            let person = people.get(&a.application_id);
            PersonRow {
                first_name: person.map(|p| p.first_name.clone()),
                last_name: person.map(|p| p.last_name.clone()),
                institution_nip: a.institution.nip.as_str().to_owned(),
                institution_name: a.institution.name.as_str().to_owned(),
                job_title: person.and_then(|p| p.job_title.clone()),
                support_kind: STUDY_VISIT.to_owned(),
                support_start: *first,
                support_end: *last,
            }
        })
        .collect();
    let mut institutions: BTreeMap<&str, InstitutionRow> = BTreeMap::new();
    for (a, first, last) in &present {
        let row = institutions
            .entry(a.institution.nip.as_str())
            .or_insert_with(|| InstitutionRow {
                nip: a.institution.nip.as_str().to_owned(),
                // The first application of the institution names it.
                name: a.institution.name.as_str().to_owned(),
                institution_type: a.institution.kind.as_str().to_owned(),
                support_kind: STUDY_VISIT.to_owned(),
                support_start: *first,
                support_end: *last,
                people: Some(0),
            });
        row.support_start = row.support_start.min(*first);
        row.support_end = row.support_end.max(*last);
        row.people = row.people.map(|n| n + 1);
    }
    (institutions.into_values().collect(), persons)
}

/// The institutions of a programme's held activities (`events`: its history up to the
/// report's instant, in order). A held activity recorded again counts once, as last
/// recorded; people are not named by activities, so `liczba_osob` stays empty.
pub fn of_program(
    program: &CooperationProgram,
    events: &[&CooperationProgramEvent],
) -> Vec<InstitutionRow> {
    let mut held = BTreeMap::new();
    for e in events {
        if let CooperationProgramEvent::ActivityHeld {
            activity_id,
            starts_on,
            ends_on,
            institutions,
            ..
        } = e
        {
            held.insert(*activity_id, (*starts_on, *ends_on, institutions));
        }
    }
    struct Acc<'a> {
        name: &'a str,
        kind: &'a str,
        supports: BTreeSet<&'static str>,
        first: NaiveDate,
        last: NaiveDate,
    }
    let mut by_nip: BTreeMap<&str, Acc<'_>> = BTreeMap::new();
    for (activity_id, (starts_on, ends_on, institutions)) in &held {
        let support = program
            .activity(*activity_id)
            .map_or("inne", |a| polish::activity_kind(a.kind));
        for i in institutions.iter() {
            let acc = by_nip.entry(i.nip.as_str()).or_insert(Acc {
                name: i.name.as_str(),
                kind: i.kind.as_str(),
                supports: BTreeSet::new(),
                first: *starts_on,
                last: *ends_on,
            });
            acc.supports.insert(support);
            acc.first = acc.first.min(*starts_on);
            acc.last = acc.last.max(*ends_on);
        }
    }
    by_nip
        .into_iter()
        .map(|(nip, acc)| InstitutionRow {
            nip: nip.to_owned(),
            name: acc.name.to_owned(),
            institution_type: acc.kind.to_owned(),
            support_kind: acc.supports.into_iter().collect::<Vec<_>>().join(", "),
            support_start: acc.first,
            support_end: acc.last,
            people: None,
        })
        .collect()
}
