//! Prometheus's protobuf exposition format: length-delimited `MetricFamily` messages of
//! `metrics.proto` (package `io.prometheus.client`), written by hand. The format is a handful of
//! messages whose fields are varints, doubles and nested messages; a small encoder here keeps the
//! binary free of a protobuf runtime and its code generation, and a decoder we did not write
//! (Python's `protobuf`, from the same `.proto`) checks it in the tests.
//!
//! As in the text formats, everything that depends only on the config (family names and help,
//! each label pair's bytes) is encoded once, when the catalog is built; a render writes values.
//! Counters carry their created timestamp; histograms their classic buckets and, when the config
//! asks for them, their native buckets; info metrics and statesets are gauges.

use super::TickValues;
use crate::config::{
    state_index, Active, Churn, Config, Entry, Jitter, Kind, LabelValues, NativeCounts, NativeSchema, Served,
};
use crate::exposition::families;
use crate::names::SELF_PREFIX;
use crate::wire::{bytes_field, double_field, key, sint_field, varint, varint_field, varint_len, LENGTH};

/// `MetricType` values.
const COUNTER: u64 = 0;
const GAUGE: u64 = 1;
const SUMMARY: u64 = 2;
const HISTOGRAM: u64 = 4;

/// The fixed bytes of a config's protobuf exposition.
pub(super) struct ProtoCatalog {
    families: Vec<ProtoFamily>,
}

/// One family: its `name`, `help` and `type` fields, encoded, and its entries.
struct ProtoFamily {
    header: Vec<u8>,
    entries: Vec<ProtoEntry>,
}

/// One config entry's series.
struct ProtoEntry {
    /// Where its values, cycle starts, observations and native buckets are in a tick's.
    index: usize,
    per_series: bool,
    cycle_index: usize,
    own_cycles: bool,
    observed_index: usize,
    width: usize,
    native_index: usize,
    /// Which series are served: series `served.k(j)` for j in 0..served.count.
    served: Served,
    kind: Kind,
    /// A histogram's bucket bounds or a summary's quantiles.
    points: Vec<f64>,
    native: Option<NativeSchema>,
    /// A stateset's state label, one encoded `label` field per state.
    states: Vec<Vec<u8>>,
    labels: Vec<ProtoLabel>,
    active: Option<Active>,
    churn: Option<Churn>,
    jitter: Option<Jitter>,
}

/// One label of an entry's series, as `label` fields of a `Metric`.
enum ProtoLabel {
    /// The same for every series.
    One(Vec<u8>),
    /// One of a fanned-out label's: number `(k / stride) % values.len()`.
    Values { values: Vec<Vec<u8>>, stride: u64 },
    /// The `series` label: `(k / stride) % n`, written as a decimal.
    Count { name: String, n: u64, stride: u64 },
    /// A churning entry's generation label: the tick's generation, as a decimal.
    Generation { name: String },
}

impl ProtoCatalog {
    /// Encodes the fixed bytes of `config`'s families.
    pub(super) fn new(config: &Config) -> ProtoCatalog {
        let mut entries: Vec<Option<ProtoEntry>> = Vec::with_capacity(config.entries.len());
        let (mut index, mut cycle_index, mut observed_index, mut native_index) = (0, 0, 0, 0);
        for entry in &config.entries {
            entries.push(Some(ProtoEntry::new(entry, index, cycle_index, observed_index, native_index)));
            index += entry.value_count() as usize;
            cycle_index += entry.cycle_start_count() as usize;
            observed_index += entry.observed_count();
            native_index += entry.native_count();
        }
        let families = families(config)
            .into_iter()
            .map(|family| {
                let kind = match family.kind {
                    Kind::Counter => COUNTER,
                    Kind::Gauge | Kind::Info | Kind::Stateset => GAUGE,
                    Kind::Summary => SUMMARY,
                    Kind::Histogram => HISTOGRAM,
                };
                let mut header = Vec::new();
                bytes_field(&mut header, 1, family.sample_name.as_bytes());
                bytes_field(&mut header, 2, family.help.as_bytes());
                varint_field(&mut header, 3, kind);
                ProtoFamily { header, entries: family.members.iter().filter_map(|&m| entries[m].take()).collect() }
            })
            .collect();
        ProtoCatalog { families }
    }

