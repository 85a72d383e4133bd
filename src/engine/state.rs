//! The [`State`]: every entry's running series behind the engine lock, the tick that advances
//! them together, and the immutable [`Snapshot`] that scrapes read.
//!
//! Two locks, always taken in this order: `engine` (the sequences; only the ticker and a reload
//! take it) and `published` (the current snapshot; everyone takes it, briefly). A scrape clones the
//! snapshot's `Arc` and lets go before it renders or writes anything, so neither a slow client nor
//! a slow function can block the others. Each body of a snapshot (format × compression) is
//! rendered at most once, by the first scrape that wants it, and then served as the same bytes
//! until the next tick.
//!
//! Ticks fall on a [`Grid`]: from start-up, or (`--align wall-clock`) from the Unix epoch, in
//! which case the first tick served is the one the clock says, reached by fast-forwarding every
//! sequence from tick 1 ([`super::Sequence::skip_to`]).
//!
//! Each entry's series are driven by a [`Series`] (sequences, or one lead sequence and lanes);
//! their values live in one flat vector per tick, shared by the engine and the snapshot it
//! publishes, so a value is held once however many series there are.

use super::observed::{self, Replay};
use super::sequence::Budget;
use super::series::{Restarted, Series};
use super::snapshot::{snapshot_of, Snapshot};
use super::{cannot_fast_forward, FAST_FORWARD_BUDGET};
use crate::config::NativeCounts;
use crate::config::{Config, Entry, Shard};
use crate::error::Error;
use crate::exposition::Catalog;
use crate::time::{now_ms, Align, Grid};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The shared state of the exporter.
pub struct State {
    pub(super) engine: Mutex<Engine>,
    pub(super) published: Mutex<Published>,
    pub(super) interval: Duration,
    pub(super) started: Instant,
    /// Unix time of start-up, in seconds.
    pub(super) started_unix: f64,
    pub(super) align: Align,
    pub(super) grid: Grid,
    /// Called with each snapshot a tick publishes (remote write's queue): after the engine lock
    /// and before the next tick, so they must be quick.
    listeners: Mutex<Vec<Listener>>,
}

/// What [`State::on_tick`] calls.
type Listener = Box<dyn Fn(&Snapshot) + Send>;

/// What only the ticker and reloads touch.
pub(super) struct Engine {
    /// Per config entry, its running series.
    pub(super) series: Vec<Series>,
    /// Their values at the current tick, laid out as [`Snapshot::values`], which shares them.
    pub(super) values: Arc<Vec<f64>>,
    /// The accumulated observations of histograms and summaries, laid out as
    /// [`Snapshot::observed`], which shares them.
    pub(super) observed: Arc<Vec<f64>>,
    /// The native buckets of histograms that have them, laid out as [`Snapshot::native`].
    pub(super) native: Arc<Vec<NativeCounts>>,
    pub(super) config: Arc<Config>,
    pub(super) catalog: Arc<Catalog>,
    /// See [`Snapshot::starts`].
    pub(super) starts: Arc<[u64]>,
    /// The current tick number (0 before the first).
    pub(super) ticks: u64,
    /// The first tick this process served (0 before it).
    pub(super) first: u64,
    pub(super) reload_ok: bool,
    pub(super) reload_success_time: f64,
}

/// What every reader needs.
pub(super) struct Published {
    pub(super) snapshot: Arc<Snapshot>,
    pub(super) last_tick: Instant,
}

/// Health as `/health` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub healthy: bool,
    /// The series this process serves (its shard's, with `--shard`).
    pub series: u64,
    /// `--shard`, when this process is one of several.
    pub shard: Option<Shard>,
    /// The tick being served (see [`Snapshot::ticks`]).
    pub ticks: u64,
    /// Unix time of that tick on its grid, in seconds.
    pub tick_time: f64,
    pub align: Align,
    pub uptime: Duration,
    pub since_last_tick: Duration,
    pub interval: Duration,
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Whole seconds, as Prometheus reports its own reload timestamps.
pub(super) fn unix_seconds() -> f64 {
    unix_now().floor()
}

