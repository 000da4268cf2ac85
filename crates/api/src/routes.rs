//! The JSON API, the static page, and the operations endpoints (`/healthz`,
//! `/readyz`, `/metrics`). Each API handler checks access first.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE, SET_COOKIE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router, middleware};
use callscope_model::TrackerKind;
use callscope_store::{
    AuditAction, AuditEntry, CallSummary, DateRange, EraseScope, HistoryQuery, HistorySort, NewComment,
    SearchQuery, SearchScope, SellerFilter, SharedSpan,
};
use chrono::{Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::audit::{self, AuditParams, ErasureReport};
use crate::auth::{CurrentUser, SESSION_TTL_S};
use crate::clip;
use crate::directory::{AppRole, User};
use crate::error::ApiError;
use crate::insights::{self, Bucket, Kpi, SellerSummary, TeamSummary, TrendPoint, coaching, evidence};
use crate::observe;

type AppResult<T> = Result<T, ApiError>;
type St = State<Arc<AppState>>;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let metrics = state.metrics.clone();
    Router::new()
        .route("/", get(index))
        .route("/app.js", get(app_js))
        .route("/app.css", get(app_css))
        .route("/i18n/{file}", get(catalogue))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/api/openapi.json", get(openapi))
        .route("/api/auth/dev-users", get(dev_users))
        .route("/api/auth/dev-login", post(dev_login))
        .route("/api/auth/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/sellers", get(sellers))
        .route("/api/sellers/{seller_id}/insights", get(seller_insights))
        .route("/api/sellers/{seller_id}/calls", get(seller_calls))
        .route("/api/sellers/{seller_id}/comments", get(seller_comments))
        .route("/api/teams/{team_id}/coaching", get(team_coaching))
        .route("/api/teams/{team_id}/coaching/evidence", get(team_coaching_evidence))
        .route("/api/calls/{call_id}", get(call))
        .route("/api/calls/{call_id}/audio", get(audio))
        .route("/api/calls/{call_id}/comments", get(comments).post(add_comment))
        .route("/api/calls/{call_id}/comments/{comment_id}", delete(delete_comment).patch(edit_comment))
        .route("/api/calls/{call_id}/shares", get(call_shares).post(add_share))
        .route("/api/calls/{call_id}/shares/{share_id}", delete(revoke_share))
        .route("/api/shared", get(shared_with_me))
        .route("/api/search", get(search))
        .route("/api/admin/audit", get(admin_audit))
        .route("/api/admin/calls/{call_id}", delete(admin_erase_call))
        .route("/api/admin/sellers/{seller_id}", delete(admin_erase_seller))
        .with_state(state)
        // Layers run outside in: headers on everything, then the request log,
        // then the timing (inside the log, so the histogram sees the handler's status).
        .layer(middleware::from_fn_with_state(metrics, observe::record_metrics))
        .layer(observe::trace_layer())
        .layer(middleware::from_fn(observe::security_headers))
}

/// Ready when the store answers a cheap query (reachable and migrated).
/// `/healthz` stays liveness only: a store outage must not restart the app.
async fn readyz(State(state): St) -> Response {
    let probe = tokio::time::timeout(std::time::Duration::from_secs(5), state.store.ping()).await;
    match probe {
        Ok(Ok(())) => (StatusCode::OK, "ready\n").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: the store failed its probe");
            (StatusCode::SERVICE_UNAVAILABLE, "not ready: the call store is unavailable\n").into_response()
        }
        Err(_) => {
            tracing::warn!("not ready: the store did not answer its probe within 5 s");
            (StatusCode::SERVICE_UNAVAILABLE, "not ready: the call store did not answer\n").into_response()
        }
    }
}

async fn metrics_text(State(state): St) -> Response {
    ([(CONTENT_TYPE, "text/plain; version=0.0.4"), (CACHE_CONTROL, "no-store")], state.metrics.render())
        .into_response()
}

fn static_file(body: &'static str, content_type: &'static str) -> Response {
    ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")], body).into_response()
}

async fn index() -> Response {
    static_file(include_str!("../web/index.html"), "text/html; charset=utf-8")
}

async fn app_js() -> Response {
    static_file(include_str!("../web/app.js"), "text/javascript; charset=utf-8")
}

async fn app_css() -> Response {
    static_file(include_str!("../web/app.css"), "text/css; charset=utf-8")
}

/// `/i18n/languages.json` (code → the language's own name) or
/// `/i18n/{code}.json` (a translation catalogue).
async fn catalogue(Path(file): Path<String>) -> Response {
    if file == "languages.json" {
        return (
            [(CONTENT_TYPE, "application/json"), (CACHE_CONTROL, "no-cache")],
            crate::i18n::languages_json(),
        )
            .into_response();
    }
    match file.strip_suffix(".json").and_then(crate::i18n::catalogue) {
        Some(body) => static_file(body, "application/json"),
        None => (StatusCode::NOT_FOUND, "no such language\n").into_response(),
    }
}

async fn openapi() -> Response {
    static_file(include_str!("../openapi.json"), "application/json")
}

// ---------- auth ----------

#[derive(Serialize)]
struct PublicUser {
    id: String,
    name: String,
    email: String,
    role: AppRole,
    team: Option<String>,
    teams: Vec<String>,
}

impl From<&User> for PublicUser {
    fn from(u: &User) -> Self {
        PublicUser {
            id: u.id.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            role: u.role,
            team: u.team.clone(),
            teams: u.teams.clone(),
        }
    }
}

/// The demo users, for the login page; 404 unless the dev login is on.
async fn dev_users(State(state): St) -> AppResult<Json<Vec<PublicUser>>> {
    if !state.auth.dev_login {
        return Err(ApiError::NotFound("dev login".into()));
    }
    Ok(Json(state.directory.users.iter().map(PublicUser::from).collect()))
}

#[derive(Deserialize)]
struct DevLogin {
    user_id: String,
}

