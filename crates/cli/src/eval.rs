//! `callscope eval DIR`: transcription and attribution quality against truth.
//!
//! DIR is an evaluation set in the eval-dev layout, or a folder of such sets,
//! one per condition (`tools/eval/degrade.py` makes them from any set: noise,
//! telephone codecs, leak, level mismatch, reverberation), each then scored in
//! its own table and summed up in one row of a summary. A set has `calls/<id>/` with
//! `stereo16k.flac` (or `mono16k.flac`), and `truth.json` (`seller_channel`,
//! `turns[].words_abs` or the reference `transcript.json`, `expected_kpis_v1`).
//! For each call it runs the same pipeline as `analyze`, scores it with the
//! `callscope-eval` library, and reports:
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
use callscope_eval::{CallEval, MonoEval, RunFacts, SetSummary};
use callscope_model::{SellerChannel, Transcript};
use callscope_pipeline::{Analyzer, Recording};
use clap::Args;

use crate::config::Config;
use crate::setup;

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
    /// DIR holds one evaluation set per condition (`tools/eval/degrade.py`):
    /// only these conditions (comma-separated names) [default: all].
    #[arg(long, value_delimiter = ',')]
    conditions: Vec<String>,
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
    /// Also write each call's analysis (the attributed words, turns, KPIs,
    /// signals, attribution) to `DIR[/<condition>]/<call_id>.json`, to look
    /// into what was scored. The words are unredacted: keep DIR private.
    #[arg(long, value_name = "DIR")]
    save_analyses: Option<PathBuf>,
}

fn eval_call(
    dir: &Path,
    args: &EvalArgs,
    analyzer: &Analyzer,
    session: Option<&mut callscope_asr::Session<'_>>,
    save: Option<&Path>,
) -> Result<CallEval> {
    let id = dir.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_owned();
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("truth.json")).context("truth.json")?)
            .context("truth.json")?;
    let reference =
        Transcript::from_json_slice(&std::fs::read(dir.join("transcript.json")).context("transcript.json")?)?;
    let file = if args.mono { "mono16k.flac" } else { "stereo16k.flac" };
    let audio = callscope_audio::decode_file(&dir.join(file)).with_context(|| format!("{id}: {file}"))?;
    let seller_channel = if args.mono { None } else { Some(truth_seller_channel(&truth)) };
    let meta = callscope_model::CallMeta {
        call_id: id.clone(),
        seller_id: truth["seller_id"].as_str().unwrap_or_default().to_owned(),
        // A set in another language says so (`"language": "fi"`); the
        // transcriber then uses that language's model.
        language: truth["language"].as_str().map(callscope_model::Language::parse).transpose()?,
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
                decode_s: 0.0,
                windows: 0,
            };
            (analyzer.analyze_transcript(meta, t, None), report)
        }
        (Some(session), None) => {
            let recording = Recording { meta, audio: (&audio).into(), seller_channel, audio_uri: None };
            analyzer.analyze_audio(recording, session, &mut |_| {})?
        }
        (None, None) => anyhow::bail!("no transcriber and no --transcripts"),
    };

    if let Some(save) = save {
        let path = save.join(format!("{id}.json"));
        std::fs::write(&path, serde_json::to_vec(&analysis)?)
            .with_context(|| format!("{}", path.display()))?;
    }
    let facts = RunFacts {
        duration_s: audio.duration_s(),
        realtime_factor: report.realtime_factor,
        crosstalk_dropped: report.crosstalk_dropped,
        diarize_s: report.diarize_s,
    };
    Ok(callscope_eval::score_call(&id, &truth, &reference, &analysis, facts, args.mono))
}

/// The seller's channel a truth file names (`right`, else left).
fn truth_seller_channel(truth: &serde_json::Value) -> SellerChannel {
    match truth["seller_channel"].as_str() {
        Some("right") => SellerChannel::Right,
        _ => SellerChannel::Left,
    }
}

/// A call's seller and the seller's channel, from its truth file.
fn seller_of(dir: &Path) -> Result<(String, Option<SellerChannel>)> {
    let t: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("truth.json"))?)?;
    Ok((t["seller_id"].as_str().unwrap_or_default().to_owned(), Some(truth_seller_channel(&t))))
}

