//! The runner's screen, drawn from an [`App`] and nothing else, so that the
//! snapshot tests draw it on ratatui's test backend.
//!
//! Top to bottom: the exercise (its place in the course, its story, the file
//! to edit), the checklist, the first failure's message as the grade wrote
//! it (not re-wrapped: its lines are laid out for 100 columns), and the keys
//! on offer. `h`, `l`, `x` and `s` show their page in the message's place.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};
use ratatui::Frame;

use super::app::{App, Check, Mode};

const PASS: Color = Color::Green;
const FAIL: Color = Color::Red;
const RUNNING: Color = Color::Yellow;
const DIM: Color = Color::DarkGray;

/// Draws the screen; returns where the file's path is, for the loop to make
/// it a terminal link ([`link`]).
pub fn draw(frame: &mut Frame, app: &App) -> Rect {
    let lesson = app.lesson();
    let checks = lesson.checks.len() as u16;
    let [head, list, body, keys] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(checks + 2),
        Constraint::Fill(1),
        Constraint::Length(2),
    ])
    .areas(frame.area());
    let link = draw_head(frame, app, head);
    frame.render_widget(checklist(app), list);
    draw_body(frame, app, body);
    frame.render_widget(key_lines(app), keys);
    link
}

fn draw_head(frame: &mut Frame, app: &App, area: Rect) -> Rect {
    let lesson = app.lesson();
    let [title, story, file] = Layout::vertical([Constraint::Length(1); 3]).areas(area);
    let place = format!(
        " kit learn · exercise {} of {}: {}",
        app.current + 1,
        app.course.lessons.len(),
        lesson.name
    );
    let state = grade_state(app);
    let pad =
        (area.width as usize).saturating_sub(place.chars().count() + state.0.chars().count() + 1);
    frame.render_widget(
        Line::from(vec![
            Span::styled(place, Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(" ".repeat(pad)),
            Span::styled(state.0, Style::new().fg(state.1)),
        ]),
        title,
    );
    frame.render_widget(Line::from(format!(" {}", lesson.story)), story);
    let path = lesson.shown_path(&app.course.root);
    let [label, link] =
        Layout::horizontal([Constraint::Length(7), Constraint::Fill(1)]).areas(file);
    frame.render_widget(Line::styled(" edit: ", Style::new().fg(DIM)), label);
    let width = (path.chars().count() as u16).min(link.width);
    frame.render_widget(Line::styled(path, Style::new().add_modifier(Modifier::UNDERLINED)), link);
    Rect { width, ..link }
}

/// The header's right end: what the grade is doing, or how the last one went.
fn grade_state(app: &App) -> (String, Color) {
    if let Some(g) = &app.grading {
        let done = app.checks.iter().filter(|c| !matches!(c, Check::Running)).count();
        let of = app.checks.len();
        let what =
            if done == 0 && g.first_verdict.is_none() { "building and grading" } else { "grading" };
        return (
            format!("{what}: {done} of {of} checks in, {:.1} s", g.elapsed().as_secs_f64()),
            RUNNING,
        );
    }
    match app.last {
        Some(last) => {
            let first = last
                .first_verdict
                .map(|d| format!(", first verdict at {:.1} s", d.as_secs_f64()))
                .unwrap_or_default();
            let (word, color) = if last.passed { ("passed", PASS) } else { ("graded", FAIL) };
            (format!("{word} in {:.1} s{first}", last.took.as_secs_f64()), color)
        }
        None => (String::new(), DIM),
    }
}

fn checklist(app: &App) -> Paragraph<'static> {
    let lesson = app.lesson();
    let lines: Vec<Line> = lesson
        .checks
        .iter()
        .enumerate()
        .map(|(i, title)| {
            let check = app.checks.get(i).copied().unwrap_or(Check::NotRun);
            let (mark, color) = match check {
                Check::Passed => ("✓", PASS),
                Check::Failed => ("✗", FAIL),
                Check::Running => ("…", RUNNING),
                Check::Ignored => ("-", DIM),
                Check::NotRun => ("·", DIM),
            };
            let words = match check {
                Check::NotRun => "not yet run",
                Check::Running => "running",
                Check::Passed => "passes",
                Check::Failed => "fails",
                Check::Ignored => "ignored",
            };
            Line::from(vec![
                Span::styled(
                    format!(" {mark} "),
                    Style::new().fg(color).add_modifier(Modifier::BOLD),
                ),
                Span::raw(format!("{} {title}", i + 1)),
                Span::styled(format!("  {words}"), Style::new().fg(DIM)),
            ])
        })
        .collect();
    Paragraph::new(lines).block(Block::bordered().title(" checks "))
}

