//! metrics-generator patch 13: a connection's bytes through a layer that the server's user
//! provides, such as TLS, instead of tiny_http's own `ssl-*` features.
//!
//! Those features pin old TLS libraries (rustls 0.20 here), read their certificate once when the
//! server starts, and do the handshake on the accept thread, where a client that stalls it holds
//! up every other connection. A server built with a [`Wrap`] hands it each accepted socket (on the
//! accept thread, so it must not block: a TLS layer handshakes when it is first read, on the
//! connection's own thread), and reads and writes the connection through what it returns. The
//! layer reads through a [`Socket`], which marks the connection's place when bytes arrive: a
//! handshake that has begun and does not finish counts as a slow request head, and is closed
//! at the head deadline like one (patch 11).

use crate::connection::Connection;
use crate::util::Tracker;
use std::io::{Read, Result as IoResult, Write};
use std::sync::Arc;

/// What a connection's bytes go through: a stream over a [`Socket`].
pub trait Transport: Read + Write + Send {
    /// Ends the layer's writing half before the socket's is shut down (TLS sends its
    /// `close_notify` alert here); nothing by default.
    fn close(&mut self) {}
}

/// An accepted socket, as a [`Wrap`] gets it.
pub struct Socket {
    stream: Connection,
    tracker: Option<Arc<Tracker>>,
}

impl Socket {
    pub(crate) fn new(stream: Connection, tracker: Option<Arc<Tracker>>) -> Socket {
        Socket { stream, tracker }
    }

    pub(crate) fn into_inner(self) -> Connection {
        self.stream
    }

    pub(crate) fn try_clone(&self) -> IoResult<Connection> {
        self.stream.try_clone()
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> IoResult<usize> {
        let n = self.stream.read(buf)?;
        // Bytes have arrived: a request head (or the handshake before it) is on its way, and must
        // be complete within the head deadline.
        if let (true, Some(tracker)) = (n > 0, &self.tracker) {
            tracker.head_started();
        }
        Ok(n)
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> IoResult<usize> {
        self.stream.write(buf)
    }

    fn flush(&mut self) -> IoResult<()> {
        self.stream.flush()
    }
}

/// What to do with an accepted socket.
pub enum Wrapped {
    /// Serve it as it is.
    Plain(Socket),
    /// Read and write it through this layer.
    Layered(Box<dyn Transport>),
}

/// Given each accepted socket, on the accept thread, says what to serve it through; an error
/// closes the connection (and is logged).
pub type Wrap = dyn Fn(Socket) -> IoResult<Wrapped> + Send + Sync;