/// The voiceprint of call `i`'s seller, enrolled from the seller's other calls
/// in the set, else from this call's stereo file. `sellers` is [`seller_of`]
/// of every call in `dirs`.
fn enrolled_voiceprint(
    i: usize,
    dirs: &[PathBuf],
    sellers: &[(String, Option<SellerChannel>)],
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
        let (samples, spans) = setup::seller_speech(&dirs[j].join("stereo16k.flac"), sellers[j].1)?;
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

/// The evaluation sets under `dir`: `dir` itself when it has a `calls/`
/// folder, else each subfolder that has one (a set of conditions made by
/// `tools/eval/degrade.py`), by name, filtered by `--conditions`.
fn eval_sets(dir: &Path, conditions: &[String]) -> Result<Vec<(Option<String>, PathBuf)>> {
    if dir.join("calls").is_dir() {
        anyhow::ensure!(
            conditions.is_empty(),
            "{}: one evaluation set, not a folder of conditions: drop --conditions",
            dir.display()
        );
        return Ok(vec![(None, dir.to_path_buf())]);
    }
    let mut sets: Vec<(Option<String>, PathBuf)> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read the evaluation folder", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("calls").is_dir())
        .filter_map(|p| Some((Some(p.file_name()?.to_str()?.to_owned()), p)))
        .collect();
    sets.sort();
    anyhow::ensure!(
        !sets.is_empty(),
        "{}: not an evaluation set (no calls/ folder, and no subfolders with one)",
        dir.display()
    );
    if !conditions.is_empty() {
        let known: Vec<&str> = sets.iter().filter_map(|(n, _)| n.as_deref()).collect();
        if let Some(missing) = conditions.iter().find(|c| !known.contains(&c.as_str())) {
            anyhow::bail!("{}: no condition {missing:?} (there are: {})", dir.display(), known.join(", "));
        }
        sets.retain(|(n, _)| n.as_ref().is_some_and(|n| conditions.contains(n)));
    }
    Ok(sets)
}

/// The calls of one evaluation set with a truth file, sorted, filtered by `--only`.
fn call_dirs(set: &Path, only: &[String]) -> Result<Vec<PathBuf>> {
    let calls_dir = set.join("calls");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&calls_dir)
        .with_context(|| format!("{}: not an evaluation set (no calls/ folder)", set.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("truth.json").is_file())
        .filter(|p| {
            only.is_empty()
                || p.file_name().and_then(|n| n.to_str()).is_some_and(|n| only.iter().any(|o| o == n))
        })
        .collect();
    dirs.sort();
    anyhow::ensure!(!dirs.is_empty(), "{}: no calls with a truth.json", calls_dir.display());
    Ok(dirs)
}

/// One JSON line of `--json`: a call's scores, with its condition when the
/// folder holds several.
#[derive(serde::Serialize)]
struct JsonLine<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<&'a str>,
    #[serde(flatten)]
    call: &'a CallEval,
}

pub(crate) fn run(args: &EvalArgs, config: &Config) -> Result<ExitCode> {
    setup::init_cli_logging();
    let sets = eval_sets(&args.dir, &args.conditions)?;
    // One diarizer for the whole run; with --enroll, each call gets its
    // seller's voiceprint on top of the configured ones.
    let mut diarizer = if args.mono { setup::diarizer(&config.diarize, args.speakers)? } else { None };
    if args.mono && args.enroll {
        anyhow::ensure!(
            diarizer.is_some(),
            "--enroll needs the diarization files (tools/models/fetch_diarize.sh)"
        );
    }
    let configured_prints = diarizer.as_ref().map(|d| d.voiceprints.clone()).unwrap_or_default();
    let (transcriber, model) = match &args.transcripts {
        Some(dir) => (None, format!("transcripts in {}", dir.display())),
        None => {
            let (t, name) = setup::transcriber(config, args.model.as_ref())?;
            (Some(t), name)
        }
    };
    let mut session = transcriber.as_ref().map(|t| t.session()).transpose()?;
    let sentiment = setup::sentiment(&config.signals, &config.diarize)?;
    let mut summaries = Vec::new();
    for (n, (condition, set)) in sets.iter().enumerate() {
        if let Some(c) = condition {
            eprintln!("== condition {c} ({}/{})", n + 1, sets.len());
        }
        let dirs = call_dirs(set, &args.only)?;
        let sellers = if args.mono && args.enroll {
            dirs.iter().map(|d| seller_of(d)).collect::<Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        let save = match (&args.save_analyses, condition) {
            (Some(d), Some(c)) => Some(d.join(c)),
            (Some(d), None) => Some(d.clone()),
            (None, _) => None,
        };
        if let Some(save) = &save {
            std::fs::create_dir_all(save).with_context(|| format!("{}", save.display()))?;
        }
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
            // Word error rates compare against reference transcripts as
            // spoken, so evaluation keeps the words unredacted.
            let analyzer = Analyzer::new(&callscope_signals::Trackers::default(), config.signals.settings())
                .with_diarizer(diarizer.clone())
                .with_redaction(None)
                .with_sentiment(sentiment.clone());
            let r = eval_call(dir, args, &analyzer, session.as_mut(), save.as_deref())?;
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string(&JsonLine { condition: condition.as_deref(), call: &r })?
                );
            } else {
                eprintln!("{}: WER {:.1}%", r.call_id, r.wer * 100.0);
            }
            results.push(r);
        }
        if !args.json {
            print_tables(condition.as_deref(), &results, &model, args.mono);
        }
        summaries.push((condition.clone(), SetSummary::of(&results)));
    }
    if !args.json && summaries.len() > 1 {
        print_summary(&summaries, &model, args.mono);
    }
    Ok(ExitCode::SUCCESS)
}

