//! Rendering: value formatting, escaping, and whole outputs of both formats.

use super::*;
use crate::config::{parse, Options};
use crate::functions::Registry;
use std::borrow::Cow;

#[track_caller]
fn check_value(v: f64, expected: &str) {
    let (mut f, mut i) = (ryu::Buffer::new(), itoa::Buffer::new());
    let text = format_value(v, &mut f, &mut i);
    assert_eq!(text, expected);
    if v.is_finite() {
        assert_eq!(text.parse::<f64>().unwrap(), v, "round trip of {text}");
    }
}

#[test]
fn values() {
    check_value(256.0, "256");
    check_value(0.0, "0");
    check_value(-3.0, "-3");
    check_value(0.1, "0.1");
    check_value(2.5, "2.5");
    check_value(9_007_199_254_740_992.0, "9007199254740992");
    check_value(9_007_199_254_740_994.0, "9007199254740994");
    check_value(1e16, "1e16");
    check_value(-1.5e300, "-1.5e300");
    check_value(143f64.powf(143.0), "1.6332525972973913e308");
    check_value(1e-7, "1e-7");
    check_value(f64::INFINITY, "+Inf");
    check_value(f64::NEG_INFINITY, "-Inf");
    check_value(f64::NAN, "NaN");
    check_value(f64::MAX, "1.7976931348623157e308");
}

#[test]
fn escaping() {
    let cases: &[(&str, &str, &str)] = &[
        ("plain", "plain", "plain"),
        ("a\\b", "a\\\\b", "a\\\\b"),
        ("say \"hi\"", "say \"hi\"", "say \\\"hi\\\""),
        ("two\nlines", "two\\nlines", "two\\nlines"),
        ("ünïcødé ✓", "ünïcødé ✓", "ünïcødé ✓"),
    ];
    for (input, help, label) in cases {
        assert_eq!(escape_help(input), *help, "help {input:?}");
        assert_eq!(escape_label_value(input), *label, "label {input:?}");
    }
    assert!(matches!(escape_label_value("plain"), Cow::Borrowed(_)));
}

fn rendered(format: Format) -> String {
    let config = parse(
        r#"[{"name":"b","metric_type":"gauge","custom_function":"square","labels":{"k":"1"}},
                {"name":"a","metric_type":"counter","custom_function":"square","help":"A \\ \"counter\""},
                {"name":"b","metric_type":"gauge","custom_function":"square","labels":{"k":"2"}}]"#,
        "t",
        &Options { namespace: "ns".into(), ..Options::default() },
        &Registry::builtin(),
    )
    .unwrap();
    let own = SelfMetrics {
        ticks: 3,
        series: 3,
        reload_ok: true,
        reload_success_time: 1000.0,
        started: 1000.0,
        connections: Connections { limit: 256, open: 2, evicted: 5, refused: 1 },
        remote_write: None,
        shard: None,
    };
    let sample = TickValues {
        values: &[1.0, 2.5, 3.0],
        cycle_starts: &[1, 2, 1],
        observed: &[],
        native: &[],
        tick: 3,
        clock: Grid { origin_ms: 1_000_000, interval_ms: 500 },
        self_metrics: &own,
    };
    let mut out = Vec::new();
    Catalog::new(&config).render(format, &sample, &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn text_format() {
    assert_eq!(
        rendered(Format::Text),
        r#"# HELP ns_b Synthetic gauge following the square function.
# TYPE ns_b gauge
ns_b{k="1"} 1
ns_b{k="2"} 3
# HELP ns_a_total A \\ "counter"
# TYPE ns_a_total counter
ns_a_total 2.5
# HELP metrics_generator_build_info Build information of metrics-generator; the value is always 1.
# TYPE metrics_generator_build_info gauge
metrics_generator_build_info{version="VERSION"} 1
# HELP metrics_generator_ticks_total Ticks since start-up.
# TYPE metrics_generator_ticks_total counter
metrics_generator_ticks_total 3
# HELP metrics_generator_series Series served from the config.
# TYPE metrics_generator_series gauge
metrics_generator_series 3
# HELP metrics_generator_config_last_reload_successful Whether the last config load succeeded (1) or failed (0).
# TYPE metrics_generator_config_last_reload_successful gauge
metrics_generator_config_last_reload_successful 1
# HELP metrics_generator_config_last_reload_success_timestamp_seconds Unix time of the last successful config load.
# TYPE metrics_generator_config_last_reload_success_timestamp_seconds gauge
metrics_generator_config_last_reload_success_timestamp_seconds 1000
# HELP metrics_generator_http_connections_max The most client connections open at once (--max-connections).
# TYPE metrics_generator_http_connections_max gauge
metrics_generator_http_connections_max 256
# HELP metrics_generator_http_connections Client connections open at the last tick.
# TYPE metrics_generator_http_connections gauge
metrics_generator_http_connections 2
# HELP metrics_generator_http_connections_evicted_total Connections closed to make room for a new one: the one waiting longest for a request, or blocking its answer longest.
# TYPE metrics_generator_http_connections_evicted_total counter
metrics_generator_http_connections_evicted_total 5
# HELP metrics_generator_http_connections_refused_total New connections closed at once because the limit was reached and every open connection was making progress.
# TYPE metrics_generator_http_connections_refused_total counter
metrics_generator_http_connections_refused_total 1
"#
        .replace("VERSION", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn openmetrics_format() {
    let om = rendered(Format::OpenMetrics);
    let configured = om.split("# TYPE metrics_generator_build_info").next().unwrap();
    assert_eq!(
        configured,
        r#"# TYPE ns_b gauge
# HELP ns_b Synthetic gauge following the square function.
ns_b{k="1"} 1
ns_b{k="2"} 3
# TYPE ns_a counter
# HELP ns_a A \\ \"counter\"
ns_a_total 2.5
ns_a_created 1000.5
"#
    );
    assert!(om.contains("\nmetrics_generator_ticks_total 3\nmetrics_generator_ticks_created 1000\n"), "{om}");
    assert!(om.ends_with("\n# EOF\n"), "{om}");
}
