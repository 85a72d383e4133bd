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

mod points;
mod query;

pub use query::prometheus_float;

use crate::config::{Entry, Kind, Served};
use crate::engine::{Budget, Snapshot};
use crate::exposition::{lines, Format, Line, LineValue};
use crate::time::{format_api_time, now_ms, parse_api_duration, parse_time};
use points::{bucket_quantile, increases, native_increases, native_quantile, values, Stream};
use query::{json_string, parse_query, parse_selector};
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

/// An error's JSON body, shaped as Prometheus's query API shapes it.
pub fn error_body(kind: &str, message: &str) -> String {
    format!("{{\"status\":\"error\",\"errorType\":{},\"error\":{}}}\n", json_string(kind), json_string(message))
}

impl Answer {
    fn error(status: u16, kind: &str, message: &str) -> Answer {
        Answer { status, body: error_body(kind, message) }
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

/// One series the request matched: its entry (by index), number within the entry, and line.
struct Series<'a> {
    index: usize,
    entry: &'a Entry,
    k: u64,
    line: Line,
    /// For `histogram_quantile`, the entry's bucket lines (the line above is the first of them).
    buckets: Vec<(f64, Line)>,
}

/// What a request asks of each series.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ask {
    /// Its values.
    Values,
    /// Its true increase over a window (milliseconds).
    Increase(u64),
    /// `histogram_quantile(φ, increase(x_bucket[window]))`.
    Quantile { phi: f64, window: u64 },
    /// `histogram_quantile(φ, increase(x[window]))` of a native histogram `x`.
    NativeQuantile { phi: f64, window: u64 },
}

/// A validated request.
struct Request<'a> {
    series: Vec<Series<'a>>,
    /// Unix milliseconds of each point, in order.
    times: Vec<i64>,
    /// A range (`matrix`) rather than one time (`vector`).
    range: bool,
    ask: Ask,
    /// Matchers on a churning entry's generation label, applied to each generation's points.
    generation_matchers: Vec<query::Matcher>,
}

