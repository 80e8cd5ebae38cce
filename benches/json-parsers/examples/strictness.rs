//! Which bodies each decoder refuses, as a Markdown table:
//! `cargo run --release --example strictness`.
//! `--deep N [decoder]` decodes one body nested N deep on a thread with a
//! 2 MiB stack (a tokio worker's default) and prints how it ended; a stack
//! overflow aborts the process, so run that mode as a child process.

use cansend_json_parsers::{DECODERS, Outcome, cases, outcome, outcomes};

fn cell(o: &Outcome) -> String {
    match o {
        Ok(_) => "accepted".to_owned(),
        Err(e) => {
            let e = e.split_whitespace().collect::<Vec<_>>().join(" ");
            let e: String = e.chars().take(60).collect();
            format!("refused: {}", e.replace('|', "\\|").replace('`', "'"))
        }
    }
}

fn deep(depth: usize) -> Vec<u8> {
    format!(
        r#"{{"sender": {{"role": "agent"}}, "client": {{"status": "new", "attributes": {{"deep": {}1{}}}}}, "channel": "email", "message": {{}}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    )
    .into_bytes()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--deep") {
        let depth: usize = args.get(2).and_then(|d| d.parse().ok()).unwrap_or(100_000);
        let which = args.get(3).cloned().unwrap_or_else(|| "all".to_owned());
        let body = deep(depth);
        let t = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                for name in DECODERS.into_iter().filter(|n| which == "all" || which == *n) {
                    println!("{name}: depth {depth}: {}", cell(&outcome(name, &body)));
                }
            })
            .unwrap();
        t.join().unwrap();
        return;
    }
    println!("| body | serde_json (service) | sonic-rs | simd-json |");
    println!("| --- | --- | --- | --- |");
    for case in cases() {
        let [a, b, c] = outcomes(&case.body);
        println!("| {} | {} | {} | {} |", case.what, cell(&a.1), cell(&b.1), cell(&c.1));
    }
    // What an accepted lone surrogate decodes to.
    for case in cases().iter().filter(|c| c.what.starts_with("lone surrogate")) {
        for (name, o) in outcomes(&case.body) {
            if let Ok(r) = o {
                let text = r.split("text: ").nth(1).and_then(|t| t.split(',').next()).unwrap_or("?").to_owned();
                println!("\n{name} decodes `\\ud800` to message.text = {text}");
            }
        }
    }
}
