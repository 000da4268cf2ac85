//! `callscope eval DIR`: transcription and attribution quality against truth.
//!
//! DIR is an evaluation set in the eval-dev layout: `calls/<id>/` with
//! `stereo16k.flac` (or `mono16k.flac`), and `truth.json` (`seller_channel`,
//! `turns[].words_abs` or the reference `transcript.json`, `expected_kpis_v1`).
//! For each call it runs the same pipeline as `analyze`, then reports:
//! - **WER**: word error rate against the reference words (lowercased,
//!   punctuation removed), by Levenshtein alignment;
//! - **word timing**: median and 90th-percentile |start error| of the words the
//!   alignment matched;
//! - **KPIs**: talk ratio, switches and longest customer monologue against the
//!   truth's v1 values, and whether they are within the tolerances (0.03, ±1,
//!   1 s).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use callscope_diarize::der::{Segment, der};
use callscope_model::Transcript;
use callscope_pipeline::{Analyzer, Recording, SellerChannel};
use clap::Args;
use serde::Serialize;

use crate::config::Config;

/// Arguments of `callscope eval`.
#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// An evaluation set (a folder with `calls/<id>/`).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Whisper model (ggml file); overrides `asr.model`.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Only these calls (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Use the mono mix instead of the stereo file.
    #[arg(long)]
    mono: bool,
    /// Print one JSON object per call instead of a table.
    #[arg(long)]
    json: bool,
    /// Score these transcripts (`DIR/<call_id>.json`, e.g. from another ASR)
    /// instead of transcribing.
    #[arg(long, value_name = "DIR")]
    transcripts: Option<PathBuf>,
    /// Mono: the number of speakers, when known (default: estimated).
    #[arg(long, value_name = "N")]
    speakers: Option<usize>,
    /// Mono: find the seller by an enrolled voiceprint, learned from the
    /// seller's channel of their other stereo calls in the set (or, for a
    /// seller with one call, of this call's stereo recording).
    #[arg(long)]
    enroll: bool,
}

/// Mono attribution scores.
#[derive(Debug, Serialize)]
pub(crate) struct MonoEval {
    /// Diarization error rate (collar 0.25 s, overlap scored).
    der: f64,
    /// Its parts: missed speech, false alarm, speaker confusion.
    der_parts: (f64, f64, f64),
    /// Concatenated minimum-permutation WER (speaker-attributed).
    cpwer: f64,
    /// Speakers found (truth).
    speakers: (usize, usize),
    /// The speaker picked as seller is the true seller.
    role_correct: bool,
    /// How the seller was found (`mono-enrollment`, `mono-heuristics`).
    method: String,
    /// The pipeline's attribution confidence, and whether it flagged the call.
    confidence: f64,
    low_confidence: bool,
    /// Seconds of diarization (excluding transcription).
    diarize_s: f64,
    /// Overlapped speech: the truth's stretches (overlaps between lines and
    /// backchannels) found, of all, and detected stretches that hit none.
    overlaps_found: (usize, usize),
    overlaps_false: usize,
    /// Overlapped 10 ms frames: detected and true, detected, true.
    overlap_frames: (usize, usize, usize),
}

/// One call's result.
#[derive(Debug, Serialize)]
pub(crate) struct CallEval {
    call_id: String,
    duration_s: f64,
    realtime_factor: f64,
    reference_words: usize,
    wer: f64,
    timing_median_ms: Option<f64>,
    timing_p90_ms: Option<f64>,
    /// Median signed start error (hypothesis − truth), ms.
    timing_bias_ms: Option<f64>,
    talk_ratio: (Option<f64>, Option<f64>),
    switches: (u32, u32),
    longest_customer_monologue_s: (f64, f64),
    within_tolerances: bool,
    crosstalk_dropped: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    mono: Option<MonoEval>,
}

