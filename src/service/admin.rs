//! Who may call the admin endpoints: with a token configured
//! (`CANSEND_ADMIN_TOKEN`), any peer presenting `Authorization: Bearer
//! <token>`; without one, loopback peers only — an operator on the host
//! (or a sidecar in the pod) can reload and validate, the network cannot.
//! The same check decides who sees the samples of reload impacts in
//! `GET /v1/rules/reloads` (they are client data).
//!
//! Behind a reverse proxy on the same host every peer is loopback: set a
//! token there.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::problem::Problem;
use super::state::Admin;

/// Why an admin request is refused; answered as a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// 401: no bearer token, or not the admin token.
    Unauthorized {
        /// The problem's detail.
        detail: &'static str,
        /// The `WWW-Authenticate` challenge.
        challenge: &'static str,
    },
    /// 403: no token is configured and the peer is not loopback.
    NotLoopback,
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::Unauthorized { detail, challenge } => unauthorized(detail, challenge),
            Denied::NotLoopback => Problem::http(
                StatusCode::FORBIDDEN,
                "admin endpoints answer loopback peers only while no admin token is configured; set CANSEND_ADMIN_TOKEN",
            )
            .into_response(),
        }
    }
}

/// [`check`] on a request: its peer (as the connection put it, see
/// [`super::conn`]) and its headers.
pub fn check_request<B>(admin: &Admin, req: &Request<B>) -> Result<(), Denied> {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    check(admin, peer, req.headers())
}

/// `Ok` when the request may use an admin endpoint.
pub fn check(admin: &Admin, peer: Option<SocketAddr>, headers: &HeaderMap) -> Result<(), Denied> {
    match admin {
        Admin::Token(token) => {
            let presented = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, t)| t.trim());
            match presented {
                Some(t) if constant_time_eq(t.as_bytes(), token.as_bytes()) => Ok(()),
                Some(_) => {
                    Err(Denied::Unauthorized { detail: "the bearer token is not the admin token", challenge: "error=\"invalid_token\"" })
                }
                None => Err(Denied::Unauthorized {
                    detail: "this endpoint needs `Authorization: Bearer <admin token>`",
                    challenge: "realm=\"cansend admin\"",
                }),
            }
        }
        Admin::LoopbackOnly => match peer {
            // `::ffff:127.0.0.1` (a dual-stack listener) is loopback too.
            Some(p) if p.ip().to_canonical().is_loopback() => Ok(()),
            _ => Err(Denied::NotLoopback),
        },
    }
}

fn unauthorized(detail: &str, challenge: &str) -> Response {
    let mut res = Problem::http(StatusCode::UNAUTHORIZED, detail).into_response();
    let value = HeaderValue::from_str(&format!("Bearer {challenge}")).unwrap_or(HeaderValue::from_static("Bearer"));
    res.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    res
}

/// Compare without leaking, through timing, how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = auth {
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(a).unwrap());
        }
        h
    }

    #[test]
    fn token_when_configured() {
        let admin = Admin::Token("s3cret".into());
        let remote: SocketAddr = "10.0.0.7:5000".parse().unwrap();
        assert!(check(&admin, Some(remote), &headers(Some("Bearer s3cret"))).is_ok());
        assert!(check(&admin, Some(remote), &headers(Some("bearer s3cret"))).is_ok());
        let no = check(&admin, Some(remote), &headers(None)).unwrap_err().into_response();
        assert_eq!(no.status(), StatusCode::UNAUTHORIZED);
        assert!(no.headers().contains_key(header::WWW_AUTHENTICATE));
        assert_eq!(
            check(&admin, Some(remote), &headers(Some("Bearer s3cre"))).unwrap_err().into_response().status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            check(&admin, Some(remote), &headers(Some("Basic s3cret"))).unwrap_err().into_response().status(),
            StatusCode::UNAUTHORIZED
        );
        // A token is needed from loopback too.
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        assert!(check(&admin, Some(local), &headers(None)).is_err());
    }

    #[test]
    fn loopback_only_without_a_token() {
        let admin = Admin::LoopbackOnly;
        for ok in ["127.0.0.1:1", "[::1]:1", "[::ffff:127.0.0.1]:1"] {
            assert!(check(&admin, Some(ok.parse().unwrap()), &headers(None)).is_ok(), "{ok}");
        }
        for no in ["10.0.0.7:1", "[2001:db8::1]:1", "[::ffff:10.0.0.7]:1"] {
            assert_eq!(
                check(&admin, Some(no.parse().unwrap()), &headers(None)).unwrap_err().into_response().status(),
                StatusCode::FORBIDDEN
            );
        }
        assert!(check(&admin, None, &headers(None)).is_err(), "an unknown peer is not loopback");
    }
}
