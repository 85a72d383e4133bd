//! The charts: what each type plots, gaps, generations, the window, and the SVG's text.

use super::*;
use crate::config::{parse, Config, Options};
use crate::functions::Registry;

fn config(json: &str) -> Config {
    parse(json, "t.json", &Options { namespace: "ns".into(), ..Options::default() }, &Registry::builtin()).unwrap()
}

fn plot_of(json: &str, window: Window) -> Plot {
    let config = config(json);
    plot(&config.entries[0], 1, window, &mut Budget::new(u64::MAX)).unwrap()
}

fn points(trace: &Trace) -> Vec<Option<f64>> {
    trace.points.clone()
}

#[test]
fn a_gauge_plots_its_values_tick_by_tick() {
    let plot = plot_of(r#"[{"name":"g","metric_type":"gauge","custom_function":"square"}]"#, Window::ticks(1, 5));
    assert_eq!(plot.traces.len(), 1);
    assert_eq!(points(&plot.traces[0]), [1.0, 4.0, 9.0, 16.0, 25.0].map(Some));
    assert!(plot.generations.is_empty());
}

#[test]
fn ticks_before_start_up_and_outside_active_windows_are_gaps() {
    // Around tick 2: the window reaches back to tick −57, which has no values.
    let plot = plot_of(
        r#"[{"name":"g","metric_type":"gauge","custom_function":"linear","active":{"every":4,"for":2}}]"#,
        Window::around(2),
    );
    let values = points(&plot.traces[0]);
    assert_eq!(values.len(), (2 + AFTER) as usize, "ticks 1 to 62");
    assert_eq!(&values[..6], [Some(0.0), Some(1.0), None, None, Some(4.0), Some(5.0)]);
}

#[test]
fn an_entry_added_by_a_reload_has_no_values_before_its_first_tick() {
    let config = config(r#"[{"name":"g","metric_type":"gauge","custom_function":"square"}]"#);
    let plot = plot(&config.entries[0], 3, Window::ticks(1, 5), &mut Budget::new(u64::MAX)).unwrap();
    assert_eq!(points(&plot.traces[0]), [None, None, Some(1.0), Some(4.0), Some(9.0)]);
}

/// The landing page replays to the window's first tick by jumping: what it plots is what the
/// series serves there, tick by tick.
#[test]
fn a_window_far_from_start_up_plots_what_is_served_there() {
    let json = r#"[{"name":"r","metric_type":"gauge","custom_function":"normal","reset_interval":7,"series":3,
                    "labels":{"x":"y"}}]"#;
    let config = config(json);
    let entry = &config.entries[0];
    let plot = plot(entry, 1, Window::around(5000), &mut Budget::new(u64::MAX)).unwrap();
    let mut replay = Replay::new(entry, 0, 1);
    let mut served = Vec::new();
    while replay.tick() < 5000 + AFTER {
        replay.advance();
        if replay.tick() >= 5000 - BEFORE {
            served.push(Some(replay.value()));
        }
    }
    assert_eq!(points(&plot.traces[0]), served);
    // A budget too small for the fast-forward is refused, not approximated.
    let far = Window::around(10_000_000);
    assert!(super::plot(entry, 1, far, &mut Budget::new(10)).is_err());
}

/// A summary's chart draws the quantiles it serves: p50, p90 and p99 of each tick's observations.
#[test]
fn quantiles_are_those_of_each_ticks_observations() {
    let json = r#"[{"name":"s","metric_type":"summary","custom_function":"linear","params":{"start":10,"step":5},
                    "distribution":{"type":"lognormal","sigma":0.7},"observations":"10*i"}]"#;
    let config = config(json);
    let entry = &config.entries[0];
    let plot = plot(entry, 1, Window::ticks(1, 6), &mut Budget::new(u64::MAX)).unwrap();
    assert_eq!(plot.traces.iter().map(|t| t.name).collect::<Vec<_>>(), ["p50", "p90", "p99"]);
    let mut replay = Replay::new(entry, 0, 1);
    for t in 0..6 {
        replay.advance();
        // The summary serves its default quantiles 0.5, 0.9 and 0.99 first.
        for (q, trace) in plot.traces.iter().enumerate() {
            assert_eq!(trace.points[t], Some(replay.observed()[q]), "tick {}, {}", t + 1, trace.name);
        }
    }
    let p = |q: usize, t: usize| plot.traces[q].points[t].unwrap();
    assert!(p(0, 0) < p(1, 0) && p(1, 0) < p(2, 0));
}

