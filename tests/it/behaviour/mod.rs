//! What a user sees the exporter do: flags, functions and values, tick alignment, reload, signals
//! HTTP routing, TLS and basic auth, and
//! the modes that print and exit.

mod alignment;
mod charts;
mod cli;
mod expected;
mod formulas;
mod functions;
mod http;
mod output;
mod reload;
mod remote_write;
mod securing;
mod sharding;
mod signals;
mod values;
