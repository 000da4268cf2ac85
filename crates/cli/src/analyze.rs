//! `callscope analyze`: the KPIs and signals of one call or of many.
//!
//! Input files are independent: in batch mode a bad file is reported on stderr
//! and the others are still analysed; the exit code is 2 at the end if any file
//! failed. Output is one JSON object per input line (JSON lines), in the order
//! the inputs were given (directories expand to their `*.json` files, sorted).

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use callscope_model::{CallSignals, KpiReport, SellerChannel, Transcript};
use callscope_pipeline::Analyzer;
use clap::Args;
use serde::Serialize;

use crate::config::Config;
use crate::output::{self, EXIT_BAD_INPUT, Format};
use crate::setup::{self, expand_inputs, load_transcript, seller_channel_arg};

/// Arguments of `callscope analyze`.
#[derive(Debug, Args)]
pub(crate) struct AnalyzeArgs {
    /// Recordings to transcribe and analyse (WAV, FLAC, MP3, Ogg Vorbis/Opus).
    #[arg(value_name = "AUDIO", required_unless_present = "transcripts")]
    audio: Vec<PathBuf>,
    /// A transcript JSON file, a directory of them, or `-` for stdin. Repeatable.
    #[arg(long = "transcript", value_name = "FILE|DIR", num_args = 1..)]
    transcripts: Vec<PathBuf>,
    /// Which channel of a stereo recording is the seller's [default: left].
    #[arg(long, value_parser = seller_channel_arg())]
    seller_channel: Option<SellerChannel>,
    /// Whisper model (ggml file); overrides `asr.model`.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Trackers file (TOML) of keywords and competitors to find; overrides
    /// `signals.trackers` in the configuration.
    #[arg(long, value_name = "FILE")]
    trackers: Option<PathBuf>,
    /// Output format [default: table on a terminal, json otherwise].
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Mono recordings: the number of speakers, when known (overrides `diarize.speakers`).
    #[arg(long, value_name = "N")]
    speakers: Option<usize>,
    /// The call's seller (mono: found by their enrolled voiceprint, if any).
    #[arg(long, value_name = "ID")]
    seller: Option<String>,
    /// The language spoken (`en`, `fi`, ...): picks its model (`asr.models`)
    /// and the signals' rules. Default: `asr.language` (detection when `auto`);
    /// for `--transcript`, the transcript's own `language`.
    #[arg(long, value_name = "CODE", value_parser = |s: &str| callscope_model::Language::parse(s))]
    language: Option<callscope_model::Language>,
}

/// One line of JSON output for a recording.
#[derive(Serialize)]
struct AudioLine<'a> {
    call_id: &'a str,
    kpi_version: u32,
    kpis: &'a callscope_model::CallKpis,
    transcript: &'a Transcript,
    signals: &'a CallSignals,
    attribution: Option<&'a callscope_model::Attribution>,
    audio: AudioInfo<'a>,
    source: &'a str,
}

#[derive(Serialize)]
struct AudioInfo<'a> {
    duration_s: f64,
    source_rate: u32,
    codec: &'a str,
    channels: usize,
    truncated: bool,
    crosstalk_dropped: usize,
    realtime_factor: f64,
    /// The windows a stereo call was transcribed in (`asr.window_s`; 0 for mono).
    windows: usize,
    model: &'a str,
}

/// One line of JSON output: the KPI report plus where it came from.
#[derive(Serialize)]
struct Line<'a> {
    #[serde(flatten)]
    report: &'a KpiReport,
    signals: &'a CallSignals,
    /// The input path, so batch output can be joined back to files.
    source: &'a str,
}

/// The analyzer for `--trackers` (or `signals.trackers`); a bad trackers file
/// is reported and gives `None` (exit code 2).
fn analyzer(args: &AnalyzeArgs, config: &Config) -> Option<Analyzer> {
    let built = setup::sentiment(&config.signals, &config.diarize).and_then(|sentiment| {
        setup::analyzer(
            args.trackers.as_ref().or(config.signals.trackers.as_ref()),
            config.signals.settings(),
            &config.redaction,
            sentiment,
        )
    });
    match built {
        Ok(analyzer) => Some(analyzer),
        Err(err) => {
            eprintln!("error: {err:#}");
            None
        }
    }
}

