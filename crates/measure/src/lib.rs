//! # kit-measure: what the grade and the kit's tests need
//!
//! Starting servers as real processes, loading them over real HTTP, and
//! judging what came back against the slot model. Every exercise's and
//! solution's grade (`cargo test --release` in its folder) uses it, as a
//! dev-dependency only, and so do the kit's tests; it compiles nothing for
//! the load generators, which live in kit-load (crates/load) on top of
//! [`client`].
//!
//! ## Layout, by who needs it
//! The grade (what an exercise's `cargo test` compiles and runs):
//! - [`grade`]: the learners' five checks, one implementation for every
//!   exercise; [`grade::failure`]: what a failed check says.
//! - [`pool_grade`], [`database`]: the pool exercise's checks, and the
//!   PostgreSQL they need (`KIT_DATABASE_URL`).
//! - [`lock_grade`]: the lock exercise's checks (a price cache in front
//!   of the kit's upstream).
//! - [`fanout_grade`]: the fan-out exercise's checks: a basket's calls to a
//!   pricing service with a limit, counted by the service.
//! - [`timeout_grade`]: the timeout exercise's checks, while the service
//!   its server calls hangs.
//! - [`calls`]: what the grades of exercises that call a service share:
//!   the kit's upstream beside the server, its own count of calls.
//! - [`harness`]: start a server process on port 0, kill it on drop; `Target` and `Remote`.
//! - [`burst`]: N concurrent requests, one connection each, with the server's metrics around them.
//! - [`probe`]: /health latency while /cpu-intensive saturates the cores.
//! - [`conformance`]: does a running server keep the contract?
//! - [`slots`]: the slot model and the measured `Row`.
//! - [`rounds`]: slots from outside: a burst's answers read as rounds of s,
//!   one every t (`kit slots`).
//! - [`expect`]: assertions in slot language, paired time + exact checks.
//! - [`latency`]: hdrhistogram recording and percentile summaries.
//!
//! The HTTP client, shared by the grade and by kit-load's generators:
//! - [`client`]: the URL parser, failure names, the progress hook, and two
//!   HTTP/1.1 clients: [`client::hyper_conn`] (one hyper connection at a
//!   time: the CPU probe, bench, attack) and [`client::raw`] (the burst's
//!   GET written and read by hand).
//!
//! For the kit's reports (not the grade; no dependency of its own):
//! - [`table`]: measured rows as an aligned Markdown table (the race,
//!   report.md, and the servers' snapshot test), beside the `Row` it renders.

pub mod burst;
pub mod calls;
pub mod client;
pub mod conformance;
pub mod database;
pub mod exercises;
pub mod expect;
pub mod fanout_grade;
pub mod grade;
pub mod harness;
pub mod latency;
pub mod lock_grade;
pub mod pool_grade;
pub mod probe;
pub mod process_watch;
pub mod rounds;
pub mod slots;
pub mod table;
pub mod timeout_grade;
