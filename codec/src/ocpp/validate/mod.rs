//! A focused JSON-schema validator for exactly the keywords the official OCPP schema files use.
//!
//! The OCPP 1.6 (draft-04) and 2.0.1 (draft-06) schema files use a small, fixed keyword set: `type`,
//! `properties`, `required`, `additionalProperties`, `enum`, `maxLength`, `minimum`, `maximum`, `multipleOf`,
//! `items`, `minItems`, `maxItems`, `format` and local `$ref`s into `definitions`. This module compiles a schema
//! once into a [`CompiledSchema`] tree (refs inlined) and checks payloads against it, reporting the first failed
//! keyword together with the JSON pointer of the offending value, so the caller can pick the right CALLERROR code.
//! Why not a general validator crate: see `docs/decisions/0003-ocpp-schema-validation.md`.

mod compile;
mod format;

pub use compile::{CompiledSchema, SchemaError};

use serde_json::Value;

/// The schema keyword a payload failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// The value's JSON type is not allowed.
    Type,
    /// A required property is missing.
    Required,
    /// A property the schema does not declare is present (`additionalProperties: false`).
    AdditionalProperties,
    /// A string is not one of the allowed values.
    Enum,
    /// A string is longer than allowed.
    MaxLength,
    /// A number is below the minimum.
    Minimum,
    /// A number is above the maximum.
    Maximum,
    /// A number is not a multiple of the step.
    MultipleOf,
    /// An array has too few items.
    MinItems,
    /// An array has too many items.
    MaxItems,
    /// A string does not have the declared format (`date-time`).
    Format,
}

impl Keyword {
    /// The keyword as spelled in a schema; a stable metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::Type => "type",
            Keyword::Required => "required",
            Keyword::AdditionalProperties => "additionalProperties",
            Keyword::Enum => "enum",
            Keyword::MaxLength => "maxLength",
            Keyword::Minimum => "minimum",
            Keyword::Maximum => "maximum",
            Keyword::MultipleOf => "multipleOf",
            Keyword::MinItems => "minItems",
            Keyword::MaxItems => "maxItems",
            Keyword::Format => "format",
        }
    }
}

/// Why a payload does not conform: the failed keyword and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schema keyword `{}` failed at `{pointer}`", keyword.as_str())]
pub struct Violation {
    /// The keyword that failed.
    pub keyword: Keyword,
    /// JSON pointer of the offending value (for `required` and `additionalProperties`: of the property named).
    pub pointer: String,
}

impl Violation {
    fn at(keyword: Keyword, segment: &str) -> Self {
        let mut v = Violation {
            keyword,
            pointer: String::new(),
        };
        v.prefix(segment);
        v
    }

    /// Prepends one path segment while the error unwinds (allocation only happens on failure).
    fn prefix(&mut self, segment: &str) {
        let escaped = segment.replace('~', "~0").replace('/', "~1");
        self.pointer.insert_str(0, &escaped);
        self.pointer.insert(0, '/');
    }

    /// Whether the failure is at the payload's root (the payload itself is not an object).
    pub fn is_root(&self) -> bool {
        self.pointer.is_empty()
    }
}

/// Checks `value` against a compiled schema; `Ok(())` when it conforms.
pub fn validate(schema: &CompiledSchema, value: &Value) -> Result<(), Violation> {
    schema.check(value)
}

#[cfg(test)]
mod tests;
