//! The function registry and the built-in sequence functions.
//!
//! A *function* turns a config entry's `params` into a [`Factory`]; the factory makes fresh
//! [`Generator`]s, one per series and one more each time that series restarts. Everything here is
//! pure computation: no I/O, no locks, no clocks. Restarts, `reset_interval` and overflow handling
//! live in `sequence.rs`, so a function only has to produce values.

use crate::config::{brief, quoted};
use crate::expr::Expr;
use serde_json::{Map, Value};
use std::fmt::Write as _;
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

/// The documentation of one parameter a function accepts.
#[derive(Debug, Clone)]
pub struct ParamDoc {
    /// The key in the entry's `params` object.
    pub name: &'static str,
    /// What it means, with its type and default, in a few words.
    pub doc: &'static str,
}

type Build = dyn Fn(&Params) -> Result<Factory, String> + Send + Sync;

/// A registered function: its name, a one-line description, the params it takes and how to build it.
pub struct FunctionDef {
    name: String,
    description: String,
    params: Vec<ParamDoc>,
    build: Box<Build>,
}

impl FunctionDef {
    /// The name used in `custom_function`.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The one-line description shown by `--list-functions`.
    pub fn description(&self) -> &str {
        &self.description
    }
    /// The params this function accepts; any other key is a config error.
    pub fn params(&self) -> &[ParamDoc] {
        &self.params
    }
}

