//! `GET /api/v1/expected`: the values every series had, has or will have at given times, and
//! for counters their true increase over a window, computed from the config alone.
//!
//! Nothing is remembered: each request replays each matching series from a fresh
//! sequence ([`Sequence::of`]), fast-forwarded ([`Sequence::skip_to`]) to the ticks it needs, within a
//! [`Budget`] of work. The answer has the shape of Prometheus's query API (`vector` for one
//! time, `matrix` for a range; values as strings, written as Prometheus writes them), so that
//! it can be set beside what a Prometheus server returns for the same series and compared.
//!
//! Pure code apart from reading the clock for a default `time`: the server passes in the
//! snapshot and the query string and sends what comes back.

use crate::config::{Entry, Kind};
use crate::engine::{Budget, Exhausted, Sequence, Snapshot};
use crate::names::{is_label_name, is_metric_name};
use crate::time::{format_api_time, now_ms, parse_api_duration, parse_time, Grid};
use std::collections::VecDeque;
use std::fmt::Write as _;

/// The most points per series, as Prometheus allows in a range query.
pub const MAX_POINTS: u64 = 11_000;
/// The most series one request may match.
pub const MAX_SERIES: usize = 1_000;
/// The most ticks an `increase` window may span.
pub const MAX_WINDOW_TICKS: u64 = 1_000_000;
/// The work one request may do, in [`Budget`] units (about one value computed each).
pub const REQUEST_BUDGET: u64 = 50_000_000;

/// An answer: the HTTP status and the JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    fn error(status: u16, kind: &str, message: &str) -> Answer {
        let body = format!(
            "{{\"status\":\"error\",\"errorType\":{},\"error\":{}}}\n",
            json_string(kind),
            json_string(message)
        );
        Answer { status, body }
    }

    fn bad(message: &str) -> Answer {
        Answer::error(400, "bad_data", message)
    }
}

/// Answers a request whose query string (after the `?`, still percent-encoded) is `query`.
pub fn answer(snapshot: &Snapshot, query: &str) -> Answer {
    match Request::parse(snapshot, query) {
        Err(message) => Answer::bad(&message),
        Ok(request) => match request.compute(snapshot) {
            Ok(body) => Answer { status: 200, body },
            Err(message) => Answer::error(422, "execution", &message),
        },
    }
}

/// One series the request matched: its entry (by index) and number within the entry.
struct Series<'a> {
    index: usize,
    entry: &'a Entry,
    k: u64,
}

/// A validated request.
struct Request<'a> {
    series: Vec<Series<'a>>,
    /// Unix milliseconds of each point, in order.
    times: Vec<i64>,
    /// A range (`matrix`) rather than one time (`vector`).
    range: bool,
    /// The `increase` window in milliseconds.
    window: Option<u64>,
}

