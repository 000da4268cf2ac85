//! Authentication: who is asking.
//!
//! Two ways in, both checked on every request by the [`CurrentUser`] extractor:
//! - **Bearer tokens** (production): `Authorization: Bearer <JWT>` from your
//!   OIDC provider, verified with `jsonwebtoken` against the configured key
//!   (RS256 public key or HS256 secret), issuer and audience. The subject (or the
//!   configured claim) must be a user of the directory.
//! - **Dev login** (demo and local use only, off unless configured): the login
//!   page lists the directory's users; picking one sets a session cookie, a
//!   short-lived HS256 JWT signed with a per-process secret, `HttpOnly`,
//!   `SameSite=Strict`.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::directory::User;
use crate::error::ApiError;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "callscope_session";
/// Session lifetime, seconds.
pub const SESSION_TTL_S: i64 = 12 * 3600;

/// How bearer tokens are verified.
#[derive(Clone)]
pub struct JwtSettings {
    /// The key: an RS256 public key or an HS256 secret.
    pub key: DecodingKey,
    /// The algorithm the key is for.
    pub algorithm: Algorithm,
    /// Required `iss`, if set.
    pub issuer: Option<String>,
    /// Required `aud`, if set.
    pub audience: Option<String>,
    /// The claim that holds the user id (default `sub`).
    pub user_claim: String,
}

impl std::fmt::Debug for JwtSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSettings")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("user_claim", &self.user_claim)
            .finish_non_exhaustive()
    }
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
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field("jwt", &self.jwt)
            .field("dev_login", &self.dev_login)
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

    fn bearer_user(&self, token: &str) -> Option<String> {
        let jwt = self.jwt.as_ref()?;
        let mut v = Validation::new(jwt.algorithm);
        if let Some(iss) = &jwt.issuer {
            v.set_issuer(&[iss]);
        }
        match &jwt.audience {
            Some(aud) => v.set_audience(&[aud]),
            None => v.validate_aud = false,
        }
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &jwt.key, &v).ok()?;
        data.claims.get(&jwt.user_claim)?.as_str().map(str::to_owned)
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
            Some(token) => state.auth.bearer_user(token),
            None => cookie(parts, SESSION_COOKIE).and_then(|t| state.auth.session_user(t)),
        }
        .ok_or(ApiError::Unauthorized)?;
        let user = state.directory.user(&user_id).cloned().ok_or(ApiError::Unauthorized)?;
        Ok(CurrentUser(user))
    }
}
