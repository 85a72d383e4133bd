//! Remote write (SPEC §11): every tick's samples pushed to a Prometheus remote-write 1.0 receiver,
//! stamped with their tick's time on the grid, by a sender thread of its own.
//!
//! - `options`: the `--remote-write*` flags, checked once at start-up (URL, headers, auth files,
//!   CA file);
//! - `encode`: a tick's samples as snappy-compressed `WriteRequest`s, replayed from the config
//!   (`engine::Replay`), with stale markers for the series that went;
//! - `client`: one HTTP/1.1 POST at a time over a kept-alive TCP or TLS connection;
//! - `sender`: the bounded queue of ticks the ticker fills, and the thread that empties it, with
//!   retries and the counts the self-metrics serve.
//!
//! Nothing here can hold up the ticker or a scrape: the ticker only appends a tick number and two
//! `Arc`s to the queue; encoding and sending happen on the sender thread.

mod client;
mod encode;
pub mod options;
mod sender;

pub use client::Client;
pub use encode::{Encoder, Request, SAMPLES_PER_REQUEST, STALE_NAN};
pub use options::{Options, Target, DEFAULT_QUEUE};
pub use sender::{count, Counting};