/// The set of functions a config can name. Built-ins come from [`Registry::builtin`]; Rust code adds
/// its own with [`Registry::register_fn`] or [`Registry::register`].
pub struct Registry {
    defs: Vec<FunctionDef>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Registry {
    /// A registry with no functions at all.
    pub fn empty() -> Self {
        Registry { defs: Vec::new() }
    }

    /// A registry holding every built-in function. Each one is a function of `i`, the position in
    /// the current cycle, so `reset_interval` and restarts apply to all of them alike; only `expr`
    /// can also read `n`, the tick number that never resets.
    pub fn builtin() -> Self {
        let mut r = Registry::empty();
        let square = |i: u64| {
            let x = i as f64;
            x * x
        };
        r.register("square", "i²: 1, 4, 9, 16, …", &[], move |_| Ok(index_factory_with(square, Finite::Monotone)));
        let power = |i: u64| {
            let x = i as f64;
            x.powf(x)
        };
        r.register("power", "iⁱ: 1, 4, 27, 256, … (restarts after 143 values, past f64)", &[], move |_| {
            Ok(index_factory_with(power, Finite::Monotone))
        });
        r.register(
            "fibonacci",
            "Fibonacci numbers: 1, 1, 2, 3, 5, 8, … (restarts after 1476 values, past f64)",
            &[],
            |_| Ok(prototype_factory(Fibonacci { a: 1.0, b: 1.0 })),
        );
        r.register(
            "exponential",
            "baseⁱ: 2, 4, 8, 16, … for base 2",
            &[ParamDoc { name: "base", doc: "number > 0, default 2" }],
            |p| {
                let base = p.f64("base", 2.0)?;
                if base <= 0.0 {
                    return Err(param_error("base", "must be a finite number > 0"));
                }
                Ok(index_factory_with(move |i| base.powf(i as f64), Finite::Monotone))
            },
        );
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
            &[
                ParamDoc { name: "start", doc: "number, default 0" },
                ParamDoc { name: "step", doc: "number, default 1" },
            ],
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
                let finite =
                    if base.is_finite() && (base + height).is_finite() { Finite::Always } else { Finite::Unknown };
                Ok(index_factory_with(move |i| if i % every == 0 { base + height } else { base }, finite))
            },
        );
        r.register(
            "expr",
            "a formula of i (position in the cycle) and n (tick since start), e.g. \"i*i + 3\"",
            &[ParamDoc { name: "expr", doc: "expression text, required (see README, Expression language)" }],
            |p| {
                let src = p.string("expr")?;
                let expr = Expr::parse(src).map_err(|e| param_error("expr", &e.render(src)))?;
                Ok(prototype_factory(Formula(Arc::new(expr))))
            },
        );
        r
    }

    /// Registers a function of the position `i` alone (1, 2, 3, … within a cycle), with no params.
    /// This is the one call to add a function in Rust; a function of the same name is replaced.
    ///
    /// ```
    /// let mut registry = metrics_generator::functions::Registry::builtin();
    /// registry.register_fn("cube", "i³: 1, 8, 27, …", |i| (i as f64).powi(3));
    /// ```
    pub fn register_fn<F>(&mut self, name: &str, description: &str, f: F)
    where
        F: Fn(u64) -> f64 + Copy + Send + Sync + 'static,
    {
        self.register(name, description, &[], move |_| Ok(index_factory(f)));
    }

    /// Registers a function with params and state of its own: `build` reads the params (through the
    /// typed getters of [`Params`], whose errors name the param) and returns a [`Factory`].
    /// Keys not listed in `params` are rejected before `build` runs. A function of the same name is
    /// replaced.
    pub fn register<B>(&mut self, name: &str, description: &str, params: &[ParamDoc], build: B)
    where
        B: Fn(&Params) -> Result<Factory, String> + Send + Sync + 'static,
    {
        let def = FunctionDef {
            name: name.to_string(),
            description: description.to_string(),
            params: params.to_vec(),
            build: Box::new(build),
        };
        match self.defs.iter_mut().find(|d| d.name == name) {
            Some(existing) => *existing = def,
            None => self.defs.push(def),
        }
    }

    /// Looks a function up by name.
    pub fn get(&self, name: &str) -> Option<&FunctionDef> {
        self.defs.iter().find(|d| d.name == name)
    }

    /// Every registered function, sorted by name.
    pub fn functions(&self) -> Vec<&FunctionDef> {
        let mut defs: Vec<&FunctionDef> = self.defs.iter().collect();
        defs.sort_by(|a, b| a.name.cmp(&b.name));
        defs
    }

    /// The registered names, sorted and comma-separated, for error messages.
    pub fn names(&self) -> String {
        let names: Vec<&str> = self.functions().iter().map(|d| d.name()).collect();
        names.join(", ")
    }

    /// Builds the factory for `name` with `params`; the error names the unknown param or says what
    /// is wrong with a known one. Returns `None` when no function has that name.
    pub fn build(&self, name: &str, params: Option<&Map<String, Value>>) -> Option<Result<Factory, String>> {
        let def = self.get(name)?;
        if let Some(map) = params {
            if let Some(key) = map.keys().find(|k| !def.params.iter().any(|p| p.name == k.as_str())) {
                let known = if def.params.is_empty() {
                    format!("{name} takes no params")
                } else {
                    let names: Vec<&str> = def.params.iter().map(|p| p.name).collect();
                    format!("{name} takes: {}", names.join(", "))
                };
                return Some(Err(format!("unknown param {} ({known})", quoted(key))));
            }
        }
        Some((def.build)(&Params { map: params }))
    }

    /// The text of `--list-functions`: one line per function, then one indented line per param.
    pub fn describe(&self) -> String {
        let defs = self.functions();
        let width = defs.iter().map(|d| d.name.len()).max().unwrap_or(0);
        let mut out = String::new();
        for d in defs {
            let _ = writeln!(out, "{:width$}  {}", d.name, d.description);
            for p in &d.params {
                let _ = writeln!(out, "{:width$}    {}: {}", "", p.name, p.doc);
            }
        }
        out
    }
}

/// The seed random functions use when the config gives none, so a config always gives one series.
pub const DEFAULT_SEED: u64 = 42;

/// Formats an error about one param the way [`Registry::build`] reports them.
pub fn param_error(name: &str, problem: &str) -> String {
    format!("param {name:?}: {problem}")
}

/// Typed, validating access to an entry's `params` object.
pub struct Params<'a> {
    map: Option<&'a Map<String, Value>>,
}

