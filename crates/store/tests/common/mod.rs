//! The conformance suite: the same checks against every [`Store`] backend.
//! Each check gets a fresh, migrated store from the backend's test file.

#![allow(dead_code)] // each test binary uses the checks it runs

use std::collections::BTreeMap;
use std::path::Path;

use callscope_model::{CallAnalysis, CallMeta, TrackerKind};
use callscope_store::*;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

/// The dev transcripts whose analyses are checked in as fixtures.
const DEV: &[&str] = &[
    "dev-01-crm-discovery",
    "dev-02-security-renewal-unhappy",
    "dev-03-logistics-negotiation",
    "dev-04-crm-followup-roofing",
    "dev-05-endpoint-expansion",
    "dev-06-freight-cold-call",
];

/// The pipeline's analysis of dev transcript `n`: `tests/data/<dev-id>.analysis.json`,
/// kept equal to what the pipeline makes by `crates/pipeline/tests/store_fixtures.rs`.
fn fixture(n: usize) -> CallAnalysis {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/data/{}.analysis.json", DEV[n % DEV.len()]));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub(crate) fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).single().expect("valid time")
}

pub(crate) fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).expect("valid date")
}

pub(crate) fn november() -> DateRange {
    DateRange::new(day(1), day(30))
}

/// An analysed call of dev transcript `n` (as the pipeline made it), with this
/// identity, seller, team and start.
pub(crate) fn analysis(
    call_id: &str,
    seller: &str,
    team: &str,
    started_at: DateTime<Utc>,
    n: usize,
) -> CallAnalysis {
    let mut a = fixture(n);
    a.transcript.call_id = Some(call_id.into());
    a.meta = CallMeta {
        call_id: call_id.into(),
        seller_id: seller.into(),
        team: Some(team.into()),
        started_at: Some(started_at),
        direction: None,
        outcome: if n.is_multiple_of(2) { Some("won".into()) } else { None },
        customer: Some(format!("Customer {n}")),
        language: None,
    };
    a.audio_uri = Some(format!("file:///calls/{call_id}.flac"));
    a
}

/// The daily rows of some sellers over a range, summed.
async fn totals(store: &dyn Store, sellers: SellerFilter, range: DateRange) -> DailyAggregate {
    let rows = store.daily(&sellers, range).await.expect("daily");
    let mut t = DailyAggregate::default();
    macro_rules! add {
        ($($field:ident),*) => { for r in &rows { $(t.$field += r.$field;)* } };
    }
    add!(calls, low_confidence_calls, duration_s, talk_ratio_sum, talk_ratio_n, seller_wpm_sum, seller_wpm_n);
    add!(switches, pause_sum, pause_n, longest_customer_monologue_sum, interruptions, seller_questions);
    add!(positive, neutral, negative, won, lost);
    t
}

/// One seller's daily rows of November, summed.
async fn seller_totals(store: &dyn Store, seller: &str) -> DailyAggregate {
    totals(store, SellerFilter::Seller(seller.into()), november()).await
}

/// `sum / n`, as the insights page averages daily sums.
fn mean(sum: f64, n: u64) -> Option<f64> {
    (n > 0).then(|| sum / n as f64)
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9 * a.abs().max(1.0),
        (None, None) => true,
        _ => false,
    }
}

fn history(seller: &str) -> HistoryQuery {
    HistoryQuery {
        seller_id: seller.into(),
        range: november(),
        sort: HistorySort::StartedAt,
        descending: false,
        page: 0,
        page_size: 50,
        term: None,
        term_role: None,
        keyword: None,
    }
}

pub(crate) async fn migrate_is_idempotent(store: &dyn Store) {
    assert!(store.migrate().await.expect("second migrate").is_empty(), "nothing left to apply");
}

pub(crate) async fn write_and_read_back(store: &dyn Store) {
    let calls = vec![
        analysis("c-1", "s-ana", "emea", at(2, 9), 0),
        analysis("c-2", "s-ana", "emea", at(3, 9), 1),
        analysis("c-3", "s-ben", "emea", at(3, 10), 2),
    ];
    let receipt = store.write(&calls).await.expect("write");
    assert_eq!(receipt.call_ids, ["c-1", "c-2", "c-3"]);
    assert_eq!(receipt.replaced, 0);

    let detail = store.call("c-2").await.expect("read").expect("stored");
    assert_eq!(detail.transcript, calls[1].transcript);
    assert_eq!(detail.kpis, calls[1].kpis.kpis);
    assert_eq!(detail.kpi_version, 1);
    assert_eq!(detail.signals, calls[1].signals);
    assert_eq!(detail.summary.customer.as_deref(), Some("Customer 1"));
    assert_eq!(detail.audio_uri.as_deref(), Some("file:///calls/c-2.flac"));
    assert!(store.call("nope").await.expect("read").is_none());

    let page = store.call_history(&history("s-ana")).await.expect("history");
    assert_eq!(page.total, 2);
    assert_eq!(page.items.iter().map(|c| c.call_id.as_str()).collect::<Vec<_>>(), ["c-1", "c-2"]);
    assert_eq!(page.items[0].mentions as usize, calls[0].signals.mentions.len());

    let sellers = store.sellers().await.expect("sellers");
    assert_eq!(
        sellers.iter().map(|s| (s.seller_id.as_str(), s.calls)).collect::<Vec<_>>(),
        [("s-ana", 2), ("s-ben", 1)]
    );
}

pub(crate) async fn attribution_is_kept(store: &dyn Store) {
    let mut flagged = analysis("c-mono", "s-ana", "emea", at(2, 9), 0);
    flagged.attribution = Some(callscope_model::Attribution::new("mono-heuristics", 0.2));
    let plain = analysis("c-plain", "s-ana", "emea", at(2, 10), 1);
    store.write(&[flagged.clone(), plain]).await.expect("write");
    let detail = store.call("c-mono").await.expect("read").expect("stored");
    assert_eq!(detail.attribution, flagged.attribution);
    assert!(detail.attribution.is_some_and(|a| a.low_confidence));
    assert_eq!(store.call("c-plain").await.expect("read").expect("stored").attribution, None);
}

/// The call's language (and detection's probability) are stored, returned
/// with the call and in the history, and a call without one reads as none.
pub(crate) async fn language_is_kept(store: &dyn Store) {
    let mut finnish = analysis("c-fi", "s-ana", "emea", at(3, 9), 0);
    finnish.meta.language = Some(callscope_model::Language::FINNISH);
    finnish.transcript.language = Some(callscope_model::Language::FINNISH);
    finnish.transcript.language_probability = Some(0.97);
    let plain = analysis("c-en", "s-ana", "emea", at(3, 10), 1);
    store.write(&[finnish, plain]).await.expect("write");
    let detail = store.call("c-fi").await.expect("read").expect("stored");
    assert_eq!(detail.summary.language.as_deref(), Some("fi"));
    assert_eq!(detail.transcript.language, Some(callscope_model::Language::FINNISH));
    assert_eq!(detail.transcript.language_probability, Some(0.97));
    let plain = store.call("c-en").await.expect("read").expect("stored");
    assert_eq!((plain.summary.language, plain.transcript.language), (None, None));
    let history = store.call_history(&history("s-ana")).await.expect("history");
    let languages: Vec<(&str, Option<&str>)> =
        history.items.iter().map(|c| (c.call_id.as_str(), c.language.as_deref())).collect();
    assert!(
        languages.contains(&("c-fi", Some("fi"))) && languages.contains(&("c-en", None)),
        "{languages:?}"
    );
}

