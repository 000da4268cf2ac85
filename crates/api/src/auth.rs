//! Authentication: who is asking.
//!
//! Two ways in, both checked on every request by the [`CurrentUser`] extractor:
//! - **Bearer tokens** (production): `Authorization: Bearer <JWT>` from your
//!   OIDC provider, verified with `jsonwebtoken` against the configured keys
//!   ([`TokenKeys`]: the provider's JWKS, an RS256 public key, or an HS256
//!   secret of at least 32 bytes). A configured issuer and audience are
//!   *required* claims: a token without `iss` or `aud` is refused like one with
//!   the wrong value. The subject (or the configured claim) must be a user of
//!   the directory.
//! - **Dev login** (demo and local use only, off unless configured): the login
//!   page lists the directory's users; picking one sets a session cookie, a
//!   short-lived HS256 JWT signed with a per-process secret, `HttpOnly`,
//!   `SameSite=Strict`, and `Secure` when the page is served over HTTPS
//!   ([`CookieSecurity`]). `callscope serve` refuses it on a non-loopback
//!   address unless `--insecure-dev-login` is given.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::directory::User;
use crate::error::ApiError;
use crate::jwks::{JwksCache, VerifyingKey};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "callscope_session";
/// Session lifetime, seconds.
pub const SESSION_TTL_S: i64 = 12 * 3600;

/// The shortest HS256 secret accepted, in bytes (RFC 7518 §3.2: a key of at
/// least the hash's size).
pub const MIN_HS256_SECRET_BYTES: usize = 32;

/// Why the token settings are refused at startup.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    /// The HS256 secret is the placeholder shipped in examples.
    #[error(
        "the HS256 secret is the shipped placeholder (\"change-me\"); set a random secret of at least \
         {MIN_HS256_SECRET_BYTES} bytes, for example from `openssl rand -base64 48`"
    )]
    PlaceholderSecret,
    /// The HS256 secret is too short to resist guessing.
    #[error(
        "the HS256 secret has {0} bytes; at least {MIN_HS256_SECRET_BYTES} are required, for example from \
         `openssl rand -base64 48`"
    )]
    ShortSecret(usize),
    /// The public key file is not an RSA public key.
    #[error("not an RSA public key (PEM): {0}")]
    BadPublicKey(String),
}

/// Where the keys that verify bearer tokens come from.
#[derive(Clone)]
pub enum TokenKeys {
    /// One key from the configuration: an RS256 public key or an HS256 secret.
    Static(Arc<VerifyingKey>),
    /// The identity provider's published keys, cached and refreshed (see
    /// [`crate::jwks`]).
    Jwks(Arc<JwksCache>),
}

impl TokenKeys {
    /// An HS256 secret: at least [`MIN_HS256_SECRET_BYTES`] bytes, and not the
    /// shipped placeholder.
    pub fn hs256(secret: &[u8]) -> Result<Self, AuthConfigError> {
        let letters: Vec<u8> =
            secret.iter().filter(|b| b.is_ascii_alphanumeric()).map(u8::to_ascii_lowercase).collect();
        if letters.windows(8).any(|w| w == b"changeme") {
            return Err(AuthConfigError::PlaceholderSecret);
        }
        if secret.len() < MIN_HS256_SECRET_BYTES {
            return Err(AuthConfigError::ShortSecret(secret.len()));
        }
        Ok(TokenKeys::Static(Arc::new(VerifyingKey {
            key: DecodingKey::from_secret(secret),
            algorithm: Algorithm::HS256,
        })))
    }

    /// An RS256 public key in PEM.
    pub fn rs256_pem(pem: &[u8]) -> Result<Self, AuthConfigError> {
        let key = DecodingKey::from_rsa_pem(pem).map_err(|e| AuthConfigError::BadPublicKey(e.to_string()))?;
        Ok(TokenKeys::Static(Arc::new(VerifyingKey { key, algorithm: Algorithm::RS256 })))
    }

    async fn key_for(&self, token: &str) -> Option<Arc<VerifyingKey>> {
        match self {
            TokenKeys::Static(key) => Some(key.clone()),
            TokenKeys::Jwks(cache) => {
                let header = jsonwebtoken::decode_header(token).ok()?;
                cache.key(header.kid.as_deref()).await
            }
        }
    }
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenKeys::Static(k) => f.debug_tuple("Static").field(&k.algorithm).finish(),
            TokenKeys::Jwks(cache) => f.debug_tuple("Jwks").field(cache).finish(),
        }
    }
}

/// How bearer tokens are verified.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// The keys.
    pub keys: TokenKeys,
    /// Required `iss`, if set: a token without one is refused.
    pub issuer: Option<String>,
    /// Required `aud`, if set: a token without one is refused.
    pub audience: Option<String>,
    /// The claim that holds the user id (default `sub`).
    pub user_claim: String,
}