/// The parameters a request may have.
const PARAMETERS: [&str; 8] = ["metric", "time", "start", "end", "step", "increase", "histogram_quantile", "shard"];

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
        if let Some((unknown, _)) = params.iter().find(|(k, _)| !PARAMETERS.contains(&k.as_str())) {
            return Err(format!(
                "unknown parameter {unknown:?} (parameters: metric, time, or start, end and step, increase, \
                 histogram_quantile with increase, and shard=all)"
            ));
        }
        // With `--shard`, the series of this shard, or with `shard=all` those of every shard.
        let every_shard = match get("shard")? {
            None => false,
            Some("all") => true,
            Some(other) => return Err(format!("invalid parameter \"shard\": {other:?}; the one value is all")),
        };
        let selector = get("metric")?.ok_or("missing parameter \"metric\": a metric name, e.g. metric=test_metrics_custom_square or metric=test_metrics_jobs_done_total{queue=\"default\"}")?;
        let (name, mut matchers) = parse_selector(selector)?;
        // A generation label is not a series' label but each generation's: matched per generation.
        let churn_labels: Vec<&str> =
            snapshot.config.entries.iter().filter_map(|e| e.churn.as_ref().map(|c| c.label.as_str())).collect();
        let (generation_matchers, rest): (Vec<query::Matcher>, Vec<query::Matcher>) =
            matchers.drain(..).partition(|m| churn_labels.contains(&m.name.as_str()));
        matchers = rest;
        let window = get("increase")?
            .map(|w| parse_api_duration(w).map_err(|m| format!("invalid parameter \"increase\": {m}")))
            .transpose()?;
        let phi = get("histogram_quantile")?
            .map(|q| {
                q.parse::<f64>().map_err(|_| format!("invalid parameter \"histogram_quantile\": {q:?} is not a number"))
            })
            .transpose()?;
        let ask = match (phi, window) {
            (None, None) => Ask::Values,
            (None, Some(window)) => Ask::Increase(window),
            (Some(phi), Some(window)) => Ask::Quantile { phi, window },
            (Some(_), None) => {
                return Err("histogram_quantile needs increase=W: the quantile of the buckets' increase over W".into())
            }
        };

        let time = |param: &str| -> Result<Option<i64>, String> {
            get(param)?.map(|t| parse_time(t).map_err(|m| format!("invalid parameter {param:?}: {m}"))).transpose()
        };
        // A native histogram is asked for by its own name, as Prometheus stores it.
        let entries = &snapshot.config.entries;
        let native =
            entries.iter().any(|e| e.full_name == name && e.observe.as_ref().is_some_and(|o| o.native.is_some()));
        let ask = match ask {
            Ask::Quantile { phi, window } if native => Ask::NativeQuantile { phi, window },
            Ask::Values | Ask::Increase(_) if native => {
                return Err(format!(
                    "{name} is a native histogram: ask for histogram_quantile with increase, or for {name}_count and \
                     {name}_sum, which are histogram_count({name}) and histogram_sum({name})"
                ))
            }
            other => other,
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

        if let Ask::NativeQuantile { window, .. } = ask {
            return native_series(snapshot, &name, &matchers, selector, window, every_shard).map(|series| Request {
                series,
                times,
                range,
                ask,
                generation_matchers,
            });
        }
        // Each entry's lines as Prometheus stores them: it scrapes OpenMetrics first.
        let named: Vec<(usize, Vec<Line>)> = entries
            .iter()
            .enumerate()
            .map(|(index, e)| (index, lines(e, Format::OpenMetrics)))
            .filter(|(_, lines)| lines.iter().any(|l| l.name == name))
            .collect();
        let Some((first_index, first_lines)) = named.first() else {
            let mut names: Vec<String> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for entry in entries {
                for line in lines(entry, Format::OpenMetrics) {
                    if seen.insert(line.name.clone()) {
                        names.push(line.name);
                    }
                }
            }
            return Err(format!("unknown metric {name:?} (served: {})", names.join(", ")));
        };
        let first = &entries[*first_index];
        let accumulates = |line: &Line| match first.kind {
            Kind::Counter => true,
            Kind::Histogram | Kind::Summary => line.name != first.full_name,
            _ => false,
        };
        if let Some(w) = window {
            let line = first_lines.iter().find(|l| l.name == name).expect("the entry has a line of that name");
            if !accumulates(line) {
                return Err(format!(
                    "increase is for counters and for the buckets, sums and counts of histograms and summaries, \
                     and {name} is a {}",
                    first.kind.as_str()
                ));
            }
            let ticks = w.div_ceil(snapshot.grid.interval_ms);
            if ticks > MAX_WINDOW_TICKS {
                return Err(format!("the increase window spans {ticks} ticks; at most {MAX_WINDOW_TICKS}"));
            }
        }
        if phi.is_some() {
            if first.kind != Kind::Histogram || !name.ends_with("_bucket") {
                return Err(format!(
                    "histogram_quantile is for the buckets of a histogram (x_bucket), and {name} is not"
                ));
            }
            if matchers.iter().any(|m| m.name == "le") {
                return Err("histogram_quantile takes every bucket of a series: leave le out of the selector".into());
            }
        }
        let mut series = Vec::new();
        for (index, entry_lines) in &named {
            let (index, entry) = (*index, &entries[*index]);
            let buckets: Vec<(f64, Line)> = match phi {
                None => Vec::new(),
                Some(_) => entry_lines
                    .iter()
                    .filter(|l| l.name == name)
                    .filter_map(|l| {
                        let bound = l.label.as_ref()?.1.parse::<f64>().ok()?;
                        Some((bound, l.clone()))
                    })
                    .collect(),
            };
            for k in numbers(entry, every_shard) {
                let labels = entry.labels_of(k);
                // histogram_quantile asks once per histogram series, for all its buckets.
                let candidates: Vec<&Line> = match phi {
                    Some(_) => buckets.first().map(|(_, line)| line).into_iter().collect(),
                    None => entry_lines.iter().filter(|l| l.name == name).collect(),
                };
                for line in candidates {
                    let own = line.label.as_ref().filter(|_| phi.is_none());
                    let value_of = |label: &str| match own {
                        Some((own_name, own_value)) if own_name == label => own_value.as_str(),
                        _ => labels.iter().find(|(l, _)| *l == label).map_or("", |(_, v)| v.as_ref()),
                    };
                    if selected(&matchers, &name, value_of) {
                        let found = Series { index, entry, k, line: line.clone(), buckets: buckets.clone() };
                        add(&mut series, found, selector)?;
                    }
                }
            }
        }
        Ok(Request { series, times, range, ask, generation_matchers })
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
            let first = snapshot.starts.get(s.index).copied().unwrap_or(1);
            let stream = Stream::new(s.entry, s.k, first);
            let grid = snapshot.grid;
            let points = match self.ask {
                Ask::NativeQuantile { phi, window } => {
                    let schema = s.entry.observe.as_ref().and_then(|o| o.native).expect("a native histogram");
                    native_increases(stream, grid, &self.times, window, &mut budget).map(|points| {
                        points.into_iter().map(|(t, counts)| (t, native_quantile(phi, &schema, &counts))).collect()
                    })
                }
                Ask::Values => values(stream, &s.line, grid, &self.times, &mut budget),
                Ask::Increase(w) => increases(stream, std::slice::from_ref(&s.line), grid, &self.times, w, &mut budget)
                    .map(|points| points.into_iter().map(|(t, rises)| (t, rises[0])).collect()),
                Ask::Quantile { phi, window } => {
                    let lines: Vec<Line> = s.buckets.iter().map(|(_, line)| line.clone()).collect();
                    let bounds: Vec<f64> = s.buckets.iter().map(|(bound, _)| *bound).collect();
                    increases(stream, &lines, grid, &self.times, window, &mut budget).map(|points| {
                        points.into_iter().map(|(t, rises)| (t, bucket_quantile(phi, &bounds, &rises))).collect()
                    })
                }
            }
            .map_err(too_much)?;
            // No point where the series is not served, and for a churning entry one series per
            // generation, each with its generation label and its own points.
            let points: Vec<(i64, f64, u64)> = points
                .into_iter()
                .filter_map(|(t, v)| grid.tick_at(t).map(|tick| (t, v, tick)))
                .filter(|&(_, _, tick)| s.entry.active_at(tick))
                .collect();
            let generation = |tick: u64| s.entry.churn.as_ref().map_or(0, |churn| churn.generation(tick));
            for run in points.chunk_by(|a, b| generation(a.2) == generation(b.2)) {
                let labels = s.entry.labels_at(s.k, run[0].2);
                let selected = self.generation_matchers.iter().all(|m| {
                    let value = labels.iter().find(|(l, _)| *l == m.name).map_or("", |(_, v)| v.as_ref());
                    (value == m.value) == m.equal
                });
                if selected {
                    write_series(&mut out, &mut first_series, self, s, labels, run);
                }
            }
        }
        out.push_str("]}}\n");
        Ok(out)
    }
}

