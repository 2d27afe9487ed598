//! Exercise: the wrapper. (`cd exercises/wrapper && cargo test --release` is your grade.)
//!
//! Story: the shop's blocking app (servers/sync-blocking/app.rs, the same
//! file sync-blocking runs) was too slow, so the team put an async front end
//! in front of it: every request is converted and handed to the app on 4
//! dedicated app threads, and the front end awaits the answer. The front
//! end is never busy now, yet 100 people at once still wait 25 seconds.
//!
//! Your task: make this server behave like a native async server while
//! keeping every response exactly as it is. Work in this file, at the
//! `// TODO` markers; leave app.rs alone (sync-blocking still runs it).
//! Run `cargo test --release` here after each change: the failure tells you what was
//! measured, what the slot model makes of it, and which hint to read next
//! (HINTS.md). Done means all five checks pass.
//!
//! Run it by hand: `cargo run -- --port 5003`, then `curl localhost:5003/parallel`.

#[path = "../../../servers/sync-blocking/app.rs"]
mod app;
#[path = "../../../servers/blocking-wrapper/bridge.rs"]
mod bridge;

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::{Method, Uri};
use axum::response::Response;
use axum::Router;
use clap::Parser;
use kit_serve::config::CommonArgs;
use kit_serve::{net, serve};

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

#[derive(Clone)]
struct Front {
    ctx: serve::SharedCtx,
    jobs: bridge::Jobs,
}

impl FromRef<Front> for serve::SharedCtx {
    fn from_ref(front: &Front) -> serve::SharedCtx {
        front.ctx.clone()
    }
}

/// The wrapper: every request, converted, crosses the bridge to an app
/// thread (bridge.rs). Nothing here blocks, and that is not enough.
// TODO: every request crosses this bridge, so every request waits for one
// of the app threads, and an app thread sleeps through each wait.
async fn bridge(State(front): State<Front>, method: Method, uri: Uri) -> Response {
    bridge::forward(&front.jobs, method, uri).await
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    let mut knobs = args.common.knobs(("workers", args.workers));
    knobs.push(("queue", args.queue));
    // TODO: the last argument declares this server's slots in /metrics:
    // Some(n) while every wait holds one of n threads. Once the waits yield,
    // the slots are no longer bounded by threads: declare None.
    let (listener, ctx) = serve::listen_with(&args.common, VARIANT, knobs, Some(args.workers))?;
    let app = app::App { settings: ctx.settings.clone(), metrics: ctx.metrics.clone() };
    let (jobs, app_threads) = bridge::start_bounded(Arc::new(app), args.workers, args.queue);
    let metrics = ctx.metrics.clone();
    // The front end answers /metrics itself; everything else crosses the bridge.
    // TODO: which requests really need an app thread?
    let front = Router::new()
        .merge(serve::observer_routes())
        .fallback(bridge)
        .method_not_allowed_fallback(serve::method_not_allowed)
        .with_state(Front { ctx, jobs });
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let served = runtime.block_on(serve::serve(listener, front, metrics));
    // Dropping the runtime drops the last job sender, so the app threads
    // finish: each ends its job in progress and skips the queued ones, whose
    // clients are gone with the runtime (after a drain timeout).
    drop(runtime);
    for thread in app_threads {
        let _ = thread.join();
    }
    served
}
