//! Names in errors: key paths, "did you mean" and lists of expected names.

/// `key` as it appears in a key path: bare when it can be, else quoted.
fn key_segment(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

/// `parent.key`, with `key` quoted if it needs to be.
pub(super) fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key_segment(key)
    } else {
        format!("{parent}.{}", key_segment(key))
    }
}

/// The edit distance between two strings (adjacent transpositions count one).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: the distance between a[..i] and b[..j].
    let mut d: Vec<Vec<usize>> = (0..=a.len())
        .map(|i| (0..=b.len()).map(|j| if i == 0 { j } else { i }).collect())
        .collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The known name closest to `got`, if it is close enough to be a typo.
pub(super) fn suggest<'a>(got: &str, known: &[&'a str]) -> Option<&'a str> {
    let normal = |s: &str| s.to_lowercase().replace('_', "-");
    let got_normal = normal(got);
    let limit = if got.chars().count() <= 3 { 1 } else { 2 };
    known
        .iter()
        .map(|name| (edit_distance(&got_normal, &normal(name)), *name))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// `` `a` or `b` `` / `` one of `a`, `b`, `c` ``.
pub(super) fn expected_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.as_slice() {
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        _ => format!("one of {}", quoted.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(join_key("", "a b"), "\"a b\"");
        assert_eq!(join_key("x", "y_z-1"), "x.y_z-1");
        let policy_keys = [
            "name", "source", "stages", "mode", "on_error", "sha256", "config",
        ];
        assert_eq!(suggest("mdoe", &policy_keys), Some("mode"));
        assert_eq!(suggest("weight", &policy_keys), None);
        assert_eq!(expected_list(&["a", "b"]), "`a` or `b`");
        assert_eq!(expected_list(&["a", "b", "c"]), "one of `a`, `b`, `c`");
    }
}
