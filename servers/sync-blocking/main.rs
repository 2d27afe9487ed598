//! sync-blocking: a fixed pool of threads, each serving one request at a time.
//!
//! The Python twin is Flask on gunicorn with 2 workers x 2 threads. Each
//! handler thread calls `recv()`, runs the blocking app (app.rs) and only then
//! takes the next request. While it sleeps through an I/O wait it can do
//! nothing else, so this server has exactly `--threads` slots:
//! 100 x /parallel (2 x 0.5 s) on 4 threads = 25 rounds of 1 s = ~25 s.
//!
//! Cost: one OS thread (and its stack) per slot. More slots means more
//! threads. And threads are not the only thing that blocks: tiny_http reads
//! each connection on a pool thread, and an open keep-alive connection pins
//! one until the client hangs up, so idle clients eat capacity too
//! (`kit bench -c 50` against this server shows it).
//!
//! Run: `cargo run --release --bin sync-blocking -- --port 5001`

mod app;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use kit_serve::config::CommonArgs;
use kit_serve::metrics::Metrics;
use kit_serve::net;

const VARIANT: &str = "sync-blocking";
/// How often an idle handler thread looks up from `recv` to check for shutdown.
const STOP_POLL: Duration = Duration::from_millis(100);

#[derive(Parser)]
#[command(about = "Blocking server: N handler threads = N slots")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// Handler threads: this server's slot count.
    #[arg(long, env = "KIT_THREADS", default_value_t = 4,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: u64,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args, net::stop_flag()))
}

fn run(args: Args, stop: &'static AtomicBool) -> Result<(), net::Error> {
    net::exit_with_parent();
    net::raise_open_files_limit();
    let listener = net::bind(&args.common.host, args.common.port)?;
    let addr = listener.local_addr()?;
    let server = Arc::new(tiny_http::Server::from_listener(listener, None)?);
    let metrics = Metrics::new(VARIANT, args.common.knobs(("threads", args.threads)), Some(args.threads), false);
    let app = Arc::new(app::App { settings: args.common.settings(VARIANT), metrics });

    let handlers: Vec<_> = (0..args.threads)
        .map(|_| {
            let (server, app) = (Arc::clone(&server), Arc::clone(&app));
            std::thread::spawn(move || serve_requests(&server, &app, stop))
        })
        .collect();
    // Announced once the handler threads exist (and the stop flag was set up
    // in main): from this line on, a request or a SIGTERM is handled.
    net::announce(&addr)?;
    for handler in handlers {
        // A handler thread only panics on a bug; the others have drained by now.
        let _ = handler.join();
    }
    Ok(())
}

/// One slot: take a request, serve it to the end, take the next.
fn serve_requests(server: &tiny_http::Server, app: &app::App, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        let request = match server.recv_timeout(STOP_POLL) {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(_) => break, // the listener is gone
        };
        let reply = app.handle(request.method().as_str(), request.url());
        let response = tiny_http::Response::from_string(reply.body)
            .with_status_code(reply.status)
            .with_header(json_header());
        // A client that hung up is its own problem, not the server's.
        let _ = request.respond(response);
    }
}

fn json_header() -> tiny_http::Header {
    // Cannot fail: both halves are constant ASCII.
    tiny_http::Header::from_bytes("Content-Type", "application/json").expect("valid header")
}