pub(crate) fn run(args: &AnalyzeArgs, config: &Config) -> Result<ExitCode> {
    setup::init_cli_logging();
    if !args.audio.is_empty() {
        return run_audio(args, config);
    }
    let format = Format::resolve(args.format);
    let Some(analyzer) = analyzer(args, config) else {
        return Ok(ExitCode::from(EXIT_BAD_INPUT));
    };
    let mut failed = 0usize;
    let inputs = expand_inputs(&args.transcripts, &mut failed);
    let show_progress = inputs.len() > 20 && io::stderr().is_terminal();

    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for (n, path) in inputs.iter().enumerate() {
        if show_progress {
            eprint!("\ranalyzing {}/{}", n + 1, inputs.len());
        }
        let source = path.display().to_string();
        match load_transcript(path) {
            Ok(transcript) => {
                let meta = callscope_model::CallMeta { language: args.language, ..Default::default() };
                let analysis = analyzer.analyze_transcript(meta, transcript, None);
                let (report, signals) = (analysis.kpis, analysis.signals);
                match format {
                    Format::Json => {
                        let line = Line { report: &report, signals: &signals, source: &source };
                        serde_json::to_writer(&mut out, &line)?;
                        writeln!(out)?;
                    }
                    Format::Table => {
                        write_table(&mut out, &source, &report)?;
                        write_signals(&mut out, &signals)?;
                    }
                }
            }
            Err(err) => {
                failed += 1;
                out.flush()?;
                if show_progress {
                    eprintln!();
                }
                eprintln!("error: {err:#}");
            }
        }
    }
    out.flush()?;
    if show_progress {
        eprintln!();
    }
    if failed > 0 {
        if inputs.len() > 1 {
            eprintln!("{failed} of {} input(s) failed", inputs.len().max(failed));
        }
        return Ok(ExitCode::from(EXIT_BAD_INPUT));
    }
    Ok(ExitCode::SUCCESS)
}

fn write_table(out: &mut impl Write, source: &str, report: &KpiReport) -> io::Result<()> {
    let k = &report.kpis;
    let pct = |v: f64| format!("{:.1} %", v * 100.0);
    let wpm = |v: f64| format!("{v:.0} wpm");
    let secs = output::seconds;
    let call = report.call_id.as_deref().unwrap_or("(no call_id)");
    let rows: [(&str, String); 12] = [
        ("Talk-to-listen ratio (seller share)", output::opt(k.talk_ratio, pct)),
        ("Seller talk time", secs(k.seller_talk_s)),
        ("Customer talk time", secs(k.customer_talk_s)),
        ("Seller talking speed", output::opt(k.seller_wpm, wpm)),
        ("Customer talking speed", output::opt(k.customer_wpm, wpm)),
        ("Switches", k.switches.to_string()),
        ("Switches per hour", output::opt(k.switches_per_hour, |v| format!("{v:.1}"))),
        ("Avg pause before responding", output::opt(k.avg_pause_s, secs)),
        ("Longest customer monologue", secs(k.longest_customer_monologue_s)),
        ("Longest seller monologue", secs(k.longest_seller_monologue_s)),
        ("Interruptions", k.interruptions.to_string()),
        ("Seller questions", k.seller_questions.to_string()),
    ];
    writeln!(out, "{call}  ({source}, KPI v{})", report.kpi_version)?;
    let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    for (name, value) in rows {
        writeln!(out, "  {name:<width$}  {value:>12}")?;
    }
    Ok(())
}

fn write_signals(out: &mut impl Write, s: &CallSignals) -> io::Result<()> {
    let time = |t: f64| format!("{:02}:{:02}", (t / 60.0) as u64, (t % 60.0) as u64);
    match s.sentiment.customer {
        Some(c) => {
            let shares = s.sentiment.customer_shares;
            writeln!(
                out,
                "  Customer sentiment: {} ({:+.2}); turns {:.0} % positive, {:.0} % neutral, {:.0} % negative",
                c.label.as_str(),
                c.score,
                shares.positive * 100.0,
                shares.neutral * 100.0,
                shares.negative * 100.0
            )?;
        }
        None => writeln!(out, "  Customer sentiment: n/a (the customer did not speak)")?,
    }
    if s.mentions.is_empty() {
        writeln!(out, "  Mentions: none (track terms with --trackers FILE)")?;
    } else {
        writeln!(out, "  Mentions:")?;
        for m in &s.mentions {
            writeln!(
                out,
                "    {}  {:<10} {:<8} {:<16} \"{}\"",
                time(m.start),
                m.kind.as_str(),
                m.role.as_str(),
                m.term,
                m.context
            )?;
        }
    }
    let keywords: Vec<String> =
        s.customer_keywords.iter().take(10).map(|k| format!("{} ({})", k.phrase, k.count)).collect();
    writeln!(
        out,
        "  Customer keywords: {}",
        if keywords.is_empty() { "none".to_owned() } else { keywords.join(", ") }
    )?;
    writeln!(out, "  Questions: {}", s.questions.len())?;
    for q in &s.questions {
        writeln!(out, "    {}  {:<8} {}", time(q.start), q.role.as_str(), q.text)?;
    }
    writeln!(out, "  Action items: {}", s.action_items.len())?;
    for a in &s.action_items {
        writeln!(out, "    {}  {:<8} {}", time(a.start), a.owner.as_str(), a.text)?;
    }
    writeln!(out)
}