/// Lowercase letters and digits of a word ("Hi," → "hi").
fn norm(w: &str) -> String {
    w.chars().filter(|c| c.is_alphanumeric() || *c == '\'').flat_map(char::to_lowercase).collect()
}

/// Edit distance alignment of reference and hypothesis tokens: the number of
/// errors and the matched pairs (ref index, hyp index).
pub(crate) fn align(reference: &[String], hypothesis: &[String]) -> (usize, Vec<(usize, usize)>) {
    let (n, m) = (reference.len(), hypothesis.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let sub = d[i - 1][j - 1] + usize::from(reference[i - 1] != hypothesis[j - 1]);
            d[i][j] = sub.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
        }
    }
    let mut matches = Vec::new();
    let (mut i, mut j) = (n, m);
    while i > 0 && j > 0 {
        let same = reference[i - 1] == hypothesis[j - 1];
        if d[i][j] == d[i - 1][j - 1] + usize::from(!same) {
            if same {
                matches.push((i - 1, j - 1));
            }
            i -= 1;
            j -= 1;
        } else if d[i][j] == d[i - 1][j] + 1 {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    matches.reverse();
    (d[n][m], matches)
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    (!sorted.is_empty()).then(|| sorted[((sorted.len() - 1) as f64 * p).round() as usize])
}

/// A role's words (all words for `None`), normalized, in time order.
fn words_in_time_order(t: &Transcript, role: Option<callscope_model::Role>) -> Vec<(String, f64)> {
    let mut w: Vec<(String, f64)> = t
        .words
        .iter()
        .filter(|w| role.is_none() || t.role_of(&w.speaker) == role)
        // Hyphenated words count as their parts ("one-page" = "one page"), so
        // that tokenizers that split or keep hyphens score the same.
        .flat_map(|w| w.text.split('-').map(|part| (norm(part), w.start)).collect::<Vec<_>>())
        .filter(|(w, _)| !w.is_empty())
        .collect();
    w.sort_by(|a, b| a.1.total_cmp(&b.1));
    w
}

fn eval_call(
    dir: &Path,
    args: &EvalArgs,
    analyzer: &Analyzer,
    session: Option<&mut callscope_asr::Session<'_>>,
    model: &str,
) -> Result<CallEval> {
    let id = dir.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_owned();
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("truth.json")).context("truth.json")?)
            .context("truth.json")?;
    let reference =
        Transcript::from_json_slice(&std::fs::read(dir.join("transcript.json")).context("transcript.json")?)?;
    let file = if args.mono { "mono16k.flac" } else { "stereo16k.flac" };
    let audio = callscope_audio::decode_file(&dir.join(file)).with_context(|| format!("{id}: {file}"))?;
    let seller_channel = match (args.mono, truth["seller_channel"].as_str()) {
        (true, _) => None,
        (false, Some("right")) => Some(SellerChannel::Right),
        (false, _) => Some(SellerChannel::Left),
    };
    let meta = callscope_model::CallMeta {
        call_id: id.clone(),
        seller_id: truth["seller_id"].as_str().unwrap_or_default().to_owned(),
        ..Default::default()
    };
    let (analysis, report) = match (session, &args.transcripts) {
        (_, Some(external)) => {
            let path = external.join(format!("{id}.json"));
            let t = Transcript::from_json_slice(
                &std::fs::read(&path).with_context(|| format!("{}", path.display()))?,
            )?;
            let report = callscope_pipeline::AudioReport {
                crosstalk_dropped: 0,
                realtime_factor: f64::NAN,
                truncated: false,
                diarize_s: 0.0,
            };
            (analyzer.analyze_transcript(meta, t, None), report)
        }
        (Some(session), None) => {
            let recording = Recording { meta, audio: &audio, seller_channel, audio_uri: None };
            analyzer.analyze_audio(recording, session, model, &mut |_| {})?
        }
        (None, None) => anyhow::bail!("no transcriber and no --transcripts"),
    };

    // WER per role (per channel for stereo; all words for mono), so that the
    // interleaving of two speakers' words never counts as an error.
    let roles: Vec<Option<callscope_model::Role>> = if args.mono {
        vec![None]
    } else {
        vec![Some(callscope_model::Role::Seller), Some(callscope_model::Role::Customer)]
    };
    let (mut errors, mut reference_words) = (0usize, 0usize);
    let mut timing: Vec<f64> = Vec::new();
    let mut bias: Vec<f64> = Vec::new();
    for role in roles {
        let r = words_in_time_order(&reference, role);
        let h = words_in_time_order(&analysis.transcript, role);
        let (ref_tokens, hyp_tokens): (Vec<String>, Vec<String>) =
            (r.iter().map(|w| w.0.clone()).collect(), h.iter().map(|w| w.0.clone()).collect());
        let (e, matches) = align(&ref_tokens, &hyp_tokens);
        errors += e;
        reference_words += r.len();
        timing.extend(matches.iter().map(|(i, j)| (r[*i].1 - h[*j].1).abs() * 1000.0));
        bias.extend(matches.iter().map(|(i, j)| (h[*j].1 - r[*i].1) * 1000.0));
    }
    timing.sort_by(f64::total_cmp);
    bias.sort_by(f64::total_cmp);

    let e = &truth["expected_kpis_v1"];
    let k = &analysis.kpis.kpis;
    let truth_ratio = e["talk_ratio"].as_f64();
    let truth_switches = e["switches"].as_u64().unwrap_or(0) as u32;
    let truth_mono = e["longest_customer_monologue_s"].as_f64().unwrap_or(0.0);
    let within = match (k.talk_ratio, truth_ratio) {
        (Some(a), Some(b)) => (a - b).abs() <= 0.03,
        (a, b) => a.is_none() && b.is_none(),
    } && k.switches.abs_diff(truth_switches) <= 1
        && (k.longest_customer_monologue_s - truth_mono).abs() <= 1.0;
    Ok(CallEval {
        call_id: id,
        duration_s: audio.duration_s(),
        realtime_factor: report.realtime_factor,
        reference_words,
        wer: errors as f64 / reference_words.max(1) as f64,
        timing_bias_ms: percentile(&bias, 0.5),
        timing_median_ms: percentile(&timing, 0.5),
        timing_p90_ms: percentile(&timing, 0.9),
        talk_ratio: (k.talk_ratio, truth_ratio),
        switches: (k.switches, truth_switches),
        longest_customer_monologue_s: (k.longest_customer_monologue_s, truth_mono),
        within_tolerances: within,
        crosstalk_dropped: report.crosstalk_dropped,
        mono: if args.mono {
            Some(score_mono(&truth, &reference, &analysis, report.diarize_s))
        } else {
            None
        },
    })
}

