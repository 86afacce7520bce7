//! Messages with interpolated values: `"error rate {{ percent(x) }} above
//! {{ percent(params.max) }}"`. Each `{{ … }}` is an expression, compiled
//! and checked with the rule.

/// A piece of a message template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text as written.
    Text(&'a str),
    /// An expression and its byte offset in the template.
    Expr(&'a str, usize),
}

/// Splits a template into text and `{{ expression }}` pieces, or says where
/// a `{{` is not closed.
pub fn parse(template: &str) -> Result<Vec<Piece<'_>>, usize> {
    let mut pieces = Vec::new();
    let mut rest = template;
    let mut at = 0;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Text(&rest[..open]));
        }
        let inner_start = open + 2;
        let Some(close) = rest[inner_start..].find("}}") else {
            return Err(at + open);
        };
        let inner = &rest[inner_start..inner_start + close];
        let leading = inner.len() - inner.trim_start().len();
        pieces.push(Piece::Expr(inner.trim(), at + inner_start + leading));
        let consumed = inner_start + close + 2;
        at += consumed;
        rest = &rest[consumed..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// A value as it reads in a message: numbers without noise, lists joined
/// with commas, strings without quotes.
pub fn render(value: &cel::Value) -> String {
    use cel::Value;
    match value {
        Value::String(text) => text.to_string(),
        Value::Float(x) => crate::functions::trim_number(*x, 4),
        Value::Int(x) => x.to_string(),
        Value::UInt(x) => x.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::List(items) => items.iter().map(render).collect::<Vec<_>>().join(", "),
        Value::Map(map) => {
            let mut entries: Vec<String> = map
                .map
                .iter()
                .map(|(key, value)| {
                    format!("{}: {}", render(&cel::Value::from(key)), render(value))
                })
                .collect();
            entries.sort();
            format!("{{{}}}", entries.join(", "))
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_text_and_expressions_with_their_offsets() {
        assert_eq!(
            parse("rate {{ value(m) }} > {{x}}!").unwrap(),
            vec![
                Piece::Text("rate "),
                Piece::Expr("value(m)", 8),
                Piece::Text(" > "),
                Piece::Expr("x", 24),
                Piece::Text("!"),
            ]
        );
        assert_eq!(parse("no braces").unwrap(), vec![Piece::Text("no braces")]);
        assert_eq!(parse("a {{ b").unwrap_err(), 2);
    }
}
