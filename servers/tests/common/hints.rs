//! The hints a failure names, read from an exercise's HINTS.md, so a test
//! can check that the hint the grade names says what that failure needs.

/// The text of hint `n` ("## Hint n: ..." up to the next heading).
pub fn hint(hints_md: &str, n: u32) -> String {
    let heading = format!("## Hint {n}:");
    let start = hints_md.find(&heading).unwrap_or_else(|| panic!("no '{heading}' in HINTS.md"));
    let rest = &hints_md[start + heading.len()..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    rest[..end].to_string()
}

/// The hint a grade failure names ("HINTS.md, hint N").
pub fn named_hint(message: &str) -> u32 {
    let (_, after) = message
        .split_once("HINTS.md, hint ")
        .unwrap_or_else(|| panic!("no hint named in:\n{message}"));
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("no hint number in:\n{message}"))
}

/// Fails unless `message` names hint `n`, and that hint mentions every one
/// of `needs`: what the measured failure needs the learner to do next.
pub fn assert_names_hint_with(hints_md: &str, message: &str, n: u32, needs: &[&str]) {
    assert_eq!(named_hint(message), n, "the failure names another hint:\n{message}");
    let text = hint(hints_md, n);
    for need in needs {
        assert!(text.contains(need), "hint {n} does not mention '{need}', which this failure needs:\n{message}\nhint {n}:{text}");
    }
}
