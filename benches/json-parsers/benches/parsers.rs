#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
//! ns per body: serde_json (the service's decode) against sonic-rs and
//! simd-json into the same strict types, and each into its own value.
//! `cargo bench -- --warm-up-time 1 --measurement-time 3`

use cansend_json_parsers::*;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn check() {
    // Same results before any timing.
    let s = format!("{:?}", serde_single(SINGLE).unwrap());
    assert_eq!(s, format!("{:?}", sonic_single(SINGLE).unwrap()));
    assert_eq!(s, format!("{:?}", simd_single(SINGLE).unwrap()));
    let b = format!("{:?}", serde_batch(BATCH100).unwrap());
    assert_eq!(b, format!("{:?}", sonic_batch(BATCH100).unwrap()));
    assert_eq!(b, format!("{:?}", simd_batch(BATCH100).unwrap()));
}

fn parsers(c: &mut Criterion) {
    check();
    for (name, body) in [("single", SINGLE), ("batch100", BATCH100)] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(body.len() as u64));
        let batch = name == "batch100";
        g.bench_with_input(BenchmarkId::new("typed", "serde_json"), body, |b, body| {
            if batch {
                b.iter(|| serde_batch(black_box(body)).unwrap())
            } else {
                b.iter(|| serde_single(black_box(body)).unwrap())
            }
        });
        g.bench_with_input(BenchmarkId::new("typed", "sonic-rs"), body, |b, body| {
            if batch {
                b.iter(|| sonic_batch(black_box(body)).unwrap())
            } else {
                b.iter(|| sonic_single(black_box(body)).unwrap())
            }
        });
        g.bench_with_input(BenchmarkId::new("typed", "simd-json+copy"), body, |b, body| {
            if batch {
                b.iter(|| simd_batch(black_box(body)).unwrap())
            } else {
                b.iter(|| simd_single(black_box(body)).unwrap())
            }
        });
        g.bench_with_input(BenchmarkId::new("value", "serde_json::Value"), body, |b, body| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body)).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("value", "sonic_rs::Value"), body, |b, body| {
            b.iter(|| sonic_rs::from_slice::<sonic_rs::Value>(black_box(body)).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("value", "simd_json::OwnedValue+copy"), body, |b, body| {
            b.iter(|| simd_json::to_owned_value(&mut black_box(body).to_vec()).unwrap())
        });
        g.finish();
    }
}

criterion_group!(benches, parsers);
criterion_main!(benches);
