//! The servers in real containers, measured from the host through a mapped
//! port, each container limited to 1 CPU: the slots survive the move, a
//! server killed mid-run is reported promptly instead of hanging the
//! measurement, and `kit up --containers` serves and cleans up after itself.
//!
//! No registry is reachable here, so each image is made locally by the
//! kit's own code (`kit::containers`: the binary and the shared libraries it
//! links, imported with `docker import`). testcontainers then runs it like
//! any other image. This crate is CI-only (`cargo test --release -p container-tests`,
//! where Docker answers); a machine without Docker fails loudly rather than
//! skipping.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use kit::containers::{self, Limits};
use kit_measure::burst::burst;
use kit_measure::expect::{assert_ok, Expect};
use kit_measure::harness::{self, Remote, Target};
use testcontainers::core::IntoContainerPort;
use testcontainers::runners::SyncRunner;
use testcontainers::{Container, GenericImage};

const TAG: &str = "test";
const IO_MS: u64 = 100;
/// The limit the slot tests run under: one core per container.
const ONE_CPU: Limits = Limits { cpus: 1.0, memory: 256 << 20 };

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The kit's target folder, with `kit` and the server binaries built in it.
fn binaries() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Err(why) = containers::docker_answers() {
            panic!("Docker does not answer ({why}): the container tests need a Docker daemon");
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("crates/container-tests sits two folders under the repo root");
        // In the profile these tests run in (CI: --release, as every other
        // test), so the dependencies already built are reused.
        let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
        let mut build = Command::new(env!("CARGO"));
        build.current_dir(root).args([
            "build",
            "-p",
            "kit",
            "-p",
            "kit-servers",
            "--bins",
            "--features",
            "kit/containers",
        ]);
        if profile == "release" {
            build.arg("--release");
        }
        run(&mut build);
        let target =
            std::env::var_os("CARGO_TARGET_DIR").map_or(root.join("target"), PathBuf::from);
        target.join(profile)
    })
}

/// `kit-<variant>:test`, imported once per test run: tests run side by
/// side, and one import at a time is enough.
fn ensure_image(variant: &str) {
    static IMPORTED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let mut imported = IMPORTED.lock().unwrap_or_else(|p| p.into_inner());
    if imported.insert(variant.to_string()) {
        containers::import(&binaries().join(variant), variant, TAG)
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

fn start(variant: &str, args: &[&str]) -> (Container<GenericImage>, Remote) {
    ensure_image(variant);
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let container = containers::request(variant, TAG, ONE_CPU, &args)
        .start()
        .unwrap_or_else(|e| panic!("{variant} container: {e}"));
    let port = container.get_host_port_ipv4(containers::PORT.tcp()).expect("the port is mapped");
    let remote = Remote::new(&format!("http://127.0.0.1:{port}")).expect("a local URL");
    (container, remote)
}

/// The container's CPU limit in cores, as Docker applied it.
fn cpus_of(container_id: &str) -> f64 {
    let nano: f64 = run(Command::new("docker").args([
        "inspect",
        "-f",
        "{{.HostConfig.NanoCpus}}",
        container_id,
    ]))
    .trim()
    .parse()
    .expect("a number");
    nano / 1e9
}

#[test]
fn async_native_with_1_cpu_overlaps_100_requests_in_one_round() {
    let (container, server) = start("async-native", &["--io-ms", "100"]);
    assert_eq!(cpus_of(container.id()), 1.0, "the container is not limited to 1 CPU");
    let b =
        burst(&server, "/parallel", 100, Duration::from_secs(30)).unwrap_or_else(|e| panic!("{e}"));
    // Its two waits overlap: one round of one io wait, all 100 inside at once.
    assert_ok(Expect::new(None, Duration::from_millis(IO_MS)).all(&b));
    eprintln!(
        "async-native, 1 CPU, 100 x /parallel: {:?}, peak_in_flight {}",
        b.total,
        b.peak_in_flight()
    );
}

#[test]
fn sync_blocking_with_1_cpu_keeps_its_4_slots_for_25_rounds() {
    let (container, server) = start("sync-blocking", &["--io-ms", "100"]);
    assert_eq!(cpus_of(container.id()), 1.0, "the container is not limited to 1 CPU");
    let b =
        burst(&server, "/parallel", 100, Duration::from_secs(60)).unwrap_or_else(|e| panic!("{e}"));
    // 100 requests of 2 x io (its waits run one after the other) on 4 slots:
    // 25 rounds of 200 ms, and never more than 4 inside at once.
    assert_ok(Expect::new(Some(4), Duration::from_millis(2 * IO_MS)).all(&b));
    eprintln!(
        "sync-blocking, 1 CPU, 100 x /parallel: {:?}, peak_in_flight {}",
        b.total,
        b.peak_in_flight()
    );
}

#[test]
fn a_container_killed_mid_burst_is_reported_promptly() {
    let (container, server) = start("async-native", &["--io-ms", "3000"]);
    let id = container.id().to_string();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        run(Command::new("docker").args(["kill", &id]));
    });
    let started = Instant::now();
    let result = burst(&server, "/parallel", 50, Duration::from_secs(60));
    killer.join().expect("the killer thread");
    let took = started.elapsed();
    let error = result.expect_err("a burst against a killed server cannot succeed").to_string();
    assert!(took < Duration::from_secs(15), "the burst hung for {took:?} after the server died");
    assert!(error.contains("stopped answering"), "unclear error: {error}");
}

