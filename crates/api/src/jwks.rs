//! The identity provider's signing keys, from its JWKS: by URL, or found by
//! OIDC discovery (`<issuer>/.well-known/openid-configuration`, `jwks_uri`).
//!
//! Keys are fetched once at startup (a bad URL fails `serve` at once, not at
//! the first sign-in) and cached by `kid`. They are fetched again:
//! - **when a token names an unknown `kid`**: the provider rotated its key.
//!   At most once per `min_refetch`, so tokens with made-up `kid`s cannot
//!   make the API hammer the provider;
//! - **when the cache is older than `refresh`**, on the next token: keys the
//!   provider withdrew stop being accepted.
//!
//! A failed fetch keeps the keys already known (logged as a warning), so an
//! identity provider blip does not sign everyone out.
//!
//! Only asymmetric signing keys are used (RSA, EC P-256/P-384, Ed25519): a
//! symmetric (`oct`) or encryption (`use: enc`) key in the set is skipped, and
//! a token is verified only with the algorithm its key is for, so a token can
//! never choose a weaker algorithm than the key's.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

/// Where the keys are published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// The JWKS document's URL.
    Url(String),
    /// OIDC discovery from this issuer: its `jwks_uri` is read from
    /// `<issuer>/.well-known/openid-configuration`, whose `issuer` must match.
    Discovery(String),
}

/// How the key cache behaves.
#[derive(Debug, Clone)]
pub struct JwksSettings {
    /// Where the keys are.
    pub source: JwksSource,
    /// Keys older than this are fetched again on the next token.
    pub refresh: Duration,
    /// Fetches for an unknown `kid` happen at most this often.
    pub min_refetch: Duration,
    /// Time limit of one HTTP request to the provider.
    pub timeout: Duration,
}

/// Why keys could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// The HTTP request failed (connection, status, timeout).
    #[error("fetching {url}: {reason}")]
    Fetch {
        /// The URL asked.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The document is not what it should be.
    #[error("{url}: {reason}")]
    Invalid {
        /// The URL asked.
        url: String,
        /// What is wrong with its answer.
        reason: String,
    },
}

/// A key to verify tokens with, and the one algorithm it is for.
#[derive(Clone)]
pub struct VerifyingKey {
    /// The key.
    pub key: DecodingKey,
    /// Its algorithm; tokens signed with another are refused.
    pub algorithm: Algorithm,
}

#[derive(Default)]
struct Keys {
    by_kid: HashMap<String, Arc<VerifyingKey>>,
    /// Keys without a `kid`: usable only when the set has exactly one key.
    anonymous: Vec<Arc<VerifyingKey>>,
    fetched_at: Option<Instant>,
}

impl Keys {
    fn find(&self, kid: Option<&str>) -> Option<Arc<VerifyingKey>> {
        match kid {
            Some(kid) => self.by_kid.get(kid).cloned(),
            None => match (self.by_kid.len(), self.anonymous.as_slice()) {
                (0, [only]) => Some(only.clone()),
                (1, []) => self.by_kid.values().next().cloned(),
                _ => None,
            },
        }
    }
}

#[derive(Default)]
struct FetchState {
    last_attempt: Option<Instant>,
    /// The JWKS URL found by discovery (discovered once).
    jwks_uri: Option<String>,
    fetches: u64,
}

