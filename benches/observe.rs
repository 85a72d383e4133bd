//! Tick benchmark for histograms and summaries: the cost of one tick of 10,000 histogram series
//! with 1,000 observations each and the 11 default buckets, whose locations differ (a seeded
//! function), for each distribution; and a summary of the same size. Observations are never
//! materialised: each bucket costs one evaluation of the distribution's CDF per series.
//! Run with `cargo bench --bench observe`.
//!
//! Each case ticks repeatedly for at least a second and reports the best and median tick and the
//! nanoseconds per series.

use metrics_generator::config::{parse, Options};
use metrics_generator::engine::State;
use metrics_generator::Registry;
use std::hint::black_box;
use std::time::{Duration, Instant};

const SERIES: u64 = 10_000;

fn main() {
    let quick = std::env::args().skip(1).any(|a| a == "quick");
    println!("{:>34} {:>12} {:>12} {:>10}", "case", "best", "median", "ns/series");
    let cases = [
        ("histogram exponential", "histogram", r#"{"type": "exponential"}"#),
        ("histogram normal", "histogram", r#"{"type": "normal", "sd": 0.05}"#),
        ("histogram uniform", "histogram", r#"{"type": "uniform", "width": 0.2}"#),
        ("histogram lognormal", "histogram", r#"{"type": "lognormal", "sigma": 0.5}"#),
        ("summary normal", "summary", r#"{"type": "normal", "sd": 0.05}"#),
    ];
    for (name, kind, distribution) in cases {
        let config = format!(
            r#"[{{"name": "latency_seconds", "metric_type": "{kind}", "custom_function": "uniform",
                  "params": {{"min": 0.05, "max": 2}}, "series": {SERIES}, "observations": 1000,
                  "distribution": {distribution}}}]"#
        );
        let options = Options { namespace: "test_metrics".into(), max_series: 1_000_000, shard: None };
        let config = parse(&config, "bench", &options, &Registry::builtin()).expect("bench config");
        let state = State::new(config, Duration::from_secs(60));
        state.tick();
        let mut times = Vec::new();
        let budget = Instant::now();
        let limit = if quick { Duration::from_millis(100) } else { Duration::from_secs(1) };
        while times.len() < 3 || (budget.elapsed() < limit && times.len() < 1000) {
            let start = Instant::now();
            black_box(state.tick());
            times.push(start.elapsed());
        }
        times.sort();
        let (best, median) = (times[0], times[times.len() / 2]);
        println!(
            "{name:>34} {:>10.3}ms {:>10.3}ms {:>10.1}",
            best.as_secs_f64() * 1e3,
            median.as_secs_f64() * 1e3,
            median.as_nanos() as f64 / SERIES as f64
        );
    }
}
