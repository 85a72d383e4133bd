//! The config: reading, parsing and validating a file into [`Config`]. `json` reads the JSON text,
//! `entry` each entry's fields, `conflicts` what entries may not share.
//!
//! Everything a config can get wrong is found here, at load, so that serving cannot fail on bad
//! input. Entries are read field by field from the JSON tree (rather than through derived serde
//! types) so that every message can name the entry, by index and name, and the field.

mod conflicts;
mod entry;
mod json;
mod lifecycle;
mod native;
#[cfg(test)]
mod tests;
mod types;

pub use entry::{Entry, Kind, LabelValues, Served, NO_FUNCTION};
pub use lifecycle::{Active, Churn, Jitter};
pub use native::{NativeCounts, NativeSchema, DEFAULT_ZERO_THRESHOLD};
pub use types::{state_index, ObservationCount, Observe, DEFAULT_BUCKETS, DEFAULT_QUANTILES, MAX_OBSERVATIONS};

use crate::error::Error;
use crate::functions::Registry;
use crate::names::DEFAULT_NAMESPACE;
use crate::text::quoted;
use conflicts::Conflicts;
use json::{json_message, not_utf8, type_name, Tree};
use serde_json::Value;
use std::path::Path;

/// The built-in default config, served when no `--config` is given; `example_config.json` is the
/// same file.
pub const EMBEDDED: &str = include_str!("../../example_config.json");

/// How the embedded default is named in messages.
pub const EMBEDDED_NAME: &str = "<embedded default>";

/// What loading depends on besides the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Prefix of every metric name; empty for none.
    pub namespace: String,
    /// The most series a config may expand to (`--max-series`).
    pub max_series: u64,
    /// `--shard K/N`: serve only the series whose global number is K mod N.
    pub shard: Option<Shard>,
}

/// One of N shards: the series whose global number g (0, 1, … over the whole config, in serving
/// order) has g mod `count` = `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

/// The default of `--max-series`.
pub const DEFAULT_MAX_SERIES: u64 = 1_000_000;

impl Default for Options {
    fn default() -> Self {
        Options { namespace: DEFAULT_NAMESPACE.into(), max_series: DEFAULT_MAX_SERIES, shard: None }
    }
}

/// A validated config: at least one entry, every name, label set and function checked.
pub struct Config {
    /// The file it came from, or [`EMBEDDED_NAME`].
    pub source: String,
    pub entries: Vec<Entry>,
    /// The shard this process serves, if it is one of several.
    pub shard: Option<Shard>,
}

impl Config {
    /// How many series the config has in all (every shard's together).
    pub fn series(&self) -> u64 {
        self.entries.iter().map(|e| e.series).sum()
    }

    /// How many series this process serves: all of them, or its shard's.
    pub fn served(&self) -> u64 {
        self.entries.iter().map(|e| e.served.count).sum()
    }

    /// The config's entries grouped into families (by sample name), in serving order: each
    /// family in the order of its first entry, its entries in config order. Through a map by
    /// name, so that 100,000 families take linear time.
    pub fn families_in_order(&self) -> Vec<Vec<usize>> {
        families_in_order(&self.entries)
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
    let mut conflicts = Conflicts::default();
    // Series are counted, never materialised, so a config asking for 10¹⁸ of them is refused here
    // without using memory.
    let mut total: u64 = 0;
    for (index, item) in items.iter().enumerate() {
        let entry = entry::parse_entry(item, &options.namespace, registry)
            .map_err(|m| err(format!("{}: {m}", describe(index, item))))?;
        conflicts.check(&entry, &entries, &items).map_err(|m| err(format!("{}: {m}", describe(index, item))))?;
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
        conflicts.add(index, &entry);
        entries.push(entry);
    }
    if let Some(shard) = options.shard {
        assign_shard(&mut entries, shard);
    }
    Ok(Config { source: source.to_string(), entries, shard: options.shard })
}

/// Gives each entry the series of `shard`: global numbers run over the entries in serving order
/// (see [`Config::families_in_order`]), and within an entry over its series.
fn assign_shard(entries: &mut [Entry], shard: Shard) {
    let mut base: u64 = 0;
    for family in families_in_order(entries) {
        for index in family {
            let entry = &mut entries[index];
            entry.served = Served::of_shard(base, entry.series, shard);
            base = base.saturating_add(entry.series);
        }
    }
}

/// The entries grouped into families by sample name, in serving order (see
/// [`Config::families_in_order`]).
fn families_in_order(entries: &[Entry]) -> Vec<Vec<usize>> {
    let mut families: Vec<Vec<usize>> = Vec::new();
    let mut family_of: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (index, entry) in entries.iter().enumerate() {
        match family_of.entry(entry.sample_name()) {
            std::collections::hash_map::Entry::Occupied(f) => families[*f.get()].push(index),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(families.len());
                families.push(vec![index]);
            }
        }
    }
    families
}

/// `entry 2 ("jobs_done")`, or `entry 2` when it has no usable name.
pub(crate) fn describe(index: usize, item: &Value) -> String {
    match item.get("name").and_then(Value::as_str) {
        Some(name) => format!("entry {index} ({})", quoted(name)),
        None => format!("entry {index}"),
    }
}
