//! Query templates: `$name` / `${name}` placeholders, and durations written
//! the way PromQL reads them.
//!
//! A placeholder is `$` followed by a name (`[A-Za-z_][A-Za-z0-9_]*`), or
//! the name in braces (`${name}`) when a letter follows it. `$$` is a
//! literal `$`; a `$` followed by anything else (the end of a regular
//! expression, `"5..$"`) is left as it is.

use std::time::Duration;

/// One piece of a template: literal text, or a placeholder's name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Dollar,
    Name(&'a str),
}

/// Splits `template` into text and placeholders.
fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        if at > 0 {
            out.push(Piece::Text(&rest[..at]));
        }
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push(Piece::Dollar);
            rest = tail;
        } else if let Some(braced) = after.strip_prefix('{') {
            let end = braced
                .find('}')
                .ok_or_else(|| format!("`${{` without a closing `}}` in `{template}`"))?;
            let name = &braced[..end];
            if name_len(name) != name.len() || name.is_empty() {
                return Err(format!("`${{{name}}}` is not a placeholder name"));
            }
            out.push(Piece::Name(name));
            rest = &braced[end + 1..];
        } else {
            let len = name_len(after);
            if len == 0 {
                out.push(Piece::Text("$"));
            } else {
                out.push(Piece::Name(&after[..len]));
            }
            rest = &after[len..];
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

/// The length of the placeholder name at the start of `text` (0 if none).
fn name_len(text: &str) -> usize {
    let mut len = 0;
    for (i, c) in text.char_indices() {
        let ok = c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit());
        if !ok {
            break;
        }
        len = i + c.len_utf8();
    }
    len
}

/// Checks that `template` only uses the placeholders in `allowed`.
pub fn check(template: &str, allowed: &[&str]) -> Result<(), String> {
    for piece in pieces(template)? {
        if let Piece::Name(name) = piece
            && !allowed.contains(&name)
        {
            return Err(unknown(name, allowed));
        }
    }
    Ok(())
}

/// The message for a placeholder that is not one of `allowed`.
fn unknown(name: &str, allowed: &[&str]) -> String {
    let list = allowed
        .iter()
        .map(|a| format!("${a}"))
        .collect::<Vec<_>>()
        .join(", ");
    if allowed.is_empty() {
        format!("unknown placeholder `${name}`: no placeholders are allowed here")
    } else {
        format!("unknown placeholder `${name}`; the placeholders are {list}")
    }
}

/// `template` with each placeholder replaced by `value(name)`, which is only
/// asked for names in `allowed` and answers `Err` for one without a value.
/// A name not in `allowed` is an error.
pub fn expand(
    template: &str,
    allowed: &[&str],
    value: impl Fn(&str) -> Result<String, String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 32);
    for piece in pieces(template)? {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Dollar => out.push('$'),
            Piece::Name(name) if allowed.contains(&name) => out.push_str(&value(name)?),
            Piece::Name(name) => return Err(unknown(name, allowed)),
        }
    }
    Ok(out)
}

/// `duration` the way PromQL writes it: one unit that divides it exactly
/// (`5m`, `90s`, `1500ms`). Below a millisecond rounds up to `1ms`.
pub fn promql_duration(duration: Duration) -> String {
    let ms = duration.as_millis().max(1);
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[&str] = &["service", "selector", "window", "track"];

    fn vars(name: &str) -> Result<String, String> {
        match name {
            "service" => Ok("checkout".into()),
            "selector" => Ok(r#"service="checkout", track="canary""#.into()),
            "window" => Ok("5m".into()),
            "track" => Ok("canary".into()),
            _ => Err(format!("no {name}")),
        }
    }

    #[test]
    fn expands_both_forms() {
        let out = expand(
            r#"sum(rate(x{$selector, code=~"5.."}[$window])) + y{s="${service}_v2", t="$track"}"#,
            ALL,
            vars,
        )
        .unwrap();
        assert_eq!(
            out,
            r#"sum(rate(x{service="checkout", track="canary", code=~"5.."}[5m])) + y{s="checkout_v2", t="canary"}"#
        );
    }

    #[test]
    fn a_dollar_that_is_no_placeholder_stays() {
        assert_eq!(
            expand(r#"x{code=~"5..$"} $$track $"#, ALL, vars).unwrap(),
            r#"x{code=~"5..$"} $track $"#
        );
    }

    #[test]
    fn unknown_placeholders_are_errors() {
        let err = expand("rate(x[$windows])", ALL, vars).unwrap_err();
        assert_eq!(
            err,
            "unknown placeholder `$windows`; the placeholders are $service, $selector, $window, $track"
        );
        assert!(check("x{$selector}", &["service", "track"]).is_err());
        assert!(check("x{${service}}", &["service"]).is_ok());
        assert!(check("x{${serv", ALL).unwrap_err().contains("closing"));
        assert!(
            check("x{${}}", ALL)
                .unwrap_err()
                .contains("not a placeholder")
        );
    }

    #[test]
    fn a_missing_value_is_an_error() {
        let err = expand("$service", &["service"], |_| Err("not set".into())).unwrap_err();
        assert_eq!(err, "not set");
    }

    #[test]
    fn durations_in_promql() {
        let d = Duration::from_millis;
        assert_eq!(promql_duration(d(300_000)), "5m");
        assert_eq!(promql_duration(d(4_000)), "4s");
        assert_eq!(promql_duration(d(90_000)), "90s");
        assert_eq!(promql_duration(d(1_500)), "1500ms");
        assert_eq!(promql_duration(d(7_200_000)), "2h");
        assert_eq!(promql_duration(d(86_400_000)), "1d");
        assert_eq!(promql_duration(Duration::from_micros(10)), "1ms");
    }
}
