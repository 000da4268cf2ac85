//! Speaker attribution for mono recordings: who said each word.
//!
//! 1. **Embeddings.** d-vectors over 0.8 s windows every 0.4 s, inside the
//!    speech regions (the words' spans), from a [`SpeakerEmbedder`].
//! 2. **Clustering.** Agglomerative, average linkage on cosine similarity,
//!    down to the given number of speakers or until no two clusters are more
//!    similar than a threshold; tiny clusters are folded into the nearest.
//!    Long calls cluster a uniform subsample (bounded time and memory) and
//!    assign the rest to the nearest centroid.
//! 3. **Resegmentation per word.** Words are grouped into runs split at pauses;
//!    each run gets its own embedding (its audio's windows) and goes to the
//!    nearest centroid. So turn boundaries follow the words' own times, not a
//!    fixed window grid, and every word is assigned on its own merits: a
//!    segment-level assignment is a known cause of very high error.
//! 4. **Roles.** Which cluster is the seller: an enrolled voiceprint when there
//!    is one, else heuristics (see [`assign_roles`]).
//!
//! The result carries a confidence: how well separated the speakers are and how
//! clear the role decision was. Low confidence flags the call.

use std::collections::BTreeMap;

use callscope_model::{Attribution, Role, Transcript, Word};

use crate::features::{HOP, LogMel, N_MELS};
use crate::overlap::OverlapDetector;

/// Frames per embedding window (0.8 s).
pub const WINDOW_FRAMES: usize = 80;
/// Frames between windows (0.4 s).
pub const STRIDE_FRAMES: usize = 40;
/// Frames between the dense windows that place turn changes (0.2 s).
const DENSE_STRIDE_FRAMES: usize = 20;
const FRAME_S: f64 = HOP as f64 / 16_000.0;

/// Computes speaker embeddings of log-mel windows.
pub trait SpeakerEmbedder: Send + Sync {
    /// One L2-normalised embedding per window; `windows` holds `n` windows of
    /// `WINDOW_FRAMES × N_MELS` values.
    fn embed(&self, windows: &[f32], n: usize) -> Result<Vec<Vec<f32>>, DiarizeError>;
}

/// Why diarization failed.
#[derive(Debug, thiserror::Error)]
pub enum DiarizeError {
    /// The embedding model could not be loaded or run.
    #[error("speaker embedder: {0}")]
    Embedder(String),
}

/// Settings of mono diarization.
#[derive(Debug, Clone, PartialEq)]
pub struct MonoSettings {
    /// The number of speakers, when known.
    pub speakers: Option<usize>,
    /// Clusters more similar than this (average cosine) are merged when the
    /// number of speakers is estimated.
    pub merge_threshold: f32,
    /// A pause at least this long (seconds) splits a run of words.
    pub run_gap_s: f64,
    /// Most windows clustered directly (the rest go to the nearest centroid).
    pub max_cluster_windows: usize,
    /// Runs at least this long (seconds) are checked word by word for a turn change.
    pub split_min_run_s: f64,
}

impl Default for MonoSettings {
    fn default() -> Self {
        MonoSettings {
            speakers: None,
            merge_threshold: 0.35,
            run_gap_s: 0.15,
            max_cluster_windows: 1200,
            split_min_run_s: 1.6,
        }
    }
}

/// Who said each word, and how sure we are.
#[derive(Debug, Clone, PartialEq)]
pub struct WordSpeakers {
    /// Speaker index per input word.
    pub labels: Vec<usize>,
    /// Number of speakers found.
    pub speakers: usize,
    /// Cosine similarity of the two closest speaker centroids (lower: better separated).
    pub closest_centroids: f32,
    /// Mean cosine of each run to its own centroid minus to the next best, over runs.
    pub margin: f32,
    /// Each speaker's voice (unit centroid), by speaker index.
    pub centroids: Vec<Vec<f32>>,
}

