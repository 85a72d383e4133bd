//! The integration tests: one crate that starts the real binary and talks to it over real sockets.
//! Shared helpers live in `harness`; each other module covers one part of the product.

mod harness;

mod cli;
mod config_errors;
mod golden;
mod http;
mod image;
mod k8s;
mod readme;
mod signals;
mod values;