/// The cached key set of one identity provider.
pub struct JwksCache {
    settings: JwksSettings,
    client: reqwest::Client,
    keys: RwLock<Keys>,
    /// Serializes fetches and holds the rate limit.
    fetch: tokio::sync::Mutex<FetchState>,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache").field("settings", &self.settings).finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

#[derive(Deserialize)]
struct KeySet {
    keys: Vec<serde_json::Value>,
}

/// The algorithm an asymmetric signing key is for; `None` for keys we never
/// verify with (symmetric, encryption, unsupported curves).
fn algorithm_of(jwk: &Jwk) -> Option<Algorithm> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let declared = match jwk.common.key_algorithm {
        None => None,
        Some(KeyAlgorithm::RS256) => Some(Algorithm::RS256),
        Some(KeyAlgorithm::RS384) => Some(Algorithm::RS384),
        Some(KeyAlgorithm::RS512) => Some(Algorithm::RS512),
        Some(KeyAlgorithm::PS256) => Some(Algorithm::PS256),
        Some(KeyAlgorithm::PS384) => Some(Algorithm::PS384),
        Some(KeyAlgorithm::PS512) => Some(Algorithm::PS512),
        Some(KeyAlgorithm::ES256) => Some(Algorithm::ES256),
        Some(KeyAlgorithm::ES384) => Some(Algorithm::ES384),
        Some(KeyAlgorithm::EdDSA) => Some(Algorithm::EdDSA),
        // Symmetric or encryption algorithms: never for verifying here.
        Some(
            KeyAlgorithm::HS256
            | KeyAlgorithm::HS384
            | KeyAlgorithm::HS512
            | KeyAlgorithm::RSA1_5
            | KeyAlgorithm::RSA_OAEP
            | KeyAlgorithm::RSA_OAEP_256,
        ) => return None,
    };
    let family_ok = |alg: Algorithm| match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => matches!(
            alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => alg == Algorithm::ES256,
            EllipticCurve::P384 => alg == Algorithm::ES384,
            EllipticCurve::P521 | EllipticCurve::Ed25519 => false,
        },
        AlgorithmParameters::OctetKeyPair(p) => p.curve == EllipticCurve::Ed25519 && alg == Algorithm::EdDSA,
        AlgorithmParameters::OctetKey(_) => false,
    };
    let inferred = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => Algorithm::ES256,
            EllipticCurve::P384 => Algorithm::ES384,
            EllipticCurve::P521 | EllipticCurve::Ed25519 => return None,
        },
        AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
        AlgorithmParameters::OctetKey(_) => return None,
    };
    let alg = declared.unwrap_or(inferred);
    family_ok(alg).then_some(alg)
}

/// Parses a JWKS document: the usable keys, and how many were skipped.
fn parse_key_set(body: &[u8]) -> Result<(Keys, usize), String> {
    let set: KeySet = serde_json::from_slice(body).map_err(|e| format!("not a JWKS document: {e}"))?;
    let mut keys = Keys::default();
    let mut skipped = 0;
    for value in set.keys {
        let parsed = serde_json::from_value::<Jwk>(value).ok().and_then(|jwk| {
            let algorithm = algorithm_of(&jwk)?;
            let key = DecodingKey::from_jwk(&jwk).ok()?;
            Some((jwk.common.key_id, Arc::new(VerifyingKey { key, algorithm })))
        });
        match parsed {
            Some((Some(kid), key)) => {
                keys.by_kid.insert(kid, key);
            }
            Some((None, key)) => keys.anonymous.push(key),
            None => skipped += 1,
        }
    }
    if keys.by_kid.is_empty() && keys.anonymous.is_empty() {
        return Err(format!("no usable signing key (RSA, EC P-256/P-384 or Ed25519) among {skipped}"));
    }
    Ok((keys, skipped))
}

/// An error and its causes, `: `-separated (reqwest's own message leaves out
/// the cause: "connection refused", "certificate unknown").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

