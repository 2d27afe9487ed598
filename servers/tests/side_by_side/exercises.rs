//! The exercises start as the servers they teach: apart from comments and
//! the variant's name, `exercises/trap` is `async-trap` and
//! `exercises/wrapper` is `blocking-wrapper`, line for line. If a server
//! changes, this test says which exercise to update.
//!
//! No line is rewritten to compare them, but for the one seam, stated in
//! full here. The servers wait through `--io-backend` (kit_serve::io); the
//! exercises take no backend flags and keep the timer's plain
//! `std::thread::sleep`, so the learner writes the yielding
//! `tokio::time::sleep` themselves. So:
//! - the lines of [`SERVER_ONLY`] (the flag, its import, and the builder
//!   call that opens the backend) are in the servers only;
//! - each wait of [`WAITS`] is a whole line on both sides: the server's
//!   blocking backend call, the exercise's sleep.
//!
//! Every other code line must be equal.

/// Server lines the exercises do not have (the `#[command(flatten)]` just
/// before `io: IoArgs,` belongs to it, and goes with it).
const SERVER_ONLY: [&str; 3] =
    ["use kit_serve::io::IoArgs;", "io: IoArgs,", ".io_backend(&args.io)"];

/// A server's wait and the exercise's, each a whole line.
const WAITS: [(&str, &str); 2] = [
    ("p.backend.wait_blocking(p.io_wait)?;", "std::thread::sleep(p.io_wait);"),
    ("p.backend.query_blocking(p.db_wait)?;", "std::thread::sleep(p.db_wait);"),
];

/// The server's code lines as the exercise has them: the seam's lines
/// dropped, its waits swapped whole.
fn server_lines(source: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in code_lines(source) {
        if SERVER_ONLY.contains(&line.as_str()) {
            if line == "io: IoArgs," && out.last().is_some_and(|l| l == "#[command(flatten)]") {
                out.pop();
            }
            continue;
        }
        let wait = WAITS.iter().find(|(server, _)| *server == line);
        out.push(wait.map_or(line, |(_, exercise)| exercise.to_string()));
    }
    out
}

fn code_lines(source: &str) -> Vec<String> {
    source
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with("const VARIANT"))
        .map(str::to_string)
        .collect()
}

fn assert_same_code(exercise: &str, server: &str, names: (&str, &str)) {
    let (ex, sv) = (code_lines(exercise), server_lines(server));
    if let Some(i) = (0..ex.len().max(sv.len())).find(|&i| ex.get(i) != sv.get(i)) {
        panic!(
            "{} drifted from {} at code line {}:\n  exercise: {:?}\n  server:   {:?}",
            names.0,
            names.1,
            i + 1,
            ex.get(i),
            sv.get(i)
        );
    }
}

#[test]
fn the_trap_exercise_is_async_trap() {
    assert_same_code(
        include_str!("../../../exercises/trap/src/main.rs"),
        include_str!("../../async-trap/main.rs"),
        ("exercises/trap/src/main.rs", "servers/async-trap/main.rs"),
    );
}

#[test]
fn the_wrapper_exercise_is_blocking_wrapper() {
    assert_same_code(
        include_str!("../../../exercises/wrapper/src/main.rs"),
        include_str!("../../blocking-wrapper/main.rs"),
        ("exercises/wrapper/src/main.rs", "servers/blocking-wrapper/main.rs"),
    );
}
