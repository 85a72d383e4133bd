//! Rendering values into the Prometheus text format 0.0.4 and OpenMetrics 1.0: the [`Catalog`],
//! which holds every byte of the output that does not change between ticks (`catalog`), the
//! exporter's own metrics (`self_metrics`), and escaping and value formatting (`escape`).
//!
//! Pure code: no I/O, no locks. Everything that depends only on the config (family headers,
//! series names with their escaped labels) is rendered once when the catalog is built; a render
//! then only appends values.

mod catalog;
mod escape;
mod family;
mod lines;
mod protobuf;
mod self_metrics;
#[cfg(test)]
mod tests;

pub use catalog::Catalog;
pub use escape::{escape_help, escape_label_value, format_value, go_float, openmetrics_float, write_label_set};
pub use family::{families, Family};
pub use lines::{lines, Line, LineValue};
pub use self_metrics::{
    connections, count_connections_with, count_remote_write_with, remote_write, Connections, RemoteWriteCounts,
    SelfMetrics,
};

use crate::config::NativeCounts;
use crate::time::Grid;

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0.0 text.
    OpenMetrics,
    /// Prometheus's protobuf format: length-delimited `MetricFamily` messages.
    Protobuf,
}

impl Format {
    /// A short name for log lines.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text 0.0.4",
            Format::OpenMetrics => "OpenMetrics 1.0.0",
            Format::Protobuf => "protobuf",
        }
    }

    /// The `Content-Type` of a body in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Protobuf => {
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
            }
        }
    }
}

/// One tick's values, as a render needs them.
pub struct TickValues<'a> {
    /// One value per config entry, or per series where they differ (see `Entry::value_count`).
    pub values: &'a [f64],
    /// The tick at which each current cycle began: one per config entry, or per series where
    /// each restarts on its own (see `Entry::cycle_start_count`).
    pub cycle_starts: &'a [u64],
    /// The accumulated observations of histograms and summaries: per entry with observations,
    /// `Observe::width` values per value slot (see `Entry::value_count`), in config order.
    pub observed: &'a [f64],
    /// The native buckets of histograms that have them: per such entry one per value slot.
    pub native: &'a [NativeCounts],
    /// The tick these values belong to.
    pub tick: u64,
    /// Maps tick numbers to Unix times, for OpenMetrics `_created` samples and exemplars.
    pub clock: Grid,
    pub self_metrics: &'a SelfMetrics,
}