/// A call whose speaker attribution is flagged counts as a call (and in the
/// duration) but not in the KPIs or sentiment: its numbers may be anyone's.
pub(crate) async fn flagged_calls_stay_out_of_kpis(store: &dyn Store) {
    let trusted = analysis("c-trusted", "s-ana", "emea", at(2, 9), 0);
    let mut flagged = analysis("c-flagged", "s-ana", "emea", at(2, 10), 2);
    flagged.attribution = Some(callscope_model::Attribution::new("mono-heuristics", 0.2));
    assert_ne!(trusted.kpis.kpis.talk_ratio, flagged.kpis.kpis.talk_ratio, "the two calls must differ");
    assert_ne!(trusted.kpis.kpis.switches, flagged.kpis.kpis.switches, "the two calls must differ");
    store.write(&[trusted.clone(), flagged.clone()]).await.expect("write");
    let s = seller_totals(store, "s-ana").await;
    assert_eq!((s.calls, s.low_confidence_calls), (2, 1));
    let history = store.call_history(&history("s-ana")).await.expect("history");
    let flags: Vec<(&str, bool)> =
        history.items.iter().map(|c| (c.call_id.as_str(), c.low_confidence)).collect();
    assert_eq!(flags, [("c-trusted", false), ("c-flagged", true)], "oldest first");
    assert!((s.duration_s - trusted.duration_s - flagged.duration_s).abs() < 1e-6);
    // Only the trusted call is in the KPI sums and counts.
    let kpi_calls = s.calls - s.low_confidence_calls;
    let avg_talk_ratio = mean(s.talk_ratio_sum, s.talk_ratio_n);
    assert!(close(avg_talk_ratio, trusted.kpis.kpis.talk_ratio), "{avg_talk_ratio:?}");
    assert!(close(mean(s.seller_wpm_sum, s.seller_wpm_n), trusted.kpis.kpis.seller_wpm));
    assert!(close(mean(s.switches as f64, kpi_calls), Some(f64::from(trusted.kpis.kpis.switches))));
    assert!(close(
        mean(s.longest_customer_monologue_sum, kpi_calls),
        Some(trusted.kpis.kpis.longest_customer_monologue_s)
    ));
    let labelled = s.positive + s.neutral + s.negative;
    assert_eq!(labelled, u64::from(trusted.signals.sentiment.customer.is_some()));

    // Reprocessed with a trusted attribution, the call counts again.
    flagged.attribution = Some(callscope_model::Attribution::new("voiceprint", 0.9));
    store.write(&[flagged.clone()]).await.expect("rewrite");
    let s = seller_totals(store, "s-ana").await;
    assert_eq!((s.calls, s.low_confidence_calls), (2, 0));
    let both = (trusted.kpis.kpis.switches + flagged.kpis.kpis.switches) as f64 / 2.0;
    let switches_per_call = mean(s.switches as f64, s.calls - s.low_confidence_calls);
    assert!(close(switches_per_call, Some(both)), "{switches_per_call:?}");
}

