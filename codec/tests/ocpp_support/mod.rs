//! Test helpers shared by the `ocpp_*` integration tests: example payloads built from a schema, and mutations
//! that break one schema rule at a time.
#![allow(dead_code)]

use serde_json::{json, Map, Value};

/// Resolves a local `$ref`.
fn resolve<'a>(s: &'a Value, root: &'a Value) -> &'a Value {
    match s
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/definitions/"))
    {
        Some(name) => resolve(&root["definitions"][name], root),
        None => s,
    }
}

/// A valid instance using every declared property (first enum value, short strings, dates, one array item).
pub fn example(schema: &Value) -> Value {
    instance(schema, schema)
}

fn instance(s: &Value, root: &Value) -> Value {
    let s = resolve(s, root);
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        return e[0].clone();
    }
    match s.get("type").and_then(Value::as_str) {
        Some("object") => {
            let mut m = Map::new();
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for (k, v) in props {
                    m.insert(k.clone(), instance(v, root));
                }
            }
            Value::Object(m)
        }
        Some("array") => json!([instance(s.get("items").unwrap_or(&json!({})), root)]),
        Some("string") if s.get("format").and_then(Value::as_str) == Some("date-time") => {
            json!("2024-05-01T12:00:00Z")
        }
        Some("string") => json!("x"),
        Some("integer") => json!(1),
        Some("number") => json!(1.5),
        Some("boolean") => json!(true),
        _ => json!({}),
    }
}

/// The root schema's resolved properties.
pub fn root_props(schema: &Value) -> Vec<(String, Value)> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), resolve(v, schema).clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// A value of a different JSON type than `prop` declares.
pub fn wrong_type(prop: &Value) -> Value {
    match prop.get("type").and_then(Value::as_str) {
        Some("string") => json!(12),
        _ => json!("not-the-right-type"),
    }
}

/// Number-tolerant JSON equality (`1` equals `1.0`).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// JSON pointer (into the [`example`] instance) of the first string enum found anywhere in the schema, walking
/// properties in order and descending into objects and array items.
pub fn first_enum_pointer(schema: &Value) -> Option<String> {
    enum_pointer(schema, schema, String::new())
}

fn enum_pointer(s: &Value, root: &Value, at: String) -> Option<String> {
    let s = resolve(s, root);
    if s.get("enum").is_some() && !at.is_empty() {
        return Some(at);
    }
    match s.get("type").and_then(Value::as_str) {
        Some("object") => s
            .get("properties")
            .and_then(Value::as_object)
            .and_then(|props| {
                props
                    .iter()
                    .find_map(|(k, v)| enum_pointer(v, root, format!("{at}/{k}")))
            }),
        Some("array") => s
            .get("items")
            .and_then(|i| enum_pointer(i, root, format!("{at}/0"))),
        _ => None,
    }
}
