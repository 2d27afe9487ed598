//! # kit-blocking: the blocking app, and the bridge to it
//!
//! Two lesson files that three crates run, compiled once here:
//! - [`app`]: the blocking app, plain functions that block the calling
//!   thread until the answer is ready, like a Flask view. sync-blocking
//!   calls it from its handler threads.
//! - [`bridge`]: the adapter that hands it requests from an async front
//!   end, like `WsgiToAsgi`: blocking-wrapper, the wrapper exercise and its
//!   solution.
//! - [`request`]: reading one HTTP/1.1 request from bytes, for the server
//!   that reads its own sockets (sync-blocking): pure, fuzzed.
//!
//! The README and `kit demo` show these two files as they are here.

pub mod app;
pub mod bridge;
pub mod request;
