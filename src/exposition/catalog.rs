//! The [`Catalog`]: a config's fixed exposition text (family headers, and per entry one template
//! of its series' names and labels), to which a render appends each tick's values.

use super::self_metrics;
use super::{escape_label_value, families, format_value, Format, TickValues};
use crate::config::{Config, Entry, Kind, LabelValues};
use crate::names::counter_family_name;

/// The fixed text of a config's exposition, grouped into families in the order of their first
/// entry in the config.
pub struct Catalog {
    families: Vec<FamilyLines>,
    series: u64,
}

/// One family's fixed text: its headers and its entries' lines.
struct FamilyLines {
    /// `# HELP …\n# TYPE …\n` in the text format.
    text_header: String,
    /// The same in OpenMetrics: counters are named without `_total`, HELP also escapes `"`.
    om_header: String,
    entries: Vec<EntryLines>,
}

/// The sample lines of one config entry: `count` series that differ only in the values of their
/// fanned-out labels.
struct EntryLines {
    /// Index of the entry's (first) value in a [`TickValues`].
    index: usize,
    /// Whether each series has a value of its own (at `index + k`), or all share `index`'s.
    per_series: bool,
    /// Index of the entry's (first) cycle start in a [`TickValues`].
    cycle_index: usize,
    /// Whether each series has a cycle start of its own (at `cycle_index + k`).
    own_cycles: bool,
    /// The sample name (`…_total` for counters).
    name: String,
    /// `…_created` for counters, served in OpenMetrics only.
    created_name: Option<String>,
    count: u64,
    /// Everything between the name and the value: `{a="x",b="` `<value of b>` `"} `.
    segments: Vec<Segment>,
}

/// A piece of the label text of a series.
enum Segment {
    /// Text shared by every series of the entry, already escaped.
    Literal(String),
    /// One of a fanned-out label's escaped values: number `(k / stride) % values.len()`.
    Values { values: Vec<String>, stride: u64 },
    /// The `series` label's value: `(k / stride) % n`, written as a decimal.
    Count { n: u64, stride: u64 },
}

impl EntryLines {
    fn new(index: usize, cycle_index: usize, entry: &Entry) -> Self {
        let name = entry.sample_name();
        let created_name = (entry.kind == Kind::Counter).then(|| format!("{}_created", counter_family_name(&name)));
        let mut segments = Vec::new();
        let mut literal = String::new();
        // The last label varies fastest (see `Entry::labels_of`).
        let mut stride = entry.series;
        for (i, (label, values)) in entry.labels.iter().enumerate() {
            literal.push(if i == 0 { '{' } else { ',' });
            literal.push_str(label);
            literal.push_str("=\"");
            stride /= values.len();
            match values {
                LabelValues::One(v) => literal.push_str(&escape_label_value(v)),
                LabelValues::List(vs) => {
                    segments.push(Segment::Literal(std::mem::take(&mut literal)));
                    let values = vs.iter().map(|v| escape_label_value(v).into_owned()).collect();
                    segments.push(Segment::Values { values, stride });
                }
                LabelValues::Count(n) => {
                    segments.push(Segment::Literal(std::mem::take(&mut literal)));
                    segments.push(Segment::Count { n: *n, stride });
                }
            }
            literal.push('"');
        }
        if !entry.labels.is_empty() {
            literal.push('}');
        }
        literal.push(' ');
        segments.push(Segment::Literal(literal));
        segments.retain(|s| !matches!(s, Segment::Literal(l) if l.is_empty()));
        EntryLines {
            index,
            per_series: entry.per_series,
            cycle_index,
            own_cycles: entry.cycle_start_count() > 1,
            name,
            created_name,
            count: entry.series,
            segments,
        }
    }

    /// Appends the label text of series `k`, with the space before the value.
    fn write_labels(&self, k: u64, out: &mut Vec<u8>, ints: &mut itoa::Buffer) {
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
            }
        }
    }
}

impl Catalog {
    /// Groups the config's entries into families and renders their fixed text.
    pub fn new(config: &Config) -> Self {
        // Values are laid out entry after entry, `Entry::value_count` each, and cycle starts
        // `Entry::cycle_start_count` each.
        let mut lines: Vec<Option<EntryLines>> = Vec::with_capacity(config.entries.len());
        let (mut index, mut cycle_index) = (0, 0);
        for entry in &config.entries {
            lines.push(Some(EntryLines::new(index, cycle_index, entry)));
            index += entry.value_count() as usize;
            cycle_index += entry.cycle_start_count() as usize;
        }
        let families = families(config)
            .into_iter()
            .map(|family| FamilyLines {
                text_header: family.text_header(),
                om_header: family.openmetrics_header(),
                entries: family.members.iter().filter_map(|&m| lines[m].take()).collect(),
            })
            .collect();
        Catalog { series: config.series(), families }
    }

    /// How many series the config has.
    pub fn series_count(&self) -> u64 {
        self.series
    }

    /// About how many bytes a text rendering takes, to size its buffer once: each series' fixed
    /// text plus a typical value, capped at 1 GiB (a larger body grows its buffer as needed).
    pub fn size_hint(&self) -> usize {
        let mut bytes: u64 = 4096;
        for lines in self.families.iter().flat_map(|f| &f.entries) {
            let fixed: usize = lines.name.len()
                + lines
                    .segments
                    .iter()
                    .map(|s| match s {
                        Segment::Literal(text) => text.len(),
                        Segment::Values { values, .. } => values.first().map_or(0, String::len),
                        Segment::Count { n, .. } => n.to_string().len(),
                    })
                    .sum::<usize>();
            bytes = bytes.saturating_add(lines.count.saturating_mul(fixed as u64 + 20));
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
        let mut floats = ryu::Buffer::new();
        let mut ints = itoa::Buffer::new();
        let om = format == Format::OpenMetrics;
        for family in &self.families {
            out.extend_from_slice(if om { &family.om_header } else { &family.text_header }.as_bytes());
            for lines in &family.entries {
                // When the series of an entry share one value, it is formatted once.
                let (mut value, mut created) = ([0u8; 32], [0u8; 32]);
                let (mut value_len, mut created_len) = (0, 0);
                for k in 0..lines.count {
                    if k == 0 || lines.per_series {
                        let unit = lines.index + k as usize;
                        value_len = copy_into(&mut value, format_value(values.values[unit], &mut floats, &mut ints));
                        if k == 0 || lines.own_cycles {
                            let cycle = lines.cycle_index + if lines.own_cycles { k as usize } else { 0 };
                            let time = values.clock.seconds(values.cycle_starts[cycle]);
                            created_len = copy_into(&mut created, format_value(time, &mut floats, &mut ints));
                        }
                    }
                    out.extend_from_slice(lines.name.as_bytes());
                    lines.write_labels(k, out, &mut ints);
                    out.extend_from_slice(&value[..value_len]);
                    out.push(b'\n');
                    if let (true, Some(name)) = (om, &lines.created_name) {
                        out.extend_from_slice(name.as_bytes());
                        lines.write_labels(k, out, &mut ints);
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

/// Copies a formatted number (at most 24 bytes) into a buffer of its own and returns its length.
fn copy_into(buffer: &mut [u8; 32], text: &str) -> usize {
    buffer[..text.len()].copy_from_slice(text.as_bytes());
    text.len()
}
