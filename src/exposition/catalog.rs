//! The [`Catalog`]: a config's fixed exposition text (family headers, and per entry one template
//! of its series' names and labels), to which a render appends each tick's values.

use super::protobuf::ProtoCatalog;
use super::self_metrics;
use super::{escape_label_value, families, format_value, lines, Format, LineValue, TickValues};
use crate::config::{state_index, Active, Churn, Config, Entry, Jitter, Kind, LabelValues, Observe, Served};
use crate::names::counter_family_name;
use crate::splitmix::SplitMix64;

/// The fixed text of a config's exposition, grouped into families in the order of their first
/// entry in the config.
pub struct Catalog {
    families: Vec<FamilyLines>,
    protobuf: ProtoCatalog,
    series: u64,
}

/// One family's fixed text: its headers and its entries' lines.
struct FamilyLines {
    /// `# HELP …\n# TYPE …\n` in the text format.
    text_header: String,
    /// The same in OpenMetrics: counters are named without `_total`, HELP also escapes `"`.
    om_header: String,
    /// Its entries' lines in the text format and in OpenMetrics, which write `le` and
    /// `quantile` differently and add `_created` and exemplars.
    text: Vec<EntryLines>,
    om: Vec<EntryLines>,
}

/// The sample lines of one config entry: `count` series that differ only in the values of their
/// fanned-out labels, each serving the same [`Line`]s.
struct EntryLines {
    /// Index of the entry's (first) value in a [`TickValues`].
    index: usize,
    /// Whether each series has a value of its own (at `index + k`), or all share `index`'s.
    per_series: bool,
    /// Index of the entry's (first) cycle start in a [`TickValues`].
    cycle_index: usize,
    /// Whether each series has a cycle start of its own (at `cycle_index + k`).
    own_cycles: bool,
    /// Index of the entry's (first) accumulated observations in [`TickValues::observed`], and how
    /// many values each value slot has there (0 for types without observations).
    observed_index: usize,
    width: usize,
    /// Each line of a series: its fixed text before and after the series' labels, and where its
    /// value comes from.
    lines: Vec<LineText>,
    /// `…_created` for counters, histograms and summaries, served in OpenMetrics only.
    created_name: Option<String>,
    count: u64,
    /// Which series are served: series `served.k(j)` for j in 0..count.
    served: Served,
    /// The series' own labels, without the closing brace: `{a="x",b="` `<value of b>` `"`;
    /// empty when the entry has none.
    segments: Vec<Segment>,
    /// What exemplars need, when the entry has them (OpenMetrics only).
    exemplars: Option<Exemplars>,
    /// A stateset's number of states (the state lines' values need it).
    states: usize,
    /// When the entry's series are served, the generations of a churning entry, and the noise
    /// on its values.
    active: Option<Active>,
    churn: Option<Churn>,
    jitter: Option<Jitter>,
}

/// One line's fixed text.
struct LineText {
    /// The sample name.
    head: String,
    /// What follows the series' labels: the type's own label, the closing brace and the space
    /// before the value (`,le="0.1"} `, `} `, `{le="0.1"} ` or ` ` without labels).
    tail: String,
    value: LineValue,
    /// For a histogram's bucket lines, the bucket's upper bound (exemplars need it).
    bound: Option<f64>,
}

/// A piece of the label text of a series.
enum Segment {
    /// Text shared by every series of the entry, already escaped.
    Literal(String),
    /// One of a fanned-out label's escaped values: number `(k / stride) % values.len()`.
    Values { values: Vec<String>, stride: u64 },
    /// The `series` label's value: `(k / stride) % n`, written as a decimal.
    Count { n: u64, stride: u64 },
    /// A churning entry's generation label's value: the tick's generation, as a decimal.
    Generation,
}

/// What an entry's exemplars need: the seed of their trace ids, and for histograms what was
/// observed at the tick.
struct Exemplars {
    seed: u64,
    observe: Option<Observe>,
}

