//! The conformance suite on the embedded SQLite backend (a fresh database per check).

mod common;

use callscope_store::{SqliteStore, Store};

async fn store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("callscope.db")).expect("open");
    assert_eq!(store.migrate().await.expect("migrate"), ["001_init", "002_attribution"]);
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
    write_and_read_back,
    attribution_is_kept,
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
);
