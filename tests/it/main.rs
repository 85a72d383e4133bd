//! The integration tests: one crate that starts the real binary and talks to it over real sockets.
//! Shared helpers live in `support`; the other modules group the tests by what they show, and each
//! of their files covers one part of the product. Fixtures live in `tests/data/`.

mod support;

mod behaviour;
mod conformance;
mod packaging;
mod robustness;
