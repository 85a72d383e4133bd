//! Served values against an oracle that is not the code under test: every built-in function of
//! `--list-functions` is served and each value `/metrics` shows is compared with its formula from
//! `docs/functions.md`, written here (the seeded ones through `support::reference`, written again
//! from the docs); and the seeded functions' fan-out series are pinned as literal numbers.

use crate::support::reference;
use crate::support::{poll, run, sample, Exporter};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// One gauge per built-in, with params other than the defaults where that shows more.
const EVERY_FUNCTION: &str = r#"[
  {"name": "square", "metric_type": "gauge", "custom_function": "square"},
  {"name": "power", "metric_type": "gauge", "custom_function": "power"},
  {"name": "fibonacci", "metric_type": "gauge", "custom_function": "fibonacci"},
  {"name": "exponential", "metric_type": "gauge", "custom_function": "exponential", "params": {"base": 1.5}},
  {"name": "normal", "metric_type": "gauge", "custom_function": "normal", "params": {"mean": 20, "sd": 3, "seed": 7}},
  {"name": "constant", "metric_type": "gauge", "custom_function": "constant", "params": {"value": -2.5}},
  {"name": "linear", "metric_type": "gauge", "custom_function": "linear", "params": {"start": 3, "step": 0.5}},
  {"name": "sine", "metric_type": "gauge", "custom_function": "sine", "params": {"amplitude": 4, "period": 7, "offset": 1}},
  {"name": "sawtooth", "metric_type": "gauge", "custom_function": "sawtooth", "params": {"min": 10, "max": 20, "period": 6}},
  {"name": "step", "metric_type": "gauge", "custom_function": "step", "params": {"values": [4, 8, 15], "hold": [1, 2, 3]}},
  {"name": "sequence", "metric_type": "gauge", "custom_function": "sequence", "params": {"values": [16, 23, 42]}},
  {"name": "uniform", "metric_type": "gauge", "custom_function": "uniform", "params": {"seed": 3, "min": -1, "max": 1}},
  {"name": "random_walk", "metric_type": "gauge", "custom_function": "random_walk",
   "params": {"seed": 11, "start": 5, "step": 2, "min": 0, "max": 10}},
  {"name": "spike", "metric_type": "gauge", "custom_function": "spike", "params": {"base": 2, "height": 5, "every": 3}},
  {"name": "expr", "metric_type": "gauge", "custom_function": "expr", "params": {"expr": "2*i + 1/4"}}
]"#;

/// What `EVERY_FUNCTION`'s entry `name` should serve at position `i` (≥ 1), from the formula in
/// `docs/functions.md`; no entry has a `reset_interval`, so the position is the tick number.
fn formula(name: &str, i: u64) -> f64 {
    let x = i as f64;
    let at = |values: Vec<f64>| values[i as usize - 1];
    match name {
        "square" => x * x,
        "power" => (1..=i).fold(1.0, |product, _| product * x),
        "fibonacci" => (2..i).fold((1.0, 1.0), |(a, b), _| (b, a + b)).1,
        "exponential" => 1.5f64.powi(i as i32),
        "normal" => at(reference::normal(7, 0, 20.0, 3.0, i as usize)),
        "constant" => -2.5,
        "linear" => 3.0 + 0.5 * (x - 1.0),
        "sine" => 1.0 + 4.0 * (2.0 * std::f64::consts::PI * (x - 1.0) / 7.0).sin(),
        "sawtooth" => match (i - 1) % 6 {
            5 => 20.0,
            k => 10.0 + 10.0 * k as f64 / 5.0,
        },
        // 4 held 1 tick, 8 held 2, 15 held 3: a cycle of 6.
        "step" => [4.0, 8.0, 8.0, 15.0, 15.0, 15.0][(i as usize - 1) % 6],
        "sequence" => [16.0, 23.0, 42.0][(i as usize - 1) % 3],
        "uniform" => at(reference::uniform(3, 0, -1.0, 1.0, i as usize)),
        "random_walk" => at(reference::random_walk(11, 0, 5.0, 2.0, 0.0, 10.0, i as usize)),
        "spike" => {
            if i % 3 == 0 {
                7.0
            } else {
                2.0
            }
        }
        "expr" => 2.0 * x + 0.25,
        other => panic!("no formula for {other}: add one to this test"),
    }
}

/// Equal, or within a relative 1e-12 where the formula here may round differently from the
/// exporter (a sine, a product of many factors): enough to tell any wrong value.
#[track_caller]
fn assert_close(got: f64, want: f64, what: &str) {
    let tolerance = 1e-12 * want.abs().max(1.0);
    assert!((got - want).abs() <= tolerance, "{what}: served {got}, the formula gives {want}");
}

