//! The output checked by the real consumers: the golden `/metrics` body and promtool, content
//! negotiation, the reference Python parser, a real Prometheus server, and the exporter as ground
//! truth for promtool and Prometheus.

mod formats;
mod golden;
mod ground_truth;
mod lifecycle;
mod metric_types;
mod prometheus_client_parser;
mod prometheus_https;
mod prometheus_server;
mod protobuf;
mod remote_write;
