//! Render benchmark: the cost of turning one tick's values into a body, for 10 to 1,000,000
//! series, in each format (text 0.0.4, OpenMetrics, protobuf), plain and gzip. Run with
//! `cargo bench --bench render`.
//!
//! Each case renders repeatedly for at least a second (after one warm-up render) and reports the
//! best and median time per render, nanoseconds per series, MB/s of uncompressed body, and the
//! body's size per series (compressed, for gzip). Rendering is what a
//! scrape costs once per tick; every later scrape of the same tick reuses the bytes.

use metrics_generator::config::{parse, Options};
use metrics_generator::engine::State;
use metrics_generator::exposition::Format;
use metrics_generator::Registry;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// A config of `series` series: one fanned-out gauge and one fanned-out counter with a fixed
/// label, the shape a load test uses.
fn config(series: u64) -> String {
    let half = (series / 2).max(1);
    format!(
        r#"[{{"name": "load_gauge", "metric_type": "gauge", "custom_function": "normal", "series": {half},
              "labels": {{"job": "bench", "region": "eu-west-1"}}}},
            {{"name": "load_requests", "metric_type": "counter", "custom_function": "fibonacci", "series": {},
              "labels": {{"job": "bench", "region": "eu-west-1"}}}}]"#,
        series - half
    )
}

fn main() {
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    println!(
        "{:>9} {:>12} {:>5} {:>12} {:>12} {:>10} {:>10} {:>13}",
        "series", "format", "gzip", "best", "median", "ns/series", "MB/s", "bytes/series"
    );
    for series in [10u64, 1_000, 100_000, 1_000_000] {
        if !filter.is_empty() && !filter.iter().any(|f| f == &series.to_string()) {
            continue;
        }
        let options = Options { namespace: "test_metrics".into(), max_series: 1_000_000, shard: None };
        let config = parse(&config(series), "bench", &options, &Registry::builtin()).expect("bench config");
        let state = State::new(config, Duration::from_secs(60));
        state.tick();
        for (format, name) in
            [(Format::Text, "text-0.0.4"), (Format::OpenMetrics, "openmetrics"), (Format::Protobuf, "protobuf")]
        {
            for gzip in [false, true] {
                // A fresh snapshot per render: the cost measured is the render, not the cache.
                let mut times = Vec::new();
                let mut bytes = 0;
                let budget = Instant::now();
                while times.len() < 3 || (budget.elapsed() < Duration::from_secs(1) && times.len() < 1000) {
                    state.tick();
                    let snapshot = state.snapshot();
                    let start = Instant::now();
                    bytes = black_box(snapshot.body(format, gzip)).len();
                    times.push(start.elapsed());
                }
                times.sort();
                let (best, median) = (times[0], times[times.len() / 2]);
                let plain = if gzip { state.snapshot().body(format, false).len() } else { bytes };
                println!(
                    "{series:>9} {name:>12} {:>5} {:>10.3}ms {:>10.3}ms {:>10.1} {:>10.0} {:>13.1}",
                    if gzip { "yes" } else { "no" },
                    best.as_secs_f64() * 1e3,
                    median.as_secs_f64() * 1e3,
                    median.as_nanos() as f64 / series as f64,
                    plain as f64 / median.as_secs_f64() / 1e6,
                    bytes as f64 / series as f64,
                );
            }
        }
    }
}
