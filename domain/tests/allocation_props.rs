//! Properties of the allocation policy over random candidate sets.

use std::collections::{HashMap, HashSet};

use domain::study_visit::allocation::{allocate, choose_promotion, rank, Allocation, Candidate};
use domain::study_visit::BasisRule;
use domain::values::{Nip, PreferenceCode};
use proptest::prelude::*;
use uuid::Uuid;

/// A valid NIP per institution number: nine digits from `n` completed with their check
/// digit by the domain's own algorithm (the next nine digits where none exists).
fn nip(n: u32) -> Nip {
    (100_000_000 + n * 7919..)
        .find_map(Nip::completing)
        .expect("valid nip")
}

const PREFS: [&str; 3] = ["cus_declared", "new_to_project", "other"];
const INSTITUTIONS: u32 = 6;

#[derive(Debug, Clone)]
struct Input {
    cands: Vec<Candidate>,
    seats: u32,
    cap: Option<u32>,
    held: HashMap<Nip, u32>,
}

fn input() -> impl Strategy<Value = Input> {
    let cand = (0..INSTITUTIONS, proptest::collection::vec(any::<bool>(), 3));
    (
        proptest::collection::vec(cand, 0..60),
        1u32..=30,
        prop_oneof![Just(None), (1u32..=3).prop_map(Some)],
        proptest::collection::vec(0u32..=3, INSTITUTIONS as usize),
    )
        .prop_map(|(raw, seats, cap, held_raw)| {
            let cands = raw
                .into_iter()
                .enumerate()
                .map(|(i, (inst, prefs))| Candidate {
                    application_id: Uuid::from_u128(1000 + i as u128),
                    nip: nip(inst),
                    order: i as u64,
                    preferences_met: prefs
                        .iter()
                        .zip(PREFS)
                        .filter(|(on, _)| **on)
                        .map(|(_, p)| PreferenceCode::parse(p).expect("code"))
                        .collect(),
                })
                .collect();
            let held = held_raw
                .into_iter()
                .enumerate()
                .filter(|(_, h)| *h > 0)
                .map(|(i, h)| (nip(i as u32), h))
                .collect();
            Input {
                cands,
                seats,
                cap,
                held,
            }
        })
}

fn run(i: &Input) -> (Vec<Candidate>, Allocation) {
    let ranked = rank(i.cands.clone());
    let a = allocate(&ranked, i.seats, i.cap, &i.held);
    (ranked, a)
}

