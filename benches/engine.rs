//! Engine benchmarks (criterion). `cargo bench --bench engine`.
//!
//! - `decide/<shape>`, `decide_explain/<shape>`: evaluate a bound request
//!   (the engine alone), plain and with `explain`.
//! - `bind_decide/<shape>`: decode-free binding + evaluation from the typed
//!   request, the fair comparison with `floor/<shape>`, the hand-written
//!   docs/domain.md §1 function on the same typed request.
//! - `floor_data/<shape>`: the same by hand for every shipped tenant, with
//!   per-tenant settings looked up by name (what a configurable hand-written
//!   service does); `floor/<shape>` has the default tenant's values as
//!   constants (a lower bound).
//! - `tenants/{1,100,1000,10000}`: the same decision against the shipped
//!   set and with 100 … 10,000 generated tenants more.
//! - `attachments/{0,…,100}`: decision cost against attachment count.
//! - `compile/{default,10000_tenants}`: parse + check + compile.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a benchmark fails loudly")]

use std::hint::black_box;

use cansend::internals::evaluate;
use cansend::request::CanSendRequest;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

mod common;
use common::*;

fn decide(c: &mut Criterion) {
    let rs = cansend::Engine::builtin().expect("builtin").rule_set().clone();
    let data = floor_data();
    let mut cases = Vec::new();
    for (name, body) in shapes() {
        let req: CanSendRequest = cansend::internals::decode(&body).expect("decode");
        let input = cansend::internals::bind(&rs, &req, NOW).expect("bind");
        // The floors must agree with the engine, or comparing them means
        // nothing: the constant one on the default tenant, the data-driven
        // one on every tenant.
        let answer = cansend::render::decision::answer(&rs, &input, &evaluate(&rs, &input, false));
        let engine = sorted(answer.violations.iter().map(|v| v.code));
        if body["tenant"].as_str().unwrap_or("default") == "default" {
            let mut by_hand = Vec::new();
            floor(&req, &mut by_hand);
            assert_eq!(engine, sorted(by_hand), "{name}: the floor and the engine disagree");
        }
        let mut by_hand = Vec::new();
        floor_any(&data, &req, &mut by_hand);
        assert_eq!(engine, sorted(by_hand), "{name}: the data-driven floor and the engine disagree");
        cases.push((name, req, input));
    }
    // One group per way of deciding, one benchmark per request shape:
    // target/criterion/<group>/<shape> (read by scripts/bench_table.py).
    let mut g = c.benchmark_group("decide");
    for (name, _, input) in &cases {
        g.bench_function(*name, |b| b.iter(|| evaluate(black_box(&rs), black_box(input), false)));
    }
    g.finish();
    let mut g = c.benchmark_group("decide_explain");
    for (name, _, input) in &cases {
        g.bench_function(*name, |b| b.iter(|| evaluate(black_box(&rs), black_box(input), true)));
    }
    g.finish();
    let mut g = c.benchmark_group("bind_decide");
    for (name, req, _) in &cases {
        g.bench_function(*name, |b| {
            b.iter(|| {
                let input = cansend::internals::bind(black_box(&rs), black_box(req), NOW).expect("bind");
                evaluate(&rs, &input, false)
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("floor_data");
    for (name, req, _) in &cases {
        g.bench_function(*name, |b| {
            b.iter(|| {
                let mut out = Vec::new();
                floor_any(black_box(&data), black_box(req), &mut out);
                out
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("floor");
    for (name, req, _) in &cases {
        g.bench_function(*name, |b| {
            b.iter(|| {
                let mut out = Vec::new();
                floor(black_box(req), &mut out);
                out
            })
        });
    }
    g.finish();
}

fn sorted<'a>(codes: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = codes.into_iter().collect();
    v.sort_unstable();
    v
}

fn tenants(c: &mut Criterion) {
    // The shipped 3 tenants, then 100 … 10,000 more; the request is on the
    // last tenant generated (on `default` for the shipped set).
    let mut g = c.benchmark_group("tenants");
    for n in [1usize, 100, 1000, 10_000] {
        let (rs, tenant) = if n == 1 {
            (cansend::Engine::builtin().expect("builtin").rule_set().clone(), "default".to_owned())
        } else {
            (cansend::Engine::from_sources(&many_tenants(n)).expect("generated").rule_set().clone(), format!("t{:05}", n - 1))
        };
        let input = cansend::internals::parse(&rs, &with_attachments(&tenant, 1), NOW).expect("parse");
        g.bench_with_input(BenchmarkId::from_parameter(n), &input, |b, input| b.iter(|| evaluate(&rs, black_box(input), false)));
    }
    g.finish();
}

fn attachments(c: &mut Criterion) {
    let rs = cansend::Engine::builtin().expect("builtin").rule_set().clone();
    let mut g = c.benchmark_group("attachments");
    for n in [0usize, 1, 2, 5, 10, 20, 50, 100] {
        let input = cansend::internals::parse(&rs, &with_attachments("default", n), NOW).expect("parse");
        g.bench_with_input(BenchmarkId::from_parameter(n), &input, |b, input| b.iter(|| evaluate(&rs, black_box(input), false)));
    }
    g.finish();
}

fn compile(c: &mut Criterion) {
    let default = cansend::builtin_rules();
    let large = many_tenants(10_000);
    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    g.bench_function("default", |b| b.iter(|| cansend::Engine::from_sources(black_box(&default)).expect("load")));
    g.bench_function("10000_tenants", |b| b.iter(|| cansend::Engine::from_sources(black_box(&large)).expect("load")));
    g.finish();
}

criterion_group! {
    name = benches;
    // No HTML plots (they would need gnuplot and take longer than the
    // measurements); scripts/plot.sh draws the one BENCHMARKS.md shows.
    config = Criterion::default().without_plots();
    targets = decide, tenants, attachments, compile
}
criterion_main!(benches);
