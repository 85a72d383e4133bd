//! The protobuf exposition and native histograms, checked by tools that are not ours:
//!
//! - Python's `protobuf` decodes `/metrics` in Prometheus's protobuf format, with classes
//!   generated from `metrics.proto` (`tests/data/python/decode_protobuf.py`), into every family
//!   and type, with the values the text format shows;
//! - a real Prometheus 2.42 with `--enable-feature=native-histograms` scrapes the exporter in
//!   protobuf, stores native histograms, and `histogram_count`, `histogram_sum` and
//!   `histogram_quantile(φ, rate(x[10s]))` on them agree with `/api/v1/expected`.

use crate::support::prometheus::{expected, number, seconds, url_encode, wall_clock_stack};
use crate::support::{poll, require_python_module, require_tool, root, run_command, sample, Exporter, TempDir};
use serde_json::Value;
use std::io::Read;
use std::process::Command;
use std::time::Duration;

/// What Prometheus 2.42 sends when native histograms are enabled.
const PROMETHEUS_NATIVE_ACCEPT: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;\
    encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;\
    q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
const PROTOBUF: &str = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// Every type, a fan-out, and a histogram with native buckets.
const CONFIG: &str = r#"[
  {"name": "latency_seconds", "metric_type": "histogram", "custom_function": "constant", "params": {"value": 0.5},
   "observations": 20, "distribution": {"type": "uniform", "width": 0.2}, "buckets": [0.45, 0.52],
   "labels": {"route": ["/a", "/b"]}, "native": {"schema": 3}},
  {"name": "size_bytes", "metric_type": "summary", "custom_function": "constant", "params": {"value": 2}},
  {"name": "requests", "metric_type": "counter", "custom_function": "linear", "params": {"start": 7}, "series": 2},
  {"name": "temperature", "metric_type": "gauge", "custom_function": "square", "labels": {"room": "say \"hi\" ✓"}},
  {"name": "build", "metric_type": "info", "labels": {"version": "1.2.3"}},
  {"name": "phase", "metric_type": "stateset", "custom_function": "linear", "states": ["a", "b"]}
]"#;