/// Takes a lock even if a panic elsewhere poisoned it: the data behind both locks is only ever
/// replaced whole, so it is still consistent, and one panic must not take scrapes down.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl State {
    /// The state of `config` before its first tick, start-up aligned; call [`State::tick`] once to
    /// serve tick 1.
    pub fn new(config: Config, interval: Duration) -> Self {
        Self::aligned(config, interval, Align::Start)
    }

    /// The state of `config` before its first tick, on the grid of `align`.
    fn aligned(config: Config, interval: Duration, align: Align) -> Self {
        let now = unix_now();
        let grid = Grid::new(align, interval, (now * 1000.0).round() as i64);
        let config = Arc::new(config);
        let catalog = Arc::new(Catalog::new(&config));
        let series: Vec<Series> = config.entries.iter().map(Series::new).collect();
        let values = Arc::new(vec![f64::NAN; series.iter().map(Series::value_count).sum()]);
        let observed = Arc::new(vec![0.0; config.entries.iter().map(Entry::observed_count).sum()]);
        let native = Arc::new(vec![NativeCounts::default(); config.entries.iter().map(Entry::native_count).sum()]);
        let starts = vec![1; config.entries.len()].into();
        let engine = Engine {
            series,
            values,
            observed,
            native,
            config,
            catalog,
            starts,
            ticks: 0,
            first: 0,
            reload_ok: true,
            reload_success_time: unix_seconds(),
        };
        let snapshot = Arc::new(snapshot_of(&engine, grid, now));
        State {
            engine: Mutex::new(engine),
            published: Mutex::new(Published { snapshot, last_tick: Instant::now() }),
            interval,
            started: Instant::now(),
            started_unix: now,
            align,
            grid,
            listeners: Mutex::new(Vec::new()),
        }
    }

    /// The state of `config` with its first tick served: tick 1 with `--align start`; with
    /// `--align wall-clock`, the tick the clock says, every series fast-forwarded to it. A series
    /// that cannot be fast-forwarded within [`FAST_FORWARD_BUDGET`] is a config error.
    pub fn start(config: Config, interval: Duration, align: Align) -> Result<Self, Error> {
        let state = Self::aligned(config, interval, align);
        match align {
            Align::Start => {
                state.tick();
            }
            Align::WallClock => {
                let clock = Instant::now();
                let mut engine = lock(&state.engine);
                let n = state.grid.tick_at(now_ms()).unwrap_or(1);
                let config = engine.config.clone();
                let engine = &mut *engine;
                let mut parts_of = Parts::of(engine);
                for (index, (entry, series, mut part)) in parts_of.iter(&config.entries, &mut engine.series).enumerate()
                {
                    fast_forward(series, &mut part, n, index, entry, &config.source)?;
                }
                parts_of.store(engine);
                engine.ticks = n;
                engine.first = n;
                state.publish(engine, true);
                log::info!(
                    "every series fast-forwarded to tick {n} (wall-clock) in {:.3} s",
                    clock.elapsed().as_secs_f64()
                );
            }
        }
        Ok(state)
    }

    /// The time between ticks.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// When the state was created: with `--align start`, tick k is due at
    /// `started + (k-1)·interval`.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// How ticks are placed in time.
    pub fn align(&self) -> Align {
        self.align
    }

    /// Where ticks fall in time.
    pub fn grid(&self) -> Grid {
        self.grid
    }

    pub(super) fn publish(&self, engine: &Engine, ticked: bool) {
        let snapshot = Arc::new(snapshot_of(engine, self.grid, self.started_unix));
        let mut published = lock(&self.published);
        published.snapshot = snapshot.clone();
        if ticked {
            published.last_tick = Instant::now();
        }
        drop(published);
        if ticked {
            for listener in lock(&self.listeners).iter() {
                listener(&snapshot);
            }
        }
    }

    /// Calls `listener` with the snapshot being served now, then with each one a tick publishes
    /// (reloads, which change the config but not the tick, are seen at the next tick). No tick is
    /// missed or seen twice: the engine lock keeps ticks out meanwhile.
    pub fn on_tick(&self, listener: impl Fn(&Snapshot) + Send + 'static) {
        let _engine = lock(&self.engine);
        listener(&self.snapshot());
        lock(&self.listeners).push(Box::new(listener));
    }

    /// Advances every series by one value and publishes the new snapshot. Restarts are logged in
    /// one line per tick, so that many series restarting together do not flood the log: at debug
    /// for `reset_interval`, at warn for the others.
    pub fn tick(&self) -> u64 {
        let mut restarts: Vec<(usize, Restarted)> = Vec::new();
        let mut engine = lock(&self.engine);
        let engine = &mut *engine;
        let n = engine.ticks + 1;
        // New vectors: the published snapshot keeps the old ones for as long as scrapes use them.
        let mut parts_of = Parts::of(engine);
        let config = engine.config.clone();
        for (index, (entry, series, mut part)) in parts_of.iter(&config.entries, &mut engine.series).enumerate() {
            advance(entry, series, n, &mut part, &mut |r| restarts.push((index, r)));
        }
        parts_of.store(engine);
        engine.ticks = n;
        if engine.first == 0 {
            engine.first = n;
        }
        self.publish(engine, true);
        log::debug!("tick {n}");
        // A restart that `reset_interval` asked for is the config doing what it says: debug. One
        // the function caused (overflow, a panic, an ended sequence) is worth a warning.
        let (asked, caused): (Vec<_>, Vec<_>) =
            restarts.into_iter().partition(|(_, r)| r.why == super::sequence::Restart::ResetInterval);
        if !asked.is_empty() {
            log::debug!("tick {n}: {}", describe_restarts(&engine.config, &asked));
        }
        if !caused.is_empty() {
            log::warn!("tick {n}: {}", describe_restarts(&engine.config, &caused));
        }
        n
    }

    /// Moves every series to tick `target` at once, for a ticker that woke up late: the values
    /// are those that ticking one at a time would give, fast-forwarded where possible. Restarts
    /// on the way are not logged one by one.
    pub fn tick_to(&self, target: u64) -> u64 {
        let mut engine = lock(&self.engine);
        if target <= engine.ticks + 1 {
            drop(engine);
            return self.tick();
        }
        let from = engine.ticks;
        let engine = &mut *engine;
        let mut parts_of = Parts::of(engine);
        let config = engine.config.clone();
        for (entry, series, mut part) in parts_of.iter(&config.entries, &mut engine.series) {
            if entry.observe.is_none() && entry.churn.is_none() {
                series.catch_up(target, FAST_FORWARD_BUDGET, part.values);
                continue;
            }
            // Observations accumulate, and generations begin, tick by tick.
            for n in from + 1..=target {
                advance(entry, series, n, &mut part, &mut |_| {});
            }
        }
        parts_of.store(engine);
        engine.ticks = target;
        self.publish(engine, true);
        log::warn!("the ticker was late: caught up from tick {from} to tick {target} at once");
        target
    }

    /// Records a failed reload: the running config keeps serving.
    pub fn reload_failed(&self) {
        let mut engine = lock(&self.engine);
        engine.reload_ok = false;
        self.publish(&engine, false);
    }

    /// The current snapshot; the lock is held only to clone an `Arc`.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        lock(&self.published).snapshot.clone()
    }

    /// How many ticks have happened.
    pub fn ticks(&self) -> u64 {
        self.snapshot().ticks
    }

    /// Health: unhealthy when the ticker has missed two intervals.
    pub fn health(&self) -> Health {
        let (snapshot, last_tick) = {
            let published = lock(&self.published);
            (published.snapshot.clone(), published.last_tick)
        };
        let since_last_tick = last_tick.elapsed();
        Health {
            healthy: since_last_tick <= self.interval * 2,
            series: snapshot.config.served(),
            shard: snapshot.config.shard,
            ticks: snapshot.ticks,
            tick_time: self.grid.seconds(snapshot.ticks),
            align: self.align,
            uptime: self.started.elapsed(),
            since_last_tick,
            interval: self.interval,
        }
    }
}

