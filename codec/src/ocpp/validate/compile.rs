//! Compiling a schema document into a checkable tree, and the checks themselves.

use serde_json::{Map, Value};

use super::format::is_date_time;
use super::{Keyword, Violation};

/// `$ref` chains deeper than this are rejected (OCPP schemas nest at most a handful of levels).
const MAX_REF_DEPTH: usize = 32;
/// Tolerance when checking `multipleOf` on decimal numbers.
const MULTIPLE_OF_EPSILON: f64 = 1e-9;

/// A schema the compiler cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The text is not JSON.
    #[error("schema is not JSON: {0}")]
    NotJson(String),
    /// A `$ref` does not point into this document's `definitions`.
    #[error("unresolvable $ref `{0}`")]
    BadRef(String),
    /// `$ref`s nest too deeply (or loop).
    #[error("$ref nesting deeper than {MAX_REF_DEPTH}")]
    RefTooDeep,
}

/// Allowed JSON types, as a bit set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Types(u8);

impl Types {
    const OBJECT: u8 = 1;
    const ARRAY: u8 = 2;
    const STRING: u8 = 4;
    const INTEGER: u8 = 8;
    const NUMBER: u8 = 16;
    const BOOLEAN: u8 = 32;
    const NULL: u8 = 64;

    fn from_name(name: &str) -> u8 {
        match name {
            "object" => Self::OBJECT,
            "array" => Self::ARRAY,
            "string" => Self::STRING,
            "integer" => Self::INTEGER,
            "number" => Self::NUMBER | Self::INTEGER,
            "boolean" => Self::BOOLEAN,
            "null" => Self::NULL,
            _ => 0,
        }
    }
}

/// A compiled schema node; build one per schema file with [`CompiledSchema::compile`] and keep it.
#[derive(Debug, Clone, Default)]
pub struct CompiledSchema {
    types: Option<Types>,
    integral_floats_are_integers: bool,
    enum_values: Option<Vec<Value>>,
    max_length: Option<u64>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    multiple_of: Option<f64>,
    date_time: bool,
    properties: Vec<(String, CompiledSchema)>,
    required: Vec<String>,
    additional_allowed: bool,
    items: Option<Box<CompiledSchema>>,
    min_items: Option<u64>,
    max_items: Option<u64>,
}

