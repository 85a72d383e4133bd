//! Soak: a million ticks through every built-in function (and a few expressions, some of which
//! overflow or divide by zero on purpose), in-process through `State::tick` with no sleeping.
//! No panic; every served value finite (a function that overflows restarts); memory flat. The
//! test runs itself again in a child process of its own, so that the resident memory it reads
//! from `/proc/self/status` is the soak's alone, not that of tests running beside it.

use metrics_generator::config::{parse, Options};
use metrics_generator::engine::State;
use metrics_generator::exposition::Format;
use metrics_generator::Registry;
use std::process::Command;
use std::time::{Duration, Instant};

/// Set in the child process that runs the soak itself.
const CHILD: &str = "METRICS_GENERATOR_SOAK_CHILD";

const TICKS: u64 = 1_000_000;

/// The params of the built-ins that need some; every other built-in gets its defaults.
fn params_of(function: &str) -> Option<&'static str> {
    match function {
        "step" => Some(r#"{"values": [1, 5, 2.5], "hold": [2, 3, 1]}"#),
        "sequence" => Some(r#"{"values": [3, -1, 2e300]}"#),
        "expr" => Some(r#"{"expr": "100*n + 20*sin(2*pi*n/60)"}"#),
        _ => None,
    }
}

/// Every built-in as a gauge and as a counter with a reset_interval, and expressions that
/// overflow (`exp(i)`, `2^i`), divide by zero (`1/(i % 7)`) or take logs of zero.
fn config() -> String {
    let registry = Registry::builtin();
    let mut entries = Vec::new();
    for function in registry.functions() {
        let name = function.name();
        let params = params_of(name).map(|p| format!(r#", "params": {p}"#)).unwrap_or_default();
        assert!(
            params_of(name).is_some() || registry.build(name, None).is_some_and(|b| b.is_ok()),
            "the built-in {name} needs params: add them to params_of"
        );
        entries.push(format!(r#"{{"name": "{name}", "metric_type": "gauge", "custom_function": "{name}"{params}}}"#));
        entries.push(format!(
            r#"{{"name": "{name}_reset", "metric_type": "counter", "custom_function": "{name}", "reset_interval": 997{params}}}"#
        ));
    }
    for (k, expr) in ["i*i + 3", "exp(i)", "2^i", "1/(i % 7)", "ln(i % 5 + 1) * n", "sqrt(n) * sin(i) / cos(i)", "i**i"]
        .iter()
        .enumerate()
    {
        entries.push(format!(
            r#"{{"name": "expr_{k}", "metric_type": "gauge", "custom_function": "expr", "params": {{"expr": "{expr}"}}}}"#
        ));
    }
    format!("[{}]", entries.join(",\n"))
}

/// This process's resident memory, in kB.
fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Checks that every sample of the text body has a finite value; returns how many there are.
#[track_caller]
fn check_body(state: &State, tick: u64) -> usize {
    let snapshot = state.snapshot();
    assert!(snapshot.values.iter().all(|v| v.is_finite()), "tick {tick}: {:?}", snapshot.values);
    let body = String::from_utf8(snapshot.body(Format::Text, false).to_vec()).expect("UTF-8 body");
    let mut samples = 0;
    for line in body.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').expect("a sample line");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("tick {tick}: {line}"));
        assert!(value.is_finite(), "tick {tick}: {series} is {value}");
        samples += 1;
    }
    assert!(body.contains(&format!("\nmetrics_generator_ticks_total {tick}\n")), "tick {tick}");
    samples
}

/// The soak itself, in the child process.
fn soak() {
    let options = Options { namespace: "soak".into(), ..Options::default() };
    let config = parse(&config(), "soak.json", &options, &Registry::builtin()).expect("the soak config is valid");
    let series = config.series();
    let state = State::new(config, Duration::from_secs(1));
    let started = Instant::now();
    let mut warm = 0;
    let mut samples = 0;
    for tick in 1..=TICKS {
        state.tick();
        if tick % 10_000 == 0 {
            samples = check_body(&state, tick);
        }
        if tick == TICKS / 10 {
            // Memory is compared from here: by now every buffer has reached its working size.
            warm = rss_kb();
        }
    }
    let end = rss_kb();
    // The parent looks for this line.
    println!(
        "soak: {TICKS} ticks of {series} series ({samples} samples a scrape) in {:?}; \
         RSS {warm} kB at tick {}, {end} kB at tick {TICKS}",
        started.elapsed(),
        TICKS / 10
    );
    // Flat: a leak of even 8 bytes a tick would show as 7 MB here.
    assert!(end <= warm + 2048, "memory grew from {warm} kB to {end} kB");
}

#[test]
fn a_million_ticks_through_every_function() {
    if std::env::var_os(CHILD).is_some() {
        soak();
        return;
    }
    let _heavy = crate::support::heavy();
    // The test's name as the harness knows it: its module path without the crate's name, so that
    // moving the module cannot make the child run no test at all.
    let path = concat!(module_path!(), "::a_million_ticks_through_every_function");
    let test = path.split_once("::").expect("a crate and a module").1;
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([test, "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .output()
        .expect("run the soak in a child process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the soak failed:\n{stdout}\n{stderr}");
    // The harness writes `test NAME ... ` before the test's own output, on the same line.
    let report = stdout.lines().find_map(|l| l.split_once("soak: ")).unwrap_or_else(|| panic!("no report:\n{stdout}"));
    eprintln!("soak: {}", report.1);
}
