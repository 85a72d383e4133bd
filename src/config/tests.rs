//! Loading configs: valid entries, every kind of mistake and its message, limits.

use super::conflicts::{same_series, Conflicts};
use super::entry::parse_entry;
use super::*;
use std::num::NonZeroU64;

fn load_str(text: &str) -> Result<Config, Error> {
    parse(text, "t.json", &Options { namespace: "ns".into(), max_series: 1000, shard: None }, &Registry::builtin())
}

#[track_caller]
fn check_err(text: &str, expected: &str) {
    match load_str(text) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => assert_eq!(e.to_string(), format!("config t.json: {expected}")),
    }
}

#[test]
fn embedded_default_is_valid() {
    let c = parse(EMBEDDED, EMBEDDED_NAME, &Options::default(), &Registry::builtin()).unwrap();
    assert!(c.entries.len() >= 4);
}

#[test]
fn valid_entry_fields() {
    let c = load_str(
        r#"[{"name":"a","metric_type":"counter","custom_function":"square","reset_interval":3,
            "labels":{"z":"1","b":"2"},"help":"h"}]"#,
    )
    .unwrap();
    let e = &c.entries[0];
    assert_eq!((e.full_name.as_str(), e.sample_name().as_str()), ("ns_a", "ns_a_total"));
    assert_eq!(e.labels, [("b".into(), LabelValues::One("2".into())), ("z".into(), LabelValues::One("1".into()))]);
    assert_eq!(e.series, 1);
    assert_eq!(e.reset_interval, NonZeroU64::new(3));
    assert_eq!(e.help(), "h");
}

#[test]
fn bad_configs() {
    check_err("", "the file is empty; expected a JSON array of metric entries");
    check_err("[\n  {\"name\": }\n]", "line 2, column 12: invalid JSON: expected value");
    check_err("{}", "expected a JSON array of metric entries, got an object");
    check_err("[]", "the array has no entries; a config needs at least one metric");
    check_err("[1]", "entry 0: expected an object, got a number (1)");
    check_err(
        r#"[{"name":"a","metric_type":"gauge","custom_function":"square","colour":1}]"#,
        "entry 0 (\"a\"): unknown field \"colour\" (fields: name, metric_type, custom_function, reset_interval, labels, series, help, params, observations, distribution, buckets, quantiles, states, exemplars, native, active, churn, jitter)",
    );
    check_err(
        r#"[{"name":"a","metric_type":"gauge","custom_function":"cube"}]"#,
        "entry 0 (\"a\"): field \"custom_function\": unknown function \"cube\" (registered: constant, exponential, expr, fibonacci, linear, normal, power, random_walk, sawtooth, sequence, sine, spike, square, step, uniform)",
    );
    check_err(
        r#"[{"name":"a-b","metric_type":"gauge","custom_function":"square"}]"#,
        "entry 0 (\"a-b\"): field \"name\": \"ns_a-b\" is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)",
    );
    check_err(
        r#"[{"name":"a","metric_type":"untyped","custom_function":"square"}]"#,
        "entry 0 (\"a\"): field \"metric_type\": \"untyped\" is not a metric type (gauge, counter, histogram, summary, \
         info, stateset)",
    );
    check_err(
        r#"[{"name":"a","metric_type":"gauge","custom_function":"square","reset_interval":-1}]"#,
        "entry 0 (\"a\"): field \"reset_interval\": expected an integer ≥ 0, got a number (-1)",
    );
    check_err(
        r#"[{"name":"a","metric_type":"gauge","custom_function":"square","labels":{"__x":"1"}}]"#,
        "entry 0 (\"a\"): field \"labels\": \"__x\" is reserved: label names starting with __ are for Prometheus itself",
    );
    check_err(
        r#"[{"name":"a","metric_type":"gauge","custom_function":"square","labels":{"1x":"1"}}]"#,
        "entry 0 (\"a\"): field \"labels\": \"1x\" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)",
    );
    check_err(
        r#"[{"name":"a","metric_type":"gauge","custom_function":"square"},
            {"name":"a","metric_type":"gauge","custom_function":"power"}]"#,
        "entry 1 (\"a\"): duplicate series: ns_a with the same labels as entry 0 (\"a\")",
    );
    check_err(
        r#"[{"name":"a","metric_type":"gauge","custom_function":"square"},
            {"name":"a","metric_type":"counter","custom_function":"power"}]"#,
        "entry 1 (\"a\"): metric ns_a is a counter here but a gauge in entry 0 (\"a\"); one name has one type",
    );
    check_err(
        r#"[{"name":"a_total","metric_type":"gauge","custom_function":"square"},
            {"name":"a","metric_type":"counter","custom_function":"power"}]"#,
        "entry 1 (\"a\"): its samples would be named ns_a_total, as are those of entry 0 (\"a_total\"), a gauge",
    );
}

