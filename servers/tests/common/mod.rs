//! Helpers shared by the integration tests: the four binaries, by name.

#![allow(dead_code, unused_imports)]

use kit_measure::harness::Server;

pub use kit_measure::slots::VARIANTS;

/// The path cargo built a server binary at.
pub fn bin(variant: &str) -> &'static str {
    match variant {
        "sync-blocking" => env!("CARGO_BIN_EXE_sync-blocking"),
        "async-trap" => env!("CARGO_BIN_EXE_async-trap"),
        "blocking-wrapper" => env!("CARGO_BIN_EXE_blocking-wrapper"),
        "async-native" => env!("CARGO_BIN_EXE_async-native"),
        other => panic!("unknown variant {other}"),
    }
}

/// Starts a variant on port 0 with extra flags.
pub fn start(variant: &str, args: &[&str]) -> Server {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    Server::start(bin(variant), &args).unwrap_or_else(|e| panic!("{e}"))
}

/// The slots each variant's lesson says it has, at its default knobs.
pub fn slots(variant: &str) -> Option<u64> {
    if variant == "async-native" {
        None
    } else {
        Some(4)
    }
}
