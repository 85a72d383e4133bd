//! The config file: reading, parsing and validating it into [`Config`].
//!
//! Everything a config can get wrong is found here, at load, so that serving cannot fail on bad
//! input. Entries are read field by field from the JSON tree (rather than through derived serde
//! types) so that every message can name the entry, by index and name, and the field.

use crate::error::Error;
use crate::exposition::OWN_PREFIX;
use crate::functions::{Factory, Lanes, Registry, Step};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::num::NonZeroU64;
use std::path::Path;
use std::sync::Arc;

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
    /// For series with values of their own, a way to compute them all from one sequence's
    /// position instead of a sequence each ([`crate::functions::Generator::lanes`]); then they
    /// all restart together and share one cycle.
    pub lanes: Option<Arc<dyn Lanes>>,
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

    /// How many cycle positions the entry's series have: one per series when each sequence
    /// restarts on its own, else one for all (shared values, or lanes).
    pub fn cycles(&self) -> u64 {
        if self.per_series && self.lanes.is_none() {
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
            parse_bytes(bytes, &source, options, registry)
        }
    }
}

/// Parses and validates the bytes of a config file, which must be UTF-8; `source` names it in
/// messages.
pub fn parse_bytes(bytes: Vec<u8>, source: &str, options: &Options, registry: &Registry) -> Result<Config, Error> {
    let text = String::from_utf8(bytes).map_err(|e| Error::config(source, not_utf8(&e)))?;
    parse(&text, source, options, registry)
}

/// `line 3, column 7: not valid UTF-8 (byte 0xff at offset 52)`: where the first bad byte is.
fn not_utf8(e: &std::string::FromUtf8Error) -> String {
    let offset = e.utf8_error().valid_up_to();
    let bytes = e.as_bytes();
    // The bytes before the bad one are valid UTF-8, so they can be counted in characters.
    let valid = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
    let line = valid.matches('\n').count() + 1;
    let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let utf16 = if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        "; it starts like UTF-16, which has to be saved as UTF-8"
    } else {
        ""
    };
    format!("line {line}, column {column}: not valid UTF-8 (byte {:#04x} at offset {offset}){utf16}", bytes[offset])
}

/// The byte-order mark some editors put at the start of a UTF-8 file. RFC 8259 lets a parser
/// ignore it, and a config saved by such an editor is accepted: it is skipped, so columns on the
/// first line count from the first character after it, as editors show them.
const BYTE_ORDER_MARK: char = '\u{feff}';

/// Parses and validates config text; `source` names it in messages.
pub fn parse(text: &str, source: &str, options: &Options, registry: &Registry) -> Result<Config, Error> {
    let err = |message: String| Error::config(source, message);
    let text = text.strip_prefix(BYTE_ORDER_MARK).unwrap_or(text);
    if text.trim().is_empty() {
        return Err(err("the file is empty; expected a JSON array of metric entries".into()));
    }
    let Tree(tree) = serde_json::from_str(text).map_err(|e| err(json_message(&e, text)))?;
    let Value::Array(items) = tree else {
        return Err(err(format!("expected a JSON array of metric entries, got {}", type_name(&tree))));
    };
    if items.is_empty() {
        return Err(err("the array has no entries; a config needs at least one metric".into()));
    }
    let mut entries: Vec<Entry> = Vec::with_capacity(items.len());
    let mut seen = Seen::default();
    // Series are counted, never materialised, so a config asking for 10¹⁸ of them is refused here
    // without using memory.
    let mut total: u64 = 0;
    for (index, item) in items.iter().enumerate() {
        let entry = parse_entry(item, &options.namespace, registry)
            .map_err(|m| err(format!("{}: {m}", describe(index, item))))?;
        seen.check(&entry, &entries, &items).map_err(|m| err(format!("{}: {m}", describe(index, item))))?;
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
        seen.add(index, &entry);
        entries.push(entry);
    }
    Ok(Config { source: source.to_string(), entries })
}

/// A JSON tree as serde_json's `Value` holds it, read with one more rule: an object may not have
/// the same key twice. `Value` would keep the last one silently, hiding a mistake such as two
/// `"name"`s in one entry; here it is an error at the position of the second one.
struct Tree(Value);

