//! The API, driven with `oneshot`: the role matrix (every endpoint × own seller,
//! other seller, manager of the team, manager of another team, no auth),
//! authentication (HS256, RS256, and JWKS from a local identity provider on
//! 127.0.0.1 that rotates its key), the 404 for other sellers' calls, team
//! membership from the directory, security headers, `/metrics`, `/readyz`,
//! audio Range requests and the insights payload.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use callscope_api::{
    ApiMetrics, AppState, AuthSettings, CoachingRules, CookieSecurity, Directory, JwksCache, JwksSettings,
    JwksSource, JwtSettings, TokenKeys, app,
};
use callscope_model::{CallMeta, Transcript};
use callscope_pipeline::Analyzer;
use callscope_signals::{SignalSettings, Trackers};
use callscope_store::{SqliteStore, Store};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &[u8] = b"test-secret-for-bearer-tokens-0123456789";

const DIRECTORY: &str = r#"
[[team]]
id = "crm"
name = "CRM"
[[team]]
id = "security"
name = "Security"
[[user]]
id = "m-maria"
name = "Maria"
email = "maria@example.com"
role = "manager"
teams = ["crm"]
[[user]]
id = "m-kenji"
name = "Kenji"
role = "manager"
teams = ["security"]
[[user]]
id = "s-daniel"
name = "Daniel"
email = "daniel@example.com"
role = "seller"
team = "crm"
[[user]]
id = "s-sofia"
name = "Sofia"
role = "seller"
team = "crm"
[[user]]
id = "s-rachel"
name = "Rachel"
role = "seller"
team = "security"
[[user]]
id = "a-admin"
name = "Admin"
role = "admin"
"#;

fn day(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples")
}

struct Fixture {
    app: axum::Router,
    store: Arc<SqliteStore>,
    _audio: tempfile::TempDir,
}

fn hs256_settings() -> JwtSettings {
    JwtSettings {
        keys: TokenKeys::hs256(SECRET).expect("a long enough secret"),
        issuer: Some("https://idp.test".into()),
        audience: Some("callscope".into()),
        user_claim: "sub".into(),
    }
}

fn call_meta(call_id: &str, seller: &str, team: &str, day: u32) -> CallMeta {
    CallMeta {
        call_id: call_id.into(),
        seller_id: seller.into(),
        team: Some(team.into()),
        started_at: Some(Utc.with_ymd_and_hms(2026, 11, day, 10, 0, 0).single().expect("time")),
        customer: Some(format!("{call_id} customer")),
        ..CallMeta::default()
    }
}

fn analyzer() -> Analyzer {
    let toml = std::fs::read_to_string(samples().join("trackers.toml")).expect("trackers");
    Analyzer::new(&Trackers::from_toml_str(&toml).expect("valid").0, SignalSettings::default())
}

fn transcript(file: &str) -> Transcript {
    let bytes = std::fs::read(samples().join(format!("transcripts/{file}.json"))).expect("transcript");
    Transcript::from_json_slice(&bytes).expect("valid")
}

async fn fixture() -> Fixture {
    fixture_with(Some(hs256_settings())).await
}

async fn fixture_with(jwt: Option<JwtSettings>) -> Fixture {
    let store = SqliteStore::in_memory().expect("store");
    store.migrate().await.expect("migrate");
    let audio = tempfile::tempdir().expect("tempdir");
    let recording = audio.path().join("c-daniel.mp3");
    std::fs::write(&recording, (0..1000u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>()).expect("audio");
    let outside = tempfile::NamedTempFile::new().expect("outside file");

    let analyzer = analyzer();
    let mut calls = Vec::new();
    for (call_id, seller, team, file, day, audio_uri) in [
        (
            "c-daniel",
            "s-daniel",
            "crm",
            "dev-01-crm-discovery",
            2,
            Some(format!("file://{}", recording.display())),
        ),
        (
            "c-daniel-2",
            "s-daniel",
            "crm",
            "dev-04-crm-followup-roofing",
            3,
            Some(format!("file://{}", outside.path().display())),
        ),
        ("c-rachel", "s-rachel", "security", "dev-02-security-renewal-unhappy", 4, None),
    ] {
        calls.push(analyzer.analyze_transcript(
            call_meta(call_id, seller, team, day),
            transcript(file),
            audio_uri,
        ));
    }
    // As if c-daniel-2 had been a mono recording whose speakers are uncertain.
    calls[1].attribution = Some(callscope_model::Attribution::new("mono-heuristics", 0.2));
    store.write(&calls).await.expect("write");
    let store = Arc::new(store);

    let state = AppState {
        store: store.clone(),
        directory: Directory::from_toml_str(DIRECTORY).expect("directory"),
        auth: AuthSettings {
            jwt,
            dev_login: true,
            session_secret: b"session-secret-of-this-test".to_vec(),
            cookie_security: CookieSecurity::Auto,
        },
        coaching: CoachingRules::defaults(),
        audio_root: Some(audio.path().to_path_buf()),
        chat_url_template: Some("https://chat.example.com/?to={email}".into()),
        metrics: ApiMetrics::new(),
    };
    std::mem::forget(outside); // keep the file for the test's lifetime
    Fixture { app: app(Arc::new(state)), store, _audio: audio }
}

/// An app's state on `store`: the test directory, JWT only, no audio folder.
fn plain_state(store: Arc<dyn Store>, metrics: ApiMetrics) -> AppState {
    AppState {
        store,
        directory: Directory::from_toml_str(DIRECTORY).expect("directory"),
        auth: AuthSettings {
            jwt: Some(hs256_settings()),
            dev_login: false,
            session_secret: b"session-secret-of-this-test".to_vec(),
            cookie_security: CookieSecurity::Auto,
        },
        coaching: CoachingRules::defaults(),
        audio_root: None,
        chat_url_template: None,
        metrics,
    }
}

fn token(sub: &str, iss: &str, exp_offset: i64) -> String {
    let claims =
        json!({ "sub": sub, "iss": iss, "aud": "callscope", "exp": Utc::now().timestamp() + exp_offset });
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(SECRET))
        .expect("token")
}

