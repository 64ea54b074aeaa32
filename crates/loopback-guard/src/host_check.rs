//! The Host-header allowlist every local server applies (DNS rebinding): a page on any
//! site can make the browser resolve its own name to 127.0.0.1 and then read our answers
//! as same-origin. A browser always sends the name it connected to, so a server that
//! answers only to `127.0.0.1:P`, `localhost:P` and `[::1]:P` (P its own port) refuses
//! such requests with 403.
//!
//! [`refusal`] is called by the accept loop ([`crate::serve`]) on every request, before
//! the app: one comparison, with no middleware layer in between.

use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::log_text::escape;

/// The host names (with the port) a server on `port` answers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    port: u16,
    hosts: [String; 3],
}

impl AllowedHosts {
    /// `127.0.0.1:port`, `localhost:port` and `[::1]:port`.
    pub fn new(port: u16) -> Self {
        AllowedHosts {
            port,
            hosts: [
                format!("127.0.0.1:{port}"),
                format!("localhost:{port}"),
                format!("[::1]:{port}"),
            ],
        }
    }

    /// Whether a `Host` value names this server (host names compare without regard to
    /// case; the port must be there and be ours, except 80, which browsers leave out).
    pub fn allows(&self, host: &str) -> bool {
        let with_port = |h: &str| self.hosts.iter().any(|a| a.eq_ignore_ascii_case(h));
        with_port(host) || (self.port == 80 && with_port(&format!("{host}:80")))
    }

    /// The plain-text body of the 403.
    fn refusal_text(&self) -> String {
        format!(
            "Forbidden: this local server answers only to the host names {}, {} and {}; \
             other names are refused (DNS rebinding protection).\n",
            self.hosts[0], self.hosts[1], self.hosts[2]
        )
    }
}

/// The answer to a request whose `Host` (or absolute-form target) does not name this
/// server: a plain-text 403, logged; `None` when the request may go on.
pub fn refusal<B>(allowed: &AllowedHosts, request: &Request<B>) -> Option<Response> {
    // The Host header must name us, and so must an absolute-form target, if any.
    // Read in place: this runs on every request.
    let host = request.headers().get(header::HOST);
    let ok = host
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| allowed.allows(h))
        && request
            .uri()
            .authority()
            .is_none_or(|a| allowed.allows(a.as_str()));
    if ok {
        return None;
    }
    let host = host.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    // Under `local`, the target the local stack's log filter (`local=info`) shows.
    tracing::warn!(
        target: "local::host",
        "refused {} {}: Host {} is not this server's loopback name",
        request.method(),
        escape(request.uri().path()),
        escape(host.as_deref().unwrap_or("(none)")),
    );
    let mut response = (StatusCode::FORBIDDEN, allowed.refusal_text()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::AllowedHosts;

    #[test]
    fn only_loopback_names_with_our_port_are_allowed() {
        let allowed = AllowedHosts::new(4101);
        for good in [
            "127.0.0.1:4101",
            "localhost:4101",
            "LocalHost:4101",
            "[::1]:4101",
        ] {
            assert!(allowed.allows(good), "{good}");
        }
        for bad in [
            "evil.example:4101",
            "127.0.0.1:4102",
            "127.0.0.1",
            "localhost",
            "127.0.0.1:4101.evil.example",
            "localhost.:4101",
            "127.1:4101",
            "",
        ] {
            assert!(!allowed.allows(bad), "{bad}");
        }
        assert!(AllowedHosts::new(80).allows("localhost"));
    }
}
