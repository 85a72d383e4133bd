//! The config file: reading, parsing and validating it into [`Config`].
//!
//! Everything a config can get wrong is found here, at load, so that serving cannot fail on bad
//! input. Entries are read field by field from the JSON tree (rather than through derived serde
//! types) so that every message can name the entry, by index and name, and the field.

use crate::error::Error;
use crate::exposition::OWN_PREFIX;
use crate::functions::{Factory, Registry, Step};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashSet;
use std::num::NonZeroU64;
use std::path::Path;

/// The built-in default config, served when no `--config` is given; `example_config.json` is the
/// same file.
pub const EMBEDDED: &str = include_str!("../example_config.json");

/// How the embedded default is named in messages.
pub const EMBEDDED_NAME: &str = "<embedded default>";

/// A metric type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
}

impl Kind {
    /// The word used in `# TYPE` lines and in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
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
    fn overlaps(&self, other: &LabelValues) -> bool {
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

/// What loading depends on besides the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Prefix of every metric name; empty for none.
    pub namespace: String,
    /// The most series a config may expand to (`--max-series`).
    pub max_series: u64,
}

/// The default of `--max-series`.
pub const DEFAULT_MAX_SERIES: u64 = 1_000_000;

impl Default for Options {
    fn default() -> Self {
        Options { namespace: "test_metrics".into(), max_series: DEFAULT_MAX_SERIES }
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
    /// The name samples carry: counters end in `_total`.
    pub fn sample_name(&self) -> String {
        match self.kind {
            Kind::Counter if !self.full_name.ends_with("_total") => format!("{}_total", self.full_name),
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

    /// A fresh sequence for series `k`, before its first tick: what the ticker drives, and what
    /// anything that needs to know a series' values replays. Unless [`Entry::per_series`], all
    /// series of the entry have the values of series 0.
    pub fn sequence(&self, k: u64) -> crate::sequence::Sequence {
        let k = if self.per_series { k } else { 0 };
        crate::sequence::Sequence::for_series(self.factory.clone(), k, self.reset_interval)
    }

    /// How many sequences drive the entry's series: one per series when they differ, else one.
    pub fn units(&self) -> u64 {
        if self.per_series {
            self.series
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
            None => format!("Synthetic {} following the {} function.", self.kind.as_str(), self.function),
        }
    }
}

/// A validated config: at least one entry, every name, label set and function checked.
pub struct Config {
    /// The file it came from, or [`EMBEDDED_NAME`].
    pub source: String,
    pub entries: Vec<Entry>,
}

impl Config {
    /// How many series the config serves in all.
    pub fn series(&self) -> u64 {
        self.entries.iter().map(|e| e.series).sum()
    }
}

/// Reads and validates the config at `path`, or the embedded default when `path` is `None`.
pub fn load(path: Option<&Path>, options: &Options, registry: &Registry) -> Result<Config, Error> {
    match path {
        None => parse(EMBEDDED, EMBEDDED_NAME, options, registry),
        Some(path) => {
            let source = path.display().to_string();
            let bytes = std::fs::read(path).map_err(|e| Error::config(&source, format!("cannot read: {e}")))?;
            let text = String::from_utf8(bytes).map_err(|e| {
                Error::config(
                    &source,
                    format!("not valid UTF-8 (first bad byte at offset {})", e.utf8_error().valid_up_to()),
                )
            })?;
            parse(&text, &source, options, registry)
        }
    }
}

/// Parses and validates config text; `source` names it in messages.
pub fn parse(text: &str, source: &str, options: &Options, registry: &Registry) -> Result<Config, Error> {
    let err = |message: String| Error::config(source, message);
    if text.trim().is_empty() {
        return Err(err("the file is empty; expected a JSON array of metric entries".into()));
    }
    let tree: Value = serde_json::from_str(text).map_err(|e| err(syntax_message(&e)))?;
    let Value::Array(items) = tree else {
        return Err(err(format!("expected a JSON array of metric entries, got {}", type_name(&tree))));
    };
    if items.is_empty() {
        return Err(err("the array has no entries; a config needs at least one metric".into()));
    }
    let mut entries: Vec<Entry> = Vec::with_capacity(items.len());
    // Series are counted, never materialised, so a config asking for 10¹⁸ of them is refused here
    // without using memory.
    let mut total: u64 = 0;
    for (index, item) in items.iter().enumerate() {
        let entry = parse_entry(item, &options.namespace, registry)
            .map_err(|m| err(format!("{}: {m}", describe(index, item))))?;
        check_against_earlier(&entry, &entries, &items).map_err(|m| err(format!("{}: {m}", describe(index, item))))?;
        total = total.saturating_add(entry.series);
        // With --max-series at its largest, a saturated sum is still too many.
        if total > options.max_series || total == u64::MAX {
            return Err(err(format!(
                "{}: the config expands to more than {} series (--max-series); it has {} series up to here",
                describe(index, item),
                options.max_series,
                total
            )));
        }
        entries.push(entry);
    }
    Ok(Config { source: source.to_string(), entries })
}

/// `line 3, column 14: expected ',' or ']'`: serde_json's message with the position put first.
fn syntax_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let message = text.rsplit_once(" at line ").map_or(text.as_str(), |(m, _)| m);
    format!("line {}, column {}: invalid JSON: {message}", e.line(), e.column())
}

/// `entry 2 ("jobs_done")`, or `entry 2` when it has no usable name.
fn describe(index: usize, item: &Value) -> String {
    match item.get("name").and_then(Value::as_str) {
        Some(name) => format!("entry {index} ({name:?})"),
        None => format!("entry {index}"),
    }
}

fn type_name(v: &Value) -> String {
    let shown = v.to_string();
    let shown =
        if shown.chars().count() > 40 { format!("{}…", shown.chars().take(40).collect::<String>()) } else { shown };
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => format!("a boolean ({shown})"),
        Value::Number(_) => format!("a number ({shown})"),
        Value::String(_) => format!("a string ({shown})"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

const FIELDS: &[&str] =
    &["name", "metric_type", "custom_function", "reset_interval", "labels", "series", "help", "params"];

fn parse_entry(item: &Value, namespace: &str, registry: &Registry) -> Result<Entry, String> {
    let Value::Object(map) = item else {
        return Err(format!("expected an object, got {}", type_name(item)));
    };
    if let Some(key) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!("unknown field {key:?} (fields: {})", FIELDS.join(", ")));
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
        return Err(field("name", format!("{full_name:?} is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)")));
    }
    if full_name.starts_with(OWN_PREFIX) {
        return Err(field(
            "name",
            format!("{full_name:?} uses the prefix {OWN_PREFIX}, reserved for the exporter's own metrics"),
        ));
    }

    let kind = match required_str("metric_type")? {
        "gauge" => Kind::Gauge,
        "counter" => Kind::Counter,
        other => return Err(field("metric_type", format!("{other:?} is not a metric type (gauge, counter)"))),
    };

    let function = required_str("custom_function")?;
    let params = match optional("params") {
        None => None,
        Some(Value::Object(p)) => Some(p),
        Some(v) => return Err(field("params", format!("expected an object, got {}", type_name(v)))),
    };
    let factory = match registry.build(function, params) {
        None => {
            return Err(field(
                "custom_function",
                format!("unknown function {function:?} (registered: {})", registry.names()),
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
    let definition = serde_json::json!([
        kind.as_str(),
        full_name,
        label_key,
        function,
        params,
        reset_interval.map_or(0, NonZeroU64::get)
    ])
    .to_string();
    Ok(Entry {
        definition,
        name: name.to_string(),
        full_name,
        kind,
        function: function.to_string(),
        per_series: series > 1 && factory().for_series(1).is_some(),
        reset_interval,
        labels,
        series,
        help,
        factory,
    })
}

fn parse_labels(map: &Map<String, Value>) -> Result<Vec<(String, LabelValues)>, String> {
    let mut labels = Vec::with_capacity(map.len());
    for (name, value) in map {
        if !is_label_name(name) {
            return Err(format!("{name:?} is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)"));
        }
        if name.starts_with("__") {
            return Err(format!("{name:?} is reserved: label names starting with __ are for Prometheus itself"));
        }
        let values = match value {
            Value::String(s) => LabelValues::One(s.clone()),
            Value::Array(items) => {
                let mut values = Vec::with_capacity(items.len());
                let mut seen = HashSet::with_capacity(items.len());
                for item in items {
                    let Value::String(s) = item else {
                        return Err(format!("{name:?}: expected a list of strings, got {} in it", type_name(item)));
                    };
                    if !seen.insert(s.as_str()) {
                        return Err(format!("{name:?}: the value {s:?} is listed twice"));
                    }
                    values.push(s.clone());
                }
                if values.is_empty() {
                    return Err(format!("{name:?}: an empty list gives no series"));
                }
                LabelValues::List(values)
            }
            v => return Err(format!("{name:?}: expected a string or a list of strings, got {}", type_name(v))),
        };
        labels.push((name.clone(), values));
    }
    // serde_json's map is ordered by key; sorting again keeps that true whatever its features.
    labels.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(labels)
}

/// Rejects what would make the exposition ambiguous: one family name with two types, samples of
/// two families under one name, two series with the same name and labels, two HELP texts.
fn check_against_earlier(entry: &Entry, earlier: &[Entry], items: &[Value]) -> Result<(), String> {
    let sample = entry.sample_name();
    for (index, other) in earlier.iter().enumerate() {
        let them = describe(index, &items[index]);
        if other.full_name == entry.full_name && other.kind != entry.kind {
            return Err(format!(
                "metric {} is a {} here but a {} in {them}; one name has one type",
                entry.full_name,
                entry.kind.as_str(),
                other.kind.as_str()
            ));
        }
        if other.sample_name() != sample {
            continue;
        }
        if other.kind != entry.kind {
            return Err(format!(
                "its samples would be named {sample}, as are those of {them}, a {}",
                other.kind.as_str()
            ));
        }
        let same_names =
            other.labels.len() == entry.labels.len() && other.labels.iter().zip(&entry.labels).all(|(a, b)| a.0 == b.0);
        if same_names && other.labels.iter().zip(&entry.labels).all(|(a, b)| a.1.overlaps(&b.1)) {
            return Err(format!("duplicate series: {sample} with the same labels as {them}"));
        }
        if let (Some(a), Some(b)) = (&other.help, &entry.help) {
            if a != b {
                return Err(format!("help differs from that of {them}; one family has one HELP text"));
            }
        }
    }
    Ok(())
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`
pub fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str) -> Result<Config, Error> {
        parse(text, "t.json", &Options { namespace: "ns".into(), max_series: 1000 }, &Registry::builtin())
    }

    #[track_caller]
    fn check_err(text: &str, expected: &str) {
        match load_str(text) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => assert_eq!(e.to_string(), format!("config t.json: {expected}")),
        }
    }

    #[test]
    fn embedded_default_is_valid() {
        let c = parse(EMBEDDED, EMBEDDED_NAME, &Options::default(), &Registry::builtin()).unwrap();
        assert!(c.entries.len() >= 4);
    }

    #[test]
    fn valid_entry_fields() {
        let c = load_str(
            r#"[{"name":"a","metric_type":"counter","custom_function":"square","reset_interval":3,
                "labels":{"z":"1","b":"2"},"help":"h"}]"#,
        )
        .unwrap();
        let e = &c.entries[0];
        assert_eq!((e.full_name.as_str(), e.sample_name().as_str()), ("ns_a", "ns_a_total"));
        assert_eq!(e.labels, [("b".into(), LabelValues::One("2".into())), ("z".into(), LabelValues::One("1".into()))]);
        assert_eq!(e.series, 1);
        assert_eq!(e.reset_interval, NonZeroU64::new(3));
        assert_eq!(e.help(), "h");
    }

    #[test]
    fn bad_configs() {
        check_err("", "the file is empty; expected a JSON array of metric entries");
        check_err("[\n  {\"name\": }\n]", "line 2, column 12: invalid JSON: expected value");
        check_err("{}", "expected a JSON array of metric entries, got an object");
        check_err("[]", "the array has no entries; a config needs at least one metric");
        check_err("[1]", "entry 0: expected an object, got a number (1)");
        check_err(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"square","colour":1}]"#,
            "entry 0 (\"a\"): unknown field \"colour\" (fields: name, metric_type, custom_function, reset_interval, labels, series, help, params)",
        );
        check_err(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"cube"}]"#,
            "entry 0 (\"a\"): field \"custom_function\": unknown function \"cube\" (registered: constant, exponential, expr, fibonacci, linear, normal, power, random_walk, sawtooth, sequence, sine, spike, square, step, uniform)",
        );
        check_err(
            r#"[{"name":"a-b","metric_type":"gauge","custom_function":"square"}]"#,
            "entry 0 (\"a-b\"): field \"name\": \"ns_a-b\" is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)",
        );
        check_err(
            r#"[{"name":"a","metric_type":"histogram","custom_function":"square"}]"#,
            "entry 0 (\"a\"): field \"metric_type\": \"histogram\" is not a metric type (gauge, counter)",
        );
        check_err(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"square","reset_interval":-1}]"#,
            "entry 0 (\"a\"): field \"reset_interval\": expected an integer ≥ 0, got a number (-1)",
        );
        check_err(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"square","labels":{"__x":"1"}}]"#,
            "entry 0 (\"a\"): field \"labels\": \"__x\" is reserved: label names starting with __ are for Prometheus itself",
        );
        check_err(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"square","labels":{"1x":"1"}}]"#,
            "entry 0 (\"a\"): field \"labels\": \"1x\" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)",
        );
        check_err(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"square"},
                {"name":"a","metric_type":"gauge","custom_function":"power"}]"#,
            "entry 1 (\"a\"): duplicate series: ns_a with the same labels as entry 0 (\"a\")",
        );
        check_err(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"square"},
                {"name":"a","metric_type":"counter","custom_function":"power"}]"#,
            "entry 1 (\"a\"): metric ns_a is a counter here but a gauge in entry 0 (\"a\"); one name has one type",
        );
        check_err(
            r#"[{"name":"a_total","metric_type":"gauge","custom_function":"square"},
                {"name":"a","metric_type":"counter","custom_function":"power"}]"#,
            "entry 1 (\"a\"): its samples would be named ns_a_total, as are those of entry 0 (\"a_total\"), a gauge",
        );
    }

    #[test]
    fn series_expansion() {
        let c = load_str(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"square","series":3,
                "labels":{"region":["eu","us"],"app":"x"}}]"#,
        )
        .unwrap();
        let e = &c.entries[0];
        assert_eq!(e.series, 6);
        let names: Vec<String> = (0..6).map(|k| e.series_name(k)).collect();
        assert_eq!(
            names,
            [
                r#"ns_a{app="x",region="eu",series="0"}"#,
                r#"ns_a{app="x",region="eu",series="1"}"#,
                r#"ns_a{app="x",region="eu",series="2"}"#,
                r#"ns_a{app="x",region="us",series="0"}"#,
                r#"ns_a{app="x",region="us",series="1"}"#,
                r#"ns_a{app="x",region="us",series="2"}"#,
            ]
        );
        assert_eq!(e.describe_series(), r#"ns_a{app="x",region=["eu", "us"],series=0..2}"#);
    }

    #[test]
    fn series_expansion_errors() {
        let entry =
            |extra: &str| format!(r#"[{{"name":"a","metric_type":"gauge","custom_function":"square"{extra}}}]"#);
        check_err(
            &entry(r#","series":0"#),
            "entry 0 (\"a\"): field \"series\": expected an integer ≥ 1, got a number (0)",
        );
        check_err(
            &entry(r#","series":2,"labels":{"series":"x"}"#),
            "entry 0 (\"a\"): field \"series\": adds the label \"series\", which the labels already have",
        );
        check_err(
            &entry(r#","labels":{"r":[]}"#),
            "entry 0 (\"a\"): field \"labels\": \"r\": an empty list gives no series",
        );
        check_err(
            &entry(r#","labels":{"r":["x","x"]}"#),
            "entry 0 (\"a\"): field \"labels\": \"r\": the value \"x\" is listed twice",
        );
        check_err(
            &entry(r#","labels":{"r":[1]}"#),
            "entry 0 (\"a\"): field \"labels\": \"r\": expected a list of strings, got a number (1) in it",
        );
        check_err(
            &entry(r#","series":1001"#),
            "entry 0 (\"a\"): the config expands to more than 1000 series (--max-series); it has 1001 series up to here",
        );
        check_err(
            &entry(r#","series":18446744073709551615,"labels":{"r":["1","2"]}"#),
            "entry 0 (\"a\"): its labels and series fan out into more than 2⁶⁴ series",
        );
        // Overlapping fan-outs in one family are duplicate series; disjoint ones are not.
        check_err(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"square","series":3},
                {"name":"a","metric_type":"gauge","custom_function":"square","labels":{"series":"2"}}]"#,
            "entry 1 (\"a\"): duplicate series: ns_a with the same labels as entry 0 (\"a\")",
        );
        check_err(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"square","labels":{"r":["x","y"]}},
                {"name":"a","metric_type":"gauge","custom_function":"square","labels":{"r":["z","y"]}}]"#,
            "entry 1 (\"a\"): duplicate series: ns_a with the same labels as entry 0 (\"a\")",
        );
        assert!(load_str(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"square","series":3},
                {"name":"a","metric_type":"gauge","custom_function":"square","labels":{"series":"03"}}]"#
        )
        .is_ok());
    }

    #[test]
    fn the_own_metrics_prefix_is_reserved() {
        for (namespace, name) in [("", "metrics_generator_series"), ("metrics_generator", "ticks_total")] {
            let text = format!(r#"[{{"name":"{name}","metric_type":"gauge","custom_function":"square"}}]"#);
            let options = Options { namespace: namespace.into(), max_series: 10 };
            let err = parse(&text, "t.json", &options, &Registry::builtin()).err().unwrap().to_string();
            assert!(
                err.ends_with("uses the prefix metrics_generator_, reserved for the exporter's own metrics"),
                "{err}"
            );
        }
    }

    #[test]
    fn one_family_one_help() {
        check_err(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"square","labels":{"x":"1"},"help":"one"},
                {"name":"a","metric_type":"gauge","custom_function":"square","labels":{"x":"2"},"help":"two"}]"#,
            "entry 1 (\"a\"): help differs from that of entry 0 (\"a\"); one family has one HELP text",
        );
    }
}