/// When the session cookie gets the `Secure` attribute (sent over HTTPS only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CookieSecurity {
    /// When the request came over HTTPS as far as we can tell: the proxy in
    /// front says so with `X-Forwarded-Proto: https` (or `Forwarded: proto=https`).
    #[default]
    Auto,
    /// Always (the app is only ever reached over HTTPS).
    Always,
    /// Never (plain HTTP on a loopback address, for local demos).
    Never,
}

impl CookieSecurity {
    /// Whether a cookie set in answer to a request with these headers is `Secure`.
    pub fn secure(self, headers: &HeaderMap) -> bool {
        match self {
            CookieSecurity::Always => true,
            CookieSecurity::Never => false,
            CookieSecurity::Auto => forwarded_https(headers),
        }
    }
}

/// Whether a reverse proxy says the client used HTTPS.
pub(crate) fn forwarded_https(headers: &HeaderMap) -> bool {
    let values = |name: &HeaderName| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
    };
    let xfp = values(&HeaderName::from_static("x-forwarded-proto"));
    // The first proxy's value is the client's (`https, http` behind two proxies).
    if let Some(first) = xfp.first().and_then(|v| v.split(',').next()) {
        return first.trim() == "https";
    }
    values(&axum::http::header::FORWARDED)
        .first()
        .and_then(|v| v.split(',').next().map(str::to_owned))
        .is_some_and(|first| first.split(';').any(|kv| kv.trim() == "proto=https"))
}

/// Authentication settings.
#[derive(Clone)]
pub struct AuthSettings {
    /// Bearer token verification; `None` disables bearer tokens.
    pub jwt: Option<JwtSettings>,
    /// Whether the demo login is on.
    pub dev_login: bool,
    /// Secret that signs session cookies (random per process by default).
    pub session_secret: Vec<u8>,
    /// When the session cookie is `Secure`.
    pub cookie_security: CookieSecurity,
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field("jwt", &self.jwt)
            .field("dev_login", &self.dev_login)
            .field("cookie_security", &self.cookie_security)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct SessionClaims {
    sub: String,
    exp: i64,
    iss: String,
}

const SESSION_ISSUER: &str = "callscope-session";

impl AuthSettings {
    /// A session token for a user.
    pub fn session_token(&self, user_id: &str) -> Result<String, ApiError> {
        let claims = SessionClaims {
            sub: user_id.to_owned(),
            exp: chrono::Utc::now().timestamp() + SESSION_TTL_S,
            iss: SESSION_ISSUER.into(),
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.session_secret),
        )
        .map_err(|e| ApiError::Internal(format!("signing a session: {e}")))
    }

    fn session_user(&self, token: &str) -> Option<String> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[SESSION_ISSUER]);
        jsonwebtoken::decode::<SessionClaims>(token, &DecodingKey::from_secret(&self.session_secret), &v)
            .ok()
            .map(|d| d.claims.sub)
    }

    async fn bearer_user(&self, token: &str) -> Option<String> {
        let jwt = self.jwt.as_ref()?;
        let key = jwt.keys.key_for(token).await?;
        let mut v = Validation::new(key.algorithm);
        let mut required = vec!["exp"];
        if let Some(iss) = &jwt.issuer {
            v.set_issuer(&[iss]);
            required.push("iss");
        }
        match &jwt.audience {
            Some(aud) => {
                v.set_audience(&[aud]);
                required.push("aud");
            }
            None => v.validate_aud = false,
        }
        // Without this, a token that lacks `iss` or `aud` would pass.
        v.set_required_spec_claims(&required);
        match jsonwebtoken::decode::<serde_json::Value>(token, &key.key, &v) {
            Ok(data) => data.claims.get(&jwt.user_claim)?.as_str().map(str::to_owned),
            Err(e) => {
                // The reason only, never the token.
                tracing::debug!(reason = %e, "bearer token refused");
                None
            }
        }
    }

    /// The `Set-Cookie` value that signs `token` in (or, empty, out).
    pub(crate) fn session_cookie(&self, token: &str, max_age: i64, headers: &HeaderMap) -> String {
        let secure = if self.cookie_security.secure(headers) { "; Secure" } else { "" };
        format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
    }
}

/// The signed-in user of a request. Rejects with 401 when there is none.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get_all(COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(
        |c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name).then_some(v)
        },
    )
}

impl FromRequestParts<Arc<AppState>> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let bearer = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let user_id = match bearer {
            Some(token) => state.auth.bearer_user(token).await,
            None => cookie(parts, SESSION_COOKIE).and_then(|t| state.auth.session_user(t)),
        }
        .ok_or(ApiError::Unauthorized)?;
        let user = state.directory.user(&user_id).cloned().ok_or(ApiError::Unauthorized)?;
        Ok(CurrentUser(user))
    }
}