async fn dev_login(State(state): St, headers: HeaderMap, Json(body): Json<DevLogin>) -> AppResult<Response> {
    if !state.auth.dev_login {
        return Err(ApiError::NotFound("dev login".into()));
    }
    let user = state
        .directory
        .user(&body.user_id)
        .ok_or_else(|| ApiError::NotFound(format!("user {}", body.user_id)))?;
    let token = state.auth.session_token(&user.id)?;
    let cookie = state.auth.session_cookie(&token, SESSION_TTL_S, &headers);
    let mut response = Json(PublicUser::from(user)).into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.to_string()))?);
    Ok(response)
}

async fn logout(State(state): St, headers: HeaderMap) -> AppResult<Response> {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let cookie = state.auth.session_cookie("", 0, &headers);
    response
        .headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.to_string()))?);
    Ok(response)
}

#[derive(Serialize)]
struct Me {
    user: PublicUser,
    sellers: Vec<PublicUser>,
    teams: Vec<crate::directory::Team>,
}

async fn me(State(state): St, CurrentUser(user): CurrentUser) -> Json<Me> {
    let sellers = state.directory.visible_sellers(&user).into_iter().map(PublicUser::from).collect();
    let teams = state
        .directory
        .teams
        .iter()
        .filter(|t| state.directory.can_view_team(&user, &t.id))
        .cloned()
        .collect();
    Json(Me { user: PublicUser::from(&user), sellers, teams })
}

async fn sellers(State(state): St, CurrentUser(user): CurrentUser) -> Json<Vec<PublicUser>> {
    Json(state.directory.visible_sellers(&user).into_iter().map(PublicUser::from).collect())
}

// ---------- access ----------

/// The seller, if `user` may see them: 403 if not, 404 if nobody knows them.
fn seller_for<'a>(state: &'a AppState, user: &User, seller_id: &str) -> AppResult<&'a User> {
    if !state.directory.can_view_seller(user, seller_id) {
        return Err(ApiError::Forbidden);
    }
    state
        .directory
        .user(seller_id)
        .filter(|u| u.role == AppRole::Seller)
        .ok_or_else(|| ApiError::NotFound(format!("seller {seller_id}")))
}

/// The call, if `user` may see it. Another seller's call gets the very same
/// 404 as a call that does not exist, so call ids cannot be probed.
async fn visible_call(
    state: &AppState,
    user: &User,
    call_id: &str,
) -> AppResult<callscope_store::CallDetail> {
    state
        .store
        .call(call_id)
        .await?
        .filter(|call| state.directory.can_view_seller(user, &call.summary.seller_id))
        .ok_or_else(|| ApiError::NotFound(format!("call {call_id}")))
}

/// The recipient keys that name `user` in shares: their id, and their
/// team's `team:<id>` (per the directory, now) for a seller.
fn share_keys(state: &AppState, user: &User) -> Vec<String> {
    let mut keys = vec![user.id.clone()];
    if user.role == AppRole::Seller
        && let Some(team) = state.directory.team_of(&user.id)
    {
        keys.push(format!("team:{team}"));
    }
    keys
}

/// The recipient keys of the shares in `user`'s call library: a seller's own
/// [`share_keys`]; a manager's teams and their sellers; an admin's, every
/// team and seller.
fn library_keys(state: &AppState, user: &User) -> Vec<String> {
    let teams: Vec<&str> = match user.role {
        AppRole::Seller => return share_keys(state, user),
        AppRole::Manager => user.teams.iter().map(String::as_str).collect(),
        AppRole::Admin => state.directory.teams.iter().map(|t| t.id.as_str()).collect(),
    };
    teams
        .into_iter()
        .flat_map(|team| {
            std::iter::once(format!("team:{team}"))
                .chain(state.directory.sellers_of(team).into_iter().map(|u| u.id.clone()))
        })
        .collect()
}

