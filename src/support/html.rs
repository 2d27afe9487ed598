//! report.html: one file a person opens offline, on a projector's laptop.
//! The report's Markdown (its tables, headings, bullets and conclusions)
//! becomes HTML, and every SVG chart the run wrote is inlined: no script,
//! no font or stylesheet from the network, the CSS in the page itself.
//!
//! Hand-written on purpose: the kit's Markdown is a small, known subset
//! (aligned pipe tables, `#` headings, `- ` bullets that go on under two
//! spaces, paragraphs, fenced blocks), and a full Markdown crate would be
//! far more than that needs.

use std::path::{Path, PathBuf};

use crate::error::{CliError, Result};

/// The page's name in every `--out` folder.
pub const FILE: &str = "report.html";

/// Sized for a projector: large type, dark on white, tables that scroll
/// sideways rather than shrink, charts as wide as the page.
const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:20px;line-height:1.45;\
color:#111;background:#fff;margin:0 auto;padding:1.5em 2em;max-width:1500px}\
h1{font-size:1.8em;margin:0 0 .6em}h2{font-size:1.4em;margin:1.4em 0 .5em}h3,h4{font-size:1.15em;margin:1.2em 0 .4em}\
.table{overflow-x:auto;margin:1em 0}\
table{border-collapse:collapse;font-variant-numeric:tabular-nums}\
th,td{border:1px solid #bbb;padding:.3em .6em;text-align:left;white-space:nowrap}\
th{background:#eef}tbody tr:nth-child(even){background:#f6f6f6}\
pre{background:#f6f6f6;padding:.8em 1em;overflow-x:auto;font-size:.85em;line-height:1.3}\
code,pre{font-family:ui-monospace,Menlo,Consolas,'DejaVu Sans Mono',monospace}\
figure{margin:2em 0}figcaption{font-weight:bold;margin-bottom:.4em}\
figure svg{width:100%;height:auto;border:1px solid #ddd}";

/// Writes `dir/report.html`: `title` as its heading, `markdown` (the
/// report's text) as HTML, and each `.svg` among `charts` inlined under a
/// caption naming it relative to `dir` (the PNGs, the same charts, are
/// left out). Returns the path written.
pub fn write(dir: &Path, title: &str, markdown: &str, charts: &[PathBuf]) -> Result<PathBuf> {
    let mut svgs = Vec::new();
    for path in charts.iter().filter(|p| p.extension().is_some_and(|e| e == "svg")) {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::Failed(format!("cannot read {}: {e}", path.display())))?;
        let name = path.strip_prefix(dir).unwrap_or(path).with_extension("");
        svgs.push((name.to_string_lossy().into_owned(), text));
    }
    let path = dir.join(FILE);
    std::fs::write(&path, page(title, markdown, &svgs))
        .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}

/// The whole page: `charts` are (caption, the SVG file's text).
pub fn page(title: &str, markdown: &str, charts: &[(String, String)]) -> String {
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{t}</h1>\n",
        t = escape(title)
    );
    html.push_str(&to_html(markdown));
    if !charts.is_empty() {
        html.push_str("<h2>Charts</h2>\n");
    }
    for (caption, svg) in charts {
        html.push_str(&format!(
            "<figure>\n<figcaption>{}</figcaption>\n{}\n</figure>\n",
            escape(caption),
            inline_svg(svg)
        ));
    }
    html.push_str("</body>\n</html>\n");
    html
}

/// The SVG from its root element on: an XML declaration, a doctype or a
/// comment before it has no place inside an HTML page.
pub fn inline_svg(svg: &str) -> &str {
    svg.find("<svg").map_or("", |at| svg[at..].trim_end())
}

/// `&`, `<`, `>` and both quotes as entities: safe in text and in attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One block of the kit's Markdown.
enum Block {
    Heading(usize, String),
    Paragraph(String),
    List(Vec<String>),
    Table(Vec<Vec<String>>),
    Pre(String),
}

/// The kit's Markdown subset as HTML blocks.
fn to_html(markdown: &str) -> String {
    blocks(markdown).iter().map(block_html).collect()
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines().peekable();
    // A blank line ends a paragraph and a bullet's text.
    let mut blank = true;
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        let after_blank = std::mem::replace(&mut blank, trimmed.is_empty());
        if trimmed.starts_with("```") {
            let mut text = String::new();
            for inner in lines.by_ref() {
                if inner.trim().starts_with("```") {
                    break;
                }
                text.push_str(inner);
                text.push('\n');
            }
            blocks.push(Block::Pre(text));
        } else if trimmed.starts_with('|') {
            let mut rows = vec![cells(trimmed)];
            while let Some(next) = lines.peek().map(|l| l.trim()).filter(|l| l.starts_with('|')) {
                rows.push(cells(next));
                lines.next();
            }
            blocks.push(Block::Table(rows));
        } else if let Some(level) = heading_level(trimmed) {
            blocks.push(Block::Heading(level, trimmed[level..].trim().to_string()));
        } else if trimmed.is_empty() || trimmed.starts_with("![") {
            // A blank line ends a block; an image link names a chart the page inlines.
        } else if let Some(item) = trimmed.strip_prefix("- ") {
            match blocks.last_mut() {
                Some(Block::List(items)) => items.push(item.to_string()),
                _ => blocks.push(Block::List(vec![item.to_string()])),
            }
        } else {
            // A line that goes on: under a bullet (indented) or in a paragraph.
            match blocks.last_mut() {
                Some(Block::List(items)) if line.starts_with(' ') && !after_blank => {
                    let last = items.last_mut().expect("a list has an item");
                    last.push(' ');
                    last.push_str(trimmed);
                }
                Some(Block::Paragraph(text)) if !after_blank => {
                    text.push(' ');
                    text.push_str(trimmed);
                }
                _ => blocks.push(Block::Paragraph(trimmed.to_string())),
            }
        }
    }
    blocks
}

/// `#` to `######` and a space: the heading's level.
fn heading_level(line: &str) -> Option<usize> {
    let level = line.chars().take_while(|c| *c == '#').count();
    ((1..=6).contains(&level) && line[level..].starts_with(' ')).then_some(level)
}

/// `| a | b |` as its trimmed cells.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    inner.split('|').map(|c| c.trim().to_string()).collect()
}

