//! The export modes: every series of the config, written as test input for the Prometheus tools.
//!
//! - `--export-promtool-tests FILE --ticks N`: the `input_series` of a `promtool test rules`
//!   file, with ticks 1 to N of every series, in the `a+bxc` notation where a run of values
//!   follows it exactly and as plain values elsewhere.
//! - `--export-openmetrics FILE --start T --ticks N`: OpenMetrics text with a timestamp on every
//!   sample, which `promtool tsdb create-blocks-from openmetrics` turns into TSDB blocks.
//!
//! Values come from replaying each series' own sequence ([`Sequence::of`]), fast-forwarded as the
//! exporter does, so an export holds exactly what `/metrics` serves at those ticks. The YAML is
//! written by hand: it is a fixed shape, and the only subtle part, quoting the series selector,
//! is PromQL's business more than YAML's.

use super::output::to_stdout;
use crate::config::{Config, Entry, Kind};
use crate::engine::{cannot_fast_forward, Budget, Replay, FAST_FORWARD_BUDGET};
use crate::error::Error;
use crate::exposition::{families, format_value, lines, write_label_set, Format, Line};
use crate::names::VERSION;
use crate::time::{format_duration, Align, Grid};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

/// Writes with `write` into `path`, or stdout for `-`. A failure is one error: the config error
/// that stopped the export (carried inside the `io::Error`), or the write error naming the file.
pub fn to_file(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), Error> {
    let failed = |e: io::Error| match e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()) {
        Some(error) => error.clone(),
        None => Error::Write { path: path.display().to_string(), message: e.to_string() },
    };
    if path == Path::new("-") {
        return to_stdout(write).map_err(failed);
    }
    let mut out = BufWriter::new(File::create(path).map_err(failed)?);
    write(&mut out).and_then(|()| out.flush()).map_err(failed)
}

/// The series an export writes, as its header says: every series, or with `--shard` those of
/// the shard (N exports of the N shards together are the whole config's).
fn which_series(config: &Config) -> String {
    match config.shard {
        None => format!("all {} series", config.series()),
        Some(shard) => format!(
            "the {} series of shard {}/{} (of {} in all)",
            config.served(),
            shard.index,
            shard.count,
            config.series()
        ),
    }
}

/// Writes the `promtool test rules` file of ticks 1 to `ticks` of every series (of the shard).
pub fn promtool_tests(config: &Config, interval: Duration, ticks: u64, out: &mut dyn Write) -> io::Result<()> {
    let interval = format_duration(u64::try_from(interval.as_millis()).unwrap_or(u64::MAX));
    write!(
        out,
        "# The input_series of a `promtool test rules` file, written by metrics-generator {} \
         (--export-promtool-tests)\n\
         # from config {}: ticks 1 to {ticks} of {}, one tick every {interval}.\n\
         # Sample j of a series (at time j × {interval}, j = 0, 1, …) is tick j + 1: what the exporter serves\n\
         # j intervals after start-up, or j intervals after the Unix epoch with --align wall-clock.\n\
         # To test rules on it, append alert_rule_test or promql_expr_test entries for the test below\n\
         # (indented by four spaces), then a top-level `rule_files:` list.\n\
         {native}evaluation_interval: {interval}\n\
         tests:\n  - interval: {interval}\n    input_series:\n",
        VERSION,
        config.source,
        which_series(config),
        native = if has_native(config) { NATIVE_NOTE } else { "" },
    )?;
    for entry in &config.entries {
        // Labels as Prometheus stores them: it scrapes OpenMetrics first.
        let lines = lines(entry, Format::OpenMetrics);
        // A churning entry's generations are series of their own; ticks 1 to N hold these.
        let generations = entry.churn.as_ref().map_or(0..=0, |churn| 0..=churn.generation(ticks));
        for k in (0..entry.served.count).map(|j| entry.served.k(j)) {
            let mut values: Vec<Vec<Option<f64>>> = vec![Vec::with_capacity(ticks as usize); lines.len()];
            let mut replay = Replay::new(entry, k, 1);
            for _ in 1..=ticks {
                replay.advance();
                let served = replay.active();
                for (line, values) in lines.iter().zip(values.iter_mut()) {
                    values.push(served.then(|| line.value_of(entry, replay.value(), replay.observed())));
                }
            }
            for generation in generations.clone() {
                // The ticks of this generation; a sample outside it is absent from this series.
                let of = |tick: u64| entry.churn.as_ref().map_or(true, |churn| churn.generation(tick) == generation);
                let first_tick = entry.churn.as_ref().map_or(1, |churn| generation * churn.every + 1);
                for (line, values) in lines.iter().zip(&values) {
                    let samples: Vec<Option<f64>> =
                        values.iter().zip(1u64..).map(|(v, tick)| v.filter(|_| of(tick))).collect();
                    let series = promql_line(entry, k, first_tick, line);
                    writeln!(out, "      - series: '{}'", yaml_single_quoted(&series))?;
                    writeln!(out, "        values: '{}'", promtool_samples(&samples))?;
                }
            }
        }
    }
    Ok(())
}

