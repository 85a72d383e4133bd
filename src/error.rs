//! The one error type of the program. Every message is lowercase with no trailing period and names
//! what it is about (the flag, the config file and entry, the address); `main` prints it once as
//! `error: …` and picks the exit status from its kind.

use std::fmt;

/// Everything that can stop the program before or while it starts serving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A bad flag, value or combination of flags.
    Usage(String),
    /// A config that cannot be read or is not valid; `source` is the file (or the embedded default).
    Config { source: String, message: String },
    /// A `--web.config.file` that cannot be read or is not valid, or a file it names.
    WebConfig { path: String, message: String },
    /// The listen address cannot be bound.
    Listen { address: String, message: String },
    /// The process cannot set itself up (threads, signal handlers).
    Startup(String),
    /// What was asked for cannot be written to stdout (`--preview`).
    Output(String),
    /// An export cannot be written to its file.
    Write { path: String, message: String },
}

impl Error {
    /// The exit status for this error: 2 for what the user wrote wrong (flags, config), 1 for
    /// what the machine refused (the port).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Config { .. } | Error::WebConfig { .. } => 2,
            Error::Listen { .. } | Error::Startup(_) | Error::Output(_) | Error::Write { .. } => 1,
        }
    }

    pub(crate) fn config(source: &str, message: impl Into<String>) -> Self {
        Error::Config { source: source.to_string(), message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(message) => write!(f, "{message} (see --help)"),
            Error::Config { source, message } => write!(f, "config {source}: {message}"),
            Error::WebConfig { path, message } => write!(f, "web config {path}: {message}"),
            Error::Listen { address, message } => write!(f, "cannot listen on {address}: {message}"),
            Error::Startup(message) => f.write_str(message),
            Error::Output(message) => write!(f, "cannot write to stdout: {message}"),
            Error::Write { path, message } => write!(f, "cannot write {path}: {message}"),
        }
    }
}

impl std::error::Error for Error {}
