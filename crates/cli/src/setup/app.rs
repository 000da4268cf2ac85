//! The web app (`serve`, `demo`): its authentication settings, checked at
//! startup so that a misconfiguration stops the server instead of weakening
//! it, and the server itself.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use callscope_api::{
    ApiMetrics, AppState, AuthSettings, CoachingRules, JwksCache, JwksSettings, JwksSource, JwtSettings,
    TokenKeys,
};

use super::{describe, load_directory, open_store, shutdown_signal};
use crate::config::{AppConfig, Config};

/// Where bearer tokens' keys come from, per the configuration: exactly one source.
async fn token_keys(app: &AppConfig) -> Result<Option<TokenKeys>> {
    let secret = app.jwt_hs256_secret.as_ref().filter(|s| !s.is_empty());
    let sources = [
        app.jwt_public_key_pem.is_some().then_some("app.jwt_public_key_pem"),
        secret.is_some().then_some("app.jwt_hs256_secret"),
        app.jwt_jwks_url.is_some().then_some("app.jwt_jwks_url"),
        app.jwt_oidc_discovery.then_some("app.jwt_oidc_discovery"),
    ];
    let set: Vec<&str> = sources.into_iter().flatten().collect();
    if set.len() > 1 {
        bail!("set one source of token keys, not {}", set.join(" and "));
    }
    let asymmetric = app.jwt_public_key_pem.is_some() || app.jwt_jwks_url.is_some() || app.jwt_oidc_discovery;
    if asymmetric && (app.jwt_issuer.is_none() || app.jwt_audience.is_none()) {
        // An identity provider signs tokens for every application it serves:
        // without both checks, a token meant for another one would do.
        bail!("bearer tokens from an identity provider need app.jwt_issuer and app.jwt_audience");
    }
    let jwks = |source| JwksSettings {
        source,
        refresh: Duration::from_secs(app.jwt_jwks_refresh_s.max(1)),
        min_refetch: Duration::from_secs(app.jwt_jwks_min_refetch_s),
        timeout: Duration::from_secs(10),
    };
    let keys = if let Some(pem) = &app.jwt_public_key_pem {
        let bytes = std::fs::read(pem)
            .with_context(|| format!("{}: cannot read the JWT public key", pem.display()))?;
        TokenKeys::rs256_pem(&bytes).with_context(|| format!("{}: app.jwt_public_key_pem", pem.display()))?
    } else if let Some(secret) = secret {
        TokenKeys::hs256(secret.as_bytes()).context("app.jwt_hs256_secret")?
    } else if let Some(url) = &app.jwt_jwks_url {
        let cache = JwksCache::new(jwks(JwksSource::Url(url.clone())))
            .await
            .context("app.jwt_jwks_url: the identity provider's keys")?;
        TokenKeys::Jwks(cache)
    } else if app.jwt_oidc_discovery {
        let issuer = app.jwt_issuer.clone().unwrap_or_default();
        let cache = JwksCache::new(jwks(JwksSource::Discovery(issuer)))
            .await
            .context("app.jwt_oidc_discovery: the identity provider's keys, from app.jwt_issuer")?;
        TokenKeys::Jwks(cache)
    } else {
        return Ok(None);
    };
    Ok(Some(keys))
}

async fn auth_settings(app: &AppConfig) -> Result<AuthSettings> {
    let keys = token_keys(app).await?;
    let mut session_secret = vec![0u8; 32];
    getrandom(&mut session_secret)?;
    Ok(AuthSettings {
        jwt: keys.map(|keys| JwtSettings {
            keys,
            issuer: app.jwt_issuer.clone(),
            audience: app.jwt_audience.clone(),
            user_claim: app.jwt_user_claim.clone(),
        }),
        dev_login: app.dev_login,
        session_secret,
        cookie_security: app.cookie_secure,
    })
}

/// Fills `buf` from the OS's random source.
fn getrandom(buf: &mut [u8]) -> Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(buf))
        .context("reading /dev/urandom for the session secret")
}

/// The dev login is for one machine: refused on an address other clients can
/// reach, unless the operator says otherwise out loud.
fn check_dev_login_address(addr: SocketAddr, insecure_dev_login: bool) -> Result<()> {
    if addr.ip().is_loopback() {
        return Ok(());
    }
    if !insecure_dev_login {
        bail!(
            "app.dev_login is on and {addr} is not a loopback address: anyone who can reach it could sign in \
             as anyone, without a password. Listen on 127.0.0.1, turn app.dev_login off, or pass \
             --insecure-dev-login if you really mean it"
        );
    }
    tracing::warn!(%addr, "dev login on a non-loopback address (--insecure-dev-login): anyone who can reach it can sign in as anyone");
    Ok(())
}

