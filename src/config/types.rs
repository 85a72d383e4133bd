//! The fields of the metric types beyond gauges and counters: histograms' and summaries'
//! observations (how many per tick, how they spread, into which buckets or quantiles), a
//! stateset's states, and exemplars. Each is read and checked here, at load.

use super::entry::Kind;
use super::json::type_name;
use super::native::{NativeCounts, NativeSchema, DEFAULT_ZERO_THRESHOLD};
use crate::distribution::Distribution;
use crate::expr::Expr;
use crate::text::quoted;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::sync::Arc;

/// The most observations a tick may have: an integer above it is a config error, and an
/// `observations` formula's value is capped at it.
pub const MAX_OBSERVATIONS: u64 = 10_000_000;

/// Prometheus's default histogram buckets.
pub const DEFAULT_BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// A summary's default quantiles.
pub const DEFAULT_QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];

/// The observations per tick when the config gives none.
const DEFAULT_OBSERVATIONS: u64 = 100;

/// How many observations a tick has.
#[derive(Debug, Clone)]
pub enum ObservationCount {
    /// The same number every tick.
    Fixed(u64),
    /// A formula of `i` (the position in the cycle) and `n` (the tick), floored; below 0 counts
    /// as 0, above [`MAX_OBSERVATIONS`] as that.
    Formula(Arc<Expr>),
}

/// What a histogram or summary observes at each tick: `count` observations that follow
/// `distribution` around the tick's location (its function's value), sorted into `points`.
#[derive(Debug, Clone)]
pub struct Observe {
    /// A histogram (buckets) rather than a summary (quantiles).
    pub histogram: bool,
    pub count: ObservationCount,
    pub distribution: Distribution,
    /// A histogram's bucket upper bounds (finite, strictly increasing; `+Inf` is implicit), or a
    /// summary's quantiles (strictly increasing, in [0, 1]).
    pub points: Vec<f64>,
    /// A histogram's native buckets, besides its classic ones, when the config asks for them.
    pub native: Option<NativeSchema>,
}

impl Observe {
    /// The observations of the tick at position `i` of its cycle and tick number `n`.
    pub fn count_at(&self, i: u64, n: u64) -> u64 {
        match &self.count {
            ObservationCount::Fixed(count) => *count,
            ObservationCount::Formula(expr) => {
                let v = expr.eval(i as f64, n as f64).floor();
                if v >= MAX_OBSERVATIONS as f64 {
                    MAX_OBSERVATIONS
                } else if v > 0.0 {
                    v as u64
                } else {
                    // Below zero, and NaN: no observations.
                    0
                }
            }
        }
    }

    /// How many values one series keeps between ticks: a histogram's cumulative bucket counts,
    /// then its count and sum; a summary's quantiles (of the current tick), then its count and
    /// sum.
    pub fn width(&self) -> usize {
        self.points.len() + 2
    }

    /// Adds one tick's observations to `acc`, the [`Observe::width`] values of one series: tick
    /// `n`, at position `i` of its cycle, around location `loc`. When the series' cycle begins
    /// at this tick (`restart`), counts and sums start again from this tick's observations, as a
    /// counter that resets.
    pub fn accumulate(&self, acc: &mut [f64], loc: f64, i: u64, n: u64, restart: bool) {
        let count = self.count_at(i, n);
        let points = self.points.len();
        if restart {
            acc.fill(0.0);
        }
        for (slot, &point) in acc.iter_mut().zip(&self.points) {
            if self.histogram {
                *slot += self.distribution.count_at_most(loc, count, point) as f64;
            } else {
                *slot = self.distribution.rank_quantile(loc, count, point);
            }
        }
        acc[points] += count as f64;
        acc[points + 1] += self.distribution.sum(loc, count);
    }

    /// Adds one tick's observations to a series' native buckets, as [`Observe::accumulate`] adds
    /// them to its classic ones.
    pub fn accumulate_native(&self, native: &mut NativeCounts, loc: f64, i: u64, n: u64, restart: bool) {
        if restart {
            *native = NativeCounts::default();
        }
        native.add(&self.native_of_tick(loc, i, n));
    }

    /// The native buckets of one tick's observations (none for a histogram without them).
    pub fn native_of_tick(&self, loc: f64, i: u64, n: u64) -> NativeCounts {
        match &self.native {
            Some(schema) => NativeCounts::of_tick(schema, &self.distribution, loc, self.count_at(i, n)),
            None => NativeCounts::default(),
        }
    }

    /// Where the value of sample line `line` of a series is in its accumulation: histograms serve
    /// their buckets, `+Inf` (the count), `_sum` and `_count`; summaries their quantiles, `_sum`
    /// and `_count`.
    pub fn line_offset(&self, line: usize) -> usize {
        let points = self.points.len();
        match (self.histogram, line.checked_sub(points)) {
            (_, None) => line,
            (true, Some(0)) => points,
            (true, Some(1)) | (false, Some(0)) => points + 1,
            _ => points,
        }
    }

