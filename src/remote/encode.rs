//! A tick's samples as remote-write 1.0 requests: `prometheus.WriteRequest` messages
//! (`prompb/remote.proto`, `types.proto`), encoded by hand with `crate::wire` and compressed with
//! snappy's block format, at most [`SAMPLES_PER_REQUEST`] samples each.
//!
//! The values are replayed from the config ([`Replay`]), one replay per series kept from tick to
//! tick, so what is sent is what `/api/v1/expected` says at each tick's time, and encoding takes
//! no lock. Each series is named and labelled as Prometheus stores a scrape of the OpenMetrics
//! exposition (`exposition::lines`): counters as `x_total`, histograms as their `_bucket`s (native
//! ones too: remote write 1.0 carries floats), `_sum` and `_count`. A series that was served at the
//! tick sent before and is not now (a gap of `active`, a new `churn` generation, a reload that
//! removed or relabelled it) gets a stale marker at this tick's time.

use crate::config::{Config, Entry};
use crate::engine::{Budget, Replay, FAST_FORWARD_BUDGET};
use crate::exposition::{lines, Format, Line};
use crate::time::Grid;
use crate::wire::{bytes_field, double_field, key, varint, varint_field, varint_len, LENGTH};
use std::collections::HashSet;

/// Prometheus's staleness marker: a NaN that no computation yields (`value.StaleNaN`).
pub const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

/// The most samples in one request (Prometheus's own sender sends 2,000 by default; bigger
/// requests cost fewer round trips for the same bytes).
pub const SAMPLES_PER_REQUEST: usize = 10_000;

/// One POST body: a compressed `WriteRequest`.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The tick its samples belong to.
    pub tick: u64,
    /// How many samples it holds, stale markers included.
    pub samples: u64,
    /// Snappy (block format) of the encoded `WriteRequest`.
    pub body: Vec<u8>,
}

/// The running replays of one config's series, and what was served at the last tick encoded.
pub struct Encoder<'a> {
    config: &'a Config,
    starts: &'a [u64],
    grid: Grid,
    entries: Vec<EntryState<'a>>,
    /// The last tick encoded with this config.
    last: Option<u64>,
    /// The series served at the last tick of the previous config (as their label bytes): those
    /// the first tick of this one does not serve get a stale marker.
    carried: Option<HashSet<Vec<u8>>>,
    writer: Writer,
}

/// The requests of the tick being encoded.
struct Writer {
    tick: u64,
    raw: Vec<u8>,
    samples: usize,
    requests: Vec<Request>,
    snappy: snap::raw::Encoder,
}

impl Writer {
    /// Adds a series with one sample; a full request is compressed and set aside.
    fn push(&mut self, labels: &[u8], value: f64, time: i64) {
        push_series(&mut self.raw, labels, value, time);
        self.samples += 1;
        if self.samples == SAMPLES_PER_REQUEST {
            self.flush();
        }
    }

    /// Ends the request being written, if it holds anything.
    fn flush(&mut self) {
        if self.samples == 0 {
            return;
        }
        let body = self.snappy.compress_vec(&self.raw).expect("snappy takes any input under 4 GiB");
        self.requests.push(Request { tick: self.tick, samples: self.samples as u64, body });
        self.raw.clear();
        self.samples = 0;
    }
}

struct EntryState<'a> {
    lines: Vec<Line>,
    /// Per series, its replay once it was first needed.
    replays: Vec<Option<Replay<'a>>>,
    /// The series cannot be replayed within the budget: logged once, not sent.
    given_up: bool,
}

impl<'a> Encoder<'a> {
    /// An encoder for `config`, whose entry i has its first value at tick `starts[i]`, on `grid`;
    /// `carried` holds the series served just before, under the previous config.
    pub fn new(config: &'a Config, starts: &'a [u64], grid: Grid, carried: Option<HashSet<Vec<u8>>>) -> Self {
        let entries = config
            .entries
            .iter()
            .map(|entry| EntryState {
                lines: lines(entry, Format::OpenMetrics),
                // One slot per series this process serves (all, or with `--shard` the shard's).
                replays: (0..entry.served.count).map(|_| None).collect(),
                given_up: false,
            })
            .collect();
        let writer =
            Writer { tick: 0, raw: Vec::new(), samples: 0, requests: Vec::new(), snappy: snap::raw::Encoder::new() };
        Encoder { config, starts, grid, entries, last: None, carried, writer }
    }

    fn first(&self, index: usize) -> u64 {
        self.starts.get(index).copied().unwrap_or(1)
    }