/// Serves the seller insights web app on `listen` until Ctrl-C or SIGTERM.
pub(crate) fn serve_app(config: &Config, listen: &str, insecure_dev_login: bool) -> Result<()> {
    let app = &config.app;
    let directory = load_directory(app)?;
    let coaching = match &app.coaching {
        Some(path) => {
            let source =
                std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
            CoachingRules::from_toml_str(&source)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("{}: invalid coaching rules", path.display()))?
        }
        None => CoachingRules::defaults(),
    };
    let store = open_store(&config.store)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let auth = auth_settings(app).await?;
        if auth.jwt.is_none() && !auth.dev_login {
            bail!(
                "nobody could sign in: configure bearer tokens (app.jwt_*) or enable app.dev_login for a demo"
            );
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        if auth.dev_login {
            check_dev_login_address(addr, insecure_dev_login)?;
        }
        if config.store.clickhouse_url.is_none() {
            store.migrate().await.with_context(|| format!("preparing {}", describe(&config.store)))?;
        }
        tracing::info!(
            url = %format!("http://{addr}/"),
            store = %describe(&config.store),
            bearer_tokens = ?auth.jwt.as_ref().map(|j| &j.keys),
            dev_login = auth.dev_login,
            "seller insights serving"
        );
        println!("callscope: seller insights on http://{addr}/ (store: {})", describe(&config.store));
        if auth.dev_login {
            println!("demo login is ON (no passwords; for local use only). Users:");
            for u in &directory.users {
                println!("  {:<12} {:<8} {}", u.id, format!("{:?}", u.role).to_lowercase(), u.name);
            }
        }
        let state = Arc::new(AppState {
            store,
            directory,
            auth,
            coaching,
            audio_root: app.audio_root.clone(),
            chat_url_template: app.chat_url_template.clone(),
            metrics: ApiMetrics::new(),
        });
        callscope_api::serve(listener, state, shutdown_signal()).await.context("serving")?;
        tracing::info!("seller insights stopped");
        anyhow::Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_login_stays_on_loopback() {
        let local: SocketAddr = "127.0.0.1:8080".parse().expect("addr");
        let local6: SocketAddr = "[::1]:8080".parse().expect("addr");
        let any: SocketAddr = "0.0.0.0:8080".parse().expect("addr");
        assert!(check_dev_login_address(local, false).is_ok());
        assert!(check_dev_login_address(local6, false).is_ok());
        let err = check_dev_login_address(any, false).expect_err("refused").to_string();
        assert!(err.contains("--insecure-dev-login"), "{err}");
        assert!(check_dev_login_address(any, true).is_ok());
    }

    /// The shipped `[app]` defaults with `extra` keys over them.
    fn app_config(extra: &str) -> AppConfig {
        use figment::providers::{Format, Toml};
        figment::Figment::from(Toml::string(crate::config::DEFAULTS))
            .merge(Toml::string(&format!("[app]\n{extra}")))
            .extract::<Config>()
            .expect("a valid configuration")
            .app
    }

    #[tokio::test]
    async fn weak_or_ambiguous_token_settings_are_refused() {
        async fn err(extra: &str) -> String {
            format!("{:#}", token_keys(&app_config(extra)).await.expect_err("refused"))
        }
        let placeholder = err("jwt_hs256_secret = \"change-me\"").await;
        assert!(placeholder.contains("placeholder"), "{placeholder}");
        let short = err("jwt_hs256_secret = \"0123456789abcdef\"").await;
        assert!(short.contains("16 bytes") && short.contains("at least 32"), "{short}");
        let both = err("jwt_hs256_secret = \"x\"\njwt_jwks_url = \"http://127.0.0.1:9/jwks\"").await;
        assert!(both.contains("not app.jwt_hs256_secret and app.jwt_jwks_url"), "{both}");
        let no_aud = err("jwt_jwks_url = \"http://127.0.0.1:9/jwks\"\njwt_issuer = \"https://idp\"").await;
        assert!(no_aud.contains("jwt_audience"), "{no_aud}");
        let long = "jwt_hs256_secret = \"kP3v9qQ2x7LmZt4Wc8RbN1yH6sJd0FgA\"";
        assert!(token_keys(&app_config(long)).await.expect("valid").is_some());
        assert!(token_keys(&app_config("")).await.expect("none").is_none());
    }
}