impl<'de> serde::Deserialize<'de> for Tree {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TreeVisitor).map(Tree)
    }
}

struct TreeVisitor;

impl<'de> serde::de::Visitor<'de> for TreeVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // serde_json's parser yields only finite floats (it rejects 1e999), so this is never Null.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Tree(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate key {} in one object", quoted(&key))));
            }
            let Tree(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// The deepest nesting of arrays and objects serde_json reads before it gives up (its recursion
/// limit, which keeps a hostile file from exhausting the stack).
const JSON_DEPTH_LIMIT: usize = 128;

/// `line 3, column 14: invalid JSON: expected ',' or ']'`: serde_json's message with the position
/// first, the column counted in characters as editors count it (serde_json counts bytes), and a
/// word of explanation where its own message is terse.
fn json_message(e: &serde_json::Error, text: &str) -> String {
    let full = e.to_string();
    let message = full.rsplit_once(" at line ").map_or(full.as_str(), |(m, _)| m);
    // The line's text, and the byte offset of its start in `text`.
    let (line_start, line_text) = text
        .split('\n')
        .scan(0, |start, line| {
            let here = *start;
            *start += line.len() + 1;
            Some((here, line))
        })
        .nth(e.line().saturating_sub(1))
        .unwrap_or((text.len(), ""));
    // serde_json says column 0 for the end of a file that ends with a newline; editors say 1.
    let column = line_text.char_indices().take_while(|&(i, _)| i < e.column()).count().max(1);
    let position = format!("line {}, column {column}", e.line());
    if e.classify() == serde_json::error::Category::Data {
        // Only `Tree` raises data errors: the JSON is well formed and the message is ours.
        return format!("{position}: {message}");
    }
    let explained = match message {
        "recursion limit exceeded" => {
            format!("arrays and objects nested more than {JSON_DEPTH_LIMIT} levels deep (a config needs at most four)")
        }
        "number out of range" => "number out of range (it must fit in a 64-bit float: at most about 1.8e308)".into(),
        _ if is_non_finite_word(word_at(text, line_start + e.column().saturating_sub(1))) => {
            format!("{message} (NaN and Infinity are not JSON numbers; JSON has no way to write them)")
        }
        // An invisible or look-alike character (a second byte-order mark, a no-break space, a
        // curly quote) is named, since the user cannot see what is wrong at that column.
        _ => match text.get(line_start + e.column().saturating_sub(1)..).and_then(|rest| rest.chars().next()) {
            Some(c) if !c.is_ascii() || c.is_ascii_control() => format!("{message} (found U+{:04X})", u32::from(c)),
            _ => message.to_string(),
        },
    };
    format!("{position}: invalid JSON: {explained}")
}

/// The run of letters, digits, signs and dots around byte `at`: the token a syntax error points at.
fn word_at(text: &str, at: usize) -> &str {
    let bytes = text.as_bytes();
    let part = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.');
    let at = at.min(bytes.len());
    let start = at - bytes[..at].iter().rev().take_while(|b| part(b)).count();
    let end = at + bytes[at..].iter().take_while(|b| part(b)).count();
    // Both ends sit next to ASCII bytes or at the ends of the text, so they are char boundaries;
    // `get` keeps that from ever being a panic.
    text.get(start..end).unwrap_or("")
}

/// `NaN`, `Infinity`, `-inf` and the like, which JavaScript and Python write but JSON lacks.
fn is_non_finite_word(word: &str) -> bool {
    let word = word.trim_start_matches(['+', '-']).to_ascii_lowercase();
    matches!(word.as_str(), "nan" | "inf" | "infinity")
}

/// A string as messages quote it: `"name"`, or for a very long one its first 60 characters and
/// its length, so that a message stays one readable line whatever the config holds.
pub(crate) fn quoted(s: &str) -> String {
    if s.chars().nth(QUOTED_IN_FULL).is_none() {
        format!("{s:?}")
    } else {
        let start: String = s.chars().take(QUOTED_PREFIX).collect();
        format!("{start:?}… ({} characters)", s.chars().count())
    }
}

/// Names up to this many characters are shown whole in messages.
const QUOTED_IN_FULL: usize = 80;
/// How much of a longer name is shown.
const QUOTED_PREFIX: usize = 60;

/// A name as messages show it unquoted: itself, or for a very long one its first 60 characters
/// and its length.
pub(crate) fn shortened(s: &str) -> Cow<'_, str> {
    if s.chars().nth(QUOTED_IN_FULL).is_none() {
        Cow::Borrowed(s)
    } else {
        let start: String = s.chars().take(QUOTED_PREFIX).collect();
        Cow::Owned(format!("{start}… ({} characters)", s.chars().count()))
    }
}