/// Appends one series of the answer: its labels (with the line's own, and the name unless a
/// function of it was asked for) and its points.
fn write_series(
    out: &mut String,
    first_series: &mut bool,
    request: &Request,
    s: &Series,
    labels: Vec<(&str, std::borrow::Cow<'_, str>)>,
    points: &[(i64, f64, u64)],
) {
    if !*first_series {
        out.push(',');
    }
    *first_series = false;
    out.push_str("{\"metric\":{");
    let mut labels: Vec<(&str, String)> = labels.into_iter().map(|(l, v)| (l, v.into_owned())).collect();
    if let (Ask::Values | Ask::Increase(_), Some((name, value))) = (request.ask, &s.line.label) {
        labels.push((name.as_str(), value.clone()));
    }
    labels.sort_by(|a, b| a.0.cmp(b.0));
    // Prometheus's increase() and histogram_quantile() drop the metric name; so does this.
    if request.ask == Ask::Values {
        labels.insert(0, ("__name__", s.line.name.clone()));
    }
    for (index, (label, value)) in labels.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let _ = write!(out, "{}:{}", json_string(label), json_string(value));
    }
    out.push_str(if request.range { "},\"values\":[" } else { "},\"value\":" });
    for (index, (t, v, _)) in points.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let _ = write!(out, "[{},\"{}\"]", format_api_time(*t), prometheus_float(*v));
    }
    out.push_str(if request.range { "]}" } else { "}" });
}