/// A call's seller and the seller's channel, from its truth file.
fn seller_of(dir: &Path) -> Result<(String, Option<crate::analyze::SellerChannelArg>)> {
    let t: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("truth.json"))?)?;
    let ch = match t["seller_channel"].as_str() {
        Some("right") => Some(crate::analyze::SellerChannelArg::Right),
        _ => Some(crate::analyze::SellerChannelArg::Left),
    };
    Ok((t["seller_id"].as_str().unwrap_or_default().to_owned(), ch))
}

/// The voiceprint of call `i`'s seller, enrolled from the seller's other calls
/// in the set, else from this call's stereo file. `sellers` is [`seller_of`]
/// of every call in `dirs`.
fn enrolled_voiceprint(
    i: usize,
    dirs: &[PathBuf],
    sellers: &[(String, Option<crate::analyze::SellerChannelArg>)],
    embedder: &dyn callscope_diarize::mono::SpeakerEmbedder,
) -> Result<Option<Vec<f32>>> {
    let seller = &sellers[i].0;
    let mut sources: Vec<usize> = (0..dirs.len()).filter(|&j| j != i && sellers[j].0 == *seller).collect();
    let from_other_calls = !sources.is_empty();
    if !from_other_calls {
        sources.push(i);
    }
    let mut prints = Vec::new();
    for j in sources {
        let (samples, spans) = crate::enroll::seller_speech(&dirs[j].join("stereo16k.flac"), sellers[j].1)?;
        if let Some(v) = callscope_diarize::mono::voiceprint(&samples, &spans, embedder)? {
            prints.push(v);
        }
    }
    eprintln!(
        "{}: seller {seller} enrolled from {}",
        dirs[i].file_name().and_then(|n| n.to_str()).unwrap_or("?"),
        if from_other_calls { "their other calls" } else { "this call's stereo recording" }
    );
    Ok(callscope_diarize::mono::mean_embedding(&prints))
}

