//! Running the exporter: [`run`] does what the flags ask (a mode that prints and exits, or
//! serving); [`start`] loads the config, runs the first tick, binds the socket and starts the
//! server, remote write and the ticker, in that order; the [`Reloader`] and the signal thread.

use crate::cli::{self, exports, output, preview, Args, Mode};
use crate::config;
use crate::engine::{self, State};
use crate::error::Error;
use crate::exposition::{self, Connections};
use crate::functions::Registry;
use crate::http;
use crate::names::VERSION;
use crate::remote;
use crate::time::Align;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Does what `args` asks for with the functions of `registry`: serves until SIGTERM or SIGINT, or
/// prints what was asked and returns.
pub fn run(args: &Args, registry: Registry) -> Result<(), Error> {
    match args.mode {
        Mode::Help => output::print(cli::args::HELP)?,
        Mode::Version => output::print(&format!("metrics-generator {VERSION}\n"))?,
        Mode::ListFunctions => output::print(&registry.describe())?,
        Mode::CheckConfig => {
            web_config(args)?;
            let state = prepare(args, &registry)?;
            output::print(&cli::check::summary(&state.snapshot().config))?;
        }
        Mode::Preview(ticks) => {
            let config = config::load(args.config.as_deref(), &args.config_options(), &registry)?;
            preview::print(&config, ticks)?;
        }
        Mode::PreviewSvg { ref path, ticks } => {
            let config = config::load(args.config.as_deref(), &args.config_options(), &registry)?;
            preview::svg(&config, ticks, path)?;
        }
        Mode::ExportPromtool { ref path, ticks } => {
            let config = config::load(args.config.as_deref(), &args.config_options(), &registry)?;
            exports::to_file(path, |out| exports::promtool_tests(&config, args.interval, ticks, out))?;
        }
        Mode::ExportOpenMetrics { ref path, start_ms, ticks } => {
            let config = config::load(args.config.as_deref(), &args.config_options(), &registry)?;
            exports::to_file(path, |out| {
                exports::openmetrics(&config, args.align, args.interval, start_ms, ticks, out)
            })?;
        }
        Mode::Serve => {
            // Handlers are registered before anything else, so that a SIGTERM sent as soon as the
            // `listening on` line appears is never lost (as PID 1, an unhandled one is ignored);
            // signals that arrive during start-up wait in the iterator.
            let signals = signal_hook::iterator::Signals::new(SIGNALS)
                .map_err(|e| Error::Startup(format!("cannot install signal handlers: {e}")))?;
            // Taken before the config is read: a change made while the exporter starts is seen.
            let watched = args.config.as_ref().filter(|_| args.watch_config);
            let seen = watched.and_then(|path| crate::watch::Fingerprint::of(path));
            let running = start(args, registry)?;
            handle_signals(signals, running.reloader.clone())?;
            if let Some(path) = watched {
                let reloader = running.reloader.clone();
                // The outcome is logged by reload itself.
                crate::watch::spawn(path.clone(), seen, crate::watch::POLL, move || drop(reloader.reload()))
                    .map_err(|e| Error::Startup(format!("cannot start the config watcher thread: {e}")))?;
            }
            running.wait();
        }
    }
    Ok(())
}

/// A running exporter: ticking and answering requests on its own threads.
pub struct Running {
    /// The address actually bound (useful with port 0).
    pub addr: SocketAddr,
    /// The shared state, for inspection.
    pub state: Arc<State>,
    /// Reloads the config from where it was first loaded.
    pub reloader: Arc<Reloader>,
}

impl Running {
    /// Blocks for good: the exporter serves until the process ends, through a signal. (The
    /// connection threads are not joined: their number changes with the load.)
    pub fn wait(self) {
        loop {
            std::thread::park();
        }
    }
}

