//! upstream: the slow service the four servers call on `--io-backend http=URL`,
//! and the pricing service the exercises call.
//!
//! `GET /delay?ms=N` answers after N milliseconds, `GET /price?product=ID`
//! after `--io-ms`; `--limit N` answers 429 past N calls at once; `POST /hang`
//! and `DELETE /hang` switch hanging on and off; /metrics counts the calls it
//! received (`calls`). The code is kit_serve::upstream (crates/serve/src/upstream.rs):
//! the exercises that call it build this same file under their own name, so
//! that their grade can start it.
//!
//! Run: `cargo run --release --bin upstream -- --port 6000 [--limit 5]`

fn main() -> std::process::ExitCode {
    kit_serve::upstream::main()
}
