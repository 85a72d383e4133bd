//! The HTTP side: routes each request tiny_http reads and answers it, on its connection's thread.
//! Handlers only read: they clone the current snapshot's `Arc` and write its bytes with no lock
//! held.

use crate::exposition::format_value;
use crate::negotiate::{accepts_gzip, choose_format};
use crate::state::{Snapshot, State};
use std::io::{ErrorKind, Read};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tiny_http::{Header, Method, Request, Response, StatusCode};

/// A client that takes this long to accept one piece of its answer (8 kB) has stalled, and is
/// given up on: the answer is cut short and the connection closed. The socket's write timeout
/// (`lib.rs`) alone was not enough: when it ends, a send blocked on a client that reads nothing
/// can still return having queued a few more bytes (the kernel makes room in the client's full
/// buffer), and the next send blocks again, so an answer could trickle out forever. With both, a
/// client that reads nothing holds its connection's thread for a few write timeouts (about 15 s
/// measured); then its connection is closed.
pub const STALLED: Duration = Duration::from_secs(5);

/// Reloads the config; `Ok` holds a summary, `Err` the reason it was rejected.
pub type Reload = dyn Fn() -> Result<String, String> + Send + Sync;

/// What answers each request, on the thread of the connection it came on (tiny_http patch 7, see
/// `vendor/tiny_http/PATCHES.md`): every connection has a thread of its own, so a client slow to
/// take its answers holds up only itself, and a request crosses no thread. A connection whose
/// answer could not be sent whole (a client given up on, see [`STALLED`]) is closed at once:
/// what the client reads next would not be a response, and the thread is free for others.
pub fn handler(state: Arc<State>, reload: Arc<Reload>) -> Arc<tiny_http::Handler> {
    Arc::new(move |request| {
        // A panic while answering (a bug) must not cost the connection's thread: it is contained
        // here, and the request, dropped unanswered, gets a 500 from tiny_http.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle(request, &state, &*reload))) {
            Ok(sent) => sent,
            Err(_) => {
                log::warn!("a request handler panicked; the request got a 500");
                true
            }
        }
    })
}

/// A response body: owned bytes, or a body of a snapshot, shared without copying.
enum Body {
    Owned(Vec<u8>),
    Metrics(Arc<Snapshot>, crate::exposition::Format, bool),
}

impl AsRef<[u8]> for Body {
    fn as_ref(&self) -> &[u8] {
        match self {
            Body::Owned(bytes) => bytes,
            Body::Metrics(snapshot, format, gzip) => snapshot.body(*format, *gzip),
        }
    }
}

/// A body being sent: what tiny_http reads from to write the answer. It reads in pieces of 8 kB,
/// each once the previous one is written; when the previous piece took [`STALLED`] or more, the
/// client has stalled, and the read fails, which ends the answer.
struct Sending {
    body: Body,
    sent: usize,
    last_read: Option<Instant>,
}

impl Read for Sending {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let now = Instant::now();
        if self.last_read.is_some_and(|last| now.duration_since(last) >= STALLED) {
            return Err(std::io::Error::new(
                ErrorKind::TimedOut,
                format!("the client took more than {STALLED:?} to take 8 kB, after {} bytes", self.sent),
            ));
        }
        self.last_read = Some(now);
        let rest = &self.body.as_ref()[self.sent..];
        let n = rest.len().min(buffer.len());
        buffer[..n].copy_from_slice(&rest[..n]);
        self.sent += n;
        Ok(n)
    }
}

type Reply = Response<Sending>;

fn header(name: &str, value: &str) -> Header {
    // Every name and value passed here is ASCII text written in this file.
    Header::from_bytes(name, value).expect("static ASCII header")
}

fn reply(status: u16, content_type: &str, body: Body) -> Reply {
    let length = body.as_ref().len();
    let sending = Sending { body, sent: 0, last_read: None };
    Response::new(StatusCode(status), vec![header("Content-Type", content_type)], sending, Some(length), None)
}

fn text(status: u16, message: &str) -> Reply {
    reply(status, "text/plain; charset=utf-8", Body::Owned(format!("{message}\n").into_bytes()))
}

/// The paths this server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Metrics,
    Health,
    Landing,
    Healthy,
    Ready,
    Reload,
    Expected,
}

impl Route {
    fn of(path: &str) -> Option<Route> {
        Some(match path {
            "/metrics" => Route::Metrics,
            "/health" => Route::Health,
            "/" => Route::Landing,
            "/-/healthy" => Route::Healthy,
            "/-/ready" => Route::Ready,
            "/-/reload" => Route::Reload,
            "/api/v1/expected" => Route::Expected,
            _ => return None,
        })
    }

