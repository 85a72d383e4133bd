//! The built-in functions' values and param errors, and the registry.

use super::*;
use serde_json::{json, Value};

/// The first `count` values of `name` with `params`, without restarts (`n` = `i`).
fn first(name: &str, params: Value, count: u64) -> Vec<f64> {
    let registry = Registry::builtin();
    let factory = registry.build(name, params.as_object()).unwrap().unwrap();
    let mut g = factory();
    (1..=count).map(|i| g.next(Step { i, n: i }).unwrap()).collect()
}

/// Exact equality: every value in these tables is a whole number, a dyadic fraction, or the
/// f64 that the stated formula gives.
#[track_caller]
fn check(name: &str, params: Value, expected: &[f64]) {
    assert_eq!(first(name, params.clone(), expected.len() as u64), expected, "{name} {params}");
}

#[track_caller]
fn check_err(name: &str, params: Value, expected: &str) {
    match Registry::builtin().build(name, params.as_object()).unwrap() {
        Ok(_) => panic!("{name} accepted {params}"),
        Err(e) => assert_eq!(e, expected, "{name} {params}"),
    }
}

/// SplitMix64's published reference outputs for seed 1234567, as `u` in [0, 1) (top 53 bits).
fn reference_draws() -> [f64; 5] {
    let bits: [u64; 5] =
        [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821];
    let mut rng = SplitMix64(1234567);
    assert_eq!(bits.map(|_| rng.next_u64()), bits, "SplitMix64 differs from its reference");
    bits.map(|b| (b >> 11) as f64 / 9_007_199_254_740_992.0)
}

#[test]
fn core_first_values() {
    check("square", Value::Null, &[1.0, 4.0, 9.0, 16.0, 25.0]);
    check("power", Value::Null, &[1.0, 4.0, 27.0, 256.0, 3125.0]);
    check("fibonacci", Value::Null, &[1.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0]);
    check("exponential", Value::Null, &[2.0, 4.0, 8.0, 16.0]);
    check("exponential", json!({"base": 3}), &[3.0, 9.0, 27.0]);
    check("exponential", json!({"base": 0.5}), &[0.5, 0.25, 0.125]);
}

#[test]
fn shape_first_values() {
    check("constant", Value::Null, &[0.0, 0.0, 0.0]);
    check("constant", json!({"value": -2.5}), &[-2.5, -2.5, -2.5]);
    check("linear", Value::Null, &[0.0, 1.0, 2.0, 3.0]);
    check("linear", json!({"start": 10, "step": -2.5}), &[10.0, 7.5, 5.0, 2.5, 0.0]);
    // Quarter turns are exact: period 4 is 0, 1, 0, −1 and again.
    check("sine", json!({"amplitude": 1, "period": 4, "offset": 0}), &[0.0, 1.0, 0.0, -1.0, 0.0, 1.0]);
    check("sine", json!({"amplitude": 3, "period": 2, "offset": 1}), &[1.0, 1.0, 1.0]);
    check("sine", json!({"period": 1}), &[50.0, 50.0]);
    // Default: 50 + 50·sin(2π(i−1)/60); i = 2 and 3 are 50 + 50·sin(6°) and 50 + 50·sin(12°).
    let sine = first("sine", Value::Null, 61);
    assert_eq!(&sine[..3], [50.0, 55.22642316338268, 60.39558454088797]);
    assert_eq!([sine[15], sine[30], sine[45], sine[60]], [100.0, 50.0, 0.0, 50.0]);
    // Mirrored ticks show the same value exactly.
    for k in 1..15 {
        assert_eq!(sine[15 - k], sine[15 + k], "sine is symmetric around its peak");
    }
    let unit = first("sine", json!({"amplitude": 1, "offset": 0}), 60);
    for k in 0..30 {
        assert_eq!(unit[30 + k], -unit[k], "the second half wave is the first one negated");
    }
    check("sawtooth", Value::Null, &[0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0, 0.0, 10.0]);
    check("sawtooth", json!({"min": -1, "max": 1, "period": 3}), &[-1.0, 0.0, 1.0, -1.0, 0.0]);
    check("sawtooth", json!({"min": 0.1, "max": 0.3, "period": 2}), &[0.1, 0.3, 0.1]);
    check("sawtooth", json!({"min": 5, "max": 5}), &[5.0, 5.0, 5.0]);
    let mut tens = vec![1.0; 10];
    tens.extend([5.0; 10]);
    tens.push(1.0);
    check("step", json!({"values": [1, 5]}), &tens);
    check("step", json!({"values": [1, 5], "hold": 2}), &[1.0, 1.0, 5.0, 5.0, 1.0, 1.0]);
    check("step", json!({"values": [1, 5, 7], "hold": [1, 3, 2]}), &[1.0, 5.0, 5.0, 5.0, 7.0, 7.0, 1.0, 5.0]);
    check("sequence", json!({"values": [3, 1.5, -2]}), &[3.0, 1.5, -2.0, 3.0, 1.5, -2.0, 3.0]);
    check("sequence", json!({"values": [4]}), &[4.0, 4.0]);
    let mut spikes = vec![0.0; 9];
    spikes.push(100.0);
    spikes.extend([0.0; 9]);
    spikes.push(100.0);
    check("spike", Value::Null, &spikes);
    check("spike", json!({"base": 5, "height": -5, "every": 3}), &[5.0, 5.0, 0.0, 5.0, 5.0, 0.0]);
    check("spike", json!({"every": 1, "base": 1}), &[101.0, 101.0]);
}