/// Scales `v` to unit length (a zero vector stays zero).
pub(crate) fn normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Embeddings of the windows of frames `[from, to)` (at least one window, padded).
fn embed_span(
    frames: &[[f32; N_MELS]],
    from: usize,
    to: usize,
    embedder: &dyn SpeakerEmbedder,
) -> Result<Vec<Vec<f32>>, DiarizeError> {
    let to = to.min(frames.len());
    if from >= to {
        return Ok(Vec::new());
    }
    let starts: Vec<usize> = if to - from <= WINDOW_FRAMES {
        // Short: one window centred on the span, clamped to the recording.
        let centre = (from + to) / 2;
        vec![centre.saturating_sub(WINDOW_FRAMES / 2).min(frames.len().saturating_sub(WINDOW_FRAMES))]
    } else {
        (from..=to - WINDOW_FRAMES).step_by(STRIDE_FRAMES).collect()
    };
    let mut data = Vec::with_capacity(starts.len() * WINDOW_FRAMES * N_MELS);
    for &s in &starts {
        for t in s..s + WINDOW_FRAMES {
            data.extend_from_slice(frames.get(t).unwrap_or(&[-10.0; N_MELS]));
        }
    }
    embedder.embed(&data, starts.len())
}

/// The unit-length mean of embeddings (a voice's centroid or voiceprint); `None` for none.
pub fn mean_embedding(v: &[Vec<f32>]) -> Option<Vec<f32>> {
    let first = v.first()?;
    let mut m = vec![0.0f32; first.len()];
    for e in v {
        m.iter_mut().zip(e).for_each(|(a, b)| *a += b);
    }
    normalize(&mut m);
    Some(m)
}

/// Average-linkage agglomerative clustering of unit vectors. Returns a label per item.
fn agglomerate(items: &[Vec<f32>], k: Option<usize>, threshold: f32) -> Vec<usize> {
    let n = items.len();
    let mut clusters: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
    // Pairwise similarity sums between clusters (average = sum / (|a|·|b|)).
    let mut sim: Vec<Vec<f32>> =
        (0..n).map(|i| (0..n).map(|j| dot(&items[i], &items[j])).collect()).collect();
    let mut alive: Vec<bool> = vec![true; n];
    let mut count = n;
    let target = k.unwrap_or(1).max(1);
    while count > target {
        let mut best = (f32::NEG_INFINITY, 0, 0);
        for a in (0..n).filter(|&a| alive[a]) {
            for b in (a + 1..n).filter(|&b| alive[b]) {
                let avg = sim[a][b] / (clusters[a].len() * clusters[b].len()) as f32;
                if avg > best.0 {
                    best = (avg, a, b);
                }
            }
        }
        let (avg, a, b) = best;
        if k.is_none() && avg < threshold {
            break;
        }
        let moved = std::mem::take(&mut clusters[b]);
        clusters[a].extend(moved);
        alive[b] = false;
        #[allow(clippy::needless_range_loop)] // a symmetric update: row and column
        for c in 0..n {
            let s = sim[b][c];
            sim[a][c] += s;
            sim[c][a] = sim[a][c];
        }
        count -= 1;
    }
    let mut labels = vec![0; n];
    for (l, c) in clusters.iter().filter(|c| !c.is_empty()).enumerate() {
        for &i in c {
            labels[i] = l;
        }
    }
    labels
}