/// What the promtool export says of native histograms, which its text cannot carry.
const NATIVE_NOTE: &str =
    "# Native histograms are written as their classic buckets, _sum and _count: promtool's input\n\
                           # series cannot hold native histograms.\n";

/// Whether some histogram of `config` has native buckets.
fn has_native(config: &Config) -> bool {
    config.entries.iter().any(|e| e.observe.as_ref().is_some_and(|o| o.native.is_some()))
}

/// `name{label="value",…}` as PromQL reads a series: label values in double quotes, with `\`,
/// `"` and newline escaped, and every character a YAML file may not hold as it is (controls,
/// line and paragraph separators, byte-order marks, non-characters) written as `\uXXXX`.
pub fn promql_series(entry: &Entry, k: u64) -> String {
    promql_line(entry, k, 1, &lines(entry, Format::OpenMetrics)[0])
}

/// [`promql_series`] of one sample line of series `k` at tick `t` (a churning entry's generation
/// is one of its labels): its name, and its own label after the series' labels.
pub fn promql_line(entry: &Entry, k: u64, t: u64, line: &Line) -> String {
    let mut out = line.name.clone();
    let mut labels = entry.labels_at(k, t);
    if let Some((name, value)) = &line.label {
        labels.push((name.as_str(), value.as_str().into()));
    }
    if labels.is_empty() {
        return out;
    }
    out.push('{');
    for (index, (name, value)) in labels.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}') => {
                    out.push_str(&format!("\\u{:04x}", u32::from(c)))
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
    out
}

/// The body of a single-quoted YAML scalar: a quote is written twice, nothing else changes.
fn yaml_single_quoted(s: &str) -> String {
    s.replace('\'', "''")
}

/// The `values` of one input series. A run of three or more values that promtool's expanding
/// notation reproduces exactly is written `a+bxc` (a, then c more values each b more; promtool
/// adds b to the previous value each time, and so does the check here, so rounding is the same)
/// or `axc` for a constant run; any other value is written as it is.
/// Samples in promtool's notation, with the ticks at which the series is not served as a scrape
/// records them: the first one after a served tick as `stale` (Prometheus's staleness marker,
/// which makes the series vanish at once), the others as `_` (no sample); runs of present values
/// as [`promtool_values`] writes them.
pub fn promtool_samples(samples: &[Option<f64>]) -> String {
    let mut parts = Vec::new();
    let mut served_before = false;
    for run in samples.chunk_by(|a, b| a.is_some() == b.is_some()) {
        if run[0].is_some() {
            let values: Vec<f64> = run.iter().flatten().copied().collect();
            parts.push(promtool_values(&values));
            served_before = true;
        } else {
            let mut absent = vec!["_"; run.len()];
            if served_before {
                absent[0] = "stale";
            }
            parts.push(absent.join(" "));
        }
    }
    parts.join(" ")
}

pub fn promtool_values(values: &[f64]) -> String {
    let (mut floats, mut ints) = (ryu::Buffer::new(), itoa::Buffer::new());
    let mut out = String::with_capacity(values.len() * 4);
    let mut p = 0;
    while p < values.len() {
        if !out.is_empty() {
            out.push(' ');
        }
        let a = values[p];
        let mut end = p + 1;
        let step = values.get(p + 1).map(|next| next - a).filter(|b| b.is_finite());
        if let Some(b) = step {
            let mut acc = a;
            while end < values.len() && acc + b == values[end] {
                acc += b;
                end += 1;
            }
        }
        out.push_str(format_value(a, &mut floats, &mut ints));
        match step {
            Some(b) if end - p >= 3 => {
                if b != 0.0 {
                    out.push(if b > 0.0 { '+' } else { '-' });
                    out.push_str(format_value(b.abs(), &mut floats, &mut ints));
                }
                out.push('x');
                out.push_str(ints.format(end - p - 1));
                p = end;
            }
            _ => p += 1,
        }
    }
    out
}

