//! Transcript files named on the command line.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use callscope_model::{SellerChannel, Transcript};

/// Expands directories into their `*.json` files (sorted), leaving out
/// `*.meta.json` sidecars. Unreadable directories are reported and counted as
/// failures.
pub(crate) fn expand_inputs(args: &[PathBuf], failed: &mut usize) -> Vec<PathBuf> {
    let mut inputs = Vec::new();
    for arg in args {
        if !arg.is_dir() {
            inputs.push(arg.clone());
            continue;
        }
        match json_files_in(arg) {
            Ok(files) if files.is_empty() => {
                eprintln!("warning: {}: no *.json files in this directory", arg.display());
            }
            Ok(files) => inputs.extend(files),
            Err(err) => {
                *failed += 1;
                eprintln!("error: {err:#}");
            }
        }
    }
    inputs
}

fn json_files_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("{}: cannot list directory", dir.display()))?
    {
        let path = entry.with_context(|| format!("{}: cannot list directory", dir.display()))?.path();
        let sidecar = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".meta.json"));
        if path.is_file() && path.extension().is_some_and(|e| e == "json") && !sidecar {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads and validates a transcript file (`-`: stdin).
pub(crate) fn load_transcript(path: &Path) -> Result<Transcript> {
    let bytes = if path == Path::new("-") {
        let mut buf = Vec::new();
        io::stdin().read_to_end(&mut buf).context("-: cannot read stdin")?;
        buf
    } else {
        std::fs::read(path).with_context(|| format!("{}: cannot read file", path.display()))?
    };
    Transcript::from_json_slice(&bytes).with_context(|| format!("{}: invalid transcript", path.display()))
}

/// The `--seller-channel left|right` parser: the model's one
/// [`SellerChannel`], with its values listed in `--help`.
pub(crate) fn seller_channel_arg() -> impl clap::builder::TypedValueParser<Value = SellerChannel> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["left", "right"]).try_map(|s| s.parse::<SellerChannel>())
}
