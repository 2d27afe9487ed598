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
                        || text.contains(&format!("most rounds held {s}.")),
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
    let (a, b) = (start("sync-blocking", &["--threads", "2"]), start("sync-blocking", &["--threads", "2"]));
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
    assert_eq!(result["slots"], 2, "most rounds held 2: {said}");
    assert!(said.contains("The slots changed between rounds") && said.contains("4 at a time for"), "{said}");
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
