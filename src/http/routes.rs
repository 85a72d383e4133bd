//! Routing: which path answers what, with which methods, and the small answers (`/health`, the
//! lifecycle endpoints) written here.

use super::gate::WAIT;
use super::landing;
use super::negotiate::{accepts_gzip, choose_format};
use super::server::{header, reply, text, Body, Context, Reply};
use crate::engine::State;
use crate::names::VERSION;
use tiny_http::{Method, Request};

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
pub(super) fn handle(request: Request, context: &Context) -> bool {
    let state = &*context.state;
    let path = request.url().split('?').next().unwrap_or("").to_string();
    let method = request.method().clone();
    let authorized = context.web.as_ref().map_or(true, |web| web.authorized(request_header(&request, "Authorization")));
    let response = match Route::of(&path) {
        // Every path asks for credentials, the unknown ones too, so that an unauthenticated client
        // learns nothing about what is served.
        _ if !authorized => text(401, "Unauthorized")
            .with_header(header("WWW-Authenticate", "Basic realm=\"metrics-generator\", charset=\"UTF-8\"")),
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
        Some(Route::Landing) => reply(200, "text/html; charset=utf-8", Body::Landing(state.snapshot()))
            .with_header(header("Content-Security-Policy", landing::CONTENT_SECURITY_POLICY)),
        // The liveness probe: a ticker stuck for two intervals is worth a restart.
        Some(Route::Healthy) if !state.health().healthy => {
            text(503, "metrics-generator is Unhealthy: the ticker has missed two intervals.")
        }
        Some(Route::Healthy) => text(200, "metrics-generator is Healthy."),
        Some(Route::Ready) => text(200, "metrics-generator is Ready."),
        Some(Route::Reload) if !context.lifecycle => {
            text(403, "Lifecycle API is not enabled: start metrics-generator with --web.enable-lifecycle to reload over HTTP (SIGHUP and --watch-config reload without it)")
        }
        Some(Route::Reload) => match (context.reload)() {
            Ok(summary) => text(200, &summary),
            Err(reason) => text(500, &format!("failed to reload config: {reason}")),
        },
        Some(Route::Expected) => {
            let query = request.url().split_once('?').map_or("", |(_, q)| q);
            match context.expected.enter(WAIT) {
                Some(_pass) => {
                    let answer = super::expected::answer(&state.snapshot(), query);
                    reply(answer.status, "application/json", Body::Owned(answer.body.into_bytes()))
                }
                None => {
                    let message = format!(
                        "too many expected-value queries at once (--expected.max-concurrency {}); try again shortly",
                        context.expected.limit()
                    );
                    let body = super::expected::error_body("unavailable", &message);
                    reply(503, "application/json", Body::Owned(body.into_bytes()))
                        .with_header(header("Retry-After", "1"))
                }
            }
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
        "version": VERSION,
        "shard": h.shard.map(|s| format!("{}/{}", s.index, s.count)),
    });
    let status = if h.healthy { 200 } else { 503 };
    reply(status, "application/json", Body::Owned(format!("{body}\n").into_bytes()))
}