async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    user: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(u) = user {
        req = req.header(header::AUTHORIZATION, format!("Bearer {}", token(u, "https://idp.test", 600)));
    }
    let req = match body {
        Some(b) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .expect("request");
    let res = app.clone().oneshot(req).await.expect("response");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

const RANGE: &str = "from=2026-11-01&to=2026-11-30";

#[tokio::test]
async fn role_matrix() {
    let f = fixture().await;
    // A comment by Maria on Daniel's call, to read and to try to delete.
    let (status, comment) = send(
        &f.app,
        "POST",
        "/api/calls/c-daniel/comments",
        Some("m-maria"),
        Some(json!({"text": "Ask about budget", "at_s": 12.0})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let comment_id = comment["comment_id"].as_str().expect("id").to_owned();
    // Only its author may delete a comment, even on the seller's own call.
    let uri = format!("/api/calls/c-daniel/comments/{comment_id}");
    assert_eq!(
        send(&f.app, "DELETE", &uri, Some("s-daniel"), None).await,
        (StatusCode::FORBIDDEN, json!({ "error": format!("comment {comment_id} belongs to someone else") }))
    );

    use StatusCode as S;
    let actors: [Option<&str>; 5] =
        [Some("s-daniel"), Some("s-rachel"), Some("m-maria"), Some("m-kenji"), None];
    let post = json!({"text": "hello"});
    // On a transcript line, and a reply in Maria's thread.
    let on_line = json!({"text": "this line", "turn": 1});
    let reply = json!({"text": "a reply", "parent_id": comment_id});
    let patch = json!({"text": "Ask about budget first"});
    let share = json!({"team": true, "start_s": 1.0, "end_s": 5.0, "note": "a good opening"});
    #[rustfmt::skip]
    let matrix: Vec<(&str, String, Option<Value>, [S; 5])> = vec![
        ("GET", format!("/api/sellers/s-daniel/insights?{RANGE}"), None, [S::OK, S::FORBIDDEN, S::OK, S::FORBIDDEN, S::UNAUTHORIZED]),
        ("GET", format!("/api/sellers/s-daniel/calls?{RANGE}"), None, [S::OK, S::FORBIDDEN, S::OK, S::FORBIDDEN, S::UNAUTHORIZED]),
        ("GET", format!("/api/sellers/s-daniel/comments?{RANGE}"), None, [S::OK, S::FORBIDDEN, S::OK, S::FORBIDDEN, S::UNAUTHORIZED]),
        ("GET", "/api/calls/c-daniel".into(), None, [S::OK, S::NOT_FOUND, S::OK, S::NOT_FOUND, S::UNAUTHORIZED]),
        ("GET", "/api/calls/c-daniel/audio".into(), None, [S::OK, S::NOT_FOUND, S::OK, S::NOT_FOUND, S::UNAUTHORIZED]),
        ("GET", "/api/calls/c-daniel/comments".into(), None, [S::OK, S::NOT_FOUND, S::OK, S::NOT_FOUND, S::UNAUTHORIZED]),
        ("POST", "/api/calls/c-daniel/comments".into(), Some(post.clone()), [S::CREATED, S::NOT_FOUND, S::CREATED, S::NOT_FOUND, S::UNAUTHORIZED]),
        ("POST", "/api/calls/c-daniel/comments".into(), Some(on_line.clone()), [S::CREATED, S::NOT_FOUND, S::CREATED, S::NOT_FOUND, S::UNAUTHORIZED]),
        ("POST", "/api/calls/c-daniel/comments".into(), Some(reply.clone()), [S::CREATED, S::NOT_FOUND, S::CREATED, S::NOT_FOUND, S::UNAUTHORIZED]),
        // Sharing: managers of the team (and admins) only; the list of a call's shares for whoever sees the call.
        ("POST", "/api/calls/c-daniel/shares".into(), Some(share.clone()), [S::FORBIDDEN, S::NOT_FOUND, S::CREATED, S::NOT_FOUND, S::UNAUTHORIZED]),
        ("GET", "/api/calls/c-daniel/shares".into(), None, [S::OK, S::NOT_FOUND, S::OK, S::NOT_FOUND, S::UNAUTHORIZED]),
        ("GET", "/api/shared".into(), None, [S::OK, S::OK, S::OK, S::OK, S::UNAUTHORIZED]),
        // Search: anyone signed in, over what they may see (see search_finds_only_what_the_user_may_see).
        ("GET", format!("/api/search?q=free+version&{RANGE}"), None, [S::OK, S::OK, S::OK, S::OK, S::UNAUTHORIZED]),
        // Editing Maria's comment: only Maria may.
        ("PATCH", format!("/api/calls/c-daniel/comments/{comment_id}"), Some(patch.clone()), [S::FORBIDDEN, S::NOT_FOUND, S::OK, S::NOT_FOUND, S::UNAUTHORIZED]),
        ("GET", format!("/api/teams/crm/coaching?{RANGE}"), None, [S::FORBIDDEN, S::FORBIDDEN, S::OK, S::FORBIDDEN, S::UNAUTHORIZED]),
        ("GET", format!("/api/teams/crm/coaching/evidence?{RANGE}"), None, [S::FORBIDDEN, S::FORBIDDEN, S::OK, S::FORBIDDEN, S::UNAUTHORIZED]),
        ("GET", "/api/me".into(), None, [S::OK, S::OK, S::OK, S::OK, S::UNAUTHORIZED]),
        ("GET", "/api/sellers".into(), None, [S::OK, S::OK, S::OK, S::OK, S::UNAUTHORIZED]),
        // Another seller's call is answered exactly like a call that does not exist.
        ("GET", "/api/calls/c-nope".into(), None, [S::NOT_FOUND, S::NOT_FOUND, S::NOT_FOUND, S::NOT_FOUND, S::UNAUTHORIZED]),
        // Deleting Maria's comment: only Maria may; the last column runs last.
        ("DELETE", format!("/api/calls/c-daniel/comments/{comment_id}"), None, [S::FORBIDDEN, S::NOT_FOUND, S::NO_CONTENT, S::NOT_FOUND, S::UNAUTHORIZED]),
    ];
    let mut failures = Vec::new();
    for (method, uri, body, expected) in &matrix {
        // Run Maria last for the delete row, so the others try an existing comment.
        for i in [0usize, 1, 3, 4, 2] {
            let (status, _) = send(&f.app, method, uri, actors[i], body.clone()).await;
            if status != expected[i] {
                failures
                    .push(format!("{method} {uri} as {:?}: got {status}, want {}", actors[i], expected[i]));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The admin sees everything; the other seller's own page works for them.
    assert_eq!(send(&f.app, "GET", "/api/calls/c-rachel", Some("a-admin"), None).await.0, StatusCode::OK);
    assert_eq!(send(&f.app, "GET", "/api/calls/c-rachel", Some("s-rachel"), None).await.0, StatusCode::OK);
    assert_eq!(send(&f.app, "GET", "/api/calls/c-rachel", Some("m-kenji"), None).await.0, StatusCode::OK);
}

/// (user, role, action, call) of each audit entry, sorted (entries of one
/// millisecond may come in either order); checks that they came newest first.
fn audit_rows(entries: &Value) -> Vec<(String, String, String, String)> {
    let field = |e: &Value, k: &str| e[k].as_str().expect("a string field").to_owned();
    let entries = entries.as_array().expect("entries");
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = entries
        .iter()
        .map(|e| chrono::DateTime::parse_from_rfc3339(&field(e, "at")).expect("an RFC 3339 time"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");
    let mut rows: Vec<_> = entries
        .iter()
        .map(|e| (field(e, "user_id"), field(e, "user_role"), field(e, "action"), field(e, "call_id")))
        .collect();
    rows.sort();
    rows
}

fn row(user: &str, role: &str, action: &str, call: &str) -> (String, String, String, String) {
    (user.into(), role.into(), action.into(), call.into())
}

#[tokio::test]
async fn the_audit_trail_records_access_and_only_admins_read_it() {
    let f = fixture().await;
    assert_eq!(send(&f.app, "GET", "/api/calls/c-daniel", Some("m-maria"), None).await.0, StatusCode::OK);
    assert_eq!(
        send(&f.app, "GET", "/api/calls/c-daniel/audio", Some("m-maria"), None).await.0,
        StatusCode::OK
    );
    assert_eq!(send(&f.app, "GET", "/api/calls/c-daniel", Some("s-daniel"), None).await.0, StatusCode::OK);
    // Refused requests open nothing, so they record nothing.
    assert_eq!(
        send(&f.app, "GET", "/api/calls/c-daniel", Some("s-rachel"), None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&f.app, "GET", "/api/calls/c-daniel-2/audio", Some("s-daniel"), None).await.0,
        StatusCode::FORBIDDEN
    );

    // Server-side role check: only admins read the trail.
    use StatusCode as S;
    let uri = "/api/admin/audit";
    for (user, want) in [
        (Some("s-daniel"), S::FORBIDDEN),
        (Some("m-maria"), S::FORBIDDEN),
        (Some("m-kenji"), S::FORBIDDEN),
        (None, S::UNAUTHORIZED),
    ] {
        let (status, body) = send(&f.app, "GET", uri, user, None).await;
        assert_eq!(status, want, "{user:?}");
        assert!(body.as_array().is_none(), "{user:?} got entries: {body}");
    }
    let (status, all) = send(&f.app, "GET", uri, Some("a-admin"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        audit_rows(&all),
        [
            row("m-maria", "manager", "open_call", "c-daniel"),
            row("m-maria", "manager", "play_audio", "c-daniel"),
            row("s-daniel", "seller", "open_call", "c-daniel"),
        ]
    );
    assert!(
        all.as_array().expect("entries").iter().all(|e| e["seller_id"] == "s-daniel" && e["at"].is_string())
    );
    let (_, maria) =
        send(&f.app, "GET", "/api/admin/audit?user=m-maria&limit=1", Some("a-admin"), None).await;
    assert_eq!(audit_rows(&maria).len(), 1, "limit=1: {maria}");
    assert_eq!(audit_rows(&maria)[0].0, "m-maria");
    let today = Utc::now().date_naive();
    let window = format!("/api/admin/audit?call=c-daniel&from={today}&to={today}");
    assert_eq!(audit_rows(&send(&f.app, "GET", &window, Some("a-admin"), None).await.1).len(), 3);
    let (_, none) = send(&f.app, "GET", "/api/admin/audit?call=c-rachel", Some("a-admin"), None).await;
    assert_eq!(none, json!([]));
    for bad in ["from=yesterday", "limit=0", "limit=100000", "from=2026-11-30&to=2026-11-01"] {
        let (status, _) =
            send(&f.app, "GET", &format!("/api/admin/audit?{bad}"), Some("a-admin"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn erasure_requires_an_admin_is_idempotent_and_is_audited() {
    let f = fixture().await;
    let recording = f._audio.path().join("c-daniel.mp3");
    use StatusCode as S;
    for uri in ["/api/admin/calls/c-daniel", "/api/admin/sellers/s-daniel"] {
        for (user, want) in [
            (Some("s-daniel"), S::FORBIDDEN),
            (Some("m-maria"), S::FORBIDDEN),
            (Some("m-kenji"), S::FORBIDDEN),
            (None, S::UNAUTHORIZED),
        ] {
            assert_eq!(send(&f.app, "DELETE", uri, user, None).await.0, want, "DELETE {uri} as {user:?}");
        }
    }
    assert!(f.store.call("c-daniel").await.expect("read").is_some(), "refused requests erase nothing");
    assert!(recording.exists());

    let (status, report) = send(&f.app, "DELETE", "/api/admin/calls/c-daniel", Some("a-admin"), None).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["calls"], json!(["c-daniel"]));
    assert!(report["rows"]["utterances"].as_u64().is_some_and(|n| n > 0), "{report}");
    assert_eq!(report["recordings_deleted"], 1);
    assert!(!recording.exists(), "the local recording is deleted");
    assert!(f.store.call("c-daniel").await.expect("read").is_none());
    assert_eq!(
        send(&f.app, "GET", "/api/calls/c-daniel", Some("a-admin"), None).await.0,
        StatusCode::NOT_FOUND
    );
    // Idempotent: again, nothing to erase, the same status.
    let (status, again) = send(&f.app, "DELETE", "/api/admin/calls/c-daniel", Some("a-admin"), None).await;
    assert_eq!((status, &again["calls"], &again["rows"]), (StatusCode::OK, &json!([]), &json!({})));

    let (status, seller) = send(&f.app, "DELETE", "/api/admin/sellers/s-daniel", Some("a-admin"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seller["calls"], json!(["c-daniel-2"]));
    assert_eq!(seller["recordings_kept"].as_array().map(Vec::len), Some(1), "outside the folder: {seller}");
    assert!(f.store.call("c-rachel").await.expect("read").is_some(), "another seller's call stays");
    let (status, _) = send(&f.app, "DELETE", "/api/admin/sellers/s-daniel", Some("a-admin"), None).await;
    assert_eq!(status, StatusCode::OK);

    let (_, trail) = send(&f.app, "GET", "/api/admin/audit", Some("a-admin"), None).await;
    let rows = audit_rows(&trail);
    let erasures: Vec<_> = rows.iter().filter(|r| r.2.starts_with("erase")).cloned().collect();
    assert_eq!(
        erasures,
        [
            row("a-admin", "admin", "erase_call", "c-daniel"),
            row("a-admin", "admin", "erase_call", "c-daniel"),
            row("a-admin", "admin", "erase_seller", ""),
            row("a-admin", "admin", "erase_seller", ""),
        ]
    );
}

#[tokio::test]
async fn a_failed_audit_write_is_counted_and_the_page_still_opens() {
    // An app on a database file whose audit table is gone.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("callscope.db");
    let store = SqliteStore::open(&path).expect("open");
    store.migrate().await.expect("migrate");
    let analyzer = analyzer();
    let call = analyzer.analyze_transcript(
        call_meta("c-1", "s-daniel", "crm", 2),
        transcript("dev-01-crm-discovery"),
        None,
    );
    store.write(&[call]).await.expect("write");
    rusqlite::Connection::open(&path).expect("open").execute_batch("DROP TABLE audit_log").expect("drop");
    let metrics = ApiMetrics::new();
    let app = app(Arc::new(plain_state(Arc::new(store), metrics.clone())));
    let (status, call) = send(&app, "GET", "/api/calls/c-1", Some("m-maria"), None).await;
    assert_eq!(status, StatusCode::OK, "the page opens: {call}");
    assert_eq!(call["summary"]["call_id"], "c-1");
    assert_eq!(metrics.audit_write_failures.with_label_values(&["open_call", "schema_mismatch"]).get(), 1);
    let text = metrics.render();
    assert!(
        text.contains(
            "callscope_api_audit_write_failures_total{action=\"open_call\",error=\"schema_mismatch\"} 1"
        ),
        "{text}"
    );
}

/// Comments on the transcript: anchored to a line or to words, checked
/// against the call; replies join their thread and take its anchor; the
/// author edits and deletes their own, nobody else's.
#[tokio::test]
async fn comments_are_anchored_threaded_and_edited_by_their_author() {
    let f = fixture().await;
    let (_, call) = send(&f.app, "GET", "/api/calls/c-rachel", Some("m-kenji"), None).await;
    let timeline = call["signals"]["sentiment"]["timeline"].as_array().expect("timeline").clone();
    assert!(timeline.len() >= 3);
    let (s2, e2) = (timeline[2]["start"].as_f64().expect("start"), timeline[2]["end"].as_f64().expect("end"));
    let post = |who: &'static str, body: Value| {
        let app = f.app.clone();
        async move { send(&app, "POST", "/api/calls/c-rachel/comments", Some(who), Some(body)).await }
    };
    // A line: its times come with it.
    let (status, line) = post("m-kenji", json!({"text": "Good question", "turn": 2})).await;
    assert_eq!(status, StatusCode::CREATED, "{line}");
    assert_eq!(
        (line["turn"].as_u64(), line["start_s"].as_f64(), line["end_s"].as_f64()),
        (Some(2), Some(s2), Some(e2))
    );
    assert_eq!(line["at_s"].as_f64(), Some(s2));
    assert_eq!(line["author_name"], "Kenji");
    // Words: the line they start in.
    let (w0, w1) = (s2 + (e2 - s2) * 0.25, s2 + (e2 - s2) * 0.5);
    let (status, words) = post("m-kenji", json!({"text": "These words", "start_s": w0, "end_s": w1})).await;
    assert_eq!(status, StatusCode::CREATED, "{words}");
    assert_eq!(
        (words["turn"].as_u64(), words["start_s"].as_f64(), words["end_s"].as_f64()),
        (Some(2), Some(w0), Some(w1))
    );
    // Anchors that do not fit the call are refused.
    for bad in [
        json!({"text": "x", "turn": timeline.len()}),
        json!({"text": "x", "start_s": w1, "end_s": w0}),
        json!({"text": "x", "start_s": w0}),
        json!({"text": "x", "turn": 0, "start_s": s2, "end_s": e2}),
        json!({"text": "x", "start_s": 99999.0, "end_s": 99999.5}),
        json!({"text": "x", "parent_id": "cm-unknown"}),
    ] {
        let (status, err) = post("m-kenji", bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} -> {err}");
    }
    // A reply from the seller, and a reply to that reply: both in the line's thread, on its line.
    let line_id = line["comment_id"].as_str().expect("id").to_owned();
    let (status, r1) = post("s-rachel", json!({"text": "Thanks", "parent_id": line_id})).await;
    assert_eq!(status, StatusCode::CREATED, "{r1}");
    assert_eq!((r1["parent_id"].as_str(), r1["turn"].as_u64()), (Some(line_id.as_str()), Some(2)));
    let (_, r2) = post("m-kenji", json!({"text": "Keep it up", "parent_id": r1["comment_id"]})).await;
    assert_eq!(r2["parent_id"].as_str(), Some(line_id.as_str()), "threads are one level deep");
    // A comment of another call is no parent.
    let (_, other) =
        send(&f.app, "POST", "/api/calls/c-daniel/comments", Some("m-maria"), Some(json!({"text": "x"})))
            .await;
    let (status, _) = post("m-kenji", json!({"text": "x", "parent_id": other["comment_id"]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Edit: the author only; the anchor stays, the edit time is set.
    let uri = format!("/api/calls/c-rachel/comments/{line_id}");
    let (status, _) = send(&f.app, "PATCH", &uri, Some("s-rachel"), Some(json!({"text": "mine now"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, edited) =
        send(&f.app, "PATCH", &uri, Some("m-kenji"), Some(json!({"text": "Great question"}))).await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!((edited["text"].as_str(), edited["turn"].as_u64()), (Some("Great question"), Some(2)));
    assert!(edited["edited_at"].is_string(), "{edited}");
    let (status, _) = send(&f.app, "PATCH", &uri, Some("m-kenji"), Some(json!({"text": "  "}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, list) = send(&f.app, "GET", "/api/calls/c-rachel/comments", Some("s-rachel"), None).await;
    let texts: Vec<&str> = list.as_array().expect("list").iter().filter_map(|c| c["text"].as_str()).collect();
    assert_eq!(texts, ["Great question", "These words", "Thanks", "Keep it up"]);
    // Delete: the seller's own reply, by the seller.
    let r1_uri = format!("/api/calls/c-rachel/comments/{}", r1["comment_id"].as_str().expect("id"));
    assert_eq!(send(&f.app, "DELETE", &r1_uri, Some("m-kenji"), None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(send(&f.app, "DELETE", &r1_uri, Some("s-rachel"), None).await.0, StatusCode::NO_CONTENT);
}

/// Shared calls and clips: they open for the sellers they were shared with
/// (by name, or every seller of the team), never for another team's seller;
/// a revoked share opens for nobody; nothing else of the call's seller opens.
#[tokio::test]
async fn shared_calls_open_for_their_team_only() {
    let f = fixture().await;
    let status = |uri: &'static str, who: &'static str| {
        let app = f.app.clone();
        async move { send(&app, "GET", uri, Some(who), None).await.0 }
    };
    // Before any share: Sofia (Daniel's team) and Rachel (another team) see nothing of Daniel's.
    assert_eq!(status("/api/calls/c-daniel", "s-sofia").await, StatusCode::NOT_FOUND);
    // Maria shares a clip of c-daniel with her whole team.
    let (code, share) = send(
        &f.app,
        "POST",
        "/api/calls/c-daniel/shares",
        Some("m-maria"),
        Some(json!({"team": true, "start_s": 2.0, "end_s": 9.5, "note": "Listen to the opening"})),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{share}");
    assert_eq!(share["recipients"], json!(["team:crm"]));
    assert_eq!(
        (share["created_by_name"].as_str(), share["seller_name"].as_str()),
        (Some("Maria"), Some("Daniel"))
    );
    let share_id = share["share_id"].as_str().expect("id").to_owned();
    // Sofia: the call and its recording open, marked as shared with the clip.
    let (code, call) = send(&f.app, "GET", "/api/calls/c-daniel", Some("s-sofia"), None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(call["access"], "shared");
    assert_eq!(
        (call["shared"][0]["start_s"].as_f64(), call["shared"][0]["end_s"].as_f64()),
        (Some(2.0), Some(9.5))
    );
    // Only the clip (with its 0.25 s margin): its words, and a recording silent outside it.
    let words = call["transcript"]["words"].as_array().expect("words");
    assert!(!words.is_empty(), "the clip's words");
    for w in words {
        let (s, e) = (w["start"].as_f64().expect("start"), w["end"].as_f64().expect("end"));
        assert!(s >= 1.75 && e <= 9.75, "a word at {s}-{e} s, outside the clip");
    }
    assert!(
        call["signals"]["questions"]
            .as_array()
            .expect("questions")
            .iter()
            .all(|q| q["start"].as_f64() >= Some(1.75))
    );
    assert_eq!(call["signals"]["customer_keywords"], json!([]), "the whole call's keywords");
    let (_, own) = send(&f.app, "GET", "/api/calls/c-daniel", Some("s-daniel"), None).await;
    assert!(
        own["transcript"]["words"].as_array().expect("words").len() > words.len() * 3,
        "Daniel's is whole"
    );
    std::fs::write(f._audio.path().join("c-daniel.mp3"), tone_wav(20.0)).expect("a real recording");
    let req = Request::builder()
        .uri("/api/calls/c-daniel/audio")
        .header(header::AUTHORIZATION, format!("Bearer {}", token("s-sofia", "https://idp.test", 600)))
        .body(Body::empty())
        .expect("req");
    let res = f.app.clone().oneshot(req).await.expect("res");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "audio/wav");
    let body = res.into_body().collect().await.expect("body").to_bytes();
    let mut wav = hound::WavReader::new(std::io::Cursor::new(body.to_vec())).expect("a WAV");
    let samples: Vec<i16> = wav.samples::<i16>().map(|s| s.expect("sample")).collect();
    let duration = own["summary"]["duration_s"].as_f64().expect("duration");
    assert_eq!(samples.len(), (duration * 16_000.0).round() as usize, "as long as the call: its times hold");
    let at = |t: f64| samples[(t * 16_000.0) as usize];
    assert_eq!((at(1.0), at(12.0), at(19.0)), (0, 0, 0), "silent outside the clip");
    assert!((i32::from(at(5.0)) - 8000).abs() < 100, "the clip plays: {}", at(5.0));
    // Daniel's own: the file as stored.
    let (code, _) = send(&f.app, "GET", "/api/calls/c-daniel/audio", Some("s-daniel"), None).await;
    assert_eq!(code, StatusCode::OK);
    let (_, list) = send(&f.app, "GET", "/api/shared", Some("s-sofia"), None).await;
    assert_eq!(list[0]["share_id"].as_str(), Some(share_id.as_str()));
    assert_eq!(list[0]["call"]["call_id"], "c-daniel");
    assert_eq!(list[0]["note"], "Listen to the opening");
    // ... but nothing else: not the comments, not Daniel's page, not his other calls.
    assert_eq!(status("/api/calls/c-daniel/comments", "s-sofia").await, StatusCode::NOT_FOUND);
    let (code, _) =
        send(&f.app, "POST", "/api/calls/c-daniel/comments", Some("s-sofia"), Some(json!({"text": "hi"})))
            .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(status("/api/calls/c-daniel/shares", "s-sofia").await, StatusCode::NOT_FOUND);
    assert_eq!(status("/api/calls/c-daniel-2", "s-sofia").await, StatusCode::NOT_FOUND);
    assert_eq!(status("/api/sellers/s-daniel/insights", "s-sofia").await, StatusCode::FORBIDDEN);
    // Rachel, of another team: nothing, exactly like a call that does not exist.
    assert_eq!(status("/api/calls/c-daniel", "s-rachel").await, StatusCode::NOT_FOUND);
    assert_eq!(status("/api/calls/c-daniel/audio", "s-rachel").await, StatusCode::NOT_FOUND);
    let (_, list) = send(&f.app, "GET", "/api/shared", Some("s-rachel"), None).await;
    assert_eq!(list, json!([]));
    // The call's own seller sees it as their own.
    let (_, own) = send(&f.app, "GET", "/api/calls/c-daniel", Some("s-daniel"), None).await;
    assert_eq!(own["access"], "own");
    // Who may share what, with whom.
    let share_with = |who: &'static str, call: &'static str, body: Value| {
        let app = f.app.clone();
        async move { send(&app, "POST", &format!("/api/calls/{call}/shares"), Some(who), Some(body)).await.0 }
    };
    assert_eq!(
        share_with("m-maria", "c-daniel", json!({"sellers": ["s-rachel"]})).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(share_with("m-maria", "c-daniel", json!({"sellers": []})).await, StatusCode::BAD_REQUEST);
    let reversed = json!({"team": true, "start_s": 9.0, "end_s": 2.0});
    assert_eq!(share_with("m-maria", "c-daniel", reversed).await, StatusCode::BAD_REQUEST);
    assert_eq!(share_with("m-kenji", "c-daniel", json!({"team": true})).await, StatusCode::NOT_FOUND);
    assert_eq!(share_with("s-daniel", "c-daniel", json!({"team": true})).await, StatusCode::FORBIDDEN);
    // Kenji shares Rachel's call with Rachel's team: Sofia (crm) still cannot open it.
    assert_eq!(share_with("m-kenji", "c-rachel", json!({"team": true})).await, StatusCode::CREATED);
    assert_eq!(status("/api/calls/c-rachel", "s-sofia").await, StatusCode::NOT_FOUND);
    // Revoked: only by who shared it (or an admin); then it opens for nobody.
    let uri = format!("/api/calls/c-daniel/shares/{share_id}");
    assert_eq!(send(&f.app, "DELETE", &uri, Some("s-daniel"), None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(send(&f.app, "DELETE", &uri, Some("m-kenji"), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(send(&f.app, "DELETE", &uri, Some("m-maria"), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(status("/api/calls/c-daniel", "s-sofia").await, StatusCode::NOT_FOUND);
    assert_eq!(status("/api/calls/c-daniel/audio", "s-sofia").await, StatusCode::NOT_FOUND);
    // Shared with Sofia by name: Sofia only.
    assert_eq!(share_with("m-maria", "c-daniel", json!({"sellers": ["s-sofia"]})).await, StatusCode::CREATED);
    assert_eq!(status("/api/calls/c-daniel", "s-sofia").await, StatusCode::OK);
    assert_eq!(status("/api/calls/c-daniel", "s-rachel").await, StatusCode::NOT_FOUND);
}

/// The call library (`GET /api/shared`): shares filed in named collections;
/// a seller's library holds what was shared with them, a manager's every
/// share of their teams' calls, an admin's everything; never another team's.
#[tokio::test]
async fn the_call_library_groups_shares_in_collections_for_those_who_may_see_them() {
    let f = fixture().await;
    let share = |who: &'static str, call: &'static str, body: Value| {
        let app = f.app.clone();
        async move { send(&app, "POST", &format!("/api/calls/{call}/shares"), Some(who), Some(body)).await }
    };
    let (code, crm) = share(
        "m-maria",
        "c-daniel",
        json!({"sellers": ["s-sofia"], "start_s": 1.0, "end_s": 4.0, "collection": "  Great discovery questions "}),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{crm}");
    assert_eq!(crm["collection"], "Great discovery questions", "trimmed");
    let (code, security) =
        share("m-kenji", "c-rachel", json!({"team": true, "collection": "Handling objections"})).await;
    assert_eq!(code, StatusCode::CREATED, "{security}");
    // Too long, or two lines: refused.
    let long = json!({"team": true, "collection": "x".repeat(81)});
    assert_eq!(share("m-maria", "c-daniel", long).await.0, StatusCode::BAD_REQUEST);
    let lines = json!({"team": true, "collection": "a\nb"});
    assert_eq!(share("m-maria", "c-daniel", lines).await.0, StatusCode::BAD_REQUEST);
    let library = |who: &'static str| {
        let app = f.app.clone();
        async move {
            let (code, list) = send(&app, "GET", "/api/shared", Some(who), None).await;
            assert_eq!(code, StatusCode::OK);
            list.as_array()
                .expect("list")
                .iter()
                .map(|s| {
                    (
                        s["call_id"].as_str().expect("call").to_owned(),
                        s["collection"].as_str().expect("name").to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let crm_item = || ("c-daniel".to_owned(), "Great discovery questions".to_owned());
    let security_item = || ("c-rachel".to_owned(), "Handling objections".to_owned());
    assert_eq!(library("s-sofia").await, [crm_item()], "shared with her by name");
    assert_eq!(library("s-daniel").await, [], "not shared with Daniel, though it is his call");
    assert_eq!(library("m-maria").await, [crm_item()], "her team's shares, not Kenji's");
    assert_eq!(library("s-rachel").await, [security_item()], "shared with her team");
    assert_eq!(library("m-kenji").await, [security_item()]);
    assert_eq!(library("a-admin").await, [security_item(), crm_item()], "every share, newest first");
}

/// `seconds` of a steady level of 8000 (16 kHz mono 16-bit WAV).
fn tone_wav(seconds: f64) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::new(&mut out, spec).expect("wav");
    for _ in 0..(seconds * 16_000.0) as usize {
        w.write_sample(8000i16).expect("sample");
    }
    w.finalize().expect("finalize");
    out.into_inner()
}

#[tokio::test]
async fn picker_lists_only_visible_sellers() {
    let f = fixture().await;
    let ids = |v: Value| -> Vec<String> {
        v.as_array().expect("array").iter().map(|u| u["id"].as_str().expect("id").to_owned()).collect()
    };
    assert_eq!(
        ids(send(&f.app, "GET", "/api/sellers", Some("m-maria"), None).await.1),
        ["s-daniel", "s-sofia"]
    );
    assert_eq!(ids(send(&f.app, "GET", "/api/sellers", Some("s-rachel"), None).await.1), ["s-rachel"]);
    assert_eq!(
        ids(send(&f.app, "GET", "/api/sellers", Some("a-admin"), None).await.1),
        ["s-daniel", "s-sofia", "s-rachel"]
    );
}

#[tokio::test]
async fn tokens_are_verified() {
    let f = fixture().await;
    let call = |auth: String| {
        let app = f.app.clone();
        async move {
            let req = Request::builder()
                .uri("/api/me")
                .header(header::AUTHORIZATION, auth)
                .body(Body::empty())
                .expect("req");
            app.oneshot(req).await.expect("res").status()
        }
    };
    assert_eq!(call(format!("Bearer {}", token("s-daniel", "https://idp.test", 600))).await, StatusCode::OK);
    assert_eq!(
        call(format!("Bearer {}", token("s-daniel", "https://evil.test", 600))).await,
        StatusCode::UNAUTHORIZED,
        "wrong issuer"
    );
    assert_eq!(
        call(format!("Bearer {}", token("s-daniel", "https://idp.test", -600))).await,
        StatusCode::UNAUTHORIZED,
        "expired"
    );
    assert_eq!(
        call(format!("Bearer {}", token("nobody", "https://idp.test", 600))).await,
        StatusCode::UNAUTHORIZED,
        "unknown user"
    );
    assert_eq!(call("Bearer not.a.jwt".into()).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn dev_login_sets_a_session_cookie() {
    let f = fixture().await;
    let req = Request::builder()
        .method("POST")
        .uri("/api/auth/dev-login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"user_id":"s-daniel"}"#))
        .expect("req");
    let res = f.app.clone().oneshot(req).await.expect("res");
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()[header::SET_COOKIE].to_str().expect("ascii").to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP: a Secure cookie would never come back: {cookie}");
    let session = cookie.split(';').next().expect("pair").to_owned();
    let req = Request::builder()
        .uri("/api/calls/c-rachel")
        .header(header::COOKIE, &session)
        .body(Body::empty())
        .expect("req");
    assert_eq!(f.app.clone().oneshot(req).await.expect("res").status(), StatusCode::NOT_FOUND);
    let req = Request::builder()
        .uri("/api/calls/c-daniel")
        .header(header::COOKIE, &session)
        .body(Body::empty())
        .expect("req");
    assert_eq!(f.app.clone().oneshot(req).await.expect("res").status(), StatusCode::OK);
    // A forged cookie is nobody.
    let req = Request::builder()
        .uri("/api/me")
        .header(header::COOKIE, "callscope_session=forged")
        .body(Body::empty())
        .expect("req");
    assert_eq!(f.app.clone().oneshot(req).await.expect("res").status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn audio_supports_ranges_and_stays_in_its_folder() {
    let f = fixture().await;
    let get = |uri: &str, range: Option<&str>| {
        let mut req = Request::builder()
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", token("s-daniel", "https://idp.test", 600)));
        if let Some(r) = range {
            req = req.header(header::RANGE, r);
        }
        f.app.clone().oneshot(req.body(Body::empty()).expect("req"))
    };
    let res = get("/api/calls/c-daniel/audio", Some("bytes=100-199")).await.expect("res");
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.headers()[header::CONTENT_RANGE], "bytes 100-199/1000");
    assert_eq!(res.headers()[header::CONTENT_TYPE], "audio/mpeg");
    let body = res.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(body.len(), 100);
    assert_eq!(body[0], 100, "the byte at offset 100");
    let res = get("/api/calls/c-daniel/audio", Some("bytes=5000-")).await.expect("res");
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let res = get("/api/calls/c-daniel/audio", None).await.expect("res");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_LENGTH], "1000");
    assert_eq!(res.headers()[header::ACCEPT_RANGES], "bytes");
    let body = res.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(body.to_vec(), std::fs::read(f._audio.path().join("c-daniel.mp3")).expect("file"));
    let res = get("/api/calls/c-daniel/audio", Some("bytes=-10")).await.expect("res");
    assert_eq!(res.headers()[header::CONTENT_RANGE], "bytes 990-999/1000");
    // A recording outside the audio folder is never served, even to its seller.
    assert_eq!(get("/api/calls/c-daniel-2/audio", None).await.expect("res").status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn long_recordings_stream_in_chunks_byte_for_byte() {
    let f = fixture().await;
    // Several streaming chunks long, and not a multiple of a chunk.
    let bytes: Vec<u8> = (0..300_001u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(f._audio.path().join("c-daniel.mp3"), &bytes).expect("rewrite the recording");
    let get = |range: Option<&str>| {
        let mut req = Request::builder()
            .uri("/api/calls/c-daniel/audio")
            .header(header::AUTHORIZATION, format!("Bearer {}", token("s-daniel", "https://idp.test", 600)));
        if let Some(r) = range {
            req = req.header(header::RANGE, r);
        }
        f.app.clone().oneshot(req.body(Body::empty()).expect("req"))
    };
    let whole = get(None).await.expect("res").into_body().collect().await.expect("body").to_bytes();
    assert!(whole == bytes, "the whole recording, byte for byte");
    // A range across chunk boundaries.
    let res = get(Some("bytes=65000-200000")).await.expect("res");
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.headers()[header::CONTENT_LENGTH], "135001");
    let part = res.into_body().collect().await.expect("body").to_bytes();
    assert!(part == bytes[65_000..=200_000], "the range, byte for byte");
}

#[tokio::test]
async fn insights_match_the_store() {
    let f = fixture().await;
    let (status, v) =
        send(&f.app, "GET", &format!("/api/sellers/s-daniel/insights?{RANGE}"), Some("m-maria"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["summary"]["calls"], 2);
    // c-daniel-2's speakers are uncertain: a call, but not in the KPIs.
    assert_eq!(v["summary"]["low_confidence_calls"], 1);
    let (_, call) = send(&f.app, "GET", "/api/calls/c-daniel", Some("m-maria"), None).await;
    assert!(call["summary"]["talk_ratio"].is_f64(), "{call}");
    assert_eq!(v["summary"]["avg_talk_ratio"], call["summary"]["talk_ratio"]);
    let (_, flagged) = send(&f.app, "GET", "/api/calls/c-daniel-2", Some("m-maria"), None).await;
    assert_eq!(flagged["attribution"]["low_confidence"], true, "{flagged}");
    assert_eq!(v["seller"]["chat_url"], "https://chat.example.com/?to=daniel@example.com");
    assert!(v["trends"].as_array().expect("array").is_empty());
    assert!(v["trends_note"].as_str().expect("note").contains("Not enough calls"), "{}", v["trends_note"]);
    // The same note as data, for the page to say in its language.
    let note = &v["trends_note_message"];
    assert_eq!(note["kind"], "trends.too_few_calls", "{note}");
    assert_eq!(note["values"]["calls_now"], v["summary"]["calls"]);
    assert_eq!(note["values"]["calls_before"], v["previous"]["calls"]);
    assert_eq!(note["values"]["min_calls"], 3);
    // Competitors: what customers said, by default; everyone's on request.
    let store_terms = f
        .store
        .term_counts(
            "s-daniel",
            callscope_store::DateRange::new(day(2026, 11, 1), day(2026, 11, 30)),
            callscope_model::TrackerKind::Competitor,
        )
        .await
        .expect("terms");
    let said = |v: &Value| -> Vec<(String, u64)> {
        v["competitors"]
            .as_array()
            .expect("array")
            .iter()
            .map(|c| {
                (c["term"].as_str().expect("term").to_owned(), c["by_customer"].as_u64().expect("count"))
            })
            .collect()
    };
    let mut by_customer: Vec<(String, u64)> =
        store_terms.iter().filter(|t| t.by_customer > 0).map(|t| (t.term.clone(), t.by_customer)).collect();
    by_customer.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    assert!(!by_customer.is_empty());
    assert_eq!(said(&v), by_customer);
    assert_eq!(v["competitors_said_by"], "customer");
    let (_, all) = send(
        &f.app,
        "GET",
        &format!("/api/sellers/s-daniel/insights?{RANGE}&competitors_said_by=anyone"),
        Some("m-maria"),
        None,
    )
    .await;
    assert_eq!(all["competitors_said_by"], "anyone");
    let all_terms: Vec<String> = said(&all).into_iter().map(|t| t.0).collect();
    assert_eq!(all_terms, store_terms.iter().map(|t| t.term.clone()).collect::<Vec<_>>());
    assert!(
        store_terms.iter().any(|t| t.by_customer < t.mentions),
        "the fixture has seller mentions of competitors: {store_terms:?}"
    );
    // The history filtered to calls where the customer said the term.
    let top = &store_terms.iter().find(|t| t.by_customer > 0).expect("a customer mention").term;
    let (_, page) = send(
        &f.app,
        "GET",
        &format!("/api/sellers/s-daniel/calls?{RANGE}&term={top}&said_by=customer"),
        Some("m-maria"),
        None,
    )
    .await;
    let expected = store_terms.iter().find(|t| &t.term == top).expect("term").customer_calls;
    assert_eq!(page["total"], expected);
    assert!(!v["customer_keywords"].as_array().expect("array").is_empty());
    assert_eq!(v["team"]["overall"]["calls"], 2);
    // Names, not ids: the top performers, a call's seller, a comment's author.
    let names = v["team"]["top_performer_names"].as_array().expect("names").clone();
    assert_eq!(names.len(), v["team"]["top_performers"].as_array().expect("ids").len());
    assert_eq!(call["seller_name"], "Daniel");
    let (_, posted) =
        send(&f.app, "POST", "/api/calls/c-daniel/comments", Some("m-maria"), Some(json!({"text": "Nice"})))
            .await;
    assert_eq!(posted["author_name"], "Maria");
    let (_, listed) = send(&f.app, "GET", "/api/calls/c-daniel/comments", Some("s-daniel"), None).await;
    assert_eq!(listed[0]["author_name"], "Maria");
    // The seller's own page: their coaching areas, and no chat link to themselves.
    let (_, own) =
        send(&f.app, "GET", &format!("/api/sellers/s-daniel/insights?{RANGE}"), Some("s-daniel"), None).await;
    assert_eq!(own["coaching"]["seller_id"], "s-daniel", "{}", own["coaching"]);
    assert_eq!(own["coaching"], v["coaching"], "the manager sees the same areas");
    assert!(own["seller"]["chat_url"].is_null(), "no chat link to oneself");

    let (status, err) =
        send(&f.app, "GET", "/api/sellers/s-daniel/insights?from=2026-13-01", Some("m-maria"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["error"].as_str().expect("error").contains("from: expected YYYY-MM-DD"), "{err}");
    assert_eq!(send(&f.app, "GET", "/api/calls/nope", Some("a-admin"), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        send(&f.app, "GET", "/api/sellers/s-nobody/insights", Some("a-admin"), None).await.0,
        StatusCode::NOT_FOUND
    );
}

/// The page's translation catalogues: listed, served to anyone (the login
/// page is translated too), unknown languages a 404.
#[tokio::test]
async fn translation_catalogues_are_served() {
    let f = fixture().await;
    let (status, languages) = send(&f.app, "GET", "/i18n/languages.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(languages, json!({"en": "English", "fi": "suomi"}));
    for code in ["en", "fi"] {
        let (status, catalogue) = send(&f.app, "GET", &format!("/i18n/{code}.json"), None, None).await;
        assert_eq!(status, StatusCode::OK, "{code}");
        assert_eq!(catalogue["language.name"], languages[code]);
        assert!(catalogue["trend.rose"].is_string(), "{code}: the API's sentences are keys");
    }
    for missing in ["/i18n/sv.json", "/i18n/en", "/i18n/..%2Fapp.js"] {
        let req = Request::builder().uri(missing).body(Body::empty()).expect("req");
        let res = f.app.clone().oneshot(req).await.expect("res");
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{missing}");
    }
}

#[tokio::test]
async fn openapi_documents_every_api_route() {
    let f = fixture().await;
    let (status, spec) = send(&f.app, "GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let paths = spec["paths"].as_object().expect("paths");
    for route in [
        "/api/auth/dev-users",
        "/api/auth/dev-login",
        "/api/auth/logout",
        "/api/me",
        "/api/sellers",
        "/api/sellers/{seller_id}/insights",
        "/api/sellers/{seller_id}/calls",
        "/api/sellers/{seller_id}/comments",
        "/api/teams/{team_id}/coaching",
        "/api/teams/{team_id}/coaching/evidence",
        "/api/calls/{call_id}",
        "/api/calls/{call_id}/audio",
        "/api/calls/{call_id}/comments",
        "/api/calls/{call_id}/comments/{comment_id}",
        "/api/admin/audit",
        "/api/admin/calls/{call_id}",
        "/api/admin/sellers/{seller_id}",
        "/api/calls/{call_id}/shares",
        "/api/calls/{call_id}/shares/{share_id}",
        "/api/shared",
        "/api/search",
    ] {
        assert!(paths.contains_key(route), "openapi.json lacks {route}");
    }
    assert_eq!(paths.len(), 21, "a route in openapi.json that the router does not have?");
}

async fn status_with(app: &axum::Router, uri: &str, auth: Option<String>) -> StatusCode {
    let mut req = Request::builder().uri(uri);
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    app.clone().oneshot(req.body(Body::empty()).expect("req")).await.expect("res").status()
}

fn hs256_token(claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(SECRET))
        .expect("token")
}

#[tokio::test]
async fn configured_issuer_and_audience_are_required_claims() {
    let f = fixture().await;
    let exp = Utc::now().timestamp() + 600;
    let cases = [
        (
            json!({ "sub": "s-daniel", "iss": "https://idp.test", "aud": "callscope", "exp": exp }),
            StatusCode::OK,
        ),
        (json!({ "sub": "s-daniel", "aud": "callscope", "exp": exp }), StatusCode::UNAUTHORIZED),
        (json!({ "sub": "s-daniel", "iss": "https://idp.test", "exp": exp }), StatusCode::UNAUTHORIZED),
        (
            json!({ "sub": "s-daniel", "iss": "https://idp.test", "aud": "other-app", "exp": exp }),
            StatusCode::UNAUTHORIZED,
        ),
        (
            json!({ "sub": "s-daniel", "iss": "https://idp.test", "aud": "callscope" }),
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (claims, want) in cases {
        let got = status_with(&f.app, "/api/me", Some(format!("Bearer {}", hs256_token(&claims)))).await;
        assert_eq!(got, want, "{claims}");
    }
}

#[test]
fn weak_hs256_secrets_are_refused() {
    let err = TokenKeys::hs256(b"change-me").expect_err("placeholder").to_string();
    assert!(err.contains("placeholder"), "{err}");
    let err =
        TokenKeys::hs256(b"CHANGE_ME-please-0123456789abcdefghij").expect_err("placeholder").to_string();
    assert!(err.contains("placeholder"), "{err}");
    let err = TokenKeys::hs256(b"0123456789abcdef0123456789abcde").expect_err("31 bytes").to_string();
    assert!(err.contains("31 bytes") && err.contains("at least 32"), "{err}");
    assert!(TokenKeys::hs256(b"0123456789abcdef0123456789abcdef").is_ok());
}

#[tokio::test]
async fn another_sellers_call_is_answered_like_a_missing_one() {
    let f = fixture().await;
    for suffix in ["", "/audio", "/comments"] {
        let theirs =
            send(&f.app, "GET", &format!("/api/calls/c-daniel{suffix}"), Some("s-rachel"), None).await;
        let missing =
            send(&f.app, "GET", &format!("/api/calls/c-nobody{suffix}"), Some("s-rachel"), None).await;
        assert_eq!(theirs.0, StatusCode::NOT_FOUND, "{suffix}");
        assert_eq!(missing.0, StatusCode::NOT_FOUND, "{suffix}");
        // The same message, but for the id the caller sent.
        assert_eq!(theirs.1["error"], "call c-daniel not found");
        assert_eq!(missing.1["error"], "call c-nobody not found");
    }
    let post = json!({"text": "hi"});
    assert_eq!(
        send(&f.app, "POST", "/api/calls/c-daniel/comments", Some("m-kenji"), Some(post)).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn team_figures_follow_the_directory_not_the_events_team() {
    let f = fixture().await;
    // Two events whose `team` disagrees with the directory: Rachel's call
    // labelled "crm" and Daniel's labelled "security".
    let analyzer = analyzer();
    let calls = vec![
        analyzer.analyze_transcript(
            call_meta("c-rachel-mislabelled", "s-rachel", "crm", 5),
            transcript("dev-02-security-renewal-unhappy"),
            None,
        ),
        analyzer.analyze_transcript(
            call_meta("c-daniel-mislabelled", "s-daniel", "security", 6),
            transcript("dev-01-crm-discovery"),
            None,
        ),
    ];
    f.store.write(&calls).await.expect("write");
    let (status, report) =
        send(&f.app, "GET", &format!("/api/teams/crm/coaching?{RANGE}"), Some("m-maria"), None).await;
    assert_eq!(status, StatusCode::OK);
    let sellers: Vec<&str> = report["sellers"]
        .as_array()
        .expect("sellers")
        .iter()
        .filter_map(|s| s["seller_id"].as_str())
        .collect();
    assert_eq!(sellers, ["s-daniel"], "{report}");
    let (_, insights) =
        send(&f.app, "GET", &format!("/api/sellers/s-daniel/insights?{RANGE}"), Some("m-maria"), None).await;
    assert_eq!(insights["team"]["overall"]["calls"], 3, "Daniel's three calls, not Rachel's");
    // Kenji leads security: Rachel's calls only, the mislabelled one included.
    let (_, report) =
        send(&f.app, "GET", &format!("/api/teams/security/coaching?{RANGE}"), Some("m-kenji"), None).await;
    let sellers: Vec<&str> = report["sellers"]
        .as_array()
        .expect("sellers")
        .iter()
        .filter_map(|s| s["seller_id"].as_str())
        .collect();
    assert_eq!(sellers, ["s-rachel"], "{report}");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let f = fixture().await;
    for (uri, auth) in
        [("/", None), ("/app.js", None), ("/api/me", None), ("/nope", None), ("/api/me", Some("s-daniel"))]
    {
        let mut req = Request::builder().uri(uri);
        if let Some(u) = auth {
            req = req.header(header::AUTHORIZATION, format!("Bearer {}", token(u, "https://idp.test", 600)));
        }
        let res = f.app.clone().oneshot(req.body(Body::empty()).expect("req")).await.expect("res");
        let h = res.headers();
        let csp = h.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{uri}: {csp}");
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{uri}: {csp}");
        assert_eq!(
            h.get(header::X_CONTENT_TYPE_OPTIONS).map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "{uri}"
        );
        assert_eq!(h.get(header::REFERRER_POLICY).map(|v| v.as_bytes()), Some(&b"no-referrer"[..]), "{uri}");
        assert_eq!(h.get(header::X_FRAME_OPTIONS).map(|v| v.as_bytes()), Some(&b"DENY"[..]), "{uri}");
        assert!(h.get(header::STRICT_TRANSPORT_SECURITY).is_none(), "plain HTTP: no HSTS");
    }
    // The page has no inline script or style element for the policy to block.
    let page = include_str!("../web/index.html");
    assert!(
        !page.contains("<script>") && !page.contains("<style") && !page.contains("javascript:"),
        "inline code"
    );
}

#[tokio::test]
async fn behind_an_https_proxy_the_cookie_is_secure() {
    let f = fixture().await;
    let login = |proto: Option<&str>| {
        let mut req = Request::builder()
            .method("POST")
            .uri("/api/auth/dev-login")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(p) = proto {
            req = req.header("x-forwarded-proto", p);
        }
        f.app.clone().oneshot(req.body(Body::from(r#"{"user_id":"s-daniel"}"#)).expect("req"))
    };
    let res = login(Some("https")).await.expect("res");
    let cookie = res.headers()[header::SET_COOKIE].to_str().expect("ascii").to_owned();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    assert_eq!(res.headers()[header::STRICT_TRANSPORT_SECURITY], "max-age=31536000");
    let res = login(Some("http")).await.expect("res");
    assert!(!res.headers()[header::SET_COOKIE].to_str().expect("ascii").contains("Secure"));
}

#[tokio::test]
async fn metrics_expose_request_durations_by_route_and_status() {
    let f = fixture().await;
    send(&f.app, "GET", "/api/calls/c-daniel", Some("s-daniel"), None).await;
    send(&f.app, "GET", "/api/calls/c-rachel", Some("s-daniel"), None).await;
    send(&f.app, "GET", "/no/such/page", None, None).await;
    let res =
        f.app.clone().oneshot(Request::builder().uri("/metrics").body(Body::empty()).expect("req")).await;
    let res = res.expect("res");
    assert_eq!(res.status(), StatusCode::OK);
    let text =
        String::from_utf8(res.into_body().collect().await.expect("body").to_bytes().to_vec()).expect("utf-8");
    for want in [
        r#"callscope_api_request_duration_seconds_count{method="GET",route="/api/calls/{call_id}",status="200"} 1"#,
        r#"callscope_api_request_duration_seconds_count{method="GET",route="/api/calls/{call_id}",status="404"} 1"#,
        r#"callscope_api_request_duration_seconds_bucket{method="GET",route="/api/calls/{call_id}",status="200",le="+Inf"} 1"#,
        r#"callscope_api_request_duration_seconds_count{method="GET",route="other",status="404"} 1"#,
        r#"callscope_api_build_info{version=""#,
    ] {
        assert!(text.contains(want), "missing {want} in\n{text}");
    }
    assert!(!text.contains("c-daniel") && !text.contains("/no/such/page"), "raw paths in labels:\n{text}");
    // Every metric the API exports is documented.
    let doc = include_str!("../../../docs/app.md");
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split_whitespace().nth(2).expect("name");
        assert!(doc.contains(&format!("`{name}`")), "{name} is not documented in docs/app.md");
    }
}

#[tokio::test]
async fn readiness_checks_the_store_and_liveness_does_not() {
    let f = fixture().await;
    assert_eq!(status_with(&f.app, "/readyz", None).await, StatusCode::OK);
    assert_eq!(status_with(&f.app, "/healthz", None).await, StatusCode::OK);
    // A store that cannot serve reads (never migrated): not ready, yet alive.
    let unmigrated = SqliteStore::in_memory().expect("store");
    let broken = app(Arc::new(plain_state(Arc::new(unmigrated), ApiMetrics::new())));
    assert_eq!(status_with(&broken, "/readyz", None).await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(status_with(&broken, "/healthz", None).await, StatusCode::OK);
}

// ---------- JWKS: a local identity provider on 127.0.0.1 ----------

/// A key pair of the test identity provider.
struct SigningKey {
    kid: String,
    algorithm: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A fresh ES256 (P-256) key.
fn es256_key(kid: &str) -> SigningKey {
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).expect("pair");
    // The public key is the uncompressed point: 0x04, x, y.
    let point = pair.public_key().as_ref();
    let jwk = json!({ "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
        "x": b64url(&point[1..33]), "y": b64url(&point[33..65]) });
    SigningKey {
        kid: kid.into(),
        algorithm: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk,
    }
}

/// The RS256 test key of `tests/data` (generated for these tests only).
fn rs256_key() -> SigningKey {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let pem = std::fs::read(data.join("jwks-test-rsa.key.pem")).expect("key");
    let jwk: Value =
        serde_json::from_slice(&std::fs::read(data.join("jwks-test-rsa.jwk.json")).expect("jwk"))
            .expect("json");
    SigningKey {
        kid: jwk["kid"].as_str().expect("kid").into(),
        algorithm: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_pem(&pem).expect("pem"),
        jwk,
    }
}

impl SigningKey {
    fn token(&self, issuer: &str, sub: &str) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        let claims =
            json!({ "sub": sub, "iss": issuer, "aud": "callscope", "exp": Utc::now().timestamp() + 600 });
        jsonwebtoken::encode(&header, &claims, &self.encoding).expect("token")
    }
}

/// An identity provider on 127.0.0.1: OIDC discovery and a JWKS whose keys
/// the test replaces, counting the JWKS fetches.
struct IdentityProvider {
    issuer: String,
    keys: Arc<std::sync::Mutex<Vec<Value>>>,
    jwks_fetches: Arc<std::sync::atomic::AtomicUsize>,
}

impl IdentityProvider {
    async fn start(keys: Vec<Value>) -> Self {
        use axum::routing::get;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let issuer = format!("http://{}", listener.local_addr().expect("addr"));
        let keys = Arc::new(std::sync::Mutex::new(keys));
        let jwks_fetches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let discovery = json!({ "issuer": issuer, "jwks_uri": format!("{issuer}/keys") });
        let (k, n) = (keys.clone(), jwks_fetches.clone());
        let (d1, d2) = (discovery.clone(), discovery);
        let router = axum::Router::new()
            .route("/.well-known/openid-configuration", get(move || async move { axum::Json(d1) }))
            // Another issuer's path serving this issuer's document: a mismatch.
            .route("/tenant/.well-known/openid-configuration", get(move || async move { axum::Json(d2) }))
            .route(
                "/keys",
                get(move || async move {
                    n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let keys = k.lock().expect("keys").clone();
                    axum::Json(json!({ "keys": keys }))
                }),
            );
        tokio::spawn(async move { axum::serve(listener, router).await });
        IdentityProvider { issuer, keys, jwks_fetches }
    }

    fn publish(&self, keys: Vec<Value>) {
        *self.keys.lock().expect("keys") = keys;
    }

    fn fetches(&self) -> usize {
        self.jwks_fetches.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn settings(&self, source: JwksSource, min_refetch_s: u64) -> JwtSettings {
        self.settings_refreshing(source, min_refetch_s, 3600).await
    }

    async fn settings_refreshing(
        &self,
        source: JwksSource,
        min_refetch_s: u64,
        refresh_s: u64,
    ) -> JwtSettings {
        let cache = JwksCache::new(JwksSettings {
            source,
            refresh: std::time::Duration::from_secs(refresh_s),
            min_refetch: std::time::Duration::from_secs(min_refetch_s),
            timeout: std::time::Duration::from_secs(10),
        })
        .await
        .expect("the provider's keys");
        JwtSettings {
            keys: TokenKeys::Jwks(cache),
            issuer: Some(self.issuer.clone()),
            audience: Some("callscope".into()),
            user_claim: "sub".into(),
        }
    }
}

#[tokio::test]
async fn jwks_by_discovery_follows_key_rotation() {
    let old = es256_key("key-1");
    let idp = IdentityProvider::start(vec![old.jwk.clone()]).await;
    let f = fixture_with(Some(idp.settings(JwksSource::Discovery(idp.issuer.clone()), 0).await)).await;
    let me = |t: String| status_with(&f.app, "/api/me", Some(format!("Bearer {t}")));
    assert_eq!(me(old.token(&idp.issuer, "s-daniel")).await, StatusCode::OK);
    assert_eq!(me(old.token("https://someone-else", "s-daniel")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(idp.fetches(), 1, "the keys are cached");

    // The provider rotates: a token with the new kid makes the API fetch again.
    let new = es256_key("key-2");
    idp.publish(vec![new.jwk.clone()]);
    assert_eq!(me(new.token(&idp.issuer, "s-daniel")).await, StatusCode::OK);
    assert_eq!(idp.fetches(), 2);
    // The withdrawn key no longer signs anyone in.
    assert_eq!(me(old.token(&idp.issuer, "s-daniel")).await, StatusCode::UNAUTHORIZED);

    // An unknown kid: fetched again, still unknown, refused.
    let stranger = es256_key("key-unknown");
    assert_eq!(me(stranger.token(&idp.issuer, "s-daniel")).await, StatusCode::UNAUTHORIZED);
    // A known kid with somebody else's signature.
    let forged = SigningKey { kid: "key-2".into(), ..es256_key("x") };
    assert_eq!(me(forged.token(&idp.issuer, "s-daniel")).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_kids_refetch_the_jwks_at_most_once_per_interval() {
    let old = es256_key("key-1");
    let idp = IdentityProvider::start(vec![old.jwk.clone()]).await;
    let f =
        fixture_with(Some(idp.settings(JwksSource::Url(format!("{}/keys", idp.issuer)), 3600).await)).await;
    let me = |t: String| status_with(&f.app, "/api/me", Some(format!("Bearer {t}")));
    let new = es256_key("key-2");
    idp.publish(vec![old.jwk.clone(), new.jwk.clone()]);
    for _ in 0..3 {
        // Within the interval, a new kid is not fetched for: refused, no request.
        assert_eq!(me(new.token(&idp.issuer, "s-daniel")).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(idp.fetches(), 1, "made-up kids must not hammer the provider");
    assert_eq!(me(old.token(&idp.issuer, "s-daniel")).await, StatusCode::OK);
}

#[tokio::test]
async fn stale_keys_are_fetched_again_and_withdrawn_keys_stop_working() {
    let old = es256_key("key-1");
    let idp = IdentityProvider::start(vec![old.jwk.clone()]).await;
    // A refresh interval of 0: the keys are stale at every token.
    let jwks = JwksSource::Url(format!("{}/keys", idp.issuer));
    let f = fixture_with(Some(idp.settings_refreshing(jwks, 0, 0).await)).await;
    let me = |t: String| status_with(&f.app, "/api/me", Some(format!("Bearer {t}")));
    assert_eq!(me(old.token(&idp.issuer, "s-daniel")).await, StatusCode::OK);
    // The provider withdraws the key; its kid is still cached, but stale.
    idp.publish(vec![es256_key("key-2").jwk]);
    assert_eq!(me(old.token(&idp.issuer, "s-daniel")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(idp.fetches(), 3, "the startup fetch and one per stale use");
}

#[tokio::test]
async fn jwks_rs256_keys_verify_and_algorithms_cannot_be_swapped() {
    let rsa = rs256_key();
    let idp = IdentityProvider::start(vec![rsa.jwk.clone(), es256_key("ec").jwk]).await;
    let f = fixture_with(Some(idp.settings(JwksSource::Url(format!("{}/keys", idp.issuer)), 0).await)).await;
    let me = |t: String| status_with(&f.app, "/api/me", Some(format!("Bearer {t}")));
    assert_eq!(me(rsa.token(&idp.issuer, "m-maria")).await, StatusCode::OK);
    assert_eq!(me(rsa.token(&idp.issuer, "nobody")).await, StatusCode::UNAUTHORIZED, "not in the directory");
    // The classic confusion: HS256 "signed" with the RSA public key as secret.
    let public_pem =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jwks-test-rsa.pub.pem"))
            .expect("public key");
    let confused = SigningKey {
        kid: rsa.kid.clone(),
        algorithm: Algorithm::HS256,
        encoding: EncodingKey::from_secret(&public_pem),
        jwk: Value::Null,
    };
    assert_eq!(me(confused.token(&idp.issuer, "m-maria")).await, StatusCode::UNAUTHORIZED);
    // The same for a configured public key (no JWKS).
    let f = fixture_with(Some(JwtSettings {
        keys: TokenKeys::rs256_pem(&public_pem).expect("pem"),
        issuer: Some(idp.issuer.clone()),
        audience: Some("callscope".into()),
        user_claim: "sub".into(),
    }))
    .await;
    let me = |t: String| status_with(&f.app, "/api/me", Some(format!("Bearer {t}")));
    assert_eq!(me(rsa.token(&idp.issuer, "m-maria")).await, StatusCode::OK);
    assert_eq!(me(confused.token(&idp.issuer, "m-maria")).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_bad_jwks_source_fails_at_startup() {
    let idp = IdentityProvider::start(vec![]).await;
    let settings = |source| JwksSettings {
        source,
        refresh: std::time::Duration::from_secs(3600),
        min_refetch: std::time::Duration::from_secs(30),
        timeout: std::time::Duration::from_secs(10),
    };
    let empty =
        JwksCache::new(settings(JwksSource::Url(format!("{}/keys", idp.issuer)))).await.expect_err("no keys");
    assert!(empty.to_string().contains("no usable signing key"), "{empty}");
    let wrong = JwksCache::new(settings(JwksSource::Discovery("http://127.0.0.1:1/elsewhere".into())))
        .await
        .expect_err("unreachable");
    assert!(wrong.to_string().contains("openid-configuration"), "{wrong}");
    // Discovery insists the document is the configured issuer's.
    idp.publish(vec![es256_key("k").jwk]);
    let mismatch = JwksCache::new(settings(JwksSource::Discovery(format!("{}/tenant", idp.issuer))))
        .await
        .expect_err("issuer mismatch");
    assert!(mismatch.to_string().contains("not the configured"), "{mismatch}");
}

/// `(call_id, turn)` of each hit of a search, after checking that the hit's
/// highlights mark the phrase (whatever its case) in its snippet.
async fn search_hits(app: &axum::Router, user: &str, query: &str, phrase: &str) -> Vec<(String, u64)> {
    let (status, body) = send(app, "GET", &format!("/api/search?{query}&{RANGE}"), Some(user), None).await;
    assert_eq!(status, StatusCode::OK, "{user} {query}: {body}");
    body["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| {
            let chars: Vec<char> = h["snippet"].as_str().expect("snippet").chars().collect();
            let marks = h["highlights"].as_array().expect("highlights");
            assert!(!marks.is_empty(), "{h}");
            for m in marks {
                let (s, e) = (m[0].as_u64().expect("start") as usize, m[1].as_u64().expect("end") as usize);
                let marked: String = chars[s..e].iter().collect();
                assert_eq!(marked.to_lowercase(), phrase, "{h}");
            }
            (h["call_id"].as_str().expect("call").to_owned(), h["turn"].as_u64().expect("turn"))
        })
        .collect()
}

fn calls_of(hits: &[(String, u64)]) -> Vec<&str> {
    let mut calls: Vec<&str> = hits.iter().map(|(c, _)| c.as_str()).collect();
    calls.dedup();
    calls
}

#[tokio::test]
async fn search_finds_only_what_the_user_may_see() {
    let f = fixture().await;
    let hubspot = "q=Free+VERSION+of+%22HubSpot%22";
    let ransomware = "q=ransomware+alert";
    let find = |user: &'static str, query: &'static str, phrase: &'static str| {
        let app = f.app.clone();
        async move { search_hits(&app, user, query, phrase).await }
    };
    // Own calls; never another seller's.
    assert_eq!(calls_of(&find("s-daniel", hubspot, "free version of hubspot").await), ["c-daniel"]);
    assert!(find("s-daniel", ransomware, "ransomware alert").await.is_empty());
    assert!(find("s-rachel", hubspot, "free version of hubspot").await.is_empty());
    assert!(
        find("s-sofia", hubspot, "free version of hubspot").await.is_empty(),
        "a teammate's calls are not hers"
    );
    assert_eq!(calls_of(&find("s-rachel", ransomware, "ransomware alert").await), ["c-rachel"]);
    // Managers: their teams' sellers only; admins: everyone.
    assert_eq!(calls_of(&find("m-maria", hubspot, "free version of hubspot").await), ["c-daniel"]);
    assert!(find("m-kenji", hubspot, "free version of hubspot").await.is_empty());
    assert!(find("m-maria", ransomware, "ransomware alert").await.is_empty());
    assert_eq!(calls_of(&find("a-admin", hubspot, "free version of hubspot").await), ["c-daniel"]);
    assert_eq!(calls_of(&find("a-admin", ransomware, "ransomware alert").await), ["c-rachel"]);
    // The filters: said by (the customer said it), seller, dates.
    let by_seller = "q=free+version+of+hubspot&said_by=seller";
    assert!(find("a-admin", by_seller, "free version of hubspot").await.is_empty());
    let by_customer = "q=free+version+of+hubspot&said_by=customer";
    assert_eq!(calls_of(&find("a-admin", by_customer, "free version of hubspot").await), ["c-daniel"]);
    assert!(
        find("a-admin", "q=free+version+of+hubspot&seller=s-rachel", "free version of hubspot")
            .await
            .is_empty()
    );
    let (_, late) = send(
        &f.app,
        "GET",
        "/api/search?q=free+version&from=2026-11-03&to=2026-11-30",
        Some("a-admin"),
        None,
    )
    .await;
    assert_eq!(late["hits"], json!([]), "c-daniel started on the 2nd");
    // Comments are never searched.
    let comment = json!({"text": "zebra unicorn budget", "turn": 1});
    let (code, _) =
        send(&f.app, "POST", "/api/calls/c-daniel/comments", Some("m-maria"), Some(comment)).await;
    assert_eq!(code, StatusCode::CREATED);
    assert!(find("s-daniel", "q=zebra+unicorn", "zebra unicorn").await.is_empty());

    // A whole call shared with Sofia: she finds its text.
    let share = |body: Value| {
        let app = f.app.clone();
        async move {
            let (code, share) =
                send(&app, "POST", "/api/calls/c-daniel/shares", Some("m-maria"), Some(body)).await;
            assert_eq!(code, StatusCode::CREATED, "{share}");
            share["share_id"].as_str().expect("id").to_owned()
        }
    };
    let whole = share(json!({"sellers": ["s-sofia"]})).await;
    assert_eq!(calls_of(&find("s-sofia", hubspot, "free version of hubspot").await), ["c-daniel"]);
    assert!(find("s-rachel", hubspot, "free version of hubspot").await.is_empty());
    let uri = format!("/api/calls/c-daniel/shares/{whole}");
    assert_eq!(send(&f.app, "DELETE", &uri, Some("m-maria"), None).await.0, StatusCode::NO_CONTENT);
    assert!(find("s-sofia", hubspot, "free version of hubspot").await.is_empty(), "revoked");
    // A clip: only the lines it overlaps.
    let (_, all) = send(
        &f.app,
        "GET",
        &format!("/api/search?q=the&seller=s-daniel&{RANGE}&limit=200"),
        Some("a-admin"),
        None,
    )
    .await;
    let lines: Vec<(f64, f64, u64)> = all["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter(|h| h["call_id"] == "c-daniel")
        .map(|h| {
            (
                h["start_s"].as_f64().expect("start"),
                h["end_s"].as_f64().expect("end"),
                h["turn"].as_u64().expect("turn"),
            )
        })
        .collect();
    let first = lines[0];
    let later = *lines.iter().find(|l| l.0 > first.1).expect("a later line with the word");
    share(json!({"team": true, "start_s": first.0, "end_s": first.1})).await;
    let in_clip = find("s-sofia", "q=the&limit=200", "the").await;
    assert!(in_clip.contains(&("c-daniel".to_owned(), first.2)), "{in_clip:?}");
    assert!(!in_clip.contains(&("c-daniel".to_owned(), later.2)), "{in_clip:?}");
    assert!(in_clip.iter().all(|(c, _)| c == "c-daniel"), "{in_clip:?}");

    // Bad queries.
    for bad in ["q=", "q=a", "q=%22*%22", "q=the&said_by=anyone", "q=the&from=yesterday", "q=the&limit=0"] {
        let (status, body) = send(&f.app, "GET", &format!("/api/search?{bad}"), Some("s-daniel"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }

    // Audited per call shown, without the query.
    let (_, trail) = send(&f.app, "GET", "/api/admin/audit?user=s-daniel", Some("a-admin"), None).await;
    let rows = audit_rows(&trail);
    assert!(rows.contains(&row("s-daniel", "seller", "search", "c-daniel")), "{rows:?}");
    assert!(rows.contains(&row("s-daniel", "seller", "search", "")), "a search that found nothing: {rows:?}");
    assert!(!trail.to_string().to_lowercase().contains("hubspot"), "the query is not recorded: {trail}");
}
