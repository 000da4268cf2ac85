//! The audit trail, from the API's side: what the handlers record (who opened
//! which call, played which recording, erased what), the admins' view of it,
//! and the admin erasure endpoints, which are recorded too.
//!
//! # A failed audit write does not fail the request
//! Recording is awaited before the content is served, but for at most
//! [`AUDIT_WRITE_TIMEOUT`]; if the store refuses or does not answer in time,
//! the request is served anyway, the failure is logged (action and error kind
//! only: no user, no call, no store message, which could quote them) and
//! counted in `callscope_api_audit_write_failures_total{action, error}`. The
//! trade-off is written down in `docs/privacy.md`: the page never breaks for
//! the audit trail's sake, so an operator must alert on that counter.

use std::path::{Path, PathBuf};
use std::time::Duration;

use callscope_store::{AuditAction, AuditEntry, AuditQuery, EraseScope, Erasure, StoreError};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::directory::{AppRole, User};
use crate::error::ApiError;

/// The longest a request waits for its audit entry to be written.
pub const AUDIT_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// Default and largest number of entries `GET /api/admin/audit` returns.
pub const AUDIT_PAGE: (usize, usize) = (500, 5000);

/// The stored name of a role.
pub(crate) fn role_name(role: AppRole) -> &'static str {
    match role {
        AppRole::Seller => "seller",
        AppRole::Manager => "manager",
        AppRole::Admin => "admin",
    }
}

/// A store error's kind, for the log and the metric label (never its message).
fn error_kind(e: &StoreError) -> &'static str {
    match e {
        StoreError::Unavailable(_) => "unavailable",
        StoreError::Timeout(_) => "timeout",
        StoreError::SchemaMismatch(_) => "schema_mismatch",
        StoreError::InvalidInput { .. } => "invalid_input",
        StoreError::Database(_) => "database",
    }
}

/// Records that `user` did `action` to a call (or a seller); never fails the
/// request (see the module docs).
pub(crate) async fn record(
    state: &AppState,
    user: &User,
    action: AuditAction,
    call_id: &str,
    seller_id: &str,
) {
    let entry = AuditEntry {
        at: Utc::now(),
        user_id: user.id.clone(),
        user_role: role_name(user.role).to_owned(),
        action,
        call_id: call_id.to_owned(),
        seller_id: seller_id.to_owned(),
    };
    let written =
        tokio::time::timeout(AUDIT_WRITE_TIMEOUT, state.store.record_audit(std::slice::from_ref(&entry)))
            .await;
    let kind = match written {
        Ok(Ok(())) => return,
        Ok(Err(e)) => error_kind(&e),
        Err(_) => "timeout",
    };
    state.metrics.audit_write_failures.with_label_values(&[action.as_str(), kind]).inc();
    tracing::warn!(
        action = action.as_str(),
        error = kind,
        "audit write failed; the request is served anyway (callscope_api_audit_write_failures_total)"
    );
}

/// Records that `user` did `action` to each of some calls (`(call_id,
/// seller_id)`), in one write; never fails the request (see the module docs).
pub(crate) async fn record_calls(
    state: &AppState,
    user: &User,
    action: AuditAction,
    calls: &[(String, String)],
) {
    let at = Utc::now();
    let entries: Vec<AuditEntry> = calls
        .iter()
        .map(|(call_id, seller_id)| AuditEntry {
            at,
            user_id: user.id.clone(),
            user_role: role_name(user.role).to_owned(),
            action,
            call_id: call_id.clone(),
            seller_id: seller_id.clone(),
        })
        .collect();
    let written = tokio::time::timeout(AUDIT_WRITE_TIMEOUT, state.store.record_audit(&entries)).await;
    let kind = match written {
        Ok(Ok(())) => return,
        Ok(Err(e)) => error_kind(&e),
        Err(_) => "timeout",
    };
    state.metrics.audit_write_failures.with_label_values(&[action.as_str(), kind]).inc();
    tracing::warn!(
        action = action.as_str(),
        error = kind,
        "audit write failed; the request is served anyway (callscope_api_audit_write_failures_total)"
    );
}

/// Refuses anyone but an admin (403).
pub(crate) fn require_admin(user: &User) -> Result<(), ApiError> {
    match user.role {
        AppRole::Admin => Ok(()),
        AppRole::Manager | AppRole::Seller => Err(ApiError::Forbidden),
    }
}

/// The query of `GET /api/admin/audit`.
#[derive(Debug, Deserialize)]
pub(crate) struct AuditParams {
    /// From this day (00:00 UTC) or RFC 3339 instant, inclusive.
    from: Option<String>,
    /// To this day (inclusive, to its end) or RFC 3339 instant (exclusive).
    to: Option<String>,
    /// Only this user's entries.
    user: Option<String>,
    /// Only entries about this call.
    call: Option<String>,
    /// At most this many entries (default 500, at most 5000).
    limit: Option<usize>,
}

