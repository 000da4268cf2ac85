//! The columns of `calls`, written down once.
//!
//! `calls` is the widest table and a public interface (BI tools query it), and
//! its column list used to be spelled out by hand four times: the row struct,
//! the `SELECT` lists, SQLite's 44-parameter insert and the migrations. Now
//! [`CALLS`] is the list: both backends' `SELECT` lists, SQLite's insert and its
//! bind parameters are generated from it. ClickHouse writes and reads
//! [`CallRow`] by field order (RowBinary), and a test pins that order to this
//! table. The migrations in `schemas/` stay as written (they are history); each
//! backend's tests check that the migrated `calls` has exactly these columns.

use crate::rows::CallRow;

/// Which backends' `calls` table has a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// Both: a [`CallRow`] field.
    Both,
    /// SQLite only, derived from the row when it is written (`day`).
    Sqlite,
    /// ClickHouse only: a [`CallRow`] field SQLite does without (`is_deleted`:
    /// SQLite replaces rows instead of writing tombstones).
    ClickHouse,
}

/// A column's value as SQLite binds it, borrowed from the row where it can be.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell<'a> {
    /// Text.
    Text(&'a str),
    /// Text computed from the row.
    OwnedText(String),
    /// A float.
    Real(f64),
    /// A float or `NULL`.
    OptReal(Option<f64>),
    /// An integer (times are Unix milliseconds).
    Int(i64),
}

/// One column of `calls`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    /// Its name, the same in both backends (the public schema).
    pub name: &'static str,
    /// Which backends have it.
    pub backend: Backend,
    /// Large JSON that list queries skip (they select `''` in its place).
    pub heavy: bool,
    /// Its value in a row, as SQLite stores it.
    pub cell: fn(&CallRow) -> Cell<'_>,
}

const fn col(name: &'static str, cell: fn(&CallRow) -> Cell<'_>) -> Column {
    Column { name, backend: Backend::Both, heavy: false, cell }
}

fn int(v: impl Into<i64>) -> Cell<'static> {
    Cell::Int(v.into())
}

/// The columns of `calls`, in [`CallRow`]'s field order (SQLite's `day` last).
pub(crate) const CALLS: &[Column] = &[
    col("call_id", |r| Cell::Text(&r.call_id)),
    col("seller_id", |r| Cell::Text(&r.seller_id)),
    col("team", |r| Cell::Text(&r.team)),
    col("customer", |r| Cell::Text(&r.customer)),
    col("started_at", |r| Cell::Int(r.started_at.timestamp_millis())),
    col("duration_s", |r| Cell::Real(r.duration_s)),
    col("direction", |r| Cell::Text(&r.direction)),
    col("outcome", |r| Cell::Text(&r.outcome)),
    col("audio_uri", |r| Cell::Text(&r.audio_uri)),
    col("pipeline_version", |r| Cell::Text(&r.pipeline_version)),
    col("asr_model", |r| Cell::Text(&r.asr_model)),
    col("sentiment_model", |r| Cell::Text(&r.sentiment_model)),
    col("kpi_version", |r| int(r.kpi_version)),
    col("seller_talk_s", |r| Cell::Real(r.seller_talk_s)),
    col("customer_talk_s", |r| Cell::Real(r.customer_talk_s)),
    col("talk_ratio", |r| Cell::OptReal(r.talk_ratio)),
    col("seller_wpm", |r| Cell::OptReal(r.seller_wpm)),
    col("customer_wpm", |r| Cell::OptReal(r.customer_wpm)),
    col("switches", |r| int(r.switches)),
    col("switches_per_hour", |r| Cell::OptReal(r.switches_per_hour)),
    col("avg_pause_s", |r| Cell::OptReal(r.avg_pause_s)),
    col("longest_customer_monologue_s", |r| Cell::Real(r.longest_customer_monologue_s)),
    col("longest_seller_monologue_s", |r| Cell::Real(r.longest_seller_monologue_s)),
    col("interruptions", |r| int(r.interruptions)),
    col("seller_questions", |r| int(r.seller_questions)),
    col("seller_turns", |r| int(r.seller_turns)),
    col("customer_turns", |r| int(r.customer_turns)),
    col("backchannels", |r| int(r.backchannels)),
    col("customer_sentiment", |r| Cell::Text(&r.customer_sentiment)),
    col("customer_sentiment_score", |r| Cell::OptReal(r.customer_sentiment_score)),
    col("positive_share", |r| Cell::Real(r.positive_share)),
    col("neutral_share", |r| Cell::Real(r.neutral_share)),
    col("negative_share", |r| Cell::Real(r.negative_share)),
    col("mentions", |r| int(r.mentions)),
    col("action_items", |r| int(r.action_items)),
    col("questions", |r| int(r.questions)),
    col("attribution_method", |r| Cell::Text(&r.attribution_method)),
    col("attribution_confidence", |r| Cell::OptReal(r.attribution_confidence)),
    col("attribution_low_confidence", |r| int(r.attribution_low_confidence)),
    col("language", |r| Cell::Text(&r.language)),
    col("language_probability", |r| Cell::OptReal(r.language_probability)),
    Column { heavy: true, ..col("transcript", |r| Cell::Text(&r.transcript)) },
    Column { heavy: true, ..col("signals", |r| Cell::Text(&r.signals)) },
    // Write versions are nanoseconds: they fit an i64 until 2262.
    col("version", |r| Cell::Int(r.version as i64)),
    Column { backend: Backend::ClickHouse, ..col("is_deleted", |r| int(r.is_deleted)) },
    col("processed_at", |r| Cell::Int(r.processed_at.timestamp_millis())),
    Column {
        backend: Backend::Sqlite,
        ..col("day", |r| Cell::OwnedText(r.started_at.date_naive().to_string()))
    },
];

