//! The exporter as ground truth for a pipeline, checked against the real tools:
//!
//! - a real Prometheus scrapes a wall-clock-aligned exporter, and every sample it stored, its
//!   range queries, and the increase of a resetting counter over windows computed from its raw
//!   samples equal what `/api/v1/expected` says, exactly;
//! - history exported with `--export-openmetrics` and turned into blocks by
//!   `promtool tsdb create-blocks-from openmetrics` is served by the same Prometheus, sample for
//!   sample as `/api/v1/expected` says;
//! - `--export-promtool-tests` input, completed with the rule and alert of the walk-through in
//!   `docs/ground-truth.md`, passes `promtool test rules`, and a test of every value of every
//!   series of a tricky config passes.
//!
//! One Prometheus serves both the scraped and the backfilled series, to keep the wall time down.

use crate::support::prometheus::{
    expected, number, seconds, selector, unix_now, url_encode, wall_clock_stack, Prometheus,
};
use crate::support::{poll, require_tool, root, run, run_command, Exporter, TempDir};
use metrics_generator::config::{parse, Options};
use metrics_generator::Registry;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Gauges and counters whose values need every notation: integers, floats, values past 1e21 and
/// below 1e-6 (written in exponent form by Prometheus), a counter that resets every 3 ticks, an
/// expression of the epoch's tick number, and a label value with quotes and non-ASCII text.
const CONFIG: &str = r#"[
  {"name": "square", "metric_type": "gauge", "custom_function": "square", "labels": {"k": ["a", "b"]}},
  {"name": "jobs", "metric_type": "counter", "custom_function": "square", "reset_interval": 3},
  {"name": "walk", "metric_type": "gauge", "custom_function": "random_walk", "reset_interval": 100},
  {"name": "big", "metric_type": "gauge", "custom_function": "power"},
  {"name": "tiny", "metric_type": "gauge", "custom_function": "exponential", "params": {"base": 0.5}, "reset_interval": 40},
  {"name": "requests", "metric_type": "counter", "custom_function": "expr", "params": {"expr": "100*n + 20*sin(2*pi*n/60)"}},
  {"name": "noise", "metric_type": "gauge", "custom_function": "normal", "labels": {"room": "say \"hi\" ✓"}},
  {"name": "fib", "metric_type": "counter", "custom_function": "fibonacci", "reset_interval": 10, "series": 2}
]"#;

/// Ticks of history exported and backfilled: ten minutes of one-second ticks.
const HISTORY: u64 = 600;

