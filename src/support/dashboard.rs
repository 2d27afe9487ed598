//! `kit attack`'s live dashboard: what jaggr and jplot showed for vegeta in
//! the original demo, drawn with ratatui while the attack runs.
//!
//! Four panels over the attack's intervals: throughput target (the
//! requests due: it follows a `--rate FROM..TO` ramp) vs sent vs achieved,
//! response time p50 and p99, requests in flight (the client's count and the
//! server's own, where it is a kit server), and errors. `q`, Esc or Ctrl-C
//! stops the sending; the requests in flight finish and the summary prints as
//! usual. The terminal is restored on every way out, a panic included
//! (ratatui's panic hook).
//!
//! The attack runs on a thread with its own runtime; this thread only
//! reads its [`LiveView`] and draws, so a slow terminal never delays a send.
//! [`draw`] is a pure function of the view: the snapshot test renders fixed
//! data.

use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Sparkline};
use ratatui::{DefaultTerminal, Frame};

use kit_load::attack::{self, AttackOptions, AttackResult};
use kit_load::intervals::Interval;
use kit_load::live::{Live, LiveView};
use kit_load::sampler;

use super::client;
use crate::error::{CliError, Result};

/// Between redraws, and the longest a key waits to be seen: several
/// redraws a second, as the attack publishes its view ten times a second.
const REDRAW: Duration = Duration::from_millis(100);

const TARGET: Color = Color::Gray;
const SENT: Color = Color::Cyan;
const ACHIEVED: Color = Color::Green;
const P50: Color = Color::Yellow;
const P99: Color = Color::Red;
const SERVER: Color = Color::Magenta;

/// Runs the attack with the dashboard on the terminal, and returns its result.
pub fn attack(opts: &AttackOptions) -> Result<AttackResult> {
    // The screen first: setting it up must not take CPU from the attack's
    // first, most demanding second (every connection is opened then).
    let mut terminal = ratatui::try_init().map_err(|e| {
        ratatui::restore();
        CliError::Failed(format!(
            "cannot set up the live dashboard ({e}); --no-tui runs without it"
        ))
    })?;
    let live = Live::new();
    let worker = {
        let (live, opts) = (live.clone(), opts.clone());
        std::thread::spawn(move || client::block_on(attack::run_with(&opts, None, Some(&live))))
    };
    let shown = watch(&mut terminal, &live, &worker);
    ratatui::restore();
    if shown.is_err() {
        // No screen to show it on: do not keep loading a server unseen.
        live.stop();
    }
    let result = worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    shown.map_err(|e| {
        CliError::Failed(format!("the live dashboard failed ({e}); --no-tui runs without it"))
    })?;
    result.map_err(|e| CliError::Failed(e.to_string()))
}

/// Draws until the attack's thread ends; a key stops the sending.
fn watch(
    terminal: &mut DefaultTerminal,
    live: &Live,
    worker: &std::thread::JoinHandle<impl Sized>,
) -> std::io::Result<()> {
    while !worker.is_finished() {
        let view = live.view();
        terminal.draw(|f| draw(f, &view, live.stopped()))?;
        if event::poll(REDRAW)? {
            if let Event::Key(key) = event::read()? {
                let ctrl_c =
                    key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
                if key.kind == KeyEventKind::Press
                    && (ctrl_c || matches!(key.code, KeyCode::Char('q') | KeyCode::Esc))
                {
                    live.stop();
                }
            }
        }
    }
    Ok(())
}

