//! The exporter's own metrics, `metrics_generator_*`: build info, ticks, series, reloads and the
//! HTTP server's connections.

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
    /// The HTTP server's connections, as of the tick.
    pub connections: Connections,
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
    render_connections(om, &own.connections, out);
}

// ---- Connections (SPEC §12): the connection limit, the evictions and the refusals. ----------
// Kept in this block apart from the other self-metrics: the counts come from the HTTP server
// (tiny_http patch 11), through a source that `serve::start` registers before tick 1.

/// The HTTP server's connections, as of a tick.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Connections {
    /// `--max-connections`.
    pub limit: u64,
    /// Connections open (those being closed included).
    pub open: u64,
    /// Connections closed to make room for a new one, since start-up.
    pub evicted: u64,
    /// New connections closed at once because every open one was making progress, since start-up.
    pub refused: u64,
}

type ConnectionSource = Box<dyn Fn() -> Connections + Send>;

/// Where each tick reads the counts from; none (all zero) before a server starts, as in the modes
/// that do not serve.
static CONNECTIONS: std::sync::Mutex<Option<ConnectionSource>> = std::sync::Mutex::new(None);

/// Makes every later snapshot read the connection counts from `source` (the last one set wins).
pub fn count_connections_with(source: impl Fn() -> Connections + Send + 'static) {
    *CONNECTIONS.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(source));
}

/// The connection counts now.
pub fn connections() -> Connections {
    CONNECTIONS.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|source| source()).unwrap_or_default()
}

fn render_connections(om: bool, c: &Connections, out: &mut Vec<u8>) {
    let p = SELF_PREFIX;
    let family = |out: &mut Vec<u8>, name: &str, kind: &str, help: &str, value: u64| {
        let sample = if kind == "counter" { format!("{name}_total") } else { name.to_string() };
        let text = if om {
            format!("# TYPE {p}{name} {kind}\n# HELP {p}{name} {help}\n{p}{sample} {value}\n")
        } else {
            format!("# HELP {p}{sample} {help}\n# TYPE {p}{sample} {kind}\n{p}{sample} {value}\n")
        };
        out.extend_from_slice(text.as_bytes());
    };
    family(
        out,
        "http_connections_max",
        "gauge",
        "The most client connections open at once (--max-connections).",
        c.limit,
    );
    family(out, "http_connections", "gauge", "Client connections open at the last tick.", c.open);
    family(
        out,
        "http_connections_evicted",
        "counter",
        "Connections closed to make room for a new one: the one waiting longest for a request, or blocking its answer longest.",
        c.evicted,
    );
    family(
        out,
        "http_connections_refused",
        "counter",
        "New connections closed at once because the limit was reached and every open connection was making progress.",
        c.refused,
    );
}
