//! `Store::ping`, the readiness probe of `callscope serve`'s `/readyz`: it
//! fails until the store is reachable and migrated. ClickHouse runs on the
//! server at `CALLSCOPE_TEST_CLICKHOUSE_URL` (skipped without it, except under CI).

use callscope_store::{ClickHouseConfig, ClickHouseStore, SqliteStore, Store};

#[tokio::test]
async fn sqlite_is_ready_once_migrated() {
    let store = SqliteStore::in_memory().expect("store");
    assert!(store.ping().await.is_err(), "not migrated: not ready");
    store.migrate().await.expect("migrate");
    store.ping().await.expect("ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clickhouse_is_ready_once_reachable_and_migrated() {
    let url = match std::env::var("CALLSCOPE_TEST_CLICKHOUSE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var_os("CI").is_some() => panic!("CALLSCOPE_TEST_CLICKHOUSE_URL is not set under CI"),
        _ => {
            eprintln!("SKIPPED: set CALLSCOPE_TEST_CLICKHOUSE_URL to run the ClickHouse readiness check");
            return;
        }
    };
    let database = format!("cs_ping_{}", std::process::id());
    let store = ClickHouseStore::new(&ClickHouseConfig { url, database, ..Default::default() });
    assert!(store.ping().await.is_err(), "not migrated: not ready");
    store.migrate().await.expect("migrate");
    store.ping().await.expect("ready");
    // Nothing listens on port 1 of 127.0.0.1.
    let down = ClickHouseStore::new(&ClickHouseConfig {
        url: "http://127.0.0.1:1".into(),
        database: "callscope".into(),
        ..Default::default()
    });
    assert!(down.ping().await.is_err(), "unreachable: not ready");
}