/// The call, if `user` may see it (as [`visible_call`]) or it was shared with
/// them (a seller of the team it was shared with, or one named). The second
/// value holds the shares that let them in: empty for their own (or their
/// team's) calls. Anything else is the same 404 as a call that does not exist.
async fn readable_call(
    state: &AppState,
    user: &User,
    call_id: &str,
) -> AppResult<(callscope_store::CallDetail, Vec<callscope_store::Share>)> {
    match visible_call(state, user, call_id).await {
        Ok(call) => return Ok((call, Vec::new())),
        Err(ApiError::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    let shares: Vec<_> = state
        .store
        .shares_for(&share_keys(state, user))
        .await?
        .into_iter()
        .filter(|s| s.share.call_id == call_id)
        .collect();
    if shares.is_empty() {
        return Err(ApiError::NotFound(format!("call {call_id}")));
    }
    let mut call =
        state.store.call(call_id).await?.ok_or_else(|| ApiError::NotFound(format!("call {call_id}")))?;
    // Shared only as clips: the clips, not the call (see [`clip`]).
    if let Some(spans) = clip::spans(&shares) {
        clip::restrict(&mut call, &spans);
    }
    Ok((call, shares))
}

/// A team's daily rows: the rows of the team's sellers *per the directory*,
/// whatever `team` their call events carried (a seller who moved teams, or an
/// event with a wrong or missing team, counts where the directory says). One
/// query per seller, a few at a time.
async fn team_daily(
    state: &AppState,
    team_id: &str,
    range: DateRange,
) -> callscope_store::Result<Vec<callscope_store::DailyAggregate>> {
    use futures_util::{StreamExt, TryStreamExt};
    let sellers: Vec<String> =
        state.directory.sellers_of(team_id).into_iter().map(|u| u.id.clone()).collect();
    let per_seller: Vec<Vec<_>> = futures_util::stream::iter(sellers)
        .map(|seller_id| {
            let store = Arc::clone(&state.store);
            async move { store.daily(&SellerFilter::Seller(seller_id), range).await }
        })
        .buffer_unordered(TEAM_QUERY_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(per_seller.into_iter().flatten().collect())
}

/// Per-seller store queries run at once for a team's figures.
const TEAM_QUERY_CONCURRENCY: usize = 4;

// ---------- dates ----------

#[derive(Debug, Deserialize)]
struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The seller page's query: the range, and whose competitor mentions count.
#[derive(Debug, Deserialize)]
struct InsightsQuery {
    from: Option<String>,
    to: Option<String>,
    /// `customer` (default): the competitors customers mention; `anyone`:
    /// the seller's mentions too.
    competitors_said_by: Option<SaidBy>,
}

/// Whose mentions of a tracked term count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
enum SaidBy {
    /// The customer's only.
    #[default]
    Customer,
    /// Anyone's (the seller's too).
    Anyone,
}

/// A user's display name from the directory; the id for someone it does not know.
fn display_name(state: &AppState, id: &str) -> String {
    state.directory.user(id).map_or_else(|| id.to_owned(), |u| u.name.clone())
}

fn parse_day(s: &str, name: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| ApiError::BadRequest(format!("{name}: expected YYYY-MM-DD, got {s:?}")))
}

/// The requested range; the last 30 days (today included) by default.
fn range(from: Option<&str>, to: Option<&str>) -> AppResult<DateRange> {
    let today = Utc::now().date_naive();
    let to = to.map(|t| parse_day(t, "to")).transpose()?.unwrap_or(today);
    let from = from
        .map(|f| parse_day(f, "from"))
        .transpose()?
        .unwrap_or_else(|| to.checked_sub_days(Days::new(29)).unwrap_or(to));
    if from > to {
        return Err(ApiError::BadRequest("from: must not be after to".into()));
    }
    if (to - from).num_days() > 3 * 366 {
        return Err(ApiError::BadRequest("the range may cover at most three years".into()));
    }
    Ok(DateRange::new(from, to))
}

// ---------- insights ----------

#[derive(Serialize)]
struct SellerInfo {
    #[serde(flatten)]
    user: PublicUser,
    team_name: Option<String>,
    chat_url: Option<String>,
}

#[derive(Serialize)]
struct TeamView {
    overall: SellerSummary,
    bands: std::collections::BTreeMap<Kpi, insights::KpiBand>,
    top_performers: Vec<String>,
    /// Their names, from the directory, in the same order.
    top_performer_names: Vec<String>,
    top_performers_by: String,
    /// Top performers' average per KPI.
    top: std::collections::BTreeMap<Kpi, f64>,
}

#[derive(Serialize)]
struct Insights {
    seller: SellerInfo,
    range: DateRange,
    previous_range: DateRange,
    summary: SellerSummary,
    previous: SellerSummary,
    team: Option<TeamView>,
    trends: Vec<insights::Trend>,
    trends_note: Option<String>,
    /// `trends_note` as data (`trends.too_few_calls`).
    trends_note_message: Option<insights::Message>,
    sentiment_over_time: Vec<TrendPoint>,
    sentiment_bucket: Bucket,
    customer_keywords: Vec<insights::KeywordRank>,
    /// Competitors, most mentioned first: by the customer (the default; only
    /// terms a customer said, ranked by `by_customer`), or by anyone.
    competitors: Vec<callscope_store::TermCount>,
    /// Whose mentions `competitors` counts.
    competitors_said_by: SaidBy,
    tracked_keywords: Vec<callscope_store::TermCount>,
    /// The seller's own coaching areas (flags with advice), when the team
    /// has figures; a seller sees theirs too.
    coaching: Option<coaching::SellerCoaching>,
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn seller_insights(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Path(seller_id): Path<String>,
    Query(q): Query<InsightsQuery>,
) -> AppResult<Json<Insights>> {
    let seller = seller_for(&state, &user, &seller_id)?;
    let range = range(q.from.as_deref(), q.to.as_deref())?;
    let previous_range = range.previous();
    let store = &state.store;
    let team_id = seller.team.clone();
    let bucket = if (range.to - range.from).num_days() > 45 { Bucket::Week } else { Bucket::Day };
    // Independent queries: run them concurrently.
    let team_query = async {
        match &team_id {
            Some(t) => team_daily(&state, t, range).await.map(|rows| Some(TeamSummary::from_daily(t, &rows))),
            None => Ok(None),
        }
    };
    // The seller's daily rows of both periods at once: summary, previous
    // summary and the sentiment over time all come from them.
    let both = DateRange::new(previous_range.from, range.to);
    let this_seller = SellerFilter::Seller(seller_id.clone());
    let (daily, team, customer_keywords, mentions) = tokio::try_join!(
        store.daily(&this_seller, both),
        team_query,
        store.customer_keywords(&seller_id, range),
        store.mention_counts(&seller_id, range),
    )?;
    let (current_rows, previous_rows): (Vec<_>, Vec<_>) =
        daily.into_iter().partition(|r| r.day >= range.from);
    let summary = SellerSummary::from_daily(&seller_id, &current_rows);
    let previous = SellerSummary::from_daily(&seller_id, &previous_rows);
    let sentiment_over_time = TrendPoint::from_daily(&current_rows, bucket);
    let customer_keywords = insights::rank_keywords(&customer_keywords, 20);
    let (mut competitors, tracked_keywords): (Vec<_>, Vec<_>) =
        mentions.into_iter().partition(|t| t.kind == TrackerKind::Competitor);
    let competitors_said_by = q.competitors_said_by.unwrap_or_default();
    if competitors_said_by == SaidBy::Customer {
        competitors.retain(|t| t.by_customer > 0);
        competitors.sort_by(|a, b| b.by_customer.cmp(&a.by_customer).then_with(|| a.term.cmp(&b.term)));
    }
    let mut own_coaching = None;
    let team_view = team.as_ref().map(|t| {
        let report = coaching::assess(t, &state.coaching);
        own_coaching = report.sellers.iter().find(|s| s.seller_id == seller_id).cloned();
        TeamView {
            overall: t.overall.clone(),
            bands: t.bands.clone(),
            top: report.differences.iter().map(|d| (d.kpi, d.top_performers)).collect(),
            top_performer_names: report.top_performers.iter().map(|id| display_name(&state, id)).collect(),
            top_performers: report.top_performers,
            top_performers_by: report.top_performers_by,
        }
    });
    let trends = team.as_ref().map_or_else(
        || insights::trends(&summary, &previous, &SellerSummary::default()),
        |t| insights::trends(&summary, &previous, &t.overall),
    );
    let (trends_note, trends_note_message) = insights::too_few_calls_for_trends(&summary, &previous).unzip();
    let team_name = team_id
        .as_ref()
        .and_then(|t| state.directory.teams.iter().find(|x| &x.id == t))
        .map(|t| t.name.clone());
    // No contact links to oneself.
    let chat_url = state
        .chat_url_template
        .as_ref()
        .filter(|_| !seller.email.is_empty() && seller.id != user.id)
        .map(|tpl| tpl.replace("{email}", &url_encode(&seller.email)));
    Ok(Json(Insights {
        seller: SellerInfo { user: PublicUser::from(seller), team_name, chat_url },
        range,
        previous_range,
        summary,
        previous,
        team: team_view,
        trends,
        trends_note,
        trends_note_message,
        sentiment_over_time,
        sentiment_bucket: bucket,
        customer_keywords,
        competitors,
        competitors_said_by,
        tracked_keywords,
        coaching: own_coaching,
    }))
}

#[derive(Debug, Deserialize)]
struct CallsQuery {
    from: Option<String>,
    to: Option<String>,
    sort: Option<HistorySort>,
    desc: Option<bool>,
    page: Option<u32>,
    page_size: Option<u32>,
    term: Option<String>,
    /// With `term`: whose mentions count (default `anyone`).
    said_by: Option<SaidBy>,
    keyword: Option<String>,
}

async fn seller_calls(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Path(seller_id): Path<String>,
    Query(q): Query<CallsQuery>,
) -> AppResult<Json<callscope_store::Page<callscope_store::CallSummary>>> {
    seller_for(&state, &user, &seller_id)?;
    let query = HistoryQuery {
        seller_id,
        range: range(q.from.as_deref(), q.to.as_deref())?,
        sort: q.sort.unwrap_or_default(),
        descending: q.desc.unwrap_or(true),
        page: q.page.unwrap_or(0),
        page_size: q.page_size.unwrap_or(20).clamp(1, 200),
        term: q.term.filter(|t| !t.is_empty()),
        term_role: (q.said_by == Some(SaidBy::Customer)).then_some(callscope_model::Role::Customer),
        keyword: q.keyword.filter(|k| !k.is_empty()),
    };
    Ok(Json(state.store.call_history(&query).await?))
}

/// A comment as the API shows it: with its author's name.
#[derive(Serialize)]
struct CommentView {
    #[serde(flatten)]
    comment: callscope_store::Comment,
    /// The author's name, from the directory.
    author_name: String,
}

fn comment_views(state: &AppState, comments: Vec<callscope_store::Comment>) -> Vec<CommentView> {
    comments
        .into_iter()
        .map(|c| CommentView { author_name: display_name(state, &c.comment.author), comment: c })
        .collect()
}

async fn seller_comments(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Path(seller_id): Path<String>,
    Query(q): Query<RangeQuery>,
) -> AppResult<Json<Vec<CommentView>>> {
    seller_for(&state, &user, &seller_id)?;
    let range = range(q.from.as_deref(), q.to.as_deref())?;
    Ok(Json(comment_views(&state, state.store.seller_comments(&seller_id, range, 50).await?)))
}

async fn team_coaching(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Path(team_id): Path<String>,
    Query(q): Query<RangeQuery>,
) -> AppResult<Json<coaching::CoachingReport>> {
    if !state.directory.can_view_team(&user, &team_id) {
        return Err(ApiError::Forbidden);
    }
    if !state.directory.teams.iter().any(|t| t.id == team_id) {
        return Err(ApiError::NotFound(format!("team {team_id}")));
    }
    let range = range(q.from.as_deref(), q.to.as_deref())?;
    Ok(Json(coaching_report(&state, &team_id, range).await?))
}

/// The team's coaching report, for a team the user may view.
async fn coaching_report(
    state: &AppState,
    team_id: &str,
    range: DateRange,
) -> AppResult<coaching::CoachingReport> {
    let rows = team_daily(state, team_id, range).await?;
    Ok(coaching::assess(&TeamSummary::from_daily(team_id, &rows), &state.coaching))
}

/// Calls of the top performers that show each difference of the coaching
/// report (see [`evidence`]). A separate request, so the coaching report
/// itself stays one pass over the daily sums; the page loads it after.
async fn team_coaching_evidence(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Path(team_id): Path<String>,
    Query(q): Query<RangeQuery>,
) -> AppResult<Json<Vec<evidence::KpiEvidence>>> {
    use futures_util::{StreamExt, TryStreamExt};
    if !state.directory.can_view_team(&user, &team_id) {
        return Err(ApiError::Forbidden);
    }
    if !state.directory.teams.iter().any(|t| t.id == team_id) {
        return Err(ApiError::NotFound(format!("team {team_id}")));
    }
    let range = range(q.from.as_deref(), q.to.as_deref())?;
    let report = coaching_report(&state, &team_id, range).await?;
    let mut out = Vec::with_capacity(report.differences.len());
    for difference in &report.differences {
        let (sort, descending) = difference.kpi.history_order(difference.top_performers > difference.others);
        // Each top performer's calls in the order that shows the KPI most; the
        // first page is enough to find typical ones on their side.
        let pages: Vec<Vec<CallSummary>> = futures_util::stream::iter(report.top_performers.clone())
            .map(|seller_id| {
                let store = Arc::clone(&state.store);
                let query = HistoryQuery {
                    seller_id,
                    range,
                    sort,
                    descending,
                    page: 0,
                    page_size: EVIDENCE_CANDIDATES,
                    term: None,
                    term_role: None,
                    keyword: None,
                };
                async move { store.call_history(&query).await.map(|p| p.items) }
            })
            .buffer_unordered(TEAM_QUERY_CONCURRENCY)
            .try_collect()
            .await?;
        let candidates: Vec<CallSummary> = pages.into_iter().flatten().collect();
        out.push(evidence::pick(difference, &candidates));
    }
    Ok(Json(out))
}

/// Calls per top performer and KPI from which the examples are picked.
const EVIDENCE_CANDIDATES: u32 = 50;

// ---------- calls ----------

/// A call as the API shows it: with its seller's name.
#[derive(Serialize)]
struct CallView {
    #[serde(flatten)]
    call: callscope_store::CallDetail,
    /// The seller's name, from the directory.
    seller_name: String,
    /// `own`: the user's own or their team's call (comments included);
    /// `shared`: shared with them (no comments).
    access: &'static str,
    /// The shares that let the user in (for `shared`).
    shared: Vec<ShareView>,
}

/// The call with its transcript; recorded in the audit trail (`open_call`).
async fn call(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Path(call_id): Path<String>,
) -> AppResult<Json<CallView>> {
    let (call, shares) = readable_call(&state, &user, &call_id).await?;
    audit::record(&state, &user, AuditAction::OpenCall, &call_id, &call.summary.seller_id).await;
    Ok(Json(CallView {
        seller_name: display_name(&state, &call.summary.seller_id),
        access: if shares.is_empty() { "own" } else { "shared" },
        shared: shares.into_iter().map(|s| share_view(&state, s, None)).collect(),
        call,
    }))
}

// ---------- sharing ----------

/// A share as the API shows it: with names, and the call's summary where listed.
#[derive(Serialize)]
struct ShareView {
    #[serde(flatten)]
    share: callscope_store::Share,
    /// Who shared it, by name.
    created_by_name: String,
    /// The call's seller, by name.
    seller_name: String,
    /// The call (in the "shared with me" list).
    #[serde(skip_serializing_if = "Option::is_none")]
    call: Option<callscope_store::CallSummary>,
}

fn share_view(
    state: &AppState,
    share: callscope_store::Share,
    call: Option<callscope_store::CallSummary>,
) -> ShareView {
    ShareView {
        created_by_name: display_name(state, &share.share.created_by),
        seller_name: display_name(state, &share.share.seller_id),
        share,
        call,
    }
}

#[derive(Deserialize)]
struct ShareBody {
    /// Sellers of the call's team to share with.
    #[serde(default)]
    sellers: Vec<String>,
    /// Share with every seller of the call's team (as the directory says when
    /// they open it).
    #[serde(default)]
    team: bool,
    /// A clip: start and end, seconds; neither for the whole call.
    start_s: Option<f64>,
    end_s: Option<f64>,
    #[serde(default)]
    note: String,
    /// The named collection to file it in ("Great discovery questions").
    collection: Option<String>,
}

/// Shares a call or a clip with sellers of its team: managers of the team and
/// admins only.
async fn add_share(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Path(call_id): Path<String>,
    Json(body): Json<ShareBody>,
) -> AppResult<(StatusCode, Json<ShareView>)> {
    let call = visible_call(&state, &user, &call_id).await?;
    if user.role == AppRole::Seller {
        return Err(ApiError::Forbidden);
    }
    let seller = &call.summary.seller_id;
    let team = state
        .directory
        .team_of(seller)
        .ok_or_else(|| ApiError::BadRequest("the call's seller has no team in the directory".into()))?
        .to_owned();
    let mut recipients = Vec::new();
    if body.team {
        recipients.push(format!("team:{team}"));
    }
    for id in &body.sellers {
        if state.directory.team_of(id) != Some(team.as_str()) {
            return Err(ApiError::BadRequest(format!("sellers: {id} is not a seller of team {team}")));
        }
        if !recipients.contains(id) {
            recipients.push(id.clone());
        }
    }
    if recipients.is_empty() {
        return Err(ApiError::BadRequest("share with the team or with sellers of it".into()));
    }
    match (body.start_s, body.end_s) {
        (None, None) => {}
        (Some(s), Some(e))
            if s.is_finite() && e.is_finite() && 0.0 <= s && s < e && e <= call.summary.duration_s + 1.0 => {}
        _ => {
            return Err(ApiError::BadRequest(
                "start_s, end_s: a clip within the call, start before end (or neither)".into(),
            ));
        }
    }
    let note = body.note.trim();
    if note.len() > 1000 {
        return Err(ApiError::BadRequest("note: at most 1000 characters".into()));
    }
    let collection = body.collection.as_deref().unwrap_or("").trim().to_owned();
    if collection.chars().count() > callscope_store::MAX_COLLECTION_CHARS
        || collection.chars().any(char::is_control)
    {
        return Err(ApiError::BadRequest(format!(
            "collection: at most {} characters, on one line",
            callscope_store::MAX_COLLECTION_CHARS
        )));
    }
    let share = state
        .store
        .add_share(callscope_store::NewShare {
            call_id,
            seller_id: seller.clone(),
            start_s: body.start_s,
            end_s: body.end_s,
            note: note.to_owned(),
            created_by: user.id.clone(),
            recipients,
            collection,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(share_view(&state, share, None))))
}

/// A call's shares: for whoever may see the call itself (its seller too).
async fn call_shares(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Path(call_id): Path<String>,
) -> AppResult<Json<Vec<ShareView>>> {
    visible_call(&state, &user, &call_id).await?;
    let shares = state.store.call_shares(&call_id).await?;
    Ok(Json(shares.into_iter().map(|s| share_view(&state, s, None)).collect()))
}

/// Revokes a share: who shared it, or an admin.
async fn revoke_share(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Path((call_id, share_id)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    visible_call(&state, &user, &call_id).await?;
    let share = state
        .store
        .share(&share_id)
        .await?
        .filter(|s| s.share.call_id == call_id)
        .ok_or_else(|| ApiError::NotFound(format!("share {share_id}")))?;
    if share.share.created_by != user.id && user.role != AppRole::Admin {
        return Err(ApiError::Forbidden);
    }
    match state.store.revoke_share(&share_id).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::NotFound(format!("share {share_id}"))),
    }
}

// ---------- search ----------

/// The query of `GET /api/search`.
#[derive(Debug, Deserialize)]
struct SearchParams {
    /// The phrase: words, matched whole, in order, whatever their case.
    q: Option<String>,
    /// Only this seller's calls (within what the user may see).
    seller: Option<String>,
    /// Calls that started from this day (`YYYY-MM-DD`; default: a year before `to`).
    from: Option<String>,
    /// ... to this day, inclusive (default: today).
    to: Option<String>,
    /// Only what this side said.
    said_by: Option<SearchSide>,
    /// At most this many hits (default 50, at most 200).
    limit: Option<usize>,
}

/// Whose words a search looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SearchSide {
    Seller,
    Customer,
}

/// A hit as the API shows it: with its seller's name.
#[derive(Serialize)]
struct SearchHitView {
    #[serde(flatten)]
    hit: callscope_store::SearchHit,
    /// The seller's name, from the directory.
    seller_name: String,
}

#[derive(Serialize)]
struct SearchResults {
    /// The days searched.
    range: DateRange,
    /// Newest call first, then in the order said.
    hits: Vec<SearchHitView>,
    /// Whether there were more hits than `limit`.
    more: bool,
}

/// Default and largest number of hits `GET /api/search` returns.
const SEARCH_LIMIT: (usize, usize) = (50, 200);

/// Whose calls `user` may find: an admin's, everyone's; a manager's, their
/// teams' sellers' (per the directory, now); a seller's, their own. Plus, for
/// anyone, the calls shared with them: whole, or only the clip shared.
/// Comments are never searched.
async fn search_scope(state: &AppState, user: &User) -> AppResult<SearchScope> {
    if user.role == AppRole::Admin {
        return Ok(SearchScope::All);
    }
    let sellers = state.directory.visible_sellers(user).into_iter().map(|u| u.id.clone()).collect();
    let shared = state
        .store
        .shares_for(&share_keys(state, user))
        .await?
        .into_iter()
        .map(|s| SharedSpan { call_id: s.share.call_id, clip: s.share.start_s.zip(s.share.end_s) })
        .collect();
    Ok(SearchScope::Only { sellers, shared })
}

/// Search across the transcripts the user may see. Recorded in the audit
/// trail (`search`): one entry per call whose text the hits show (the
/// query itself is not recorded: it can hold personal data).
async fn search(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Query(p): Query<SearchParams>,
) -> AppResult<Json<SearchResults>> {
    let phrase = p.q.unwrap_or_default();
    if let Err(callscope_store::StoreError::InvalidInput { reason, .. }) =
        callscope_store::search::phrase_words(&phrase)
    {
        return Err(ApiError::BadRequest(format!("q: {reason}")));
    }
    let to =
        p.to.as_deref().map(|t| parse_day(t, "to")).transpose()?.unwrap_or_else(|| Utc::now().date_naive());
    let default_from = to.checked_sub_days(Days::new(365)).unwrap_or(to).to_string();
    let range = range(Some(p.from.as_deref().unwrap_or(&default_from)), Some(&to.to_string()))?;
    let limit = p.limit.unwrap_or(SEARCH_LIMIT.0);
    if !(1..=SEARCH_LIMIT.1).contains(&limit) {
        return Err(ApiError::BadRequest(format!("limit: 1 to {}", SEARCH_LIMIT.1)));
    }
    let query = SearchQuery {
        phrase,
        scope: search_scope(&state, &user).await?,
        seller: p.seller.filter(|s| !s.is_empty()),
        range,
        said_by: p.said_by.map(|s| match s {
            SearchSide::Seller => callscope_model::Role::Seller,
            SearchSide::Customer => callscope_model::Role::Customer,
        }),
        limit: limit + 1,
    };
    let mut hits = state.store.search(&query).await?;
    let more = hits.len() > limit;
    hits.truncate(limit);
    let mut calls: Vec<(String, String)> = Vec::new();
    for h in &hits {
        if !calls.iter().any(|(c, _)| *c == h.call_id) {
            calls.push((h.call_id.clone(), h.seller_id.clone()));
        }
    }
    if calls.is_empty() {
        calls.push((String::new(), query.seller.clone().unwrap_or_default()));
    }
    audit::record_calls(&state, &user, AuditAction::Search, &calls).await;
    let hits = hits
        .into_iter()
        .map(|hit| SearchHitView { seller_name: display_name(&state, &hit.seller_id), hit })
        .collect();
    Ok(Json(SearchResults { range, hits, more }))
}

/// What is shared with the user (named, or through their team), newest first.
/// The call library: for a seller, what was shared with them; for a manager,
/// every share of their teams' calls (shares go to sellers of the call's own
/// team); for an admin, every share. Newest first; the page groups them by
/// collection.
async fn shared_with_me(State(state): St, CurrentUser(user): CurrentUser) -> AppResult<Json<Vec<ShareView>>> {
    let shares = state.store.shares_for(&library_keys(&state, &user)).await?;
    let mut out = Vec::with_capacity(shares.len());
    for s in shares.into_iter().take(100) {
        // A share of a call that is gone (erased) is left out.
        let Some(call) = state.store.call(&s.share.call_id).await? else { continue };
        out.push(share_view(&state, s, Some(call.summary)));
    }
    Ok(Json(out))
}

async fn comments(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Path(call_id): Path<String>,
) -> AppResult<Json<Vec<CommentView>>> {
    visible_call(&state, &user, &call_id).await?;
    Ok(Json(comment_views(&state, state.store.comments(&call_id).await?)))
}

#[derive(Deserialize)]
struct CommentBody {
    text: String,
    at_s: Option<f64>,
    parent_id: Option<String>,
    /// The transcript line (turn index) it is about.
    turn: Option<u32>,
    /// The words it is about: the first one's start and the last one's end, seconds.
    start_s: Option<f64>,
    end_s: Option<f64>,
}

/// Slack on a word range's bounds against the call's turns, seconds (times
/// are rounded to milliseconds on the way).
const ANCHOR_SLACK_S: f64 = 0.5;

/// Where a comment sits, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Anchor {
    turn: Option<u32>,
    start_s: Option<f64>,
    end_s: Option<f64>,
    at_s: Option<f64>,
}

