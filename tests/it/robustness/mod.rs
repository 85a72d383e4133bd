//! Nothing a config or a client can hold takes the exporter down, stalls it or loses a series:
//! abusive clients, many connections, load, a soak of a million ticks, panicking functions, memory
//! per series, costly expected-value queries, the config corpus and bad configs; and the fuzzing script that CI runs fails when
//! fuzzing fails.

mod abuse;
mod config_errors;
mod connections;
mod corpus;
mod expected_work;
mod fuzz_script;
mod load;
mod memory;
mod panics;
mod soak;
