//! The source lines the demo puts on the screen, cut from the servers' own
//! files at build time.
//!
//! Each snippet is a marker (a piece of text that names one line, such as
//! `async fn parallel`) and the block that starts there, up to the brace
//! that closes it. No line numbers are written down here: they are read
//! from the file as it is compiled, so the demo cannot drift from the
//! servers. If a marker goes missing, the unit tests below fail and name it.

use std::fmt::Write as _;

/// One file of a server, embedded in the library.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    /// The path a learner opens, relative to the repository root.
    pub path: &'static str,
    pub text: &'static str,
}

macro_rules! source {
    ($path:literal) => {
        Source { path: $path, text: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $path)) }
    };
}

pub const SYNC_APP: Source = source!("crates/blocking/src/app.rs");
pub const SYNC_MAIN: Source = source!("servers/sync-blocking/main.rs");
pub const TRAP_MAIN: Source = source!("servers/async-trap/main.rs");
pub const WRAPPER_ADAPTER: Source = source!("crates/blocking/src/bridge.rs");
pub const NATIVE_MAIN: Source = source!("servers/async-native/main.rs");

/// A block of a source file, found by the text of its first line.
#[derive(Clone, Copy, Debug)]
pub struct Snippet {
    pub source: Source,
    /// Text that occurs on exactly one line: the block's first line.
    pub marker: &'static str,
    /// Lines containing this text are the lesson: they get a `>` in the gutter.
    pub highlight: &'static str,
}

/// The blocking waits of /parallel in the app both blocking servers run.
pub const SYNC_PARALLEL: Snippet =
    Snippet { source: SYNC_APP, marker: "Endpoint::Parallel => {", highlight: "wait_blocking" };
/// One handler thread: one slot.
pub const SYNC_HANDLER_LOOP: Snippet =
    Snippet { source: SYNC_MAIN, marker: "fn serve_connections(", highlight: "app.handle(" };
pub const TRAP_PARALLEL: Snippet =
    Snippet { source: TRAP_MAIN, marker: "async fn parallel(", highlight: "wait_blocking" };
pub const TRAP_CPU: Snippet =
    Snippet { source: TRAP_MAIN, marker: "async fn cpu_intensive(", highlight: "cpu_work(" };
pub const WRAPPER_BRIDGE: Snippet =
    Snippet { source: WRAPPER_ADAPTER, marker: "pub async fn forward(", highlight: "answer.await" };
pub const NATIVE_PARALLEL: Snippet =
    Snippet { source: NATIVE_MAIN, marker: "async fn parallel(", highlight: "tokio::join!" };
pub const NATIVE_CPU: Snippet =
    Snippet { source: NATIVE_MAIN, marker: "async fn cpu_intensive(", highlight: "spawn_blocking" };

/// Every snippet the demo shows, with a name for test failures.
pub const ALL: [(&str, Snippet); 7] = [
    ("SYNC_PARALLEL", SYNC_PARALLEL),
    ("SYNC_HANDLER_LOOP", SYNC_HANDLER_LOOP),
    ("TRAP_PARALLEL", TRAP_PARALLEL),
    ("TRAP_CPU", TRAP_CPU),
    ("WRAPPER_BRIDGE", WRAPPER_BRIDGE),
    ("NATIVE_PARALLEL", NATIVE_PARALLEL),
    ("NATIVE_CPU", NATIVE_CPU),
];

/// A block longer than this is a marker that matched the wrong line: a
/// projector shows about 30 rows, and the lesson fits in far fewer.
pub const MAX_LINES: usize = 20;

/// The lines of a found block: (1-based line number, text).
#[derive(Debug)]
pub struct Block {
    pub lines: Vec<(usize, &'static str)>,
}

impl Snippet {
    /// The block starting at the marker's line, or why it cannot be cut.
    pub fn find(&self) -> Result<Block, String> {
        let all: Vec<&'static str> = self.source.text.lines().collect();
        let hits: Vec<usize> = (0..all.len()).filter(|&i| all[i].contains(self.marker)).collect();
        let start = match hits.as_slice() {
            [one] => *one,
            [] => {
                return Err(format!("marker `{}` not found in {}", self.marker, self.source.path))
            }
            many => {
                return Err(format!(
                    "marker `{}` is on {} lines of {}",
                    self.marker,
                    many.len(),
                    self.source.path
                ))
            }
        };
        let end = block_end(&all[start..]).map(|len| start + len).ok_or_else(|| {
            format!("the block at `{}` in {} never closes", self.marker, self.source.path)
        })?;
        let lines: Vec<_> = (start..end).map(|i| (i + 1, all[i])).collect();
        if lines.len() > MAX_LINES {
            return Err(format!(
                "the block at `{}` in {} is {} lines long",
                self.marker,
                self.source.path,
                lines.len()
            ));
        }
        if !lines.iter().any(|(_, l)| l.contains(self.highlight)) {
            return Err(format!(
                "`{}` is not inside the block at `{}` in {}",
                self.highlight, self.marker, self.source.path
            ));
        }
        Ok(Block { lines })
    }