/// `kit up --containers --io-backend http` as a person runs it: a port
/// table of five rows (the four servers, then the upstream), each answering
/// /health through its port from inside a 1-CPU container, and after Ctrl-C
/// (SIGINT) no container of that run left. The servers reach the upstream
/// container to container, and the slots hold across both boundaries.
#[test]
fn kit_up_containers_on_the_upstream_serves_five_and_leaves_nothing_after_ctrl_c() {
    let (mut up, base) =
        Up::start(&["--cpus", "1", "--memory", "128m", "--io-ms", "100", "--io-backend", "http"]);
    let rows = up.rows(5, Duration::from_secs(180));
    let names: Vec<&str> = rows.iter().map(|(v, _)| v.as_str()).collect();
    let mut expected = kit_measure::slots::VARIANTS.to_vec();
    expected.push("upstream");
    assert_eq!(names, expected, "the port table");
    for (i, (name, url)) in rows.iter().enumerate() {
        assert_eq!(url, &format!("http://127.0.0.1:{}", base + i as u16), "{name}'s row");
        let addr = ([127, 0, 0, 1], base + i as u16).into();
        let health = harness::get(addr, "/health", Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("{name} /health: {e}"));
        assert!(health.0 == 200 && health.1.contains(name.as_str()), "{name} /health: {health:?}");
    }
    let ids: Vec<String> = run(Command::new("docker").args(["ps", "-q", "--filter", &up.label()]))
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(ids.len(), 5, "five running containers carry the run's label");
    for id in &ids {
        assert_eq!(cpus_of(id), 1.0, "container {id} is not limited to 1 CPU");
    }

    // Through the upstream: sync-blocking keeps its 4 slots (20 requests, 5
    // rounds of 2 waits, exactly 4 upstream calls at once), async-native
    // overlaps all 50 in one round of one wait.
    let remote = |i: usize| Remote::new(&rows[i].1).expect("a local URL");
    let upstream = remote(4);
    for (i, n, slots, round) in [(0, 20, Some(4), 2 * IO_MS), (3, 50, None, IO_MS)] {
        let server = remote(i);
        upstream.reset_metrics().unwrap_or_else(|e| panic!("{e}"));
        let b = burst(&server, "/parallel", n, Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_ok(Expect::new(slots, Duration::from_millis(round)).all(&b));
        assert_eq!(b.after.io_backend, "http", "{}: /metrics names the backend", rows[i].0);
        let calls = upstream.metrics().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            calls.requests_total,
            2 * n,
            "{}: the upstream serves both waits of every request: {calls:?}",
            rows[i].0
        );
        if let Some(s) = slots {
            assert_eq!(
                calls.peak_in_flight, s,
                "{}: one upstream call per slot at once: {calls:?}",
                rows[i].0
            );
        }
        eprintln!(
            "{} on the upstream, 1 CPU each: {n} x /parallel in {:?}, peak_in_flight {}",
            rows[i].0,
            b.total,
            b.peak_in_flight()
        );
    }

    run(Command::new("kill").args(["-INT", &up.0.id().to_string()]));
    let (status, stderr) = up.finish(Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "kit up --containers after Ctrl-C:\n{stderr}");
    assert_eq!(up.left(), "", "containers left behind after Ctrl-C");
}

