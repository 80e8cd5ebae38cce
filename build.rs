//! Embeds `rules/` (the built-in default rules) and `schemas/` (the schemas
//! the loader enforces) into the binary, so `cansend` runs with no files at
//! hand and always checks rules against the schemas it was built with.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn collect(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(&path, base, out);
        } else if [".yaml", ".yml", ".toml", ".json"].iter().any(|x| name.ends_with(x)) {
            let rel = path.strip_prefix(base).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            out.push((rel, path));
        }
    }
}

fn table(name: &str, dir: &Path) -> String {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files = Vec::new();
    collect(dir, dir, &mut files);
    let mut s = format!("pub static {name}: &[(&str, &str)] = &[\n");
    for (rel, path) in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let _ = writeln!(s, "    ({rel:?}, include_str!({:?})),", path.display().to_string());
    }
    s.push_str("];\n");
    s
}

#[expect(clippy::panic, reason = "a build script reports failure by panicking: the build stops with the message")]
fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let out = PathBuf::from(env::var("OUT_DIR").unwrap_or_else(|_| ".".into()));
    let code = table("RULES", &root.join("rules")) + &table("SCHEMAS", &root.join("schemas"));
    if let Err(e) = fs::write(out.join("embedded.rs"), code) {
        panic!("writing embedded.rs: {e}");
    }
}