#[test]
fn a_tick_without_observations_is_a_gap_in_the_quantiles() {
    let plot = plot_of(
        r#"[{"name":"h","metric_type":"histogram","custom_function":"constant","params":{"value":3},
             "distribution":{"type":"constant"},"observations":"i % 2"}]"#,
        Window::ticks(1, 4),
    );
    for trace in &plot.traces {
        assert_eq!(points(trace), [Some(3.0), None, Some(3.0), None], "{}", trace.name);
    }
}

#[test]
fn a_stateset_plots_its_state_and_names_the_states() {
    let json = r#"[{"name":"phase","metric_type":"stateset","custom_function":"sequence",
                    "params":{"values":[0,1,2,4]},"states":["starting","ready","draining"]}]"#;
    let plot = plot_of(json, Window::ticks(1, 4));
    assert_eq!(plot.traces[0].name, "state");
    assert_eq!(points(&plot.traces[0]), [0.0, 1.0, 2.0, 1.0].map(Some));
    let config = config(json);
    let svg = chart(&config.entries[0], 1, Window::ticks(1, 4), "c", &mut Budget::new(u64::MAX));
    for name in ["starting", "ready", "draining"] {
        assert!(svg.contains(&format!(">{name}</text>")), "{svg}");
    }
    // A step line: each tick's state held across its width, two points a tick.
    assert_eq!(polylines(&svg)[0].1, 8, "{svg}");
    assert!(svg.contains(": state ready at tick 4 (stateset, sequence)</title>"), "{svg}");
}

#[test]
fn a_churning_entrys_generations_are_marked() {
    let json = r#"[{"name":"g","metric_type":"gauge","custom_function":"linear","churn":{"every":4}}]"#;
    let plot = plot_of(json, Window::ticks(1, 10));
    assert_eq!(plot.generations, [5, 9]);
    // Each generation starts afresh.
    assert_eq!(points(&plot.traces[0]), [0.0, 1.0, 2.0, 3.0, 0.0, 1.0, 2.0, 3.0, 0.0, 1.0].map(Some));
    let svg = chart(&config(json).entries[0], 1, Window::ticks(1, 10), "c", &mut Budget::new(u64::MAX));
    assert_eq!(svg.matches("class=\"generation\"").count(), 2, "{svg}");
}

/// The polylines of an SVG: each one's trace and number of points.
fn polylines(svg: &str) -> Vec<(String, usize)> {
    svg.split("<polyline ")
        .skip(1)
        .map(|rest| {
            let attr = |name: &str| rest.split(&format!("{name}=\"")).nth(1).unwrap().split('"').next().unwrap();
            (attr("data-trace").to_string(), attr("points").split(' ').count())
        })
        .collect()
}

#[test]
fn gaps_split_the_line_and_a_lone_tick_is_a_dot() {
    let json = r#"[{"name":"g","metric_type":"gauge","custom_function":"linear","active":{"every":5,"for":3}}]"#;
    // Ticks 1–3, 6–8, 11: two lines of three points and a dot.
    let svg = chart(&config(json).entries[0], 1, Window::ticks(1, 11), "c", &mut Budget::new(u64::MAX));
    assert_eq!(polylines(&svg), [("value".to_string(), 3), ("value".to_string(), 3)], "{svg}");
    assert_eq!(svg.matches("<circle ").count(), 1, "{svg}");
}

#[test]
fn each_chart_has_a_text_alternative_and_no_colour_alone_tells_lines_apart() {
    let json = r#"[{"name":"lat","metric_type":"histogram","custom_function":"constant","params":{"value":2},
                    "labels":{"route":"</svg><script>"},"series":3}]"#;
    let svg = chart(&config(json).entries[0], 1, Window::around(1), "c7", &mut Budget::new(u64::MAX));
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-entry=\"ns_lat\""));
    assert!(svg.contains("role=\"img\" aria-labelledby=\"c7-title\""), "{svg}");
    let title = svg.split("<title id=\"c7-title\">").nth(1).unwrap().split("</title>").next().unwrap();
    assert_eq!(
        title,
        "ns_lat{route=&quot;&lt;/svg&gt;&lt;script&gt;&quot;,series=&quot;0&quot;} (the first of 3 series): \
         p50 1.366, p90 4.508, p99 8.399 at tick 1 (histogram, constant)"
    );
    assert!(!svg.contains("<script"), "{svg}");
    // Three lines, each with a dash pattern of its own, and a legend that shows them.
    let dashes: Vec<&str> =
        ["p50", "p90", "p99"].iter().map(|q| TRACE_STYLES.iter().find(|s| s.0 == *q).unwrap().2).collect();
    assert_eq!(dashes.iter().collect::<std::collections::HashSet<_>>().len(), 3);
    for q in ["p50", "p90", "p99"] {
        assert!(svg.contains(&format!(">{q}</text>")), "legend lacks {q}: {svg}");
    }
    // Tick 1 to now+60: 61 points per line, and now marked.
    assert_eq!(polylines(&svg).iter().map(|(_, n)| *n).collect::<Vec<_>>(), [61, 61, 61]);
    assert_eq!(svg.matches("class=\"now\"").count(), 1);
}