pub(crate) async fn summary_matches_the_calls(store: &dyn Store) {
    let calls: Vec<CallAnalysis> =
        (0..6).map(|n| analysis(&format!("c-{n}"), "s-ana", "emea", at(2 + n as u32, 9), n)).collect();
    store.write(&calls).await.expect("write");
    let s = seller_totals(store, "s-ana").await;
    let expected = |f: &dyn Fn(&CallAnalysis) -> Option<f64>| {
        let v: Vec<f64> = calls.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    assert_eq!(s.calls, 6);
    let kpi_calls = s.calls - s.low_confidence_calls;
    let avg_talk_ratio = mean(s.talk_ratio_sum, s.talk_ratio_n);
    assert!(close(avg_talk_ratio, expected(&|c| c.kpis.kpis.talk_ratio)), "{avg_talk_ratio:?}");
    assert!(close(mean(s.seller_wpm_sum, s.seller_wpm_n), expected(&|c| c.kpis.kpis.seller_wpm)));
    assert!(close(mean(s.pause_sum, s.pause_n), expected(&|c| c.kpis.kpis.avg_pause_s)));
    assert!(close(mean(s.switches as f64, kpi_calls), expected(&|c| Some(f64::from(c.kpis.kpis.switches)))));
    assert!(close(
        mean(s.longest_customer_monologue_sum, kpi_calls),
        expected(&|c| Some(c.kpis.kpis.longest_customer_monologue_s))
    ));
    let positive = calls
        .iter()
        .filter(|c| {
            c.signals.sentiment.customer.map(|x| x.label) == Some(callscope_model::SentimentLabel::Positive)
        })
        .count() as u64;
    assert_eq!(s.positive, positive);
    assert_eq!(s.positive + s.neutral + s.negative, 6);
    assert_eq!(s.won, 3);

    // Narrower range: only the first three days.
    let s3 = totals(store, SellerFilter::Seller("s-ana".into()), DateRange::new(day(2), day(4))).await;
    assert_eq!(s3.calls, 3);

    // One row per seller and day, in day order (trends bucket them; the
    // weekly grouping is the insights module's, tested there).
    let daily = store.daily(&SellerFilter::Seller("s-ana".into()), november()).await.expect("daily");
    let days: Vec<(&str, NaiveDate, u64)> =
        daily.iter().map(|r| (r.seller_id.as_str(), r.day, r.calls)).collect();
    assert_eq!(days, (2..8).map(|d| ("s-ana", day(d), 1)).collect::<Vec<_>>());
    assert!(daily.iter().all(|r| r.team == "emea"));
}

pub(crate) async fn reprocessing_never_double_counts(store: &dyn Store) {
    let v1 = analysis("c-1", "s-ana", "emea", at(2, 9), 0);
    let other = analysis("c-2", "s-ana", "emea", at(2, 11), 1);
    store.write(&[v1.clone(), other.clone()]).await.expect("write");
    let before = seller_totals(store, "s-ana").await;
    let terms_before = store.term_counts("s-ana", november(), TrackerKind::Competitor).await.expect("terms");
    let keywords_before = store.customer_keywords("s-ana", november()).await.expect("keywords");

    // The same call again, unchanged (a retry): nothing moves.
    let receipt = store.write(std::slice::from_ref(&v1)).await.expect("rewrite");
    assert_eq!(receipt.replaced, 1);
    let again = seller_totals(store, "s-ana").await;
    assert_eq!(again.calls, 2);
    assert!(close(
        mean(again.talk_ratio_sum, again.talk_ratio_n),
        mean(before.talk_ratio_sum, before.talk_ratio_n)
    ));
    assert_eq!(
        store.term_counts("s-ana", november(), TrackerKind::Competitor).await.expect("terms"),
        terms_before
    );
    assert_eq!(store.customer_keywords("s-ana", november()).await.expect("keywords"), keywords_before);

    // Reprocessed with a different transcript (a new model): replaced, not added.
    let v2 = analysis("c-1", "s-ana", "emea", at(2, 9), 4);
    store.write(std::slice::from_ref(&v2)).await.expect("reprocess");
    let after = seller_totals(store, "s-ana").await;
    assert_eq!(after.calls, 2);
    let expected = (v2.kpis.kpis.talk_ratio.unwrap_or(0.0) + other.kpis.kpis.talk_ratio.unwrap_or(0.0)) / 2.0;
    let avg_talk_ratio = mean(after.talk_ratio_sum, after.talk_ratio_n);
    assert!(close(avg_talk_ratio, Some(expected)), "{avg_talk_ratio:?} vs {expected}");
    let detail = store.call("c-1").await.expect("read").expect("stored");
    assert_eq!(detail.transcript, v2.transcript);
    let mentions: u64 = store
        .term_counts("s-ana", november(), TrackerKind::Competitor)
        .await
        .expect("terms")
        .iter()
        .map(|t| t.mentions)
        .sum();
    let expected_mentions = [&v2, &other]
        .iter()
        .flat_map(|c| &c.signals.mentions)
        .filter(|m| m.kind == TrackerKind::Competitor)
        .count() as u64;
    assert_eq!(mentions, expected_mentions);
    assert_eq!(store.call_history(&history("s-ana")).await.expect("history").total, 2);
}

pub(crate) async fn reprocessing_can_move_a_call(store: &dyn Store) {
    store.write(&[analysis("c-1", "s-ana", "emea", at(2, 9), 0)]).await.expect("write");
    // Reassigned to another seller, and it turns out it happened a day later.
    store.write(&[analysis("c-1", "s-ben", "emea", at(3, 9), 0)]).await.expect("move");
    assert_eq!(seller_totals(store, "s-ana").await.calls, 0);
    assert_eq!(seller_totals(store, "s-ben").await.calls, 1);
    assert_eq!(store.call_history(&history("s-ana")).await.expect("history").total, 0);
    let team = totals(store, SellerFilter::Team("emea".into()), november()).await;
    assert_eq!(team.calls, 1);
    assert_eq!(store.sellers().await.expect("sellers").len(), 1);
}

pub(crate) async fn bad_input_stores_nothing(store: &dyn Store) {
    let good = analysis("c-1", "s-ana", "emea", at(2, 9), 0);
    let mut no_seller = analysis("c-2", "", "emea", at(2, 10), 1);
    no_seller.meta.seller_id = String::new();
    let err = store.write(&[good.clone(), no_seller]).await.expect_err("missing seller");
    assert!(matches!(err, StoreError::InvalidInput { field: "seller_id", .. }), "{err}");
    assert_eq!(err.retry(), Retry::Never);

    let mut nan = analysis("c-3", "s-ana", "emea", at(2, 11), 2);
    nan.kpis.kpis.seller_talk_s = f64::NAN;
    let err = store.write(&[good, nan]).await.expect_err("NaN KPI");
    assert!(matches!(err, StoreError::InvalidInput { field: "kpis", .. }), "{err}");

    assert_eq!(store.call_history(&history("s-ana")).await.expect("history").total, 0);
    assert!(store.call("c-1").await.expect("read").is_none());
}

pub(crate) async fn concurrent_writers_end_consistent(store: &dyn Store) {
    let a = analysis("c-1", "s-ana", "emea", at(2, 9), 0);
    let b = analysis("c-1", "s-ana", "emea", at(2, 9), 3);
    let (ra, rb) = tokio::join!(store.write(std::slice::from_ref(&a)), store.write(std::slice::from_ref(&b)));
    ra.expect("writer a");
    rb.expect("writer b");
    let detail = store.call("c-1").await.expect("read").expect("stored");
    let winner = if detail.transcript == a.transcript { &a } else { &b };
    assert_eq!(detail.transcript, winner.transcript, "one version, whole");
    assert_eq!(detail.kpis, winner.kpis.kpis);
    let s = seller_totals(store, "s-ana").await;
    assert_eq!(s.calls, 1);
    assert!(close(mean(s.talk_ratio_sum, s.talk_ratio_n), winner.kpis.kpis.talk_ratio));
    let mentions: u64 = store
        .term_counts("s-ana", november(), TrackerKind::Keyword)
        .await
        .expect("terms")
        .iter()
        .map(|t| t.mentions)
        .sum();
    let expected = winner.signals.mentions.iter().filter(|m| m.kind == TrackerKind::Keyword).count() as u64;
    assert_eq!(mentions, expected);
}

pub(crate) async fn terms_and_keywords(store: &dyn Store) {
    let calls = vec![
        analysis("c-1", "s-ana", "emea", at(2, 9), 0),
        analysis("c-2", "s-ana", "emea", at(3, 9), 3),
        analysis("c-3", "s-ben", "emea", at(3, 10), 2),
    ];
    store.write(&calls).await.expect("write");
    let terms = store.term_counts("s-ana", november(), TrackerKind::Competitor).await.expect("terms");
    let mut expected: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    for m in calls[..2].iter().flat_map(|c| &c.signals.mentions).filter(|m| m.kind == TrackerKind::Competitor)
    {
        let e = expected.entry(m.term.clone()).or_default();
        e.0 += 1;
        e.1 += u64::from(m.role == callscope_model::Role::Customer);
    }
    assert_eq!(terms.len(), expected.len(), "{terms:?}");
    for t in &terms {
        assert_eq!((t.mentions, t.by_customer), expected[&t.term], "{}", t.term);
        let said_by_customer = |c: &CallAnalysis| {
            c.signals.mentions.iter().any(|m| m.term == t.term && m.role == callscope_model::Role::Customer)
        };
        let customer_calls = calls[..2].iter().filter(|c| said_by_customer(c)).count() as u64;
        assert_eq!(t.customer_calls, customer_calls, "{}", t.term);
    }
    assert!(
        terms.iter().any(|t| t.customer_calls > 0 && t.customer_calls <= t.calls),
        "the fixture has customer mentions: {terms:?}"
    );
    assert!(terms.windows(2).all(|w| w[0].mentions >= w[1].mentions), "most mentioned first");

    // The raw figures of every phrase of the seller's customers: count and
    // calls in the seller's calls, document frequency over every call of the
    // range (all sellers); the ranking is the insights module's.
    let keywords = store.customer_keywords("s-ana", november()).await.expect("keywords");
    let ana = &calls[..2];
    let mut expected: BTreeMap<String, PhraseFigures> = BTreeMap::new();
    for k in ana.iter().flat_map(|c| &c.signals.customer_keywords) {
        let e = expected.entry(k.phrase.clone()).or_insert_with(|| PhraseFigures {
            phrase: k.phrase.clone(),
            count: 0,
            calls: 0,
            df: 0,
        });
        e.count += u64::from(k.count);
    }
    let contains =
        |c: &CallAnalysis, phrase: &str| c.signals.customer_keywords.iter().any(|k| k.phrase == phrase);
    for e in expected.values_mut() {
        e.calls = ana.iter().filter(|c| contains(c, &e.phrase)).count() as u64;
        e.df = calls.iter().filter(|c| contains(c, &e.phrase)).count() as u64;
    }
    assert!(!expected.is_empty());
    assert_eq!(keywords, KeywordFigures { range_calls: 3, phrases: expected.into_values().collect() });
    let top = keywords.phrases.iter().max_by_key(|p| (p.calls, p.count)).expect("a phrase");

    // Filters of the history: calls mentioning a term, calls with a keyword.
    let term = &terms[0].term;
    let with_term = store
        .call_history(&HistoryQuery { term: Some(term.clone()), ..history("s-ana") })
        .await
        .expect("history");
    assert_eq!(with_term.total, terms[0].calls);
    // The same term said by the customer only: the calls where the customer said it.
    let by_customer = store
        .call_history(&HistoryQuery {
            term: Some(term.clone()),
            term_role: Some(callscope_model::Role::Customer),
            ..history("s-ana")
        })
        .await
        .expect("history");
    assert_eq!(by_customer.total, terms[0].customer_calls);
    let with_keyword = store
        .call_history(&HistoryQuery { keyword: Some(top.phrase.clone()), ..history("s-ana") })
        .await
        .expect("history");
    assert_eq!(with_keyword.total, top.calls);
}

pub(crate) async fn history_sorts_and_pages(store: &dyn Store) {
    let calls: Vec<CallAnalysis> =
        (0..6).map(|n| analysis(&format!("c-{n}"), "s-ana", "emea", at(2 + n as u32, 9), n)).collect();
    store.write(&calls).await.expect("write");
    let mut q =
        HistoryQuery { sort: HistorySort::Duration, descending: true, page_size: 4, ..history("s-ana") };
    let first = store.call_history(&q).await.expect("page 0");
    q.page = 1;
    let second = store.call_history(&q).await.expect("page 1");
    assert_eq!((first.total, first.items.len(), second.items.len()), (6, 4, 2));
    let durations: Vec<f64> = first.items.iter().chain(&second.items).map(|c| c.duration_s).collect();
    assert!(durations.windows(2).all(|w| w[0] >= w[1]), "{durations:?}");
    let mut expected: Vec<f64> = calls.iter().map(|c| c.duration_s).collect();
    expected.sort_by(|a, b| b.total_cmp(a));
    assert_eq!(durations, expected);

    // The KPI columns (the coaching examples sort by them): each row carries
    // its call's KPIs, and each order holds on both backends.
    for c in &calls {
        let row = first.items.iter().chain(&second.items).find(|r| r.call_id == c.meta.call_id).expect("row");
        let k = &c.kpis.kpis;
        assert_eq!(
            (row.seller_wpm, row.switches, row.avg_pause_s, row.interruptions, row.seller_questions),
            (k.seller_wpm, k.switches, k.avg_pause_s, k.interruptions, k.seller_questions),
            "{}",
            c.meta.call_id
        );
        assert_eq!(row.longest_customer_monologue_s, k.longest_customer_monologue_s);
    }
    type Value = fn(&CallSummary) -> f64;
    let orders: [(HistorySort, Value); 6] = [
        (HistorySort::SellerWpm, |c| c.seller_wpm.unwrap_or(f64::NAN)),
        (HistorySort::Switches, |c| f64::from(c.switches)),
        (HistorySort::AvgPause, |c| c.avg_pause_s.unwrap_or(f64::NAN)),
        (HistorySort::LongestCustomerMonologue, |c| c.longest_customer_monologue_s),
        (HistorySort::Interruptions, |c| f64::from(c.interruptions)),
        (HistorySort::SellerQuestions, |c| f64::from(c.seller_questions)),
    ];
    for (sort, value) in orders {
        for descending in [false, true] {
            let page = store
                .call_history(&HistoryQuery { sort, descending, page_size: 10, ..history("s-ana") })
                .await
                .expect("history");
            let got: Vec<f64> = page.items.iter().map(value).filter(|v| !v.is_nan()).collect();
            let mut want = got.clone();
            want.sort_by(|a, b| if descending { b.total_cmp(a) } else { a.total_cmp(b) });
            assert_eq!(got, want, "{sort:?} descending={descending}");
            assert_eq!(page.items.len(), 6);
        }
    }
}

/// A team's daily rows: every seller of the team, nobody else's, each with
/// the sums of their own calls (the team's bands are computed from these by
/// the insights module).
pub(crate) async fn team_rows_cover_its_sellers(store: &dyn Store) {
    let mut calls = Vec::new();
    for (i, seller) in ["s-a", "s-b", "s-c", "s-d"].iter().enumerate() {
        calls.push(analysis(&format!("c-{i}-1"), seller, "emea", at(2, 9 + i as u32), i));
        calls.push(analysis(&format!("c-{i}-2"), seller, "emea", at(9, 9 + i as u32), i + 1));
    }
    calls.push(analysis("c-x", "s-x", "apac", at(2, 9), 5));
    store.write(&calls).await.expect("write");
    let rows = store.daily(&SellerFilter::Team("emea".into()), november()).await.expect("daily");
    let sellers: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.seller_id.as_str()).collect();
    assert_eq!(sellers.into_iter().collect::<Vec<_>>(), ["s-a", "s-b", "s-c", "s-d"]);
    assert_eq!(rows.iter().map(|r| r.calls).sum::<u64>(), 8);
    assert!(rows.iter().all(|r| r.team == "emea"));
    for seller in ["s-a", "s-b", "s-c", "s-d"] {
        let mine: Vec<&CallAnalysis> = calls.iter().filter(|c| c.meta.seller_id == seller).collect();
        let t = totals(store, SellerFilter::Seller(seller.into()), november()).await;
        let sum: f64 = mine.iter().filter_map(|c| c.kpis.kpis.talk_ratio).sum();
        let n = mine.iter().filter(|c| c.kpis.kpis.talk_ratio.is_some()).count() as u64;
        assert_eq!(t.talk_ratio_n, n, "{seller}");
        assert!((t.talk_ratio_sum - sum).abs() < 1e-9, "{seller}: {} vs {sum}", t.talk_ratio_sum);
    }
}