/// Assigns each word to a speaker. `samples` is the 16 kHz mono recording.
pub fn diarize_words(
    samples: &[f32],
    words: &[Word],
    embedder: &dyn SpeakerEmbedder,
    settings: &MonoSettings,
) -> Result<WordSpeakers, DiarizeError> {
    let none = WordSpeakers {
        labels: vec![0; words.len()],
        speakers: 1,
        closest_centroids: 1.0,
        margin: 0.0,
        centroids: Vec::new(),
    };
    if words.is_empty() {
        return Ok(none);
    }
    let frames = LogMel::new().frames(samples);
    let frame_of = |t: f64| ((t / FRAME_S).max(0.0) as usize).min(frames.len());
    // Word runs, split at pauses.
    let mut order: Vec<usize> = (0..words.len()).collect();
    order.sort_by(|&a, &b| words[a].start.total_cmp(&words[b].start));
    let mut runs: Vec<Vec<usize>> = Vec::new();
    let mut run_end = f64::NEG_INFINITY;
    for &i in &order {
        let w = &words[i];
        match runs.last_mut() {
            Some(r) if w.start - run_end < settings.run_gap_s => r.push(i),
            _ => runs.push(vec![i]),
        }
        run_end = run_end.max(w.end);
    }
    // Embeddings per run; the clustering input is every window of every run.
    let mut run_embeddings = Vec::with_capacity(runs.len());
    let mut windows = Vec::new();
    for r in &runs {
        let s = r.iter().map(|&i| words[i].start).fold(f64::INFINITY, f64::min);
        let e = r.iter().map(|&i| words[i].end).fold(f64::NEG_INFINITY, f64::max);
        let emb = embed_span(&frames, frame_of(s), frame_of(e), embedder)?;
        windows.extend(emb.iter().cloned());
        run_embeddings.push(mean_embedding(&emb));
    }
    if windows.len() < 2 {
        return Ok(none);
    }
    // Cluster (a subsample of) the windows.
    let step = windows.len().div_ceil(settings.max_cluster_windows).max(1);
    let sample: Vec<Vec<f32>> = windows.iter().step_by(step).cloned().collect();
    let k = settings.speakers.map(|k| k.min(sample.len()));
    let labels = agglomerate(&sample, k, settings.merge_threshold);
    let n_clusters = labels.iter().max().map_or(1, |m| m + 1);
    let mut members: Vec<Vec<Vec<f32>>> = vec![Vec::new(); n_clusters];
    for (e, &l) in sample.iter().zip(&labels) {
        members[l].push(e.clone());
    }
    // Fold clusters under 3 % of the windows into their nearest big one (when estimating).
    let min_size = if settings.speakers.is_some() { 1 } else { (sample.len() * 3 / 100).max(2) };
    let mut centroids: Vec<Vec<f32>> =
        members.iter().filter(|m| m.len() >= min_size).filter_map(|m| mean_embedding(m)).collect();
    if centroids.is_empty() {
        centroids = members.iter().filter_map(|m| mean_embedding(m)).collect();
    }
    // Refine: k-means passes over all windows.
    for _ in 0..3 {
        let mut sums: Vec<Vec<Vec<f32>>> = vec![Vec::new(); centroids.len()];
        for w in &windows {
            let best = nearest(&centroids, w).0;
            sums[best].push(w.clone());
        }
        for (c, s) in centroids.iter_mut().zip(&sums) {
            if let Some(m) = mean_embedding(s) {
                *c = m;
            }
        }
    }
    // Assign words. A short run goes whole to its nearest centroid. In a longer
    // one, each word is scored by the dense windows around it, so a turn change
    // inside a run (no pause between the speakers) is found at the word where
    // it happens; then isolated one-word flips are smoothed away.
    let mut word_labels = vec![0usize; words.len()];
    let mut margins = Vec::new();
    for (r, emb) in runs.iter().zip(&run_embeddings) {
        let Some(emb) = emb else { continue };
        let (best, sim, second) = nearest(&centroids, emb);
        if centroids.len() > 1 {
            margins.push(sim - second);
        }
        let s = r.iter().map(|&i| words[i].start).fold(f64::INFINITY, f64::min);
        let e = r.iter().map(|&i| words[i].end).fold(f64::NEG_INFINITY, f64::max);
        if centroids.len() < 2 || e - s < settings.split_min_run_s {
            for &i in r {
                word_labels[i] = best;
            }
            continue;
        }
        let (from, to) = (frame_of(s), frame_of(e));
        let starts: Vec<usize> = (from.saturating_sub(WINDOW_FRAMES / 4)
            ..=to.saturating_sub(WINDOW_FRAMES * 3 / 4))
            .step_by(DENSE_STRIDE_FRAMES)
            .filter(|&st| st + WINDOW_FRAMES <= frames.len())
            .collect();
        let mut data = Vec::with_capacity(starts.len() * WINDOW_FRAMES * N_MELS);
        for &st in &starts {
            for f in &frames[st..st + WINDOW_FRAMES] {
                data.extend_from_slice(f);
            }
        }
        let dense = if starts.is_empty() { Vec::new() } else { embedder.embed(&data, starts.len())? };
        let centres: Vec<f64> = starts.iter().map(|&st| (st + WINDOW_FRAMES / 2) as f64 * FRAME_S).collect();
        let mut labels: Vec<usize> = r
            .iter()
            .map(|&i| {
                let (ws, we) = (words[i].start - 0.1, words[i].end + 0.1);
                let mut score = vec![0.0f32; centroids.len()];
                let mut any = false;
                for (c, d) in centres.iter().zip(&dense) {
                    if *c >= ws && *c <= we {
                        any = true;
                        for (k, cen) in centroids.iter().enumerate() {
                            score[k] += dot(cen, d);
                        }
                    }
                }
                if !any {
                    let mid = (words[i].start + words[i].end) / 2.0;
                    if let Some(j) = (0..centres.len())
                        .min_by(|&a, &b| (centres[a] - mid).abs().total_cmp(&(centres[b] - mid).abs()))
                    {
                        return nearest(&centroids, &dense[j]).0;
                    }
                    return best;
                }
                (0..score.len()).max_by(|&a, &b| score[a].total_cmp(&score[b])).unwrap_or(best)
            })
            .collect();
        for k in 1..labels.len().saturating_sub(1) {
            if labels[k - 1] == labels[k + 1] && labels[k] != labels[k - 1] {
                labels[k] = labels[k - 1];
            }
        }
        for (&i, l) in r.iter().zip(labels) {
            word_labels[i] = l;
        }
    }
    let mut closest = f32::NEG_INFINITY;
    for a in 0..centroids.len() {
        for b in a + 1..centroids.len() {
            closest = closest.max(dot(&centroids[a], &centroids[b]));
        }
    }
    // Renumber speakers by first appearance.
    let mut map = vec![usize::MAX; centroids.len()];
    let mut next = 0;
    for &i in &order {
        let l = word_labels[i];
        if map[l] == usize::MAX {
            map[l] = next;
            next += 1;
        }
    }
    let labels = word_labels.iter().map(|&l| map[l]).collect();
    let mut ordered = vec![Vec::new(); next];
    for (old, &new) in map.iter().enumerate() {
        if new != usize::MAX {
            ordered[new].clone_from(&centroids[old]);
        }
    }
    Ok(WordSpeakers {
        labels,
        centroids: ordered,
        speakers: next.max(1),
        closest_centroids: if closest.is_finite() { closest } else { 1.0 },
        margin: if margins.is_empty() { 0.0 } else { margins.iter().sum::<f32>() / margins.len() as f32 },
    })
}

