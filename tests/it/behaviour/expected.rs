//! `/api/v1/expected` against values computed here from the formula and the documented rules
//! (`docs/ground-truth.md`, "Expected values" and "Increase"), not from the exporter: the true
//! increase over sliding windows that overlap and cross counter resets, with range and instant
//! queries agreeing point by point.

use crate::support::Exporter;
use serde_json::Value;

/// A counter `square` with `reset_interval` 5: 1, 4, 9, 16, 25, 1, 4, …
const CONFIG: &str =
    r#"[{"name": "jobs", "metric_type": "counter", "custom_function": "square", "reset_interval": 5}]"#;

/// The counter's value at tick `k` ≥ 1.
fn value(k: i64) -> f64 {
    let position = (k - 1) % 5 + 1;
    (position * position) as f64
}

/// The true increase over `(t − w, t]` with a 1 s grid from the epoch (tick k at k − 1 seconds):
/// the sum over the ticks in that span of each value's rise from the tick before, a drop counting
/// as a restart from zero (the new value itself).
fn true_increase(t: f64, w: f64) -> f64 {
    // The ticks k with t − w < k − 1 ≤ t.
    let first = ((t - w).floor() as i64 + 2).max(1);
    let last = t.floor() as i64 + 1;
    (first..=last)
        .map(|k| {
            let before = if k == 1 { 0.0 } else { value(k - 1) };
            if value(k) >= before {
                value(k) - before
            } else {
                value(k)
            }
        })
        .sum()
}

fn query(exporter: &Exporter, query: &str) -> Value {
    let answer = exporter.get(&format!("/api/v1/expected?{query}"));
    assert_eq!(answer.status, 200, "{query}: {}", answer.text());
    answer.json()["data"]["result"].clone()
}

/// The points of a one-series answer, as (time, value).
fn points(result: &Value, field: &str) -> Vec<(f64, f64)> {
    let result = result.as_array().unwrap();
    assert_eq!(result.len(), 1, "{result:?}");
    let point = |p: &Value| (p[0].as_f64().unwrap(), p[1].as_str().unwrap().parse::<f64>().unwrap());
    match field {
        "values" => result[0]["values"].as_array().unwrap().iter().map(point).collect(),
        _ => vec![point(&result[0]["value"])],
    }
}

#[test]
fn increases_over_sliding_windows_are_the_true_increases() {
    let exporter = Exporter::with_config(CONFIG, &["--namespace", "", "--align", "wall-clock", "--interval", "1s"]);
    // Windows that start exactly at a tick (which they exclude), between ticks, and cover one,
    // two or three resets; steps shorter than the window, so that consecutive windows overlap.
    let cases: &[(f64, f64, f64, f64)] = &[
        (1_000_000.0, 1_000_040.0, 3.0, 7.0),
        (1_000_000.0, 1_000_030.0, 1.0, 5.0),
        (1_000_000.5, 1_000_030.5, 2.0, 12.0),
        (1_000_003.0, 1_000_040.0, 2.5, 6.5),
        // From before the first tick: the first value counts in full.
        (-4.0, 20.0, 2.0, 6.0),
    ];
    for &(start, end, step, window) in cases {
        let range = format!("metric=jobs_total&start={start}&end={end}&step={step}&increase={window}");
        let answer = points(&query(&exporter, &range), "values");
        let times: Vec<f64> = (0..).map(|n| start + step * n as f64).take_while(|&t| t <= end).collect();
        let expected: Vec<(f64, f64)> =
            times.iter().filter(|&&t| t >= 0.0).map(|&t| (t, true_increase(t, window))).collect();
        assert_eq!(answer, expected, "{range}");
        // Each point is what an instant query at its time answers.
        for (t, increase) in expected {
            let instant = format!("metric=jobs_total&time={t}&increase={window}");
            assert_eq!(points(&query(&exporter, &instant), "value"), [(t, increase)], "{instant}");
        }
    }
}
