//! The HTTP side: a small pool of threads that take requests from one tiny_http server, route them
//! and answer. Handlers only read: they clone the current snapshot's `Arc` and write its bytes with
//! no lock held.

use crate::exposition::format_value;
use crate::negotiate::{accepts_gzip, choose_format};
use crate::state::{Snapshot, State};
use std::io::Cursor;
use std::sync::Arc;
use tiny_http::{Header, Method, Request, Response, StatusCode};

/// How many threads answer requests. A client that is slow to read its answer holds one of them
/// until the socket's write timeout (see `lib.rs`), so there are enough that a handful of stalled
/// clients leave most of them free; idle threads cost only their stacks.
pub const WORKERS: usize = 16;

/// Reloads the config; `Ok` holds a summary, `Err` the reason it was rejected.
pub type Reload = dyn Fn() -> Result<String, String> + Send + Sync;

/// Starts [`WORKERS`] threads answering requests from `server`; they run until it is closed.
pub fn spawn(
    server: Arc<tiny_http::Server>,
    state: Arc<State>,
    reload: Arc<Reload>,
) -> std::io::Result<Vec<std::thread::JoinHandle<()>>> {
    (0..WORKERS)
        .map(|i| {
            let (server, state, reload) = (server.clone(), state.clone(), reload.clone());
            std::thread::Builder::new().name(format!("http-{i}")).spawn(move || {
                for request in server.incoming_requests() {
                    // A panic while answering (a bug) must not cost a request thread: it is
                    // contained here, and the request, dropped unanswered, gets a 500 from tiny_http.
                    let answered =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle(request, &state, &*reload)));
                    if answered.is_err() {
                        log::warn!("a request handler panicked; the request got a 500");
                    }
                }
            })
        })
        .collect()
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

type Reply = Response<Cursor<Body>>;

fn header(name: &str, value: &str) -> Header {
    // Every name and value passed here is ASCII text written in this file.
    Header::from_bytes(name, value).expect("static ASCII header")
}

fn reply(status: u16, content_type: &str, body: Body) -> Reply {
    let length = body.as_ref().len();
    Response::new(StatusCode(status), vec![header("Content-Type", content_type)], Cursor::new(body), Some(length), None)
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

/// Routes one request and answers it; a failure to answer is logged, never fatal.
fn handle(request: Request, state: &State, reload: &Reload) {
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
    if let Err(e) = request.respond(response) {
        log::warn!("answering {method} {path}: {e}");
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
