//! The endpoint contract: one place that says which paths exist, what their
//! query parameters mean, and what JSON they answer with.
//!
//! All four servers answer with these types, so a client (the tests, the
//! grade, `kit bench`) can talk to any of them the same way. What a server
//! *does* while it serves an endpoint is not here: that is the lesson, and it
//! stays in the server's own file.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::io::Io;

/// Every path of the contract. `Slow`, `Sse` and `Ws` exist on async-native only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Health,
    Parallel,
    MultiIo,
    DbSimulation,
    CpuIntensive,
    Metrics,
    MetricsReset,
    Slow,
    Sse,
    Ws,
}

impl Endpoint {
    /// The endpoints every server has, in the order tables list them.
    pub const SHARED: [Endpoint; 7] = [
        Endpoint::Health,
        Endpoint::Parallel,
        Endpoint::MultiIo,
        Endpoint::DbSimulation,
        Endpoint::CpuIntensive,
        Endpoint::Metrics,
        Endpoint::MetricsReset,
    ];
    /// The extras only a server that really yields can afford to hold open.
    pub const NATIVE_ONLY: [Endpoint; 3] = [Endpoint::Slow, Endpoint::Sse, Endpoint::Ws];

    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Health => "/health",
            Endpoint::Parallel => "/parallel",
            Endpoint::MultiIo => "/multi-io",
            Endpoint::DbSimulation => "/db-simulation",
            Endpoint::CpuIntensive => "/cpu-intensive",
            Endpoint::Metrics => "/metrics",
            Endpoint::MetricsReset => "/metrics/reset",
            Endpoint::Slow => "/slow",
            Endpoint::Sse => "/sse",
            Endpoint::Ws => "/ws",
        }
    }

    pub fn method(self) -> &'static str {
        match self {
            Endpoint::MetricsReset => "POST",
            _ => "GET",
        }
    }

    /// The observer endpoints are not counted as requests: reading the
    /// metrics must not change them.
    pub fn is_observer(self) -> bool {
        matches!(self, Endpoint::Metrics | Endpoint::MetricsReset)
    }

    pub fn from_path(path: &str) -> Option<Endpoint> {
        Endpoint::SHARED
            .into_iter()
            .chain(Endpoint::NATIVE_ONLY)
            .find(|e| e.path() == path)
    }
}

/// Resolves a request line against the endpoints a server offers: 404 for
/// an unknown path, 405 for a known path with the wrong method.
pub fn route(method: &str, path: &str, offered: &[Endpoint]) -> Result<Endpoint, ApiError> {
    match Endpoint::from_path(path).filter(|e| offered.contains(e)) {
        None => Err(ApiError::not_found(path)),
        Some(e) if e.method() != method => Err(ApiError::method_not_allowed(method, e)),
        Some(e) => Ok(e),
    }
}

/// Splits `/path?query` into its two halves.
pub fn split_url(url: &str) -> (&str, Option<&str>) {
    match url.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (url, None),
    }
}

/// The server-wide defaults that query parameters may override per request.
#[derive(Clone, Debug)]
pub struct Settings {
    pub variant: &'static str,
    pub io: Duration,
    pub db: Duration,
    pub cpu_rounds: u64,
    /// What a wait is: a timer unless `--io-backend` says otherwise.
    pub backend: Io,
}

/// The upper bound on a wait a request may ask for: long enough for any
/// demo, short enough that a typo cannot park a server for an hour.
pub const MAX_WAIT_MS: u64 = 60_000;
/// The upper bound on CPU rounds a request may ask for (about 4 to 6 s:
/// see `DEFAULT_CPU_ROUNDS` for the measured cost of a round).
pub const MAX_CPU_ROUNDS: u64 = 2_000_000_000;

/// One request's parameters: the server defaults, overridden by
/// `?io_ms=`, `?db_ms=` and `?cpu_rounds=`.
#[derive(Clone, Debug)]
pub struct Params {
    pub variant: &'static str,
    pub io: Duration,
    pub db: Duration,
    pub cpu_rounds: u64,
    /// Where this request's waits go (`p.backend.wait(p.io)`).
    pub backend: Io,
}

