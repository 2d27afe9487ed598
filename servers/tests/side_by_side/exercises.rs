//! The exercises start as the servers they teach: apart from comments,
//! `#[path]` attributes, the variant's name and the I/O backend seam,
//! `exercises/trap` is `async-trap` and `exercises/wrapper` is
//! `blocking-wrapper`, line for line. If a server changes, this test says
//! which exercise to update.
//!
//! The seam: the servers wait through `--io-backend` (`p.backend.wait_blocking`,
//! kit_serve::io); the exercises keep the plain `std::thread::sleep` of the
//! timer backend and take no backend flags, so the learner writes the
//! yielding `tokio::time::sleep` themselves. `exercise_form` maps a server
//! line to its exercise form; no other line may differ.

/// Server lines the exercises do not have.
const SEAM_ONLY: [&str; 2] = ["use kit_serve::io::IoArgs;", "io: IoArgs,"];

/// A server's code line as the exercise writes it.
fn exercise_form(line: &str) -> String {
    let line = line
        .replace("p.backend.wait_blocking(p.io)?;", "std::thread::sleep(p.io);")
        .replace("p.backend.query_blocking(p.db)?;", "std::thread::sleep(p.db);")
        .replace("-> Result<Json<Work>, ApiError> {", "-> Json<Work> {")
        .replace("{cpu_work, ApiError, Endpoint,", "{cpu_work, Endpoint,")
        .replace("serve::listen_io(&args.common, &args.io,", "serve::listen(&args.common,")
        .replace("serve::listen_with_io(&args.common, &args.io,", "serve::listen_with(&args.common,");
    match line.strip_prefix("Ok(").and_then(|l| l.strip_suffix(')')) {
        Some(inner) => inner.to_string(),
        None => line,
    }
}

/// The server's code lines in their exercise form: the seam's flag (the
/// `#[command(flatten)]` before `io: IoArgs,` too) dropped, its calls mapped.
fn server_lines(source: &str) -> Vec<String> {
    let lines = code_lines(source);
    let mut out: Vec<String> = Vec::new();
    for line in lines {
        if SEAM_ONLY.contains(&line.as_str()) {
            if line == "io: IoArgs," && out.last().is_some_and(|l| l == "#[command(flatten)]") {
                out.pop();
            }
            continue;
        }
        out.push(exercise_form(&line));
    }
    out
}

fn code_lines(source: &str) -> Vec<String> {
    source
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with("#[path") && !l.starts_with("const VARIANT"))
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
