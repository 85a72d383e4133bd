//! Rendering values into the Prometheus text format 0.0.4 and OpenMetrics 1.0: escaping, value
//! formatting, and the [`Catalog`], which holds every byte of the output that does not change
//! between ticks.
//!
//! Pure code: no I/O, no locks. Everything that depends only on the config (family headers,
//! series names with their escaped labels) is rendered once when the catalog is built; a render
//! then only appends values.

use crate::config::{Config, Entry, Kind, LabelValues};
use crate::grid::Grid;
use std::borrow::Cow;
use std::collections::HashMap;

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0.0 text.
    OpenMetrics,
}

impl Format {
    /// A short name for log lines.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text 0.0.4",
            Format::OpenMetrics => "OpenMetrics 1.0.0",
        }
    }

    /// The `Content-Type` of a body in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// The prefix of the exporter's own metrics; configured metrics may not use it.
pub const OWN_PREFIX: &str = "metrics_generator_";

/// The exporter's own state, served as `metrics_generator_*` metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Own {
    pub ticks: u64,
    pub series: u64,
    pub reload_ok: bool,
    /// Unix time of the last successful config load, in seconds.
    pub reload_success_time: f64,
    /// Unix time of start-up, in seconds.
    pub started: f64,
}

/// One tick's values, as a render needs them.
pub struct Sample<'a> {
    /// One value per config entry, or per series where they differ (see `Entry::units`).
    pub values: &'a [f64],
    /// The tick at which each current cycle began: one per config entry, or per series where
    /// each restarts on its own (see `Entry::cycles`).
    pub cycle_starts: &'a [u64],
    /// Maps tick numbers to Unix times, for OpenMetrics `_created` samples.
    pub clock: Grid,
    pub own: &'a Own,
}

/// The fixed text of a config's exposition, grouped into families in the order of their first
/// entry in the config.
pub struct Catalog {
    families: Vec<Family>,
    series: u64,
}

struct Family {
    /// `# HELP …\n# TYPE …\n` in the text format.
    text_header: String,
    /// The same in OpenMetrics: counters are named without `_total`, HELP also escapes `"`.
    om_header: String,
    entries: Vec<EntryLines>,
}

/// The sample lines of one config entry: `count` series that differ only in the values of their
/// fanned-out labels.
struct EntryLines {
    /// Index of the entry's (first) value in a [`Sample`].
    index: usize,
    /// Whether each series has a value of its own (at `index + k`), or all share `index`'s.
    per_series: bool,
    /// Index of the entry's (first) cycle start in a [`Sample`].
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
        let created_name =
            (entry.kind == Kind::Counter).then(|| format!("{}_created", name.strip_suffix("_total").unwrap_or(&name)));
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
            own_cycles: entry.cycles() > 1,
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
        // Families are found through maps by sample name, so that a config of 100,000 families
        // does not take 100,000² comparisons.
        let mut written_help: HashMap<String, &str> = HashMap::new();
        for entry in &config.entries {
            if let Some(help) = &entry.help {
                written_help.entry(entry.sample_name()).or_insert(help);
            }
        }
        let mut families: Vec<Family> = Vec::new();
        let mut family_of: HashMap<String, usize> = HashMap::new();
        // Values are laid out entry after entry, one per unit (see `Entry::units`), and cycle
        // starts one per cycle (see `Entry::cycles`).
        let (mut index, mut cycle_index) = (0, 0);
        for entry in &config.entries {
            let sample = entry.sample_name();
            let lines = EntryLines::new(index, cycle_index, entry);
            index += entry.units() as usize;
            cycle_index += entry.cycles() as usize;
            match family_of.get(&sample) {
                Some(&f) => families[f].entries.push(lines),
                None => {
                    // The family's HELP is the first one written in the config, else the default
                    // of its first entry (config validation rejects two different written ones).
                    let help = written_help.get(&sample).map_or_else(|| entry.help(), |h| h.to_string());
                    let kind = entry.kind.as_str();
                    let text_header = format!("# HELP {sample} {}\n# TYPE {sample} {kind}\n", escape_help(&help));
                    let om_name = match entry.kind {
                        Kind::Counter => sample.strip_suffix("_total").unwrap_or(&sample),
                        Kind::Gauge => &sample,
                    };
                    let om_header =
                        format!("# TYPE {om_name} {kind}\n# HELP {om_name} {}\n", escape_label_value(&help));
                    family_of.insert(sample, families.len());
                    families.push(Family { text_header, om_header, entries: vec![lines] });
                }
            }
        }
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
    pub fn render(&self, format: Format, sample: &Sample, out: &mut Vec<u8>) {
        self.render_with(format, sample, out, &mut |_| {});
    }

