//! Charts: each entry's values over a window of ticks, replayed as `/api/v1/expected` replays
//! them ([`Replay`]), and drawn as a small SVG (`svg`). The landing page draws a window around
//! the current tick; `--preview N --svg PATH` draws ticks 1 to N, and the docs' pictures are that
//! command's output.
//!
//! A chart shows an entry's first series: its value for gauges and counters; the p50, p90 and
//! p99 of each tick's observations for histograms and summaries (computed from the location and
//! the distribution, as the summary's own quantiles are); the current state's index for a
//! stateset. A tick at which the entry is not served (`active`), or before its first tick, is a
//! gap; a churning entry's new generations are marked. Pure: no I/O, no locks.

mod svg;
#[cfg(test)]
mod tests;

pub use svg::{chart, document, escape, pictures, HEIGHT, TRACE_STYLES, WIDTH};

use crate::config::{state_index, Entry, Kind};
use crate::engine::{Budget, Exhausted, Replay};

/// The quantiles a histogram's or a summary's chart draws, with their names.
pub const QUANTILES: [(f64, &str); 3] = [(0.5, "p50"), (0.9, "p90"), (0.99, "p99")];

/// The ticks before the current one that the landing page's charts show.
pub const BEFORE: u64 = 59;
/// The ticks after the current one that the landing page's charts show (what is to come is as
/// well known as what was).
pub const AFTER: u64 = 60;

/// The ticks a chart spans, and the current one, if it marks one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// The tick at the left edge; before tick 1 when the window reaches back before start-up.
    left: f64,
    /// The tick at the right edge.
    right: f64,
    /// The first tick that can have a value (≥ 1) and the last.
    first: u64,
    last: u64,
    now: Option<u64>,
}

impl Window {
    /// [`BEFORE`] ticks before `now` and [`AFTER`] after, with `now` marked.
    pub fn around(now: u64) -> Window {
        Window {
            left: now as f64 - BEFORE as f64,
            right: now as f64 + AFTER as f64,
            first: now.saturating_sub(BEFORE).max(1),
            last: now.saturating_add(AFTER),
            now: Some(now),
        }
    }

    /// Ticks `first` to `last` (first ≥ 1), with no current tick.
    pub fn ticks(first: u64, last: u64) -> Window {
        let first = first.max(1);
        Window { left: first as f64, right: last as f64, first, last, now: None }
    }

    /// Where tick `t` falls, from 0 (left edge) to 1 (right edge).
    fn position(&self, t: u64) -> f64 {
        if self.right > self.left {
            (t as f64 - self.left) / (self.right - self.left)
        } else {
            0.5
        }
    }
}

/// One line of a chart: a value per tick of the window, `None` where there is none to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// `value`, or the quantile's name (`p50`, …), or `state`.
    pub name: &'static str,
    /// From the window's first tick to its last.
    pub points: Vec<Option<f64>>,
}

/// What a chart draws of one entry over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    pub window: Window,
    pub traces: Vec<Trace>,
    /// The ticks in the window (after its first) at which a churning entry's new generation
    /// begins.
    pub generations: Vec<u64>,
}

/// The first series of `entry` that this process serves (whose first tick is `start`) over `window`, replayed from its
/// config; fast-forwards to the window take from `budget`.
pub fn plot(entry: &Entry, start: u64, window: Window, budget: &mut Budget) -> Result<Plot, Exhausted> {
    let names: Vec<&'static str> = match entry.kind {
        Kind::Histogram | Kind::Summary => QUANTILES.iter().map(|(_, name)| *name).collect(),
        Kind::Stateset => vec!["state"],
        Kind::Gauge | Kind::Counter | Kind::Info => vec!["value"],
    };
    let width = usize::try_from(window.last - window.first + 1).unwrap_or(usize::MAX);
    let mut traces: Vec<Trace> = names.into_iter().map(|name| Trace { name, points: vec![None; width] }).collect();
    let begin = window.first.max(start);
    if begin <= window.last {
        // The first series this process serves: series 0, or with `--shard` the shard's first.
        let mut replay = Replay::values_at(entry, entry.served.k(0), start, begin, budget)?;
        for t in begin..=window.last {
            if t > begin {
                budget.spend(1)?;
                replay.advance();
            }
            if !replay.active() {
                continue;
            }
            let slot = (t - window.first) as usize;
            for (trace, value) in traces.iter_mut().zip(values(entry, &replay, t)) {
                trace.points[slot] = Some(value).filter(|v| v.is_finite());
            }
        }
    }
    let generations = match &entry.churn {
        Some(churn) => (window.first + 1..=window.last).filter(|&t| t >= start && churn.start(t) == t).collect(),
        None => Vec::new(),
    };
    Ok(Plot { window, traces, generations })
}

/// What the traces of `entry` show at tick `t`, where `replay` stands.
fn values(entry: &Entry, replay: &Replay, t: u64) -> Vec<f64> {
    let value = replay.value();
    match (&entry.observe, entry.kind) {
        (Some(observe), _) => {
            let count = observe.count_at(t - replay.cycle_start() + 1, t);
            QUANTILES.iter().map(|&(phi, _)| observe.distribution.rank_quantile(value, count, phi)).collect()
        }
        (None, Kind::Stateset) => vec![state_index(value, entry.states.len()) as f64],
        (None, Kind::Info) => vec![1.0],
        (None, _) => vec![value],
    }
}
