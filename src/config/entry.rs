//! One config entry: its metric type, its labels and fan-out, and reading and checking its fields.

use super::json::type_name;
use super::lifecycle::{parse_lifecycle, Active, Churn, Jitter};
use super::types::{parse_type_fields, Observe};
use crate::functions::{index_factory_with, Factory, Finite, Lanes, Registry, Step};
use crate::names::{counter_sample_name, is_label_name, is_metric_name, SELF_PREFIX};
use crate::text::quoted;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashSet;
use std::num::NonZeroU64;
use std::sync::Arc;

/// A metric type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
    /// Observations sorted into cumulative buckets, with their count and sum.
    Histogram,
    /// Observations' quantiles (of the current tick), with their count and sum.
    Summary,
    /// Labels that carry information; the value is always 1.
    Info,
    /// One of a list of states, current at each tick.
    Stateset,
}

impl Kind {
    /// Every type, as the config names them.
    pub const ALL: [Kind; 6] = [Kind::Gauge, Kind::Counter, Kind::Histogram, Kind::Summary, Kind::Info, Kind::Stateset];

    /// The word the config uses, which is also the OpenMetrics `# TYPE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
            Kind::Summary => "summary",
            Kind::Info => "info",
            Kind::Stateset => "stateset",
        }
    }

    /// The `# TYPE` in the text format 0.0.4, which has no info or stateset: they are gauges.
    pub fn text_type(self) -> &'static str {
        match self {
            Kind::Info | Kind::Stateset => "gauge",
            other => other.as_str(),
        }
    }
}

/// The value(s) of one label of an entry: one value, or several that fan the entry out into one
/// series per value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelValues {
    /// A plain label: `"queue": "default"`.
    One(String),
    /// A list of distinct values: `"region": ["eu", "us"]`.
    List(Vec<String>),
    /// The `series` label of `"series": N`: the values `0` to `N-1`.
    Count(u64),
}

impl LabelValues {
    /// How many values.
    pub fn len(&self) -> u64 {
        match self {
            LabelValues::One(_) => 1,
            LabelValues::List(values) => values.len() as u64,
            LabelValues::Count(n) => *n,
        }
    }

    /// Never true: every label has at least one value.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Value number `d` (0-based, `d < len()`).
    pub fn get(&self, d: u64) -> Cow<'_, str> {
        match self {
            LabelValues::One(v) => Cow::Borrowed(v),
            LabelValues::List(values) => Cow::Borrowed(&values[d as usize]),
            LabelValues::Count(_) => Cow::Owned(d.to_string()),
        }
    }

    /// Whether some value is in both.
    pub(super) fn overlaps(&self, other: &LabelValues) -> bool {
        use LabelValues::{Count, List, One};
        let in_count = |v: &str, n: u64| v.parse::<u64>().is_ok_and(|x| x < n && x.to_string() == v);
        match (self, other) {
            (Count(_), Count(_)) => true,
            (Count(n), One(v)) | (One(v), Count(n)) => in_count(v, *n),
            (Count(n), List(vs)) | (List(vs), Count(n)) => vs.iter().any(|v| in_count(v, *n)),
            (One(a), One(b)) => a == b,
            (One(v), List(vs)) | (List(vs), One(v)) => vs.contains(v),
            (List(a), List(b)) => {
                let set: HashSet<&String> = a.iter().collect();
                b.iter().any(|v| set.contains(v))
            }
        }
    }
}