/// The whole dashboard for one view. `asked_to_stop`: a key was pressed.
pub fn draw(frame: &mut Frame, view: &LiveView, asked_to_stop: bool) {
    let [head, top, bottom] =
        Layout::vertical([Constraint::Length(5), Constraint::Fill(1), Constraint::Fill(1)])
            .areas(frame.area());
    frame.render_widget(header(view, asked_to_stop), head);
    let [throughput, latency] = Layout::horizontal([Constraint::Fill(1); 2]).areas(top);
    let [in_flight, errors] = Layout::horizontal([Constraint::Fill(1); 2]).areas(bottom);
    let iv = &view.intervals;
    let rate = |f: fn(&Interval) -> f64| points(iv, f);
    // Achieved is the 2xx alone, and so are the latencies: a full queue's
    // fast 503s are errors (their own panel), not fast answers.
    // The target first, so that sent, drawn over it, hides it where the
    // sender kept to the plan and it shows where it did not.
    let target = rate(Interval::target_rate);
    let (sent, achieved) = (rate(Interval::sent_rate), rate(Interval::ok_rate));
    line_chart(
        frame,
        throughput,
        "throughput per interval (req/s)",
        &[
            ("target", TARGET, &target),
            ("sent", SENT, &sent),
            ("achieved (2xx)", ACHIEVED, &achieved),
        ],
        view,
    );
    let (p50, p99) =
        (points(iv, |i| i.ok_response_time.p50_ms), points(iv, |i| i.ok_response_time.p99_ms));
    line_chart(
        frame,
        latency,
        "response time of the 2xx, from due (ms)",
        &[("p50", P50, &p50), ("p99", P99, &p99)],
        view,
    );
    let client = points(iv, |i| i.in_flight as f64);
    let server: Vec<(f64, f64)> =
        iv.iter().filter_map(|i| Some((i.end_s, i.server.as_ref()?.mean_in_flight))).collect();
    line_chart(
        frame,
        in_flight,
        "in flight at interval end",
        &[("client", SENT, &client), ("server (mean)", SERVER, &server)],
        view,
    );
    let counts: Vec<u64> = iv.iter().map(|i| i.errors).collect();
    let title = format!("errors per interval (failures, 5xx): {} so far", view.errors);
    let sparkline = Sparkline::default()
        .block(Block::bordered().title(title))
        .data(counts)
        .style(Style::new().fg(P99));
    frame.render_widget(sparkline, errors);
}

/// Each interval's value at its end.
fn points(intervals: &[Interval], value: fn(&Interval) -> f64) -> Vec<(f64, f64)> {
    intervals.iter().map(|i| (i.end_s, value(i))).collect()
}

fn header(view: &LiveView, asked_to_stop: bool) -> Paragraph<'static> {
    let state = if view.stopping || asked_to_stop {
        format!("sending over: waiting for {} in flight", view.in_flight)
    } else {
        "q or Ctrl-C: stop sending (the summary still prints)".to_string()
    };
    let sent_rate = if view.elapsed_s > 0.0 {
        view.sent as f64 / view.elapsed_s.min(view.duration_s).max(1e-9)
    } else {
        0.0
    };
    let server = match &view.server_now {
        Some(s) => {
            let lag = s.executor_lag_ms.map_or("no runtime".to_string(), |l| format!("{l:.1} ms"));
            // RSS and descriptors: a leak is seen climbing while it runs.
            let rss = s.rss_bytes.map_or("not read".to_string(), sampler::mib_text);
            let fds = s.open_fds.map_or("not read".to_string(), |n| n.to_string());
            format!(
                "server: in flight {}, executor lag {lag}, RSS {rss}, descriptors {fds} ({})",
                s.in_flight, view.server
            )
        }
        None => format!("server: {}", view.server),
    };
    let lines = vec![
        Line::from(format!(
            "sent {} ({sent_rate:.1}/s)   answered {} (2xx {})   in flight {}   errors {}   late {}",
            view.sent, view.answered, view.ok, view.in_flight, view.errors, view.late
        )),
        Line::from(server),
        Line::from(state),
    ];
    let rate = view.ramp.map_or_else(|| view.target_rate.to_string(), |r| r.to_string());
    let title = format!(
        " kit attack {} at {rate}/s: {:.1} s of {:.1} s ",
        view.url,
        view.elapsed_s.min(view.duration_s),
        view.duration_s
    );
    Paragraph::new(lines).block(Block::bordered().title(title))
}

/// Lines over time, the axes from 0 to the largest value (and to the duration).
/// One line of a chart: its label, its colour and its (x, y) points.
type Series<'a> = (&'a str, Color, &'a [(f64, f64)]);

fn line_chart(frame: &mut Frame, area: Rect, title: &str, lines: &[Series], view: &LiveView) {
    let x_max = view.duration_s.max(view.elapsed_s).max(1e-9);
    // The view holds a window of the latest intervals: start where it starts.
    let x_min = view.intervals.first().map_or(0.0, |i| i.start_s).min(x_max);
    let y_max = lines.iter().flat_map(|(_, _, p)| p.iter().map(|p| p.1)).fold(0.0, f64::max);
    let y_max = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };
    let datasets = lines
        .iter()
        .map(|(name, color, data)| {
            Dataset::default()
                .name(*name)
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::new().fg(*color))
                .data(data)
        })
        .collect();
    let labels = |lo: f64, hi: f64| [lo, (lo + hi) / 2.0, hi].map(fmt_axis);
    let chart = Chart::new(datasets)
        .block(Block::bordered().title(title.to_string()))
        // The legend names the lines; the default hides it in a panel this small.
        .hidden_legend_constraints((Constraint::Percentage(50), Constraint::Percentage(50)))
        .x_axis(Axis::default().title("s").bounds([x_min, x_max]).labels(labels(x_min, x_max)))
        .y_axis(Axis::default().bounds([0.0, y_max]).labels(labels(0.0, y_max)));
    frame.render_widget(chart, area);
}

