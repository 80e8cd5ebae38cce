//! The cost of recording a decided request in the ring of recent requests
//! (criterion). `cargo bench --bench recent`.
//!
//! - `drop`: what a handler does with the decoded request without the
//!   ring — drop it. The baseline.
//! - `record/<capacity>`: moving it into the ring instead (and dropping the
//!   entry it replaces), one thread.
//! - `record_contended/2_threads`: the same while another thread records
//!   into the same ring as fast as it can (the shared counter and the
//!   slots' locks under contention).
//! - `snapshot/1000`: what a reload or a validation pays to copy the ring.
//!
//! The request is cloned in the untimed setup of each iteration
//! (`iter_batched`), so only the move, the lock and the drop are timed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a benchmark fails loudly")]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cansend::recent::Recent;
use cansend::request::CanSendRequest;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn request() -> CanSendRequest {
    let body = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/load/single.json")).expect("scripts/load/single.json");
    let v: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    cansend::internals::decode(&v).expect("a valid request")
}

fn bench(c: &mut Criterion) {
    let req = request();
    c.bench_function("drop", |b| b.iter_batched(|| req.clone(), |r| drop(black_box(r)), BatchSize::SmallInput));
    for capacity in [0, 1000, 100_000] {
        let ring = Recent::new(capacity);
        // Full, as in a running service: each record replaces an entry.
        for _ in 0..capacity {
            ring.record(req.clone(), 0, 600);
        }
        c.bench_function(&format!("record/{capacity}"), |b| {
            b.iter_batched(|| req.clone(), |r| ring.record(black_box(r), 1, 600), BatchSize::SmallInput)
        });
    }

    let ring = Arc::new(Recent::new(1000));
    let stop = Arc::new(AtomicBool::new(false));
    let other = {
        let (ring, stop, req) = (ring.clone(), stop.clone(), req.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                ring.record(req.clone(), 2, 600);
            }
        })
    };
    c.bench_function("record_contended/2_threads", |b| {
        b.iter_batched(|| req.clone(), |r| ring.record(black_box(r), 1, 600), BatchSize::SmallInput)
    });
    stop.store(true, Ordering::Relaxed);
    let _ = other.join();
    println!("record_contended: {} of {} records skipped on a busy slot", ring.skipped(), ring.offered());

    let ring = Recent::new(1000);
    for _ in 0..1000 {
        ring.record(req.clone(), 0, 600);
    }
    c.bench_function("snapshot/1000", |b| b.iter(|| ring.snapshot()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
