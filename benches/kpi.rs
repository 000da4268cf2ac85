//! KPI engine on a 60-minute call (~9,000 words). Target: < 1 ms per call.
//! Run: `cargo bench -p callscope-benches --bench kpi`.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use callscope_benches::synthetic_call;
use callscope_model::Transcript;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn kpi(c: &mut Criterion) {
    let call = synthetic_call(60.0);
    let json = serde_json::to_vec(&call).expect("serializable");
    let mut group = c.benchmark_group("kpi");
    group.throughput(Throughput::Elements(call.words.len() as u64));
    // The KPI computation alone: what the pipeline pays per call.
    group.bench_function(format!("compute_60min_{}_words", call.words.len()), |b| {
        b.iter(|| callscope_kpi::compute(std::hint::black_box(&call)));
    });
    // Parse + validate + compute: what `callscope analyze --transcript` pays per file.
    group.bench_function(format!("parse_and_compute_60min_{}_words", call.words.len()), |b| {
        b.iter(|| {
            let t = Transcript::from_json_slice(std::hint::black_box(&json)).expect("valid");
            callscope_kpi::compute(&t)
        });
    });
    group.finish();
}

criterion_group!(benches, kpi);
criterion_main!(benches);