impl CompiledSchema {
    /// Compiles a schema document (a UTF-8 BOM is skipped), inlining its local `$ref`s.
    pub fn compile(text: &str) -> Result<CompiledSchema, SchemaError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let doc: Value =
            serde_json::from_str(text).map_err(|e| SchemaError::NotJson(e.to_string()))?;
        let draft4 = doc
            .get("$schema")
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains("draft-04"));
        let empty = Map::new();
        let defs = doc
            .get("definitions")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        Self::node(&doc, defs, !draft4, 0)
    }

    fn node(
        s: &Value,
        defs: &Map<String, Value>,
        lax_int: bool,
        depth: usize,
    ) -> Result<Self, SchemaError> {
        if depth > MAX_REF_DEPTH {
            return Err(SchemaError::RefTooDeep);
        }
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let target = r
                .strip_prefix("#/definitions/")
                .and_then(|name| defs.get(name))
                .ok_or_else(|| SchemaError::BadRef(r.to_owned()))?;
            return Self::node(target, defs, lax_int, depth + 1);
        }
        let types = match s.get("type") {
            Some(Value::String(t)) => Some(Types(Types::from_name(t))),
            Some(Value::Array(ts)) => Some(Types(
                ts.iter()
                    .filter_map(Value::as_str)
                    .map(Types::from_name)
                    .fold(0, |a, b| a | b),
            )),
            _ => None,
        };
        let mut properties = Vec::new();
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            for (name, sub) in props {
                properties.push((name.clone(), Self::node(sub, defs, lax_int, depth + 1)?));
            }
        }
        let items = match s.get("items") {
            Some(sub @ Value::Object(_)) => {
                Some(Box::new(Self::node(sub, defs, lax_int, depth + 1)?))
            }
            _ => None,
        };
        Ok(CompiledSchema {
            types,
            integral_floats_are_integers: lax_int,
            enum_values: s.get("enum").and_then(Value::as_array).cloned(),
            max_length: s.get("maxLength").and_then(Value::as_u64),
            minimum: s.get("minimum").and_then(Value::as_f64),
            maximum: s.get("maximum").and_then(Value::as_f64),
            multiple_of: s.get("multipleOf").and_then(Value::as_f64),
            date_time: s.get("format").and_then(Value::as_str) == Some("date-time"),
            properties,
            required: s
                .get("required")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            additional_allowed: s.get("additionalProperties") != Some(&Value::Bool(false)),
            items,
            min_items: s.get("minItems").and_then(Value::as_u64),
            max_items: s.get("maxItems").and_then(Value::as_u64),
        })
    }

    fn type_of(&self, v: &Value) -> u8 {
        match v {
            Value::Object(_) => Types::OBJECT,
            Value::Array(_) => Types::ARRAY,
            Value::String(_) => Types::STRING,
            Value::Bool(_) => Types::BOOLEAN,
            Value::Null => Types::NULL,
            Value::Number(n) if n.is_i64() || n.is_u64() => Types::INTEGER,
            Value::Number(n) => {
                let integral = n.as_f64().is_some_and(|f| f.fract() == 0.0);
                if integral && self.integral_floats_are_integers {
                    Types::INTEGER
                } else {
                    Types::NUMBER
                }
            }
        }
    }

    /// Checks a whole payload; the public entry point of [`super::validate`].
    pub fn check_payload(&self, v: &Value) -> Result<(), Violation> {
        self.check(v)
    }

    /// Checks `v`, reporting the first violation found (type, then required, then unknown properties, then
    /// each property in schema order).
    pub(crate) fn check(&self, v: &Value) -> Result<(), Violation> {
        if let Some(Types(allowed)) = self.types {
            if allowed & self.type_of(v) == 0 {
                return Err(Violation::root(Keyword::Type));
            }
        }
        if let Some(values) = &self.enum_values {
            if !values.contains(v) {
                return Err(Violation::root(Keyword::Enum));
            }
        }
        match v {
            Value::Object(map) => self.check_object(map),
            Value::Array(items) => self.check_array(items),
            Value::String(s) => self.check_string(s),
            Value::Number(n) => self.check_number(n.as_f64().unwrap_or(f64::NAN)),
            _ => Ok(()),
        }
    }

    fn check_object(&self, map: &Map<String, Value>) -> Result<(), Violation> {
        if let Some(missing) = self.required.iter().find(|r| !map.contains_key(r.as_str())) {
            return Err(Violation::at(Keyword::Required, missing));
        }
        if !self.additional_allowed {
            if let Some(extra) = map
                .keys()
                .find(|k| !self.properties.iter().any(|(p, _)| p == *k))
            {
                return Err(Violation::at(Keyword::AdditionalProperties, extra));
            }
        }
        for (name, sub) in &self.properties {
            if let Some(value) = map.get(name) {
                sub.check(value).map_err(|mut e| {
                    e.prefix(name);
                    e
                })?;
            }
        }
        Ok(())
    }

    fn check_array(&self, items: &[Value]) -> Result<(), Violation> {
        let len = items.len() as u64;
        if self.min_items.is_some_and(|m| len < m) {
            return Err(Violation::root(Keyword::MinItems));
        }
        if self.max_items.is_some_and(|m| len > m) {
            return Err(Violation::root(Keyword::MaxItems));
        }
        if let Some(sub) = &self.items {
            for (i, item) in items.iter().enumerate() {
                sub.check(item).map_err(|mut e| {
                    e.prefix(&i.to_string());
                    e
                })?;
            }
        }
        Ok(())
    }

    fn check_string(&self, s: &str) -> Result<(), Violation> {
        if self
            .max_length
            .is_some_and(|m| s.chars().count() as u64 > m)
        {
            return Err(Violation::root(Keyword::MaxLength));
        }
        if self.date_time && !is_date_time(s) {
            return Err(Violation::root(Keyword::Format));
        }
        Ok(())
    }

    fn check_number(&self, n: f64) -> Result<(), Violation> {
        if self.minimum.is_some_and(|m| n < m) {
            return Err(Violation::root(Keyword::Minimum));
        }
        if self.maximum.is_some_and(|m| n > m) {
            return Err(Violation::root(Keyword::Maximum));
        }
        if let Some(step) = self.multiple_of.filter(|s| *s > 0.0) {
            let q = n / step;
            if (q - q.round()).abs() > MULTIPLE_OF_EPSILON * q.abs().max(1.0) {
                return Err(Violation::root(Keyword::MultipleOf));
            }
        }
        Ok(())
    }
}

impl Violation {
    fn root(keyword: Keyword) -> Self {
        Violation {
            keyword,
            pointer: String::new(),
        }
    }
}