/// Where a comment sits, checked against the call. A line alone gets the
/// line's times; words alone get the line they start in; a reply takes its
/// thread's anchor unless it gives one.
fn anchor(
    call: &callscope_store::CallDetail,
    body: &CommentBody,
    parent: Option<&callscope_store::Comment>,
) -> AppResult<Anchor> {
    let bad = |m: &str| Err(ApiError::BadRequest(m.to_owned()));
    if body.at_s.is_some_and(|t| !t.is_finite() || t < 0.0) {
        return bad("at_s: a non-negative number of seconds");
    }
    if body.turn.is_none() && body.start_s.is_none() && body.end_s.is_none() {
        if let Some(p) = parent {
            let c = &p.comment;
            return Ok(Anchor {
                turn: c.turn,
                start_s: c.start_s,
                end_s: c.end_s,
                at_s: body.at_s.or(c.at_s),
            });
        }
        return Ok(Anchor { at_s: body.at_s, ..Anchor::default() });
    }
    let turns = &call.signals.sentiment.timeline;
    let words = match (body.start_s, body.end_s) {
        (None, None) => None,
        (Some(s), Some(e)) if s.is_finite() && e.is_finite() && 0.0 <= s && s <= e => Some((s, e)),
        _ => return bad("start_s, end_s: both, with 0 <= start_s <= end_s"),
    };
    let turn = match (body.turn, words) {
        (Some(t), _) => {
            let Some(point) = turns.get(t as usize) else {
                return bad(&format!("turn: the call has {} line(s)", turns.len()));
            };
            if let Some((s, e)) = words
                && (s < point.start - ANCHOR_SLACK_S || e > point.end + ANCHOR_SLACK_S)
            {
                return bad("start_s, end_s: the words must lie within the line");
            }
            t
        }
        (None, Some((s, _))) => {
            let found =
                turns.iter().position(|p| p.start - ANCHOR_SLACK_S <= s && s <= p.end + ANCHOR_SLACK_S);
            let Some(i) = found else { return bad("start_s: no line of the call is at that time") };
            u32::try_from(i).map_err(|_| ApiError::BadRequest("turn: out of range".into()))?
        }
        (None, None) => return bad("turn or start_s and end_s: where the comment sits"),
    };
    let point = &turns[turn as usize];
    let (start, end) = words.unwrap_or((point.start, point.end));
    Ok(Anchor {
        turn: Some(turn),
        start_s: Some(start),
        end_s: Some(end),
        at_s: Some(body.at_s.unwrap_or(start)),
    })
}

