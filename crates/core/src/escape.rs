//! Text output shows outside data literally: control characters escaped.
//!
//! A string that came from outside (the snapshot: commit subjects, check
//! names, another system's error text; a policy's output: rule ids,
//! messages, evidence) could otherwise drive the terminal: `ESC[2K\r` erases
//! the line and returns to its start, after which a forged green `GO` is
//! printed, and a newline in a rule id starts a findings row of its own. In
//! text output every such string is shown with its control characters
//! escaped as Rust writes them: `\n`, `\r`, `\t`, and `\u{1b}` (the
//! character's code point in hex) for the others: the C0 and C1 controls and
//! DEL, and the Unicode characters that reorder or break text without being
//! controls (bidirectional overrides and isolates, the line and paragraph
//! separators), so that "Trojan Source" text reads in its real order. A
//! backslash is left as it is. Only a message keeps its line breaks: its
//! further lines are indented under the first, where they cannot pass for a
//! row.
//!
//! JSON output needs none of this (serde escapes every control character),
//! nor Markdown (see `md_text`, which escapes what Markdown would read).

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` on one line: every control character escaped, line breaks
/// included.
pub fn escape_line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// `text` with its line breaks (`\n`) kept and every other control
/// character escaped.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// Whether `c` must be shown escaped.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let must = |c: char| needs_escape(c) && !(keep_newlines && c == '\n');
    if !text.chars().any(must) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !must(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Writing to a `String` cannot fail.
            _ => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_controls_are_shown_escaped() {
        assert_eq!(
            escape_line("fix\u{1b}[2K\r\u{1b}[32mGO\u{1b}[0m"),
            "fix\\u{1b}[2K\\r\\u{1b}[32mGO\\u{1b}[0m"
        );
        assert_eq!(
            escape_line("a\nb\tc\u{7f}\u{9b}"),
            "a\\nb\\tc\\u{7f}\\u{9b}"
        );
        assert_eq!(escape_line("abc\u{202e}def"), "abc\\u{202e}def");
    }

    #[test]
    fn a_message_keeps_its_line_breaks_only() {
        assert_eq!(
            escape_lines("one\ntwo\r\n\u{1b}]8;;"),
            "one\ntwo\\r\n\\u{1b}]8;;"
        );
    }

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(
            escape_line("plain — ünïcode \\ ok"),
            Cow::Borrowed(_)
        ));
    }
}
