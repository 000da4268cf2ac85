//! `callscope serve`: the seller insights web app and its API.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use callscope_api::{AppState, AuthSettings, CoachingRules, Directory, JwtSettings};
use clap::Args;
use jsonwebtoken::{Algorithm, DecodingKey};

use crate::config::{AppConfig, Config};
use crate::migrate::{describe, open_store};

/// Arguments of `callscope serve`.
#[derive(Debug, Default, Args)]
pub(crate) struct ServeArgs {
    /// Listen address (overrides `app.listen`).
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<String>,
}

/// Reads the users and teams file named by `app.directory`.
pub(crate) fn load_directory(app: &AppConfig) -> Result<Directory> {
    let Some(path) = &app.directory else {
        bail!("app.directory is not set: name a users and teams file (see docs/app.md)");
    };
    let source = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the directory", path.display()))?;
    Directory::from_toml_str(&source).with_context(|| format!("{}: invalid directory", path.display()))
}

fn auth_settings(app: &AppConfig) -> Result<AuthSettings> {
    let jwt = match (&app.jwt_public_key_pem, &app.jwt_hs256_secret) {
        (Some(_), Some(_)) => bail!("set app.jwt_public_key_pem or app.jwt_hs256_secret, not both"),
        (Some(pem), None) => {
            let bytes = std::fs::read(pem)
                .with_context(|| format!("{}: cannot read the JWT public key", pem.display()))?;
            let key = DecodingKey::from_rsa_pem(&bytes)
                .with_context(|| format!("{}: not an RSA public key (PEM)", pem.display()))?;
            Some((key, Algorithm::RS256))
        }
        (None, Some(secret)) if !secret.is_empty() => {
            Some((DecodingKey::from_secret(secret.as_bytes()), Algorithm::HS256))
        }
        (None, _) => None,
    };
    let mut session_secret = vec![0u8; 32];
    getrandom(&mut session_secret)?;
    Ok(AuthSettings {
        jwt: jwt.map(|(key, algorithm)| JwtSettings {
            key,
            algorithm,
            issuer: app.jwt_issuer.clone(),
            audience: app.jwt_audience.clone(),
            user_claim: app.jwt_user_claim.clone(),
        }),
        dev_login: app.dev_login,
        session_secret,
    })
}

/// Fills `buf` from the OS's random source.
fn getrandom(buf: &mut [u8]) -> Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(buf))
        .context("reading /dev/urandom for the session secret")
}

pub(crate) fn run(args: &ServeArgs, config: &Config) -> Result<ExitCode> {
    let app = &config.app;
    let directory = load_directory(app)?;
    let auth = auth_settings(app)?;
    if auth.jwt.is_none() && !auth.dev_login {
        bail!("nobody could sign in: configure bearer tokens (app.jwt_*) or enable app.dev_login for a demo");
    }
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
    let listen = args.listen.clone().unwrap_or_else(|| app.listen.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        if config.store.clickhouse_url.is_none() {
            store.migrate().await.with_context(|| format!("preparing {}", describe(&config.store)))?;
        }
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
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
        });
        callscope_api::serve(listener, state, shutdown_signal()).await.context("serving")?;
        println!("callscope: stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
