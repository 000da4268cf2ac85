//! What every response passes through: request metrics, request logs and the
//! security headers.
//!
//! - **Metrics** ([`ApiMetrics`], served at `/metrics`): a request-duration
//!   histogram labelled by method, *route* (the router's matched pattern, such
//!   as `/api/calls/{call_id}`, never the raw URI, so that ids cannot blow up
//!   the label set; unmatched paths are `other`) and status, plus `build_info`.
//!   The names are listed in `docs/app.md`; treat them as a public interface.
//! - **Request logs**: one `tracing` span per request with the method, the
//!   route and the path (no query string, no headers: `Authorization` and
//!   cookies never reach the log), and one line when it finishes with the
//!   status and latency ([`trace_layer`]).
//! - **Security headers** ([`security_headers`]) on every response, the page
//!   and the API alike.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue, Response};
use axum::middleware::Next;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnRequest, TraceLayer};
use tracing::Span;

use crate::auth::forwarded_https;

/// The content security policy of the page.
///
/// The page loads its script and stylesheet from the app itself (no inline
/// `<script>` or `<style>`, no `eval`), talks only to the API, plays
/// recordings from the API, and draws its charts as inline SVG. Its templates
/// set `style="width:…"` attributes on chart bars and legend swatches, so
/// style *attributes* are allowed (`style-src-attr`); style elements and
/// scripts are not. A browser without `style-src-attr` support falls back to
/// `style-src 'self'` and draws the bars without their widths.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     style-src-attr 'unsafe-inline'; img-src 'self' data:; media-src 'self'; connect-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The API's metrics, in their own registry.
#[derive(Debug, Clone)]
pub struct ApiMetrics {
    registry: Registry,
    /// Seconds from the request to the response head, by method, route and status.
    pub request_seconds: HistogramVec,
    /// Always 1, labelled with the version.
    pub build_info: IntGaugeVec,
    /// Audit-trail writes that failed (the request was served anyway), by
    /// action and error kind; never by user or call.
    pub audit_write_failures: IntCounterVec,
}

impl Default for ApiMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl ApiMetrics {
    /// Creates and registers the metrics.
    pub fn new() -> Self {
        let registry = Registry::new();
        let request_seconds = HistogramVec::new(
            HistogramOpts::new(
                "callscope_api_request_duration_seconds",
                "Seconds from a request to its response head, by method, route pattern and status",
            )
            .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]),
            &["method", "route", "status"],
        )
        .expect("a static, valid metric definition");
        let build_info = IntGaugeVec::new(
            Opts::new("callscope_api_build_info", "Always 1; the labels say which build serves the API"),
            &["version"],
        )
        .expect("a static, valid metric definition");
        let audit_write_failures = IntCounterVec::new(
            Opts::new(
                "callscope_api_audit_write_failures_total",
                "Audit-trail writes that failed or timed out (the request was served anyway), by action and error",
            ),
            &["action", "error"],
        )
        .expect("a static, valid metric definition");
        for m in [
            Box::new(request_seconds.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(build_info.clone()),
            Box::new(audit_write_failures.clone()),
        ] {
            registry.register(m).expect("metric names are unique");
        }
        build_info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        ApiMetrics { registry, request_seconds, build_info, audit_write_failures }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metrics.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let method = match method {
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
            _ => "other",
        };
        let status = status.to_string();
        self.request_seconds
            .with_label_values(&[method, route, status.as_str()])
            .observe(elapsed.as_secs_f64());
    }
}

/// The route label of a request: the matched pattern, or `other`.
fn route_of(req: &Request) -> String {
    req.extensions().get::<MatchedPath>().map_or_else(|| "other".to_owned(), |m| m.as_str().to_owned())
}

/// Middleware: times the request into [`ApiMetrics`].
pub(crate) async fn record_metrics(
    axum::extract::State(metrics): axum::extract::State<ApiMetrics>,
    req: Request,
    next: Next,
) -> Response<Body> {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = route_of(&req);
    let response = next.run(req).await;
    metrics.observe(&method, &route, response.status().as_u16(), start.elapsed());
    response
}

/// Middleware: the security headers, on every response.
///
/// `Strict-Transport-Security` is added only when the request came over
/// HTTPS through a proxy that says so (`X-Forwarded-Proto: https`), since
/// over plain HTTP a browser ignores it anyway.
pub(crate) async fn security_headers(req: Request, next: Next) -> Response<Body> {
    let https = forwarded_https(req.headers());
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_VALUE);
    set(X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(X_FRAME_OPTIONS, "DENY");
    set(REFERRER_POLICY, "no-referrer");
    set(HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    if https {
        set(STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    response
}

/// The span of one request: method, route pattern and path. The query
/// string and the headers are left out on purpose (tokens, cookies).
fn make_span(req: &Request) -> Span {
    tracing::info_span!(
        "request",
        method = %req.method(),
        route = %route_of(req),
        path = %req.uri().path(),
    )
}

fn on_response(response: &Response<Body>, latency: Duration, _span: &Span) {
    tracing::info!(status = response.status().as_u16(), latency_ms = latency.as_millis() as u64, "request");
}

/// The request-log layer: a span per request and a line per response.
#[allow(clippy::type_complexity)] // tower-http's layer type, spelled out
pub(crate) fn trace_layer() -> TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    fn(&Request) -> Span,
    DefaultOnRequest,
    fn(&Response<Body>, Duration, &Span),
> {
    TraceLayer::new_for_http()
        .make_span_with(make_span as fn(&Request) -> Span)
        .on_response(on_response as fn(&Response<Body>, Duration, &Span))
}
