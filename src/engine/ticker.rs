//! The ticker: a thread that runs the ticks after the first on their grid, catching up at once
//! when it wakes late.

use super::state::State;
use crate::time::{now_ms, Align};
use std::time::{Duration, Instant};

impl State {
    /// The tick the clock says should be served now.
    pub fn due_tick(&self) -> u64 {
        match self.align {
            Align::Start => {
                let elapsed = self.started.elapsed().as_nanos();
                let k = elapsed / self.interval.as_nanos().max(1);
                u64::try_from(k).unwrap_or(u64::MAX).saturating_add(1)
            }
            Align::WallClock => self.grid.tick_at(now_ms()).unwrap_or(1),
        }
    }

    /// Sleeps until tick `k` is due.
    pub fn wait_for(&self, k: u64) {
        match self.align {
            Align::Start => {
                let due = self.started + grid_offset(self.interval, k - 1);
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
            }
            Align::WallClock => loop {
                // The wall clock is read again after each sleep of at most a second, so a clock
                // stepped forward (or back) moves the ticks with it.
                let wait = self.grid.time_ms(k).saturating_sub(now_ms());
                if wait <= 0 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(wait.min(1000) as u64));
            },
        }
    }
}

/// Runs the ticks after the first on their grid, forever. When the thread wakes late (a
/// suspended machine, a loaded core, a wall clock stepped forward) it catches up at once, so the
/// tick served always matches the clock.
pub fn run_ticker(state: &State) -> ! {
    loop {
        let next = state.ticks() + 1;
        state.wait_for(next);
        state.tick_to(state.due_tick().max(next));
    }
}

/// `interval · k`, saturating instead of overflowing.
fn grid_offset(interval: Duration, k: u64) -> Duration {
    let nanos = interval.as_nanos().saturating_mul(u128::from(k));
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    Duration::new(secs, (nanos % 1_000_000_000) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_offsets_are_exact() {
        assert_eq!(grid_offset(Duration::from_millis(250), 7), Duration::from_millis(1750));
        assert_eq!(grid_offset(Duration::from_secs(60), 1_000_000), Duration::from_secs(60_000_000));
        assert_eq!(grid_offset(Duration::MAX, u64::MAX).as_secs(), u64::MAX);
    }
}
