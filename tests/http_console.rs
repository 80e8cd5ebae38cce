//! The console over a real socket: `GET /` and every file it loads (the
//! import graph followed from the page, so a broken import fails here),
//! their content types, revalidation by `ETag`, the headers that keep the
//! page to its own origin, and the console routes' place beside the JSON
//! API (metrics labels, problems for the rest; that they are not in
//! `/openapi.json` is checked in `openapi_conformance.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

mod http_common;

use std::collections::{BTreeSet, VecDeque};

use cansend::service::console::{ASSETS, etag};
use http_common::{Server, assert_problem};

/// The absolute paths a page or module refers to: `src="/…"`, `href="/…"`,
/// and `from './x.js'` / `import('../y.js')` resolved against `at`.
fn references(at: &str, text: &str) -> Vec<String> {
    let dir = &at[..at.rfind('/').map(|i| i + 1).unwrap_or(0)];
    let mut out = Vec::new();
    for quote in ['"', '\''] {
        for piece in text.split(quote).collect::<Vec<_>>().windows(2) {
            let (before, target) = (piece[0], piece[1]);
            let attr = before.ends_with("src=") || before.ends_with("href=");
            let import = before.trim_end().ends_with("from") || before.ends_with("import(");
            if attr && target.starts_with("/console/") {
                out.push(target.to_owned());
            } else if import && (target.starts_with("./") || target.starts_with("../")) {
                let mut parts: Vec<&str> = dir.trim_end_matches('/').split('/').collect();
                for seg in target.split('/') {
                    match seg {
                        "." => {}
                        ".." => {
                            parts.pop();
                        }
                        s => parts.push(s),
                    }
                }
                out.push(parts.join("/"));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_page_and_every_file_it_loads_are_served_with_their_types() {
    let s = Server::start().await;
    let page = s.get("/").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    assert!(page.text.starts_with("<!doctype html>"), "{}", page.text);
    assert!(page.request_id.is_some(), "pages get a request id like every answer");

    // Follow the page's references and the modules' imports.
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<String> = references("/", &page.text).into();
    assert!(queue.iter().any(|p| p == "/console/app.js"), "{queue:?}");
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let a = s.get(&path).await;
        assert_eq!(a.status, 200, "{path} (referred to by the console): {}", a.text);
        let expected = if path.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else if path.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/html; charset=utf-8"
        };
        assert_eq!(a.content_type, expected, "{path}");
        if path.ends_with(".js") {
            queue.extend(references(&path, &a.text));
        }
    }
    // Every file built in is reached from the page: none is dead weight,
    // none is forgotten in the import graph.
    let built_in: BTreeSet<String> = ASSETS.iter().filter(|a| a.path != "index.html").map(|a| format!("/console/{}", a.path)).collect();
    assert_eq!(seen, built_in, "files loaded by the page vs. files built in");
    // The page is also a file of its own.
    assert_eq!(s.get("/console/index.html").await.text, page.text);
}

#[tokio::test]
async fn answers_carry_one_etag_and_revalidate_to_304() {
    let s = Server::start().await;
    for path in ["/", "/console/app.js", "/console/style.css"] {
        let a = s.get(path).await;
        assert_eq!(a.status, 200);
        let header = |name: &str| a.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert_eq!(header("etag"), etag(), "{path}");
        assert_eq!(header("cache-control"), "no-cache", "{path}: browsers must revalidate");
        assert_eq!(header("x-content-type-options"), "nosniff");
        let csp = header("content-security-policy");
        assert!(csp.contains("script-src 'self'") && csp.contains("connect-src 'self'") && csp.contains("default-src 'none'"), "{csp}");

        let again = s.send(s.client.get(format!("{}{path}", s.base)).header("if-none-match", etag())).await;
        assert_eq!(again.status, 304, "{path}");
        assert!(again.text.is_empty(), "a 304 has no body");
        assert_eq!(again.headers.get("etag").and_then(|v| v.to_str().ok()), Some(etag()));
        let weak = s.send(s.client.get(format!("{}{path}", s.base)).header("if-none-match", format!("\"x\", W/{}", etag()))).await;
        assert_eq!(weak.status, 304, "weak comparison in a list");
        let other = s.send(s.client.get(format!("{}{path}", s.base)).header("if-none-match", "\"console-0\"")).await;
        assert_eq!(other.status, 200, "another console's tag");
        assert_eq!(other.text, a.text);
    }
    // HEAD: the headers without the body.
    let head = s.send(s.client.head(format!("{}/", s.base))).await;
    assert_eq!((head.status, head.text.as_str()), (200, ""));
    assert_eq!(head.content_type, "text/html; charset=utf-8");
}

#[tokio::test]
async fn the_console_refuses_what_it_does_not_serve_with_problems() {
    let s = Server::start().await;
    let missing = s.get("/console/nope.js").await;
    assert_problem(&missing, 404, None);
    assert!(missing.json["detail"].as_str().is_some_and(|d| d.contains("nope.js")), "{}", missing.text);
    assert_problem(&s.get("/console/../Cargo.toml").await, 404, None);
    assert_problem(&s.get("/console/%2e%2e/src/lib.rs").await, 404, None);
    // No query parameter, as on every route.
    let query = s.get("/?view=now").await;
    assert_problem(&query, 400, None);
    assert_eq!(query.json["type"], "urn:cansend:problem:invalid-query");
    assert_problem(&s.get("/console/app.js?v=2").await, 400, None);
    // Read-only: another method is a 405 problem with `Allow`.
    let post = s.post_raw("/", Some("text/html"), b"<p>".to_vec()).await;
    assert_problem(&post, 405, None);
    assert!(post.headers.get("allow").and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("GET")), "{:?}", post.headers);
    // The API is unchanged beside it.
    assert_eq!(s.get("/healthz").await.status, 200);
}

#[tokio::test]
async fn console_routes_have_their_own_metrics_labels() {
    let s = Server::start().await;
    s.get("/").await;
    s.get("/console/app.js").await;
    s.get("/console/nope.js").await;
    let metrics = s.get("/metrics").await.text;
    for line in [
        r#"cansend_http_requests_total{route="/",method="GET",status="200"} 1"#,
        r#"cansend_http_requests_total{route="/console/{*path}",method="GET",status="200"} 1"#,
        r#"cansend_http_requests_total{route="/console/{*path}",method="GET",status="404"} 1"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "missing `{line}` in\n{metrics}");
    }
}
