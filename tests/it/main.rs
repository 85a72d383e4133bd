//! The integration tests: one crate that starts the real binary and talks to it over real sockets.
//! Shared helpers live in `harness`; each other module covers one part of the product.

mod harness;

mod abuse;
mod alignment;
mod architecture;
mod cli;
mod config_errors;
mod corpus;
mod dashboard;
mod formats;
mod functions;
mod golden;
mod ground_truth;
mod http;
mod image;
mod k8s;
mod load;
mod memory;
mod output;
mod panics;
mod prometheus;
mod prometheus_client_parser;
mod prometheus_server;
mod readme;
mod reload;
mod signals;
mod soak;
mod values;
