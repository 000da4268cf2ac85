//! How results are printed: JSON lines for programs, tables for people.

use std::io::IsTerminal;

use callscope_ingest::Outcome;
use callscope_ingest::dir::{CallDone, DirSummary};
use clap::ValueEnum;

/// Exit code for bad input (a malformed transcript, a missing file).
pub(crate) const EXIT_BAD_INPUT: u8 = 2;

/// Output format of commands that print results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// One JSON object per line (the default when stdout is not a terminal).
    Json,
    /// A human-readable table (the default on a terminal).
    Table,
}

impl Format {
    /// The explicit choice, or `table` on a terminal and `json` otherwise.
    pub(crate) fn resolve(choice: Option<Format>) -> Format {
        choice.unwrap_or_else(|| if std::io::stdout().is_terminal() { Format::Table } else { Format::Json })
    }
}

/// Formats seconds for people: `9.08 s`, `2 min 05 s`.
pub(crate) fn seconds(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.2} s")
    } else {
        let total = s.round() as u64;
        format!("{} min {:02} s", total / 60, total % 60)
    }
}

/// A folder run's totals, one line: "2 stored, 0 failed, 1 already done",
/// and the calls a second interrupt stopped, if any.
pub(crate) fn dir_summary(s: &DirSummary) -> String {
    let mut line = format!("{} stored, {} failed, {} already done", s.stored, s.failed, s.skipped);
    if s.stopped > 0 {
        line.push_str(&format!(", {} stopped (redone on the next run)", s.stopped));
    }
    line
}

/// Formats an optional value with a unit, or `n/a` for null.
pub(crate) fn opt(value: Option<f64>, fmt: impl Fn(f64) -> String) -> String {
    value.map_or_else(|| "n/a".to_owned(), fmt)
}

/// The folder source's progress line (`worker` and `demo`).
pub(crate) fn print_progress(d: &CallDone) {
    let (done, total) = d.progress;
    let what = match &d.outcome {
        Outcome::Stored => "stored".to_owned(),
        Outcome::Failed(f) => format!("FAILED at {} ({}): {}", f.stage.as_str(), f.kind, f.reason),
        Outcome::Abandoned => "abandoned (shutting down)".to_owned(),
    };
    eprintln!("[{done}/{total}] {} {what} ({:.1} s)", d.name, d.elapsed.as_secs_f64());
}
