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
//! sequence from tick 1 ([`Sequence::skip_to`]).

use crate::config::{Config, Entry};
use crate::error::Error;
use crate::exposition::{Catalog, Format, Own, Sample};
use crate::grid::{now_ms, Align, Grid};
use crate::sequence::{Budget, Restart, Sequence};
use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The work one series may take to fast-forward, in [`Budget`] units (about one value computed
/// each): a quarter of a second or so at most. It bounds start-up and reloads with
/// `--align wall-clock`; a series that needs more is refused with a message saying why.
pub const FAST_FORWARD_BUDGET: u64 = 10_000_000;

/// What one tick produced: the values of every series, with what is needed to render them.
pub struct Snapshot {
    /// The tick these values belong to: 1 is the first at start-up, or, with
    /// `--align wall-clock`, the one at the Unix epoch.
    pub ticks: u64,
    /// One value per sequence: per config entry in config order, and within an entry one per
    /// series when they differ (see `Entry::units`).
    pub values: Vec<f64>,
    /// The tick at which each series' current cycle began.
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
                // (Prometheus) never makes the process hold the whole uncompressed body.
                let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
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
    /// Per config entry, its sequences: one per series when they differ, else one for all.
    sequences: Vec<Vec<Sequence>>,
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
        let sequences = config.entries.iter().map(sequences_of).collect();
        let starts = vec![1; config.entries.len()].into();
        let engine = Engine {
            sequences,
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
                for (index, (entry, sequences)) in config.entries.iter().zip(engine.sequences.iter_mut()).enumerate() {
                    for sequence in sequences {
                        fast_forward(sequence, n, index, entry, &config.source)?;
                    }
                }
                engine.ticks = n;
                engine.first = n;
                state.publish(&engine, true);
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
        let mut restarts: Vec<(usize, usize, Restart)> = Vec::new();
        let mut engine = lock(&self.engine);
        let n = engine.ticks + 1;
        for (index, sequences) in engine.sequences.iter_mut().enumerate() {
            for (k, seq) in sequences.iter_mut().enumerate() {
                if let Some(why) = seq.advance(n) {
                    restarts.push((index, k, why));
                }
            }
        }
        engine.ticks = n;
        if engine.first == 0 {
            engine.first = n;
        }
        self.publish(&engine, true);
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
        for seq in engine.sequences.iter_mut().flatten() {
            if seq.skip_to(target, &mut Budget::new(FAST_FORWARD_BUDGET)).is_err() {
                // Too slow to jump: the rest, one tick at a time, as the ticker would have.
                while seq.tick() < target {
                    seq.advance(seq.tick() + 1);
                }
            }
        }
        engine.ticks = target;
        self.publish(&engine, true);
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
        let mut prepared: Vec<Option<Vec<Sequence>>> = config.entries.iter().map(|_| None).collect();
        if self.align == Align::WallClock {
            let current = self.snapshot();
            let known: std::collections::HashSet<&str> =
                current.config.entries.iter().map(|e| e.definition.as_str()).collect();
            for (index, entry) in config.entries.iter().enumerate() {
                if !known.contains(entry.definition.as_str()) {
                    let mut sequences = sequences_of(entry);
                    for seq in &mut sequences {
                        fast_forward(seq, current.ticks, index, entry, &config.source)?;
                    }
                    prepared[index] = Some(sequences);
                }
            }
        }
        let mut engine = lock(&self.engine);
        let n = engine.ticks;
        // First every new sequence, which may fail; only then is the engine changed.
        let mut plan: Vec<Result<usize, (Vec<Sequence>, u64)>> = Vec::with_capacity(config.entries.len());
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
                    let sequences = sequences_of(entry)
                        .into_iter()
                        .map(|seq| {
                            let mut seq = seq.starting_at(n.max(1));
                            if n > 0 {
                                seq.advance(n);
                            }
                            seq
                        })
                        .collect();
                    (sequences, n.max(1))
                }
                Align::WallClock => {
                    let mut sequences = prepared[index].take().unwrap_or_else(|| sequences_of(entry));
                    for seq in &mut sequences {
                        fast_forward(seq, n, index, entry, &config.source)?;
                    }
                    (sequences, 1)
                }
            }));
        }
        let mut old: Vec<Option<Vec<Sequence>>> = engine.sequences.drain(..).map(Some).collect();
        let mut stats = ReloadStats { kept: 0, started: 0, removed: 0 };
        let mut starts = Vec::with_capacity(plan.len());
        let mut sequences = Vec::with_capacity(plan.len());
        for (step, entry) in plan.into_iter().zip(&config.entries) {
            let (seq, start) = match step {
                Ok(index) => {
                    stats.kept += entry.series;
                    (old[index].take().expect("each old entry is kept at most once"), engine.starts[index])
                }
                Err(new) => {
                    stats.started += entry.series;
                    new
                }
            };
            sequences.push(seq);
            starts.push(start);
        }
        stats.removed = old
            .iter()
            .zip(&engine.config.entries)
            .filter(|(sequences, _)| sequences.is_some())
            .map(|(_, entry)| entry.series)
            .sum();
        let config = Arc::new(config);
        engine.catalog = Arc::new(Catalog::new(&config));
        engine.config = config;
        engine.sequences = sequences;
        engine.starts = starts.into();
        engine.reload_ok = true;
        engine.reload_success_time = unix_seconds();
        self.publish(&engine, false);
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
        values: engine.sequences.iter().flatten().map(Sequence::value).collect(),
        cycle_starts: engine.sequences.iter().flatten().map(Sequence::cycle_start).collect(),
        config: engine.config.clone(),
        starts: engine.starts.clone(),
        grid,
        catalog: engine.catalog.clone(),
        own,
        bodies: Default::default(),
    }
}