/// Decodes a protobuf body with the reference decoder: the families as JSON.
fn decode(python: &std::path::Path, body: &[u8]) -> Vec<Value> {
    let dir = TempDir::new();
    let input = dir.write("body.bin", body);
    let script = root().join("tests/data/python/decode_protobuf.py");
    let out = run_command(Command::new(python).arg(script).arg(input));
    assert!(out.status.success(), "the decoder rejected the body:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().unwrap().clone()
}

#[test]
fn the_reference_decoder_reads_every_family_as_the_text_format_shows_it() {
    let Some(python) = require_python_module("grpc_tools") else { return };
    let exporter = Exporter::with_config(CONFIG, &["--interval", "1h", "--namespace", "ns"]);
    let response = exporter.request("GET", "/metrics", &[("Accept", PROMETHEUS_NATIVE_ACCEPT)]);
    assert_eq!(response.header("Content-Type"), Some(PROTOBUF));
    let families = decode(&python, &response.body);
    let text = exporter.get("/metrics").text();
    let family = |name: &str| families.iter().find(|f| f["name"] == name).unwrap_or_else(|| panic!("{name}")).clone();
    let kinds: Vec<(&str, &str)> =
        families.iter().map(|f| (f["name"].as_str().unwrap(), f["type"].as_str().unwrap())).collect();
    for expected in [
        ("ns_latency_seconds", "HISTOGRAM"),
        ("ns_size_bytes", "SUMMARY"),
        ("ns_requests_total", "COUNTER"),
        ("ns_temperature", "GAUGE"),
        ("ns_build_info", "GAUGE"),
        ("ns_phase", "GAUGE"),
        ("metrics_generator_ticks_total", "COUNTER"),
    ] {
        assert!(kinds.contains(&expected), "{expected:?} in {kinds:?}");
    }

    // The histogram: classic buckets, sum and count as in the text format, and native buckets
    // that hold every observation: 20 uniform over [0.4, 0.6], in schema 3's buckets.
    let histogram = &family("ns_latency_seconds")["metric"][0];
    assert_eq!(histogram["label"][0], serde_json::json!({"name": "route", "value": "/a"}));
    let h = &histogram["histogram"];
    assert_eq!(h["sample_count"], "20");
    assert_eq!(h["sample_sum"], sample(&text, "ns_latency_seconds_sum{route=\"/a\"}").unwrap());
    assert_eq!(h["bucket"][0]["cumulative_count"], "5");
    assert_eq!(h["bucket"][0]["upper_bound"], 0.45);
    assert_eq!(h["bucket"][1]["cumulative_count"], "12");
    assert_eq!(h["schema"], 3);
    // Bucket i of schema 3 ends at 2^(i/8): 0.4 and 0.6 lie in buckets −10 (from 0.3969) and −5
    // (up to 0.5946) and −6, so six consecutive buckets from −11 + 1.
    assert_eq!(h["positive_span"][0]["offset"], -10, "{h}");
    let deltas: Vec<i64> =
        h["positive_delta"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().parse().unwrap()).collect();
    let counts: Vec<i64> = deltas
        .iter()
        .scan(0, |c, d| {
            *c += d;
            Some(*c)
        })
        .collect();
    assert_eq!(counts.iter().sum::<i64>(), 20, "{counts:?}");
    // Each native bucket holds the observations 0.4 + 0.01·(j − ½) between its bounds.
    let bound = |i: i64| 2f64.powf(i as f64 / 8.0);
    for (offset, &count) in counts.iter().enumerate() {
        let i = -10 + offset as i64;
        let inside = (1..=20).filter(|&j| {
            let v = 0.4 + 0.01 * (j as f64 - 0.5);
            bound(i - 1) < v && v <= bound(i)
        });
        assert_eq!(inside.count() as i64, count, "native bucket {i}");
    }
    assert!(h["created_timestamp"].is_string(), "{h}");

    let summary = &family("ns_size_bytes")["metric"][0]["summary"];
    assert_eq!(summary["sample_count"], "100");
    let median = summary["quantile"][0]["value"].as_f64().unwrap();
    assert_eq!(median, sample(&text, "ns_size_bytes{quantile=\"0.5\"}").unwrap());

    let counters = family("ns_requests_total")["metric"].as_array().unwrap().clone();
    assert_eq!(counters.len(), 2);
    assert_eq!(counters[1]["label"][0], serde_json::json!({"name": "series", "value": "1"}));
    assert_eq!(counters[1]["counter"]["value"], 7.0);
    assert!(counters[1]["counter"]["created_timestamp"].is_string());
    let gauge = &family("ns_temperature")["metric"][0];
    assert_eq!(gauge["label"][0]["value"], "say \"hi\" ✓");
    assert_eq!(gauge["gauge"]["value"], 1.0);
    assert_eq!(family("ns_build_info")["metric"][0]["gauge"]["value"], 1.0);
    let states = family("ns_phase")["metric"].as_array().unwrap().clone();
    let current: Vec<(String, f64)> = states
        .iter()
        .map(|m| (m["label"][0]["value"].as_str().unwrap().to_string(), m["gauge"]["value"].as_f64().unwrap()))
        .collect();
    assert_eq!(current, [("a".to_string(), 1.0), ("b".to_string(), 0.0)]);
}

#[test]
fn protobuf_is_served_gzipped_and_only_when_asked_for_exactly() {
    let exporter = Exporter::with_config(CONFIG, &["--interval", "1h"]);
    let plain = exporter.request("GET", "/metrics", &[("Accept", PROMETHEUS_NATIVE_ACCEPT)]);
    let zipped =
        exporter.request("GET", "/metrics", &[("Accept", PROMETHEUS_NATIVE_ACCEPT), ("Accept-Encoding", "gzip")]);
    assert_eq!((zipped.header("Content-Type"), zipped.header("Content-Encoding")), (Some(PROTOBUF), Some("gzip")));
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&zipped.body[..]).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, plain.body);
    for accept in [
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text",
        "application/vnd.google.protobuf;proto=other.Message;encoding=delimited",
        "application/vnd.google.protobuf",
    ] {
        let response = exporter.request("GET", "/metrics", &[("Accept", accept)]);
        assert_eq!(response.header("Content-Type"), Some("text/plain; version=0.0.4; charset=utf-8"), "{accept}");
    }
}

