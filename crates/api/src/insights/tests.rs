//! The insight arithmetic on hand-made daily rows, and on the store's test
//! fixtures (the pipeline's analyses of the dev transcripts).

use callscope_model::CallAnalysis;
use callscope_store::PhraseFigures;

use super::*;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).expect("valid date")
}

/// The analysis of dev transcript `n` that the store tests write
/// (`crates/store/tests/data/`, checked against the pipeline).
fn fixture(n: usize) -> CallAnalysis {
    const DEV: &[&str] = &[
        "dev-01-crm-discovery",
        "dev-02-security-renewal-unhappy",
        "dev-03-logistics-negotiation",
        "dev-04-crm-followup-roofing",
        "dev-05-endpoint-expansion",
        "dev-06-freight-cold-call",
    ];
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../store/tests/data/{}.analysis.json", DEV[n % DEV.len()]));
    serde_json::from_slice(&std::fs::read(&path).expect("fixture")).expect("valid fixture")
}

#[test]
fn kpi_names_are_the_json_names_and_sort_by_name() {
    for kpi in Kpi::ALL {
        assert_eq!(serde_json::to_value(kpi).expect("json"), kpi.as_str());
        assert_eq!(serde_json::from_value::<Kpi>(kpi.as_str().into()).expect("parse"), kpi);
    }
    let mut by_enum = Kpi::ALL.to_vec();
    by_enum.sort();
    let mut by_name: Vec<&str> = Kpi::ALL.iter().map(|k| k.as_str()).collect();
    by_name.sort_unstable();
    assert_eq!(by_enum.iter().map(|k| k.as_str()).collect::<Vec<_>>(), by_name);
    // So a map keyed by KPI serializes exactly as one keyed by name.
    let band = KpiBand { p25: 0.1, median: 0.2, p75: 0.3 };
    let typed: BTreeMap<Kpi, KpiBand> = Kpi::ALL.iter().map(|k| (*k, band)).collect();
    let named: BTreeMap<String, KpiBand> = Kpi::ALL.iter().map(|k| (k.as_str().to_owned(), band)).collect();
    assert_eq!(serde_json::to_string(&typed).expect("json"), serde_json::to_string(&named).expect("json"));
}

#[test]
fn summaries_leave_flagged_calls_out_of_kpis() {
    let row = DailyAggregate {
        seller_id: "s".into(),
        team: "t".into(),
        day: day(2),
        calls: 3,
        low_confidence_calls: 1,
        duration_s: 600.0,
        talk_ratio_sum: 1.2,
        talk_ratio_n: 2,
        switches: 30,
        longest_customer_monologue_sum: 40.0,
        positive: 1,
        neutral: 1,
        ..Default::default()
    };
    let s = SellerSummary::from_daily("s", &[row.clone(), DailyAggregate { day: day(3), ..row }]);
    assert_eq!((s.calls, s.low_confidence_calls, s.team.as_str()), (6, 2, "t"));
    assert_eq!(s.total_duration_s, 1200.0);
    assert_eq!(s.avg_talk_ratio, Some(0.6));
    assert_eq!(s.switches_per_call, Some(15.0), "divided by the 4 trusted calls");
    assert_eq!(s.avg_longest_customer_monologue_s, Some(20.0));
    assert_eq!(s.avg_seller_wpm, None);
    assert_eq!(s.kpi(Kpi::PositiveShare), Some(0.5));
}

#[test]
fn weekly_trend_groups_from_monday() {
    let rows: Vec<DailyAggregate> = [2, 3, 9]
        .iter()
        .map(|&d| DailyAggregate { seller_id: "s".into(), day: day(d), calls: 1, ..Default::default() })
        .collect();
    let points = TrendPoint::from_daily(&rows, Bucket::Week);
    // 2026-11-02 is a Monday.
    assert_eq!(points.len(), 2);
    assert_eq!(points[0].period_start, day(2));
    assert_eq!(points[0].summary.calls, 2);
    assert_eq!(points[1].period_start, day(9));
    let daily = TrendPoint::from_daily(&rows, Bucket::Day);
    assert_eq!(
        daily.iter().map(|p| (p.period_start, p.summary.calls)).collect::<Vec<_>>(),
        [(day(2), 1), (day(3), 1), (day(9), 1)]
    );
}

#[test]
fn team_bands_are_quantiles_of_seller_values() {
    let rows: Vec<DailyAggregate> = [0.2, 0.4, 0.6, 0.8]
        .iter()
        .enumerate()
        .map(|(i, &r)| DailyAggregate {
            seller_id: format!("s{i}"),
            day: day(2),
            calls: 1,
            talk_ratio_sum: r,
            talk_ratio_n: 1,
            ..Default::default()
        })
        .collect();
    let t = TeamSummary::from_daily("t", &rows);
    let band = t.bands[&Kpi::AvgTalkRatio];
    assert!(
        (band.p25 - 0.35).abs() < 1e-12
            && (band.median - 0.5).abs() < 1e-12
            && (band.p75 - 0.65).abs() < 1e-12
    );
    assert_eq!(t.overall.calls, 4);
}