/// Fast-forwards `sequence`, of entry number `index`, to tick `n` within [`FAST_FORWARD_BUDGET`];
/// the error names the entry and says what to do.
fn fast_forward(sequence: &mut Sequence, n: u64, index: usize, entry: &Entry, source: &str) -> Result<(), Error> {
    sequence.skip_to(n, &mut Budget::new(FAST_FORWARD_BUDGET)).map_err(|_| Error::Config {
        source: source.to_string(),
        message: format!(
            "entry {index} ({:?}): --align wall-clock: {} cannot be fast-forwarded to tick {n} within \
                 {FAST_FORWARD_BUDGET} steps (see README, Aligned ticks); give it a smaller reset_interval, \
                 a longer --interval, or use --align start",
            entry.name, entry.function
        ),
    })
}

/// The sequences of an entry's series, before their first tick.
fn sequences_of(entry: &Entry) -> Vec<Sequence> {
    (0..entry.units()).map(|k| entry.sequence(k)).collect()
}

/// `2 series restarted: ns_a (value not finite), ns_b_total{k="v"} (reset_interval reached)`,
/// naming at most five entries or series.
fn describe_restarts(config: &Config, restarts: &[(usize, usize, Restart)]) -> String {
    const SHOWN: usize = 5;
    let mut names: Vec<String> = restarts
        .iter()
        .take(SHOWN)
        .map(|&(index, k, why)| {
            let entry = &config.entries[index];
            let name = if entry.per_series { entry.series_name(k as u64) } else { entry.describe_series() };
            format!("{name} ({})", why.describe())
        })
        .collect();
    if restarts.len() > SHOWN {
        names.push(format!("and {} more", restarts.len() - SHOWN));
    }
    let count: u64 = restarts
        .iter()
        .map(|&(index, _, _)| {
            let entry = &config.entries[index];
            if entry.per_series {
                1
            } else {
                entry.series
            }
        })
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
    use crate::functions::Registry;

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
                state.snapshot().values.clone()
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
        assert_eq!(state.snapshot().values, [1.0, 9.0, 1.0]);
        state.tick();
        assert_eq!(state.snapshot().values, [4.0, 16.0, 4.0]);
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
        // Three sequences for the seeded entry, one shared by the square's two series.
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
