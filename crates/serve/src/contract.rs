//! The endpoint contract: one place that says which paths exist, what their
//! query parameters mean, and what JSON they answer with (the work
//! endpoints' bodies, the errors, and `GET /metrics`).
//!
//! All four servers answer with these types, so a client (the tests, the
//! grade, `kit bench`) can talk to any of them the same way. What a server
//! *does* while it serves an endpoint is not here: that is the lesson, and it
//! stays in the server's own file.
//!
//! A leaf: this module imports nothing else of the crate, so a client, the
//! fuzz target and every other module can use it without pulling in a
//! backend, the metrics or the runtime.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

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

    pub const fn path(self) -> &'static str {
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
        Endpoint::SHARED.into_iter().chain(Endpoint::NATIVE_ONLY).find(|e| e.path() == path)
    }
}

/// Resolves a request line against the endpoints a server offers: 404 for
/// an unknown path, 405 for a known path with the wrong method. HEAD is
/// answered wherever GET is (RFC 9110 §9.1), as axum's `get` does: the
/// server sends the head of the GET's answer without its body.
pub fn route(method: &str, path: &str, offered: &[Endpoint]) -> Result<Endpoint, ApiError> {
    match Endpoint::from_path(path).filter(|e| offered.contains(e)) {
        None => Err(ApiError::not_found(path)),
        Some(e) if e.method() == method || (method == "HEAD" && e.method() == "GET") => Ok(e),
        Some(e) => Err(ApiError::method_not_allowed(method, e)),
    }
}

/// Splits `/path?query` into its two halves.
pub fn split_url(url: &str) -> (&str, Option<&str>) {
    match url.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (url, None),
    }
}

/// The upper bound on a wait a request may ask for: long enough for any
/// demo, short enough that a typo cannot park a server for an hour.
pub const MAX_WAIT_MS: u64 = 60_000;
/// The upper bound on CPU rounds a request may ask for (about 4 to 6 s:
/// see `DEFAULT_CPU_ROUNDS` for the measured cost of a round).
pub const MAX_CPU_ROUNDS: u64 = 2_000_000_000;

/// One request's parameters, without a backend: the server's defaults
/// (`CommonArgs::defaults`), overridden by `?io_ms=`, `?db_ms=` and
/// `?cpu_rounds=`. The same type holds the defaults and a request's values.
/// Handlers get it inside `handler::Params`, beside the backend their
/// waits go to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The server's name (its own, never the client's).
    pub variant: &'static str,
    /// One I/O wait (`--io-ms`, `?io_ms=`).
    pub io_wait: Duration,
    /// One database query (`--db-ms`, `?db_ms=`).
    pub db_wait: Duration,
    /// CPU rounds per /cpu-intensive request (`--cpu-rounds`, `?cpu_rounds=`).
    pub cpu_rounds: u64,
}