async fn add_comment(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Path(call_id): Path<String>,
    Json(body): Json<CommentBody>,
) -> AppResult<(StatusCode, Json<CommentView>)> {
    let call = visible_call(&state, &user, &call_id).await?;
    // Managers coach on their team's calls; a seller may reply on their own.
    let allowed = match user.role {
        AppRole::Admin | AppRole::Manager => true,
        AppRole::Seller => call.summary.seller_id == user.id,
    };
    if !allowed {
        return Err(ApiError::Forbidden);
    }
    let text = comment_text(&body.text)?;
    // A reply answers a comment of this call; threads are one level deep, so
    // a reply to a reply joins its thread.
    let parent = match &body.parent_id {
        None => None,
        Some(id) => {
            let parent = state.store.comment(id).await?.filter(|c| c.comment.call_id == call_id);
            let Some(parent) = parent else {
                return Err(ApiError::BadRequest(format!("parent_id: no comment {id} on this call")));
            };
            match &parent.comment.parent_id {
                Some(root) => state.store.comment(root).await?.or(Some(parent)),
                None => Some(parent),
            }
        }
    };
    let Anchor { turn, start_s, end_s, at_s } = anchor(&call, &body, parent.as_ref())?;
    let role = audit::role_name(user.role);
    let comment = state
        .store
        .add_comment(NewComment {
            call_id,
            author: user.id.clone(),
            author_role: role.into(),
            at_s,
            text: text.to_owned(),
            parent_id: parent.map(|p| p.comment_id),
            turn,
            start_s,
            end_s,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(CommentView { author_name: user.name.clone(), comment })))
}