    /// The requests of tick `n` (after the last tick encoded): every served series' samples at
    /// the tick's time on the grid, and stale markers for the series that went.
    pub fn encode(&mut self, n: u64) -> Vec<Request> {
        let time = self.grid.time_ms(n);
        self.writer.tick = n;
        let stale = f64::from_bits(STALE_NAN);
        let mut served = self.carried.as_ref().map(|_| HashSet::new());
        let mut labels = Vec::with_capacity(256);
        let config = self.config;
        for (index, entry) in config.entries.iter().enumerate() {
            let first = self.first(index);
            if n < first || self.entries[index].given_up {
                continue;
            }
            let previous = self.last.filter(|&p| p >= first);
            let before = previous.filter(|&p| entry.active_at(p));
            let now = entry.active_at(n);
            let new_generation =
                entry.churn.as_ref().zip(previous).is_some_and(|(c, p)| c.generation(p) != c.generation(n));
            let gone = before.filter(|_| !now || new_generation);
            if gone.is_none() && !now {
                continue;
            }
            for j in 0..entry.served.count {
                let k = entry.served.k(j);
                if let Some(p) = gone {
                    let series = entry.labels_at(k, p);
                    for line in &self.entries[index].lines {
                        label_bytes(line, &series, &mut labels);
                        self.writer.push(&labels, stale, time);
                    }
                }
                if !now {
                    continue;
                }
                if !replay_at(entry, index, &mut self.entries[index], j, first, n, &config.source) {
                    break;
                }
                let state = &self.entries[index];
                let replay = state.replays[j as usize].as_ref().expect("replayed to n");
                let series = replay.labels();
                for line in &state.lines {
                    label_bytes(line, &series, &mut labels);
                    if let Some(served) = &mut served {
                        served.insert(labels.clone());
                    }
                    self.writer.push(&labels, line.value_of(entry, replay.value(), replay.observed()), time);
                }
            }
        }
        if let (Some(carried), Some(served)) = (self.carried.take(), served) {
            let mut gone: Vec<&Vec<u8>> = carried.difference(&served).collect();
            gone.sort();
            for labels in gone {
                self.writer.push(labels, stale, time);
            }
        }
        self.last = Some(n);
        self.writer.flush();
        std::mem::take(&mut self.writer.requests)
    }

    /// The series served at the last tick encoded, as label bytes: what a reload hands to the
    /// next config's encoder.
    pub fn served(&self) -> HashSet<Vec<u8>> {
        let mut out = HashSet::new();
        let Some(n) = self.last else { return out };
        let mut labels = Vec::new();
        for (index, entry) in self.config.entries.iter().enumerate() {
            if n < self.first(index) || !entry.active_at(n) || self.entries[index].given_up {
                continue;
            }
            for k in (0..entry.served.count).map(|j| entry.served.k(j)) {
                let series = entry.labels_at(k, n);
                for line in &self.entries[index].lines {
                    label_bytes(line, &series, &mut labels);
                    out.insert(labels.clone());
                }
            }
        }
        out
    }
}

/// Makes or moves the replay of the `j`th series this process serves of `entry` to tick `n`; false (logged once) when the entry's series
/// cannot be replayed within the fast-forward budget.
fn replay_at<'a>(
    entry: &'a Entry,
    index: usize,
    state: &mut EntryState<'a>,
    j: u64,
    first: u64,
    n: u64,
    source: &str,
) -> bool {
    let mut budget = Budget::new(FAST_FORWARD_BUDGET);
    let slot = &mut state.replays[j as usize];
    let moved = match slot {
        Some(replay) if replay.tick() <= n => replay.skip_to(n, &mut budget),
        _ => Replay::at(entry, entry.served.k(j), first, n, &mut budget).map(|replay| *slot = Some(replay)),
    };
    if moved.is_err() {
        log::error!(
            "remote write: entry {index} ({:?}) of config {source} cannot be replayed to tick {n} within \
             {FAST_FORWARD_BUDGET} steps; its series are not sent (see docs/ground-truth.md, Aligned ticks)",
            entry.name
        );
        state.given_up = true;
        state.replays.clear();
        return false;
    }
    true
}

