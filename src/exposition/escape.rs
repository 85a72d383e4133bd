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

/// A number as Go's `strconv.FormatFloat(v, 'g', -1, 64)` writes it, which is how the
/// Prometheus Go client writes `le` and `quantile` in the text format: the shortest digits that
/// read back exactly, in exponent form (`1e+06`, `1e-05`) when the exponent is below −4 or at
/// least 6; `+Inf`, `-Inf`, `NaN`.
pub fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // Rust's `{:e}` writes the shortest round-trip digits: `d.ddde±x`.
    let shortest = format!("{v:e}");
    let (mantissa, exponent) = shortest.split_once('e').unwrap_or((&shortest, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if !(-4..6).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{first}{rest}e{exp_sign}{:02}", exponent.unsigned_abs());
    }
    let point = exponent + 1;
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
    };
    format!("{sign}{body}")
}

/// A number as OpenMetrics requires `le` and `quantile` values, as the Go client writes them:
/// [`go_float`], with `.0` added when that has neither a point nor an exponent (`1.0`, `0.5`,
/// `1e+06`, `+Inf`).
pub fn openmetrics_float(v: f64) -> String {
    let mut text = go_float(v);
    if v.is_finite() && !text.contains(['.', 'e']) {
        text.push_str(".0");
    }
    text
}
