//! The engine: the running series and the tick that advances them together.
//!
//! - `sequence`: one function driven through ticks (position in cycle, `reset_interval`,
//!   restarts, fast-forward within a [`Budget`]);
//! - `series`: the series of one entry (sequences, or one lead sequence and lanes);
//! - `state`: every entry's series behind the engine lock, and the published [`Snapshot`];
//! - `observed`: histograms' and summaries' observations, accumulated per series and replayed;
//! - `snapshot`: one tick's values and their bodies, rendered at most once each;
//! - `reload`: swapping the config while keeping unchanged series in place;
//! - `ticker`: the thread that ticks on the grid.

mod observed;
mod reload;
mod sequence;
mod series;
mod snapshot;
mod state;
#[cfg(test)]
mod tests;
mod ticker;

pub use observed::Replay;
pub use reload::ReloadStats;
pub use sequence::{Budget, Exhausted, Restart, Sequence};
pub use snapshot::Snapshot;
pub use state::{Health, State};
pub use ticker::run_ticker;

use crate::config::Entry;
use crate::error::Error;

/// The work one series may take to fast-forward, in [`Budget`] units (about
/// one value computed each): a quarter of a second or so at most. It bounds start-up and reloads
/// with `--align wall-clock`; a series that needs more is refused with a message saying why.
pub const FAST_FORWARD_BUDGET: u64 = 10_000_000;

/// The error for series `entry` (number `index` in the config from `source`) that cannot be
/// brought to tick `n` within [`FAST_FORWARD_BUDGET`]; `context` says what asked for it, `advice`
/// what to change. Start-up and reloads with `--align wall-clock` and the OpenMetrics export
/// report it alike.
pub fn cannot_fast_forward(source: &str, index: usize, entry: &Entry, n: u64, context: &str, advice: &str) -> Error {
    Error::config(
        source,
        format!(
            "entry {index} ({:?}): {context}{} cannot be fast-forwarded to tick {n} within {FAST_FORWARD_BUDGET} \
             steps (see docs/ground-truth.md, Aligned ticks); {advice}",
            entry.name, entry.function
        ),
    )
}
