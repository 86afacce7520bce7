//! Breaking changes announced the Conventional Commits way
//! (<https://www.conventionalcommits.org/en/v1.0.0/>):
//!
//! - a subject `type!: description` or `type(scope)!: description`;
//! - a footer line `BREAKING CHANGE: text` or `BREAKING-CHANGE: text` in the
//!   message after the subject (upper case, at the start of a line, as the
//!   specification requires); the text goes on over the following lines
//!   until a blank line or the next footer (`Token: ` or `Token #`).
//!
//! The words "breaking change" in prose (`fix: handle breaking change in
//! parser`) announce nothing. One commit gives at most one entry: its
//! description is the footer text (several footers joined with `; `), or
//! the subject when there is no footer.

/// What breaks, if the commit announces a breaking change. `subject` is the
/// commit's subject line, `message` its whole raw message (subject first).
pub(super) fn breaking(subject: &str, message: &str) -> Option<String> {
    let (announced, footers) = breaking_footers(message);
    if !footers.is_empty() {
        return Some(footers.join("; "));
    }
    (announced || breaking_subject(subject)).then(|| subject.trim().to_owned())
}

/// Whether the subject is `type!:` or `type(scope)!:`.
fn breaking_subject(subject: &str) -> bool {
    let subject = subject.trim_start();
    let type_end = subject
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(subject.len());
    let (kind, rest) = subject.split_at(type_end);
    if !kind.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return false;
    }
    let rest = match rest.strip_prefix('(') {
        Some(scoped) => match scoped.find(')') {
            Some(end) if !scoped[..end].contains('(') => &scoped[end + 1..],
            _ => return false,
        },
        None => rest,
    };
    rest.starts_with("!:")
}

const BREAKING_TOKENS: [&str; 2] = ["BREAKING CHANGE:", "BREAKING-CHANGE:"];

/// Whether the message's body has a `BREAKING CHANGE:` footer, and the
/// footers' texts (those not empty).
fn breaking_footers(message: &str) -> (bool, Vec<String>) {
    let lines: Vec<&str> = message.lines().skip(1).collect();
    let mut announced = false;
    let mut footers = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let Some(first) = BREAKING_TOKENS
            .iter()
            .find_map(|token| lines[index].strip_prefix(token))
        else {
            index += 1;
            continue;
        };
        announced = true;
        let mut parts = vec![first.trim()];
        index += 1;
        while let Some(next) = lines.get(index) {
            if next.trim().is_empty() || is_footer(next) {
                break;
            }
            parts.push(next.trim());
            index += 1;
        }
        let text = parts
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if !text.is_empty() {
            footers.push(text);
        }
    }
    (announced, footers)
}

/// Whether a line starts a git-trailer-style footer: `Token: value` or
/// `Token #value`, the token a word with hyphens, or a breaking token.
fn is_footer(line: &str) -> bool {
    if BREAKING_TOKENS.iter().any(|t| line.starts_with(t)) {
        return true;
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or(line.len());
    let (token, rest) = line.split_at(end);
    !token.is_empty()
        && token.starts_with(|c: char| c.is_ascii_alphabetic())
        && (rest.starts_with(": ") || rest.starts_with(" #"))
}

#[cfg(test)]
mod tests {
    use super::breaking;

    fn check(message: &str) -> Option<String> {
        let subject = message.lines().next().unwrap_or("");
        breaking(subject, message)
    }

    #[test]
    fn subjects_with_a_bang_are_breaking() {
        for subject in [
            "feat!: drop Node 18",
            "feat(api)!: remove v1 endpoints",
            "refactor(core-lib)!: rename",
            "fix!:no space",
        ] {
            assert_eq!(check(subject).as_deref(), Some(subject), "{subject}");
        }
    }

    #[test]
    fn prose_is_not_breaking() {
        for message in [
            "fix: handle breaking change in parser",
            "fix: handle breaking change in parser\n\nThis is not a BREAKING CHANGE for users.",
            "feat: BREAKING CHANGE: in the subject is not a footer",
            "docs: mention breaking-change: policy\n\nbreaking change: lower case is prose",
            "feat(api): add endpoint!",
            "feat(api!): odd scope",
            "Revert \"feat!: drop Node 18\"",
            "Merge branch 'feature'",
            "! : nothing",
            "",
        ] {
            assert_eq!(check(message), None, "{message:?}");
        }
    }

    #[test]
    fn footers_give_the_description() {
        assert_eq!(
            check("feat: new config\n\nBody text.\n\nBREAKING CHANGE: `timeout` is now `deadline`"),
            Some("`timeout` is now `deadline`".to_owned())
        );
        // Both a bang and a footer: one entry, the footer's text.
        assert_eq!(
            check(
                "refactor!: rename keys\n\nBREAKING-CHANGE: keys are\n  renamed everywhere\nRefs: #12"
            ),
            Some("keys are renamed everywhere".to_owned())
        );
        assert_eq!(
            check("chore: x\n\nBREAKING CHANGE: one\nBREAKING CHANGE: two\n"),
            Some("one; two".to_owned())
        );
        // A footer with no text falls back to the subject.
        assert_eq!(
            check("chore: bump\n\nBREAKING CHANGE:"),
            Some("chore: bump".to_owned())
        );
    }
}
