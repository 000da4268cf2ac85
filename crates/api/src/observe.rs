//! What every response passes through: the security headers
//! ([`security_headers`]), on the page and the API alike.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue, Response};
use axum::middleware::Next;

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