    /// Appends the exposition of one tick, handing `out` to `flush` after each family.
    pub(super) fn render(&self, values: &TickValues, out: &mut Vec<u8>, flush: &mut dyn FnMut(&mut Vec<u8>)) {
        let (mut family, mut metric, mut scratch) = (Vec::new(), Vec::new(), Vec::new());
        let mut digits = itoa::Buffer::new();
        for proto in &self.families {
            // A family none of whose entries is served at this tick is left out whole.
            let tick = values.tick;
            if !proto.entries.iter().any(|e| e.active.map_or(true, |a| a.at(tick))) {
                continue;
            }
            family.clear();
            family.extend_from_slice(&proto.header);
            for entry in proto.entries.iter().filter(|e| e.active.map_or(true, |a| a.at(tick))) {
                for j in 0..entry.served.count {
                    let k = entry.served.k(j);
                    let lines = if entry.kind == Kind::Stateset { entry.states.len() } else { 1 };
                    for line in 0..lines {
                        metric.clear();
                        entry.write_labels(k, tick, &mut metric, &mut digits);
                        if entry.kind == Kind::Stateset {
                            metric.extend_from_slice(&entry.states[line]);
                        }
                        entry.write_value(j, k, line, values, &mut metric, &mut scratch);
                        bytes_field(&mut family, 4, &metric);
                    }
                }
            }
            varint(out, family.len() as u64);
            out.extend_from_slice(&family);
            flush(out);
        }
        // The exporter's own metrics, from the list every format renders.
        for own in values.self_metrics.families() {
            family.clear();
            let name = format!("{SELF_PREFIX}{}{}", own.name, if own.counter { "_total" } else { "" });
            bytes_field(&mut family, 1, name.as_bytes());
            bytes_field(&mut family, 2, own.help.as_bytes());
            varint_field(&mut family, 3, if own.counter { COUNTER } else { GAUGE });
            metric.clear();
            if let Some((label, value)) = own.label {
                label_pair(&mut metric, label, value);
            }
            scratch.clear();
            double_field(&mut scratch, 1, own.value);
            bytes_field(&mut metric, if own.counter { 3 } else { 2 }, &scratch);
            bytes_field(&mut family, 4, &metric);
            varint(out, family.len() as u64);
            out.extend_from_slice(&family);
        }
        flush(out);
    }
}

impl ProtoEntry {
    fn new(entry: &Entry, index: usize, cycle_index: usize, observed_index: usize, native_index: usize) -> Self {
        let mut stride = entry.series;
        let labels = entry
            .label_slots()
            .into_iter()
            .map(|(name, values)| {
                let encoded = |value: &str| {
                    let mut out = Vec::new();
                    label_pair(&mut out, name, value);
                    out
                };
                match values {
                    None => ProtoLabel::Generation { name: name.to_string() },
                    Some(LabelValues::One(v)) => ProtoLabel::One(encoded(v)),
                    Some(LabelValues::List(vs)) => {
                        stride /= vs.len() as u64;
                        ProtoLabel::Values { values: vs.iter().map(|v| encoded(v)).collect(), stride }
                    }
                    Some(LabelValues::Count(n)) => {
                        stride /= n;
                        ProtoLabel::Count { name: name.to_string(), n: *n, stride }
                    }
                }
            })
            .collect();
        let states = entry
            .states
            .iter()
            .map(|state| {
                let mut out = Vec::new();
                label_pair(&mut out, &entry.full_name, state);
                out
            })
            .collect();
        let observe = entry.observe.as_ref();
        ProtoEntry {
            index,
            per_series: entry.per_series,
            cycle_index,
            own_cycles: entry.cycle_start_count() > 1,
            observed_index,
            width: observe.map_or(0, |o| o.width()),
            native_index,
            served: entry.served,
            kind: entry.kind,
            points: observe.map(|o| o.points.clone()).unwrap_or_default(),
            native: observe.and_then(|o| o.native),
            states,
            labels,
            active: entry.active,
            churn: entry.churn.clone(),
            jitter: entry.jitter,
        }
    }

    /// Appends the `label` fields of series `k` at tick `tick`.
    fn write_labels(&self, k: u64, tick: u64, out: &mut Vec<u8>, digits: &mut itoa::Buffer) {
        for label in &self.labels {
            match label {
                ProtoLabel::One(bytes) => out.extend_from_slice(bytes),
                ProtoLabel::Values { values, stride } => {
                    out.extend_from_slice(&values[((k / stride) % values.len() as u64) as usize]);
                }
                ProtoLabel::Count { name, n, stride } => {
                    label_pair(out, name, digits.format((k / stride) % n));
                }
                ProtoLabel::Generation { name } => {
                    let generation = self.churn.as_ref().map_or(0, |churn| churn.generation(tick));
                    label_pair(out, name, digits.format(generation));
                }
            }
        }
    }

