//! What a backpressure check says: the run in the lesson's numbers
//! (offered, capacity, achieved, in flight, Little's law, the gateway's
//! exact counts), what they mean for the hint each failure names, and the
//! void verdict that names none.

use std::time::Duration;

use kit_measure::grade::failure::{fail, Next};

use super::{
    capacity, longest_line, most_inside, t, Run, Steady, CALL_MS, GATEWAY_CONNECTIONS, PATIENCE,
    STEADY_FROM,
};

/// A check on a run that offered less than asked fails without a hint: it
/// measured the machine.
pub(super) fn fail_if_lighter(check: &str, run: &Run) {
    if let Some(why) = run.lighter() {
        void(check, run, &why);
    }
}

/// A failure that names a hint, unless the run is void ([`Run::void`]).
pub(super) fn blame(check: &str, run: &Run, what: &str, detail: &str, hint: u32) -> ! {
    if let Some(why) = run.void() {
        void(check, run, &why);
    }
    fail(what, detail, Next::Hint(hint))
}

fn void(check: &str, run: &Run, why: &str) -> ! {
    fail(
        &format!("{check}: the measurement is void, and says nothing about your server"),
        &format!(
            "  {why}.\n  measured anyway: {}\n  meaning: an open-loop grade is only as good as its schedule; \
             judged on this run, a server could fail for the machine's sake.",
            figures(run, &run.steady(steady_from(run)))
        ),
        Next::Setup(
            "run the grade again on a quieter machine (let a build or another test run finish first).",
        ),
    )
}

fn steady_from(run: &Run) -> Duration {
    if run.rate > capacity() {
        STEADY_FROM
    } else {
        Duration::ZERO
    }
}

/// One line of what the client measured in the window.
fn figures(run: &Run, s: &Steady) -> String {
    let p99 = |n: u64, ms: f64, (open, close): (&str, &str)| {
        if n > 0 {
            format!("{open}p99 {ms:.0} ms{close}")
        } else {
            String::new()
        }
    };
    format!(
        "{:.0}/s for {:.0} s; of the {} requests due from {:.0} s to {:.0} s: {} x 200 in time \
         ({:.1}/s{}), {} x 5xx{}, {} gave up after {:.0} s (statuses over the whole run: {:?}, {} of {} sent late)",
        run.rate,
        run.duration.as_secs_f64(),
        s.due,
        run.duration.as_secs_f64() - s.window_s,
        run.duration.as_secs_f64(),
        s.ok,
        s.goodput(),
        p99(s.ok, s.ok_p99_ms, (", ", "")),
        s.server_errors,
        p99(s.server_errors, s.shed_p99_ms, (" (", ")")),
        s.timeouts,
        PATIENCE.as_secs_f64(),
        run.attack.status_counts,
        run.attack.late,
        run.attack.requests
    )
}

/// What the run measured, in the lesson's numbers: offered, capacity,
/// achieved, in flight and Little's law, and the gateway's exact count.
pub(super) fn report(run: &Run, s: &Steady) -> String {
    let inside = match &run.little {
        Ok(l) => format!(
            "{:.1} requests inside the server on average (in_flight sampled {} times every 20 ms, at most {}); \
             Little's law: {:.1}/s leaving the handler (answered, or dropped when the client left) x {:.0} ms \
             each in it = {:.1} ({})",
            l.measured_in_flight,
            l.window.samples,
            l.window.max_in_flight,
            l.throughput,
            l.handler_mean_s * 1000.0,
            l.predicted_in_flight,
            l.verdict()
        ),
        Err(why) => format!("not sampled: {why}"),
    };
    format!(
        "  offered: {}; each client waits {:.0} s at most (its patience)\n  \
         capacity: the gateway's {GATEWAY_CONNECTIONS} connections, {CALL_MS} ms a call{}: s / t = \
         {GATEWAY_CONNECTIONS} / {:.2} s = {:.1}/s\n  \
         in flight: {inside}\n  \
         the gateway counted (exact): {} calls, at most {} at once, {} hung up by a client who had left",
        figures(run, s),
        PATIENCE.as_secs_f64(),
        call_time(run),
        t().as_secs_f64(),
        capacity(),
        run.calls.total,
        run.calls.peak_in_flight,
        run.calls.hung_up
    )
}

/// The gateway's own time per call beside the 250 ms, and why it is
/// shorter when calls were hung up.
fn call_time(run: &Run) -> String {
    match (run.gateway_call_ms, run.calls.hung_up) {
        (None, _) => String::new(),
        (Some(ms), 0) => format!(" (measured by the gateway: {ms:.0} ms per call on average)"),
        (Some(ms), hung_up) => format!(
            " (measured by the gateway: {ms:.0} ms per call on average, the {hung_up} calls hung up cut short)"
        ),
    }
}

/// The hint for a run that kept too many, or too few: shedding nothing is
/// hint 1; shedding while the gateway stands idle is hint 5; shedding, but
/// too late, is hint 2.
pub(super) fn hint_for(run: &Run, s: &Steady) -> u32 {
    let gateway_could = capacity() * run.duration.as_secs_f64();
    if s.server_errors == 0 {
        1
    } else if (run.calls.total as f64) < 0.5 * gateway_could {
        5
    } else {
        2
    }
}

pub(super) fn meaning(run: &Run, s: &Steady, hint: u32) -> String {
    let little = run.little.as_ref().ok();
    match hint {
        1 => format!(
            "  meaning: nothing was turned away, so every request stood in one line for a connection. {} \
             The gateway was busy all along ({} calls), but {} of them were hung up because their client had \
             already left: work done for nobody. Past {:.0}/s a line without a bound only grows, until the \
             clients' patience is the bound and everyone waits it out.",
            little.map_or(String::new(), |l| format!(
                "By Little's law, {:.1} inside / {:.1}/s leaving = {:.2} s each in the server, against a patience of {:.0} s.",
                l.measured_in_flight,
                l.throughput,
                if l.throughput > 0.0 { l.measured_in_flight / l.throughput } else { f64::NAN },
                PATIENCE.as_secs_f64()
            )),
            run.calls.total,
            run.calls.hung_up,
            capacity()
        ),
        5 => format!(
            "  meaning: {} requests were turned away while the gateway stood mostly idle: it took {} calls in {:.0} s \
             where it could take {:.0}. Shed only what the gateway cannot serve in time.",
            s.server_errors,
            run.calls.total,
            run.duration.as_secs_f64(),
            capacity() * run.duration.as_secs_f64()
        ),
        _ => format!(
            "  meaning: the server turned {} away, but kept too many: a request behind n others waits n / {GATEWAY_CONNECTIONS} \
             x {CALL_MS} ms, so within a patience of {:.0} s at most {GATEWAY_CONNECTIONS} x ({:.0} s - {CALL_MS} ms) / \
             {CALL_MS} ms = {} may wait, and the server holds at most {} ({GATEWAY_CONNECTIONS} calling + {} waiting). \
             A longer line, or a longer wait, only delays the same 503 past the client's patience.",
            s.server_errors,
            PATIENCE.as_secs_f64(),
            PATIENCE.as_secs_f64(),
            longest_line(),
            most_inside(),
            longest_line()
        ),
    }
}