impl<'a> Request<'a> {
    fn parse(snapshot: &'a Snapshot, query: &str) -> Result<Request<'a>, String> {
        let params = parse_query(query)?;
        let get = |name: &str| -> Result<Option<&str>, String> {
            let mut values = params.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
            let first = values.next();
            match values.next() {
                Some(_) => Err(format!("parameter {name:?} is given more than once")),
                None => Ok(first),
            }
        };
        if let Some((unknown, _)) =
            params.iter().find(|(k, _)| !["metric", "time", "start", "end", "step", "increase"].contains(&k.as_str()))
        {
            return Err(format!(
                "unknown parameter {unknown:?} (parameters: metric, time, or start, end and step, and increase)"
            ));
        }
        let selector = get("metric")?.ok_or("missing parameter \"metric\": a metric name, e.g. metric=test_metrics_custom_square or metric=test_metrics_jobs_done_total{queue=\"default\"}")?;
        let (name, matchers) = parse_selector(selector)?;
        let window = get("increase")?
            .map(|w| parse_api_duration(w).map_err(|m| format!("invalid parameter \"increase\": {m}")))
            .transpose()?;

        let time = |param: &str| -> Result<Option<i64>, String> {
            get(param)?.map(|t| parse_time(t).map_err(|m| format!("invalid parameter {param:?}: {m}"))).transpose()
        };
        let (start, end, step) = (time("start")?, time("end")?, get("step")?);
        let (times, range) = match (time("time")?, start, end, step) {
            (at, None, None, None) => (vec![at.unwrap_or_else(now_ms)], false),
            (None, Some(start), Some(end), Some(step)) => {
                let step = parse_api_duration(step).map_err(|_| {
                    format!(
                        "invalid parameter \"step\": {step:?}: zero or negative query resolution step widths are \
                         not accepted. Try a positive integer"
                    )
                })?;
                if end < start {
                    return Err("end timestamp must not be before start time".into());
                }
                let points = ((end - start) as u64) / step + 1;
                if points > MAX_POINTS {
                    return Err(format!(
                        "exceeded maximum resolution of 11,000 points per timeseries (this asks for {points}). \
                         Try decreasing the query resolution (?step=XX)"
                    ));
                }
                ((0..points).map(|j| start + (j * step) as i64).collect(), true)
            }
            (Some(_), ..) => return Err("give either time, or start, end and step, not both".into()),
            _ => return Err("a range needs all of start, end and step".into()),
        };

        let families: Vec<&Entry> = snapshot.config.entries.iter().filter(|e| e.sample_name() == name).collect();
        let Some(first) = families.first() else {
            let mut names: Vec<String> = snapshot.config.entries.iter().map(Entry::sample_name).collect();
            names.dedup();
            return Err(format!("unknown metric {name:?} (served: {})", names.join(", ")));
        };
        if window.is_some() && first.kind != Kind::Counter {
            return Err(format!("increase is for counters, and {name} is a gauge"));
        }
        if let Some(w) = window {
            let ticks = w.div_ceil(snapshot.grid.interval_ms);
            if ticks > MAX_WINDOW_TICKS {
                return Err(format!("the increase window spans {ticks} ticks; at most {MAX_WINDOW_TICKS}"));
            }
        }
        let mut series = Vec::new();
        for (index, entry) in snapshot.config.entries.iter().enumerate().filter(|(_, e)| e.sample_name() == name) {
            for k in 0..entry.series {
                let labels = entry.labels_of(k);
                let matches = matchers.iter().all(|m| {
                    let value = match m.name.as_str() {
                        "__name__" => name.as_str(),
                        label => labels.iter().find(|(l, _)| *l == label).map_or("", |(_, v)| v.as_ref()),
                    };
                    (value == m.value) == m.equal
                });
                if !matches {
                    continue;
                }
                if series.len() == MAX_SERIES {
                    return Err(format!(
                        "{selector} matches more than {MAX_SERIES} series; narrow it down with label matchers"
                    ));
                }
                series.push(Series { index, entry, k });
            }
        }
        Ok(Request { series, times, range, window })
    }

    /// The JSON body, or why the work was too much.
    fn compute(&self, snapshot: &Snapshot) -> Result<String, String> {
        let mut budget = Budget::new(REQUEST_BUDGET);
        let too_much = |_| {
            format!(
                "answering would take more than {REQUEST_BUDGET} steps of work; ask for fewer series, points or \
                 ticks (see docs/ground-truth.md, Expected values)"
            )
        };
        let mut out = format!(
            "{{\"status\":\"success\",\"data\":{{\"resultType\":\"{}\",\"result\":[",
            if self.range { "matrix" } else { "vector" }
        );
        let mut first_series = true;
        for s in &self.series {
            let start = snapshot.starts.get(s.index).copied().unwrap_or(1);
            let points = match self.window {
                None => values(Sequence::of(s.entry, s.k).starting_at(start), snapshot.grid, &self.times, &mut budget),
                Some(w) => {
                    increases(Sequence::of(s.entry, s.k).starting_at(start), snapshot.grid, &self.times, w, &mut budget)
                }
            }
            .map_err(too_much)?;
            if points.is_empty() {
                continue;
            }
            if !first_series {
                out.push(',');
            }
            first_series = false;
            out.push_str("{\"metric\":{");
            let name = s.entry.sample_name();
            let mut labels: Vec<(&str, String)> =
                s.entry.labels_of(s.k).into_iter().map(|(l, v)| (l, v.into_owned())).collect();
            // Prometheus's increase() drops the metric name; so does this.
            if self.window.is_none() {
                labels.insert(0, ("__name__", name));
            }
            for (index, (label, value)) in labels.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{}:{}", json_string(label), json_string(value));
            }
            out.push_str(if self.range { "},\"values\":[" } else { "},\"value\":" });
            for (index, (t, v)) in points.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                let _ = write!(out, "[{},\"{}\"]", format_api_time(*t), prometheus_float(*v));
            }
            out.push_str(if self.range { "]}" } else { "}" });
        }
        out.push_str("]}}\n");
        Ok(out)
    }
}

