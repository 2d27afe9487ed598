//! The grade's own tests share these: the example binaries (and scripts that
//! run them with flags, the way the grade appends its own), and reading a
//! failed check's message.

use std::path::PathBuf;

use kit_measure::grade;

/// An example of this package: `cargo test --release` builds the examples into
/// target/<profile>/examples before it runs any test.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    // The test runs from target/<profile>/deps.
    let profile = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps");
    let path = profile.join("examples").join(name);
    assert!(
        path.is_file(),
        "{} not found: run `cargo test --release` in the workspace",
        path.display()
    );
    path
}

/// `fix-variants` with the given flags (see `variant_of`).
pub fn variant(flags: &[&str]) -> PathBuf {
    variant_of("fix-variants", flags)
}

/// Runs a check and returns its failure message, or None if it passed.
pub fn failure(check: impl FnOnce() + std::panic::UnwindSafe) -> Option<String> {
    std::panic::catch_unwind(check).err().map(|payload| {
        match grade::failure::failure_message(payload.as_ref()) {
            Some(message) => message.to_string(),
            None => panic!("the check panicked instead of failing with a message: {payload:?}"),
        }
    })
}

pub fn assert_mentions(message: &str, needles: &[&str]) {
    for needle in needles {
        assert!(message.contains(needle), "missing '{needle}' in:\n{message}");
    }
}

pub fn assert_omits(message: &str, needles: &[&str]) {
    for needle in needles {
        assert!(!message.contains(needle), "'{needle}' should not be in:\n{message}");
    }
}

/// "= 25 rounds x 201 ms = 5.025 s" (or "1 round x ..."): the printed figures multiply out.
pub fn assert_multiplies_out(message: &str) {
    let line = message
        .lines()
        .find(|l| l.contains("slot model:"))
        .unwrap_or_else(|| panic!("no slot model in:\n{message}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "rounds" || *w == "round").expect("'N rounds'");
    let rounds: f64 = words[at - 1].parse().unwrap();
    let (t, predicted): (f64, f64) =
        (words[at + 2].parse().unwrap(), words[at + 5].parse().unwrap());
    assert_eq!(words[at + 3], "ms", "{line}");
    assert!(
        (rounds * t / 1000.0 - predicted).abs() < 1e-9,
        "{rounds} x {t} ms is not {predicted} s: {line}"
    );
}

/// "about 4.0 requests waiting at once", as a number.
pub fn requests_waiting(message: &str) -> f64 {
    let (before, _) = message.split_once(" requests waiting at once").expect("the measured slots");
    before.rsplit(' ').next().unwrap().parse().unwrap()
}

/// A script that runs the example `name` with `flags`, as the grade starts
/// servers with their own flags appended.
pub fn variant_of(name: &str, flags: &[&str]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).expect("a folder for the wrapper scripts");
    let script = dir.join(flags.join("_").replace("--", ""));
    let body =
        format!("#!/bin/sh\nexec '{}' {} \"$@\"\n", example(name).display(), flags.join(" "));
    // Tests that share a variant run at once: rewriting a script another
    // test is starting could make it busy, so an unchanged one is kept.
    if std::fs::read_to_string(&script).ok().as_deref() != Some(body.as_str()) {
        std::fs::write(&script, &body).expect("write the wrapper script");
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
        .expect("make it executable");
    script
}
