//! Issue 20, stored audio: with `[ingest.audio_copies]` on, the real worker
//! (folder source, SQLite, whisper) keeps a copy of a call in which the
//! customer reads out a card number, with the redacted span silenced (then,
//! processed again, beeped), the rest of the speech intact, and the stored
//! call's `audio_uri` pointing to the copy, which the API serves; `callscope
//! delete` removes it.
//!
//! The call (`tests/data/card-call.ogg`, built by
//! `tools/redact/make_card_call.sh`): 16 s, stereo, the seller on the left
//! asks for the card, the customer on the right reads out
//! `4539 1488 0343 6467` between "Sure. It is" and "Thanks a lot."
//!
//! Where the redacted span is comes from the worker's own output: the copy
//! differs from the decoded original only inside the customer's turn that
//! holds the placeholder (its times are in `utterances`), over at least three
//! seconds, and nowhere else, and the turn's first and last words are
//! unchanged. `callscope serve` serves the copy. A copy that cannot be
//! written dead-letters the call.
//!
//! Needs the model (`CALLSCOPE_TEST_MODEL`); skipped without it, except under
//! CI, where that is a failure.

mod model;
use model::model;

use std::path::{Path, PathBuf};
use std::process::Command;

use callscope_audio::TARGET_RATE;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/card-call.ogg")
}

/// Runs the worker once over `calls` with copies in `copies`, mode `mode`;
/// the call must be stored.
fn worker(calls: &Path, db: &Path, root: &Path, copies: &Path, mode: &str, model: &Path) -> String {
    let (ok, log) = run_worker(calls, db, root, copies, mode, model);
    assert!(ok, "worker failed: {log}");
    assert!(log.contains("card-call.ogg stored"), "{log}");
    log
}

/// Runs the worker once; whether it succeeded, and its output.
fn run_worker(
    calls: &Path,
    db: &Path,
    root: &Path,
    copies: &Path,
    mode: &str,
    model: &Path,
) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_callscope"))
        .args(["worker", "--once", "--source"])
        .arg(format!("dir:{}", calls.display()))
        .env("CALLSCOPE__STORE__SQLITE_PATH", db)
        .env("CALLSCOPE__ASR__MODEL", model)
        .env("CALLSCOPE__APP__AUDIO_ROOT", root)
        .env("CALLSCOPE__INGEST__AUDIO_COPIES__DIR", copies)
        .env("CALLSCOPE__INGEST__AUDIO_COPIES__MODE", mode)
        .env("CALLSCOPE__INGEST__METRICS_LISTEN", "")
        .output()
        .expect("run worker");
    let log = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), log)
}

