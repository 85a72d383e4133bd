//! The exporter's own metrics, `metrics_generator_*`: build info, ticks, series and reloads.

use super::{format_value, Format};
use crate::names::{SELF_PREFIX, VERSION};

/// The exporter's own state, served as `metrics_generator_*` metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct SelfMetrics {
    pub ticks: u64,
    pub series: u64,
    pub reload_ok: bool,
    /// Unix time of the last successful config load, in seconds.
    pub reload_success_time: f64,
    /// Unix time of start-up, in seconds.
    pub started: f64,
}

impl SelfMetrics {
    /// The build-info family: its name, its HELP text and the version label's value.
    pub fn build_info_family(&self) -> (&'static str, &'static str, &'static str) {
        ("metrics_generator_build_info", "Build information of metrics-generator; the value is always 1.", VERSION)
    }
}

/// Appends the `metrics_generator_*` families.
pub(super) fn render(format: Format, own: &SelfMetrics, out: &mut Vec<u8>) {
    let (mut floats, mut ints) = (ryu::Buffer::new(), itoa::Buffer::new());
    let mut value = |v: f64| format_value(v, &mut floats, &mut ints).to_string();
    let om = format == Format::OpenMetrics;
    let gauge = |out: &mut Vec<u8>, name: &str, help: &str, sample: String| {
        let text = if om {
            format!("# TYPE {SELF_PREFIX}{name} gauge\n# HELP {SELF_PREFIX}{name} {help}\n{SELF_PREFIX}{sample}\n")
        } else {
            format!("# HELP {SELF_PREFIX}{name} {help}\n# TYPE {SELF_PREFIX}{name} gauge\n{SELF_PREFIX}{sample}\n")
        };
        out.extend_from_slice(text.as_bytes());
    };
    gauge(
        out,
        "build_info",
        "Build information of metrics-generator; the value is always 1.",
        format!("build_info{{version=\"{}\"}} 1", VERSION),
    );
    let ticks = value(own.ticks as f64);
    let text = if om {
        format!(
            "# TYPE {SELF_PREFIX}ticks counter\n# HELP {SELF_PREFIX}ticks Ticks since start-up.\n\
             {SELF_PREFIX}ticks_total {ticks}\n{SELF_PREFIX}ticks_created {}\n",
            value(own.started)
        )
    } else {
        format!(
            "# HELP {SELF_PREFIX}ticks_total Ticks since start-up.\n# TYPE {SELF_PREFIX}ticks_total counter\n\
             {SELF_PREFIX}ticks_total {ticks}\n"
        )
    };
    out.extend_from_slice(text.as_bytes());
    gauge(out, "series", "Series served from the config.", format!("series {}", own.series));
    gauge(
        out,
        "config_last_reload_successful",
        "Whether the last config load succeeded (1) or failed (0).",
        format!("config_last_reload_successful {}", u8::from(own.reload_ok)),
    );
    gauge(
        out,
        "config_last_reload_success_timestamp_seconds",
        "Unix time of the last successful config load.",
        format!("config_last_reload_success_timestamp_seconds {}", value(own.reload_success_time)),
    );
}
