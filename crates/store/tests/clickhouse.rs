//! The conformance suite on ClickHouse: a fresh database per check on the
//! server at `CALLSCOPE_TEST_CLICKHOUSE_URL` (`.ci/run` starts the ClickHouse
//! engine on 127.0.0.1 and sets it). Without the variable the checks are
//! skipped with a message, except under CI (`CI` set), where that is a failure.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use callscope_store::{ClickHouseConfig, ClickHouseStore, Store, StoreError};

fn url() -> Option<String> {
    match std::env::var("CALLSCOPE_TEST_CLICKHOUSE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CALLSCOPE_TEST_CLICKHOUSE_URL is not set under CI: the ClickHouse tests must run")
        }
        _ => {
            eprintln!("SKIPPED: set CALLSCOPE_TEST_CLICKHOUSE_URL to run the ClickHouse conformance suite");
            None
        }
    }
}

static NEXT: AtomicU32 = AtomicU32::new(0);

async fn store(url: &str) -> ClickHouseStore {
    let database = format!("cs_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let store = ClickHouseStore::new(&ClickHouseConfig { url: url.into(), database, ..Default::default() });
    assert_eq!(
        store.migrate().await.expect("migrate"),
        ["001_init", "002_attribution", "003_daily_trusted_kpis"]
    );
    store.check_schema().await.expect("schema complete");
    store
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let Some(url) = url() else { return };
            let store = store(&url).await;
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

#[tokio::test]
async fn unreachable_server_is_a_retryable_error() {
    // Port 9 (discard) on loopback: nothing listens there in tests.
    let store =
        ClickHouseStore::new(&ClickHouseConfig { url: "http://127.0.0.1:9".into(), ..Default::default() });
    let err = store.migrate().await.expect_err("nothing listens on port 9");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
    assert_eq!(err.retry(), callscope_store::Retry::WithBackoff);
}

#[tokio::test]
async fn missing_schema_is_a_schema_mismatch() {
    let Some(url) = url() else { return };
    let store = ClickHouseStore::new(&ClickHouseConfig {
        url,
        database: format!("cs_empty_{}", std::process::id()),
        ..Default::default()
    });
    let err = store.check_schema().await.expect_err("not migrated");
    assert!(matches!(err, StoreError::SchemaMismatch(_)), "{err}");
    // The deployment's fault, not the call's: workers wait for `callscope migrate`.
    assert_eq!(err.retry(), callscope_store::Retry::WithBackoff);
}