impl Params {
    /// Reads the query string of one request. The rules, each a 400 with a
    /// JSON body when broken (this is what a fuzzer and the bad-input tests
    /// throw at every server):
    /// - keys and values are percent-decoded (`%31%30` is `10`, `+` is a
    ///   space, as browsers send forms); a broken escape (`%zz`, a lone `%`)
    ///   or bytes that do not decode to UTF-8 (`%ff`) are refused;
    /// - a value is plain decimal digits in the endpoint's range: no sign,
    ///   no fraction, no spaces, no exponent;
    /// - a parameter given twice is refused rather than silently letting one
    ///   win: `?io_ms=5&io_ms=500` has no meaning a person could rely on;
    /// - unknown parameters are refused, so a typo (`?iom_s=`) is not a
    ///   silent default.
    pub fn parse(query: Option<&str>, settings: &Settings) -> Result<Params, ApiError> {
        let mut p = Params {
            variant: settings.variant,
            io: settings.io,
            db: settings.db,
            cpu_rounds: settings.cpu_rounds,
            backend: settings.backend.clone(),
        };
        let mut seen: [bool; 3] = [false; 3];
        for pair in query.unwrap_or("").split('&').filter(|s| !s.is_empty()) {
            let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = decode(raw_key)?;
            let value = decode(raw_value)?;
            let slot = match key.as_str() {
                "io_ms" => 0,
                "db_ms" => 1,
                "cpu_rounds" => 2,
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "unknown query parameter {} (known: io_ms, db_ms, cpu_rounds)",
                        quote(&key)
                    )))
                }
            };
            if std::mem::replace(&mut seen[slot], true) {
                return Err(ApiError::bad_request(format!("query parameter {key} is given more than once")));
            }
            match slot {
                0 => p.io = Duration::from_millis(number(&key, &value, 0, MAX_WAIT_MS)?),
                1 => p.db = Duration::from_millis(number(&key, &value, 0, MAX_WAIT_MS)?),
                _ => p.cpu_rounds = number(&key, &value, 1, MAX_CPU_ROUNDS)?,
            }
        }
        Ok(p)
    }
}

/// Percent-decodes one key or value of a query (`+` is a space, as in
/// HTML forms). Refuses a broken escape and bytes that are not UTF-8.
pub fn decode(raw: &str) -> Result<String, ApiError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
                match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                    (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                    _ => {
                        return Err(ApiError::bad_request(format!(
                            "bad percent-encoding in the query: {} ('%' must be followed by two hex digits)",
                            quote(raw)
                        )))
                    }
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| {
        ApiError::bad_request(format!("the query value {} does not decode to UTF-8 text", quote(raw)))
    })
}

/// The most bytes of client input an error message shows, escaped: enough
/// to recognise a typo, short enough that a 100 KB query does not come back
/// as a 100 KB error (and a run of control bytes, each escaped to several
/// characters, does not either: the fuzz target found that one).
const SHOWN_MAX: usize = 48;

/// Client input as an error message shows it: escaped (no control bytes
/// reach a terminal or a log) and cut at `SHOWN_MAX` bytes of the escaped
/// form, with the input's full length when it was cut.
fn escape_short(s: &str) -> (String, Option<usize>) {
    let mut out = String::new();
    for c in s.chars() {
        let escaped = c.escape_debug().to_string();
        if out.len() + escaped.len() > SHOWN_MAX {
            return (out, Some(s.len()));
        }
        out.push_str(&escaped);
    }
    (out, None)
}

fn cut_note(cut: Option<usize>) -> String {
    cut.map_or(String::new(), |n| format!("... ({n} bytes in all)"))
}

/// A path as a 404 shows it.
fn shown(s: &str) -> String {
    let (text, cut) = escape_short(s);
    format!("{text}{}", cut_note(cut))
}

/// A key or value as a 400 quotes it.
fn quote(s: &str) -> String {
    let (text, cut) = escape_short(s);
    format!("'{text}'{}", cut_note(cut))
}

/// One query value as a whole number in `min..=max`, or a 400 naming `key`
/// (also the upstream's `?ms=`, so it follows the same rules).
pub fn number(key: &str, value: &str, min: u64, max: u64) -> Result<u64, ApiError> {
    // Digits only: `u64::from_str` would also take a leading '+'.
    let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    match value.parse::<u64>() {
        Ok(n) if digits && (min..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::bad_request(format!(
            "bad value for {key}: {} is not a whole number from {min} to {max}",
            quote(value)
        ))),
    }
}

/// `GET /health`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub variant: String,
}

impl Health {
    pub fn ok(variant: &str) -> Health {
        Health { status: "ok".into(), variant: variant.into() }
    }
}

/// The answer of every work endpoint: what was waited for or computed, and
/// how long the request spent inside its handler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Work {
    pub variant: String,
    pub endpoint: String,
    /// Each I/O wait this request made, in milliseconds, in program order.
    pub waits_ms: Vec<u64>,
    /// CPU rounds computed (0 for pure I/O endpoints).
    pub cpu_rounds: u64,
    /// The result of the CPU work, so the optimizer cannot skip it.
    pub checksum: u64,
    pub elapsed_ms: f64,
}

impl Work {
    /// A request that waited `waits`.
    pub fn waited(p: &Params, endpoint: Endpoint, waits: &[Duration], started: Instant) -> Work {
        Work {
            variant: p.variant.into(),
            endpoint: endpoint.path().into(),
            waits_ms: waits.iter().map(|d| d.as_millis() as u64).collect(),
            cpu_rounds: 0,
            checksum: 0,
            elapsed_ms: millis(started.elapsed()),
        }
    }

    /// A request that computed `rounds` of CPU work.
    pub fn computed(p: &Params, rounds: u64, checksum: u64, started: Instant) -> Work {
        Work {
            variant: p.variant.into(),
            endpoint: Endpoint::CpuIntensive.path().into(),
            waits_ms: Vec::new(),
            cpu_rounds: rounds,
            checksum,
            elapsed_ms: millis(started.elapsed()),
        }
    }
}

