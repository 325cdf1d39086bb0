//! The allocation policy of a study visit as pure functions over plain inputs, so the
//! aggregate, the read side and the audit verifier all compute the same thing.
//!
//! Binding rules (DOMAIN.md, "StudyVisit"): candidates in rank order (score
//! descending, then submission order); if they fit, everyone gets a seat (rule 1);
//! otherwise walk them, setting aside those whose institution reached the cap (rule 2);
//! left-over seats go to the set-aside in rank order (rule 3); the rest wait, then the
//! capped are passed over (rule 4). A freed seat goes to the first waiting candidate
//! below the cap, else to the first in line.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::commands::{Preference, PreferenceKind};
use super::events::{BasisRule, DecisionBasis};
use crate::values::{Nip, PreferenceCode};

/// The reason recorded on an application passed over because of the cap.
pub const PASSED_OVER_REASON: &str = "institution_cap";

/// The `reason` of the basis of a seat taken by accepting an offer (the promotion's basis
/// otherwise unchanged).
pub const OFFER_ACCEPTED: &str = "offer accepted";

/// One application as the policy sees it: who (institution), when (order) and which
/// preferences its institution meets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The application.
    pub application_id: Uuid,
    /// The institution's identity.
    pub nip: Nip,
    /// Submission order within the visit's stream (smaller = earlier).
    pub order: u64,
    /// Preferences met, in the visit's preference order.
    pub preferences_met: Vec<PreferenceCode>,
}

impl Candidate {
    /// The number of preferences met.
    pub fn score(&self) -> u32 {
        u32::try_from(self.preferences_met.len()).unwrap_or(u32::MAX)
    }
}

/// The preferences (in the visit's order) an institution meets given the lists as they
/// stand: `listed` when its NIP is on the list, `not_listed` when it is not.
pub fn preferences_met(
    nip: &Nip,
    preferences: &[Preference],
    lists: &BTreeMap<PreferenceCode, BTreeSet<Nip>>,
) -> Vec<PreferenceCode> {
    preferences
        .iter()
        .filter(|p| {
            let on_list = lists.get(&p.code).is_some_and(|l| l.contains(nip));
            match p.kind {
                PreferenceKind::Listed => on_list,
                PreferenceKind::NotListed => !on_list,
            }
        })
        .map(|p| p.code.clone())
        .collect()
}

/// Sorts candidates into rank order: score descending, then submission order
/// (then application id, only to make the order total).
pub fn rank(mut cands: Vec<Candidate>) -> Vec<Candidate> {
    cands.sort_by(|a, b| {
        b.score()
            .cmp(&a.score())
            .then(a.order.cmp(&b.order))
            .then(a.application_id.cmp(&b.application_id))
    });
    cands
}

/// One decision of the policy: which application, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The application decided on.
    pub application_id: Uuid,
    /// The basis recorded with the decision.
    pub basis: DecisionBasis,
}

/// The outcome of allocating one term: three disjoint lists, each in rank order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// Candidates given a seat.
    pub allocated: Vec<Decision>,
    /// Candidates waiting, position = index + 1.
    pub waitlist: Vec<Decision>,
    /// Candidates passed over because of the cap.
    pub passed_over: Vec<Decision>,
}

/// What happened to one candidate, as emitted in rank order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Got a seat.
    Allocated,
    /// On the waiting list at this position (from 1).
    Waitlisted(u32),
    /// Passed over (`institution_cap`).
    PassedOver,
}

impl Allocation {
    /// Every decision with its outcome, sorted by rank: the order of the decision
    /// events after `RecruitmentClosed`.
    pub fn in_rank_order(&self) -> Vec<(Outcome, &Decision)> {
        let mut all: Vec<(Outcome, &Decision)> = self
            .allocated
            .iter()
            .map(|d| (Outcome::Allocated, d))
            .chain(
                self.waitlist
                    .iter()
                    .zip(1u32..)
                    .map(|(d, pos)| (Outcome::Waitlisted(pos), d)),
            )
            .chain(self.passed_over.iter().map(|d| (Outcome::PassedOver, d)))
            .collect();
        all.sort_by_key(|(_, d)| d.basis.rank);
        all
    }
}

fn count_of(map: &HashMap<Nip, u32>, nip: &Nip) -> u32 {
    map.get(nip).copied().unwrap_or(0)
}

