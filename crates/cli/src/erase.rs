//! `callscope delete` (erasure on request) and `callscope retention` (expired
//! calls, and audit entries past `retention.audit_days`): both erase calls
//! through [`Store::erase`] and delete their local recordings under
//! `app.audio_root`.
//!
//! Order, so that a rerun after a crash finishes the job: the store is asked
//! first what it would erase (a dry run), the recordings of those calls are
//! deleted, then the calls are erased (the store's own order is crash-safe);
//! recordings of calls that appeared in between are deleted last. A recording
//! already gone counts as deleted; one outside `app.audio_root`, or not a
//! `file://` URI, is left alone and reported.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use callscope_store::{EraseScope, ErasedCall, Erasure, Store};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{ArgGroup, Args};

use crate::config::{Config, RetentionConfig};
use crate::setup::{describe, open_store};

/// Arguments of `callscope delete`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["call", "seller", "before"])))]
pub(crate) struct DeleteArgs {
    /// Erase this call (repeatable).
    #[arg(long, value_name = "ID")]
    call: Vec<String>,
    /// Erase every call of this seller.
    #[arg(long, value_name = "ID")]
    seller: Option<String>,
    /// Erase every call that started before this UTC day (YYYY-MM-DD) or
    /// instant (RFC 3339).
    #[arg(long, value_name = "DATE", value_parser = parse_before)]
    before: Option<DateTime<Utc>>,
    /// Only print what would be erased.
    #[arg(long)]
    dry_run: bool,
}

/// Arguments of `callscope retention`.
#[derive(Debug, Args)]
pub(crate) struct RetentionArgs {
    /// Only print what would be erased.
    #[arg(long)]
    dry_run: bool,
}

/// `YYYY-MM-DD` (midnight UTC) or an RFC 3339 instant.
fn parse_before(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(day) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("{s:?}: expected a day (2026-01-31) or an RFC 3339 time (2026-01-31T12:00:00Z)"))
}

impl DeleteArgs {
    fn scope(&self) -> Result<EraseScope> {
        match (&self.call[..], &self.seller, self.before) {
            (ids, None, None) if !ids.is_empty() => {
                if let Some(id) = ids.iter().find(|id| id.trim().is_empty()) {
                    bail!("--call {id:?}: a call id must not be empty");
                }
                Ok(EraseScope::Calls(ids.to_vec()))
            }
            ([], Some(seller), None) if !seller.trim().is_empty() => Ok(EraseScope::Seller(seller.clone())),
            ([], Some(_), None) => bail!("--seller: a seller id must not be empty"),
            ([], None, Some(before)) => Ok(EraseScope::StartedBefore(before)),
            _ => bail!("give exactly one of --call, --seller or --before"),
        }
    }
}

pub(crate) fn run_delete(args: &DeleteArgs, config: &Config) -> Result<ExitCode> {
    let scope = args.scope()?;
    let store = open_store(&config.store)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let audio_root = config.app.audio_root.as_deref();
    let done = runtime
        .block_on(erase(&*store, &scope, audio_root, args.dry_run))
        .with_context(|| format!("erasing from {}", describe(&config.store)))?;
    print_report(&done, args.dry_run, audio_root);
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn run_retention(args: &RetentionArgs, config: &Config) -> Result<ExitCode> {
    let retention = &config.retention;
    let store = open_store(&config.store)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let now = Utc::now();
    runtime
        .block_on(expire_audit(&*store, retention.audit_days, now, args.dry_run))
        .with_context(|| format!("expiring the audit trail in {}", describe(&config.store)))?;
    let Some(shortest) = retention.shortest_days() else {
        println!(
            "retention: no period configured ([retention] default_days = 0, no team set): every call is kept"
        );
        return Ok(ExitCode::SUCCESS);
    };
    let audio_root = config.app.audio_root.as_deref();
    let candidates = runtime
        .block_on(store.erase(&EraseScope::StartedBefore(cutoff(now, shortest)), true))
        .with_context(|| format!("finding expired calls in {}", describe(&config.store)))?;
    let expired = expired(&candidates.calls, retention, now);
    if expired.is_empty() {
        println!("retention: no expired call");
        return Ok(ExitCode::SUCCESS);
    }
    let mut total = Done::default();
    // In chunks: a crash loses at most one chunk's progress, and the id list
    // of a query stays small.
    for chunk in expired.chunks(500) {
        let scope = EraseScope::Calls(chunk.to_vec());
        let done = runtime
            .block_on(erase(&*store, &scope, audio_root, args.dry_run))
            .with_context(|| format!("erasing expired calls from {}", describe(&config.store)))?;
        total.absorb(done);
    }
    print_report(&total, args.dry_run, audio_root);
    Ok(ExitCode::SUCCESS)
}

/// The audit trail's own retention: entries older than `days` are deleted,
/// and the store keeps the same period itself where it can (a ClickHouse TTL,
/// removed again when `days` is 0).
async fn expire_audit(store: &dyn Store, days: u32, now: DateTime<Utc>, dry_run: bool) -> Result<()> {
    if !dry_run {
        store.set_audit_ttl(days).await?;
    }
    if days == 0 {
        println!("audit trail: kept forever ([retention] audit_days = 0)");
        return Ok(());
    }
    let n = store.expire_audit(cutoff(now, days), dry_run).await?;
    let verb = if dry_run { "would remove" } else { "removed" };
    println!("audit trail: {verb} {n} entries older than {days} days");
    Ok(())
}

/// `days` days before `now`.
fn cutoff(now: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    now - chrono::Duration::days(i64::from(days))
}

/// The calls among `calls` older than their team's retention period.
fn expired(calls: &[ErasedCall], retention: &RetentionConfig, now: DateTime<Utc>) -> Vec<String> {
    calls
        .iter()
        .filter(|c| retention.days_for(&c.team).is_some_and(|days| c.started_at < cutoff(now, days)))
        .map(|c| c.call_id.clone())
        .collect()
}

/// What happened to one recording.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AudioOutcome {
    /// Deleted now.
    Deleted(PathBuf),
    /// Already gone (a rerun).
    Missing(PathBuf),
    /// Would be deleted (dry run).
    WouldDelete(PathBuf),
    /// Left alone, with why.
    Kept(String),
}