/// A comment's text, trimmed: 1 to 5000 characters.
fn comment_text(text: &str) -> AppResult<&str> {
    let text = text.trim();
    if text.is_empty() || text.len() > 5000 {
        return Err(ApiError::BadRequest("text: 1 to 5000 characters".into()));
    }
    Ok(text)
}

#[derive(Deserialize)]
struct CommentEdit {
    text: String,
}

/// Edits a comment's text: its author only (managers included), on a call
/// the author may still see.
async fn edit_comment(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Path((call_id, comment_id)): Path<(String, String)>,
    Json(body): Json<CommentEdit>,
) -> AppResult<Json<CommentView>> {
    visible_call(&state, &user, &call_id).await?;
    let comment = state
        .store
        .comment(&comment_id)
        .await?
        .filter(|c| c.comment.call_id == call_id)
        .ok_or_else(|| ApiError::NotFound(format!("comment {comment_id}")))?;
    if comment.comment.author != user.id {
        return Err(ApiError::NotAuthor(comment_id));
    }
    let text = comment_text(&body.text)?;
    let edited = state
        .store
        .edit_comment(&comment_id, text)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("comment {comment_id}")))?;
    Ok(Json(CommentView { author_name: user.name.clone(), comment: edited }))
}

async fn delete_comment(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Path((call_id, comment_id)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    visible_call(&state, &user, &call_id).await?;
    let comment = state
        .store
        .comment(&comment_id)
        .await?
        .filter(|c| c.comment.call_id == call_id)
        .ok_or_else(|| ApiError::NotFound(format!("comment {comment_id}")))?;
    // Only the author may delete a comment (managers included).
    if comment.comment.author != user.id {
        return Err(ApiError::NotAuthor(comment_id));
    }
    match state.store.delete_comment(&comment_id).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::NotFound(format!("comment {comment_id}"))),
    }
}

