//! A Rust service embedding cansend without its HTTP server: load a rule
//! directory, decide, explain a refusal, and take up an edited rule file
//! by building a new `Engine` and swapping it in.
//!
//! ```sh
//! cargo run --example embed
//! ```
//!
//! The example works on a copy of the repository's `rules/` in a temporary
//! directory, so the edit it makes touches nothing of yours.

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use cansend::{Engine, Request, RequestError};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile_dir()?;
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"), &dir)?;

    // Load: every problem of every file at once, each `file:line:col`.
    let engine = match Engine::from_dir(&dir) {
        Ok(engine) => engine,
        Err(e) => {
            for d in &e.diagnostics {
                eprintln!("{}", d.in_dir(Some(&dir)));
            }
            return Err(e.into());
        }
    };
    println!("loaded {} ({} tenants)", engine.revision(), engine.tenants().count());

    // What the service holds: the current engine, swapped atomically.
    let current = ArcSwap::from_pointee(engine);

    // A request, as a calling service would send it.
    let body = br#"{
        "tenant": "demo-limits",
        "sender": {"role": "agent"},
        "client": {"status": "existing", "channels": ["email"], "email": "anna@example.com"},
        "channel": "email",
        "message": {"text": "The contract", "attachments": [{"name": "contract.pdf", "size": 40000000}]}
    }"#;
    let request = Request::from_slice(body)?;
    let now = cansend::now_ms();

    let engine = current.load();
    let answer = engine.decide(&request, now)?;
    println!("demo-limits, a 40 MB email: allowed = {}", answer.allowed);

    // A bad request is an error with a pointer per problem.
    let typo = Request::from_slice(
        br#"{"sender": {"role": "agent"}, "client": {"status": "existing", "blockd": true},
                                        "channel": "email", "message": {"text": "hi"}}"#,
    );
    if let Err(RequestError::Invalid(errors)) = typo {
        for e in &errors {
            println!("a typo is refused: {} at {}", e.message, e.pointer);
        }
    }

    // Tech support lowers demo-limits' email limit to 30 MB: edit the
    // tenant file, build a new engine, swap it in. Requests already being
    // decided keep the engine they loaded; the next ones see the new one.
    let tenant = dir.join("tenants/demo-limits.toml");
    let text = std::fs::read_to_string(&tenant)?.replace(r#"value = "50 MB""#, r#"value = "30 MB""#);
    std::fs::write(&tenant, text)?;
    current.store(Arc::new(Engine::from_dir(&dir)?));

    let engine = current.load();
    let answer = engine.explain(&request, now)?;
    println!("after the edit ({}): allowed = {}", engine.revision(), answer.allowed);
    for v in &answer.violations {
        println!("  {} ({}): {}", v.code, v.rule, v.message);
    }
    // Why: the rule that fired, where it is written, what it compared.
    for step in answer.trace.iter().flatten().filter(|s| s.result == "fired") {
        println!("  rule {} at {}:{}", step.rule, step.file, step.line);
        for check in &step.checks {
            let other = check.operand_value.as_deref().map(|v| format!(", {} = {v}", check.operand)).unwrap_or_default();
            println!("    {} → {} ({} = {}{other})", check.text, check.result, check.field, check.value);
        }
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// A fresh directory under the system's temporary directory.
fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("cansend-embed-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
