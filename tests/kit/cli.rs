//! The `kit` command from the outside: flags, exit codes, the files a race
//! and a report write, and the edges (a taken port, a server down, a server
//! that dies mid-run, Ctrl-C). Loopback only, no fixed ports, every run
//! bounded in time.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use kit_measure::harness::{get, is_alive, signal, Remote, Target};
use kit_serve::os;
use predicates::prelude::*;

const QUICK: Duration = Duration::from_secs(10);
/// The charts a race fills: one N and one endpoint leave out scalability
/// and endpoints, and the timeline joins.
const RACE_CHARTS: [&str; 5] = ["total-vs-model", "latency", "speedup", "summary", "timeline"];

fn kit() -> Command {
    let mut cmd = Command::cargo_bin("kit").expect("cargo builds the kit binary for tests");
    cmd.timeout(QUICK);
    cmd
}

/// A fresh, empty folder for one test's files.
fn out_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kit-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn help_lists_the_subcommands() {
    kit().arg("--help").assert().success().stdout(
        predicate::str::contains("race")
            .and(predicate::str::contains("report"))
            .and(predicate::str::contains("up"))
            .and(predicate::str::contains("health"))
            .and(predicate::str::contains("bench"))
            .and(predicate::str::contains("attack"))
            .and(predicate::str::contains("stress"))
            .and(predicate::str::contains("selfcheck"))
            .and(predicate::str::contains("demo"))
            .and(predicate::str::contains("doctor")),
    );
}

#[test]
fn demo_runs_every_step_without_pauses() {
    kit()
        .args(["demo", "--yes", "--io-ms", "20", "--n", "4"])
        .timeout(Duration::from_secs(60))
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Step 8 of 8")
                .and(predicate::str::contains("peak_in_flight"))
                .and(predicate::str::contains("| rounds x t ")),
        );
}

