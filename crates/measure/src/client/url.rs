//! An http:// URL, checked before any load is sent, and the one bounded
//! connect that tells a server that is not running from a slow one.

use std::fmt;
use std::net::{Ipv6Addr, SocketAddr};
use std::time::Duration;

use hyper::header::HeaderValue;
use hyper::Uri;

use super::outcome::io_reason;
use super::LoadError;

/// Longest wait for the first TCP connection before giving up, whatever the
/// request timeout is: a server that does not accept within this is not
/// there, and the person at the terminal should hear so promptly.
const PROBE_TIMEOUT_CAP: Duration = Duration::from_secs(3);

/// An http:// URL, checked, in the pieces an HTTP/1.1 GET needs: where to
/// connect (host, port), the Host header, and the request line's target.
///
/// Our own parser rather than a general URL crate: a load generator needs
/// plain `http://host[:port][/path][?query]` and nothing else, and a full
/// URL parser (with IDNA and Unicode tables) was most of what kit-measure
/// compiled for its users' dev-dependencies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpUrl {
    /// As given (trimmed): what every message quotes.
    text: String,
    /// For the resolver: an IPv6 literal without its brackets.
    host: String,
    port: u16,
    /// The Host header: the host as written, and the port unless it is 80.
    authority: HeaderValue,
    /// Origin form, `/path?query`, fragment dropped: the request line's target.
    target: Uri,
}

impl HttpUrl {
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn authority(&self) -> &HeaderValue {
        &self.authority
    }

    pub fn target(&self) -> &Uri {
        &self.target
    }

    /// `http://` and the authority, as the Host header says it: where the
    /// URL's requests go, without their target.
    pub fn origin(&self) -> String {
        format!("http://{}", self.authority.to_str().unwrap_or(&self.host))
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Parses and checks `url` before any load is sent, so a typo is reported as
/// a typo rather than as thousands of failed requests. Accepts
/// `http://host[:port][/path][?query][#fragment]`, where host is a name, an
/// IPv4 address or a bracketed IPv6 address (`http://[::1]:3000/`); the port
/// defaults to 80.
pub fn validate_url(url: &str) -> Result<HttpUrl, LoadError> {
    let text = url.trim();
    let bad =
        |reason: &str| LoadError::InvalidUrl { url: url.to_string(), reason: reason.to_string() };
    let Some((scheme, rest)) = text.split_once("://").filter(|(s, _)| is_scheme(s)) else {
        // "localhost:3000/x" is a URL of scheme "localhost" to a URL parser:
        // point at the fix rather than at the grammar.
        return match text.split_once(':') {
            Some((scheme, _)) if is_scheme(scheme) => {
                Err(bad(&format!("unsupported scheme '{scheme}:' (only http:// is supported)")))
            }
            _ => Err(bad("not a URL (it does not start with http://)")),
        };
    };
    match scheme.to_ascii_lowercase().as_str() {
        "http" => {}
        // The client speaks plain HTTP/1.1, no TLS: say so instead of
        // failing on every request.
        "https" => return Err(bad("https is not supported by this load generator; use http://")),
        _ => {
            return Err(bad(&format!("unsupported scheme '{scheme}:' (only http:// is supported)")))
        }
    }
    // The fragment never leaves the client.
    let rest = rest.split('#').next().unwrap_or_default();
    let (authority, target) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let (host, port) = split_authority(authority).map_err(|why| bad(&why))?;
    let target = match target {
        "" => "/".to_string(),
        t if t.starts_with('?') => format!("/{t}"),
        t => t.to_string(),
    };
    let target = Uri::try_from(target).map_err(|e| {
        bad(&format!("bad path or query ({e}); spaces and the like must be percent-encoded"))
    })?;
    let host_header = if port == 80 { host.to_string() } else { format!("{host}:{port}") };
    // Only the characters checked below reach here: always a valid header.
    let authority =
        HeaderValue::try_from(host_header).map_err(|e| bad(&format!("bad host ({e})")))?;
    let bare = host.trim_start_matches('[').trim_end_matches(']').to_string();
    Ok(HttpUrl { text: text.to_string(), host: bare, port, authority, target })
}

/// RFC 3986: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// `host[:port]` into the host as written (IPv6 with brackets) and the port.
fn split_authority(authority: &str) -> Result<(&str, u16), String> {
    if authority.is_empty() {
        return Err("not a URL: missing host (nothing between http:// and the path)".into());
    }
    if authority.contains('@') {
        return Err("user names and passwords in the URL are not supported".into());
    }
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']').ok_or("unclosed '[' in the IPv6 address")?;
        let (host, after) = authority.split_at(close + 1);
        host[1..close]
            .parse::<Ipv6Addr>()
            .map_err(|_| format!("'{host}' is not an IPv6 address"))?;
        match after {
            "" => (host, None),
            _ => (
                host,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or(format!("unexpected '{after}' after the IPv6 address"))?,
                ),
            ),
        }
    } else if authority.matches(':').count() > 1 {
        return Err(format!(
            "bad host '{authority}': an IPv6 address goes in brackets, as in http://[::1]:3000/"
        ));
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("missing host".into());
    }
    if !host.starts_with('[')
        && !host.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
    {
        return Err(format!("bad host '{host}'"));
    }
    let port = match port {
        // "http://host:/" is allowed by RFC 3986 and means the default.
        None | Some("") => 80,
        Some(p) => p
            .parse()
            .ok()
            .filter(|&p: &u16| p != 0)
            .ok_or(format!("bad port '{p}' (expected 1 to 65535)"))?,
    };
    Ok((host, port))
}