#[test]
fn every_builtin_serves_its_formula() {
    // Every function the binary lists has an entry here, so a new one needs a formula too.
    let list = run(&["--list-functions"]);
    assert!(list.status.success());
    let listed: BTreeSet<String> = String::from_utf8(list.stdout)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with(' ') && !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .collect();
    let config: serde_json::Value = serde_json::from_str(EVERY_FUNCTION).unwrap();
    let configured: BTreeSet<String> =
        config.as_array().unwrap().iter().map(|entry| entry["custom_function"].as_str().unwrap().to_string()).collect();
    assert_eq!(configured, listed, "every listed function, and only those, has a formula here");

    let exporter = Exporter::with_config(EVERY_FUNCTION, &["--namespace", "", "--interval", "20ms"]);
    // Check every scrape against the formulas until 12 different ticks, up to tick 20 at least
    // (two cycles of every periodic function), have been seen.
    let mut seen = BTreeSet::new();
    let done = poll(Duration::from_secs(30), || {
        let body = exporter.get("/metrics").text();
        let tick = sample(&body, "metrics_generator_ticks_total").expect("the tick count") as u64;
        for name in &configured {
            let served = sample(&body, name).unwrap_or_else(|| panic!("no {name} in\n{body}"));
            assert_close(served, formula(name, tick), &format!("{name} at tick {tick}"));
        }
        seen.insert(tick);
        (seen.len() >= 12 && tick >= 20).then_some(())
    });
    assert!(done.is_some(), "saw only ticks {seen:?}");
}

/// Series 0, 1 and 999 of a fan-out of each seeded function with its default params (seed 42), at
/// positions 1 to 4 of its cycle. Derived once, not by this crate: a short Python script of
/// SplitMix64 (Python integers masked to 64 bits, the constants 0x9E3779B97F4A7C15,
/// 0xBF58476D1CE4E5B9 and 0x94D049BB133111EB), series k ≥ 1 seeded with the first output of
/// SplitMix64 started at 42 + k as docs/configuration.md says, uniform as the top 53 bits over 2⁵³
/// (plus one for Box–Muller's (0, 1]), `normal` as max(0, 50 + 10·√(−2·ln u1)·cos(2π·u2)) from
/// `math.log`, `math.cos`, and the walk from 50 by (2u − 1) reflected at 0 and 100, each printed
/// with `repr` (the shortest text that reads back as the same f64). The same script gave the
/// first values docs/functions.md shows for series 0.
const PINNED: &[(&str, u64, [f64; 4])] = &[
    ("normal", 0, [54.1471975043153, 41.081137863722425, 67.29593087937403, 55.45620436182866]),
    ("normal", 1, [54.41743213995514, 53.205530360429066, 39.88628196929567, 50.931460072576286]),
    ("normal", 999, [50.68497763958409, 44.24640056507865, 48.74917539027611, 48.648396640461876]),
    ("uniform", 0, [74.15648787718233, 15.991039287692011, 27.860113025513865, 34.419071652363755]),
    ("uniform", 1, [84.37555350907388, 11.313150695945273, 25.31442037423265, 21.902660833851286]),
    ("uniform", 999, [99.52149722736601, 12.673500896889944, 81.58060530897383, 42.883738363589906]),
    ("random_walk", 0, [50.0, 50.483129757543644, 49.802950543297484, 49.360152803807765]),
    ("random_walk", 1, [50.0, 50.68751107018148, 49.91377408410038, 49.420062491585036]),
    ("random_walk", 999, [50.0, 50.99042994454732, 50.24389996248512, 50.8755120686646]),
];

#[test]
fn seeded_fan_out_series_serve_their_pinned_values() {
    // The reference used by the other tests agrees with the pinned numbers.
    for (name, k, values) in PINNED {
        let computed = match *name {
            "normal" => reference::normal(42, *k, 50.0, 10.0, 4),
            "uniform" => reference::uniform(42, *k, 0.0, 100.0, 4),
            _ => reference::random_walk(42, *k, 50.0, 1.0, 0.0, 100.0, 4),
        };
        assert_eq!(computed, values, "the reference's {name} series {k}");
    }

    // A cycle of 4 ticks shows each position again and again; every scrape is checked until each
    // of the 4 has been seen.
    let config = r#"[
      {"name": "normal", "metric_type": "gauge", "custom_function": "normal", "series": 1000, "reset_interval": 4},
      {"name": "uniform", "metric_type": "gauge", "custom_function": "uniform", "series": 1000, "reset_interval": 4},
      {"name": "random_walk", "metric_type": "gauge", "custom_function": "random_walk", "series": 1000, "reset_interval": 4}
    ]"#;
    let exporter = Exporter::with_config(config, &["--namespace", "", "--interval", "50ms"]);
    let mut seen = BTreeMap::new();
    let done = poll(Duration::from_secs(30), || {
        let body = exporter.get("/metrics").text();
        let tick = sample(&body, "metrics_generator_ticks_total").expect("the tick count") as u64;
        let position = (tick - 1) % 4 + 1;
        for (name, k, values) in PINNED {
            let series = format!("{name}{{series=\"{k}\"}}");
            let served = sample(&body, &series).unwrap_or_else(|| panic!("no {series}"));
            assert_eq!(served, values[position as usize - 1], "{series} at tick {tick} (position {position})");
        }
        seen.insert(position, tick);
        (seen.len() == 4).then_some(())
    });
    assert!(done.is_some(), "saw only positions {seen:?}");
}