#[test]
fn expected_values_agree_with_what_prometheus_scraped_and_backfilled() {
    let Some(prometheus_binary) = require_tool("prometheus") else { return };
    let Some(promtool) = require_tool("promtool") else { return };
    let clock = Instant::now();
    let dir = TempDir::new();
    let config = dir.write("config.json", CONFIG);
    let config = config.to_str().unwrap();

    // History: ten minutes of ticks from two hours ago (well inside the default retention),
    // turned into blocks in the directory Prometheus is about to use.
    let history_start = (unix_now() as i64 / 60 - 120) * 60;
    let history = dir.path().join("history.om");
    let out = run(&[
        "--config",
        config,
        "--align",
        "wall-clock",
        "--interval",
        "1s",
        "--export-openmetrics",
        history.to_str().unwrap(),
        "--start",
        &history_start.to_string(),
        "--ticks",
        &HISTORY.to_string(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let blocks = run_command(
        Command::new(&promtool)
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&history)
            .arg(dir.path().join("data")),
    );
    assert!(
        blocks.status.success(),
        "promtool: {}\n{}",
        String::from_utf8_lossy(&blocks.stdout),
        String::from_utf8_lossy(&blocks.stderr)
    );

    let (prometheus, exporter, phase) = wall_clock_stack(&prometheus_binary, dir.path(), config, &[]);

    // Twelve scrapes hold four resets of the counter that restarts every 3 ticks.
    let up = format!("up{{instance=\"{}\"}}", exporter.addr);
    let stored = poll(Duration::from_secs(30), || {
        let result = prometheus.query("count_over_time(test_metrics_square{k=\"a\"}[5m])");
        result.first().map(|r| number(&r["value"][1])).filter(|&n| n >= 12.0)
    });
    assert!(stored.is_some(), "fewer than 12 samples in 30 s: {:?}", prometheus.query(&up));

    scraped_samples_are_the_expected_values(&prometheus, &exporter);
    range_queries_are_the_expected_values(&prometheus, &exporter, phase);
    raw_increases_are_the_true_increases(&prometheus, &exporter);
    backfilled_history_is_the_expected_values(&prometheus, &exporter, history_start);
    eprintln!("ground truth end-to-end test: {:.1} s", clock.elapsed().as_secs_f64());
}

/// Every sample of every configured series that Prometheus stored equals the expected value at
/// its timestamp, as the same string.
fn scraped_samples_are_the_expected_values(prometheus: &Prometheus, exporter: &Exporter) {
    let raw = prometheus.query("{__name__=~\"test_metrics_.+\",__name__!~\".+_created\"}[5m]");
    // 2 square, jobs, walk, big, tiny, requests, noise, 2 fib.
    assert_eq!(raw.len(), 10, "{raw:?}");
    let mut compared = 0;
    for series in &raw {
        let selector = selector(&series["metric"]);
        for point in series["values"].as_array().unwrap() {
            let query = format!("metric={}&time={}", url_encode(&selector), seconds(&point[0]));
            let result = expected(exporter, &query);
            assert_eq!(result.len(), 1, "{query}: {result:?}");
            assert_eq!(result[0]["value"][1], point[1], "{selector} at {}", point[0]);
            compared += 1;
        }
    }
    assert!(compared >= 120, "{compared} samples");
}

/// A range query, stepped one second apart between the scrapes, equals the expected range,
/// point for point and string for string.
fn range_queries_are_the_expected_values(prometheus: &Prometheus, exporter: &Exporter, phase: u64) {
    let raw = prometheus.query("test_metrics_square{k=\"b\"}[5m]");
    let samples = raw[0]["values"].as_array().unwrap();
    let first = samples[0][0].as_f64().unwrap();
    let last = samples[samples.len() - 1][0].as_f64().unwrap();
    // Halfway between a scrape and the next whole second, where the next tick falls: Prometheus
    // answers with the scrape before, and the tick then is the one it scraped.
    let offset = (1000 - phase) as f64 / 2000.0;
    let (start, end) = (format!("{:.3}", first + offset), format!("{:.3}", last));
    for name in
        ["test_metrics_square", "test_metrics_jobs_total", "test_metrics_walk", "test_metrics_big", "test_metrics_tiny"]
    {
        let path = format!("/api/v1/query_range?query={name}&start={start}&end={end}&step=1");
        let theirs = prometheus.api(&path);
        let ours = expected(exporter, &format!("metric={name}&start={start}&end={end}&step=1"));
        let theirs = theirs["result"].as_array().unwrap();
        assert_eq!(theirs.len(), ours.len(), "{name}");
        for (a, b) in theirs.iter().zip(&ours) {
            assert_eq!(a["values"], b["values"], "{name} {}", a["metric"]);
            assert!(a["values"].as_array().unwrap().len() >= 10, "{a}");
        }
    }
}

/// Over windows from one scrape to a later one, each covering a reset of the counter, the
/// increase summed from Prometheus's raw samples (a drop counting as a restart from zero) equals
/// the expected true increase over the same window.
fn raw_increases_are_the_true_increases(prometheus: &Prometheus, exporter: &Exporter) {
    let raw = prometheus.query("test_metrics_jobs_total[5m]");
    let samples: Vec<(f64, f64)> =
        raw[0]["values"].as_array().unwrap().iter().map(|p| (p[0].as_f64().unwrap(), number(&p[1]))).collect();
    let mut windows = 0;
    for from in 0..samples.len() {
        for to in (from + 3)..samples.len().min(from + 8) {
            let window = &samples[from..=to];
            // The sum of rises is the true increase only if every tick was scraped: a window
            // across a scrape Prometheus skipped (a loaded machine) says nothing, and is left out.
            if window.windows(2).any(|w| w[1].0 - w[0].0 > 1.5) {
                continue;
            }
            let resets = window.windows(2).filter(|w| w[1].1 < w[0].1).count();
            assert!(resets >= 1, "a window of 4 ticks or more covers a reset: {window:?}");
            let rises: f64 = window.windows(2).map(|w| if w[1].1 >= w[0].1 { w[1].1 - w[0].1 } else { w[1].1 }).sum();
            let length = ((window[window.len() - 1].0 - window[0].0) * 1000.0).round() as i64;
            let query = format!(
                "metric=test_metrics_jobs_total&time={}&increase={length}ms",
                seconds(&Value::from(window[window.len() - 1].0))
            );
            let result = expected(exporter, &query);
            assert_eq!(number(&result[0]["value"][1]), rises, "{query}: {window:?}");
            windows += 1;
        }
    }
    assert!(windows >= 20, "{windows} windows");
}

/// The backfilled history reads back from Prometheus's blocks as the expected values: every
/// raw sample, and a range query over it.
fn backfilled_history_is_the_expected_values(prometheus: &Prometheus, exporter: &Exporter, start: i64) {
    let end = start + HISTORY as i64 - 1;
    for name in [
        "test_metrics_square",
        "test_metrics_jobs_total",
        "test_metrics_walk",
        "test_metrics_requests_total",
        "test_metrics_noise",
        "test_metrics_fib_total",
        "test_metrics_tiny",
        "test_metrics_big",
    ] {
        let raw =
            prometheus.api(&format!("/api/v1/query?query={}&time={end}", url_encode(&format!("{name}[{HISTORY}s]"))));
        let theirs = raw["result"].as_array().unwrap();
        let ours = expected(exporter, &format!("metric={name}&start={start}&end={end}&step=1"));
        assert!(!theirs.is_empty() && theirs.len() == ours.len(), "{name}: {theirs:?}");
        for (a, b) in theirs.iter().zip(&ours) {
            assert_eq!(a["values"].as_array().unwrap().len(), HISTORY as usize, "{name}");
            assert_eq!(a["values"], b["values"], "{name} {}", a["metric"]);
        }
        let path = format!("/api/v1/query_range?query={name}&start={start}&end={end}&step=60");
        let range = prometheus.api(&path);
        let ours = expected(exporter, &format!("metric={name}&start={start}&end={end}&step=60"));
        for (a, b) in range["result"].as_array().unwrap().iter().zip(&ours) {
            assert_eq!(a["values"], b["values"], "{path}");
        }
    }
    // Counters also brought their `_created` series, as a scrape of OpenMetrics does.
    let created =
        prometheus.api(&format!("/api/v1/query?query={}&time={end}", url_encode("count(test_metrics_jobs_created)")));
    assert_eq!(number(&created["result"][0]["value"][1]), 1.0, "{created}");
}

/// The walk-through in `docs/ground-truth.md`: the example config's input series, the page's rule
/// and alert test, `promtool test rules`.
#[test]
fn docs_alert_walkthrough_passes_promtool() {
    let Some(promtool) = require_tool("promtool") else { return };
    let page = std::fs::read_to_string(root().join("docs/ground-truth.md")).unwrap();
    let block = |after: &str| crate::support::code_block(&page, after, "```yaml\n");
    let command = "metrics-generator --export-promtool-tests walkthrough.yml --ticks 30";
    assert!(page.contains(command), "docs/ground-truth.md lacks {command:?}");
    let dir = TempDir::new();
    dir.write("rules.yml", block("`rules.yml`:"));
    let tests = dir.path().join("walkthrough.yml");
    let out = run(&["--export-promtool-tests", tests.to_str().unwrap(), "--ticks", "30"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut file = std::fs::read_to_string(&tests).unwrap();
    file.push_str(&block("`alert-tests.yml`:"));
    std::fs::write(&tests, file).unwrap();
    promtool_passes(&promtool, dir.path(), &tests);

    // The test can fail: with the alert expected one tick earlier, promtool says so.
    let text = std::fs::read_to_string(&tests).unwrap().replace("eval_time: 12m", "eval_time: 11m");
    std::fs::write(&tests, text).unwrap();
    let out = run_command(Command::new(&promtool).args(["test", "rules"]).arg(&tests).current_dir(dir.path()));
    assert!(!out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[track_caller]
fn promtool_passes(promtool: &Path, dir: &Path, tests: &Path) {
    let out = run_command(Command::new(promtool).args(["test", "rules"]).arg(tests).current_dir(dir));
    assert!(
        out.status.success(),
        "promtool test rules failed:\n{}{}\n--- {}:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        tests.display(),
        std::fs::read_to_string(tests).unwrap_or_default()
    );
}

/// Label values that need escaping in PromQL or cannot appear as they are in YAML, and values
/// that need every notation, including runs in `a+bxc` form whose additions round.
const TRICKY: &str = r#"[
  {"name": "square", "metric_type": "gauge", "custom_function": "square", "reset_interval": 7,
   "labels": {"v": ["say \"hi\"", "back\\slash", "new\nline", "it's", "ünï ✓ 温度", "tab\tand\u0001control", "line\u2028sep", "\\n \\\" \\\\"]}},
  {"name": "tenths", "metric_type": "counter", "custom_function": "linear", "params": {"step": 0.1}},
  {"name": "halves", "metric_type": "gauge", "custom_function": "exponential", "params": {"base": 0.5}},
  {"name": "big", "metric_type": "gauge", "custom_function": "power", "reset_interval": 30},
  {"name": "flat", "metric_type": "gauge", "custom_function": "step", "params": {"values": [2.5, -1], "hold": [6, 5]}},
  {"name": "wave", "metric_type": "gauge", "custom_function": "sine", "params": {"period": 8}},
  {"name": "noise", "metric_type": "gauge", "custom_function": "normal"},
  {"name": "jobs", "metric_type": "counter", "custom_function": "fibonacci", "reset_interval": 10, "series": 2}
]"#;

/// Every value of every series of a tricky config, at every tick, is what promtool reads from
/// the exported input series: one `promql_expr_test` per metric and tick lists them all.
#[test]
fn exported_input_series_hold_every_value_exactly() {
    let Some(promtool) = require_tool("promtool") else { return };
    const TICKS: u64 = 40;
    let dir = TempDir::new();
    let config_path = dir.write("config.json", TRICKY);
    let tests = dir.path().join("tests.yml");
    let out = run(&[
        "--config",
        config_path.to_str().unwrap(),
        "--interval",
        "1m",
        "--export-promtool-tests",
        tests.to_str().unwrap(),
        "--ticks",
        &TICKS.to_string(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let exported = std::fs::read_to_string(&tests).unwrap();
    assert!(exported.contains("+0.1x"), "the tenths counter uses the expanding notation:\n{exported}");

    let config = parse(TRICKY, "t", &Options::default(), &Registry::builtin()).unwrap();
    let mut file = exported;
    file.push_str("    promql_expr_test:\n");
    let mut names: Vec<String> = config.entries.iter().map(|e| e.sample_name()).collect();
    names.dedup();
    for name in &names {
        for tick in 1..=TICKS {
            file.push_str(&format!("      - expr: {name}\n        eval_time: {}m\n        exp_samples:\n", tick - 1));
            for entry in config.entries.iter().filter(|e| &e.sample_name() == name) {
                for k in 0..entry.series {
                    let mut sequence = metrics_generator::engine::Sequence::of(entry, k);
                    for n in 1..=tick {
                        sequence.advance(n);
                    }
                    let labels = metrics_generator::cli::exports::promql_series(entry, k).replace('\'', "''");
                    file.push_str(&format!(
                        "          - labels: '{labels}'\n            value: {:?}\n",
                        sequence.value()
                    ));
                }
            }
        }
    }
    std::fs::write(&tests, file).unwrap();
    promtool_passes(&promtool, dir.path(), &tests);
}

#[test]
fn exports_report_errors_in_one_line() {
    let out = run(&["--export-promtool-tests", "/nonexistent/dir/t.yml", "--ticks", "3"]);
    crate::support::assert_fails(&out, 1, "error: cannot write /nonexistent/dir/t.yml: ");
    let out = run(&["--export-openmetrics", "-", "--ticks", "3"]);
    crate::support::assert_fails(&out, 2, "--export-openmetrics needs --start T");
    // A series that cannot be fast-forwarded to the start is a config error, before any output.
    let dir = TempDir::new();
    let path = dir.write("c.json", r#"[{"name": "w", "metric_type": "gauge", "custom_function": "random_walk"}]"#);
    let out = run(&[
        "--config",
        path.to_str().unwrap(),
        "--align",
        "wall-clock",
        "--interval",
        "1s",
        "--export-openmetrics",
        "-",
        "--start",
        "2023-11-14T22:13:20Z",
        "--ticks",
        "3",
    ]);
    crate::support::assert_fails(&out, 2, "entry 0 (\"w\"): random_walk cannot be fast-forwarded to tick 1700000001");
    // Written to stdout, an OpenMetrics export is what the exposition would be, with timestamps.
    let out = run(&["--export-openmetrics", "-", "--start", "1700000000", "--ticks", "2", "--interval", "1m"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("# TYPE test_metrics_custom_square gauge\n# HELP test_metrics_custom_square Synthetic gauge following the square function.\ntest_metrics_custom_square 1 1700000000\ntest_metrics_custom_square 4 1700000060\n"), "{text}");
    assert!(text.contains("test_metrics_jobs_done_total{queue=\"default\"} 1 1700000000\ntest_metrics_jobs_done_created{queue=\"default\"} 1700000000 1700000000\n"), "{text}");
    assert!(text.ends_with("\n# EOF\n"), "{text}");
}
