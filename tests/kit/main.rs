//! The `kit` command's tests, in one binary: cargo runs test binaries one
//! after another, and these mostly wait on small races and demos, so they
//! run side by side and the binary takes about as long as its slowest test.

mod capacity;
mod cli;
mod common;
mod demo;
mod doctor;
mod hostile;
mod learn;
mod screen;
mod slots;
mod stress;