/// Opens (and closes) one TCP connection to the URL's host and port.
///
/// Without this, a server that is not running turns into a run full of
/// "connect refused" errors (or, for a black-holed address, a hang as long as
/// the timeout times the number of requests). One bounded connect attempt
/// settles it before the clock starts. No HTTP request is sent, so the
/// server's request counts are untouched. Returns the address that
/// answered, so callers that open their own connections need not resolve
/// the name again.
pub async fn connect_probe(url: &HttpUrl, timeout: Duration) -> Result<SocketAddr, LoadError> {
    let fail = |reason: String| LoadError::Connect { url: url.to_string(), reason };
    let limit = timeout.min(PROBE_TIMEOUT_CAP);
    let connect = tokio::net::TcpStream::connect((url.host(), url.port()));
    match tokio::time::timeout(limit, connect).await {
        Ok(Ok(stream)) => stream.peer_addr().map_err(|e| fail(io_reason(&e).to_string())),
        Ok(Err(e)) => Err(fail(io_reason(&e).to_string())),
        Err(_) => Err(fail(format!("no answer within {} ms", limit.as_millis()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_url_explains_what_is_wrong() {
        for (url, needle) in [
            ("notaurl", "not a URL"),
            ("ftp://x", "unsupported scheme 'ftp:'"),
            ("localhost:3000/health", "unsupported scheme 'localhost:'"),
            ("https://example.org/", "https is not supported"),
            ("http://", "not a URL"),
            ("http://", "missing host"),
            ("http:///health", "missing host"),
            ("http://:3000/health", "missing host"),
            ("http://127.0.0.1:99999/", "bad port '99999'"),
            ("http://127.0.0.1:x/", "bad port 'x'"),
            ("http://::1:3000/", "goes in brackets"),
            ("http://[::1/", "unclosed '['"),
            ("http://[nope]:80/", "not an IPv6 address"),
            ("http://me@example.org/", "user names"),
            ("http://127.0.0.1:3000/a b", "percent-encoded"),
        ] {
            let err = validate_url(url).unwrap_err().to_string();
            assert!(err.contains(needle), "{url}: {err}");
            assert!(err.contains(url), "{url}: {err}");
        }
        assert!(validate_url("http://127.0.0.1:3000/health").is_ok());
        assert!(validate_url("http://[::1]:3000/").is_ok());
    }

    /// The pieces a GET is made of, for the shapes a person types.
    #[test]
    fn validate_url_splits_host_port_and_target() {
        let parts = |url: &str| {
            let u = validate_url(url).unwrap();
            (
                u.host().to_string(),
                u.port(),
                u.authority().to_str().unwrap().to_string(),
                u.target().to_string(),
            )
        };
        let s = String::from;
        assert_eq!(
            parts("http://127.0.0.1:3000/health"),
            (s("127.0.0.1"), 3000, s("127.0.0.1:3000"), s("/health"))
        );
        assert_eq!(parts("HTTP://localhost"), (s("localhost"), 80, s("localhost"), s("/")));
        assert_eq!(
            parts("http://localhost:80/a?b=1#frag"),
            (s("localhost"), 80, s("localhost"), s("/a?b=1"))
        );
        assert_eq!(parts("http://h:/?q"), (s("h"), 80, s("h"), s("/?q")));
        // The resolver wants an IPv6 literal bare, the Host header bracketed.
        assert_eq!(parts("http://[::1]:3000/x"), (s("::1"), 3000, s("[::1]:3000"), s("/x")));
        assert_eq!(parts("http://[::1]"), (s("::1"), 80, s("[::1]"), s("/")));
        // Messages quote the URL as given.
        assert_eq!(validate_url(" http://h/x ").unwrap().to_string(), "http://h/x");
    }
}
