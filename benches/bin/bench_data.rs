//! Prints the benchmarks' inputs, so peers (for example `tools/kpi_v1_ref.py`,
//! `tools/signals_peer.py`) can be measured on the very same data.
//!
//! Usage:
//! - `cargo run -p callscope-benches --bin bench-data -- call synthetic|realistic [MINUTES]`
//! - `cargo run -p callscope-benches --bin bench-data -- trackers [N]`

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    match (arg(0), arg(1)) {
        (Some("call"), kind) => {
            let minutes = arg(2).and_then(|m| m.parse().ok()).unwrap_or(60.0);
            let call = match kind {
                Some("realistic") => callscope_benches::realistic_call(minutes),
                _ => callscope_benches::synthetic_call(minutes),
            };
            println!("{}", serde_json::to_string(&call).expect("serializable"));
        }
        (Some("trackers"), n) => {
            print!("{}", callscope_benches::trackers_toml(n.and_then(|n| n.parse().ok()).unwrap_or(500)));
        }
        _ => {
            eprintln!("usage: bench-data call synthetic|realistic [MINUTES] | bench-data trackers [N]");
            std::process::exit(2);
        }
    }
}
