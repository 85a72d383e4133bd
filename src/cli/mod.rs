//! The command line: flags turned into validated [`Args`] (`args`), and the modes that print and
//! exit instead of serving: `--check-config` (`check`), `--preview` (`preview`) and the exports
//! for the Prometheus tools (`exports`), all writing through `output`.

pub mod args;
pub mod check;
pub mod exports;
pub mod output;
pub mod preview;

pub use args::{Args, Mode};