/// Whether `backend`'s `calls` has the column.
fn has(backend: Backend, c: &Column) -> bool {
    c.backend == Backend::Both || c.backend == backend
}

/// The columns of `backend`'s `calls`, in [`CALLS`] order.
pub(crate) fn of(backend: Backend) -> impl Iterator<Item = &'static Column> {
    CALLS.iter().filter(move |c| has(backend, c))
}

/// The `SELECT` list that reads a [`CallRow`] from `backend`, in field order;
/// with `light`, the heavy JSON columns are read as `''`.
pub(crate) fn select_list(backend: Backend, light: bool) -> String {
    CALLS
        .iter()
        // SQLite's derived columns are no CallRow field.
        .filter(|c| has(backend, c) && c.backend != Backend::Sqlite)
        .map(|c| if light && c.heavy { format!("'' AS {}", c.name) } else { c.name.to_owned() })
        .collect::<Vec<_>>()
        .join(", ")
}

/// SQLite's insert of one `calls` row; bind [`sqlite_cells`] to it.
pub(crate) fn sqlite_insert() -> String {
    let names: Vec<&str> = of(Backend::Sqlite).map(|c| c.name).collect();
    let params: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    format!("INSERT OR REPLACE INTO calls ({}) VALUES ({})", names.join(", "), params.join(", "))
}

/// The values of [`sqlite_insert`]'s parameters for a row.
pub(crate) fn sqlite_cells(row: &CallRow) -> Vec<Cell<'_>> {
    of(Backend::Sqlite).map(|c| (c.cell)(row)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clickhouse_row_fields_follow_the_table() {
        let names: Vec<&str> = of(Backend::ClickHouse).map(|c| c.name).collect();
        assert_eq!(<CallRow as clickhouse::Row>::COLUMN_NAMES, names.as_slice());
        assert_eq!(select_list(Backend::ClickHouse, false), names.join(", "));
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = CALLS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CALLS.len());
    }

    #[test]
    fn select_lists_skip_what_a_backend_lacks() {
        let sqlite = select_list(Backend::Sqlite, true);
        assert!(
            sqlite.starts_with("call_id, seller_id, team, customer, started_at, duration_s,"),
            "{sqlite}"
        );
        assert!(sqlite.ends_with("'' AS transcript, '' AS signals, version, processed_at"), "{sqlite}");
        let clickhouse = select_list(Backend::ClickHouse, true);
        assert!(clickhouse.ends_with("'' AS signals, version, is_deleted, processed_at"), "{clickhouse}");
        assert!(!sqlite.contains("day") && !clickhouse.contains("day"));
    }

    #[test]
    fn sqlite_insert_binds_every_column() {
        let insert = sqlite_insert();
        let n = of(Backend::Sqlite).count();
        assert_eq!(n, 46);
        assert!(insert.ends_with(&format!("?{n})")), "{insert}");
        assert!(!insert.contains("is_deleted"));
    }
}