/// `|---|:--:|`: the rule under a table's header.
fn is_rule(row: &[String]) -> bool {
    row.iter().all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')))
}

fn block_html(block: &Block) -> String {
    match block {
        // The page's title is its h1, as report.md's `#` line is.
        Block::Heading(h, text) => format!("<h{h}>{}</h{h}>\n", inline(text)),
        Block::Paragraph(text) => format!("<p>{}</p>\n", inline(text)),
        Block::List(items) => {
            let items: String = items.iter().map(|i| format!("<li>{}</li>\n", inline(i))).collect();
            format!("<ul>\n{items}</ul>\n")
        }
        Block::Pre(text) => format!("<pre>{}</pre>\n", escape(text)),
        Block::Table(rows) => table_html(rows),
    }
}

fn table_html(rows: &[Vec<String>]) -> String {
    let row = |cells: &[String], tag: &str| {
        let cells: String = cells.iter().map(|c| format!("<{tag}>{}</{tag}>", inline(c))).collect();
        format!("<tr>{cells}</tr>\n")
    };
    let mut html = String::from("<div class=\"table\"><table>\n");
    let body = match rows {
        [head, rule, rest @ ..] if is_rule(rule) => {
            html.push_str(&format!("<thead>{}</thead>\n", row(head, "th")));
            rest
        }
        _ => rows,
    };
    html.push_str("<tbody>\n");
    for cells in body {
        html.push_str(&row(cells, "td"));
    }
    html.push_str("</tbody>\n</table></div>\n");
    html
}

