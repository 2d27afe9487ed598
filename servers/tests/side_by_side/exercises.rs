//! The exercises start as the servers they teach: apart from comments,
//! `#[path]` attributes and the variant's name, `exercises/trap` is
//! `async-trap` and `exercises/wrapper` is `blocking-wrapper`, line for line.
//! If a server changes, this test says which exercise to update.

fn code_lines(source: &str) -> Vec<String> {
    source
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with("#[path") && !l.starts_with("const VARIANT"))
        .map(str::to_string)
        .collect()
}

fn assert_same_code(exercise: &str, server: &str, names: (&str, &str)) {
    let (ex, sv) = (code_lines(exercise), code_lines(server));
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