/// The per-call tables of one set (and its mono attribution table).
fn print_tables(condition: Option<&str>, results: &[CallEval], model: &str, mono: bool) {
    let ms = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.0}"));
    let opt = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"));
    match condition {
        Some(c) => println!("\n### {c}\nmodel {model}, {} audio", if mono { "mono" } else { "stereo" }),
        None => println!("model {model}, {} audio", if mono { "mono" } else { "stereo" }),
    }
    println!(
        "| call | WER | word start error median / p90 / bias (ms) | talk ratio (truth) | switches (truth) | longest customer monologue s (truth) | within tolerances | RTF |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in results {
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
        println!(
            "overall real-time factor {:.1}x ({audio:.0} s of audio in {wall:.1} s; whisper.cpp on {})",
            audio / wall,
            callscope_asr::kernels()
        );
    }
}

/// One row per condition: how each held up.
fn print_summary(summaries: &[(Option<String>, SetSummary)], model: &str, mono: bool) {
    println!("\n### Summary: model {model}, {} audio", if mono { "mono" } else { "stereo" });
    if mono {
        println!(
            "| condition | calls | WER | within tolerances | mean DER | worst DER | speakers right | seller found | flagged |"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
    } else {
        println!("| condition | calls | WER | within tolerances | flagged |");
        println!("|---|---|---|---|---|");
    }
    for (condition, s) in summaries {
        let name = condition.as_deref().unwrap_or("(set)");
        let common =
            format!("| {name} | {} | {:.1}% | {}/{}", s.calls, s.wer * 100.0, s.within_tolerances, s.calls);
        match &s.mono {
            Some(m) => println!(
                "{common} | {:.1}% | {:.1}% | {}/{} | {}/{} | {}/{} |",
                m.mean_der * 100.0,
                m.worst_der * 100.0,
                m.speakers_right,
                s.calls,
                m.seller_found,
                s.calls,
                s.flagged,
                s.calls
            ),
            None => println!("{common} | {}/{} |", s.flagged, s.calls),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_of_conditions_is_found_sorted_and_filtered() {
        let dir = tempfile::tempdir().expect("tempdir");
        for c in ["phone-ulaw", "clean", "white-snr10"] {
            std::fs::create_dir_all(dir.path().join(c).join("calls")).expect("mkdir");
        }
        std::fs::create_dir_all(dir.path().join("not-a-set")).expect("mkdir");
        let names = |sets: Vec<(Option<String>, PathBuf)>| -> Vec<String> {
            sets.into_iter().filter_map(|(n, _)| n).collect()
        };
        let all = eval_sets(dir.path(), &[]).expect("three sets");
        assert_eq!(names(all), ["clean", "phone-ulaw", "white-snr10"]);
        let some = eval_sets(dir.path(), &["white-snr10".into(), "clean".into()]).expect("two");
        assert_eq!(names(some), ["clean", "white-snr10"]);
        let err = eval_sets(dir.path(), &["pink-snr5".into()]).expect_err("unknown condition");
        assert!(
            err.to_string()
                .contains("no condition \"pink-snr5\" (there are: clean, phone-ulaw, white-snr10)"),
            "{err}"
        );
        // A single set is itself, and takes no condition filter.
        let one = eval_sets(&dir.path().join("clean"), &[]).expect("one set");
        assert_eq!(one, [(None, dir.path().join("clean"))]);
        assert!(eval_sets(&dir.path().join("clean"), &["clean".into()]).is_err());
        let err = eval_sets(&dir.path().join("not-a-set"), &[]).expect_err("nothing to score");
        assert!(err.to_string().contains("not an evaluation set"), "{err}");
    }
}