/// Writes `ticks` ticks of every series as OpenMetrics with timestamps, from the first tick at or
/// after `start_ms`: with `--align start`, tick 1 is at `start_ms` (an exporter started then);
/// with `--align wall-clock`, ticks lie on the epoch's grid and are fast-forwarded to.
///
/// Families are contiguous and in config order; within a family each series' samples are
/// together and in time order, as promtool requires; counters carry a `_created` sample beside
/// each value, as a scrape of `/metrics` in OpenMetrics does.
pub fn openmetrics(
    config: &Config,
    align: Align,
    interval: Duration,
    start_ms: i64,
    ticks: u64,
    out: &mut dyn Write,
) -> io::Result<()> {
    let grid = Grid::new(align, interval, start_ms);
    let first = grid.tick_from(start_ms);
    if has_native(config) {
        // OpenMetrics 1.0 has no native histograms, and comments would break the format.
        log::info!("native histograms are exported as their classic buckets, _sum and _count");
    }
    let (mut floats, mut ints) = (ryu::Buffer::new(), itoa::Buffer::new());
    for family in families(config) {
        out.write_all(family.openmetrics_header().as_bytes())?;
        let created_name = format!("{}_created", family.openmetrics_name());
        let created = matches!(family.kind, Kind::Counter | Kind::Histogram | Kind::Summary);
        for &j in &family.members {
            let member = &config.entries[j];
            let lines = lines(member, Format::OpenMetrics);
            for k in (0..member.served.count).map(|j| member.served.k(j)) {
                // Label texts change with a churning entry's generation.
                let texts = |n: u64| -> (String, Vec<String>) {
                    let labels = label_text(member, k, n, None);
                    (labels, lines.iter().map(|line| label_text(member, k, n, line.label.as_ref())).collect())
                };
                let (mut labels, mut line_labels) = texts(first);
                let mut replay = fast_forward(first, j, member, k, &config.source).map_err(io::Error::other)?;
                for n in first..first.saturating_add(ticks) {
                    if n > first {
                        replay.advance();
                        if member.churn.as_ref().is_some_and(|churn| churn.start(n) == n) {
                            (labels, line_labels) = texts(n);
                        }
                    }
                    // A tick at which the series is not served has no sample.
                    if !replay.active() {
                        continue;
                    }
                    let time = om_timestamp(grid.time_ms(n));
                    for (line, labels) in lines.iter().zip(&line_labels) {
                        let v = line.value_of(member, replay.value(), replay.observed());
                        let value = format_value(v, &mut floats, &mut ints);
                        writeln!(out, "{}{labels} {value} {time}", line.name)?;
                    }
                    if created {
                        let created = format_value(grid.seconds(replay.cycle_start()), &mut floats, &mut ints);
                        writeln!(out, "{created_name}{labels} {created} {time}")?;
                    }
                }
            }
        }
    }
    writeln!(out, "# EOF")
}

/// `{a="x",b="y"}` of series `k`, escaped as in the exposition; empty without labels.
fn label_text(entry: &Entry, k: u64, t: u64, own: Option<&(String, String)>) -> String {
    let mut text = String::new();
    let labels = entry.labels_at(k, t);
    let own = own.map(|(name, value)| (name.as_str(), value.as_str()));
    write_label_set(labels.iter().map(|(n, v)| (*n, v.as_ref())).chain(own), &mut text);
    text
}

/// Brings a fresh sequence to tick `n` (its first value at tick 1), or says which entry cannot be.
fn fast_forward<'a>(n: u64, index: usize, entry: &'a Entry, k: u64, source: &str) -> Result<Replay<'a>, Error> {
    Replay::at(entry, k, 1, n, &mut Budget::new(FAST_FORWARD_BUDGET)).map_err(|_| {
        cannot_fast_forward(
            source,
            index,
            entry,
            n,
            "",
            "give it a smaller reset_interval, or export from an earlier --start",
        )
    })
}

/// Unix milliseconds as OpenMetrics seconds. Prometheus reads a timestamp as a float and
/// multiplies it by 1000, and `1700000000.1 × 1000` is just below `1700000000100`, which would
/// land on the millisecond before; so the shortest decimal is nudged up by as many units in the
/// last place as it takes for the product to reach the millisecond (once, at most, in practice).
pub fn om_timestamp(ms: i64) -> String {
    let mut seconds = ms as f64 / 1000.0;
    while seconds * 1000.0 < ms as f64 {
        seconds = next_up(seconds);
    }
    let mut floats = ryu::Buffer::new();
    let mut ints = itoa::Buffer::new();
    format_value(seconds, &mut floats, &mut ints).to_string()
}

