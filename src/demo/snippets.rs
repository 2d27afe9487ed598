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

pub const SYNC_APP: Source = source!("servers/sync-blocking/app.rs");
pub const SYNC_MAIN: Source = source!("servers/sync-blocking/main.rs");
pub const TRAP_MAIN: Source = source!("servers/async-trap/main.rs");
pub const WRAPPER_ADAPTER: Source = source!("servers/blocking-wrapper/bridge.rs");
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
/// projector shows about 25 lines, and the lesson fits in far fewer.
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
            [] => return Err(format!("marker `{}` not found in {}", self.marker, self.source.path)),
            many => return Err(format!("marker `{}` is on {} lines of {}", self.marker, many.len(), self.source.path)),
        };
        let end = block_end(&all[start..])
            .map(|len| start + len)
            .ok_or_else(|| format!("the block at `{}` in {} never closes", self.marker, self.source.path))?;
        let lines: Vec<_> = (start..end).map(|i| (i + 1, all[i])).collect();
        if lines.len() > MAX_LINES {
            return Err(format!("the block at `{}` in {} is {} lines long", self.marker, self.source.path, lines.len()));
        }
        if !lines.iter().any(|(_, l)| l.contains(self.highlight)) {
            return Err(format!("`{}` is not inside the block at `{}` in {}", self.highlight, self.marker, self.source.path));
        }
        Ok(Block { lines })
    }

    /// The block, numbered, lesson lines marked `>` (and bold when `color`).
    pub fn render(&self, color: bool) -> Result<String, String> {
        let block = self.find()?;
        let mut out = format!("  {}\n", self.source.path);
        for (number, line) in block.lines {
            let key = line.contains(self.highlight);
            let text = format!("{} {number:>4} | {line}", if key { ">" } else { " " });
            let text = if key && color { format!("\x1b[1;33m{text}\x1b[0m") } else { text };
            // Writing to a String cannot fail.
            let _ = writeln!(out, "  {text}");
        }
        Ok(out)
    }
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
        let broken: Vec<String> =
            ALL.iter().filter_map(|(name, s)| s.find().err().map(|e| format!("{name}: {e}"))).collect();
        assert!(broken.is_empty(), "snippets the demo can no longer show:\n{}", broken.join("\n"));
    }

    #[test]
    fn snippets_are_whole_blocks_with_the_file_s_own_line_numbers() {
        for (name, s) in ALL {
            let block = s.find().unwrap_or_else(|e| panic!("{name}: {e}"));
            let (first, last) = (block.lines[0], block.lines[block.lines.len() - 1]);
            assert!(first.1.contains(s.marker), "{name}: starts at `{}`", first.1);
            assert!(last.1.trim_end().ends_with('}'), "{name}: ends at `{}`, not a closing brace", last.1);
            let file: Vec<&str> = s.source.text.lines().collect();
            for (number, line) in &block.lines {
                assert_eq!(file[number - 1], *line, "{name}: line {number} of {} is numbered wrong", s.source.path);
            }
        }
    }

    #[test]
    fn the_lesson_lines_are_the_ones_the_steps_talk_about() {
        let text = |s: Snippet| s.render(false).unwrap_or_else(|e| panic!("{e}"));
        let marked = |s: Snippet| text(s).lines().filter(|l| l.trim_start().starts_with("> ")).count();
        assert_eq!(marked(SYNC_PARALLEL), 2, "two blocking waits in /parallel");
        assert_eq!(marked(TRAP_PARALLEL), 2, "two blocking waits in the trap");
        assert!(text(NATIVE_PARALLEL).contains("tokio::join!(p.backend.wait(p.io), p.backend.wait(p.io))"));
        assert!(text(NATIVE_CPU).contains("spawn_blocking"));
    }

    #[test]
    fn a_missing_marker_is_named() {
        let gone = Snippet { source: NATIVE_MAIN, marker: "fn no_such_handler(", highlight: "x" };
        let err = gone.find().unwrap_err();
        assert!(err.contains("fn no_such_handler(") && err.contains("servers/async-native/main.rs"), "{err}");
    }

    #[test]
    fn braces_in_strings_chars_and_comments_do_not_close_a_block() {
        let lines = ["fn f() {", r#"    let s = "}}";"#, "    let c = '}'; // }", "    g(|x: &'a str| x);", "}", "after"];
        assert_eq!(block_end(&lines), Some(5));
    }
}