pub(crate) async fn comments_round_trip(store: &dyn Store) {
    store.write(&[analysis("c-1", "s-ana", "emea", at(2, 9), 0)]).await.expect("write");
    let new = |author: &str, text: &str| NewComment {
        call_id: "c-1".into(),
        author: author.into(),
        author_role: "manager".into(),
        at_s: Some(12.5),
        text: text.into(),
        parent_id: None,
        turn: None,
        start_s: None,
        end_s: None,
    };
    let first = store.add_comment(new("m-maria", "Ask about budget here")).await.expect("add");
    let reply = store
        .add_comment(NewComment { parent_id: Some(first.comment_id.clone()), ..new("s-ana", "Will do") })
        .await
        .expect("reply");
    let list = store.comments("c-1").await.expect("list");
    assert_eq!(list, vec![first.clone(), reply.clone()]);
    // The seller's page lists the comments on their calls, newest first.
    let recent = store.seller_comments("s-ana", november(), 10).await.expect("seller comments");
    assert_eq!(recent, vec![reply.clone(), first.clone()]);
    assert!(store.seller_comments("s-ben", november(), 10).await.expect("other seller").is_empty());
    assert!(
        store.seller_comments("s-ana", DateRange::new(day(20), day(30)), 10).await.expect("range").is_empty()
    );
    assert!(store.add_comment(new("m-maria", "  ")).await.is_err(), "empty text is rejected");

    // One comment by id, with its author (who may delete it is the API's rule).
    assert_eq!(store.comment(&first.comment_id).await.expect("read"), Some(first.clone()));
    assert_eq!(store.comment("cm-unknown").await.expect("read"), None);
    assert!(store.delete_comment(&first.comment_id).await.expect("delete"));
    assert!(!store.delete_comment("cm-unknown").await.expect("unknown"));
    assert_eq!(store.comment(&first.comment_id).await.expect("read"), None, "deleted");
    assert!(!store.delete_comment(&first.comment_id).await.expect("again"), "already deleted");
    assert_eq!(store.comments("c-1").await.expect("list"), vec![reply.clone()]);

    // Anchored to the transcript: a line (turn) and a word range, kept as given.
    let anchored = store
        .add_comment(NewComment {
            turn: Some(3),
            start_s: Some(14.25),
            end_s: Some(16.5),
            at_s: Some(14.25),
            ..new("m-maria", "This question, exactly")
        })
        .await
        .expect("anchored");
    let read = store.comment(&anchored.comment_id).await.expect("read").expect("stored");
    assert_eq!(read, anchored);
    assert_eq!(
        (read.comment.turn, read.comment.start_s, read.comment.end_s),
        (Some(3), Some(14.25), Some(16.5))
    );
    assert_eq!(read.edited_at, None);
    // Edited by its author: new text and an edit time; anchor, author and creation time stay.
    let edited = store.edit_comment(&anchored.comment_id, "This question, exactly. Ask it earlier.").await;
    let edited = edited.expect("edit").expect("exists");
    assert_eq!(edited.comment.text, "This question, exactly. Ask it earlier.");
    assert!(edited.edited_at.is_some_and(|t| t >= anchored.created_at), "{edited:?}");
    assert_eq!(
        (edited.created_at, &edited.comment.author, edited.comment.turn, edited.comment.start_s),
        (anchored.created_at, &anchored.comment.author, Some(3), Some(14.25))
    );
    assert_eq!(store.comment(&anchored.comment_id).await.expect("read"), Some(edited.clone()));
    assert_eq!(store.comments("c-1").await.expect("list"), vec![reply, edited]);
    assert_eq!(store.edit_comment("cm-unknown", "x").await.expect("unknown"), None);
    assert!(store.edit_comment(&anchored.comment_id, " ").await.is_err(), "empty text is rejected");
}