impl EntryLines {
    fn new(index: usize, cycle_index: usize, observed_index: usize, entry: &Entry, format: Format) -> Self {
        let name = entry.sample_name();
        let created_name = match entry.kind {
            Kind::Counter => Some(format!("{}_created", counter_family_name(&name))),
            Kind::Histogram | Kind::Summary => Some(format!("{name}_created")),
            _ => None,
        };
        let mut segments = Vec::new();
        let mut literal = String::new();
        // The last label varies fastest (see `Entry::labels_of`); a churning entry's generation
        // label takes its place among them by name.
        let mut stride = entry.series;
        for (i, (label, values)) in entry.label_slots().into_iter().enumerate() {
            literal.push(if i == 0 { '{' } else { ',' });
            literal.push_str(label);
            literal.push_str("=\"");
            match values {
                None => {
                    segments.push(Segment::Literal(std::mem::take(&mut literal)));
                    segments.push(Segment::Generation);
                }
                Some(LabelValues::One(v)) => literal.push_str(&escape_label_value(v)),
                Some(LabelValues::List(vs)) => {
                    stride /= vs.len() as u64;
                    segments.push(Segment::Literal(std::mem::take(&mut literal)));
                    let values = vs.iter().map(|v| escape_label_value(v).into_owned()).collect();
                    segments.push(Segment::Values { values, stride });
                }
                Some(LabelValues::Count(n)) => {
                    stride /= n;
                    segments.push(Segment::Literal(std::mem::take(&mut literal)));
                    segments.push(Segment::Count { n: *n, stride });
                }
            }
            literal.push('"');
        }
        segments.push(Segment::Literal(literal));
        segments.retain(|s| !matches!(s, Segment::Literal(l) if l.is_empty()));
        let labelled = !entry.labels.is_empty() || entry.churn.is_some();
        let observe = entry.observe.as_ref();
        let lines = lines(entry, format)
            .into_iter()
            .enumerate()
            .map(|(l, line)| {
                let own = line.label.as_ref().map(|(name, value)| format!("{name}=\"{}\"", escape_label_value(value)));
                let tail = match (labelled, own) {
                    (true, Some(own)) => format!(",{own}}} "),
                    (true, None) => "} ".to_string(),
                    (false, Some(own)) => format!("{{{own}}} "),
                    (false, None) => " ".to_string(),
                };
                let bound = observe.filter(|o| o.histogram).and_then(|o| {
                    (line.name.ends_with("_bucket")).then(|| o.points.get(l).copied().unwrap_or(f64::INFINITY))
                });
                LineText { head: line.name, tail, value: line.value, bound }
            })
            .collect();
        let exemplars = (entry.exemplars && format == Format::OpenMetrics)
            .then(|| Exemplars { seed: trace_seed(&entry.definition), observe: entry.observe.clone() });
        EntryLines {
            index,
            per_series: entry.per_series,
            cycle_index,
            own_cycles: entry.cycle_start_count() > 1,
            observed_index,
            width: observe.map_or(0, Observe::width),
            lines,
            created_name,
            count: entry.served.count,
            served: entry.served,
            segments,
            exemplars,
            states: entry.states.len(),
            active: entry.active,
            churn: entry.churn.clone(),
            jitter: entry.jitter,
        }
    }

    /// Whether the entry's series are served at tick `tick`.
    fn active_at(&self, tick: u64) -> bool {
        self.active.map_or(true, |active| active.at(tick))
    }

    /// Appends the label text of series `k` at tick `tick`, without the closing brace.
    fn write_labels(&self, k: u64, tick: u64, out: &mut Vec<u8>, ints: &mut itoa::Buffer) {
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.extend_from_slice(text.as_bytes()),
                Segment::Values { values, stride } => {
                    let d = (k / stride) % values.len() as u64;
                    out.extend_from_slice(values[d as usize].as_bytes());
                }
                Segment::Count { n, stride } => {
                    // The common case, `"series": N` with no list label after it, needs no division.
                    let d = if *stride == 1 && k < *n { k } else { (k / stride) % n };
                    out.extend_from_slice(ints.format(d).as_bytes());
                }
                Segment::Generation => {
                    let generation = self.churn.as_ref().map_or(0, |churn| churn.generation(tick));
                    out.extend_from_slice(ints.format(generation).as_bytes());
                }
            }
        }
    }
}

/// The seed of an entry's trace ids: FNV-1a of its definition, so that ids stay the same across
/// restarts, reloads and replicas, and differ between entries.
fn trace_seed(definition: &str) -> u64 {
    definition.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The 32 hex digits of the trace id of series `k` at tick `tick`, line `line`.
fn trace_id(seed: u64, k: u64, tick: u64, line: usize) -> String {
    let mut rng = SplitMix64(seed ^ k.rotate_left(32) ^ tick.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ line as u64);
    format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64())
}

