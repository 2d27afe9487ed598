//! The adapter between an async front end and the blocking app: what
//! `WsgiToAsgi` and asgiref's thread-sensitive executor do for Flask.
//!
//! `forward` converts a request into a plain (method, url) job, hands it to
//! one of the app threads, and awaits the answer without blocking. Each app
//! thread runs the unchanged blocking app (app.rs) for one job at a time,
//! so the app threads are the slots, however free the front end is.
//!
//! blocking-wrapper, its exercise and its solution all use this file.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use kit_serve::contract::ApiError;
use tokio::sync::oneshot;

use crate::app::{App, Reply};

/// One converted request, and where to send its answer.
pub struct Job {
    method: String,
    url: String,
    reply: oneshot::Sender<Reply>,
}

/// Where the front end sends jobs.
pub type Jobs = mpsc::Sender<Job>;

/// Starts `workers` app threads running `app`. They stop once every `Jobs`
/// sender is dropped; join them with the returned handles.
pub fn start(app: Arc<App>, workers: u64) -> (Jobs, Vec<JoinHandle<()>>) {
    let (jobs, queue) = mpsc::channel();
    let queue = Arc::new(Mutex::new(queue));
    let threads = (0..workers)
        .map(|_| {
            let (app, queue) = (Arc::clone(&app), Arc::clone(&queue));
            std::thread::spawn(move || app_thread(&app, &queue))
        })
        .collect();
    (jobs, threads)
}

/// Convert, hand over, await. Nothing here blocks the front end.
pub async fn forward(jobs: &Jobs, method: Method, uri: Uri) -> Response {
    let (reply, answer) = oneshot::channel();
    let job = Job { method: method.to_string(), url: uri.to_string(), reply };
    if jobs.send(job).is_err() {
        return ApiError::internal("the app threads are gone".into()).into_response();
    }
    match answer.await {
        Ok(reply) => {
            let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, [(header::CONTENT_TYPE, "application/json")], reply.body).into_response()
        }
        Err(_) => ApiError::internal("the app dropped the request".into()).into_response(),
    }
}

/// One app thread: takes the next job and runs the blocking app to the end.
fn app_thread(app: &App, jobs: &Mutex<mpsc::Receiver<Job>>) {
    // The lock is held only while taking a job, not while serving it. A
    // poisoned lock means another app thread panicked: stop this one too.
    while let Ok(Ok(job)) = jobs.lock().map(|rx| rx.recv()) {
        let reply = app.handle(&job.method, &job.url);
        let _ = job.reply.send(reply); // the client may have hung up
    }
}
