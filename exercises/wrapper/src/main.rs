//! Exercise: the wrapper. (`cd exercises/wrapper && cargo test --release` is your grade.)
//!
//! Story: the shop's blocking app (crates/blocking/src/app.rs, the same
//! file sync-blocking runs) was too slow, so the team put an async front
//! end in front of it: every request is converted and handed to the app on
//! 4 dedicated app threads, and the front end awaits the answer. The front
//! end is never busy now, yet 100 people at once still wait 25 seconds.
//!
//! Your task: make this server behave like a native async server while
//! keeping every response exactly as it is. Work in this file, at the
//! `// TODO` markers; leave app.rs and bridge.rs alone (sync-blocking and
//! blocking-wrapper still run them).
//! Run `cargo test --release` here after each change: the failure tells you what was
//! measured, what the slot model makes of it, and which hint to read next
//! (HINTS.md). Done means all five checks pass.
//!
//! Run it by hand: `cargo run -- --port 5003`, then `curl localhost:5003/parallel`.

use clap::Parser;
use kit_blocking::app::App;
use kit_blocking::bridge;
use kit_serve::config::CommonArgs;
use kit_serve::metrics::Slots;
use kit_serve::net;
use kit_serve::serve::{Routes, Server};

const VARIANT: &str = "exercise-wrapper";

#[derive(Parser)]
#[command(about = "Async front end, blocking app behind it: N app threads = N slots")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// Dedicated app threads running the blocking app: this server's slot count.
    #[arg(long, env = "KIT_WORKERS", default_value_t = 4,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    workers: u64,
    /// Requests that may wait for a free app thread; beyond that the front
    /// end answers 503 at once. A queue is not a slot: see bridge.rs.
    #[arg(long, env = "KIT_QUEUE", default_value_t = bridge::DEFAULT_QUEUE,
          value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    queue: u64,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    let server = Server::new(VARIANT, &args.common)
        .knob("workers", args.workers)
        .knob("queue", args.queue)
        // TODO: this declares the server's slots in /metrics: `Slots::Threads(n)`
        // while every wait holds one of n threads. Once the waits yield, the
        // slots are no longer bounded by threads: declare `Slots::Unbounded`.
        .slots(Slots::Threads(args.workers))
        .listen()?;
    let (jobs, app_threads) = bridge::start(App::new(server.ctx()), args.workers, args.queue);
    // The wrapper: the front end answers /metrics itself; every other
    // request, converted, crosses the bridge to an app thread (bridge.rs).
    // Nothing here blocks, and that is not enough.
    // TODO: every request that crosses the bridge waits for one of the app
    // threads, and an app thread sleeps through each wait. Which requests
    // really need an app thread?
    let routes = Routes::new().rest_to_app(bridge::route(jobs));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let served = runtime.block_on(server.serve(routes));
    // Dropping the runtime drops the last job sender, so the app threads
    // finish: each ends its job in progress and skips the queued ones, whose
    // clients are gone with the runtime (after a drain timeout).
    drop(runtime);
    for thread in app_threads {
        let _ = thread.join();
    }
    served
}
