//! `--preview N`: the first N values of every series as a table, one row per tick and one column
//! per sample line of each series (up to [`SERIES_SHOWN`] series of each entry), printed without
//! serving.
//!
//! The values come from the same [`Sequence`]s that the ticker advances while serving (restarts,
//! `reset_interval` and overflow included), and are formatted by the same function as `/metrics`,
//! so the preview is exactly what will be served at ticks 1 to N. Rows are ticks because N can be
//! large: a long preview scrolls down, and its width depends only on the number of series shown.

use super::output::to_stdout;
use crate::chart;
use crate::config::{Config, Entry};
use crate::engine::Replay;
use crate::error::Error;
use crate::exposition::{format_value, lines, write_label_set, Format, Line};
use std::io::{self, Write};
use std::path::Path;

/// The largest N `--preview` accepts: a million ticks is years of one-minute ticks, and still
/// only seconds of work for a config of a few series.
pub const MAX_TICKS: u64 = 1_000_000;

/// The largest N `--preview N --svg PATH` draws: a chart is 300 pixels wide, and ten thousand
/// ticks already put 30 points on each pixel.
pub const MAX_SVG_TICKS: u64 = 10_000;

/// `--preview N --svg PATH`: ticks 1 to `ticks` of every entry of `config` as SVG charts, the
/// landing page's (`crate::chart`), in one document at `path` (`-`: stdout), or, when `path` is a
/// directory, one document per entry in it, named after the entry (as `docs/pictures/` is made).
pub fn svg(config: &Config, ticks: u64, path: &Path) -> Result<(), Error> {
    if !path.is_dir() {
        return super::exports::to_file(path, |out| out.write_all(chart::document(config, ticks).as_bytes()));
    }
    for (name, picture) in chart::pictures(config, ticks) {
        let file = path.join(name);
        std::fs::write(&file, picture)
            .map_err(|e| Error::Write { path: file.display().to_string(), message: e.to_string() })?;
    }
    Ok(())
}

/// Columns are separated by this much space.
const GAP: &str = "  ";

/// Writes the preview of `config`'s first `ticks` values to stdout. A reader that goes away early
/// (`--preview 1000 | head`) ends the preview quietly.
pub fn print(config: &Config, ticks: u64) -> Result<(), Error> {
    to_stdout(|out| write(config, ticks, out)).map_err(|e| Error::Output(e.to_string()))
}

/// The most series of one entry that the preview shows: a fan-out of thousands would make a table
/// too wide to read. The series beyond are counted in a note under the table.
pub const SERIES_SHOWN: u64 = 20;

/// Writes the table: a header row (`tick`, then each sample line of each series shown, named as
/// `/metrics` names it), then one row per tick, every column right-aligned to its widest cell;
/// then, for each entry with more than [`SERIES_SHOWN`] series, how many are not shown.
pub fn write(config: &Config, ticks: u64, out: &mut dyn Write) -> io::Result<()> {
    let names: Vec<String> = config.entries.iter().flat_map(column_names).collect();
    let mut widths: Vec<usize> = names.iter().map(|n| n.chars().count()).collect();
    let (mut floats, mut ints) = (ryu::Buffer::new(), itoa::Buffer::new());
    // A first run finds each column's width, so that the table can stream without holding up to
    // N × series values; sequences are deterministic, so the second run gives the same values.
    run(config, ticks, |_, values| {
        for (width, v) in widths.iter_mut().zip(values) {
            *width = (*width).max(v.map_or(1, |v| format_value(v, &mut floats, &mut ints).len()));
        }
        Ok(())
    })?;
    let tick_width = "tick".len().max(ticks.to_string().len());
    write!(out, "{:>tick_width$}", "tick")?;
    for (name, width) in names.iter().zip(&widths) {
        write!(out, "{GAP}{name:>width$}")?;
    }
    writeln!(out)?;
    run(config, ticks, |n, values| {
        write!(out, "{n:>tick_width$}")?;
        for (v, width) in values.iter().zip(&widths) {
            // A tick at which the series is not served (`active`) shows `_`, as promtool writes it.
            let cell = v.map_or("_", |v| format_value(v, &mut floats, &mut ints));
            write!(out, "{GAP}{cell:>width$}")?;
        }
        writeln!(out)
    })?;
    for entry in &config.entries {
        if let Some(churn) = &entry.churn {
            writeln!(
                out,
                "{}: a new generation every {} ticks ({}=\"*\" is the tick's generation; each starts afresh)",
                entry.describe_series(),
                churn.every,
                churn.label
            )?;
        }
    }
    if let Some(shard) = config.shard {
        writeln!(
            out,
            "shard {}/{}: the {} series of this shard, of {} in all",
            shard.index,
            shard.count,
            config.served(),
            config.series()
        )?;
    }
    for entry in config.entries.iter().filter(|e| e.served.count > SERIES_SHOWN) {
        writeln!(
            out,
            "{} more series of {} not shown (the preview shows the first {SERIES_SHOWN} series of each entry)",
            entry.served.count - SERIES_SHOWN,
            entry.describe_series(),
        )?;
    }
    Ok(())
}

