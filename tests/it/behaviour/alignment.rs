//! `--align wall-clock`: tick numbers count from the Unix epoch, so two exporters started at
//! different moments serve the same values at the same tick, fast-forwarded at start-up and on a
//! reload; what cannot be fast-forwarded is refused with a clear message. Also how a reload with
//! the default alignment shows in `/api/v1/expected` (a new series has no values before it).

use crate::support::prometheus::unix_now;
use crate::support::{poll, run, sample, Exporter, TempDir};
use serde_json::Value;
use std::time::Duration;

/// Every kind of function, fanned-out labels, counters with `_created`, and series that reset:
/// each must fast-forward to the epoch's tick number (about 1.8 billion with a 1 s interval).
const CONFIG: &str = r#"[
  {"name": "square", "metric_type": "gauge", "custom_function": "square", "labels": {"k": ["a", "b"]}},
  {"name": "power", "metric_type": "gauge", "custom_function": "power"},
  {"name": "jobs", "metric_type": "counter", "custom_function": "fibonacci", "reset_interval": 10},
  {"name": "noise", "metric_type": "gauge", "custom_function": "normal", "series": 3},
  {"name": "uniform", "metric_type": "gauge", "custom_function": "uniform", "reset_interval": 1000},
  {"name": "walk", "metric_type": "gauge", "custom_function": "random_walk", "reset_interval": 5000},
  {"name": "wave", "metric_type": "gauge", "custom_function": "sine", "params": {"period": 7}},
  {"name": "saw", "metric_type": "gauge", "custom_function": "sawtooth"},
  {"name": "phase", "metric_type": "gauge", "custom_function": "step", "params": {"values": [1, 2, 3], "hold": [2, 3, 4]}},
  {"name": "seq", "metric_type": "gauge", "custom_function": "sequence", "params": {"values": [3, 1, 2]}},
  {"name": "spike", "metric_type": "gauge", "custom_function": "spike"},
  {"name": "line", "metric_type": "counter", "custom_function": "linear", "params": {"step": 0.5}},
  {"name": "halves", "metric_type": "gauge", "custom_function": "exponential", "params": {"base": 0.5}, "reset_interval": 30},
  {"name": "requests", "metric_type": "counter", "custom_function": "expr", "params": {"expr": "100*n + 20*sin(2*pi*n/60)"}},
  {"name": "mixed", "metric_type": "gauge", "custom_function": "expr", "params": {"expr": "i*i + n % 7"}, "reset_interval": 5}
]"#;

/// The configured series' lines of a body (its HELP, TYPE, samples and, in OpenMetrics,
/// `_created`), without the exporter's own metrics, which describe the process.
fn configured(body: &str) -> Vec<&str> {
    body.lines().filter(|l| !l.contains("metrics_generator_") && !l.starts_with("# EOF")).collect()
}

/// A `/metrics` body together with the tick it belongs to: `/health` is read before and after,
/// and the pair is kept only when both name the same tick.
fn at_a_tick(exporter: &Exporter, accept: &str) -> (u64, String) {
    let (tick, _, body) = timed(exporter, accept);
    (tick, body)
}

/// [`at_a_tick`], with the Unix time of the tick (on its grid) as `/health` tells it.
fn timed(exporter: &Exporter, accept: &str) -> (u64, f64, String) {
    poll(Duration::from_secs(10), || {
        let before = exporter.get("/health").json();
        let body = exporter.request("GET", "/metrics", &[("Accept", accept)]).text();
        let after = exporter.get("/health").json()["ticks"].as_u64()?;
        let tick = before["ticks"].as_u64()?;
        (tick == after).then_some((tick, before["tick_time_seconds"].as_f64()?, body))
    })
    .expect("a /metrics body within one tick")
}

const TEXT: &str = "text/plain";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0";

