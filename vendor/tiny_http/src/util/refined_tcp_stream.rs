use std::io::Result as IoResult;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};

use crate::connection::Connection;
#[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
use crate::ssl::SslStream;

pub(crate) enum Stream {
    Http(Connection),
    #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
    Https(SslStream),
    // metrics-generator patch 13: through a layer of the server's user, shared by both halves
    // (which one thread uses in turn), with the socket itself to shut down and ask for its peer.
    Layered(
        std::sync::Arc<std::sync::Mutex<Box<dyn crate::util::Transport>>>,
        Connection,
    ),
}

impl Stream {
    /// metrics-generator patch 13: a connection read and written through `layer`.
    pub(crate) fn layered(layer: Box<dyn crate::util::Transport>, socket: Connection) -> Self {
        Stream::Layered(std::sync::Arc::new(std::sync::Mutex::new(layer)), socket)
    }

    /// metrics-generator patch 13: the layer, which a panic elsewhere cannot leave half-changed
    /// in a way that matters more than the connection it belongs to.
    fn layer(
        layer: &std::sync::Mutex<Box<dyn crate::util::Transport>>,
    ) -> std::sync::MutexGuard<'_, Box<dyn crate::util::Transport>> {
        layer.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Stream {
    /// metrics-generator patch 4: duplicating a socket needs a file descriptor, which a process at
    /// its limit does not have; that is an error for the connection, not a panic of the accept
    /// thread (`Clone` could not say so).
    fn try_clone(&self) -> IoResult<Self> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.try_clone().map(Stream::Http),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => Ok(Stream::Https(ssl_stream.clone())),
            // metrics-generator patch 13
            Stream::Layered(layer, socket) => Ok(Stream::Layered(layer.clone(), socket.try_clone()?)),
        }
    }
}

impl From<Connection> for Stream {
    fn from(tcp_stream: Connection) -> Self {
        Stream::Http(tcp_stream)
    }
}

impl Stream {
    fn secure(&self) -> bool {
        match self {
            Stream::Http(_) => false,
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(_) => true,
            Stream::Layered(..) => true, // metrics-generator patch 13
        }
    }

    fn peer_addr(&mut self) -> IoResult<Option<SocketAddr>> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.peer_addr(),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => ssl_stream.peer_addr(),
            Stream::Layered(_, socket) => socket.peer_addr(), // metrics-generator patch 13
        }
    }

    fn shutdown(&mut self, how: Shutdown) -> IoResult<()> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.shutdown(how),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => ssl_stream.shutdown(how),
            // metrics-generator patch 13: the layer ends its writing first (TLS's close_notify).
            Stream::Layered(layer, socket) => {
                if how != Shutdown::Read {
                    Stream::layer(layer).close();
                }
                socket.shutdown(how)
            }
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> IoResult<usize> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.read(buf),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => ssl_stream.read(buf),
            Stream::Layered(layer, _) => Stream::layer(layer).read(buf), // metrics-generator patch 13
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> IoResult<usize> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.write(buf),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => ssl_stream.write(buf),
            Stream::Layered(layer, _) => Stream::layer(layer).write(buf), // metrics-generator patch 13
        }
    }

    fn flush(&mut self) -> IoResult<()> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.flush(),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => ssl_stream.flush(),
            Stream::Layered(layer, _) => Stream::layer(layer).flush(), // metrics-generator patch 13
        }
    }
}

pub struct RefinedTcpStream {
    stream: Stream,
    close_read: bool,
    close_write: bool,
    // metrics-generator patch 11: the connection's place, which each write marks as blocked
    // from its start until it returns, for the choice of a connection to close when full.
    tracker: Option<std::sync::Arc<crate::util::Tracker>>,
}

impl RefinedTcpStream {
    /// metrics-generator patch 4: an error when the socket cannot be duplicated.
    pub(crate) fn new<S>(stream: S) -> IoResult<(RefinedTcpStream, RefinedTcpStream)>
    where
        S: Into<Stream>,
    {
        let stream: Stream = stream.into();

        let (read, write) = (stream.try_clone()?, stream);

        let read = RefinedTcpStream {
            stream: read,
            close_read: true,
            close_write: false,
            tracker: None, // metrics-generator patch 11
        };

        let write = RefinedTcpStream {
            stream: write,
            close_read: false,
            close_write: true,
            tracker: None, // metrics-generator patch 11
        };

        Ok((read, write)) // metrics-generator patch 4: in a Result
    }

    /// Returns true if this struct wraps around a secure connection.
    #[inline]
    pub(crate) fn secure(&self) -> bool {
        self.stream.secure()
    }

    pub(crate) fn peer_addr(&mut self) -> IoResult<Option<SocketAddr>> {
        self.stream.peer_addr()
    }

    /// metrics-generator patch 11: writes are marked in the connection's place.
    pub(crate) fn tracked(mut self, tracker: Option<std::sync::Arc<crate::util::Tracker>>) -> Self {
        self.tracker = tracker;
        self
    }
}

impl Drop for RefinedTcpStream {
    fn drop(&mut self) {
        if self.close_read {
            self.stream.shutdown(Shutdown::Read).ok();
        }

        if self.close_write {
            self.stream.shutdown(Shutdown::Write).ok();
        }
    }
}

impl Read for RefinedTcpStream {
    fn read(&mut self, buf: &mut [u8]) -> IoResult<usize> {
        self.stream.read(buf)
    }
}

impl Write for RefinedTcpStream {
    fn write(&mut self, buf: &[u8]) -> IoResult<usize> {
        // metrics-generator patch 11: blocked from now until the write returns having taken
        // everything. A blocking send returns less only when the send timeout ends it, so a
        // client that takes a few bytes now and then stays blocked since its first such send.
        let Some(tracker) = &self.tracker else {
            return self.stream.write(buf);
        };
        tracker.writing();
        let written = self.stream.write(buf);
        if matches!(written, Ok(n) if n == buf.len()) {
            tracker.wrote();
        }
        written
    }

    fn flush(&mut self) -> IoResult<()> {
        self.stream.flush()
    }
}
