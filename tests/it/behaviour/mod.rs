//! What a user sees the exporter do: flags, functions and values, tick alignment, reload, signals
//! and HTTP routing.

mod alignment;
mod cli;
mod functions;
mod http;
mod reload;
mod signals;
mod values;