/// The value at each time: that of the last tick at or before it. Times before the series'
/// first tick have no value and no point.
fn values(
    mut sequence: Sequence,
    grid: Grid,
    times: &[i64],
    budget: &mut Budget,
) -> Result<Vec<(i64, f64)>, Exhausted> {
    let first = sequence.tick() + 1;
    let mut points = Vec::new();
    for &t in times {
        let Some(tick) = grid.tick_at(t).filter(|&k| k >= first) else { continue };
        sequence.skip_to(tick, budget)?;
        points.push((t, sequence.value()));
    }
    Ok(points)
}

/// The true increase over `(t − window, t]` at each time `t`: the sum, over the ticks in that
/// span, of each value's rise from the value before it, a drop counting as a restart from zero
/// (the new value itself). Before its first tick a series counts as 0, so a window that holds its
/// first tick counts its first value in full. Times before the first tick have no point.
fn increases(
    mut lead: Sequence,
    grid: Grid,
    times: &[i64],
    window: u64,
    budget: &mut Budget,
) -> Result<Vec<(i64, f64)>, Exhausted> {
    let before = lead.tick();
    // The value at `lead.tick()`, and the rise of each tick still inside the window.
    let mut previous = 0.0;
    let mut rises: VecDeque<(u64, f64)> = VecDeque::new();
    let mut points = Vec::new();
    for &t in times {
        let Some(end) = grid.tick_at(t).filter(|&k| k > before) else { continue };
        let begin = grid.tick_at(t.saturating_sub(window as i64)).map_or(before, |k| k.max(before));
        if begin > lead.tick() {
            // Nothing of the last window is in this one: jump to where this one begins.
            lead.skip_to(begin, budget)?;
            previous = lead.value();
            rises.clear();
        }
        while lead.tick() < end {
            budget.spend(1)?;
            let n = lead.tick() + 1;
            lead.advance(n);
            let value = lead.value();
            rises.push_back((n, if value >= previous { value - previous } else { value }));
            previous = value;
        }
        while rises.front().is_some_and(|&(n, _)| n <= begin) {
            rises.pop_front();
        }
        budget.spend(rises.len() as u64)?;
        points.push((t, rises.iter().map(|&(_, rise)| rise).sum()));
    }
    Ok(points)
}

/// A label matcher: `name="value"` (`equal`) or `name!="value"`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Matcher {
    name: String,
    value: String,
    equal: bool,
}