/// Index of the nearest centroid, its similarity, and the second best similarity.
fn nearest(centroids: &[Vec<f32>], v: &[f32]) -> (usize, f32, f32) {
    let mut best = (0, f32::NEG_INFINITY, f32::NEG_INFINITY);
    for (i, c) in centroids.iter().enumerate() {
        let s = dot(c, v);
        if s > best.1 {
            best = (i, s, best.1);
        } else if s > best.2 {
            best.2 = s;
        }
    }
    best
}

/// An enrolled voiceprint picks the seller only when the closest speaker is at
/// least this similar to it (cosine); otherwise the heuristics decide.
pub const VOICEPRINT_MIN_SIMILARITY: f32 = 0.5;
/// Speakers whose centroids are this far apart (1 − cosine) or more count as
/// fully separated; closer voices lower the call's confidence linearly.
const FULL_SEPARATION: f32 = 0.6;

/// Mono diarization with everything it needs: a speaker embedder, its
/// settings, the enrolled sellers' voiceprints and, when installed, the
/// overlapped-speech model. Build once; share by reference across threads.
pub struct Diarizer {
    /// Speaker embeddings (the ONNX d-vector model in production).
    pub embedder: Box<dyn SpeakerEmbedder>,
    /// Clustering and assignment settings.
    pub settings: MonoSettings,
    /// Enrolled sellers' voiceprints, by seller id (`callscope enroll`).
    pub voiceprints: BTreeMap<String, Vec<f32>>,
    /// Overlapped-speech detection (the segmentation model), when installed.
    pub overlap: Option<OverlapDetector>,
}

impl std::fmt::Debug for Diarizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Diarizer").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Diarizer {
    /// Speakers per word of a mono recording (`samples`, 16 kHz), the seller
    /// among them, and the confidence of both.
    ///
    /// The seller is the speaker closest to `seller_id`'s enrolled voiceprint
    /// when there is one (and the voices differ enough to tell, see
    /// [`VOICEPRINT_MIN_SIMILARITY`]), else the heuristics' choice
    /// ([`assign_roles`]). The confidence is the speakers' separation times
    /// how clear the role choice was (halfway credit for an unclear one).
    pub fn attribute(
        &self,
        samples: &[f32],
        words: &[Word],
        seller_id: &str,
    ) -> Result<(Transcript, Attribution), DiarizeError> {
        let r = diarize_words(samples, words, self.embedder.as_ref(), &self.settings)?;
        let enrolled = self
            .voiceprints
            .get(seller_id)
            .and_then(|v| match_voiceprint(&r.centroids, v))
            .filter(|&(_, sim, clarity)| sim >= VOICEPRINT_MIN_SIMILARITY && clarity > 0.0);
        let (seller, role_confidence, method) = match enrolled {
            Some((seller, _, clarity)) => (seller, clarity, RoleMethod::Enrollment),
            None => {
                let (s, c) = assign_roles(words, &r.labels, r.speakers);
                (s, c, RoleMethod::Heuristics)
            }
        };
        let mut t = Transcript::default();
        for s in 0..r.speakers {
            let role = match (r.speakers, s == seller) {
                (1, _) => Role::Other,
                (_, true) => Role::Seller,
                (_, false) => Role::Customer,
            };
            t.speakers.insert(format!("spk_{s}"), role);
        }
        t.words = words.iter().zip(&r.labels).map(|(w, &l)| w.said_by(&format!("spk_{l}"))).collect();
        // Separation: the closest two voices' similarity (one voice: no split at all).
        let split = if r.speakers < 2 {
            0.0
        } else {
            f64::from(((1.0 - r.closest_centroids) / FULL_SEPARATION).clamp(0.0, 1.0))
        };
        let confidence = split * (0.5 + 0.5 * f64::from(role_confidence));
        let mut attribution = Attribution::new(method.as_str(), confidence);
        if let Some(detector) = &self.overlap {
            attribution.overlaps = detector.detect(samples)?;
        }
        Ok((t, attribution))
    }
}

