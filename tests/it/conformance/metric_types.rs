//! Histograms, summaries, info metrics and statesets, checked against formulas written here and
//! against the real tools:
//!
//! - a histogram's buckets, sum and count and a summary's quantiles follow the distribution's
//!   quantile function at (j − ½)/N, tick after tick, restarting with `reset_interval`;
//! - `promtool check metrics` accepts the text format, and prometheus_client's strict parser the
//!   OpenMetrics one, exemplars included;
//! - a real Prometheus scrapes a wall-clock-aligned exporter: every sample it stored equals
//!   `/api/v1/expected`, `histogram_quantile(φ, rate(x_bucket[w]))` equals what the exporter
//!   says it should be, and an info metric joins with `group_left`;
//! - a stateset alert, tested with `promtool test rules` on the exported input series, fires at
//!   the tick it should.

use crate::support::prometheus::{expected, number, seconds, selector, url_encode, wall_clock_stack, Prometheus};
use crate::support::{poll, require_python_module, require_tool, run, run_command, Exporter, TempDir};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;

/// One entry of each type, with labels, a fan-out and exemplars.
const EVERY_TYPE: &str = r#"[
  {"name": "latency_seconds", "metric_type": "histogram", "custom_function": "constant", "params": {"value": 0.5},
   "observations": 20, "distribution": {"type": "uniform", "width": 0.2}, "buckets": [0.45, 0.52, 0.7],
   "labels": {"route": ["/a", "/b"]}, "exemplars": true},
  {"name": "size_bytes", "metric_type": "summary", "custom_function": "constant", "params": {"value": 0.5},
   "observations": 20, "distribution": {"type": "uniform", "width": 0.2}, "quantiles": [0.5, 0.9, 0.99]},
  {"name": "build", "metric_type": "info", "labels": {"version": "1.2.3", "commit": "abc"}},
  {"name": "phase", "metric_type": "stateset", "custom_function": "linear", "states": ["starting", "ready", "draining"]},
  {"name": "requests", "metric_type": "counter", "custom_function": "linear", "params": {"start": 1}, "exemplars": true}
]"#;

/// The value of `series` (name and labels exactly as written) in `body`.
fn value(body: &str, series: &str) -> f64 {
    crate::support::sample(body, series).unwrap_or_else(|| panic!("no {series} in\n{body}"))
}

/// Tick 1 of every type, by hand: the histogram's 20 observations lie at 0.4 + 0.01·(j − ½),
/// j = 1…20 (uniform, width 0.2, around 0.5): 5 of them at or below 0.45, 12 at or below 0.52,
/// all at or below 0.7; they sum to 20 × 0.5. The summary's quantiles are the observations of
/// nearest rank ⌈φ·20⌉: numbers 10, 18 and 20.
#[test]
fn every_type_serves_its_lines_in_both_formats() {
    let exporter = Exporter::with_config(EVERY_TYPE, &["--interval", "1h", "--namespace", "ns"]);
    let text = exporter.get("/metrics").text();
    let histogram = [
        "# HELP ns_latency_seconds Synthetic histogram following the constant function.",
        "# TYPE ns_latency_seconds histogram",
        "ns_latency_seconds_bucket{route=\"/a\",le=\"0.45\"} 5",
        "ns_latency_seconds_bucket{route=\"/a\",le=\"0.52\"} 12",
        "ns_latency_seconds_bucket{route=\"/a\",le=\"0.7\"} 20",
        "ns_latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 20",
        "ns_latency_seconds_sum{route=\"/a\"} 10",
        "ns_latency_seconds_count{route=\"/a\"} 20",
        "ns_latency_seconds_bucket{route=\"/b\",le=\"0.45\"} 5",
    ]
    .join("\n");
    assert!(text.contains(&histogram), "{text}");
    let observation = |j: f64| 0.4 + 0.2 * (j - 0.5) / 20.0;
    for (phi, rank) in [("0.5", 10.0), ("0.9", 18.0), ("0.99", 20.0)] {
        let served = value(&text, &format!("ns_size_bytes{{quantile=\"{phi}\"}}"));
        assert!((served - observation(rank)).abs() < 1e-12, "quantile {phi}: {served}");
    }
    assert_eq!(value(&text, "ns_size_bytes_sum"), 10.0);
    assert_eq!(value(&text, "ns_size_bytes_count"), 20.0);
    assert!(text.contains("# TYPE ns_build_info gauge\nns_build_info{commit=\"abc\",version=\"1.2.3\"} 1\n"), "{text}");
    // linear starts at 0: state number 0 at tick 1.
    assert!(
        text.contains(
            "# TYPE ns_phase gauge\nns_phase{ns_phase=\"starting\"} 1\nns_phase{ns_phase=\"ready\"} 0\n\
             ns_phase{ns_phase=\"draining\"} 0\n"
        ),
        "{text}"
    );
    assert!(!text.contains(" # {"), "the text format carries no exemplars: {text}");

    let om = exporter.request("GET", "/metrics", &[("Accept", "application/openmetrics-text")]).text();
    assert!(om.contains("# TYPE ns_latency_seconds histogram\n"), "{om}");
    assert!(om.contains("ns_latency_seconds_bucket{route=\"/a\",le=\"0.7\"} 20 # {trace_id=\""), "{om}");
    assert!(om.contains("\nns_latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 20\n"), "no observation above 0.7");
    assert!(om.contains("\nns_latency_seconds_created{route=\"/a\"} "), "{om}");
    assert!(om.contains("# TYPE ns_size_bytes summary\n"), "{om}");
    assert!(om.contains("\nns_size_bytes_created "), "{om}");
    assert!(om.contains("# TYPE ns_build info\n"), "{om}");
    assert!(om.contains("\nns_build_info{commit=\"abc\",version=\"1.2.3\"} 1\n"), "{om}");
    assert!(om.contains("# TYPE ns_phase stateset\n"), "{om}");
    assert!(om.contains("\nns_requests_total 1 # {trace_id=\""), "{om}");
}

