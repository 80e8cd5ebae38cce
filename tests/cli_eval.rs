//! `cansend eval` prints one decision "as the HTTP API would answer"
//! (README, "Command line"): for the same body, the same JSON as `POST /v1/can-send` over
//! a real socket — decisions, 422 problems with their pointers, 400s — and
//! it survives its output being cut short (`| head`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

mod http_common;

use std::io::Write as _;
use std::process::{Command, Stdio};

use http_common::{Server, rules_dir};
use serde_json::{Value, json};

/// `cansend eval [--explain] -` with `body` on standard input: exit code and stdout as JSON.
fn eval(body: &str, explain: bool) -> (i32, Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cansend"));
    cmd.arg("eval").arg("--rules").arg(rules_dir());
    if explain {
        cmd.arg("--explain");
    }
    let mut child = cmd.arg("-").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run cansend eval");
    child.stdin.take().expect("stdin").write_all(body.as_bytes()).expect("write the request");
    let out = child.wait_with_output().expect("cansend eval ends");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json)
}

/// The parts of an answer that do not depend on the moment it was made.
fn comparable(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("revision");
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eval_answers_as_the_api_does() {
    let s = Server::start().await;
    let bodies = [
        // allowed
        r#"{"sender":{"role":"agent"},"client":{"status":"existing","channels":["whatsapp"]},"channel":"whatsapp","message":{"text":"Hi"}}"#,
        // denied, several violations, one with a pointer
        r#"{"tenant":"demo-tags","sender":{"role":"supervisor"},"action":"send_and_assign_self","client":{"status":"existing","blocked":true,"channels":["vk"]},"channel":"vk","message":{"attachments":[{"name":"a.exe","size":1}]}}"#,
        // a typo: 422 at the field
        r#"{"sender":{"role":"agent"},"client":{"status":"existing","blockd":true},"channel":"vk","message":{"text":"x"}}"#,
        // a repeated key: 422 at the key, never last-one-wins
        r#"{"sender":{"role":"agent"},"client":{"status":"existing","blocked":true,"blocked":false,"channels":["vk"]},"channel":"vk","message":{"text":"x"}}"#,
        // an unknown channel: 422 with a hint
        r#"{"sender":{"role":"agent"},"client":{"status":"new"},"channel":"fax","message":{"text":"x"}}"#,
        // not JSON: 400
        r#"{"sender": "#,
    ];
    for body in bodies {
        let api = s
            .client
            .post(format!("{}/v1/can-send", s.base))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("POST /v1/can-send");
        let status = api.status().as_u16();
        let api: Value = api.json().await.unwrap_or(Value::Null);
        let (code, cli) = eval(body, false);
        assert_eq!(comparable(cli), comparable(api.clone()), "{body}");
        assert_eq!(code, if status == 200 { 0 } else { 2 }, "{body}: exit code for HTTP {status}");
        if status == 200 {
            assert!(api["revision"].as_str().is_some_and(|r| r.starts_with("sha256:")), "{api}");
        }
    }
}

#[test]
fn eval_explains_on_request() {
    let body = json!({"sender": {"role": "agent"}, "client": {"status": "existing", "blocked": true, "channels": ["vk"]},
                      "channel": "vk", "message": {"text": "x"}});
    let (code, out) = eval(&body.to_string(), true);
    assert_eq!(code, 0, "{out}");
    let trace = out["trace"].as_array().cloned().unwrap_or_default();
    assert!(trace.iter().any(|e| e["rule"] == "client-not-blocked" && e["result"] == "fired"), "{out}");
    let (_, plain) = eval(&body.to_string(), false);
    assert!(plain.get("trace").is_none(), "{plain}");
}

#[test]
fn eval_survives_a_closed_pipe() {
    // `cansend eval … | head -c 1`: the reader goes away; no panic message.
    let body = r#"{"sender":{"role":"agent"},"client":{"status":"existing","channels":["vk"]},"channel":"vk","message":{"text":"x"}}"#;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cansend"))
        .args(["eval", "--explain", "--rules"])
        .arg(rules_dir())
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cansend eval");
    child.stdin.take().expect("stdin").write_all(body.as_bytes()).expect("write");
    drop(child.stdout.take()); // closed before anything is read
    let out = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
