//! # kit-blocking: the blocking app, and the bridge to it
//!
//! Two lesson files that three crates run, compiled once here:
//! - [`app`]: the blocking app, plain functions that block the calling
//!   thread until the answer is ready, like a Flask view. sync-blocking
//!   calls it from its handler threads.
//! - [`bridge`]: the adapter that hands it requests from an async front
//!   end, like `WsgiToAsgi`: blocking-wrapper, the wrapper exercise and its
//!   solution.
//!
//! The files stay beside the servers whose lesson they are
//! (servers/sync-blocking/app.rs, servers/blocking-wrapper/bridge.rs), where
//! the README and `kit demo` show them.

#[path = "../../../servers/sync-blocking/app.rs"]
pub mod app;
#[path = "../../../servers/blocking-wrapper/bridge.rs"]
pub mod bridge;
