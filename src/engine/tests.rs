//! The engine as a whole: ticks, bodies, reloads, wall-clock start, catching up, and seeded
//! fan-outs served exactly as their own sequences replay.

use super::*;
use crate::config::Config;
use crate::config::{parse, Options};
use crate::exposition::format_value;
use crate::exposition::Format;
use crate::functions::Registry;
use crate::time::{now_ms, Align};
use std::time::Duration;

fn config(text: &str) -> Config {
    parse(text, "t", &Options { namespace: String::new(), ..Options::default() }, &Registry::builtin()).unwrap()
}

#[test]
fn ticks_advance_every_series_together() {
    let state = State::new(
        config(
            r#"[{"name":"s","metric_type":"gauge","custom_function":"square"},
                {"name":"f","metric_type":"gauge","custom_function":"fibonacci","reset_interval":2}]"#,
        ),
        Duration::from_secs(1),
    );
    let seen: Vec<Vec<f64>> = (0..4)
        .map(|_| {
            state.tick();
            state.snapshot().values.to_vec()
        })
        .collect();
    assert_eq!(seen, [vec![1.0, 1.0], vec![4.0, 1.0], vec![9.0, 1.0], vec![16.0, 1.0]]);
    assert_eq!(state.snapshot().ticks, 4);
    let text = String::from_utf8_lossy(state.snapshot().body(Format::Text, false)).into_owned();
    assert!(text.contains("\ns 16\n"), "{text}");
    assert!(text.contains("\nmetrics_generator_ticks_total 4\n"), "{text}");
}

#[test]
fn gzip_bodies_decode_to_the_plain_ones() {
    use std::io::Read as _;
    let state = State::new(
        config(r#"[{"name":"s","metric_type":"counter","custom_function":"square"}]"#),
        Duration::from_secs(1),
    );
    state.tick();
    let snapshot = state.snapshot();
    for format in [Format::Text, Format::OpenMetrics] {
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(snapshot.body(format, true)).read_to_end(&mut decoded).unwrap();
        assert_eq!(decoded, snapshot.body(format, false));
    }
}

/// The landing page is drawn once per snapshot, however many ask for it, and afresh for the
/// next tick's snapshot.
#[test]
fn a_snapshot_draws_its_page_once() {
    let state = State::new(
        config(r#"[{"name":"s","metric_type":"counter","custom_function":"square"}]"#),
        Duration::from_secs(1),
    );
    state.tick();
    let drawn = std::sync::atomic::AtomicU64::new(0);
    let draw = |snapshot: &Snapshot| {
        drawn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("tick {}", snapshot.ticks).into_bytes()
    };
    let snapshot = state.snapshot();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| assert_eq!(state.snapshot().page(draw), b"tick 1"));
        }
    });
    assert_eq!(snapshot.page(draw), b"tick 1");
    assert_eq!(drawn.load(std::sync::atomic::Ordering::Relaxed), 1);
    state.tick();
    assert_eq!(state.snapshot().page(draw), b"tick 2");
    assert_eq!(drawn.load(std::sync::atomic::Ordering::Relaxed), 2);
}

#[test]
fn reload_keeps_unchanged_series_in_place() {
    let state = State::new(
        config(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"square"},
                {"name":"b","metric_type":"gauge","custom_function":"square"}]"#,
        ),
        Duration::from_secs(1),
    );
    for _ in 0..3 {
        state.tick();
    }
    let stats = state
        .reload(config(
            r#"[{"name":"c","metric_type":"gauge","custom_function":"square"},
            {"name":"a","metric_type":"gauge","custom_function":"square","help":"new help"},
            {"name":"b","metric_type":"gauge","custom_function":"square","reset_interval":2}]"#,
        ))
        .unwrap();
    assert_eq!(stats, ReloadStats { kept: 1, started: 1, changed: 1, removed: 0 });
    assert_eq!(state.snapshot().values[..], [1.0, 9.0, 1.0]);
    state.tick();
    assert_eq!(state.snapshot().values[..], [4.0, 16.0, 4.0]);
    assert_eq!(state.snapshot().ticks, 4);
}

