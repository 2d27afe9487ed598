//! Nothing here: the container tests live in tests/containers.rs. They need
//! Docker, so they are a separate crate that the root `cargo test` does not
//! build; CI runs `cargo test --release -p container-tests` where Docker answers.