/// Fast-forwards the series of entry number `index` to tick `n`, each within
/// [`FAST_FORWARD_BUDGET`], as if they had been there from tick 1, with their accumulated
/// observations; the error names the entry and says what to do.
pub(super) fn fast_forward(
    series: &mut Series,
    part: &mut Part,
    n: u64,
    index: usize,
    entry: &Entry,
    source: &str,
) -> Result<(), Error> {
    // A churning entry's series of n's generation started with it.
    if let Some(churn) = &entry.churn {
        if churn.start(n) > 1 {
            *series = Series::new(entry).starting_at(churn.start(n));
        }
    }
    let forwarded = series.fast_forward(n, FAST_FORWARD_BUDGET, part.values).and_then(|()| {
        let Some(observe) = &entry.observe else { return Ok(()) };
        for (slot, chunk) in part.observed.chunks_mut(observe.width()).enumerate() {
            let replay = Replay::at(entry, entry.served.k(slot as u64), 1, n, &mut Budget::new(FAST_FORWARD_BUDGET))?;
            chunk.copy_from_slice(replay.observed());
            if let Some(native) = part.native.get_mut(slot) {
                *native = replay.native().clone();
            }
        }
        Ok(())
    });
    forwarded.map_err(|_| {
        cannot_fast_forward(
            source,
            index,
            entry,
            n,
            "--align wall-clock: ",
            "give it a smaller reset_interval, a longer --interval, or use --align start",
        )
    })
}

