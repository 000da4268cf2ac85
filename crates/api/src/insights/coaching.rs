//! Which sellers may need coaching, and what the top sellers do differently.
//!
//! Each KPI of the rules file is compared with the team's typical range (25th to
//! 75th percentile of its sellers with enough calls) on the side the rule says is a concern, and
//! with the top performers' average. Top performers are the sellers with the
//! best win rate when the team has outcomes, otherwise by a fallback KPI. Every
//! flag carries the numbers it is based on; sellers with too few calls are
//! listed as such instead of judged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Kpi, Message, SellerSummary, TeamSummary, average, bands_of};

/// Which side of the team's range is a concern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Above the 75th percentile is a concern.
    Lower,
    /// Below the 25th percentile is a concern.
    Higher,
    /// Outside the 25th–75th percentile is a concern.
    Middle,
}

/// One KPI rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiRule {
    /// The KPI.
    pub name: Kpi,
    /// Display label.
    pub label: String,
    /// Which side is a concern.
    pub better: Better,
    /// What to work on, shown with a flag: one text, or one per language.
    pub advice: Advice,
}

/// A rule's advice: `advice = "…"` (one text for every language) or
/// `advice = { en = "…", fi = "…" }` (by ISO 639-1 code; `en` is required,
/// it is the API's `advice` and the fallback of languages without their own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Advice {
    /// One text for every language.
    Plain(String),
    /// A text per language.
    ByLanguage(BTreeMap<String, String>),
}

impl Advice {
    /// The English text (the plain one, or `en`).
    pub fn english(&self) -> &str {
        match self {
            Advice::Plain(text) => text,
            Advice::ByLanguage(by) => by.get("en").map_or("", String::as_str),
        }
    }

    /// The texts by language (empty for a plain text).
    pub fn by_language(&self) -> BTreeMap<String, String> {
        match self {
            Advice::Plain(_) => BTreeMap::new(),
            Advice::ByLanguage(by) => by.clone(),
        }
    }

    fn check(&self, kpi: Kpi) -> Result<(), String> {
        let Advice::ByLanguage(by) = self else { return Ok(()) };
        if let Some(code) = by.keys().find(|c| !(c.len() == 2 && c.bytes().all(|b| b.is_ascii_lowercase()))) {
            return Err(format!(
                "kpi {kpi}: advice language {code:?} is not an ISO 639-1 code such as \"fi\""
            ));
        }
        if !by.contains_key("en") {
            return Err(format!("kpi {kpi}: advice by language needs an English text (en = \"…\")"));
        }
        Ok(())
    }
}

/// How top performers are chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopPerformers {
    /// Won + lost calls the team needs for win rate to be used.
    pub min_outcomes: u64,
    /// The KPI used otherwise.
    pub fallback: Kpi,
    /// Share of sellers that are top performers (at least one).
    pub share: f64,
}

/// The rules file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoachingRules {
    /// Calls a seller needs to be judged.
    pub min_calls: u64,
    /// Top performers.
    pub top_performers: TopPerformers,
    /// KPI rules, in display order.
    #[serde(rename = "kpi")]
    pub kpis: Vec<KpiRule>,
}

impl CoachingRules {
    /// The shipped defaults (`crates/api/coaching.default.toml`).
    pub fn defaults() -> Self {
        Self::from_toml_str(include_str!("../../coaching.default.toml"))
            .unwrap_or_else(|e| panic!("shipped coaching rules: {e}"))
    }

    /// Parses a rules file. KPI names must be [`Kpi`] names; advice by
    /// language needs `en`, and its keys must be ISO 639-1 codes.
    pub fn from_toml_str(source: &str) -> Result<Self, String> {
        let rules: Self = toml::from_str(source).map_err(|e| e.to_string())?;
        for rule in &rules.kpis {
            rule.advice.check(rule.name)?;
        }
        Ok(rules)
    }
}