    /// [`Catalog::render`], handing `out` to `flush` whenever it holds more than 64 KiB, so that a
    /// consumer (a compressor) can take the text in pieces instead of one large buffer.
    pub fn render_with(&self, format: Format, sample: &Sample, out: &mut Vec<u8>, flush: &mut dyn FnMut(&mut Vec<u8>)) {
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
                        value_len = copy_into(&mut value, format_value(sample.values[unit], &mut floats, &mut ints));
                        if k == 0 || lines.own_cycles {
                            let cycle = lines.cycle_index + if lines.own_cycles { k as usize } else { 0 };
                            let time = sample.clock.seconds(sample.cycle_starts[cycle]);
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
        render_own(format, sample.own, out);
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

/// Appends the `metrics_generator_*` families.
fn render_own(format: Format, own: &Own, out: &mut Vec<u8>) {
    let (mut floats, mut ints) = (ryu::Buffer::new(), itoa::Buffer::new());
    let mut value = |v: f64| format_value(v, &mut floats, &mut ints).to_string();
    let om = format == Format::OpenMetrics;
    let gauge = |out: &mut Vec<u8>, name: &str, help: &str, sample: String| {
        let text = if om {
            format!("# TYPE {OWN_PREFIX}{name} gauge\n# HELP {OWN_PREFIX}{name} {help}\n{OWN_PREFIX}{sample}\n")
        } else {
            format!("# HELP {OWN_PREFIX}{name} {help}\n# TYPE {OWN_PREFIX}{name} gauge\n{OWN_PREFIX}{sample}\n")
        };
        out.extend_from_slice(text.as_bytes());
    };
    gauge(
        out,
        "build_info",
        "Build information of metrics-generator; the value is always 1.",
        format!("build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION")),
    );
    let ticks = value(own.ticks as f64);
    let text = if om {
        format!(
            "# TYPE {OWN_PREFIX}ticks counter\n# HELP {OWN_PREFIX}ticks Ticks since start-up.\n\
             {OWN_PREFIX}ticks_total {ticks}\n{OWN_PREFIX}ticks_created {}\n",
            value(own.started)
        )
    } else {
        format!(
            "# HELP {OWN_PREFIX}ticks_total Ticks since start-up.\n# TYPE {OWN_PREFIX}ticks_total counter\n\
             {OWN_PREFIX}ticks_total {ticks}\n"
        )
    };
    out.extend_from_slice(text.as_bytes());
    gauge(out, "series", "Series served from the config.", format!("series {}", own.series));
    gauge(
        out,
        "config_last_reload_successful",
        "Whether the last config load succeeded (1) or failed (0).",
        format!("config_last_reload_successful {}", u8::from(own.reload_ok)),
    );
    gauge(
        out,
        "config_last_reload_success_timestamp_seconds",
        "Unix time of the last successful config load.",
        format!("config_last_reload_success_timestamp_seconds {}", value(own.reload_success_time)),
    );
}

/// Escapes HELP text: `\` and newline. Returns the input itself when nothing needs escaping.
pub fn escape_help(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// Escapes a label value: `\`, `"` and newline. Returns the input itself when nothing needs escaping.
pub fn escape_label_value(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

fn escape(s: &str, quotes: bool) -> Cow<'_, str> {
    let needs = |c: char| c == '\\' || c == '\n' || (quotes && c == '"');
    if !s.contains(needs) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quotes => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The largest magnitude below which every integer is exact in f64 (2⁵³).
const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;

/// Formats a sample value: integers up to 2⁵³ as integers, other finite values in the shortest
/// form that parses back to the same f64, and `+Inf`, `-Inf`, `NaN`.
pub fn format_value<'a>(v: f64, floats: &'a mut ryu::Buffer, ints: &'a mut itoa::Buffer) -> &'a str {
    if v.is_nan() {
        "NaN"
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        }
    } else if v.fract() == 0.0 && v.abs() <= EXACT_INTEGERS {
        // The cast is exact: |v| ≤ 2⁵³ and v is whole.
        ints.format(v as i64)
    } else {
        // ryu writes whole numbers between 2⁵³ and 10¹⁶ as `…0.0`; the `.0` adds nothing.
        let text = floats.format_finite(v);
        text.strip_suffix(".0").unwrap_or(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse, Options};
    use crate::functions::Registry;

    #[track_caller]
    fn check_value(v: f64, expected: &str) {
        let (mut f, mut i) = (ryu::Buffer::new(), itoa::Buffer::new());
        let text = format_value(v, &mut f, &mut i);
        assert_eq!(text, expected);
        if v.is_finite() {
            assert_eq!(text.parse::<f64>().unwrap(), v, "round trip of {text}");
        }
    }

    #[test]
    fn values() {
        check_value(256.0, "256");
        check_value(0.0, "0");
        check_value(-3.0, "-3");
        check_value(0.1, "0.1");
        check_value(2.5, "2.5");
        check_value(9_007_199_254_740_992.0, "9007199254740992");
        check_value(9_007_199_254_740_994.0, "9007199254740994");
        check_value(1e16, "1e16");
        check_value(-1.5e300, "-1.5e300");
        check_value(143f64.powf(143.0), "1.6332525972973913e308");
        check_value(1e-7, "1e-7");
        check_value(f64::INFINITY, "+Inf");
        check_value(f64::NEG_INFINITY, "-Inf");
        check_value(f64::NAN, "NaN");
        check_value(f64::MAX, "1.7976931348623157e308");
    }

    #[test]
    fn escaping() {
        let cases: &[(&str, &str, &str)] = &[
            ("plain", "plain", "plain"),
            ("a\\b", "a\\\\b", "a\\\\b"),
            ("say \"hi\"", "say \"hi\"", "say \\\"hi\\\""),
            ("two\nlines", "two\\nlines", "two\\nlines"),
            ("ünïcødé ✓", "ünïcødé ✓", "ünïcødé ✓"),
        ];
        for (input, help, label) in cases {
            assert_eq!(escape_help(input), *help, "help {input:?}");
            assert_eq!(escape_label_value(input), *label, "label {input:?}");
        }
        assert!(matches!(escape_label_value("plain"), Cow::Borrowed(_)));
    }

    fn rendered(format: Format) -> String {
        let config = parse(
            r#"[{"name":"b","metric_type":"gauge","custom_function":"square","labels":{"k":"1"}},
                {"name":"a","metric_type":"counter","custom_function":"square","help":"A \\ \"counter\""},
                {"name":"b","metric_type":"gauge","custom_function":"square","labels":{"k":"2"}}]"#,
            "t",
            &Options { namespace: "ns".into(), ..Options::default() },
            &Registry::builtin(),
        )
        .unwrap();
        let own = Own { ticks: 3, series: 3, reload_ok: true, reload_success_time: 1000.0, started: 1000.0 };
        let sample = Sample {
            values: &[1.0, 2.5, 3.0],
            cycle_starts: &[1, 2, 1],
            clock: Grid { origin_ms: 1_000_000, interval_ms: 500 },
            own: &own,
        };
        let mut out = Vec::new();
        Catalog::new(&config).render(format, &sample, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_format() {
        assert_eq!(
            rendered(Format::Text),
            r#"# HELP ns_b Synthetic gauge following the square function.
# TYPE ns_b gauge
ns_b{k="1"} 1
ns_b{k="2"} 3
# HELP ns_a_total A \\ "counter"
# TYPE ns_a_total counter
ns_a_total 2.5
# HELP metrics_generator_build_info Build information of metrics-generator; the value is always 1.
# TYPE metrics_generator_build_info gauge
metrics_generator_build_info{version="VERSION"} 1
# HELP metrics_generator_ticks_total Ticks since start-up.
# TYPE metrics_generator_ticks_total counter
metrics_generator_ticks_total 3
# HELP metrics_generator_series Series served from the config.
# TYPE metrics_generator_series gauge
metrics_generator_series 3
# HELP metrics_generator_config_last_reload_successful Whether the last config load succeeded (1) or failed (0).
# TYPE metrics_generator_config_last_reload_successful gauge
metrics_generator_config_last_reload_successful 1
# HELP metrics_generator_config_last_reload_success_timestamp_seconds Unix time of the last successful config load.
# TYPE metrics_generator_config_last_reload_success_timestamp_seconds gauge
metrics_generator_config_last_reload_success_timestamp_seconds 1000
"#
            .replace("VERSION", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn openmetrics_format() {
        let om = rendered(Format::OpenMetrics);
        let configured = om.split("# TYPE metrics_generator_build_info").next().unwrap();
        assert_eq!(
            configured,
            r#"# TYPE ns_b gauge
# HELP ns_b Synthetic gauge following the square function.
ns_b{k="1"} 1
ns_b{k="2"} 3
# TYPE ns_a counter
# HELP ns_a A \\ \"counter\"
ns_a_total 2.5
ns_a_created 1000.5
"#
        );
        assert!(om.contains("\nmetrics_generator_ticks_total 3\nmetrics_generator_ticks_created 1000\n"), "{om}");
        assert!(om.ends_with("\n# EOF\n"), "{om}");
    }
}
