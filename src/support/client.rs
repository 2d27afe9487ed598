//! The client side of the subcommands that send load (`kit bench`,
//! `attack`, `capacity`, `seed`, `stress`, `selfcheck`, `health`): a client
//! runtime, a live counter on stderr, Ctrl-C, URLs and durations on the
//! command line ("10s", "500ms", "2m"), and latency summaries as text.
//!
//! The load generators themselves are [`kit_load::bench`] and [`kit_load::attack`].

use std::future::Future;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use kit_measure::client::url::validate_url;
use kit_measure::client::LoadError;
use kit_measure::latency::Summary;
use kit_serve::net;

use crate::error::{CliError, Result};

/// Redraws per second of the live counter.
const REDRAW_HZ: u8 = 10;

/// Runs `work` on a fresh multi-thread runtime (one worker per core: the
/// generator must not be the bottleneck), or stops at Ctrl-C / SIGTERM.
pub fn block_on<F: Future>(work: F) -> Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the client runtime: {e}")))?;
    runtime.block_on(async {
        tokio::select! {
            out = work => Ok(out),
            () = net::shutdown_signal() => Err(CliError::Interrupted),
        }
    })
}

/// A live counter on stderr, drawn only when stderr is a terminal. With a
/// known total it is a bar; otherwise a count that keeps ticking.
pub fn counter(total: Option<u64>, what: &str) -> ProgressBar {
    let bar = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::no_length(),
    };
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr_with_hz(REDRAW_HZ)
    } else {
        ProgressDrawTarget::hidden()
    };
    bar.set_draw_target(target);
    let template = if total.is_some() {
        "{prefix} [{bar:32}] {pos}/{len} {elapsed_precise}"
    } else {
        "{prefix} {pos} requests done {elapsed_precise}"
    };
    // Both templates are constants known to parse.
    bar.set_style(
        ProgressStyle::with_template(template).expect("valid template").progress_chars("=> "),
    );
    bar.set_prefix(what.to_string());
    bar
}

/// A URL argument, checked as clap parses it: a malformed URL (`htp://x`,
/// a port of 99999) is a bad argument, exit 2 with the reason, like any
/// other bad value. A well-formed URL where nothing answers is a failed
/// run instead (exit 1), found when the command connects.
pub fn parse_url(text: &str) -> std::result::Result<String, String> {
    match validate_url(text) {
        Ok(_) => Ok(text.trim().to_string()),
        // clap already says "invalid value 'URL'": only the reason is new.
        Err(LoadError::InvalidUrl { reason, .. }) => {
            Err(format!("{reason} (expected something like http://127.0.0.1:3000/health)"))
        }
        Err(other) => Err(other.to_string()),
    }
}

/// "10s", "1.5s", "500ms", "2m", or a bare number of seconds.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 =
        number.parse().map_err(|_| format!("'{text}' is not a duration (try 10s, 500ms or 2m)"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        other => return Err(format!("unknown unit '{other}' in '{text}' (use ms, s or m)")),
    };
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("'{text}' must be more than 0"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// "p50 1.2 ms  p90 ...  max ..." for one summary.
pub fn percentiles(s: &Summary) -> String {
    let ms = |v: f64| {
        if v >= 1000.0 {
            format!("{:.2} s", v / 1000.0)
        } else {
            format!("{v:.2} ms")
        }
    };
    format!(
        "p50 {}  p90 {}  p95 {}  p99 {}  max {}  (n = {})",
        ms(s.p50_ms),
        ms(s.p90_ms),
        ms(s.p95_ms),
        ms(s.p99_ms),
        ms(s.max_ms),
        s.count
    )
}

/// `{200: 95, 503: 5}` as "200 x 95, 503 x 5".
pub fn counts<K: std::fmt::Display>(map: &std::collections::BTreeMap<K, u64>) -> String {
    if map.is_empty() {
        return "none".into();
    }
    map.iter().map(|(k, n)| format!("{k} x {n}")).collect::<Vec<_>>().join(", ")
}

/// A result as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Failed(format!("cannot write JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{parse_duration, parse_url};
    use std::time::Duration;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url(" http://127.0.0.1:5004/health "),
            Ok("http://127.0.0.1:5004/health".to_string())
        );
        let err = parse_url("htp://x").unwrap_err();
        assert!(
            err.starts_with("unsupported scheme 'htp:'")
                && err.contains("http://127.0.0.1:3000/health"),
            "{err}"
        );
        assert!(parse_url("http://127.0.0.1:99999/").unwrap_err().contains("bad port '99999'"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("10h").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