/// The `labels` fields of a `TimeSeries` for `line` of a series labelled `series`: `__name__`,
/// the series' labels and the line's own, sorted by name as receivers require.
fn label_bytes(line: &Line, series: &[(&str, std::borrow::Cow<'_, str>)], out: &mut Vec<u8>) {
    out.clear();
    let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(series.len() + 2);
    pairs.push(("__name__", line.name.as_str()));
    pairs.extend(series.iter().map(|(name, value)| (*name, value.as_ref())));
    if let Some((name, value)) = &line.label {
        pairs.push((name.as_str(), value.as_str()));
    }
    pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (name, value) in pairs {
        let length = 2 + varint_len(name.len() as u64) + name.len() + varint_len(value.len() as u64) + value.len();
        key(out, 1, LENGTH);
        varint(out, length as u64);
        bytes_field(out, 1, name.as_bytes());
        bytes_field(out, 2, value.as_bytes());
    }
}

/// A `timeseries` field of a `WriteRequest`: the label fields `labels` and one sample.
fn push_series(out: &mut Vec<u8>, labels: &[u8], value: f64, time: i64) {
    let sample = 9 + 1 + varint_len(time as u64);
    let series = labels.len() + 1 + varint_len(sample as u64) + sample;
    key(out, 1, LENGTH);
    varint(out, series as u64);
    out.extend_from_slice(labels);
    key(out, 2, LENGTH);
    varint(out, sample as u64);
    double_field(out, 1, value);
    // An int64 field: a (never negative, here) varint.
    varint_field(out, 2, time as u64);
}

/// How many samples tick `n` serves (stale markers aside): what dropping it from the queue loses.
pub fn samples_at(config: &Config, starts: &[u64], n: u64) -> u64 {
    config
        .entries
        .iter()
        .enumerate()
        .filter(|(index, entry)| n >= starts.get(*index).copied().unwrap_or(1) && entry.active_at(n))
        .map(|(_, entry)| entry.served.count * lines(entry, Format::OpenMetrics).len() as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse, Options};
    use crate::functions::Registry;
    use crate::time::Align;
    use std::time::Duration;

    fn config(json: &str) -> Config {
        parse(json, "t", &Options { namespace: "ns".into(), ..Options::default() }, &Registry::builtin()).unwrap()
    }

    /// The samples of a request: (labels as `name{a="b"}`, value bits, time).
    fn decode(request: &Request) -> Vec<(String, u64, i64)> {
        let raw = snap::raw::Decoder::new().decompress_vec(&request.body).unwrap();
        let mut out = Vec::new();
        let mut r = Reader(&raw);
        while let Some((1, series)) = r.field() {
            let (mut name, mut labels, mut value, mut time) = (String::new(), Vec::new(), 0, 0);
            let mut s = Reader(series);
            while let Some((field, bytes)) = s.field() {
                let mut inner = Reader(bytes);
                if field == 1 {
                    let (_, n) = inner.field().unwrap();
                    let (_, v) = inner.field().unwrap();
                    let (n, v) = (String::from_utf8(n.to_vec()).unwrap(), String::from_utf8(v.to_vec()).unwrap());
                    if n == "__name__" {
                        name = v;
                    } else {
                        labels.push(format!("{n}=\"{v}\""));
                    }
                } else {
                    value = u64::from_le_bytes(inner.take(9)[1..].try_into().unwrap());
                    inner.take(1);
                    time = inner.varint() as i64;
                }
            }
            let shown = if labels.is_empty() { name } else { format!("{name}{{{}}}", labels.join(",")) };
            out.push((shown, value, time));
        }
        out
    }

    struct Reader<'b>(&'b [u8]);
    impl<'b> Reader<'b> {
        fn take(&mut self, n: usize) -> &'b [u8] {
            let (head, rest) = self.0.split_at(n);
            self.0 = rest;
            head
        }
        fn varint(&mut self) -> u64 {
            let (mut v, mut shift) = (0, 0);
            loop {
                let b = self.take(1)[0];
                v |= u64::from(b & 0x7f) << shift;
                shift += 7;
                if b < 0x80 {
                    return v;
                }
            }
        }
        /// A length-delimited field: its number and bytes.
        fn field(&mut self) -> Option<(u64, &'b [u8])> {
            if self.0.is_empty() {
                return None;
            }
            let key = self.varint();
            assert_eq!(key & 7, 2);
            let n = self.varint() as usize;
            Some((key >> 3, self.take(n)))
        }
    }

    #[test]
    fn samples_carry_their_tick_time_sorted_labels_and_stale_markers_where_series_go() {
        let config = config(
            r#"[{"name":"g","metric_type":"gauge","custom_function":"square","labels":{"z":"1","a":"2"},
                 "active":{"every":3,"for":2}},
                {"name":"c","metric_type":"counter","custom_function":"square","churn":{"every":2,"label":"pod"}}]"#,
        );
        let grid = Grid::new(Align::Start, Duration::from_secs(10), 1_000_000);
        let starts = [1, 1];
        let mut encoder = Encoder::new(&config, &starts, grid, None);
        let ticks: Vec<Vec<(String, u64, i64)>> =
            (1..=4).map(|n| encoder.encode(n).iter().flat_map(decode).collect()).collect();
        let v = |x: f64| x.to_bits();
        let stale = STALE_NAN;
        assert_eq!(
            ticks[0],
            [
                ("ns_g{a=\"2\",z=\"1\"}".to_string(), v(1.0), 1_000_000),
                ("ns_c_total{pod=\"0\"}".into(), v(1.0), 1_000_000)
            ]
        );
        assert_eq!(ticks[1][0], ("ns_g{a=\"2\",z=\"1\"}".to_string(), v(4.0), 1_010_000));
        // Tick 3: the gauge is in its gap (stale), the counter's second generation begins.
        assert_eq!(
            ticks[2],
            [
                ("ns_g{a=\"2\",z=\"1\"}".to_string(), stale, 1_020_000),
                ("ns_c_total{pod=\"0\"}".into(), stale, 1_020_000),
                ("ns_c_total{pod=\"1\"}".into(), v(1.0), 1_020_000),
            ]
        );
        assert_eq!(ticks[3][0], ("ns_g{a=\"2\",z=\"1\"}".to_string(), v(16.0), 1_030_000));
        assert_eq!(samples_at(&config, &starts, 3), 1);
        assert_eq!(samples_at(&config, &starts, 4), 2);
    }

    /// With `--shard`, each shard pushes its own series: the shards' pushes together are the
    /// unsharded push, each sample once.
    #[test]
    fn shards_push_their_own_series_and_together_push_all() {
        let json = r#"[{"name":"g","metric_type":"gauge","custom_function":"uniform","series":10},
                       {"name":"c","metric_type":"counter","custom_function":"square","labels":{"r":["a","b","c"]}}]"#;
        let grid = Grid::new(Align::Start, Duration::from_secs(1), 0);
        let push = |config: &Config| -> Vec<(String, u64, i64)> {
            let mut encoder = Encoder::new(config, &[1, 1], grid, None);
            (1..=3).flat_map(|n| encoder.encode(n)).flat_map(|r| decode(&r)).collect()
        };
        let whole = push(&config(json));
        assert_eq!(whole.len(), 3 * 13);
        let mut union = Vec::new();
        for index in 0..4 {
            let options = Options {
                namespace: "ns".into(),
                shard: Some(crate::config::Shard { index, count: 4 }),
                ..Options::default()
            };
            let sharded = parse(json, "t", &options, &Registry::builtin()).unwrap();
            let part = push(&sharded);
            assert!(part.len() < whole.len());
            assert_eq!(samples_at(&sharded, &[1, 1], 2) as usize, part.len() / 3);
            union.extend(part);
        }
        union.sort();
        let mut whole = whole;
        whole.sort();
        assert_eq!(union, whole);
    }

    #[test]
    fn a_reload_marks_stale_what_the_new_config_no_longer_serves() {
        let old = config(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"square"},{"name":"b","metric_type":"gauge","custom_function":"square"}]"#,
        );
        let new = config(r#"[{"name":"b","metric_type":"gauge","custom_function":"square"}]"#);
        let grid = Grid::new(Align::Start, Duration::from_secs(1), 0);
        let mut encoder = Encoder::new(&old, &[1, 1], grid, None);
        encoder.encode(1);
        let mut next = Encoder::new(&new, &[1], grid, Some(encoder.served()));
        let sent: Vec<_> = next.encode(2).iter().flat_map(decode).collect();
        assert_eq!(sent, [("ns_b".to_string(), 4f64.to_bits(), 1000), ("ns_a".into(), STALE_NAN, 1000)]);
    }

    #[test]
    fn a_big_tick_is_split_into_requests_of_at_most_the_limit() {
        let config = config(r#"[{"name":"h","metric_type":"gauge","custom_function":"square","series":25000}]"#);
        let grid = Grid::new(Align::Start, Duration::from_secs(1), 0);
        let mut encoder = Encoder::new(&config, &[1], grid, None);
        let requests = encoder.encode(1);
        let sizes: Vec<u64> = requests.iter().map(|r| r.samples).collect();
        assert_eq!(sizes, [10_000, 10_000, 5_000]);
        assert!(requests.iter().all(|r| r.tick == 1 && decode(r).len() == r.samples as usize));
    }
}
