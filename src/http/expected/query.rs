//! Reading a request's query string and its PromQL-like selector, and writing values and
//! strings as Prometheus's API writes them.

use crate::names::{is_label_name, is_metric_name};

/// A label matcher: `name="value"` (`equal`) or `name!="value"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Matcher {
    pub(super) name: String,
    pub(super) value: String,
    pub(super) equal: bool,
}

/// `name`, `name{}` or `name{a="x", b!='y'}`, as in PromQL (without regular expressions).
pub(super) fn parse_selector(s: &str) -> Result<(String, Vec<Matcher>), String> {
    let bad = |why: &str| format!("invalid parameter \"metric\": {s:?}: {why}");
    let s_trim = s.trim();
    let (name, rest) = match s_trim.find('{') {
        Some(open) => (s_trim[..open].trim(), Some(&s_trim[open + 1..])),
        None => (s_trim, None),
    };
    if !is_metric_name(name) {
        return Err(bad("expected a metric name, optionally followed by label matchers in braces"));
    }
    let mut matchers = Vec::new();
    let Some(rest) = rest else { return Ok((name.to_string(), matchers)) };
    let mut chars = rest.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        match chars.peek() {
            Some((_, '}')) => {
                chars.next();
                break;
            }
            None => return Err(bad("missing '}'")),
            _ => {}
        }
        let mut label = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| c.is_ascii_alphanumeric() || *c == '_') {
            label.push(c);
        }
        if !is_label_name(&label) {
            return Err(bad("expected a label name"));
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let equal = match (chars.next().map(|(_, c)| c), chars.peek().map(|(_, c)| *c)) {
            (Some('='), Some('~')) | (Some('!'), Some('~')) => {
                return Err(bad("regular-expression matchers (=~, !~) are not supported; use = or !="))
            }
            (Some('='), _) => true,
            (Some('!'), Some('=')) => {
                chars.next();
                false
            }
            _ => return Err(bad(&format!("expected = or != after {label}"))),
        };
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let value = parse_string(&mut chars).map_err(|why| bad(&why))?;
        matchers.push(Matcher { name: label, value, equal });
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        match chars.next() {
            Some((_, ',')) => {}
            Some((_, '}')) => break,
            _ => return Err(bad("expected ',' or '}' after a matcher")),
        }
    }
    if chars.next().is_some() {
        return Err(bad("unexpected text after '}'"));
    }
    Ok((name.to_string(), matchers))
}

/// A PromQL string literal: double or single quotes with Go's escapes, or backquotes (raw).
fn parse_string(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Result<String, String> {
    let quote = match chars.next() {
        Some((_, q @ ('"' | '\'' | '`'))) => q,
        _ => return Err("expected a quoted label value".into()),
    };
    let mut out = String::new();
    loop {
        let c = chars.next().map(|(_, c)| c).ok_or("unterminated string")?;
        if c == quote {
            return Ok(out);
        }
        if c != '\\' || quote == '`' {
            out.push(c);
            continue;
        }
        let escaped = chars.next().map(|(_, c)| c).ok_or("unterminated string")?;
        let hex = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, digits: usize| -> Result<char, String> {
            let text: String = (0..digits).filter_map(|_| chars.next().map(|(_, c)| c)).collect();
            u32::from_str_radix(&text, 16).ok().and_then(char::from_u32).ok_or(format!("invalid escape with {text:?}"))
        };
        out.push(match escaped {
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\u{b}',
            '\\' | '"' | '\'' => escaped,
            'x' => Some(hex(chars, 2)?)
                .filter(char::is_ascii)
                .ok_or("\\x escapes above \\x7f are not supported; use \\u")?,
            'u' => hex(chars, 4)?,
            'U' => hex(chars, 8)?,
            other => return Err(format!("unknown escape \\{other}")),
        });
    }
}

/// Splits a query string into decoded `(name, value)` pairs: `+` is a space, `%XX` a byte.
pub(super) fn parse_query(query: &str) -> Result<Vec<(String, String)>, String> {
    let decode = |s: &str| -> Result<String, String> {
        let mut bytes = Vec::with_capacity(s.len());
        let mut raw = s.bytes();
        while let Some(b) = raw.next() {
            bytes.push(match b {
                b'+' => b' ',
                b'%' => {
                    let hex: Vec<u8> = raw.by_ref().take(2).collect();
                    std::str::from_utf8(&hex)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok().filter(|_| h.len() == 2))
                        .ok_or_else(|| format!("invalid percent-encoding in {s:?}"))?
                }
                b => b,
            });
        }
        String::from_utf8(bytes).map_err(|_| format!("{s:?} does not decode to UTF-8"))
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// A JSON string literal.
pub(super) fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// A sample value as Prometheus's API writes it (Go's `strconv.FormatFloat` with the shortest
/// digits): positional notation from 1e-6 up to 1e21, else `1.5e-07` or `1e+21`; `NaN`, `+Inf`
/// and `-Inf`. Written the same way, values can be compared as the strings they are.
pub fn prometheus_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let sign = if v.is_sign_negative() { "-" } else { "" };
    if v == 0.0 {
        return format!("{sign}0");
    }
    // The shortest digits that read back as v, and the power of ten of the last one.
    let mut buffer = ryu::Buffer::new();
    let text = buffer.format_finite(v.abs());
    let (mantissa, exponent) = match text.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_all = format!("{whole}{fraction}");
    let mut digits = digits_all.trim_start_matches('0').to_string();
    let mut last = exponent - fraction.len() as i32;
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
        last += 1;
    }
    let count = digits.len() as i32;
    let scientific = last + count - 1;
    let body = if v.abs() < 1e-6 || v.abs() >= 1e21 {
        let rest = if count > 1 { format!(".{}", &digits[1..]) } else { String::new() };
        let exp_sign = if scientific < 0 { '-' } else { '+' };
        format!("{}{rest}e{exp_sign}{:02}", &digits[..1], scientific.abs())
    } else if last >= 0 {
        format!("{digits}{}", "0".repeat(last as usize))
    } else if -last < count {
        let point = (count + last) as usize;
        format!("{}.{}", &digits[..point], &digits[point..])
    } else {
        format!("0.{}{digits}", "0".repeat((-last - count) as usize))
    };
    format!("{sign}{body}")
}
