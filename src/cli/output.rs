//! Writing to stdout for the modes that print and exit. A reader that goes away early
//! (`--preview 1000 | head`, `--export-promtool-tests - | head`) ends the output quietly, with
//! success, in every mode alike; any other failure is an error.

use crate::error::Error;
use std::io::{self, Write};

/// Runs `write` on a buffered stdout and flushes it; a closed pipe is not an error.
pub fn to_stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Prints `text` (`--help`, `--version`, `--list-functions`, `--check-config`).
pub fn print(text: &str) -> Result<(), Error> {
    to_stdout(|out| out.write_all(text.as_bytes())).map_err(|e| Error::Output(e.to_string()))
}