/// Native histograms whose location moves, restarting every hour of ticks so that they
/// fast-forward to the epoch's tick number, scraped by a Prometheus that stores them natively.
const SCRAPED: &str = r#"[
  {"name": "wave_seconds", "metric_type": "histogram", "custom_function": "sine",
   "params": {"amplitude": 0.2, "period": 20, "offset": 0.5}, "reset_interval": 3600,
   "distribution": {"type": "normal", "sd": 0.1}, "observations": 200, "native": {"schema": 3}},
  {"name": "tail_seconds", "metric_type": "histogram", "custom_function": "constant", "params": {"value": 0.3},
   "reset_interval": 3600, "distribution": {"type": "lognormal", "sigma": 0.8}, "observations": "100 + n % 11",
   "native": {"schema": 1, "zero_threshold": 0.01}},
  {"name": "load", "metric_type": "gauge", "custom_function": "square", "reset_interval": 10}
]"#;

#[test]
fn prometheus_stores_native_histograms_as_expected() {
    let Some(prometheus_binary) = require_tool("prometheus") else { return };
    let _heavy = crate::support::heavy();
    let dir = TempDir::new();
    let config = dir.write("config.json", SCRAPED);
    let extra = ["--enable-feature=native-histograms"];
    let (prometheus, exporter, _phase) =
        wall_clock_stack(&prometheus_binary, dir.path(), config.to_str().unwrap(), &extra);
    let stored = poll(Duration::from_secs(40), || {
        let result = prometheus.query("count_over_time(test_metrics_load[5m])");
        result.first().map(|r| number(&r["value"][1])).filter(|&n| n >= 15.0)
    });
    assert!(stored.is_some(), "fewer than 15 samples in 40 s: {:?}", prometheus.targets());

    let mut compared = 0;
    for name in ["test_metrics_wave_seconds", "test_metrics_tail_seconds"] {
        // Prometheus stored native histograms: samples of the series itself, no `_bucket` series.
        let raw = prometheus.query(&format!("{name}[1m]"));
        assert_eq!(raw.len(), 1, "{raw:?}");
        let points = raw[0]["histograms"].as_array().unwrap_or_else(|| panic!("no native samples: {raw:?}"));
        assert!(prometheus.query(&format!("{name}_bucket")).is_empty(), "classic buckets stored too");
        let times: Vec<f64> = points.iter().map(|p| p[0].as_f64().unwrap()).collect();
        for &t in &times {
            for (function, line) in [("histogram_count", "_count"), ("histogram_sum", "_sum")] {
                let promql = url_encode(&format!("{function}({name})"));
                let theirs = prometheus.api(&format!("/api/v1/query?query={promql}&time={t:.3}"));
                let ours = expected(&exporter, &format!("metric={name}{line}&time={}", seconds(&Value::from(t))));
                assert_eq!(theirs["result"][0]["value"][1], ours[0]["value"][1], "{function}({name}) at {t}");
                compared += 1;
            }
        }
        // The quantile of the rate over ten seconds, at a scrape whose window holds no restart.
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
            let promql = format!("histogram_quantile({phi}, rate({name}[10s]))");
            let theirs = prometheus.api(&format!("/api/v1/query?query={}&time={at:.3}", url_encode(&promql)));
            let theirs = number(&theirs["result"][0]["value"][1]);
            let query = format!(
                "metric={name}&histogram_quantile={phi}&increase={length}ms&time={}",
                seconds(&Value::from(last))
            );
            let ours = number(&expected(&exporter, &query)[0]["value"][1]);
            let close = (theirs - ours).abs() <= 1e-9 * ours.abs().max(1e-12);
            assert!(close, "{promql} at {at}: Prometheus says {theirs}, the exporter {ours} ({query})");
            compared += 1;
        }
    }
    assert!(compared >= 2 * (2 * 10 + 4), "{compared}");
    // The classic buckets of the same histograms stay scrapeable in the text formats.
    let om = exporter.request("GET", "/metrics", &[("Accept", "application/openmetrics-text")]).text();
    assert!(om.contains("\ntest_metrics_wave_seconds_bucket{le=\"+Inf\"} "), "{om}");
}
