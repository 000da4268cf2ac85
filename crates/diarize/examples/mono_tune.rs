//! Mono diarization alone, on the reference words of an evaluation set, for
//! choosing an embedder's windows and merge threshold without running
//! whisper: per call, the speakers found and the share of word time given to
//! the wrong speaker (best one-to-one mapping), for each merge threshold of a
//! sweep. Embeddings are computed once per call and reused across the sweep.
//!
//! ```sh
//! cargo run --release -p callscope-diarize --example mono_tune -- SET_DIR MODEL.onnx [THRESHOLDS] [WINDOW,STRIDE,DENSE,MIN_SPAN]
//! # e.g. mono_tune target/degraded/babble-snr10 models/campplus-sv-zh-en.onnx 0.5,0.6,0.7 150,75,50,150
//! ```
//!
//! `SET_DIR` holds `calls/<id>/mono16k.flac` and `transcript.json`; ONNX
//! Runtime is read from the model's folder. With `MONO_TUNE_WORDS=DIR`, the
//! words are whisper's instead, from `DIR/<id>.json` (`callscope analyze
//! --format json`), each scored against the truth turn (`truth.json`) it
//! overlaps most. With `MONO_TUNE_ONE_VOICE` set, the thresholds swept are
//! the last merge's (`one_voice_threshold`), the others the embedder's. With `MONO_TUNE_DUMP=DIR`, every embedded window is written
//! to `DIR/<id>.json` (frames, vector, majority speaker) for analysis.
#![allow(missing_docs)]

use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use callscope_diarize::campplus::CamppEmbedder;
use callscope_diarize::mono::{
    DiarizeError, Frames, MonoSettings, SpeakerEmbedder, WindowPlan, diarize_words,
};
use callscope_diarize::onnx::{EmbedderKind, load_embedder};
use callscope_model::Word;

/// An embedder that remembers every window it embedded (one recording at a time).
struct Cached {
    inner: Box<dyn SpeakerEmbedder>,
    done: Mutex<HashMap<(usize, usize), Vec<f32>>>,
    /// Windows embedded by the model, and the seconds it took.
    cost: Mutex<(usize, f64)>,
}

impl SpeakerEmbedder for Cached {
    fn plan(&self) -> WindowPlan {
        self.inner.plan()
    }
    fn features(&self, samples: &[f32]) -> Frames {
        self.inner.features(samples)
    }
    fn embed(&self, frames: &Frames, spans: &[Range<usize>]) -> Result<Vec<Vec<f32>>, DiarizeError> {
        let mut done = self.done.lock().expect("lock");
        let todo: Vec<Range<usize>> =
            spans.iter().filter(|s| !done.contains_key(&(s.start, s.end))).cloned().collect();
        if !todo.is_empty() {
            let started = Instant::now();
            let vectors = self.inner.embed(frames, &todo)?;
            let mut cost = self.cost.lock().expect("lock");
            cost.0 += todo.len();
            cost.1 += started.elapsed().as_secs_f64();
            for (s, v) in todo.iter().zip(vectors) {
                done.insert((s.start, s.end), v);
            }
        }
        Ok(spans.iter().map(|s| done[&(s.start, s.end)].clone()).collect())
    }
}

/// Share of word time attributed to the wrong speaker, best one-to-one mapping.
fn error(words: &[Word], truth: &[String], labels: &[usize]) -> f64 {
    let names: Vec<&String> = {
        let mut n: Vec<&String> = truth.iter().collect();
        n.retain(|x| !x.is_empty());
        n.sort();
        n.dedup();
        n
    };
    let k = labels.iter().max().map_or(1, |m| m + 1);
    // overlap[h][r]: time of hypothesis speaker h on reference speaker r.
    let mut overlap = vec![vec![0.0f64; names.len()]; k];
    let mut total = 0.0;
    for ((w, t), &h) in words.iter().zip(truth).zip(labels) {
        if t.is_empty() {
            continue;
        }
        let d = (w.end - w.start).max(0.01);
        total += d;
        let r = names.iter().position(|n| *n == t).unwrap_or(0);
        overlap[h][r] += d;
    }
    // Best one-to-one mapping by brute force over assignments (k and names are small).
    fn best(overlap: &[Vec<f64>], h: usize, used: &mut Vec<bool>) -> f64 {
        if h == overlap.len() {
            return 0.0;
        }
        let mut b = best(overlap, h + 1, used); // h unmapped
        for r in 0..used.len() {
            if !used[r] {
                used[r] = true;
                b = b.max(overlap[h][r] + best(overlap, h + 1, used));
                used[r] = false;
            }
        }
        b
    }
    1.0 - best(&overlap, 0, &mut vec![false; names.len()]) / total
}

