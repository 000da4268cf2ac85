//! Diarization error rate (DER), the standard way: 10 ms frames, a collar
//! around every reference speaker boundary left unscored, overlapping speech
//! scored (a frame with two reference speakers needs two hypothesis speakers),
//! and the hypothesis speakers mapped to reference speakers one-to-one so as
//! to maximise agreement.

use std::collections::BTreeMap;

/// A speaker's stretch of speech.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
    /// Speaker label.
    pub speaker: String,
}

/// DER and its parts, as fractions of the scored reference speech.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DerReport {
    /// (miss + false alarm + confusion) / reference speech.
    pub der: f64,
    /// Reference speech with too few hypothesis speakers.
    pub miss: f64,
    /// Hypothesis speech beyond the reference speakers.
    pub false_alarm: f64,
    /// Speech given to the wrong speaker.
    pub confusion: f64,
    /// Scored reference speech, seconds (speaker-weighted).
    pub reference_s: f64,
}

const FRAME: f64 = 0.01;

fn labels(segs: &[Segment]) -> Vec<String> {
    let mut v: Vec<String> = segs.iter().map(|s| s.speaker.clone()).collect();
    v.sort();
    v.dedup();
    v
}

/// Speakers active in each frame, as indices into `names`.
fn frames(segs: &[Segment], names: &[String], n: usize) -> Vec<Vec<usize>> {
    let mut f = vec![Vec::new(); n];
    for s in segs {
        let id = names.iter().position(|x| *x == s.speaker).unwrap_or(0);
        let (a, b) =
            (((s.start / FRAME).round().max(0.0)) as usize, ((s.end / FRAME).round().max(0.0)) as usize);
        for fr in f.iter_mut().take(b.min(n)).skip(a) {
            if !fr.contains(&id) {
                fr.push(id);
            }
        }
    }
    f
}

/// Computes the DER of `hypothesis` against `reference`.
pub fn der(reference: &[Segment], hypothesis: &[Segment], collar: f64) -> DerReport {
    let end = reference.iter().chain(hypothesis).map(|s| s.end).fold(0.0, f64::max);
    let n = (end / FRAME).ceil() as usize + 1;
    let (rn, hn) = (labels(reference), labels(hypothesis));
    let (rf, hf) = (frames(reference, &rn, n), frames(hypothesis, &hn, n));
    let mut scored = vec![true; n];
    let c = (collar / FRAME).round() as usize;
    for s in reference {
        for t in [s.start, s.end] {
            let m = (t / FRAME).round() as usize;
            for fr in scored.iter_mut().take((m + c).min(n)).skip(m.saturating_sub(c)) {
                *fr = false;
            }
        }
    }
    // Co-occurrence of hypothesis and reference speakers over scored frames.
    let mut co: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for t in (0..n).filter(|&t| scored[t]) {
        for &h in &hf[t] {
            for &r in &rf[t] {
                *co.entry((h, r)).or_default() += 1;
            }
        }
    }
    let mapping = best_mapping(hn.len(), rn.len(), &co);
    let (mut miss, mut fa, mut conf, mut total) = (0usize, 0usize, 0usize, 0usize);
    for t in (0..n).filter(|&t| scored[t]) {
        let (r, h) = (rf[t].len(), hf[t].len());
        total += r;
        miss += r.saturating_sub(h);
        fa += h.saturating_sub(r);
        let correct = hf[t].iter().filter(|&&x| mapping[x].is_some_and(|m| rf[t].contains(&m))).count();
        conf += r.min(h) - correct.min(r.min(h));
    }
    let denom = total.max(1) as f64;
    DerReport {
        der: (miss + fa + conf) as f64 / denom,
        miss: miss as f64 / denom,
        false_alarm: fa as f64 / denom,
        confusion: conf as f64 / denom,
        reference_s: total as f64 * FRAME,
    }
}

/// The one-to-one map hypothesis → reference speakers with the most agreement
/// (exhaustive: calls have a handful of speakers).
fn best_mapping(nh: usize, nr: usize, co: &BTreeMap<(usize, usize), usize>) -> Vec<Option<usize>> {
    struct Search<'a> {
        nh: usize,
        nr: usize,
        co: &'a BTreeMap<(usize, usize), usize>,
        used: Vec<bool>,
        cur: Vec<Option<usize>>,
        best: (usize, Vec<Option<usize>>),
    }
    impl Search<'_> {
        fn go(&mut self, h: usize, score: usize) {
            if h == self.nh {
                if score >= self.best.0 {
                    self.best = (score, self.cur.clone());
                }
                return;
            }
            self.cur.push(None);
            self.go(h + 1, score);
            self.cur.pop();
            for r in 0..self.nr {
                if !self.used[r] {
                    self.used[r] = true;
                    self.cur.push(Some(r));
                    let gain = self.co.get(&(h, r)).copied().unwrap_or(0);
                    self.go(h + 1, score + gain);
                    self.cur.pop();
                    self.used[r] = false;
                }
            }
        }
    }
    let mut s =
        Search { nh: nh.min(8), nr, co, used: vec![false; nr], cur: Vec::new(), best: (0, vec![None; nh]) };
    s.go(0, 0);
    let mut best = s.best.1;
    best.resize(nh, None);
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(a: f64, b: f64, spk: &str) -> Segment {
        Segment { start: a, end: b, speaker: spk.into() }
    }

    #[test]
    fn perfect_swapped_labels_score_zero() {
        let r = [s(0.0, 5.0, "A"), s(5.0, 10.0, "B")];
        let h = [s(0.0, 5.0, "x"), s(5.0, 10.0, "y")];
        assert!(der(&r, &h, 0.25).der < 1e-9);
    }

    #[test]
    fn confusion_miss_and_false_alarm_are_counted() {
        let r = [s(0.0, 10.0, "A"), s(10.0, 20.0, "B")];
        // 2 s of B given to A's speaker; nothing outside the collar otherwise.
        let h = [s(0.0, 12.0, "x"), s(12.0, 20.0, "y")];
        let d = der(&r, &h, 0.0);
        assert!((d.confusion - 0.1).abs() < 0.01, "{d:?}");
        // Missing the second half entirely: 50 % miss.
        let d = der(&r, &[s(0.0, 10.0, "x")], 0.0);
        assert!((d.miss - 0.5).abs() < 0.01, "{d:?}");
        // Speech where there is none: false alarm.
        let d = der(&[s(0.0, 10.0, "A")], &[s(0.0, 15.0, "x")], 0.0);
        assert!((d.false_alarm - 0.5).abs() < 0.01, "{d:?}");
    }

    #[test]
    fn overlap_needs_two_speakers_and_collars_forgive_boundaries() {
        let r = [s(0.0, 6.0, "A"), s(5.0, 10.0, "B")];
        let h = [s(0.0, 5.5, "x"), s(5.5, 10.0, "y")];
        let d = der(&r, &h, 0.0);
        assert!(d.miss > 0.05, "the overlap second is missed: {d:?}");
        let d = der(&[s(0.0, 5.0, "A"), s(5.0, 10.0, "B")], &[s(0.0, 5.2, "x"), s(5.2, 10.0, "y")], 0.25);
        assert!(d.der < 1e-9, "{d:?}");
    }
}
