//! The running series of one config entry, as the ticker advances them.
//!
//! Most entries are driven by [`Sequence`]s: one for all their series when they share values,
//! one per series when each has values of its own. For a fanned-out entry of a seeded built-in
//! (`uniform`, `normal`, `random_walk`) a sequence per series would cost well over a hundred
//! bytes each (the sequence and its boxed generator), more than the series' line of exposition
//! text. Instead, when the generator offers [`Lanes`], one *lead* sequence (series 0's, with the
//! real generator) keeps the position in the cycle, restarts at `reset_interval` and
//! fast-forwards, and every other series' value is computed from the lead's position and that
//! series' previous value: its only state is its value, 8 bytes in the values `state.rs`
//! publishes. Lanes are offered only where no value can fail to be finite, so no series restarts
//! on its own and all stand at the lead's position.
//!
//! What is served must stay what replaying each series' own sequence ([`Entry::sequence`]) gives,
//! because `/api/v1/expected`, the exports and `--preview` replay those: the tests below check it
//! for every seeded built-in, tick by tick, caught up, fast-forwarded and across starts.
//!
//! The values live outside, in one slice for the whole config per tick; each method here is
//! given its entry's part of it, one value per unit ([`Entry::value_count`]).

use super::sequence::{Budget, Exhausted, Restart, Sequence};
use crate::config::{Entry, Served};
use crate::functions::Lanes;
use std::sync::Arc;

/// The running series of one entry.
pub struct Series(Drive);

enum Drive {
    /// One sequence for all series, or one per series.
    Sequences(Vec<Sequence>),
    /// Series 0's sequence, and lanes for the series served (series 0's value is the lead's).
    Lanes { lead: Sequence, lanes: Arc<dyn Lanes>, served: Served },
}

/// A restart that [`Series::advance`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restarted {
    /// The series that restarted, or `None` for all of the entry's series at once.
    pub series: Option<u64>,
    pub why: Restart,
}

impl Series {
    /// The entry's series before their first tick, which will be tick 1; their values are NaN.
    pub fn new(entry: &Entry) -> Self {
        match &entry.lanes {
            Some(lanes) if entry.per_series => {
                Series(Drive::Lanes { lead: Sequence::of(entry, 0), lanes: lanes.clone(), served: entry.served })
            }
            _ => Series(Drive::Sequences(
                (0..entry.value_count()).map(|j| Sequence::of(entry, entry.served.k(j))).collect(),
            )),
        }
    }

    /// The same series, but their first value will be at tick `first` (≥ 1) instead of tick 1
    /// (see [`Sequence::starting_at`]).
    pub fn starting_at(self, first: u64) -> Self {
        Series(match self.0 {
            Drive::Sequences(sequences) => {
                Drive::Sequences(sequences.into_iter().map(|s| s.starting_at(first)).collect())
            }
            Drive::Lanes { lead, lanes, served } => Drive::Lanes { lead: lead.starting_at(first), lanes, served },
        })
    }

    /// How many values the entry publishes: [`Entry::value_count`].
    pub fn value_count(&self) -> usize {
        match &self.0 {
            Drive::Sequences(sequences) => sequences.len(),
            Drive::Lanes { served, .. } => served.count as usize,
        }
    }

    /// Appends the tick at which each cycle began: one per sequence, or the lead's alone, as the
    /// series of lanes share it ([`Entry::cycle_start_count`]).
    pub fn cycle_starts(&self, out: &mut Vec<u64>) {
        match &self.0 {
            Drive::Sequences(sequences) => out.extend(sequences.iter().map(Sequence::cycle_start)),
            Drive::Lanes { lead, .. } => out.push(lead.cycle_start()),
        }
    }

    /// The tick of the series' current values (before the first tick, the tick before it).
    pub fn tick(&self) -> u64 {
        match &self.0 {
            Drive::Sequences(sequences) => sequences.first().map_or(0, Sequence::tick),
            Drive::Lanes { lead, .. } => lead.tick(),
        }
    }