fn draw_body(frame: &mut Frame, app: &App, area: Rect) {
    let (title, text, color): (String, Text, Color) = match &app.mode {
        Mode::Hint { n, text } => (format!(" hint {n} (any key: back) "), Text::raw(text.clone()), Color::Cyan),
        Mode::Solution { diff } => (" the solution's diff against your file (any key: back) ".into(), diff_text(diff), Color::Cyan),
        Mode::ConfirmReset => (
            " reset? ".into(),
            Text::raw(format!(
                "Put {} back as it was given? Your changes to it are lost.\n\ny: reset   any other key: keep my file",
                app.lesson().shown_path(&app.course.root)
            )),
            FAIL,
        ),
        Mode::List { selected } => (" exercises (↑↓, Enter: go, any other key: back) ".into(), list_text(app, *selected), Color::Cyan),
        Mode::Main => main_text(app, area.width as usize),
    };
    let scroll = match app.mode {
        Mode::List { .. } | Mode::ConfirmReset => 0,
        _ => app.scroll,
    };
    Paragraph::new(text)
        .scroll((scroll, 0))
        // A rule above, no sides: a message's lines get the full width.
        .block(Block::new().borders(Borders::TOP).title(title).border_style(Style::new().fg(color)))
        .render(area, frame.buffer_mut());
}

/// The body in the main view: the build error, the first failure, or what to do.
fn main_text(app: &App, width: usize) -> (String, Text<'static>, Color) {
    if let Some(error) = &app.build_error {
        return (" it does not build: the compiler says ".into(), Text::raw(error.clone()), FAIL);
    }
    if let Some((n, message)) = app.first_report() {
        return (format!(" check {n} fails "), fit(message, width), FAIL);
    }
    if app.missing_database() {
        return (
            " this grade needs a database ".into(),
            fit(&app.database_words(), width),
            RUNNING,
        );
    }
    if app.passed() {
        let words = "Every check passes: the server has the property each check names,\n\
                     measured in time and in the exact count beside it.";
        return (" done ".into(), Text::raw(words), PASS);
    }
    let failed = app.checks.iter().position(|c| *c == Check::Failed);
    let text = match (failed, app.grading.is_some()) {
        (Some(i), true) => {
            format!("Check {} fails; its message comes when the check has written it.", i + 1)
        }
        (Some(i), false) => format!(
            "Check {} fails, and left no message: see the grade's log in target/learn/.",
            i + 1
        ),
        (None, true) => "The grade runs: each check's verdict appears as it ends.".into(),
        (None, false) => "Save the exercise's file, and the grade runs.".into(),
    };
    (" the grade ".into(), Text::raw(text), DIM)
}

/// `text` with every line that is wider than `width` continued on the next
/// lines, broken between words and indented under its start (+2): the
/// grade's lines are laid out for reading in full, and a line cut at the
/// screen's edge would hide the number at its end.
pub fn fit(text: &str, width: usize) -> Text<'static> {
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.chars().count() <= width || width < 20 {
            lines.push(Line::raw(line.to_string()));
            continue;
        }
        let indent = line.chars().take_while(|c| *c == ' ').count();
        let mut current = " ".repeat(indent);
        // `current` holds only its indent.
        let mut fresh = true;
        for word in line[indent..].split(' ') {
            let wider =
                current.chars().count() + usize::from(!fresh) + word.chars().count() > width;
            if wider && !fresh {
                lines.push(Line::raw(std::mem::take(&mut current)));
                current = " ".repeat(indent + 2);
                fresh = true;
            }
            if !fresh {
                current.push(' ');
            }
            current.push_str(word);
            fresh = false;
        }
        lines.push(Line::raw(current));
    }
    Text::from(lines)
}