/// One validated config entry: one series, or several when a label has several values or
/// `series` is given.
pub struct Entry {
    /// The `name` field as written.
    pub name: String,
    /// The metric name with the namespace prefix: the family name.
    pub full_name: String,
    pub kind: Kind,
    /// The `custom_function` field.
    pub function: String,
    pub reset_interval: Option<NonZeroU64>,
    /// Labels, sorted by name; a `series` field is the label `series` with [`LabelValues::Count`].
    pub labels: Vec<(String, LabelValues)>,
    /// How many series the entry expands to: the product of its labels' value counts.
    pub series: u64,
    /// Whether its series have values of their own (seeded functions give each series its own
    /// seed, see `Generator::for_series`), rather than all sharing the entry's values.
    pub per_series: bool,
    /// For series with values of their own, a way to compute them all from one sequence's
    /// position instead of a sequence each ([`crate::functions::Generator::lanes`]); then they
    /// all restart together and share one cycle.
    pub lanes: Option<Arc<dyn Lanes>>,
    /// Histograms and summaries: what they observe at each tick.
    pub observe: Option<Observe>,
    /// A stateset's states, in order: the function's value picks one.
    pub states: Vec<String>,
    /// Whether OpenMetrics samples carry exemplars (counters and histograms).
    pub exemplars: bool,
    /// The ticks at which the entry's series are served (all when `None`).
    pub active: Option<Active>,
    /// Series replaced by a new generation every N ticks.
    pub churn: Option<Churn>,
    /// Seeded noise added to the value (gauges) or the location (histograms, summaries).
    pub jitter: Option<Jitter>,
    /// The series this process serves: all, or those of its shard.
    pub served: Served,
    /// The HELP text as written, unescaped; see [`Entry::help`] for the one served.
    pub help: Option<String>,
    /// Makes the generators of this series.
    pub factory: Factory,
    /// Everything that decides this series' values and identity (type, name, labels, function,
    /// params, reset_interval), as one comparable string: a reload keeps a series' place in its
    /// sequence when this did not change.
    pub definition: String,
}

impl Entry {
    /// The name samples carry, before the suffixes of histograms and summaries: counters end in
    /// `_total`, info metrics in `_info`; the family's name otherwise.
    pub fn sample_name(&self) -> String {
        match self.kind {
            Kind::Counter => counter_sample_name(&self.full_name),
            Kind::Info => info_sample_name(&self.full_name),
            _ => self.full_name.clone(),
        }
    }

    /// The labels of series `k` (0-based, `k < series`): the entry's series are the cross product
    /// of its label values, counted like digits with the last label (by name) varying fastest.
    pub fn labels_of(&self, k: u64) -> Vec<(&str, Cow<'_, str>)> {
        let mut digits = Vec::with_capacity(self.labels.len());
        let mut rest = k;
        for (_, values) in self.labels.iter().rev() {
            digits.push(rest % values.len());
            rest /= values.len();
        }
        digits.reverse();
        self.labels.iter().zip(digits).map(|((name, values), d)| (name.as_str(), values.get(d))).collect()
    }

    /// The entry's labels by name with a churning entry's generation label among them: each
    /// with its values, or `None` for the generation label, whose value is the tick's generation.
    pub fn label_slots(&self) -> Vec<(&str, Option<&LabelValues>)> {
        let mut slots: Vec<(&str, Option<&LabelValues>)> =
            self.labels.iter().map(|(name, values)| (name.as_str(), Some(values))).collect();
        if let Some(churn) = &self.churn {
            let at = slots.partition_point(|(name, _)| *name < churn.label.as_str());
            slots.insert(at, (churn.label.as_str(), None));
        }
        slots
    }

    /// The labels of series `k` (see [`Entry::labels_of`]) at tick `t`: with a churning entry's
    /// generation label, by name among them.
    pub fn labels_at(&self, k: u64, t: u64) -> Vec<(&str, Cow<'_, str>)> {
        let mut labels = self.labels_of(k);
        if let Some(churn) = &self.churn {
            let at = labels.partition_point(|(name, _)| *name < churn.label.as_str());
            labels.insert(at, (churn.label.as_str(), Cow::Owned(churn.generation(t).to_string())));
        }
        labels
    }

    /// Whether the entry's series are served at tick `t`.
    pub fn active_at(&self, t: u64) -> bool {
        self.active.map_or(true, |active| active.at(t))
    }

    /// How many values a tick holds for the entry: one per series when they differ, else one
    /// that all its series share.
    pub fn value_count(&self) -> u64 {
        if self.per_series {
            self.served.count
        } else {
            1
        }
    }

    /// How many accumulated observations a tick holds for the entry: `Observe::width` per value
    /// slot for histograms and summaries, none for the other types.
    pub fn observed_count(&self) -> usize {
        self.observe.as_ref().map_or(0, |o| o.width() * self.value_count() as usize)
    }