/// A bound: a day (`from`: its start; `to`: the next day's start) or an instant.
fn bound(value: &str, field: &str, day_end: bool) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let day = if day_end { day.succ_opt().unwrap_or(day) } else { day };
        return Ok(day.and_time(NaiveTime::MIN).and_utc());
    }
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ApiError::BadRequest(format!("{field}: a day (2026-11-30) or an RFC 3339 time")))
}

impl AuditParams {
    /// The store query these parameters ask for.
    pub(crate) fn query(&self) -> Result<AuditQuery, ApiError> {
        let from = self.from.as_deref().map(|f| bound(f, "from", false)).transpose()?;
        let to = self.to.as_deref().map(|t| bound(t, "to", true)).transpose()?;
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(ApiError::BadRequest("from: must not be after to".into()));
        }
        let limit = self.limit.unwrap_or(AUDIT_PAGE.0);
        if limit == 0 || limit > AUDIT_PAGE.1 {
            return Err(ApiError::BadRequest(format!("limit: 1 to {}", AUDIT_PAGE.1)));
        }
        let nonempty = |s: &Option<String>| s.as_ref().filter(|s| !s.is_empty()).cloned();
        Ok(AuditQuery { from, to, user_id: nonempty(&self.user), call_id: nonempty(&self.call), limit })
    }
}

/// What an admin erasure did, as the endpoint answers it.
#[derive(Debug, Serialize)]
pub(crate) struct ErasureReport {
    /// The calls erased now (empty when there was nothing left: a rerun).
    calls: Vec<String>,
    /// Rows removed per table.
    rows: std::collections::BTreeMap<String, u64>,
    /// (seller, day) aggregates recomputed.
    days_recomputed: usize,
    /// Local recordings deleted now, or already gone.
    recordings_deleted: usize,
    /// Recordings left alone, and why (not a local file, outside the audio
    /// folder): delete them where they are stored.
    recordings_kept: Vec<String>,
}

/// What happened to one recording.
enum Recording {
    /// Deleted, or already gone.
    Gone,
    /// Left alone, with why.
    Kept(String),
}

/// Deletes a recording if it is a `file://` path under `root` (the same rule
/// as `callscope delete`); one already gone counts as deleted.
async fn remove_recording(root: Option<&PathBuf>, call_id: &str, uri: &str) -> Result<Recording, ApiError> {
    let Some(path) = uri.strip_prefix("file://") else {
        return Ok(Recording::Kept(format!("{call_id}: not a local file")));
    };
    let Some(root) = root else {
        return Ok(Recording::Kept(format!("{call_id}: no audio folder configured")));
    };
    let root = tokio::fs::canonicalize(root).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let path = Path::new(path);
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(Recording::Kept(format!("{call_id}: not a file path")));
    };
    let Ok(parent) = tokio::fs::canonicalize(parent).await else { return Ok(Recording::Gone) };
    let full = parent.join(name);
    let resolved = tokio::fs::canonicalize(&full).await.unwrap_or_else(|_| full.clone());
    if !resolved.starts_with(&root) {
        return Ok(Recording::Kept(format!("{call_id}: outside the audio folder")));
    }
    match tokio::fs::remove_file(&full).await {
        Ok(()) => Ok(Recording::Gone),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Recording::Gone),
        Err(e) => Err(ApiError::Internal(format!("deleting a recording: {e}"))),
    }
}

/// Erases `scope` and its local recordings, in the crash-safe order of
/// `callscope delete` (ask, delete recordings, erase rows); idempotent.
pub(crate) async fn erase(state: &AppState, scope: &EraseScope) -> Result<ErasureReport, ApiError> {
    let preview = state.store.erase(scope, true).await?;
    let mut report = ErasureReport {
        calls: Vec::new(),
        rows: Default::default(),
        days_recomputed: 0,
        recordings_deleted: 0,
        recordings_kept: Vec::new(),
    };
    for call in &preview.calls {
        if let Some(uri) = &call.audio_uri {
            match remove_recording(state.audio_root.as_ref(), &call.call_id, uri).await? {
                Recording::Gone => report.recordings_deleted += 1,
                Recording::Kept(why) => report.recordings_kept.push(why),
            }
        }
    }
    let erasure: Erasure = state.store.erase(scope, false).await?;
    // Calls that appeared between the two steps: their recordings too.
    for call in erasure.calls.iter().filter(|c| !preview.calls.iter().any(|p| p.call_id == c.call_id)) {
        if let Some(uri) = &call.audio_uri {
            match remove_recording(state.audio_root.as_ref(), &call.call_id, uri).await? {
                Recording::Gone => report.recordings_deleted += 1,
                Recording::Kept(why) => report.recordings_kept.push(why),
            }
        }
    }
    report.calls = erasure.calls.iter().map(|c| c.call_id.clone()).collect();
    report.rows = erasure.rows.into_iter().collect();
    report.days_recomputed = erasure.days_recomputed;
    Ok(report)
}
