//! Fast-forward benchmark: how long `Sequence::skip_to` takes to bring a fresh series to today's
//! tick number on the Unix epoch's grid (what `--align wall-clock` does at start-up, and
//! `/api/v1/expected` for each series), for each kind of function, and how long a series that
//! cannot be fast-forwarded takes to be refused. Run with `cargo bench --bench fast_forward`.
//!
//! Each case runs at least three times and for at least half a second; the best time is shown,
//! with the budget units the fast-forward used.

use metrics_generator::config::{parse, Options};
use metrics_generator::engine::{Budget, Sequence, FAST_FORWARD_BUDGET};
use metrics_generator::Registry;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CASES: &[(&str, &str)] = &[
    ("square", r#""custom_function": "square""#),
    ("power", r#""custom_function": "power""#),
    ("fibonacci reset 10", r#""custom_function": "fibonacci", "reset_interval": 10"#),
    ("normal", r#""custom_function": "normal""#),
    ("uniform reset 1000", r#""custom_function": "uniform", "reset_interval": 1000"#),
    ("sine", r#""custom_function": "sine""#),
    ("step", r#""custom_function": "step", "params": {"values": [1, 2, 3]}"#),
    ("random_walk reset 1000", r#""custom_function": "random_walk", "reset_interval": 1000"#),
    ("random_walk reset 1000000", r#""custom_function": "random_walk", "reset_interval": 1000000"#),
    ("random_walk reset 4000000", r#""custom_function": "random_walk", "reset_interval": 4000000"#),
    ("expr of n", r#""custom_function": "expr", "params": {"expr": "100*n + 20*sin(2*pi*n/60)"}"#),
    (
        "expr of i and n, reset 7",
        r#""custom_function": "expr", "params": {"expr": "i*i + n % 7"}, "reset_interval": 7"#,
    ),
    ("expr 1/(n-5)", r#""custom_function": "expr", "params": {"expr": "1/(n - 5)"}"#),
    ("random_walk (refused)", r#""custom_function": "random_walk""#),
    ("expr n + 1/(n % 11) (refused)", r#""custom_function": "expr", "params": {"expr": "n + 1/(n % 11)"}"#),
];

fn main() {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    println!("{:>32} {:>9} {:>14} {:>12} {:>10}", "function", "interval", "tick", "best", "units");
    for interval_ms in [60_000, 1_000, 250] {
        let tick = now_ms / interval_ms + 1;
        for (name, fields) in CASES {
            let text = format!(r#"[{{"name": "x", "metric_type": "gauge", {fields}}}]"#);
            let config = parse(&text, "bench", &Options::default(), &Registry::builtin()).expect("bench config");
            let entry = &config.entries[0];
            let (mut best, mut runs, mut units, mut ok) = (Duration::MAX, 0, 0, true);
            let started = Instant::now();
            while runs < 3 || started.elapsed() < Duration::from_millis(500) {
                let mut sequence = Sequence::of(entry, 0);
                let mut budget = Budget::new(FAST_FORWARD_BUDGET);
                let clock = Instant::now();
                ok = sequence.skip_to(tick, &mut budget).is_ok();
                best = best.min(clock.elapsed());
                units = FAST_FORWARD_BUDGET - budget.left();
                runs += 1;
            }
            let shown = if ok {
                format!("{:.3} ms", best.as_secs_f64() * 1e3)
            } else {
                format!("refused in {:.0} ms", best.as_secs_f64() * 1e3)
            };
            println!("{name:>32} {:>8}ms {tick:>14} {shown:>12} {units:>10}", interval_ms);
        }
    }
}
