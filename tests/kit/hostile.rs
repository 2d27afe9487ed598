//! The real `kit` binary pointed at misbehaving servers
//! (`kit_measure::client::hostile`): `kit bench`, `kit attack` and `kit
//! slots` (the burst at any URL) each end within their timeout, print
//! their summary with the failure named, and keep their memory bounded.
//! The engines meet every behaviour in the crates' own tests
//! (crates/measure/tests/hostile.rs, crates/load/tests/hostile.rs); here,
//! one case per command checks what a person sees.
//!
//! Run: `cargo test --release -p kit --test kit hostile`

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kit_measure::client::hostile::{Behaviour, Hostile};
use kit_serve::os;

/// `kit ARGS`, run to its end: (stdout, stderr, whether it exited 0, how
/// long it took, its highest RSS sampled every 20 ms).
fn run_kit(args: &[&str]) -> (String, String, bool, Duration, Option<u64>) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kit"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kit starts");
    let pid = child.id();
    let mut peak: Option<u64> = None;
    // Reading the pipes at the end is safe: the summaries are short.
    while child.try_wait().expect("kit is waited for").is_none() {
        if let Some(rss) = os::rss_bytes(pid) {
            peak = Some(peak.map_or(rss, |p| p.max(rss)));
        }
        assert!(started.elapsed() < Duration::from_secs(30), "kit {args:?} hangs");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("kit's output");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (text(&out.stdout), text(&out.stderr), out.status.success(), started.elapsed(), peak)
}

/// The client's memory while it reads an endless body for a second: the
/// body is counted and dropped, so RSS stays near the binary's own. 128 MiB
/// is a generous bound; buffered, one second of loopback would be
/// gigabytes.
const RSS_BOUND: u64 = 128 << 20;

#[test]
fn bench_reads_an_endless_body_to_its_cap_and_prints_its_summary() {
    let server = Hostile::start(Behaviour::EndlessChunked);
    let url = server.url("/health");
    let (out, err, ok, took, peak) =
        run_kit(&["bench", &url, "-c", "2", "-d", "1s", "--timeout", "2s"]);
    assert!(ok, "{out}{err}");
    // 1 s of sending, then at most one 2 s timeout: 6 s with a band.
    assert!(took < Duration::from_secs(6), "took {took:?}");
    assert!(out.contains(&format!("bench {url}")), "{out}");
    assert!(out.contains("failures     body too long x "), "{out}");
    assert!(out.contains("statuses     none"), "{out}");
    if let Some(peak) = peak {
        assert!(peak < RSS_BOUND, "kit bench reached {peak} bytes of RSS");
    }
}

#[test]
fn bench_gives_up_on_a_server_that_never_answers_at_its_timeout() {
    let server = Hostile::start(Behaviour::NeverAnswers);
    let url = server.url("/health");
    let (out, err, ok, took, _) =
        run_kit(&["bench", &url, "-c", "3", "-n", "3", "--timeout", "1s"]);
    assert!(ok, "{out}{err}");
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(5), "took {took:?}");
    assert!(out.contains("requests     3 in"), "{out}");
    assert!(out.contains("errors       3 "), "{out}");
    assert!(out.contains("failures     timeout x 3"), "{out}");
}

#[test]
fn attack_on_a_stalled_body_counts_timeouts_and_prints_its_summary() {
    let server = Hostile::start(Behaviour::StallsBody);
    let url = server.url("/health");
    let (out, err, ok, took, _) =
        run_kit(&["attack", &url, "--rate", "10", "-d", "500ms", "--timeout", "1s", "--no-tui"]);
    assert!(ok, "{out}{err}");
    // 0.5 s of sending, the last request's 1 s, the sampler's last read:
    // 2.5 s idle, 7 s with a band.
    assert!(took < Duration::from_secs(7), "took {took:?}");
    assert!(out.contains(&format!("attack {url}")), "{out}");
    assert!(out.contains("timeout x 5"), "{out}");
}

#[test]
fn attack_on_garbage_names_it() {
    let server = Hostile::start(Behaviour::Garbage);
    let url = server.url("/health");
    let (out, err, ok, took, _) =
        run_kit(&["attack", &url, "--rate", "10", "-d", "500ms", "--timeout", "1s", "--no-tui"]);
    assert!(ok, "{out}{err}");
    assert!(took < Duration::from_secs(7), "took {took:?}");
    assert!(out.contains("not HTTP x 5"), "{out}");
}

/// `kit slots` fires the burst at any URL: one request alone first, which a
/// server that closes mid-answer fails, by name, within the deadline.
#[test]
fn slots_at_a_server_that_closes_mid_answer_says_so() {
    let server = Hostile::start(Behaviour::ClosesMidBody);
    let url = server.url("/parallel");
    let (out, err, ok, took, _) =
        run_kit(&["slots", &url, "--n", "4", "--deadline", "1s", "--outside-only"]);
    assert!(!ok, "{out}{err}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(err.contains("closed mid-answer"), "{err}");
}