#[test]
fn reload_records_the_tick_new_series_start_at() {
    let state = State::new(
        config(r#"[{"name":"a","metric_type":"gauge","custom_function":"square"}]"#),
        Duration::from_secs(1),
    );
    for _ in 0..3 {
        state.tick();
    }
    state
        .reload(config(
            r#"[{"name":"a","metric_type":"gauge","custom_function":"square"},
                {"name":"b","metric_type":"gauge","custom_function":"square"}]"#,
        ))
        .unwrap();
    let snapshot = state.snapshot();
    assert_eq!(
        (&snapshot.starts[..], &snapshot.values[..], &snapshot.cycle_starts[..]),
        (&[1, 3][..], &[9.0, 1.0][..], &[1, 3][..])
    );
}

#[test]
fn wall_clock_start_serves_the_clock_s_tick_fast_forwarded() {
    let before = now_ms();
    let state = State::start(
        config(
            r#"[{"name":"s","metric_type":"gauge","custom_function":"square","reset_interval":1000},
                {"name":"f","metric_type":"counter","custom_function":"fibonacci"}]"#,
        ),
        Duration::from_millis(250),
        Align::WallClock,
    )
    .unwrap();
    let after = now_ms();
    let snapshot = state.snapshot();
    let tick = snapshot.ticks;
    assert!(snapshot.grid.tick_at(before) <= Some(tick) && Some(tick) <= snapshot.grid.tick_at(after), "{tick}");
    let position = ((tick - 1) % 1000 + 1) as f64;
    assert_eq!(snapshot.values[0], position * position);
    // Fibonacci restarts after 1476 values: the same phase of a near tick, replayed.
    let near = (tick - 1) % 1476 + 1;
    let mut replay = Sequence::of(&snapshot.config.entries[1], 0);
    for n in 1..=near {
        replay.advance(n);
    }
    assert_eq!((snapshot.values[1], snapshot.cycle_starts[1] % 1476), (replay.value(), replay.cycle_start() % 1476));
    // The process ran one tick, whatever its number.
    let text = String::from_utf8_lossy(snapshot.body(Format::Text, false)).into_owned();
    assert!(text.contains("\nmetrics_generator_ticks_total 1\n"), "{text}");
}

#[test]
fn catching_up_at_once_gives_what_ticking_one_at_a_time_gives() {
    let text = r#"[{"name":"w","metric_type":"gauge","custom_function":"random_walk","reset_interval":70},
                   {"name":"p","metric_type":"counter","custom_function":"power"},
                   {"name":"e","metric_type":"gauge","custom_function":"expr","params":{"expr":"n + 1/(n % 11)"}}]"#;
    let (one, all) =
        (State::new(config(text), Duration::from_secs(1)), State::new(config(text), Duration::from_secs(1)));
    one.tick();
    all.tick();
    for _ in 0..500 {
        one.tick();
    }
    assert_eq!(all.tick_to(501), 501);
    let (a, b) = (one.snapshot(), all.snapshot());
    assert_eq!((a.ticks, &a.values, &a.cycle_starts), (b.ticks, &b.values, &b.cycle_starts));
}

#[test]
fn seeded_series_of_a_fanned_out_entry_differ_and_others_share() {
    let state = State::new(
        config(
            r#"[{"name":"u","metric_type":"gauge","custom_function":"uniform","series":3},
                {"name":"s","metric_type":"gauge","custom_function":"square","series":2}]"#,
        ),
        Duration::from_secs(1),
    );
    state.tick();
    let values = state.snapshot().values.clone();
    // Three values for the seeded entry, one shared by the square's two series.
    assert_eq!(values.len(), 4);
    assert!(values[0] != values[1] && values[1] != values[2], "{values:?}");
    assert_eq!(values[3], 1.0);
    let text = String::from_utf8(state.snapshot().body(Format::Text, false).to_vec()).unwrap();
    let single = config(r#"[{"name":"u","metric_type":"gauge","custom_function":"uniform"}]"#);
    let alone = State::new(single, Duration::from_secs(1));
    alone.tick();
    // Series 0 of a fanned-out entry has the values of the entry on its own.
    assert_eq!(alone.snapshot().values[0], values[0]);
    assert!(text.contains(&format!("u{{series=\"2\"}} {}\n", values[2])), "{text}");
    assert!(text.contains("s{series=\"1\"} 1\n"), "{text}");
}

