//! blocking-wrapper: an async front end around the unchanged blocking app.
//!
//! The Python twin is Flask wrapped by `WsgiToAsgi` under uvicorn. The front
//! end is a single-threaded axum server, like one uvicorn event loop. It
//! converts every request into a plain (method, url) job and hands it to the
//! blocking app (the very same app.rs that sync-blocking runs: the crate
//! kit-blocking) on `--workers` dedicated app threads, like asgiref's
//! thread-sensitive executor. Then it awaits the answer without blocking.
//!
//! What that buys: the front end never stalls (its executor lag stays small,
//! and /metrics answers at once). What it does not buy: slots. The app still
//! blocks a thread per request, so 100 x /parallel on 4 app threads is still
//! 25 rounds of 1 s. The conversion costs microseconds; the wait costs seconds.
//!
//! Run: `cargo run --release --bin blocking-wrapper -- --port 5003`

use clap::Parser;
use kit_blocking::app::App;
use kit_blocking::bridge;
use kit_serve::config::CommonArgs;
use kit_serve::io::IoArgs;
use kit_serve::metrics::Slots;
use kit_serve::net;
use kit_serve::serve::{Routes, Server};

const VARIANT: &str = "blocking-wrapper";

#[derive(Parser)]
#[command(about = "Async front end, blocking app behind it: N app threads = N slots")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    io: IoArgs,
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
        .slots(Slots::Threads(args.workers))
        .io_backend(&args.io)
        .listen()?;
    let (jobs, app_threads) = bridge::start(App::new(server.ctx()), args.workers, args.queue);
    // The wrapper: the front end answers /metrics itself; every other
    // request, converted, crosses the bridge to an app thread (bridge.rs).
    // Nothing here blocks, and that is not enough.
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
