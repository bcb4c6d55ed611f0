//! Criterion benchmarks of the draw engine (`ruxue-draw-v1`): compute and
//! verify for 10k and 100k applicants, with one school and with 200 schools
//! × 5 preferences. The 1M case is run by `bench/draw.sh` (peak memory too).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ruxue::draw::{self, gen};

fn input(applicants: usize, schools: usize, prefs: usize) -> String {
    let p = gen::GenParams {
        applicants,
        schools,
        prefs,
        seats_percent: if schools == 1 { 30 } else { 90 },
        seed_text: "bench".into(),
        ..gen::GenParams::default()
    };
    String::from_utf8(gen::generate(&p).to_input_json()).expect("generator writes UTF-8")
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("draw");
    g.sample_size(10);
    for &(n, s, p) in &[(10_000, 1, 1), (10_000, 200, 5), (100_000, 1, 1), (100_000, 200, 5)] {
        let text = input(n, s, p);
        let label = format!("{n}x{s}x{p}");
        let computed = draw::compute(&text).expect("generated input is valid");
        let record = String::from_utf8(draw::record_json(&text, &computed.result)).expect("record is UTF-8");
        g.bench_with_input(BenchmarkId::new("compute", &label), &text, |b, t| b.iter(|| draw::compute(t).expect("valid")));
        g.bench_with_input(BenchmarkId::new("verify", &label), &record, |b, r| b.iter(|| draw::verify(r).expect("verifies")));
        g.bench_with_input(BenchmarkId::new("parse_value", &label), &record, |b, r| {
            b.iter(|| serde_json::from_str::<serde_json::Value>(r).expect("JSON"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