#[test]
fn a_bad_flag_exits_2() {
    kit().arg("--no-such-flag").assert().code(2).stderr(predicate::str::contains("--no-such-flag"));
    kit()
        .args(["race", "--n", "many"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value"));
}

#[test]
fn race_writes_the_report_files() {
    let dir = out_dir("race");
    kit()
        .args(["race", "--n", "8", "--io-ms", "50", "--out"])
        .arg(&dir)
        .timeout(Duration::from_secs(30))
        .assert()
        .success()
        .stdout(
            predicate::str::contains("async-native").and(predicate::str::contains("slot model")),
        );
    assert!(std::fs::read_to_string(dir.join("report.md")).unwrap().contains("| sync-blocking"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let rows = json["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 4, "{json}");
    for row in rows {
        assert_eq!(row["errors"], 0, "{row}");
        let p = |k: &str| row[k].as_f64().unwrap();
        assert!(p("p50_ms") <= p("p95_ms") && p("p95_ms") <= p("p99_ms"), "{row}");
    }
    assert!(json["machine"]["cores"].as_u64().unwrap() >= 1);
    for chart in RACE_CHARTS {
        assert_png(&dir.join(format!("{chart}.png")));
        assert!(std::fs::read_to_string(dir.join(format!("{chart}.svg")))
            .unwrap()
            .contains("<svg"));
    }
    assert!(!dir.join("scalability.png").exists(), "one N: a scalability chart would be one point");
    // The timeline's data: every request of every variant, sent before answered.
    let timelines = json["timelines"].as_array().expect("timelines");
    assert_eq!(timelines.len(), 4, "{json}");
    for t in timelines {
        let spans = t["spans"].as_array().unwrap();
        assert_eq!(spans.len(), 8, "{t}");
        assert!(
            spans
                .iter()
                .all(|s| s["sent_s"].as_f64() <= s["answered_s"].as_f64() && s["ok"] == true),
            "{t}"
        );
    }
    assert!(std::fs::read_to_string(dir.join("report.md"))
        .unwrap()
        .contains("![timeline](timeline.png)"));
    // The same report on one page: the table, the conclusion, the five charts.
    let (html, charts) = crate::common::assert_report_html(&dir);
    assert_eq!(charts, RACE_CHARTS.len());
    assert!(
        html.contains("<td>sync-blocking</td>")
            && html.contains("<h2>What it means</h2>")
            && html.contains("<figcaption>timeline</figcaption>"),
        "{html:.3000}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The PNG signature, then an IHDR chunk with a non-zero width and height.
fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.len() > 24, "{} is too short", path.display());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{} has no PNG signature", path.display());
    assert_eq!(&bytes[12..16], b"IHDR", "{}: the first chunk is not IHDR", path.display());
    let be =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    assert!(be(16) > 0 && be(20) > 0, "{}: {}x{}", path.display(), be(16), be(20));
}

#[test]
fn a_small_report_measures_every_cell() {
    let dir = out_dir("report");
    kit()
        .args([
            "report",
            "--concurrency",
            "1,4",
            "--io-ms",
            "20",
            "--db-ms",
            "10",
            "--cpu-rounds",
            "1000000",
            "--out",
        ])
        .arg(&dir)
        .timeout(Duration::from_secs(30))
        .assert()
        .success();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let rows = json["rows"].as_array().expect("rows");
    // 4 variants x 4 endpoints x 2 concurrency levels.
    assert_eq!(rows.len(), 32, "{json}");
    assert!(rows.iter().all(|r| r["errors"] == 0), "{json}");
    let (html, charts) = crate::common::assert_report_html(&dir);
    assert!(charts >= 4, "{charts} charts");
    assert!(
        html.contains("<h3>/cpu-intensive, 4 concurrent</h3>")
            && html.matches("<td>async-native</td>").count() == 8,
        "{html:.3000}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn health_reports_a_server_that_is_down() {
    kit()
        .args(["health", "--urls", "http://127.0.0.1:1"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("down  http://127.0.0.1:1  connection refused"));
}

#[test]
fn up_names_a_taken_port() {
    // Held for the whole test, so the port stays taken.
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    kit().args(["up", "--base-port", &port.to_string()]).assert().code(1).stderr(
        predicate::str::contains(format!("port {port}"))
            .and(predicate::str::contains("already in use"))
            // `kit up` moves its servers with --base-port; it has no --port.
            .and(predicate::str::contains(format!(
                "--base-port (now {port}, so {port}-{})",
                port + 3
            )))
            .and(predicate::str::contains("--port 0").not()),
    );
}

/// Without Docker, `--containers` says so in one line and points to the
/// processes; bad limits are refused by name before anything starts. No
/// Docker is needed: DOCKER_HOST points at a socket that does not exist.
#[test]
fn up_containers_without_docker_says_so_in_one_line() {
    let out = kit()
        .args(["up", "--containers"])
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "one line:\n{stderr}");
    assert!(stderr.starts_with("error: Docker does not answer: "), "{stderr}");
    assert!(
        stderr.contains("`kit up` without --containers runs the same servers as processes"),
        "{stderr}"
    );
    kit()
        .args(["images"])
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("Docker does not answer"));
    for (flag, bad) in [
        ("--memory", "12x"),
        ("--memory", "1m"),
        ("--cpus", "0"),
        ("--cpus", "many"),
        ("--tag", "no/slash"),
    ] {
        kit()
            .args(["up", "--containers", flag, bad])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("'{bad}'")));
    }
    // The limits belong to the containers: without --containers they are a mistake.
    kit()
        .args(["up", "--cpus", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--containers"));
}

/// `kit up ARGS` on `n` free ports, once it said `ready`: the base port and the run.
fn up_on_free_ports(args: &[&str], n: u16, ready: &str) -> (u16, Spawned) {
    // Ports found free can be taken before kit binds them: a port in use
    // (kit's own clear error) means another pick, at most three.
    (0..3)
        .find_map(|_| {
            let base = free_ports(n);
            let base_arg = base.to_string();
            let mut all = vec!["up", "--base-port", base_arg.as_str()];
            all.extend_from_slice(args);
            let mut up = Spawned::kit(&all);
            match up.stderr_or_exit(ready, QUICK) {
                Ok(()) => Some((base, up)),
                Err(early) if early.contains("is already in use") => None,
                Err(early) => panic!("{early}"),
            }
        })
        .expect("three picks of free ports were all taken before kit could bind them")
}

#[test]
fn up_serves_until_ctrl_c_and_health_sees_all_four() {
    let (base, mut up) = up_on_free_ports(&[], 4, "the four servers are up");
    let urls: Vec<String> = (0..4).map(|i| format!("http://127.0.0.1:{}", base + i)).collect();
    kit().arg("health").arg("--urls").args(&urls).assert().success().stdout(
        predicate::str::contains("async-native").and(predicate::str::contains("sync-blocking")),
    );
    let servers = up.children();
    assert_eq!(servers.len(), 4, "{servers:?}");
    signal(up.pid(), libc::SIGINT);
    assert_eq!(up.wait(QUICK).code(), Some(0), "{}", up.stderr());
    assert_all_gone(&servers);
}

/// `--io-backend http`: the upstream on the fifth port, and each server's
/// waits are requests to it (its /metrics says so, and the upstream counts
/// both waits of a /parallel). Ctrl-C stops all five.
#[test]
fn up_on_the_upstream_runs_five_and_each_server_waits_on_it() {
    let (base, mut up) =
        up_on_free_ports(&["--io-backend", "http", "--io-ms", "50"], 5, "waiting on the upstream");
    let remote = |i: u16| Remote::new(&format!("http://127.0.0.1:{}", base + i)).unwrap();
    let upstream = remote(4);
    let (status, health) = get(upstream.addr(), "/health", QUICK).unwrap();
    assert!(status == 200 && health.contains("upstream"), "the fifth port: {health}");
    for i in 0..4 {
        let server = remote(i);
        let before = upstream.metrics().unwrap();
        let (status, body) = get(server.addr(), "/parallel", QUICK).unwrap();
        assert_eq!(status, 200, "port {}: {body}", base + i);
        let metrics = server.metrics().unwrap();
        assert_eq!(metrics.io_backend, "http", "port {}: {metrics:?}", base + i);
        // /metrics is not counted: the difference is the two waits.
        let after = upstream.metrics().unwrap();
        assert_eq!(
            after.requests_total - before.requests_total,
            2,
            "port {}: both waits of a /parallel reach the upstream",
            base + i
        );
    }
    let processes = up.children();
    assert_eq!(processes.len(), 5, "{processes:?}");
    signal(up.pid(), libc::SIGINT);
    assert_eq!(up.wait(QUICK).code(), Some(0), "{}", up.stderr());
    assert_all_gone(&processes);
}

/// Starts `kit ARGS`, waits for `started` on its stderr, checks it runs
/// `servers` servers, sends Ctrl-C mid-run: exit 130 within 2 s, and every
/// server it started is gone.
fn ctrl_c_stops_every_server_at_once(args: &[&str], started: &str, servers: usize) {
    let mut kit = Spawned::kit(args);
    kit.wait_for_stderr(started, QUICK);
    let pids = kit.children();
    assert_eq!(pids.len(), servers, "{pids:?}");
    std::thread::sleep(Duration::from_millis(300));
    let sent = Instant::now();
    signal(kit.pid(), libc::SIGINT);
    assert_eq!(kit.wait(QUICK).code(), Some(130), "{}", kit.stderr());
    assert!(sent.elapsed() < Duration::from_secs(2), "took {:?} to stop", sent.elapsed());
    assert_all_gone(&pids);
}

#[test]
fn ctrl_c_during_a_race_stops_every_server_at_once() {
    // 2 rounds of 4 s on the blocking servers: far longer than the test waits.
    let out = out_dir("ctrl-c");
    ctrl_c_stops_every_server_at_once(
        &["race", "--n", "8", "--io-ms", "2000", "--out", out.to_str().unwrap()],
        "racing",
        4,
    );
}

#[test]
fn ctrl_c_during_a_stress_run_stops_its_server_at_once() {
    // 100 rounds of 100 ms on 4 slots: far longer than the test waits.
    ctrl_c_stops_every_server_at_once(
        &["stress", "--variant", "async-trap", "--n", "400", "--io-ms", "50"],
        "the slot model says",
        1,
    );
}

#[test]
fn a_server_that_dies_mid_race_is_reported() {
    let dir = out_dir("death");
    let mut race =
        Spawned::kit(&["race", "--n", "8", "--io-ms", "1000", "--out", dir.to_str().unwrap()]);
    race.wait_for_stderr("racing", QUICK);
    let victim = race
        .children()
        .into_iter()
        .find(|pid| os::name(*pid).as_deref() == Some("sync-blocking"))
        .expect("a sync-blocking child");
    signal(victim, libc::SIGKILL);
    let status = race.wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(1), "{}", race.stderr());
    let stderr = race.stderr();
    assert!(stderr.contains("sync-blocking failed") && stderr.contains("died"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_and_attack_print_json_results() {
    let server = kit_measure::harness::Server::start(
        kit_measure::harness::sibling_binary("async-native").unwrap(),
        &[],
    )
    .expect("async-native starts");
    let url = format!("{}/health", server.url);
    let bench = crate::common::kit_json(&["bench", &url, "-c", "4", "-n", "200", "--json"]);
    assert_eq!(
        (bench["requests"].as_u64(), bench["errors"].as_u64()),
        (Some(200), Some(0)),
        "{bench}"
    );
    let attack =
        crate::common::kit_json(&["attack", &url, "--rate", "50", "--duration", "1s", "--json"]);
    assert_eq!(attack["target_rate"].as_f64(), Some(50.0), "{attack}");
    assert_eq!(
        (attack["requests"].as_u64(), attack["errors"].as_u64()),
        (Some(50), Some(0)),
        "{attack}"
    );
    kit().args(["attack", &url, "--rate", "50", "--duration", "1s"]).assert().success().stdout(
        predicate::str::contains("target 50.0/s").and(predicate::str::contains("response time")),
    );
}

/// `--rate 10..30` over 2 s: N(t) = 10t + 5t², 40 requests, 15 due in the
/// first second and 25 in the second; the JSON names the ramp's ends, and
/// a bad ramp is a bad argument, with its reason.
#[test]
fn attack_ramps_its_rate_and_refuses_a_bad_ramp() {
    let server = kit_measure::harness::Server::start(
        kit_measure::harness::sibling_binary("async-native").unwrap(),
        &[],
    )
    .expect("async-native starts");
    let url = format!("{}/health", server.url);
    let a = crate::common::kit_json(&[
        "attack",
        &url,
        "--rate",
        "10..30",
        "--duration",
        "2s",
        "--json",
    ]);
    assert_eq!((a["requests"].as_u64(), a["errors"].as_u64()), (Some(40), Some(0)), "{a}");
    assert_eq!(a["ramp"], serde_json::json!({"from": 10.0, "to": 30.0}), "{a}");
    assert_eq!(a["target_rate"].as_f64(), Some(20.0), "{a}");
    let intervals = a["series"]["intervals"].as_array().unwrap();
    let col = |k: &str| intervals.iter().map(|i| i[k].as_u64().unwrap()).collect::<Vec<_>>();
    let (target, sent, late) = (col("target"), col("sent"), a["late"].as_u64().unwrap());
    assert_eq!((&target[..2], target.iter().sum::<u64>()), (&[15, 25][..], 40), "{a}");
    // Sent on the ramp: an interval's sends are its due requests, give or
    // take one crossing its edge (and any sent late, on a busy machine).
    for (t, s) in target.iter().zip(&sent) {
        assert!(t.abs_diff(*s) <= 1 + late, "target {target:?}, sent {sent:?}, {late} late");
    }
    for (rate, needle) in
        [("0..5", "start 0 is not a rate above 0"), ("5..", "has no end"), ("a..b", "not a number")]
    {
        kit()
            .args(["attack", "http://127.0.0.1:1/", "--rate", rate, "--duration", "1s"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(needle).and(predicate::str::contains("100..5000")));
    }
}

/// The time series over a kit server: its /metrics sampled alongside, the
/// intervals adding up to the totals, and every chart written and valid.
#[test]
fn attack_writes_its_series_and_charts_with_the_servers_view() {
    let server = kit_measure::harness::Server::start(
        kit_measure::harness::sibling_binary("async-native").unwrap(),
        &[],
    )
    .expect("async-native starts");
    let url = format!("{}/health", server.url);
    let dir = out_dir("attack-series");
    let args = [
        "attack",
        &url,
        "--rate",
        "100",
        "--duration",
        "1s",
        "--interval",
        "250ms",
        "--json",
        "--out",
        dir.to_str().unwrap(),
    ];
    let out = kit().args(args).assert().success().get_output().stdout.clone();
    let attack: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let series = &attack["series"];
    let intervals = series["intervals"].as_array().expect("intervals");
    let sum = |key: &str| intervals.iter().map(|i| i[key].as_u64().unwrap()).sum::<u64>();
    assert_eq!(
        (sum("sent"), sum("answered")),
        (100, attack["completed"].as_u64().unwrap()),
        "{series}"
    );
    assert_eq!(attack["completed"].as_u64(), Some(100), "{attack}");
    assert_eq!(series["interval_s"].as_f64(), Some(0.25));
    assert!(intervals.len() >= 4, "1 s in 250 ms intervals: {series}");
    assert_eq!(
        (series["server"]["status"].as_str(), series["server"]["variant"].as_str()),
        (Some("sampled"), Some("async-native")),
        "{series}"
    );
    // 200 ms apart for about a second: a few samples, and intervals that hold them.
    let samples = series["server_samples"].as_array().unwrap();
    assert!(
        samples.len() >= 3 && samples.iter().all(|s| s["executor_lag_ms"].is_number()),
        "{series}"
    );
    assert!(intervals.iter().any(|i| i["server"]["samples"].as_u64() >= Some(1)), "{series}");
    // series.json is the same result, and every chart is a real PNG and SVG.
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("series.json")).unwrap()).unwrap();
    assert_eq!(written["series"]["intervals"], series["intervals"]);
    for chart in ["attack-latency", "attack-throughput", "attack-in-flight", "attack-heatmap"] {
        let png = std::fs::read(dir.join(format!("{chart}.png"))).unwrap();
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
            "{chart}.png: {} bytes",
            png.len()
        );
        let svg = std::fs::read_to_string(dir.join(format!("{chart}.svg"))).unwrap();
        assert!(
            svg.contains("<svg") && svg.trim_end().ends_with("</svg>") && svg.len() > 5_000,
            "{chart}.svg: {} bytes",
            svg.len()
        );
    }
    // The summary and the four charts on one page.
    let (html, charts) = crate::common::assert_report_html(&dir);
    assert_eq!(charts, 4);
    assert!(html.contains(&format!("<pre>attack {url}\n  rate ")), "{html:.3000}");
    // report.md beside it: the same summary, and a link to each chart.
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        md.contains(&format!("attack {url}\n  rate ")) && md.matches("![attack-").count() == 4,
        "{md}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn attack_explains_a_bad_interval() {
    let run = |interval: &str| {
        kit()
            .args([
                "attack",
                "http://127.0.0.1:1/",
                "--rate",
                "10",
                "--duration",
                "1s",
                "--interval",
                interval,
            ])
            .assert()
    };
    run("10ms")
        .code(2)
        .stderr(predicate::str::contains("shorter than the shortest interval, 100 ms"));
    run("soon").code(2).stderr(predicate::str::contains("is not a duration"));
    kit()
        .args([
            "attack",
            "http://127.0.0.1:1/",
            "--rate",
            "10",
            "--duration",
            "10m",
            "--interval",
            "100ms",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("at most 3600 intervals"));
}

#[test]
fn bench_and_attack_explain_bad_input() {
    kit()
        .args(["bench", "http://127.0.0.1:1/health", "-n", "3"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot connect"));
    kit()
        .args(["attack", "http://127.0.0.1:1/", "--rate", "10", "--duration", "soon"])
        .assert()
        .code(2);
    kit()
        .args(["attack", "http://127.0.0.1:1/", "--rate", "-1", "--duration", "1s"])
        .assert()
        .code(2);
}

/// A malformed URL is a bad argument like any other (exit 2, with the
/// reason); a well-formed one where nothing listens is a failed run (exit 1).
#[test]
fn a_malformed_url_exits_2_and_a_refused_port_exits_1() {
    let malformed: [&[&str]; 5] = [
        &["bench", "htp://x", "-n", "3"],
        &["attack", "htp://x", "--rate", "10", "--duration", "1s"],
        &["capacity", "htp://x"],
        &["health", "--urls", "htp://x"],
        &["selfcheck", "--url", "htp://x"],
    ];
    for args in malformed {
        kit().args(args).assert().code(2).stderr(
            predicate::str::contains("invalid value 'htp://x'").and(predicate::str::contains(
                "unsupported scheme 'htp:' (only http:// is supported)",
            )),
        );
    }
    kit()
        .args(["bench", "http://127.0.0.1:99999/", "-n", "3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad port '99999'"));
    // Nothing listens there: the run fails, and says so.
    let refused = closed_port_url();
    kit()
        .args(["bench", &refused, "-n", "3"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot connect"));
    kit()
        .args(["attack", &refused, "--rate", "10", "--duration", "1s", "--no-tui"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot connect"));
    kit()
        .args(["health", "--urls", &refused])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("connection refused"));
}

/// clap's own tip for `--rate -5` ("use '-- -5'") does not work for an
/// option's value: both forms get the value's own message instead.
#[test]
fn a_negative_rate_is_explained_the_same_in_both_forms() {
    for rate in [&["--rate", "-5"][..], &["--rate=-5"]] {
        let out = kit()
            .args(["attack", "http://127.0.0.1:1/", "--duration", "1s"])
            .args(rate)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            stderr.contains(
                "invalid value '-5' for '--rate <R|FROM..TO>': '-5' is not a rate above 0"
            ),
            "{rate:?}: {stderr}"
        );
        assert!(!stderr.contains("-- -5"), "{rate:?}: a tip that does not work: {stderr}");
    }
    // The same for any number: its own range, not a tip.
    kit()
        .args(["bench", "http://127.0.0.1:1/", "-c", "-5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value '-5' for '--connections <CONNECTIONS>'"));
}

/// A loopback URL where nothing listens: a port bound, then released.
fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/health")
}

fn free_ports(count: u16) -> u16 {
    kit_measure::harness::free_ports(count).unwrap_or_else(|e| panic!("{e}"))
}

fn assert_all_gone(pids: &[u32]) {
    let started = Instant::now();
    while pids.iter().any(|p| is_alive(*p)) {
        assert!(started.elapsed() < Duration::from_secs(5), "servers left behind: {pids:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `kit` as a child process we can signal, with its stderr collected.
struct Spawned {
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Spawned {
    fn kit(args: &[&str]) -> Spawned {
        let mut child = StdCommand::new(env!("CARGO_BIN_EXE_kit"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kit starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (pipe, sink) = (child.stderr.take().unwrap(), Arc::clone(&stderr));
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Spawned { child, stderr }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn wait_for_stderr(&mut self, text: &str, timeout: Duration) {
        if let Err(early) = self.stderr_or_exit(text, timeout) {
            panic!("{early}");
        }
    }

    /// Waits for `text` on stderr; `Err` with kit's last words if it exited first.
    fn stderr_or_exit(&mut self, text: &str, timeout: Duration) -> Result<(), String> {
        let started = Instant::now();
        while !self.stderr().contains(text) {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Give the reader thread a moment to drain the pipe, so the
                // failure shows kit's last words.
                std::thread::sleep(Duration::from_millis(300));
                return Err(format!("kit exited early ({status}):\n{}", self.stderr()));
            }
            assert!(
                started.elapsed() < timeout,
                "no '{text}' within {timeout:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// The processes kit started.
    fn children(&self) -> Vec<u32> {
        os::children(self.pid()).expect("this system lists a process's children")
    }

    fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < timeout,
                "kit did not exit within {timeout:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