    /// How many sample lines a series serves.
    pub fn line_count(&self) -> usize {
        self.points.len() + if self.histogram { 3 } else { 2 }
    }
}

/// The state a stateset's function value `v` picks among `count` states: `v` floored, modulo
/// the count (mathematical modulo, so negative values count from the end).
pub fn state_index(v: f64, count: usize) -> usize {
    let count = count.max(1) as f64;
    let index = v.floor().rem_euclid(count);
    if index.is_finite() {
        // `rem_euclid` of a finite value lies in [0, count).
        index as usize
    } else {
        0
    }
}

/// The fields only some types take, read from an entry's JSON object.
pub(super) struct TypeFields {
    pub observe: Option<Observe>,
    pub states: Vec<String>,
    pub exemplars: bool,
}

/// Reads `observations`, `distribution`, `buckets`, `quantiles`, `states` and `exemplars`,
/// each only where `kind` takes it. Errors are `field "…": …`.
pub(super) fn parse_type_fields(kind: Kind, map: &Map<String, Value>) -> Result<TypeFields, String> {
    let field = |name: &str, problem: String| format!("field {name:?}: {problem}");
    let optional = |name: &str| map.get(name).filter(|v| !v.is_null());
    let only_for = |name: &str, kinds: &str| -> Result<(), String> {
        match optional(name) {
            Some(_) => Err(field(name, format!("is for {kinds}, and this entry is a {}", kind.as_str()))),
            None => Ok(()),
        }
    };
    let observed = matches!(kind, Kind::Histogram | Kind::Summary);
    if !observed {
        only_for("observations", "histograms and summaries")?;
        only_for("distribution", "histograms and summaries")?;
    }
    if kind != Kind::Histogram {
        only_for("buckets", "histograms")?;
        only_for("native", "histograms")?;
    }
    if kind != Kind::Summary {
        only_for("quantiles", "summaries")?;
    }
    if kind != Kind::Stateset {
        only_for("states", "statesets")?;
    }
    if !matches!(kind, Kind::Counter | Kind::Histogram) {
        only_for("exemplars", "counters and histograms")?;
    }

    let observe = if observed {
        let count = match optional("observations") {
            None => ObservationCount::Fixed(DEFAULT_OBSERVATIONS),
            Some(v) => parse_count(v).map_err(|p| field("observations", p))?,
        };
        let distribution = match optional("distribution") {
            None => Distribution::Exponential,
            Some(v) => parse_distribution(v).map_err(|p| field("distribution", p))?,
        };
        let points = if kind == Kind::Histogram {
            match optional("buckets") {
                None => DEFAULT_BUCKETS.to_vec(),
                Some(v) => parse_points(v, false).map_err(|p| field("buckets", p))?,
            }
        } else {
            match optional("quantiles") {
                None => DEFAULT_QUANTILES.to_vec(),
                Some(v) => parse_points(v, true).map_err(|p| field("quantiles", p))?,
            }
        };
        let native = match optional("native") {
            None => None,
            Some(v) => Some(parse_native(v).map_err(|p| field("native", p))?),
        };
        Some(Observe { histogram: kind == Kind::Histogram, count, distribution, points, native })
    } else {
        None
    };

    let states = match (kind, optional("states")) {
        (Kind::Stateset, None) => return Err(field("states", "missing (required for a stateset)".into())),
        (Kind::Stateset, Some(v)) => parse_states(v).map_err(|p| field("states", p))?,
        _ => Vec::new(),
    };

    let exemplars = match optional("exemplars") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(v) => return Err(field("exemplars", format!("expected true or false, got {}", type_name(v)))),
    };
    Ok(TypeFields { observe, states, exemplars })
}

/// `{"schema": S, "zero_threshold": Z}`: −4 ≤ S ≤ 8, Z ≥ 0 (default 2⁻¹²⁸).
fn parse_native(v: &Value) -> Result<NativeSchema, String> {
    let Value::Object(map) = v else {
        return Err(format!("expected an object such as {{\"schema\": 3}}, got {}", type_name(v)));
    };
    if let Some(key) = map.keys().find(|k| !["schema", "zero_threshold"].contains(&k.as_str())) {
        return Err(format!("unknown key {} (native takes \"schema\" and \"zero_threshold\")", quoted(key)));
    }
    let schema = match map.get("schema") {
        None => return Err("\"schema\" is missing (an integer from -4 to 8)".into()),
        Some(s) => match s.as_i64() {
            Some(schema) if (-4..=8).contains(&schema) => schema as i32,
            _ => return Err(format!("\"schema\": expected an integer from -4 to 8, got {}", type_name(s))),
        },
    };
    let zero_threshold = match map.get("zero_threshold") {
        None => DEFAULT_ZERO_THRESHOLD,
        Some(z) => match z.as_f64() {
            Some(z) if z >= 0.0 => z,
            _ => return Err(format!("\"zero_threshold\": expected a number ≥ 0, got {}", type_name(z))),
        },
    };
    Ok(NativeSchema { schema, zero_threshold })
}

