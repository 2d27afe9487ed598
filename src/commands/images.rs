//! `kit images`: makes the container images `kit-<binary>:<tag>` from this
//! machine's own server binaries, with no registry (see [`crate::containers`]).
//! compose.yaml runs them; `kit up --containers` makes them itself.
//!
//! Run: `cargo run --release -- images`, then `docker-compose up`.

use std::sync::atomic::{AtomicBool, Ordering};

use kit_serve::net;

use crate::containers::{self, IMAGES};
use crate::error::{CliError, Result};
use crate::support::servers;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The images' tag: `kit-<binary>:<tag>` (compose.yaml expects `local`).
    #[arg(long, default_value = containers::DEFAULT_TAG, value_parser = parse_tag)]
    pub tag: String,
}

pub fn run(args: Args) -> Result<()> {
    let stop = net::stop_flag();
    docker_or_say_so()?;
    make(IMAGES, &args.tag, stop)?;
    for name in IMAGES {
        println!("{}", containers::image_name(name, &args.tag));
    }
    Ok(())
}

/// Docker must answer before anything is built; otherwise one clear line.
pub fn docker_or_say_so() -> Result<()> {
    if !cfg!(target_os = "linux") {
        return Err(CliError::Failed(
            "the images hold this machine's own binaries, which only a Linux machine has; `kit up` without --containers runs the same servers as processes".into(),
        ));
    }
    containers::docker_answers().map_err(|why| {
        CliError::Failed(format!("Docker does not answer: {why}; `kit up` without --containers runs the same servers as processes"))
    })
}

/// Builds the binaries if needed and imports one image per name.
pub fn make(names: &[&str], tag: &str, stop: &AtomicBool) -> Result<()> {
    let bins = servers::locate(names, stop)?;
    for (bin, name) in bins.iter().zip(names) {
        if stop.load(Ordering::SeqCst) {
            return Err(CliError::Interrupted);
        }
        let image = containers::image_name(name, tag);
        if containers::import(bin, name, tag).map_err(CliError::Failed)? {
            eprintln!("made {image} from {}", bin.display());
        } else {
            eprintln!("{image} is up to date with {}", bin.display());
        }
    }
    Ok(())
}

/// A Docker tag: letters, digits, `_`, `.` and `-`, at most 128, not starting with `.` or `-`.
pub fn parse_tag(text: &str) -> std::result::Result<String, String> {
    let ok = !text.is_empty()
        && text.len() <= 128
        && !text.starts_with(['.', '-'])
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(text.to_string())
    } else {
        Err(format!("'{text}' is not a Docker tag: use letters, digits, '_', '.' and '-'"))
    }
}
