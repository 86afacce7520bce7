//! What is kept of a hook's output: the end of each stream, at most
//! [`OUTPUT_TAIL`] bytes, cut at a line (or word) boundary and redacted.
//!
//! The cut matters for redaction: a secret cut in two at the start of the
//! kept part could not be recognised, so the partial first line (or word) is
//! dropped and replaced by [`CUT_MARK`].

use tokio::io::AsyncReadExt;

/// How much of each of a hook's stdout and stderr is kept, in bytes (the
/// end of each, before the [`CUT_MARK`]).
pub const OUTPUT_TAIL: usize = 4096;

/// What starts kept output when earlier output was dropped.
pub const CUT_MARK: &str = "[earlier output cut]";

/// Reads a pipe to its end on a task and returns what is kept of it:
/// [`kept`] of its bytes.
pub fn read_tail<R: tokio::io::AsyncRead + Unpin + Send + 'static>(
    mut pipe: R,
) -> tokio::task::JoinHandle<String> {
    tokio::spawn(async move {
        let mut buffer: Vec<u8> = Vec::new();
        let mut cut = false;
        let mut chunk = [0u8; 4096];
        loop {
            match pipe.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    buffer.extend_from_slice(&chunk[..n]);
                    // Keep one byte more than the tail, so that `kept` sees
                    // whether the tail starts on a boundary.
                    if buffer.len() > 2 * OUTPUT_TAIL {
                        buffer.drain(..buffer.len() - OUTPUT_TAIL - 1);
                        cut = true;
                    }
                }
            }
        }
        kept(&buffer, cut)
    })
}

/// The end of `bytes` (at most [`OUTPUT_TAIL`] of them), as text, redacted.
/// When anything is dropped (`cut`, or more bytes than the tail), the kept
/// part starts after the first line break of the tail, else after its first
/// whitespace, else nothing of it is kept; [`CUT_MARK`] says so.
pub fn kept(bytes: &[u8], cut: bool) -> String {
    let text = if bytes.len() <= OUTPUT_TAIL && !cut {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        let start = bytes.len().saturating_sub(OUTPUT_TAIL);
        // The byte before the tail, when there is one, tells whether the
        // tail starts on a boundary.
        let starts_clean = start > 0 && bytes[start - 1] == b'\n';
        let tail = &bytes[start..];
        let body = if starts_clean {
            tail
        } else if let Some(i) = tail.iter().position(|&b| b == b'\n') {
            &tail[i + 1..]
        } else if let Some(i) = tail.iter().position(u8::is_ascii_whitespace) {
            &tail[i + 1..]
        } else {
            &[]
        };
        format!("{CUT_MARK}\n{}", String::from_utf8_lossy(body))
    };
    shipgate_core::redact::scrub(text.trim_end()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_output_is_kept_whole_and_redacted() {
        shipgate_core::redact::register("hook-output-secret-1");
        assert_eq!(
            kept(b"token=hook-output-secret-1\ndone\n", false),
            "token=***\ndone"
        );
    }

    #[test]
    fn long_output_keeps_its_end_from_a_line_boundary() {
        let secret = "hook-output-secret-split-in-two";
        shipgate_core::redact::register(secret);
        // The secret straddles the start of the tail: its end alone would
        // not be recognised, so its whole line goes.
        let filler = "y".repeat(OUTPUT_TAIL - secret.len() / 2 - 1 - 4);
        let mut text = String::new();
        text.push_str(&"x".repeat(1000));
        text.push(' ');
        text.push_str(secret);
        text.push('\n');
        text.push_str(&filler);
        text.push_str("\nend");
        let kept = kept(text.as_bytes(), false);
        assert!(kept.starts_with(CUT_MARK), "{kept}");
        assert!(!kept.contains("split-in-two"), "{kept}");
        assert!(kept.ends_with("\nend"), "{kept}");
        assert!(kept.len() <= OUTPUT_TAIL + CUT_MARK.len() + 1);
    }

    #[test]
    fn one_long_line_without_a_boundary_is_dropped() {
        let text = "z".repeat(3 * OUTPUT_TAIL);
        assert_eq!(kept(text.as_bytes(), false), CUT_MARK);
        let words = format!("{} tail words", "z".repeat(3 * OUTPUT_TAIL));
        assert_eq!(
            kept(words.as_bytes(), false),
            format!("{CUT_MARK}\ntail words")
        );
    }
}