impl<'a> Params<'a> {
    /// The raw value of a param, if given.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.and_then(|m| m.get(name))
    }

    /// A number param (any JSON number), or `default` when absent.
    pub fn f64(&self, name: &str, default: f64) -> Result<f64, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| param_error(name, &format!("expected a number, got {}", brief(v)))),
        }
    }

    /// A non-negative integer param, or `default` when absent.
    pub fn u64(&self, name: &str, default: u64) -> Result<u64, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => {
                v.as_u64().ok_or_else(|| param_error(name, &format!("expected an integer ≥ 0, got {}", brief(v))))
            }
        }
    }

    /// An integer param ≥ 1 (a period, a count of ticks), or `default` when absent.
    pub fn positive(&self, name: &str, default: u64) -> Result<u64, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => positive(name, v),
        }
    }

    /// A required string param.
    pub fn string(&self, name: &str) -> Result<&'a str, String> {
        match self.get(name) {
            None => Err(param_error(name, "missing (required)")),
            Some(Value::String(s)) => Ok(s),
            Some(v) => Err(param_error(name, &format!("expected a string, got {}", brief(v)))),
        }
    }

    /// A required, non-empty array of finite numbers.
    pub fn numbers(&self, name: &str) -> Result<Vec<f64>, String> {
        let items = match self.get(name) {
            None => return Err(param_error(name, "missing (required)")),
            Some(Value::Array(items)) if !items.is_empty() => items,
            Some(v) => {
                return Err(param_error(name, &format!("expected a non-empty array of numbers, got {}", brief(v))))
            }
        };
        let number = |(index, v): (usize, &Value)| {
            v.as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| param_error(name, &format!("item {index}: expected a number, got {}", brief(v))))
        };
        items.iter().enumerate().map(number).collect()
    }

    /// How long each of `count` values is held: one integer ≥ 1 for all of them, or an array of
    /// `count` such integers; `default` for all when absent.
    pub fn holds(&self, name: &str, count: usize, default: u64) -> Result<Vec<u64>, String> {
        match self.get(name) {
            None => Ok(vec![default; count]),
            Some(Value::Array(items)) if items.len() == count => items
                .iter()
                .enumerate()
                .map(|(index, v)| {
                    positive(name, v).map_err(|_| {
                        param_error(name, &format!("item {index}: expected an integer ≥ 1, got {}", brief(v)))
                    })
                })
                .collect(),
            Some(Value::Array(items)) => Err(param_error(
                name,
                &format!(
                    "has {} items but there are {count} values; give one per value, or one integer for all",
                    items.len()
                ),
            )),
            Some(v) => Ok(vec![positive(name, v)?; count]),
        }
    }

    /// The `min` and `max` params of a bounded function, checked to form a range whose width is a
    /// finite number.
    pub fn range(&self, default_min: f64, default_max: f64) -> Result<(f64, f64), String> {
        let min = self.f64("min", default_min)?;
        let max = self.f64("max", default_max)?;
        if min > max {
            return Err(param_error("max", &format!("must be ≥ min ({}), got {}", show(min), show(max))));
        }
        if !(max - min).is_finite() {
            return Err(param_error(
                "max",
                &format!("max − min must be a finite number; {} − {} is not", show(max), show(min)),
            ));
        }
        Ok((min, max))
    }
}

/// A number as a message shows it: `5`, `0.25`, and `1e308` rather than its 309 digits.
fn show(x: f64) -> String {
    let plain = x.to_string();
    if plain.len() > 20 {
        format!("{x:e}")
    } else {
        plain
    }
}

