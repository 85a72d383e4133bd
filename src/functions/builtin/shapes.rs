//! Functions that draw a shape: `constant`, `linear`, `sine`, `sawtooth`, `step`, `sequence`,
//! `spike`.

use crate::functions::{
    index_factory_with, param_error, prototype_factory, Finite, Generator, ParamDoc, Registry, Step,
};
use std::ops::RangeInclusive;
use std::sync::Arc;

/// Registers `constant`, `linear`, `sine`, `sawtooth`, `step`, `sequence` and `spike`.
pub(super) fn register(r: &mut Registry) {
    r.register(
        "constant",
        "the same value every tick: value",
        &[ParamDoc { name: "value", doc: "number, default 0" }],
        |p| {
            let value = p.f64("value", 0.0)?;
            Ok(index_factory_with(move |_| value, Finite::Always))
        },
    );
    r.register(
        "linear",
        "start + step·(i−1): 0, 1, 2, 3, … by default",
        &[ParamDoc { name: "start", doc: "number, default 0" }, ParamDoc { name: "step", doc: "number, default 1" }],
        |p| {
            let start = p.f64("start", 0.0)?;
            let step = p.f64("step", 1.0)?;
            Ok(index_factory_with(move |i| start + step * i.saturating_sub(1) as f64, Finite::Monotone))
        },
    );
    r.register(
        "sine",
        "offset + amplitude·sin(2π·(i−1)/period): 50, 55.2, 60.4, … by default",
        &[
            ParamDoc { name: "amplitude", doc: "number, default 50" },
            ParamDoc { name: "period", doc: "ticks per wave, integer ≥ 1, default 60" },
            ParamDoc { name: "offset", doc: "number, default 50" },
        ],
        |p| {
            let amplitude = p.f64("amplitude", 50.0)?;
            let period = p.positive("period", 60)?;
            let offset = p.f64("offset", 50.0)?;
            // offset + amplitude·s for s in [−1, 1] lies between its values at ±1, rounding
            // included, so it is finite everywhere when those two are.
            let finite = if (offset + amplitude.abs()).is_finite() && (offset - amplitude.abs()).is_finite() {
                Finite::Always
            } else {
                Finite::Unknown
            };
            let f = move |i: u64| offset + amplitude * sin_of_fraction(i.saturating_sub(1) % period, period);
            Ok(index_factory_with(f, finite))
        },
    );
    r.register(
        "sawtooth",
        "climbs from min to max in period ticks, then drops back: 0, 10, 20, …, 100, 0, … by default",
        &[
            ParamDoc { name: "min", doc: "number, default 0" },
            ParamDoc { name: "max", doc: "number ≥ min, default 100" },
            ParamDoc { name: "period", doc: "ticks per ramp, min and max included, integer ≥ 2, default 11" },
        ],
        |p| {
            let (min, max) = p.range(0.0, 100.0)?;
            let period = p.positive("period", 11)?;
            if period < 2 {
                return Err(param_error("period", "must be an integer ≥ 2 (a ramp needs a first and a last tick)"));
            }
            // The clamp keeps every value in [min, max], even when the product overflows.
            Ok(index_factory_with(
                move |i| {
                    let k = i.saturating_sub(1) % period;
                    if k == period - 1 {
                        max
                    } else {
                        // Multiplying before dividing keeps whole steps whole: 100·7/10 is exactly 70.
                        (min + (max - min) * k as f64 / (period - 1) as f64).clamp(min, max)
                    }
                },
                Finite::Always,
            ))
        },
    );
    r.register(
        "step",
        "each of values held for hold ticks, then again from the first",
        &[
            ParamDoc { name: "values", doc: "non-empty array of numbers, required" },
            ParamDoc {
                name: "hold",
                doc: "ticks each value is held: integer ≥ 1, or an array of them, one per value; default 10",
            },
        ],
        |p| {
            let values = p.numbers("values")?;
            let holds = p.holds("hold", values.len(), 10)?;
            Cycle::new(values, &holds).map(prototype_factory)
        },
    );
    r.register(
        "sequence",
        "values in turn, one per tick, cycled: values[(i−1) mod len]",
        &[ParamDoc { name: "values", doc: "non-empty array of numbers, required" }],
        |p| {
            let values = p.numbers("values")?;
            let holds = vec![1; values.len()];
            Cycle::new(values, &holds).map(prototype_factory)
        },
    );
    r.register(
        "spike",
        "base, and base + height every `every` ticks: 0 ×9, 100, 0 ×9, 100, … by default",
        &[
            ParamDoc { name: "base", doc: "number, default 0" },
            ParamDoc { name: "height", doc: "number added at a spike, default 100" },
            ParamDoc { name: "every", doc: "ticks between spikes, integer ≥ 1, default 10" },
        ],
        |p| {
            let base = p.f64("base", 0.0)?;
            let height = p.f64("height", 100.0)?;
            let every = p.positive("every", 10)?;
            let finite = if base.is_finite() && (base + height).is_finite() { Finite::Always } else { Finite::Unknown };
            Ok(index_factory_with(move |i| if i % every == 0 { base + height } else { base }, finite))
        },
    );
}

