//! The function registry and the built-in sequence functions.
//!
//! A *function* turns a config entry's `params` into a [`Factory`]; the factory makes fresh
//! [`Generator`]s, one per series and one more each time that series restarts. Everything here is
//! pure computation: no I/O, no locks, no clocks. Restarts, `reset_interval` and overflow handling
//! live in `sequence.rs`, so a function only has to produce values.

use serde_json::{Map, Value};
use std::fmt::Write as _;
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
}

/// Makes a fresh generator in its initial state; shared by every series of one config entry.
pub type Factory = Arc<dyn Fn() -> Box<dyn Generator> + Send + Sync>;

/// A function of the position alone, `i ↦ f(i)`: the simplest kind of generator.
struct FromIndex<F>(F);

impl<F: Fn(u64) -> f64 + Send> Generator for FromIndex<F> {
    fn next(&mut self, step: Step) -> Option<f64> {
        Some((self.0)(step.i))
    }
}

/// Turns a pure function of `i` into a factory.
pub fn index_factory<F>(f: F) -> Factory
where
    F: Fn(u64) -> f64 + Copy + Send + Sync + 'static,
{
    Arc::new(move || Box::new(FromIndex(f)) as Box<dyn Generator>)
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

    /// A registry holding every built-in function.
    pub fn builtin() -> Self {
        let mut r = Registry::empty();
        r.register_fn("square", "i²: 1, 4, 9, 16, …", |i| {
            let x = i as f64;
            x * x
        });
        r.register_fn("power", "iⁱ: 1, 4, 27, 256, … (restarts after 143 values, past f64)", |i| {
            let x = i as f64;
            x.powf(x)
        });
        r.register(
            "fibonacci",
            "Fibonacci numbers: 1, 1, 2, 3, 5, 8, … (restarts after 1476 values, past f64)",
            &[],
            |_| Ok(Arc::new(|| Box::new(Fibonacci { a: 1.0, b: 1.0 }) as Box<dyn Generator>)),
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
                Ok(index_factory(move |i| base.powf(i as f64)))
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
                Ok(Arc::new(move || Box::new(Normal { rng: SplitMix64(seed), mean, sd }) as Box<dyn Generator>))
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
                return Some(Err(format!("unknown param {key:?} ({known})")));
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
                .ok_or_else(|| param_error(name, &format!("expected a number, got {v}"))),
        }
    }

    /// A non-negative integer param, or `default` when absent.
    pub fn u64(&self, name: &str, default: u64) -> Result<u64, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.as_u64().ok_or_else(|| param_error(name, &format!("expected an integer ≥ 0, got {v}"))),
        }
    }
}

/// Fibonacci numbers in f64: exact up to 2⁵³, then the nearest float, until they overflow.
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
}

/// SplitMix64: a tiny, well-mixed generator; enough for test noise and fully reproducible.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in (0, 1]: never 0, so its logarithm is finite.
    pub fn next_open01(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
}

/// Normal noise by the Box–Muller transform, one draw per value, clamped at 0.
struct Normal {
    rng: SplitMix64,
    mean: f64,
    sd: f64,
}

impl Generator for Normal {
    fn next(&mut self, _: Step) -> Option<f64> {
        let (u1, u2) = (self.rng.next_open01(), self.rng.next_open01());
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        Some((self.mean + self.sd * z).max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first `count` values of `name` with `params`, without restarts.
    fn first(name: &str, params: Value, count: u64) -> Vec<f64> {
        let registry = Registry::builtin();
        let factory = registry.build(name, params.as_object()).unwrap().unwrap();
        let mut g = factory();
        (1..=count).map(|i| g.next(Step { i, n: i }).unwrap()).collect()
    }

    #[track_caller]
    fn check(name: &str, params: Value, expected: &[f64]) {
        assert_eq!(first(name, params, expected.len() as u64), expected, "{name}");
    }

    #[test]
    fn builtin_first_values() {
        check("square", Value::Null, &[1.0, 4.0, 9.0, 16.0, 25.0]);
        check("power", Value::Null, &[1.0, 4.0, 27.0, 256.0, 3125.0]);
        check("fibonacci", Value::Null, &[1.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0]);
        check("exponential", Value::Null, &[2.0, 4.0, 8.0, 16.0]);
        check("exponential", serde_json::json!({"base": 3}), &[3.0, 9.0, 27.0]);
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
        assert_ne!(a, first("normal", serde_json::json!({"seed": 7}), 1000));
        let mean = a.iter().sum::<f64>() / a.len() as f64;
        assert!((mean - 50.0).abs() < 2.0, "mean {mean}");
        let clamped = first("normal", serde_json::json!({"mean": 0, "sd": 10}), 100);
        assert!(clamped.iter().all(|v| *v >= 0.0));
    }

    #[test]
    fn param_errors_name_the_param() {
        let r = Registry::builtin();
        let err = |name: &str, p: Value| r.build(name, p.as_object()).unwrap().err().unwrap();
        assert_eq!(err("square", serde_json::json!({"x": 1})), "unknown param \"x\" (square takes no params)");
        assert_eq!(
            err("normal", serde_json::json!({"seed": "a"})),
            "param \"seed\": expected an integer ≥ 0, got \"a\""
        );
        assert_eq!(err("normal", serde_json::json!({"sd": -1})), "param \"sd\": must be a finite number ≥ 0");
        assert_eq!(err("exponential", serde_json::json!({"base": 0})), "param \"base\": must be a finite number > 0");
        assert!(r.build("nope", None).is_none());
    }

    #[test]
    fn register_fn_adds_and_replaces() {
        let mut r = Registry::builtin();
        r.register_fn("cube", "i³", |i| (i as f64).powi(3));
        r.register_fn("square", "replaced", |i| i as f64);
        assert!(r.names().contains("cube"));
        assert_eq!(r.get("square").unwrap().description(), "replaced");
        assert_eq!(r.functions().len(), 6);
    }
}