/// The reference transcript's words, and their speakers.
fn reference_words(path: &std::path::Path) -> Result<(Vec<Word>, Vec<String>), Box<dyn std::error::Error>> {
    let t: serde_json::Value = serde_json::from_slice(&std::fs::read(path)?)?;
    let mut words = Vec::new();
    let mut truth = Vec::new();
    for w in t["words"].as_array().ok_or("no words")? {
        let (Some(s), Some(e)) = (w["start"].as_f64(), w["end"].as_f64()) else { continue };
        words.push(Word::unattributed(w["text"].as_str().unwrap_or(""), s, e, None));
        truth.push(w["speaker"].as_str().unwrap_or("").to_owned());
    }
    Ok((words, truth))
}

/// The words of an analysis (`callscope analyze --format json`: whisper's
/// words), each with the speaker of the truth turn it overlaps most (`""`
/// for none: not scored).
fn hypothesis_words(
    analysis: &std::path::Path,
    truth: &std::path::Path,
) -> Result<(Vec<Word>, Vec<String>), Box<dyn std::error::Error>> {
    let a: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(analysis)?.lines().next().unwrap_or(""))?;
    let t: serde_json::Value = serde_json::from_slice(&std::fs::read(truth)?)?;
    let turns: Vec<(String, f64, f64)> = t["turns"]
        .as_array()
        .ok_or("no turns")?
        .iter()
        .filter_map(|x| Some((x["speaker"].as_str()?.to_owned(), x["start"].as_f64()?, x["end"].as_f64()?)))
        .collect();
    let mut words = Vec::new();
    let mut truth = Vec::new();
    for w in a["transcript"]["words"].as_array().ok_or("no words")? {
        let (Some(s), Some(e)) = (w["start"].as_f64(), w["end"].as_f64()) else { continue };
        let who = turns
            .iter()
            .map(|(k, a, b)| (k, e.min(*b) - s.max(*a)))
            .filter(|(_, o)| *o > 0.0)
            .max_by(|x, y| x.1.total_cmp(&y.1))
            .map_or(String::new(), |(k, _)| k.clone());
        words.push(Word::unattributed(w["text"].as_str().unwrap_or(""), s, e, None));
        truth.push(who);
    }
    Ok((words, truth))
}