    /// The block, numbered, lesson lines marked `>` (and bold when `color`),
    /// no line wider than [`super::COLUMNS`]: a longer source line is
    /// broken at a space, never inside a word, and goes on under its own
    /// indentation plus four, after an empty gutter.
    pub fn render(&self, color: bool) -> Result<String, String> {
        let block = self.find()?;
        let mut out = format!("  {}\n", self.source.path);
        for (number, line) in block.lines {
            let key = line.contains(self.highlight);
            for (i, part) in fit_code(line, super::COLUMNS - GUTTER).into_iter().enumerate() {
                let text = match i {
                    0 => format!("{} {number:>4} | {part}", if key { ">" } else { " " }),
                    _ => format!("       | {part}"),
                };
                let text = if key && color { format!("\x1b[1;33m{text}\x1b[0m") } else { text };
                // Writing to a String cannot fail.
                let _ = writeln!(out, "  {text}");
            }
        }
        Ok(out)
    }
}

/// The columns before the code on a listing line: "  > 1234 | ".
const GUTTER: usize = 11;

/// One source line as pieces of at most `width` columns; the pieces after
/// the first are indented four more than the line. A line breaks where a
/// reader would break it, never inside a word: at a space (which goes), after
/// an opening `(`, or before the `.` of a method call that follows a `)`.
/// A run with no such place stays whole (wider than `width`) rather than be
/// cut inside a word.
fn fit_code(line: &str, width: usize) -> Vec<String> {
    let line = line.trim_end();
    if line.chars().count() <= width {
        return vec![line.to_string()];
    }
    let indent = line.len() - line.trim_start().len();
    let more = format!("{}    ", &line[..indent]);
    let mut pieces = Vec::new();
    let mut rest = line.to_string();
    let mut lead = String::new();
    while lead.chars().count() + rest.chars().count() > width {
        let room = width - lead.chars().count();
        let Some(cut) = break_at(&rest, room) else {
            break;
        };
        pieces.push(format!("{lead}{}", rest[..cut].trim_end()));
        rest = rest[cut..].trim_start().to_string();
        lead = more.clone();
    }
    pieces.push(format!("{lead}{rest}"));
    pieces
}

/// The last byte index past the indentation of `code`, outside a string
/// literal, where it may break with at most `room` columns before the break.
fn break_at(code: &str, room: usize) -> Option<usize> {
    let start = code.len() - code.trim_start().len();
    let bytes = code.as_bytes();
    let mut in_string = false;
    let mut best = None;
    for (i, c) in code.char_indices() {
        if code[..i].chars().count() > room {
            break;
        }
        let breaks = c == ' '
            || (bytes[i - usize::from(i > 0)] == b'(' && c != ')')
            || (c == '.' && i > 0 && bytes[i - 1] == b')');
        if i > start && !in_string && breaks {
            best = Some(i);
        }
        if c == '"' && (i == 0 || bytes[i - 1] != b'\\') {
            in_string = !in_string;
        }
    }
    best
}

/// How many lines, from the first, until the braces opened there close.
/// Braces inside string or char literals and `//` comments do not count.
fn block_end(lines: &[&str]) -> Option<usize> {
    let mut depth = 0i64;
    let mut opened = false;
    for (i, line) in lines.iter().enumerate() {
        for brace in code_braces(line) {
            depth += if brace == '{' { 1 } else { -1 };
            opened = true;
        }
        if opened && depth <= 0 {
            return Some(i + 1);
        }
    }
    None
}

/// The braces of one line of Rust that are code, in order.
fn code_braces(line: &str) -> Vec<char> {
    let mut braces = Vec::new();
    let mut chars = line.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_string => {
                chars.next();
            }
            '"' => in_string = !in_string,
            '/' if !in_string && chars.peek() == Some(&'/') => break,
            '\'' if !in_string => {
                // A char literal such as '{' is three chars; a lifetime is not.
                let mut ahead = chars.clone();
                if let (Some(_), Some('\'')) = (ahead.next(), ahead.next()) {
                    chars.next();
                    chars.next();
                }
            }
            '{' | '}' if !in_string => braces.push(c),
            _ => {}
        }
    }
    braces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_snippet_the_demo_shows_is_found_in_the_current_sources() {
        let broken: Vec<String> = ALL
            .iter()
            .filter_map(|(name, s)| s.find().err().map(|e| format!("{name}: {e}")))
            .collect();
        assert!(broken.is_empty(), "snippets the demo can no longer show:\n{}", broken.join("\n"));
    }

    #[test]
    fn snippets_are_whole_blocks_with_the_file_s_own_line_numbers() {
        for (name, s) in ALL {
            let block = s.find().unwrap_or_else(|e| panic!("{name}: {e}"));
            let (first, last) = (block.lines[0], block.lines[block.lines.len() - 1]);
            assert!(first.1.contains(s.marker), "{name}: starts at `{}`", first.1);
            assert!(
                last.1.trim_end().ends_with('}'),
                "{name}: ends at `{}`, not a closing brace",
                last.1
            );
            let file: Vec<&str> = s.source.text.lines().collect();
            for (number, line) in &block.lines {
                assert_eq!(
                    file[number - 1],
                    *line,
                    "{name}: line {number} of {} is numbered wrong",
                    s.source.path
                );
            }
        }
    }

    #[test]
    fn the_lesson_lines_are_the_ones_the_steps_talk_about() {
        let text = |s: Snippet| s.render(false).unwrap_or_else(|e| panic!("{e}"));
        let marked =
            |s: Snippet| text(s).lines().filter(|l| l.trim_start().starts_with("> ")).count();
        assert_eq!(marked(SYNC_PARALLEL), 2, "two blocking waits in /parallel");
        assert_eq!(marked(TRAP_PARALLEL), 2, "two blocking waits in the trap");
        assert!(text(NATIVE_PARALLEL)
            .contains("tokio::join!(p.backend.wait(p.io_wait), p.backend.wait("));
        assert!(text(NATIVE_CPU).contains("spawn_blocking"));
    }

    #[test]
    fn a_missing_marker_is_named() {
        let gone = Snippet { source: NATIVE_MAIN, marker: "fn no_such_handler(", highlight: "x" };
        let err = gone.find().unwrap_err();
        assert!(
            err.contains("fn no_such_handler(") && err.contains("servers/async-native/main.rs"),
            "{err}"
        );
    }

    #[test]
    fn every_listing_fits_the_screen_and_never_breaks_inside_a_word() {
        let word = |c: char| c.is_alphanumeric() || c == '_';
        for (name, s) in ALL {
            let text = s.render(false).unwrap_or_else(|e| panic!("{name}: {e}"));
            for line in text.lines() {
                assert!(
                    line.chars().count() <= super::super::COLUMNS,
                    "{name}: {} columns: {line}",
                    line.chars().count()
                );
            }
            // Every character of the source is shown, in order.
            let code = |l: &str| l.split_once(" | ").map_or(String::new(), |(_, c)| c.to_string());
            let source: String = s
                .find()
                .unwrap()
                .lines
                .iter()
                .flat_map(|(_, l)| l.chars())
                .filter(|c| !c.is_whitespace())
                .collect();
            let shown: String = text
                .lines()
                .skip(1)
                .flat_map(|l| code(l).chars().collect::<Vec<_>>())
                .filter(|c| !c.is_whitespace())
                .collect();
            assert_eq!(shown, source, "{name}");
            // A continuation ("       | ") never starts in the middle of a
            // word, nor inside a string.
            let lines: Vec<&str> = text.lines().skip(1).collect();
            let mut so_far = String::new();
            for pair in lines.windows(2) {
                so_far = if pair[0].trim_start().starts_with("| ") {
                    so_far + &code(pair[0])
                } else {
                    code(pair[0])
                };
                if pair[1].trim_start().starts_with("| ") {
                    let (end, start) =
                        (code(pair[0]).chars().last(), code(pair[1]).trim_start().chars().next());
                    assert!(
                        !(end.is_some_and(word) && start.is_some_and(word)),
                        "{name}: broken inside a word:\n{}\n{}",
                        pair[0],
                        pair[1]
                    );
                    assert!(
                        so_far.matches('"').count().is_multiple_of(2),
                        "{name}: broken inside a string:\n{}\n{}",
                        pair[0],
                        pair[1]
                    );
                }
            }
        }
    }

    #[test]
    fn a_long_line_breaks_at_a_space_under_its_own_indentation() {
        let line = "        let answer = handle_the_request(first_argument, second_argument, third_argument);";
        let pieces = fit_code(line, 50);
        assert_eq!(
            pieces,
            [
                "        let answer = handle_the_request(",
                "            first_argument, second_argument,",
                "            third_argument);",
            ]
        );
        assert_eq!(fit_code("    short();", 50), ["    short();"]);
        // No space to break at: after a `(`, or before a chained `.`.
        let chain =
            "    StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);";
        assert_eq!(
            fit_code(chain, 50),
            [
                "    StatusCode::from_u16(reply.status).unwrap_or(",
                "        StatusCode::INTERNAL_SERVER_ERROR);"
            ]
        );
        // Never inside a string literal, even at a space.
        let text = r#"    let core = acquire().await.expect("the semaphore is never closed");"#;
        assert_eq!(
            fit_code(text, 50),
            [
                "    let core = acquire().await.expect(",
                r#"        "the semaphore is never closed");"#
            ]
        );
    }

    #[test]
    fn braces_in_strings_chars_and_comments_do_not_close_a_block() {
        let lines = [
            "fn f() {",
            r#"    let s = "}}";"#,
            "    let c = '}'; // }",
            "    g(|x: &'a str| x);",
            "}",
            "after",
        ];
        assert_eq!(block_end(&lines), Some(5));
    }
}
