//! metrics-generator: a Prometheus exporter that serves synthetic, predictable metric series.
//!
//! The binary is a thin `main` around [`run`]. The library exists so that Rust code can add
//! functions to a [`Registry`] and run the same exporter with them, in its own `main` or
//! in-process (for tests) with [`start`]. A function is a [`Generator`] made by a [`Factory`];
//! [`Registry::register_fn`] registers a function of the position `i` in one call, and
//! [`Registry::register`] one with [`Params`] and state of its own.
//!
//! ```
//! use metrics_generator::{Args, Registry};
//! use std::io::{Read, Write};
//!
//! let mut registry = Registry::builtin();
//! registry.register_fn("cube", "i³: 1, 8, 27, …", |i| (i as f64).powi(3));
//!
//! let config = std::env::temp_dir().join(format!("cube-{}.json", std::process::id()));
//! std::fs::write(&config, r#"[{"name": "cube", "metric_type": "gauge", "custom_function": "cube"}]"#)?;
//! let args = Args::parse(vec![
//!     "--config".into(),
//!     config.clone().into_os_string(),
//!     "--listen-address".into(),
//!     "127.0.0.1:0".into(),
//! ])?;
//! let running = metrics_generator::start(&args, registry)?;
//!
//! let mut scrape = std::net::TcpStream::connect(running.addr)?;
//! scrape.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
//! let mut answer = String::new();
//! scrape.read_to_string(&mut answer)?;
//! assert!(answer.contains("\ntest_metrics_cube 1\n"));
//! # std::fs::remove_file(config)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The code is laid out leaves first; `ARCHITECTURE.md` draws the layers and says what each
//! module owns. Modules marked hidden are public only for the benchmarks, fuzz targets and
//! integration tests, and are not part of the API.
#![forbid(unsafe_code)]

// Leaves: no `use crate::…` at all.
#[doc(hidden)]
pub mod distribution;
mod error;
mod names;
mod splitmix;
mod text;
#[doc(hidden)]
pub mod time;
mod watch;
mod wire;
// The expression language, the functions, the config.
#[doc(hidden)]
pub mod config;
#[doc(hidden)]
pub mod expr;
mod functions;
// Rendering, the engine, charts, HTTP, the command line; then start-up.
#[doc(hidden)]
pub mod chart;
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod engine;
#[doc(hidden)]
pub mod exposition;
#[doc(hidden)]
pub mod http;
#[doc(hidden)]
pub mod remote;
mod serve;

pub use cli::{Args, Mode};
pub use error::Error;
pub use functions::{
    index_factory, index_factory_with, param_error, prototype_factory, Factory, Finite, FunctionDef, Generator, Lanes,
    ParamDoc, Params, Registry, SplitMix64, Step, DEFAULT_SEED,
};
pub use names::VERSION;
pub use serve::{run, start, Reloader, Running};
pub use time::Align;

/// The manual's Rust examples run as doc tests, so the documented way to add a function is tested.
#[cfg(doctest)]
#[doc = include_str!("../docs/functions.md")]
pub struct FunctionsDoctests;
