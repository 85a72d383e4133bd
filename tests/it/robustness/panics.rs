//! A panic inside a function does not take `/metrics` down: the exporter runs in-process with a
//! function that panics, registered only here, and keeps serving every other series. A function
//! that stalls the ticker makes `/health` unhealthy just over two intervals, and scrapes go on.

use crate::support::{http_raw, sample, HttpResponse, TempDir};
use metrics_generator::Registry;
use metrics_generator::Running;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Starts the exporter in this process on 127.0.0.1:0, with `config`, no namespace, a tick every
/// `interval`, and the functions of `registry`. The directory holding the config comes back too,
/// so that it lives as long as the exporter.
fn start_in_process(config: &str, interval: &str, registry: Registry) -> (Running, TempDir) {
    let dir = TempDir::new();
    let path = dir.write("config.json", config);
    let raw = [
        "--config",
        path.to_str().unwrap(),
        "--namespace",
        "",
        "--listen-address",
        "127.0.0.1:0",
        "--interval",
        interval,
    ];
    let args = metrics_generator::Args::parse(raw.iter().map(Into::into).collect()).unwrap();
    (metrics_generator::start(&args, registry).expect("start in-process"), dir)
}

/// `GET path` from an in-process exporter.
fn get(running: &Running, path: &str) -> HttpResponse {
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    http_raw(running.addr, request.as_bytes(), false).unwrap()
}

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
    let (running, _dir) = start_in_process(
        r#"[{"name": "boom", "metric_type": "gauge", "custom_function": "explodes"},
            {"name": "sq", "metric_type": "gauge", "custom_function": "square"}]"#,
        "20ms",
        registry(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last_square = 0.0;
    // 30 ticks take 10 panics; every scrape in between must answer with every series.
    while last_square < 900.0 {
        assert!(Instant::now() < deadline, "the ticker stopped at square {last_square}");
        let response = get(&running, "/metrics");
        assert_eq!(response.status, 200);
        let body = response.text();
        let boom = sample(&body, "boom").expect("boom is served");
        assert!(boom == 1.0 || boom == 2.0, "boom = {boom}");
        last_square = sample(&body, "sq").expect("sq is served");
        std::thread::sleep(Duration::from_millis(5));
    }
    let health = get(&running, "/health");
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
    let (running, _dir) = start_in_process(
        r#"[{"name": "slow", "metric_type": "gauge", "custom_function": "sleepy"}]"#,
        "50ms",
        registry,
    );
    let get = |path: &str| get(&running, path);
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
    // The liveness probe says so too, so Kubernetes restarts a stuck exporter; readiness stays,
    // since the last values are still served.
    assert_eq!(get("/-/healthy").status, 503);
    assert_eq!(get("/-/ready").status, 200);
    // The ticker is stuck inside a function, yet /metrics answers at once with the last values.
    let started = Instant::now();
    let metrics = get("/metrics");
    assert_eq!(metrics.status, 200);
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(sample(&metrics.text(), "slow"), Some(2.0));
}

#[test]
fn health_turns_unhealthy_just_over_two_intervals_without_a_tick() {
    // Tick 3 waits until the test lets it go (10 s at most, should the test fail first): the
    // ticker stalls for as long as the test needs, whatever the machine's load.
    static RELEASED: AtomicBool = AtomicBool::new(false);
    let mut registry = Registry::builtin();
    registry.register_fn("gated", "i, but tick 3 waits for the test", |i| {
        let until = Instant::now() + Duration::from_secs(10);
        while i == 3 && !RELEASED.load(Ordering::SeqCst) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        i as f64
    });
    let interval = 0.4;
    let (running, _dir) = start_in_process(
        r#"[{"name": "gated", "metric_type": "gauge", "custom_function": "gated"}]"#,
        "400ms",
        registry,
    );
    // Every answer applies the documented rule to the time it reports: healthy while the last
    // tick is at most two intervals old, unhealthy after. The first unhealthy answer must come
    // just over two intervals, before three, so a threshold of three or four intervals fails
    // here whichever answers the polling happens to see.
    let deadline = Instant::now() + Duration::from_secs(10);
    let first_unhealthy = loop {
        assert!(Instant::now() < deadline, "/health never answered 503");
        let response = get(&running, "/health");
        let health = response.json();
        let since = health["last_tick_seconds_ago"].as_f64().unwrap();
        let healthy = since <= 2.0 * interval;
        assert_eq!(response.status, if healthy { 200 } else { 503 }, "{health}");
        assert_eq!(health["status"], if healthy { "healthy" } else { "unhealthy" }, "{health}");
        if !healthy {
            break since;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    RELEASED.store(true, Ordering::SeqCst);
    assert!(
        first_unhealthy < 3.0 * interval,
        "the first unhealthy answer came {first_unhealthy} s after the last tick, more than three intervals: \
         healthy answers until then would not show the threshold"
    );
    // Released, the ticker catches up and /health is healthy again.
    let recovered = crate::support::poll(Duration::from_secs(10), || {
        let health = get(&running, "/health");
        (health.status == 200 && health.json()["ticks"].as_u64()? >= 4).then_some(())
    });
    assert!(recovered.is_some(), "{}", get(&running, "/health").text());
}
