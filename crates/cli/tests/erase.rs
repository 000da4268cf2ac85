//! `callscope delete` and `callscope retention` end to end on the embedded
//! store: the sample transcripts imported, then erased with their recordings.

use std::path::Path;
use std::process::{Command, Output};

fn callscope(dir: &Path, config: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_callscope"));
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    cmd.args(args)
        .env_remove("CALLSCOPE_CONFIG")
        .env("CALLSCOPE__STORE__SQLITE_PATH", dir.join("c.db"))
        .env("CALLSCOPE__APP__AUDIO_ROOT", dir.join("audio"))
        .output()
        .expect("run callscope")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Copies the sample transcripts and recordings into `dir` and imports them.
fn imported() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples");
    for sub in ["transcripts", "audio"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        for entry in std::fs::read_dir(samples.join(sub)).expect("samples") {
            let path = entry.expect("entry").path();
            std::fs::copy(&path, dir.path().join(sub).join(path.file_name().expect("name"))).expect("copy");
        }
    }
    stdout(&callscope(dir.path(), None, &["migrate"]));
    let transcripts = dir.path().join("transcripts");
    stdout(&callscope(dir.path(), None, &["import", "--transcript", transcripts.to_str().expect("utf-8")]));
    dir
}

#[test]
fn delete_erases_a_call_and_its_recording_once() {
    let dir = imported();
    let audio = dir.path().join("audio/dev-01-crm-discovery.mp3");
    assert!(audio.exists());

    let dry =
        stdout(&callscope(dir.path(), None, &["delete", "--call", "dev-01-crm-discovery", "--dry-run"]));
    assert!(dry.contains("would erase call dev-01-crm-discovery"), "{dry}");
    assert!(audio.exists(), "a dry run deletes nothing");

    let done = stdout(&callscope(dir.path(), None, &["delete", "--call", "dev-01-crm-discovery"]));
    assert!(done.contains("erased call dev-01-crm-discovery"), "{done}");
    assert!(done.contains("deleted recording"), "{done}");
    assert!(!audio.exists(), "the recording is deleted");

    let again = stdout(&callscope(dir.path(), None, &["delete", "--call", "dev-01-crm-discovery"]));
    assert!(again.contains("nothing to erase"), "{again}");

    let bad = callscope(dir.path(), None, &["delete", "--before", "yesterday"]);
    assert_eq!(bad.status.code(), Some(2), "bad input exits 2");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected a day"));
}

#[test]
fn retention_erases_only_expired_teams() {
    let dir = imported();
    let config = dir.path().join("retention.toml");
    // The samples are from October 2026: security's 1 day expires them, the
    // rest keep theirs forever (default 0).
    std::fs::write(&config, "[retention]\ndefault_days = 0\n[retention.teams]\nsecurity = 1\n")
        .expect("write");
    let dry = stdout(&callscope(dir.path(), Some(&config), &["retention", "--dry-run"]));
    let erased = stdout(&callscope(dir.path(), Some(&config), &["retention"]));
    let lines = |s: &str, verb: &str| s.lines().filter(|l| l.starts_with(verb)).count();
    assert_eq!(lines(&dry, "would erase call"), lines(&erased, "erased call"), "{dry}\n{erased}");
    assert!(
        erased.lines().filter(|l| l.starts_with("erased call")).all(|l| l.contains("team \"security\"")),
        "{erased}"
    );
    assert!(lines(&erased, "erased call") >= 1, "{erased}");
    let again = stdout(&callscope(dir.path(), Some(&config), &["retention"]));
    assert!(again.contains("no expired call"), "{again}");
}

#[test]
fn retention_expires_the_audit_trail_on_its_own_period() {
    use callscope_store::{AuditAction, AuditEntry, AuditQuery, SqliteStore, Store};
    let dir = imported();
    let db = dir.path().join("c.db");
    let now = chrono::Utc::now();
    let entry = |days_ago: i64, call: &str| AuditEntry {
        at: now - chrono::Duration::days(days_ago),
        user_id: "m-maria".into(),
        user_role: "manager".into(),
        action: AuditAction::OpenCall,
        call_id: call.into(),
        seller_id: "s-daniel".into(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let store = SqliteStore::open(&db).expect("open");
    runtime.block_on(store.record_audit(&[entry(40, "old"), entry(2, "recent")])).expect("record");
    let calls = |store: &SqliteStore| {
        let all = AuditQuery { limit: 10, ..AuditQuery::default() };
        let entries = runtime.block_on(store.audit_log(&all)).expect("read");
        entries.into_iter().map(|e| e.call_id).collect::<Vec<_>>()
    };
    let config = dir.path().join("retention.toml");
    // No call period at all: the audit trail's period applies on its own.
    std::fs::write(&config, "[retention]\ndefault_days = 0\naudit_days = 30\n").expect("write");
    let dry = stdout(&callscope(dir.path(), Some(&config), &["retention", "--dry-run"]));
    assert!(dry.contains("audit trail: would remove 1 entries older than 30 days"), "{dry}");
    assert_eq!(calls(&store), ["recent", "old"], "a dry run removes nothing");
    let done = stdout(&callscope(dir.path(), Some(&config), &["retention"]));
    assert!(done.contains("audit trail: removed 1 entries"), "{done}");
    assert!(done.contains("every call is kept"), "{done}");
    assert_eq!(calls(&store), ["recent"]);
    let again = stdout(&callscope(dir.path(), Some(&config), &["retention"]));
    assert!(again.contains("audit trail: removed 0 entries"), "{again}");
    // 0: kept forever.
    let forever = stdout(&callscope(dir.path(), None, &["retention"]));
    assert!(forever.contains("audit trail: kept forever"), "{forever}");
}
