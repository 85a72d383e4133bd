//! Seeded noise: `normal`, `uniform`, `random_walk`. Each series of a fan-out has a seed of its
//! own, and lanes compute any series' value from its number and position.

use crate::functions::params::show;
use crate::functions::{
    param_error, prototype_factory, Generator, Lanes, ParamDoc, Registry, SplitMix64, Step, DEFAULT_SEED,
};
use std::ops::RangeInclusive;
use std::sync::Arc;

/// Registers `normal`, `uniform` and `random_walk`.
pub(super) fn register(r: &mut Registry) {
    r.register(
        "normal",
        "seeded normal noise, clamped at 0: mean 50, sd 10 by default",
        &[
            ParamDoc { name: "mean", doc: "number, default 50" },
            ParamDoc { name: "sd", doc: "number ≥ 0, default 10" },
            ParamDoc { name: "seed", doc: "integer ≥ 0, default 42" },
        ],
        |p| {
            let mean = p.f64("mean", 50.0)?;
            let sd = p.f64("sd", 10.0)?;
            let seed = p.u64("seed", DEFAULT_SEED)?;
            if sd < 0.0 {
                return Err(param_error("sd", "must be a finite number ≥ 0"));
            }
            Ok(prototype_factory(Normal { rng: SplitMix64(seed), mean, sd }))
        },
    );
    r.register(
        "uniform",
        "seeded uniform noise between min and max: 0 to 100 by default",
        &[
            ParamDoc { name: "seed", doc: "integer ≥ 0, default 42" },
            ParamDoc { name: "min", doc: "number, default 0" },
            ParamDoc { name: "max", doc: "number ≥ min, default 100" },
        ],
        |p| {
            let seed = p.u64("seed", DEFAULT_SEED)?;
            let (min, max) = p.range(0.0, 100.0)?;
            Ok(prototype_factory(Uniform { rng: SplitMix64(seed), min, max }))
        },
    );
    r.register(
        "random_walk",
        "seeded random walk from start, moving up to step per tick, reflected at min and max",
        &[
            ParamDoc { name: "seed", doc: "integer ≥ 0, default 42" },
            ParamDoc { name: "start", doc: "first value, between min and max, default 50" },
            ParamDoc { name: "step", doc: "largest move per tick, number ≥ 0, default 1" },
            ParamDoc { name: "min", doc: "number, default 0" },
            ParamDoc { name: "max", doc: "number ≥ min, default 100" },
        ],
        |p| {
            let seed = p.u64("seed", DEFAULT_SEED)?;
            let (min, max) = p.range(0.0, 100.0)?;
            let start = p.f64("start", 50.0)?;
            let step = p.f64("step", 1.0)?;
            if !(min..=max).contains(&start) {
                return Err(param_error(
                    "start",
                    &format!("must be between min ({}) and max ({}), got {}", show(min), show(max), show(start)),
                ));
            }
            if step < 0.0 {
                return Err(param_error("step", &format!("must be a number ≥ 0, got {}", show(step))));
            }
            Ok(prototype_factory(RandomWalk { rng: SplitMix64(seed), value: None, start, step, min, max }))
        },
    );
}

/// Seeded noise whose every value takes the same number of draws of its generator, whatever came
/// before: series `k`'s value at position `i` is then a function of its seed and `i` alone, which
/// is what a fast-forward (`skip`) and [`Lanes`] compute, from this one count.
trait Noise: Clone + Send + Sync + 'static {
    /// Draws per value.
    const DRAWS: u64;

    fn rng(&mut self) -> &mut SplitMix64;

    /// The next value, taking [`Noise::DRAWS`] draws: what [`Generator::next`] gives.
    fn draw(&mut self) -> f64;

    /// Moves past `count − 1` values and draws the next: the last of `count`.
    fn skip_draws(&mut self, count: u64) -> f64 {
        self.rng().jump((count - 1).wrapping_mul(Self::DRAWS));
        self.draw()
    }
}

/// Series `k`'s value at position `i` is its generator's value after `i − 1` others.
impl<T: Noise> Lanes for T {
    fn value(&self, k: u64, i: u64, _: f64) -> f64 {
        let mut generator = self.clone();
        *generator.rng() = generator.rng().for_series(k);
        generator.skip_draws(i.max(1))
    }

    fn reads_previous(&self) -> bool {
        false
    }
}

/// Normal noise by the Box–Muller transform, two draws per value, clamped at 0.
#[derive(Clone)]
struct Normal {
    rng: SplitMix64,
    mean: f64,
    sd: f64,
}

impl Normal {
    /// Whether every value is finite: when `|mean| + 9·sd` is, as |z| ≤ √(−2·ln 2⁻⁵³) < 8.6.
    fn always_finite(&self) -> bool {
        (self.mean.abs() + 9.0 * self.sd).is_finite()
    }
}

impl Noise for Normal {
    const DRAWS: u64 = 2;

    fn rng(&mut self) -> &mut SplitMix64 {
        &mut self.rng
    }

    fn draw(&mut self) -> f64 {
        let (u1, u2) = (self.rng.next_open01(), self.rng.next_open01());
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        (self.mean + self.sd * z).max(0.0)
    }
}

