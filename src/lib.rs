//! metrics-generator: a Prometheus exporter that serves synthetic, predictable metric series.
//!
//! The binary is a thin `main` around [`run`]; the library exists so that Rust code can add
//! functions to the [`functions::Registry`] and run the same exporter with them. The data flow is
//! config → state (sequences, ticked on a fixed grid) → snapshot → exposition text → HTTP; see
//! ARCHITECTURE.md.
#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
pub mod error;
pub mod exposition;
pub mod expr;
pub mod functions;
pub mod preview;
pub mod sequence;
pub mod server;
pub mod state;

use cli::{Args, Mode};
use error::Error;
use functions::Registry;
use state::State;
use std::sync::Arc;

/// The version reported by `--version`, `/health` and the landing page.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Does what `args` asks for with the functions of `registry`: serves forever, or prints what was
/// asked and returns.
pub fn run(args: &Args, registry: &Registry) -> Result<(), Error> {
    match args.mode {
        Mode::Help => print!("{}", cli::HELP),
        Mode::Version => println!("metrics-generator {VERSION}"),
        Mode::ListFunctions => print!("{}", registry.describe()),
        Mode::CheckConfig => {
            let config = config::load(args.config.as_deref(), &args.namespace, registry)?;
            print!("{}", summary(&config));
        }
        Mode::Preview(ticks) => {
            let config = config::load(args.config.as_deref(), &args.namespace, registry)?;
            preview::print(&config, ticks)?;
        }
        Mode::Serve => serve(args, registry)?,
    }
    Ok(())
}

/// What `--check-config` prints: a verdict line, then one line per series.
fn summary(config: &config::Config) -> String {
    let mut out = format!("config {} is valid: {} series\n", config.source, config.entries.len());
    for e in &config.entries {
        let labels: Vec<String> = e.labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        let labels = if labels.is_empty() { String::new() } else { format!("{{{}}}", labels.join(",")) };
        let reset = e.reset_interval.map(|r| format!(", reset every {r} values")).unwrap_or_default();
        out.push_str(&format!("  {}{labels} {} {}{reset}\n", e.sample_name(), e.kind.as_str(), e.function));
    }
    out
}

fn serve(args: &Args, registry: &Registry) -> Result<(), Error> {
    let config = config::load(args.config.as_deref(), &args.namespace, registry)?;
    let (series, source) = (config.entries.len(), config.source.clone());
    let state = Arc::new(State::new(config, args.interval));
    // Tick 1 happens at start-up, so the very first scrape already shows first values.
    state.tick();
    exit_on_signals()?;
    let server = tiny_http::Server::http(args.listen)
        .map_err(|e| Error::Listen { address: args.listen.to_string(), message: e.to_string() })?;
    log::info!("serving {series} series from {source}, one tick every {:?}", args.interval);
    log::info!("listening on http://{}", server.server_addr());
    let ticker_state = state.clone();
    std::thread::Builder::new()
        .name("ticker".into())
        .spawn(move || state::run_ticker(&ticker_state))
        .map_err(|e| Error::Startup(format!("cannot start the ticker thread: {e}")))?;
    server::serve(Arc::new(server), state);
    Ok(())
}

/// SIGTERM and SIGINT end the process at once with status 0. Handlers are installed explicitly
/// because a process running as PID 1 in a container gets no default action for them.
fn exit_on_signals() -> Result<(), Error> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])
        .map_err(|e| Error::Startup(format!("cannot install signal handlers: {e}")))?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let name = if signal == SIGTERM { "SIGTERM" } else { "SIGINT" };
                log::info!("{name} received, exiting");
                std::process::exit(0);
            }
        })
        .map_err(|e| Error::Startup(format!("cannot start the signal thread: {e}")))?;
    Ok(())
}

/// The README's Rust examples run as doc tests, so the documented way to add a function is tested.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