    /// How many native histograms a tick holds for the entry: one per value slot of a histogram
    /// with `native` buckets, none otherwise.
    pub fn native_count(&self) -> usize {
        match &self.observe {
            Some(observe) if observe.native.is_some() => self.value_count() as usize,
            _ => 0,
        }
    }

    /// How many cycle starts a tick holds for the entry: one per series when each series
    /// restarts on its own, else one for all (shared values, or lanes).
    pub fn cycle_start_count(&self) -> u64 {
        if self.per_series && self.lanes.is_none() {
            self.served.count
        } else {
            1
        }
    }

    /// `name{a="x",b="y"}` of series `k`, for log lines and messages.
    pub fn series_name(&self, k: u64) -> String {
        let labels: Vec<String> = self.labels_of(k).iter().map(|(name, v)| format!("{name}={v:?}")).collect();
        if labels.is_empty() {
            self.sample_name()
        } else {
            format!("{}{{{}}}", self.sample_name(), labels.join(","))
        }
    }

    /// `name{a="x",region=["eu","us"],series=0..99}`: the entry with its fan-out, for summaries.
    pub fn describe_series(&self) -> String {
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|(name, values)| match values {
                LabelValues::One(v) => format!("{name}={v:?}"),
                LabelValues::List(vs) => format!("{name}={vs:?}"),
                LabelValues::Count(n) => format!("{name}=0..{}", n - 1),
            })
            .collect();
        if labels.is_empty() {
            self.sample_name()
        } else {
            format!("{}{{{}}}", self.sample_name(), labels.join(","))
        }
    }

    /// The HELP text: the one written in the config, or a sentence naming the type and function.
    pub fn help(&self) -> String {
        match &self.help {
            Some(help) => help.clone(),
            None if self.kind == Kind::Info => "Synthetic info metric.".to_string(),
            None => format!("Synthetic {} following the {} function.", self.kind.as_str(), self.function),
        }
    }
}

/// The fields every entry may have.
const COMMON_FIELDS: [&str; 8] =
    ["name", "metric_type", "custom_function", "reset_interval", "labels", "series", "help", "params"];

/// The fields that only some types take, and that decide a series' values.
const TYPE_FIELDS: [&str; 10] = [
    "observations",
    "distribution",
    "buckets",
    "quantiles",
    "states",
    "exemplars",
    "native",
    "active",
    "churn",
    "jitter",
];

/// Every field an entry may have, in the order messages list them: the common ones, then those of
/// some types.
const FIELDS: [&str; COMMON_FIELDS.len() + TYPE_FIELDS.len()] = {
    let mut all = [""; COMMON_FIELDS.len() + TYPE_FIELDS.len()];
    let mut i = 0;
    while i < all.len() {
        all[i] = if i < COMMON_FIELDS.len() { COMMON_FIELDS[i] } else { TYPE_FIELDS[i - COMMON_FIELDS.len()] };
        i += 1;
    }
    all
};

/// How an info metric's function is named in messages and summaries: it has none.
pub const NO_FUNCTION: &str = "none";