// ---------- admin: audit trail and erasure ----------

/// The audit trail, newest first; admins only.
async fn admin_audit(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Query(params): Query<AuditParams>,
) -> AppResult<Json<Vec<AuditEntry>>> {
    audit::require_admin(&user)?;
    Ok(Json(state.store.audit_log(&params.query()?).await?))
}

/// Erases one call and every trace of it (`callscope delete --call`); admins
/// only; idempotent (a second request erases nothing and answers the same
/// way, with no calls); recorded in the audit trail (`erase_call`).
async fn admin_erase_call(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Path(call_id): Path<String>,
) -> AppResult<Json<ErasureReport>> {
    audit::require_admin(&user)?;
    if call_id.trim().is_empty() {
        return Err(ApiError::BadRequest("call id: must not be empty".into()));
    }
    let seller = state.store.call(&call_id).await?.map(|c| c.summary.seller_id).unwrap_or_default();
    let report = audit::erase(&state, &EraseScope::Calls(vec![call_id.clone()])).await?;
    audit::record(&state, &user, AuditAction::EraseCall, &call_id, &seller).await;
    Ok(Json(report))
}

/// Erases every call of a seller (`callscope delete --seller`); admins only;
/// idempotent; recorded in the audit trail (`erase_seller`).
async fn admin_erase_seller(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Path(seller_id): Path<String>,
) -> AppResult<Json<ErasureReport>> {
    audit::require_admin(&user)?;
    if seller_id.trim().is_empty() {
        return Err(ApiError::BadRequest("seller id: must not be empty".into()));
    }
    let report = audit::erase(&state, &EraseScope::Seller(seller_id.clone())).await?;
    audit::record(&state, &user, AuditAction::EraseSeller, "", &seller_id).await;
    Ok(Json(report))
}

