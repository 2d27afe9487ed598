//! `kit health`: is each server up, and which variant is it? One line per
//! server; exit 0 only if all of them answered.
//!
//! Run: `cargo run --release -- health` (the ports of `kit up`), or
//! `-- health --urls http://127.0.0.1:8080`.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use kit_measure::client::url::validate_url;
use kit_measure::harness;
use kit_serve::contract::Health;

use crate::error::{CliError, Result};
use crate::support::client;

/// A healthy server answers /health at once; a blocking one may queue it
/// behind busy slots, so this is generous.
const TIMEOUT: Duration = Duration::from_secs(3);

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The servers to check (default: the four of `kit up`).
    #[arg(long, num_args = 1.., value_name = "URL", default_values_t = default_urls(), value_parser = client::parse_url)]
    pub urls: Vec<String>,
}

fn default_urls() -> Vec<String> {
    (5001..=5004).map(|p| format!("http://127.0.0.1:{p}")).collect()
}

pub fn run(args: Args) -> Result<()> {
    let mut down = 0;
    for url in &args.urls {
        match check(url) {
            Ok(variant) => println!("up    {url}  {variant}"),
            Err(why) => {
                down += 1;
                println!("down  {url}  {why}");
            }
        }
    }
    if down == 0 {
        Ok(())
    } else {
        Err(CliError::Failed(format!("{down} of {} server(s) down", args.urls.len())))
    }
}

/// The variant a server says it is, or why it is not up.
fn check(url: &str) -> std::result::Result<String, String> {
    let addr = address(url)?;
    match harness::get(addr, "/health", TIMEOUT) {
        Ok((200, body)) => serde_json::from_str::<Health>(&body)
            .map(|h| h.variant)
            .map_err(|_| format!("answered 200, but not the kit's /health: {body:.80}")),
        Ok((status, _)) => Err(format!("/health answered {status}")),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err("connection refused (nothing listens there)".into())
        }
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Err(format!("no answer within {TIMEOUT:?} (busy, or stopped)"))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// `http://HOST[:PORT][/...]` (checked by clap already) to a socket
/// address: a name that does not resolve is a server that is down.
fn address(url: &str) -> std::result::Result<SocketAddr, String> {
    let url = validate_url(url).map_err(|e| e.to_string())?;
    let authority = format!("{}:{}", url.host(), url.port());
    (url.host(), url.port())
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve '{authority}': {e}"))?
        .next()
        .ok_or_else(|| format!("'{authority}' has no address"))
}