    /// The methods this route answers, as the `Allow` header lists them.
    fn allow(self) -> &'static str {
        match self {
            Route::Reload => "POST, PUT",
            _ => "GET, HEAD",
        }
    }

    fn allows(self, method: &Method) -> bool {
        match self {
            Route::Reload => matches!(method, Method::Post | Method::Put),
            _ => matches!(method, Method::Get | Method::Head),
        }
    }
}

/// The value of the first request header called `name`.
fn request_header<'a>(request: &'a Request, name: &'static str) -> Option<&'a str> {
    request.headers().iter().find(|h| h.field.equiv(name)).map(|h| h.value.as_str())
}

/// Routes one request and answers it; a failure to answer is logged, never fatal. Whether the
/// answer was sent whole.
fn handle(request: Request, state: &State, reload: &Reload) -> bool {
    let path = request.url().split('?').next().unwrap_or("").to_string();
    let method = request.method().clone();
    let response = match Route::of(&path) {
        None => text(404, "not found"),
        Some(route) if !route.allows(&method) => {
            text(405, "method not allowed").with_header(header("Allow", route.allow()))
        }
        Some(Route::Metrics) => {
            let format = choose_format(request_header(&request, "Accept"));
            let gzip = accepts_gzip(request_header(&request, "Accept-Encoding"));
            log::debug!("{method} {path}: {}{}", format.name(), if gzip { ", gzip" } else { "" });
            let mut response = reply(200, format.content_type(), Body::Metrics(state.snapshot(), format, gzip))
                .with_header(header("Vary", "Accept, Accept-Encoding"));
            if gzip {
                response.add_header(header("Content-Encoding", "gzip"));
            }
            response
        }
        Some(Route::Health) => health(state),
        Some(Route::Landing) => {
            reply(200, "text/html; charset=utf-8", Body::Owned(landing(&state.snapshot()).into_bytes()))
        }
        Some(Route::Healthy) => text(200, "metrics-generator is Healthy."),
        Some(Route::Ready) => text(200, "metrics-generator is Ready."),
        Some(Route::Reload) => match reload() {
            Ok(summary) => text(200, &summary),
            Err(reason) => text(500, &format!("failed to reload config: {reason}")),
        },
        Some(Route::Expected) => {
            let query = request.url().split_once('?').map_or("", |(_, q)| q);
            let answer = crate::expected::answer(&state.snapshot(), query);
            reply(answer.status, "application/json", Body::Owned(answer.body.into_bytes()))
        }
    };
    match request.respond(response) {
        Ok(()) => true,
        Err(e) => {
            log::warn!("answering {method} {path}: {e}; closing the connection");
            false
        }
    }
}

fn health(state: &State) -> Reply {
    let h = state.health();
    let body = serde_json::json!({
        "status": if h.healthy { "healthy" } else { "unhealthy" },
        "metrics_count": h.series,
        "uptime_seconds": h.uptime.as_secs_f64(),
        "ticks": h.ticks,
        "tick_time_seconds": h.tick_time,
        "align": h.align.as_str(),
        "interval_seconds": h.interval.as_secs_f64(),
        "last_tick_seconds_ago": h.since_last_tick.as_secs_f64(),
        "version": env!("CARGO_PKG_VERSION"),
    });
    let status = if h.healthy { 200 } else { 503 };
    reply(status, "application/json", Body::Owned(format!("{body}\n").into_bytes()))
}

/// The landing page: links to the endpoints and a table of the configured entries, each with its
/// series count, type, function and current value (that of its first series).
fn landing(snapshot: &Snapshot) -> String {
    let mut rows = String::new();
    let (mut floats, mut ints) = (ryu::Buffer::new(), itoa::Buffer::new());
    let mut index = 0;
    for entry in &snapshot.config.entries {
        // Series of an entry with values of their own show the first one's.
        let value = format_value(snapshot.values[index], &mut floats, &mut ints);
        index += entry.units() as usize;
        rows.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            html(&entry.describe_series()),
            entry.series,
            entry.kind.as_str(),
            html(&entry.function),
            value,
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>metrics-generator</title></head>\n<body>\n\
         <h1>metrics-generator</h1>\n<p><a href=\"/metrics\">/metrics</a> · <a href=\"/health\">/health</a> · \
         <a href=\"/-/healthy\">/-/healthy</a> · <a href=\"/-/ready\">/-/ready</a></p>\n\
         <p>{} series from {}, tick {}.</p>\n\
         <table>\n<tr><th>metric</th><th>series</th><th>type</th><th>function</th><th>value</th></tr>\n{rows}</table>\n\
         </body></html>\n",
        snapshot.config.series(),
        html(&snapshot.config.source),
        snapshot.ticks,
    )
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