/// The stored call's `audio_uri`, and the (start, end) of its turn that
/// holds a placeholder.
fn stored(db: &Path) -> (String, (f64, f64)) {
    let conn = rusqlite::Connection::open(db).expect("open");
    let uri: String = conn
        .query_row("SELECT audio_uri FROM calls WHERE call_id = 'card-call'", [], |r| r.get(0))
        .expect("the call is stored");
    let mut stmt = conn
        .prepare("SELECT start_s, end_s, text FROM utterances WHERE call_id = 'card-call' ORDER BY turn")
        .expect("utterances");
    let turns: Vec<(f64, f64, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let redacted: Vec<&(f64, f64, String)> =
        turns.iter().filter(|(_, _, t)| t.contains("[card]") || t.contains("[digits]")).collect();
    assert_eq!(redacted.len(), 1, "one turn reads out the card: {turns:?}");
    assert!(!turns.iter().any(|(_, _, t)| t.contains("4539") || t.contains("6467")), "{turns:?}");
    (uri, (redacted[0].0, redacted[0].1))
}

/// `GET /api/calls/{call}/audio` from a real `callscope serve` (dev login as
/// the sample directory's admin): the body.
fn serve_audio(db: &Path, root: &Path, call: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let users = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/users.toml");
    /// Stops the server however the test ends.
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let server = Command::new(env!("CARGO_BIN_EXE_callscope"))
        .arg("serve")
        .env("CALLSCOPE__STORE__SQLITE_PATH", db)
        .env("CALLSCOPE__APP__AUDIO_ROOT", root)
        .env("CALLSCOPE__APP__LISTEN", format!("127.0.0.1:{port}"))
        .env("CALLSCOPE__APP__DEV_LOGIN", "true")
        .env("CALLSCOPE__APP__DIRECTORY", users)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start serve");
    let server = Server(server);
    let request = |req: String| -> Vec<u8> {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.write_all(req.as_bytes()).expect("send");
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).expect("read");
        answer
    };
    let mut up = false;
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(up, "serve listens");
    let body = r#"{"user_id":"a-admin"}"#;
    let login = request(format!(
        "POST /api/auth/dev-login HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    let login = String::from_utf8_lossy(&login).into_owned();
    let cookie = login
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("a session cookie: {login}"))
        .to_owned();
    let answer = request(format!(
        "GET /api/calls/{call}/audio HTTP/1.0\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n"
    ));
    drop(server);
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("headers end");
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    assert!(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.to_lowercase().contains("content-type: audio/wav"), "{head}");
    answer[split + 4..].to_vec()
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

/// How much of `x`'s energy is a 1 kHz tone (1.0: a pure tone, any phase).
fn tone_share(x: &[f32]) -> f32 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for (i, v) in x.iter().enumerate() {
        let w = 2.0 * std::f64::consts::PI * 1000.0 * i as f64 / f64::from(TARGET_RATE);
        s += f64::from(*v) * w.sin();
        c += f64::from(*v) * w.cos();
    }
    let energy: f64 = x.iter().map(|v| f64::from(*v).powi(2)).sum();
    ((s * s + c * c) * 2.0 / x.len() as f64 / energy.max(1e-12)) as f32
}

/// The first and last sample (per channel) where the copy differs from the
/// original by more than 16-bit rounding.
fn changed(original: &[Vec<f32>], copy: &[Vec<f32>]) -> Option<(usize, usize)> {
    let len = original[0].len();
    let differs = |i: usize| original.iter().zip(copy).any(|(o, c)| (o[i] - c[i]).abs() > 1e-3);
    let first = (0..len).find(|&i| differs(i))?;
    let last = (0..len).rev().find(|&i| differs(i))?;
    Some((first, last))
}

#[test]
fn a_kept_copy_masks_the_card_number_and_nothing_else() {
    let Some(model) = model() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let calls = tmp.path().join("calls");
    std::fs::create_dir(&calls).expect("mkdir");
    std::fs::copy(fixture(), calls.join("card-call.ogg")).expect("copy the call");
    let meta = serde_json::json!({"seller_id": "s-anna", "team": "t", "started_at": "2026-11-02T10:00:00Z"});
    std::fs::write(calls.join("card-call.meta.json"), meta.to_string()).expect("meta");
    let root = tmp.path().join("recordings");
    let copies = root.join("redacted");
    let db = tmp.path().join("c.db");

    // Silence.
    worker(&calls, &db, &root, &copies, "silence", &model);
    let copy_path = std::fs::canonicalize(&copies).expect("the copies' folder").join("card-call.wav");
    let (uri, (turn_start, turn_end)) = stored(&db);
    assert_eq!(uri, format!("file://{}", copy_path.display()), "the stored call points to the copy");
    let original = callscope_audio::decode_file(&fixture()).expect("decode the original").channels;
    let copy = callscope_audio::decode_file(&copy_path).expect("decode the copy").channels;
    assert_eq!(copy.len(), 2, "channels as decoded");
    assert_eq!(copy[0].len(), original[0].len(), "same length");
    let rate = f64::from(TARGET_RATE);
    let (first, last) = changed(&original, &copy).expect("the copy masks something");
    let (from_s, to_s) = (first as f64 / rate, last as f64 / rate);
    // Only inside the redacted turn (the margin is 0.1 s), over the digits.
    assert!(
        from_s >= turn_start - 0.11 && to_s <= turn_end + 0.11,
        "{from_s}..{to_s} in {turn_start}..{turn_end}"
    );
    assert!(to_s - from_s >= 3.0, "the digits take more than 3 s: {from_s}..{to_s}");
    for ch in &copy {
        assert_eq!(rms(&ch[first..=last]), 0.0, "silenced on every channel");
    }
    assert!(rms(&original[1][first..=last]) > 0.02, "the original has the customer's speech there");
    // The turn's first and last words ("Sure. It is", "Thanks a lot") are kept.
    let before = &original[1][(turn_start * rate) as usize..first];
    let after = &original[1][last + 1..((turn_end * rate) as usize).min(original[1].len())];
    assert!(before.len() as f64 / rate > 0.4 && rms(before) > 0.02, "speech before the span, unchanged");
    assert!(after.len() as f64 / rate > 0.4 && rms(after) > 0.02, "speech after the span, unchanged");

    // Processed again in beep mode: the same file, replaced, now a tone.
    std::fs::remove_file(calls.join(".callscope/state.json")).expect("forget the folder's progress");
    worker(&calls, &db, &root, &copies, "beep", &model);
    let (uri_again, _) = stored(&db);
    assert_eq!(uri_again, uri, "one path per call");
    let names: Vec<String> = std::fs::read_dir(copy_path.parent().expect("folder"))
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["card-call.wav"], "one copy, no temporary file");
    let beeped = callscope_audio::decode_file(&copy_path).expect("decode the copy").channels;
    let (first, last) = changed(&original, &beeped).expect("the copy masks something");
    let inner = &beeped[1][first + 160..last - 160];
    assert!(tone_share(inner) > 0.99, "a pure 1 kHz tone: {}", tone_share(inner));
    let level = rms(inner);
    assert!((0.12..0.16).contains(&level), "a moderate beep (rms {level})");
    assert!(tone_share(&beeped[0][first + 160..last - 160]) > 0.99, "on both channels");

    // The API serves the copy, byte for byte.
    let served = serve_audio(&db, &root, "card-call");
    assert!(served == std::fs::read(&copy_path).expect("the copy"), "the API serves the redacted copy");

    // Erasure deletes the copy (it is under app.audio_root).
    let out = Command::new(env!("CARGO_BIN_EXE_callscope"))
        .args(["delete", "--call", "card-call"])
        .env("CALLSCOPE__STORE__SQLITE_PATH", &db)
        .env("CALLSCOPE__APP__AUDIO_ROOT", &root)
        .output()
        .expect("run delete");
    let log = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{log}");
    assert!(!copy_path.exists(), "the copy is deleted with the call: {log}");
    assert!(calls.join("card-call.ogg").exists(), "the original upload is the source's to delete");

    // A copy that cannot be written (a folder in its place) dead-letters the
    // call: it is not stored pointing at the unredacted original.
    std::fs::create_dir(&copy_path).expect("a folder where the copy goes");
    std::fs::remove_file(calls.join(".callscope/state.json")).expect("forget the folder's progress");
    let (ok, log) = run_worker(&calls, &db, &root, &copies, "silence", &model);
    assert!(!ok, "the call failed: {log}");
    let reports: Vec<PathBuf> = std::fs::read_dir(calls.join(".callscope/failed"))
        .unwrap_or_else(|e| panic!("the failure reports: {e}\n{log}"))
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let report = std::fs::read_to_string(&reports[0]).expect("the failure report");
    assert!(report.contains("audio_copy_failed") && report.contains("audio_copy"), "{report}");
    let conn = rusqlite::Connection::open(&db).expect("open");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM calls WHERE call_id = 'card-call'", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 0, "not stored");
}
