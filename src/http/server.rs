//! The HTTP server's side of each request: the handler tiny_http calls on the connection's
//! thread, responses whose bodies are shared without copying, and giving up on a client that
//! stalls its answer. Handlers only read: they clone the current snapshot's `Arc` and write its
//! bytes with no lock held.

use super::gate::Gate;
use super::routes::handle;
use super::web::Web;
use crate::engine::{Snapshot, State};
use crate::exposition::Format;
use std::sync::Arc;
use std::time::Duration;
use tiny_http::{Header, Response, StatusCode};

/// A client that takes this long to accept 64 kB of its answer (`tiny_http`'s `SHARED_PIECE`)
/// has stalled, and is given up on: the answer is cut short and the
/// connection closed. The socket's write timeout (`serve.rs`) alone was not enough: when it ends, a
/// send blocked on a client that reads nothing can still return having queued a few more bytes
/// (the kernel makes room in the client's full buffer), and the next send blocks again, so an
/// answer could trickle out forever. With both, a client that reads nothing holds its
/// connection's thread for a write timeout or two; then its connection is closed.
pub const STALLED: Duration = Duration::from_secs(5);

/// Reloads the config; `Ok` holds a summary, `Err` the reason it was rejected.
pub type Reload = dyn Fn() -> Result<String, String> + Send + Sync;

/// Who may do what (SPEC §13): the flags that open or close parts of the server.
pub struct Access {
    /// `--web.enable-lifecycle`: `POST /-/reload` reloads; without it, a 403.
    pub lifecycle: bool,
    /// `--expected.max-concurrency`.
    pub expected_max_concurrency: usize,
    /// `--web.config.file`: basic auth for every request (TLS is set up with the server).
    pub web: Option<Arc<Web>>,
}

/// What every request's answer may need, shared by all connections.
pub(super) struct Context {
    pub state: Arc<State>,
    pub reload: Arc<Reload>,
    pub lifecycle: bool,
    pub expected: Gate,
    pub web: Option<Arc<Web>>,
}

/// What answers each request, on the thread of the connection it came on (tiny_http patch 7, see
/// `vendor/tiny_http/PATCHES.md`): every connection has a thread of its own, so a client slow to
/// take its answers holds up only itself, and a request crosses no thread. A connection whose
/// answer could not be sent whole (a client given up on, see [`STALLED`]) is closed at once:
/// what the client reads next would not be a response, and the thread is free for others.
pub fn handler(state: Arc<State>, reload: Arc<Reload>, access: Access) -> Arc<tiny_http::Handler> {
    let context = Context {
        state,
        reload,
        lifecycle: access.lifecycle,
        expected: Gate::new(access.expected_max_concurrency),
        web: access.web,
    };
    Arc::new(move |request| {
        // A panic while answering (a bug) must not cost the connection's thread: it is contained
        // here, and the request, dropped unanswered, gets a 500 from tiny_http.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle(request, &context))) {
            Ok(sent) => sent,
            Err(_) => {
                log::warn!("a request handler panicked; the request got a 500");
                true
            }
        }
    })
}

/// A response body: owned bytes, or a body of a snapshot, shared without copying.
pub(super) enum Body {
    Owned(Vec<u8>),
    Metrics(Arc<Snapshot>, Format, bool),
    /// The landing page, drawn once per snapshot.
    Landing(Arc<Snapshot>),
}

impl AsRef<[u8]> for Body {
    fn as_ref(&self) -> &[u8] {
        match self {
            Body::Owned(bytes) => bytes,
            Body::Metrics(snapshot, format, gzip) => snapshot.body(*format, *gzip),
            Body::Landing(snapshot) => snapshot.page(super::landing::page),
        }
    }
}

/// An answer: its body is written straight from the bytes it shares (tiny_http patch 12, see
/// `vendor/tiny_http/PATCHES.md`), in one send for all that is left, with no copy; a client that
/// takes [`STALLED`] to accept 64 kB is given up on.
pub(super) type Reply = Response<std::io::Empty>;

pub(super) fn header(name: &str, value: &str) -> Header {
    // Every name and value passed here is ASCII text written in this file.
    Header::from_bytes(name, value).expect("static ASCII header")
}

pub(super) fn reply(status: u16, content_type: &str, body: Body) -> Reply {
    Response::from_shared(StatusCode(status), vec![header("Content-Type", content_type)], Arc::new(body), STALLED)
        // The length is known, so it is sent as `Content-Length` whatever the size, as nginx does;
        // tiny_http would send bodies from 32 kB on chunked, which costs the client the parsing
        // of chunk heads and tells it nothing.
        .with_chunked_threshold(usize::MAX)
}

pub(super) fn text(status: u16, message: &str) -> Reply {
    reply(status, "text/plain; charset=utf-8", Body::Owned(format!("{message}\n").into_bytes()))
}
