//! The HTTP floor of `scripts/load.sh`: the least a server can do for
//! `POST /v1/can-send` — the same axum and tokio as `cansend serve`, decode
//! the same JSON body into plain structs (serde derive, no strictness, no
//! rules), answer a fixed small decision. Whatever `cansend serve` costs
//! beyond this is strict decoding, evaluation and rendering.
//!
//! ```sh
//! cargo run --release --example http_floor -- 127.0.0.1:8090
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "an example fails loudly")]

use std::collections::HashMap;

/// The allocator of `cansend serve` too, so that the ratio of the two
/// measures code, not allocators.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;

#[allow(dead_code)] // decoded, as a real handler would, but not read
#[derive(Deserialize)]
struct Request {
    tenant: Option<String>,
    action: Option<String>,
    at: Option<String>,
    sender: Sender,
    client: Client,
    channel: String,
    thread: Option<Thread>,
    message: Message,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct Sender {
    id: Option<String>,
    role: String,
    status: Option<String>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct Client {
    status: String,
    blocked: Option<bool>,
    active_thread: Option<bool>,
    channels: Option<Vec<String>>,
    phone: Option<String>,
    email: Option<String>,
    external_id: Option<String>,
    last_inbound_at: Option<String>,
    attributes: Option<HashMap<String, serde_json::Value>>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct Thread {
    tags: Option<Vec<String>>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct Message {
    text: Option<String>,
    template: Option<Template>,
    attachments: Option<Vec<Attachment>>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct Template {
    name: String,
    header: Option<String>,
    footer: Option<String>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct Attachment {
    name: String,
    size: u64,
}

const DECISION: &str = r#"{"allowed":true,"violations":[],"tenant":"default","revision":"sha256:floor"}"#;

async fn can_send(body: Bytes) -> impl IntoResponse {
    match serde_json::from_slice::<Request>(&body) {
        Ok(_) => (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], DECISION),
        Err(_) => (StatusCode::UNPROCESSABLE_ENTITY, [(header::CONTENT_TYPE, "application/json")], "{}"),
    }
}

async fn healthz() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], r#"{"status":"ok"}"#)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let app = Router::new().route("/v1/can-send", post(can_send)).route("/healthz", get(healthz));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("http_floor listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
