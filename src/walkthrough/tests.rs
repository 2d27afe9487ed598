//! The demo's screens at the projector's size, without a server: the steps
//! run on fixed figures (those of the 2-core reference machine), the
//! presenter presses Enter at every prompt, and every screen is checked:
//! no line wider than [`COLUMNS`], no more than [`ROWS`] rows between two
//! presses of Enter. Each step's text is a reviewed snapshot.

use std::io::Cursor;
use std::time::Duration;

use kit_measure::slots::{Row, SlotModel};

use super::steps::{self, BurstFigures, CpuFigures, Lab, COUNT, TITLES};
use super::{wrap, DemoError, DemoOptions, Screen, COLUMNS, ROWS};

/// Figures as the reference machine measured them; `progress_rows`
/// progress lines per burst before the final count, as a log gets them.
struct FixedLab {
    progress_rows: u64,
}

impl Lab for FixedLab {
    fn burst(
        &mut self,
        screen: &mut Screen,
        server: &'static str,
        model: &SlotModel,
    ) -> Result<BurstFigures, DemoError> {
        // (total s, handler ms, peak in flight, lag max ms, peak OS threads)
        let (total_s, handler_ms, peak, lag, threads) = match server {
            "sync-blocking" => (25.07, 1002.0, 4, None, 10),
            "async-trap" => (25.09, 1002.0, 4, Some(19_003.4), 9),
            "blocking-wrapper" => (25.08, 1002.0, 4, Some(1.3), 9),
            _ => (0.514, 502.4, 100, Some(2.1), 3),
        };
        let handler = Duration::from_secs_f64(handler_ms / 1000.0);
        let mut row = Row::fixed(server, "/parallel", *model, total_s, peak);
        row.measured_slots =
            SlotModel { t: handler, ..*model }.measured_slots(Duration::from_secs_f64(total_s));
        for k in 0..self.progress_rows {
            screen.progress(&format!(
                "  ... {:>5} of {} finished, {:4.0} s",
                k * 4,
                model.n,
                (k * 5) as f64
            ))?;
        }
        // What the live progress line leaves on the screen.
        screen.finished(model.n, model.n)?;
        Ok(BurstFigures {
            row,
            handler: Some(handler),
            lag_max_ms: lag,
            peak_threads: Some(threads),
        })
    }

    fn cpu(&mut self, server: &'static str) -> Result<CpuFigures, DemoError> {
        Ok(match server {
            "async-trap" => {
                CpuFigures { health_p50_ms: 512.3, health_p99_ms: 990.7, done: 33, peak_at_once: 4 }
            }
            _ => CpuFigures { health_p50_ms: 0.4, health_p99_ms: 1.9, done: 34, peak_at_once: 2 },
        })
    }

    fn idle(&mut self, server: &'static str) -> Result<Duration, DemoError> {
        Ok(if server == "sync-blocking" {
            Duration::from_millis(1_905)
        } else {
            Duration::from_micros(600)
        })
    }
}

/// The whole demo at the workshop defaults, Enter pressed `presses` times.
fn screen_text(yes: bool, presses: usize) -> String {
    screen_text_with(yes, presses, 0)
}

fn screen_text_with(yes: bool, presses: usize, progress_rows: u64) -> String {
    let opts = DemoOptions { yes, ..DemoOptions::new("unused") };
    let input = "\n".repeat(presses);
    let mut input = Cursor::new(input.into_bytes());
    let mut out = Vec::new();
    let mut screen = Screen::new(&mut input, &mut out, &opts);
    steps::all(&opts, &mut screen, &mut FixedLab { progress_rows }).expect("the fixed demo runs");
    String::from_utf8(out).expect("the demo writes UTF-8")
}

/// The screens the presenter sees: the rows from one Enter to the next
/// prompt, that prompt included (and the rows after the last prompt).
fn screens(text: &str) -> Vec<Vec<&str>> {
    let mut screens = vec![Vec::new()];
    for line in text.lines() {
        screens.last_mut().expect("starts with one").push(line);
        if line.starts_with("press Enter") {
            screens.push(Vec::new());
        }
    }
    screens
}

/// Lines wider than the projector, and screens taller, described.
fn misfits(text: &str) -> Vec<String> {
    let mut bad = Vec::new();
    for line in text.lines() {
        if line.chars().count() > COLUMNS {
            bad.push(format!("{} columns: {line}", line.chars().count()));
        }
    }
    for screen in screens(text) {
        if screen.len() > ROWS {
            bad.push(format!(
                "{} rows, from `{}` to `{}`",
                screen.len(),
                screen[0],
                screen[screen.len() - 1]
            ));
        }
    }
    bad
}

/// The text of step `number`, from its title to the next step's title.
fn step(text: &str, number: usize) -> &str {
    let title = |k: usize| format!("== Step {k} of {COUNT}: {}", TITLES[k - 1]);
    let from = text.find(&title(number)).unwrap_or_else(|| panic!("no step {number} in:\n{text}"));
    let rest = &text[from..];
    let to = if number < COUNT {
        rest.find(&title(number + 1)).unwrap_or(rest.len())
    } else {
        rest.len()
    };
    &rest[..to]
}

#[test]
fn every_screen_of_the_demo_fits_100_columns_and_30_rows() {
    let text = screen_text(false, 100);
    assert!(text.contains("Takeaway: count the slots first"), "the demo did not finish:\n{text}");
    let bad = misfits(&text);
    assert!(bad.is_empty(), "does not fit {COLUMNS}x{ROWS}:\n{}\n\n{text}", bad.join("\n"));
}