/// Four sellers with two real calls each, as the store's daily rows.
#[test]
fn team_summary_has_bands() {
    let mut rows = Vec::new();
    for (i, seller) in ["s-a", "s-b", "s-c", "s-d"].iter().enumerate() {
        for (n, d) in [(i, 2), (i + 1, 9)] {
            let k = fixture(n).kpis.kpis;
            rows.push(DailyAggregate {
                seller_id: (*seller).into(),
                team: "emea".into(),
                day: day(d),
                calls: 1,
                talk_ratio_sum: k.talk_ratio.unwrap_or(0.0),
                talk_ratio_n: u64::from(k.talk_ratio.is_some()),
                ..Default::default()
            });
        }
    }
    let team = TeamSummary::from_daily("emea", &rows);
    assert_eq!(team.sellers.len(), 4);
    assert_eq!(team.overall.calls, 8);
    let band = team.bands[&Kpi::AvgTalkRatio];
    assert!(band.p25 <= band.median && band.median <= band.p75);
    let values: Vec<f64> = team.sellers.iter().filter_map(|s| s.avg_talk_ratio).collect();
    assert!(values.iter().all(|v| *v >= band.p25 - 1.0 && *v <= band.p75 + 1.0));
}

/// The figures the store returns for s-ana (calls 0 and 3) among three calls
/// of the range (call 2 is another seller's), ranked.
#[test]
fn keywords_rank_by_tf_idf_against_the_range() {
    let calls = [fixture(0), fixture(3), fixture(2)];
    let ana = &calls[..2];
    let contains =
        |c: &CallAnalysis, phrase: &str| c.signals.customer_keywords.iter().any(|k| k.phrase == phrase);
    let mut by_phrase: BTreeMap<String, PhraseFigures> = BTreeMap::new();
    for k in ana.iter().flat_map(|c| &c.signals.customer_keywords) {
        let e = by_phrase.entry(k.phrase.clone()).or_insert_with(|| PhraseFigures {
            phrase: k.phrase.clone(),
            count: 0,
            calls: 0,
            df: 0,
        });
        e.count += u64::from(k.count);
    }
    for e in by_phrase.values_mut() {
        e.calls = ana.iter().filter(|c| contains(c, &e.phrase)).count() as u64;
        e.df = calls.iter().filter(|c| contains(c, &e.phrase)).count() as u64;
    }
    let figures = KeywordFigures { range_calls: 3, phrases: by_phrase.into_values().collect() };

    let keywords = rank_keywords(&figures, 10);
    assert!(!keywords.is_empty() && keywords.len() <= 10);
    assert!(keywords.windows(2).all(|w| w[0].score >= w[1].score));
    let top = &keywords[0];
    let count: u64 = ana
        .iter()
        .flat_map(|c| &c.signals.customer_keywords)
        .filter(|k| k.phrase == top.phrase)
        .map(|k| u64::from(k.count))
        .sum();
    assert_eq!(top.count, count, "{}", top.phrase);
    // The score is TF-IDF against every call of the range (all sellers).
    let df = calls.iter().filter(|c| contains(c, &top.phrase)).count();
    let expected_score = callscope_signals::tf_idf(count as u32, df as u32, calls.len() as u32);
    assert!((top.score - expected_score).abs() < 1e-9, "{} vs {expected_score}", top.score);
    assert_eq!(top.calls, ana.iter().filter(|c| contains(c, &top.phrase)).count() as u64);
}

#[test]
fn keyword_ties_go_by_phrase_and_limit_keeps_the_top() {
    let phrase = |p: &str, count: u64, df: u64| PhraseFigures { phrase: p.into(), count, calls: 1, df };
    let figures = KeywordFigures {
        range_calls: 10,
        phrases: vec![
            phrase("zeta", 2, 1),
            phrase("beta", 2, 1),
            phrase("alpha", 1, 1),
            phrase("gamma", 5, 9),
        ],
    };
    let ranked = rank_keywords(&figures, 3);
    let order: Vec<&str> = ranked.iter().map(|k| k.phrase.as_str()).collect();
    assert_eq!(order, ["gamma", "beta", "zeta"]);
    assert_eq!(ranked[1].score, callscope_signals::tf_idf(2, 1, 10));
    assert_eq!(ranked[1].score, ranked[2].score, "a tie, broken by phrase");
    assert!(rank_keywords(&figures, 0).is_empty());
    assert!(rank_keywords(&KeywordFigures::default(), 20).is_empty());
}
