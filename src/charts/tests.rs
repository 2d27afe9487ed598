//! Chart tests: every file written and decodable, and no panic on odd rows.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use kit_measure::slots::{fill_speedups, SlotModel};

/// A fresh directory per test run: tests run in parallel and may run twice.
fn temp_dir(name: &str) -> PathBuf {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("kit-charts-{name}-{}-{nanos}", std::process::id()))
}

/// What the four servers measure when they behave as the slot model says,
/// plus a few percent of overhead.
fn row(variant: &str, slots: Option<u64>, endpoint: &str, t: f64, n: u64) -> Row {
    let model = SlotModel::new(n, Duration::from_secs_f64(t), slots);
    let model_s = model.predicted().as_secs_f64();
    let total_s = model_s * 1.03 + 0.01;
    let rounds = model.rounds();
    Row {
        variant: variant.to_string(),
        endpoint: endpoint.to_string(),
        concurrency: n,
        total_s,
        rps: n as f64 / total_s,
        p50_ms: 1000.0 * t * (rounds as f64 / 2.0).ceil(),
        p95_ms: 1000.0 * total_s * 0.95,
        p99_ms: 1000.0 * total_s * 0.99,
        max_ms: 1000.0 * total_s,
        errors: 0,
        slots,
        t_s: t,
        rounds,
        model_s,
        measured_slots: model.measured_slots(Duration::from_secs_f64(total_s)),
        peak_in_flight: slots.map_or(n, |s| s.min(n)),
        speedup: None,
    }
}

fn fixture() -> Vec<Row> {
    let variants = [
        ("sync-blocking", Some(4)),
        ("async-trap", Some(4)),
        ("blocking-wrapper", Some(512)),
        ("async-native", None),
    ];
    // (endpoint, t on a blocking variant, t on async-native)
    let endpoints = [
        ("/parallel", 1.0, 0.5),
        ("/multi-io", 0.3, 0.1),
        ("/db-simulation", 0.2, 0.2),
        ("/cpu-intensive", 0.05, 0.05),
    ];
    let mut rows = Vec::new();
    for (endpoint, t_blocking, t_native) in endpoints {
        for (variant, slots) in variants {
            for n in [1, 10, 50, 100] {
                let t = if variant == "async-native" { t_native } else { t_blocking };
                // CPU work gets only as many slots as there are cores.
                let slots = if endpoint == "/cpu-intensive" { Some(2) } else { slots };
                rows.push(row(variant, slots, endpoint, t, n));
            }
        }
    }
    fill_speedups(&mut rows);
    rows
}

/// Checks the PNG signature and reads the size from the IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.len() > 24, "too short for a PNG");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR", "first chunk is IHDR");
    let be =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    (be(16), be(20))
}

fn names(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect()
}

