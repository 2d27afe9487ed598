//! The adapter between an async front end and the blocking app: what
//! `WsgiToAsgi` and asgiref's thread-sensitive executor do for Flask.
//!
//! `forward` converts a request into a plain (method, url) job, hands it to
//! one of the app threads, and awaits the answer without blocking. Each app
//! thread runs the unchanged blocking app (app.rs) for one job at a time,
//! so the app threads are the slots, however free the front end is.
//!
//! blocking-wrapper, its exercise and its solution all use this file (the
//! crate kit-blocking): each calls `start`, then routes requests across
//! with `route`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use axum::extract::State;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, MethodRouter};
use kit_serve::contract::ApiError;
use kit_serve::http_rules::origin_form;
use tokio::sync::oneshot;

use crate::app::{App, Reply};

/// Jobs that may wait for an app thread, by default: more than any burst
/// the lessons send (the grade's largest is 1,000), so no lesson sees a 503.
pub const DEFAULT_QUEUE: u64 = 1024;
/// What a 503 tells the client: try again in a second. A queue that is full
/// will not empty faster than its slots serve it.
const RETRY_AFTER_S: &str = "1";

/// One converted request, and where to send its answer.
pub struct Job {
    method: String,
    url: String,
    reply: oneshot::Sender<Reply>,
    /// Holds the job's place in the bridge until an app thread is done with it.
    _place: Place,
}

/// Where the front end sends jobs, and how many it may have inside at once.
#[derive(Clone)]
pub struct Jobs {
    queue: mpsc::Sender<Job>,
    inside: Arc<AtomicUsize>,
    /// App threads + queue places.
    capacity: usize,
}

/// A job's place: counted in `Jobs::inside` while it lives.
struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Starts `workers` app threads running `app`, with room for `queue` more
/// jobs waiting for one. They stop once every `Jobs` is dropped; join them
/// with the returned handles.
///
/// The lesson of the bound: a queue in front of slots is not a slot. Jobs
/// in the queue hold no thread, but they are not being served either; each
/// waits for a slot, so a longer queue only means a longer wait. Without a
/// bound, a front end that never says no grows its queue (and its memory)
/// for as long as requests come faster than the slots serve them.
pub fn start(app: App, workers: u64, queue: u64) -> (Jobs, Vec<JoinHandle<()>>) {
    let app = Arc::new(app);
    let (sender, receiver) = mpsc::channel();
    let receiver = Arc::new(Mutex::new(receiver));
    let threads = (0..workers)
        .map(|_| {
            let (app, receiver) = (Arc::clone(&app), Arc::clone(&receiver));
            std::thread::spawn(move || app_thread(&app, &receiver))
        })
        .collect();
    let capacity = usize::try_from(workers.saturating_add(queue)).unwrap_or(usize::MAX);
    (Jobs { queue: sender, inside: Arc::new(AtomicUsize::new(0)), capacity }, threads)
}

/// The bridge as a route: every request it is given crosses to an app
/// thread (`forward`). The app counts its own requests in flight, so the
/// front end hands it over with `serve::Routes::to_app` or `rest_to_app`.
pub fn route(jobs: Jobs) -> MethodRouter {
    any(cross).with_state(jobs)
}

async fn cross(State(jobs): State<Jobs>, method: Method, uri: Uri) -> Response {
    forward(&jobs, method, uri).await
}

/// Convert, hand over, await. Nothing here blocks the front end. When every
/// app thread is busy and the queue is full, the answer is 503 at once.
pub async fn forward(jobs: &Jobs, method: Method, uri: Uri) -> Response {
    let Some(place) = jobs.admit() else {
        return jobs.full();
    };
    let (reply, answer) = oneshot::channel();
    let job = Job { method: method.to_string(), url: origin_form(&uri), reply, _place: place };
    if jobs.queue.send(job).is_err() {
        return ApiError::internal("the app threads are gone".into()).into_response();
    }
    // If the client hangs up, axum drops this future, and with it `answer`:
    // the app thread sees that and skips the job.
    match answer.await {
        Ok(reply) => {
            let status =
                StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, [(header::CONTENT_TYPE, "application/json")], reply.body).into_response()
        }
        Err(_) => ApiError::internal("the app dropped the request".into()).into_response(),
    }
}

impl Jobs {
    /// A place in the bridge, if one is free.
    fn admit(&self) -> Option<Place> {
        if self.inside.fetch_add(1, Ordering::SeqCst) >= self.capacity {
            self.inside.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Place(Arc::clone(&self.inside)))
    }

    /// The answer when no place is free: 503, a JSON error, and Retry-After.
    fn full(&self) -> Response {
        let message = format!(
            "the wrapper is full: {} requests are already being served or queued for its app threads; retry later",
            self.capacity
        );
        ([(header::RETRY_AFTER, RETRY_AFTER_S)], ApiError { status: 503, message }).into_response()
    }
}

/// One app thread: takes the next job and runs the blocking app to the end.
fn app_thread(app: &App, jobs: &Mutex<mpsc::Receiver<Job>>) {
    // The lock is held only while taking a job, not while serving it. A
    // poisoned lock means another app thread panicked: stop this one too.
    while let Ok(Ok(job)) = jobs.lock().map(|rx| rx.recv()) {
        let Job { method, url, reply, _place: place } = job;
        // Nobody is waiting for this answer any more (the client hung up
        // while the job was queued): serving it would only hold a slot.
        if reply.is_closed() {
            continue;
        }
        let answer = app.handle(&method, &url);
        // The place is free before the client hears back, so a client that
        // asks again at once finds it free.
        drop(place);
        let _ = reply.send(answer); // the client may have hung up meanwhile
    }
}