/// An erasure and what happened to the recordings.
#[derive(Debug, Default)]
struct Done {
    erasure: Erasure,
    audio: Vec<(String, AudioOutcome)>,
}

impl Done {
    fn absorb(&mut self, other: Done) {
        self.erasure.calls.extend(other.erasure.calls);
        for (table, n) in other.erasure.rows {
            match self.erasure.rows.iter_mut().find(|(t, _)| *t == table) {
                Some((_, total)) => *total += n,
                None => self.erasure.rows.push((table, n)),
            }
        }
        self.erasure.days_recomputed += other.erasure.days_recomputed;
        self.audio.extend(other.audio);
    }
}

/// Erases `scope` and the recordings of its calls (see the module doc).
async fn erase(
    store: &dyn Store,
    scope: &EraseScope,
    audio_root: Option<&Path>,
    dry_run: bool,
) -> Result<Done> {
    let preview = store.erase(scope, true).await?;
    let mut audio = Vec::new();
    for call in &preview.calls {
        if let Some(uri) = &call.audio_uri {
            audio.push((call.call_id.clone(), remove_audio(uri, audio_root, dry_run)?));
        }
    }
    if dry_run {
        return Ok(Done { erasure: preview, audio });
    }
    let erasure = store.erase(scope, false).await?;
    let seen: BTreeSet<&str> = preview.calls.iter().map(|c| c.call_id.as_str()).collect();
    for call in erasure.calls.iter().filter(|c| !seen.contains(c.call_id.as_str())) {
        if let Some(uri) = &call.audio_uri {
            audio.push((call.call_id.clone(), remove_audio(uri, audio_root, false)?));
        }
    }
    Ok(Done { erasure, audio })
}

/// Deletes a recording if it is a local file under `audio_root`.
fn remove_audio(uri: &str, audio_root: Option<&Path>, dry_run: bool) -> Result<AudioOutcome> {
    let Some(path) = uri.strip_prefix("file://") else {
        return Ok(AudioOutcome::Kept(format!("{uri}: not a local file; delete it where it is stored")));
    };
    let Some(root) = audio_root else {
        return Ok(AudioOutcome::Kept(format!("{path}: app.audio_root is not set, so no file is deleted")));
    };
    let root = std::fs::canonicalize(root)
        .with_context(|| format!("app.audio_root {}: cannot resolve", root.display()))?;
    let path = Path::new(path);
    // The folder must resolve (no `..` escapes, links followed); the file may
    // already be gone.
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(AudioOutcome::Kept(format!("{}: not a file path", path.display())));
    };
    let Ok(parent) = std::fs::canonicalize(parent) else {
        return Ok(AudioOutcome::Missing(path.to_path_buf()));
    };
    let full = parent.join(name);
    let resolved = std::fs::canonicalize(&full).unwrap_or_else(|_| full.clone());
    if !resolved.starts_with(&root) {
        return Ok(AudioOutcome::Kept(format!(
            "{}: outside app.audio_root {}; not deleted",
            path.display(),
            root.display()
        )));
    }
    if !full.exists() {
        return Ok(AudioOutcome::Missing(full));
    }
    if dry_run {
        return Ok(AudioOutcome::WouldDelete(full));
    }
    match std::fs::remove_file(&full) {
        Ok(()) => Ok(AudioOutcome::Deleted(full)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AudioOutcome::Missing(full)),
        Err(e) => Err(e).with_context(|| format!("{}: cannot delete the recording", full.display())),
    }
}

