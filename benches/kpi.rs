//! KPI engine on a 60-minute call (~9,000 words). Target: < 1 ms per call.
//! Run: `cargo bench -p callscope-benches --bench kpi`.

use callscope_benches::synthetic_call;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn kpi(c: &mut Criterion) {
    let call = synthetic_call(60.0);
    let mut group = c.benchmark_group("kpi");
    group.throughput(Throughput::Elements(call.words.len() as u64));
    group.bench_function(format!("compute_60min_{}_words", call.words.len()), |b| {
        b.iter(|| callscope_kpi::compute(std::hint::black_box(&call)));
    });
    group.finish();
}

criterion_group!(benches, kpi);
criterion_main!(benches);
