//! Functions, expressions and `--preview` through the real binary: every built-in's first values,
//! expressions that spell out built-ins, `n` against `i` across a reset, load-time errors for bad
//! params and bad expressions, and seeded series that are the same in every process.

use crate::support::{assert_fails, poll, run, Exporter, TempDir};
use std::collections::BTreeMap;
use std::process::Output;
use std::time::Duration;

/// A `--preview` table, parsed: the series names of the header, and one row of value texts per tick.
struct Table {
    names: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn parse(out: &Output) -> Table {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "--preview failed: {stderr}");
        let text = String::from_utf8(out.stdout.clone()).unwrap();
        let mut lines = text.lines().map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>());
        let header = lines.next().expect("a header row");
        assert_eq!(header[0], "tick", "{text}");
        let rows: Vec<Vec<String>> = lines.collect();
        for (k, row) in rows.iter().enumerate() {
            assert_eq!(row[0], (k + 1).to_string(), "rows are ticks 1, 2, …:\n{text}");
            assert_eq!(row.len(), header.len(), "a value per series:\n{text}");
        }
        Table { names: header[1..].to_vec(), rows: rows.into_iter().map(|r| r[1..].to_vec()).collect() }
    }

    /// The values of one series, by its name as `/metrics` writes it.
    fn column(&self, name: &str) -> Vec<f64> {
        let index =
            self.names.iter().position(|n| n == name).unwrap_or_else(|| panic!("no {name} in {:?}", self.names));
        self.rows.iter().map(|r| r[index].parse().unwrap()).collect()
    }
}

/// Runs `--preview ticks` on `config` with no namespace.
fn preview(config: &str, ticks: u64) -> Table {
    let dir = TempDir::new();
    let path = dir.write("config.json", config);
    Table::parse(&run(&["--config", path.to_str().unwrap(), "--namespace", "", "--preview", &ticks.to_string()]))
}

/// A config of gauges, one per `(name, function, params)`.
fn gauges(entries: &[(&str, &str, &str)]) -> String {
    let entries: Vec<String> = entries
        .iter()
        .map(|(name, function, params)| {
            format!(
                r#"{{"name": "{name}", "metric_type": "gauge", "custom_function": "{function}", "params": {params}}}"#
            )
        })
        .collect();
    format!("[{}]", entries.join(",\n"))
}