/// October and November 2026, the range the erasure checks read.
fn autumn() -> DateRange {
    DateRange::new(NaiveDate::from_ymd_opt(2026, 10, 1).expect("valid date"), day(30))
}

fn october(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, d, 9, 0, 0).single().expect("valid time")
}

/// Rounds every float of a JSON value (sums may be added up in another order).
fn rounded(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            serde_json::json!((n.as_f64().unwrap_or_default() * 1e6).round() / 1e6)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(rounded).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, rounded(v))).collect()),
        other @ (Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_)) => other,
    }
}

/// Everything the insights page reads about the sellers of the erasure checks.
async fn read_everything(store: &dyn Store) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    let mut daily = store.daily(&SellerFilter::All, autumn()).await.expect("daily");
    daily.sort_by(|a, b| (&a.seller_id, a.day).cmp(&(&b.seller_id, b.day)));
    out.insert("daily".into(), serde_json::to_value(daily).expect("json"));
    out.insert(
        "sellers".into(),
        serde_json::to_value(store.sellers().await.expect("sellers")).expect("json"),
    );
    for seller in ["s-ana", "s-ben", "s-cid", "s-dan"] {
        let mentions = store.mention_counts(seller, autumn()).await.expect("mentions");
        let keywords = store.customer_keywords(seller, autumn()).await.expect("keywords");
        let query = HistoryQuery { range: autumn(), ..history(seller) };
        let page = store.call_history(&query).await.expect("history");
        let comments = store.seller_comments(seller, autumn(), 100).await.expect("comments");
        out.insert(format!("{seller}/mentions"), serde_json::to_value(mentions).expect("json"));
        out.insert(format!("{seller}/keywords"), serde_json::to_value(keywords).expect("json"));
        out.insert(format!("{seller}/history"), serde_json::to_value(page).expect("json"));
        out.insert(format!("{seller}/comments"), serde_json::to_value(comments).expect("json"));
    }
    rounded(serde_json::Value::Object(out))
}

fn share_of(call_id: &str, seller: &str, recipients: &[&str]) -> NewShare {
    NewShare {
        call_id: call_id.into(),
        seller_id: seller.into(),
        start_s: None,
        end_s: None,
        note: "worth a listen".into(),
        created_by: "m-maria".into(),
        recipients: recipients.iter().map(|r| (*r).to_owned()).collect(),
        collection: String::new(),
    }
}

/// Shares: stored with every recipient, found by any recipient key, by call,
/// and by id; revoked ones are gone; bad shares are refused.
pub(crate) async fn shares_round_trip(store: &dyn Store) {
    store
        .write(&[
            analysis("c-1", "s-ana", "emea", at(2, 9), 0),
            analysis("c-2", "s-ana", "emea", at(3, 9), 1),
        ])
        .await
        .expect("write");
    let whole = store.add_share(share_of("c-1", "s-ana", &["team:emea"])).await.expect("share");
    let clip = store
        .add_share(NewShare {
            start_s: Some(10.5),
            end_s: Some(20.25),
            collection: "Great discovery questions".into(),
            ..share_of("c-2", "s-ana", &["s-ben", "s-cid"])
        })
        .await
        .expect("clip");
    assert_eq!(store.share(&clip.share_id).await.expect("read"), Some(clip.clone()));
    assert_eq!(store.call_shares("c-2").await.expect("by call"), vec![clip.clone()]);
    // By recipient: a seller's own id and their team's key; newest first.
    let for_ben = store.shares_for(&["s-ben".into(), "team:emea".into()]).await.expect("for ben");
    assert_eq!(for_ben, vec![clip.clone(), whole.clone()]);
    let for_dan = store.shares_for(&["s-dan".into(), "team:apac".into()]).await.expect("for dan");
    assert!(for_dan.is_empty(), "{for_dan:?}");
    assert!(store.shares_for(&[]).await.expect("nobody").is_empty());
    // Revoked: gone for everyone.
    assert!(store.revoke_share(&clip.share_id).await.expect("revoke"));
    assert!(!store.revoke_share(&clip.share_id).await.expect("again"), "already revoked");
    assert_eq!(store.share(&clip.share_id).await.expect("read"), None);
    assert_eq!(store.shares_for(&["s-cid".into()]).await.expect("for cid"), vec![]);
    assert_eq!(store.shares_for(&["s-ben".into(), "team:emea".into()]).await.expect("for ben"), vec![whole]);
    // Refused: no recipient, a clip with its ends reversed.
    assert!(store.add_share(share_of("c-1", "s-ana", &[])).await.is_err());
    let reversed = NewShare { start_s: Some(5.0), end_s: Some(1.0), ..share_of("c-1", "s-ana", &["s-ben"]) };
    assert!(store.add_share(reversed).await.is_err());
    // A collection name: at most 80 characters, trimmed, no control characters.
    for bad in ["x".repeat(81), " padded".into(), "two\nlines".into()] {
        let share = NewShare { collection: bad.clone(), ..share_of("c-1", "s-ana", &["s-ben"]) };
        assert!(store.add_share(share).await.is_err(), "{bad:?}");
    }
    let named = NewShare { collection: "Ä".repeat(80), ..share_of("c-1", "s-ana", &["s-ben"]) };
    let named = store.add_share(named).await.expect("80 characters");
    assert_eq!(
        store.share(&named.share_id).await.expect("read").expect("share").share.collection,
        "Ä".repeat(80)
    );
}