/// `le` and `quantile` are written as the Go client writes them: `1` and `1e+06` in the text
/// format, `1.0` and `1e+06` in OpenMetrics.
#[test]
fn bounds_are_written_as_each_format_wants_them() {
    let config = r#"[{"name": "h", "metric_type": "histogram", "custom_function": "constant", "params": {"value": 5},
        "buckets": [0.00001, 1, 100000, 1000000]}]"#;
    let exporter = Exporter::with_config(config, &["--interval", "1h", "--namespace", ""]);
    let text = exporter.get("/metrics").text();
    for le in ["1e-05", "1", "100000", "1e+06", "+Inf"] {
        assert!(text.contains(&format!("h_bucket{{le=\"{le}\"}} ")), "{le}: {text}");
    }
    let om = exporter.request("GET", "/metrics", &[("Accept", "application/openmetrics-text")]).text();
    for le in ["1e-05", "1.0", "100000.0", "1e+06", "+Inf"] {
        assert!(om.contains(&format!("h_bucket{{le=\"{le}\"}} ")), "{le}: {om}");
    }
}

/// `--preview` shows a histogram's lines accumulating and starting again at each restart, as
/// counters do: 5 observations at or below 0.45 per tick, restarting every 3 ticks.
#[test]
fn histograms_accumulate_and_restart_with_reset_interval() {
    let dir = TempDir::new();
    let config = dir.write(
        "h.json",
        r#"[{"name": "h", "metric_type": "histogram", "custom_function": "constant", "params": {"value": 0.5},
            "observations": 20, "distribution": {"type": "uniform", "width": 0.2}, "buckets": [0.45],
            "reset_interval": 3}]"#,
    );
    let out = run(&["--preview", "7", "--namespace", "", "--config", config.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8(out.stdout).unwrap();
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["tick", "h_bucket{le=\"0.45\"}", "h_bucket{le=\"+Inf\"}", "h_sum", "h_count"], "{table}");
    for (line, tick) in table.lines().skip(1).zip(1u64..) {
        let cells: Vec<f64> = line.split_whitespace().map(|c| c.parse().unwrap()).collect();
        let in_cycle = (tick - 1) % 3 + 1;
        let expected = [
            tick as f64,
            5.0 * in_cycle as f64,
            20.0 * in_cycle as f64,
            10.0 * in_cycle as f64,
            20.0 * in_cycle as f64,
        ];
        assert_eq!(cells, expected, "tick {tick}:\n{table}");
    }
}