/// Speech segments of a transcript's speakers: a speaker's words form one
/// segment while the gap to the next is at most the KPI's turn gap
/// (`callscope_kpi::TURN_GAP_S`, which also bridges pauses inside the KPI's
/// turns), so that, like the reference's turns (whole lines), they hold the
/// speaker's short pauses. Word spans are fitted to speech and leave those pauses out;
/// joining only gaps under 0.5 s would score a sentence break inside a line as
/// missed speech.
fn segments(t: &Transcript) -> Vec<Segment> {
    let mut words: Vec<&callscope_model::Word> = t.words.iter().collect();
    words.sort_by(|a, b| a.start.total_cmp(&b.start));
    let mut out: Vec<Segment> = Vec::new();
    let mut open: std::collections::BTreeMap<&str, usize> = Default::default();
    for w in words {
        match open.get(w.speaker.as_str()) {
            Some(&i) if w.start - out[i].end <= callscope_kpi::TURN_GAP_S => {
                out[i].end = out[i].end.max(w.end)
            }
            _ => {
                open.insert(&w.speaker, out.len());
                out.push(Segment { start: w.start, end: w.end, speaker: w.speaker.clone() });
            }
        }
    }
    out
}

fn score_mono(
    truth: &serde_json::Value,
    reference: &Transcript,
    analysis: &callscope_model::CallAnalysis,
    diarize_s: f64,
) -> MonoEval {
    // Reference speech: the turns and backchannels the truth lists.
    let mut reference_segments = Vec::new();
    for key in ["turns", "backchannels"] {
        for t in truth[key].as_array().into_iter().flatten() {
            if let (Some(s), Some(e), Some(spk)) =
                (t["start"].as_f64(), t["end"].as_f64(), t["speaker"].as_str())
            {
                reference_segments.push(Segment { start: s, end: e, speaker: spk.to_owned() });
            }
        }
    }
    let hyp = &analysis.transcript;
    let mut hyp_segments = segments(hyp);
    let detected: Vec<(f64, f64)> =
        analysis.attribution.iter().flat_map(|a| a.overlaps.iter().map(|o| (o.start, o.end))).collect();
    // A detected overlap is speech of both speakers of a two-party call.
    if hyp.speakers.len() == 2 {
        for &(start, end) in &detected {
            for spk in hyp.speakers.keys() {
                hyp_segments.push(Segment { start, end, speaker: spk.clone() });
            }
        }
    }
    let d = der(&reference_segments, &hyp_segments, 0.25);
    let truth_overlaps: Vec<(f64, f64)> = ["overlaps", "backchannels"]
        .iter()
        .flat_map(|key| truth[*key].as_array().into_iter().flatten())
        .filter_map(|o| Some((o["start"].as_f64()?, o["end"].as_f64()?)))
        .collect();
    let hits = |a: &(f64, f64), set: &[(f64, f64)]| set.iter().any(|b| a.1.min(b.1) > a.0.max(b.0));
    let frames = |set: &[(f64, f64)]| -> std::collections::BTreeSet<u64> {
        set.iter().flat_map(|&(a, b)| ((a * 100.0).round() as u64)..((b * 100.0).round() as u64)).collect()
    };
    let (tf, df) = (frames(&truth_overlaps), frames(&detected));
    let mut distinct = truth_overlaps.clone();
    distinct.sort_by(|a, b| a.0.total_cmp(&b.0));
    distinct.dedup_by(|a, b| a.1.min(b.1) > a.0.max(b.0));
    // cpWER: each reference speaker's words against the hypothesis speaker it
    // maps to, under the best one-to-one mapping.
    let speaker_words = |t: &Transcript, spk: &str| -> Vec<String> {
        let mut w: Vec<&callscope_model::Word> = t.words.iter().filter(|w| w.speaker == spk).collect();
        w.sort_by(|a, b| a.start.total_cmp(&b.start));
        w.iter()
            .flat_map(|w| w.text.split('-').map(norm).collect::<Vec<_>>())
            .filter(|x| !x.is_empty())
            .collect()
    };
    let refs: Vec<(&String, Vec<String>)> =
        reference.speakers.keys().map(|s| (s, speaker_words(reference, s))).collect();
    let hyps: Vec<Vec<String>> = hyp.speakers.keys().map(|s| speaker_words(hyp, s)).collect();
    let total: usize = refs.iter().map(|r| r.1.len()).sum();
    let mut best = usize::MAX;
    let mut perm: Vec<usize> = (0..hyps.len().max(refs.len())).collect();
    permutations(&mut perm, 0, &mut |p| {
        let mut errors = 0;
        for (i, (_, r)) in refs.iter().enumerate() {
            let h = p.get(i).and_then(|&j| hyps.get(j)).map_or(&[][..], Vec::as_slice);
            errors += align(r, h).0;
        }
        // Hypothesis speakers mapped to no reference speaker: all insertions.
        for (j, h) in hyps.iter().enumerate() {
            if !p.iter().take(refs.len()).any(|&x| x == j) {
                errors += h.len();
            }
        }
        best = best.min(errors);
    });
    // The seller's role: the hypothesis seller's speech overlaps the true seller's most.
    let true_seller = truth["speakers"]
        .as_object()
        .and_then(|m| m.iter().find(|(_, v)| v["role"] == "seller").map(|(k, _)| k.clone()))
        .unwrap_or_default();
    let overlap = |role_spk: &str, truth_spk: &str| -> f64 {
        let h = hyp_segments.iter().filter(|s| s.speaker == role_spk);
        let r: Vec<&Segment> = reference_segments.iter().filter(|s| s.speaker == truth_spk).collect();
        h.flat_map(|a| r.iter().map(move |b| (a.end.min(b.end) - a.start.max(b.start)).max(0.0))).sum()
    };
    let hyp_seller =
        hyp.speakers.iter().find(|(_, r)| **r == callscope_model::Role::Seller).map(|(k, _)| k.clone());
    let role_correct = hyp_seller.is_some_and(|hs| {
        let mine = overlap(&hs, &true_seller);
        truth["speakers"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| **k != true_seller)
            .all(|(k, _)| overlap(&hs, k) < mine)
    });
    let attribution =
        analysis.attribution.clone().unwrap_or_else(|| callscope_model::Attribution::new("none", 0.0));
    MonoEval {
        der: d.der,
        der_parts: (d.miss, d.false_alarm, d.confusion),
        cpwer: best as f64 / total.max(1) as f64,
        speakers: (hyp.speakers.len(), reference.speakers.len()),
        role_correct,
        method: attribution.method.clone(),
        confidence: attribution.confidence,
        low_confidence: attribution.low_confidence,
        diarize_s,
        overlaps_found: (distinct.iter().filter(|o| hits(o, &detected)).count(), distinct.len()),
        overlaps_false: detected.iter().filter(|o| !hits(o, &truth_overlaps)).count(),
        overlap_frames: (tf.intersection(&df).count(), df.len(), tf.len()),
    }
}