    /// Appends the value field of served series `j`, series `k` (line `line` of a stateset):
    /// `gauge`, `counter`, `summary` or `histogram`.
    fn write_value(&self, j: u64, k: u64, line: usize, values: &TickValues, out: &mut Vec<u8>, scratch: &mut Vec<u8>) {
        let slot = if self.per_series { j as usize } else { 0 };
        let value = values.values[self.index + slot] + self.jitter.map_or(0.0, |jitter| jitter.at(k, values.tick));
        let cycle = self.cycle_index + if self.own_cycles { j as usize } else { 0 };
        let created_ms = values.clock.time_ms(values.cycle_starts[cycle]);
        let observed = &values.observed[self.observed_index + slot * self.width..][..self.width];
        scratch.clear();
        match self.kind {
            Kind::Gauge => double_field(scratch, 1, value),
            Kind::Info => double_field(scratch, 1, 1.0),
            Kind::Stateset => {
                double_field(scratch, 1, f64::from(u8::from(state_index(value, self.states.len()) == line)))
            }
            Kind::Counter => {
                double_field(scratch, 1, value);
                timestamp_field(scratch, 3, created_ms);
            }
            Kind::Summary => {
                let points = self.points.len();
                varint_field(scratch, 1, observed[points] as u64);
                double_field(scratch, 2, observed[points + 1]);
                let mut quantile = Vec::with_capacity(18);
                for (&phi, &v) in self.points.iter().zip(observed) {
                    quantile.clear();
                    double_field(&mut quantile, 1, phi);
                    double_field(&mut quantile, 2, v);
                    bytes_field(scratch, 3, &quantile);
                }
                timestamp_field(scratch, 4, created_ms);
            }
            Kind::Histogram => {
                let points = self.points.len();
                varint_field(scratch, 1, observed[points] as u64);
                double_field(scratch, 2, observed[points + 1]);
                let mut bucket = Vec::with_capacity(20);
                for (&le, &count) in self.points.iter().zip(observed) {
                    bucket.clear();
                    varint_field(&mut bucket, 1, count as u64);
                    double_field(&mut bucket, 2, le);
                    bytes_field(scratch, 3, &bucket);
                }
                if let Some(schema) = &self.native {
                    write_native(scratch, schema, &values.native[self.native_index + slot]);
                }
                timestamp_field(scratch, 15, created_ms);
            }
        }
        let field = match self.kind {
            Kind::Gauge | Kind::Info | Kind::Stateset => 2,
            Kind::Counter => 3,
            Kind::Summary => 4,
            Kind::Histogram => 7,
        };
        bytes_field(out, field, scratch);
    }
}

/// The native fields of a `Histogram`: schema, zero threshold and count, and each side's spans
/// and deltas (the first bucket's count, then each one's difference from the one before).
fn write_native(out: &mut Vec<u8>, schema: &NativeSchema, counts: &NativeCounts) {
    sint_field(out, 5, i64::from(schema.schema));
    double_field(out, 6, schema.zero_threshold);
    varint_field(out, 7, counts.zero as u64);
    for (buckets, span_field, delta_field) in [(&counts.negative, 9, 10), (&counts.positive, 12, 13)] {
        let mut span = Vec::with_capacity(8);
        let mut runs: Vec<(i32, u32)> = Vec::new();
        for &(i, _) in buckets.iter() {
            match runs.last_mut() {
                Some((start, length)) if *start + *length as i32 == i => *length += 1,
                _ => runs.push((i, 1)),
            }
        }
        let mut end = 0;
        for (index, &(start, length)) in runs.iter().enumerate() {
            span.clear();
            // The first span's offset is its start; the others' the gap after the one before.
            sint_field(&mut span, 1, i64::from(if index == 0 { start } else { start - end }));
            varint_field(&mut span, 2, u64::from(length));
            bytes_field(out, span_field, &span);
            end = start + length as i32;
        }
        let mut previous = 0i64;
        for &(_, count) in buckets.iter() {
            let count = count as i64;
            sint_field(out, delta_field, count - previous);
            previous = count;
        }
    }
}

/// A `LabelPair` as a `label` field (1) of a `Metric`.
fn label_pair(out: &mut Vec<u8>, name: &str, value: &str) {
    let length = 2 + varint_len(name.len() as u64) + name.len() + varint_len(value.len() as u64) + value.len();
    key(out, 1, LENGTH);
    varint(out, length as u64);
    bytes_field(out, 1, name.as_bytes());
    bytes_field(out, 2, value.as_bytes());
}

/// A `google.protobuf.Timestamp` field of Unix milliseconds `ms`.
fn timestamp_field(out: &mut Vec<u8>, field: u32, ms: i64) {
    let (seconds, nanos) = (ms.div_euclid(1000), ms.rem_euclid(1000) * 1_000_000);
    let mut timestamp = Vec::with_capacity(16);
    if seconds != 0 {
        varint_field(&mut timestamp, 1, seconds as u64);
    }
    if nanos != 0 {
        varint_field(&mut timestamp, 2, nanos as u64);
    }
    bytes_field(out, field, &timestamp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_split_into_seconds_and_nanos() {
        let mut out = Vec::new();
        timestamp_field(&mut out, 3, 1_700_000_000_250);
        // Field 3 of 11 bytes: seconds (field 1, 5 bytes of varint), nanos (field 2, 4 bytes).
        assert_eq!(out[..3], [3 << 3 | 2, 11, 1 << 3]);
        assert_eq!(out[8], 2 << 3);
        assert_eq!(out.len(), 13);
    }
}