#[test]
fn seeded_first_values() {
    let u = reference_draws();
    // uniform: min + (max − min)·u.
    check("uniform", json!({"seed": 1234567, "min": 10, "max": 20}), &u.map(|u| 10.0 + 10.0 * u));
    check("uniform", json!({"seed": 1234567, "min": 10, "max": 20}), &[13.500795420214082, 11.736440966709127]);
    check("uniform", json!({"min": 7, "max": 7}), &[7.0, 7.0]);
    // random_walk from 0 in [0, 0.5], step 1: each move is 2u − 1, reflected at the bounds:
    // 0 → −0.300 ↦ 0.300 → −0.353 ↦ 0.353 → 0.417 → −0.085 ↦ 0.085 → 0.864 ↦ 1 − 0.864 = 0.136
    let walk =
        [0.0, 0.29984091595718376, 0.352870890700991, 0.41728549882582944, 0.08469918640958785, 0.13624183235324616];
    check("random_walk", json!({"seed": 1234567, "start": 0, "step": 1, "min": 0, "max": 0.5}), &walk);
    check("random_walk", json!({"step": 0}), &[50.0, 50.0, 50.0]);
    let wide = first("random_walk", json!({"step": 1000, "min": -1, "max": 1, "start": 0}), 500);
    assert!(wide.iter().all(|v| (-1.0..=1.0).contains(v)), "a step wider than the range stays in it");
    let default = first("random_walk", Value::Null, 1000);
    assert_eq!(default[0], 50.0);
    assert!(default.windows(2).all(|w| (w[1] - w[0]).abs() <= 1.0 && (0.0..=100.0).contains(&w[1])));
}

#[test]
fn seeded_functions_replay_after_a_restart() {
    let registry = Registry::builtin();
    for name in ["normal", "uniform", "random_walk"] {
        let factory = registry.build(name, None).unwrap().unwrap();
        let run = || {
            let mut g = factory();
            (1..=50).map(|i| g.next(Step { i, n: i }).unwrap()).collect::<Vec<_>>()
        };
        let once = run();
        assert_eq!(once, run(), "{name}: a fresh generator replays the same values");
        assert_ne!(once, first(name, json!({"seed": 7}), 50), "{name}: the seed matters");
    }
}

#[test]
fn expr_evaluates_i_and_n() {
    check("expr", json!({"expr": "i*i + 3"}), &[4.0, 7.0, 12.0]);
    let factory = Registry::builtin().build("expr", json!({"expr": "100*n + i"}).as_object()).unwrap().unwrap();
    let mut g = factory();
    assert_eq!(g.next(Step { i: 1, n: 1 }), Some(101.0));
    assert_eq!(g.next(Step { i: 2, n: 2 }), Some(202.0));
    assert_eq!(factory().next(Step { i: 1, n: 3 }), Some(301.0), "after a restart i is 1 and n goes on");
}

#[test]
fn power_is_finite_for_143_values_then_overflows() {
    let values = first("power", Value::Null, 144);
    assert!(values[..143].iter().all(|v| v.is_finite()));
    assert!(values[143].is_infinite());
}

#[test]
fn normal_is_seeded_and_clamped() {
    let a = first("normal", Value::Null, 1000);
    assert_eq!(a, first("normal", Value::Null, 1000));
    assert_ne!(a, first("normal", json!({"seed": 7}), 1000));
    let mean = a.iter().sum::<f64>() / a.len() as f64;
    assert!((mean - 50.0).abs() < 2.0, "mean {mean}");
    let clamped = first("normal", json!({"mean": 0, "sd": 10}), 100);
    assert!(clamped.iter().all(|v| *v >= 0.0));
}

#[test]
fn uniform_stays_in_its_range_and_spreads_over_it() {
    let values = first("uniform", Value::Null, 10_000);
    assert!(values.iter().all(|v| (0.0..100.0).contains(v)));
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    assert!((mean - 50.0).abs() < 2.0, "mean {mean}");
    assert!(values.iter().any(|v| *v < 1.0) && values.iter().any(|v| *v > 99.0));
}