#[test]
fn series_expansion() {
    let c = load_str(
        r#"[{"name":"a","metric_type":"gauge","custom_function":"square","series":3,
            "labels":{"region":["eu","us"],"app":"x"}}]"#,
    )
    .unwrap();
    let e = &c.entries[0];
    assert_eq!(e.series, 6);
    let names: Vec<String> = (0..6).map(|k| e.series_name(k)).collect();
    assert_eq!(
        names,
        [
            r#"ns_a{app="x",region="eu",series="0"}"#,
            r#"ns_a{app="x",region="eu",series="1"}"#,
            r#"ns_a{app="x",region="eu",series="2"}"#,
            r#"ns_a{app="x",region="us",series="0"}"#,
            r#"ns_a{app="x",region="us",series="1"}"#,
            r#"ns_a{app="x",region="us",series="2"}"#,
        ]
    );
    assert_eq!(e.describe_series(), r#"ns_a{app="x",region=["eu", "us"],series=0..2}"#);
}

#[test]
fn series_expansion_errors() {
    let entry = |extra: &str| format!(r#"[{{"name":"a","metric_type":"gauge","custom_function":"square"{extra}}}]"#);
    check_err(&entry(r#","series":0"#), "entry 0 (\"a\"): field \"series\": expected an integer ≥ 1, got a number (0)");
    check_err(
        &entry(r#","series":2,"labels":{"series":"x"}"#),
        "entry 0 (\"a\"): field \"series\": adds the label \"series\", which the labels already have",
    );
    check_err(
        &entry(r#","labels":{"r":[]}"#),
        "entry 0 (\"a\"): field \"labels\": \"r\": an empty list gives no series",
    );
    check_err(
        &entry(r#","labels":{"r":["x","x"]}"#),
        "entry 0 (\"a\"): field \"labels\": \"r\": the value \"x\" is listed twice",
    );
    check_err(
        &entry(r#","labels":{"r":[1]}"#),
        "entry 0 (\"a\"): field \"labels\": \"r\": expected a list of strings, got a number (1) in it",
    );
    check_err(
        &entry(r#","series":1001"#),
        "entry 0 (\"a\"): the config expands to more than 1000 series (--max-series); it has 1001 series up to here",
    );
    check_err(
        &entry(r#","series":18446744073709551615,"labels":{"r":["1","2"]}"#),
        "entry 0 (\"a\"): its labels and series fan out into more than 2⁶⁴ series",
    );
    // Overlapping fan-outs in one family are duplicate series; disjoint ones are not.
    check_err(
        r#"[{"name":"a","metric_type":"gauge","custom_function":"square","series":3},
            {"name":"a","metric_type":"gauge","custom_function":"square","labels":{"series":"2"}}]"#,
        "entry 1 (\"a\"): duplicate series: ns_a with the same labels as entry 0 (\"a\")",
    );
    check_err(
        r#"[{"name":"a","metric_type":"gauge","custom_function":"square","labels":{"r":["x","y"]}},
            {"name":"a","metric_type":"gauge","custom_function":"square","labels":{"r":["z","y"]}}]"#,
        "entry 1 (\"a\"): duplicate series: ns_a with the same labels as entry 0 (\"a\")",
    );
    assert!(load_str(
        r#"[{"name":"a","metric_type":"gauge","custom_function":"square","series":3},
            {"name":"a","metric_type":"gauge","custom_function":"square","labels":{"series":"03"}}]"#
    )
    .is_ok());
}

#[test]
fn the_own_metrics_prefix_is_reserved() {
    for (namespace, name) in [("", "metrics_generator_series"), ("metrics_generator", "ticks_total")] {
        let text = format!(r#"[{{"name":"{name}","metric_type":"gauge","custom_function":"square"}}]"#);
        let options = Options { namespace: namespace.into(), max_series: 10, shard: None };
        let err = parse(&text, "t.json", &options, &Registry::builtin()).err().unwrap().to_string();
        assert!(err.ends_with("uses the prefix metrics_generator_, reserved for the exporter's own metrics"), "{err}");
    }
}

#[test]
fn one_family_one_help() {
    check_err(
        r#"[{"name":"a","metric_type":"gauge","custom_function":"square","labels":{"x":"1"},"help":"one"},
            {"name":"a","metric_type":"gauge","custom_function":"square","labels":{"x":"2"},"help":"two"}]"#,
        "entry 1 (\"a\"): help differs from that of entry 0 (\"a\"); one family has one HELP text",
    );
}

#[test]
fn duplicate_keys_are_errors_at_the_second_one() {
    check_err(
        r#"[{"name":"a","name":"b","metric_type":"gauge","custom_function":"square"}]"#,
        "line 1, column 19: duplicate key \"name\" in one object",
    );
    check_err(
        "[{\"name\":\"a\",\"metric_type\":\"gauge\",\"custom_function\":\"square\",\n  \"labels\":{\"x\":\"1\",\"y\":\"2\",\"x\":\"3\"}}]",
        "line 2, column 31: duplicate key \"x\" in one object",
    );
    check_err(
        r#"[{"name":"a","metric_type":"gauge","custom_function":"sine","params":{"period":5,"period":6}}]"#,
        "line 1, column 89: duplicate key \"period\" in one object",
    );
    // The same key in two different objects is fine.
    assert!(load_str(
        r#"[{"name":"a","metric_type":"gauge","custom_function":"square","labels":{"k":"1"}},
            {"name":"a","metric_type":"gauge","custom_function":"square","labels":{"k":"2"}}]"#
    )
    .is_ok());
}

#[test]
fn a_byte_order_mark_is_skipped_and_columns_count_after_it() {
    let entry = r#"[{"name":"a","metric_type":"gauge","custom_function":"square"}]"#;
    assert!(load_str(&format!("\u{feff}{entry}")).is_ok());
    let bad = r#"[{"name":"a","metric_type":"gauge","custom_function":"square",}]"#;
    check_err(
        bad,
        "line 1, column 62: invalid JSON: trailing comma (JSON allows none after the last item of an array or object)",
    );
    check_err(
        &format!("\u{feff}{bad}"),
        "line 1, column 62: invalid JSON: trailing comma (JSON allows none after the last item of an array or object)",
    );
    check_err(&format!("\u{feff}\u{feff}{entry}"), "line 1, column 1: invalid JSON: expected value (found U+FEFF)");
    check_err("\u{feff}", "the file is empty; expected a JSON array of metric entries");
}

#[test]
fn json_messages_explain_what_json_lacks() {
    let value = |v: &str| {
        format!(r#"[{{"name":"a","metric_type":"gauge","custom_function":"constant","params":{{"value":{v}}}}}]"#)
    };
    let not_json = "(NaN and Infinity are not JSON numbers; JSON has no way to write them)";
    check_err(&value("NaN"), &format!("line 1, column 83: invalid JSON: expected value {not_json}"));
    check_err(&value("Infinity"), &format!("line 1, column 83: invalid JSON: expected value {not_json}"));
    check_err(&value("-Infinity"), &format!("line 1, column 84: invalid JSON: invalid number {not_json}"));
    check_err(&value("nan"), &format!("line 1, column 84: invalid JSON: expected ident {not_json}"));
    check_err(
        &value("1e999"),
        "line 1, column 87: invalid JSON: number out of range (it must fit in a 64-bit float: at most about 1.8e308)",
    );
    check_err(&value("+1"), "line 1, column 83: invalid JSON: expected value");
    check_err(&value("\u{201c}1\u{201d}"), "line 1, column 83: invalid JSON: expected value (found U+201C)");
    check_err(
        &format!("{}{}", "[".repeat(200), "]".repeat(200)),
        "line 1, column 128: invalid JSON: arrays and objects nested more than 128 levels deep (a config needs at most four)",
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    // "é" is two bytes in UTF-8; an editor shows the trailing comma at column 62.
    check_err(
        r#"[{"name":"é","metric_type":"gauge","custom_function":"square",}]"#,
        "line 1, column 62: invalid JSON: trailing comma (JSON allows none after the last item of an array or object)",
    );
}

#[test]
fn bytes_that_are_not_utf8_are_located() {
    let dir = std::env::temp_dir().join(format!("mg-config-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.json");
    std::fs::write(&path, b"[{\"name\": \"\xc3\xa9\",\n  \"help\": \"\xff\"}]").unwrap();
    let err = load(Some(&path), &Options::default(), &Registry::builtin()).err().unwrap().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(err, format!("config {}: line 2, column 12: not valid UTF-8 (byte 0xff at offset 27)", path.display()));
}

#[test]
fn control_and_invisible_characters_are_escaped_in_messages() {
    // Found by fuzzing (fuzz/fuzz_targets/config.rs): JSON lets a string hold DEL as it is,
    // and the message printed it raw.
    check_err("\"every\u{7f}\"\n", "expected a JSON array of metric entries, got a string (\"every\\u{7f}\")");
    check_err(
        "[{\"name\": \"a\", \"metric_type\": \"gauge\", \"custom_function\": \"sine\", \"params\": {\"period\": \"\u{200b}\u{85}\"}}]",
        "entry 0 (\"a\"): field \"params\": param \"period\": expected an integer ≥ 1, got \"\\u{200b}\\u{85}\"",
    );
    check_err(
        "[{\"name\": \"a\\u0000\", \"metric_type\": \"gauge\", \"custom_function\": \"square\"}]",
        "entry 0 (\"a\\0\"): field \"name\": \"ns_a\\0\" is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)",
    );
}

#[test]
fn long_names_are_cut_in_messages() {
    let long = "a".repeat(100_000);
    let text = format!(r#"[{{"name":"{long}-","metric_type":"gauge","custom_function":"square"}}]"#);
    let message = load_str(&text).err().unwrap().to_string();
    let sixty = "a".repeat(60);
    assert_eq!(
        message,
        format!(
            "config t.json: entry 0 (\"{sixty}\"… (100001 characters)): field \"name\": \"ns_{}\"… \
             (100004 characters) is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)",
            &sixty[3..]
        )
    );
    let text = format!(r#"[{{"name":"a","metric_type":"gauge","custom_function":"square","params":{{"{long}":1}}}}]"#);
    let message = load_str(&text).err().unwrap().to_string();
    assert!(message.len() < 200, "{message}");
    let text =
        format!(r#"[{{"name":"a","metric_type":"gauge","custom_function":"sine","params":{{"period":"{long}"}}}}]"#);
    let message = load_str(&text).err().unwrap().to_string();
    assert!(
        message.ends_with(&format!("param \"period\": expected an integer ≥ 1, got \"{}…", &long[..39])),
        "{message}"
    );
}

/// The checks of [`Seen`] as they were first written: each entry against every earlier one.
/// [`Seen`] must give the same verdicts and messages.
fn check_by_scan(entry: &Entry, earlier: &[Entry], items: &[Value]) -> Result<(), String> {
    let sample = entry.sample_name();
    for (index, other) in earlier.iter().enumerate() {
        let them = describe(index, &items[index]);
        if other.full_name == entry.full_name && other.kind != entry.kind {
            return Err(format!(
                "metric {} is a {} here but a {} in {them}; one name has one type",
                entry.full_name,
                entry.kind.as_str(),
                other.kind.as_str()
            ));
        }
        if other.sample_name() != sample {
            continue;
        }
        if other.kind != entry.kind {
            return Err(format!(
                "its samples would be named {sample}, as are those of {them}, a {}",
                other.kind.as_str()
            ));
        }
        if same_series(other, entry) {
            return Err(format!("duplicate series: {sample} with the same labels as {them}"));
        }
        if let (Some(a), Some(b)) = (&other.help, &entry.help) {
            if a != b {
                return Err(format!("help differs from that of {them}; one family has one HELP text"));
            }
        }
    }
    Ok(())
}

#[test]
fn indexed_checks_agree_with_a_scan_of_every_earlier_entry() {
    use crate::functions::SplitMix64;
    // Entries drawn from a small pool, so that names, types, labels and help texts collide often.
    let names = ["a", "a_total", "b"];
    let kinds = ["gauge", "counter"];
    let labels = [
        "",
        r#","labels":{"x":"1"}"#,
        r#","labels":{"x":"2"}"#,
        r#","labels":{"x":["1","3"]}"#,
        r#","labels":{"x":"1","y":"1"}"#,
        r#","series":2"#,
        r#","labels":{"series":"1"}"#,
        r#","labels":{"series":"01"}"#,
    ];
    let helps = ["", r#","help":"h1""#, r#","help":"h2""#];
    let mut rng = SplitMix64(7);
    let mut pick = |n: usize| (rng.next_u64() % n as u64) as usize;
    let (mut errors, registry) = (0, Registry::builtin());
    for _ in 0..3000 {
        let count = 2 + pick(5);
        let items: Vec<Value> = (0..count)
            .map(|_| {
                let text = format!(
                    r#"{{"name":"{}","metric_type":"{}","custom_function":"square"{}{}}}"#,
                    names[pick(3)],
                    kinds[pick(2)],
                    labels[pick(labels.len())],
                    helps[pick(3)]
                );
                serde_json::from_str(&text).unwrap()
            })
            .collect();
        let (mut entries, mut seen) = (Vec::new(), Conflicts::default());
        for (index, item) in items.iter().enumerate() {
            let entry = parse_entry(item, "ns", &registry).unwrap();
            let indexed = seen.check(&entry, &entries, &items);
            assert_eq!(indexed, check_by_scan(&entry, &entries, &items), "{items:?}");
            if indexed.is_err() {
                errors += 1;
                break;
            }
            seen.add(index, &entry);
            entries.push(entry);
        }
    }
    // The pool makes most configs wrong somewhere, in all four ways.
    assert!(errors > 1000, "{errors}");
}