/// Seeded entries of every built-in, with and without lanes, between entries whose series
/// share values: what the state serves for each series must be what its own sequence gives.
const SEEDED: &str = r#"[
    {"name":"u","metric_type":"gauge","custom_function":"uniform","series":1001},
    {"name":"s","metric_type":"gauge","custom_function":"square","series":3,"reset_interval":5},
    {"name":"n","metric_type":"counter","custom_function":"normal","series":1001,"reset_interval":7,
     "params":{"seed":3}},
    {"name":"w","metric_type":"gauge","custom_function":"random_walk","series":1001,"reset_interval":120},
    {"name":"u1","metric_type":"counter","custom_function":"uniform","series":1001,"reset_interval":1,
     "params":{"min":5,"max":6}},
    {"name":"big","metric_type":"counter","custom_function":"normal","series":3,
     "params":{"mean":1.7e308,"sd":1e307}},
    {"name":"w0","metric_type":"gauge","custom_function":"random_walk","series":1001,"params":{"step":4}}
]"#;

/// The series checked in each entry.
const CHECKED: [u64; 5] = [0, 1, 2, 7, 1000];

/// Each checked series' own sequence (entry index, series, sequence), the reference.
fn references(config: &Config) -> Vec<(usize, u64, Sequence)> {
    let mut refs = Vec::new();
    for (index, entry) in config.entries.iter().enumerate() {
        for k in CHECKED.into_iter().filter(|&k| k < entry.series) {
            refs.push((index, k, Sequence::of(entry, k)));
        }
    }
    refs
}

/// Asserts that the snapshot serves each reference's value and cycle start, in its values,
/// its cycle starts, and the text and OpenMetrics bodies (`_created` for counters).
#[track_caller]
fn assert_serves(what: &str, snapshot: &Snapshot, refs: &[(usize, u64, Sequence)], bodies: bool) {
    let entries = &snapshot.config.entries;
    let text = bodies.then(|| String::from_utf8(snapshot.body(Format::Text, false).to_vec()).unwrap());
    let om = bodies.then(|| String::from_utf8(snapshot.body(Format::OpenMetrics, false).to_vec()).unwrap());
    let (mut floats, mut ints) = (ryu::Buffer::new(), itoa::Buffer::new());
    for (index, k, reference) in refs {
        let entry = &entries[*index];
        let unit: u64 =
            entries[..*index].iter().map(Entry::value_count).sum::<u64>() + if entry.per_series { *k } else { 0 };
        let cycle: u64 = entries[..*index].iter().map(Entry::cycle_start_count).sum::<u64>()
            + if entry.cycle_start_count() > 1 { *k } else { 0 };
        let served = (snapshot.values[unit as usize].to_bits(), snapshot.cycle_starts[cycle as usize]);
        assert_eq!(
            served,
            (reference.value().to_bits(), reference.cycle_start()),
            "{what}: {} series {k} at tick {}: {} served, {} replayed",
            entry.name,
            snapshot.ticks,
            snapshot.values[unit as usize],
            reference.value()
        );
        let (Some(text), Some(om)) = (&text, &om) else { continue };
        let series = entry.series_name(*k);
        let line = format!("{} {}\n", series, format_value(reference.value(), &mut floats, &mut ints));
        assert!(text.contains(&format!("\n{line}")), "{what}: no {line:?} in the text");
        if entry.kind == crate::config::Kind::Counter {
            let created = series.replacen("_total", "_created", 1);
            let time = format_value(snapshot.grid.seconds(reference.cycle_start()), &mut floats, &mut ints);
            let line = format!("\n{created} {time}\n");
            assert!(om.contains(&line), "{what}: no {line:?} in OpenMetrics");
        }
    }
}

/// Advances every reference to tick `n`.
fn advance(refs: &mut [(usize, u64, Sequence)], n: u64) {
    for (_, _, reference) in refs {
        reference.advance(n);
    }
}