/// The series of `entry` that the preview shows: the first [`SERIES_SHOWN`] it serves (all of
/// its series, or with `--shard` those of the shard), by number within the entry.
fn shown(entry: &Entry) -> impl Iterator<Item = u64> + '_ {
    (0..entry.served.count.min(SERIES_SHOWN)).map(|j| entry.served.k(j))
}

/// Advances every series shown of `config` through ticks 1 to `ticks`, as the ticker does while
/// serving, and hands each tick's values (in config order, each series' lines in turn) to `row`.
fn run(config: &Config, ticks: u64, mut row: impl FnMut(u64, &[Option<f64>]) -> io::Result<()>) -> io::Result<()> {
    let lines: Vec<Vec<Line>> = config.entries.iter().map(|e| lines(e, Format::Text)).collect();
    let mut replays: Vec<(&Entry, &[Line], Replay)> = config
        .entries
        .iter()
        .zip(&lines)
        .flat_map(|(e, lines)| shown(e).map(move |k| (e, lines.as_slice(), Replay::new(e, k, 1))))
        .collect();
    let mut values = Vec::new();
    for n in 1..=ticks {
        values.clear();
        for (entry, lines, replay) in replays.iter_mut() {
            replay.advance();
            debug_assert_eq!(replay.tick(), n);
            let served = replay.active();
            values.extend(
                lines.iter().map(|line| served.then(|| line.value_of(entry, replay.value(), replay.observed()))),
            );
        }
        row(n, &values)?;
    }
    Ok(())
}