pub(super) fn parse_entry(item: &Value, namespace: &str, registry: &Registry) -> Result<Entry, String> {
    let Value::Object(map) = item else {
        return Err(format!("expected an object, got {}", type_name(item)));
    };
    if let Some(key) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!("unknown field {} (fields: {})", quoted(key), FIELDS.join(", ")));
    }
    let field = |name: &str, problem: String| format!("field {name:?}: {problem}");
    let required_str = |name: &str| -> Result<&str, String> {
        match map.get(name) {
            None => Err(field(name, "missing (required)".into())),
            Some(Value::String(s)) => Ok(s),
            Some(v) => Err(field(name, format!("expected a string, got {}", type_name(v)))),
        }
    };
    let optional = |name: &str| map.get(name).filter(|v| !v.is_null());

    let name = required_str("name")?;
    let full_name = if namespace.is_empty() { name.to_string() } else { format!("{namespace}_{name}") };
    if name.is_empty() {
        return Err(field("name", "must not be empty".into()));
    }
    if !is_metric_name(&full_name) {
        return Err(field(
            "name",
            format!("{} is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", quoted(&full_name)),
        ));
    }
    if full_name.starts_with(SELF_PREFIX) {
        return Err(field(
            "name",
            format!("{} uses the prefix {SELF_PREFIX}, reserved for the exporter's own metrics", quoted(&full_name)),
        ));
    }

    let word = required_str("metric_type")?;
    let Some(kind) = Kind::ALL.into_iter().find(|k| k.as_str() == word) else {
        let all: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        return Err(field("metric_type", format!("{} is not a metric type ({})", quoted(word), all.join(", "))));
    };
    let types = parse_type_fields(kind, map)?;

    // An info metric has no function: its value is always 1.
    if kind == Kind::Info {
        for name in ["custom_function", "params", "reset_interval"] {
            if optional(name).is_some() {
                return Err(field(name, "an info metric has no function: its value is always 1".into()));
            }
        }
    }
    let function = if kind == Kind::Info { NO_FUNCTION } else { required_str("custom_function")? };
    let params = match optional("params") {
        None => None,
        Some(Value::Object(p)) => Some(p),
        Some(v) => return Err(field("params", format!("expected an object, got {}", type_name(v)))),
    };
    let factory = match (kind, registry.build(function, params)) {
        (Kind::Info, _) => Some(Ok(index_factory_with(|_| 1.0, Finite::Always))),
        (_, built) => built,
    };
    let factory = match factory {
        None => {
            return Err(field(
                "custom_function",
                format!("unknown function {} (registered: {})", quoted(function), registry.names()),
            ))
        }
        Some(Err(problem)) => return Err(field("params", problem)),
        Some(Ok(factory)) => factory,
    };
    // A function registered from Rust may panic; at load that is a config error, not a crash.
    let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| factory().next(Step { i: 1, n: 1 })))
        .map_err(|_| field("custom_function", format!("{function} panicked computing its first value")))?;
    if !first.is_some_and(f64::is_finite) {
        return Err(field("custom_function", format!("{function} gives no finite first value with these params")));
    }

    let reset_interval = match optional("reset_interval") {
        None => None,
        Some(v) => match v.as_u64() {
            Some(n) => NonZeroU64::new(n),
            None => return Err(field("reset_interval", format!("expected an integer ≥ 0, got {}", type_name(v)))),
        },
    };

    let mut labels = match optional("labels") {
        None => Vec::new(),
        Some(Value::Object(l)) => parse_labels(l).map_err(|p| field("labels", p))?,
        Some(v) => {
            return Err(field(
                "labels",
                format!("expected an object of strings or lists of strings, got {}", type_name(v)),
            ))
        }
    };
    match optional("series") {
        None => {}
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => {
                if labels.iter().any(|(name, _)| name == "series") {
                    return Err(field("series", "adds the label \"series\", which the labels already have".into()));
                }
                labels.push(("series".into(), LabelValues::Count(n)));
                labels.sort_by(|a, b| a.0.cmp(&b.0));
            }
            _ => return Err(field("series", format!("expected an integer ≥ 1, got {}", type_name(v)))),
        },
    }
    // The labels a type adds itself may not be given by the config too.
    let own_label = match kind {
        Kind::Histogram => Some("le"),
        Kind::Summary => Some("quantile"),
        Kind::Stateset => Some(full_name.as_str()),
        _ => None,
    };
    if let Some(own) = own_label.filter(|own| labels.iter().any(|(name, _)| name == own)) {
        return Err(field(
            "labels",
            format!("a {} adds the label {own:?} itself, so the config may not give it", kind.as_str()),
        ));
    }
    let Some(series) = labels.iter().try_fold(1u64, |acc, (_, values)| acc.checked_mul(values.len())) else {
        return Err("its labels and series fan out into more than 2⁶⁴ series".into());
    };

    let help = match optional("help") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => return Err(field("help", format!("expected a string, got {}", type_name(v)))),
    };

    let label_key: Vec<(&String, Value)> = labels
        .iter()
        .map(|(name, values)| {
            let v = match values {
                LabelValues::One(v) => Value::String(v.clone()),
                LabelValues::List(vs) => serde_json::json!(vs),
                LabelValues::Count(n) => serde_json::json!({ "count": n }),
            };
            (name, v)
        })
        .collect();
    let mut definition = serde_json::json!([
        kind.as_str(),
        full_name,
        label_key,
        function,
        params,
        reset_interval.map_or(0, NonZeroU64::get)
    ]);
    // The type's own fields, as written, for the types that have any.
    let type_fields: Map<String, Value> =
        TYPE_FIELDS.iter().filter_map(|&f| optional(f).map(|v| (f.to_string(), v.clone()))).collect();
    if !type_fields.is_empty() {
        if let Value::Array(parts) = &mut definition {
            parts.push(Value::Object(type_fields));
        }
    }
    let definition = definition.to_string();
    // The churn label may be neither one of the entry's labels nor the one its type adds.
    let label_names: Vec<&str> = labels.iter().map(|(name, _)| name.as_str()).chain(own_label).collect();
    let lifecycle = parse_lifecycle(kind, map, &label_names)?;
    // Jitter differs from series to series, so each keeps values (and observations) of its own.
    let per_series = series > 1 && (factory().for_series(1).is_some() || lifecycle.jitter.is_some());
    let lanes = if per_series { factory().lanes() } else { None };
    Ok(Entry {
        definition,
        name: name.to_string(),
        full_name,
        kind,
        function: function.to_string(),
        per_series,
        lanes,
        reset_interval,
        labels,
        series,
        observe: types.observe,
        states: types.states,
        exemplars: types.exemplars,
        served: Served::all(series),
        active: lifecycle.active,
        churn: lifecycle.churn,
        jitter: lifecycle.jitter,
        help,
        factory,
    })
}

