//! The console: the pages tech support reads the service with, served at
//! `GET /` and `GET /console/…`.
//!
//! Plain HTML, CSS and JavaScript modules from the repository's `console/`
//! directory, built into the binary (`include_bytes!`): nothing is fetched
//! at run time, nothing is built at run time, nothing is written. The pages
//! talk to the JSON API like any other caller; this module only hands out
//! the files.
//!
//! Caching: every answer carries `Cache-Control: no-cache` and one `ETag`,
//! a hash of all the assets, so a browser revalidates each file and gets a
//! `304` until the binary's console changes — and never runs a mix of an old
//! module with a new one. A `Content-Security-Policy` allows the pages'
//! own files and API only (no inline script, no other origin): the page
//! holds an admin token when one is typed in.

use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::problem::{Problem, truncate};

/// One file of the console.
pub struct Asset {
    /// Its path under `/console/`.
    pub path: &'static str,
    /// Its media type.
    pub content_type: &'static str,
    /// Its bytes, built into the binary.
    pub body: &'static [u8],
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

macro_rules! asset {
    ($path:literal, $ty:expr) => {
        Asset { path: $path, content_type: $ty, body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/console/", $path)) }
    };
}

/// Every file of `console/` (a unit test checks the list against the
/// directory, both ways).
pub static ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("style.css", CSS),
    asset!("app.js", JS),
    asset!("lib/api.js", JS),
    asset!("lib/dom.js", JS),
    asset!("lib/explain.js", JS),
    asset!("lib/format.js", JS),
    asset!("lib/impact.js", JS),
    asset!("views/decision.js", JS),
    asset!("views/now.js", JS),
    asset!("views/preview.js", JS),
    asset!("views/send.js", JS),
    asset!("views/tenants.js", JS),
];

/// What the pages may load and call: their own files and API, nothing else.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The console's `ETag`: the first 128 bits of a SHA-256 over every asset's
/// path and bytes, quoted. Computed once.
pub fn etag() -> &'static str {
    static ETAG: OnceLock<String> = OnceLock::new();
    ETAG.get_or_init(|| {
        let mut h = Sha256::new();
        for a in ASSETS {
            h.update(a.path.as_bytes());
            h.update([0]);
            h.update((a.body.len() as u64).to_le_bytes());
            h.update(a.body);
        }
        let hex: String = h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("\"console-{hex}\"")
    })
}

/// `GET /`: the console's page.
pub async fn index(uri: Uri, headers: HeaderMap) -> Response {
    serve("index.html", &uri, &headers)
}

/// `GET /console/{*path}`: one of its files.
pub async fn file(Path(path): Path<String>, uri: Uri, headers: HeaderMap) -> Response {
    serve(&path, &uri, &headers)
}

fn serve(path: &str, uri: &Uri, headers: &HeaderMap) -> Response {
    // Every route refuses unknown query parameters; the console takes none
    // (its views are chosen after the `#`, which never reaches the server).
    if uri.query().is_some_and(|q| !q.is_empty()) {
        return Problem::bad_query("the console takes no query parameters; a view is chosen after `#`, e.g. /#/tenants/default")
            .into_response();
    }
    let Some(asset) = ASSETS.iter().find(|a| a.path == path) else {
        return Problem::not_found(format!("no console file `{}`; the console starts at /", truncate(path, 200))).into_response();
    };
    let etag = etag();
    let fresh = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| matches(v, etag));
    let mut res = if fresh { StatusCode::NOT_MODIFIED.into_response() } else { Body::from(asset.body).into_response() };
    let h = res.headers_mut();
    if !fresh {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    }
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    res
}

/// Whether an `If-None-Match` value names `etag` (RFC 9110 §13.1.2: a
/// list, `*`, weak comparison).
fn matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').map(str::trim).any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &std::path::Path, base: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("console/ is readable").flatten() {
            let p = e.path();
            if p.is_dir() {
                files(&p, base, out);
            } else if !e.file_name().to_string_lossy().starts_with('.') {
                out.push(p.strip_prefix(base).expect("under console/").to_string_lossy().replace('\\', "/"));
            }
        }
    }

    #[test]
    fn every_file_of_the_console_directory_is_served_and_nothing_else() {
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("console");
        let mut on_disk = Vec::new();
        files(&base, &base, &mut on_disk);
        on_disk.sort();
        let mut listed: Vec<String> = ASSETS.iter().map(|a| a.path.to_owned()).collect();
        listed.sort();
        assert_eq!(listed, on_disk, "ASSETS and console/ differ");
        for a in ASSETS {
            let expected = match a.path.rsplit('.').next() {
                Some("html") => HTML,
                Some("js") => JS,
                Some("css") => CSS,
                other => panic!("no content type for {other:?}"),
            };
            assert_eq!(a.content_type, expected, "{}", a.path);
            assert!(!a.body.is_empty(), "{}", a.path);
        }
    }

    #[test]
    fn if_none_match_is_compared_weakly_in_a_list() {
        let e = "\"console-abc\"";
        assert!(matches(e, e));
        assert!(matches("W/\"console-abc\"", e));
        assert!(matches("\"x\", \"console-abc\"", e));
        assert!(matches("*", e));
        assert!(!matches("\"console-abd\"", e));
        assert!(!matches("", e));
    }

    #[test]
    fn the_etag_is_a_quoted_hash() {
        let e = etag();
        assert!(e.starts_with("\"console-") && e.ends_with('"') && e.len() == "\"console-\"".len() + 32, "{e}");
        assert_eq!(e, etag(), "computed once, the same every time");
    }
}
