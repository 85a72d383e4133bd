//! The wrapper that drives one function through ticks: it counts the position in the cycle,
//! applies `reset_interval`, and restarts the function when it overflows or ends.
//!
//! It does no I/O and no logging: [`Sequence::advance`] reports a restart and the caller decides
//! how to tell the user.

use crate::functions::{Factory, Generator, Step};
use std::num::NonZeroU64;

/// Why a sequence went back to its first value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// It had served `reset_interval` values.
    ResetInterval,
    /// The function yielded a value that is not finite (it overflowed f64).
    NotFinite,
    /// A finite function ran out of values.
    Ended,
    /// The function panicked; a fresh generator takes over and the last value is kept.
    Panicked,
}

impl Restart {
    /// A few words for log lines.
    pub fn describe(self) -> &'static str {
        match self {
            Restart::ResetInterval => "reset_interval reached",
            Restart::NotFinite => "value not finite",
            Restart::Ended => "sequence ended",
            Restart::Panicked => "function panicked",
        }
    }
}

/// The initial generator of series `series` from `make`.
fn initial(make: &Factory, series: u64) -> Box<dyn Generator> {
    let generator = make();
    if series == 0 {
        return generator;
    }
    generator.for_series(series).unwrap_or(generator)
}

/// One series' position in its function.
pub struct Sequence {
    make: Factory,
    /// Which series of a fanned-out entry this is (see `Generator::for_series`); 0 for the first
    /// or only one.
    series: u64,
    generator: Box<dyn Generator>,
    reset_interval: Option<NonZeroU64>,
    /// Position of the current value in its cycle; 0 before the first tick.
    i: u64,
    value: f64,
    /// Tick number at which the current cycle began (its value was `i` = 1).
    cycle_start: u64,
}

impl Sequence {
    /// A sequence before its first tick.
    pub fn new(make: Factory, reset_interval: Option<NonZeroU64>) -> Self {
        Self::for_series(make, 0, reset_interval)
    }

    /// A sequence for series `series` of a fanned-out entry, before its first tick: its generator
    /// is the one `Generator::for_series` derives from the factory's, whenever it (re)starts.
    pub fn for_series(make: Factory, series: u64, reset_interval: Option<NonZeroU64>) -> Self {
        let generator = initial(&make, series);
        Sequence { make, series, generator, reset_interval, i: 0, value: f64::NAN, cycle_start: 0 }
    }

    /// The value served now (NaN before the first tick).
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The tick at which the current cycle began.
    pub fn cycle_start(&self) -> u64 {
        self.cycle_start
    }

    /// Moves to tick `n` and returns why the sequence restarted, if it did. When even a fresh
    /// generator gives no finite first value the last value is kept, so a served value is never
    /// replaced by garbage.
    pub fn advance(&mut self, n: u64) -> Option<Restart> {
        let mut restart = None;
        if self.reset_interval.is_some_and(|r| self.i >= r.get()) {
            restart = Some(Restart::ResetInterval);
            self.restart();
        }
        self.i += 1;
        if self.i == 1 {
            self.cycle_start = n;
        }
        match self.call(Step { i: self.i, n }) {
            Ok(Some(v)) if v.is_finite() => self.value = v,
            other => {
                restart = Some(match other {
                    Err(()) => Restart::Panicked,
                    Ok(None) => Restart::Ended,
                    Ok(Some(_)) => Restart::NotFinite,
                });
                self.restart();
                self.i = 1;
                self.cycle_start = n;
                if let Ok(Some(v)) = self.call(Step { i: 1, n }) {
                    if v.is_finite() {
                        self.value = v;
                    }
                }
            }
        }
        restart
    }

