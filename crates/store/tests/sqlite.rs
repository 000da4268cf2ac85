//! The conformance suite on the embedded SQLite backend (a fresh database per check).

mod common;

use callscope_store::{SqliteStore, Store};

async fn store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("callscope.db")).expect("open");
    assert_eq!(
        store.migrate().await.expect("migrate"),
        [
            "001_init",
            "002_attribution",
            "003_audit_log",
            "004_comment_anchors",
            "005_shares",
            "006_language",
            "007_search",
            "008_collections",
            "009_search_scope"
        ]
    );
    (store, dir)
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let (store, _dir) = store().await;
            common::$name(&store).await;
        }
    )*};
}

conformance!(
    migrate_is_idempotent,
    audit_log_round_trip,
    write_and_read_back,
    attribution_is_kept,
    language_is_kept,
    flagged_calls_stay_out_of_kpis,
    summary_matches_the_calls,
    reprocessing_never_double_counts,
    reprocessing_can_move_a_call,
    bad_input_stores_nothing,
    concurrent_writers_end_consistent,
    terms_and_keywords,
    history_sorts_and_pages,
    team_rows_cover_its_sellers,
    comments_round_trip,
    shares_round_trip,
    search_finds_phrases,
);

/// Erasure on SQLite, then a scan of every table of the file for the erased
/// calls and seller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_leaves_no_trace() {
    let (store, dir) = store().await;
    let (calls, seller) = common::erasure_leaves_no_trace(&store).await;
    let conn = rusqlite::Connection::open(dir.path().join("callscope.db")).expect("open");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .expect("tables")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("names");
    let mut scanned = 0;
    for table in &tables {
        let columns: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .expect("columns")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("names");
        for (column, values) in [("call_id", calls.clone()), ("seller_id", vec![seller.clone()])] {
            if !columns.iter().any(|c| c == column) {
                continue;
            }
            scanned += 1;
            let list = vec!["?"; values.len()].join(", ");
            let left: i64 = conn
                .query_row(
                    &format!("SELECT count(*) FROM {table} WHERE {column} IN ({list})"),
                    rusqlite::params_from_iter(values.iter()),
                    |r| r.get(0),
                )
                .expect("count");
            assert_eq!(left, 0, "{table}.{column} still holds erased rows");
        }
    }
    assert!(scanned >= 6, "scanned {scanned} columns of {tables:?}");
}
