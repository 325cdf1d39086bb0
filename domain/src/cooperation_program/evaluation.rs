//! The programme evaluation (API.md): each indicator's target against its actual value,
//! activities planned vs held, participants, institutions, partners, feedback and the
//! verdict.
//!
//! One pure function, [`evaluate`], turns [`EvaluationFacts`] into the answer, whichever way
//! the facts were gathered: folded from the programme's events (the audit, `?at=`) or read
//! from the read model's rows (the live answer). So a replayed answer can differ from the
//! live one only where the facts differ, and [`compare`] names each such difference.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::commands::{Indicator, Measure};
use super::events::CooperationProgramEvent;
use super::ActivityStatus;

/// What the evaluation needs to know about one activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityFacts {
    /// Its kind, in its API spelling (the key of `by_kind`).
    pub kind: String,
    /// Planned, held or cancelled.
    pub status: ActivityStatus,
    /// Participants recorded when it was held (0 otherwise).
    pub participants_total: u64,
    /// NIPs of the institutions recorded when it was held.
    pub institutions: BTreeSet<String>,
}

/// Everything the evaluation is computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationFacts {
    /// The indicators declared at creation, in their declared order.
    pub indicators: Vec<Indicator>,
    /// Every activity ever planned, by id.
    pub activities: BTreeMap<Uuid, ActivityFacts>,
    /// Partner ids.
    pub partners: BTreeSet<Uuid>,
    /// Feedback ids with the rating given (None when none was).
    pub feedback: BTreeMap<Uuid, Option<i64>>,
    /// The verdict of the evaluation, in its API spelling, once recorded.
    pub verdict: Option<String>,
    /// Values of `manual` indicators given in the evaluation, by indicator code.
    pub manual_values: BTreeMap<String, u64>,
}

impl EvaluationFacts {
    /// The facts a stream of programme events leaves (in stream order).
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a CooperationProgramEvent>) -> Self {
        let mut facts = Self::default();
        for e in events {
            facts.apply(e);
        }
        facts
    }

    /// Folds one event in, exactly as the `programs` read model applies it: a repeated
    /// creation, activity, partner or feedback id is ignored (the read model's inserts
    /// do nothing on a conflict), a later held record or evaluation replaces the earlier.
    pub fn apply(&mut self, event: &CooperationProgramEvent) {
        use CooperationProgramEvent as E;
        match event {
            E::ProgramCreated { indicators, .. } => {
                if self.indicators.is_empty() {
                    self.indicators = indicators.clone();
                }
            }
            E::PartnerJoined { partner_id, .. } => {
                self.partners.insert(*partner_id);
            }
            E::ActivityPlanned {
                activity_id, kind, ..
            } => {
                self.activities
                    .entry(*activity_id)
                    .or_insert_with(|| ActivityFacts {
                        kind: kind.as_str().to_owned(),
                        status: ActivityStatus::Planned,
                        participants_total: 0,
                        institutions: BTreeSet::new(),
                    });
            }
            E::ActivityHeld {
                activity_id,
                participants_total,
                institutions,
                ..
            } => {
                if let Some(a) = self.activities.get_mut(activity_id) {
                    a.status = ActivityStatus::Held;
                    a.participants_total = u64::from(*participants_total);
                    a.institutions = institutions
                        .iter()
                        .map(|i| i.nip.as_str().to_owned())
                        .collect();
                }
            }
            E::ActivityCancelled { activity_id, .. } => {
                if let Some(a) = self.activities.get_mut(activity_id) {
                    a.status = ActivityStatus::Cancelled;
                }
            }
            E::FeedbackReceived {
                feedback_id,
                rating,
                ..
            } => {
                self.feedback
                    .entry(*feedback_id)
                    .or_insert(rating.map(i64::from));
            }
            E::ProgramEvaluated {
                verdict,
                manual_values,
                ..
            } => {
                self.verdict = Some(verdict.as_str().to_owned());
                self.manual_values = manual_values
                    .iter()
                    .map(|(code, v)| (code.as_str().to_owned(), *v))
                    .collect();
            }
            E::ActivityRescheduled { .. }
            | E::TestingPeriodSet { .. }
            | E::ConsultationOpened { .. }
            | E::ConsultationCommentSubmitted { .. }
            | E::ProgramClosed { .. } => {}
        }
    }
}

