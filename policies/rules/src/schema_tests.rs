//! The checker's tables against the model's own JSON Schema: a field added
//! to, renamed in or removed from the snapshot fails here until the tables
//! follow.

use serde_json::Value;

use crate::schema::{Field, Record, SNAPSHOT};

fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap();
        return resolve(&root["$defs"][name], root);
    }
    for key in ["anyOf", "oneOf"] {
        // `Option<T>`: T or null.
        if let Some(options) = schema.get(key).and_then(Value::as_array)
            && options.len() == 2
            && options
                .iter()
                .any(|o| o.get("type") == Some(&Value::from("null")))
            && let Some(not_null) = options
                .iter()
                .find(|option| option.get("type") != Some(&Value::from("null")))
        {
            return resolve(not_null, root);
        }
    }
    schema
}

fn enum_values(schema: &Value) -> Vec<String> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
    }
    schema
        .get("oneOf")
        .and_then(Value::as_array)
        .map(|options| {
            options
                .iter()
                .flat_map(|option| {
                    option
                        .get("const")
                        .and_then(Value::as_str)
                        .map(|c| vec![c.to_owned()])
                        .unwrap_or_else(|| enum_values(option))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn compare(record: &Record, schema: &Value, root: &Value, path: &str, errors: &mut Vec<String>) {
    let schema = resolve(schema, root);
    let properties = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{path}: {schema}"));
    let mut model: Vec<&str> = properties.keys().map(String::as_str).collect();
    let mut ours: Vec<&str> = record.fields.iter().map(|(name, _)| *name).collect();
    model.sort_unstable();
    ours.sort_unstable();
    if model != ours {
        errors.push(format!(
            "{path}: the model has {model:?}, the checker {ours:?}"
        ));
    }
    for (name, field) in record.fields {
        let Some(property) = properties.get(*name) else {
            continue;
        };
        let property = resolve(property, root);
        let at = format!("{path}.{name}");
        match field {
            Field::Record(inner) => compare(inner, property, root, &at, errors),
            Field::Records(inner) => compare(inner, &property["items"], root, &at, errors),
            Field::Enum(_, names) => {
                let mut model = enum_values(property);
                model.sort();
                let mut ours: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
                ours.sort();
                if model != ours {
                    errors.push(format!(
                        "{at}: the model has {model:?}, the checker {ours:?}"
                    ));
                }
            }
            _ => {}
        }
    }
}

#[test]
fn the_checkers_tables_match_the_snapshots_json_schema() {
    let schema = serde_json::to_value(schemars::schema_for!(shipgate_model::Snapshot)).unwrap();
    let mut errors = Vec::new();
    compare(&SNAPSHOT, &schema, &schema, "snapshot", &mut errors);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}