/// A container that dies under `kit up --containers` ends the run with a
/// clear error (exit 1), and kit removes the other three on its way out.
#[test]
fn kit_up_containers_reports_a_dead_container_and_removes_the_rest() {
    let (mut up, _) = Up::start(&[]);
    up.rows(4, Duration::from_secs(180));
    run(Command::new("docker").args(["kill", &format!("kit-async-trap-{}", up.0.id())]));
    let (status, stderr) = up.finish(Duration::from_secs(30));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: async-trap's container stopped"), "unclear error:\n{stderr}");
    assert_eq!(up.left(), "", "containers left behind after the error");
}

/// A kit killed outright (SIGKILL: no drop runs) leaves its containers; the
/// next `kit up --containers` on this machine removes them before it starts.
#[test]
fn the_next_kit_up_containers_removes_what_a_killed_one_left() {
    let (mut killed, _) = Up::start(&[]);
    killed.rows(4, Duration::from_secs(180));
    killed.0.kill().expect("SIGKILL");
    killed.0.wait().expect("reaped");
    assert_eq!(killed.left().lines().count(), 4, "a SIGKILLed kit cannot remove its containers");
    let (mut next, _) = Up::start(&[]);
    next.rows(4, Duration::from_secs(180));
    assert_eq!(killed.left(), "", "the next kit up --containers left the killed run's containers");
    run(Command::new("kill").args(["-INT", &next.0.id().to_string()]));
    let (status, stderr) = next.finish(Duration::from_secs(60));
    // Not "removed 4" on stderr: a kit up of a test running beside this one
    // may have removed them first; that they are gone is the property.
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(next.left(), "", "containers left behind after Ctrl-C");
}

/// `kit up --containers` in a test: killed, and its containers removed, if
/// the test fails before the Ctrl-C.
struct Up(Child);

impl Up {
    /// `kit up --containers ARGS` on free ports and this test run's images.
    /// The images are imported here first (under the lock), so kit finds
    /// them up to date and never re-imports an image another test's
    /// container is running from.
    fn start(args: &[&str]) -> (Up, u16) {
        for name in containers::IMAGES {
            ensure_image(name);
        }
        let base = harness::free_ports(4).unwrap_or_else(|e| panic!("{e}"));
        let child = Command::new(binaries().join("kit"))
            .args(["up", "--containers", "--tag", TAG, "--base-port", &base.to_string()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kit starts");
        (Up(child), base)
    }

    /// The filter for this run's containers.
    fn label(&self) -> String {
        format!("label={}={}", containers::RUN_LABEL, self.0.id())
    }

    /// The ids of this run's containers, running or not, one a line.
    fn left(&self) -> String {
        run(Command::new("docker").args(["ps", "-a", "-q", "--filter", &self.label()]))
            .trim()
            .to_string()
    }

    /// Waits for kit to exit: its status and everything it said on stderr.
    fn finish(&mut self, timeout: Duration) -> (std::process::ExitStatus, String) {
        let status = self.wait(timeout);
        let mut stderr = String::new();
        let _ = self.0.stderr.take().expect("piped").read_to_string(&mut stderr);
        (status, stderr)
    }

    /// The first `n` rows of the port table: (variant, URL).
    fn rows(&mut self, n: usize, timeout: Duration) -> Vec<(String, String)> {
        let stdout = self.0.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + timeout;
        let mut rows = Vec::new();
        while rows.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).unwrap_or_else(|_| {
                panic!("kit printed {} of {n} rows within {timeout:?}: {rows:?}", rows.len())
            });
            let mut words = line.split_whitespace();
            if let (Some(v), Some(url), None) = (words.next(), words.next(), words.next()) {
                rows.push((v.to_string(), url.to_string()));
            }
        }
        rows
    }

    fn wait(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().expect("kit's status") {
                return status;
            }
            assert!(started.elapsed() < timeout, "kit did not exit within {timeout:?} of Ctrl-C");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
        // A killed kit cannot remove its containers: the test does.
        if let Ok(out) =
            Command::new("docker").args(["ps", "-a", "-q", "--filter", &self.label()]).output()
        {
            for id in String::from_utf8_lossy(&out.stdout).lines() {
                let _ = Command::new("docker").args(["rm", "-f", id]).output();
            }
        }
    }
}