/// One reason a seller may need coaching.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    /// KPI.
    pub kpi: Kpi,
    /// Label.
    pub label: String,
    /// The seller's value.
    pub value: f64,
    /// The team's median seller.
    pub team_median: f64,
    /// The edge of the team's typical range that was crossed.
    pub threshold: f64,
    /// The top performers' average, if known.
    pub top_performers: Option<f64>,
    /// The sentence, in English.
    pub reason: String,
    /// The sentence as data (`coaching.above`, `coaching.below`, and
    /// `…_vs_top` with the top performers' value), for the page to render in
    /// its language.
    pub reason_message: Message,
    /// What to work on, in English.
    pub advice: String,
    /// What to work on, by language, when the rules give it so (else empty).
    pub advice_by_language: BTreeMap<String, String>,
}

/// One seller's assessment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SellerCoaching {
    /// The seller.
    pub seller_id: String,
    /// Calls in the range.
    pub calls: u64,
    /// Whether the seller is a top performer.
    pub top_performer: bool,
    /// Reasons to coach; empty when none.
    pub flags: Vec<Flag>,
    /// Set when the seller was not judged (too few calls), in English.
    pub note: Option<String>,
    /// The same as data (`coaching.too_few_calls`).
    pub note_message: Option<Message>,
}

/// What top performers do differently, per KPI.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// KPI.
    pub kpi: Kpi,
    /// Label.
    pub label: String,
    /// Top performers' average.
    pub top_performers: f64,
    /// Everyone else's average.
    pub others: f64,
}

/// The team's coaching page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoachingReport {
    /// The team.
    pub team: String,
    /// How top performers were chosen (`win_rate` or the fallback KPI).
    pub top_performers_by: String,
    /// Their ids.
    pub top_performers: Vec<String>,
    /// Every seller with calls in the range.
    pub sellers: Vec<SellerCoaching>,
    /// Top performers versus the others.
    pub differences: Vec<Difference>,
}

fn fmt(kpi: Kpi, v: f64) -> String {
    if kpi.is_share() { format!("{:.0}%", v * 100.0) } else { format!("{v:.1}") }
}