#[test]
fn seeded_series_serve_their_own_sequence_s_values_tick_by_tick() {
    let state = State::new(config(SEEDED), Duration::from_secs(1));
    let mut refs = references(&state.snapshot().config);
    for n in 1..=300 {
        state.tick();
        advance(&mut refs, n);
        assert_serves("tick by tick", &state.snapshot(), &refs, n % 100 == 1);
    }
}

#[test]
fn seeded_series_caught_up_at_once_serve_their_own_sequence_s_values() {
    let state = State::new(config(SEEDED), Duration::from_secs(1));
    let mut refs = references(&state.snapshot().config);
    state.tick();
    advance(&mut refs, 1);
    for (from, to) in [(1, 2), (2, 130), (130, 131), (131, 377)] {
        assert_eq!(state.tick_to(to), to);
        for n in from + 1..=to {
            advance(&mut refs, n);
        }
        assert_serves(&format!("caught up to {to}"), &state.snapshot(), &refs, true);
    }
}

#[test]
fn seeded_series_kept_by_a_reload_serve_their_own_sequence_s_values() {
    let state = State::new(config(SEEDED), Duration::from_secs(1));
    let mut refs = references(&state.snapshot().config);
    for n in 1..=40 {
        state.tick();
        advance(&mut refs, n);
    }
    // The same entries in reverse order, after a new one; "s" changes, so it starts again.
    let mut entries: Vec<serde_json::Value> = serde_json::from_str(SEEDED).unwrap();
    entries.reverse();
    entries.insert(0, serde_json::json!({"name":"x","metric_type":"gauge","custom_function":"uniform","series":1001}));
    entries.iter_mut().find(|e| e["name"] == "s").unwrap()["reset_interval"] = 6.into();
    let stats = state.reload(config(&serde_json::Value::from(entries).to_string())).unwrap();
    assert_eq!(stats, ReloadStats { kept: 5 * 1001 + 3, started: 1001, changed: 3, removed: 0 });
    let snapshot = state.snapshot();
    // Kept entries carry on; the new and the changed one start at tick 40, at once.
    let names: Vec<String> = config(SEEDED).entries.into_iter().map(|e| e.name).collect();
    let mut refs: Vec<(usize, u64, Sequence)> = refs
        .into_iter()
        .filter_map(|(old, k, reference)| {
            let name = &names[old];
            let index = snapshot.config.entries.iter().position(|e| &e.name == name)?;
            (name != "s").then_some((index, k, reference))
        })
        .collect();
    for (index, k, mut reference) in references(&snapshot.config) {
        if ["x", "s"].contains(&snapshot.config.entries[index].name.as_str()) {
            reference = reference.starting_at(40);
            reference.advance(40);
            refs.push((index, k, reference));
        }
    }
    assert_serves("reloaded", &snapshot, &refs, true);
    for n in 41..=300 {
        state.tick();
        advance(&mut refs, n);
        assert_serves("after a reload", &state.snapshot(), &refs, n % 100 == 0);
    }
}

#[test]
fn seeded_series_fast_forwarded_to_the_wall_clock_serve_their_own_sequence_s_values() {
    // A walk with no reset_interval cannot be fast-forwarded to the epoch's tick: refused, as
    // a sequence of its own would be.
    let refused = State::start(config(SEEDED), Duration::from_millis(250), Align::WallClock);
    let message = refused.err().expect("the walk is refused").to_string();
    assert!(message.contains("entry 6 (\"w0\")"), "{message}");
    let mut entries: Vec<serde_json::Value> = serde_json::from_str(SEEDED).unwrap();
    entries.pop();
    let text = serde_json::Value::from(entries).to_string();
    let state = State::start(config(&text), Duration::from_millis(250), Align::WallClock).unwrap();
    let fast_forwarded = |snapshot: &Snapshot, tick: u64| {
        let mut refs = references(&snapshot.config);
        for (_, _, reference) in &mut refs {
            reference.skip_to(tick, &mut Budget::new(FAST_FORWARD_BUDGET)).unwrap();
        }
        refs
    };
    let snapshot = state.snapshot();
    let mut refs = fast_forwarded(&snapshot, snapshot.ticks);
    assert_serves("fast-forwarded", &snapshot, &refs, true);
    for _ in 0..130 {
        let n = state.tick();
        advance(&mut refs, n);
        assert_serves("after a fast-forward", &state.snapshot(), &refs, false);
    }
    // A reload fast-forwards a new entry to the current tick, as if it had always been there.
    let mut entries: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    entries.push(serde_json::json!({"name":"x","metric_type":"gauge","custom_function":"random_walk",
                                    "series":1001,"reset_interval":50,"params":{"seed":5}}));
    state.reload(config(&serde_json::Value::from(entries).to_string())).unwrap();
    let snapshot = state.snapshot();
    let mut refs = fast_forwarded(&snapshot, snapshot.ticks);
    assert_serves("after a wall-clock reload", &snapshot, &refs, true);
    let n = state.tick();
    advance(&mut refs, n);
    assert_serves("a tick after a wall-clock reload", &state.snapshot(), &refs, true);
}

