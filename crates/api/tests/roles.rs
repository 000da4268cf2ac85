//! The API, driven with `oneshot`: the role matrix (every endpoint × own seller,
//! other seller, manager of the team, manager of another team, no auth),
//! authentication, audio Range requests and the insights payload.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use callscope_api::{AppState, AuthSettings, CoachingRules, Directory, JwtSettings, app};
use callscope_model::{CallMeta, Transcript};
use callscope_pipeline::Analyzer;
use callscope_signals::{SignalSettings, Trackers};
use callscope_store::{SqliteStore, Store};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &[u8] = b"test-secret-for-bearer-tokens";

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
id = "s-rachel"
name = "Rachel"
role = "seller"
team = "security"
[[user]]
id = "a-admin"
name = "Admin"
role = "admin"
"#;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples")
}

struct Fixture {
    app: axum::Router,
    _audio: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let store = SqliteStore::in_memory().expect("store");
    store.migrate().await.expect("migrate");
    let audio = tempfile::tempdir().expect("tempdir");
    let recording = audio.path().join("c-daniel.mp3");
    std::fs::write(&recording, (0..1000u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>()).expect("audio");
    let outside = tempfile::NamedTempFile::new().expect("outside file");

    let toml = std::fs::read_to_string(samples().join("trackers.toml")).expect("trackers");
    let analyzer =
        Analyzer::new(&Trackers::from_toml_str(&toml).expect("valid").0, SignalSettings::default());
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
        let bytes = std::fs::read(samples().join(format!("transcripts/{file}.json"))).expect("transcript");
        let transcript = Transcript::from_json_slice(&bytes).expect("valid");
        let meta = CallMeta {
            call_id: call_id.into(),
            seller_id: seller.into(),
            team: Some(team.into()),
            started_at: Some(Utc.with_ymd_and_hms(2026, 11, day, 10, 0, 0).single().expect("time")),
            customer: Some(format!("{call_id} customer")),
            ..CallMeta::default()
        };
        calls.push(analyzer.analyze_transcript(meta, transcript, audio_uri));
    }
    // As if c-daniel-2 had been a mono recording whose speakers are uncertain.
    calls[1].attribution = Some(callscope_model::Attribution::new("mono-heuristics", 0.2));
    store.write(&calls).await.expect("write");

    let state = AppState {
        store: Arc::new(store),
        directory: Directory::from_toml_str(DIRECTORY).expect("directory"),
        auth: AuthSettings {
            jwt: Some(JwtSettings {
                key: DecodingKey::from_secret(SECRET),
                algorithm: Algorithm::HS256,
                issuer: Some("https://idp.test".into()),
                audience: Some("callscope".into()),
                user_claim: "sub".into(),
            }),
            dev_login: true,
            session_secret: b"session-secret-of-this-test".to_vec(),
        },
        coaching: CoachingRules::defaults(),
        audio_root: Some(audio.path().to_path_buf()),
        chat_url_template: Some("https://chat.example.com/?to={email}".into()),
    };
    std::mem::forget(outside); // keep the file for the test's lifetime
    Fixture { app: app(Arc::new(state)), _audio: audio }
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
    #[rustfmt::skip]
    let matrix: Vec<(&str, String, Option<Value>, [S; 5])> = vec![
        ("GET", format!("/api/sellers/s-daniel/insights?{RANGE}"), None, [S::OK, S::FORBIDDEN, S::OK, S::FORBIDDEN, S::UNAUTHORIZED]),
        ("GET", format!("/api/sellers/s-daniel/calls?{RANGE}"), None, [S::OK, S::FORBIDDEN, S::OK, S::FORBIDDEN, S::UNAUTHORIZED]),
        ("GET", format!("/api/sellers/s-daniel/comments?{RANGE}"), None, [S::OK, S::FORBIDDEN, S::OK, S::FORBIDDEN, S::UNAUTHORIZED]),
        ("GET", "/api/calls/c-daniel".into(), None, [S::OK, S::FORBIDDEN, S::OK, S::FORBIDDEN, S::UNAUTHORIZED]),
        ("GET", "/api/calls/c-daniel/audio".into(), None, [S::OK, S::FORBIDDEN, S::OK, S::FORBIDDEN, S::UNAUTHORIZED]),
        ("GET", "/api/calls/c-daniel/comments".into(), None, [S::OK, S::FORBIDDEN, S::OK, S::FORBIDDEN, S::UNAUTHORIZED]),
        ("POST", "/api/calls/c-daniel/comments".into(), Some(post.clone()), [S::CREATED, S::FORBIDDEN, S::CREATED, S::FORBIDDEN, S::UNAUTHORIZED]),
        ("GET", format!("/api/teams/crm/coaching?{RANGE}"), None, [S::FORBIDDEN, S::FORBIDDEN, S::OK, S::FORBIDDEN, S::UNAUTHORIZED]),
        ("GET", "/api/me".into(), None, [S::OK, S::OK, S::OK, S::OK, S::UNAUTHORIZED]),
        ("GET", "/api/sellers".into(), None, [S::OK, S::OK, S::OK, S::OK, S::UNAUTHORIZED]),
        // Deleting Maria's comment: only Maria may; the last column runs last.
        ("DELETE", format!("/api/calls/c-daniel/comments/{comment_id}"), None, [S::FORBIDDEN, S::FORBIDDEN, S::NO_CONTENT, S::FORBIDDEN, S::UNAUTHORIZED]),
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

#[tokio::test]
async fn picker_lists_only_visible_sellers() {
    let f = fixture().await;
    let ids = |v: Value| -> Vec<String> {
        v.as_array().expect("array").iter().map(|u| u["id"].as_str().expect("id").to_owned()).collect()
    };
    assert_eq!(ids(send(&f.app, "GET", "/api/sellers", Some("m-maria"), None).await.1), ["s-daniel"]);
    assert_eq!(ids(send(&f.app, "GET", "/api/sellers", Some("s-rachel"), None).await.1), ["s-rachel"]);
    assert_eq!(
        ids(send(&f.app, "GET", "/api/sellers", Some("a-admin"), None).await.1),
        ["s-daniel", "s-rachel"]
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
    let session = cookie.split(';').next().expect("pair").to_owned();
    let req = Request::builder()
        .uri("/api/calls/c-rachel")
        .header(header::COOKIE, &session)
        .body(Body::empty())
        .expect("req");
    assert_eq!(f.app.clone().oneshot(req).await.expect("res").status(), StatusCode::FORBIDDEN);
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
    // A recording outside the audio folder is never served, even to its seller.
    assert_eq!(get("/api/calls/c-daniel-2/audio", None).await.expect("res").status(), StatusCode::FORBIDDEN);
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
    let competitors: Vec<&str> =
        v["competitors"].as_array().expect("array").iter().filter_map(|c| c["term"].as_str()).collect();
    assert!(competitors.contains(&"HubSpot") && competitors.contains(&"Pipedrive"), "{competitors:?}");
    assert!(!v["customer_keywords"].as_array().expect("array").is_empty());
    assert_eq!(v["team"]["overall"]["calls"], 2);

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
        "/api/calls/{call_id}",
        "/api/calls/{call_id}/audio",
        "/api/calls/{call_id}/comments",
        "/api/calls/{call_id}/comments/{comment_id}",
    ] {
        assert!(paths.contains_key(route), "openapi.json lacks {route}");
    }
    assert_eq!(paths.len(), 13, "a route in openapi.json that the router does not have?");
}