fn comment_on(call_id: &str, text: &str) -> NewComment {
    NewComment {
        call_id: call_id.into(),
        author: "m-maria".into(),
        author_role: "manager".into(),
        at_s: Some(3.0),
        text: text.into(),
        parent_id: None,
        turn: None,
        start_s: None,
        end_s: None,
    }
}

/// Erasure by call, by seller and by start date: every erased call is gone
/// (row, pieces, comments), everything the page reads equals a store that
/// never had them (a fresh recomputation), a dry run removes nothing, and a
/// second run is a no-op. Returns the erased call ids and the erased seller,
/// for the backend's scan of its raw tables.
pub(crate) async fn erasure_leaves_no_trace(store: &dyn Store) -> (Vec<String>, String) {
    // What stays: written first, read as the reference.
    let keep = vec![
        analysis("r-1", "s-ana", "emea", at(2, 9), 0),
        analysis("r-2", "s-ana", "emea", at(3, 9), 1),
        analysis("r-3", "s-ben", "emea", at(3, 10), 2),
        analysis("r-4", "s-cid", "apac", at(5, 9), 3),
    ];
    store.write(&keep).await.expect("write kept calls");
    store.add_comment(comment_on("r-1", "stays")).await.expect("comment");
    store.add_share(share_of("r-1", "s-ana", &["s-ben"])).await.expect("share");
    let fresh = read_everything(store).await;

    // What goes: on the same days and sellers, a seller of its own, October.
    let x1_moved = analysis("x-1", "s-ben", "emea", at(4, 9), 4);
    store.write(&[x1_moved]).await.expect("write x-1");
    let doomed = vec![
        analysis("x-1", "s-ana", "emea", at(3, 11), 5), // reprocessed: moved seller and day
        analysis("x-2", "s-dan", "emea", at(6, 9), 0),
        analysis("x-3", "s-dan", "emea", at(7, 9), 1),
        analysis("x-4", "s-ben", "emea", october(20), 2),
        analysis("x-5", "s-ana", "emea", october(25), 3),
    ];
    store.write(&doomed).await.expect("write erased calls");
    for id in ["x-1", "x-2", "x-4"] {
        store.add_comment(comment_on(id, "goes")).await.expect("comment");
    }
    store.add_share(share_of("x-2", "s-dan", &["s-ana", "team:emea"])).await.expect("share");
    assert_ne!(read_everything(store).await, fresh);

    // A dry run says what would go and removes nothing.
    let preview = store.erase(&EraseScope::Calls(vec!["x-1".into()]), true).await.expect("dry run");
    assert_eq!(preview.calls.iter().map(|c| c.call_id.as_str()).collect::<Vec<_>>(), ["x-1"]);
    assert!(store.call("x-1").await.expect("read").is_some(), "a dry run removes nothing");

    // By call.
    let by_call =
        store.erase(&EraseScope::Calls(vec!["x-1".into(), "nope".into()]), false).await.expect("erase");
    assert_eq!(by_call.calls.len(), 1);
    let call = &by_call.calls[0];
    assert_eq!((call.call_id.as_str(), call.seller_id.as_str()), ("x-1", "s-ana"));
    assert_eq!(call.started_at, at(3, 11));
    assert_eq!(call.audio_uri.as_deref(), Some("file:///calls/x-1.flac"));
    assert!(by_call.rows_of("calls") >= 1);
    assert!(by_call.rows_of("utterances") > 0, "{:?}", by_call.rows);
    assert_eq!(by_call.rows_of("comments"), 1, "{:?}", by_call.rows);

    // By seller.
    let by_seller = store.erase(&EraseScope::Seller("s-dan".into()), false).await.expect("erase seller");
    assert_eq!(by_seller.calls.iter().map(|c| c.call_id.as_str()).collect::<Vec<_>>(), ["x-2", "x-3"]);
    assert_eq!(by_seller.rows_of("comments"), 1);
    assert_eq!(by_seller.rows_of("shares"), 2, "{:?}", by_seller.rows);

    // By start: everything before November.
    let november_1 = at(1, 0);
    let preview = store.erase(&EraseScope::StartedBefore(november_1), true).await.expect("dry run");
    assert_eq!(preview.calls.iter().map(|c| c.call_id.as_str()).collect::<Vec<_>>(), ["x-4", "x-5"]);
    let before = store.erase(&EraseScope::StartedBefore(november_1), false).await.expect("erase before");
    assert_eq!(before.calls, preview.calls);
    assert_eq!(before.calls[0].team, "emea");

    for id in ["x-1", "x-2", "x-3", "x-4", "x-5"] {
        assert!(store.call(id).await.expect("read").is_none(), "{id} is gone");
        assert!(store.comments(id).await.expect("comments").is_empty(), "{id}'s comments are gone");
    }
    assert_eq!(store.comments("r-1").await.expect("comments").len(), 1, "other calls' comments stay");
    assert!(store.call_shares("x-2").await.expect("shares").is_empty(), "the erased call's shares are gone");
    assert_eq!(store.call_shares("r-1").await.expect("shares").len(), 1, "other calls' shares stay");
    assert_eq!(read_everything(store).await, fresh, "equal to a store that never had the erased calls");

    // Again: nothing to do, nothing changes.
    for scope in [
        EraseScope::Calls(vec!["x-1".into()]),
        EraseScope::Seller("s-dan".into()),
        EraseScope::StartedBefore(november_1),
    ] {
        let again = store.erase(&scope, false).await.expect("erase again");
        assert!(again.is_empty(), "{scope:?}: {again:?}");
    }
    assert_eq!(read_everything(store).await, fresh, "a second run is a no-op");
    (["x-1", "x-2", "x-3", "x-4", "x-5"].map(String::from).to_vec(), "s-dan".into())
}

