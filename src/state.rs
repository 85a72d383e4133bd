//! The running series, the tick that advances them together, config reloads, and the immutable
//! [`Snapshot`] that scrapes read.
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
//! sequence from tick 1 ([`crate::sequence::Sequence::skip_to`]).
//!
//! Each entry's series are driven by a [`Series`] (sequences, or one lead sequence and lanes);
//! their values live in one flat vector per tick, shared by the engine and the snapshot it
//! publishes, so a value is held once however many series there are.

use crate::config::{Config, Entry};
use crate::error::Error;
use crate::exposition::{Catalog, Format, Own, Sample};
use crate::grid::{now_ms, Align, Grid};
use crate::series::{Restarted, Series};
use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The work one series may take to fast-forward, in [`crate::sequence::Budget`] units (about
/// one value computed each): a quarter of a second or so at most. It bounds start-up and reloads
/// with `--align wall-clock`; a series that needs more is refused with a message saying why.
pub const FAST_FORWARD_BUDGET: u64 = 10_000_000;

/// What one tick produced: the values of every series, with what is needed to render them.
pub struct Snapshot {
    /// The tick these values belong to: 1 is the first at start-up, or, with
    /// `--align wall-clock`, the one at the Unix epoch.
    pub ticks: u64,
    /// One value per config entry in config order, and within an entry one per series when they
    /// differ (see `Entry::units`). The engine keeps the same vector for the next tick.
    pub values: Arc<Vec<f64>>,
    /// The tick at which the current cycle began: one per config entry in config order, and
    /// within an entry one per series when each restarts on its own (see `Entry::cycles`).
    pub cycle_starts: Vec<u64>,
    /// The config these values come from.
    pub config: Arc<Config>,
    /// The tick of each entry's first value: 1, or the tick at which a reload added it (with
    /// `--align start`; with `--align wall-clock` every entry is as if it had always been there).
    pub starts: Arc<[u64]>,
    /// Where ticks fall in time.
    pub grid: Grid,
    catalog: Arc<Catalog>,
    own: Own,
    /// Text, text gzipped, OpenMetrics, OpenMetrics gzipped.
    bodies: [OnceLock<Vec<u8>>; 4],
}

impl Snapshot {
    /// The exposition in `format`, gzip-compressed when `gzip`; rendered on first use.
    pub fn body(&self, format: Format, gzip: bool) -> &[u8] {
        let slot = match format {
            Format::Text => 0,
            Format::OpenMetrics => 2,
        } + usize::from(gzip);
        self.bodies[slot].get_or_init(|| {
            let sample =
                Sample { values: &self.values, cycle_starts: &self.cycle_starts, clock: self.grid, own: &self.own };
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
}

/// The shared state of the exporter.
pub struct State {
    engine: Mutex<Engine>,
    published: Mutex<Published>,
    interval: Duration,
    started: Instant,
    /// Unix time of start-up, in seconds.
    started_unix: f64,
    align: Align,
    grid: Grid,
}

/// What only the ticker and reloads touch.
struct Engine {
    /// Per config entry, its running series.
    series: Vec<Series>,
    /// Their values at the current tick, laid out as [`Snapshot::values`], which shares them.
    values: Arc<Vec<f64>>,
    config: Arc<Config>,
    catalog: Arc<Catalog>,
    /// See [`Snapshot::starts`].
    starts: Arc<[u64]>,
    /// The current tick number (0 before the first).
    ticks: u64,
    /// The first tick this process served (0 before it).
    first: u64,
    reload_ok: bool,
    reload_success_time: f64,
}

/// What every reader needs.
struct Published {
    snapshot: Arc<Snapshot>,
    last_tick: Instant,
}

/// Health as `/health` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub healthy: bool,
    pub series: u64,
    /// The tick being served (see [`Snapshot::ticks`]).
    pub ticks: u64,
    /// Unix time of that tick on its grid, in seconds.
    pub tick_time: f64,
    pub align: Align,
    pub uptime: Duration,
    pub since_last_tick: Duration,
    pub interval: Duration,
}

/// What a successful reload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReloadStats {
    /// Series whose definition did not change: they keep their place in their sequence.
    pub kept: u64,
    /// New or changed series: they start at their first value.
    pub started: u64,
    /// Series no longer in the config.
    pub removed: u64,
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Whole seconds, as Prometheus reports its own reload timestamps.
fn unix_seconds() -> f64 {
    unix_now().floor()
}

/// Takes a lock even if a panic elsewhere poisoned it: the data behind both locks is only ever
/// replaced whole, so it is still consistent, and one panic must not take scrapes down.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
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
        let values = Arc::new(vec![f64::NAN; series.iter().map(Series::units).sum()]);
        let starts = vec![1; config.entries.len()].into();
        let engine = Engine {
            series,
            values,
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
                let mut values = Vec::clone(&engine.values);
                for (index, (series, values)) in parts(&mut engine.series, &mut values).enumerate() {
                    fast_forward(series, values, n, index, &config.entries[index], &config.source)?;
                }
                engine.values = Arc::new(values);
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

    fn publish(&self, engine: &Engine, ticked: bool) {
        let snapshot = Arc::new(snapshot_of(engine, self.grid, self.started_unix));
        let mut published = lock(&self.published);
        published.snapshot = snapshot;
        if ticked {
            published.last_tick = Instant::now();
        }
    }

    /// Advances every series by one value and publishes the new snapshot. Restarts are logged at
    /// warn, in one line per tick so that many series restarting together do not flood the log.
    pub fn tick(&self) -> u64 {
        let mut restarts: Vec<(usize, Restarted)> = Vec::new();
        let mut engine = lock(&self.engine);
        let engine = &mut *engine;
        let n = engine.ticks + 1;
        // A new vector: the published snapshot keeps the old one for as long as scrapes use it.
        let mut values = Vec::clone(&engine.values);
        for (index, (series, values)) in parts(&mut engine.series, &mut values).enumerate() {
            series.advance(n, values, &mut |r| restarts.push((index, r)));
        }
        engine.values = Arc::new(values);
        engine.ticks = n;
        if engine.first == 0 {
            engine.first = n;
        }
        self.publish(engine, true);
        log::debug!("tick {n}");
        if !restarts.is_empty() {
            log::warn!("tick {n}: {}", describe_restarts(&engine.config, &restarts));
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
        let mut values = Vec::clone(&engine.values);
        for (series, values) in parts(&mut engine.series, &mut values) {
            series.catch_up(target, FAST_FORWARD_BUDGET, values);
        }
        engine.values = Arc::new(values);
        engine.ticks = target;
        self.publish(engine, true);
        log::warn!("the ticker was late: caught up from tick {from} to tick {target} at once");
        target
    }

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

    /// Replaces the config. Series whose definition (name, labels, type, function, params,
    /// reset_interval) did not change keep their sequence and so their place in it; removed ones
    /// disappear; new ones start at their first value at once with `--align start`, and with
    /// `--align wall-clock` are fast-forwarded to the current tick, as if they had always been
    /// there (a series that cannot be, within [`FAST_FORWARD_BUDGET`], fails the reload and
    /// changes nothing).
    pub fn reload(&self, config: Config) -> Result<ReloadStats, Error> {
        // With wall-clock alignment, the fast-forward of new series (up to a few tenths of a
        // second each) happens before the engine lock is taken, so the ticker is not held up;
        // under the lock they only catch up with the ticks that passed meanwhile.
        let mut prepared: Vec<Option<(Series, Vec<f64>)>> = config.entries.iter().map(|_| None).collect();
        if self.align == Align::WallClock {
            let current = self.snapshot();
            let known: std::collections::HashSet<&str> =
                current.config.entries.iter().map(|e| e.definition.as_str()).collect();
            for (index, entry) in config.entries.iter().enumerate() {
                if !known.contains(entry.definition.as_str()) {
                    let (mut series, mut values) = fresh(entry);
                    fast_forward(&mut series, &mut values, current.ticks, index, entry, &config.source)?;
                    prepared[index] = Some((series, values));
                }
            }
        }
        let mut engine = lock(&self.engine);
        let engine = &mut *engine;
        let n = engine.ticks;
        // First every new entry's series, which may fail; only then is the engine changed.
        let mut plan: Vec<Result<usize, New>> = Vec::with_capacity(config.entries.len());
        // Old entries by definition (unique within a config): a lookup each, so that reloading
        // 100,000 entries is not 100,000² comparisons.
        let mut by_definition: HashMap<&str, usize> = HashMap::with_capacity(engine.config.entries.len());
        for (index, e) in engine.config.entries.iter().enumerate() {
            by_definition.entry(e.definition.as_str()).or_insert(index);
        }
        for (index, entry) in config.entries.iter().enumerate() {
            if let Some(old) = by_definition.remove(entry.definition.as_str()) {
                plan.push(Ok(old));
                continue;
            }
            plan.push(Err(match self.align {
                Align::Start => {
                    let (series, mut values) = fresh(entry);
                    let mut series = series.starting_at(n.max(1));
                    if n > 0 {
                        series.advance(n, &mut values, &mut |_| {});
                    }
                    New { series, values, start: n.max(1) }
                }
                Align::WallClock => {
                    let (mut series, mut values) = prepared[index].take().unwrap_or_else(|| fresh(entry));
                    fast_forward(&mut series, &mut values, n, index, entry, &config.source)?;
                    New { series, values, start: 1 }
                }
            }));
        }
        // Where each old entry's values begin.
        let offsets: Vec<usize> = engine
            .series
            .iter()
            .scan(0, |offset, series| {
                let start = *offset;
                *offset += series.units();
                Some(start)
            })
            .collect();
        let mut old: Vec<Option<Series>> = engine.series.drain(..).map(Some).collect();
        let mut stats = ReloadStats { kept: 0, started: 0, removed: 0 };
        let mut starts = Vec::with_capacity(plan.len());
        let mut series = Vec::with_capacity(plan.len());
        let mut values = Vec::with_capacity(config.entries.iter().map(|e| e.units() as usize).sum());
        for (step, entry) in plan.into_iter().zip(&config.entries) {
            match step {
                Ok(index) => {
                    stats.kept += entry.series;
                    let kept = old[index].take().expect("each old entry is kept at most once");
                    values.extend_from_slice(&engine.values[offsets[index]..offsets[index] + kept.units()]);
                    series.push(kept);
                    starts.push(engine.starts[index]);
                }
                Err(new) => {
                    stats.started += entry.series;
                    values.extend_from_slice(&new.values);
                    series.push(new.series);
                    starts.push(new.start);
                }
            }
        }
        stats.removed = old
            .iter()
            .zip(&engine.config.entries)
            .filter(|(series, _)| series.is_some())
            .map(|(_, entry)| entry.series)
            .sum();
        let config = Arc::new(config);
        engine.catalog = Arc::new(Catalog::new(&config));
        engine.config = config;
        engine.series = series;
        engine.values = Arc::new(values);
        engine.starts = starts.into();
        engine.reload_ok = true;
        engine.reload_success_time = unix_seconds();
        self.publish(engine, false);
        Ok(stats)
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
            series: snapshot.config.series(),
            ticks: snapshot.ticks,
            tick_time: self.grid.seconds(snapshot.ticks),
            align: self.align,
            uptime: self.started.elapsed(),
            since_last_tick,
            interval: self.interval,
        }
    }
}

fn snapshot_of(engine: &Engine, grid: Grid, started: f64) -> Snapshot {
    let own = Own {
        // Ticks this process has run, whatever the tick numbers (see README, Aligned ticks).
        ticks: if engine.first == 0 { 0 } else { engine.ticks - engine.first + 1 },
        series: engine.config.series(),
        reload_ok: engine.reload_ok,
        reload_success_time: engine.reload_success_time,
        started,
    };
    Snapshot {
        ticks: engine.ticks,
        values: engine.values.clone(),
        cycle_starts: {
            let mut starts = Vec::with_capacity(engine.config.entries.iter().map(|e| e.cycles() as usize).sum());
            for series in &engine.series {
                series.cycle_starts(&mut starts);
            }
            starts
        },
        config: engine.config.clone(),
        starts: engine.starts.clone(),
        grid,
        catalog: engine.catalog.clone(),
        own,
        bodies: Default::default(),
    }
}

/// Fast-forwards the series of entry number `index` to tick `n`, each within
/// [`FAST_FORWARD_BUDGET`]; the error names the entry and says what to do.
fn fast_forward(
    series: &mut Series,
    values: &mut [f64],
    n: u64,
    index: usize,
    entry: &Entry,
    source: &str,
) -> Result<(), Error> {
    series.fast_forward(n, FAST_FORWARD_BUDGET, values).map_err(|_| Error::Config {
        source: source.to_string(),
        message: format!(
            "entry {index} ({:?}): --align wall-clock: {} cannot be fast-forwarded to tick {n} within \
                 {FAST_FORWARD_BUDGET} steps (see README, Aligned ticks); give it a smaller reset_interval, \
                 a longer --interval, or use --align start",
            entry.name, entry.function
        ),
    })
}

/// An entry's series before their first tick, with their values (NaN).
fn fresh(entry: &Entry) -> (Series, Vec<f64>) {
    let series = Series::new(entry);
    let values = vec![f64::NAN; series.units()];
    (series, values)
}

/// A new entry's series, prepared by a reload.
struct New {
    series: Series,
    values: Vec<f64>,
    /// See [`Snapshot::starts`].
    start: u64,
}

/// Each entry's series with its part of `values` (laid out as [`Snapshot::values`]).
fn parts<'a>(
    series: &'a mut [Series],
    mut values: &'a mut [f64],
) -> impl Iterator<Item = (&'a mut Series, &'a mut [f64])> {
    series.iter_mut().map(move |series| {
        let (mine, rest) = std::mem::take(&mut values).split_at_mut(series.units());
        values = rest;
        (series, mine)
    })
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
    use crate::config::{parse, Options};
    use crate::exposition::format_value;
    use crate::functions::Registry;
    use crate::sequence::{Budget, Sequence};

    fn config(text: &str) -> Config {
        parse(text, "t", &Options { namespace: String::new(), ..Options::default() }, &Registry::builtin()).unwrap()
    }

    #[test]
    fn ticks_advance_every_series_together() {
        let state = State::new(
            config(
                r#"[{"name":"s","metric_type":"gauge","custom_function":"square"},
                    {"name":"f","metric_type":"gauge","custom_function":"fibonacci","reset_interval":2}]"#,
            ),
            Duration::from_secs(1),
        );
        let seen: Vec<Vec<f64>> = (0..4)
            .map(|_| {
                state.tick();
                state.snapshot().values.to_vec()
            })
            .collect();
        assert_eq!(seen, [vec![1.0, 1.0], vec![4.0, 1.0], vec![9.0, 1.0], vec![16.0, 1.0]]);
        assert_eq!(state.snapshot().ticks, 4);
        let text = String::from_utf8_lossy(state.snapshot().body(Format::Text, false)).into_owned();
        assert!(text.contains("\ns 16\n"), "{text}");
        assert!(text.contains("\nmetrics_generator_ticks_total 4\n"), "{text}");
    }

    #[test]
    fn gzip_bodies_decode_to_the_plain_ones() {
        use std::io::Read as _;
        let state = State::new(
            config(r#"[{"name":"s","metric_type":"counter","custom_function":"square"}]"#),
            Duration::from_secs(1),
        );
        state.tick();
        let snapshot = state.snapshot();
        for format in [Format::Text, Format::OpenMetrics] {
            let mut decoded = Vec::new();
            flate2::read::GzDecoder::new(snapshot.body(format, true)).read_to_end(&mut decoded).unwrap();
            assert_eq!(decoded, snapshot.body(format, false));
        }
    }

    #[test]
    fn reload_keeps_unchanged_series_in_place() {
        let state = State::new(
            config(
                r#"[{"name":"a","metric_type":"gauge","custom_function":"square"},
                    {"name":"b","metric_type":"gauge","custom_function":"square"}]"#,
            ),
            Duration::from_secs(1),
        );
        for _ in 0..3 {
            state.tick();
        }
        let stats = state
            .reload(config(
                r#"[{"name":"c","metric_type":"gauge","custom_function":"square"},
                {"name":"a","metric_type":"gauge","custom_function":"square","help":"new help"},
                {"name":"b","metric_type":"gauge","custom_function":"square","reset_interval":2}]"#,
            ))
            .unwrap();
        assert_eq!(stats, ReloadStats { kept: 1, started: 2, removed: 1 });
        assert_eq!(state.snapshot().values[..], [1.0, 9.0, 1.0]);
        state.tick();
        assert_eq!(state.snapshot().values[..], [4.0, 16.0, 4.0]);
        assert_eq!(state.snapshot().ticks, 4);
    }

    #[test]
    fn reload_records_the_tick_new_series_start_at() {
        let state = State::new(
            config(r#"[{"name":"a","metric_type":"gauge","custom_function":"square"}]"#),
            Duration::from_secs(1),
        );
        for _ in 0..3 {
            state.tick();
        }
        state
            .reload(config(
                r#"[{"name":"a","metric_type":"gauge","custom_function":"square"},
                    {"name":"b","metric_type":"gauge","custom_function":"square"}]"#,
            ))
            .unwrap();
        let snapshot = state.snapshot();
        assert_eq!(
            (&snapshot.starts[..], &snapshot.values[..], &snapshot.cycle_starts[..]),
            (&[1, 3][..], &[9.0, 1.0][..], &[1, 3][..])
        );
    }

    #[test]
    fn wall_clock_start_serves_the_clock_s_tick_fast_forwarded() {
        let before = now_ms();
        let state = State::start(
            config(
                r#"[{"name":"s","metric_type":"gauge","custom_function":"square","reset_interval":1000},
                    {"name":"f","metric_type":"counter","custom_function":"fibonacci"}]"#,
            ),
            Duration::from_millis(250),
            Align::WallClock,
        )
        .unwrap();
        let after = now_ms();
        let snapshot = state.snapshot();
        let tick = snapshot.ticks;
        assert!(snapshot.grid.tick_at(before) <= Some(tick) && Some(tick) <= snapshot.grid.tick_at(after), "{tick}");
        let position = ((tick - 1) % 1000 + 1) as f64;
        assert_eq!(snapshot.values[0], position * position);
        // Fibonacci restarts after 1476 values: the same phase of a near tick, replayed.
        let near = (tick - 1) % 1476 + 1;
        let mut replay = snapshot.config.entries[1].sequence(0);
        for n in 1..=near {
            replay.advance(n);
        }
        assert_eq!(
            (snapshot.values[1], snapshot.cycle_starts[1] % 1476),
            (replay.value(), replay.cycle_start() % 1476)
        );
        // The process ran one tick, whatever its number.
        let text = String::from_utf8_lossy(snapshot.body(Format::Text, false)).into_owned();
        assert!(text.contains("\nmetrics_generator_ticks_total 1\n"), "{text}");
    }

    #[test]
    fn catching_up_at_once_gives_what_ticking_one_at_a_time_gives() {
        let text = r#"[{"name":"w","metric_type":"gauge","custom_function":"random_walk","reset_interval":70},
                       {"name":"p","metric_type":"counter","custom_function":"power"},
                       {"name":"e","metric_type":"gauge","custom_function":"expr","params":{"expr":"n + 1/(n % 11)"}}]"#;
        let (one, all) =
            (State::new(config(text), Duration::from_secs(1)), State::new(config(text), Duration::from_secs(1)));
        one.tick();
        all.tick();
        for _ in 0..500 {
            one.tick();
        }
        assert_eq!(all.tick_to(501), 501);
        let (a, b) = (one.snapshot(), all.snapshot());
        assert_eq!((a.ticks, &a.values, &a.cycle_starts), (b.ticks, &b.values, &b.cycle_starts));
    }

    #[test]
    fn seeded_series_of_a_fanned_out_entry_differ_and_others_share() {
        let state = State::new(
            config(
                r#"[{"name":"u","metric_type":"gauge","custom_function":"uniform","series":3},
                    {"name":"s","metric_type":"gauge","custom_function":"square","series":2}]"#,
            ),
            Duration::from_secs(1),
        );
        state.tick();
        let values = state.snapshot().values.clone();
        // Three values for the seeded entry, one shared by the square's two series.
        assert_eq!(values.len(), 4);
        assert!(values[0] != values[1] && values[1] != values[2], "{values:?}");
        assert_eq!(values[3], 1.0);
        let text = String::from_utf8(state.snapshot().body(Format::Text, false).to_vec()).unwrap();
        let single = config(r#"[{"name":"u","metric_type":"gauge","custom_function":"uniform"}]"#);
        let alone = State::new(single, Duration::from_secs(1));
        alone.tick();
        // Series 0 of a fanned-out entry has the values of the entry on its own.
        assert_eq!(alone.snapshot().values[0], values[0]);
        assert!(text.contains(&format!("u{{series=\"2\"}} {}\n", values[2])), "{text}");
        assert!(text.contains("s{series=\"1\"} 1\n"), "{text}");
    }

    /// Seeded entries of every built-in, with and without lanes, between entries whose series
    /// share values: what the state serves for each series must be what its own sequence gives.
    const SEEDED: &str = r#"[
        {"name":"u","metric_type":"gauge","custom_function":"uniform","series":1001},
        {"name":"s","metric_type":"gauge","custom_function":"square","series":3,"reset_interval":5},
        {"name":"n","metric_type":"counter","custom_function":"normal","series":1001,"reset_interval":7,
         "params":{"seed":3}},
        {"name":"w","metric_type":"gauge","custom_function":"random_walk","series":1001,"reset_interval":120},
        {"name":"u1","metric_type":"counter","custom_function":"uniform","series":1001,"reset_interval":1,
         "params":{"min":5,"max":6}},
        {"name":"big","metric_type":"counter","custom_function":"normal","series":3,
         "params":{"mean":1.7e308,"sd":1e307}},
        {"name":"w0","metric_type":"gauge","custom_function":"random_walk","series":1001,"params":{"step":4}}
    ]"#;

    /// The series checked in each entry.
    const CHECKED: [u64; 5] = [0, 1, 2, 7, 1000];

    /// Each checked series' own sequence (entry index, series, sequence), the reference.
    fn references(config: &Config) -> Vec<(usize, u64, Sequence)> {
        let mut refs = Vec::new();
        for (index, entry) in config.entries.iter().enumerate() {
            for k in CHECKED.into_iter().filter(|&k| k < entry.series) {
                refs.push((index, k, entry.sequence(k)));
            }
        }
        refs
    }

    /// Asserts that the snapshot serves each reference's value and cycle start, in its values,
    /// its cycle starts, and the text and OpenMetrics bodies (`_created` for counters).
    #[track_caller]
    fn assert_serves(what: &str, snapshot: &Snapshot, refs: &[(usize, u64, Sequence)], bodies: bool) {
        let entries = &snapshot.config.entries;
        let text = bodies.then(|| String::from_utf8(snapshot.body(Format::Text, false).to_vec()).unwrap());
        let om = bodies.then(|| String::from_utf8(snapshot.body(Format::OpenMetrics, false).to_vec()).unwrap());
        let (mut floats, mut ints) = (ryu::Buffer::new(), itoa::Buffer::new());
        for (index, k, reference) in refs {
            let entry = &entries[*index];
            let unit: u64 =
                entries[..*index].iter().map(Entry::units).sum::<u64>() + if entry.per_series { *k } else { 0 };
            let cycle: u64 =
                entries[..*index].iter().map(Entry::cycles).sum::<u64>() + if entry.cycles() > 1 { *k } else { 0 };
            let served = (snapshot.values[unit as usize].to_bits(), snapshot.cycle_starts[cycle as usize]);
            assert_eq!(
                served,
                (reference.value().to_bits(), reference.cycle_start()),
                "{what}: {} series {k} at tick {}: {} served, {} replayed",
                entry.name,
                snapshot.ticks,
                snapshot.values[unit as usize],
                reference.value()
            );
            let (Some(text), Some(om)) = (&text, &om) else { continue };
            let series = entry.series_name(*k);
            let line = format!("{} {}\n", series, format_value(reference.value(), &mut floats, &mut ints));
            assert!(text.contains(&format!("\n{line}")), "{what}: no {line:?} in the text");
            if entry.kind == crate::config::Kind::Counter {
                let created = series.replacen("_total", "_created", 1);
                let time = format_value(snapshot.grid.seconds(reference.cycle_start()), &mut floats, &mut ints);
                let line = format!("\n{created} {time}\n");
                assert!(om.contains(&line), "{what}: no {line:?} in OpenMetrics");
            }
        }
    }

    /// Advances every reference to tick `n`.
    fn advance(refs: &mut [(usize, u64, Sequence)], n: u64) {
        for (_, _, reference) in refs {
            reference.advance(n);
        }
    }

    #[test]
    fn seeded_series_serve_their_own_sequence_s_values_tick_by_tick() {
        let state = State::new(config(SEEDED), Duration::from_secs(1));
        let mut refs = references(&state.snapshot().config);
        for n in 1..=300 {
            state.tick();
            advance(&mut refs, n);
            assert_serves("tick by tick", &state.snapshot(), &refs, n % 100 == 1);
        }
    }

    #[test]
    fn seeded_series_caught_up_at_once_serve_their_own_sequence_s_values() {
        let state = State::new(config(SEEDED), Duration::from_secs(1));
        let mut refs = references(&state.snapshot().config);
        state.tick();
        advance(&mut refs, 1);
        for (from, to) in [(1, 2), (2, 130), (130, 131), (131, 377)] {
            assert_eq!(state.tick_to(to), to);
            for n in from + 1..=to {
                advance(&mut refs, n);
            }
            assert_serves(&format!("caught up to {to}"), &state.snapshot(), &refs, true);
        }
    }

    #[test]
    fn seeded_series_kept_by_a_reload_serve_their_own_sequence_s_values() {
        let state = State::new(config(SEEDED), Duration::from_secs(1));
        let mut refs = references(&state.snapshot().config);
        for n in 1..=40 {
            state.tick();
            advance(&mut refs, n);
        }
        // The same entries in reverse order, after a new one; "s" changes, so it starts again.
        let mut entries: Vec<serde_json::Value> = serde_json::from_str(SEEDED).unwrap();
        entries.reverse();
        entries
            .insert(0, serde_json::json!({"name":"x","metric_type":"gauge","custom_function":"uniform","series":1001}));
        entries.iter_mut().find(|e| e["name"] == "s").unwrap()["reset_interval"] = 6.into();
        let stats = state.reload(config(&serde_json::Value::from(entries).to_string())).unwrap();
        assert_eq!(stats, ReloadStats { kept: 5 * 1001 + 3, started: 1001 + 3, removed: 3 });
        let snapshot = state.snapshot();
        // Kept entries carry on; the new and the changed one start at tick 40, at once.
        let names: Vec<String> = config(SEEDED).entries.into_iter().map(|e| e.name).collect();
        let mut refs: Vec<(usize, u64, Sequence)> = refs
            .into_iter()
            .filter_map(|(old, k, reference)| {
                let name = &names[old];
                let index = snapshot.config.entries.iter().position(|e| &e.name == name)?;
                (name != "s").then_some((index, k, reference))
            })
            .collect();
        for (index, k, mut reference) in references(&snapshot.config) {
            if ["x", "s"].contains(&snapshot.config.entries[index].name.as_str()) {
                reference = reference.starting_at(40);
                reference.advance(40);
                refs.push((index, k, reference));
            }
        }
        assert_serves("reloaded", &snapshot, &refs, true);
        for n in 41..=300 {
            state.tick();
            advance(&mut refs, n);
            assert_serves("after a reload", &state.snapshot(), &refs, n % 100 == 0);
        }
    }

    #[test]
    fn seeded_series_fast_forwarded_to_the_wall_clock_serve_their_own_sequence_s_values() {
        // A walk with no reset_interval cannot be fast-forwarded to the epoch's tick: refused, as
        // a sequence of its own would be.
        let refused = State::start(config(SEEDED), Duration::from_millis(250), Align::WallClock);
        let message = refused.err().expect("the walk is refused").to_string();
        assert!(message.contains("entry 6 (\"w0\")"), "{message}");
        let mut entries: Vec<serde_json::Value> = serde_json::from_str(SEEDED).unwrap();
        entries.pop();
        let text = serde_json::Value::from(entries).to_string();
        let state = State::start(config(&text), Duration::from_millis(250), Align::WallClock).unwrap();
        let fast_forwarded = |snapshot: &Snapshot, tick: u64| {
            let mut refs = references(&snapshot.config);
            for (_, _, reference) in &mut refs {
                reference.skip_to(tick, &mut Budget::new(FAST_FORWARD_BUDGET)).unwrap();
            }
            refs
        };
        let snapshot = state.snapshot();
        let mut refs = fast_forwarded(&snapshot, snapshot.ticks);
        assert_serves("fast-forwarded", &snapshot, &refs, true);
        for _ in 0..130 {
            let n = state.tick();
            advance(&mut refs, n);
            assert_serves("after a fast-forward", &state.snapshot(), &refs, false);
        }
        // A reload fast-forwards a new entry to the current tick, as if it had always been there.
        let mut entries: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        entries.push(serde_json::json!({"name":"x","metric_type":"gauge","custom_function":"random_walk",
                                        "series":1001,"reset_interval":50,"params":{"seed":5}}));
        state.reload(config(&serde_json::Value::from(entries).to_string())).unwrap();
        let snapshot = state.snapshot();
        let mut refs = fast_forwarded(&snapshot, snapshot.ticks);
        assert_serves("after a wall-clock reload", &snapshot, &refs, true);
        let n = state.tick();
        advance(&mut refs, n);
        assert_serves("a tick after a wall-clock reload", &state.snapshot(), &refs, true);
    }

    #[test]
    fn a_stalled_ticker_makes_health_unhealthy() {
        let state = State::new(
            config(r#"[{"name":"s","metric_type":"gauge","custom_function":"square"}]"#),
            Duration::from_millis(10),
        );
        state.tick();
        assert!(state.health().healthy);
        std::thread::sleep(Duration::from_millis(40));
        let health = state.health();
        assert!(!health.healthy, "{health:?}");
        state.tick();
        assert!(state.health().healthy);
    }

    #[test]
    fn grid_offsets_are_exact() {
        assert_eq!(grid_offset(Duration::from_millis(250), 7), Duration::from_millis(1750));
        assert_eq!(grid_offset(Duration::from_secs(60), 1_000_000), Duration::from_secs(60_000_000));
        assert_eq!(grid_offset(Duration::MAX, u64::MAX).as_secs(), u64::MAX);
    }
}