fn print_report(done: &Done, dry_run: bool, audio_root: Option<&Path>) {
    let verb = if dry_run { "would erase" } else { "erased" };
    let e = &done.erasure;
    if e.is_empty() {
        println!("nothing to erase");
        return;
    }
    for c in &e.calls {
        println!(
            "{verb} call {} (seller {}, team {:?}, started {})",
            c.call_id, c.seller_id, c.team, c.started_at
        );
    }
    let rows: Vec<String> = e.rows.iter().map(|(table, n)| format!("{table} {n}")).collect();
    println!("{verb} {} call(s); rows: {}", e.calls.len(), rows.join(", "));
    if !dry_run {
        println!("recomputed {} seller-day aggregate(s) from the remaining calls", e.days_recomputed);
    }
    for (call, outcome) in &done.audio {
        match outcome {
            AudioOutcome::Deleted(p) => println!("deleted recording {} (call {call})", p.display()),
            AudioOutcome::Missing(p) => println!("recording {} already gone (call {call})", p.display()),
            AudioOutcome::WouldDelete(p) => println!("would delete recording {} (call {call})", p.display()),
            AudioOutcome::Kept(why) => println!("KEPT recording of call {call}: {why}"),
        }
    }
    if audio_root.is_none() && done.audio.iter().any(|(_, o)| matches!(o, AudioOutcome::Kept(_))) {
        eprintln!("note: set app.audio_root so local recordings are deleted too");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn before_takes_a_day_or_an_instant() {
        assert_eq!(parse_before("2026-01-31").expect("day").to_rfc3339(), "2026-01-31T00:00:00+00:00");
        assert_eq!(
            parse_before("2026-01-31T12:00:00+02:00").expect("instant").to_rfc3339(),
            "2026-01-31T10:00:00+00:00"
        );
        assert!(parse_before("31.1.2026").expect_err("bad").contains("expected a day"));
    }

    fn call(id: &str, team: &str, days_ago: i64, now: DateTime<Utc>) -> ErasedCall {
        ErasedCall {
            call_id: id.into(),
            seller_id: "s".into(),
            team: team.into(),
            started_at: now - chrono::Duration::days(days_ago),
            audio_uri: None,
        }
    }

    #[test]
    fn each_team_keeps_calls_for_its_own_period() {
        let now = Utc::now();
        let retention = RetentionConfig {
            default_days: 30,
            teams: [("crm".to_owned(), 90), ("legal".to_owned(), 0)].into_iter().collect(),
            audit_days: 0,
        };
        assert_eq!(retention.shortest_days(), Some(30));
        let calls = [
            call("a", "emea", 31, now),
            call("b", "emea", 29, now),
            call("c", "crm", 89, now),
            call("d", "crm", 91, now),
            call("e", "legal", 5000, now),
            call("f", "", 31, now),
        ];
        assert_eq!(expired(&calls, &retention, now), ["a", "d", "f"]);
        let forever = RetentionConfig { default_days: 0, teams: Default::default(), audit_days: 0 };
        assert_eq!(forever.shortest_days(), None);
        assert!(expired(&calls, &forever, now).is_empty());
    }

    #[test]
    fn only_local_recordings_under_the_root_are_deleted() {
        let root = tempfile::tempdir().expect("tempdir");
        let other = tempfile::tempdir().expect("tempdir");
        let inside = root.path().join("c-1.flac");
        let outside = other.path().join("c-2.flac");
        std::fs::write(&inside, b"audio").expect("write");
        std::fs::write(&outside, b"audio").expect("write");
        let uri = |p: &Path| format!("file://{}", p.display());
        // Both temporary folders are siblings: `root/../other/c-2.flac`.
        let other_name = other.path().file_name().expect("name").to_string_lossy();
        let escape = format!("file://{}/../{other_name}/c-2.flac", root.path().display());

        let dry = remove_audio(&uri(&inside), Some(root.path()), true).expect("dry");
        assert!(matches!(dry, AudioOutcome::WouldDelete(_)), "{dry:?}");
        assert!(inside.exists());
        let gone = remove_audio(&uri(&inside), Some(root.path()), false).expect("delete");
        assert!(matches!(gone, AudioOutcome::Deleted(_)), "{gone:?}");
        assert!(!inside.exists());
        let again = remove_audio(&uri(&inside), Some(root.path()), false).expect("again");
        assert!(matches!(again, AudioOutcome::Missing(_)), "{again:?}");

        for kept in [
            remove_audio(&uri(&outside), Some(root.path()), false).expect("outside"),
            remove_audio(&escape, Some(root.path()), false).expect("escape"),
            remove_audio(&uri(&outside), None, false).expect("no root"),
            remove_audio("s3://bucket/c-2.flac", Some(root.path()), false).expect("remote"),
        ] {
            assert!(matches!(kept, AudioOutcome::Kept(_)), "{kept:?}");
        }
        assert!(outside.exists(), "nothing outside the root is deleted");
    }
}