fn permutations(v: &mut Vec<usize>, k: usize, f: &mut dyn FnMut(&[usize])) {
    if k == v.len() {
        f(v);
        return;
    }
    for i in k..v.len() {
        v.swap(k, i);
        permutations(v, k + 1, f);
        v.swap(k, i);
    }
}

pub(crate) fn run(args: &EvalArgs, config: &Config) -> Result<ExitCode> {
    let calls_dir = args.dir.join("calls");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&calls_dir)
        .with_context(|| format!("{}: not an evaluation set (no calls/ folder)", args.dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("truth.json").is_file())
        .filter(|p| {
            args.only.is_empty()
                || p.file_name().and_then(|n| n.to_str()).is_some_and(|n| args.only.iter().any(|o| o == n))
        })
        .collect();
    dirs.sort();
    anyhow::ensure!(!dirs.is_empty(), "{}: no calls with a truth.json", calls_dir.display());
    // One diarizer for the whole set; with --enroll, each call gets its
    // seller's voiceprint on top of the configured ones.
    let mut diarizer = if args.mono { config.diarize.load(args.speakers)? } else { None };
    let configured_prints = diarizer.as_ref().map(|d| d.voiceprints.clone()).unwrap_or_default();
    let sellers = if args.mono && args.enroll {
        anyhow::ensure!(
            diarizer.is_some(),
            "--enroll needs the diarization files (tools/models/fetch_diarize.sh)"
        );
        dirs.iter().map(|d| seller_of(d)).collect::<Result<Vec<_>>>()?
    } else {
        Vec::new()
    };
    let mut settings = config.asr.settings();
    if let Some(model) = &args.model {
        settings.model.clone_from(model);
    }
    let model = match &args.transcripts {
        Some(dir) => format!("transcripts in {}", dir.display()),
        None => callscope_asr::model_name(&settings.model),
    };
    let transcriber = match &args.transcripts {
        Some(_) => None,
        None => Some(callscope_asr::Transcriber::load(settings)?),
    };
    let mut session = transcriber.as_ref().map(|t| t.session()).transpose()?;
    let mut results = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        if let (Some(d), false) = (diarizer.as_mut(), sellers.is_empty()) {
            let print = enrolled_voiceprint(i, &dirs, &sellers, d.embedder.as_ref())?;
            let d = std::sync::Arc::get_mut(d).context("the diarizer is not shared between calls")?;
            d.voiceprints.clone_from(&configured_prints);
            if let Some(print) = print {
                d.voiceprints.insert(sellers[i].0.clone(), print);
            }
        }
        let analyzer = Analyzer::new(&callscope_signals::Trackers::default(), config.signals.settings())
            .with_diarizer(diarizer.clone());
        let r = eval_call(dir, args, &analyzer, session.as_mut(), &model)?;
        if args.json {
            println!("{}", serde_json::to_string(&r)?);
        } else {
            eprintln!("{}: WER {:.1}%", r.call_id, r.wer * 100.0);
        }
        results.push(r);
    }
    if !args.json {
        let ms = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.0}"));
        let opt = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"));
        println!("model {model}, {} audio", if args.mono { "mono" } else { "stereo" });
        println!(
            "| call | WER | word start error median / p90 / bias (ms) | talk ratio (truth) | switches (truth) | longest customer monologue s (truth) | within tolerances | RTF |"
        );
        println!("|---|---|---|---|---|---|---|---|");
        for r in &results {
            println!(
                "| {} | {:.1}% | {} / {} / {} | {} ({}) | {} ({}) | {:.2} ({:.2}) | {} | {:.1}x |",
                r.call_id,
                r.wer * 100.0,
                ms(r.timing_median_ms),
                ms(r.timing_p90_ms),
                ms(r.timing_bias_ms),
                opt(r.talk_ratio.0),
                opt(r.talk_ratio.1),
                r.switches.0,
                r.switches.1,
                r.longest_customer_monologue_s.0,
                r.longest_customer_monologue_s.1,
                if r.within_tolerances { "yes" } else { "no" },
                r.realtime_factor
            );
        }
        let words: usize = results.iter().map(|r| r.reference_words).sum();
        let errors: f64 = results.iter().map(|r| r.wer * r.reference_words as f64).sum();
        println!("overall WER {:.1}% over {words} reference words", 100.0 * errors / words.max(1) as f64);
        let mono: Vec<(&CallEval, &MonoEval)> =
            results.iter().filter_map(|r| Some((r, r.mono.as_ref()?))).collect();
        if !mono.is_empty() {
            println!();
            println!(
                "| call | DER | miss / false alarm / confusion | cpWER | speakers (truth) | seller found | confidence |"
            );
            println!("|---|---|---|---|---|---|---|");
            for (r, m) in &mono {
                println!(
                    "| {} | {:.1}% | {:.1} / {:.1} / {:.1} | {:.1}% | {} ({}) | {} ({}) | {:.2}{} |",
                    r.call_id,
                    m.der * 100.0,
                    m.der_parts.0 * 100.0,
                    m.der_parts.1 * 100.0,
                    m.der_parts.2 * 100.0,
                    m.cpwer * 100.0,
                    m.speakers.0,
                    m.speakers.1,
                    if m.role_correct { "yes" } else { "no" },
                    m.method.trim_start_matches("mono-"),
                    m.confidence,
                    if m.low_confidence { " (flagged)" } else { "" }
                );
            }
            let n = mono.len() as f64;
            let dia: f64 = mono.iter().map(|m| m.1.diarize_s).sum();
            let audio: f64 = mono.iter().map(|m| m.0.duration_s).sum();
            if dia > 0.0 {
                println!(
                    "diarization alone: {:.1}x real time ({audio:.0} s of audio in {dia:.1} s)",
                    audio / dia
                );
            }
            println!(
                "mean DER {:.1}%, mean cpWER {:.1}%, seller found on {}/{} calls",
                mono.iter().map(|m| m.1.der).sum::<f64>() * 100.0 / n,
                mono.iter().map(|m| m.1.cpwer).sum::<f64>() * 100.0 / n,
                mono.iter().filter(|m| m.1.role_correct).count(),
                mono.len()
            );
            let sum = |f: &dyn Fn(&MonoEval) -> usize| mono.iter().map(|m| f(m.1)).sum::<usize>();
            let (both, detected, true_frames) =
                (sum(&|m| m.overlap_frames.0), sum(&|m| m.overlap_frames.1), sum(&|m| m.overlap_frames.2));
            let pct = |a: usize, b: usize| if b == 0 { 0.0 } else { 100.0 * a as f64 / b as f64 };
            println!(
                "overlapped speech: {} of {} stretches found (overlaps between lines and backchannels), {} detected where there was none; frames: precision {:.0}%, recall {:.0}%",
                sum(&|m| m.overlaps_found.0),
                sum(&|m| m.overlaps_found.1),
                sum(&|m| m.overlaps_false),
                pct(both, detected),
                pct(both, true_frames)
            );
        }
        let audio: f64 = results.iter().map(|r| r.duration_s).sum();
        let wall: f64 = results.iter().map(|r| r.duration_s / r.realtime_factor).sum();
        if wall.is_finite() && wall > 0.0 {
            println!("overall real-time factor {:.1}x ({audio:.0} s of audio in {wall:.1} s)", audio / wall);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        s.split_whitespace().map(norm).collect()
    }

    #[test]
    fn wer_alignment() {
        let (errors, matches) =
            align(&toks("Hi, this is Daniel from Pulsedesk."), &toks("hi this is danielle from pulse desk"));
        assert_eq!(errors, 3); // substitution, substitution, insertion
        assert_eq!(matches, [(0, 0), (1, 1), (2, 2), (4, 4)]);
        assert_eq!(align(&toks(""), &toks("a b")).0, 2);
    }
}
