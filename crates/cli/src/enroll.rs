//! `callscope enroll`: a seller's voiceprint, for telling the seller apart in
//! mono calls. Learned from the seller's channel of stereo calls, or from a
//! clip of the seller alone; kept in the voiceprints file (`diarize.voiceprints`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use callscope_model::SellerChannel;
use clap::Args;

use crate::config::Config;
use crate::setup::{Voiceprints, seller_channel_arg, seller_speech, voiceprint_embedder};

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
    #[arg(long, value_parser = seller_channel_arg())]
    seller_channel: Option<SellerChannel>,
}

pub(crate) fn run(args: &EnrollArgs, config: &Config) -> Result<ExitCode> {
    let d = &config.diarize;
    let Some(path) = &d.voiceprints else {
        bail!("diarize.voiceprints is not set: name the file voiceprints are kept in");
    };
    let (embedder, model) = voiceprint_embedder(d, 2)?;
    let mut prints = Vec::new();
    for file in &args.audio {
        let (samples, spans) = seller_speech(file, args.seller_channel)?;
        match callscope_diarize::mono::voiceprint(&samples, &spans, embedder.as_ref())? {
            Some(v) => prints.push(v),
            None => eprintln!("warning: {}: too little speech to learn from", file.display()),
        }
    }
    let Some(mean) = callscope_diarize::mono::mean_embedding(&prints) else {
        bail!("no recording had enough of the seller's speech")
    };
    let mut file = if path.is_file() { Voiceprints::read(path)? } else { Voiceprints::default() };
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
