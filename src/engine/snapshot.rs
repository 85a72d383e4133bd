//! One tick's [`Snapshot`]: the values of every series with what rendering them needs, and each
//! body (format × compression) rendered at most once, by the first scrape that wants it.

use super::state::Engine;
use crate::config::{Config, NativeCounts};
use crate::exposition::{Catalog, Format, SelfMetrics, TickValues};
use crate::time::Grid;
use std::io::Write as _;
use std::sync::{Arc, OnceLock};

/// What one tick produced: the values of every series, with what is needed to render them.
pub struct Snapshot {
    /// The tick these values belong to: 1 is the first at start-up, or, with
    /// `--align wall-clock`, the one at the Unix epoch.
    pub ticks: u64,
    /// One value per config entry in config order, and within an entry one per series when they
    /// differ (see `Entry::value_count`). The engine keeps the same vector for the next tick.
    pub values: Arc<Vec<f64>>,
    /// The accumulated observations of histograms and summaries: per entry that has them,
    /// `Observe::width` values per value slot, in config order.
    pub observed: Arc<Vec<f64>>,
    /// The native buckets of histograms that have them: per such entry one per value slot.
    pub native: Arc<Vec<NativeCounts>>,
    /// The tick at which the current cycle began: one per config entry in config order, and
    /// within an entry one per series when each restarts on its own (see `Entry::cycle_start_count`).
    pub cycle_starts: Vec<u64>,
    /// The config these values come from.
    pub config: Arc<Config>,
    /// The tick of each entry's first value: 1, or the tick at which a reload added it (with
    /// `--align start`; with `--align wall-clock` every entry is as if it had always been there).
    pub starts: Arc<[u64]>,
    /// Where ticks fall in time.
    pub grid: Grid,
    catalog: Arc<Catalog>,
    self_metrics: SelfMetrics,
    /// Text, OpenMetrics and protobuf, each plain and gzipped.
    bodies: [OnceLock<Vec<u8>>; 6],
    /// The landing page, drawn by the HTTP layer (see [`Snapshot::page`]).
    page: OnceLock<Vec<u8>>,
}

impl Snapshot {
    /// The exposition in `format`, gzip-compressed when `gzip`; rendered on first use.
    pub fn body(&self, format: Format, gzip: bool) -> &[u8] {
        let slot = match format {
            Format::Text => 0,
            Format::OpenMetrics => 2,
            Format::Protobuf => 4,
        } + usize::from(gzip);
        self.bodies[slot].get_or_init(|| {
            let sample = TickValues {
                values: &self.values,
                observed: &self.observed,
                native: &self.native,
                tick: self.ticks,
                cycle_starts: &self.cycle_starts,
                clock: self.grid,
                self_metrics: &self.self_metrics,
            };
            if gzip {
                // The plain text goes to the compressor in 64 KiB pieces: a gzip-only scraper
                // (Prometheus) never makes the process hold the whole uncompressed body. The
                // output is given room for a quarter of the plain text at once (noisy values
                // compress to about a fifth): pages it never writes are never resident, whereas
                // a buffer grown by doubling leaves its smaller copies behind in the heap, a
                // few bytes per series.
                let room = self.catalog.size_hint() / 4;
                let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(room), flate2::Compression::fast());
                let mut buffer = Vec::with_capacity(80 * 1024);
                self.catalog.render_with(format, &sample, &mut buffer, &mut |piece| {
                    // Writing into a Vec cannot fail.
                    encoder.write_all(piece).expect("gzip into memory");
                    piece.clear();
                });
                let mut body = encoder.finish().expect("gzip into memory");
                body.shrink_to_fit();
                body
            } else {
                let mut out = Vec::with_capacity(self.catalog.size_hint());
                self.catalog.render(format, &sample, &mut out);
                out.shrink_to_fit();
                out
            }
        })
    }

    /// The page `draw` makes of this snapshot, drawn by the first caller only: the landing page
    /// with its charts costs one drawing per tick (and reload), however many people look. The
    /// engine keeps the bytes; what they say is the HTTP layer's, above it.
    pub fn page(&self, draw: impl FnOnce(&Snapshot) -> Vec<u8>) -> &[u8] {
        self.page.get_or_init(|| draw(self))
    }
}

pub(super) fn snapshot_of(engine: &Engine, grid: Grid, started: f64) -> Snapshot {
    let self_metrics = SelfMetrics {
        // Ticks this process has run, whatever the tick numbers (see docs/ground-truth.md, Aligned ticks).
        ticks: if engine.first == 0 { 0 } else { engine.ticks - engine.first + 1 },
        // The series served at this tick: those of the entries active now.
        series: engine.config.entries.iter().filter(|e| e.active_at(engine.ticks)).map(|e| e.served.count).sum(),
        reload_ok: engine.reload_ok,
        reload_success_time: engine.reload_success_time,
        started,
        connections: crate::exposition::connections(),
        remote_write: crate::exposition::remote_write(),
        shard: engine.config.shard,
    };
    Snapshot {
        ticks: engine.ticks,
        values: engine.values.clone(),
        observed: engine.observed.clone(),
        native: engine.native.clone(),
        cycle_starts: {
            let mut starts =
                Vec::with_capacity(engine.config.entries.iter().map(|e| e.cycle_start_count() as usize).sum());
            for series in &engine.series {
                series.cycle_starts(&mut starts);
            }
            starts
        },
        config: engine.config.clone(),
        starts: engine.starts.clone(),
        grid,
        catalog: engine.catalog.clone(),
        self_metrics,
        bodies: Default::default(),
        page: OnceLock::new(),
    }
}