/// Which of an entry's series this process serves: series `first`, `first + stride`, … (`count`
/// of them). All of them unless the process is one shard of several (`--shard`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Served {
    pub first: u64,
    pub stride: u64,
    pub count: u64,
}

impl Served {
    /// Every one of `series` series.
    pub fn all(series: u64) -> Served {
        Served { first: 0, stride: 1, count: series }
    }

    /// The series of an entry of `series` series, the first numbered `base` over the whole
    /// config, whose global number is `shard.index` modulo `shard.count`.
    pub fn of_shard(base: u64, series: u64, shard: super::Shard) -> Served {
        let n = shard.count;
        let first = (shard.index + n - base % n) % n;
        let count = if first >= series { 0 } else { (series - first - 1) / n + 1 };
        Served { first, stride: n, count }
    }

    /// The series number (within the entry) of served series `j`.
    pub fn k(&self, j: u64) -> u64 {
        self.first + j * self.stride
    }

    /// Whether series `k` is one of these.
    pub fn contains(&self, k: u64) -> bool {
        k >= self.first && (k - self.first) % self.stride == 0 && (k - self.first) / self.stride < self.count
    }
}

/// The name an info metric's samples carry: the family name with `_info`, unless it has it.
fn info_sample_name(full_name: &str) -> String {
    if full_name.ends_with("_info") {
        full_name.to_string()
    } else {
        format!("{full_name}_info")
    }
}

fn parse_labels(map: &Map<String, Value>) -> Result<Vec<(String, LabelValues)>, String> {
    let mut labels = Vec::with_capacity(map.len());
    for (name, value) in map {
        if !is_label_name(name) {
            return Err(format!("{} is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)", quoted(name)));
        }
        if name.starts_with("__") {
            return Err(format!(
                "{} is reserved: label names starting with __ are for Prometheus itself",
                quoted(name)
            ));
        }
        let values = match value {
            Value::String(s) => LabelValues::One(s.clone()),
            Value::Array(items) => {
                let mut values = Vec::with_capacity(items.len());
                let mut seen = HashSet::with_capacity(items.len());
                for item in items {
                    let Value::String(s) = item else {
                        return Err(format!(
                            "{}: expected a list of strings, got {} in it",
                            quoted(name),
                            type_name(item)
                        ));
                    };
                    if !seen.insert(s.as_str()) {
                        return Err(format!("{}: the value {} is listed twice", quoted(name), quoted(s)));
                    }
                    values.push(s.clone());
                }
                if values.is_empty() {
                    return Err(format!("{}: an empty list gives no series", quoted(name)));
                }
                LabelValues::List(values)
            }
            v => return Err(format!("{}: expected a string or a list of strings, got {}", quoted(name), type_name(v))),
        };
        labels.push((name.clone(), values));
    }
    // serde_json's map is ordered by key; sorting again keeps that true whatever its features.
    labels.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(labels)
}
