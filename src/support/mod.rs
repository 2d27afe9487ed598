//! What several subcommands share; none of it is a subcommand.
//!
//! - [`servers`]: the four server binaries: finding them (or building them
//!   when only `kit` was built) and starting one with the kit's knobs.
//! - [`fleet`]: the bursts at several servers at once, one thread per server,
//!   watched from the main thread (progress, Ctrl-C, a server that dies):
//!   `kit race` and `kit report`.
//! - [`progress`]: the live bars on stderr, one per server, while a fleet runs.
//! - [`files`]: what a run leaves in `--out DIR`: report.md, report.json and
//!   the charts; and the `--out` flag itself.
//! - [`html`]: report.html, the run's report as one page that opens
//!   offline: its tables and conclusions, every SVG chart inlined.
//! - [`explain`]: the measured rows explained in slot language, the
//!   conclusion under the table of `kit race` and `kit report`.
//! - [`client`]: the client side of the load subcommands (`kit bench`,
//!   `attack`, `capacity`, `seed`, `stress`, `selfcheck`, `health`): the
//!   client runtime, a live counter, Ctrl-C, URL and duration arguments, and
//!   latency summaries as text. The load generators themselves are
//!   `kit_load::bench` and `kit_load::attack`.
//! - [`dashboard`]: `kit attack`'s live view in the terminal (ratatui).
//! - [`thresholds`]: `--expect 'p99<200ms'` on bench, attack and slots: a
//!   measurement as an exit code.
//! - [`grade_log`]: an exercise's grade as `cargo test --release` prints it,
//!   read line by line, and the grade started: `kit dev check` and `kit learn`.

pub mod client;
pub mod dashboard;
pub mod explain;
pub mod files;
pub mod fleet;
pub mod grade_log;
pub mod html;
pub mod progress;
pub mod servers;
pub mod thresholds;
