//! Input validation of the fake fal server: every submit and run body of an
//! endpoint vendored in `schemas/` (listed in `schemas/endpoints.toml`) is
//! checked against the endpoint's input schema with the `jsonschema` crate
//! (draft 2020-12), and a rejected body gets fal's 422 answer
//! (fal-protocol.md §3, §9):
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
//! Endpoints without a vendored schema (the test endpoints of
//! `tests/tests/runtime.rs`, `fal-ai/conformance/invalid`) are not validated.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use jsonschema::types::JsonType;
use jsonschema::{ValidationError, Validator};
use serde_json::{Value, json};

use crate::support::{vendored_schema, workspace_root};

/// The 422 body (`{"detail":[…]}`) for `body` sent to `endpoint_id`, or
/// `None` when it is valid or the endpoint has no vendored schema.
#[must_use]
pub fn check(endpoint_id: &str, body: &[u8]) -> Option<Value> {
    let validator = validator(endpoint_id)?;
    let input: Value = match serde_json::from_slice(body) {
        Ok(input) => input,
        Err(e) => {
            let entry =
                json!({"loc": ["body"], "msg": format!("Expecting value: {e}"), "type": "value_error.jsondecode"});
            return Some(json!({"detail": [entry]}));
        }
    };
    let detail: Vec<Value> = validator.iter_errors(&input).flat_map(|error| entries(&error)).collect();
    (!detail.is_empty()).then(|| json!({"detail": detail}))
}

/// Whether `endpoint_id` has a vendored input schema (and so is validated).
#[must_use]
pub fn has_schema(endpoint_id: &str) -> bool {
    validator(endpoint_id).is_some()
}

/// The compiled input validator of a vendored endpoint, compiled once.
fn validator(endpoint_id: &str) -> Option<Arc<Validator>> {
    static VENDORED: OnceLock<Vec<String>> = OnceLock::new();
    static COMPILED: OnceLock<Mutex<BTreeMap<String, Option<Arc<Validator>>>>> = OnceLock::new();
    let vendored = VENDORED.get_or_init(|| xtask::endpoint_ids(&workspace_root()).unwrap_or_default());
    if !vendored.iter().any(|id| id == endpoint_id) {
        return None;
    }
    let mut compiled = COMPILED.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner);
    compiled.entry(endpoint_id.to_owned()).or_insert_with(|| compile(endpoint_id).map(Arc::new)).clone()
}

/// `{"$ref": "#/components/schemas/<Input>", "components": …}` of the
/// document, compiled (draft 2020-12); `None` when it has no input `$ref`.
fn compile(endpoint_id: &str) -> Option<Validator> {
    let doc = vendored_schema(endpoint_id);
    let reference = doc["paths"]
        .as_object()?
        .values()
        .find_map(|path| path.pointer("/post/requestBody/content/application~1json/schema/$ref"))?
        .as_str()?
        .to_owned();
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": reference,
        "components": doc["components"],
    });
    let validator = jsonschema::draft202012::new(&root)
        .unwrap_or_else(|e| panic!("{endpoint_id}: the vendored input schema does not compile: {e}"));
    Some(validator)
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

    #[test]
    fn a_valid_body_passes_and_unvendored_endpoints_are_not_checked() {
        assert_eq!(check(ID, br#"{"prompt": "a lighthouse"}"#), None);
        assert!(has_schema(ID));
        assert!(!has_schema("fal-ai/conformance/invalid"));
        assert_eq!(check("fal-ai/conformance/invalid", b"{}"), None);
    }

    #[test]
    fn errors_have_pydantic_locations_and_types() {
        let detail = check(ID, br#"{"duration": 7}"#).expect("rejected")["detail"].clone();
        let types: Vec<(&Value, &str)> =
            detail.as_array().unwrap().iter().map(|e| (&e["loc"], e["type"].as_str().unwrap())).collect();
        assert!(types.contains(&(&json!(["body", "prompt"]), "value_error.missing")), "{detail}");
        assert!(types.contains(&(&json!(["body", "duration"]), "type_error.enum")), "{detail}");

        let detail = check(ID, b"not json").expect("rejected");
        assert_eq!(detail["detail"][0]["type"], "value_error.jsondecode");
    }
}