/// The columns of an entry: for each series shown, one per sample line (a histogram's buckets,
/// sum and count, a stateset's states), each named as its sample is in `/metrics`:
/// `ns_jobs_total{queue="default"}`, `ns_latency_bucket{region="eu",le="0.5"}`.
fn column_names(entry: &Entry) -> Vec<String> {
    let lines = lines(entry, Format::Text);
    let mut names = Vec::new();
    for k in shown(entry) {
        let mut labels = entry.labels_of(k);
        if let Some(churn) = &entry.churn {
            let at = labels.partition_point(|(name, _)| *name < churn.label.as_str());
            labels.insert(at, (churn.label.as_str(), "*".into()));
        }
        for line in &lines {
            let mut name = line.name.clone();
            let own = line.label.as_ref().map(|(n, v)| (n.as_str(), v.as_str()));
            write_label_set(labels.iter().map(|(n, v)| (*n, v.as_ref())).chain(own), &mut name);
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse, Options};
    use crate::functions::Registry;

    #[track_caller]
    fn check(config: &str, ticks: u64, expected: &str) {
        let config =
            parse(config, "t.json", &Options { namespace: "ns".into(), ..Options::default() }, &Registry::builtin())
                .unwrap();
        let mut out = Vec::new();
        write(&config, ticks, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn rows_are_ticks_and_columns_are_series() {
        check(
            r#"[{"name":"sq","metric_type":"gauge","custom_function":"square","reset_interval":3},
                {"name":"jobs","metric_type":"counter","custom_function":"linear","params":{"step":0.5},
                 "labels":{"q":"a\"b"}},
                {"name":"x","metric_type":"gauge","custom_function":"power"}]"#,
            5,
            concat!(
                "tick  ns_sq  ns_jobs_total{q=\"a\\\"b\"}  ns_x\n",
                "   1      1                        0     1\n",
                "   2      4                      0.5     4\n",
                "   3      9                        1    27\n",
                "   4      1                      1.5   256\n",
                "   5      4                        2  3125\n",
            ),
        );
    }

    #[test]
    fn restarts_show_as_they_will_be_served() {
        let config = parse(
            r#"[{"name":"p","metric_type":"gauge","custom_function":"power"}]"#,
            "t.json",
            &Options { namespace: String::new(), ..Options::default() },
            &Registry::builtin(),
        )
        .unwrap();
        let mut out = Vec::new();
        write(&config, 145, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let last: Vec<&str> = text.lines().skip(143).collect();
        assert_eq!(
            last,
            [" 143  1.6332525972973913e308", " 144                       1", " 145                       4"]
        );
    }

    #[test]
    fn every_series_of_a_fan_out_is_a_column_named_as_served() {
        let config = parse(
            r#"[{"name":"load","metric_type":"gauge","custom_function":"uniform","params":{"seed":7},
                 "labels":{"region":["eu","us"],"app":"x"},"series":2},
                {"name":"h","metric_type":"histogram","custom_function":"constant","params":{"value":1},
                 "buckets":[2],"observations":1,"labels":{"r":["a","b"]}}]"#,
            "t.json",
            &Options { namespace: "ns".into(), ..Options::default() },
            &Registry::builtin(),
        )
        .unwrap();
        let mut out = Vec::new();
        write(&config, 1, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
        let expected = [
            "tick",
            r#"ns_load{app="x",region="eu",series="0"}"#,
            r#"ns_load{app="x",region="eu",series="1"}"#,
            r#"ns_load{app="x",region="us",series="0"}"#,
            r#"ns_load{app="x",region="us",series="1"}"#,
            r#"ns_h_bucket{r="a",le="2"}"#,
            r#"ns_h_bucket{r="a",le="+Inf"}"#,
            r#"ns_h_sum{r="a"}"#,
            r#"ns_h_count{r="a"}"#,
            r#"ns_h_bucket{r="b",le="2"}"#,
            r#"ns_h_bucket{r="b",le="+Inf"}"#,
            r#"ns_h_sum{r="b"}"#,
            r#"ns_h_count{r="b"}"#,
        ];
        assert_eq!(header, expected);
        // Seeded series have values of their own: four different values for the four series.
        let row: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().skip(1).take(4).collect();
        assert_eq!(row.iter().collect::<std::collections::HashSet<_>>().len(), 4, "{text}");
    }

    #[test]
    fn a_big_fan_out_shows_its_first_series_and_counts_the_rest() {
        let config = parse(
            r#"[{"name":"m","metric_type":"gauge","custom_function":"square","series":25}]"#,
            "t.json",
            &Options { namespace: String::new(), ..Options::default() },
            &Registry::builtin(),
        )
        .unwrap();
        let mut out = Vec::new();
        write(&config, 2, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(lines[0].split_whitespace().count(), 1 + 20, "{text}");
        assert!(lines[0].ends_with(r#"m{series="19"}"#), "{text}");
        assert_eq!(
            lines[3],
            "5 more series of m{series=0..24} not shown (the preview shows the first 20 series of each entry)"
        );
    }
}