    /// The tick at which the cycle of value slot `slot` began (the lead's, for lanes, and the one
    /// sequence's when all series share it).
    pub fn cycle_start(&self, slot: usize) -> u64 {
        match &self.0 {
            Drive::Sequences(sequences) => sequences[slot.min(sequences.len() - 1)].cycle_start(),
            Drive::Lanes { lead, .. } => lead.cycle_start(),
        }
    }

    /// Moves every series to tick `n`, writing their values into `values`, and tells `restarted`
    /// of every restart.
    pub fn advance(&mut self, n: u64, values: &mut [f64], restarted: &mut dyn FnMut(Restarted)) {
        match &mut self.0 {
            Drive::Sequences(sequences) => {
                let shared = sequences.len() == 1;
                for (k, (sequence, value)) in sequences.iter_mut().zip(values).enumerate() {
                    if let Some(why) = sequence.advance(n) {
                        restarted(Restarted { series: (!shared).then_some(k as u64), why });
                    }
                    *value = sequence.value();
                }
            }
            Drive::Lanes { lead, lanes, served } => {
                let from = lead.position();
                if let Some(why) = lead.advance(n) {
                    restarted(Restarted { series: None, why });
                }
                follow(lead, lanes.as_ref(), served, from, values);
            }
        }
    }

    /// Brings every series to tick `target` exactly, each within a [`Budget`] of `budget` units
    /// as [`Sequence::skip_to`] counts them, or fails when one cannot be: then the series are
    /// left part of the way, to be dropped.
    pub fn fast_forward(&mut self, target: u64, budget: u64, values: &mut [f64]) -> Result<(), Exhausted> {
        match &mut self.0 {
            Drive::Sequences(sequences) => {
                for (sequence, value) in sequences.iter_mut().zip(values) {
                    sequence.skip_to(target, &mut Budget::new(budget))?;
                    *value = sequence.value();
                }
                Ok(())
            }
            Drive::Lanes { lead, lanes, served } => {
                // The lead spends the budget of one series, as each of the others would: their
                // sequences would take the same steps. Following it costs them no more than it
                // did (see `follow`), so every series keeps within a budget of its own.
                let from = lead.position();
                lead.skip_to(target, &mut Budget::new(budget))?;
                follow(lead, lanes.as_ref(), served, from, values);
                Ok(())
            }
        }
    }

    /// Brings every series to tick `target`, fast-forwarding each as far as a [`Budget`] of
    /// `budget` units allows and advancing it one tick at a time from there, as a ticker that
    /// woke up late must. Restarts on the way are not reported.
    pub fn catch_up(&mut self, target: u64, budget: u64, values: &mut [f64]) {
        match &mut self.0 {
            Drive::Sequences(sequences) => {
                for (sequence, value) in sequences.iter_mut().zip(values) {
                    if sequence.skip_to(target, &mut Budget::new(budget)).is_err() {
                        while sequence.tick() < target {
                            sequence.advance(sequence.tick() + 1);
                        }
                    }
                    *value = sequence.value();
                }
            }
            Drive::Lanes { lead, lanes, served } => {
                // Where the budget ran out the lead is in that tick's exact state: the others
                // follow it there, and all go on together.
                let from = lead.position();
                let _ = lead.skip_to(target, &mut Budget::new(budget));
                follow(lead, lanes.as_ref(), served, from, values);
                while lead.tick() < target {
                    let from = lead.position();
                    lead.advance(lead.tick() + 1);
                    follow(lead, lanes.as_ref(), served, from, values);
                }
            }
        }
    }
}