#[test]
fn two_exporters_started_apart_serve_the_same_values_at_the_same_tick() {
    let dir = TempDir::new();
    let path = dir.write("config.json", CONFIG);
    let args = ["--config", path.to_str().unwrap(), "--align", "wall-clock", "--interval", "1s"];
    let first = Exporter::start(&args);
    let started = first.get("/health").json()["ticks"].as_u64().unwrap();
    // The second starts at least one tick later, so it fast-forwards further than the first did.
    poll(Duration::from_secs(5), || (first.get("/health").json()["ticks"].as_u64()? > started).then_some(()))
        .expect("the first exporter ticks");
    let second = Exporter::start(&args);

    for accept in [TEXT, OPENMETRICS] {
        let (tick, a, b) = poll(Duration::from_secs(10), || {
            let (ta, a) = at_a_tick(&first, accept);
            let (tb, b) = at_a_tick(&second, accept);
            (ta == tb).then_some((ta, a, b))
        })
        .expect("both exporters at one tick");
        assert_eq!(configured(&a), configured(&b), "tick {tick}, {accept}");
        assert!(configured(&a).len() > 30, "{a}");
    }

    // The tick is the epoch's: tick n is in effect from (n − 1) s after 1970-01-01T00:00:00Z.
    let before = unix_now();
    let health = second.get("/health").json();
    let after = unix_now();
    let tick = health["ticks"].as_u64().unwrap();
    let (first, last) = (before as u64 + 1, after as u64 + 1);
    assert!((first..=last).contains(&tick), "tick {tick} at {before}..{after}");
    assert_eq!(health["align"], "wall-clock");
    // The exporter's own tick counter counts what this process ran, from 1 at start-up.
    let ran = second.sample("metrics_generator_ticks_total").unwrap();
    assert!((1.0..10.0).contains(&ran), "{ran}");

    // An expression of n shows the epoch's n, and /api/v1/expected agrees with every series.
    let (tick, body) = at_a_tick(&second, TEXT);
    let n = tick as f64;
    let requests = 100.0 * n + 20.0 * (2.0 * std::f64::consts::PI * n / 60.0).sin();
    assert_eq!(sample(&body, "test_metrics_requests_total"), Some(requests));
    let time = tick - 1;
    for name in ["square", "power", "jobs_total", "noise", "walk", "wave", "halves", "mixed", "requests_total"] {
        let query = format!("/api/v1/expected?metric=test_metrics_{name}&time={time}");
        let answer = second.get(&query).json();
        let result = answer["data"]["result"].as_array().unwrap_or_else(|| panic!("{query}: {answer}"));
        assert!(!result.is_empty(), "{query}: {answer}");
        for series in result {
            let labels: Vec<String> = series["metric"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| *k != "__name__")
                .map(|(k, v)| format!("{k}=\"{}\"", v.as_str().unwrap()))
                .collect();
            let selector = if labels.is_empty() {
                format!("test_metrics_{name}")
            } else {
                format!("test_metrics_{name}{{{}}}", labels.join(","))
            };
            let expected: f64 = series["value"][1].as_str().unwrap().parse().unwrap();
            assert_eq!(sample(&body, &selector), Some(expected), "{selector} at tick {tick}");
        }
    }
}

#[test]
fn a_series_that_cannot_be_fast_forwarded_is_refused() {
    let dir = TempDir::new();
    let path = dir.write(
        "config.json",
        r#"[{"name": "ok", "metric_type": "gauge", "custom_function": "square"},
            {"name": "wander", "metric_type": "gauge", "custom_function": "random_walk"}]"#,
    );
    let out = run(&["--config", path.to_str().unwrap(), "--align", "wall-clock", "--interval", "1s"]);
    crate::support::assert_fails(
        &out,
        2,
        "entry 1 (\"wander\"): --align wall-clock: random_walk cannot be fast-forwarded to tick",
    );
    // The same walk with a reset_interval repeats, and a fast-forward jumps its periods.
    let path = dir.write(
        "config.json",
        r#"[{"name": "wander", "metric_type": "gauge", "custom_function": "random_walk", "reset_interval": 100000}]"#,
    );
    let exporter = Exporter::start(&["--config", path.to_str().unwrap(), "--align", "wall-clock", "--interval", "1s"]);
    // It serves the walk's value at its position in the cycle of the epoch's tick, as the
    // documented walk (seed 42, from 50 by steps of at most 1 in [0, 100]) gives it.
    let (tick, body) = at_a_tick(&exporter, TEXT);
    let position = (tick - 1) % 100_000 + 1;
    let walk = crate::support::reference::random_walk(42, 0, 50.0, 1.0, 0.0, 100.0, position as usize);
    assert_eq!(sample(&body, "test_metrics_wander"), walk.last().copied(), "tick {tick}, position {position}");
}

