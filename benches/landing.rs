//! Landing page benchmark: the size of the page and the time to draw it for a config of 100
//! entries of every type (the page draws the first 50 of them, each a chart of 120 ticks). Run
//! with `cargo bench --bench landing`; `-- quick` draws fewer times.
//!
//! Drawing is what the first look at the page costs once per tick; every later look at the same
//! tick reuses the bytes (`Snapshot::page`).

use metrics_generator::config::{parse, Options};
use metrics_generator::engine::State;
use metrics_generator::http::landing_page;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// 100 entries, taking turns through a gauge, a counter fan-out with an `active` window, a
/// histogram, a summary, a stateset, a churning random walk and an info metric.
fn config(entries: usize) -> String {
    let kinds = [
        r#""metric_type": "gauge", "custom_function": "sine", "params": {"period": 30}"#,
        r#""metric_type": "counter", "custom_function": "linear", "series": 3, "active": {"every": 20, "for": 12}"#,
        r#""metric_type": "histogram", "custom_function": "sine", "params": {"amplitude": 0.1, "offset": 0.3},
           "distribution": {"type": "lognormal", "sigma": 0.5}"#,
        r#""metric_type": "summary", "custom_function": "constant", "params": {"value": 2048},
           "distribution": {"type": "normal", "sd": 300}"#,
        r#""metric_type": "stateset", "custom_function": "step", "params": {"values": [0, 1, 2]},
           "states": ["starting", "ready", "draining"]"#,
        r#""metric_type": "gauge", "custom_function": "random_walk", "churn": {"every": 25}"#,
        r#""metric_type": "info", "labels": {"version": "1.2.3"}"#,
    ];
    let entries: Vec<String> =
        (0..entries).map(|k| format!(r#"{{"name": "m{k}", {}}}"#, kinds[k % kinds.len()])).collect();
    format!("[{}]", entries.join(",\n"))
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let options = Options { namespace: "test_metrics".into(), ..Options::default() };
    let config = parse(&config(100), "bench", &options, &metrics_generator::Registry::builtin()).expect("bench config");
    let state = State::new(config, Duration::from_secs(60));
    // At tick 100, each chart's window holds 120 ticks with values.
    for _ in 0..100 {
        state.tick();
    }
    let mut times = Vec::new();
    let mut bytes = 0;
    let budget = Instant::now();
    while times.len() < 3 || (!quick && budget.elapsed() < Duration::from_secs(2) && times.len() < 200) {
        // A fresh snapshot per drawing: the cost measured is the drawing, not the cache.
        state.tick();
        let snapshot = state.snapshot();
        let start = Instant::now();
        bytes = black_box(landing_page(&snapshot)).len();
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "landing page, 100 entries (50 drawn): {bytes} bytes, best {:?}, median {:?} ({} drawings)",
        times[0],
        times[times.len() / 2],
        times.len()
    );
}