/// The next f64 above a finite `x`.
fn next_up(x: f64) -> f64 {
    let bits = x.to_bits();
    if x == 0.0 {
        f64::from_bits(1)
    } else if x > 0.0 {
        f64::from_bits(bits + 1)
    } else {
        f64::from_bits(bits - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse, Options};
    use crate::functions::Registry;

    /// Expands promtool's notation as promtool does: `a+bxc` is a, then c more values, each the
    /// previous plus b.
    fn expand(text: &str) -> Vec<f64> {
        let mut values = Vec::new();
        for item in text.split_whitespace() {
            let Some((head, times)) = item.split_once('x') else {
                values.push(item.parse().unwrap());
                continue;
            };
            let split = head[1..].find(['+', '-']).map(|p| p + 1);
            let (a, b) = match split {
                Some(p) if !head[..p].ends_with('e') => (head[..p].parse::<f64>().unwrap(), head[p..].parse().unwrap()),
                _ => (head.parse().unwrap(), 0.0),
            };
            let mut acc = a;
            for _ in 0..=times.parse::<u64>().unwrap() {
                values.push(acc);
                acc += b;
            }
        }
        values
    }

    #[test]
    fn absent_samples_are_stale_after_a_served_one_and_blank_otherwise() {
        let samples = [None, None, Some(1.0), Some(2.0), Some(3.0), None, None, Some(4.0), None];
        assert_eq!(promtool_samples(&samples), "_ _ 1+1x2 stale _ 4 stale");
        assert_eq!(promtool_samples(&[None, None]), "_ _");
        assert_eq!(promtool_samples(&[Some(5.0), Some(5.0), Some(5.0)]), "5x2");
    }

    #[track_caller]
    fn check(values: &[f64], expected: &str) {
        assert_eq!(promtool_values(values), expected);
        assert_eq!(expand(expected), values, "{expected} expands back");
    }

    #[test]
    fn values_use_the_expanding_notation_where_it_is_exact() {
        check(&[1.0, 4.0, 9.0, 16.0], "1 4 9 16");
        check(&[1.0, 2.0, 3.0, 4.0, 9.0], "1+1x3 9");
        check(&[5.0, 5.0, 5.0, 2.0, 2.0], "5x2 2 2");
        check(&[10.0, 7.5, 5.0, 2.5], "10-2.5x3");
        check(&[-3.0, -1.0, 1.0], "-3+2x2");
        // 0.1 + 0.1 + 0.1 is 0.30000000000000004 in f64: promtool's additions give exactly that.
        check(&[0.1, 0.2, 0.30000000000000004, 0.4], "0.1+0.1x3");
        check(&[0.1, 0.2, 0.3], "0.1 0.2 0.3");
        check(&[1e300, 1.6332525972973913e308], "1e300 1.6332525972973913e308");
        check(&[2.5], "2.5");
        check(&[], "");
    }

    #[test]
    fn series_selectors_escape_what_promql_and_yaml_need() {
        let config = parse(
            r#"[{"name":"a","metric_type":"counter","custom_function":"square",
                 "labels":{"v":"say \"hi\" back\\slash new\nline ünï ✓ it's \u0001 \u2028 tab\t"}}]"#,
            "t",
            &Options { namespace: "ns".into(), ..Options::default() },
            &Registry::builtin(),
        )
        .unwrap();
        let series = promql_series(&config.entries[0], 0);
        assert_eq!(series, r#"ns_a_total{v="say \"hi\" back\\slash new\nline ünï ✓ it's \u0001 \u2028 tab\t"}"#);
        assert_eq!(
            yaml_single_quoted(&series),
            r#"ns_a_total{v="say \"hi\" back\\slash new\nline ünï ✓ it''s \u0001 \u2028 tab\t"}"#
        );
    }

    #[test]
    fn timestamps_read_back_as_their_millisecond() {
        for ms in [0, 1, 100, 1_700_000_000_000, 1_700_000_000_100, 1_700_000_000_001, -1_500, 1_795_817_280_250] {
            let text = om_timestamp(ms);
            let back = text.parse::<f64>().unwrap() * 1000.0;
            assert_eq!((back as i64, back.round() as i64), (ms, ms), "{ms} → {text}");
        }
        for ms in (1_700_000_000_000..1_700_000_002_000).step_by(7) {
            let back = om_timestamp(ms).parse::<f64>().unwrap() * 1000.0;
            assert_eq!(back as i64, ms);
        }
        assert_eq!(om_timestamp(1_700_000_000_000), "1700000000");
        assert_eq!(om_timestamp(1_700_000_000_250), "1700000000.25");
    }
}