/// Whether a series named `name`, whose labels `value_of` gives ("" for one it lacks), is one
/// that every matcher selects.
fn selected<'v>(matchers: &[query::Matcher], name: &'v str, value_of: impl Fn(&str) -> &'v str) -> bool {
    matchers.iter().all(|m| {
        let value = if m.name == "__name__" { name } else { value_of(&m.name) };
        (value == m.value) == m.equal
    })
}

/// Adds `found` to `series`, refusing a selector that matches more than [`MAX_SERIES`].
fn add<'a>(series: &mut Vec<Series<'a>>, found: Series<'a>, selector: &str) -> Result<(), String> {
    if series.len() == MAX_SERIES {
        return Err(format!("{selector} matches more than {MAX_SERIES} series; narrow it down with label matchers"));
    }
    series.push(found);
    Ok(())
}

/// The series of the native histograms named `name` that `matchers` select, checking the window.
fn native_series<'a>(
    snapshot: &'a Snapshot,
    name: &str,
    matchers: &[query::Matcher],
    selector: &str,
    window: u64,
    every_shard: bool,
) -> Result<Vec<Series<'a>>, String> {
    let ticks = window.div_ceil(snapshot.grid.interval_ms);
    if ticks > MAX_WINDOW_TICKS {
        return Err(format!("the increase window spans {ticks} ticks; at most {MAX_WINDOW_TICKS}"));
    }
    let mut series = Vec::new();
    for (index, entry) in snapshot.config.entries.iter().enumerate().filter(|(_, e)| e.full_name == name) {
        let line = Line { name: name.to_string(), label: None, value: LineValue::Value };
        for k in numbers(entry, every_shard) {
            let labels = entry.labels_of(k);
            let value_of = |label: &str| labels.iter().find(|(l, _)| *l == label).map_or("", |(_, v)| v.as_ref());
            if selected(matchers, name, value_of) {
                add(&mut series, Series { index, entry, k, line: line.clone(), buckets: Vec::new() }, selector)?;
            }
        }
    }
    Ok(series)
}

/// The numbers of the series of `entry` an answer covers: those this process serves, or with
/// `shard=all` every one. Stepped through directly, so that a shard of a huge fan-out costs its
/// own series only.
fn numbers(entry: &Entry, every_shard: bool) -> impl Iterator<Item = u64> {
    let which = if every_shard { Served::all(entry.series) } else { entry.served };
    (0..which.count).map(move |j| which.k(j))
}

#[cfg(test)]
mod tests {
    use super::query::Matcher;
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
        bad(
            "metric=ns_sq&increase=5m",
            "increase is for counters and for the buckets, sums and counts of histograms and summaries, and ns_sq is a gauge",
        );
        bad("metric=ns_jobs_total&increase=1000d", "the increase window spans 8640000 ticks");
        bad("metric=ns_sq&colour=red", "unknown parameter \"colour\"");
        bad("metric=ns_sq&time=1&time=2", "parameter \"time\" is given more than once");
        bad("metric=ns_sq{k=~\"a\"}", "regular-expression matchers");
    }
}