/// Moves an entry's series to tick `n`, telling `restarted` of restarts: a churning entry's
/// series are replaced by a new generation's at its first tick; then every series advances, and
/// its observations are added.
pub(super) fn advance(
    entry: &Entry,
    series: &mut Series,
    n: u64,
    part: &mut Part,
    restarted: &mut dyn FnMut(Restarted),
) {
    if let Some(churn) = &entry.churn {
        if churn.start(n) == n && series.tick() >= 1 {
            *series = Series::new(entry).starting_at(n);
        }
    }
    series.advance(n, part.values, restarted);
    observed::tick(entry, series, n, part);
}

/// An entry's series with its values, accumulated observations and native buckets, owned: what
/// [`fresh`] makes and a reload prepares.
pub(super) struct Fresh {
    pub(super) series: Series,
    pub(super) values: Vec<f64>,
    pub(super) observed: Vec<f64>,
    pub(super) native: Vec<NativeCounts>,
}

impl Fresh {
    /// Its parts, borrowed.
    pub(super) fn part(&mut self) -> (&mut Series, Part<'_>) {
        (&mut self.series, Part { values: &mut self.values, observed: &mut self.observed, native: &mut self.native })
    }
}

/// An entry's series before their first tick, with their values (NaN), accumulated observations and
/// native buckets (none yet).
pub(super) fn fresh(entry: &Entry) -> Fresh {
    let series = Series::new(entry);
    let values = vec![f64::NAN; series.value_count()];
    Fresh {
        series,
        values,
        observed: vec![0.0; entry.observed_count()],
        native: vec![NativeCounts::default(); entry.native_count()],
    }
}

/// One entry's part of a tick's values, accumulated observations and native buckets (laid out as
/// [`Snapshot::values`], [`Snapshot::observed`] and [`Snapshot::native`]).
pub(super) struct Part<'a> {
    pub(super) values: &'a mut [f64],
    pub(super) observed: &'a mut [f64],
    pub(super) native: &'a mut [NativeCounts],
}

/// The engine's values, observations and native buckets, copied to be changed for a new tick
/// (the published snapshot keeps the old ones for as long as scrapes use them).
pub(super) struct Parts {
    values: Vec<f64>,
    observed: Vec<f64>,
    native: Vec<NativeCounts>,
}

impl Parts {
    /// Copies of `engine`'s.
    pub(super) fn of(engine: &Engine) -> Parts {
        Parts {
            values: Vec::clone(&engine.values),
            observed: Vec::clone(&engine.observed),
            native: Vec::clone(&engine.native),
        }
    }

    /// Each entry with its series and its part.
    pub(super) fn iter<'a>(
        &'a mut self,
        entries: &'a [Entry],
        series: &'a mut [Series],
    ) -> impl Iterator<Item = (&'a Entry, &'a mut Series, Part<'a>)> {
        let (mut values, mut observed, mut native) =
            (&mut self.values[..], &mut self.observed[..], &mut self.native[..]);
        entries.iter().zip(series.iter_mut()).map(move |(entry, series)| {
            let (mine, rest) = std::mem::take(&mut values).split_at_mut(series.value_count());
            values = rest;
            let (observations, rest) = std::mem::take(&mut observed).split_at_mut(entry.observed_count());
            observed = rest;
            let (buckets, rest) = std::mem::take(&mut native).split_at_mut(entry.native_count());
            native = rest;
            (entry, series, Part { values: mine, observed: observations, native: buckets })
        })
    }

    /// Makes these the engine's.
    pub(super) fn store(self, engine: &mut Engine) {
        engine.values = Arc::new(self.values);
        engine.observed = Arc::new(self.observed);
        engine.native = Arc::new(self.native);
    }
}
/// `2 series restarted: ns_a (value not finite), ns_b_total{k="v"} (reset_interval reached)`,
/// naming at most five entries or series.
fn describe_restarts(config: &Config, restarts: &[(usize, Restarted)]) -> String {
    const SHOWN: usize = 5;
    let mut names: Vec<String> = restarts
        .iter()
        .take(SHOWN)
        .map(|(index, restarted)| {
            let entry = &config.entries[*index];
            let name = match restarted.series {
                Some(k) => entry.series_name(k),
                None => entry.describe_series(),
            };
            format!("{name} ({})", restarted.why.describe())
        })
        .collect();
    if restarts.len() > SHOWN {
        names.push(format!("and {} more", restarts.len() - SHOWN));
    }
    let count: u64 = restarts
        .iter()
        .map(|(index, restarted)| if restarted.series.is_some() { 1 } else { config.entries[*index].series })
        .sum();
    format!("{count} series restarted: {}", names.join(", "))
}