fn list_text(app: &App, selected: usize) -> Text<'static> {
    let width = app.course.lessons.iter().map(|l| l.name.len()).max().unwrap_or(0);
    let lines: Vec<Line> = app
        .course
        .lessons
        .iter()
        .enumerate()
        .map(|(i, lesson)| {
            let standing = app.progress.standing(lesson);
            let mark = if i == selected { "›" } else { " " };
            let style = if i == selected {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new()
            };
            Line::styled(
                format!("{mark} {}. {:width$}  {}", i + 1, lesson.name, standing.words()),
                style,
            )
        })
        .collect();
    Text::from(lines)
}

fn diff_text(diff: &str) -> Text<'static> {
    Text::from(
        diff.lines()
            .map(|l| {
                let color = match l.chars().next() {
                    Some('+') if !l.starts_with("+++") => PASS,
                    Some('-') if !l.starts_with("---") => FAIL,
                    Some('@') => Color::Cyan,
                    _ => Color::Reset,
                };
                Line::styled(l.to_string(), Style::new().fg(color))
            })
            .collect::<Vec<_>>(),
    )
}

fn key_lines(app: &App) -> Paragraph<'static> {
    let mut keys =
        vec![("h", "hint"), ("l", "list"), ("x", "reset"), ("r", "grade now"), ("q", "quit")];
    if app.passed() || app.missing_database() {
        keys.insert(0, ("n", "next exercise"));
    }
    if app.passed() {
        keys.insert(1, ("s", "the solution's diff"));
    }
    let mut spans = vec![Span::raw(" ")];
    for (key, what) in keys {
        spans.push(Span::styled(key, Style::new().add_modifier(Modifier::BOLD)));
        spans.push(Span::styled(format!(" {what}   "), Style::new().fg(DIM)));
    }
    let note = app.note.clone().unwrap_or_else(|| {
        if app.manual {
            "saves are not watched (--manual-run): press r to grade".into()
        } else {
            "save the file to grade it".into()
        }
    });
    Paragraph::new(vec![
        Line::from(spans),
        Line::styled(format!(" {note}"), Style::new().fg(RUNNING)),
    ])
}

/// The escape sequence that makes the path drawn at `area` a terminal link
/// (OSC 8) to `file`: the same characters, written again over themselves by
/// the loop after each draw. (ratatui measures a cell by its visible width
/// and cannot hold an escape sequence; a terminal without links shows the
/// plain path, as before.)
pub fn link(area: Rect, shown: &str, file: &std::path::Path) -> String {
    let text: String = shown.chars().take(area.width as usize).collect();
    format!(
        "\x1b[{};{}H\x1b[4m\x1b]8;;file://{}\x07{text}\x1b]8;;\x07\x1b[24m",
        area.y + 1,
        area.x + 1,
        file.display()
    )
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn a_long_line_continues_under_its_start_and_loses_no_word() {
        let line = "  measured: 5.020 s for 100 x /parallel; 200 ms per request inside its handler (the server's own p50)";
        let text = fit(&format!("short\n{line}"), 40);
        let shown: Vec<String> = text.lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(shown[0], "short");
        assert!(shown.iter().all(|l| l.chars().count() <= 40), "{shown:#?}");
        assert!(
            shown[1].starts_with("  measured:")
                && shown[2].starts_with("    ")
                && !shown[2].starts_with("     ")
        );
        let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(words(&shown[1..].join(" ")), words(line), "every word, in order");
        assert_eq!(fit(line, 200).lines.len(), 1, "a line that fits is left alone");
    }
}
