//! Bad configs: each is reported at load as one line naming the file and the line and
//! column (JSON syntax) or the entry and field, with exit status 2 and no panic, both by
//! `--check-config` and when starting to serve.

use crate::support::{assert_fails, run, TempDir};

const OK: &str = r#""metric_type": "gauge", "custom_function": "square""#;

/// (config text, what the message must contain after `config <path>: `)
fn cases() -> Vec<(String, &'static str)> {
    let entry = |extra: &str| format!(r#"[{{"name": "a", {OK}{extra}}}]"#);
    vec![
        ("[\n  {\"name\": \"a\",}\n]".into(), "line 2, column 15: invalid JSON: trailing comma (JSON allows none after the last item of an array or object)"),
        ("[{\"name\": \"a\"".into(), "line 1, column 13: invalid JSON: EOF while parsing an object"),
        (r#"[{"name": 5, "metric_type": "gauge", "custom_function": "square"}]"#.into(), "entry 0: field \"name\": expected a string, got a number (5)"),
        (entry(r#", "reset_interval": "10""#), "entry 0 (\"a\"): field \"reset_interval\": expected an integer ≥ 0, got a string (\"10\")"),
        (entry(r#", "labels": ["x"]"#), "entry 0 (\"a\"): field \"labels\": expected an object of strings or lists of strings, got an array"),
        (entry(r#", "labels": {"x": 1}"#), "entry 0 (\"a\"): field \"labels\": \"x\": expected a string or a list of strings, got a number (1)"),
        (entry(r#", "colour": "red""#), "entry 0 (\"a\"): unknown field \"colour\""),
        (r#"[{"name": "a", "metric_type": "gauge"}]"#.into(), "entry 0 (\"a\"): field \"custom_function\": missing (required)"),
        (
            r#"[{"name": "a", "metric_type": "gauge", "custom_function": "cube"}]"#.into(),
            "entry 0 (\"a\"): field \"custom_function\": unknown function \"cube\" (registered: constant, exponential, expr, fibonacci, linear, normal, power, random_walk, sawtooth, sequence, sine, spike, square, step, uniform)",
        ),
        (r#"[{"name": "a b", "metric_type": "gauge", "custom_function": "square"}]"#.into(), "entry 0 (\"a b\"): field \"name\": \"test_metrics_a b\" is not a valid metric name"),
        (entry(r#", "labels": {"a-b": "x"}"#), "entry 0 (\"a\"): field \"labels\": \"a-b\" is not a valid label name"),
        (entry(r#", "labels": {"__name__": "x"}"#), "entry 0 (\"a\"): field \"labels\": \"__name__\" is reserved"),
        (entry(r#", "params": {"seed": 1}"#), "entry 0 (\"a\"): field \"params\": unknown param \"seed\" (square takes no params)"),
        (format!(r#"[{{"name": "a", {OK}}}, {{"name": "b", {OK}}}, {{"name": "a", {OK}}}]"#), "entry 2 (\"a\"): duplicate series: test_metrics_a with the same labels as entry 0 (\"a\")"),
        (
            format!(r#"[{{"name": "a", {OK}}}, {{"name": "a", "metric_type": "counter", "custom_function": "square"}}]"#),
            "entry 1 (\"a\"): metric test_metrics_a is a counter here but a gauge in entry 0 (\"a\"); one name has one type",
        ),
        ("".into(), "the file is empty; expected a JSON array of metric entries"),
        (" \n\t".into(), "the file is empty; expected a JSON array of metric entries"),
        ("[]".into(), "the array has no entries; a config needs at least one metric"),
        (r#"{"name": "a"}"#.into(), "expected a JSON array of metric entries, got an object"),
    ]
}

#[test]
fn bad_configs_are_one_line_errors_with_exit_status_2() {
    let dir = TempDir::new();
    for (i, (text, message)) in cases().into_iter().enumerate() {
        let path = dir.write(&format!("bad{i}.json"), &text);
        let path = path.to_str().unwrap();
        let expected = format!("error: config {path}: {message}");
        for mode in [&["--check-config"][..], &["--listen-address", "127.0.0.1:0"][..]] {
            let mut args = vec!["--config", path];
            args.extend_from_slice(mode);
            let out = run(&args);
            assert_fails(&out, 2, &expected);
            assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        }
    }
}

#[test]
fn unreadable_configs() {
    let dir = TempDir::new();
    let missing = dir.path().join("missing.json");
    let missing = missing.to_str().unwrap();
    assert_fails(
        &run(&["--check-config", "--config", missing]),
        2,
        &format!("error: config {missing}: cannot read: No such file or directory"),
    );
    let folder = dir.path().to_str().unwrap();
    assert_fails(
        &run(&["--check-config", "--config", folder]),
        2,
        &format!("error: config {folder}: cannot read: Is a directory"),
    );
    let binary = dir.write("binary.json", [b'[', 0xff, 0xfe, b']']);
    assert_fails(&run(&["--check-config", "--config", binary.to_str().unwrap()]), 2, "not valid UTF-8");
}

#[test]
fn check_config_summarises_a_valid_config() {
    let out = run(&["--check-config"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("config <embedded default> is valid: 4 series\n"), "{stdout}");
    assert!(
        stdout.contains("test_metrics_jobs_done_total{queue=\"default\"} counter fibonacci, reset every 10 values"),
        "{stdout}"
    );
    let example = crate::support::root().join("example_config.json");
    let out = run(&["--check-config", "--config", example.to_str().unwrap()]);
    assert!(out.status.success());
}