fn parse_count(v: &Value) -> Result<ObservationCount, String> {
    match v {
        Value::Number(_) => match v.as_u64() {
            Some(count) if count <= MAX_OBSERVATIONS => Ok(ObservationCount::Fixed(count)),
            Some(count) => Err(format!("{count} is more than the {MAX_OBSERVATIONS} observations a tick may have")),
            None => Err(format!("expected an integer ≥ 0 or an expression of i and n, got {}", type_name(v))),
        },
        Value::String(src) => {
            Expr::parse(src).map(|e| ObservationCount::Formula(Arc::new(e))).map_err(|e| e.render(src))
        }
        _ => Err(format!("expected an integer ≥ 0 or an expression of i and n, got {}", type_name(v))),
    }
}

/// The distributions and the parameter each requires.
const DISTRIBUTIONS: &[(&str, Option<&str>)] = &[
    ("constant", None),
    ("exponential", None),
    ("normal", Some("sd")),
    ("uniform", Some("width")),
    ("lognormal", Some("sigma")),
];

fn parse_distribution(v: &Value) -> Result<Distribution, String> {
    let Value::Object(map) = v else {
        return Err(format!("expected an object such as {{\"type\": \"normal\", \"sd\": 0.1}}, got {}", type_name(v)));
    };
    let names: Vec<&str> = DISTRIBUTIONS.iter().map(|(name, _)| *name).collect();
    let kind = match map.get("type") {
        None => return Err(format!("\"type\" is missing ({})", names.join(", "))),
        Some(Value::String(s)) => s.as_str(),
        Some(v) => return Err(format!("\"type\": expected a string, got {}", type_name(v))),
    };
    let Some(&(kind, param)) = DISTRIBUTIONS.iter().find(|(name, _)| *name == kind) else {
        return Err(format!("{} is not a distribution ({})", quoted(kind), names.join(", ")));
    };
    if let Some(key) = map.keys().find(|k| k.as_str() != "type" && Some(k.as_str()) != param) {
        let takes = param.map_or_else(|| format!("{kind} takes no parameters"), |p| format!("{kind} takes {p:?}"));
        return Err(format!("unknown key {} ({takes})", quoted(key)));
    }
    let value = match param {
        None => 0.0,
        Some(p) => match map.get(p) {
            None => return Err(format!("{p:?} is missing (required for {kind})")),
            Some(v) => match v.as_f64() {
                Some(x) if x >= 0.0 && x.is_finite() => x,
                _ => return Err(format!("{p:?}: expected a number ≥ 0, got {}", type_name(v))),
            },
        },
    };
    Ok(match kind {
        "constant" => Distribution::Constant,
        "exponential" => Distribution::Exponential,
        "normal" => Distribution::Normal { sd: value },
        "uniform" => Distribution::Uniform { width: value },
        _ => Distribution::Lognormal { sigma: value },
    })
}

/// Bucket bounds (`quantiles` false) or quantiles (`quantiles` true): a non-empty array of
/// strictly increasing numbers, finite, and for quantiles within [0, 1].
fn parse_points(v: &Value, quantiles: bool) -> Result<Vec<f64>, String> {
    let what = if quantiles { "quantiles between 0 and 1" } else { "finite upper bounds" };
    let Value::Array(items) = v else {
        return Err(format!("expected a non-empty array of {what}, got {}", type_name(v)));
    };
    if items.is_empty() {
        return Err(format!("expected a non-empty array of {what}, got an empty one"));
    }
    let mut points = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let Some(x) = item.as_f64() else {
            return Err(format!("item {index}: expected a number, got {}", type_name(item)));
        };
        if quantiles && !(0.0..=1.0).contains(&x) {
            return Err(format!("item {index}: {x} is not a quantile (0 to 1)"));
        }
        if let Some(&last) = points.last() {
            if x <= last {
                return Err(format!(
                    "item {index}: {x} does not increase on {last}; the list must be strictly increasing"
                ));
            }
        }
        points.push(x);
    }
    Ok(points)
}

fn parse_states(v: &Value) -> Result<Vec<String>, String> {
    let Value::Array(items) = v else {
        return Err(format!("expected a non-empty array of distinct strings, got {}", type_name(v)));
    };
    if items.is_empty() {
        return Err("a stateset needs at least one state".into());
    }
    let mut states = Vec::with_capacity(items.len());
    let mut seen = HashSet::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let Value::String(s) = item else {
            return Err(format!("item {index}: expected a string, got {}", type_name(item)));
        };
        if !seen.insert(s.as_str()) {
            return Err(format!("the state {} is listed twice", quoted(s)));
        }
        states.push(s.clone());
    }
    Ok(states)
}