/// The audit trail: entries come back newest first, filtered by time, user
/// and call, limited; expiry removes what is older than its cut-off (a dry run
/// only counts, a second run finds nothing); the TTL can be set and removed.
pub(crate) async fn audit_log_round_trip(store: &dyn Store) {
    let entry = |day: u32, hour: u32, user: &str, role: &str, action: AuditAction, call: &str| AuditEntry {
        at: at(day, hour),
        user_id: user.into(),
        user_role: role.into(),
        action,
        call_id: call.into(),
        seller_id: "s-ana".into(),
    };
    let entries = vec![
        entry(2, 9, "m-maria", "manager", AuditAction::OpenCall, "c-1"),
        entry(2, 10, "m-maria", "manager", AuditAction::PlayAudio, "c-1"),
        entry(5, 9, "s-ana", "seller", AuditAction::OpenCall, "c-2"),
        entry(9, 9, "a-admin", "admin", AuditAction::EraseSeller, ""),
    ];
    store.record_audit(&entries).await.expect("record");
    let all = AuditQuery { limit: 100, ..AuditQuery::default() };
    let read = store.audit_log(&all).await.expect("read");
    let mut newest_first = entries.clone();
    newest_first.reverse();
    assert_eq!(read, newest_first);
    let maria = store
        .audit_log(&AuditQuery { user_id: Some("m-maria".into()), ..all.clone() })
        .await
        .expect("by user");
    assert_eq!(
        maria.iter().map(|e| e.action).collect::<Vec<_>>(),
        [AuditAction::PlayAudio, AuditAction::OpenCall]
    );
    let c2 =
        store.audit_log(&AuditQuery { call_id: Some("c-2".into()), ..all.clone() }).await.expect("by call");
    assert_eq!(c2, [entries[2].clone()]);
    let window = AuditQuery { from: Some(at(2, 10)), to: Some(at(9, 9)), ..all.clone() };
    assert_eq!(store.audit_log(&window).await.expect("window"), [entries[2].clone(), entries[1].clone()]);
    let one = store.audit_log(&AuditQuery { limit: 1, ..all.clone() }).await.expect("limit");
    assert_eq!(one, [entries[3].clone()]);

    assert_eq!(store.expire_audit(at(5, 0), true).await.expect("dry run"), 2);
    assert_eq!(store.audit_log(&all).await.expect("read").len(), 4, "a dry run removes nothing");
    assert_eq!(store.expire_audit(at(5, 0), false).await.expect("expire"), 2);
    assert_eq!(store.audit_log(&all).await.expect("read"), [entries[3].clone(), entries[2].clone()]);
    assert_eq!(store.expire_audit(at(5, 0), false).await.expect("again"), 0, "a second run is a no-op");

    // Periods far longer than the entries' age, whatever today's date; the
    // longest would wrap ClickHouse's DateTime (after 2106), so it sets none.
    store.set_audit_ttl(3650).await.expect("ttl");
    store.set_audit_ttl(3650).await.expect("ttl again");
    assert_eq!(store.audit_log(&all).await.expect("read").len(), 2, "a TTL keeps recent entries");
    store.set_audit_ttl(36_500).await.expect("a period past 2106");
    assert_eq!(store.audit_log(&all).await.expect("read").len(), 2, "no wrapped expiry");
    store.set_audit_ttl(0).await.expect("no ttl");
    store.set_audit_ttl(0).await.expect("no ttl again");
    assert_eq!(store.audit_log(&all).await.expect("read").len(), 2, "setting the TTL keeps recent entries");
}

/// A search of November over `scope`.
fn search_of(phrase: &str, scope: SearchScope) -> SearchQuery {
    SearchQuery { phrase: phrase.into(), scope, seller: None, range: november(), said_by: None, limit: 100 }
}

/// `(call, turn)` of each hit.
fn hit_keys(hits: &[SearchHit]) -> Vec<(String, u32)> {
    hits.iter().map(|h| (h.call_id.clone(), h.turn)).collect()
}

/// The turns of dev transcript `n` whose text holds `needle` (lower case, as
/// written), said by `role` if given: what a search must find, worked out
/// from the fixture without the store.
fn turns_with(n: usize, needle: &str, role: Option<callscope_model::Role>) -> Vec<u32> {
    fixture(n)
        .turns
        .iter()
        .enumerate()
        .filter(|(_, t)| t.text.to_lowercase().contains(needle) && role.is_none_or(|r| t.role == r))
        .map(|(i, _)| u32::try_from(i).expect("turn"))
        .collect()
}

/// Expected keys: these calls (newest first, as given), each with `turns`.
fn keys(calls: &[&str], turns: &[u32]) -> Vec<(String, u32)> {
    calls.iter().flat_map(|c| turns.iter().map(move |t| ((*c).to_owned(), *t))).collect()
}

