//! Input validation of the fake fal server: every submit and run body of an
//! endpoint with a document in the fake's [`Schemas`] is
//! checked against the endpoint's input schema with the `jsonschema` crate
//! (draft 2020-12), and a rejected body gets fal's 422 answer
//! (protocol.md §3, §9):
//!
//! ```text
//! {"detail":[{"loc":["body","prompt"],"msg":"field required","type":"value_error.missing"}, …]}
//! ```
//!
//! `loc` is pydantic's: `"body"`, then the path to the value (strings for
//! keys, numbers for array indices; a missing field's own name last). `type`
//! and `msg` follow pydantic 1, as fal's apps send them: `value_error.missing`
//! / `field required`, `type_error.integer`, `type_error.enum`,
//! `value_error.number.not_ge` (with `ctx.limit_value`),
//! `value_error.any_str.max_length`, `value_error.list.min_items`, … and
//! `value_error` with the validator's message for the rest. Each entry also
//! carries the offending `input` (pydantic 2 does). A body that is not JSON
//! gets one `value_error.jsondecode` entry at `["body"]`.
//!
//! Endpoints without a document (configured with
//! [`FakeFalConfig::output`](crate::FakeFalConfig::output) alone) are not
//! validated: every body is accepted.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use jsonschema::types::JsonType;
use jsonschema::{ValidationError, Validator};
use serde_json::{Value, json};

use crate::schemas::Schemas;

/// The input validators of a set of [`Schemas`], each compiled on first use.
#[derive(Debug, Default)]
pub struct Validators {
    schemas: Schemas,
    compiled: Mutex<BTreeMap<String, Result<Arc<Validator>, String>>>,
}

/// What [`Validators::check`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Checked {
    /// The body is valid, or the endpoint has no schema (not validated).
    Valid,
    /// fal's 422 body, `{"detail":[…]}`.
    Invalid(Value),
    /// The endpoint's document has no input schema that compiles; the text
    /// says why (the fake answers 500 with it, so the mistake is seen).
    BadSchema(String),
}

impl Validators {
    /// Validators for the endpoints of `schemas`.
    #[must_use]
    pub fn new(schemas: Schemas) -> Self {
        Self { schemas, compiled: Mutex::default() }
    }

    /// The endpoints' documents.
    #[must_use]
    pub fn schemas(&self) -> &Schemas {
        &self.schemas
    }

    /// Checks `body` sent to `endpoint_id` against its input schema.
    #[must_use]
    pub fn check(&self, endpoint_id: &str, body: &[u8]) -> Checked {
        let validator = match self.validator(endpoint_id) {
            None => return Checked::Valid,
            Some(Err(why)) => return Checked::BadSchema(why),
            Some(Ok(validator)) => validator,
        };
        let input: Value = match serde_json::from_slice(body) {
            Ok(input) => input,
            Err(e) => {
                let entry =
                    json!({"loc": ["body"], "msg": format!("Expecting value: {e}"), "type": "value_error.jsondecode"});
                return Checked::Invalid(json!({"detail": [entry]}));
            }
        };
        let detail: Vec<Value> = validator.iter_errors(&input).flat_map(|error| entries(&error)).collect();
        if detail.is_empty() { Checked::Valid } else { Checked::Invalid(json!({"detail": detail})) }
    }

    /// Whether `endpoint_id` has a document (and so is validated).
    #[must_use]
    pub fn has_schema(&self, endpoint_id: &str) -> bool {
        self.schemas.document(endpoint_id).is_some()
    }

    /// The compiled input validator of an endpoint with a document.
    fn validator(&self, endpoint_id: &str) -> Option<Result<Arc<Validator>, String>> {
        let doc = self.schemas.document(endpoint_id)?;
        let mut compiled = self.compiled.lock().unwrap_or_else(PoisonError::into_inner);
        Some(compiled.entry(endpoint_id.to_owned()).or_insert_with(|| compile(endpoint_id, doc).map(Arc::new)).clone())
    }
}

/// `{"$ref": "#/components/schemas/<Input>", "components": …}` of the
/// document (the request body schema of its submit path), compiled (draft
/// 2020-12).
fn compile(endpoint_id: &str, doc: &Value) -> Result<Validator, String> {
    let reference = doc["paths"]
        .as_object()
        .and_then(|paths| {
            paths.values().find_map(|path| path.pointer("/post/requestBody/content/application~1json/schema/$ref"))
        })
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{endpoint_id}: the document has no input schema (a POST requestBody $ref)"))?;
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": reference,
        "components": doc["components"],
    });
    jsonschema::draft202012::new(&root).map_err(|e| format!("{endpoint_id}: the input schema does not compile: {e}"))
}