impl Catalog {
    /// Groups the config's entries into families and renders their fixed text.
    pub fn new(config: &Config) -> Self {
        // Values are laid out entry after entry, `Entry::value_count` each, and cycle starts
        // `Entry::cycle_start_count` each.
        // Accumulated observations are laid out the same way, `Observe::width` per value slot of
        // each entry that has them.
        let mut text: Vec<Option<EntryLines>> = Vec::with_capacity(config.entries.len());
        let mut om: Vec<Option<EntryLines>> = Vec::with_capacity(config.entries.len());
        let (mut index, mut cycle_index, mut observed_index) = (0, 0, 0);
        for entry in &config.entries {
            text.push(Some(EntryLines::new(index, cycle_index, observed_index, entry, Format::Text)));
            om.push(Some(EntryLines::new(index, cycle_index, observed_index, entry, Format::OpenMetrics)));
            index += entry.value_count() as usize;
            cycle_index += entry.cycle_start_count() as usize;
            observed_index += entry.observed_count();
        }
        let families = families(config)
            .into_iter()
            .map(|family| FamilyLines {
                text_header: family.text_header(),
                om_header: family.openmetrics_header(),
                text: family.members.iter().filter_map(|&m| text[m].take()).collect(),
                om: family.members.iter().filter_map(|&m| om[m].take()).collect(),
            })
            .collect();
        Catalog { series: config.series(), families, protobuf: ProtoCatalog::new(config) }
    }

    /// How many series the config has.
    pub fn series_count(&self) -> u64 {
        self.series
    }

    /// About how many bytes a text rendering takes, to size its buffer once: each series' fixed
    /// text plus a typical value, capped at 1 GiB (a larger body grows its buffer as needed).
    pub fn size_hint(&self) -> usize {
        let mut bytes: u64 = 4096;
        for lines in self.families.iter().flat_map(|f| &f.text) {
            let heads: usize = lines.lines.iter().map(|l| l.head.len() + l.tail.len()).sum();
            let fixed: usize = heads
                + lines.lines.len()
                    * lines
                        .segments
                        .iter()
                        .map(|s| match s {
                            Segment::Literal(text) => text.len(),
                            Segment::Values { values, .. } => values.first().map_or(0, String::len),
                            Segment::Count { n, .. } => n.to_string().len(),
                            Segment::Generation => 4,
                        })
                        .sum::<usize>();
            bytes = bytes.saturating_add(lines.count.saturating_mul(fixed as u64 + 20 * lines.lines.len() as u64));
        }
        bytes.min(1 << 30) as usize
    }

    /// Appends the whole exposition of one tick in `format` to `out`: the configured families,
    /// then the exporter's own metrics, then (OpenMetrics) `# EOF`.
    pub fn render(&self, format: Format, values: &TickValues, out: &mut Vec<u8>) {
        self.render_with(format, values, out, &mut |_| {});
    }

