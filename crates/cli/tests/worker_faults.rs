//! Fault injection: `callscope worker` against the real broker and the real
//! ClickHouse front (the services of `worker_kafka.rs`, harness in
//! `common/`), with the faults production meets put in between:
//!
//! - a load balancer answering 502/503 pages without a ClickHouse `Code:`,
//!   a store that hangs, and connections reset mid-request (the [`Proxy`]);
//! - recordings that are missing (404) or whose server fails (500) (the
//!   [`FetchServer`]);
//! - a call whose analysis panics (the debug-build test hook
//!   `CALLSCOPE_TEST_PANIC_CALL_ID`).
//!
//! Each test shows that nothing is lost (every good call is stored), nothing
//! is counted twice (the seller aggregates count each call once), and nothing
//! is dead-lettered that should not be (the dead-letter topic holds exactly
//! the calls that are at fault, with the reason).

mod common;

use std::time::Duration;

use common::*;

/// A store fault while events arrive: the worker retries, pauses, reports
/// not ready, commits nothing and dead-letters nothing; once the fault is
/// lifted, every call is stored once and every offset committed.
async fn a_store_fault_is_waited_out(name: &str, fault: Fault) {
    let Some(world) = World::new(name, 2).await else { return };
    let events = transcript_events(name, 8);
    let (mut worker, port, before) = world.worker_past_first_call(&events).await;

    world.proxy.set_fault(fault);
    world.produce(&events[1..]).await;
    wait_until("the worker met the fault several times", Duration::from_secs(90), || async {
        world.proxy.faulted() >= 3
    })
    .await;
    wait_until("readiness reports the store", Duration::from_secs(30), || async {
        http_status(port, "/readyz").await == Some(503)
    })
    .await;
    assert_eq!(world.committed(2), before, "no offset moves while the store fails:\n{}", worker.log());
    assert_eq!(world.aggregated_calls().await, 1);
    assert_eq!(world.dead_letter_count(), 0, "nothing is dead-lettered:\n{}", worker.log());

    world.proxy.set_fault(Fault::None);
    wait_until("all calls stored", Duration::from_secs(90), || async {
        world.aggregated_calls().await >= events.len() as u64
    })
    .await;
    world.wait_committed_all(2).await;
    wait_until("ready again", Duration::from_secs(30), || async {
        http_status(port, "/readyz").await == Some(200)
    })
    .await;
    let log = worker.terminate();
    world.assert_each_call_stored_once(&events).await;
    assert_eq!(world.dead_letter_count(), 0, "{log}");
    assert!(log.contains("store failed; retrying"), "{log}");
    // And it met the fault as the fault it is.
    let seen = match fault {
        Fault::Status(_) => "not an answer from ClickHouse",
        Fault::Hang => "store_timeout",
        Fault::Reset | Fault::Down | Fault::None => "store_unavailable",
    };
    assert!(log.contains(seen), "{seen}:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_502_page_from_a_load_balancer_is_retried_not_dead_lettered() {
    a_store_fault_is_waited_out("lb502", Fault::Status(502)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_page_is_retried_not_dead_lettered() {
    a_store_fault_is_waited_out("lb503", Fault::Status(503)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_store_times_out_and_is_retried() {
    a_store_fault_is_waited_out("hang", Fault::Hang).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_resets_are_retried() {
    a_store_fault_is_waited_out("reset", Fault::Reset).await;
}

fn audio_event(id: &str, uri: &str) -> (String, Vec<u8>) {
    let event = serde_json::json!({
        "schema_version": 1, "call_id": id, "seller_id": "s-0", "started_at": "2026-11-02T10:00:00Z",
        "audio": {"uri": uri}
    });
    (id.to_owned(), serde_json::to_vec(&event).expect("json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_fetches_are_dead_lettered_with_the_reason_after_bounded_tries() {
    let Some(world) = World::new("fetch", 1).await else { return };
    let server = FetchServer::start().await;
    server.route("/broken.wav", 500, b"<html>internal error</html>".to_vec());
    // `/gone.wav` is not routed: 404.
    let good = transcript_events("fetch", 4);
    let events = vec![
        good[0].clone(),
        audio_event("fetch-gone", &server.url("/gone.wav")),
        good[1].clone(),
        audio_event("fetch-broken", &server.url("/broken.wav")),
        good[2].clone(),
        good[3].clone(),
    ];
    world.produce(&events).await;
    let mut worker = world.spawn_worker(
        "w",
        &[
            ("CALLSCOPE__INGEST__FETCH_MAX_ATTEMPTS", "3".to_owned()),
            ("CALLSCOPE__INGEST__FETCH_CONFIRM_ATTEMPTS", "2".to_owned()),
            ("CALLSCOPE__INGEST__RETRY_INITIAL_MS", "50".to_owned()),
        ],
    );
    world.wait_committed_all(1).await;
    let log = worker.terminate();
    world.assert_each_call_stored_once(&good).await;

    let dead = world.dead_letters(2);
    assert_eq!(dead.len(), 2, "{dead:?}\n{log}");
    assert_eq!(world.dead_letter_count(), 2, "only the failing fetches: {dead:?}");
    let by_key =
        |k: &str| dead.iter().find(|d| d.key == k).unwrap_or_else(|| panic!("{k} in the DLQ: {dead:?}"));
    let gone = by_key("fetch-gone");
    assert_eq!((gone.stage.as_str(), gone.kind.as_str()), ("fetch", "recording_unavailable"));
    assert!(gone.error.contains("HTTP 404") && gone.error.contains("/gone.wav"), "{}", gone.error);
    assert_eq!(gone.attempts, "2");
    let broken = by_key("fetch-broken");
    assert_eq!((broken.stage.as_str(), broken.kind.as_str()), ("fetch", "recording_unreachable"));
    assert!(broken.error.contains("HTTP 500"), "{}", broken.error);
    assert_eq!(broken.attempts, "3");
    assert_eq!((server.hits("/gone.wav"), server.hits("/broken.wav")), (2, 3), "bounded tries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_one_calls_analysis_dead_letters_it_and_the_worker_goes_on() {
    if !cfg!(debug_assertions) {
        eprintln!("SKIPPED: the panic test hook exists in debug builds only");
        return;
    }
    let Some(world) = World::new("panic", 1).await else { return };
    let events = transcript_events("panic", 10);
    world.produce(&events).await;
    // One CPU thread: the calls after the panic prove that it lives on.
    let mut worker = world.spawn_worker(
        "w",
        &[
            ("CALLSCOPE_TEST_PANIC_CALL_ID", "panic-003".to_owned()),
            ("CALLSCOPE__INGEST__CPU_THREADS", "1".to_owned()),
        ],
    );
    world.wait_committed_all(1).await;
    let log = worker.terminate();
    let good: Vec<_> = events.iter().filter(|(id, _)| id != "panic-003").cloned().collect();
    world.assert_each_call_stored_once(&good).await;
    let dead = world.dead_letters(1);
    assert_eq!(world.dead_letter_count(), 1, "only the panicking call: {dead:?}");
    let d = &dead[0];
    assert_eq!(
        (d.key.as_str(), d.stage.as_str(), d.kind.as_str()),
        ("panic-003", "analyze", "panic"),
        "{d:?}"
    );
    assert!(d.error.contains("test hook"), "{}", d.error);
    assert_eq!(d.payload, events[3].1, "the original event travels");
    assert!(log.contains("panicked"), "{log}");
}
