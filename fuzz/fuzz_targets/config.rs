//! Fuzzes config loading with any bytes: the result is a config or one clear error, never a panic
//! or a hang, and a config that loads also ticks and renders, serving only finite values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metrics_generator::config::{parse_bytes, Options};
use metrics_generator::engine::State;
use metrics_generator::exposition::Format;
use metrics_generator::Registry;
use std::sync::OnceLock;
use std::time::Duration;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::builtin)
}

fuzz_target!(|data: &[u8]| {
    // Few series, so that rendering a config that loads stays cheap.
    let options = Options { namespace: "ns".into(), max_series: 1000, shard: None };
    match parse_bytes(data.to_vec(), "fuzz.json", &options, registry()) {
        Err(e) => {
            let message = e.to_string();
            assert_eq!(e.exit_code(), 2, "{message}");
            // One line, except that a bad expression (`expr`'s param, a histogram's `observations`)
            // adds its source and a caret under it.
            let lines: Vec<&str> = message.split('\n').collect();
            let pointed = lines.len() == 3 && lines[2].trim() == "^";
            assert!(lines.len() == 1 || pointed, "{message:?}");
            assert!(!message.chars().any(|c| c.is_control() && c != '\n'), "control character in {message:?}");
            // Long names and values are cut: a message stays readable whatever the input.
            assert!(message.len() < 2000, "a message of {} bytes: {message}", message.len());
        }
        Ok(config) => {
            let state = State::new(config, Duration::from_secs(1));
            for _ in 0..3 {
                state.tick();
            }
            let snapshot = state.snapshot();
            assert!(snapshot.values.iter().all(|v| v.is_finite()), "{:?}", snapshot.values);
            assert!(snapshot.body(Format::Text, false).ends_with(b"\n"));
            assert!(snapshot.body(Format::OpenMetrics, false).ends_with(b"# EOF\n"));
        }
    }
});
