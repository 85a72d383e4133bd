//! Rendering values into the Prometheus text format 0.0.4: escaping, value formatting, and the
//! [`Catalog`], which holds every byte of the output that does not change between ticks.
//!
//! Pure code: no I/O, no locks. Everything that depends only on the config (family headers,
//! series names with their escaped labels) is rendered once when the catalog is built; a render
//! then only appends values.

use crate::config::Config;
use std::borrow::Cow;

/// The `Content-Type` of the text format.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The fixed text of a config's exposition, grouped into families in the order of their first
/// entry in the config.
pub struct Catalog {
    families: Vec<Family>,
    series: usize,
}

struct Family {
    /// `# HELP …\n# TYPE …\n`
    header: String,
    series: Vec<SeriesLine>,
}

struct SeriesLine {
    /// Index of this series' value in the values slice (the config entry's index).
    index: usize,
    /// `name{label="value",…} `, escaped, with the separating space.
    prefix: String,
}

impl Catalog {
    /// Groups the config's series into families and renders their fixed text.
    pub fn new(config: &Config) -> Self {
        let mut families: Vec<(String, Family)> = Vec::new();
        for (index, entry) in config.entries.iter().enumerate() {
            let sample = entry.sample_name();
            let mut prefix = sample.clone();
            write_labels(&mut prefix, &entry.labels);
            prefix.push(' ');
            let line = SeriesLine { index, prefix };
            match families.iter_mut().find(|(name, _)| *name == sample) {
                Some((_, family)) => family.series.push(line),
                None => {
                    // The family's HELP is the first one written in the config, else the default
                    // of its first entry (config validation rejects two different written ones).
                    let help = config
                        .entries
                        .iter()
                        .filter(|e| e.sample_name() == sample)
                        .find_map(|e| e.help.clone())
                        .unwrap_or_else(|| entry.help());
                    let header =
                        format!("# HELP {sample} {}\n# TYPE {sample} {}\n", escape_help(&help), entry.kind.as_str());
                    families.push((sample, Family { header, series: vec![line] }));
                }
            }
        }
        Catalog { series: config.entries.len(), families: families.into_iter().map(|(_, f)| f).collect() }
    }

    /// How many series (and so values) the config has.
    pub fn series_count(&self) -> usize {
        self.series
    }

    /// Appends the whole text exposition of `values` (indexed like the config's entries) to `out`.
    pub fn render_text(&self, values: &[f64], out: &mut Vec<u8>) {
        let mut floats = ryu::Buffer::new();
        let mut ints = itoa::Buffer::new();
        for family in &self.families {
            out.extend_from_slice(family.header.as_bytes());
            for line in &family.series {
                out.extend_from_slice(line.prefix.as_bytes());
                out.extend_from_slice(format_value(values[line.index], &mut floats, &mut ints).as_bytes());
                out.push(b'\n');
            }
        }
    }
}

/// Appends `{a="x",b="y"}` (nothing for no labels) with escaped values.
fn write_labels(out: &mut String, labels: &[(String, String)]) {
    if labels.is_empty() {
        return;
    }
    out.push('{');
    for (i, (name, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        out.push_str(&escape_label_value(value));
        out.push('"');
    }
    out.push('}');
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
    use crate::config::parse;
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

    #[test]
    fn families_are_grouped_in_config_order() {
        let config = parse(
            r#"[{"name":"b","metric_type":"gauge","custom_function":"square","labels":{"k":"1"}},
                {"name":"a","metric_type":"counter","custom_function":"square","help":"A \\ counter"},
                {"name":"b","metric_type":"gauge","custom_function":"square","labels":{"k":"2"}}]"#,
            "t",
            "ns",
            &Registry::builtin(),
        )
        .unwrap();
        let mut out = Vec::new();
        Catalog::new(&config).render_text(&[1.0, 2.5, 3.0], &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"# HELP ns_b Synthetic gauge following the square function.
# TYPE ns_b gauge
ns_b{k="1"} 1
ns_b{k="2"} 3
# HELP ns_a_total A \\ counter
# TYPE ns_a_total counter
ns_a_total 2.5
"#
        );
    }
}
