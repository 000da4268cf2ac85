//! Store benchmarks (issue 5): the write path and the seller page's read path,
//! on SQLite and on ClickHouse. A bench binary, not criterion: each part needs
//! minutes of setup, and the figures are medians and p95 over repeated page loads.
//!
//! ```text
//! cargo bench -p callscope-benches --bench store -- \
//!     [--clickhouse URL] [--write-calls 10000] [--ch-read-calls 1000000] [--sqlite-read-calls 50000] \
//!     [--skip-write] [--skip-sqlite] [--search-only] [--search-loads 20] [--ch-merge]
//! ```
//! `--search-only`: only the search across transcripts (issue 18), on the same
//! data (the page's read path and the API are skipped). `--ch-merge`: the
//! searches again after `OPTIMIZE TABLE utterances FINAL` (a table whose
//! parts the server has merged, as it does in the background over time).
//! Without `--clickhouse` only SQLite is measured. Results go to stdout as a
//! Markdown table, for `benches/README.md`.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use callscope_api::insights::{Bucket, SellerSummary, TeamSummary, TrendPoint, rank_keywords};
use callscope_benches::realistic_call;
use callscope_model::{CallAnalysis, CallMeta, Provenance, TrackerKind, Transcript};
use callscope_signals::{SignalExtractor, SignalSettings, TrackerMatcher, Trackers};
use callscope_store::{
    ClickHouseConfig, ClickHouseStore, DateRange, HistoryQuery, HistorySort, SearchQuery, SearchScope,
    SellerFilter, SqliteStore, Store,
};
use chrono::{Duration as ChronoDuration, NaiveDate, TimeZone, Utc};

struct Args {
    clickhouse: Option<String>,
    write_calls: usize,
    ch_read_calls: u64,
    sqlite_read_calls: usize,
    skip_write: bool,
    skip_sqlite: bool,
    search_only: bool,
    search_loads: usize,
    ch_merge: bool,
}

