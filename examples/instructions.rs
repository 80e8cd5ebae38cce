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
//! `benches/common`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "an example fails loudly")]

use std::hint::black_box;

use cansend::internals::evaluate;
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
