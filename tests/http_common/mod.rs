//! Shared by the `http_*` tests: the real server, started in-process on
//! `127.0.0.1:0`, and a small client that talks to it over the socket.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]
#![allow(dead_code)] // each test binary uses a different part of this

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cansend::reload::{Live, RuleSource};
use cansend::service::state::Operations;
use cansend::service::{self, Admin, AppState, Limits};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The repository's `rules/`.
pub fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}

/// Copy a rule directory (e.g. [`rules_dir`]) into `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read rules dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

pub struct Server {
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub client: reqwest::Client,
    pub live: Arc<Live>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<std::io::Result<()>>>,
}

/// An answer: status, content type, request id, and the body as JSON
/// (`Value::Null` when it is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub request_id: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Server {
    /// The server on the repository's rules, default limits.
    pub async fn start() -> Self {
        Self::start_with(RuleSource::Dir(rules_dir()), Limits::default()).await
    }

    pub async fn start_with(source: RuleSource, limits: Limits) -> Self {
        let live = match Live::load(source) {
            Ok(l) => Arc::new(l),
            Err(e) => panic!("rules load: {e}"),
        };
        Self::start_live(live, limits, Admin::LoopbackOnly).await
    }

    /// A server on a copy of the shipped rules in `dir`, keeping `capacity`
    /// recent requests, not watched.
    pub async fn on_copy(dir: &Path, capacity: usize, admin: Admin) -> Self {
        copy_dir(&rules_dir(), dir);
        let live = Arc::new(Live::load_with(RuleSource::Dir(dir.to_owned()), capacity).expect("rules load"));
        Self::start_live(live, Limits::default(), admin).await
    }

    /// The server on an already loaded (and perhaps watched) rule set.
    pub async fn start_live(live: Arc<Live>, limits: Limits, admin: Admin) -> Self {
        Self::start_live_on("127.0.0.1:0", live, limits, admin).await
    }

    /// [`Server::start_live`] listening on `listen` (`0.0.0.0:0` to be
    /// reached on a non-loopback address too); `base` is on loopback.
    pub async fn start_live_on(listen: &str, live: Arc<Live>, limits: Limits, admin: Admin) -> Self {
        Self::start_operated(listen, live, limits, admin, Operations::default()).await
    }

    /// [`Server::start_live_on`] with the fleet's operations (decision log,
    /// expected revision, lookup mask).
    pub async fn start_operated(listen: &str, live: Arc<Live>, limits: Limits, admin: Admin, ops: Operations) -> Self {
        let listener = tokio::net::TcpListener::bind(listen).await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = oneshot::channel::<()>();
        let state = AppState::with_operations(live.clone(), limits, admin, ops);
        let handle = tokio::spawn(service::serve(listener, state, async move {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder().no_proxy().build().expect("client");
        let base = format!("http://127.0.0.1:{}", addr.port());
        Self { base, addr, client, live, shutdown: Some(tx), handle: Some(handle) }
    }

    /// Ask the server to stop; returns its task, which ends once in-flight
    /// requests are done.
    pub fn begin_shutdown(&mut self) -> JoinHandle<std::io::Result<()>> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.handle.take().expect("server task")
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let res = req.send().await.expect("the server answers");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let text = res.text().await.expect("a body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, content_type, request_id, headers, text, json }
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(self.client.post(format!("{}{path}", self.base)).json(body)).await
    }

    /// POST raw bytes with the given content type (none when `None`).
    pub async fn post_raw(&self, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Answer {
        let mut req = self.client.post(format!("{}{path}", self.base)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        self.send(req).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.client.get(format!("{}{path}", self.base))).await
    }

    /// `POST /v1/can-send`, which must answer 200.
    pub async fn decide(&self, body: &Value) -> Value {
        let a = self.post("/v1/can-send", body).await;
        assert_eq!(a.status, 200, "{body}\n→ {}", a.text);
        assert_eq!(a.content_type, "application/json");
        a.json
    }

    /// `POST /v1/send-options`, which must answer 200.
    pub async fn options(&self, body: &Value) -> Value {
        let a = self.post("/v1/send-options", body).await;
        assert_eq!(a.status, 200, "{body}\n→ {}", a.text);
        a.json
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The violation codes of a decision, in order.
pub fn codes(decision: &Value) -> Vec<String> {
    decision["violations"].as_array().map(|v| v.iter().filter_map(|x| x["code"].as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// A valid request to build on: an agent writing "Hello" to an existing
/// client over WhatsApp, on the default tenant.
pub fn base() -> Value {
    json!({
        "tenant": "default",
        "sender": { "role": "agent", "id": "u-17" },
        "client": { "status": "existing", "channels": ["whatsapp"] },
        "channel": "whatsapp",
        "message": { "text": "Hello" }
    })
}

/// `base()` with the JSON-pointer paths in `changes` set (objects are
/// created on the way; `Value::Null` removes the field).
/// An email to an existing client of `demo-limits` (email limit raised to
/// 50 MB there) with one PDF of `size` bytes.
pub fn demo_limits_email(size: u64) -> Value {
    with(
        base(),
        &[
            ("/tenant", json!("demo-limits")),
            ("/channel", json!("email")),
            ("/client/channels", json!(["email"])),
            ("/client/email", json!("anna@example.com")),
            ("/message/attachments", json!([{ "name": "scan.pdf", "size": size }])),
        ],
    )
}

pub fn with(mut v: Value, changes: &[(&str, Value)]) -> Value {
    for (path, new) in changes {
        set(&mut v, path, new.clone());
    }
    v
}

fn set(v: &mut Value, path: &str, new: Value) {
    let mut parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let Some(last) = parts.pop() else { return };
    let mut cur = v;
    for p in parts {
        if !cur.get(p).is_some_and(Value::is_object) {
            cur[p] = json!({});
        }
        cur = &mut cur[p];
    }
    if new.is_null() {
        if let Some(o) = cur.as_object_mut() {
            o.remove(last);
        }
    } else {
        cur[last] = new;
    }
}

/// Assert a problem answer: status, media type, the RFC 9457 members, and
/// (when given) the pointer of its first error.
pub fn assert_problem(a: &Answer, status: u16, pointer: Option<&str>) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(a.content_type, "application/problem+json", "{}", a.text);
    for member in ["type", "title", "detail"] {
        assert!(a.json[member].is_string(), "`{member}` in {}", a.text);
    }
    assert_eq!(a.json["status"], json!(status), "{}", a.text);
    assert!(a.json["errors"].is_array(), "{}", a.text);
    if let Some(p) = pointer {
        let pointers: Vec<&str> = a.json["errors"].as_array().into_iter().flatten().filter_map(|e| e["pointer"].as_str()).collect();
        assert!(pointers.contains(&p), "expected pointer {p} in {pointers:?}: {}", a.text);
        assert!(a.json["errors"].as_array().into_iter().flatten().all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())));
    }
}