/// Search across transcripts: a phrase found whole and in order, whatever
/// its case; newest call first; the said-by, seller, date and scope filters
/// (shared calls and clips included); a reprocessed call found once, in its
/// current words; an erased call never; query syntax in the input is text.
pub(crate) async fn search_finds_phrases(store: &dyn Store) {
    use callscope_model::Role;
    let calls = vec![
        analysis("q-1", "s-ana", "emea", at(2, 9), 0),
        analysis("q-2", "s-ana", "emea", at(5, 9), 0),
        analysis("q-3", "s-ben", "emea", at(3, 10), 0),
        analysis("q-4", "s-ana", "emea", at(4, 9), 1),
    ];
    store.write(&calls).await.expect("write");
    let all = |phrase: &str| search_of(phrase, SearchScope::All);
    let find = |q: SearchQuery| async move { store.search(&q).await.expect("search") };

    // The phrase, in any case, newest call first, each hit pointing at its line.
    let turns = turns_with(0, "free version of hubspot", None);
    assert_eq!(turns.len(), 1, "the fixture says it once");
    let expected = keys(&["q-2", "q-3", "q-1"], &turns);
    let hits = find(all("free version of HubSpot")).await;
    assert_eq!(hit_keys(&hits), expected);
    assert_eq!(hit_keys(&find(all("FREE Version OF hubspot")).await), expected);
    let turn = &calls[0].turns[turns[0] as usize];
    let hit = &hits[0];
    assert_eq!((hit.seller_id.as_str(), hit.started_at, hit.role), ("s-ana", at(5, 9), turn.role));
    assert_eq!((hit.start_s, hit.end_s), (turn.start, turn.end));
    let chars: Vec<char> = hit.snippet.chars().collect();
    let marked: Vec<String> = hit.highlights.iter().map(|[s, e]| chars[*s..*e].iter().collect()).collect();
    assert_eq!(marked, ["free version of HubSpot"], "{}", hit.snippet);
    assert!(turn.text.contains(hit.snippet.trim_matches('…')), "{}", hit.snippet);

    // Whole words in order only; query syntax is words.
    assert!(find(all("version of free")).await.is_empty());
    assert!(find(all("hubspo")).await.is_empty());
    assert!(find(all("\"free\" AND version* of HubSpot")).await.is_empty(), "AND is a word");
    assert_eq!(hit_keys(&find(all("free \"version\" of* (HubSpot)")).await), expected);
    assert!(find(all("\" OR * NEAR hubspot")).await.is_empty());
    for short in ["", "ok", "\"*\""] {
        let err = store.search(&all(short)).await.expect_err(short);
        assert!(matches!(err, StoreError::InvalidInput { field: "q", .. }), "{short}: {err}");
    }

    // Said by.
    let seller_turns = turns_with(0, "deal", Some(Role::Seller));
    let customer_turns = turns_with(0, "deal", Some(Role::Customer));
    assert!(!seller_turns.is_empty() && !customer_turns.is_empty(), "both sides say deal");
    let by = |role| SearchQuery { said_by: Some(role), seller: Some("s-ben".into()), ..all("deal") };
    assert_eq!(hit_keys(&find(by(Role::Seller)).await), keys(&["q-3"], &seller_turns));
    assert_eq!(hit_keys(&find(by(Role::Customer)).await), keys(&["q-3"], &customer_turns));
    assert!(
        find(SearchQuery { said_by: Some(Role::Seller), ..all("free version of hubspot") }).await.is_empty()
    );

    // Seller, dates, limit.
    let ben = SearchQuery { seller: Some("s-ben".into()), ..all("free version of hubspot") };
    assert_eq!(hit_keys(&find(ben).await), keys(&["q-3"], &turns));
    let late = SearchQuery { range: DateRange::new(day(4), day(30)), ..all("free version of hubspot") };
    assert_eq!(hit_keys(&find(late).await), keys(&["q-2"], &turns));
    let one = SearchQuery { limit: 1, ..all("free version of hubspot") };
    assert_eq!(hit_keys(&find(one).await), keys(&["q-2"], &turns));

    // Scope: sellers, a shared call, a clip of one.
    let only = |sellers: &[&str], shared: Vec<SharedSpan>| SearchScope::Only {
        sellers: sellers.iter().map(|s| (*s).to_owned()).collect(),
        shared,
    };
    let scoped = |scope| search_of("free version of hubspot", scope);
    assert_eq!(hit_keys(&find(scoped(only(&["s-ana"], vec![]))).await), keys(&["q-2", "q-1"], &turns));
    assert!(find(scoped(only(&["s-cid"], vec![]))).await.is_empty(), "not another seller's calls");
    assert!(find(scoped(only(&[], vec![]))).await.is_empty(), "nothing in scope, nothing found");
    let q3 = |clip| SharedSpan { call_id: "q-3".into(), clip };
    assert_eq!(hit_keys(&find(scoped(only(&["s-cid"], vec![q3(None)]))).await), keys(&["q-3"], &turns));
    assert_eq!(
        hit_keys(&find(scoped(only(&[], vec![q3(Some((turn.start + 1.0, turn.end + 5.0)))]))).await),
        keys(&["q-3"], &turns),
        "a clip finds the lines it overlaps"
    );
    assert!(
        find(scoped(only(&[], vec![q3(Some((0.0, turn.start - 0.5)))]))).await.is_empty(),
        "a clip finds nothing outside it"
    );

    // Reprocessing: found once, then in its new words only.
    store.write(&calls[..1]).await.expect("reprocess, same words");
    assert_eq!(hit_keys(&find(all("free version of hubspot")).await), expected);
    store.write(&[analysis("q-1", "s-ana", "emea", at(2, 9), 2)]).await.expect("reprocess, new words");
    assert_eq!(hit_keys(&find(all("free version of hubspot")).await), keys(&["q-2", "q-3"], &turns));

    // A word inside longer words in more lines than one read of candidates:
    // the whole word is still found.
    let mut calls = Vec::new();
    for k in 0..30 {
        let mut decoy = analysis(&format!("q-decoy-{k}"), "s-dan", "emea", at(20, 9), 3);
        decoy.turns.iter_mut().for_each(|t| t.text = "Budgetary matters, budgetary limits.".into());
        calls.push(decoy);
    }
    let mut real = analysis("q-real", "s-dan", "emea", at(19, 9), 3);
    real.turns.iter_mut().for_each(|t| t.text = "Nothing here.".into());
    real.turns[1].text = "What is the budget?".into();
    calls.push(real);
    assert!(calls[0].turns.len() * 30 > 400, "more decoy lines than two reads");
    store.write(&calls).await.expect("write decoys");
    let dan = SearchQuery { seller: Some("s-dan".into()), limit: 5, ..all("budget") };
    assert_eq!(hit_keys(&find(dan).await), [("q-real".to_owned(), 1)]);

    // Across months (each with its own index tokens) and read windows: the
    // newest first, and a limit met before the oldest window is read.
    let mut year = Vec::new();
    for (id, month, day) in [("q-jan", 1, 15), ("q-jun", 6, 10), ("q-dec", 12, 30)] {
        let started = Utc.with_ymd_and_hms(2026, month, day, 9, 0, 0).single().expect("time");
        let mut call = analysis(id, "s-eve", "emea", started, 3);
        call.turns[2].text = "The zebra contract renews in spring.".into();
        year.push(call);
    }
    store.write(&year).await.expect("write a year");
    let whole_year = DateRange::new(
        NaiveDate::from_ymd_opt(2026, 1, 1).expect("day"),
        NaiveDate::from_ymd_opt(2026, 12, 31).expect("day"),
    );
    let zebra = |scope, limit| SearchQuery { range: whole_year, limit, ..search_of("zebra contract", scope) };
    let found = |hits: Vec<SearchHit>| hits.into_iter().map(|h| h.call_id).collect::<Vec<_>>();
    assert_eq!(found(find(zebra(SearchScope::All, 10)).await), ["q-dec", "q-jun", "q-jan"]);
    assert_eq!(found(find(zebra(SearchScope::All, 2)).await), ["q-dec", "q-jun"]);
    assert_eq!(found(find(zebra(only(&["s-eve"], vec![]), 10)).await), ["q-dec", "q-jun", "q-jan"]);
    let jun = SharedSpan { call_id: "q-jun".into(), clip: None };
    assert_eq!(found(find(zebra(only(&["s-ana"], vec![jun.clone()]), 10)).await), ["q-jun"]);
    let eve = SearchQuery { seller: Some("s-eve".into()), ..zebra(SearchScope::All, 10) };
    assert_eq!(found(find(eve).await), ["q-dec", "q-jun", "q-jan"]);
    let spring = SearchQuery {
        range: DateRange::new(
            NaiveDate::from_ymd_opt(2026, 2, 1).expect("day"),
            NaiveDate::from_ymd_opt(2026, 11, 30).expect("day"),
        ),
        ..zebra(only(&["s-eve"], vec![]), 10)
    };
    assert_eq!(found(find(spring).await), ["q-jun"]);

    // Erasure.
    store.erase(&EraseScope::Calls(vec!["q-3".into()]), false).await.expect("erase");
    assert_eq!(hit_keys(&find(all("free version of hubspot")).await), keys(&["q-2"], &turns));
}
