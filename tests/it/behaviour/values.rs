//! Values over ticks: every series advances together, one value per tick, on a grid.

use crate::support::{poll, sample, Exporter};
use std::time::Duration;

const SEQUENCES: &str = r#"[
  {"name": "sq", "metric_type": "gauge", "custom_function": "square"},
  {"name": "pw", "metric_type": "gauge", "custom_function": "power"},
  {"name": "fib", "metric_type": "gauge", "custom_function": "fibonacci"},
  {"name": "sq3", "metric_type": "gauge", "custom_function": "square", "reset_interval": 3}
]"#;

fn fibonacci(k: u64) -> f64 {
    let (mut a, mut b) = (1.0, 1.0);
    for _ in 1..k {
        (a, b) = (b, a + b);
    }
    a
}

/// One scrape: (tick derived from the square, power, fibonacci, square with reset 3).
fn scrape(exporter: &Exporter) -> (u64, f64, f64, f64) {
    let body = exporter.get("/metrics").text();
    let get = |name: &str| sample(&body, name).unwrap_or_else(|| panic!("no {name} in:\n{body}"));
    let square = get("sq");
    let k = square.sqrt() as u64;
    assert_eq!((k * k) as f64, square, "square is not a square:\n{body}");
    (k, get("pw"), get("fib"), get("sq3"))
}

#[test]
fn sequences_advance_one_value_per_tick_together() {
    let exporter = Exporter::with_config(SEQUENCES, &["--namespace", "", "--interval", "400ms"]);
    let mut seen = Vec::new();
    let done = poll(Duration::from_secs(20), || {
        let (k, pw, fib, sq3) = scrape(&exporter);
        // Whatever the timing, one scrape shows all series at the same tick k.
        assert_eq!(pw, (k as f64).powf(k as f64), "power at tick {k}");
        assert_eq!(fib, fibonacci(k), "fibonacci at tick {k}");
        let i = (k - 1) % 3 + 1;
        assert_eq!(sq3, (i * i) as f64, "square with reset_interval 3 at tick {k}");
        if seen.last() != Some(&(k, pw, fib, sq3)) {
            seen.push((k, pw, fib, sq3));
        }
        (seen.len() >= 6).then_some(())
    });
    assert!(done.is_some(), "saw only {seen:?}");
    assert_eq!(
        seen,
        [
            (1, 1.0, 1.0, 1.0),
            (2, 4.0, 1.0, 4.0),
            (3, 27.0, 2.0, 9.0),
            (4, 256.0, 3.0, 1.0),
            (5, 3125.0, 5.0, 4.0),
            (6, 46656.0, 8.0, 9.0)
        ]
    );
}

#[test]
fn power_keeps_serving_finite_values_past_its_143rd() {
    let exporter = Exporter::with_config(SEQUENCES, &["--namespace", "", "--interval", "10ms"]);
    let mut restarted_seen = false;
    let done = poll(Duration::from_secs(30), || {
        let body = exporter.get("/metrics").text();
        for line in body.lines().filter(|l| !l.starts_with('#')) {
            let value: f64 = line.rsplit_once(' ').unwrap().1.parse().unwrap();
            assert!(value.is_finite(), "{line}");
        }
        let (k, pw, _, _) = scrape(&exporter);
        if k > 143 {
            restarted_seen |= pw < 1e300;
        }
        (k >= 160).then_some(())
    });
    assert!(done.is_some(), "did not reach 160 ticks");
    assert!(restarted_seen, "power never restarted after its 143rd value");
    // An overflow is worth a warning; the restarts of sq3, which its reset_interval asks for, are
    // not (they are logged at debug, see below).
    let stderr = exporter.stderr();
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains(" WARN ")).collect();
    assert!(warnings.iter().any(|l| l.contains("restarted: pw (value not finite)")), "{stderr}");
    assert!(!warnings.iter().any(|l| l.contains("reset_interval")), "{stderr}");
}

/// A restart that `reset_interval` asks for is logged at debug, so `-v` shows it.
#[test]
fn reset_interval_restarts_are_debug() {
    let exporter = Exporter::with_config(SEQUENCES, &["--namespace", "", "--interval", "20ms", "-v"]);
    let line = poll(Duration::from_secs(20), || {
        exporter.stderr().lines().find(|l| l.contains("restarted: sq3 (reset_interval reached)")).map(String::from)
    })
    .expect("a restart of sq3 logged");
    assert!(line.contains(" DEBUG "), "{line}");
}

