//! `callscope enroll`: a seller's voiceprint, for telling the seller apart in
//! mono calls. Learned from the seller's channel of stereo calls, or from a
//! clip of the seller alone; kept in the voiceprints file (`diarize.voiceprints`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::{Deserialize, Serialize};

use crate::analyze::SellerChannelArg;
use crate::config::Config;

/// Arguments of `callscope enroll`.
#[derive(Debug, Args)]
pub(crate) struct EnrollArgs {
    /// The seller's id.
    #[arg(long, value_name = "ID")]
    seller: String,
    /// Recordings: stereo calls (the seller's channel is used) or clips of the seller alone.
    #[arg(value_name = "AUDIO", required = true)]
    audio: Vec<PathBuf>,
    /// The seller's channel in stereo recordings [default: left].
    #[arg(long, value_enum)]
    seller_channel: Option<SellerChannelArg>,
}

/// The voiceprints file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Voiceprints {
    /// The embedder the vectors come from (a different model makes them useless).
    pub(crate) model: String,
    /// Seller id → unit voice vector.
    pub(crate) sellers: BTreeMap<String, Vec<f32>>,
}

impl Voiceprints {
    pub(crate) fn read(path: &Path) -> Result<Voiceprints> {
        let bytes =
            std::fs::read(path).with_context(|| format!("{}: cannot read voiceprints", path.display()))?;
        serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: invalid voiceprints file", path.display()))
    }
}

/// Speech spans, seconds.
type Spans = Vec<(f64, f64)>;

/// The seller's speech spans in a recording and the samples they index.
pub(crate) fn seller_speech(path: &Path, channel: Option<SellerChannelArg>) -> Result<(Vec<f32>, Spans)> {
    let audio = callscope_audio::decode_file(path).with_context(|| format!("{}", path.display()))?;
    let samples = match (audio.channels.len(), channel) {
        (2, Some(SellerChannelArg::Right)) => audio.channels[1].clone(),
        (2, _) => audio.channels[0].clone(),
        _ => audio.mono(),
    };
    let spans = callscope_audio::speech_segments(&samples, callscope_audio::TARGET_RATE, &Default::default())
        .iter()
        .map(|s| (s.start, s.end))
        .collect();
    Ok((samples, spans))
}

pub(crate) fn run(args: &EnrollArgs, config: &Config) -> Result<ExitCode> {
    let d = &config.diarize;
    let Some(path) = &d.voiceprints else {
        bail!("diarize.voiceprints is not set: name the file voiceprints are kept in");
    };
    let embedder = callscope_diarize::onnx::OnnxEmbedder::load(&d.model, &d.onnxruntime, 2)?;
    let mut prints = Vec::new();
    for file in &args.audio {
        let (samples, spans) = seller_speech(file, args.seller_channel)?;
        match callscope_diarize::mono::voiceprint(&samples, &spans, &embedder)? {
            Some(v) => prints.push(v),
            None => eprintln!("warning: {}: too little speech to learn from", file.display()),
        }
    }
    let Some(mean) = callscope_diarize::mono::mean_embedding(&prints) else {
        bail!("no recording had enough of the seller's speech")
    };
    let mut file = if path.is_file() { Voiceprints::read(path)? } else { Voiceprints::default() };
    let model = d.model.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    if !file.model.is_empty() && file.model != model {
        bail!(
            "{}: its voiceprints come from {}, not {model}; enroll everyone again into a new file",
            path.display(),
            file.model
        );
    }
    file.model = model;
    file.sellers.insert(args.seller.clone(), mean);
    std::fs::write(path, serde_json::to_vec(&file)?)
        .with_context(|| format!("writing {}", path.display()))?;
    println!("enrolled {} from {} recording(s) into {}", args.seller, prints.len(), path.display());
    Ok(ExitCode::SUCCESS)
}