/// `sin(2π·k/period)` for `0 ≤ k < period`, computed on the angle folded into the first quarter
/// turn. That makes quarter turns exact (0, 1, 0, −1 for period 4, never 1.2e-16) and the wave
/// exactly symmetric, so a series shows the same value at mirrored ticks.
fn sin_of_fraction(k: u64, period: u64) -> f64 {
    let (k, p) = (u128::from(k), u128::from(period));
    // The angle is π·h/p with h = 2k in [0, 2p); the second half turn is the first one negated.
    let (h, sign) = if 2 * k >= p { (2 * k - p, -1.0) } else { (2 * k, 1.0) };
    // sin(π − x) = sin(x): fold the second quarter onto the first.
    let h = if 2 * h > p { p - h } else { h };
    sign * (std::f64::consts::PI * (h as f64 / p as f64)).sin()
}

/// `values` in turn, the k-th held for `holds[k]` ticks, then from the first again: a pure function
/// of `i` (by index modulo the total length), so the cycle is exact and needs no restart.
#[derive(Clone)]
struct Cycle {
    values: Arc<[f64]>,
    /// `ends[k]`: the number of ticks up to the end of value k; the last is the cycle length.
    ends: Arc<[u64]>,
}

impl Cycle {
    fn new(values: Vec<f64>, holds: &[u64]) -> Result<Self, String> {
        let mut total: u64 = 0;
        let mut ends = Vec::with_capacity(holds.len());
        for &hold in holds {
            total = total
                .checked_add(hold)
                .ok_or_else(|| param_error("hold", "the holds add up to more than 2⁶⁴ − 1 ticks"))?;
            ends.push(total);
        }
        Ok(Cycle { values: values.into(), ends: ends.into() })
    }
}

impl Generator for Cycle {
    fn next(&mut self, step: Step) -> Option<f64> {
        let total = *self.ends.last()?;
        let k = step.i.saturating_sub(1) % total;
        self.values.get(self.ends.partition_point(|&end| end <= k)).copied()
    }

    /// The values are finite numbers from the config, checked at load.
    fn finite_over(&self, _: RangeInclusive<u64>, _: RangeInclusive<u64>) -> bool {
        true
    }

    fn skip(&mut self, from: Step, count: u64) -> Option<f64> {
        self.next(Step { i: from.i + (count - 1), n: from.n + (count - 1) })
    }

    fn reads_n(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarter_turns_are_exact() {
        assert_eq!([0, 1, 2, 3].map(|k| sin_of_fraction(k, 4)), [0.0, 1.0, 0.0, -1.0]);
        assert_eq!([0, 3, 6, 9].map(|k| sin_of_fraction(k, 12)), [0.0, 1.0, 0.0, -1.0]);
        assert_eq!(sin_of_fraction(1, 12), sin_of_fraction(5, 12));
        assert_eq!(sin_of_fraction(7, 12), -sin_of_fraction(1, 12));
        assert_eq!(sin_of_fraction(u64::MAX - 1, u64::MAX), -sin_of_fraction(1, u64::MAX));
    }
}