    /// Asks the generator for a value, containing a panic: a function that panics (a bug in a
    /// function registered from Rust) costs its own series a restart, never the ticker thread.
    fn call(&mut self, step: Step) -> Result<Option<f64>, ()> {
        let generator = &mut self.generator;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| generator.next(step))).map_err(|_| ())
    }

    fn restart(&mut self) {
        self.generator = initial(&self.make, self.series);
        self.i = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::{index_factory, Registry};
    use std::sync::Arc;

    fn run(make: Factory, reset: u64, ticks: u64) -> Vec<f64> {
        let mut s = Sequence::new(make, NonZeroU64::new(reset));
        (1..=ticks)
            .map(|n| {
                s.advance(n);
                s.value()
            })
            .collect()
    }

    #[test]
    fn reset_interval_gives_an_exact_cycle() {
        let square = index_factory(|i| (i * i) as f64);
        assert_eq!(run(square.clone(), 3, 7), [1.0, 4.0, 9.0, 1.0, 4.0, 9.0, 1.0]);
        assert_eq!(run(square.clone(), 1, 3), [1.0, 1.0, 1.0]);
        assert_eq!(run(square, 0, 4), [1.0, 4.0, 9.0, 16.0]);
    }

    #[test]
    fn overflow_restarts_at_the_first_value() {
        let power = Registry::builtin().build("power", None).unwrap().unwrap();
        let values = run(power, 0, 300);
        assert!(values.iter().all(|v| v.is_finite()));
        assert_eq!(values[142], 143f64.powf(143.0));
        assert_eq!(&values[143..146], [1.0, 4.0, 27.0]);
        assert_eq!(values[286], 1.0);
    }

    #[test]
    fn end_of_a_finite_sequence_restarts_and_reports_why() {
        struct Two(u8);
        impl Generator for Two {
            fn next(&mut self, _: Step) -> Option<f64> {
                self.0 += 1;
                (self.0 <= 2).then_some(self.0 as f64)
            }
        }
        let make: Factory = Arc::new(|| Box::new(Two(0)) as Box<dyn Generator>);
        let mut s = Sequence::new(make, None);
        let reasons: Vec<_> = (1..=5).map(|n| (s.advance(n), s.value(), s.cycle_start())).collect();
        assert_eq!(
            reasons,
            [
                (None, 1.0, 1),
                (None, 2.0, 1),
                (Some(Restart::Ended), 1.0, 3),
                (None, 2.0, 3),
                (Some(Restart::Ended), 1.0, 5)
            ]
        );
    }

    fn built(name: &str, params: serde_json::Value) -> Factory {
        Registry::builtin().build(name, params.as_object()).unwrap().unwrap()
    }

    #[test]
    fn expressions_match_the_builtins_they_spell_out() {
        let expr = |src: &str| built("expr", serde_json::json!({ "expr": src }));
        assert_eq!(run(expr("i*i"), 0, 200), run(built("square", serde_json::Value::Null), 0, 200));
        assert_eq!(run(expr("2^i"), 0, 200), run(built("exponential", serde_json::Value::Null), 0, 200));
        assert_eq!(run(expr("i**i"), 0, 300), run(built("power", serde_json::Value::Null), 0, 300));
    }

    #[test]
    fn n_keeps_counting_across_a_reset_while_i_restarts() {
        let expr = |src: &str| built("expr", serde_json::json!({ "expr": src }));
        assert_eq!(run(expr("i"), 3, 7), [1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0]);
        assert_eq!(run(expr("n"), 3, 7), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        // A restart for a value that is not finite also sets i back to 1 and leaves n alone:
        // 1/(3 − i) is infinite at i = 3, so the third tick restarts with i = 1.
        assert_eq!(run(expr("10*n + 1/(3-i)"), 0, 4), [10.5, 21.0, 30.5, 41.0]);
    }

    #[test]
    fn restarted_seeded_functions_replay_their_values() {
        for name in ["uniform", "random_walk", "normal"] {
            let values = run(built(name, serde_json::Value::Null), 5, 15);
            assert_eq!(values[..5], values[5..10], "{name}");
            assert_eq!(values[..5], values[10..], "{name}");
        }
    }

    #[test]
    fn a_panicking_function_restarts_and_keeps_the_last_value() {
        #[derive(Clone)]
        struct PanicsAtThree;
        impl Generator for PanicsAtThree {
            fn next(&mut self, step: Step) -> Option<f64> {
                assert!(step.i < 3, "deliberate test panic");
                Some(step.i as f64 * 10.0)
            }
        }
        let make: Factory = Arc::new(|| Box::new(PanicsAtThree) as Box<dyn Generator>);
        let mut s = Sequence::new(make, None);
        let seen: Vec<_> = (1..=4).map(|n| (s.advance(n), s.value())).collect();
        assert_eq!(seen, [(None, 10.0), (None, 20.0), (Some(Restart::Panicked), 10.0), (None, 20.0)]);
    }

    #[test]
    fn a_function_that_is_never_finite_keeps_the_last_value() {
        struct FirstTickOnly;
        impl Generator for FirstTickOnly {
            fn next(&mut self, step: Step) -> Option<f64> {
                Some(if step.n == 1 { 5.0 } else { f64::INFINITY })
            }
        }
        let make: Factory = Arc::new(|| Box::new(FirstTickOnly) as Box<dyn Generator>);
        let mut s = Sequence::new(make, None);
        s.advance(1);
        assert_eq!(s.advance(2), Some(Restart::NotFinite));
        assert_eq!(s.value(), 5.0);
    }
}