#[test]
fn param_errors_name_the_param() {
    let r = Registry::builtin();
    let cases: &[(&str, Value, &str)] = &[
        ("square", json!({"x": 1}), "unknown param \"x\" (square takes no params)"),
        ("sine", json!({"phase": 1}), "unknown param \"phase\" (sine takes: amplitude, period, offset)"),
        ("normal", json!({"seed": "a"}), "param \"seed\": expected an integer ≥ 0, got \"a\""),
        ("normal", json!({"seed": -1}), "param \"seed\": expected an integer ≥ 0, got -1"),
        ("normal", json!({"sd": -1}), "param \"sd\": must be a finite number ≥ 0"),
        ("normal", json!({"mean": "50"}), "param \"mean\": expected a number, got \"50\""),
        ("exponential", json!({"base": 0}), "param \"base\": must be a finite number > 0"),
        ("constant", json!({"value": null}), "param \"value\": expected a number, got null"),
        ("linear", json!({"step": [1]}), "param \"step\": expected a number, got [1]"),
        ("sine", json!({"period": 0}), "param \"period\": expected an integer ≥ 1, got 0"),
        ("sine", json!({"period": 2.5}), "param \"period\": expected an integer ≥ 1, got 2.5"),
        ("sine", json!({"amplitude": true}), "param \"amplitude\": expected a number, got true"),
        (
            "sawtooth",
            json!({"period": 1}),
            "param \"period\": must be an integer ≥ 2 (a ramp needs a first and a last tick)",
        ),
        ("sawtooth", json!({"min": 5, "max": 1}), "param \"max\": must be ≥ min (5), got 1"),
        (
            "sawtooth",
            json!({"min": -1e308, "max": 1e308}),
            "param \"max\": max − min must be a finite number; 1e308 − -1e308 is not",
        ),
        ("step", Value::Null, "param \"values\": missing (required)"),
        ("step", json!({"values": []}), "param \"values\": expected a non-empty array of numbers, got []"),
        ("step", json!({"values": 3}), "param \"values\": expected a non-empty array of numbers, got 3"),
        ("step", json!({"values": [1, "2"]}), "param \"values\": item 1: expected a number, got \"2\""),
        ("step", json!({"values": [1], "hold": 0}), "param \"hold\": expected an integer ≥ 1, got 0"),
        ("step", json!({"values": [1, 2], "hold": [1, 0]}), "param \"hold\": item 1: expected an integer ≥ 1, got 0"),
        (
            "step",
            json!({"values": [1, 2], "hold": [1]}),
            "param \"hold\": has 1 items but there are 2 values; give one per value, or one integer for all",
        ),
        (
            "step",
            json!({"values": [1, 2], "hold": [u64::MAX, 1]}),
            "param \"hold\": the holds add up to more than 2⁶⁴ − 1 ticks",
        ),
        ("sequence", json!({"values": []}), "param \"values\": expected a non-empty array of numbers, got []"),
        ("sequence", json!({"values": [null]}), "param \"values\": item 0: expected a number, got null"),
        ("uniform", json!({"min": 1, "max": 0}), "param \"max\": must be ≥ min (1), got 0"),
        ("uniform", json!({"seed": 1.5}), "param \"seed\": expected an integer ≥ 0, got 1.5"),
        ("random_walk", json!({"start": 150}), "param \"start\": must be between min (0) and max (100), got 150"),
        ("random_walk", json!({"step": -1}), "param \"step\": must be a number ≥ 0, got -1"),
        ("random_walk", json!({"min": 10, "max": 0}), "param \"max\": must be ≥ min (10), got 0"),
        ("spike", json!({"every": 0}), "param \"every\": expected an integer ≥ 1, got 0"),
        ("spike", json!({"height": "x"}), "param \"height\": expected a number, got \"x\""),
        ("expr", Value::Null, "param \"expr\": missing (required)"),
        ("expr", json!({"expr": 5}), "param \"expr\": expected a string, got 5"),
        ("expr", json!({"expr": "i*i)"}), "param \"expr\": unexpected ')' at column 4\n  i*i)\n     ^"),
        (
            "expr",
            json!({"expr": "i + x"}),
            "param \"expr\": unknown variable 'x' (valid: i, n, pi, e) at column 5\n  i + x\n      ^",
        ),
    ];
    for (name, params, expected) in cases {
        check_err(name, params.clone(), expected);
    }
    assert!(r.build("nope", None).is_none());
}

#[test]
fn every_param_is_documented_with_its_default() {
    for def in Registry::builtin().functions() {
        for p in def.params() {
            assert!(p.doc.contains("default") || p.doc.contains("required"), "{}.{}: {}", def.name(), p.name, p.doc);
        }
    }
    let text = Registry::builtin().describe();
    assert!(text.contains("    period: ticks per wave, integer ≥ 1, default 60\n"), "{text}");
}

#[test]
fn register_fn_adds_and_replaces() {
    let mut r = Registry::builtin();
    let builtins = r.functions().len();
    r.register_fn("cube", "i³", |i| (i as f64).powi(3));
    r.register_fn("square", "replaced", |i| i as f64);
    assert!(r.names().contains("cube"));
    assert_eq!(r.get("square").unwrap().description(), "replaced");
    assert_eq!(r.functions().len(), builtins + 1);
    assert_eq!(
        r.names(),
        "constant, cube, exponential, expr, fibonacci, linear, normal, power, random_walk, sawtooth, sequence, \
         sine, spike, square, step, uniform"
    );
}