#[test]
fn a_series_not_served_now_says_so() {
    let json = r#"[{"name":"g","metric_type":"gauge","custom_function":"square","active":{"every":10,"for":2}}]"#;
    let svg = chart(&config(json).entries[0], 1, Window::around(5), "c", &mut Budget::new(u64::MAX));
    assert!(svg.contains("<title id=\"c-title\">ns_g: not served at tick 5 (gauge, square)</title>"), "{svg}");
    let svg = chart(&config(json).entries[0], 1, Window::around(12), "c", &mut Budget::new(u64::MAX));
    assert!(svg.contains("<title id=\"c-title\">ns_g: 144 at tick 12 (gauge, square)</title>"), "{svg}");
}

#[test]
fn a_chart_too_long_to_replay_says_so() {
    let json = r#"[{"name":"g","metric_type":"gauge","custom_function":"random_walk"}]"#;
    let svg = chart(&config(json).entries[0], 1, Window::around(1_000_000), "c", &mut Budget::new(1000));
    assert!(svg.contains("not drawn: too long to replay"), "{svg}");
    assert!(svg.contains("role=\"img\""), "{svg}");
}

#[test]
fn short_numbers_for_the_axes() {
    let cases = [(0.0, "0"), (1.0, "1"), (0.27391, "0.2739"), (99.7316, "99.73"), (2048.0, "2048"), (1e9, "1.000e9")];
    for (v, text) in cases {
        assert_eq!(svg::short(v), text, "{v}");
    }
}

#[test]
fn pictures_are_named_after_their_entries() {
    let config = config(
        r#"[{"name":"a","metric_type":"gauge","custom_function":"square","labels":{"x":"1"}},
            {"name":"a","metric_type":"gauge","custom_function":"square","labels":{"x":"2"}},
            {"name":"b","metric_type":"gauge","custom_function":"power"}]"#,
    );
    let names: Vec<String> = pictures(&config, 3).into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["a.svg", "a-1.svg", "b.svg"]);
    let document = document(&config, 3);
    assert_eq!(document.matches("class=\"chart\"").count(), 3);
    assert!(document.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{document}");
}

/// With `--shard`, a chart draws the shard's first series, named as such, and an entry with no
/// series in the shard is a frame that says so rather than another shard's values.
#[test]
fn a_shard_charts_its_own_first_series() {
    let json = r#"[{"name":"a","metric_type":"gauge","custom_function":"uniform","series":2},
                   {"name":"b","metric_type":"gauge","custom_function":"uniform","series":4}]"#;
    let shard = crate::config::Shard { index: 2, count: 3 };
    let options = Options { namespace: "ns".into(), shard: Some(shard), ..Options::default() };
    let sharded = parse(json, "t.json", &options, &Registry::builtin()).unwrap();
    let whole = config(json);
    let window = Window::ticks(1, 3);
    let mut budget = Budget::new(u64::MAX);
    // Global number 2 is series 0 of `b`; series 3 of `b` (global 5) is the shard's other one.
    let b = plot(&sharded.entries[1], 1, window, &mut budget).unwrap();
    let mut own = crate::engine::Replay::new(&whole.entries[1], 0, 1);
    let expected: Vec<Option<f64>> = (0..3)
        .map(|_| {
            own.advance();
            Some(own.value())
        })
        .collect();
    assert_eq!(points(&b.traces[0]), expected);
    let svg = chart(&sharded.entries[1], 1, window, "c1", &mut budget);
    assert!(svg.contains("ns_b{series=&quot;0&quot;} (the first of 2 series)"), "{svg}");
    // In shard 1 of 3, `a`'s only series is its series 1 (global 1): the chart follows it.
    let options =
        Options { namespace: "ns".into(), shard: Some(crate::config::Shard { index: 1, count: 3 }), ..options };
    let other = parse(json, "t.json", &options, &Registry::builtin()).unwrap();
    let a = plot(&other.entries[0], 1, window, &mut budget).unwrap();
    let mut series_1 = crate::engine::Replay::new(&whole.entries[0], 1, 1);
    let expected: Vec<Option<f64>> = (0..3)
        .map(|_| {
            series_1.advance();
            Some(series_1.value())
        })
        .collect();
    assert_eq!(points(&a.traces[0]), expected);
    let none = chart(&sharded.entries[0], 1, window, "c0", &mut budget);
    assert!(none.contains(">no series in this shard</text>") && !none.contains("<polyline"), "{none}");
}