impl JwksCache {
    /// Fetches the keys once and returns the cache; an error names the URL.
    pub async fn new(settings: JwksSettings) -> Result<Arc<Self>, JwksError> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()
            .map_err(|e| JwksError::Fetch { url: String::new(), reason: e.to_string() })?;
        let cache = Arc::new(JwksCache {
            settings,
            client,
            keys: RwLock::new(Keys::default()),
            fetch: tokio::sync::Mutex::new(FetchState::default()),
        });
        {
            let mut state = cache.fetch.lock().await;
            cache.fetch_now(&mut state).await?;
        }
        Ok(cache)
    }

    /// How many times the key set was fetched (for tests and logs).
    pub async fn fetches(&self) -> u64 {
        self.fetch.lock().await.fetches
    }

    /// The key for a token's `kid`, fetching the set again when the `kid` is
    /// unknown or the keys are stale (both rate-limited).
    pub async fn key(&self, kid: Option<&str>) -> Option<Arc<VerifyingKey>> {
        let (found, stale) = {
            let keys = self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            let stale = keys.fetched_at.is_none_or(|t| t.elapsed() >= self.settings.refresh);
            (keys.find(kid), stale)
        };
        if found.is_some() && !stale {
            return found;
        }
        self.refetch().await;
        let keys = self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.find(kid)
    }

    /// Fetches the set again unless a fetch was tried less than
    /// `min_refetch` ago; failures keep the old keys.
    async fn refetch(&self) {
        let mut state = self.fetch.lock().await;
        if state.last_attempt.is_some_and(|t| t.elapsed() < self.settings.min_refetch) {
            return;
        }
        if let Err(e) = self.fetch_now(&mut state).await {
            tracing::warn!(error = %e, "JWKS refresh failed; keeping the keys already known");
        }
    }

    async fn get_json(&self, url: &str) -> Result<Vec<u8>, JwksError> {
        let fetch_err = |e: reqwest::Error| JwksError::Fetch { url: url.to_owned(), reason: error_chain(&e) };
        let response = self.client.get(url).send().await.map_err(fetch_err)?;
        let response = response.error_for_status().map_err(fetch_err)?;
        Ok(response.bytes().await.map_err(fetch_err)?.to_vec())
    }

    async fn fetch_now(&self, state: &mut FetchState) -> Result<(), JwksError> {
        state.last_attempt = Some(Instant::now());
        state.fetches += 1;
        let url = match (&self.settings.source, &state.jwks_uri) {
            (JwksSource::Url(url), _) => url.clone(),
            (JwksSource::Discovery(_), Some(uri)) => uri.clone(),
            (JwksSource::Discovery(issuer), None) => {
                let uri = self.discover(issuer).await?;
                state.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let body = self.get_json(&url).await?;
        let (mut keys, skipped) =
            parse_key_set(&body).map_err(|reason| JwksError::Invalid { url: url.clone(), reason })?;
        keys.fetched_at = Some(Instant::now());
        tracing::info!(
            url = %url,
            keys = keys.by_kid.len() + keys.anonymous.len(),
            skipped,
            "JWKS fetched"
        );
        *self.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner) = keys;
        Ok(())
    }

    async fn discover(&self, issuer: &str) -> Result<String, JwksError> {
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let body = self.get_json(&url).await?;
        let doc: Discovery = serde_json::from_slice(&body).map_err(|e| JwksError::Invalid {
            url: url.clone(),
            reason: format!("not an OpenID provider configuration: {e}"),
        })?;
        if doc.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err(JwksError::Invalid {
                url,
                reason: format!("its issuer is {:?}, not the configured {issuer:?}", doc.issuer),
            });
        }
        Ok(doc.jwks_uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_asymmetric_signing_keys_are_kept() {
        let doc = serde_json::json!({ "keys": [
            { "kty": "oct", "kid": "sym", "k": "c2VjcmV0" },
            { "kty": "EC", "kid": "ec", "crv": "P-256", "use": "sig",
              "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" },
            { "kty": "EC", "kid": "enc", "crv": "P-256", "use": "enc",
              "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" },
            { "kty": "EC", "kid": "lying", "crv": "P-256", "alg": "RS256",
              "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" },
            { "kty": "weird", "kid": "w" }
        ]});
        let (keys, skipped) = parse_key_set(doc.to_string().as_bytes()).expect("one usable key");
        assert_eq!(skipped, 4);
        assert_eq!(keys.find(Some("ec")).map(|k| k.algorithm), Some(Algorithm::ES256));
        assert!(keys.find(Some("sym")).is_none());
        // No kid in the token: the only key.
        assert!(keys.find(None).is_some());
        let err = parse_key_set(br#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#).err().expect("none usable");
        assert!(err.contains("no usable signing key"), "{err}");
    }
}
