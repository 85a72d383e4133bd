//! Series that come and go (`active`, `churn`) and noise (`jitter`), checked against formulas
//! written here and against the real tools:
//!
//! - `/api/v1/expected` has no point where a series is absent, and answers for every generation
//!   of a churning entry, each with its own points;
//! - jitter is bounded by its amount and the same in every run;
//! - a real Prometheus scraping a wall-clock-aligned exporter sees `absent(x)` become 1 at the
//!   first scrape after the series went and 0 again after, `count(x)` follow a burst, only the
//!   current generation of a churning entry, and every raw sample equal to `/api/v1/expected`;
//! - an `absent()` alert, tested with `promtool test rules` on the exported input series (the
//!   guide `docs/guide-absent-staleness.md`), fires when the series is withheld.

use crate::support::prometheus::{expected, number, seconds, selector, url_encode, wall_clock_stack, Prometheus};
use crate::support::{poll, require_tool, run_command, Exporter, TempDir};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

/// A gap of 4 ticks in 10, a burst of 50 series for 3 ticks in 10, a fan-out that churns every 8
/// ticks, jitter of ±5 around 100, and a gauge that is always there.
const CONFIG: &str = r#"[
  {"name": "gap", "metric_type": "gauge", "custom_function": "linear", "active": {"every": 10, "for": 6}},
  {"name": "burst", "metric_type": "gauge", "custom_function": "constant", "params": {"value": 1}, "series": 50,
   "active": {"every": 10, "for": 3, "offset": 7}},
  {"name": "churning", "metric_type": "counter", "custom_function": "linear", "params": {"start": 1}, "series": 2,
   "churn": {"every": 8}},
  {"name": "noisy", "metric_type": "gauge", "custom_function": "constant", "params": {"value": 100}, "series": 3,
   "jitter": {"amount": 5, "seed": 9}},
  {"name": "always", "metric_type": "gauge", "custom_function": "linear"}
]"#;

/// The wall-clock tick at Unix second `t` with one-second ticks: tick 1 is the epoch's second.
fn tick_at(t: f64) -> u64 {
    t.floor() as u64 + 1
}

/// Whether `gap` (every 10, for 6) is served at tick `t`.
fn gap_active(t: u64) -> bool {
    (t - 1) % 10 < 6
}

/// Whether `burst` (every 10, for 3, offset 7) is served at tick `t`.
fn burst_active(t: u64) -> bool {
    (t - 1 + 10 - 7) % 10 < 3
}

#[test]
fn expected_values_leave_out_absent_points_and_split_generations() {
    let exporter = Exporter::with_config(CONFIG, &["--align", "wall-clock", "--interval", "1s"]);
    // Forty seconds of the past, a point a second (on each second: tick = second + 1).
    let end = (crate::support::prometheus::unix_now() as u64) - 1;
    let start = end - 39;
    let range = |metric: &str| {
        let query = format!("metric={}&start={start}&end={end}&step=1", url_encode(metric));
        expected(&exporter, &query)
    };
    let gap = range("test_metrics_gap");
    assert_eq!(gap.len(), 1);
    let times: Vec<u64> = gap[0]["values"].as_array().unwrap().iter().map(|p| p[0].as_u64().unwrap()).collect();
    let wanted: Vec<u64> = (start..=end).filter(|&s| gap_active(s + 1)).collect();
    assert_eq!(times, wanted, "the gap's points are the ticks it is served at");
    // linear: value = tick − 1, while served or not (the sequence keeps going).
    for point in gap[0]["values"].as_array().unwrap() {
        assert_eq!(number(&point[1]), point[0].as_f64().unwrap(), "{point}");
    }

    // Every generation of the churning counter is a series of its own: its points are its
    // generation's ticks, its values count from 1 at the generation's first tick.
    let churning = range("test_metrics_churning_total{series=\"1\"}");
    let mut generations = Vec::new();
    for series in &churning {
        let generation: u64 = series["metric"]["generation"].as_str().unwrap().parse().unwrap();
        generations.push(generation);
        for point in series["values"].as_array().unwrap() {
            let tick = point[0].as_u64().unwrap() + 1;
            assert_eq!((tick - 1) / 8, generation, "{series}");
            assert_eq!(number(&point[1]), ((tick - 1) % 8 + 1) as f64, "{series}");
        }
    }
    let first = (start + 1 - 1) / 8;
    let last = (end + 1 - 1) / 8;
    assert_eq!(generations, (first..=last).collect::<Vec<_>>());
    // A matcher on the generation selects that generation alone.
    let one = range(&format!("test_metrics_churning_total{{series=\"1\",generation=\"{last}\"}}"));
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["metric"]["generation"], last.to_string());

    // Jitter: within ±5 of 100, different for each series.
    let noisy = range("test_metrics_noisy");
    assert_eq!(noisy.len(), 3);
    let values: Vec<Vec<f64>> =
        noisy.iter().map(|s| s["values"].as_array().unwrap().iter().map(|p| number(&p[1])).collect()).collect();
    for series in &values {
        assert_eq!(series.len(), 40);
        assert!(series.iter().all(|v| (95.0..=105.0).contains(v)), "{series:?}");
        assert!(series.windows(2).any(|w| w[0] != w[1]), "it changes from tick to tick");
    }
    assert_ne!(values[0], values[1]);
    // The same in another run of the exporter.
    let again = Exporter::with_config(CONFIG, &["--align", "wall-clock", "--interval", "1s"]);
    let query = format!("metric=test_metrics_noisy&start={start}&end={end}&step=1");
    assert_eq!(expected(&again, &query), noisy, "jitter is reproducible");
}