/// `name`, `name{}` or `name{a="x", b!='y'}`, as in PromQL (without regular expressions).
fn parse_selector(s: &str) -> Result<(String, Vec<Matcher>), String> {
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
fn parse_query(query: &str) -> Result<Vec<(String, String)>, String> {
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
fn json_string(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse, Options};
    use crate::engine::State;
    use crate::functions::Registry;
    use std::time::Duration;

    #[test]
    fn floats_are_written_as_prometheus_writes_them() {
        for (v, text) in [
            (1.0, "1"),
            (-3.0, "-3"),
            (0.1, "0.1"),
            (123.456, "123.456"),
            (54.1471975043153, "54.1471975043153"),
            (1e16, "10000000000000000"),
            (1.5e20, "150000000000000000000"),
            (1e21, "1e+21"),
            (2.5e-6, "0.0000025"),
            (1e-6, "0.000001"),
            (1.5e-7, "1.5e-07"),
            (143f64.powf(143.0), "1.6332525972973913e+308"),
            (5e-324, "5e-324"),
            (0.0, "0"),
            (-0.0, "-0"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(prometheus_float(v), text, "{v:e}");
        }
    }

    #[test]
    fn selectors() {
        assert_eq!(parse_selector("ns_a"), Ok(("ns_a".into(), vec![])));
        let m = |name: &str, value: &str, equal: bool| Matcher { name: name.into(), value: value.into(), equal };
        assert_eq!(
            parse_selector(r#"ns_a{q="x\"y\\z\n",  r != 'a\'b' , s=`raw\n`,t="\u00fc\x41"}"#),
            Ok((
                "ns_a".into(),
                vec![m("q", "x\"y\\z\n", true), m("r", "a'b", false), m("s", "raw\\n", true), m("t", "üA", true)]
            ))
        );
        for bad in ["", "9a", "a{", "a{b}", "a{b=}", "a{b=\"x\"", "a{b=~\"x\"}", "a{b=\"x\"} c", "a{b=\"\\q\"}"] {
            assert!(parse_selector(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn query_strings() {
        assert_eq!(
            parse_query("metric=a%7Bq%3D%22x+y%22%7D&time=1").unwrap(),
            [("metric".to_string(), "a{q=\"x y\"}".to_string()), ("time".to_string(), "1".to_string())]
        );
        assert!(parse_query("a=%zz").is_err());
        assert!(parse_query("a=%ff").is_err());
    }

    fn snapshot() -> std::sync::Arc<Snapshot> {
        let config = parse(
            r#"[{"name":"sq","metric_type":"gauge","custom_function":"square","labels":{"k":["a","b"]}},
                {"name":"jobs","metric_type":"counter","custom_function":"square","reset_interval":3}]"#,
            "t",
            &Options { namespace: "ns".into(), ..Options::default() },
            &Registry::builtin(),
        )
        .unwrap();
        let state = State::start(config, Duration::from_secs(10), crate::time::Align::WallClock).unwrap();
        state.snapshot()
    }

    #[track_caller]
    fn check(query: &str, status: u16, body: &str) {
        let answer = answer(&snapshot(), query);
        assert_eq!((answer.status, answer.body.as_str()), (status, body), "{query}");
    }

    #[test]
    fn answers() {
        // With a 10 s interval on the epoch's grid, tick k is at (k − 1)·10 s.
        check(
            "metric=ns_sq&time=25",
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"ns_sq","k":"a"},"value":[25,"9"]},{"metric":{"__name__":"ns_sq","k":"b"},"value":[25,"9"]}]}}
"#,
        );
        check(
            "metric=ns_sq{k!=\"a\"}&start=-10&end=20.5&step=10",
            200,
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"ns_sq","k":"b"},"values":[[0,"1"],[10,"4"],[20,"9"]]}]}}
"#,
        );
        // Counter 1, 4, 9, 1, 4, 9, 1 at 0 s, 10 s, …, 60 s: its rises are 1, 3, 5, 1, 3, 5, 1 (a drop
        // to 1 rises by 1), and before tick 1 it counts as 0.
        check(
            "metric=ns_jobs_total&start=0&end=60&step=30&increase=65s",
            200,
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[0,"1"],[30,"10"],[60,"19"]]}]}}
"#,
        );
        check(
            "metric=ns_jobs_total&time=60&increase=25s",
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[60,"9"]}]}}
"#,
        );
        check(
            "metric=ns_sq&time=-1",
            200,
            "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}\n",
        );
    }

    #[test]
    fn errors() {
        let bad = |query: &str, message: &str| {
            let answer = answer(&snapshot(), query);
            assert_eq!(answer.status, 400, "{query}");
            let json: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
            assert_eq!(json["errorType"], "bad_data");
            let error = json["error"].as_str().unwrap();
            assert!(error.contains(message), "{query}: {error}");
        };
        bad("time=1", "missing parameter \"metric\"");
        bad("metric=nope", "unknown metric \"nope\" (served: ns_sq, ns_jobs_total)");
        bad("metric=ns_sq&time=soon", "invalid parameter \"time\"");
        bad("metric=ns_sq&start=0&end=10&step=0", "zero or negative query resolution step widths are not accepted");
        bad("metric=ns_sq&start=0&end=10&step=-1", "zero or negative query resolution step widths are not accepted");
        bad("metric=ns_sq&start=10&end=0&step=1", "end timestamp must not be before start time");
        bad("metric=ns_sq&start=0&end=11000&step=1", "exceeded maximum resolution of 11,000 points");
        bad("metric=ns_sq&start=0&end=10", "a range needs all of start, end and step");
        bad("metric=ns_sq&time=0&start=0&end=10&step=1", "give either time, or start, end and step");
        bad("metric=ns_sq&increase=5m", "increase is for counters, and ns_sq is a gauge");
        bad("metric=ns_jobs_total&increase=1000d", "the increase window spans 8640000 ticks");
        bad("metric=ns_sq&colour=red", "unknown parameter \"colour\"");
        bad("metric=ns_sq&time=1&time=2", "parameter \"time\" is given more than once");
        bad("metric=ns_sq{k=~\"a\"}", "regular-expression matchers");
    }
}