/// `entry 2 ("jobs_done")`, or `entry 2` when it has no usable name.
fn describe(index: usize, item: &Value) -> String {
    match item.get("name").and_then(Value::as_str) {
        Some(name) => format!("entry {index} ({})", quoted(name)),
        None => format!("entry {index}"),
    }
}

fn type_name(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => format!("a boolean ({})", brief(v)),
        Value::Number(_) => format!("a number ({})", brief(v)),
        Value::String(_) => format!("a string ({})", brief(v)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// A JSON value as messages show it: its text, cut after 40 characters.
pub(crate) fn brief(v: &Value) -> String {
    const SHOWN: usize = 40;
    let shown = match v {
        // A long string is cut before it is written out, not after.
        Value::String(s) if s.chars().nth(SHOWN).is_some() => {
            Value::String(s.chars().take(SHOWN + 1).collect()).to_string()
        }
        _ => v.to_string(),
    };
    // JSON strings may hold DEL, C1 controls and invisible characters as they are; a message
    // shows them escaped, as `{:?}` does.
    let mut visible = String::with_capacity(shown.len());
    for c in shown.chars() {
        if c.is_control() || (c.escape_debug().len() > 1 && !matches!(c, '\'' | '"' | '\\')) {
            visible.extend(c.escape_debug());
        } else {
            visible.push(c);
        }
    }
    let shown = visible;
    if shown.chars().nth(SHOWN).is_some() {
        format!("{}…", shown.chars().take(SHOWN).collect::<String>())
    } else {
        shown
    }
}

const FIELDS: &[&str] =
    &["name", "metric_type", "custom_function", "reset_interval", "labels", "series", "help", "params"];

fn parse_entry(item: &Value, namespace: &str, registry: &Registry) -> Result<Entry, String> {
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
    if full_name.starts_with(OWN_PREFIX) {
        return Err(field(
            "name",
            format!("{} uses the prefix {OWN_PREFIX}, reserved for the exporter's own metrics", quoted(&full_name)),
        ));
    }

    let kind = match required_str("metric_type")? {
        "gauge" => Kind::Gauge,
        "counter" => Kind::Counter,
        other => return Err(field("metric_type", format!("{} is not a metric type (gauge, counter)", quoted(other)))),
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
    let per_series = series > 1 && factory().for_series(1).is_some();
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
        help,
        factory,
    })
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

/// Rejects what would make the exposition ambiguous: one family name with two types, samples of
/// two families under one name, two series with the same name and labels, two HELP texts.
///
/// Earlier entries are indexed by name, so that an entry is compared only with those sharing its
/// family or sample name, and among those an entry whose labels have one value each is looked up
/// rather than compared: a config of 100,000 entries loads in linear time, not quadratic. When a
/// new entry conflicts with several earlier ones, the message names the first of them, as a scan
/// in config order would.
#[derive(Default)]
struct Seen {
    /// Family name → the first entry with that name (entries of one name share one type).
    by_name: HashMap<String, usize>,
    /// Sample name → the entries whose samples carry it.
    by_sample: HashMap<String, SampleGroup>,
}

/// The earlier entries whose samples share one name. They have one type and at most one written
/// HELP text between them, or an earlier check would have failed.
struct SampleGroup {
    first: usize,
    /// The first of them that wrote a `help`.
    first_help: Option<usize>,
    /// Those whose labels have one value each, by their (sorted) labels.
    plain: HashMap<Vec<(String, String)>, usize>,
    /// Those that fan out into several series (a list of values, a `series` count).
    fanned: Vec<usize>,
}

/// What a new entry can get wrong against one earlier entry, in the order the checks are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Conflict {
    NameType,
    SampleType,
    Duplicate,
    Help,
}

impl Seen {
    /// Checks `entry` against the `earlier` entries added so far; `items` are their JSON, for
    /// naming them.
    fn check(&self, entry: &Entry, earlier: &[Entry], items: &[Value]) -> Result<(), String> {
        let sample = entry.sample_name();
        // The earliest conflicting entry, and the first check it fails.
        let mut found: Option<(usize, Conflict)> = None;
        let mut note = |index: usize, conflict: Conflict| {
            if found.map_or(true, |f| (index, conflict) < f) {
                found = Some((index, conflict));
            }
        };
        if let Some(&first) = self.by_name.get(&entry.full_name) {
            if earlier[first].kind != entry.kind {
                note(first, Conflict::NameType);
            }
        }
        if let Some(group) = self.by_sample.get(&sample) {
            if earlier[group.first].kind != entry.kind {
                note(group.first, Conflict::SampleType);
            } else {
                let plain = match plain_labels(entry) {
                    Some(key) => group.plain.get(&key).copied(),
                    // A fanned-out entry can overlap any of them: compare with each.
                    None => group.plain.values().copied().filter(|&i| same_series(&earlier[i], entry)).min(),
                };
                let fanned = group.fanned.iter().copied().find(|&i| same_series(&earlier[i], entry));
                for index in plain.into_iter().chain(fanned) {
                    note(index, Conflict::Duplicate);
                }
                if let (Some(help), Some(first_help)) = (&entry.help, group.first_help) {
                    if earlier[first_help].help.as_ref() != Some(help) {
                        note(first_help, Conflict::Help);
                    }
                }
            }
        }
        let Some((index, conflict)) = found else {
            return Ok(());
        };
        let (them, other) = (describe(index, &items[index]), &earlier[index]);
        Err(match conflict {
            Conflict::NameType => format!(
                "metric {} is a {} here but a {} in {them}; one name has one type",
                shortened(&entry.full_name),
                entry.kind.as_str(),
                other.kind.as_str()
            ),
            Conflict::SampleType => format!(
                "its samples would be named {}, as are those of {them}, a {}",
                shortened(&sample),
                other.kind.as_str()
            ),
            Conflict::Duplicate => format!("duplicate series: {} with the same labels as {them}", shortened(&sample)),
            Conflict::Help => format!("help differs from that of {them}; one family has one HELP text"),
        })
    }

    /// Records entry `index`, which passed [`Seen::check`].
    fn add(&mut self, index: usize, entry: &Entry) {
        self.by_name.entry(entry.full_name.clone()).or_insert(index);
        let group = self.by_sample.entry(entry.sample_name()).or_insert_with(|| SampleGroup {
            first: index,
            first_help: None,
            plain: HashMap::new(),
            fanned: Vec::new(),
        });
        if entry.help.is_some() && group.first_help.is_none() {
            group.first_help = Some(index);
        }
        match plain_labels(entry) {
            Some(key) => {
                group.plain.entry(key).or_insert(index);
            }
            None => group.fanned.push(index),
        }
    }
}

/// The labels of an entry whose labels have one value each: the identity of its one series.
fn plain_labels(entry: &Entry) -> Option<Vec<(String, String)>> {
    entry
        .labels
        .iter()
        .map(|(name, values)| match values {
            LabelValues::One(v) => Some((name.clone(), v.clone())),
            _ => None,
        })
        .collect()
}

/// Whether two entries of one sample name have a series in common: the same label names, and
/// for each label a value in common.
fn same_series(a: &Entry, b: &Entry) -> bool {
    a.labels.len() == b.labels.len() && a.labels.iter().zip(&b.labels).all(|(x, y)| x.0 == y.0 && x.1.overlaps(&y.1))
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

    #[test]
    fn duplicate_keys_are_errors_at_the_second_one() {
        check_err(
            r#"[{"name":"a","name":"b","metric_type":"gauge","custom_function":"square"}]"#,
            "line 1, column 19: duplicate key \"name\" in one object",
        );
        check_err(
            "[{\"name\":\"a\",\"metric_type\":\"gauge\",\"custom_function\":\"square\",\n  \"labels\":{\"x\":\"1\",\"y\":\"2\",\"x\":\"3\"}}]",
            "line 2, column 31: duplicate key \"x\" in one object",
        );
        check_err(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"sine","params":{"period":5,"period":6}}]"#,
            "line 1, column 89: duplicate key \"period\" in one object",
        );
        // The same key in two different objects is fine.
        assert!(load_str(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"square","labels":{"k":"1"}},
                {"name":"a","metric_type":"gauge","custom_function":"square","labels":{"k":"2"}}]"#
        )
        .is_ok());
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_columns_count_after_it() {
        let entry = r#"[{"name":"a","metric_type":"gauge","custom_function":"square"}]"#;
        assert!(load_str(&format!("\u{feff}{entry}")).is_ok());
        let bad = r#"[{"name":"a","metric_type":"gauge","custom_function":"square",}]"#;
        check_err(bad, "line 1, column 63: invalid JSON: trailing comma");
        check_err(&format!("\u{feff}{bad}"), "line 1, column 63: invalid JSON: trailing comma");
        check_err(&format!("\u{feff}\u{feff}{entry}"), "line 1, column 1: invalid JSON: expected value (found U+FEFF)");
        check_err("\u{feff}", "the file is empty; expected a JSON array of metric entries");
    }

    #[test]
    fn json_messages_explain_what_json_lacks() {
        let value = |v: &str| {
            format!(r#"[{{"name":"a","metric_type":"gauge","custom_function":"constant","params":{{"value":{v}}}}}]"#)
        };
        let not_json = "(NaN and Infinity are not JSON numbers; JSON has no way to write them)";
        check_err(&value("NaN"), &format!("line 1, column 83: invalid JSON: expected value {not_json}"));
        check_err(&value("Infinity"), &format!("line 1, column 83: invalid JSON: expected value {not_json}"));
        check_err(&value("-Infinity"), &format!("line 1, column 84: invalid JSON: invalid number {not_json}"));
        check_err(&value("nan"), &format!("line 1, column 84: invalid JSON: expected ident {not_json}"));
        check_err(
            &value("1e999"),
            "line 1, column 87: invalid JSON: number out of range (it must fit in a 64-bit float: at most about 1.8e308)",
        );
        check_err(&value("+1"), "line 1, column 83: invalid JSON: expected value");
        check_err(&value("\u{201c}1\u{201d}"), "line 1, column 83: invalid JSON: expected value (found U+201C)");
        check_err(
            &format!("{}{}", "[".repeat(200), "]".repeat(200)),
            "line 1, column 128: invalid JSON: arrays and objects nested more than 128 levels deep (a config needs at most four)",
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        // "é" is two bytes in UTF-8; an editor shows the comma's closing brace at column 63.
        check_err(
            r#"[{"name":"é","metric_type":"gauge","custom_function":"square",}]"#,
            "line 1, column 63: invalid JSON: trailing comma",
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_located() {
        let dir = std::env::temp_dir().join(format!("mg-config-utf8-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.json");
        std::fs::write(&path, b"[{\"name\": \"\xc3\xa9\",\n  \"help\": \"\xff\"}]").unwrap();
        let err = load(Some(&path), &Options::default(), &Registry::builtin()).err().unwrap().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            err,
            format!("config {}: line 2, column 12: not valid UTF-8 (byte 0xff at offset 27)", path.display())
        );
    }

    #[test]
    fn control_and_invisible_characters_are_escaped_in_messages() {
        // Found by fuzzing (fuzz/fuzz_targets/config.rs): JSON lets a string hold DEL as it is,
        // and the message printed it raw.
        check_err("\"every\u{7f}\"\n", "expected a JSON array of metric entries, got a string (\"every\\u{7f}\")");
        check_err(
            "[{\"name\": \"a\", \"metric_type\": \"gauge\", \"custom_function\": \"sine\", \"params\": {\"period\": \"\u{200b}\u{85}\"}}]",
            "entry 0 (\"a\"): field \"params\": param \"period\": expected an integer ≥ 1, got \"\\u{200b}\\u{85}\"",
        );
        check_err(
            "[{\"name\": \"a\\u0000\", \"metric_type\": \"gauge\", \"custom_function\": \"square\"}]",
            "entry 0 (\"a\\0\"): field \"name\": \"ns_a\\0\" is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)",
        );
    }

    #[test]
    fn long_names_are_cut_in_messages() {
        let long = "a".repeat(100_000);
        let text = format!(r#"[{{"name":"{long}-","metric_type":"gauge","custom_function":"square"}}]"#);
        let message = load_str(&text).err().unwrap().to_string();
        let sixty = "a".repeat(60);
        assert_eq!(
            message,
            format!(
                "config t.json: entry 0 (\"{sixty}\"… (100001 characters)): field \"name\": \"ns_{}\"… \
                 (100004 characters) is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)",
                &sixty[3..]
            )
        );
        let text =
            format!(r#"[{{"name":"a","metric_type":"gauge","custom_function":"square","params":{{"{long}":1}}}}]"#);
        let message = load_str(&text).err().unwrap().to_string();
        assert!(message.len() < 200, "{message}");
        let text = format!(
            r#"[{{"name":"a","metric_type":"gauge","custom_function":"sine","params":{{"period":"{long}"}}}}]"#
        );
        let message = load_str(&text).err().unwrap().to_string();
        assert!(
            message.ends_with(&format!("param \"period\": expected an integer ≥ 1, got \"{}…", &long[..39])),
            "{message}"
        );
    }

    /// The checks of [`Seen`] as they were first written: each entry against every earlier one.
    /// [`Seen`] must give the same verdicts and messages.
    fn check_by_scan(entry: &Entry, earlier: &[Entry], items: &[Value]) -> Result<(), String> {
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
            if same_series(other, entry) {
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

    #[test]
    fn indexed_checks_agree_with_a_scan_of_every_earlier_entry() {
        use crate::functions::SplitMix64;
        // Entries drawn from a small pool, so that names, types, labels and help texts collide often.
        let names = ["a", "a_total", "b"];
        let kinds = ["gauge", "counter"];
        let labels = [
            "",
            r#","labels":{"x":"1"}"#,
            r#","labels":{"x":"2"}"#,
            r#","labels":{"x":["1","3"]}"#,
            r#","labels":{"x":"1","y":"1"}"#,
            r#","series":2"#,
            r#","labels":{"series":"1"}"#,
            r#","labels":{"series":"01"}"#,
        ];
        let helps = ["", r#","help":"h1""#, r#","help":"h2""#];
        let mut rng = SplitMix64(7);
        let mut pick = |n: usize| (rng.next_u64() % n as u64) as usize;
        let (mut errors, registry) = (0, Registry::builtin());
        for _ in 0..3000 {
            let count = 2 + pick(5);
            let items: Vec<Value> = (0..count)
                .map(|_| {
                    let text = format!(
                        r#"{{"name":"{}","metric_type":"{}","custom_function":"square"{}{}}}"#,
                        names[pick(3)],
                        kinds[pick(2)],
                        labels[pick(labels.len())],
                        helps[pick(3)]
                    );
                    serde_json::from_str(&text).unwrap()
                })
                .collect();
            let (mut entries, mut seen) = (Vec::new(), Seen::default());
            for (index, item) in items.iter().enumerate() {
                let entry = parse_entry(item, "ns", &registry).unwrap();
                let indexed = seen.check(&entry, &entries, &items);
                assert_eq!(indexed, check_by_scan(&entry, &entries, &items), "{items:?}");
                if indexed.is_err() {
                    errors += 1;
                    break;
                }
                seen.add(index, &entry);
                entries.push(entry);
            }
        }
        // The pool makes most configs wrong somewhere, in all four ways.
        assert!(errors > 1000, "{errors}");
    }
}