#[test]
fn the_self_metric_counts_the_series_served_now() {
    let config = r#"[{"name": "a", "metric_type": "gauge", "custom_function": "square", "series": 5,
        "active": {"every": 2, "for": 1, "offset": 1}}, {"name": "b", "metric_type": "gauge", "custom_function": "square"}]"#;
    // Tick 1 with offset 1: (1 − 1 − 1) mod 2 = 1, not < 1: `a` is not served yet.
    let exporter = Exporter::with_config(config, &["--interval", "1h"]);
    let body = exporter.get("/metrics").text();
    assert!(!body.contains("test_metrics_a"), "{body}");
    assert_eq!(crate::support::sample(&body, "metrics_generator_series"), Some(1.0), "{body}");
}

/// The guide `docs/guide-absent-staleness.md`: its heartbeat, exported as it says, holds the input
/// series it shows (a staleness marker at the first scrape without the heartbeat, as Prometheus
/// stores one), and with its rule and alert test passes `promtool test rules`, as it shows.
#[test]
fn the_absent_guide_passes_promtool() {
    let Some(promtool) = require_tool("promtool") else { return };
    let guide = std::fs::read_to_string(crate::support::root().join("docs/guide-absent-staleness.md")).unwrap();
    let block = |after: &str, fence: &str| crate::support::code_block(&guide, after, fence);
    let dir = TempDir::new();
    dir.write("heartbeat.json", block("Save as `heartbeat.json`", "```json\n"));
    dir.write("heartbeat-rules.yml", block("Save as `heartbeat-rules.yml`", "```yaml\n"));
    let command = block("## The test", "```sh\n");
    let args: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(args[0], "metrics-generator", "{command}");
    let out = run_command(Command::new(crate::support::bin()).current_dir(dir.path()).args(&args[1..]));
    assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
    let tests = dir.path().join("heartbeat-test.yml");
    let input = std::fs::read_to_string(&tests).unwrap();
    let shown = block("minutes 13 to 19 hold nothing", "```text\n");
    assert!(input.contains(&shown), "the export lacks what the guide shows:\n{shown}\nin\n{input}");
    let appended = block("Append that to the file", "```yaml\n");
    std::fs::write(&tests, format!("{input}{appended}")).unwrap();
    let out = run_command(Command::new(promtool).current_dir(dir.path()).args(["test", "rules", "heartbeat-test.yml"]));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "promtool test rules:\n{said}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(said.trim(), block("promtool test rules heartbeat-test.yml", "```text\n").trim());
}

#[test]
fn prometheus_sees_series_come_and_go_as_expected() {
    let Some(prometheus_binary) = require_tool("prometheus") else { return };
    let _heavy = crate::support::heavy();
    let dir = TempDir::new();
    let config = dir.write("config.json", CONFIG);
    let (prometheus, exporter, _phase) =
        wall_clock_stack(&prometheus_binary, dir.path(), config.to_str().unwrap(), &[]);
    // Twenty-five scrapes: two and a half gap periods, three churns.
    let stored = poll(Duration::from_secs(45), || {
        let result = prometheus.query("count_over_time(test_metrics_always[5m])");
        result.first().map(|r| number(&r["value"][1])).filter(|&n| n >= 25.0)
    });
    assert!(stored.is_some(), "fewer than 25 samples in 45 s: {:?}", prometheus.targets());
    let scrapes: Vec<f64> = prometheus.query("test_metrics_always[5m]")[0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_f64().unwrap())
        .collect();

    every_raw_sample_is_expected(&prometheus, &exporter);
    let at = |promql: &str, t: f64| -> Vec<Value> {
        let path = format!("/api/v1/query?query={}&time={t:.3}", url_encode(promql));
        prometheus.api(&path)["result"].as_array().unwrap().clone()
    };
    // After the first scrape, which has nothing to be stale against.
    let (mut absent_seen, mut burst_seen) = (0, 0);
    for &t in &scrapes[1..] {
        let tick = tick_at(t);
        // absent() is 1 from the first scrape that missed the series (its staleness marker).
        let absent = !at("absent(test_metrics_gap)", t).is_empty();
        assert_eq!(absent, !gap_active(tick), "absent(test_metrics_gap) at {t} (tick {tick})");
        absent_seen += usize::from(absent);
        // count() follows the burst: 50 series while it lasts, none otherwise.
        let count = at("count(test_metrics_burst)", t).first().map_or(0.0, |r| number(&r["value"][1]));
        assert_eq!(count, if burst_active(tick) { 50.0 } else { 0.0 }, "count(test_metrics_burst) at {t}");
        burst_seen += usize::from(count > 0.0);
        // Only the current generation of the churning counter is there: the others are stale.
        let generations: Vec<String> = at("test_metrics_churning_total", t)
            .iter()
            .map(|r| r["metric"]["generation"].as_str().unwrap().to_string())
            .collect();
        let current = ((tick - 1) / 8).to_string();
        assert_eq!(generations, [current.clone(), current], "test_metrics_churning_total at {t}");
    }
    assert!(absent_seen >= 4 && burst_seen >= 3, "{absent_seen} absent, {burst_seen} burst scrapes");
}

/// Every raw sample Prometheus stored equals the expected value at its timestamp: the gaps are
/// where the exporter said, and each generation is its own series.
fn every_raw_sample_is_expected(prometheus: &Prometheus, exporter: &Exporter) {
    let raw = prometheus.query("{__name__=~\"test_metrics_.+\",__name__!~\".+_created\"}[5m]");
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
    assert!(compared >= 25 * 4, "{compared} samples");
}