/// How the seller was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleMethod {
    /// The seller's enrolled voiceprint.
    Enrollment,
    /// Who speaks first, who asks questions, who names the company.
    Heuristics,
}

impl RoleMethod {
    /// The name stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleMethod::Enrollment => "mono-enrollment",
            RoleMethod::Heuristics => "mono-heuristics",
        }
    }
}

/// A voiceprint: the mean embedding of a speaker's speech in `samples`
/// (16 kHz mono) over `spans` (seconds). `None` when there is under a second
/// of speech.
pub fn voiceprint(
    samples: &[f32],
    spans: &[(f64, f64)],
    embedder: &dyn SpeakerEmbedder,
) -> Result<Option<Vec<f32>>, DiarizeError> {
    let frames = LogMel::new().frames(samples);
    let frame_of = |t: f64| ((t / FRAME_S).max(0.0) as usize).min(frames.len());
    let mut all = Vec::new();
    for &(s, e) in spans.iter().filter(|(s, e)| e - s >= 0.8) {
        all.extend(embed_span(&frames, frame_of(s), frame_of(e), embedder)?);
    }
    Ok(if all.len() < 3 { None } else { mean_embedding(&all) })
}

/// Picks the seller by voice: the speaker closest to the enrolled voiceprint.
/// Returns the seller's index, the similarity, and how clear the choice was.
pub fn match_voiceprint(centroids: &[Vec<f32>], voiceprint: &[f32]) -> Option<(usize, f32, f32)> {
    if centroids.len() < 2 {
        return None;
    }
    let (best, sim, second) = nearest(centroids, voiceprint);
    Some((best, sim, ((sim - second) / 0.3).clamp(0.0, 1.0)))
}

