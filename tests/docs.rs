//! The documents run: every ```` ```console ```` block of `README.md` and
//! `docs/*.md` is executed and its output compared with what the document
//! shows, so a document cannot drift from the code.
//!
//! How a document is run:
//!
//! - each document gets a sandbox: a temporary directory holding a copy of
//!   `rules/` (and `examples/`), used as the working directory of every
//!   command, in order — files a block writes are there for the next one;
//! - `cansend` is on the `PATH` (the binary under test), so are `curl` and
//!   `jq`, which the walkthroughs use;
//! - when a block talks to `localhost:8080`, the service is started for the
//!   document as `cansend serve --rules rules` on a free port, and the
//!   commands and outputs are rewritten between the two addresses;
//! - after a command that changed the rules directory, the next command
//!   waits until the service has applied (or rejected) exactly those files,
//!   so a walkthrough that edits a file and then asks shows the reload a
//!   user sees after saving.
//!
//! Inside a block, `$ ` starts a command (continued by `> ` lines, as a
//! shell's second prompt shows them, and by a here-document's lines up to
//! its `EOF`); the lines up to the next command
//! are its output, stdout and stderr together. An output line
//! `[exit: N]` says the command exits with `N` (else 0). In an output
//! line, `…` matches any text; a line that is only `…` matches any number
//! of lines. Trailing spaces and blank lines at the end are ignored.
//! A revision shown in full is compared like any text: the sandbox holds
//! the shipped files, so it is the one a reader gets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADDRESS: &str = "localhost:8080";

/// One command of a block, with the output the document shows.
#[derive(Debug)]
struct Step {
    line: usize,
    command: String,
    expected: Vec<String>,
    exit: i32,
}

/// The steps of every console block of `text`, in order.
fn steps(text: &str) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    let mut in_block = false;
    // The indentation of the open block's fence, taken off its lines.
    let mut indent = 0;
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim_start();
        if !in_block {
            in_block = trimmed == "```console";
            indent = line.len() - trimmed.len();
            continue;
        }
        if trimmed.starts_with("```") {
            in_block = false;
            continue;
        }
        if let Some(cmd) = trimmed.strip_prefix("$ ") {
            let mut command = cmd.to_owned();
            // `> ` lines continue the command, as a shell's second prompt.
            while let Some((_, next)) = lines.peek() {
                let next = next.trim_start();
                let Some(more) = next.strip_prefix("> ").or((next == ">").then_some("")) else { break };
                command.push('\n');
                command.push_str(more);
                lines.next();
            }
            // A here-document's lines are the command's, up to its `EOF`.
            if command.contains("<<'EOF'") || command.contains("<<EOF") {
                for (_, next) in lines.by_ref() {
                    let next = next.get(indent.min(next.len() - next.trim_start().len())..).unwrap_or(next);
                    command.push('\n');
                    command.push_str(next);
                    if next == "EOF" {
                        break;
                    }
                }
            }
            out.push(Step { line: i + 1, command, expected: Vec::new(), exit: 0 });
        } else if let Some(step) = out.last_mut() {
            let shown = line.get(indent.min(line.len() - trimmed.len())..).unwrap_or(trimmed);
            match shown.strip_prefix("[exit: ").and_then(|r| r.strip_suffix(']')) {
                Some(code) => step.exit = code.parse().expect("an exit code"),
                None => step.expected.push(shown.trim_end().to_owned()),
            }
        } else {
            panic!("line {}: a console block starts with a `$ ` command", i + 1);
        }
    }
    for step in &mut out {
        while step.expected.last().is_some_and(String::is_empty) {
            step.expected.pop();
        }
    }
    out
}

/// Whether `line` matches `pattern`, where `…` matches any text.
fn line_matches(pattern: &str, line: &str) -> bool {
    let mut parts = pattern.split('…');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = line.strip_prefix(first) else { return false };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else { return rest.is_empty() };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Whether `actual` matches `expected`, where a line `…` matches any lines.
fn matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e == "…" => (0..=actual.len()).any(|skip| matches(rest, &actual[skip..])),
        Some((e, rest)) => actual.split_first().is_some_and(|(a, more)| line_matches(e, a) && matches(rest, more)),
    }
}