/// One indicator against its target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorOutcome {
    /// Code.
    pub code: String,
    /// Label.
    pub label: String,
    /// Target.
    pub target: u64,
    /// Computed by the indicator's measure; for `manual`, the value given in the
    /// evaluation (None before).
    pub actual: Option<u64>,
    /// actual ≥ target; None while the actual value is unknown.
    pub achieved: Option<bool>,
}

/// Activities of one kind, or of all kinds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityTotals {
    /// Every activity ever planned (held and cancelled ones included).
    pub planned: u64,
    /// Held.
    pub held: u64,
    /// Cancelled.
    pub cancelled: u64,
}

/// Feedback received.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedbackTotals {
    /// How many came in.
    pub count: u64,
    /// Average of the ratings given, to two decimals; None when none was given.
    pub average_rating: Option<f64>,
}

/// The evaluation of a programme.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The indicators in their declared order.
    pub indicators: Vec<IndicatorOutcome>,
    /// All activities.
    pub activities: ActivityTotals,
    /// Activities by kind (API spelling).
    pub by_kind: BTreeMap<String, ActivityTotals>,
    /// Participants of held activities.
    pub participants_total: u64,
    /// Institutions (by NIP) in held activities, each counted once.
    pub distinct_institutions: u64,
    /// Partners.
    pub partners: u64,
    /// Feedback.
    pub feedback: FeedbackTotals,
    /// The verdict, once evaluated.
    pub verdict: Option<String>,
}

fn len(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The evaluation the facts give.
pub fn evaluate(facts: &EvaluationFacts) -> Evaluation {
    let mut out = Evaluation::default();
    let mut institutions = BTreeSet::new();
    for a in facts.activities.values() {
        let k = out.by_kind.entry(a.kind.clone()).or_default();
        k.planned += 1;
        out.activities.planned += 1;
        match a.status {
            ActivityStatus::Held => {
                k.held += 1;
                out.activities.held += 1;
                out.participants_total =
                    out.participants_total.saturating_add(a.participants_total);
                institutions.extend(a.institutions.iter());
            }
            ActivityStatus::Cancelled => {
                k.cancelled += 1;
                out.activities.cancelled += 1;
            }
            ActivityStatus::Planned => {}
        }
    }
    out.distinct_institutions = len(institutions.len());
    out.partners = len(facts.partners.len());
    let ratings: Vec<i64> = facts.feedback.values().filter_map(|r| *r).collect();
    out.feedback = FeedbackTotals {
        count: len(facts.feedback.len()),
        average_rating: (!ratings.is_empty()).then(|| {
            let average = ratings.iter().map(|r| *r as f64).sum::<f64>() / ratings.len() as f64;
            (average * 100.0).round() / 100.0
        }),
    };
    out.verdict = facts.verdict.clone();
    out.indicators = facts
        .indicators
        .iter()
        .map(|ind| {
            let actual = match ind.measure {
                Measure::ParticipantsTotal => Some(out.participants_total),
                Measure::ActivitiesHeld => Some(out.activities.held),
                Measure::ActivitiesHeldOfKind(k) => {
                    Some(out.by_kind.get(k.as_str()).map_or(0, |c| c.held))
                }
                Measure::DistinctInstitutions => Some(out.distinct_institutions),
                Measure::Partners => Some(out.partners),
                Measure::FeedbackReceived => Some(out.feedback.count),
                Measure::Manual => facts.manual_values.get(ind.code.as_str()).copied(),
            };
            IndicatorOutcome {
                code: ind.code.as_str().to_owned(),
                label: ind.label.as_str().to_owned(),
                target: ind.target,
                actual,
                achieved: actual.map(|a| a >= ind.target),
            }
        })
        .collect();
    out
}

/// One value that the events and the read model disagree on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationDiscrepancy {
    /// The indicator's code, when an indicator's actual value differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicator: Option<String>,
    /// The figure of the evaluation that differs (`participants_total`, `activities.held`,
    /// …), when it is not an indicator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figure: Option<String>,
    /// The value recomputed from the events (null: unknown or absent there).
    pub from_events: Value,
    /// The value the read model gives (null: unknown or absent there).
    pub read_model: Value,
}