/// Allocates `seats` among `ranked` candidates (already in rank order, see [`rank`]).
/// `held` counts the seats each institution holds in the visit's other closed terms.
pub fn allocate(
    ranked: &[Candidate],
    seats: u32,
    max_per_institution: Option<u32>,
    held: &HashMap<Nip, u32>,
) -> Allocation {
    let mut in_term: HashMap<Nip, u32> = HashMap::new();
    let seats_before = |in_term: &HashMap<Nip, u32>, nip: &Nip| {
        count_of(held, nip).saturating_add(count_of(in_term, nip))
    };
    let basis = |rule: BasisRule, idx: usize, c: &Candidate, before: u32| DecisionBasis {
        rule,
        rank: u32::try_from(idx + 1).unwrap_or(u32::MAX),
        score: c.score(),
        preferences_met: c.preferences_met.clone(),
        institution_seats_before: before,
        max_per_institution,
        promoted_for: None,
        reason: None,
        decided_by: None,
    };
    let mut out = Allocation::default();

    // Rule 1: everyone fits, no cap applies.
    if ranked.len() <= seats as usize {
        for (idx, c) in ranked.iter().enumerate() {
            let before = seats_before(&in_term, &c.nip);
            out.allocated.push(Decision {
                application_id: c.application_id,
                basis: basis(BasisRule::AllWithinSeats, idx, c, before),
            });
            *in_term.entry(c.nip.clone()).or_insert(0) += 1;
        }
        return out;
    }

    // Rule 2: walk in rank order while seats remain; set aside the capped.
    let mut left = seats;
    let mut capped: Vec<usize> = Vec::new();
    let mut next = 0;
    while left > 0 && next < ranked.len() {
        let c = &ranked[next];
        let before = seats_before(&in_term, &c.nip);
        if max_per_institution.is_some_and(|max| before >= max) {
            capped.push(next);
        } else {
            out.allocated.push(Decision {
                application_id: c.application_id,
                basis: basis(BasisRule::RankOrder, next, c, before),
            });
            *in_term.entry(c.nip.clone()).or_insert(0) += 1;
            left -= 1;
        }
        next += 1;
    }

    // Rule 3: left-over seats go to the capped, in rank order.
    let mut still_capped = Vec::new();
    for idx in capped {
        let c = &ranked[idx];
        let before = seats_before(&in_term, &c.nip);
        if left > 0 {
            out.allocated.push(Decision {
                application_id: c.application_id,
                basis: basis(BasisRule::CapFill, idx, c, before),
            });
            *in_term.entry(c.nip.clone()).or_insert(0) += 1;
            left -= 1;
        } else {
            still_capped.push(idx);
        }
    }
    out.allocated.sort_by_key(|d| d.basis.rank);

    // Rule 4: those never reached wait; the capped without a seat are passed over.
    for (idx, c) in ranked.iter().enumerate().skip(next) {
        let before = seats_before(&in_term, &c.nip);
        out.waitlist.push(Decision {
            application_id: c.application_id,
            basis: basis(BasisRule::Waitlist, idx, c, before),
        });
    }
    for idx in still_capped {
        let c = &ranked[idx];
        let before = seats_before(&in_term, &c.nip);
        out.passed_over.push(Decision {
            application_id: c.application_id,
            basis: basis(BasisRule::InstitutionCap, idx, c, before),
        });
    }
    out
}