proptest! {
    #[test]
    fn never_more_allocated_than_seats_and_exactly_min(i in input()) {
        let (_, a) = run(&i);
        let n = i.cands.len();
        prop_assert!(a.allocated.len() <= i.seats as usize);
        prop_assert_eq!(a.allocated.len(), n.min(i.seats as usize));
    }

    #[test]
    fn lists_partition_the_candidates(i in input()) {
        let (_, a) = run(&i);
        let all: Vec<Uuid> = a.allocated.iter().chain(&a.waitlist).chain(&a.passed_over)
            .map(|d| d.application_id).collect();
        let set: HashSet<Uuid> = all.iter().copied().collect();
        prop_assert_eq!(all.len(), i.cands.len());
        prop_assert_eq!(set.len(), all.len());
        let expected: HashSet<Uuid> = i.cands.iter().map(|c| c.application_id).collect();
        prop_assert_eq!(set, expected);
        // Each list in rank order; ranks 1..=n used once.
        for list in [&a.allocated, &a.waitlist, &a.passed_over] {
            prop_assert!(list.windows(2).all(|w| w[0].basis.rank < w[1].basis.rank));
        }
        let mut ranks: Vec<u32> = a.in_rank_order().iter().map(|(_, d)| d.basis.rank).collect();
        ranks.sort_unstable();
        prop_assert_eq!(ranks, (1..=i.cands.len() as u32).collect::<Vec<_>>());
    }

    #[test]
    fn rank_is_score_then_submission_order(i in input()) {
        let (ranked, _) = run(&i);
        for w in ranked.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            prop_assert!(a.score() > b.score() || (a.score() == b.score() && a.order < b.order));
        }
    }

    #[test]
    fn cap_holds_unless_left_over_seats_were_filled(i in input()) {
        let (ranked, a) = run(&i);
        let Some(cap) = i.cap else { return Ok(()); };
        let nip_of: HashMap<Uuid, Nip> = ranked.iter().map(|c| (c.application_id, c.nip.clone())).collect();
        let mut count: HashMap<Nip, u32> = i.held.clone();
        let mut cap_filled: HashSet<Nip> = HashSet::new();
        for d in &a.allocated {
            *count.entry(nip_of[&d.application_id].clone()).or_insert(0) += 1;
            if d.basis.rule == BasisRule::CapFill {
                cap_filled.insert(nip_of[&d.application_id].clone());
            }
        }
        if i.cands.len() <= i.seats as usize {
            prop_assert!(a.allocated.iter().all(|d| d.basis.rule == BasisRule::AllWithinSeats));
            prop_assert!(a.waitlist.is_empty() && a.passed_over.is_empty());
            return Ok(());
        }
        // Oversubscribed with a cap: a seat in rank order is only given below the cap,
        // and an institution ends above it only through rule 3.
        for d in &a.allocated {
            prop_assert!(d.basis.rule == BasisRule::RankOrder || d.basis.rule == BasisRule::CapFill);
            if d.basis.rule == BasisRule::RankOrder {
                prop_assert!(d.basis.institution_seats_before < cap);
            }
        }
        for d in &a.allocated {
            let nip = &nip_of[&d.application_id];
            let held_here = i.held.get(nip).copied().unwrap_or(0);
            prop_assert!(count[nip] <= cap.max(held_here) || cap_filled.contains(nip));
        }
        if a.passed_over.iter().len() > 0 && cap_filled.is_empty() {
            for d in &a.allocated {
                let nip = &nip_of[&d.application_id];
                let held_here = i.held.get(nip).copied().unwrap_or(0);
                prop_assert!(count[nip] <= cap.max(held_here));
            }
        }
        // The passed over really are at the cap; rule 3 leaves no one waiting.
        for d in &a.passed_over {
            prop_assert!(count.get(&nip_of[&d.application_id]).copied().unwrap_or(0) >= cap);
        }
        if !cap_filled.is_empty() {
            prop_assert!(a.waitlist.is_empty());
        }
        if !a.passed_over.is_empty() || !a.waitlist.is_empty() {
            prop_assert_eq!(a.allocated.len(), i.seats as usize);
        }
    }

    #[test]
    fn no_cap_means_plain_rank_order(i in input()) {
        let (ranked, a) = run(&Input { cap: None, ..i.clone() });
        prop_assert!(a.passed_over.is_empty());
        let top: Vec<Uuid> = ranked.iter().take(i.seats as usize).map(|c| c.application_id).collect();
        let got: Vec<Uuid> = a.allocated.iter().map(|d| d.application_id).collect();
        prop_assert_eq!(got, top);
    }

    #[test]
    fn deterministic_and_independent_of_input_order(i in input()) {
        let (_, a) = run(&i);
        let (_, again) = run(&i);
        prop_assert_eq!(&a, &again);
        let mut reversed = i.clone();
        reversed.cands.reverse();
        let (_, from_reversed) = run(&reversed);
        prop_assert_eq!(a, from_reversed);
    }

    #[test]
    fn promotion_picks_first_below_cap(i in input()) {
        let queue = rank(i.cands.clone());
        let got = choose_promotion(&queue, &i.held, i.cap);
        let below = queue.iter().position(|c| match i.cap {
            None => true,
            Some(m) => i.held.get(&c.nip).copied().unwrap_or(0) < m,
        });
        match (got, below) {
            (None, _) => prop_assert!(queue.is_empty()),
            (Some((idx, rule)), Some(b)) => {
                prop_assert_eq!(idx, b);
                prop_assert_eq!(rule, BasisRule::PromotionBelowCap);
            }
            (Some((idx, rule)), None) => {
                prop_assert_eq!(idx, 0);
                prop_assert_eq!(rule, BasisRule::PromotionFirstInLine);
            }
        }
    }
}