#[test]
fn reload_with_wall_clock_fast_forwards_new_series() {
    let dir = TempDir::new();
    let path = dir.write("config.json", r#"[{"name": "a", "metric_type": "gauge", "custom_function": "square"}]"#);
    let args = [
        "--config",
        path.to_str().unwrap(),
        "--align",
        "wall-clock",
        "--interval",
        "1s",
        "--namespace",
        "",
        "--web.enable-lifecycle",
    ];
    let exporter = Exporter::start(&args);
    std::fs::write(
        &path,
        r#"[{"name": "a", "metric_type": "gauge", "custom_function": "square"},
            {"name": "b", "metric_type": "gauge", "custom_function": "square", "reset_interval": 1000}]"#,
    )
    .unwrap();
    let reply = exporter.request("POST", "/-/reload", &[]);
    assert_eq!(reply.status, 200, "{}", reply.text());
    // The new series is where it would be had it always been served: position ((n − 1) mod 1000) + 1.
    let (tick, body) = at_a_tick(&exporter, TEXT);
    let position = ((tick - 1) % 1000 + 1) as f64;
    assert_eq!(sample(&body, "b"), Some(position * position), "tick {tick}\n{body}");

    // A series that cannot be fast-forwarded fails the reload, and the running config stays.
    std::fs::write(&path, r#"[{"name": "c", "metric_type": "gauge", "custom_function": "random_walk"}]"#).unwrap();
    let reply = exporter.request("POST", "/-/reload", &[]);
    assert_eq!(reply.status, 500);
    assert!(reply.text().contains("random_walk cannot be fast-forwarded"), "{}", reply.text());
    let body = exporter.get("/metrics").text();
    assert!(sample(&body, "b").is_some() && sample(&body, "c").is_none(), "{body}");
}

/// With the default alignment, a series a reload adds starts at its first value then; the
/// expected values follow it, and before the reload it has none.
#[test]
fn expected_values_follow_a_reload_with_start_alignment() {
    let dir = TempDir::new();
    let path = dir.write("config.json", r#"[{"name": "a", "metric_type": "gauge", "custom_function": "square"}]"#);
    let exporter = Exporter::start(&[
        "--config",
        path.to_str().unwrap(),
        "--interval",
        "500ms",
        "--namespace",
        "",
        "--web.enable-lifecycle",
    ]);
    poll(Duration::from_secs(5), || (exporter.get("/health").json()["ticks"].as_u64()? >= 3).then_some(()))
        .expect("three ticks");
    std::fs::write(
        &path,
        r#"[{"name": "a", "metric_type": "gauge", "custom_function": "square"},
            {"name": "b", "metric_type": "gauge", "custom_function": "square"}]"#,
    )
    .unwrap();
    let reloaded_at = unix_now();
    assert_eq!(exporter.request("POST", "/-/reload", &[]).status, 200);
    let expected = |name: &str, time: f64| -> Value {
        let answer = exporter.get(&format!("/api/v1/expected?metric={name}&time={time:.3}")).json();
        assert_eq!(answer["status"], "success", "{answer}");
        answer["data"]["result"].clone()
    };
    assert_eq!(expected("b", reloaded_at - 1.5), Value::Array(vec![]), "no value before the reload");
    // At the time of the tick being served, /metrics and /api/v1/expected agree on both series.
    let (tick, time, body) = timed(&exporter, TEXT);
    let value = |result: Value| -> f64 { result[0]["value"][1].as_str().unwrap().parse().unwrap() };
    let served = (sample(&body, "a").unwrap(), sample(&body, "b").unwrap());
    assert_eq!((value(expected("a", time)), value(expected("b", time))), served, "tick {tick}");
    assert_eq!(served.0, (tick * tick) as f64);
    assert!(served.0 > served.1, "b started later than a: {served:?}");
}
