//! The config file: reading, parsing and validating it into [`Config`].
//!
//! Everything a config can get wrong is found here, at load, so that serving cannot fail on bad
//! input. Entries are read field by field from the JSON tree (rather than through derived serde
//! types) so that every message can name the entry, by index and name, and the field.

use crate::error::Error;
use crate::functions::{Factory, Registry, Step};
use serde_json::{Map, Value};
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

/// One validated config entry: one series.
pub struct Entry {
    /// The `name` field as written.
    pub name: String,
    /// The metric name with the namespace prefix: the family name.
    pub full_name: String,
    pub kind: Kind,
    /// The `custom_function` field.
    pub function: String,
    pub reset_interval: Option<NonZeroU64>,
    /// Label pairs, sorted by name.
    pub labels: Vec<(String, String)>,
    /// The HELP text as written, unescaped; see [`Entry::help`] for the one served.
    pub help: Option<String>,
    /// Makes the generators of this series.
    pub factory: Factory,
}

impl Entry {
    /// The name samples carry: counters end in `_total`.
    pub fn sample_name(&self) -> String {
        match self.kind {
            Kind::Counter if !self.full_name.ends_with("_total") => format!("{}_total", self.full_name),
            _ => self.full_name.clone(),
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

/// Reads and validates the config at `path`, or the embedded default when `path` is `None`.
pub fn load(path: Option<&Path>, namespace: &str, registry: &Registry) -> Result<Config, Error> {
    match path {
        None => parse(EMBEDDED, EMBEDDED_NAME, namespace, registry),
        Some(path) => {
            let source = path.display().to_string();
            let bytes = std::fs::read(path).map_err(|e| Error::config(&source, format!("cannot read: {e}")))?;
            let text = String::from_utf8(bytes).map_err(|e| {
                Error::config(
                    &source,
                    format!("not valid UTF-8 (first bad byte at offset {})", e.utf8_error().valid_up_to()),
                )
            })?;
            parse(&text, &source, namespace, registry)
        }
    }
}

/// Parses and validates config text; `source` names it in messages.
pub fn parse(text: &str, source: &str, namespace: &str, registry: &Registry) -> Result<Config, Error> {
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
    for (index, item) in items.iter().enumerate() {
        let entry =
            parse_entry(item, namespace, registry).map_err(|m| err(format!("{}: {m}", describe(index, item))))?;
        check_against_earlier(&entry, &entries, &items).map_err(|m| err(format!("{}: {m}", describe(index, item))))?;
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

const FIELDS: &[&str] = &["name", "metric_type", "custom_function", "reset_interval", "labels", "help", "params"];

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
    let first = factory().next(Step { i: 1, n: 1 });
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

    let labels = match optional("labels") {
        None => Vec::new(),
        Some(Value::Object(l)) => parse_labels(l).map_err(|p| field("labels", p))?,
        Some(v) => return Err(field("labels", format!("expected an object of strings, got {}", type_name(v)))),
    };

    let help = match optional("help") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => return Err(field("help", format!("expected a string, got {}", type_name(v)))),
    };

    Ok(Entry {
        name: name.to_string(),
        full_name,
        kind,
        function: function.to_string(),
        reset_interval,
        labels,
        help,
        factory,
    })
}

fn parse_labels(map: &Map<String, Value>) -> Result<Vec<(String, String)>, String> {
    let mut labels = Vec::with_capacity(map.len());
    for (name, value) in map {
        if !is_label_name(name) {
            return Err(format!("{name:?} is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)"));
        }
        if name.starts_with("__") {
            return Err(format!("{name:?} is reserved: label names starting with __ are for Prometheus itself"));
        }
        match value {
            Value::String(s) => labels.push((name.clone(), s.clone())),
            v => return Err(format!("{name:?}: expected a string value, got {}", type_name(v))),
        }
    }
    // serde_json's map is ordered by key; sorting again keeps that true whatever its features.
    labels.sort();
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
        if other.labels == entry.labels {
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
        parse(text, "t.json", "ns", &Registry::builtin())
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
        let c = parse(EMBEDDED, EMBEDDED_NAME, "test_metrics", &Registry::builtin()).unwrap();
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
        assert_eq!(e.labels, [("b".into(), "2".into()), ("z".into(), "1".into())]);
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
            "entry 0 (\"a\"): unknown field \"colour\" (fields: name, metric_type, custom_function, reset_interval, labels, help, params)",
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
    fn one_family_one_help() {
        check_err(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"square","labels":{"x":"1"},"help":"one"},
                {"name":"a","metric_type":"gauge","custom_function":"square","labels":{"x":"2"},"help":"two"}]"#,
            "entry 1 (\"a\"): help differs from that of entry 0 (\"a\"); one family has one HELP text",
        );
    }
}