/// Picks the seller among the speakers. Returns the seller's index and how
/// clear the choice was (0 to 1).
///
/// Heuristics, scored per speaker: opening the call (the seller answers an
/// inbound call and places an outbound one); introducing themselves and
/// their company early ("this is …", "… from Harbourline", "… speaking");
/// asking questions (sellers ask most of them: discovery); talking more.
pub fn assign_roles(words: &[Word], labels: &[usize], speakers: usize) -> (usize, f32) {
    if speakers < 2 {
        return (0, 0.0);
    }
    let mut score = vec![0.0f32; speakers];
    let mut questions = vec![0.0f32; speakers];
    let mut talk = vec![0.0f32; speakers];
    let mut order: Vec<usize> = (0..words.len()).collect();
    order.sort_by(|&a, &b| words[a].start.total_cmp(&words[b].start));
    if let Some(&first) = order.first() {
        score[labels[first]] += 1.0;
    }
    let lower: Vec<String> = order
        .iter()
        .map(|&i| words[i].text.to_lowercase().trim_matches(|c: char| !c.is_alphanumeric()).to_owned())
        .collect();
    // Introductions in a speaker's first 15 words: "this is …", "… calling
    // from …", "Callum from Harbourline …", "… speaking".
    let mut seen = vec![0usize; speakers];
    let mut introduced = vec![false; speakers];
    for (k, &i) in order.iter().enumerate() {
        let l = labels[i];
        seen[l] += 1;
        talk[l] += (words[i].end - words[i].start) as f32;
        if words[i].text.ends_with('?') {
            questions[l] += 1.0;
        }
        let next = |d: usize| lower.get(k + d).map(String::as_str).unwrap_or("");
        let intro = (lower[k] == "this" && next(1) == "is")
            || (lower[k] == "from" && k > 0 && seen[l] > 1)
            || lower[k] == "speaking";
        if intro && seen[l] <= 15 && !introduced[l] {
            introduced[l] = true;
            score[l] += 1.5;
        }
    }
    let share = |v: &[f32], l: usize| {
        let t: f32 = v.iter().sum();
        if t > 0.0 { v[l] / t } else { 0.0 }
    };
    for (l, sc) in score.iter_mut().enumerate() {
        *sc += 2.0 * share(&questions, l) + 0.5 * share(&talk, l);
    }
    let mut ranked: Vec<usize> = (0..speakers).collect();
    ranked.sort_by(|&a, &b| score[b].total_cmp(&score[a]));
    let margin = (score[ranked[0]] - score[ranked[1]]) / 3.0;
    (ranked[0], margin.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake embedder: the window's peak level decides the "voice".
    struct ByLevel;
    impl SpeakerEmbedder for ByLevel {
        fn embed(&self, windows: &[f32], n: usize) -> Result<Vec<Vec<f32>>, DiarizeError> {
            let per = windows.len() / n.max(1);
            Ok(windows
                .chunks(per)
                .map(|w| {
                    let peak = w.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let mut v = if peak > 0.0 { vec![1.0, 0.1, 0.0] } else { vec![0.1, 1.0, 0.0] };
                    normalize(&mut v);
                    v
                })
                .collect())
        }
    }

    fn tone(freq: f32, amp: f32, secs: f32) -> Vec<f32> {
        (0..(secs * 16_000.0) as usize)
            .map(|i| amp * (2.0 * std::f32::consts::PI * freq * i as f32 / 16_000.0).sin())
            .collect()
    }

    #[test]
    fn two_voices_are_told_apart_per_word() {
        // Loud "speaker" 0-3 s, quiet one 3.5-6.5 s, loud again 7-9 s.
        let mut samples = tone(300.0, 0.5, 3.0);
        samples.extend(vec![0.0; 8_000]);
        samples.extend(tone(300.0, 0.0005, 3.0));
        samples.extend(vec![0.0; 8_000]);
        samples.extend(tone(300.0, 0.5, 2.0));
        let w = |t: &str, s: f64, e: f64| Word::unattributed(t, s, e, None);
        let words = vec![
            w("Hi", 0.2, 1.0),
            w("this", 1.0, 2.0),
            w("is", 2.0, 2.9),
            w("hello", 3.6, 4.5),
            w("there", 4.5, 6.4),
            w("great?", 7.1, 8.8),
        ];
        let r = diarize_words(&samples, &words, &ByLevel, &MonoSettings::default()).expect("diarize");
        assert_eq!(r.speakers, 2);
        assert_eq!(r.labels, vec![0, 0, 0, 1, 1, 0]);
        let (seller, confidence) = assign_roles(&words, &r.labels, r.speakers);
        assert_eq!(seller, 0, "opens the call, introduces themselves, asks the question");
        assert!(confidence > 0.3);
    }

    #[test]
    fn a_voiceprint_picks_the_closest_speaker_and_says_how_clearly() {
        let c = vec![vec![1.0, 0.0], vec![0.0, 1.0]];
        let (who, sim, clarity) = match_voiceprint(&c, &[0.1, 0.995]).expect("two speakers");
        assert_eq!(who, 1);
        assert!(sim > 0.99 && clarity > 0.9);
        let (_, _, unclear) = match_voiceprint(&c, &[0.7, 0.714]).expect("two speakers");
        assert!(unclear < 0.1, "{unclear}");
        assert!(match_voiceprint(&c[..1], &[1.0, 0.0]).is_none(), "one speaker: nothing to choose");
    }

    #[test]
    fn agglomeration_stops_at_k_or_threshold() {
        let v = |x: f32, y: f32| {
            let mut v = vec![x, y];
            normalize(&mut v);
            v
        };
        let items = vec![v(1.0, 0.0), v(0.99, 0.1), v(0.0, 1.0), v(0.1, 0.99)];
        assert_eq!(agglomerate(&items, None, 0.5), vec![0, 0, 1, 1]);
        assert_eq!(agglomerate(&items, Some(1), 0.5), vec![0, 0, 0, 0]);
        assert_eq!(agglomerate(&items, None, 0.999), vec![0, 1, 2, 3]);
    }
}
