//! The observations of histograms and summaries, accumulated per series: at each tick, the
//! entry's `Observe` adds that tick's observations around the series' value (its location) to
//! the counts and sums since the series' cycle began. Everything that needs a series'
//! accumulation at some tick — fast-forwarding, `/api/v1/expected`, the exports, the preview —
//! replays it here, from the series' own sequence, so all agree with what is served.

use super::sequence::{Budget, Exhausted, Sequence};
use super::series::Series;
use super::state::Part;
use crate::config::{Entry, NativeCounts};

/// Adds tick `n`, which `series` (the entry's running series) has just reached with the values
/// of `part`, to the accumulations and native buckets of `part`.
pub(super) fn tick(entry: &Entry, series: &Series, n: u64, part: &mut Part) {
    let Some(observe) = &entry.observe else { return };
    for (slot, (chunk, &value)) in part.observed.chunks_mut(observe.width()).zip(part.values.iter()).enumerate() {
        let start = series.cycle_start(slot);
        observe.accumulate(chunk, value, n - start + 1, n, start == n);
        if let Some(native) = part.native.get_mut(slot) {
            observe.accumulate_native(native, value, n - start + 1, n, start == n);
        }
    }
}

/// One series' accumulation, replayed tick by tick.
pub struct Replay<'a> {
    entry: &'a Entry,
    sequence: Sequence,
    acc: Vec<f64>,
    native: NativeCounts,
}

impl<'a> Replay<'a> {
    /// Series `k` of `entry`, whose first value is at tick `first`, before that tick.
    pub fn new(entry: &'a Entry, k: u64, first: u64) -> Self {
        let width = entry.observe.as_ref().map_or(0, |o| o.width());
        let sequence = Sequence::of(entry, k).starting_at(first);
        Replay { entry, sequence, acc: vec![0.0; width], native: NativeCounts::default() }
    }

    /// Series `k` of `entry` (first value at tick `first`) brought to tick `n` exactly: its
    /// sequence fast-forwarded, and its accumulation replayed from the start of its current
    /// cycle, one tick at a time, each tick one unit of `budget`.
    pub fn at(entry: &'a Entry, k: u64, first: u64, n: u64, budget: &mut Budget) -> Result<Self, Exhausted> {
        let mut replay = Replay::new(entry, k, first);
        if entry.observe.is_none() {
            replay.sequence.skip_to(n, budget)?;
            return Ok(replay);
        }
        // Where the cycle in effect at tick n began: a fast-forward finds it; a second one,
        // which takes the same steps, stops there, and the cycle is replayed from its start.
        let mut probe = Sequence::of(entry, k).starting_at(first);
        probe.skip_to(n, budget)?;
        let start = probe.cycle_start();
        replay.sequence.skip_to(start, budget)?;
        replay.add();
        while replay.sequence.tick() < n {
            budget.spend(1)?;
            replay.advance();
        }
        Ok(replay)
    }

    /// Moves a series without observations to tick `n` (not before the current one), jumping
    /// where its sequence can; one with observations one tick at a time, within `budget`.
    pub fn skip_to(&mut self, n: u64, budget: &mut Budget) -> Result<(), Exhausted> {
        if self.entry.observe.is_none() {
            return self.sequence.skip_to(n, budget);
        }
        while self.sequence.tick() < n {
            budget.spend(1)?;
            self.advance();
        }
        Ok(())
    }

    /// Moves to the next tick.
    pub fn advance(&mut self) {
        self.sequence.advance(self.sequence.tick() + 1);
        self.add();
    }

    /// Adds the current tick to the accumulation.
    fn add(&mut self) {
        if let Some(observe) = &self.entry.observe {
            let (n, start) = (self.sequence.tick(), self.sequence.cycle_start());
            let (value, i) = (self.sequence.value(), n - start + 1);
            observe.accumulate(&mut self.acc, value, i, n, start == n);
            if observe.native.is_some() {
                observe.accumulate_native(&mut self.native, value, i, n, start == n);
            }
        }
    }

    /// The current tick.
    pub fn tick(&self) -> u64 {
        self.sequence.tick()
    }

    /// The function's value at the current tick (the location of its observations).
    pub fn value(&self) -> f64 {
        self.sequence.value()
    }

    /// The tick the current cycle began at.
    pub fn cycle_start(&self) -> u64 {
        self.sequence.cycle_start()
    }

    /// The accumulated observations (`Observe::width` values; empty for types without).
    pub fn observed(&self) -> &[f64] {
        &self.acc
    }

    /// The accumulated native buckets (empty for histograms without).
    pub fn native(&self) -> &NativeCounts {
        &self.native
    }

    /// The native buckets of the current tick's observations alone (empty for histograms
    /// without).
    pub fn native_of_tick(&self) -> NativeCounts {
        match &self.entry.observe {
            Some(observe) => {
                let (n, start) = (self.sequence.tick(), self.sequence.cycle_start());
                observe.native_of_tick(self.sequence.value(), n - start + 1, n)
            }
            None => NativeCounts::default(),
        }
    }
}