#[test]
fn writes_every_chart_as_png_and_svg() {
    let dir = temp_dir("all");
    let written = write_all(&fixture(), &dir).expect("charts are written");
    let expected: Vec<String> = CHARTS
        .iter()
        .flat_map(|c| [format!("{}.png", c.name()), format!("{}.svg", c.name())])
        .collect();
    assert_eq!(names(&written), expected);
    for path in &written {
        let bytes = std::fs::read(path).expect("written file is readable");
        let summary = path.file_stem().is_some_and(|s| s == "summary");
        if path.extension().is_some_and(|e| e == "png") {
            let want = if summary { SUMMARY_SIZE } else { SIZE };
            assert_eq!(png_size(&bytes), want, "{}", path.display());
            assert!(bytes.len() > 8_000, "{} is only {} bytes", path.display(), bytes.len());
        } else {
            let svg = String::from_utf8(bytes).expect("SVG is UTF-8");
            assert!(svg.contains("<svg"), "{}", path.display());
            assert!(svg.contains("async-native"), "{} names async-native", path.display());
            assert!(!svg.contains("no data"), "{} has data", path.display());
        }
    }
    let totals = std::fs::read_to_string(dir.join("total-vs-model.svg")).unwrap();
    assert!(totals.contains("slot model"));
    assert!(totals.contains("N = 100"));
    // Each bar's label is the table's figure for that total, and the model's.
    let native = fixture()
        .into_iter()
        .find(|r| r.variant == "async-native" && r.endpoint == "/parallel" && r.concurrency == 100)
        .unwrap();
    let label = format!(
        "{} (model {})",
        kit_measure::table::short_seconds(native.total_s),
        kit_measure::table::short_seconds(native.model_s)
    );
    assert!(totals.contains(&label), "no `{label}` on the chart");
    // The speedup and the percentiles, too, as the table prints them.
    let speedup = std::fs::read_to_string(dir.join("speedup.svg")).unwrap();
    let x = format!("{:.1}×", native.speedup.unwrap());
    assert!(speedup.lines().any(|l| l == x), "no `{x}` on the speedup chart");
    let latency = std::fs::read_to_string(dir.join("latency.svg")).unwrap();
    let p99 = kit_measure::table::ms_as_text(native.p99_ms);
    assert!(latency.lines().any(|l| l == p99), "no `{p99}` on the latency chart");
    // The bars wear the variants' colours: the legend names the variants, not one grey "total".
    for variant in VARIANTS {
        assert!(totals.lines().any(|l| l == variant), "the legend lacks {variant}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn single_empty_and_partial_rows_do_not_panic() {
    let full = fixture();
    let one = vec![full[0].clone()];
    let headline_only: Vec<Row> = full
        .iter()
        .filter(|r| {
            r.endpoint == "/parallel" && r.concurrency == 10 && r.variant != "sync-blocking"
        })
        .cloned()
        .collect();
    let mut odd = row("green-threads", Some(8), "/other", 0.25, 20);
    odd.p99_ms = f64::NAN;
    odd.speedup = Some(f64::INFINITY);
    let cases: [(&str, Vec<Row>); 4] =
        [("empty", vec![]), ("one", one), ("headline", headline_only), ("odd", vec![odd])];
    for (name, rows) in cases {
        let dir = temp_dir(name);
        let written = write_all(&rows, &dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Scalability needs two N, endpoints two endpoints; the rest always draw.
        let expected = 2 * (CHARTS.len() - 2);
        assert_eq!(written.len(), expected, "{name}: {:?}", names(&written));
        assert!(
            !names(&written)
                .iter()
                .any(|n| n.starts_with("scalability") || n.starts_with("endpoints")),
            "{name}"
        );
        for path in written.iter().filter(|p| p.extension().is_some_and(|e| e == "png")) {
            png_size(&std::fs::read(path).unwrap());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn the_timeline_draws_one_panel_per_burst() {
    use kit_measure::burst::{Span, Timeline};
    let timeline = |variant: &str, slots: Option<u64>, t: f64| {
        let spans = (0..100u64)
            .map(|i| {
                let round = slots.map_or(1, |s| i / s + 1);
                Span { sent_s: 0.0, answered_s: round as f64 * t * 1.01, ok: true }
            })
            .collect();
        Timeline { variant: variant.into(), endpoint: "/parallel".into(), slots, t_s: t, spans }
    };
    let all = [timeline("sync-blocking", Some(4), 1.0), timeline("async-native", None, 0.5)];
    assert_eq!((all[0].rounds(), all[1].rounds()), (25, 1));
    let dir = temp_dir("timeline");
    let written = write_timeline(&all, &dir).expect("timeline is written");
    assert_eq!(names(&written), ["timeline.png", "timeline.svg"]);
    assert_eq!(png_size(&std::fs::read(&written[0]).unwrap()), timeline::TIMELINE_SIZE);
    let svg = std::fs::read_to_string(&written[1]).unwrap();
    assert!(
        svg.contains("came back in 25 rounds of 1.00 s (the model: 25)"),
        "the staircase is named"
    );
    assert!(svg.contains("came back in 1 round of 0.50 s (the model: 1)"), "one round native");
    // One bar per request in each panel.
    assert!(svg.matches("<rect").count() >= 200, "{} rects", svg.matches("<rect").count());
    // The legend names the rounds' colours.
    assert!(
        svg.contains("round 1: answered at about 1 × t")
            && svg.contains("round 25: at about 25 × t"),
        "no legend"
    );
    assert!(!svg.contains("failed (no answer)"), "no failure, no failure legend");
    write_timeline(&[], &dir).expect("no timelines: no data, no panic");
    assert!(std::fs::read_to_string(dir.join("timeline.svg")).unwrap().contains("no data"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_round_has_one_colour_in_every_timeline_panel() {
    use kit_measure::burst::{Span, Timeline};
    let timeline = |slots: u64| {
        let spans = (0..100u64)
            .map(|i| Span { sent_s: 0.0, answered_s: (i / slots + 1) as f64 * 1.01, ok: i != 0 })
            .collect();
        Timeline {
            variant: format!("{slots} slots"),
            endpoint: "/parallel".into(),
            slots: Some(slots),
            t_s: 1.0,
            spans,
        }
    };
    // 25 rounds on 4 slots, 13 on 8: round 13 is the middle of one and the end of the other.
    let all = [timeline(4), timeline(8)];
    let dir = temp_dir("timeline-colours");
    let written = write_timeline(&all, &dir).expect("timeline is written");
    let svg = std::fs::read_to_string(&written[1]).unwrap();
    let (r, g, b) = timeline::round_color(13, 25).rgb();
    let fill = format!("fill=\"#{r:02X}{g:02X}{b:02X}\"");
    // Round 13: 4 requests on 4 slots, the last 4 of 100 on 8 slots, and its legend swatch.
    assert_eq!(svg.matches(&fill).count(), 4 + 4 + 1, "round 13 is not one colour ({fill})");
    assert!(
        svg.contains("failed (no answer)"),
        "a failed request is black, and the legend says so"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn empty_rows_say_no_data() {
    let dir = temp_dir("nodata");
    write_all(&[], &dir).expect("charts are written");
    let svg = std::fs::read_to_string(dir.join("total-vs-model.svg")).unwrap();
    assert!(svg.contains("no data"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn variants_keep_their_colour_and_order() {
    assert_eq!(variant_color("green-threads"), variant_color("green-threads"));
    assert_ne!(variant_color("sync-blocking"), variant_color("async-native"));
    let order = ordered(&VARIANTS, ["zeta", "async-native", "sync-blocking", "zeta"].into_iter());
    assert_eq!(order, ["sync-blocking", "async-native", "zeta"]);
}
