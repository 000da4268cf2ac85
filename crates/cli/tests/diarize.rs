//! Mono diarization end to end on a dev call with truth (`tests/eval/`):
//! `callscope eval --mono` must find two speakers, the right seller, and a DER
//! within the target (8 %); on the same call with interruptions
//! (`tests/eval-overlap/`) it must find the overlapped speech. Needs the whisper model (`CALLSCOPE_TEST_MODEL`)
//! and the diarization files in `models/` (`tools/models/fetch_diarize.sh`);
//! `.ci/run` fetches all of them. Without them the test is skipped with a
//! message, except under CI, where that is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `callscope eval SET --mono --json` on the one call of `SET` with every model
/// file given; `None` (skipped) when the files are missing outside CI. One at
/// a time: two whisper runs of two threads each on a 2-core machine spin
/// against each other (ggml's threads busy-wait) and take ten times as long.
fn eval_mono(set: &str) -> Option<serde_json::Value> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let model = std::env::var_os("CALLSCOPE_TEST_MODEL").map(PathBuf::from);
    let embedder = root().join("models/campplus-sv-zh-en.onnx");
    let runtime = root().join("models/libonnxruntime.so.1.32.0");
    let overlap = root().join("models/pyannote-segmentation-3.0.onnx");
    let (Some(model), true, true, true) = (model, embedder.is_file(), runtime.is_file(), overlap.is_file())
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "under CI the model and the diarization files must be present"
        );
        eprintln!("SKIPPED: set CALLSCOPE_TEST_MODEL and run tools/models/fetch_diarize.sh");
        return None;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_callscope"))
        .args(["eval", "--mono", "--json"])
        .arg(root().join(set))
        .env("CALLSCOPE__ASR__MODEL", &model)
        .env("CALLSCOPE__DIARIZE__MODEL", &embedder)
        .env("CALLSCOPE__DIARIZE__ONNXRUNTIME", &runtime)
        .env("CALLSCOPE__DIARIZE__OVERLAP_MODEL", &overlap)
        .output()
        .expect("run eval");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let line = String::from_utf8_lossy(&out.stdout);
    Some(serde_json::from_str(line.lines().next().expect("one call")).expect("json"))
}

#[test]
fn a_mono_dev_call_is_attributed_within_the_targets() {
    let Some(r) = eval_mono("tests/eval") else { return };
    let m = &r["mono"];
    let der = m["der"].as_f64().expect("der");
    assert!(der <= 0.08, "DER {der}: {r}");
    assert_eq!(m["speakers"], serde_json::json!([2, 2]), "{r}");
    assert_eq!(m["role_correct"], true, "{r}");
    assert_eq!(m["low_confidence"], false, "{r}");
    assert!(m["cpwer"].as_f64().expect("cpwer") < 0.2, "{r}");
    // The call has no overlapped speech, and none is reported.
    assert_eq!(m["overlaps_false"], 0, "{r}");
}

#[test]
fn overlapped_speech_in_a_mono_call_is_found() {
    // The same call with the customer interrupting the seller four times
    // (tests/eval-overlap/README.md).
    let Some(r) = eval_mono("tests/eval-overlap") else { return };
    let m = &r["mono"];
    let found = m["overlaps_found"].as_array().expect("found");
    assert_eq!(found[1], 4, "four interruptions in the truth: {r}");
    assert!(found[0].as_u64().expect("found") >= 3, "at least three of four found: {r}");
    assert_eq!(m["overlaps_false"], 0, "{r}");
    // Detected overlap counts as both speakers' speech, so the DER stays low.
    let der = m["der"].as_f64().expect("der");
    assert!(der <= 0.08, "DER {der}: {r}");
    assert_eq!(m["role_correct"], true, "{r}");
}
