//! The engine is generic: `src/` (outside test modules) names no channel,
//! role, action, capability, client status, violation code or tenant of the
//! shipped rules. The domain is data in `rules/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

use std::fs;
use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in fs::read_dir(dir).expect("src/ readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path).expect("utf-8 source");
            // Test modules sit at the end of a file, after `#[cfg(test)]`.
            let code = match text.find("#[cfg(test)]") {
                Some(i) => &text[..i],
                None => &text,
            };
            // Documentation (the rustdoc examples run against the shipped
            // rules, and say so) and comments are not the engine.
            let code: String = code.lines().filter(|l| !l.trim_start().starts_with("//")).map(|l| format!("{l}\n")).collect();
            out.push((path.display().to_string(), code));
        }
    }
}

#[test]
fn src_names_no_domain_value() {
    let engine = cansend::Engine::builtin().expect("builtin rules");
    let c = engine.catalog();
    let mut names: Vec<String> = Vec::new();
    for table in [
        c.channels().collect::<Vec<_>>(),
        c.roles().collect(),
        c.actions().collect(),
        c.capabilities().collect(),
        c.client_statuses().collect(),
        c.tenants().collect(),
    ] {
        names.extend(table.into_iter().map(str::to_owned));
    }
    names.extend(c.codes().map(|(name, _)| name.to_owned()));
    assert!(names.len() > 30, "the catalog was read: {names:?}");
    // The keys of a settings file's `send_options` mapping are words of the
    // rule format (docs/rules.md), not of the domain; one of them is spelt
    // like the shipped violation code `tags_required`.
    const FORMAT_WORDS: &[&str] = &["tags_required"];
    names.retain(|n| !FORMAT_WORDS.contains(&n.as_str()));

    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    assert!(files.len() > 10);
    let mut found = Vec::new();
    for (file, code) in &files {
        for name in &names {
            // As a string literal, or inside a longer literal as a word.
            let quoted = format!("\"{name}\"");
            if code.contains(&quoted) {
                found.push(format!("{file}: {quoted}"));
            }
        }
    }
    assert!(found.is_empty(), "src/ names domain values: {found:#?}");
}