/// A summary's quantiles are the distribution's, within one nearest-rank step: for the
/// exponential distribution of mean 2 and 1,000 observations, the φ-quantile −2·ln(1 − φ) lies
/// between the observations of ranks ⌈φN⌉ − 1 and ⌈φN⌉ + 1.
#[test]
fn summary_quantiles_are_the_distributions_within_a_rank() {
    let config = r#"[{"name": "s", "metric_type": "summary", "custom_function": "constant", "params": {"value": 2},
        "observations": 1000, "quantiles": [0.1, 0.5, 0.9, 0.99, 0.999]}]"#;
    let exporter = Exporter::with_config(config, &["--interval", "1h", "--namespace", ""]);
    let text = exporter.get("/metrics").text();
    let quantile = |p: f64| -2.0 * (1.0 - p).ln();
    for phi in [0.1, 0.5, 0.9, 0.99, 0.999] {
        let served = value(&text, &format!("s{{quantile=\"{phi}\"}}"));
        let (low, high) = (quantile(phi - 1.0 / 1000.0), quantile((phi + 1.0 / 1000.0).min(0.9999)));
        assert!(low <= served && served <= high, "φ {phi}: {served} not in [{low}, {high}]");
    }
    // The mean of the observations is the distribution's, 2, to within the discretisation.
    let mean = value(&text, "s_sum") / value(&text, "s_count");
    assert!((mean - 2.0).abs() < 0.01, "{mean}");
}

#[test]
fn promtool_accepts_every_type_in_the_text_format() {
    let Some(promtool) = require_tool("promtool") else { return };
    let exporter = Exporter::with_config(EVERY_TYPE, &["--interval", "1h"]);
    let body = exporter.get("/metrics").body;
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &body).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "promtool: {said}\n{}", String::from_utf8_lossy(&body));
}

/// Parses an OpenMetrics body with prometheus_client's strict parser and prints each family's
/// type and samples, exemplars included.
const PARSE_OPENMETRICS: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(open(sys.argv[1], encoding="utf-8").read()):
    samples = []
    for s in f.samples:
        exemplar = None if s.exemplar is None else [s.exemplar.labels, s.exemplar.value, float(s.exemplar.timestamp)]
        samples.append([s.name, s.labels, s.value, exemplar])
    out.append({"name": f.name, "type": f.type, "samples": samples})
print(json.dumps(out))
"#;