impl Query {
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
    pub fn parse(query: Option<&str>, defaults: &Query) -> Result<Query, ApiError> {
        let mut p = defaults.clone();
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
                return Err(ApiError::bad_request(format!(
                    "query parameter {key} is given more than once"
                )));
            }
            match slot {
                0 => p.io_wait = Duration::from_millis(number(&key, &value, 0, MAX_WAIT_MS)?),
                1 => p.db_wait = Duration::from_millis(number(&key, &value, 0, MAX_WAIT_MS)?),
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
        ApiError::bad_request(format!(
            "the query value {} does not decode to UTF-8 text",
            quote(raw)
        ))
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
    pub fn waited(p: &Query, endpoint: Endpoint, waits: &[Duration], started: Instant) -> Work {
        Work {
            variant: p.variant.into(),
            endpoint: endpoint.path().into(),
            waits_ms: waits.iter().map(|d| d.as_millis() as u64).collect(),
            cpu_rounds: 0,
            checksum: 0,
            elapsed_ms: as_ms_f64(started.elapsed()),
        }
    }

    /// A request that computed `rounds` of CPU work.
    pub fn computed(p: &Query, rounds: u64, checksum: u64, started: Instant) -> Work {
        Work {
            variant: p.variant.into(),
            endpoint: Endpoint::CpuIntensive.path().into(),
            waits_ms: Vec::new(),
            cpu_rounds: rounds,
            checksum,
            elapsed_ms: as_ms_f64(started.elapsed()),
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

/// A duration in milliseconds, fractions kept (`elapsed_ms` and the /metrics
/// latencies).
pub fn as_ms_f64(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// CPU rounds per /cpu-intensive request. Measured on the 2-core reference
/// machine (Nov 2026, optimized, with other work running): 2.1 to 2.9 ns a
/// round, so 50M rounds take 0.10 to 0.15 s. (An earlier, faster machine
/// did 1 ns a round; the lessons only need CPU work that is long next to
/// a /health request and short next to a test.)
pub const DEFAULT_CPU_ROUNDS: u64 = 50_000_000;

/// The fixed amount of CPU work behind `/cpu-intensive`, and the checksum
/// it answers with: a dependent chain of multiply-xorshift steps. Each step
/// needs the previous one, so the compiler can neither vectorise nor skip
/// it, and its cost is linear in `rounds`. Not counted here: a server calls
/// `handler::cpu_work`, which counts the job for /metrics; a client calls
/// this to know the checksum to expect.
pub fn checksum(rounds: u64) -> u64 {
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

    /// Too many calls at once for a rate-limited service (the upstream's `--limit`).
    pub fn too_many_requests(message: String) -> ApiError {
        ApiError { status: 429, message }
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

// The JSON of `GET /metrics` (the counting behind it is `metrics`).

fn timer() -> String {
    "timer".into()
}

/// The JSON of `GET /metrics`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsSnapshot {
    pub variant: String,
    pub knobs: BTreeMap<String, serde_json::Value>,
    /// Where the server's waits go: `timer`, `http`, `postgres`. Absent from
    /// older servers' JSON, which all waited on timers.
    #[serde(default = "timer")]
    pub io_backend: String,
    /// The variant's slot limit; `null` means "as many as memory allows".
    pub slots: Option<u64>,
    pub requests_total: u64,
    pub in_flight: u64,
    pub peak_in_flight: u64,
    /// CPU jobs (/cpu-intensive computations) running right now.
    pub cpu_jobs: u64,
    /// The most CPU jobs (/cpu-intensive computations) that ran at the same
    /// moment: at most one per core when the CPU work is capped.
    pub cpu_jobs_peak: u64,
    pub endpoints: BTreeMap<String, EndpointStats>,
    /// `null` on servers without an async runtime.
    pub executor_lag_ms: Option<LagStats>,
    /// The OS's own readings; `null` where this system gives none.
    pub os_threads: Option<u64>,
    pub rss_bytes: Option<u64>,
    pub peak_rss_bytes: Option<u64>,
    /// File descriptors open in the server (sockets included): flat under a
    /// steady load, or something leaks. Absent from older servers' JSON.
    #[serde(default)]
    pub open_fds: Option<u64>,
    pub uptime_s: f64,
    /// The database pool (`--io-backend postgres=URL` on a pooled server);
    /// `null` when there is none. Absent from older servers' JSON.
    #[serde(default)]
    pub pool: Option<PoolStats>,
    /// The calls an upstream received (`kit_serve::upstream`): only the
    /// upstream reports them, so the field is left out everywhere else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls: Option<CallStats>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointStats {
    pub count: u64,
    /// The mean time inside the handler: Little's law's W (see
    /// `kit_load::littles_law`). Percentiles cannot stand in for it: L = λW
    /// holds for the mean only. Absent from older servers' JSON, hence the default.
    #[serde(default)]
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// How late the runtime's heartbeat task woke up: the time during which no
/// worker thread was free to poll it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LagStats {
    pub max: f64,
    pub recent: f64,
}

/// `pool` in /metrics: a slot limit of its own for the queries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolStats {
    /// Connections the pool may hold.
    pub size: u64,
    pub in_use: u64,
    /// The most connections lent out at the same moment: exact.
    pub peak_in_use: u64,
    /// Requests that gave up waiting for a connection (503s).
    pub timeouts: u64,
}

/// `calls` in the upstream's /metrics: its own count of the calls it
/// received, the exact partner of a grade's timings (the server under
/// grade cannot fake what the service it calls counted).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallStats {
    /// The most calls it holds at once (`--limit`); past it, an answer 429
    /// at once. `null`: no limit.
    pub limit: Option<u64>,
    /// Every call received: held, refused or hung up.
    pub total: u64,
    /// Calls held right now.
    pub in_flight: u64,
    /// The most calls held at the same moment: exact.
    pub peak_in_flight: u64,
    /// Calls answered 429 because `limit` calls were already held.
    pub rejected: u64,
    /// Calls whose client went away before the answer was ready.
    pub hung_up: u64,
    /// Whether calls hang right now (no answer until the client goes away).
    pub hanging: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Query {
        Query {
            variant: "test",
            io_wait: Duration::from_millis(500),
            db_wait: Duration::from_millis(300),
            cpu_rounds: 10,
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
        let p = Query::parse(Some("io_ms=20&db_ms=5&cpu_rounds=7"), &settings()).unwrap();
        assert_eq!((p.io_wait.as_millis(), p.db_wait.as_millis(), p.cpu_rounds), (20, 5, 7));
        let p = Query::parse(None, &settings()).unwrap();
        assert_eq!(p.io_wait.as_millis(), 500);
        for bad in [
            "io_ms=abc",
            "io_ms=-1",
            "io_ms=60001",
            "cpu_rounds=0",
            "color=red",
            "io_ms",
            "io_ms=+5",
            "io_ms=1.5",
            "io_ms=1e3",
            "io_ms=%zz",
            "io_ms=%4",
            "io_ms=%ff",
            "io_ms=5&io_ms=5",
            "io_ms=%205",
        ] {
            let err = Query::parse(Some(bad), &settings()).unwrap_err();
            assert_eq!(err.status, 400, "{bad} should be rejected");
        }
    }

    #[test]
    fn query_is_percent_decoded_and_quotes_are_short() {
        let p = Query::parse(Some("io%5Fms=%31%30"), &settings()).unwrap();
        assert_eq!(p.io_wait.as_millis(), 10);
        let long = format!("x{}=1", "a".repeat(100_000));
        let err = Query::parse(Some(&long), &settings()).unwrap_err();
        assert!(err.message.len() < 200, "{}", err.message);
        assert!(err.message.contains("100001 bytes in all"), "{}", err.message);
        let err = Query::parse(Some("io_ms=%0a%1b"), &settings()).unwrap_err();
        assert!(!err.message.contains('\n') && err.message.contains("\\n"), "{}", err.message);
    }

    #[test]
    fn the_checksum_depends_on_rounds() {
        assert_ne!(checksum(1000), checksum(1001));
        assert_eq!(checksum(1000), checksum(1000));
    }
}
