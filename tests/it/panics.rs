//! A panic inside a function does not take `/metrics` down: the exporter runs in-process with a
//! function that panics, registered only here, and keeps serving every other series.

use crate::harness::{http_raw, sample, TempDir};
use metrics_generator::functions::Registry;
use std::time::{Duration, Instant};

fn registry() -> Registry {
    let mut registry = Registry::builtin();
    registry.register_fn("explodes", "i, but panics on every third value", |i| {
        assert!(i % 3 != 0, "deliberate panic from a test function");
        i as f64
    });
    registry.register_fn("explodes_at_once", "panics on its first value", |_| panic!("deliberate panic at load"));
    registry
}

#[test]
fn a_panicking_function_restarts_its_series_and_scrapes_go_on() {
    let dir = TempDir::new();
    let config = dir.write(
        "config.json",
        r#"[{"name": "boom", "metric_type": "gauge", "custom_function": "explodes"},
            {"name": "sq", "metric_type": "gauge", "custom_function": "square"}]"#,
    );
    let raw = [
        "--config",
        config.to_str().unwrap(),
        "--namespace",
        "",
        "--listen-address",
        "127.0.0.1:0",
        "--interval",
        "20ms",
    ];
    let args = metrics_generator::cli::parse(raw.iter().map(Into::into).collect()).unwrap();
    let running = metrics_generator::start(&args, registry()).expect("start in-process");
    let addr = running.addr;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last_square = 0.0;
    // 30 ticks take 10 panics; every scrape in between must answer with every series.
    while last_square < 900.0 {
        assert!(Instant::now() < deadline, "the ticker stopped at square {last_square}");
        let response = http_raw(addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false).unwrap();
        assert_eq!(response.status, 200);
        let body = response.text();
        let boom = sample(&body, "boom").expect("boom is served");
        assert!(boom == 1.0 || boom == 2.0, "boom = {boom}");
        last_square = sample(&body, "sq").expect("sq is served");
        std::thread::sleep(Duration::from_millis(5));
    }
    let health = http_raw(addr, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false).unwrap();
    assert_eq!(health.status, 200, "{}", health.text());
}

#[test]
fn a_function_that_panics_at_load_is_a_config_error() {
    let text = r#"[{"name": "boom", "metric_type": "gauge", "custom_function": "explodes_at_once"}]"#;
    let options = metrics_generator::config::Options::default();
    let err = metrics_generator::config::parse(text, "t.json", &options, &registry()).err().expect("rejected");
    assert_eq!(
        err.to_string(),
        "config t.json: entry 0 (\"boom\"): field \"custom_function\": explodes_at_once panicked computing its first value"
    );
}

#[test]
fn a_stalled_ticker_makes_health_answer_503_while_scrapes_go_on() {
    let mut registry = Registry::builtin();
    // Tick 3 takes a second, twenty intervals: the ticker misses far more than two of them.
    registry.register_fn("sleepy", "i, but slow at i = 3", |i| {
        if i == 3 {
            std::thread::sleep(Duration::from_secs(1));
        }
        i as f64
    });
    let dir = TempDir::new();
    let config = dir.write("config.json", r#"[{"name": "slow", "metric_type": "gauge", "custom_function": "sleepy"}]"#);
    let raw = [
        "--config",
        config.to_str().unwrap(),
        "--namespace",
        "",
        "--listen-address",
        "127.0.0.1:0",
        "--interval",
        "50ms",
    ];
    let args = metrics_generator::cli::parse(raw.iter().map(Into::into).collect()).unwrap();
    let running = metrics_generator::start(&args, registry).expect("start in-process");
    let get = |path: &str| {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        http_raw(running.addr, request.as_bytes(), false).unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let unhealthy = loop {
        assert!(Instant::now() < deadline, "/health never answered 503");
        let health = get("/health");
        if health.status == 503 {
            break health;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(unhealthy.json()["status"], "unhealthy");
    // The ticker is stuck inside a function, yet /metrics answers at once with the last values.
    let started = Instant::now();
    let metrics = get("/metrics");
    assert_eq!(metrics.status, 200);
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(sample(&metrics.text(), "slow"), Some(2.0));
}