/// fal's 422 entries for one `jsonschema` error (one per unexpected
/// property for `additionalProperties`, else one).
fn entries(error: &ValidationError<'_>) -> Vec<Value> {
    let mut loc = vec![json!("body")];
    loc.extend(error.instance_path().iter().map(|segment| match segment {
        LocationSegment::Property(name) => json!(name),
        LocationSegment::Index(index) => json!(index),
    }));
    let input = error.instance().clone().into_owned();
    let entry = |loc: Vec<Value>, msg: String, kind: &str, ctx: Option<Value>| {
        let mut entry = json!({"loc": loc, "msg": msg, "type": kind, "input": input});
        if let Some(ctx) = ctx {
            entry["ctx"] = ctx;
        }
        entry
    };
    let bound = |kind: &str, words: &str, limit: &Value| {
        entry(loc.clone(), format!("ensure this value is {words} {limit}"), kind, Some(json!({"limit_value": limit})))
    };
    let size = |kind: &str, words: &str, limit: u64, unit: &str| {
        entry(
            loc.clone(),
            format!("ensure this value has {words} {limit} {unit}"),
            kind,
            Some(json!({"limit_value": limit})),
        )
    };
    let one = match error.kind() {
        ValidationErrorKind::Required { property } => {
            let mut loc = loc.clone();
            loc.push(property.clone());
            return vec![json!({"loc": loc, "msg": "field required", "type": "value_error.missing"})];
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            return unexpected
                .iter()
                .map(|name| {
                    let mut loc = loc.clone();
                    loc.push(json!(name));
                    json!({"loc": loc, "msg": "extra fields not permitted", "type": "value_error.extra"})
                })
                .collect();
        }
        ValidationErrorKind::Type { kind: TypeKind::Single(expected) } => {
            let (kind, msg) = match expected {
                JsonType::Integer => ("type_error.integer", "value is not a valid integer"),
                JsonType::Number => ("type_error.float", "value is not a valid float"),
                JsonType::String => ("type_error.str", "str type expected"),
                JsonType::Boolean => ("type_error.bool", "value could not be parsed to a boolean"),
                JsonType::Array => ("type_error.list", "value is not a valid list"),
                JsonType::Object => ("type_error.dict", "value is not a valid dict"),
                JsonType::Null => ("type_error.none.allowed", "none is an allowed value"),
            };
            entry(loc.clone(), msg.to_owned(), kind, None)
        }
        ValidationErrorKind::Enum { options } => {
            let permitted: Vec<String> =
                options.as_array().map(|values| values.iter().map(Value::to_string).collect()).unwrap_or_default();
            let msg = format!("value is not a valid enumeration member; permitted: {}", permitted.join(", "));
            entry(loc.clone(), msg, "type_error.enum", Some(json!({"enum_values": options.as_ref()})))
        }
        ValidationErrorKind::Constant { expected_value } => {
            let msg = format!("unexpected value; permitted: {expected_value}");
            entry(loc.clone(), msg, "value_error.const", Some(json!({"permitted": [expected_value.as_ref()]})))
        }
        ValidationErrorKind::Minimum { limit } => bound("value_error.number.not_ge", "greater than or equal to", limit),
        ValidationErrorKind::ExclusiveMinimum { limit } => bound("value_error.number.not_gt", "greater than", limit),
        ValidationErrorKind::Maximum { limit } => bound("value_error.number.not_le", "less than or equal to", limit),
        ValidationErrorKind::ExclusiveMaximum { limit } => bound("value_error.number.not_lt", "less than", limit),
        ValidationErrorKind::MultipleOf { multiple_of } => entry(
            loc.clone(),
            format!("ensure this value is a multiple of {multiple_of}"),
            "value_error.number.not_multiple",
            Some(json!({"multiple_of": multiple_of})),
        ),
        ValidationErrorKind::MinLength { limit } => {
            size("value_error.any_str.min_length", "at least", *limit, "characters")
        }
        ValidationErrorKind::MaxLength { limit } => {
            size("value_error.any_str.max_length", "at most", *limit, "characters")
        }
        ValidationErrorKind::MinItems { limit } => size("value_error.list.min_items", "at least", *limit, "items"),
        ValidationErrorKind::MaxItems { limit } => size("value_error.list.max_items", "at most", *limit, "items"),
        ValidationErrorKind::Pattern { pattern } => entry(
            loc.clone(),
            format!("string does not match regex \"{pattern}\""),
            "value_error.str.regex",
            Some(json!({"pattern": pattern})),
        ),
        _ => entry(loc.clone(), error.to_string(), "value_error", None),
    };
    vec![one]
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "fal-ai/ltx-2.3/text-to-video";

    fn vendored() -> Validators {
        Validators::new(Schemas::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas")).expect("schemas/"))
    }

    fn invalid(checked: Checked) -> Value {
        match checked {
            Checked::Invalid(detail) => detail,
            other => panic!("expected a 422 body, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_body_passes_and_endpoints_without_a_document_are_not_checked() {
        let validators = vendored();
        assert_eq!(validators.check(ID, br#"{"prompt": "a lighthouse"}"#), Checked::Valid);
        assert!(validators.has_schema(ID));
        assert!(!validators.has_schema("fal-ai/conformance/invalid"));
        assert_eq!(validators.check("fal-ai/conformance/invalid", b"{}"), Checked::Valid);
    }

    #[test]
    fn errors_have_pydantic_locations_and_types() {
        let validators = vendored();
        let detail = invalid(validators.check(ID, br#"{"duration": 7}"#))["detail"].clone();
        let types: Vec<(&Value, &str)> =
            detail.as_array().unwrap().iter().map(|e| (&e["loc"], e["type"].as_str().unwrap())).collect();
        assert!(types.contains(&(&json!(["body", "prompt"]), "value_error.missing")), "{detail}");
        assert!(types.contains(&(&json!(["body", "duration"]), "type_error.enum")), "{detail}");

        let detail = invalid(validators.check(ID, b"not json"));
        assert_eq!(detail["detail"][0]["type"], "value_error.jsondecode");
    }

    #[test]
    fn a_document_without_an_input_schema_is_reported() {
        let validators = Validators::new(Schemas::empty().with_document("a/b", json!({"paths": {}})));
        match validators.check("a/b", b"{}") {
            Checked::BadSchema(why) => assert!(why.contains("a/b") && why.contains("no input schema"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