    /// [`Catalog::render`], handing `out` to `flush` whenever it holds more than 64 KiB, so that a
    /// consumer (a compressor) can take the text in pieces instead of one large buffer.
    pub fn render_with(
        &self,
        format: Format,
        values: &TickValues,
        out: &mut Vec<u8>,
        flush: &mut dyn FnMut(&mut Vec<u8>),
    ) {
        const CHUNK: usize = 64 * 1024;
        if format == Format::Protobuf {
            self.protobuf.render(values, out, flush);
            return;
        }
        let mut floats = ryu::Buffer::new();
        let mut ints = itoa::Buffer::new();
        let om = format == Format::OpenMetrics;
        let tick = values.tick;
        for family in &self.families {
            let entries = if om { &family.om } else { &family.text };
            // A family none of whose entries is served at this tick is left out whole.
            if !entries.iter().any(|lines| lines.active_at(tick)) {
                continue;
            }
            out.extend_from_slice(if om { &family.om_header } else { &family.text_header }.as_bytes());
            for lines in entries.iter().filter(|lines| lines.active_at(tick)) {
                // When the series of an entry share their values, each line's is formatted once.
                let mut cached = vec![([0u8; 32], 0usize); lines.lines.len()];
                let (mut created, mut created_len) = ([0u8; 32], 0);
                for j in 0..lines.count {
                    let k = lines.served.k(j);
                    let slot = if lines.per_series { j as usize } else { 0 };
                    let value = values.values[lines.index + slot] + lines.jitter.map_or(0.0, |j| j.at(k, tick));
                    let start = lines.observed_index + slot * lines.width;
                    let observed = &values.observed[start..start + lines.width];
                    if j == 0 || lines.per_series {
                        for (line, (text, len)) in lines.lines.iter().zip(cached.iter_mut()) {
                            let v = match line.value {
                                LineValue::Value => value,
                                LineValue::Observed(offset) => observed[offset],
                                LineValue::One => 1.0,
                                LineValue::State(s) => f64::from(u8::from(state_index(value, lines.states) == s)),
                            };
                            *len = copy_into(text, format_value(v, &mut floats, &mut ints));
                        }
                    }
                    let cycle = lines.cycle_index + if lines.own_cycles { j as usize } else { 0 };
                    if j == 0 || lines.own_cycles {
                        let time = values.clock.seconds(values.cycle_starts[cycle]);
                        created_len = copy_into(&mut created, format_value(time, &mut floats, &mut ints));
                    }
                    for (l, (line, (text, len))) in lines.lines.iter().zip(&cached).enumerate() {
                        out.extend_from_slice(line.head.as_bytes());
                        lines.write_labels(k, tick, out, &mut ints);
                        out.extend_from_slice(line.tail.as_bytes());
                        out.extend_from_slice(&text[..*len]);
                        if let Some(exemplars) = &lines.exemplars {
                            let at = Exemplar { k, l, value, cycle_start: values.cycle_starts[cycle] };
                            write_exemplar(out, exemplars, line, &at, values, &mut floats, &mut ints);
                        }
                        out.push(b'\n');
                    }
                    if let (true, Some(name)) = (om, &lines.created_name) {
                        out.extend_from_slice(name.as_bytes());
                        lines.write_labels(k, tick, out, &mut ints);
                        out.extend_from_slice(if lines.segments.is_empty() { b" " } else { b"} " });
                        out.extend_from_slice(&created[..created_len]);
                        out.push(b'\n');
                    }
                    if out.len() >= CHUNK {
                        flush(out);
                    }
                }
            }
        }
        self_metrics::render(format, values.self_metrics, out);
        if om {
            out.extend_from_slice(b"# EOF\n");
        }
        flush(out);
    }
}

/// Where an exemplar is: series `k`, line `l`, the series' function value and cycle start.
struct Exemplar {
    k: u64,
    l: usize,
    value: f64,
    cycle_start: u64,
}

/// Appends the exemplar of one line, if it has one: ` # {trace_id="…"} value timestamp`. A
/// counter's line has one at every tick, its value the counter's; a histogram's bucket has one
/// when it gained observations at this tick, its value the largest of them.
fn write_exemplar(
    out: &mut Vec<u8>,
    exemplars: &Exemplars,
    line: &LineText,
    at: &Exemplar,
    values: &TickValues,
    floats: &mut ryu::Buffer,
    ints: &mut itoa::Buffer,
) {
    let observed = match (&exemplars.observe, line.bound) {
        (None, _) => at.value,
        (Some(observe), Some(bound)) => {
            let i = values.tick.saturating_sub(at.cycle_start) + 1;
            let count = observe.count_at(i, values.tick);
            let at_most = |x: f64| observe.distribution.count_at_most(at.value, count, x);
            let below = observe.points.get(at.l.wrapping_sub(1)).map_or(0, |&previous| at_most(previous));
            let here = if bound.is_finite() { at_most(bound) } else { count };
            if here <= below {
                return;
            }
            observe.distribution.observation(at.value, count, here)
        }
        // A histogram's `_sum` and `_count` lines carry none.
        (Some(_), None) => return,
    };
    out.extend_from_slice(b" # {trace_id=\"");
    out.extend_from_slice(trace_id(exemplars.seed, at.k, values.tick, at.l).as_bytes());
    out.extend_from_slice(b"\"} ");
    out.extend_from_slice(format_value(observed, floats, ints).as_bytes());
    out.push(b' ');
    let time = values.clock.seconds(values.tick);
    out.extend_from_slice(format_value(time, floats, ints).as_bytes());
}

/// Copies a formatted number (at most 24 bytes) into a buffer of its own and returns its length.
fn copy_into(buffer: &mut [u8; 32], text: &str) -> usize {
    buffer[..text.len()].copy_from_slice(text.as_bytes());
    text.len()
}
