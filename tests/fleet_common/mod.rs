//! Shared by the tests that run `cansend serve` as real processes (several
//! replicas, a git-sync volume, `cansend status`): a guard that starts the
//! binary on a free port and kills it when dropped — also when an
//! assertion fails — and small HTTP helpers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]
#![allow(dead_code)] // each test binary uses a different part of this

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The repository's `rules/`.
pub fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}

/// Copy a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The default tenant with Viber not connected.
pub const VIBER_OFF: &str = "kind: tenant\ntenant: default\nchannels:\n  viber:\n    connected: false\n";

/// A tenant file that does not parse.
pub const BROKEN: &str = "kind: tenant\ntenant: [\n";

/// The revision `cansend check DIR` reports for a directory (whether its
/// rule tests pass or not).
pub fn check_revision(dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cansend")).arg("check").arg(dir).output().expect("run cansend check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .split_whitespace()
        .skip_while(|w| *w != "revision")
        .nth(1)
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no revision from `cansend check {}`: {stdout}{}", dir.display(), String::from_utf8_lossy(&out.stderr)))
}

/// A `cansend serve` process on `127.0.0.1:0`, killed on drop.
pub struct Serve {
    child: Child,
    /// `host:port` it listens on, read from its `serving addr=…` log line.
    pub addr: String,
    /// `http://host:port`.
    pub base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    /// Start `cansend serve --rules DIR` with `extra` flags; returns once
    /// it listens. The `CANSEND_*` variables of the test's environment are
    /// not passed on.
    pub fn start(rules: &Path, extra: &[&str]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cansend"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--rules"]).arg(rules).args(extra);
        for (var, _) in std::env::vars() {
            if var.starts_with("CANSEND_") {
                cmd.env_remove(var);
            }
        }
        cmd.env("RUST_LOG", "info").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn cansend serve");
        let Some(stderr) = child.stderr.take() else { panic!("no stderr pipe") };
        let mut lines = std::io::BufReader::new(stderr).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut addr = None;
        for line in lines.by_ref().map_while(Result::ok) {
            let found = line.split("addr=").nth(1).and_then(|r| r.split_whitespace().next()).map(str::to_owned);
            log.lock().expect("log").push(line);
            if found.is_some() {
                addr = found;
                break;
            }
        }
        let Some(addr) = addr else {
            let _ = child.kill();
            let status = child.wait();
            panic!("cansend serve ended before listening ({status:?}):\n{}", log.lock().expect("log").join("\n"));
        };
        // Keep draining the log, so the process never blocks on a full pipe.
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(mut l) = sink.lock() {
                    l.push(line);
                }
            }
        });
        Self { child, base: format!("http://{addr}"), addr, log }
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then wait for the process to end: its exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        assert!(sent.success(), "kill -TERM");
        self.child.wait().expect("wait")
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client that never goes through a proxy.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().expect("client")
}

/// GET `url`: status and body as JSON (`Null` if it is not JSON).
pub async fn get(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let res = client.get(url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// POST `body` to `url`: status and body as JSON.
pub async fn post(client: &reqwest::Client, url: &str, body: &Value) -> (u16, Value) {
    let res = client.post(url).json(body).send().await.unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The violation codes of a decision.
pub fn codes(decision: &Value) -> Vec<String> {
    decision["violations"].as_array().map(|v| v.iter().filter_map(|x| x["code"].as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// Poll `probe` every 20 ms until it holds or `deadline` passes; how long
/// it took, or `None`.
pub async fn within<F, Fut>(deadline: Duration, mut probe: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if probe().await {
            return Some(start.elapsed());
        }
        if start.elapsed() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
