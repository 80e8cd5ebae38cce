//! Instruction counts of one decision, for `valgrind --tool=callgrind`:
//! repeatable on a shared, noisy machine where wall-clock times are not.
//!
//! ```sh
//! cargo build --release --example instructions
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
//!     target/release/examples/instructions allowed_text 10000
//! callgrind_annotate /tmp/cg.out | head -40
//! ```
//!
//! Arguments: the request shape (`allowed_text`, `denied_several`,
//! `email_5_attachments`, `new_client`, `template`, or `tenants:N` for a
//! request on the last of N generated tenants), the number of
//! decisions, and what to run: `engine` (evaluation of a bound request,
//! the default), `explain`, `bind` (binding + evaluation from the typed
//! request), `floor` or `floor_data` (the hand-written functions of
//! `benches/common`), or `gate:STAGE`: one stage of a decision alone
//! (`decode`, `bind`, `evaluate`, `explain`, `render`, `render_explain`),
//! inside a never-inlined `gate_*` function, as
//! `scripts/instruction-gate.sh` counts them (one run per stage, so that
//! functions the linker folds together are still told apart).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "an example fails loudly")]

use std::hint::black_box;

use cansend::internals::{Decision, Input, RuleSet, evaluate};
use cansend::request::CanSendRequest;

#[path = "../benches/common/mod.rs"]
mod common;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let shape = args.get(1).map(String::as_str).unwrap_or("allowed_text");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let mode = args.get(3).map(String::as_str).unwrap_or("engine");
    // `tenants:N`: the shipped rules and N generated tenants, a request on
    // the last one (as `cargo bench -- tenants/` does).
    let (rs, body) = match shape.strip_prefix("tenants:").and_then(|n| n.parse::<usize>().ok()) {
        Some(t) => {
            let rs = cansend::Engine::from_sources(&common::many_tenants(t)).expect("generated rules").rule_set().clone();
            let tenant = if t == 0 { "default".to_owned() } else { format!("t{:05}", t - 1) };
            (rs, common::with_attachments(&tenant, 1))
        }
        None => {
            let rs = cansend::Engine::builtin().expect("built-in rules").rule_set().clone();
            let Some((_, body)) = common::shapes().into_iter().find(|(name, _)| *name == shape) else {
                eprintln!("unknown shape {shape}");
                std::process::exit(2);
            };
            (rs, body)
        }
    };
    let req: CanSendRequest = cansend::internals::decode(&body).expect("decode");
    let input = cansend::internals::bind(&rs, &req, common::NOW).expect("bind");
    if let Some(stage) = mode.strip_prefix("gate:") {
        gate(stage, &rs, &body, &req, &input, n);
        return;
    }
    let data = common::floor_data();
    let mut denied = 0usize;
    for _ in 0..n {
        let allowed = match mode {
            "bind" => {
                let input = cansend::internals::bind(black_box(&rs), black_box(&req), common::NOW).expect("bind");
                evaluate(&rs, &input, false).allowed
            }
            "explain" => evaluate(black_box(&rs), black_box(&input), true).allowed,
            "floor" => {
                let mut out = Vec::new();
                common::floor(black_box(&req), &mut out);
                out.is_empty()
            }
            "floor_data" => {
                let mut out = Vec::new();
                common::floor_any(black_box(&data), black_box(&req), &mut out);
                out.is_empty()
            }
            _ => evaluate(black_box(&rs), black_box(&input), false).allowed,
        };
        denied += usize::from(!allowed);
    }
    println!("{shape}: {n} decisions, {denied} denied");
}

/// One stage of a decision, `n` times, inside the functions the gate
/// counts (`--toggle-collect=*::gate_*`).
fn gate(stage: &str, rs: &RuleSet, body: &serde_json::Value, req: &CanSendRequest, input: &Input, n: usize) {
    let bytes = serde_json::to_vec(body).expect("body");
    let plain = evaluate(rs, input, false);
    let explained = evaluate(rs, input, true);
    let mut out = Vec::with_capacity(16 * 1024);
    let mut total = 0usize;
    for _ in 0..n {
        total += match stage {
            "decode" => gate_decode(black_box(&bytes)),
            "bind" => gate_bind(black_box(rs), black_box(req)),
            "evaluate" => usize::from(gate_evaluate(black_box(rs), black_box(input))),
            "explain" => usize::from(gate_explain(black_box(rs), black_box(input))),
            "render" => gate_render(black_box(rs), black_box(input), black_box(&plain), &mut out),
            "render_explain" => gate_render_explain(black_box(rs), black_box(input), black_box(&explained), &mut out),
            other => {
                eprintln!("unknown stage {other}");
                std::process::exit(2);
            }
        };
    }
    println!("gate {stage}: {n} rounds, {total}");
}

/// Body bytes → the typed request (the strict fast path), dropped.
#[inline(never)]
fn gate_decode(bytes: &[u8]) -> usize {
    let r = CanSendRequest::from_slice(bytes).expect("decode");
    black_box(&r);
    r.channel.len()
}

/// The typed request → the bound `Input`, dropped.
#[inline(never)]
fn gate_bind(rs: &RuleSet, req: &CanSendRequest) -> usize {
    let input = cansend::internals::bind(rs, req, common::NOW).expect("bind");
    black_box(&input);
    1
}

/// The engine on a bound request.
#[inline(never)]
fn gate_evaluate(rs: &RuleSet, input: &Input) -> bool {
    evaluate(rs, input, false).allowed
}

/// The engine on a bound request, with the trace of every rule and leaf.
#[inline(never)]
fn gate_explain(rs: &RuleSet, input: &Input) -> bool {
    evaluate(rs, input, true).allowed
}

/// A decision → the answer's JSON bytes, in a reused buffer.
#[inline(never)]
fn gate_render(rs: &RuleSet, input: &Input, d: &Decision, out: &mut Vec<u8>) -> usize {
    render(rs, input, d, out)
}

/// An explained decision (with its trace) → the answer's JSON bytes.
#[inline(never)]
fn gate_render_explain(rs: &RuleSet, input: &Input, d: &Decision, out: &mut Vec<u8>) -> usize {
    render(rs, input, d, out)
}

#[inline(always)]
fn render(rs: &RuleSet, input: &Input, d: &Decision, out: &mut Vec<u8>) -> usize {
    out.clear();
    let answer = cansend::render::decision::answer(rs, input, d);
    serde_json::to_writer(&mut *out, &answer).expect("render");
    out.len()
}