/// Escaped text, with `code` spans kept as code.
fn inline(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    // An odd backtick out is text, not the start of a span.
    if parts.len().is_multiple_of(2) {
        return escape(text);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| if i % 2 == 1 { format!("<code>{}</code>", escape(p)) } else { escape(p) })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVG: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
        <!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n\
        <svg width=\"10\" height=\"10\" xmlns=\"http://www.w3.org/2000/svg\"><text>a &lt; b</text></svg>\n";

    const REPORT: &str = "| variant | total |\n| ------- | ----- |\n| <sync> & co | 1.00 s |\n\n\
        ## What it means\n\n\
        - sync-blocking /parallel x8: 2 rounds of 0.10 s\n  on 4 slots = 0.20 s predicted.\n\
        - async-native: 1 round.\n\n\
        The slowest \"waited\" for `spawn_blocking`;\nit said so.\n\n\
        ```\nrate    target 50.0/s <ok>\n```\n![timeline](timeline.png)\n";

    /// Nothing from the network and nothing that runs: the page opens offline.
    fn assert_self_contained(html: &str) {
        for banned in [
            "<script",
            "src=\"http",
            "href=\"http",
            "@import",
            "url(http",
            "<link",
            "<?xml",
            "<!DOCTYPE svg",
        ] {
            assert!(!html.contains(banned), "{banned} in:\n{html}");
        }
    }

    #[test]
    fn every_text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let html = page("race <N> & \"t\"", REPORT, &[]);
        assert!(html.contains("<title>race &lt;N&gt; &amp; &quot;t&quot;</title>"), "{html}");
        assert!(html.contains("<td>&lt;sync&gt; &amp; co</td>"), "{html}");
        assert!(html.contains("<pre>rate    target 50.0/s &lt;ok&gt;\n</pre>"), "{html}");
        assert!(!html.contains("<sync>") && !html.contains("<ok>"), "{html}");
        assert_self_contained(&html);
    }

    #[test]
    fn an_svg_is_inlined_without_its_prolog() {
        assert_eq!(inline_svg(SVG), SVG[SVG.find("<svg").unwrap()..].trim_end());
        let html =
            page("t", "", &[("timeline".into(), SVG.into()), ("latency".into(), SVG.into())]);
        assert_eq!(html.matches("<svg ").count(), 2, "{html}");
        assert_eq!(html.matches("</svg>").count(), 2, "{html}");
        assert!(html.contains("<figcaption>timeline</figcaption>\n<svg width=\"10\""), "{html}");
        // The chart's own escaping stays as the SVG wrote it.
        assert!(html.contains("<text>a &lt; b</text>"), "{html}");
        assert_self_contained(&html);
        assert!(!page("t", "", &[]).contains("<h2>Charts</h2>"));
    }

    #[test]
    fn the_markdown_becomes_tables_lists_and_paragraphs() {
        let html = to_html(REPORT);
        assert!(
            html.contains("<thead><tr><th>variant</th><th>total</th></tr>\n</thead>"),
            "{html}"
        );
        assert_eq!(
            html.matches("<tr>").count(),
            2,
            "a header and one row, the rule dropped: {html}"
        );
        assert!(html.contains("<h2>What it means</h2>"), "{html}");
        // A bullet goes on under two spaces; two bullets, one list.
        assert!(
            html.contains("<ul>\n<li>sync-blocking /parallel x8: 2 rounds of 0.10 s on 4 slots = 0.20 s predicted.</li>\n<li>async-native: 1 round.</li>\n</ul>"),
            "{html}"
        );
        assert!(
            html.contains("<p>The slowest &quot;waited&quot; for <code>spawn_blocking</code>; it said so.</p>"),
            "{html}"
        );
        // The image link is left out: the page inlines the chart itself.
        assert!(!html.contains("timeline.png"), "{html}");
        // Two paragraphs stay two.
        assert_eq!(to_html("one\n\ntwo\n").matches("<p>").count(), 2);
    }
}
