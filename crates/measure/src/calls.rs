//! What the grades of the exercises that call a service share: the kit's
//! upstream started beside the server under grade, and its own count of
//! the calls it received as the exact partner of every timing.
//!
//! The exercise's server calls the upstream through an async HTTP client,
//! as a learner's server would call a partner API at work. The grade never
//! trusts the server's word about those calls: the upstream counts them
//! itself (`calls` in its /metrics: at once, exactly, in all, refused past
//! its `--limit`, hung up), and the server cannot fake that count.
//!
//! Every exercise of this kind builds the upstream from servers/upstream/main.rs
//! under its own name (`lock-upstream`, ...) and takes `--upstream URL`.

use std::path::Path;
use std::time::Duration;

use kit_serve::contract::CallStats;

use crate::burst::{burst, burst_each, Burst};
use crate::grade::failure::{diagnose, fail, indent, Next};
use crate::grade::start;
use crate::harness::{Server, Upstream};

/// The server under grade and the service it calls.
pub struct Pair {
    pub server: Server,
    pub upstream: Upstream,
}

/// Starts the upstream (`upstream_bin`, each call answered after
/// `upstream_ms`, plus `upstream_args` such as `--limit 5`), then the
/// server under grade pointed at it (`--upstream URL`). Either one that
/// does not start fails the check as a crash, in its own words.
pub fn start_pair(
    bin: &Path,
    upstream_bin: &Path,
    upstream_ms: u64,
    upstream_args: &[&str],
) -> Pair {
    let mut args = vec!["--io-ms".to_string(), upstream_ms.to_string()];
    args.extend(upstream_args.iter().map(|a| a.to_string()));
    let upstream = Upstream::start_bin(upstream_bin, &args).unwrap_or_else(|e| {
        let e = e.to_string();
        fail(
            "the upstream (the service your server calls) did not start",
            &format!(
                "  it is the kit's own servers/upstream, built here as {}; this is not about your code.\n  {}",
                upstream_bin.display(),
                indent(&e)
            ),
            Next::Crash,
        )
    });
    let url = upstream.url.clone();
    let server = start(bin, 0, &[("KIT_UPSTREAM_URL", url.as_str())]);
    Pair { server, upstream }
}

impl Pair {
    /// The upstream's own count of calls; an upstream that stopped
    /// answering is reported as such (it is not the learner's).
    pub fn calls(&self) -> CallStats {
        self.upstream.calls().unwrap_or_else(|e| {
            fail(
                "the upstream's /metrics did not answer",
                &format!(
                    "  {}\n  the upstream is the kit's, not yours: run the grade again.",
                    indent(&e.to_string())
                ),
                Next::Crash,
            )
        })
    }

    /// `paths` at once, one connection each. A server that died is
    /// reported as dead, with its panic quoted; unanswered requests at the
    /// deadline are a finding, left to the check.
    pub fn fire_each(&mut self, label: &str, paths: &[String], deadline: Duration) -> Burst {
        let measured = burst_each(&self.server, label, paths, deadline);
        self.alive(measured, label, paths.len())
    }

    /// `n` x `path` at once, one connection each, as [`Pair::fire_each`].
    pub fn fire(&mut self, path: &str, n: u64, deadline: Duration) -> Burst {
        let measured = burst(&self.server, path, n, deadline);
        self.alive(measured, path, n as usize)
    }

    /// [`Pair::fire_each`], and the upstream's own count of calls read
    /// about `at` after the burst began, while requests may still wait:
    /// what the service held when the answers were due. Read after the
    /// burst, the count would also hold what the grade's own clients ended
    /// by giving up at `deadline` (a server drops a request whose client
    /// has gone, and the call it was making with it).
    pub fn fire_each_counting_at(
        &mut self,
        label: &str,
        paths: &[String],
        deadline: Duration,
        at: Duration,
    ) -> (Burst, CallStats) {
        use crate::harness::{HarnessError, Remote, Target};
        let upstream = Remote::new(&self.upstream.url);
        let counting = std::thread::spawn(move || {
            std::thread::sleep(at);
            upstream?.metrics()?.calls.ok_or_else(|| {
                HarnessError("/metrics reports no calls: not the kit's upstream".into())
            })
        });
        let b = self.fire_each(label, paths, deadline);
        let calls = counting
            .join()
            .unwrap_or_else(|_| Err(HarnessError("the thread that reads it panicked".into())))
            .unwrap_or_else(|e| {
                fail(
                    "the upstream's /metrics did not answer",
                    &format!(
                        "  {}\n  the upstream is the kit's, not yours: run the grade again.",
                        indent(&e.0)
                    ),
                    Next::Crash,
                )
            });
        (b, calls)
    }

    /// A measured burst, or a failure: the server died during it, or it
    /// could not be measured (the server's own words either way).
    pub(crate) fn alive(
        &mut self,
        measured: crate::harness::Result<Burst>,
        label: &str,
        n: usize,
    ) -> Burst {
        match measured {
            Ok(b) if self.server.exited().is_none() => b,
            Ok(_) => {
                let diagnosis = diagnose(&mut self.server);
                fail(&format!("the server died during {n} x {label}"), &diagnosis, Next::Crash)
            }
            Err(e) => {
                let diagnosis = diagnose(&mut self.server);
                fail(&format!("{n} x {label} could not be measured: {e}"), &diagnosis, Next::Crash)
            }
        }
    }
}

/// `/price?product=FIRST..` for `n` products in a row: a burst of misses.
pub fn products(first: u64, n: u64) -> Vec<String> {
    (first..first + n).map(|p| format!("/price?product={p}")).collect()
}