/// Chooses who is promoted to a freed seat. `queue` is the waiting list followed by
/// the passed over, each in rank order, without withdrawn ones; `held_total` counts
/// seats held across all closed terms of the visit. Returns the index into `queue`
/// and the rule, or None when nobody waits.
pub fn choose_promotion(
    queue: &[Candidate],
    held_total: &HashMap<Nip, u32>,
    max: Option<u32>,
) -> Option<(usize, BasisRule)> {
    let below_cap = queue
        .iter()
        .position(|c| max.is_none_or(|m| count_of(held_total, &c.nip) < m));
    match below_cap {
        Some(idx) => Some((idx, BasisRule::PromotionBelowCap)),
        None if queue.is_empty() => None,
        None => Some((0, BasisRule::PromotionFirstInLine)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Valid NIPs built from nine digits plus their check digit.
    pub(crate) fn nip(n: u32) -> Nip {
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

    fn cand(i: u128, inst: u32, order: u64, prefs: &[&str]) -> Candidate {
        Candidate {
            application_id: Uuid::from_u128(i),
            nip: nip(inst),
            order,
            preferences_met: prefs
                .iter()
                .map(|p| PreferenceCode::parse(p).expect("code"))
                .collect(),
        }
    }

    fn ids(ds: &[Decision]) -> Vec<u128> {
        ds.iter().map(|d| d.application_id.as_u128()).collect()
    }

    #[test]
    fn rank_by_score_then_order() {
        let r = rank(vec![
            cand(1, 1, 1, &[]),
            cand(2, 2, 2, &["a", "b"]),
            cand(3, 3, 3, &["a"]),
            cand(4, 4, 0, &["b"]),
        ]);
        let got: Vec<u128> = r.iter().map(|c| c.application_id.as_u128()).collect();
        assert_eq!(got, vec![2, 4, 3, 1]);
    }

    #[test]
    fn rule_1_no_cap_when_everyone_fits() {
        let ranked = rank((1..=3).map(|i| cand(i, 1, i as u64, &[])).collect());
        let a = allocate(&ranked, 3, Some(1), &HashMap::new());
        assert_eq!(ids(&a.allocated), vec![1, 2, 3]);
        assert!(a
            .allocated
            .iter()
            .all(|d| d.basis.rule == BasisRule::AllWithinSeats));
        assert_eq!(a.allocated[2].basis.institution_seats_before, 2);
    }

    #[test]
    fn rule_2_cap_sets_aside_and_rule_4_lists() {
        // Institution 1 has 3 candidates at the top, cap 2, 3 seats, 5 candidates.
        let ranked = rank(vec![
            cand(1, 1, 1, &[]),
            cand(2, 1, 2, &[]),
            cand(3, 1, 3, &[]),
            cand(4, 2, 4, &[]),
            cand(5, 3, 5, &[]),
        ]);
        let a = allocate(&ranked, 3, Some(2), &HashMap::new());
        assert_eq!(ids(&a.allocated), vec![1, 2, 4]);
        assert_eq!(ids(&a.waitlist), vec![5]);
        assert_eq!(ids(&a.passed_over), vec![3]);
        assert_eq!(a.passed_over[0].basis.rule, BasisRule::InstitutionCap);
        assert_eq!(a.passed_over[0].basis.institution_seats_before, 2);
        let order: Vec<(Outcome, u128)> = a
            .in_rank_order()
            .into_iter()
            .map(|(o, d)| (o, d.application_id.as_u128()))
            .collect();
        assert_eq!(
            order,
            vec![
                (Outcome::Allocated, 1),
                (Outcome::Allocated, 2),
                (Outcome::PassedOver, 3),
                (Outcome::Allocated, 4),
                (Outcome::Waitlisted(1), 5)
            ]
        );
    }

    #[test]
    fn rule_3_cap_fill_uses_left_over_seats() {
        // 4 seats, 5 candidates, institution 1 has 4 of them, cap 1.
        let ranked = rank(vec![
            cand(1, 1, 1, &[]),
            cand(2, 1, 2, &[]),
            cand(3, 1, 3, &[]),
            cand(4, 2, 4, &[]),
            cand(5, 1, 5, &[]),
        ]);
        let a = allocate(&ranked, 4, Some(1), &HashMap::new());
        assert_eq!(ids(&a.allocated), vec![1, 2, 3, 4]);
        let rules: Vec<BasisRule> = a.allocated.iter().map(|d| d.basis.rule).collect();
        assert_eq!(
            rules,
            vec![
                BasisRule::RankOrder,
                BasisRule::CapFill,
                BasisRule::CapFill,
                BasisRule::RankOrder
            ]
        );
        assert_eq!(ids(&a.passed_over), vec![5]);
        assert!(a.waitlist.is_empty());
    }

    #[test]
    fn held_seats_count_towards_the_cap() {
        let ranked = rank(vec![
            cand(1, 1, 1, &[]),
            cand(2, 2, 2, &[]),
            cand(3, 3, 3, &[]),
        ]);
        let held = HashMap::from([(nip(1), 2)]);
        let a = allocate(&ranked, 2, Some(2), &held);
        assert_eq!(ids(&a.allocated), vec![2, 3]);
        assert_eq!(ids(&a.passed_over), vec![1]);
    }

    #[test]
    fn promotion_prefers_below_cap_then_first_in_line() {
        let queue = vec![cand(1, 1, 1, &[]), cand(2, 2, 2, &[]), cand(3, 3, 3, &[])];
        let held = HashMap::from([(nip(1), 2), (nip(2), 1)]);
        assert_eq!(
            choose_promotion(&queue, &held, Some(2)),
            Some((1, BasisRule::PromotionBelowCap))
        );
        let held_all = HashMap::from([(nip(1), 2), (nip(2), 2), (nip(3), 2)]);
        assert_eq!(
            choose_promotion(&queue, &held_all, Some(2)),
            Some((0, BasisRule::PromotionFirstInLine))
        );
        assert_eq!(
            choose_promotion(&queue, &held_all, None),
            Some((0, BasisRule::PromotionBelowCap))
        );
        assert_eq!(choose_promotion(&[], &held, Some(2)), None);
    }
}