/// One event of `GET /sse`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tick {
    pub seq: u32,
    pub of: u32,
    pub variant: String,
}

pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// CPU rounds per /cpu-intensive request. Measured on the 2-core reference
/// machine (Nov 2026, optimized, with other work running): 2.1 to 2.9 ns a
/// round, so 50M rounds take 0.10 to 0.15 s. (An earlier, faster machine
/// did 1 ns a round; the lessons only need CPU work that is long next to
/// a /health request and short next to a test.)
pub const DEFAULT_CPU_ROUNDS: u64 = 50_000_000;

/// The fixed amount of CPU work behind `/cpu-intensive`: a dependent chain of
/// multiply-xorshift steps. Each step needs the previous one, so the compiler
/// can neither vectorise nor skip it, and its cost is linear in `rounds`.
pub fn cpu_work(rounds: u64) -> u64 {
    // Counted while it runs: /metrics reports how many ran at once.
    let _job = crate::metrics::cpu_job();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = x.wrapping_add(i);
    }
    std::hint::black_box(x)
}

/// Every error is JSON: `{"error": "..."}` with a fitting status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

impl ApiError {
    pub fn not_found(path: &str) -> ApiError {
        // The path is the client's: shown escaped and short.
        ApiError { status: 404, message: format!("no such endpoint: {}", shown(path)) }
    }

    pub fn method_not_allowed(method: &str, e: Endpoint) -> ApiError {
        ApiError {
            status: 405,
            message: format!("{method} is not allowed on {}: use {}", e.path(), e.method()),
        }
    }

    pub fn bad_request(message: String) -> ApiError {
        ApiError { status: 400, message }
    }

    /// The upstream could not be reached or answered nonsense.
    pub fn bad_gateway(message: String) -> ApiError {
        ApiError { status: 502, message }
    }

    /// The upstream did not answer within `--io-timeout-ms`.
    pub fn gateway_timeout(message: String) -> ApiError {
        ApiError { status: 504, message }
    }

    /// The database is down, or no pool connection came free in time.
    pub fn unavailable(message: String) -> ApiError {
        ApiError { status: 503, message }
    }

    pub fn internal(message: String) -> ApiError {
        ApiError { status: 500, message }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody { error: self.message.clone() }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            variant: "test",
            io: Duration::from_millis(500),
            db: Duration::from_millis(300),
            cpu_rounds: 10,
            backend: Io::timer(),
        }
    }

    #[test]
    fn routes_unknown_paths_to_404_and_wrong_methods_to_405() {
        let offered = &Endpoint::SHARED;
        assert_eq!(route("GET", "/parallel", offered), Ok(Endpoint::Parallel));
        assert_eq!(route("GET", "/nope", offered).unwrap_err().status, 404);
        assert_eq!(route("GET", "/sse", offered).unwrap_err().status, 404);
        assert_eq!(route("POST", "/parallel", offered).unwrap_err().status, 405);
        assert_eq!(route("GET", "/metrics/reset", offered).unwrap_err().status, 405);
    }

    #[test]
    fn query_overrides_defaults_and_rejects_bad_values() {
        let p = Params::parse(Some("io_ms=20&db_ms=5&cpu_rounds=7"), &settings()).unwrap();
        assert_eq!((p.io.as_millis(), p.db.as_millis(), p.cpu_rounds), (20, 5, 7));
        let p = Params::parse(None, &settings()).unwrap();
        assert_eq!(p.io.as_millis(), 500);
        for bad in [
            "io_ms=abc", "io_ms=-1", "io_ms=60001", "cpu_rounds=0", "color=red", "io_ms", "io_ms=+5",
            "io_ms=1.5", "io_ms=1e3", "io_ms=%zz", "io_ms=%4", "io_ms=%ff", "io_ms=5&io_ms=5", "io_ms=%205",
        ] {
            let err = Params::parse(Some(bad), &settings()).unwrap_err();
            assert_eq!(err.status, 400, "{bad} should be rejected");
        }
    }

    #[test]
    fn query_is_percent_decoded_and_quotes_are_short() {
        let p = Params::parse(Some("io%5Fms=%31%30"), &settings()).unwrap();
        assert_eq!(p.io.as_millis(), 10);
        let long = format!("x{}=1", "a".repeat(100_000));
        let err = Params::parse(Some(&long), &settings()).unwrap_err();
        assert!(err.message.len() < 200, "{}", err.message);
        assert!(err.message.contains("100001 bytes in all"), "{}", err.message);
        let err = Params::parse(Some("io_ms=%0a%1b"), &settings()).unwrap_err();
        assert!(!err.message.contains('\n') && err.message.contains("\\n"), "{}", err.message);
    }

    #[test]
    fn cpu_work_depends_on_rounds() {
        assert_ne!(cpu_work(1000), cpu_work(1001));
        assert_eq!(cpu_work(1000), cpu_work(1000));
    }
}