#[test]
fn every_builtin_previews_its_hand_computed_first_values() {
    let config = gauges(&[
        ("square", "square", "{}"),
        ("power", "power", "{}"),
        ("fibonacci", "fibonacci", "{}"),
        ("exponential", "exponential", r#"{"base": 3}"#),
        ("constant", "constant", r#"{"value": 7.5}"#),
        ("linear", "linear", r#"{"start": 100, "step": -10}"#),
        ("sine", "sine", r#"{"amplitude": 2, "period": 4, "offset": 10}"#),
        ("sawtooth", "sawtooth", r#"{"min": 0, "max": 1, "period": 5}"#),
        ("step", "step", r#"{"values": [1, 2, 3], "hold": [2, 1, 3]}"#),
        ("sequence", "sequence", r#"{"values": [5, -5, 0.5]}"#),
        ("spike", "spike", r#"{"base": 1, "height": 9, "every": 4}"#),
        ("expr", "expr", r#"{"expr": "-2^2 + i % 3"}"#),
        ("uniform", "uniform", r#"{"min": 3, "max": 3}"#),
        ("random_walk", "random_walk", r#"{"start": 5, "step": 0, "min": 0, "max": 10}"#),
    ]);
    let table = preview(&config, 9);
    let expected: &[(&str, [f64; 9])] = &[
        ("square", [1.0, 4.0, 9.0, 16.0, 25.0, 36.0, 49.0, 64.0, 81.0]),
        ("power", [1.0, 4.0, 27.0, 256.0, 3125.0, 46656.0, 823543.0, 16777216.0, 387420489.0]),
        ("fibonacci", [1.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0]),
        ("exponential", [3.0, 9.0, 27.0, 81.0, 243.0, 729.0, 2187.0, 6561.0, 19683.0]),
        ("constant", [7.5; 9]),
        ("linear", [100.0, 90.0, 80.0, 70.0, 60.0, 50.0, 40.0, 30.0, 20.0]),
        ("sine", [10.0, 12.0, 10.0, 8.0, 10.0, 12.0, 10.0, 8.0, 10.0]),
        ("sawtooth", [0.0, 0.25, 0.5, 0.75, 1.0, 0.0, 0.25, 0.5, 0.75]),
        ("step", [1.0, 1.0, 2.0, 3.0, 3.0, 3.0, 1.0, 1.0, 2.0]),
        ("sequence", [5.0, -5.0, 0.5, 5.0, -5.0, 0.5, 5.0, -5.0, 0.5]),
        ("spike", [1.0, 1.0, 1.0, 10.0, 1.0, 1.0, 1.0, 10.0, 1.0]),
        ("expr", [-3.0, -2.0, -4.0, -3.0, -2.0, -4.0, -3.0, -2.0, -4.0]),
        ("uniform", [3.0; 9]),
        ("random_walk", [5.0; 9]),
    ];
    for (name, values) in expected {
        assert_eq!(table.column(name), values, "{name}");
    }
}

#[test]
fn expressions_give_exactly_the_builtins_they_spell_out() {
    let config = gauges(&[
        ("sq", "square", "{}"),
        ("sq_expr", "expr", r#"{"expr": "i*i"}"#),
        ("exp", "exponential", "{}"),
        ("exp_expr", "expr", r#"{"expr": "2^i"}"#),
    ]);
    let table = preview(&config, 200);
    assert_eq!(table.rows.len(), 200);
    assert_eq!(table.column("sq_expr"), table.column("sq"));
    assert_eq!(table.column("exp_expr"), table.column("exp"));
    assert_eq!(table.column("sq")[199], 40000.0);
    assert_eq!(table.column("exp")[199], 2f64.powi(200));
}

const COUNTERS: &str = r#"[
  {"name": "tick", "metric_type": "gauge", "custom_function": "expr", "params": {"expr": "n"}},
  {"name": "cycle_n", "metric_type": "gauge", "custom_function": "expr", "params": {"expr": "n"}, "reset_interval": 3},
  {"name": "cycle_i", "metric_type": "gauge", "custom_function": "expr", "params": {"expr": "i"}, "reset_interval": 3}
]"#;

#[test]
fn n_keeps_counting_across_a_reset_while_i_restarts() {
    let table = preview(COUNTERS, 7);
    assert_eq!(table.column("cycle_n"), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    assert_eq!(table.column("cycle_i"), [1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0]);

    // The same while serving: every scrape shows n equal to the tick and i restarting every 3.
    let exporter = Exporter::with_config(COUNTERS, &["--namespace", "", "--interval", "50ms"]);
    let reached = poll(Duration::from_secs(20), || {
        let body = exporter.get("/metrics").text();
        let value = |name: &str| crate::support::sample(&body, name).unwrap_or_else(|| panic!("no {name}:\n{body}"));
        let tick = value("tick");
        assert_eq!(value("cycle_n"), tick, "{body}");
        assert_eq!(value("cycle_i"), (tick - 1.0) % 3.0 + 1.0, "{body}");
        (tick >= 8.0).then_some(())
    });
    assert!(reached.is_some(), "did not reach tick 8");
}

/// Asserts a config error that shows the source of an expression with a caret: the usual one-line
/// message (which already names the column), then the source and the caret under that column.
#[track_caller]
fn assert_caret(out: &Output, first_line: &str, source: &str, column: usize) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "exit status; stderr:\n{stderr}");
    assert!(out.stdout.is_empty(), "printed to stdout");
    let lines: Vec<&str> = stderr.lines().collect();
    let caret = format!("  {}^", " ".repeat(column - 1));
    assert_eq!(lines, [first_line, &format!("  {source}"), &caret], "stderr:\n{stderr}");
}

#[test]
fn a_bad_expression_is_a_load_time_error_with_its_column() {
    let cases: &[(&str, usize, &str)] = &[
        ("i*i)", 4, "unexpected ')'"),
        ("2 +* i", 4, "unexpected '*'"),
        ("sin(i", 6, "missing ')'"),
        ("i +", 4, "unexpected end of expression"),
        ("cube(i)", 1, "unknown function 'cube' (known: sin, cos, tan, exp, ln, log10, sqrt, abs, floor, ceil, round, min, max, pow, if)"),
        ("i + k", 5, "unknown variable 'k' (valid: i, n, pi, e)"),
        ("max(i)", 1, "max takes at least 2 arguments, got 1"),
        ("2 ^ $", 5, "unexpected character '$'"),
    ];
    let dir = TempDir::new();
    for (k, (source, column, message)) in cases.iter().enumerate() {
        let config = format!(
            r#"[{{"name": "a", "metric_type": "gauge", "custom_function": "square"}},
               {{"name": "b", "metric_type": "gauge", "custom_function": "expr", "params": {{"expr": "{source}"}}}}]"#
        );
        let path = dir.write(&format!("bad{k}.json"), config);
        let path = path.to_str().unwrap();
        let first = format!(
            "error: config {path}: entry 1 (\"b\"): field \"params\": param \"expr\": {message} at column {column}"
        );
        for mode in [&["--check-config"][..], &["--preview", "3"][..], &["--listen-address", "127.0.0.1:0"][..]] {
            let mut args = vec!["--config", path];
            args.extend_from_slice(mode);
            assert_caret(&run(&args), &first, source, *column);
        }
    }
}

#[test]
fn a_first_value_that_is_not_finite_is_a_load_time_error() {
    let dir = TempDir::new();
    let path = dir.write("c.json", gauges(&[("a", "expr", r#"{"expr": "ln(i - 1)"}"#)]));
    assert_fails(
        &run(&["--check-config", "--config", path.to_str().unwrap()]),
        2,
        "entry 0 (\"a\"): field \"custom_function\": expr gives no finite first value with these params",
    );
}

#[test]
fn bad_params_are_one_line_errors_naming_the_param() {
    let cases: &[(&str, &str, &str)] = &[
        ("sine", r#"{"period": 0}"#, "param \"period\": expected an integer ≥ 1, got 0"),
        ("sine", r#"{"phase": 1}"#, "unknown param \"phase\" (sine takes: amplitude, period, offset)"),
        ("sawtooth", r#"{"min": 2, "max": 1}"#, "param \"max\": must be ≥ min (2), got 1"),
        ("step", r#"{"values": []}"#, "param \"values\": expected a non-empty array of numbers, got []"),
        ("sequence", "{}", "param \"values\": missing (required)"),
        ("uniform", r#"{"seed": "x"}"#, "param \"seed\": expected an integer ≥ 0, got \"x\""),
        ("random_walk", r#"{"start": -1}"#, "param \"start\": must be between min (0) and max (100), got -1"),
        ("spike", r#"{"every": 1.5}"#, "param \"every\": expected an integer ≥ 1, got 1.5"),
        ("linear", r#"{"step": "1"}"#, "param \"step\": expected a number, got \"1\""),
        ("constant", r#"{"value": [1]}"#, "param \"value\": expected a number, got [1]"),
        ("expr", r#"{"expr": 1}"#, "param \"expr\": expected a string, got 1"),
    ];
    let dir = TempDir::new();
    for (k, (function, params, message)) in cases.iter().enumerate() {
        let path = dir.write(&format!("bad{k}.json"), gauges(&[("a", function, params)]));
        let path = path.to_str().unwrap();
        let expected = format!("error: config {path}: entry 0 (\"a\"): field \"params\": {message}");
        for mode in ["--check-config", "--preview=2"] {
            let out = run(&["--config", path, mode]);
            assert_fails(&out, 2, &expected);
            assert!(out.stdout.is_empty(), "{mode} printed to stdout");
        }
    }
}

#[test]
fn preview_flag_errors() {
    assert_fails(&run(&["--preview", "0"]), 2, "error: --preview: \"0\" is not a number of ticks from 1 to 1000000");
    assert_fails(&run(&["--preview", "1000001"]), 2, "is not a number of ticks from 1 to 1000000");
    assert_fails(&run(&["--preview"]), 2, "error: --preview needs a value");
}

#[test]
fn preview_of_the_default_config_is_what_serving_shows_first() {
    let table = Table::parse(&run(&["--preview", "1"]));
    let body = Exporter::start(&["--interval", "1h"]).get("/metrics").text();
    for (name, value) in table.names.iter().zip(&table.rows[0]) {
        assert!(body.contains(&format!("\n{name} {value}\n")), "{name} {value} is not in:\n{body}");
    }
    assert_eq!(table.names.len(), 4);
}

#[test]
fn list_functions_shows_every_function_with_its_params() {
    let out = run(&["--list-functions"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for name in [
        "constant",
        "expr",
        "linear",
        "sine",
        "sawtooth",
        "step",
        "sequence",
        "uniform",
        "random_walk",
        "spike",
        "normal",
        "exponential",
    ] {
        assert!(text.lines().any(|l| l.starts_with(&format!("{name} "))), "--list-functions lacks {name}:\n{text}");
    }
    for param in ["value: ", "amplitude: ", "period: ", "offset: ", "hold: ", "values: ", "every: ", "expr: "] {
        assert!(text.contains(param), "--list-functions lacks the param {param}:\n{text}");
    }
}

const SEEDED: &str = r#"[
  {"name": "tick", "metric_type": "gauge", "custom_function": "linear", "params": {"start": 1}},
  {"name": "normal", "metric_type": "gauge", "custom_function": "normal", "params": {"seed": 3}},
  {"name": "uniform", "metric_type": "gauge", "custom_function": "uniform"},
  {"name": "walk", "metric_type": "gauge", "custom_function": "random_walk", "params": {"step": 5}},
  {"name": "walk_reset", "metric_type": "gauge", "custom_function": "random_walk", "reset_interval": 4}
]"#;

/// Scrapes an exporter of [`SEEDED`] every `pause` until it reaches `ticks`, and returns the value
/// texts of every tick it saw, keyed by the tick that the same scrape showed.
fn observe(interval: &str, pause: Duration, ticks: u64) -> BTreeMap<u64, Vec<String>> {
    let exporter = Exporter::with_config(SEEDED, &["--namespace", "", "--interval", interval]);
    let mut seen = BTreeMap::new();
    let done = poll(Duration::from_secs(30), || {
        let body = exporter.get("/metrics").text();
        let value = |name: &str| -> String {
            let prefix = format!("{name} ");
            let line = body.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {name}:\n{body}"));
            line[prefix.len()..].to_string()
        };
        let tick: u64 = value("tick").parse().unwrap();
        seen.insert(tick, ["normal", "uniform", "walk", "walk_reset"].map(value).to_vec());
        std::thread::sleep(pause);
        (tick >= ticks).then_some(())
    });
    assert!(done.is_some(), "did not reach tick {ticks}; saw {:?}", seen.keys());
    seen
}

#[test]
fn seeded_series_are_the_same_in_every_process_whatever_the_scrape_timing() {
    let fast = observe("20ms", Duration::ZERO, 40);
    let slow = observe("35ms", Duration::from_millis(23), 25);
    let table = preview(SEEDED, 40);
    for (run, seen) in [("fast", &fast), ("slow", &slow)] {
        for (tick, values) in seen {
            let row = &table.rows[*tick as usize - 1];
            assert_eq!(&row[1..], values.as_slice(), "{run} run at tick {tick} differs from the preview");
        }
    }
    let common = fast.keys().filter(|k| slow.contains_key(k)).count();
    assert!(common >= 5, "the two runs share only {common} ticks: {:?} and {:?}", fast.keys(), slow.keys());
    // The restarted walk replays its first cycle.
    let walk_reset: Vec<&str> = table.rows.iter().map(|r| r[4].as_str()).collect();
    assert_eq!(walk_reset[..4], walk_reset[4..8]);
    assert_ne!(walk_reset[1], walk_reset[0], "the walk moves");
}

#[test]
fn preview_output_errors() {
    // A reader that stops early is not an error: `--preview N | head` exits 0 and says nothing.
    let mut child = std::process::Command::new(crate::support::bin())
        .args(["--preview", "200000"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut first).unwrap();
    assert!(first.trim_start().starts_with("tick  "), "{first}");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "a closed pipe: {:?}, {}", out.status, String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));

    // Any other write error is reported, with status 1 (the machine refused, not the user's mistake).
    // /dev/full (every write fails with ENOSPC): a skip on a machine without it, a failure in CI.
    let full = std::fs::File::create("/dev/full");
    if crate::support::require(full.is_ok(), "/dev/full") {
        // `output` keeps the stdout given here and captures stderr; five ticks take no time.
        let out = std::process::Command::new(crate::support::bin())
            .args(["--preview", "5"])
            .stdin(std::process::Stdio::null())
            .stdout(full.unwrap())
            .output()
            .unwrap();
        assert_fails(&out, 1, "error: cannot write to stdout: No space left on device");
    }
}