#[test]
fn the_strict_openmetrics_parser_accepts_every_type_with_exemplars() {
    let Some(python) = require_python_module("prometheus_client") else { return };
    let exporter = Exporter::with_config(EVERY_TYPE, &["--interval", "1h", "--namespace", "ns"]);
    let body = exporter.request("GET", "/metrics", &[("Accept", "application/openmetrics-text")]).text();
    let dir = TempDir::new();
    let input = dir.write("body.txt", &body);
    let out = run_command(Command::new(python).args(["-c", PARSE_OPENMETRICS]).arg(input));
    assert!(out.status.success(), "parser rejected:\n{}\n{body}", String::from_utf8_lossy(&out.stderr));
    let families: Value = serde_json::from_slice(&out.stdout).unwrap();
    let family = |name: &str| {
        families.as_array().unwrap().iter().find(|f| f["name"] == name).cloned().unwrap_or_else(|| panic!("{name}"))
    };
    for (name, kind) in [
        ("ns_latency_seconds", "histogram"),
        ("ns_size_bytes", "summary"),
        ("ns_build", "info"),
        ("ns_phase", "stateset"),
        ("ns_requests", "counter"),
    ] {
        assert_eq!(family(name)["type"], kind, "{name}");
    }
    let exemplars: Vec<Value> = family("ns_latency_seconds")["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s[3].is_null())
        .cloned()
        .collect();
    // The buckets that gained observations: up to 0.45, 0.52 and 0.7, for each route.
    assert_eq!(exemplars.len(), 6, "{exemplars:?}");
    for sample in &exemplars {
        let trace = sample[3][0]["trace_id"].as_str().unwrap();
        assert!(trace.len() == 32 && trace.chars().all(|c| c.is_ascii_hexdigit()), "{trace}");
        let le: f64 = sample[1]["le"].as_str().unwrap().parse().unwrap();
        assert!(sample[3][1].as_f64().unwrap() <= le, "the exemplar lies in its bucket: {sample}");
    }
    let requests = &family("ns_requests")["samples"][0];
    assert_eq!(requests[3][1], 1.0, "the counter's exemplar has its value: {requests}");
}

/// The stateset's `linear` function picks state ⌊t − 1⌋ mod 3 at tick t: `draining` at ticks 3,
/// 6, … An alert on it, with `for: 0s`, fires at the third tick and not before.
#[test]
fn a_stateset_alert_fires_at_its_tick() {
    let Some(promtool) = require_tool("promtool") else { return };
    let dir = TempDir::new();
    let config = dir.write(
        "c.json",
        r#"[{"name": "phase", "metric_type": "stateset", "custom_function": "linear", "states": ["starting", "ready", "draining"]}]"#,
    );
    let out = run(&[
        "--config",
        config.to_str().unwrap(),
        "--interval",
        "1m",
        "--export-promtool-tests",
        "-",
        "--ticks",
        "10",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let input = String::from_utf8(out.stdout).unwrap();
    dir.write(
        "rules.yml",
        "groups:\n  - name: phase\n    rules:\n      - alert: Draining\n        \
         expr: test_metrics_phase{test_metrics_phase=\"draining\"} == 1\n",
    );
    let firing = "exp_alerts:\n          - exp_labels: {test_metrics_phase: draining}";
    let tests = format!(
        "{input}    alert_rule_test:\n      - eval_time: 1m\n        alertname: Draining\n        exp_alerts: []\n      \
         - eval_time: 2m\n        alertname: Draining\n        {firing}\n      \
         - eval_time: 3m\n        alertname: Draining\n        exp_alerts: []\nrule_files:\n  - rules.yml\n"
    );
    let tests = dir.write("tests.yml", tests);
    let out = run_command(Command::new(promtool).current_dir(dir.path()).args(["test", "rules"]).arg(&tests));
    assert!(
        out.status.success(),
        "promtool test rules:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Histograms whose location moves (a wave through the buckets) and whose observations spread
/// by every distribution, a summary, an info metric and a stateset, all restarting every 3,600
/// ticks (an hour) so that they fast-forward to the epoch's tick number within their budget.
const SCRAPED: &str = r#"[
  {"name": "exp_seconds", "metric_type": "histogram", "custom_function": "sine",
   "params": {"amplitude": 0.2, "period": 20, "offset": 0.5}, "reset_interval": 3600,
   "buckets": [0.1, 0.25, 0.5, 1, 2.5]},
  {"name": "normal_seconds", "metric_type": "histogram", "custom_function": "sine",
   "params": {"amplitude": 0.1, "period": 15, "offset": 0.5}, "reset_interval": 3600,
   "distribution": {"type": "normal", "sd": 0.1}, "observations": 50, "buckets": [0.3, 0.4, 0.5, 0.6, 0.7]},
  {"name": "uniform_seconds", "metric_type": "histogram", "custom_function": "constant", "params": {"value": 0.5},
   "reset_interval": 3600, "distribution": {"type": "uniform", "width": 0.4}, "observations": "10 + n % 7",
   "buckets": [0.35, 0.45, 0.55, 0.65]},
  {"name": "lognormal_seconds", "metric_type": "histogram", "custom_function": "constant", "params": {"value": 0.3},
   "reset_interval": 3600, "distribution": {"type": "lognormal", "sigma": 0.5}, "observations": 200},
  {"name": "rt", "metric_type": "summary", "custom_function": "sine", "params": {"amplitude": 1, "period": 10, "offset": 3},
   "reset_interval": 3600, "distribution": {"type": "normal", "sd": 0.5}},
  {"name": "build", "metric_type": "info", "labels": {"version": "1.2.3"}},
  {"name": "load", "metric_type": "gauge", "custom_function": "square", "reset_interval": 10},
  {"name": "phase", "metric_type": "stateset", "custom_function": "linear", "states": ["a", "b", "c"], "reset_interval": 3600}
]"#;

const HISTOGRAMS: [&str; 4] = [
    "test_metrics_exp_seconds",
    "test_metrics_normal_seconds",
    "test_metrics_uniform_seconds",
    "test_metrics_lognormal_seconds",
];

#[test]
fn prometheus_agrees_with_the_expected_values_of_every_type() {
    let Some(prometheus_binary) = require_tool("prometheus") else { return };
    let _heavy = crate::support::heavy();
    let dir = TempDir::new();
    let config = dir.write("config.json", SCRAPED);
    let (prometheus, exporter, _phase) =
        wall_clock_stack(&prometheus_binary, dir.path(), config.to_str().unwrap(), &[]);
    let stored = poll(Duration::from_secs(40), || {
        let result = prometheus.query("count_over_time(test_metrics_load[5m])");
        result.first().map(|r| number(&r["value"][1])).filter(|&n| n >= 15.0)
    });
    assert!(stored.is_some(), "fewer than 15 samples in 40 s: {:?}", prometheus.targets());

    every_stored_sample_is_expected(&prometheus, &exporter);
    histogram_quantiles_are_expected(&prometheus, &exporter);
    // The info metric joins the gauge on the target's labels and lends it its version.
    let joined = prometheus.query("test_metrics_load * on(instance) group_left(version) test_metrics_build_info");
    assert_eq!(joined.len(), 1, "{joined:?}");
    assert_eq!(joined[0]["metric"]["version"], "1.2.3", "{joined:?}");
}

/// Every sample Prometheus stored of the new types equals `/api/v1/expected` at its timestamp.
fn every_stored_sample_is_expected(prometheus: &Prometheus, exporter: &Exporter) {
    let raw = prometheus.query("{__name__=~\"test_metrics_.+\",__name__!~\".+_created|test_metrics_load\"}[5m]");
    // 4 histograms of 6, 6, 5 and 12 buckets with sum and count, a summary of 3 quantiles with
    // sum and count, an info metric and a stateset of 3 states.
    assert_eq!(raw.len(), 8 + 8 + 7 + 14 + 5 + 1 + 3, "{:?}", raw.iter().map(|s| &s["metric"]).collect::<Vec<_>>());
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
    assert!(compared >= 40 * 10, "{compared} samples");
}

/// `histogram_quantile(φ, rate(x_bucket[10s]))` at a scrape's time equals the expected quantile
/// over the same samples: from the first scrape in the window to the last. Prometheus's
/// extrapolation scales every bucket alike, so it cancels.
fn histogram_quantiles_are_expected(prometheus: &Prometheus, exporter: &Exporter) {
    let mut compared = 0;
    for name in HISTOGRAMS {
        let raw = prometheus.query(&format!("{name}_count[1m]"));
        let times: Vec<f64> = raw[0]["values"].as_array().unwrap().iter().map(|p| p[0].as_f64().unwrap()).collect();
        // The samples of `x_bucket[10s]` at a scrape `at`: those in [at − 10, at]. Near the start
        // of a cycle Prometheus extrapolates each bucket only down to zero, which does not
        // cancel: the window must begin a few ticks into a cycle and hold no restart.
        let tick = |t: f64| t.floor() as u64 + 1;
        let window_at =
            |at: f64| -> Vec<f64> { times.iter().copied().filter(|&t| t >= at - 10.0 && t <= at).collect() };
        let at = times
            .iter()
            .rev()
            .copied()
            .find(|&at| {
                let window = window_at(at);
                let (begin, end) = (tick(window[0]), tick(at));
                window.len() >= 5 && (begin - 1) % 3600 >= 3 && (begin - 1) / 3600 == (end - 1) / 3600
            })
            .expect("a window within one cycle");
        let window = window_at(at);
        let (first, last) = (window[0], window[window.len() - 1]);
        let length = ((last - first) * 1000.0).round() as i64;
        for phi in [0.1, 0.5, 0.9, 0.99] {
            let promql = format!("histogram_quantile({phi}, rate({name}_bucket[10s]))");
            let theirs = prometheus.api(&format!("/api/v1/query?query={}&time={at:.3}", url_encode(&promql)));
            let theirs = number(&theirs["result"][0]["value"][1]);
            let query = format!(
                "metric={name}_bucket&histogram_quantile={phi}&increase={length}ms&time={}",
                seconds(&Value::from(last))
            );
            let ours = number(&expected(exporter, &query)[0]["value"][1]);
            let close = (theirs - ours).abs() <= 1e-9 * ours.abs().max(1e-12);
            assert!(close, "{promql} at {at}: Prometheus says {theirs}, the exporter {ours} ({query})");
            compared += 1;
        }
    }
    assert_eq!(compared, 16);
}

/// The guide `docs/guide-latency-slo.md`: its config, exported as it says, with its rule and its
/// alert test appended, passes `promtool test rules`, and the output is the one it shows.
#[test]
fn the_latency_slo_guide_passes_promtool() {
    let Some(promtool) = require_tool("promtool") else { return };
    let guide = std::fs::read_to_string(crate::support::root().join("docs/guide-latency-slo.md")).unwrap();
    let block = |after: &str, fence: &str| crate::support::code_block(&guide, after, fence);
    let dir = TempDir::new();
    dir.write("slo.json", block("Save it\nas `slo.json`", "```json\n"));
    dir.write("rules.yml", block("Save as `rules.yml`", "```yaml\n"));
    let command = block("`--export-promtool-tests` writes", "```sh\n");
    let args: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(args[0], "metrics-generator", "{command}");
    let out = run_command(Command::new(crate::support::bin()).current_dir(dir.path()).args(&args[1..]));
    assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
    let appended = block("Append the alert's expectations", "```yaml\n");
    let tests = dir.path().join("slo-test.yml");
    let input = std::fs::read_to_string(&tests).unwrap();
    std::fs::write(&tests, format!("{input}{appended}")).unwrap();
    let out = run_command(Command::new(promtool).current_dir(dir.path()).args(["test", "rules", "slo-test.yml"]));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "promtool test rules:\n{said}{}", String::from_utf8_lossy(&out.stderr));
    let shown = block("promtool test rules slo-test.yml", "```text\n");
    assert_eq!(said.trim(), shown.trim());
}

/// `--export-openmetrics` writes every type as OpenMetrics with timestamps, which
/// `promtool tsdb create-blocks-from openmetrics` turns into blocks holding every sample line of
/// every series at every tick, with the values the formula gives. (prometheus_client's parser
/// drops all but the first sample of a histogram point after the first timestamp, so it cannot
/// read a history; promtool, which Prometheus's users run on it, is the judge here.)
#[test]
fn the_openmetrics_export_of_every_type_backfills() {
    let Some(promtool) = require_tool("promtool") else { return };
    let dir = TempDir::new();
    let config = dir.write("c.json", EVERY_TYPE);
    let export = dir.path().join("history.om");
    let out = run(&[
        "--config",
        config.to_str().unwrap(),
        "--interval",
        "1m",
        "--export-openmetrics",
        export.to_str().unwrap(),
        "--start",
        "1700000000",
        "--ticks",
        "3",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let data = dir.path().join("data");
    let blocks = run_command(
        Command::new(&promtool).args(["tsdb", "create-blocks-from", "openmetrics"]).arg(&export).arg(&data),
    );
    let said = String::from_utf8_lossy(&blocks.stdout).to_string();
    assert!(blocks.status.success(), "promtool: {said}{}", String::from_utf8_lossy(&blocks.stderr));
    // Series: 2 histograms of 7 lines with `_created`, a summary of 6, an info metric, a stateset
    // of 3 states, a counter with `_created`; three ticks of each.
    let columns: Vec<&str> = said.lines().nth(1).expect("a block").split_whitespace().collect();
    let (samples, series): (u64, u64) = (columns[4].parse().unwrap(), columns[6].parse().unwrap());
    assert_eq!((samples, series), (26 * 3, 26), "{said}");
    // `tsdb dump` reads a data directory with a write-ahead log.
    std::fs::create_dir_all(data.join("wal")).unwrap();
    let dump = run_command(Command::new(&promtool).args(["tsdb", "dump"]).arg(&data));
    let dump = String::from_utf8_lossy(&dump.stdout).to_string();
    for (count, time) in [(5, 1_700_000_000_000u64), (10, 1_700_000_060_000), (15, 1_700_000_120_000)] {
        let line =
            format!("{{__name__=\"test_metrics_latency_seconds_bucket\", le=\"0.45\", route=\"/b\"}} {count} {time}");
        assert!(dump.contains(&line), "no {line} in\n{dump}");
    }
}