fn fmt_axis(v: f64) -> String {
    if v >= 100.0 || v == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    use super::*;
    use kit_load::sampler::{ServerInterval, ServerSample};
    use kit_measure::latency::Summary;

    /// An attack at 200/s against a server that keeps up for 3 s, then falls
    /// behind: fixed numbers, so the picture is a pure function of them.
    fn view() -> LiveView {
        let intervals = (0..5u32)
            .map(|i| {
                let slow = i >= 3;
                let answered = if slow { 120 } else { 200 };
                let p50 = if slow { 40.0 + 30.0 * f64::from(i) } else { 1.5 };
                let times = Summary {
                    count: answered,
                    p50_ms: p50,
                    p99_ms: p50 * 4.0,
                    ..Summary::default()
                };
                // Every answer a 2xx; the 3 errors of the last interval got no answer.
                let failed = u64::from(i == 4) * 3;
                Interval {
                    start_s: f64::from(i),
                    end_s: f64::from(i + 1),
                    sent: 200,
                    target: 200,
                    answered,
                    ok: answered,
                    server_errors: 0,
                    failed,
                    timeouts: failed,
                    errors: failed,
                    late: 0,
                    in_flight: if slow { 80 * u64::from(i - 2) } else { 1 },
                    response_time: times.clone(),
                    ok_response_time: times,
                    buckets: Vec::new(),
                    ok_buckets: Vec::new(),
                    server: Some(ServerInterval {
                        samples: 5,
                        mean_in_flight: if slow { 4.0 } else { 0.4 },
                        max_in_flight: 4,
                        mean_executor_lag_ms: Some(0.2),
                        rss_bytes: Some(14 << 20),
                        open_fds: Some(12),
                    }),
                }
            })
            .collect();
        LiveView {
            url: "http://127.0.0.1:5004/parallel".into(),
            target_rate: 200.0,
            ramp: None,
            duration_s: 10.0,
            elapsed_s: 5.0,
            sent: 1000,
            answered: 840,
            ok: 840,
            errors: 3,
            late: 0,
            in_flight: 160,
            intervals,
            server: "/metrics sampled every 200 ms".into(),
            server_now: Some(ServerSample {
                t_s: 4.9,
                in_flight: 4,
                executor_lag_ms: Some(0.2),
                rss_bytes: Some(14 << 20),
                open_fds: Some(12),
            }),
            stopping: false,
        }
    }

    fn render(view: &LiveView, asked_to_stop: bool) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(110, 32)).unwrap();
        terminal.draw(|f| draw(f, view, asked_to_stop)).unwrap();
        terminal
    }

    #[test]
    fn dashboard_renders_fixed_data() {
        let terminal = render(&view(), false);
        let text = terminal.backend().to_string();
        // The invariants the picture must show, whatever the snapshot says.
        for needle in [
            "sent 1000 (200.0/s)",
            "answered 840",
            "(2xx 840)",
            "in flight 160",
            "errors 3",
            "q or Ctrl-C",
            "executor lag 0.2 ms",
        ] {
            assert!(text.contains(needle), "{needle} missing:\n{text}");
        }
        insta::assert_snapshot!(terminal.backend());
    }

    /// A ramp: the title names its ends and the throughput panel draws
    /// the target, which rises with it, under what was sent.
    #[test]
    fn dashboard_shows_a_ramps_target() {
        let mut v = view();
        v.ramp = Some(attack::Rate::ramp(100.0, 500.0));
        v.target_rate = 300.0;
        for (k, i) in v.intervals.iter_mut().enumerate() {
            i.target = 100 + 40 * k as u64;
            i.sent = i.target;
        }
        let text = render(&v, false).backend().to_string();
        assert!(text.contains("at 100..500/s") && text.contains("target"), "{text}");
        let plain = render(&view(), false).backend().to_string();
        assert!(plain.contains("at 200/s") && plain.contains("target"), "{plain}");
    }

    #[test]
    fn dashboard_says_when_the_sending_is_over() {
        let text = render(&view(), true).backend().to_string();
        assert!(
            text.contains("waiting for 160 in flight") && !text.contains("q or Ctrl-C"),
            "{text}"
        );
        let empty = LiveView { server: "not sampled".into(), ..LiveView::default() };
        let text = render(&empty, false).backend().to_string();
        assert!(text.contains("sent 0 (0.0/s)") && text.contains("server: not sampled"), "{text}");
    }
}
