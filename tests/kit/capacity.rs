//! Little's law and the capacity ladder against real servers on loopback:
//! short waits (io 50 ms), low rates, a few seconds each.

use std::time::Duration;

use kit_load::capacity::{self, LadderOptions};
use kit_measure::harness::{sibling_binary, Server};

fn start(variant: &str, io_ms: u64) -> Server {
    let bin = sibling_binary(variant).unwrap_or_else(|e| panic!("{e}"));
    Server::start(bin, &["--io-ms".to_string(), io_ms.to_string()])
        .unwrap_or_else(|e| panic!("{e}"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// sync-blocking, /parallel at io 50 ms: 4 slots of 100 ms = 40/s. At
/// 20/s (half of it) the server holds 20/s x 0.1 s = 2 requests on
/// average. The sampled mean in_flight and the server's completions per
/// second x its mean handler time must agree; the exact partner is the count of requests sent and
/// answered, and the handler time the server measured itself.
#[test]
fn littles_law_holds_on_a_blocking_server_below_capacity() {
    let _turn = crate::common::measuring_alone();
    let server = start("sync-blocking", 50);
    let url = format!("{}/parallel", server.url);
    let (addr, metrics) = capacity::kit_server(&url).unwrap();
    assert_eq!(metrics.expect("a kit server").slots, Some(4));
    let step = runtime()
        .block_on(capacity::step(
            &url,
            Some(addr),
            20.0,
            Duration::from_secs(2),
            Duration::from_secs(5),
        ))
        .unwrap();
    let a = &step.attack;
    assert_eq!((a.requests, a.completed, a.errors, a.dropped), (40, 40, 0, 0), "{a:?}");
    let little =
        step.little.as_ref().unwrap_or_else(|| panic!("no window: {:?}", step.little_missing));
    // Two waits of 50 ms in a row: the server's own time, in a band.
    assert!((95.0..150.0).contains(&little.window.handler_mean_ms), "{little:?}");
    assert!(little.window.samples >= 20, "{little:?}");
    // Well below capacity: at most 4 at once, and it kept up.
    assert!(little.window.max_in_flight <= 4, "{little:?}");
    assert!((step.achieved_rate - 20.0).abs() < 3.0, "{step:?}");
    assert!((little.throughput - 20.0).abs() < 4.0, "{little:?}");
    // The law: both sides within 30 % (sampling 50 times a second a count
    // that moves in steps of one request).
    assert!(little.agrees(0.30), "{}\n{little:?}", little.explain());
    eprintln!("{}", little.explain());
}

/// The same on async-native, where nothing queues: 100/s x 50 ms = 5.
#[test]
fn littles_law_holds_on_async_native() {
    let _turn = crate::common::measuring_alone();
    let server = start("async-native", 50);
    let url = format!("{}/parallel", server.url);
    let (addr, _) = capacity::kit_server(&url).unwrap();
    let step = runtime()
        .block_on(capacity::step(
            &url,
            Some(addr),
            100.0,
            Duration::from_secs(2),
            Duration::from_secs(5),
        ))
        .unwrap();
    let a = &step.attack;
    assert_eq!((a.requests, a.completed, a.errors), (200, 200, 0), "{a:?}");
    let little =
        step.little.as_ref().unwrap_or_else(|| panic!("no window: {:?}", step.little_missing));
    // One round of one wait: the two waits overlap.
    assert!((45.0..90.0).contains(&little.window.handler_mean_ms), "{little:?}");
    assert!(little.agrees(0.30), "{}\n{little:?}", little.explain());
    eprintln!("{}", little.explain());
}

/// A URL that is not a kit server still gets its ladder, without Little's
/// law, and says why; a closed port fails before any load.
#[test]
fn capacity_explains_bad_targets() {
    let opts = |url: &str| LadderOptions {
        url: url.into(),
        start: 10.0,
        factor: 2.0,
        max_steps: 1,
        step: Duration::from_millis(400),
        timeout: Duration::from_secs(1),
        p99_limit: None,
        near_model: false,
        past_knee: 0,
    };
    let err = runtime()
        .block_on(capacity::ladder(&opts("http://127.0.0.1:1/parallel"), &|_| {}))
        .unwrap_err();
    assert!(err.to_string().contains("is the server running?"), "{err}");
    let err = runtime().block_on(capacity::ladder(&opts("ftp://x/"), &|_| {})).unwrap_err();
    assert!(err.to_string().contains("only http://"), "{err}");
}

/// The capacity table in *shape*, under insta: each variant's steps at io
/// 50 ms (s/t = 4 / 0.1 s = 40/s on the three 4-slot servers) offered 12,
/// 24 and 48/s: the three saturate at 48, and async-native, whose knee
/// lies far above (it is set by the CPU), keeps up at every step. The measured numbers are checked against their
/// invariants, then redacted: a snapshot diff is a change in behaviour.
#[test]
fn capacity_table_shape() {
    let _turn = crate::common::measuring_alone();
    let mut all = Vec::new();
    for variant in kit_measure::slots::VARIANTS {
        let server = start(variant, 50);
        let opts = LadderOptions {
            url: format!("{}/parallel", server.url),
            start: 12.0,
            factor: 2.0,
            max_steps: 3,
            step: Duration::from_secs(1),
            timeout: Duration::from_secs(5),
            p99_limit: None,
            near_model: false,
            past_knee: 0,
        };
        all.push(
            runtime()
                .block_on(capacity::ladder(&opts, &|_| {}))
                .unwrap_or_else(|e| panic!("{variant}: {e}")),
        );
    }
    let mut shape = String::new();
    for c in &all {
        let v = c.variant.clone().expect("kit servers say who they are");
        for s in &c.steps {
            let a = &s.attack;
            assert_eq!((a.errors, a.dropped), (0, 0), "{v}: {s:?}");
            assert_eq!(a.completed, a.requests, "{v}: {s:?}");
            assert!(a.response_time.is_ordered() && s.p50_ms <= s.p99_ms, "{v}: {s:?}");
            assert!(s.achieved_rate <= s.target_rate * 1.05, "{v}: {s:?}");
            if s.kept_up() {
                assert!(s.achieved_rate >= s.target_rate * capacity::KEEP_UP, "{v}: {s:?}");
            }
        }
        // The model's t is the server's own handler time: one or two waits of 50 ms.
        let waits = if c.slots.is_some() { 2.0 } else { 1.0 };
        assert!((0.05 * waits..0.05 * waits * 1.5).contains(&c.t_s), "{v}: t = {}", c.t_s);
        let held = c.last_held();
        let sat = c.saturated_at().map(|s| s.target_rate);
        let between = match (c.predicted_rate, sat) {
            (Some(p), Some(sat)) => {
                // Saturated: it achieved about s/t, the prediction.
                let achieved = c.saturated_at().unwrap().achieved_rate;
                assert!((achieved / p - 1.0).abs() < 0.25, "{v}: achieved {achieved} vs s/t {p}");
                format!("{}", held.unwrap_or(0.0) < p && p <= sat)
            }
            (None, None) => "unbounded slots, never saturated".into(),
            other => panic!("{v}: unexpected {other:?}: {}", c.explain(2)),
        };
        shape.push_str(&format!(
            "{v}: slots {}, held up to {}, saturated at {}, s/t between them: {between}\n",
            c.slots.map_or("unbounded".into(), |s| s.to_string()),
            held.map_or("none".into(), |r| format!("{r}/s")),
            sat.map_or("none".into(), |r| format!("{r}/s")),
        ));
    }
    let mut rows = kit::commands::capacity::rows(&all);
    let col = |name: &str| {
        kit::commands::capacity::HEADERS
            .iter()
            .position(|h| h.starts_with(name))
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    for row in &mut rows {
        for c in [col("achieved"), col("p99"), col("in flight"), col("λ x W")] {
            row[c] = "[measured]".into();
        }
        let model = col("slot model");
        if row[model].contains(" / ") {
            let slots = row[model].split(' ').next().unwrap_or_default().to_string();
            row[model] = format!("{slots} / [t] = [s/t]");
        }
    }
    let table = kit_measure::table::grid(&kit::commands::capacity::HEADERS, &rows);
    insta::assert_snapshot!(format!("{shape}\n{table}"));
}

fn kit() -> assert_cmd::Command {
    let mut cmd =
        assert_cmd::Command::cargo_bin("kit").expect("cargo builds the kit binary for tests");
    cmd.timeout(Duration::from_secs(30));
    cmd
}

#[test]
fn kit_capacity_writes_its_files_and_refuses_bad_input() {
    let _turn = crate::common::measuring_alone();
    use predicates::prelude::*;
    let server = start("async-native", 20);
    let dir = std::env::temp_dir().join(format!("kit-capacity-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    kit()
        .args([
            "capacity",
            &format!("{}/parallel", server.url),
            "--start",
            "20",
            "--steps",
            "2",
            "--step",
            "400ms",
            "--out",
        ])
        .arg(&dir)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("| async-native")
                .and(predicate::str::contains("Little's law")),
        );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("capacity.json")).unwrap()).unwrap();
    let steps = json["capacities"][0]["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 2, "{json}");
    assert_eq!(steps[1]["target_rate"].as_f64(), Some(40.0), "{json}");
    for name in ["capacity.md", "capacity.png", "capacity.svg"] {
        assert!(std::fs::metadata(dir.join(name)).unwrap().len() > 100, "{name}");
    }
    let (html, charts) = crate::common::assert_report_html(&dir);
    assert_eq!(charts, 1);
    assert!(
        html.contains("<td>async-native</td>") && html.contains("Little&#39;s law"),
        "{html:.3000}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    kit().args(["capacity"]).assert().code(2).stderr(predicate::str::contains("<URL>"));
    kit().args(["capacity", "http://x/", "--all"]).assert().code(2);
    kit()
        .args(["capacity", "http://127.0.0.1:1/parallel", "--out", dir.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is the server running?"));
    kit()
        .args(["capacity", "http://127.0.0.1:1/", "--factor", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("above 1"));
}

/// `kit seed` at a quarter of the original rates and io 50 ms: the
/// wrapper's 4 slots of 100 ms hold 40/s, so 100/s offered saturates it and
/// it achieves about s/t; the story says so from the numbers.
#[test]
fn kit_seed_tells_the_wrappers_slots() {
    let _turn = crate::common::measuring_alone();
    let dir = std::env::temp_dir().join(format!("kit-seed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = kit()
        .args(["seed", "--scale", "0.25", "--duration", "1s", "--io-ms", "50", "--out"])
        .arg(&dir)
        .timeout(Duration::from_secs(60))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("blocking-wrapper on /parallel: 4 slots of")
            && text.contains("measures the machine"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("seed.json")).unwrap()).unwrap();
    let runs = json["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 4, "{json}");
    let wrapper = runs
        .iter()
        .find(|r| r["variant"] == "blocking-wrapper" && r["path"] == "/parallel")
        .expect("the wrapper on /parallel");
    let step = &wrapper["steps"][0];
    assert_eq!(step["target_rate"].as_f64(), Some(100.0), "{step}");
    let (achieved, predicted) =
        (step["achieved_rate"].as_f64().unwrap(), wrapper["predicted_rate"].as_f64().unwrap());
    assert!((predicted - 40.0).abs() < 8.0, "s/t = {predicted}");
    assert!(
        achieved < 0.95 * 100.0 && (achieved / predicted - 1.0).abs() < 0.3,
        "achieved {achieved} vs s/t {predicted}"
    );
    assert!(step["saturated"].is_string(), "{step}");
    // Every run's requests, each counted once: 2xx + other answers + no answer == sent,
    // and achieved counts the 2xx alone.
    for run in runs {
        let a = &run["steps"][0]["attack"];
        let sum = |key: &str| {
            a[key]
                .as_object()
                .unwrap_or_else(|| panic!("{key}: {a}"))
                .values()
                .map(|v| v.as_u64().unwrap())
                .sum::<u64>()
        };
        let two_xx: u64 = a["status_counts"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(s, _)| s.starts_with('2'))
            .map(|(_, n)| n.as_u64().unwrap())
            .sum();
        assert_eq!(sum("status_counts"), a["completed"].as_u64().unwrap(), "{a}");
        assert_eq!(
            sum("status_counts") + sum("error_kinds"),
            a["requests"].as_u64().unwrap(),
            "{a}"
        );
        assert_eq!(a["ok"].as_u64(), Some(two_xx), "{a}");
    }
    // The story's sum, on the page, adds up to what was sent.
    let sent = step["attack"]["requests"].as_u64().unwrap();
    let wrapper_line = text
        .lines()
        .find(|l| l.starts_with("- blocking-wrapper on /parallel"))
        .expect("the wrapper's story");
    assert!(wrapper_line.contains(&format!("of {sent} requests sent, ")), "{wrapper_line}");
    if wrapper_line.contains(" were answered 2xx, ")
        || wrapper_line.contains(" were answered 2xx and ")
    {
        assert!(wrapper_line.contains(&format!(" = {sent})")), "{wrapper_line}");
    }
    // Side by side over time: one column per run, one row per interval, and
    // each run's charts as `kit attack --out` draws them.
    let table =
        text.split("Over time:").nth(1).unwrap_or_else(|| panic!("no time series in:\n{text}"));
    assert!(
        table.contains("| blocking-wrapper /parallel |")
            && table.contains("| async-native /health |"),
        "{table}"
    );
    let intervals = step["attack"]["series"]["intervals"].as_array().expect("the wrapper's series");
    let rows = table.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| from")).count();
    assert!(
        !intervals.is_empty() && rows >= intervals.len(),
        "{rows} rows for {} intervals:\n{table}",
        intervals.len()
    );
    for run in [
        "blocking-wrapper-health",
        "blocking-wrapper-parallel",
        "async-native-health",
        "async-native-parallel",
    ] {
        let png = dir.join(format!("seed-{run}")).join("attack-throughput.png");
        assert!(
            std::fs::metadata(&png).map(|m| m.len() > 1000).unwrap_or(false),
            "{} missing",
            png.display()
        );
    }
    // One page: the tables, the story, and the four runs' four charts each.
    let (html, charts) = crate::common::assert_report_html(&dir);
    assert_eq!(charts, 16);
    assert!(
        html.contains("<figcaption>seed-blocking-wrapper-parallel/attack-throughput</figcaption>")
            && html.contains("<li>blocking-wrapper on /parallel: 4 slots of")
            && html.contains("<th>from (s)</th>"),
        "{html:.5000}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A full queue's fast 503s are errors, never achieved: the wrapper with 1
/// app thread and 2 queue places at io 50 ms (/parallel: 100 ms each, so
/// s/t = 10/s) offered 100/s for 1 s answers most of them 503 at once. The
/// old count called every answer achieved (about 100/s); the 2xx alone are
/// about s/t. The exact partner: the 2xx counted from `status_counts`, and
/// every request sent accounted for once.
#[test]
fn kit_attack_and_capacity_count_only_2xx_as_achieved() {
    let _turn = crate::common::measuring_alone();
    let bin = sibling_binary("blocking-wrapper").unwrap_or_else(|e| panic!("{e}"));
    let args = ["--io-ms", "50", "--workers", "1", "--queue", "2"].map(String::from);
    let server = Server::start(bin, &args).unwrap_or_else(|e| panic!("{e}"));
    let url = format!("{}/parallel", server.url);
    let a =
        crate::common::kit_json(&["attack", &url, "--rate", "100", "--duration", "1s", "--json"]);
    let count = |status: &str| a["status_counts"][status].as_u64().unwrap_or(0);
    let failed: u64 =
        a["error_kinds"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    let (requests, ok) = (a["requests"].as_u64().unwrap(), a["ok"].as_u64().unwrap());
    assert_eq!(requests, 100, "{a}");
    assert_eq!(ok, count("200"), "{a}");
    assert_eq!(ok + count("503") + failed, requests, "{a}");
    // 1 slot + 2 places of 100 ms cannot take 100/s: most are refused at once.
    assert!(count("503") >= 50 && ok <= 30, "{a}");
    // Achieved is the 2xx: about s/t = 10/s (generous band), never the 100/s of answers.
    let achieved = a["achieved_rate"].as_f64().unwrap();
    assert!(achieved <= 20.0, "achieved {achieved}/s from {ok} 2xx: {a}");
    assert!((achieved - ok as f64 / a["elapsed_s"].as_f64().unwrap()).abs() < 1e-6, "{a}");
    // The person's summary adds up on the page.
    let text = kit()
        .args(["attack", &url, "--rate", "100", "--duration", "1s", "--no-tui"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&text);
    assert!(
        text.contains("(2xx answers)")
            && text.contains("answered 503")
            && text.contains(" = 100\n"),
        "{text}"
    );
    // The same in a capacity step: the step fails on its 503s, named, and achieves about s/t.
    let c = crate::common::kit_json(&[
        "capacity", &url, "--start", "100", "--steps", "1", "--step", "1s", "--json",
    ]);
    let cap = &c["capacities"][0];
    let step = &cap["steps"][0];
    assert_eq!(cap["queue"].as_u64(), Some(2), "{cap}");
    assert!(step["saturated"].as_str().unwrap_or_default().contains("x 503"), "{step}");
    assert!(step["achieved_rate"].as_f64().unwrap() <= 20.0, "{step}");
}
