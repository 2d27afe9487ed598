//! `kit slots` black-box (`--outside-only`: it never reads `/metrics`) on
//! the four servers, at their default slots and with their slot knobs at 2
//! and 8, and on a server of two worker processes that take connections
//! unevenly: the rounds must say 4, 4, 4, "all at once", the knob's value,
//! and "4 at a time, then 2". Short waits (io 50 ms: a blocking /parallel
//! takes 100 ms), 40 requests.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;

use kit_measure::harness::{sibling_binary, Server};
use serde_json::Value;

fn start(variant: &str, extra: &[&str]) -> Server {
    let bin = sibling_binary(variant).unwrap_or_else(|e| panic!("{e}"));
    let mut args = vec!["--io-ms".to_string(), "50".to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    Server::start(bin, &args).unwrap_or_else(|e| panic!("{e}"))
}

/// `kit slots URL --n 40 --outside-only --json`, parsed.
fn slots_of(url: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_kit"))
        .args(["slots", url, "--n", "40", "--outside-only", "--json"])
        .output()
        .expect("kit runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("kit slots --json prints JSON")
}

#[test]
fn the_slots_of_the_four_servers_and_their_knobs_from_outside() {
    let _turn = crate::common::measuring_alone();
    let cases: [(&str, &[&str], Option<u64>); 10] = [
        ("sync-blocking", &[], Some(4)),
        ("async-trap", &[], Some(4)),
        ("blocking-wrapper", &[], Some(4)),
        ("async-native", &[], None),
        ("sync-blocking", &["--threads", "2"], Some(2)),
        ("sync-blocking", &["--threads", "8"], Some(8)),
        ("async-trap", &["--worker-threads", "2"], Some(2)),
        ("async-trap", &["--worker-threads", "8"], Some(8)),
        ("blocking-wrapper", &["--workers", "2"], Some(2)),
        ("blocking-wrapper", &["--workers", "8"], Some(8)),
    ];
    for (variant, knob, want) in cases {
        let server = start(variant, knob);
        let result = slots_of(&format!("{}/parallel", server.url));
        let said = format!("{variant} {knob:?}: {}", result["conclusion"]);
        assert_eq!(result["errors"], 0, "{said}");
        assert!(result["peak_in_flight"].is_null(), "--outside-only read /metrics: {said}");
        match want {
            Some(s) => {
                assert_eq!(result["reading"]["kind"], "rounds", "{said}");
                assert_eq!(result["slots"], s, "{said}");
                // ceil(40 / s) rounds; one more where the first round came
                // in short (measured: the trap on 2 workers served 1 in its
                // first round while a worker was still accepting).
                let rounds = result["reading"]["rounds"].as_array().unwrap().len() as u64;
                assert!((40_u64.div_ceil(s)..=40_u64.div_ceil(s) + 1).contains(&rounds), "{said}");
                let text = result["conclusion"].as_str().unwrap();
                assert!(
                    text.contains(&format!("this endpoint serves {s} at a time"))
                        || text.contains(&format!("serves up to {s} at a time")),
                    "{said}"
                );
            }
            None => {
                assert_eq!(result["reading"]["kind"], "all_at_once", "{said}");
                assert!(result["slots"].is_null(), "{said}");
            }
        }
    }
}

/// Two "worker processes" (two sync-blocking servers of 2 threads) behind
/// one port, the way gthread workers take connections greedily: the first
/// of every four connections goes to one, three to the other. While both
/// have work, 4 come back per round; then only the second one's 2.
#[test]
fn an_uneven_split_between_two_workers_shows_as_a_change_between_rounds() {
    let _turn = crate::common::measuring_alone();
    let (a, b) =
        (start("sync-blocking", &["--threads", "2"]), start("sync-blocking", &["--threads", "2"]));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let backends = [a.addr, b.addr];
    std::thread::spawn(move || {
        for (i, client) in listener.incoming().enumerate() {
            let Ok(client) = client else { continue };
            let backend = backends[usize::from(i % 4 != 0)];
            std::thread::spawn(move || {
                let Ok(server) = TcpStream::connect(backend) else { return };
                let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let up = std::thread::spawn(move || pipe(&mut c2, &mut s2));
                let (mut client, mut server) = (client, server);
                pipe(&mut server, &mut client);
                let _ = up.join();
            });
        }
    });
    let result = slots_of(&format!("http://127.0.0.1:{port}/parallel"));
    let said = result["conclusion"].as_str().unwrap().to_string();
    assert_eq!(result["reading"]["kind"], "rounds", "{said}");
    // 10 connections to the first (5 rounds of 2), 30 to the second (15 rounds of 2).
    let stretches = &result["reading"]["stretches"];
    assert_eq!(stretches[0]["per_round"], 4, "{said}");
    assert_eq!(stretches[1]["per_round"], 2, "{said}");
    assert_eq!(result["slots"], 4, "the most any round held: {said}");
    assert!(
        said.contains("The slots changed between rounds") && said.contains("4 at a time for"),
        "{said}"
    );
}

fn pipe(from: &mut TcpStream, to: &mut TcpStream) {
    let mut buf = [0u8; 8192];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

/// `--expect` on slots, bench and attack: each prints measured against
/// expected, exits 1 when one fails and 2 (clap's usage error, before
/// anything is sent) on a malformed one.
#[test]
fn expectations_pass_fail_and_are_refused_when_malformed() {
    let _turn = crate::common::measuring_alone();
    let blocking = start("sync-blocking", &[]);
    let native = start("async-native", &[]);
    let kit = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_kit")).args(args).output().expect("kit runs")
    };
    let text = |o: &std::process::Output| {
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    };
    let parallel = format!("{}/parallel", blocking.url);
    let health = format!("{}/health", native.url);

    let pass =
        kit(&["slots", &parallel, "--n", "20", "--expect", "slots=4", "--expect", "errors=0"]);
    assert!(pass.status.success(), "{}", text(&pass));
    assert!(
        text(&pass).contains("expect slots=4") && text(&pass).contains("measured 4 "),
        "{}",
        text(&pass)
    );
    let fail = kit(&["slots", &parallel, "--n", "20", "--expect", "slots>=100"]);
    assert_eq!(fail.status.code(), Some(1), "{}", text(&fail));
    assert!(
        text(&fail).contains("FAIL") && text(&fail).contains("1 of 1 expectations failed"),
        "{}",
        text(&fail)
    );
    // All at once: at least 20 slots, which meets a lower bound only.
    let native_parallel = format!("{}/parallel", native.url);
    let unbounded = kit(&[
        "slots",
        &native_parallel,
        "--n",
        "20",
        "--expect",
        "slots>=20",
        "--expect",
        "slots<=4",
    ]);
    assert_eq!(unbounded.status.code(), Some(1), "{}", text(&unbounded));
    assert!(text(&unbounded).contains("measured at least 20"), "{}", text(&unbounded));

    let bench_pass = kit(&[
        "bench", &health, "-c", "4", "-n", "200", "--expect", "errors=0", "--expect", "p99<10s",
    ]);
    assert!(bench_pass.status.success(), "{}", text(&bench_pass));
    let bench_fail =
        kit(&["bench", &health, "-c", "4", "-n", "200", "--json", "--expect", "rps>=100000000"]);
    assert_eq!(bench_fail.status.code(), Some(1), "{}", text(&bench_fail));
    // With --json, stdout stays JSON: the expectation's line is on stderr.
    assert!(serde_json::from_slice::<Value>(&bench_fail.stdout).is_ok(), "{}", text(&bench_fail));
    assert!(String::from_utf8_lossy(&bench_fail.stderr).contains("expect rps>=100000000"));

    let attack = kit(&[
        "attack",
        &health,
        "--rate",
        "50",
        "--duration",
        "1s",
        "--no-tui",
        "--expect",
        "errors=0",
        "--expect",
        "p99<1us",
    ]);
    assert_eq!(attack.status.code(), Some(1), "{}", text(&attack));
    assert!(
        text(&attack).contains("expect errors=0")
            && text(&attack).contains("pass")
            && text(&attack).contains("FAIL"),
        "{}",
        text(&attack)
    );

    for (command, bad) in
        [("slots", "slots>>4"), ("bench", "p99<200"), ("attack", "latency<1s"), ("slots", "p99<1s")]
    {
        let started = std::time::Instant::now();
        let out = kit(&[command, &health, "--expect", bad]);
        assert_eq!(out.status.code(), Some(2), "{command} --expect {bad}: {}", text(&out));
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "refused before sending");
    }
}

/// The same count on a server the kit did not write: a small Flask app under
/// gunicorn, 2 workers x 2 threads, two waits of 50 ms per request. Where
/// Python, Flask or gunicorn is missing, the test says so and passes
/// (CI installs them). Never more than 2 x 2 at once, and 4 while both
/// workers have requests; how gunicorn splits the connections between its
/// two workers is its own affair, so the rounds may go on with 2.
#[test]
fn a_flask_app_under_gunicorn_counts_its_workers_times_threads() {
    let have = Command::new("python3").args(["-c", "import flask, gunicorn"]).output();
    if !have.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: python3 with flask and gunicorn is not installed here (pip install flask gunicorn)");
        return;
    }
    let _turn = crate::common::measuring_alone();
    let dir = std::env::temp_dir().join(format!("kit-slots-flask-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("app.py"),
        "import time\nfrom flask import Flask\napp = Flask(__name__)\n\n@app.get('/parallel')\ndef parallel():\n    time.sleep(0.05)\n    time.sleep(0.05)\n    return {'endpoint': '/parallel'}\n",
    )
    .unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "gunicorn", "-w", "2", "--threads", "2", "-k", "gthread", "-b"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("app:app")
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("gunicorn.log")).unwrap());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let gunicorn = Gunicorn(cmd.spawn().expect("gunicorn starts"), dir);
    let started = std::time::Instant::now();
    // Both workers booted: gunicorn listens before its workers can accept.
    let booted = || {
        std::fs::read_to_string(gunicorn.1.join("gunicorn.log"))
            .unwrap_or_default()
            .matches("Booting worker")
            .count()
    };
    while booted() < 2 || TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "gunicorn's 2 workers did not boot in 20 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let result = slots_of(&format!("http://127.0.0.1:{port}/parallel"));
    let said = result["conclusion"].as_str().unwrap().to_string();
    assert_eq!(result["errors"], 0, "{said}");
    assert_eq!(result["reading"]["kind"], "rounds", "{said}");
    let per_round: Vec<u64> = result["reading"]["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .collect();
    // Never more than 2 x 2 at once. Usually 4 while both workers have
    // requests; 2 where one worker's accept loop took every connection
    // (seen here once: gthread workers accept greedily).
    assert!(per_round.iter().all(|&c| c <= 4), "2 workers x 2 threads: {said}");
    assert!(matches!(result["slots"].as_u64(), Some(2 | 4)), "{said}");
    eprintln!("{said}");
    drop(gunicorn);
}