/// Checks that `v`, the value of param `name`, is an integer ≥ 1.
fn positive(name: &str, v: &Value) -> Result<u64, String> {
    v.as_u64()
        .filter(|&x| x >= 1)
        .ok_or_else(|| param_error(name, &format!("expected an integer ≥ 1, got {}", brief(v))))
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

/// Fibonacci numbers in f64: exact up to 2⁵³, then the nearest float, until they overflow.
#[derive(Clone)]
struct Fibonacci {
    a: f64,
    b: f64,
}

impl Generator for Fibonacci {
    fn next(&mut self, _: Step) -> Option<f64> {
        let v = self.a;
        (self.a, self.b) = (self.b, self.a + self.b);
        Some(v)
    }

    // No jump: a closed form would round differently from the additions. The sequence restarts
    // after 1476 values, and a fast-forward jumps over whole periods of it.
    fn reads_n(&self) -> bool {
        false
    }
}

/// SplitMix64: a tiny, well-mixed generator; enough for test noise and fully reproducible.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

/// SplitMix64's increment: its state after k draws is the seed plus k times this.
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

impl SplitMix64 {
    /// Moves past `draws` draws at once: the state is a counter.
    pub fn jump(&mut self, draws: u64) {
        self.0 = self.0.wrapping_add(GOLDEN_GAMMA.wrapping_mul(draws));
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN_GAMMA);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in [0, 1), from the top 53 bits.
    pub fn next_01(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform float in (0, 1]: never 0, so its logarithm is finite.
    pub fn next_open01(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// The generator of series `k` of a fanned-out entry whose seed gave this one: seeded with
    /// the first output of SplitMix64 started at `seed + k`, so neighbouring series are
    /// uncorrelated, and series 0 keeps the entry's own seed.
    pub fn for_series(&self, k: u64) -> SplitMix64 {
        if k == 0 {
            return self.clone();
        }
        SplitMix64(SplitMix64(self.0.wrapping_add(k)).next_u64())
    }
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

/// A user's expression, evaluated at `(i, n)`; shared, as it never changes once parsed.
#[derive(Clone)]
struct Formula(Arc<Expr>);

impl Generator for Formula {
    fn next(&mut self, step: Step) -> Option<f64> {
        Some(self.0.eval(step.i as f64, step.n as f64))
    }

    /// Proven by interval arithmetic over the whole box of positions and ticks.
    fn finite_over(&self, positions: RangeInclusive<u64>, ticks: RangeInclusive<u64>) -> bool {
        let i = (*positions.start() as f64, *positions.end() as f64);
        let n = (*ticks.start() as f64, *ticks.end() as f64);
        self.0.finite_over(i, n)
    }

    fn skip(&mut self, from: Step, count: u64) -> Option<f64> {
        self.next(Step { i: from.i + (count - 1), n: from.n + (count - 1) })
    }

    fn reads_n(&self) -> bool {
        self.0.uses_n()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The first `count` values of `name` with `params`, without restarts (`n` = `i`).
    fn first(name: &str, params: Value, count: u64) -> Vec<f64> {
        let registry = Registry::builtin();
        let factory = registry.build(name, params.as_object()).unwrap().unwrap();
        let mut g = factory();
        (1..=count).map(|i| g.next(Step { i, n: i }).unwrap()).collect()
    }

    /// Exact equality: every value in these tables is a whole number, a dyadic fraction, or the
    /// f64 that the stated formula gives.
    #[track_caller]
    fn check(name: &str, params: Value, expected: &[f64]) {
        assert_eq!(first(name, params.clone(), expected.len() as u64), expected, "{name} {params}");
    }

    #[track_caller]
    fn check_err(name: &str, params: Value, expected: &str) {
        match Registry::builtin().build(name, params.as_object()).unwrap() {
            Ok(_) => panic!("{name} accepted {params}"),
            Err(e) => assert_eq!(e, expected, "{name} {params}"),
        }
    }

    /// SplitMix64's published reference outputs for seed 1234567, as `u` in [0, 1) (top 53 bits).
    fn reference_draws() -> [f64; 5] {
        let bits: [u64; 5] =
            [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821];
        let mut rng = SplitMix64(1234567);
        assert_eq!(bits.map(|_| rng.next_u64()), bits, "SplitMix64 differs from its reference");
        bits.map(|b| (b >> 11) as f64 / 9_007_199_254_740_992.0)
    }

    #[test]
    fn core_first_values() {
        check("square", Value::Null, &[1.0, 4.0, 9.0, 16.0, 25.0]);
        check("power", Value::Null, &[1.0, 4.0, 27.0, 256.0, 3125.0]);
        check("fibonacci", Value::Null, &[1.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0]);
        check("exponential", Value::Null, &[2.0, 4.0, 8.0, 16.0]);
        check("exponential", json!({"base": 3}), &[3.0, 9.0, 27.0]);
        check("exponential", json!({"base": 0.5}), &[0.5, 0.25, 0.125]);
    }

    #[test]
    fn shape_first_values() {
        check("constant", Value::Null, &[0.0, 0.0, 0.0]);
        check("constant", json!({"value": -2.5}), &[-2.5, -2.5, -2.5]);
        check("linear", Value::Null, &[0.0, 1.0, 2.0, 3.0]);
        check("linear", json!({"start": 10, "step": -2.5}), &[10.0, 7.5, 5.0, 2.5, 0.0]);
        // Quarter turns are exact: period 4 is 0, 1, 0, −1 and again.
        check("sine", json!({"amplitude": 1, "period": 4, "offset": 0}), &[0.0, 1.0, 0.0, -1.0, 0.0, 1.0]);
        check("sine", json!({"amplitude": 3, "period": 2, "offset": 1}), &[1.0, 1.0, 1.0]);
        check("sine", json!({"period": 1}), &[50.0, 50.0]);
        // Default: 50 + 50·sin(2π(i−1)/60); i = 2 and 3 are 50 + 50·sin(6°) and 50 + 50·sin(12°).
        let sine = first("sine", Value::Null, 61);
        assert_eq!(&sine[..3], [50.0, 55.22642316338268, 60.39558454088797]);
        assert_eq!([sine[15], sine[30], sine[45], sine[60]], [100.0, 50.0, 0.0, 50.0]);
        // Mirrored ticks show the same value exactly.
        for k in 1..15 {
            assert_eq!(sine[15 - k], sine[15 + k], "sine is symmetric around its peak");
        }
        let unit = first("sine", json!({"amplitude": 1, "offset": 0}), 60);
        for k in 0..30 {
            assert_eq!(unit[30 + k], -unit[k], "the second half wave is the first one negated");
        }
        check("sawtooth", Value::Null, &[0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0, 0.0, 10.0]);
        check("sawtooth", json!({"min": -1, "max": 1, "period": 3}), &[-1.0, 0.0, 1.0, -1.0, 0.0]);
        check("sawtooth", json!({"min": 0.1, "max": 0.3, "period": 2}), &[0.1, 0.3, 0.1]);
        check("sawtooth", json!({"min": 5, "max": 5}), &[5.0, 5.0, 5.0]);
        let mut tens = vec![1.0; 10];
        tens.extend([5.0; 10]);
        tens.push(1.0);
        check("step", json!({"values": [1, 5]}), &tens);
        check("step", json!({"values": [1, 5], "hold": 2}), &[1.0, 1.0, 5.0, 5.0, 1.0, 1.0]);
        check("step", json!({"values": [1, 5, 7], "hold": [1, 3, 2]}), &[1.0, 5.0, 5.0, 5.0, 7.0, 7.0, 1.0, 5.0]);
        check("sequence", json!({"values": [3, 1.5, -2]}), &[3.0, 1.5, -2.0, 3.0, 1.5, -2.0, 3.0]);
        check("sequence", json!({"values": [4]}), &[4.0, 4.0]);
        let mut spikes = vec![0.0; 9];
        spikes.push(100.0);
        spikes.extend([0.0; 9]);
        spikes.push(100.0);
        check("spike", Value::Null, &spikes);
        check("spike", json!({"base": 5, "height": -5, "every": 3}), &[5.0, 5.0, 0.0, 5.0, 5.0, 0.0]);
        check("spike", json!({"every": 1, "base": 1}), &[101.0, 101.0]);
    }

    #[test]
    fn seeded_first_values() {
        let u = reference_draws();
        // uniform: min + (max − min)·u.
        check("uniform", json!({"seed": 1234567, "min": 10, "max": 20}), &u.map(|u| 10.0 + 10.0 * u));
        check("uniform", json!({"seed": 1234567, "min": 10, "max": 20}), &[13.500795420214082, 11.736440966709127]);
        check("uniform", json!({"min": 7, "max": 7}), &[7.0, 7.0]);
        // random_walk from 0 in [0, 0.5], step 1: each move is 2u − 1, reflected at the bounds:
        // 0 → −0.300 ↦ 0.300 → −0.353 ↦ 0.353 → 0.417 → −0.085 ↦ 0.085 → 0.864 ↦ 1 − 0.864 = 0.136
        let walk = [
            0.0,
            0.29984091595718376,
            0.352870890700991,
            0.41728549882582944,
            0.08469918640958785,
            0.13624183235324616,
        ];
        check("random_walk", json!({"seed": 1234567, "start": 0, "step": 1, "min": 0, "max": 0.5}), &walk);
        check("random_walk", json!({"step": 0}), &[50.0, 50.0, 50.0]);
        let wide = first("random_walk", json!({"step": 1000, "min": -1, "max": 1, "start": 0}), 500);
        assert!(wide.iter().all(|v| (-1.0..=1.0).contains(v)), "a step wider than the range stays in it");
        let default = first("random_walk", Value::Null, 1000);
        assert_eq!(default[0], 50.0);
        assert!(default.windows(2).all(|w| (w[1] - w[0]).abs() <= 1.0 && (0.0..=100.0).contains(&w[1])));
    }

    #[test]
    fn seeded_functions_replay_after_a_restart() {
        let registry = Registry::builtin();
        for name in ["normal", "uniform", "random_walk"] {
            let factory = registry.build(name, None).unwrap().unwrap();
            let run = || {
                let mut g = factory();
                (1..=50).map(|i| g.next(Step { i, n: i }).unwrap()).collect::<Vec<_>>()
            };
            let once = run();
            assert_eq!(once, run(), "{name}: a fresh generator replays the same values");
            assert_ne!(once, first(name, json!({"seed": 7}), 50), "{name}: the seed matters");
        }
    }

    #[test]
    fn expr_evaluates_i_and_n() {
        check("expr", json!({"expr": "i*i + 3"}), &[4.0, 7.0, 12.0]);
        let factory = Registry::builtin().build("expr", json!({"expr": "100*n + i"}).as_object()).unwrap().unwrap();
        let mut g = factory();
        assert_eq!(g.next(Step { i: 1, n: 1 }), Some(101.0));
        assert_eq!(g.next(Step { i: 2, n: 2 }), Some(202.0));
        assert_eq!(factory().next(Step { i: 1, n: 3 }), Some(301.0), "after a restart i is 1 and n goes on");
    }

    #[test]
    fn power_is_finite_for_143_values_then_overflows() {
        let values = first("power", Value::Null, 144);
        assert!(values[..143].iter().all(|v| v.is_finite()));
        assert!(values[143].is_infinite());
    }

    #[test]
    fn normal_is_seeded_and_clamped() {
        let a = first("normal", Value::Null, 1000);
        assert_eq!(a, first("normal", Value::Null, 1000));
        assert_ne!(a, first("normal", json!({"seed": 7}), 1000));
        let mean = a.iter().sum::<f64>() / a.len() as f64;
        assert!((mean - 50.0).abs() < 2.0, "mean {mean}");
        let clamped = first("normal", json!({"mean": 0, "sd": 10}), 100);
        assert!(clamped.iter().all(|v| *v >= 0.0));
    }

    #[test]
    fn uniform_stays_in_its_range_and_spreads_over_it() {
        let values = first("uniform", Value::Null, 10_000);
        assert!(values.iter().all(|v| (0.0..100.0).contains(v)));
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        assert!((mean - 50.0).abs() < 2.0, "mean {mean}");
        assert!(values.iter().any(|v| *v < 1.0) && values.iter().any(|v| *v > 99.0));
    }

    #[test]
    fn param_errors_name_the_param() {
        let r = Registry::builtin();
        let cases: &[(&str, Value, &str)] = &[
            ("square", json!({"x": 1}), "unknown param \"x\" (square takes no params)"),
            ("sine", json!({"phase": 1}), "unknown param \"phase\" (sine takes: amplitude, period, offset)"),
            ("normal", json!({"seed": "a"}), "param \"seed\": expected an integer ≥ 0, got \"a\""),
            ("normal", json!({"seed": -1}), "param \"seed\": expected an integer ≥ 0, got -1"),
            ("normal", json!({"sd": -1}), "param \"sd\": must be a finite number ≥ 0"),
            ("normal", json!({"mean": "50"}), "param \"mean\": expected a number, got \"50\""),
            ("exponential", json!({"base": 0}), "param \"base\": must be a finite number > 0"),
            ("constant", json!({"value": null}), "param \"value\": expected a number, got null"),
            ("linear", json!({"step": [1]}), "param \"step\": expected a number, got [1]"),
            ("sine", json!({"period": 0}), "param \"period\": expected an integer ≥ 1, got 0"),
            ("sine", json!({"period": 2.5}), "param \"period\": expected an integer ≥ 1, got 2.5"),
            ("sine", json!({"amplitude": true}), "param \"amplitude\": expected a number, got true"),
            (
                "sawtooth",
                json!({"period": 1}),
                "param \"period\": must be an integer ≥ 2 (a ramp needs a first and a last tick)",
            ),
            ("sawtooth", json!({"min": 5, "max": 1}), "param \"max\": must be ≥ min (5), got 1"),
            (
                "sawtooth",
                json!({"min": -1e308, "max": 1e308}),
                "param \"max\": max − min must be a finite number; 1e308 − -1e308 is not",
            ),
            ("step", Value::Null, "param \"values\": missing (required)"),
            ("step", json!({"values": []}), "param \"values\": expected a non-empty array of numbers, got []"),
            ("step", json!({"values": 3}), "param \"values\": expected a non-empty array of numbers, got 3"),
            ("step", json!({"values": [1, "2"]}), "param \"values\": item 1: expected a number, got \"2\""),
            ("step", json!({"values": [1], "hold": 0}), "param \"hold\": expected an integer ≥ 1, got 0"),
            (
                "step",
                json!({"values": [1, 2], "hold": [1, 0]}),
                "param \"hold\": item 1: expected an integer ≥ 1, got 0",
            ),
            (
                "step",
                json!({"values": [1, 2], "hold": [1]}),
                "param \"hold\": has 1 items but there are 2 values; give one per value, or one integer for all",
            ),
            (
                "step",
                json!({"values": [1, 2], "hold": [u64::MAX, 1]}),
                "param \"hold\": the holds add up to more than 2⁶⁴ − 1 ticks",
            ),
            ("sequence", json!({"values": []}), "param \"values\": expected a non-empty array of numbers, got []"),
            ("sequence", json!({"values": [null]}), "param \"values\": item 0: expected a number, got null"),
            ("uniform", json!({"min": 1, "max": 0}), "param \"max\": must be ≥ min (1), got 0"),
            ("uniform", json!({"seed": 1.5}), "param \"seed\": expected an integer ≥ 0, got 1.5"),
            ("random_walk", json!({"start": 150}), "param \"start\": must be between min (0) and max (100), got 150"),
            ("random_walk", json!({"step": -1}), "param \"step\": must be a number ≥ 0, got -1"),
            ("random_walk", json!({"min": 10, "max": 0}), "param \"max\": must be ≥ min (10), got 0"),
            ("spike", json!({"every": 0}), "param \"every\": expected an integer ≥ 1, got 0"),
            ("spike", json!({"height": "x"}), "param \"height\": expected a number, got \"x\""),
            ("expr", Value::Null, "param \"expr\": missing (required)"),
            ("expr", json!({"expr": 5}), "param \"expr\": expected a string, got 5"),
            ("expr", json!({"expr": "i*i)"}), "param \"expr\": unexpected ')' at column 4\n  i*i)\n     ^"),
            (
                "expr",
                json!({"expr": "i + x"}),
                "param \"expr\": unknown variable 'x' (valid: i, n, pi, e) at column 5\n  i + x\n      ^",
            ),
        ];
        for (name, params, expected) in cases {
            check_err(name, params.clone(), expected);
        }
        assert!(r.build("nope", None).is_none());
    }

    #[test]
    fn every_param_is_documented_with_its_default() {
        for def in Registry::builtin().functions() {
            for p in def.params() {
                assert!(
                    p.doc.contains("default") || p.doc.contains("required"),
                    "{}.{}: {}",
                    def.name(),
                    p.name,
                    p.doc
                );
            }
        }
        let text = Registry::builtin().describe();
        assert!(text.contains("    period: ticks per wave, integer ≥ 1, default 60\n"), "{text}");
    }

    #[test]
    fn quarter_turns_are_exact() {
        assert_eq!([0, 1, 2, 3].map(|k| sin_of_fraction(k, 4)), [0.0, 1.0, 0.0, -1.0]);
        assert_eq!([0, 3, 6, 9].map(|k| sin_of_fraction(k, 12)), [0.0, 1.0, 0.0, -1.0]);
        assert_eq!(sin_of_fraction(1, 12), sin_of_fraction(5, 12));
        assert_eq!(sin_of_fraction(7, 12), -sin_of_fraction(1, 12));
        assert_eq!(sin_of_fraction(u64::MAX - 1, u64::MAX), -sin_of_fraction(1, u64::MAX));
    }

    #[test]
    fn register_fn_adds_and_replaces() {
        let mut r = Registry::builtin();
        let builtins = r.functions().len();
        r.register_fn("cube", "i³", |i| (i as f64).powi(3));
        r.register_fn("square", "replaced", |i| i as f64);
        assert!(r.names().contains("cube"));
        assert_eq!(r.get("square").unwrap().description(), "replaced");
        assert_eq!(r.functions().len(), builtins + 1);
        assert_eq!(
            r.names(),
            "constant, cube, exponential, expr, fibonacci, linear, normal, power, random_walk, sawtooth, sequence, \
             sine, spike, square, step, uniform"
        );
    }
}
