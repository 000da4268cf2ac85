//! The seller insights web app: an axum HTTP API over the [`Store`], role
//! checks, and the web page, served by the same binary.
//!
//! Every endpoint decides access on the server from the signed-in user
//! ([`auth::CurrentUser`]) and the directory of users and teams
//! ([`directory::Directory`]): a seller sees only their own calls and figures,
//! a manager the sellers of the teams they lead, an admin everything. The page
//! is plain HTML, CSS and JavaScript (no build step), compiled into the binary.
//!
//! The store returns rows and sums; what the pages show is computed from them
//! in one pure module, [`insights`] (summaries, trends, team bands, keyword
//! rankings, coaching), and who may do what is decided here, never in storage.
//!
//! # Layout
//! - [`app`] builds the router (tests drive it with `oneshot`); [`serve`] runs it
//!   on a listener until a shutdown future completes.
//! - `routes`: the JSON API, the static page, `/healthz`, `/readyz` (the store
//!   answers) and `/metrics`, and recordings streamed from disk with HTTP Range
//!   support.
//! - [`insights`]: the insight arithmetic; [`insights::coaching`]: who may
//!   need coaching; [`insights::message`]: sentences as data.
//! - [`i18n`]: the page's translation catalogues (English, Finnish).
//! - [`auth`]: bearer tokens and the dev login; [`jwks`]: the identity
//!   provider's keys, cached and refreshed.
//! - [`observe`]: request metrics, request logs, security headers.
//! - [`audit`]: the audit trail the handlers write, its admin view, and the
//!   admin erasure endpoints.
//! - [`directory`], [`error`].

pub mod audit;
pub mod auth;
pub mod clip;
pub mod directory;
pub mod error;
pub mod i18n;
pub mod insights;
pub mod jwks;
pub mod observe;
mod routes;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use callscope_store::Store;

pub use auth::{AuthConfigError, AuthSettings, CookieSecurity, JwtSettings, TokenKeys};
pub use directory::Directory;
pub use insights::coaching::{self, CoachingRules};
pub use jwks::{JwksCache, JwksError, JwksSettings, JwksSource};
pub use observe::ApiMetrics;

/// Everything the handlers share.
pub struct AppState {
    /// Where calls are read from and comments written to.
    pub store: Arc<dyn Store>,
    /// Users, roles and teams.
    pub directory: Directory,
    /// How requests are authenticated.
    pub auth: AuthSettings,
    /// Coaching rules.
    pub coaching: CoachingRules,
    /// Recordings are served only from below this folder (`file://` URIs).
    pub audio_root: Option<PathBuf>,
    /// Chat link for "contact the seller"; `{email}` is replaced.
    pub chat_url_template: Option<String>,
    /// Request metrics, served at `/metrics`.
    pub metrics: ApiMetrics,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.store.backend())
            .field("users", &self.directory.users.len())
            .field("auth", &self.auth)
            .field("audio_root", &self.audio_root)
            .finish_non_exhaustive()
    }
}

/// The app's router.
pub fn app(state: Arc<AppState>) -> Router {
    routes::router(state)
}

/// Serves the app on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await
}