/// After the lead moved from position `from` to its current one, brings the values of the
/// series served (`values[j]` is series `served.k(j)`'s, at position `from`) to that position:
/// series 0's is the lead's own value, the others' come from the lanes.
///
/// A series' value depends on its position alone (lanes are offered only by functions that do
/// not read the tick number, and a restart replays a cycle exactly), so a value at the same
/// position is the same in every cycle. Where lanes read the previous value, the values are
/// computed forward from `from` when the lead now stands further on, else from position 1. Either
/// way each series computes no more values than the lead replayed to get there: a lead of such a
/// function changes position only by computing a value (whole periods it jumps leave its position
/// as it was), and reaching position p after a restart took it p values.
fn follow(lead: &Sequence, lanes: &dyn Lanes, served: &Served, from: u64, values: &mut [f64]) {
    let to = lead.position();
    for (j, value) in values.iter_mut().enumerate() {
        let k = served.k(j as u64);
        if k == 0 {
            *value = lead.value();
            continue;
        }
        if to == 0 || to == from {
            continue;
        }
        if !lanes.reads_previous() {
            *value = lanes.value(k, to, f64::NAN);
            continue;
        }
        let start = if from >= 1 && to > from { from + 1 } else { 1 };
        let mut v = *value;
        for i in start..=to {
            v = lanes.value(k, i, v);
        }
        *value = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse, Options};
    use crate::engine::FAST_FORWARD_BUDGET;
    use crate::functions::Registry;

    fn entry(function: &str, params: &str, reset: u64, series: u64) -> Entry {
        let text = format!(
            r#"[{{"name":"x","metric_type":"gauge","custom_function":"{function}","params":{params},
                 "reset_interval":{reset},"series":{series}}}]"#
        );
        let options = Options { namespace: String::new(), ..Options::default() };
        parse(&text, "t", &options, &Registry::builtin()).unwrap().entries.remove(0)
    }

    /// The seeded built-ins, with the params and reset intervals the invariant is checked for.
    fn seeded() -> Vec<(String, Entry)> {
        let mut cases = Vec::new();
        for (function, params) in [
            ("uniform", "{}"),
            ("uniform", r#"{"seed": 7, "min": -3, "max": 2.5}"#),
            ("normal", "{}"),
            ("normal", r#"{"seed": 1, "mean": 0, "sd": 30}"#),
            ("random_walk", "{}"),
            ("random_walk", r#"{"seed": 9, "start": 0, "step": 3, "min": -1, "max": 1}"#),
        ] {
            for reset in [0, 1, 7, 120] {
                cases.push((format!("{function} {params} reset {reset}"), entry(function, params, reset, 1001)));
            }
        }
        cases
    }

    /// The series the invariant is checked for.
    const SERIES: [u64; 5] = [0, 1, 2, 7, 1000];

    /// Series `k`'s own sequence advanced from `first` to each tick up to `last`: the reference.
    fn replayed(entry: &Entry, k: u64, first: u64, last: u64) -> Vec<(f64, u64)> {
        let mut sequence = Sequence::of(entry, k).starting_at(first);
        (first..=last)
            .map(|n| {
                sequence.advance(n);
                (sequence.value(), sequence.cycle_start())
            })
            .collect()
    }

    #[track_caller]
    fn check_at(what: &str, series: &Series, values: &[f64], tick: u64, reference: &[Vec<(f64, u64)>], first: u64) {
        let mut starts = Vec::new();
        series.cycle_starts(&mut starts);
        for (&k, expected) in SERIES.iter().zip(reference) {
            let (value, start) = expected[(tick - first) as usize];
            let cycle_start = if starts.len() == 1 { starts[0] } else { starts[k as usize] };
            assert_eq!(
                (values[k as usize].to_bits(), cycle_start),
                (value.to_bits(), start),
                "{what}: series {k} at tick {tick}: {} vs {value}",
                values[k as usize]
            );
        }
    }

    #[test]
    fn seeded_entries_use_lanes_and_others_sequences() {
        for (what, entry) in seeded() {
            assert!(matches!(Series::new(&entry).0, Drive::Lanes { .. }), "{what}");
            assert_eq!(entry.cycle_start_count(), 1, "{what}");
        }
        // Normal noise that could overflow, and a walk whose moves do (its reflection of ∞ is
        // not a number): no lanes, each series restarts on its own.
        let normal = entry("normal", r#"{"mean": 1.7e308, "sd": 1e307}"#, 0, 3);
        let walk = entry("random_walk", r#"{"max": 1.5e308, "start": 0, "step": 1e308}"#, 0, 3);
        for entry in [&normal, &walk] {
            let mut sequence = Sequence::of(entry, 1);
            let overflows = (1..=1000).any(|n| sequence.advance(n) == Some(Restart::NotFinite));
            assert!(overflows, "{} overflows", entry.function);
        }
        for entry in [normal, walk, entry("square", "{}", 0, 3)] {
            assert!(matches!(Series::new(&entry).0, Drive::Sequences(_)), "{}", entry.function);
            assert_eq!(entry.cycle_start_count(), entry.value_count(), "{}", entry.function);
        }
    }

    /// The invariant: every value served equals what series k's own sequence gives, advanced one
    /// tick at a time, for 300 ticks.
    #[test]
    fn lanes_tick_as_each_series_own_sequence() {
        for (what, entry) in seeded() {
            let reference: Vec<_> = SERIES.iter().map(|&k| replayed(&entry, k, 1, 300)).collect();
            let mut series = Series::new(&entry);
            let mut values = vec![f64::NAN; entry.value_count() as usize];
            for n in 1..=300 {
                let mut restarts = Vec::new();
                series.advance(n, &mut values, &mut |r| restarts.push(r));
                check_at(&what, &series, &values, n, &reference, 1);
                let reset = entry.reset_interval.map_or(0, |r| r.get());
                let expected = (reset > 0 && n > 1 && (n - 1) % reset == 0)
                    .then_some(Restarted { series: None, why: Restart::ResetInterval });
                assert_eq!(restarts, expected.into_iter().collect::<Vec<_>>(), "{what} at tick {n}");
            }
        }
    }

    /// Caught up and fast-forwarded, from fresh series or used ones, started at tick 1 or later.
    #[test]
    fn lanes_fast_forward_and_catch_up_exactly() {
        let mut rng = crate::functions::SplitMix64(11);
        for (what, entry) in seeded() {
            for first in [1, 40] {
                let reference: Vec<_> = SERIES.iter().map(|&k| replayed(&entry, k, first, first + 400)).collect();
                for _ in 0..4 {
                    let middle = first + rng.next_u64() % 150;
                    let target = middle + rng.next_u64() % 250;
                    let mut series = Series::new(&entry).starting_at(first);
                    let mut values = vec![f64::NAN; entry.value_count() as usize];
                    for n in first..=middle {
                        series.advance(n, &mut values, &mut |_| {});
                    }
                    series.fast_forward(target, FAST_FORWARD_BUDGET, &mut values).unwrap();
                    check_at(&what, &series, &values, target, &reference, first);
                    series.advance(target + 1, &mut values, &mut |_| {});
                    check_at(&what, &series, &values, target + 1, &reference, first);
                    let mut fresh = Series::new(&entry).starting_at(first);
                    let mut values = vec![f64::NAN; entry.value_count() as usize];
                    fresh.catch_up(target, FAST_FORWARD_BUDGET, &mut values);
                    check_at(&what, &fresh, &values, target, &reference, first);
                }
            }
        }
    }

    /// A walk with no reset_interval is replayed value by value: beyond its budget it is
    /// refused, as its own sequence is, and caught up one tick at a time past that, exactly.
    #[test]
    fn lanes_of_a_walk_refuse_what_a_sequence_refuses_and_catch_up_exactly() {
        let entry = entry("random_walk", "{}", 0, 1001);
        let (budget, target) = (1000, 3000);
        assert_eq!(Sequence::of(&entry, 7).skip_to(target, &mut Budget::new(budget)), Err(Exhausted));
        let mut series = Series::new(&entry);
        let mut values = vec![f64::NAN; entry.value_count() as usize];
        assert_eq!(series.fast_forward(target, budget, &mut values), Err(Exhausted));
        let reference: Vec<_> = SERIES.iter().map(|&k| replayed(&entry, k, 1, target + 1)).collect();
        for start in [0, 1, 500] {
            let mut series = Series::new(&entry);
            let mut values = vec![f64::NAN; entry.value_count() as usize];
            if start > 0 {
                series.catch_up(start, budget, &mut values);
                check_at("caught up", &series, &values, start, &reference, 1);
            }
            series.catch_up(target, budget, &mut values);
            check_at("caught up", &series, &values, target, &reference, 1);
            series.advance(target + 1, &mut values, &mut |_| {});
            check_at("caught up", &series, &values, target + 1, &reference, 1);
        }
    }
}
