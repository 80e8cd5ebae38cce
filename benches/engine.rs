//! Engine benchmarks (criterion). `cargo bench --bench engine`.
//!
//! - `decide/<shape>`: evaluate a bound request (the engine alone), plain
//!   and with `explain`.
//! - `bind_decide/<shape>`: decode-free binding + evaluation from the typed
//!   request, the fair comparison with `floor/<shape>`, the hand-written
//!   SPEC §1 function on the same typed request.
//! - `tenants/{1,10000}`: the same decision against a set with 3 tenants and
//!   with 10,000 more.
//! - `attachments/{0,10,100}`: decision cost against attachment count.
//! - `compile/{default,10000_tenants}`: parse + check + compile.

use std::hint::black_box;

use cansend::engine::evaluate;
use cansend::request::{self, CanSendRequest};
use cansend::rules::{load_builtin, load_sources};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

mod common;
use common::*;

fn decide(c: &mut Criterion) {
    let rs = load_builtin(NOW).expect("builtin").rules;
    for (name, body) in shapes() {
        let req: CanSendRequest = request::decode(&body).expect("decode");
        let input = request::bind(&rs, &req, NOW).expect("bind");
        c.bench_function(&format!("decide/{name}"), |b| b.iter(|| evaluate(black_box(&rs), black_box(&input), false)));
        c.bench_function(&format!("decide_explain/{name}"), |b| b.iter(|| evaluate(black_box(&rs), black_box(&input), true)));
        c.bench_function(&format!("bind_decide/{name}"), |b| {
            b.iter(|| {
                let input = request::bind(black_box(&rs), black_box(&req), NOW).expect("bind");
                evaluate(&rs, &input, false)
            })
        });
        c.bench_function(&format!("floor/{name}"), |b| {
            b.iter(|| {
                let mut out = Vec::new();
                floor(black_box(&req), &mut out);
                out
            })
        });
    }
}

fn tenants(c: &mut Criterion) {
    let small = load_builtin(NOW).expect("builtin").rules;
    let large = load_sources(&many_tenants(10_000), NOW).expect("10k").rules;
    let mut g = c.benchmark_group("tenants");
    for (n, rs, tenant) in [(1usize, &small, "default"), (10_000, &large, "t09999")] {
        let input = request::parse(rs, &with_attachments(tenant, 1), NOW).expect("parse");
        g.bench_with_input(BenchmarkId::from_parameter(n), &input, |b, input| b.iter(|| evaluate(rs, black_box(input), false)));
    }
    g.finish();
}

fn attachments(c: &mut Criterion) {
    let rs = load_builtin(NOW).expect("builtin").rules;
    let mut g = c.benchmark_group("attachments");
    for n in [0usize, 10, 100] {
        let input = request::parse(&rs, &with_attachments("default", n), NOW).expect("parse");
        g.bench_with_input(BenchmarkId::from_parameter(n), &input, |b, input| b.iter(|| evaluate(&rs, black_box(input), false)));
    }
    g.finish();
}

fn compile(c: &mut Criterion) {
    let default = cansend::rules::source::builtin();
    let large = many_tenants(10_000);
    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    g.bench_function("default", |b| b.iter(|| load_sources(black_box(&default), NOW).expect("load")));
    g.bench_function("10000_tenants", |b| b.iter(|| load_sources(black_box(&large), NOW).expect("load")));
    g.finish();
}

criterion_group!(benches, decide, tenants, attachments, compile);
criterion_main!(benches);