/// The result of [`compare`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvaluationCheck {
    /// Values compared: every indicator (of either side) and every figure.
    pub checked: u32,
    /// Every difference, indicators first (in declared order), then the figures.
    pub discrepancies: Vec<EvaluationDiscrepancy>,
}

impl EvaluationCheck {
    /// True when the read model agrees with the events everywhere.
    pub fn consistent(&self) -> bool {
        self.discrepancies.is_empty()
    }
}

fn json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Compares the evaluation recomputed from the events with the one the read model gives:
/// each indicator's actual value (matched by code), then the figures the answer shows.
pub fn compare(from_events: &Evaluation, read_model: &Evaluation) -> EvaluationCheck {
    let mut check = EvaluationCheck::default();
    let actual_of = |e: &Evaluation, code: &str| {
        e.indicators
            .iter()
            .find(|i| i.code == code)
            .map(|i| json(&i.actual))
            .unwrap_or(Value::Null)
    };
    let mut codes: Vec<&str> = from_events
        .indicators
        .iter()
        .map(|i| i.code.as_str())
        .collect();
    for i in &read_model.indicators {
        if !codes.contains(&i.code.as_str()) {
            codes.push(i.code.as_str());
        }
    }
    for code in codes {
        check.checked += 1;
        let (events, model) = (actual_of(from_events, code), actual_of(read_model, code));
        let present = |e: &Evaluation| e.indicators.iter().any(|i| i.code == code);
        if events != model || present(from_events) != present(read_model) {
            check.discrepancies.push(EvaluationDiscrepancy {
                indicator: Some(code.to_owned()),
                figure: None,
                from_events: events,
                read_model: model,
            });
        }
    }
    let figures = |e: &Evaluation| -> Vec<(String, Value)> {
        let mut f = vec![
            ("activities.planned".to_owned(), json(&e.activities.planned)),
            ("activities.held".to_owned(), json(&e.activities.held)),
            (
                "activities.cancelled".to_owned(),
                json(&e.activities.cancelled),
            ),
            ("participants_total".to_owned(), json(&e.participants_total)),
            (
                "distinct_institutions".to_owned(),
                json(&e.distinct_institutions),
            ),
            ("partners".to_owned(), json(&e.partners)),
            ("feedback.count".to_owned(), json(&e.feedback.count)),
            (
                "feedback.average_rating".to_owned(),
                json(&e.feedback.average_rating),
            ),
            ("verdict".to_owned(), json(&e.verdict)),
        ];
        for (kind, totals) in &e.by_kind {
            f.push((format!("activities.by_kind.{kind}"), json(totals)));
        }
        f
    };
    let mut from_model: BTreeMap<String, Value> = figures(read_model).into_iter().collect();
    for (name, events) in figures(from_events) {
        check.checked += 1;
        let model = from_model.remove(&name).unwrap_or(Value::Null);
        if events != model {
            check.discrepancies.push(EvaluationDiscrepancy {
                indicator: None,
                figure: Some(name),
                from_events: events,
                read_model: model,
            });
        }
    }
    // Kinds only the read model knows.
    for (name, model) in from_model {
        check.checked += 1;
        check.discrepancies.push(EvaluationDiscrepancy {
            indicator: None,
            figure: Some(name),
            from_events: Value::Null,
            read_model: model,
        });
    }
    check
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::cooperation_program::{ActivityKind, Verdict};
    use crate::values::{
        Institution, InstitutionType, Nip, NonEmptyText, PlannedDate, PreferenceCode,
    };

    fn text(s: &str) -> NonEmptyText {
        NonEmptyText::parse(s).expect("text")
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn indicator(code: &str, target: u64, measure: &str) -> Indicator {
        Indicator {
            code: PreferenceCode::parse(code).expect("code"),
            label: text(code),
            target,
            measure: Measure::parse(measure).expect("measure"),
        }
    }

    fn institution(nip: &str) -> Institution {
        Institution {
            name: text("Spółdzielnia"),
            kind: InstitutionType::PES,
            nip: Nip::parse(nip).expect("nip"),
            regon: None,
        }
    }

    fn planned(id: u128, kind: ActivityKind) -> CooperationProgramEvent {
        CooperationProgramEvent::ActivityPlanned {
            activity_id: Uuid::from_u128(id),
            kind,
            title: text("Szkolenie"),
            planned: PlannedDate::Day(day("2014-02-03")),
            location: None,
            co_organizer: None,
        }
    }

    fn held(id: u128, participants: u32, nips: &[&str]) -> CooperationProgramEvent {
        CooperationProgramEvent::ActivityHeld {
            activity_id: Uuid::from_u128(id),
            starts_on: day("2014-02-03"),
            ends_on: day("2014-02-03"),
            participants_total: participants,
            institutions: nips.iter().map(|n| institution(n)).collect(),
            notes: String::new(),
        }
    }

    fn feedback(id: u128, rating: Option<u8>) -> CooperationProgramEvent {
        CooperationProgramEvent::FeedbackReceived {
            feedback_id: Uuid::from_u128(id),
            channel: crate::cooperation_program::FeedbackChannel::Email,
            received_on: day("2014-02-10"),
            text: text("Przydatne"),
            rating,
            institution: None,
        }
    }

    fn facts() -> EvaluationFacts {
        let mut f = EvaluationFacts {
            indicators: vec![
                indicator("trainings", 3, "activities_held:training"),
                indicator("participants", 50, "participants_total"),
                indicator("institutions", 2, "distinct_institutions"),
                indicator("opinions", 2, "feedback_received"),
                indicator("trust", 4, "manual"),
            ],
            ..EvaluationFacts::default()
        };
        for e in [
            planned(1, ActivityKind::Training),
            planned(2, ActivityKind::Training),
            planned(3, ActivityKind::Forum),
            held(1, 20, &["9562307984", "5260250995"]),
            held(3, 40, &["9562307984"]),
            CooperationProgramEvent::ActivityCancelled {
                activity_id: Uuid::from_u128(2),
                reason: text("brak sali"),
            },
            feedback(10, Some(5)),
            feedback(11, Some(4)),
            feedback(12, None),
            // A repeated id changes nothing, as in the read model.
            feedback(10, Some(1)),
        ] {
            f.apply(&e);
        }
        f
    }

    #[test]
    fn evaluation_counts_what_was_held() {
        let e = evaluate(&facts());
        assert_eq!(
            e.activities,
            ActivityTotals {
                planned: 3,
                held: 2,
                cancelled: 1
            }
        );
        assert_eq!(e.participants_total, 60);
        assert_eq!(e.distinct_institutions, 2);
        assert_eq!(e.feedback.count, 3);
        assert_eq!(e.feedback.average_rating, Some(4.5));
        let actual: Vec<Option<u64>> = e.indicators.iter().map(|i| i.actual).collect();
        assert_eq!(actual, vec![Some(1), Some(60), Some(2), Some(3), None]);
        assert_eq!(e.indicators[1].achieved, Some(true));
        assert_eq!(e.indicators[0].achieved, Some(false));
    }

    #[test]
    fn manual_values_and_verdict_come_from_the_evaluation() {
        let mut f = facts();
        f.apply(&CooperationProgramEvent::ProgramEvaluated {
            verdict: Verdict::PartiallyAchieved,
            summary: String::new(),
            manual_values: BTreeMap::from([(PreferenceCode::parse("trust").expect("code"), 4)]),
            recommendations: vec![],
            evaluated_on: day("2014-05-05"),
        });
        let e = evaluate(&f);
        assert_eq!(e.verdict.as_deref(), Some("partially_achieved"));
        assert_eq!(e.indicators[4].actual, Some(4));
        assert_eq!(e.indicators[4].achieved, Some(true));
    }

    #[test]
    fn compare_names_each_difference() {
        let events = evaluate(&facts());
        assert!(compare(&events, &events).consistent());
        let mut tampered = facts();
        if let Some(a) = tampered.activities.get_mut(&Uuid::from_u128(3)) {
            a.participants_total = 400;
        }
        let model = evaluate(&tampered);
        let check = compare(&events, &model);
        assert!(!check.consistent());
        assert_eq!(check.checked, 5 + 9 + 2);
        assert_eq!(
            check.discrepancies[0],
            EvaluationDiscrepancy {
                indicator: Some("participants".into()),
                figure: None,
                from_events: Value::from(60),
                read_model: Value::from(420),
            }
        );
        assert_eq!(
            check.discrepancies[1].figure.as_deref(),
            Some("participants_total")
        );
        assert_eq!(check.discrepancies.len(), 2);
    }
}
