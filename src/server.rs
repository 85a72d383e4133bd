//! The HTTP side: a small pool of threads that take requests from one tiny_http server, route them
//! and answer. Handlers only read: they clone the current snapshot's `Arc` and write its bytes with
//! no lock held.

use crate::exposition::TEXT_CONTENT_TYPE;
use crate::state::{Snapshot, State};
use std::io::Cursor;
use std::sync::Arc;
use tiny_http::{Header, Method, Request, Response, StatusCode};

/// How many threads answer requests. A client that is slow to read its answer holds one of them,
/// so there are a few; the machines this runs on are small, so not many.
pub const WORKERS: usize = 4;

/// Serves requests from `server` on [`WORKERS`] threads; returns only if the server is closed.
pub fn serve(server: Arc<tiny_http::Server>, state: Arc<State>) {
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (server, state) = (server.clone(), state.clone());
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    handle(request, &state);
                }
            })
        })
        .collect();
    for worker in workers {
        if worker.join().is_err() {
            log::warn!("a request thread ended with a panic");
        }
    }
}

/// A response body: static text, owned bytes, or the text of a snapshot, shared without copying.
enum Body {
    Owned(Vec<u8>),
    Metrics(Arc<Snapshot>),
}

impl AsRef<[u8]> for Body {
    fn as_ref(&self) -> &[u8] {
        match self {
            Body::Owned(bytes) => bytes,
            Body::Metrics(snapshot) => snapshot.text(),
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
}

fn route(path: &str) -> Option<Route> {
    match path {
        "/metrics" => Some(Route::Metrics),
        "/health" => Some(Route::Health),
        "/" => Some(Route::Landing),
        _ => None,
    }
}

/// Routes one request and answers it; a failure to answer is logged, never fatal.
fn handle(request: Request, state: &State) {
    let path = request.url().split('?').next().unwrap_or("").to_string();
    let method = request.method().clone();
    let response = match route(&path) {
        None => text(404, "not found"),
        Some(_) if !matches!(method, Method::Get | Method::Head) => {
            text(405, "method not allowed").with_header(header("Allow", "GET, HEAD"))
        }
        Some(Route::Metrics) => reply(200, TEXT_CONTENT_TYPE, Body::Metrics(state.snapshot())),
        Some(Route::Health) => health(state),
        Some(Route::Landing) => {
            reply(200, "text/html; charset=utf-8", Body::Owned(landing(&state.snapshot()).into_bytes()))
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
        "interval_seconds": h.interval.as_secs_f64(),
        "last_tick_seconds_ago": h.since_last_tick.as_secs_f64(),
        "version": env!("CARGO_PKG_VERSION"),
    });
    let status = if h.healthy { 200 } else { 503 };
    reply(status, "application/json", Body::Owned(format!("{body}\n").into_bytes()))
}

/// The landing page: links to the endpoints and a table of the configured series.
fn landing(snapshot: &Snapshot) -> String {
    let mut rows = String::new();
    let (mut floats, mut ints) = (ryu::Buffer::new(), itoa::Buffer::new());
    for (entry, value) in snapshot.config.entries.iter().zip(&snapshot.values) {
        let labels: Vec<String> = entry.labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        let value = crate::exposition::format_value(*value, &mut floats, &mut ints);
        rows.push_str(&format!(
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            html(&entry.sample_name()),
            html(&labels.join(", ")),
            entry.kind.as_str(),
            html(&entry.function),
            value,
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>metrics-generator</title></head>\n<body>\n\
         <h1>metrics-generator</h1>\n<p><a href=\"/metrics\">/metrics</a> · <a href=\"/health\">/health</a></p>\n\
         <p>{} series from {}, tick {}.</p>\n\
         <table>\n<tr><th>metric</th><th>labels</th><th>type</th><th>function</th><th>value</th></tr>\n{rows}</table>\n\
         </body></html>\n",
        snapshot.values.len(),
        html(&snapshot.config.source),
        snapshot.ticks,
    )
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
