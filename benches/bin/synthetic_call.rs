//! Prints the benchmarks' synthetic call as transcript JSON, so peers (for
//! example `tools/kpi_v1_ref.py`) can be measured on the very same input.
//! Usage: `cargo run -p callscope-benches --bin synthetic-call -- [MINUTES]`

fn main() {
    let minutes = std::env::args().nth(1).and_then(|m| m.parse().ok()).unwrap_or(60.0);
    let call = callscope_benches::synthetic_call(minutes);
    println!("{}", serde_json::to_string(&call).expect("serializable"));
}
