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
        // With jitter each series has a slot of its own (see `Entry::per_series`).
        let value = value + entry.jitter.map_or(0.0, |j| j.at(entry.served.k(slot as u64), n));
        observe.accumulate(chunk, value, n - start + 1, n, start == n);
        if let Some(native) = part.native.get_mut(slot) {
            observe.accumulate_native(native, value, n - start + 1, n, start == n);
        }
    }
}

/// One series' accumulation, replayed tick by tick.
pub struct Replay<'a> {
    entry: &'a Entry,
    k: u64,
    /// The tick of the series' first value.
    first: u64,
    sequence: Sequence,
    /// Whether observations are accumulated: for histograms and summaries, unless the replay is
    /// of values alone (`values_at`).
    observing: bool,
    acc: Vec<f64>,
    native: NativeCounts,
}

impl<'a> Replay<'a> {
    /// Series `k` of `entry`, whose first value is at tick `first`, before that tick.
    pub fn new(entry: &'a Entry, k: u64, first: u64) -> Self {
        let width = entry.observe.as_ref().map_or(0, |o| o.width());
        let sequence = Sequence::of(entry, k).starting_at(first);
        let observing = entry.observe.is_some();
        Replay { entry, k, first, sequence, observing, acc: vec![0.0; width], native: NativeCounts::default() }
    }

    /// Where series `k`'s sequence starts afresh for tick `n`: its first tick, or for a churning
    /// entry the start of `n`'s generation when later.
    fn start_for(entry: &Entry, first: u64, n: u64) -> u64 {
        entry.churn.as_ref().map_or(first, |churn| churn.start(n).max(first))
    }

    /// Series `k` of `entry` (first value at tick `first`) brought to tick `n` exactly: its
    /// sequence fast-forwarded, and its accumulation replayed from the start of its current
    /// cycle, one tick at a time, each tick one unit of `budget`.
    pub fn at(entry: &'a Entry, k: u64, first: u64, n: u64, budget: &mut Budget) -> Result<Self, Exhausted> {
        Self::reach(entry, k, first, n, true, budget)
    }

    /// Series `k` of `entry` brought to tick `n` for its values alone (for a histogram or summary
    /// the locations of its observations, which are not accumulated, so `observed` stays empty):
    /// a fast-forward that jumps where the sequence can, whatever the type. The charts need no
    /// more, and a histogram without `reset_interval` would otherwise be replayed from tick 1.
    pub fn values_at(entry: &'a Entry, k: u64, first: u64, n: u64, budget: &mut Budget) -> Result<Self, Exhausted> {
        Self::reach(entry, k, first, n, false, budget)
    }

    fn reach(
        entry: &'a Entry,
        k: u64,
        first: u64,
        n: u64,
        observing: bool,
        budget: &mut Budget,
    ) -> Result<Self, Exhausted> {
        // A churning entry's series of n's generation began at its start.
        let begin = Self::start_for(entry, first, n);
        let mut replay = Replay::new(entry, k, begin);
        replay.first = first;
        replay.observing = observing && entry.observe.is_some();
        if !replay.observing {
            replay.acc.clear();
            replay.sequence.skip_to(n, budget)?;
            return Ok(replay);
        }
        // Where the cycle in effect at tick n began: a fast-forward finds it; a second one,
        // which takes the same steps, stops there, and the cycle is replayed from its start.
        let mut probe = Sequence::of(entry, k).starting_at(begin);
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
        if self.entry.churn.is_some() && Self::start_for(self.entry, self.first, n) > self.sequence.tick() {
            // n is in a later generation: its series start afresh.
            *self = Replay::reach(self.entry, self.k, self.first, n, self.observing, budget)?;
            return Ok(());
        }
        if !self.observing {
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
        let next = self.sequence.tick() + 1;
        if next > self.first && Self::start_for(self.entry, self.first, next) == next && self.entry.churn.is_some() {
            // A new generation: new series, starting afresh.
            self.sequence = Sequence::of(self.entry, self.k).starting_at(next);
        }
        self.sequence.advance(next);
        self.add();
    }

    /// Adds the current tick to the accumulation.
    fn add(&mut self) {
        if !self.observing {
            return;
        }
        if let Some(observe) = &self.entry.observe {
            let (n, start) = (self.sequence.tick(), self.sequence.cycle_start());
            let (value, i) = (self.value(), n - start + 1);
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

    /// The value served at the current tick: the function's, with the entry's jitter (for a
    /// histogram or summary, the location of its observations).
    pub fn value(&self) -> f64 {
        self.sequence.value() + self.entry.jitter.map_or(0.0, |j| j.at(self.k, self.sequence.tick()))
    }

    /// Whether the series is served at the current tick.
    pub fn active(&self) -> bool {
        self.entry.active_at(self.sequence.tick())
    }

    /// The series' labels at the current tick (with a churning entry's generation).
    pub fn labels(&self) -> Vec<(&'a str, std::borrow::Cow<'a, str>)> {
        self.entry.labels_at(self.k, self.sequence.tick())
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
                observe.native_of_tick(self.value(), n - start + 1, n)
            }
            None => NativeCounts::default(),
        }
    }
}