/// gunicorn's master and workers, stopped with the test.
struct Gunicorn(std::process::Child, std::path::PathBuf);

impl Drop for Gunicorn {
    fn drop(&mut self) {
        kit_measure::harness::signal_group(self.0.id(), libc::SIGKILL);
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

/// `--out`: slots.json, report.md and report.html beside the timeline
/// chart, the page holding the chart inline and the conclusion's findings
/// as bullets; stdout stays the JSON alone. sync-blocking (4 slots) at io
/// 50 ms: 20 requests in 5 rounds of 100 ms.
#[test]
fn slots_out_writes_report_md_and_a_self_contained_report_html() {
    let _turn = crate::common::measuring_alone();
    let server = start("sync-blocking", &[]);
    let dir = std::env::temp_dir().join(format!("kit-slots-html-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let url = format!("{}/parallel", server.url);
    let out = Command::new(env!("CARGO_BIN_EXE_kit"))
        .args(["slots", &url, "--n", "20", "--json", "--out"])
        .arg(&dir)
        .output()
        .expect("kit runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let result: Value = serde_json::from_slice(&out.stdout).expect("stdout is the JSON alone");
    assert_eq!(
        (result["errors"].as_u64(), result["slots"].as_u64()),
        (Some(0), Some(4)),
        "{result}"
    );
    assert!(stderr.contains("report.md, report.html"), "{stderr}");
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        md.contains("\n- 20 requests came back in 5 rounds of 4")
            && md.contains("![timeline](timeline.png)"),
        "{md}"
    );
    let (html, charts) = crate::common::assert_report_html(&dir);
    assert_eq!(charts, 1);
    assert!(
        html.contains("<li>20 requests came back in 5 rounds of 4")
            && html.contains("<li>The server&#39;s own count (its /metrics): peak_in_flight 4"),
        "{html:.3000}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