/// The service a document talks to, killed when dropped.
struct Service {
    child: Child,
    port: u16,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn curl(port: u16, path: &str) -> Option<serde_json::Value> {
    let out = Command::new("curl").args(["-s", "--max-time", "2", &format!("http://127.0.0.1:{port}{path}")]).output().ok()?;
    serde_json::from_slice(&out.stdout).ok()
}

impl Service {
    fn start(sandbox: &Path) -> Service {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
        let child = Command::new(env!("CARGO_BIN_EXE_cansend"))
            .current_dir(sandbox)
            .args(["serve", "--rules", "rules", "--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cansend serve");
        let s = Service { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while curl(port, "/healthz").is_none() {
            assert!(Instant::now() < deadline, "cansend serve did not answer /healthz in 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        s
    }

    /// Wait until the service has applied or rejected `revision`.
    fn wait_for(&self, revision: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(v) = curl(self.port, "/v1/rules") {
                // Applied (or the serving files put back: nothing rejected
                // any more), or rejected.
                if (v["revision"] == revision && v["last_error"].is_null()) || v["last_error"]["revision"] == revision {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "the service did not reload {revision} in 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Run every console block of the document at `rel`; the failures, described.
fn run_document(rel: &str) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join(rel)).expect("read the document");
    let steps = steps(&text);
    let sandbox = tempfile::tempdir().expect("temp dir");
    copy_dir(&root.join("rules"), &sandbox.path().join("rules"));
    copy_dir(&root.join("examples"), &sandbox.path().join("examples"));
    let bin_dir: PathBuf = Path::new(env!("CARGO_BIN_EXE_cansend")).parent().expect("bin dir").to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let rules_dir = sandbox.path().join("rules");

    let mut service: Option<Service> = None;
    let mut revision = cansend::internals::revision_of_dir(&rules_dir);
    let mut failures = Vec::new();
    for step in &steps {
        let mut command = step.command.clone();
        if command.contains(ADDRESS) || step.expected.iter().any(|l| l.contains(ADDRESS)) {
            let s = service.get_or_insert_with(|| Service::start(sandbox.path()));
            command = command.replace(ADDRESS, &format!("127.0.0.1:{}", s.port));
        }
        let out = Command::new("bash")
            .args(["-o", "pipefail", "-c", &format!("exec 2>&1; {command}")])
            .current_dir(sandbox.path())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .env_remove("CANSEND_RULES")
            .env_remove("CANSEND_ADMIN_TOKEN")
            .output()
            .expect("run bash");
        let mut shown = String::from_utf8_lossy(&out.stdout).into_owned();
        if let Some(s) = &service {
            shown = shown.replace(&format!("127.0.0.1:{}", s.port), ADDRESS);
        }
        let actual: Vec<&str> = {
            let mut v: Vec<&str> = shown.lines().map(str::trim_end).collect();
            while v.last().is_some_and(|l| l.is_empty()) {
                v.pop();
            }
            v
        };
        let code = out.status.code().unwrap_or(-1);
        if code != step.exit || !matches(&step.expected, &actual) {
            let mut f = format!("{rel}:{}: `{}`\n", step.line, step.command.lines().next().unwrap_or(""));
            let _ = writeln!(f, "  exit: expected {}, got {code}", step.exit);
            let _ = writeln!(f, "  expected:\n{}", step.expected.iter().map(|l| format!("    | {l}\n")).collect::<String>());
            let _ = writeln!(f, "  got:\n{}", actual.iter().map(|l| format!("    | {l}\n")).collect::<String>());
            failures.push(f);
        }
        let now = cansend::internals::revision_of_dir(&rules_dir);
        if now != revision {
            if let Some(s) = &service {
                s.wait_for(&now);
            }
            revision = now;
        }
    }
    assert!(!steps.is_empty() || !text.contains("```console"), "{rel}: console blocks but no command");
    failures
}

fn documents() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs = vec!["README.md".to_owned()];
    let mut more: Vec<String> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    more.sort();
    docs.extend(more);
    docs
}

#[test]
fn every_console_block_of_the_documents_shows_what_it_does() {
    for tool in ["curl", "jq"] {
        let found = Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
        assert!(found, "the documents' examples use curl and jq, and `{tool}` is not on the PATH: install it (apt install curl jq)");
    }
    let mut failures = Vec::new();
    let mut run = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(&doc)).expect("read");
        if !text.contains("```console") {
            continue;
        }
        run += 1;
        failures.extend(run_document(&doc));
    }
    assert!(run >= 2, "the README and at least one document under docs/ carry console blocks");
    assert!(failures.is_empty(), "{} step(s) do not show what they do:\n\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_matcher_matches_what_it_says_and_nothing_else() {
    assert!(line_matches("revision sha256:…", "revision sha256:abc"));
    assert!(line_matches("a … c … e", "a b c d e"));
    assert!(!line_matches("a … c", "a b d"));
    assert!(!line_matches("abc", "abcd"));
    assert!(line_matches("…", ""));
    let e = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert!(matches(&e(&["one", "…", "four"]), &["one", "two", "three", "four"]));
    assert!(matches(&e(&["one", "…"]), &["one"]));
    assert!(!matches(&e(&["one", "…", "five"]), &["one", "two", "four"]));
    assert!(!matches(&e(&["one"]), &["one", "two"]));
}

#[test]
fn blocks_parse_into_commands_outputs_and_exit_codes() {
    let doc = "text\n```console\n$ echo a \\\n>   b\na b\n$ cat > f <<'EOF'\nx\nEOF\n$ false\n[exit: 1]\n```\n\n```sh\n$ not run\n```\n";
    let s = steps(doc);
    assert_eq!(s.len(), 3, "{s:?}");
    assert_eq!((s[0].command.as_str(), s[0].expected.as_slice(), s[0].exit), ("echo a \\\n  b", &["a b".to_owned()][..], 0));
    assert_eq!(s[1].command, "cat > f <<'EOF'\nx\nEOF");
    assert!(s[1].expected.is_empty());
    assert_eq!((s[2].command.as_str(), s[2].exit), ("false", 1));
}