#[test]
fn a_stalled_ticker_makes_health_unhealthy() {
    let text = r#"[{"name":"s","metric_type":"gauge","custom_function":"square"}]"#;
    // Right after a tick, with an interval no pause of the test can reach, health is healthy.
    let state = State::new(config(text), Duration::from_secs(3600));
    state.tick();
    assert!(state.health().healthy, "{:?}", state.health());

    // With a 10 ms interval the test cannot tell how long it was paused, so every answer must be
    // the rule applied to the time it reports: healthy while the last tick is at most two
    // intervals old. Polled (with a deadline) until it turns unhealthy, then a tick makes the last
    // tick recent again.
    let interval = Duration::from_millis(10);
    let state = State::new(config(text), interval);
    let rule = |health: &Health| assert_eq!(health.healthy, health.since_last_tick <= interval * 2, "{health:?}");
    state.tick();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let stalled = loop {
        let health = state.health();
        rule(&health);
        if !health.healthy {
            break health.since_last_tick;
        }
        assert!(std::time::Instant::now() < deadline, "still healthy after 10 s without a tick: {health:?}");
        std::thread::sleep(Duration::from_millis(1));
    };
    state.tick();
    let health = state.health();
    rule(&health);
    assert!(health.since_last_tick < stalled, "a tick did not renew the last tick: {health:?}");
}

/// A histogram that a reload keeps goes on counting from where it was; one that a reload adds
/// (with `--align start`) counts from the reload's tick; a changed one starts again.
#[test]
fn reload_keeps_histogram_counts_in_place() {
    // 20 observations a tick, uniform over [0.4, 0.6]: 5 at or below 0.45, summing to 10.
    let histogram = |name: &str, buckets: &str| {
        format!(
            r#"{{"name":"{name}","metric_type":"histogram","custom_function":"constant","params":{{"value":0.5}},
                "observations":20,"distribution":{{"type":"uniform","width":0.2}},"buckets":{buckets}}}"#
        )
    };
    let state = State::new(config(&format!("[{}]", histogram("kept", "[0.45]"))), Duration::from_secs(1));
    for _ in 0..3 {
        state.tick();
    }
    // kept: bucket, count, sum after 3 ticks.
    assert_eq!(state.snapshot().observed[..], [15.0, 60.0, 30.0]);
    let reloaded = format!("[{},{}]", histogram("added", "[0.45]"), histogram("kept", "[0.45]"));
    let stats = state.reload(config(&reloaded)).unwrap();
    assert_eq!(stats, ReloadStats { kept: 1, started: 1, changed: 0, removed: 0 });
    // The added one holds the observations of the reload's tick; the kept one its three ticks.
    assert_eq!(state.snapshot().observed[..], [5.0, 20.0, 10.0, 15.0, 60.0, 30.0]);
    state.tick();
    assert_eq!(state.snapshot().observed[..], [10.0, 40.0, 20.0, 20.0, 80.0, 40.0]);
    // New buckets make a new definition: the histogram starts again.
    let changed = format!("[{},{}]", histogram("added", "[0.45]"), histogram("kept", "[0.45, 0.52]"));
    let stats = state.reload(config(&changed)).unwrap();
    assert_eq!(stats, ReloadStats { kept: 1, started: 0, changed: 1, removed: 0 });
    assert_eq!(state.snapshot().observed[..], [10.0, 40.0, 20.0, 5.0, 12.0, 20.0, 10.0]);
}