fn args() -> Args {
    let mut a = Args {
        clickhouse: None,
        write_calls: 10_000,
        ch_read_calls: 1_000_000,
        sqlite_read_calls: 50_000,
        skip_write: false,
        skip_sqlite: false,
        search_only: false,
        search_loads: 20,
        ch_merge: false,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let value = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--clickhouse" => a.clickhouse = Some(value),
            "--write-calls" => a.write_calls = value.parse().expect("--write-calls N"),
            "--ch-read-calls" => a.ch_read_calls = value.parse().expect("--ch-read-calls N"),
            "--sqlite-read-calls" => a.sqlite_read_calls = value.parse().expect("--sqlite-read-calls N"),
            "--skip-write" => {
                a.skip_write = true;
                i += 1;
                continue;
            }
            "--skip-sqlite" => {
                a.skip_sqlite = true;
                i += 1;
                continue;
            }
            "--ch-merge" => {
                a.ch_merge = true;
                i += 1;
            }
            "--search-only" => {
                a.search_only = true;
                a.skip_write = true;
                i += 1;
                continue;
            }
            "--search-loads" => a.search_loads = value.parse().expect("--search-loads N"),
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

fn extractor() -> SignalExtractor {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/signals/tests/dev");
    let (trackers, _) =
        Trackers::from_toml_str(&std::fs::read_to_string(dir.join("trackers.toml")).expect("trackers"))
            .expect("valid");
    SignalExtractor::new(TrackerMatcher::new(&trackers).0, SignalSettings::default())
}

/// One analysed call, cloned with a new identity per write.
fn template(transcript: Transcript) -> CallAnalysis {
    let signals = extractor().extract(&transcript);
    // The KPI engine's turns with their words' text (one `utterances` row each).
    let words = callscope_kpi::sorted_words(&transcript);
    let turns = callscope_kpi::turns_with_text(&transcript, &words, &callscope_kpi::segment_turns(&words));
    CallAnalysis {
        meta: CallMeta::default(),
        duration_s: transcript.duration_s.unwrap_or(0.0),
        audio_uri: None,
        kpis: callscope_kpi::report(&transcript),
        signals,
        transcript,
        turns,
        provenance: Provenance {
            pipeline_version: "bench".into(),
            asr_model: None,
            sentiment_model: "vader-sales-v1".into(),
        },
        attribution: None,
    }
}

fn call_from(template: &CallAnalysis, n: usize, sellers: usize) -> CallAnalysis {
    let mut c = template.clone();
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).single().expect("valid")
        + ChronoDuration::minutes(n as i64 * 31);
    c.meta = CallMeta {
        call_id: format!("bench-{n}"),
        seller_id: format!("s-{}", n % sellers),
        team: Some(format!("team-{}", (n % sellers) % 10)),
        started_at: Some(start),
        direction: None,
        outcome: n.is_multiple_of(7).then(|| "won".to_owned()),
        customer: Some(format!("Customer {}", n % 5000)),
        language: None,
    };
    c
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn write_path(store: &dyn Store, calls: usize, label: &str) {
    let template = template(realistic_call(20.0));
    let utterances = template.turns.len();
    let batch = 100;
    let started = Instant::now();
    let mut written = 0;
    for chunk_start in (0..calls).step_by(batch) {
        let chunk: Vec<CallAnalysis> =
            (chunk_start..(chunk_start + batch).min(calls)).map(|n| call_from(&template, n, 100)).collect();
        written += store.write(&chunk).await.expect("write").call_ids.len();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "| write | {label} | {written} calls × {utterances} utterances ({} words, {} mentions), batches of {batch} | {secs:.1} s | **{:.0} calls/s** |",
        template.transcript.words.len(),
        template.signals.mentions.len(),
        written as f64 / secs
    );
}

/// The store queries of one seller page load and the insight arithmetic on
/// them (`callscope_api::insights`), each timed.
async fn read_path(store: &dyn Store, label: &str, calls: u64, sellers: u64, range: DateRange, loads: usize) {
    let names = [
        "seller_summary",
        "seller_trend(week)",
        "team_summary",
        "call_history(page 1)",
        "term_counts(competitors)",
        "customer_keywords(20)",
        "call(id)",
    ];
    let mut timings: Vec<Vec<Duration>> = vec![Vec::new(); names.len() + 1];
    for load in 0..loads {
        let seller = format!("s-{}", (load as u64 * 37) % sellers);
        let team = format!("team-{}", ((load as u64 * 37) % sellers) % 10);
        let page_start = Instant::now();
        let mut t = Instant::now();
        let mut lap = |i: usize, t: &mut Instant| {
            timings[i].push(t.elapsed());
            *t = Instant::now();
        };
        let this_seller = SellerFilter::Seller(seller.clone());
        SellerSummary::from_daily(&seller, &store.daily(&this_seller, range).await.expect("summary"));
        lap(0, &mut t);
        TrendPoint::from_daily(&store.daily(&this_seller, range).await.expect("trend"), Bucket::Week);
        lap(1, &mut t);
        let rows = store.daily(&SellerFilter::Team(team.clone()), range).await.expect("team");
        TeamSummary::from_daily(&team, &rows);
        lap(2, &mut t);
        let page = store
            .call_history(&HistoryQuery {
                seller_id: seller.clone(),
                range,
                sort: HistorySort::StartedAt,
                descending: true,
                page: 0,
                page_size: 25,
                term: None,
                term_role: None,
                keyword: None,
            })
            .await
            .expect("history");
        lap(3, &mut t);
        store.term_counts(&seller, range, TrackerKind::Competitor).await.expect("terms");
        lap(4, &mut t);
        rank_keywords(&store.customer_keywords(&seller, range).await.expect("keywords"), 20);
        lap(5, &mut t);
        let id = page.items.first().map(|c| c.call_id.clone()).unwrap_or_default();
        store.call(&id).await.expect("call");
        lap(6, &mut t);
        timings[names.len()].push(page_start.elapsed());
    }
    for (i, name) in names.iter().chain(std::iter::once(&"whole page (all of the above)")).enumerate() {
        let mut v = timings[i].clone();
        v.sort();
        println!(
            "| read | {label}, {calls} calls, {sellers} sellers | {name} | p50 {:.2} ms | p95 {:.2} ms |",
            percentile(&v, 0.5).as_secs_f64() * 1000.0,
            percentile(&v, 0.95).as_secs_f64() * 1000.0
        );
    }
}

/// The seller page through the HTTP API (the axum router, in process, with a
/// manager's session): the JSON endpoints the page calls on load.
async fn api_path(store: std::sync::Arc<dyn Store>, label: &str, calls: u64, range: DateRange, loads: usize) {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let mut toml = String::new();
    for t in 0..10 {
        toml.push_str(&format!("[[team]]\nid = \"team-{t}\"\nname = \"Team {t}\"\n"));
        toml.push_str(&format!(
            "[[user]]\nid = \"m-{t}\"\nname = \"Manager {t}\"\nrole = \"manager\"\nteams = [\"team-{t}\"]\n"
        ));
    }
    for s in 0..100 {
        toml.push_str(&format!(
            "[[user]]\nid = \"s-{s}\"\nname = \"Seller {s}\"\nrole = \"seller\"\nteam = \"team-{}\"\n",
            s % 10
        ));
    }
    let auth = callscope_api::AuthSettings {
        jwt: None,
        dev_login: false,
        session_secret: b"bench".to_vec(),
        cookie_security: callscope_api::CookieSecurity::Auto,
    };
    let state = std::sync::Arc::new(callscope_api::AppState {
        store,
        directory: callscope_api::Directory::from_toml_str(&toml).expect("directory"),
        auth: auth.clone(),
        coaching: callscope_api::CoachingRules::defaults(),
        audio_root: None,
        chat_url_template: None,
        metrics: callscope_api::ApiMetrics::new(),
    });
    let app = callscope_api::app(state);
    let q = format!("from={}&to={}", range.from, range.to);
    let names = ["GET insights", "GET calls (page 1)", "GET coaching (team)", "GET call (detail)"];
    let mut timings: Vec<Vec<Duration>> = vec![Vec::new(); names.len() + 1];
    for load in 0..loads {
        let seller = (load * 37) % 100;
        let cookie = format!(
            "callscope_session={}",
            auth.session_token(&format!("m-{}", seller % 10)).expect("token")
        );
        let get = |uri: String| {
            let app = app.clone();
            let cookie = cookie.clone();
            async move {
                let t = Instant::now();
                let req = Request::builder()
                    .uri(uri)
                    .header("cookie", cookie)
                    .body(Body::empty())
                    .expect("request");
                let res = app.oneshot(req).await.expect("response");
                assert!(res.status().is_success(), "{}", res.status());
                let body = res.into_body().collect().await.expect("body").to_bytes();
                (t.elapsed(), serde_json::from_slice::<serde_json::Value>(&body).expect("json"))
            }
        };
        let page = Instant::now();
        let (d0, _) = get(format!("/api/sellers/s-{seller}/insights?{q}")).await;
        let (d1, history) = get(format!("/api/sellers/s-{seller}/calls?{q}&page_size=10")).await;
        let (d2, _) = get(format!("/api/teams/team-{}/coaching?{q}", seller % 10)).await;
        let page_time = page.elapsed();
        let id = history["items"][0]["call_id"].as_str().unwrap_or("none").to_owned();
        let (d3, _) = get(format!("/api/calls/{id}")).await;
        for (i, d) in [d0, d1, d2, d3, page_time].into_iter().enumerate() {
            timings[i].push(d);
        }
    }
    for (i, name) in
        names.iter().chain(std::iter::once(&"seller page load (insights + calls + coaching)")).enumerate()
    {
        let mut v = timings[i].clone();
        v.sort();
        println!(
            "| api | {label}, {calls} calls | {name} | p50 {:.2} ms | p95 {:.2} ms |",
            percentile(&v, 0.5).as_secs_f64() * 1000.0,
            percentile(&v, 0.95).as_secs_f64() * 1000.0
        );
    }
}

// ---------- search across transcripts (issue 18) ----------

/// The syllables of the made-up words that vary the generated utterances.
const SYLLABLES: [&str; 70] = [
    "ba", "be", "bi", "bo", "bu", "da", "de", "di", "do", "du", "fa", "fe", "fi", "fo", "fu", "ga", "ge",
    "gi", "go", "gu", "ka", "ke", "ki", "ko", "ku", "la", "le", "li", "lo", "lu", "ma", "me", "mi", "mo",
    "mu", "na", "ne", "ni", "no", "nu", "pa", "pe", "pi", "po", "pu", "ra", "re", "ri", "ro", "ru", "sa",
    "se", "si", "so", "su", "ta", "te", "ti", "to", "tu", "va", "ve", "vi", "vo", "vu", "za", "ze", "zi",
    "zo", "zu",
];

/// Words drawn per utterance: ranks 0..VOCABULARY, log-uniform (Zipf-like:
/// rank r about 1 / ((r + 1) ln V) of the draws), so the text has frequent
/// and rare words for an index to skip on.
const VOCABULARY: f64 = 100_000.0;

/// The made-up word of rank `r`: distinct per rank, 5 or 7 letters. The SQL
/// of [`generate_clickhouse`] spells the same words.
fn pseudo_word(r: u64) -> String {
    let syl = |k: u64| SYLLABLES[(k % 70) as usize];
    let third = if r >= 4900 { syl(r / 4900) } else { "" };
    format!("{}{}{third}n", syl(r), syl(r / 70))
}

/// A log-uniform rank from a uniform `u` in [0, 1).
fn zipf_rank(u: f64) -> u64 {
    ((u * (VOCABULARY + 1.0).ln()).exp() - 1.0).floor() as u64
}

/// splitmix64: the bench's deterministic randomness.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Two made-up words appended to each of a call's utterances.
fn vary_text(call: &mut CallAnalysis, n: usize) {
    for (i, turn) in call.turns.iter_mut().enumerate() {
        let u = |k: u64| (mix(((n as u64) << 20) ^ ((i as u64) << 4) ^ k) % 1_000_000) as f64 / 1e6;
        turn.text =
            format!("{} {} {}", turn.text, pseudo_word(zipf_rank(u(0))), pseudo_word(zipf_rank(u(1))));
    }
}

/// p50 / p95 of searches as a manager (the 10 sellers of a team), as a
/// seller and as an admin (everyone's calls), over `ranges`, for phrases from
/// frequent to rare.
async fn search_path(
    store: &dyn Store,
    label: &str,
    everywhere: &str,
    ranges: &[(&str, DateRange)],
    loads: usize,
) {
    let phrases = [
        ("a phrase in every call", everywhere.to_owned()),
        ("a frequent word (~5% of lines)", pseudo_word(2)),
        ("two frequent words in a row (~0.2%)", format!("{} {}", pseudo_word(0), pseudo_word(1))),
        ("a rare word (~0.001%)", pseudo_word(20_000)),
    ];
    for (range_name, range) in ranges {
        for (who, sellers_per_scope) in
            [("manager (team of 10 sellers)", 10usize), ("seller", 1), ("admin (everyone)", 0)]
        {
            for (what, phrase) in &phrases {
                let mut times = Vec::with_capacity(loads);
                let mut hits = 0usize;
                for load in 0..loads {
                    let team = load % 10;
                    let sellers: Vec<String> = if sellers_per_scope == 10 {
                        (0..10).map(|k| format!("s-{}", team + 10 * k)).collect()
                    } else {
                        vec![format!("s-{}", (load * 37) % 100)]
                    };
                    let scope = if sellers_per_scope == 0 {
                        SearchScope::All
                    } else {
                        SearchScope::Only { sellers, shared: Vec::new() }
                    };
                    let query = SearchQuery {
                        phrase: phrase.clone(),
                        scope,
                        seller: None,
                        range: *range,
                        said_by: None,
                        limit: 51,
                    };
                    let t = Instant::now();
                    hits += store.search(&query).await.expect("search").len();
                    times.push(t.elapsed());
                }
                times.sort();
                println!(
                    "| search | {label}, {range_name}, {who} | {what} | p50 {:.2} ms | p95 {:.2} ms | {:.1} hits (≤ 51) |",
                    percentile(&times, 0.5).as_secs_f64() * 1000.0,
                    percentile(&times, 0.95).as_secs_f64() * 1000.0,
                    hits as f64 / loads as f64
                );
            }
        }
    }
}

/// How many granules of `utterances` the word index leaves a search of
/// `word` (EXPLAIN indexes = 1), printed for the record.
async fn explain_search(url: &str, database: &str, word: &str) {
    let client = clickhouse::Client::default().with_url(url).with_database(database);
    let sql = format!(
        "EXPLAIN indexes = 1 SELECT call_id FROM utterances WHERE lowerUTF8(text) LIKE '%{word}%' \
                 AND hasToken(lowerUTF8(replaceRegexpAll(text, '[^\\\\p{{L}}\\\\p{{N}}]+', ' ')), '{word}')"
    );
    match client.query(&sql).fetch_all::<String>().await {
        Ok(lines) => {
            let lines: Vec<String> =
                lines.iter().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).collect();
            eprintln!("  EXPLAIN {word:?}: {}", lines.join(" | "));
        }
        Err(e) => eprintln!("  EXPLAIN {word:?} failed: {e}"),
    }
}

/// Fills ClickHouse with `calls` generated calls (100 sellers over 2026), with
/// 5 mentions, 10 customer keywords and 40 utterances per call, then the daily
/// aggregates, all with SQL on the server. The columns are named: later
/// migrations add columns with defaults.
async fn generate_clickhouse(url: &str, database: &str, calls: u64) {
    let client = clickhouse::Client::default().with_url(url).with_database(database);
    // A short transcript and the signals of a real call: the page's queries do
    // not read these columns (the call page does, once), and a million full
    // transcripts would not fit this machine's patience.
    let mut short = realistic_call(2.0);
    short.words.truncate(40);
    let transcript = serde_json::to_string(&short).expect("json").replace('\'', "\\'");
    let signals_json = {
        let mut t = template(realistic_call(2.0));
        t.signals.mentions.truncate(5);
        t.signals.sentiment.timeline.truncate(40);
        serde_json::to_string(&t.signals).expect("json").replace('\'', "\\'")
    };
    let base =
        "toDateTime64('2026-01-01 00:00:00', 3, 'UTC') + toIntervalSecond(intDiv(number * 31536000, N))";
    // The made-up words of `pseudo_word`, of log-uniform ranks (`zipf_rank`).
    let syllables = format!("[{}]", SYLLABLES.map(|s| format!("'{s}'")).join(", "));
    let word = |k: u32| {
        let rank = format!(
            "toUInt64(floor(exp((cityHash64(number, i, {k}) % 1000000) / 1000000 * log({VOCABULARY} + 1)) - 1))"
        );
        format!(
            "concat({syllables}[1 + {rank} % 70], {syllables}[1 + intDiv({rank}, 70) % 70], \
             if({rank} >= 4900, {syllables}[1 + intDiv({rank}, 4900) % 70], ''), 'n')"
        )
    };
    let (word0, word1) = (word(0), word(1));
    let started = base.replace('N', &calls.to_string());
    let statements = [
        format!(
            "INSERT INTO calls (call_id, seller_id, team, customer, started_at, duration_s, direction, outcome, \
             audio_uri, pipeline_version, asr_model, sentiment_model, kpi_version, seller_talk_s, customer_talk_s, \
             talk_ratio, seller_wpm, customer_wpm, switches, switches_per_hour, avg_pause_s, \
             longest_customer_monologue_s, longest_seller_monologue_s, interruptions, seller_questions, seller_turns, \
             customer_turns, backchannels, customer_sentiment, customer_sentiment_score, positive_share, \
             neutral_share, negative_share, mentions, action_items, questions, transcript, signals, version, \
             is_deleted, processed_at) SELECT concat('gen-', toString(number)), concat('s-', toString(number % 100)), \
             concat('team-', toString(number % 10)), concat('Customer ', toString(number % 5000)), {started}, \
             300 + number % 1500, 'outbound', multiIf(number % 7 = 0, 'won', number % 11 = 0, 'lost', ''), '', 'bench', \
             'tiny.en', 'vader-sales-v1', 1, 100 + number % 200, 80 + number % 150, \
             (100 + number % 200) / (180 + number % 200 + number % 150), 150 + number % 60, 140 + number % 50, \
             10 + number % 40, (10 + number % 40) * 3600 / (300 + number % 1500), 0.3 + (number % 100) / 100, \
             5 + number % 60, 8 + number % 90, number % 5, number % 12, 20, 20, 3, \
             ['positive', 'neutral', 'negative'][1 + number % 3], ((number % 200) - 100) / 100, 0.4, 0.4, 0.2, \
             5, 2, 8, '{transcript}', '{signals_json}', 1, 0, now64(3) FROM numbers({calls})"
        ),
        format!(
            "INSERT INTO mentions SELECT concat('gen-', toString(number)), 1, concat('s-', toString(number % 100)), \
             {started}, ['HubSpot', 'Salesforce', 'Pipedrive', 'CrowdStrike', 'SentinelOne', 'Flexport', 'pricing', \
             'discount', 'contract', 'renewal'][1 + (number * 7 + i) % 10] AS term, \
             if((number * 7 + i) % 10 < 6, 'competitor', 'keyword'), if(i % 2 = 0, 'customer', 'seller'), 'spk_1', \
             i * 10, i * 10 + 0.5, term, 'context words around the mention' \
             FROM numbers({calls}) ARRAY JOIN range(5) AS i"
        ),
        format!(
            "INSERT INTO customer_keywords SELECT concat('gen-', toString(number)), 1, \
             concat('s-', toString(number % 100)), {started}, concat('phrase ', toString((number * 13 + i * 7) % 400)), \
             1 + (number + i) % 4 FROM numbers({calls}) ARRAY JOIN range(10) AS i"
        ),
        format!(
            "INSERT INTO utterances SELECT concat('gen-', toString(number)), 1, concat('s-', toString(number % 100)), \
             {started}, i, if(i % 2 = 0, 'seller', 'customer'), i * 7.5, i * 7.5 + 6, \
             concat('a turn of the call with a dozen words or so in it ', {word0}, ' ', {word1}), 'neutral', 0 \
             FROM numbers({calls}) ARRAY JOIN range(40) AS i"
        ),
        "INSERT INTO seller_daily (seller_id, team, day, calls, duration_s, talk_ratio_sum, talk_ratio_n, \
         seller_wpm_sum, seller_wpm_n, switches, pause_sum, pause_n, longest_customer_monologue_sum, interruptions, \
         seller_questions, positive, neutral, negative, won, lost, version, is_deleted) SELECT seller_id, argMax(team, started_at), toDate(started_at) AS day, count(), \
         sum(duration_s), sumOrDefault(talk_ratio), count(talk_ratio), sumOrDefault(seller_wpm), count(seller_wpm), \
         sum(switches), sumOrDefault(avg_pause_s), count(avg_pause_s), sum(longest_customer_monologue_s), \
         sum(interruptions), sum(seller_questions), countIf(customer_sentiment = 'positive'), \
         countIf(customer_sentiment = 'neutral'), countIf(customer_sentiment = 'negative'), countIf(outcome = 'won'), \
         countIf(outcome = 'lost'), 1, 0 FROM calls FINAL GROUP BY seller_id, day"
            .to_owned(),
        "INSERT INTO keyword_daily (day, phrase, calls, version, is_deleted) SELECT toDate(started_at) AS day, \
         phrase, uniqExact(call_id), 1, 0 FROM customer_keywords GROUP BY day, phrase"
            .to_owned(),
        "OPTIMIZE TABLE calls FINAL".to_owned(),
        "OPTIMIZE TABLE seller_daily FINAL".to_owned(),
    ];
    for sql in statements {
        let t = Instant::now();
        client.query_raw(&sql).execute().await.expect("generate");
        eprintln!("  generated: {} … ({:.1} s)", &sql[..sql.len().min(40)], t.elapsed().as_secs_f64());
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    println!(
        "machine: {} cores, {machine}; date {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        Utc::now().date_naive()
    );
    println!("| path | backend | what | time | result |\n|---|---|---|---|---|");
    let year = DateRange::new(
        NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"),
    );
    let quarter = DateRange::new(
        NaiveDate::from_ymd_opt(2026, 4, 1).expect("date"),
        NaiveDate::from_ymd_opt(2026, 6, 30).expect("date"),
    );

    // SQLite.
    let dir = tempfile::tempdir().expect("tempdir");
    if !a.skip_sqlite && !a.skip_write {
        let store = SqliteStore::open(dir.path().join("write.db")).expect("open");
        store.migrate().await.expect("migrate");
        write_path(&store, a.write_calls, "SQLite (file, WAL)").await;
    }
    if !a.skip_sqlite {
        let store = SqliteStore::open(dir.path().join("read.db")).expect("open");
        store.migrate().await.expect("migrate");
        // Full signals of a real call, a short transcript: the page's queries do not read transcripts.
        let mut short = template(realistic_call(2.0));
        short.transcript.words.truncate(50);
        let t = Instant::now();
        for chunk_start in (0..a.sqlite_read_calls).step_by(1000) {
            let chunk: Vec<CallAnalysis> = (chunk_start..(chunk_start + 1000).min(a.sqlite_read_calls))
                .map(|n| {
                    let mut c = call_from(&short, n, 100);
                    vary_text(&mut c, n);
                    // spread the calls over the year
                    c.meta.started_at = Some(
                        Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).single().expect("valid")
                            + ChronoDuration::seconds((n as i64 * 31_536_000) / a.sqlite_read_calls as i64),
                    );
                    c
                })
                .collect();
            store.write(&chunk).await.expect("populate");
        }
        eprintln!(
            "  SQLite populated with {} calls in {:.1} s",
            a.sqlite_read_calls,
            t.elapsed().as_secs_f64()
        );
        if !a.search_only {
            read_path(&store, "SQLite, quarter", a.sqlite_read_calls as u64, 100, quarter, 50).await;
        }
        let everywhere: String = short.turns[0].text.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
        let label = format!("SQLite {}k calls", a.sqlite_read_calls / 1000);
        search_path(&store, &label, &everywhere, &[("quarter", quarter), ("year", year)], a.search_loads)
            .await;
        if !a.search_only {
            api_path(std::sync::Arc::new(store), "SQLite, quarter", a.sqlite_read_calls as u64, quarter, 50)
                .await;
        }
    }

    // ClickHouse.
    if let Some(url) = &a.clickhouse {
        let suffix = std::process::id();
        let store = ClickHouseStore::new(&ClickHouseConfig {
            url: url.clone(),
            database: format!("bench_write_{suffix}"),
            timeout: Duration::from_secs(600),
            ..Default::default()
        });
        store.migrate().await.expect("migrate");
        if !a.skip_write {
            write_path(&store, a.write_calls, "ClickHouse (chDB 26.9 via the test front)").await;
        }

        let database = format!("bench_read_{suffix}");
        let store = ClickHouseStore::new(&ClickHouseConfig {
            url: url.clone(),
            database: database.clone(),
            timeout: Duration::from_secs(600),
            ..Default::default()
        });
        store.migrate().await.expect("migrate");
        let t = Instant::now();
        generate_clickhouse(url, &database, a.ch_read_calls).await;
        eprintln!(
            "  ClickHouse populated with {} calls in {:.1} s",
            a.ch_read_calls,
            t.elapsed().as_secs_f64()
        );
        for word in [pseudo_word(2), pseudo_word(20_000)] {
            explain_search(url, &database, &word).await;
        }
        let label = format!("ClickHouse {}M calls", a.ch_read_calls as f64 / 1e6);
        let ranges = [("quarter", quarter), ("year", year)];
        search_path(&store, &label, "a dozen words", &ranges, a.search_loads).await;
        if a.ch_merge {
            let client = clickhouse::Client::default().with_url(url).with_database(&database);
            let t = Instant::now();
            client.query("OPTIMIZE TABLE utterances FINAL").execute().await.expect("merge utterances");
            eprintln!("  utterances merged in {:.1} s", t.elapsed().as_secs_f64());
            explain_search(url, &database, &pseudo_word(20_000)).await;
            let label = format!("{label}, merged");
            search_path(&store, &label, "a dozen words", &ranges, a.search_loads).await;
        }
        if a.search_only {
            return;
        }
        read_path(&store, "ClickHouse, quarter", a.ch_read_calls, 100, quarter, 30).await;
        read_path(&store, "ClickHouse, year", a.ch_read_calls, 100, year, 30).await;
        let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(store);
        api_path(store.clone(), "ClickHouse, quarter", a.ch_read_calls, quarter, 30).await;
        api_path(store, "ClickHouse, year", a.ch_read_calls, year, 30).await;
    }
}
