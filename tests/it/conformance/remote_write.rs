//! Remote write into a real Prometheus (2.42, `--web.enable-remote-write-receiver`, nothing
//! scraped): every sample it stored, history pushed at start-up included, equals
//! `/api/v1/expected` at its exact timestamp, across a `reset_interval`, a histogram's buckets and
//! a gap of `active`, where the stale marker makes the series vanish at once.

use crate::support::prometheus::{expected, selector, unix_now, url_encode, Prometheus};
use crate::support::{heavy, poll, require_tool, Exporter, TempDir};
use serde_json::Value;
use std::time::Duration;

const CONFIG: &str = r#"[
  {"name": "sq", "metric_type": "gauge", "custom_function": "square", "reset_interval": 4,
   "active": {"every": 7, "for": 5}, "labels": {"k": ["a", "b"]}},
  {"name": "jobs", "metric_type": "counter", "custom_function": "square", "reset_interval": 3},
  {"name": "lat", "metric_type": "histogram", "custom_function": "constant", "params": {"value": 0.3},
   "reset_interval": 5}
]"#;

#[test]
fn prometheus_stores_what_expected_says_history_gaps_and_stale_markers_included() {
    let Some(binary) = require_tool("prometheus") else { return };
    let _heavy = heavy();
    let dir = TempDir::new();
    dir.write("prometheus.yml", "global: {}\n");
    let prometheus = loop {
        match Prometheus::try_start(&binary, dir.path(), &["--web.enable-remote-write-receiver"]) {
            Ok(p) => break p,
            Err(_) => continue,
        }
    };
    let url = format!("http://{}/api/v1/write", prometheus.addr);
    let started = unix_now();
    let exporter = Exporter::with_config(
        CONFIG,
        &["--interval", "1s", "--align", "wall-clock", "--remote-write", &url, "--remote-write-history", "15s"],
    );
    // 15 s of history and a few live ticks: two gaps of `active` and several resets among them.
    std::thread::sleep(Duration::from_secs(6));
    let sent = poll(Duration::from_secs(10), || {
        let s = exporter.sample("metrics_generator_remote_write_samples_sent_total")?;
        (s > 0.0).then_some(s)
    })
    .unwrap_or_else(|| panic!("nothing sent\n{}", exporter.stderr()));
    assert!(sent > 0.0);

    let mut checked = 0;
    let mut history = 0;
    for name in ["test_metrics_sq", "test_metrics_jobs_total", "test_metrics_lat_bucket", "test_metrics_lat_sum"] {
        let result = prometheus.query(&format!("{name}[60s]"));
        assert!(!result.is_empty(), "{name}: nothing stored\n{}", exporter.stderr());
        for series in result {
            let selector = selector(&series["metric"]);
            for point in series["values"].as_array().unwrap() {
                let t = point[0].as_f64().unwrap();
                let time = format!("{:.3}", t);
                let want = expected(&exporter, &format!("metric={}&time={time}", url_encode(&selector)));
                let want: Vec<&Value> = want.iter().map(|r| &r["value"][1]).collect();
                assert_eq!(want, [&point[1]], "{selector} at {time}");
                checked += 1;
                history += usize::from(t < started - 1.0);
            }
        }
    }
    assert!(history >= 10, "history before start-up was stored: {history} samples");
    assert!(checked >= 60, "{checked} samples checked");

    // The gap of `sq`: a tick where it is not served, after one where it was. Prometheus answers
    // nothing just after it (a stale marker), where without one it would repeat the last value.
    let points = expected(
        &exporter,
        &format!("metric=test_metrics_sq{{k=\"a\"}}&start={}&end={}&step=1", started as i64 - 14, started as i64 + 4),
    );
    let present: Vec<i64> = points
        .first()
        .map_or(vec![], |s| s["values"].as_array().unwrap().iter().map(|p| p[0].as_f64().unwrap() as i64).collect());
    let gap = (started as i64 - 13..started as i64 + 4)
        .find(|t| present.contains(&(t - 1)) && !present.contains(t))
        .unwrap_or_else(|| panic!("no gap in {present:?}"));
    let at = prometheus.api(&format!("/api/v1/query?query={}&time={}.5", url_encode("test_metrics_sq{k=\"a\"}"), gap));
    assert_eq!(at["result"], Value::Array(vec![]), "stale from {gap} on");
    let before =
        prometheus.api(&format!("/api/v1/query?query={}&time={}.5", url_encode("test_metrics_sq{k=\"a\"}"), gap - 1));
    assert_eq!(before["result"].as_array().unwrap().len(), 1, "served at {}", gap - 1);
}
