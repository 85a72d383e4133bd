//! What entries may not share: one name with two types, samples of two families under one name,
//! two series with the same name and labels, two HELP texts for one family.

use super::describe;
use super::entry::{Entry, LabelValues};
use crate::text::shortened;
use serde_json::Value;
use std::collections::HashMap;

/// Rejects what would make the exposition ambiguous: one family name with two types, samples of
/// two families under one name, two series with the same name and labels, two HELP texts.
///
/// Earlier entries are indexed by name, so that an entry is compared only with those sharing its
/// family or sample name, and among those an entry whose labels have one value each is looked up
/// rather than compared: a config of 100,000 entries loads in linear time, not quadratic. When a
/// new entry conflicts with several earlier ones, the message names the first of them, as a scan
/// in config order would.
#[derive(Default)]
pub(super) struct Conflicts {
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
    Native,
}

impl Conflicts {
    /// Checks `entry` against the `earlier` entries added so far; `items` are their JSON, for
    /// naming them.
    pub(super) fn check(&self, entry: &Entry, earlier: &[Entry], items: &[Value]) -> Result<(), String> {
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
                // Prometheus decides from a family's first histogram whether all are native.
                let native = |e: &Entry| e.observe.as_ref().and_then(|o| o.native);
                if native(&earlier[group.first]).is_some() != native(entry).is_some() {
                    note(group.first, Conflict::Native);
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
            Conflict::Native => {
                format!("native differs from that of {them}; a family's histograms are all native or none")
            }
        })
    }

    /// Records entry `index`, which passed [`Conflicts::check`].
    pub(super) fn add(&mut self, index: usize, entry: &Entry) {
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
pub(super) fn same_series(a: &Entry, b: &Entry) -> bool {
    a.labels.len() == b.labels.len() && a.labels.iter().zip(&b.labels).all(|(x, y)| x.0 == y.0 && x.1.overlaps(&y.1))
}
