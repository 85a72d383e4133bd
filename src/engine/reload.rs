//! Reloading: a new config replaces the running one, and every series whose definition did not
//! change keeps its place in its sequence.

use super::series::Series;
use super::state::{advance, fast_forward, fresh, lock, unix_seconds, Fresh, State};
use crate::config::{Config, Entry, Served};
use crate::error::Error;
use crate::exposition::Catalog;
use crate::time::Align;
use std::collections::HashMap;
use std::sync::Arc;

/// What a successful reload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReloadStats {
    /// Series whose definition did not change: they keep their place in their sequence.
    pub kept: u64,
    /// New series: they start at their first value.
    pub started: u64,
    /// Series whose definition changed (an entry of the same name and labels, with another
    /// type, function, params, …): they start at their first value too, and count once, here.
    pub changed: u64,
    /// Series no longer in the config.
    pub removed: u64,
}

impl State {
    /// Replaces the config. Series whose definition (name, labels, type, function, params,
    /// reset_interval) did not change keep their sequence and so their place in it; removed ones
    /// disappear; new ones start at their first value at once with `--align start`, and with
    /// `--align wall-clock` are fast-forwarded to the current tick, as if they had always been
    /// there (a series that cannot be, within [`FAST_FORWARD_BUDGET`], fails the reload and
    /// changes nothing).
    pub fn reload(&self, config: Config) -> Result<ReloadStats, Error> {
        // With wall-clock alignment, the fast-forward of new series (up to a few tenths of a
        // second each) happens before the engine lock is taken, so the ticker is not held up;
        // under the lock they only catch up with the ticks that passed meanwhile.
        let mut prepared: Vec<Option<Fresh>> = config.entries.iter().map(|_| None).collect();
        if self.align == Align::WallClock {
            let current = self.snapshot();
            let known: std::collections::HashSet<(&str, Served)> =
                current.config.entries.iter().map(|e| (e.definition.as_str(), e.served)).collect();
            for (index, entry) in config.entries.iter().enumerate() {
                if !known.contains(&(entry.definition.as_str(), entry.served)) {
                    let mut added = fresh(entry);
                    let (series, mut part) = added.part();
                    fast_forward(series, &mut part, current.ticks, index, entry, &config.source)?;
                    prepared[index] = Some(added);
                }
            }
        }
        let mut engine = lock(&self.engine);
        let engine = &mut *engine;
        let n = engine.ticks;
        // First every new entry's series, which may fail; only then is the engine changed.
        let mut plan: Vec<Result<usize, AddedEntry>> = Vec::with_capacity(config.entries.len());
        // Old entries by definition (unique within a config) and, with `--shard`, the series this
        // process holds of them (an entry whose share moved, as an earlier fan-out grew, starts
        // afresh): a lookup each, so that reloading 100,000 entries is not 100,000² comparisons.
        let mut by_definition: HashMap<(&str, Served), usize> = HashMap::with_capacity(engine.config.entries.len());
        for (index, e) in engine.config.entries.iter().enumerate() {
            by_definition.entry((e.definition.as_str(), e.served)).or_insert(index);
        }
        for (index, entry) in config.entries.iter().enumerate() {
            if let Some(old) = by_definition.remove(&(entry.definition.as_str(), entry.served)) {
                plan.push(Ok(old));
                continue;
            }
            plan.push(Err(match self.align {
                Align::Start => {
                    let mut added = fresh(entry);
                    added.series = added.series.starting_at(n.max(1));
                    if n > 0 {
                        let (series, mut part) = added.part();
                        advance(entry, series, n, &mut part, &mut |_| {});
                    }
                    AddedEntry { fresh: added, start: n.max(1) }
                }
                Align::WallClock => {
                    let mut added = prepared[index].take().unwrap_or_else(|| fresh(entry));
                    let (series, mut part) = added.part();
                    fast_forward(series, &mut part, n, index, entry, &config.source)?;
                    AddedEntry { fresh: added, start: 1 }
                }
            }));
        }
        // Where each old entry's values, observations and native buckets begin.
        let offsets: Vec<(usize, usize, usize)> = engine
            .series
            .iter()
            .zip(&engine.config.entries)
            .scan((0, 0, 0), |offset, (series, entry)| {
                let start = *offset;
                *offset = (
                    offset.0 + series.value_count(),
                    offset.1 + entry.observed_count(),
                    offset.2 + entry.native_count(),
                );
                Some(start)
            })
            .collect();
        let mut old: Vec<Option<Series>> = engine.series.drain(..).map(Some).collect();
        let mut stats = ReloadStats { kept: 0, started: 0, changed: 0, removed: 0 };
        let mut starts = Vec::with_capacity(plan.len());
        let mut series = Vec::with_capacity(plan.len());
        let mut values = Vec::with_capacity(config.entries.iter().map(|e| e.value_count() as usize).sum());
        let mut observed = Vec::with_capacity(config.entries.iter().map(Entry::observed_count).sum());
        let mut native = Vec::with_capacity(config.entries.iter().map(Entry::native_count).sum());
        let added: Vec<bool> = plan.iter().map(Result::is_err).collect();
        for (step, entry) in plan.into_iter().zip(&config.entries) {
            match step {
                Ok(index) => {
                    stats.kept += entry.served.count;
                    let kept = old[index].take().expect("each old entry is kept at most once");
                    let (at, observed_at, native_at) = offsets[index];
                    values.extend_from_slice(&engine.values[at..at + kept.value_count()]);
                    observed.extend_from_slice(&engine.observed[observed_at..observed_at + entry.observed_count()]);
                    native.extend_from_slice(&engine.native[native_at..native_at + entry.native_count()]);
                    series.push(kept);
                    starts.push(engine.starts[index]);
                }
                Err(new) => {
                    stats.started += entry.served.count;
                    let Fresh { series: new_series, values: new_values, observed: new_observed, native: new_native } =
                        new.fresh;
                    values.extend_from_slice(&new_values);
                    observed.extend_from_slice(&new_observed);
                    native.extend(new_native);
                    series.push(new_series);
                    starts.push(new.start);
                }
            }
        }
        stats.removed = old
            .iter()
            .zip(&engine.config.entries)
            .filter(|(series, _)| series.is_some())
            .map(|(_, entry)| entry.served.count)
            .sum();
        // An entry that replaced one with the same series (name and labels) changed them: counted
        // once, as changed, rather than as started and removed.
        // With `--shard`, the old entry may have held another number of series than the new one.
        let mut gone: HashMap<String, Vec<u64>> = HashMap::new();
        for (series, entry) in old.iter().zip(&engine.config.entries) {
            if series.is_some() {
                gone.entry(entry.describe_series()).or_default().push(entry.served.count);
            }
        }
        for (entry, new) in config.entries.iter().zip(&added) {
            if let Some(held) = gone.get_mut(&entry.describe_series()).filter(|_| *new).and_then(Vec::pop) {
                stats.changed += entry.served.count;
                stats.started -= entry.served.count;
                stats.removed -= held;
            }
        }
        let config = Arc::new(config);
        engine.catalog = Arc::new(Catalog::new(&config));
        engine.config = config;
        engine.series = series;
        engine.values = Arc::new(values);
        engine.observed = Arc::new(observed);
        engine.native = Arc::new(native);
        engine.starts = starts.into();
        engine.reload_ok = true;
        engine.reload_success_time = unix_seconds();
        self.publish(engine, false);
        Ok(stats)
    }
}

/// The series of an entry that a reload adds (new, or changed), prepared before the engine
/// changes.
struct AddedEntry {
    fresh: Fresh,
    /// See [`Snapshot::starts`].
    start: u64,
}