/// Assesses a team.
pub fn assess(team: &TeamSummary, rules: &CoachingRules) -> CoachingReport {
    let judged: Vec<&SellerSummary> = team.sellers.iter().filter(|s| s.calls >= rules.min_calls).collect();
    // The norm is set by the sellers with enough calls to judge.
    let bands = bands_of(judged.iter().copied());
    let outcomes: u64 = judged.iter().map(|s| s.won + s.lost).sum();
    let by_win_rate = outcomes >= rules.top_performers.min_outcomes;
    let score = |s: &SellerSummary| -> Option<f64> {
        if by_win_rate {
            (s.won + s.lost > 0).then(|| s.won as f64 / (s.won + s.lost) as f64)
        } else {
            s.kpi(rules.top_performers.fallback)
        }
    };
    let mut ranked: Vec<(&SellerSummary, f64)> =
        judged.iter().filter_map(|s| Some((*s, score(s)?))).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.seller_id.cmp(&b.0.seller_id)));
    let n_top = ((ranked.len() as f64 * rules.top_performers.share).ceil() as usize).max(1).min(ranked.len());
    let top: Vec<String> = ranked.iter().take(n_top).map(|(s, _)| s.seller_id.clone()).collect();
    let is_top = |s: &SellerSummary| top.contains(&s.seller_id);

    let mut differences = Vec::new();
    for rule in &rules.kpis {
        let t = average(judged.iter().filter(|s| is_top(s)).filter_map(|s| s.kpi(rule.name)));
        let o = average(judged.iter().filter(|s| !is_top(s)).filter_map(|s| s.kpi(rule.name)));
        if let (Some(t), Some(o)) = (t, o) {
            differences.push(Difference {
                kpi: rule.name,
                label: rule.label.clone(),
                top_performers: t,
                others: o,
            });
        }
    }

    let sellers = team
        .sellers
        .iter()
        .map(|s| {
            if s.calls < rules.min_calls {
                return SellerCoaching {
                    seller_id: s.seller_id.clone(),
                    calls: s.calls,
                    top_performer: false,
                    flags: Vec::new(),
                    note: Some(format!(
                        "{} call(s) in the range; at least {} are needed to judge",
                        s.calls, rules.min_calls
                    )),
                    note_message: Some(
                        Message::new("coaching.too_few_calls")
                            .with("calls", s.calls)
                            .with("min_calls", rules.min_calls),
                    ),
                };
            }
            let mut flags = Vec::new();
            for rule in &rules.kpis {
                let (Some(value), Some(band)) = (s.kpi(rule.name), bands.get(&rule.name)) else { continue };
                let above = (band.p75, "above");
                let below = (band.p25, "below");
                let crossed = match rule.better {
                    Better::Lower => (value > band.p75).then_some(above),
                    Better::Higher => (value < band.p25).then_some(below),
                    Better::Middle => {
                        if value > band.p75 {
                            Some(above)
                        } else if value < band.p25 {
                            Some(below)
                        } else {
                            None
                        }
                    }
                };
                let Some((threshold, side)) = crossed else { continue };
                let top_value = differences.iter().find(|d| d.kpi == rule.name).map(|d| d.top_performers);
                let mut reason = format!(
                    "{} {} is {side} the team's typical range ({} {side}; team median {})",
                    rule.label,
                    fmt(rule.name, value),
                    fmt(rule.name, threshold),
                    fmt(rule.name, band.median)
                );
                let kind = match (side, top_value) {
                    ("above", None) => "coaching.above",
                    ("above", Some(_)) => "coaching.above_vs_top",
                    (_, None) => "coaching.below",
                    (_, Some(_)) => "coaching.below_vs_top",
                };
                let mut reason_message = Message::new(kind)
                    .with("kpi", rule.name.as_str())
                    .with("value", value)
                    .with("threshold", threshold)
                    .with("median", band.median);
                if let Some(t) = top_value {
                    reason.push_str(&format!("; top performers {}", fmt(rule.name, t)));
                    reason_message = reason_message.with("top", t);
                }
                flags.push(Flag {
                    kpi: rule.name,
                    label: rule.label.clone(),
                    value,
                    team_median: band.median,
                    threshold,
                    top_performers: top_value,
                    reason,
                    reason_message,
                    advice: rule.advice.english().to_owned(),
                    advice_by_language: rule.advice.by_language(),
                });
            }
            SellerCoaching {
                seller_id: s.seller_id.clone(),
                calls: s.calls,
                top_performer: is_top(s),
                flags,
                note: None,
                note_message: None,
            }
        })
        .collect();

    CoachingReport {
        team: team.team.clone(),
        top_performers_by: if by_win_rate {
            "win_rate".into()
        } else {
            rules.top_performers.fallback.as_str().to_owned()
        },
        top_performers: top,
        sellers,
        differences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callscope_store::DailyAggregate;
    use chrono::NaiveDate;

    fn row(seller: &str, calls: u64, talk: f64, won: u64, lost: u64) -> DailyAggregate {
        DailyAggregate {
            seller_id: seller.into(),
            team: "crm".into(),
            day: NaiveDate::from_ymd_opt(2026, 11, 2).expect("date"),
            calls,
            talk_ratio_sum: talk * calls as f64,
            talk_ratio_n: calls,
            won,
            lost,
            ..Default::default()
        }
    }

    #[test]
    fn shipped_rules_parse() {
        let rules = CoachingRules::defaults();
        assert!(rules.kpis.len() >= 6);
        assert_eq!(rules.top_performers.fallback, Kpi::PositiveShare);
    }

    #[test]
    fn shipped_advice_is_in_english_and_finnish() {
        for rule in CoachingRules::defaults().kpis {
            let by = rule.advice.by_language();
            assert_eq!(by.keys().map(String::as_str).collect::<Vec<_>>(), ["en", "fi"], "{}", rule.name);
            assert!(by.values().all(|t| !t.trim().is_empty()), "{}", rule.name);
            assert_ne!(by["en"], by["fi"], "{}: a translation", rule.name);
            assert_eq!(rule.advice.english(), by["en"]);
        }
    }

    #[test]
    fn advice_is_one_text_or_one_per_language() {
        let rules = |advice: &str| {
            CoachingRules::from_toml_str(&format!(
                "min_calls = 3\n[top_performers]\nmin_outcomes = 5\nfallback = \"positive_share\"\nshare = 0.25\n\
                 [[kpi]]\nname = \"avg_pause_s\"\nlabel = \"Pause\"\nbetter = \"middle\"\nadvice = {advice}\n"
            ))
        };
        let plain = rules("\"Breathe.\"").expect("a plain text is valid");
        assert_eq!(plain.kpis[0].advice.english(), "Breathe.");
        assert!(plain.kpis[0].advice.by_language().is_empty());
        let both = rules("{ en = \"Breathe.\", sv = \"Andas.\" }").expect("by language");
        assert_eq!(both.kpis[0].advice.english(), "Breathe.");
        assert_eq!(both.kpis[0].advice.by_language()["sv"], "Andas.");
        let err = rules("{ fi = \"Hengitä.\" }").expect_err("no English");
        assert!(err.contains("avg_pause_s") && err.contains("English"), "{err}");
        let err = rules("{ en = \"Breathe.\", finnish = \"Hengitä.\" }").expect_err("not a code");
        assert!(err.contains("\"finnish\""), "{err}");
    }

    #[test]
    fn unknown_kpis_are_rejected() {
        let source = include_str!("../../coaching.default.toml");
        let bad = source.replacen("name = \"avg_talk_ratio\"", "name = \"talk_ratio\"", 1);
        assert_ne!(bad, source);
        let err = CoachingRules::from_toml_str(&bad).expect_err("not a KPI");
        assert!(err.contains("talk_ratio") && err.contains("avg_talk_ratio"), "{err}");
        let bad = source.replacen("fallback = \"positive_share\"", "fallback = \"win_ratio\"", 1);
        assert!(CoachingRules::from_toml_str(&bad).is_err(), "the fallback must be a KPI too");
    }

    #[test]
    fn flags_the_talker_and_names_the_top_performer() {
        let team = TeamSummary::from_daily(
            "crm",
            &[
                row("s-a", 5, 0.45, 4, 1),
                row("s-b", 5, 0.50, 2, 2),
                row("s-c", 5, 0.52, 1, 3),
                row("s-d", 5, 0.80, 0, 4),
                row("s-e", 1, 0.9, 0, 0),
            ],
        );
        let report = assess(&team, &CoachingRules::defaults());
        assert_eq!(report.top_performers_by, "win_rate");
        assert_eq!(report.top_performers, ["s-a"]);
        let d = report.sellers.iter().find(|s| s.seller_id == "s-d").expect("s-d");
        let flag = d.flags.iter().find(|f| f.kpi == Kpi::AvgTalkRatio).expect("talk ratio flag");
        assert!(
            flag.reason.starts_with("Talk-to-listen ratio 80% is above the team's typical range"),
            "{}",
            flag.reason
        );
        assert_eq!(flag.top_performers, Some(0.45));
        // The reason as data: the numbers of the sentence, unrounded.
        let m = &flag.reason_message;
        assert_eq!(m.kind, "coaching.above_vs_top");
        assert_eq!(m.values["kpi"], "avg_talk_ratio");
        assert_eq!(m.values["value"], flag.value);
        assert_eq!(m.values["threshold"], flag.threshold);
        assert_eq!(m.values["median"], flag.team_median);
        assert_eq!(m.values["top"], 0.45);
        assert_eq!(flag.advice_by_language["en"], flag.advice);
        assert!(flag.advice_by_language["fi"].starts_with("Anna asiakkaan"), "{:?}", flag.advice_by_language);
        let e = report.sellers.iter().find(|s| s.seller_id == "s-e").expect("s-e");
        assert!(e.note.is_some() && e.flags.is_empty(), "too few calls: not judged");
        let note = e.note_message.as_ref().expect("the note as data");
        assert_eq!(note.kind, "coaching.too_few_calls");
        assert_eq!((note.values["calls"].as_u64(), note.values["min_calls"].as_u64()), (Some(1), Some(3)));
        let diff = report.differences.iter().find(|d| d.kpi == Kpi::AvgTalkRatio).expect("difference");
        assert!(
            (diff.top_performers - 0.45).abs() < 1e-12 && (diff.others - 0.6066666666666666).abs() < 1e-9
        );
    }

    #[test]
    fn falls_back_without_outcomes() {
        let team = TeamSummary::from_daily("crm", &[row("s-a", 5, 0.45, 0, 0), row("s-b", 5, 0.50, 0, 0)]);
        let report = assess(&team, &CoachingRules::defaults());
        assert_eq!(report.top_performers_by, "positive_share");
    }
}
