//! Escaping of HELP text and label values, the label set `{a="x",b="y"}`, and sample values
//! written as Prometheus reads them back exactly.

use std::borrow::Cow;

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

/// Appends the label set `{a="x",b="y"}` of `labels`, values escaped, or nothing when there are
/// no labels: how the exposition, the exports and the preview write a series' labels.
pub fn write_label_set<'a, V: AsRef<str> + 'a>(labels: impl IntoIterator<Item = (&'a str, V)>, out: &mut String) {
    let mut first = true;
    for (name, value) in labels {
        out.push(if first { '{' } else { ',' });
        first = false;
        out.push_str(name);
        out.push_str("=\"");
        out.push_str(&escape_label_value(value.as_ref()));
        out.push('"');
    }
    if !first {
        out.push('}');
    }
}