#[test]
fn tick_count_follows_the_grid() {
    let exporter = Exporter::start(&["--interval", "100ms"]);
    std::thread::sleep(Duration::from_millis(2500));
    let health = exporter.get("/health").json();
    let ticks = health["ticks"].as_u64().unwrap() as i64;
    let uptime = health["uptime_seconds"].as_f64().unwrap();
    let expected = (uptime / 0.1).floor() as i64 + 1;
    assert!((ticks - expected).abs() <= 1, "ticks {ticks} after {uptime} s; the grid says {expected}");
    assert!(health["last_tick_seconds_ago"].as_f64().unwrap() < 0.3, "{health}");
}

#[test]
fn series_expansion_serves_the_cross_product() {
    let config = r#"[
      {"name": "fan", "metric_type": "gauge", "custom_function": "square", "series": 3,
       "labels": {"region": ["eu", "us"], "app": "x"}},
      {"name": "fan", "metric_type": "gauge", "custom_function": "square", "labels": {"region": "ap"}}
    ]"#;
    let exporter = Exporter::with_config(config, &["--namespace", "", "--interval", "1h"]);
    let body = exporter.get("/metrics").text();
    let samples: Vec<&str> = body.lines().filter(|l| l.starts_with("fan")).collect();
    assert_eq!(
        samples,
        [
            r#"fan{app="x",region="eu",series="0"} 1"#,
            r#"fan{app="x",region="eu",series="1"} 1"#,
            r#"fan{app="x",region="eu",series="2"} 1"#,
            r#"fan{app="x",region="us",series="0"} 1"#,
            r#"fan{app="x",region="us",series="1"} 1"#,
            r#"fan{app="x",region="us",series="2"} 1"#,
            r#"fan{region="ap"} 1"#,
        ]
    );
    assert_eq!(body.matches("# TYPE fan gauge").count(), 1);
    assert_eq!(exporter.get("/health").json()["metrics_count"], 7);
    assert_eq!(sample(&body, "metrics_generator_series"), Some(7.0));
}

#[test]
fn max_series_is_checked_at_load() {
    let dir = crate::support::TempDir::new();
    let path = dir.write(
        "big.json",
        r#"[{"name": "big", "metric_type": "gauge", "custom_function": "square", "series": 1000001}]"#,
    );
    let path = path.to_str().unwrap();
    crate::support::assert_fails(
        &crate::support::run(&["--config", path, "--check-config"]),
        2,
        "entry 0 (\"big\"): the config expands to more than 1000000 series (--max-series); it has 1000001 series up to here",
    );
    let ok = crate::support::run(&["--config", path, "--check-config", "--max-series", "2000000"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let huge = dir.write("huge.json", r#"[{"name": "huge", "metric_type": "gauge", "custom_function": "square", "series": 4611686018427387904, "labels": {"r": ["a", "b", "c", "d", "e"]}}]"#);
    crate::support::assert_fails(
        &crate::support::run(&[
            "--config",
            huge.to_str().unwrap(),
            "--check-config",
            "--max-series",
            "18446744073709551615",
        ]),
        2,
        "entry 0 (\"huge\"): its labels and series fan out into more than 2⁶⁴ series",
    );
}

#[test]
fn seeded_fanned_out_series_differ_and_the_expected_api_knows_each() {
    let config = r#"[{"name": "u", "metric_type": "gauge", "custom_function": "uniform", "series": 3}]"#;
    let exporter = Exporter::with_config(config, &["--namespace", "", "--interval", "1h"]);
    let body = exporter.get("/metrics").text();
    let served: Vec<f64> = (0..3).map(|k| sample(&body, &format!("u{{series=\"{k}\"}}")).unwrap()).collect();
    assert!(served[0] != served[1] && served[1] != served[2], "{served:?}");
    let time = exporter.get("/health").json()["tick_time_seconds"].as_f64().unwrap();
    let expected = exporter.get(&format!("/api/v1/expected?metric=u&time={time}")).json();
    let result = expected["data"]["result"].as_array().unwrap();
    for (k, value) in served.iter().enumerate() {
        let series = result.iter().find(|r| r["metric"]["series"].as_str() == Some(k.to_string().as_str())).unwrap();
        assert_eq!(series["value"][1].as_str().unwrap().parse::<f64>().unwrap(), *value, "series {k}");
    }
    // Series 0 is the entry on its own: the same seed, the same values.
    let alone = Exporter::with_config(
        r#"[{"name": "u", "metric_type": "gauge", "custom_function": "uniform"}]"#,
        &["--namespace", "", "--interval", "1h"],
    );
    assert_eq!(alone.sample("u"), Some(served[0]));
}