#[test]
fn longer_output_than_planned_makes_the_demo_pause_not_scroll() {
    // A log's progress lines (one per 5 s of a 25 s burst), and far more.
    for progress_rows in [5, 24] {
        let text = screen_text_with(false, 100, progress_rows);
        assert!(
            text.contains("Takeaway: count the slots first"),
            "the demo did not finish:\n{text}"
        );
        let bad = misfits(&text);
        assert!(
            bad.is_empty(),
            "{progress_rows} progress rows: does not fit:\n{}\n\n{text}",
            bad.join("\n")
        );
    }
    assert!(
        screen_text_with(false, 100, 24).contains("press Enter to see the rest"),
        "24 rows of progress need a pause"
    );
}

#[test]
fn the_fit_check_fails_on_a_wide_line_and_a_tall_screen() {
    let wide = format!("ok\n{}\n", "x".repeat(COLUMNS + 1));
    assert_eq!(misfits(&wide).len(), 1, "a line of {} columns", COLUMNS + 1);
    let tall = "row\n".repeat(ROWS + 1);
    assert_eq!(misfits(&tall).len(), 1, "{} rows without a prompt", ROWS + 1);
    let paused =
        format!("{}press Enter to go on\n{}", "row\n".repeat(ROWS - 1), "row\n".repeat(ROWS));
    assert!(misfits(&paused).is_empty(), "a prompt starts a new screen");
}

#[test]
fn each_step_result_stays_on_screen_until_enter() {
    let text = screen_text(false, 100);
    for number in 2..=COUNT {
        // The step before is followed by a prompt before this one's title.
        let before = &text[..text.find(&format!("== Step {number} of")).expect("every step")];
        let last = before.trim_end().lines().last().unwrap_or_default();
        assert!(
            last.starts_with("press Enter to go on to step"),
            "step {number} follows `{last}` with no pause"
        );
    }
    // The result of a burst step is on one screen: from the table to the takeaway.
    for number in 2..=5 {
        let result = step(&text, number).split("press Enter to run").nth(1).expect("a run prompt");
        let rows = result.trim_end().lines().count();
        assert!(rows + 2 <= ROWS, "step {number}'s result takes {rows} rows:\n{result}");
        assert!(result.contains("Takeaway"), "{result}");
    }
}

#[test]
fn each_step_shows_each_quantity_once() {
    let text = screen_text(true, 0);
    for number in 2..=5 {
        let result = step(&text, number);
        // The total, the measured slots and the peak are each printed once.
        for what in ["  total ", "  slots ", "  peak_in_flight "] {
            assert_eq!(result.matches(what).count(), 1, "step {number}: `{what}`:\n{result}");
        }
        assert!(
            !result.contains("requests waited at once"),
            "a second figure for the slots:\n{result}"
        );
        assert!(!result.contains("measured 0.514"), "a second figure for the total:\n{result}");
    }
    let native = step(&text, 5);
    assert!(
        native.contains("0.51 s") && native.contains("97.7 (N x time per request / total)"),
        "{native}"
    );
    assert!(
        step(&text, 3).contains("executor lag max: the longest the runtime's heartbeat"),
        "the 19 s is explained"
    );
    assert!(
        step(&text, 6).contains("a total") && step(&text, 6).contains("a peak"),
        "CPU jobs say what they count"
    );
    // Step 8 shows the race's narrow table, not the 250-column one.
    assert!(
        step(&text, 8).contains("| rounds x t ") && !step(&text, 8).contains("| p95 "),
        "{}",
        step(&text, 8)
    );
}

#[test]
fn stops_at_the_first_prompt_the_input_does_not_answer() {
    let text = screen_text(false, 1);
    assert!(text.contains("== Step 2 of"), "{text}");
    assert!(text.trim_end().ends_with("(kit demo --yes runs it without pauses.)"), "{text}");
    assert!(!text.contains("This takes about"), "ran a burst past the end of input:\n{text}");
}

#[test]
fn snapshots_of_every_step_at_100_columns() {
    let text = screen_text(false, 100);
    for number in 1..=COUNT {
        insta::assert_snapshot!(format!("step_{number}"), step(&text, number));
    }
}

#[test]
fn the_docs_count_the_steps_as_the_code_does() {
    const WORDS: [&str; 11] =
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
    assert_eq!(TITLES.len(), COUNT);
    let count = WORDS[COUNT];
    for (file, text) in [("mod.rs", include_str!("mod.rs")), ("steps.rs", include_str!("steps.rs"))]
    {
        for (i, word) in WORDS.iter().enumerate().filter(|(i, _)| *i != COUNT) {
            for form in [
                format!("{word} steps"),
                format!("{} steps", capitalize(word)),
                format!("{i} steps"),
            ] {
                assert!(
                    !text.contains(&form),
                    "{file} says `{form}`; the demo has {count} ({COUNT})"
                );
            }
        }
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[test]
fn wrap_keeps_words_whole_and_lines_short() {
    let lines = wrap("aaa bbb ccc dddddddddd e", 7);
    assert_eq!(lines, ["aaa bbb", "ccc", "dddddddddd", "e"]);
    // A figure keeps its unit.
    assert_eq!(wrap("measured 25.09 s, so", 14), ["measured", "25.09 s, so"]);
}
