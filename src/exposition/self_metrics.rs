//! The exporter's own metrics, `metrics_generator_*`: build info, ticks, series, reloads, the
//! HTTP server's connections and, when they are on, the shard and remote write.

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
    /// Remote write's counts as of the tick, when `--remote-write` is on.
    pub remote_write: Option<RemoteWriteCounts>,
    /// `--shard K/N`, when this process is one of several.
    pub shard: Option<crate::config::Shard>,
}

/// One of the exporter's own families: its name after the prefix (for counters, without
/// `_total`), type, HELP text, one label pair or none, its value, and for counters the time they
/// started counting (served as `_created` in OpenMetrics) where there is one.
pub(super) struct SelfFamily {
    pub name: &'static str,
    pub counter: bool,
    pub help: &'static str,
    pub label: Option<(&'static str, &'static str)>,
    pub value: f64,
    pub created: Option<f64>,
}

impl SelfMetrics {
    /// Every family, in the order they are served: the one list every format renders.
    pub(super) fn families(&self) -> Vec<SelfFamily> {
        let family = |name, counter, help, value| SelfFamily { name, counter, help, label: None, value, created: None };
        let c = &self.connections;
        let mut families = vec![
            SelfFamily {
                label: Some(("version", VERSION)),
                ..family("build_info", false, "Build information of metrics-generator; the value is always 1.", 1.0)
            },
            SelfFamily { created: Some(self.started), ..family("ticks", true, "Ticks since start-up.", self.ticks as f64) },
            family("series", false, "Series served from the config.", self.series as f64),
            family(
                "config_last_reload_successful",
                false,
                "Whether the last config load succeeded (1) or failed (0).",
                f64::from(u8::from(self.reload_ok)),
            ),
            family(
                "config_last_reload_success_timestamp_seconds",
                false,
                "Unix time of the last successful config load.",
                self.reload_success_time,
            ),
            family(
                "http_connections_max",
                false,
                "The most client connections open at once (--max-connections).",
                c.limit as f64,
            ),
            family("http_connections", false, "Client connections open at the last tick.", c.open as f64),
            family(
                "http_connections_evicted",
                true,
                "Connections closed to make room for a new one: the one waiting longest for a request, or blocking its answer longest.",
                c.evicted as f64,
            ),
            family(
                "http_connections_refused",
                true,
                "New connections closed at once because the limit was reached and every open connection was making progress.",
                c.refused as f64,
            ),
        ];
        if let Some(shard) = self.shard {
            families.extend([
                family(
                    "shard_index",
                    false,
                    "K of --shard K/N: which shard of the config this process serves.",
                    shard.index as f64,
                ),
                family(
                    "shard_count",
                    false,
                    "N of --shard K/N: how many shards the config is split into.",
                    shard.count as f64,
                ),
            ]);
        }
        if let Some(r) = &self.remote_write {
            families.extend([
                family(
                    "remote_write_samples_sent",
                    true,
                    "Samples (stale markers included) the remote-write receiver accepted.",
                    r.sent as f64,
                ),
                family(
                    "remote_write_samples_retried",
                    true,
                    "Samples sent again after a 5xx, a 429 or a connection error, once per retry.",
                    r.retried as f64,
                ),
                family(
                    "remote_write_samples_failed",
                    true,
                    "Samples the receiver refused with a status other than 2xx, 429 or 5xx: not sent again.",
                    r.failed as f64,
                ),
                family(
                    "remote_write_samples_dropped",
                    true,
                    "Samples of ticks dropped unsent from the full queue (--remote-write-queue).",
                    r.dropped as f64,
                ),
                family(
                    "remote_write_last_success_timestamp_seconds",
                    false,
                    "Unix time of the last request the remote-write receiver accepted; 0 before the first.",
                    r.last_success,
                ),
            ]);
        }
        families
    }
}

/// Appends the `metrics_generator_*` families in the text format or OpenMetrics.
pub(super) fn render(format: Format, own: &SelfMetrics, out: &mut Vec<u8>) {
    let (mut floats, mut ints) = (ryu::Buffer::new(), itoa::Buffer::new());
    let om = format == Format::OpenMetrics;
    let p = SELF_PREFIX;
    for f in own.families() {
        let (name, kind) = (f.name, if f.counter { "counter" } else { "gauge" });
        let sample = if f.counter { format!("{name}_total") } else { name.to_string() };
        let labels = f.label.map_or(String::new(), |(label, value)| format!("{{{label}=\"{value}\"}}"));
        let value = format_value(f.value, &mut floats, &mut ints).to_string();
        let text = if om {
            let mut text =
                format!("# TYPE {p}{name} {kind}\n# HELP {p}{name} {}\n{p}{sample}{labels} {value}\n", f.help);
            if let Some(created) = f.created {
                text.push_str(&format!("{p}{name}_created {}\n", format_value(created, &mut floats, &mut ints)));
            }
            text
        } else {
            format!("# HELP {p}{sample} {}\n# TYPE {p}{sample} {kind}\n{p}{sample}{labels} {value}\n", f.help)
        };
        out.extend_from_slice(text.as_bytes());
    }
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

// ---- Remote write (SPEC §11): what the sender thread counts. ---------------------------------
// Published the way the connection counts are: a source that `remote::start` registers.

/// Remote write's counts since start-up, as of a tick.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RemoteWriteCounts {
    /// Samples the receiver accepted.
    pub sent: u64,
    /// Samples sent again, once per retry.
    pub retried: u64,
    /// Samples refused for good.
    pub failed: u64,
    /// Samples of ticks dropped from the full queue.
    pub dropped: u64,
    /// Unix time of the last accepted request, in seconds; 0 before.
    pub last_success: f64,
}

type RemoteWriteSource = Box<dyn Fn() -> RemoteWriteCounts + Send>;

/// Where each tick reads remote write's counts from; none without `--remote-write`.
static REMOTE_WRITE: std::sync::Mutex<Option<RemoteWriteSource>> = std::sync::Mutex::new(None);

/// Makes every later snapshot serve remote write's counts from `source`.
pub fn count_remote_write_with(source: impl Fn() -> RemoteWriteCounts + Send + 'static) {
    *REMOTE_WRITE.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(source));
}

/// Remote write's counts now, when it is on.
pub fn remote_write() -> Option<RemoteWriteCounts> {
    REMOTE_WRITE.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|source| source())
}
