//! Sequence functions: the [`Generator`] and [`Lanes`] traits a function implements, the
//! factories that make generators, the [`Registry`] of named functions and the [`Params`] they
//! read, and the built-in functions (`builtin/`, one file per family, each registering itself).
//!
//! A *function* turns a config entry's `params` into a [`Factory`]; the factory makes fresh
//! [`Generator`]s, one per series and one more each time that series restarts. Everything here is
//! pure computation: no I/O, no locks, no clocks. Restarts, `reset_interval` and overflow handling
//! live in the engine's sequences, so a function only has to produce values.

mod builtin;
mod params;
mod registry;
#[cfg(test)]
mod tests;

pub use crate::splitmix::SplitMix64;
pub use params::{param_error, Params, DEFAULT_SEED};
pub use registry::{FunctionDef, ParamDoc, Registry};

use std::ops::RangeInclusive;
use std::sync::Arc;

/// Where a sequence stands when it is asked for its next value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// 1-based position within the current cycle: 1 after every restart.
    pub i: u64,
    /// 1-based tick number since start-up; it never resets.
    pub n: u64,
}

/// One running sequence. It is asked for values in order: `i` = 1, 2, 3, … and, after a restart,
/// a fresh generator from the same [`Factory`] starts again at `i` = 1.
pub trait Generator: Send {
    /// The value at `step`, or `None` when a finite sequence has ended. A value that is not
    /// finite (overflow) makes the sequence restart, as does `None`.
    fn next(&mut self, step: Step) -> Option<f64>;

    /// For an entry fanned out into several series (`"series": N`, list-valued labels): the initial
    /// generator of series `k` (k ≥ 1; series 0 uses this one), called on a generator in its
    /// initial state. `None`, the default, means every series of the entry has the same values
    /// and they share one generator; seeded random functions give each series its own seed.
    fn for_series(&self, _k: u64) -> Option<Box<dyn Generator>> {
        None
    }

    /// Fast-forward, first half: whether every value at a position in `positions` and a tick in
    /// `ticks` is finite (`Some` and finite), known without computing them one by one. `false`
    /// (the default) means "not known", never "not finite": the sequence then computes the values
    /// one by one. The answer must not depend on the generator's state, and must hold for any
    /// sub-range of ranges it holds for.
    fn finite_over(&self, positions: RangeInclusive<u64>, ticks: RangeInclusive<u64>) -> bool {
        let _ = (positions, ticks);
        false
    }

    /// Fast-forward, second half: moves past the `count` values at `from`, then `i` and `n` one
    /// more, and so on, as if [`Generator::next`] had been called for each, and returns the last
    /// of them; or `None` (the default), changing nothing, when it cannot jump. It is called only
    /// with `count ≥ 1` and after `finite_over` said all these values are finite.
    fn skip(&mut self, from: Step, count: u64) -> Option<f64> {
        let _ = (from, count);
        None
    }

    /// Whether values may depend on [`Step::n`]. A generator that says `false` gives the same
    /// values in every cycle, so its sequence repeats with a fixed period that a fast-forward
    /// jumps over whole. The default, `true`, is always safe.
    fn reads_n(&self) -> bool {
        true
    }

    /// For an entry fanned out into many series whose values differ ([`Generator::for_series`]):
    /// a way to compute every series' values without a generator per series (see [`Lanes`]),
    /// called on a generator in its initial state. `None`, the default, gives each series a
    /// sequence of its own.
    fn lanes(&self) -> Option<Arc<dyn Lanes>> {
        None
    }
}

/// The values of every series of a fanned-out entry, computed from a series number, a position
/// and the series' previous value, so that a million seeded series need one number each instead
/// of a generator each.
///
/// A generator may offer lanes ([`Generator::lanes`]) only when, for every series `k` and
/// position `i`, [`Lanes::value`] equals the value that series `k`'s own generator (the one
/// [`Generator::for_series`] gives) yields at position `i`, and when that value is always finite,
/// does not depend on the tick number (`reads_n` is false) and is computed without panicking. Then
/// no series restarts on its own: every series of the entry restarts only at its
/// `reset_interval`, together with the first one, and all stand at the same position.
pub trait Lanes: Send + Sync {
    /// The value of series `k` at position `i` (1 after every restart) of its cycle, where
    /// `previous` is its value at position `i − 1` (at `i` = 1 there is none, and it is NaN).
    fn value(&self, k: u64, i: u64, previous: f64) -> f64;

    /// Whether [`Lanes::value`] reads `previous`. When it does not, the value at any position
    /// is computed at once; when it does, reaching a position means computing each one before it.
    fn reads_previous(&self) -> bool;
}

/// Makes a fresh generator in its initial state; shared by every series of one config entry.
pub type Factory = Arc<dyn Fn() -> Box<dyn Generator> + Send + Sync>;

/// What is known of where a function of `i` is finite, which lets a sequence of it fast-forward
/// (see [`Generator::finite_over`]) instead of computing every value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finite {
    /// Nothing: a fast-forward computes each value.
    Unknown,
    /// Finite at every position.
    Always,
    /// Monotone in `i`, so finite over a range of positions when finite at both ends.
    Monotone,
}

/// A function of the position alone, `i ↦ f(i)`: the simplest kind of generator.
struct FromIndex<F> {
    f: F,
    finite: Finite,
}

impl<F: Fn(u64) -> f64 + Send> Generator for FromIndex<F> {
    fn next(&mut self, step: Step) -> Option<f64> {
        Some((self.f)(step.i))
    }

    fn finite_over(&self, positions: RangeInclusive<u64>, _: RangeInclusive<u64>) -> bool {
        match self.finite {
            Finite::Unknown => false,
            Finite::Always => true,
            Finite::Monotone => (self.f)(*positions.start()).is_finite() && (self.f)(*positions.end()).is_finite(),
        }
    }

    fn skip(&mut self, from: Step, count: u64) -> Option<f64> {
        Some((self.f)(from.i + (count - 1)))
    }

    fn reads_n(&self) -> bool {
        false
    }
}

/// Turns a pure function of `i` into a factory. Sequences of it fast-forward by computing each
/// value; [`index_factory_with`] says more and lets them jump.
pub fn index_factory<F>(f: F) -> Factory
where
    F: Fn(u64) -> f64 + Copy + Send + Sync + 'static,
{
    index_factory_with(f, Finite::Unknown)
}

/// Turns a pure function of `i` into a factory, with what is known of where it is finite.
pub fn index_factory_with<F>(f: F, finite: Finite) -> Factory
where
    F: Fn(u64) -> f64 + Copy + Send + Sync + 'static,
{
    Arc::new(move || Box::new(FromIndex { f, finite }) as Box<dyn Generator>)
}

/// Turns a generator in its initial state into a factory: every fresh generator is a clone of
/// `initial`, so a restarted seeded generator replays exactly the values it gave the first time.
pub fn prototype_factory<G>(initial: G) -> Factory
where
    G: Generator + Clone + Sync + 'static,
{
    Arc::new(move || Box::new(initial.clone()) as Box<dyn Generator>)
}