/// Loads the config, runs tick 1, binds the listen address and starts the ticker and the
/// server. Signals are not handled here (see [`run`]), so tests can run exporters in-process.
pub fn start(args: &Args, registry: Registry) -> Result<Running, Error> {
    let options = args.config_options();
    // The self-metrics read the connection counts from the server once it runs; before (tick 1),
    // only the limit is known.
    let connection_stats = Arc::new(OnceLock::<Arc<tiny_http::ConnectionStats>>::new());
    let limit = args.max_connections as u64;
    let stats = connection_stats.clone();
    exposition::count_connections_with(move || match stats.get() {
        None => Connections { limit, ..Connections::default() },
        Some(s) => Connections { limit, open: s.open() as u64, evicted: s.evicted(), refused: s.refused() },
    });
    let remote_write = args.remote_write.as_ref().map(|options| (remote::count(), options));
    // The first tick happens at start-up, so the very first scrape already shows values: tick 1,
    // or with --align wall-clock the tick the clock says.
    let web = web_config(args)?.map(Arc::new);
    let state = Arc::new(prepare(args, &registry)?);
    let (series, source) = {
        let snapshot = state.snapshot();
        (snapshot.config.served(), snapshot.config.source.clone())
    };
    if let Some(shard) = args.shard {
        log::info!(
            "shard {}/{}: serving {series} of the config's {} series",
            shard.index,
            shard.count,
            state.snapshot().config.series()
        );
        if series == 0 {
            // Not an error: a StatefulSet scaled past the config's size has idle replicas, whose
            // /metrics holds only the exporter's own metrics.
            log::warn!(
                "shard {}/{} has no series: /metrics will hold only the exporter's own",
                shard.index,
                shard.count
            );
        }
    }
    let listen_error =
        |e: &dyn std::fmt::Display| Error::Listen { address: args.listen.to_string(), message: e.to_string() };
    let listener = bind(args.listen).map_err(|e| listen_error(&e))?;
    let reloader = Arc::new(Reloader { path: args.config.clone(), options, registry, state: state.clone() });
    let reload_from_http = reloader.clone();
    let reload: Arc<http::Reload> = Arc::new(move || reload_from_http.reload().map_err(|e| e.to_string()));
    let access = http::Access {
        lifecycle: args.enable_lifecycle,
        expected_max_concurrency: args.expected_max_concurrency,
        web: web.clone(),
    };
    let handler = http::handler(state.clone(), reload, access);
    let https = web.as_ref().is_some_and(|w| w.current().tls());
    let wrap = web.map(http::web::wrap);
    let limits = tiny_http::Limits {
        max_connections: args.max_connections,
        head_timeout: args.head_timeout,
        idle_timeout: args.idle_timeout,
    };
    let server = tiny_http::Server::from_listener_with_handler(listener, handler, Some(limits), wrap)
        .map_err(|e| listen_error(&e))?;
    if let Some(stats) = server.connection_stats() {
        let _ = connection_stats.set(stats);
    }
    let addr = server.server_addr().to_ip().unwrap_or(args.listen);
    log::info!(
        "serving {series} series from {source}, one tick every {:?}, aligned to {}",
        args.interval,
        match args.align {
            Align::Start => "start-up",
            Align::WallClock => "the wall clock",
        }
    );
    log::info!("listening on {}://{addr}", if https { "https" } else { "http" });
    // Before the ticker starts, so that pushing begins with the tick being served.
    if let Some((counting, options)) = remote_write {
        counting.start(&state, options)?;
    }
    let ticker_state = state.clone();
    std::thread::Builder::new()
        .name("ticker".into())
        .spawn(move || engine::run_ticker(&ticker_state))
        .map_err(|e| Error::Startup(format!("cannot start the ticker thread: {e}")))?;
    // The server answers for as long as it lives, which is as long as the process.
    std::mem::forget(server);
    Ok(Running { addr, state, reloader })
}

/// The `--web.config.file`, read and checked (with the files it names), if given.
fn web_config(args: &Args) -> Result<Option<http::web::Web>, Error> {
    let Some(path) = &args.web_config else { return Ok(None) };
    let web =
        http::web::Web::load(path).map_err(|message| Error::WebConfig { path: path.display().to_string(), message })?;
    let loaded = web.current();
    log::info!(
        "web config {}: {}, {}",
        path.display(),
        if loaded.tls() { "TLS" } else { "no TLS" },
        match loaded.settings.users.len() {
            0 => "no basic auth".to_string(),
            n => format!("basic auth for {n} user{}", if n == 1 { "" } else { "s" }),
        }
    );
    Ok(Some(web))
}

/// Everything serving checks before it binds, with the same flags: the config loads, and its first
/// tick can be computed (tick 1, or with `--align wall-clock` every series fast-forwarded to the
/// tick the clock says, which a `random_walk` without `reset_interval` cannot be). The first tick
/// happens here, so the very first scrape already shows values. `--check-config` runs exactly
/// this, so it approves a config if and only if serving would start with it.
fn prepare(args: &Args, registry: &Registry) -> Result<State, Error> {
    let config = config::load(args.config.as_deref(), &args.config_options(), registry)?;
    State::start(config, args.interval, args.align)
}

