//! `--expected.max-concurrency`: at most so many `/api/v1/expected` answers are computed at once,
//! across all connections. Each request already has a budget of work; this bounds their sum, so
//! that no number of clients can keep every core busy replaying series and starve the ticker or
//! the scrapes. A request that finds no free place waits up to [`WAIT`], then gets a 503.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a request waits for a place before its 503: long enough to ride out a short burst
/// (an answer within the budget takes well under a second on a release build), short enough
/// that waiting requests do not pile up connection threads.
pub const WAIT: Duration = Duration::from_secs(1);

/// A counting gate: `limit` places, taken by [`Gate::enter`] and given back when the [`Pass`]
/// drops.
pub struct Gate {
    limit: usize,
    taken: Mutex<usize>,
    freed: Condvar,
}

/// A place in the gate, held while an answer is computed.
pub struct Pass<'a>(&'a Gate);

impl Gate {
    pub fn new(limit: usize) -> Gate {
        Gate { limit: limit.max(1), taken: Mutex::new(0), freed: Condvar::new() }
    }

    /// The most requests computed at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Takes a place, waiting up to `wait` for one; `None` when none was freed in time. (The
    /// count cannot be left inconsistent by a panic, so a poisoned lock is taken back.)
    pub fn enter(&self, wait: Duration) -> Option<Pass<'_>> {
        let deadline = Instant::now() + wait;
        let mut taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        while *taken >= self.limit {
            let left = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())?;
            taken = self.freed.wait_timeout(taken, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        *taken += 1;
        Some(Pass(self))
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        *self.0.taken.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_limit_passes_and_a_freed_place_is_taken_by_a_waiter() {
        let gate = Gate::new(2);
        let a = gate.enter(Duration::ZERO).expect("first place");
        let _b = gate.enter(Duration::ZERO).expect("second place");
        let started = Instant::now();
        assert!(gate.enter(Duration::from_millis(50)).is_none(), "a third request must not pass");
        assert!(started.elapsed() >= Duration::from_millis(50), "it waits before giving up");
        std::thread::scope(|s| {
            let waiter = s.spawn(|| gate.enter(Duration::from_secs(5)).is_some());
            std::thread::sleep(Duration::from_millis(20));
            drop(a);
            assert!(waiter.join().unwrap(), "a waiter gets the freed place");
        });
    }
}