fn run_audio(args: &AnalyzeArgs, config: &Config) -> Result<ExitCode> {
    let format = Format::resolve(args.format);
    let Some(analyzer) = analyzer(args, config) else {
        return Ok(ExitCode::from(EXIT_BAD_INPUT));
    };
    let analyzer = analyzer.with_diarizer(setup::diarizer(&config.diarize, args.speakers)?);
    let (transcriber, _) = setup::transcriber(config, args.model.as_ref())?;
    let mut session = transcriber.session()?;
    let seller_channel = args.seller_channel;
    let verbose = io::stderr().is_terminal();
    let mut failed = 0usize;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for path in &args.audio {
        let source = path.display().to_string();
        // Decoded as it is analysed: a long stereo call is never in memory whole.
        let stream =
            match callscope_audio::AudioStream::open_file(path, callscope_audio::DecodeLimits::default()) {
                Ok(s) => s,
                Err(err) => {
                    failed += 1;
                    eprintln!("error: {source}: {err}");
                    continue;
                }
            };
        let (source_rate, codec, channels) =
            (stream.source_rate(), stream.codec().to_owned(), stream.channels());
        let call_id = path.file_stem().and_then(|s| s.to_str()).unwrap_or("call").to_owned();
        let meta = callscope_model::CallMeta {
            call_id: call_id.clone(),
            seller_id: args.seller.clone().unwrap_or_default(),
            language: args.language,
            ..Default::default()
        };
        let mut progress = |step: &str| {
            if verbose {
                eprintln!("{source}: {step}");
            }
        };
        let recording =
            callscope_pipeline::Recording { meta, audio: stream.into(), seller_channel, audio_uri: None };
        let (analysis, report) = match analyzer.analyze_audio(recording, &mut session, &mut progress) {
            Ok(r) => r,
            Err(
                err @ (callscope_pipeline::PipelineError::MonoWithStereoRoles
                | callscope_pipeline::PipelineError::Audio(_)
                | callscope_pipeline::PipelineError::Asr(callscope_asr::AsrError::NoModelFor { .. })),
            ) => {
                failed += 1;
                eprintln!("error: {source}: {err}");
                continue;
            }
            Err(err) => return Err(err.into()),
        };
        if report.truncated {
            eprintln!("warning: {source}: the recording is cut short or damaged; analysed what decodes");
        }
        let model = analysis.provenance.asr_model.as_deref().unwrap_or_default();
        let language = match (analysis.transcript.language, analysis.transcript.language_probability) {
            (Some(l), Some(p)) => format!(", language {l} (detected, p = {p:.2})"),
            (Some(l), None) => format!(", language {l}"),
            (None, _) => String::new(),
        };
        let duration_s = analysis.duration_s;
        match format {
            Format::Json => {
                let line = AudioLine {
                    call_id: &call_id,
                    kpi_version: analysis.kpis.kpi_version,
                    kpis: &analysis.kpis.kpis,
                    transcript: &analysis.transcript,
                    signals: &analysis.signals,
                    attribution: analysis.attribution.as_ref(),
                    audio: AudioInfo {
                        duration_s,
                        source_rate,
                        codec: &codec,
                        channels,
                        truncated: report.truncated,
                        crosstalk_dropped: report.crosstalk_dropped,
                        realtime_factor: report.realtime_factor,
                        windows: report.windows,
                        model,
                    },
                    source: &source,
                };
                serde_json::to_writer(&mut out, &line)?;
                writeln!(out)?;
            }
            Format::Table => {
                write_table(&mut out, &source, &analysis.kpis)?;
                writeln!(
                    out,
                    "  Audio: {:.1} s, {} channel(s), {} at {} Hz; {} words; transcribed at {:.1}x real time with {model}{}",
                    duration_s,
                    channels,
                    codec,
                    source_rate,
                    analysis.transcript.words.len(),
                    report.realtime_factor,
                    language
                )?;
                write_signals(&mut out, &analysis.signals)?;
            }
        }
        out.flush()?;
    }
    if failed > 0 {
        return Ok(ExitCode::from(EXIT_BAD_INPUT));
    }
    Ok(ExitCode::SUCCESS)
}