/// Writes every window embedded for the call: its frames, its vector, and the
/// speaker of most of the word time in it (`""` when none), for analysis.
fn dump(path: &std::path::Path, embedder: &Cached, words: &[Word], truth: &[String]) -> std::io::Result<()> {
    let done = embedder.done.lock().expect("lock");
    let mut keys: Vec<&(usize, usize)> = done.keys().collect();
    keys.sort();
    let rows: Vec<serde_json::Value> = keys
        .iter()
        .map(|&&(s, e)| {
            let (a, b) = (s as f64 / 100.0, e as f64 / 100.0);
            let mut time: HashMap<&str, f64> = HashMap::new();
            for (w, t) in words.iter().zip(truth) {
                *time.entry(t).or_default() += (w.end.min(b) - w.start.max(a)).max(0.0);
            }
            let total: f64 = time.values().sum();
            let (who, most) =
                time.iter().max_by(|x, y| x.1.total_cmp(y.1)).map_or(("", 0.0), |(k, v)| (*k, *v));
            serde_json::json!({"span": [s, e], "speaker": if most > 0.0 { who } else { "" },
                "purity": if total > 0.0 { most / total } else { 0.0 }, "vec": done[&(s, e)]})
        })
        .collect();
    std::fs::write(path, serde_json::to_vec(&rows)?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: mono_tune SET_DIR MODEL.onnx [THRESHOLDS] [WINDOW,STRIDE,DENSE,MIN_SPAN]";
    let set = PathBuf::from(args.next().ok_or(usage)?);
    let model = PathBuf::from(args.next().ok_or(usage)?);
    let thresholds: Vec<Option<f32>> = match args.next() {
        Some(t) => t.split(',').map(|x| x.parse().map(Some)).collect::<Result<_, _>>()?,
        None => vec![None],
    };
    let runtime = model.with_file_name("libonnxruntime.so.1.32.0");
    let (mut inner, kind) = load_embedder(&model, &runtime, 1)?;
    if let Some(geometry) = args.next() {
        let g: Vec<usize> = geometry.split(',').map(str::parse).collect::<Result<_, _>>()?;
        if kind != EmbedderKind::Campplus || g.len() != 4 {
            return Err("window geometry: CAM++ only, four numbers".into());
        }
        let plan =
            WindowPlan { window: g[0], stride: g[1], dense_stride: g[2], min_span: g[3], ..inner.plan() };
        inner = Box::new(CamppEmbedder::load(&model, &runtime, 1)?.with_plan(plan));
    }
    let embedder = Cached { inner, done: Mutex::new(HashMap::new()), cost: Mutex::new((0, 0.0)) };
    let mut calls: Vec<PathBuf> =
        std::fs::read_dir(set.join("calls"))?.filter_map(|e| Some(e.ok()?.path())).collect();
    calls.sort();
    println!("{} {:?}", kind.as_str(), embedder.plan());
    let mut sums = vec![(0.0f64, 0usize, 0.0f64); thresholds.len()];
    let (mut audio_s, mut diarize_s) = (0.0, 0.0);
    for call in &calls {
        let id = call.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_owned();
        let samples = callscope_audio::decode_file(&call.join("mono16k.flac"))?.mono();
        let (words, truth) = match std::env::var_os("MONO_TUNE_WORDS") {
            Some(dir) => {
                hypothesis_words(&PathBuf::from(dir).join(format!("{id}.json")), &call.join("truth.json"))?
            }
            None => reference_words(&call.join("transcript.json"))?,
        };
        embedder.done.lock().expect("lock").clear();
        let mut line = format!("{id:<34}");
        for (i, th) in thresholds.iter().enumerate() {
            // MONO_TUNE_ONE_VOICE: the sweep is of the last merge's threshold
            // (`one_voice_threshold`); the others stay the embedder's.
            let settings = if std::env::var_os("MONO_TUNE_ONE_VOICE").is_some() {
                MonoSettings { one_voice_threshold: *th, ..Default::default() }
            } else {
                MonoSettings { merge_threshold: *th, one_voice_threshold: *th, ..Default::default() }
            };
            let started = Instant::now();
            let r = diarize_words(&samples, &words, &embedder, &settings)?;
            if i == 0 {
                diarize_s += started.elapsed().as_secs_f64();
                audio_s += samples.len() as f64 / 16_000.0;
            }
            let e = error(&words, &truth, &r.labels);
            if std::env::var_os("MONO_TUNE_SHOW").is_some() && i == 0 {
                for (k, (w, t)) in words.iter().zip(&truth).enumerate() {
                    println!(
                        "  {:>7.2} {:>7.2} {:<14} truth {:<9} got {}",
                        w.start, w.end, w.text, t, r.labels[k]
                    );
                }
            }
            line += &format!("  {:>5.1}% {} c{:.2}", 100.0 * e, r.speakers, r.closest_centroids);
            sums[i].0 += e;
            sums[i].1 += usize::from(r.speakers == 2);
            sums[i].2 = sums[i].2.max(e);
        }
        println!("{line}");
        if let Some(dir) = std::env::var_os("MONO_TUNE_DUMP") {
            dump(&PathBuf::from(dir).join(format!("{id}.json")), &embedder, &words, &truth)?;
        }
    }
    let mut line = format!("{:<34}", "mean / worst / 2 speakers");
    for (e, right, worst) in &sums {
        line += &format!(
            "  {:>5.1}% {:.1}% {right}/{}",
            100.0 * e / calls.len() as f64,
            100.0 * worst,
            calls.len()
        );
    }
    println!("{line}");
    println!(
        "thresholds {thresholds:?}; first pass {audio_s:.0} s of audio in {diarize_s:.1} s ({:.1}x)",
        audio_s / diarize_s
    );
    let (n, secs) = *embedder.cost.lock().expect("lock");
    println!(
        "model: {n} windows in {secs:.1} s ({:.1} ms each, {:.2} windows per second of audio)",
        1e3 * secs / n.max(1) as f64,
        n as f64 / audio_s
    );
    Ok(())
}