/// How long one send to a client may block: long enough for any real scraper, short enough that a
/// client that never reads frees its connection's thread (with the HTTP server's `STALLED`, which gives up on a
/// client that takes that long to accept one piece of its answer).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// The most of an answer that may wait in the kernel unsent (`TCP_NOTSENT_LOWAT`), per connection.
pub const NOT_SENT: u32 = 64 * 1024;

/// Binds the listening socket with the write timeout above, TCP_NODELAY and a deep backlog. On
/// Linux, accepted sockets inherit these options, which is how they reach tiny_http's
/// connections. There is no receive timeout: on a listening socket it is a timeout of `accept`,
/// which made a healthy exporter with no new connection for that long log an accept error; idle
/// connections and slow request heads are closed by tiny_http's deadlines (patch 11) instead.
fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // A restarted exporter can bind again at once, with old connections still in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.set_write_timeout(Some(WRITE_TIMEOUT))?;
    // tiny_http writes the head and the body of a response separately; without TCP_NODELAY,
    // Nagle's algorithm holds the body back until the client's delayed ACK, 40 ms per request.
    socket.set_tcp_nodelay(true)?;
    // At most this much of an answer waits in the kernel unsent: a send blocks beyond it. What is
    // in flight to the client is not counted, so a fast link is not slowed; but a client that
    // does not read holds this much of the kernel's memory instead of a send buffer grown to
    // megabytes, and no thread copies megabytes for it before it blocks.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    socket.set_tcp_notsent_lowat(NOT_SENT)?;
    socket.bind(&addr.into())?;
    // Deep enough that a burst of thousands of connections waits in the kernel for the accept
    // thread, which admits them or makes room, rather than having SYNs dropped (and the client,
    // an honest scraper among them, retrying a second later). Linux caps it at somaxconn.
    socket.listen(4096)?;
    Ok(socket.into())
}

/// Reads the config again from where it was first loaded, on SIGHUP or `POST /-/reload`.
pub struct Reloader {
    path: Option<PathBuf>,
    options: config::Options,
    registry: Registry,
    state: Arc<State>,
}

impl Reloader {
    /// Loads and validates the config; a valid one replaces the running one (see
    /// [`State::reload`]), an invalid one (or one whose new series cannot be fast-forwarded with
    /// `--align wall-clock`) is logged and changes nothing but the reload metrics.
    pub fn reload(&self) -> Result<String, Error> {
        let reloaded = config::load(self.path.as_deref(), &self.options, &self.registry).and_then(|config| {
            let (series, source) = (config.served(), config.source.clone());
            self.state.reload(config).map(|stats| (stats, series, source))
        });
        match reloaded {
            Ok((stats, series, source)) => {
                let summary = format!(
                    "config {source} reloaded: {series} series ({} kept their place, {} changed, {} started, {} removed)",
                    stats.kept, stats.changed, stats.started, stats.removed
                );
                log::info!("{summary}");
                Ok(summary)
            }
            Err(e) => {
                self.state.reload_failed();
                log::error!("reload rejected, the running config keeps serving: {e}");
                Err(e)
            }
        }
    }
}

/// The signals the exporter handles.
const SIGNALS: [i32; 3] = [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT, signal_hook::consts::SIGHUP];

/// SIGTERM and SIGINT end the process at once with status 0; SIGHUP reloads the config. Handlers
/// are installed explicitly because a process running as PID 1 in a container gets no default
/// action for SIGTERM and SIGINT.
fn handle_signals(mut signals: signal_hook::iterator::Signals, reloader: Arc<Reloader>) -> Result<(), Error> {
    use signal_hook::consts::{SIGHUP, SIGTERM};
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if signal == SIGHUP {
                    log::info!("SIGHUP received, reloading the config");
                    // The outcome is logged by reload itself.
                    let _ = reloader.reload();
                    continue;
                }
                let name = if signal == SIGTERM { "SIGTERM" } else { "SIGINT" };
                log::info!("{name} received, exiting");
                std::process::exit(0);
            }
        })
        .map_err(|e| Error::Startup(format!("cannot start the signal thread: {e}")))?;
    Ok(())
}