// ---------- audio ----------

fn content_type(path: &FsPath) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("mp3") => "audio/mpeg",
        Some("flac") => "audio/flac",
        Some("wav") => "audio/wav",
        Some("ogg" | "opus") => "audio/ogg",
        Some("m4a") => "audio/mp4",
        _ => "application/octet-stream",
    }
}

/// The recording's local path, if it is a `file://` URI below the audio root.
fn local_audio(root: Option<&PathBuf>, uri: &str) -> AppResult<PathBuf> {
    let root = root.ok_or_else(|| ApiError::NotFound("recording (no audio folder configured)".into()))?;
    let path = uri
        .strip_prefix("file://")
        .ok_or_else(|| ApiError::NotFound("recording (not a local file)".into()))?;
    let path = std::fs::canonicalize(path).map_err(|_| ApiError::NotFound("recording".into()))?;
    let root = std::fs::canonicalize(root).map_err(|_| ApiError::NotFound("recording".into()))?;
    if !path.starts_with(&root) {
        return Err(ApiError::Forbidden);
    }
    Ok(path)
}

/// Parses `bytes=a-b`, `bytes=a-` or `bytes=-n` against a length.
fn parse_range(header: &str, len: u64) -> Option<(u64, u64)> {
    let spec = header.strip_prefix("bytes=")?.split(',').next()?.trim();
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (len.saturating_sub(n), len.checked_sub(1)?)
        }
        (a, "") => (a.parse().ok()?, len.checked_sub(1)?),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(len.checked_sub(1)?)),
    };
    (start <= end && end < len).then_some((start, end))
}

/// Bytes read from disk per chunk of a streamed recording.
const AUDIO_CHUNK_BYTES: usize = 64 * 1024;

/// The recording, or the requested byte range of it (206), streamed from
/// disk in [`AUDIO_CHUNK_BYTES`] chunks: memory per request stays small
/// however long the recording is.
async fn audio(
    State(state): St,
    CurrentUser(user): CurrentUser,
    Path(call_id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let (call, shares) = readable_call(&state, &user, &call_id).await?;
    let uri = call.audio_uri.ok_or_else(|| ApiError::NotFound("recording of this call".into()))?;
    let path = local_audio(state.audio_root.as_ref(), &uri)?;
    let mut file = tokio::fs::File::open(&path).await.map_err(|_| ApiError::NotFound("recording".into()))?;
    // Shared only as clips: a recording as long as the call, silent outside them.
    let masked = match clip::spans(&shares) {
        Some(spans) => {
            let (p, duration) = (path.clone(), call.summary.duration_s);
            let wav = tokio::task::spawn_blocking(move || clip::masked(&p, &spans, duration))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .map_err(|e| ApiError::Internal(format!("recording: {e}")))?;
            Some(wav)
        }
        None => None,
    };
    let len = match &masked {
        Some(wav) => wav.len(),
        None => file.metadata().await.map_err(|e| ApiError::Internal(e.to_string()))?.len(),
    };
    let requested = headers.get(RANGE).and_then(|v| v.to_str().ok());
    let (status, start, end) = match requested {
        None => (StatusCode::OK, 0, len.saturating_sub(1)),
        Some(r) => match parse_range(r, len) {
            Some((s, e)) => (StatusCode::PARTIAL_CONTENT, s, e),
            None => {
                return Ok((StatusCode::RANGE_NOT_SATISFIABLE, [(CONTENT_RANGE, format!("bytes */{len}"))])
                    .into_response());
            }
        },
    };
    // Every request of the recording is recorded (`play_audio`), ranges too:
    // a player that seeks asks again, and each answer serves the audio.
    audit::record(&state, &user, AuditAction::PlayAudio, &call_id, &call.summary.seller_id).await;
    let size = if len == 0 { 0 } else { end - start + 1 };
    let (body, kind) = match masked {
        Some(wav) if size > 0 => {
            (Body::from_stream(clip::stream(wav, start, end, AUDIO_CHUNK_BYTES as u64)), "audio/wav")
        }
        Some(_) => (Body::empty(), "audio/wav"),
        None => {
            file.seek(std::io::SeekFrom::Start(start))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            let stream = tokio_util::io::ReaderStream::with_capacity(file.take(size), AUDIO_CHUNK_BYTES);
            (Body::from_stream(stream), content_type(&path))
        }
    };
    let mut response = Response::builder()
        .status(status)
        .header(CONTENT_TYPE, kind)
        .header(ACCEPT_RANGES, "bytes")
        .header(CONTENT_LENGTH, size);
    if status == StatusCode::PARTIAL_CONTENT {
        response = response.header(CONTENT_RANGE, format!("bytes {start}-{end}/{len}"));
    }
    response.body(body).map_err(|e| ApiError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some((0, 99)));
        assert_eq!(parse_range("bytes=900-", 1000), Some((900, 999)));
        assert_eq!(parse_range("bytes=-100", 1000), Some((900, 999)));
        assert_eq!(parse_range("bytes=0-5000", 1000), Some((0, 999)));
        assert_eq!(parse_range("bytes=1000-", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
    }

    #[test]
    fn default_range_is_the_last_30_days() {
        let r = range(None, Some("2026-11-30")).expect("valid");
        assert_eq!(r.from, NaiveDate::from_ymd_opt(2026, 11, 1).expect("date"));
        assert!(range(Some("2026-12-01"), Some("2026-11-30")).is_err());
        assert!(range(Some("yesterday"), None).is_err());
    }
}
