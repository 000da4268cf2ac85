//! Process plumbing shared by the long-running commands: logging, the
//! shutdown signal, the ingest engine (`worker`, `demo`) and the web app
//! (`serve`, `demo`).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use callscope_api::{AppState, AuthSettings, CoachingRules, JwtSettings};
use callscope_ingest::{Engine, EngineConfig, Health, Metrics, Models};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::{describe, diarizer, load_directory, open_store, read_trackers, transcriber};
use crate::config::{AppConfig, Config, LogFormat};

/// Sets up tracing: `RUST_LOG` filter (default info), text or JSON lines on stderr.
pub(crate) fn init_logging(format: LogFormat) {
    init_logging_at(format, "info,rdkafka=warn,symphonia_format_ogg=warn,whisper_rs=warn");
}

/// Tracing for the one-shot commands (`analyze`, `eval`): warnings only unless
/// `RUST_LOG` asks for more (`RUST_LOG=callscope_asr=debug` shows what the
/// hallucination guards drop), so that their output stays the result.
pub(crate) fn init_cli_logging() {
    init_logging_at(LogFormat::Text, "warn,symphonia_format_ogg=error,whisper_rs=error");
}

fn init_logging_at(format: LogFormat, default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Resolves on SIGTERM or Ctrl-C.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutdown requested");
}

/// Builds the ingest engine from configuration (inside a runtime). The
/// embedded SQLite store is created and migrated here; ClickHouse is migrated
/// by `callscope migrate` (a Job in deploy/), and until then writes are retried.
pub(crate) async fn engine(
    config: &Config,
    metrics: Metrics,
    health: Arc<Health>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<Engine> {
    let ingest = &config.ingest;
    let (trackers, _) = read_trackers(config.signals.trackers.as_ref())?;
    let transcriber = if ingest.transcripts_only {
        None
    } else {
        let (t, _) = transcriber(config, None).context(
            "loading the whisper model (set ingest.transcripts_only = true for a worker that takes transcripts only)",
        )?;
        Some(Arc::new(t))
    };
    let store = open_store(&config.store)?;
    if config.store.clickhouse_url.is_none() {
        store.migrate().await.with_context(|| format!("preparing {}", describe(&config.store)))?;
    }
    tracing::info!(store = %describe(&config.store), model = ?transcriber.as_ref().map(|t| t.settings().model.display().to_string()), "engine ready");
    let cpu_threads = match ingest.cpu_threads {
        0 => std::thread::available_parallelism().map_or(2, usize::from),
        n => n,
    };
    let engine_config = EngineConfig {
        cpu_threads,
        batch_max_calls: ingest.batch_max_calls.max(1),
        batch_linger: Duration::from_millis(ingest.batch_linger_ms),
        retry_initial: Duration::from_millis(ingest.retry_initial_ms.max(1)),
        retry_max: Duration::from_millis(ingest.retry_max_ms.max(1)),
        fetch_timeout: Duration::from_secs(ingest.fetch_timeout_s.max(1)),
        fetch_max_attempts: ingest.fetch_max_attempts.max(1),
        fetch_confirm_attempts: ingest.fetch_confirm_attempts.max(1),
        max_recording_bytes: Some(ingest.max_recording_bytes).filter(|&b| b > 0),
        max_duration_s: Some(ingest.max_duration_s).filter(|&s| s > 0.0),
        download_dir: ingest.download_dir.clone(),
        cpu_stall: Duration::from_secs(ingest.cpu_stall_s.max(1)),
        fault_panic_call_id: test_panic_call_id(),
    };
    let diarizer = if ingest.transcripts_only { None } else { diarizer(&config.diarize, None)? };
    let models = Models { trackers, signals: config.signals.settings(), transcriber, diarizer };
    Ok(Engine::start(models, store, engine_config, metrics, health, stop))
}

/// The panic test hook's call id (`EngineConfig::fault_panic_call_id`), from
/// `CALLSCOPE_TEST_PANIC_CALL_ID`: read in debug builds only (the integration
/// tests run those), so a release build cannot be made to panic by it.
#[cfg(debug_assertions)]
fn test_panic_call_id() -> Option<String> {
    let id = std::env::var("CALLSCOPE_TEST_PANIC_CALL_ID").ok().filter(|v| !v.is_empty())?;
    tracing::warn!(call_id = %id, "test hook: this call will panic in its analysis (debug build)");
    Some(id)
}

#[cfg(not(debug_assertions))]
fn test_panic_call_id() -> Option<String> {
    None
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

/// Serves the seller insights web app on `listen` until Ctrl-C or SIGTERM.
pub(crate) fn serve_app(config: &Config, listen: &str) -> Result<()> {
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
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        if config.store.clickhouse_url.is_none() {
            store.migrate().await.with_context(|| format!("preparing {}", describe(&config.store)))?;
        }
        let listener = tokio::net::TcpListener::bind(listen)
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
    })
}
