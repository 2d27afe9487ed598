//! sync-blocking: a fixed pool of threads, each serving one connection at a time.
//!
//! The Python twin is Flask on gunicorn with 2 workers x 2 threads. An
//! accept loop takes connections from the listener and queues them; each
//! handler thread takes the next connection, runs the blocking app (app.rs,
//! the crate kit-blocking)
//! for each of its requests (http.rs), and only then takes the next one.
//! While it sleeps through an I/O wait it can do nothing else, so this
//! server has exactly `--threads` slots:
//! 100 x /parallel (2 x 0.5 s) on 4 threads = 25 rounds of 1 s = ~25 s.
//!
//! Cost: one OS thread (and its stack) per slot. More slots means more
//! threads. And requests are not the only thing that holds a thread: a
//! connection holds one from the moment it is taken, so idle clients eat
//! capacity too. That is why it closes each connection after its answer
//! (a kept-alive one would hold a slot while its client thinks), and why
//! four clients that connect and send nothing stop it entirely, until
//! --header-read-timeout-ms (30 s by default) closes them: slowloris.
//!
//! Shutdown (SIGTERM, Ctrl-C): the accept loop takes what is left in the
//! backlog and closes the listener; the handler threads answer every
//! connection already taken, queued ones included, within --drain-timeout.
//!
//! Run: `cargo run --release --bin sync-blocking -- --port 5001`

mod http;

use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use kit_blocking::app::App;
use kit_serve::config::CommonArgs;
use kit_serve::io::IoArgs;
use kit_serve::metrics::{Runtime, Slots};
use kit_serve::net;
use kit_serve::serve::Server;

const VARIANT: &str = "sync-blocking";
/// How often the main thread looks at the drain's progress.
const DRAIN_POLL: Duration = Duration::from_millis(10);

#[derive(Parser)]
#[command(about = "Blocking server: N handler threads = N slots")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    io: IoArgs,
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
    net::raise_open_files_limit();
    // Plain threads, no runtime: the accept loop below is this server's own.
    let (listener, ctx) = Server::new(VARIANT, &args.common)
        .knob("threads", args.threads)
        .slots(Slots::Threads(args.threads))
        .runtime(Runtime::Threads)
        .io_backend(&args.io)
        .listen()?
        .into_parts();
    let addr = listener.local_addr()?;
    let app = Arc::new(App::new(&ctx));

    // Connections accepted and waiting for a free handler thread: a queue in
    // front of the slots, not more slots.
    let (queue, waiting) = mpsc::channel::<TcpStream>();
    let waiting = Arc::new(Mutex::new(waiting));
    // Connections accepted and not finished yet: what a drain waits for.
    let open = Arc::new(AtomicUsize::new(0));
    for _ in 0..args.threads {
        let (waiting, app, open) = (Arc::clone(&waiting), Arc::clone(&app), Arc::clone(&open));
        let header_timeout = args.common.header_read_timeout();
        std::thread::spawn(move || serve_connections(&waiting, &app, &open, header_timeout));
    }
    let accepting = {
        let open = Arc::clone(&open);
        std::thread::spawn(move || {
            net::accept_until_stopped(&listener, stop, |connection| {
                open.fetch_add(1, Ordering::SeqCst);
                let _ = queue.send(connection);
            });
            // Returning drops the listener (connecting is refused from now
            // on) and the queue's sender (handler threads end once it is empty).
        })
    };
    // Announced once the handler threads exist (and the stop flag was set up
    // in main): from this line on, a request or a SIGTERM is handled.
    net::announce(&addr)?;
    // The accept loop ends only on SIGTERM or Ctrl-C, after the backlog.
    let _ = accepting.join();
    let stopped = Instant::now();
    let deadline = args.common.drain_timeout();
    while open.load(Ordering::SeqCst) > 0 && stopped.elapsed() < deadline {
        std::thread::sleep(DRAIN_POLL);
    }
    // Handler threads still serving at the deadline end with the process.
    net::report_drain(open.load(Ordering::SeqCst), stopped.elapsed(), deadline);
    Ok(())
}

/// One slot: take a connection, serve it to the end, take the next.
fn serve_connections(
    waiting: &Mutex<mpsc::Receiver<TcpStream>>,
    app: &App,
    open: &AtomicUsize,
    header_timeout: Duration,
) {
    // The lock is held only while taking a connection, not while serving it.
    while let Ok(Ok(connection)) = waiting.lock().map(|queue| queue.recv()) {
        http::serve_connection(connection, |method, url| app.handle(method, url), header_timeout);
        open.fetch_sub(1, Ordering::SeqCst);
    }
}
