//! All series behind one `Mutex`, the tick that advances them together, and the immutable
//! [`Snapshot`] that scrapes read.
//!
//! A tick replaces the published snapshot; a scrape clones the `Arc` of the current one and lets
//! go of the lock before it renders or writes anything. The text of a snapshot is rendered at most
//! once, by the first scrape that wants it, and then served as the same bytes until the next tick.

use crate::config::Config;
use crate::exposition::Catalog;
use crate::sequence::{Restart, Sequence};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// What one tick produced: the values of every series, with what is needed to render them.
pub struct Snapshot {
    /// The tick these values belong to (1 is the first, at start-up).
    pub ticks: u64,
    /// One value per config entry, in config order.
    pub values: Vec<f64>,
    /// The config these values come from.
    pub config: Arc<Config>,
    catalog: Arc<Catalog>,
    text: OnceLock<Vec<u8>>,
}

impl Snapshot {
    /// The text exposition (format 0.0.4), rendered on first use.
    pub fn text(&self) -> &[u8] {
        self.text.get_or_init(|| {
            let mut out = Vec::with_capacity(self.values.len() * 64 + 256);
            self.catalog.render_text(&self.values, &mut out);
            out
        })
    }
}

/// The shared state of the exporter.
pub struct State {
    inner: Mutex<Inner>,
    interval: Duration,
    started: Instant,
}

struct Inner {
    sequences: Vec<Sequence>,
    ticks: u64,
    last_tick: Instant,
    config: Arc<Config>,
    catalog: Arc<Catalog>,
    snapshot: Arc<Snapshot>,
}

/// Health as `/health` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub healthy: bool,
    pub series: usize,
    pub ticks: u64,
    pub uptime: Duration,
    pub since_last_tick: Duration,
    pub interval: Duration,
}

impl State {
    /// The state of `config` before its first tick; call [`State::tick`] once to serve tick 1.
    pub fn new(config: Config, interval: Duration) -> Self {
        let config = Arc::new(config);
        let catalog = Arc::new(Catalog::new(&config));
        let sequences = config.entries.iter().map(|e| Sequence::new(e.factory.clone(), e.reset_interval)).collect();
        let now = Instant::now();
        let snapshot = Arc::new(Snapshot {
            ticks: 0,
            values: vec![f64::NAN; config.entries.len()],
            config: config.clone(),
            catalog: catalog.clone(),
            text: OnceLock::new(),
        });
        State {
            inner: Mutex::new(Inner { sequences, ticks: 0, last_tick: now, config, catalog, snapshot }),
            interval,
            started: now,
        }
    }

    /// A panic elsewhere while the lock was held must not take scrapes down with it: the data
    /// behind the lock is only ever replaced whole, so it is still consistent.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The time between ticks.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// When tick 1 happened; tick k is due at `started + (k-1)·interval`.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Advances every series by one value and publishes the new snapshot. Restarts are logged at
    /// warn, in one line per tick so that many series restarting together do not flood the log.
    pub fn tick(&self) -> u64 {
        let mut restarts: Vec<(usize, Restart)> = Vec::new();
        let (n, config) = {
            let mut inner = self.lock();
            let n = inner.ticks + 1;
            for (index, seq) in inner.sequences.iter_mut().enumerate() {
                if let Some(why) = seq.advance(n) {
                    restarts.push((index, why));
                }
            }
            let values = inner.sequences.iter().map(Sequence::value).collect();
            inner.snapshot = Arc::new(Snapshot {
                ticks: n,
                values,
                config: inner.config.clone(),
                catalog: inner.catalog.clone(),
                text: OnceLock::new(),
            });
            inner.ticks = n;
            inner.last_tick = Instant::now();
            (n, inner.config.clone())
        };
        log::debug!("tick {n}");
        if !restarts.is_empty() {
            log::warn!("tick {n}: {}", describe_restarts(&config, &restarts));
        }
        n
    }

    /// The current snapshot; the lock is held only to clone an `Arc`.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.lock().snapshot.clone()
    }

    /// How many ticks have happened.
    pub fn ticks(&self) -> u64 {
        self.lock().ticks
    }

    /// Health: unhealthy when the ticker has missed two intervals.
    pub fn health(&self) -> Health {
        let (ticks, last_tick, series) = {
            let inner = self.lock();
            (inner.ticks, inner.last_tick, inner.sequences.len())
        };
        let since_last_tick = last_tick.elapsed();
        Health {
            healthy: since_last_tick <= self.interval * 2,
            series,
            ticks,
            uptime: self.started.elapsed(),
            since_last_tick,
            interval: self.interval,
        }
    }
}

/// `2 series restarted: ns_a (value not finite), ns_b_total{k="v"} (reset_interval reached)`,
/// naming at most five.
fn describe_restarts(config: &Config, restarts: &[(usize, Restart)]) -> String {
    const SHOWN: usize = 5;
    let mut names: Vec<String> = restarts
        .iter()
        .take(SHOWN)
        .map(|&(index, why)| {
            let entry = &config.entries[index];
            let labels: Vec<String> = entry.labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            let labels = if labels.is_empty() { String::new() } else { format!("{{{}}}", labels.join(",")) };
            format!("{}{labels} ({})", entry.sample_name(), why.describe())
        })
        .collect();
    if restarts.len() > SHOWN {
        names.push(format!("and {} more", restarts.len() - SHOWN));
    }
    let plural = if restarts.len() == 1 { "" } else { "s" };
    format!("{} series{plural} restarted: {}", restarts.len(), names.join(", "))
}

/// Runs ticks 2, 3, … on the fixed grid `started + (k-1)·interval`, forever. When the thread wakes
/// late (a suspended machine, a loaded core) it runs the missed ticks at once, so the tick count
/// always matches the time since start-up.
pub fn run_ticker(state: &State) -> ! {
    loop {
        let next = state.ticks() + 1;
        let due = state.started() + grid_offset(state.interval(), next - 1);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        state.tick();
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
    use crate::config::parse;
    use crate::functions::Registry;

    #[test]
    fn ticks_advance_every_series_together() {
        let config = parse(
            r#"[{"name":"s","metric_type":"gauge","custom_function":"square"},
                {"name":"f","metric_type":"gauge","custom_function":"fibonacci","reset_interval":2}]"#,
            "t",
            "",
            &Registry::builtin(),
        )
        .unwrap();
        let state = State::new(config, Duration::from_secs(1));
        let seen: Vec<Vec<f64>> = (0..4)
            .map(|_| {
                state.tick();
                state.snapshot().values.clone()
            })
            .collect();
        assert_eq!(seen, [vec![1.0, 1.0], vec![4.0, 1.0], vec![9.0, 1.0], vec![16.0, 1.0]]);
        assert_eq!(state.snapshot().ticks, 4);
        assert!(String::from_utf8_lossy(state.snapshot().text()).contains("\ns 16\n"));
    }

    #[test]
    fn grid_offsets_are_exact() {
        assert_eq!(grid_offset(Duration::from_millis(250), 7), Duration::from_millis(1750));
        assert_eq!(grid_offset(Duration::from_secs(60), 1_000_000), Duration::from_secs(60_000_000));
        assert_eq!(grid_offset(Duration::MAX, u64::MAX).as_secs(), u64::MAX);
    }
}
