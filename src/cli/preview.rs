//! `--preview N`: the first N values of every series as a table, one row per tick and one column
//! per series, printed without serving.
//!
//! The values come from the same [`Sequence`]s that the ticker advances while serving (restarts,
//! `reset_interval` and overflow included), and are formatted by the same function as `/metrics`,
//! so the preview is exactly what will be served at ticks 1 to N. Rows are ticks because N can be
//! large: a long preview scrolls down, and its width depends only on the number of series.

use super::output::to_stdout;
use crate::config::{Config, Entry};
use crate::engine::Replay;
use crate::error::Error;
use crate::exposition::{format_value, lines, write_label_set, Format, Line};
use std::io::{self, Write};

/// The largest N `--preview` accepts: a million ticks is years of one-minute ticks, and still
/// only seconds of work for a config of a few series.
pub const MAX_TICKS: u64 = 1_000_000;

/// Columns are separated by this much space.
const GAP: &str = "  ";

/// Writes the preview of `config`'s first `ticks` values to stdout. A reader that goes away early
/// (`--preview 1000 | head`) ends the preview quietly.
pub fn print(config: &Config, ticks: u64) -> Result<(), Error> {
    to_stdout(|out| write(config, ticks, out)).map_err(|e| Error::Output(e.to_string()))
}

/// Writes the table: a header row (`tick`, then each series as `/metrics` names it), then one row
/// per tick, every column right-aligned to its widest cell.
pub fn write(config: &Config, ticks: u64, out: &mut dyn Write) -> io::Result<()> {
    let names: Vec<String> = config.entries.iter().flat_map(column_names).collect();
    let mut widths: Vec<usize> = names.iter().map(|n| n.chars().count()).collect();
    let (mut floats, mut ints) = (ryu::Buffer::new(), itoa::Buffer::new());
    // A first run finds each column's width, so that the table can stream without holding up to
    // N × series values; sequences are deterministic, so the second run gives the same values.
    run(config, ticks, |_, values| {
        for (width, &v) in widths.iter_mut().zip(values) {
            *width = (*width).max(format_value(v, &mut floats, &mut ints).len());
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
        for (&v, width) in values.iter().zip(&widths) {
            write!(out, "{GAP}{:>width$}", format_value(v, &mut floats, &mut ints))?;
        }
        writeln!(out)
    })
}

/// Advances every series of `config` through ticks 1 to `ticks`, as the ticker does while serving,
/// and hands each tick's values (in config order, each entry's lines in turn) to `row`.
fn run(config: &Config, ticks: u64, mut row: impl FnMut(u64, &[f64]) -> io::Result<()>) -> io::Result<()> {
    let mut replays: Vec<(Replay, Vec<Line>)> =
        config.entries.iter().map(|e| (Replay::new(e, 0, 1), lines(e, Format::Text))).collect();
    let mut values = Vec::new();
    for n in 1..=ticks {
        values.clear();
        for (entry, (replay, lines)) in config.entries.iter().zip(replays.iter_mut()) {
            replay.advance();
            debug_assert_eq!(replay.tick(), n);
            values.extend(lines.iter().map(|line| line.value_of(entry, replay.value(), replay.observed())));
        }
        row(n, &values)?;
    }
    Ok(())
}

/// The columns of an entry: one per sample line of its first series (a histogram's buckets,
/// sum and count, a stateset's states), each named as in [`series_name`] with the line's name
/// and its own label.
fn column_names(entry: &Entry) -> Vec<String> {
    let lines = lines(entry, Format::Text);
    if lines.len() == 1 && lines[0].label.is_none() {
        return vec![series_name(entry)];
    }
    let which = if entry.series > 1 && entry.per_series { " (series 0)" } else { "" };
    lines
        .into_iter()
        .map(|line| {
            let mut name = line.name;
            let own = line.label.as_ref().map(|(n, v)| (n.as_str(), v.as_str()));
            if entry.series > 1 {
                let fan_out = entry.describe_series();
                let labels = fan_out.strip_prefix(&entry.sample_name()).unwrap_or("");
                name.push_str(labels);
                if let Some((n, v)) = own {
                    write_label_set([(n, v)], &mut name);
                }
            } else {
                let labels = entry.labels_of(0);
                let all = labels.iter().map(|(n, v)| (*n, v.as_ref())).chain(own);
                write_label_set(all, &mut name);
            }
            format!("{name}{which}")
        })
        .collect()
}

/// `ns_jobs_total{queue="default"}`: the series as its samples are written in `/metrics`. An
/// entry fanned out into several series is one column, named with its fan-out:
/// `ns_load{region=["eu", "us"],series=0..99}`; when its series have values of their own (seeded
/// functions), the column shows series 0 and says so.
fn series_name(entry: &Entry) -> String {
    if entry.series > 1 {
        // Seeded functions give each series its own values; the column shows the first one's.
        let which = if entry.per_series { " (series 0)" } else { "" };
        return format!("{}{which}", entry.describe_series());
    }
    let mut name = entry.sample_name();
    write_label_set(entry.labels_of(0), &mut name);
    name
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
}