impl Generator for Normal {
    fn next(&mut self, _: Step) -> Option<f64> {
        Some(self.draw())
    }

    fn for_series(&self, k: u64) -> Option<Box<dyn Generator>> {
        Some(Box::new(Normal { rng: self.rng.for_series(k), ..self.clone() }))
    }

    fn finite_over(&self, _: RangeInclusive<u64>, _: RangeInclusive<u64>) -> bool {
        self.always_finite()
    }

    /// Lanes only where every value is proven finite: elsewhere a series may restart on its own.
    fn lanes(&self) -> Option<Arc<dyn Lanes>> {
        self.always_finite().then(|| Arc::new(self.clone()) as Arc<dyn Lanes>)
    }

    fn skip(&mut self, _: Step, count: u64) -> Option<f64> {
        Some(self.skip_draws(count))
    }

    fn reads_n(&self) -> bool {
        false
    }
}

/// Uniform noise: `min + (max − min)·u` with `u` in [0, 1), clamped so rounding cannot leave the range.
#[derive(Clone)]
struct Uniform {
    rng: SplitMix64,
    min: f64,
    max: f64,
}

impl Noise for Uniform {
    const DRAWS: u64 = 1;

    fn rng(&mut self) -> &mut SplitMix64 {
        &mut self.rng
    }

    fn draw(&mut self) -> f64 {
        let u = self.rng.next_01();
        (self.min + (self.max - self.min) * u).clamp(self.min, self.max)
    }
}

impl Generator for Uniform {
    fn next(&mut self, _: Step) -> Option<f64> {
        Some(self.draw())
    }

    fn for_series(&self, k: u64) -> Option<Box<dyn Generator>> {
        Some(Box::new(Uniform { rng: self.rng.for_series(k), ..self.clone() }))
    }

    /// The values are clamped into [min, max], whose bounds are finite.
    fn lanes(&self) -> Option<Arc<dyn Lanes>> {
        Some(Arc::new(self.clone()))
    }

    /// Clamped into [min, max], finite bounds checked at load.
    fn finite_over(&self, _: RangeInclusive<u64>, _: RangeInclusive<u64>) -> bool {
        true
    }

    fn skip(&mut self, _: Step, count: u64) -> Option<f64> {
        Some(self.skip_draws(count))
    }

    fn reads_n(&self) -> bool {
        false
    }
}

/// A random walk: `start` first, then each value moves by a uniform amount in [−step, step).
/// A move past a bound is reflected back by its excess (a walk does not stick to a wall the way a
/// clamped one does); the clamp after it only matters when `step` is wider than the range.
#[derive(Clone)]
struct RandomWalk {
    rng: SplitMix64,
    /// The last value; `None` before the first.
    value: Option<f64>,
    start: f64,
    step: f64,
    min: f64,
    max: f64,
}

impl RandomWalk {
    /// Whether every value is finite. Each lies in [min, max]; a move reaches at most
    /// `bound + step` (bound: the larger of |min| and |max|), and its reflection `3·bound + step`,
    /// so nothing overflows when that does not. Past it, a reflection of an overflowed move would
    /// be ∞ − ∞, not a number, and the series would restart.
    fn always_finite(&self) -> bool {
        (3.0 * self.min.abs().max(self.max.abs()) + self.step).is_finite()
    }

    /// The value after `last`: the one [`Generator::next`] gives, and lanes compute.
    fn walk(&mut self, last: f64) -> f64 {
        let moved = last + self.step * (2.0 * self.rng.next_01() - 1.0);
        let reflected = if moved > self.max {
            2.0 * self.max - moved
        } else if moved < self.min {
            2.0 * self.min - moved
        } else {
            moved
        };
        reflected.clamp(self.min, self.max)
    }
}

/// Series `k`'s value at position `i` > 1 moves its value at `i − 1` by draw i − 2 of its own
/// seed; the first value takes no draw.
impl Lanes for RandomWalk {
    fn value(&self, k: u64, i: u64, previous: f64) -> f64 {
        if i <= 1 {
            return self.start;
        }
        let mut generator = RandomWalk { rng: self.rng.for_series(k), ..*self };
        generator.rng.jump(i - 2);
        generator.walk(previous)
    }

    fn reads_previous(&self) -> bool {
        true
    }
}

impl Generator for RandomWalk {
    fn next(&mut self, _: Step) -> Option<f64> {
        let next = match self.value {
            None => self.start,
            Some(last) => self.walk(last),
        };
        self.value = Some(next);
        Some(next)
    }

    fn for_series(&self, k: u64) -> Option<Box<dyn Generator>> {
        Some(Box::new(RandomWalk { rng: self.rng.for_series(k), ..self.clone() }))
    }

    /// Lanes only where every value is proven finite: elsewhere a series may restart on its own.
    fn lanes(&self) -> Option<Arc<dyn Lanes>> {
        self.always_finite().then(|| Arc::new(self.clone()) as Arc<dyn Lanes>)
    }

    // No jump: each value depends on the whole path before it. A fast-forward computes every
    // value, up to its limit, or jumps over whole periods when a reset_interval gives one.
    fn reads_n(&self) -> bool {
        false
    }
}
