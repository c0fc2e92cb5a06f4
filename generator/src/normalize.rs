//! Rewrites fal's documents into the OpenAPI 3.0 form that `openapiv3` reads,
//! without losing anything the generator needs.
//!
//! fal publishes `openapi: 3.0.4` documents written with JSON Schema 2020-12
//! habits. Strict `openapiv3` rejects some of them and silently drops others,
//! so each habit gets a rewrite here:
//!
//! | fal writes | `openapiv3` would | rewritten to |
//! |---|---|---|
//! | `exclusiveMinimum: 0` (a number) | reject the document | `minimum: 0, exclusiveMinimum: true` |
//! | `examples: [..]` | drop it | `x-fal-examples: [..]` |
//! | `const: v` | drop it | `enum: [v]` |
//! | `{$ref, description, ..}` | drop the siblings | `{allOf: [{$ref}], description, ..}` |
//! | `anyOf [X, {type: null}]` | keep a `null` branch it cannot type | `X` plus `nullable: true` |
//! | `type: [X, "null"]` | reject the document | `type: X, nullable: true` |
//! | `type` beside `allOf`/`anyOf`/`oneOf` | drop the composition | the composition, `type` moved to `x-fal-type` |
//! | a boolean schema `true` / `false` (2020-12, OpenAPI 3.1) | reject the document | `{}` / `{"not": {}}` |
//! | a count written as a float (`maxLength: 2.0`) | reject the document | the integer (`2`) |
//! | `prefixItems` (2020-12) | drop it, so `items` seems to apply to every item | kept, and marked `x-fal-prefix-items: true` |
//!
//! Every rewrite is local to one schema object, so JSON Pointers into the
//! normalized document are JSON Pointers into the original one.

use serde_json::{Map, Value};

/// Normalizes every schema of an OpenAPI document in place.
pub fn document(doc: &mut Value) {
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for schema in schemas.values_mut() {
            boolean_schema(schema);
            schema_tree(schema);
        }
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            visit_operation_schemas(item);
        }
    }
}

/// Finds the schemas inside a path item (parameters, request bodies, responses).
fn visit_operation_schemas(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "schema" {
                    schema_tree(child);
                } else {
                    visit_operation_schemas(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(visit_operation_schemas),
        _ => {}
    }
}

/// Normalizes one schema and every schema nested in it.
pub fn schema_tree(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    schema_object(map);
    // `additionalProperties` may stay a boolean: `openapiv3` reads that form.
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = map.get_mut(key) {
            if key != "additionalProperties" {
                boolean_schema(child);
            }
            schema_tree(child);
        }
    }
    for key in ["properties", "patternProperties"] {
        if let Some(Value::Object(props)) = map.get_mut(key) {
            props.values_mut().for_each(|child| {
                boolean_schema(child);
                schema_tree(child);
            });
        }
    }
    for key in ["allOf", "anyOf", "oneOf", "prefixItems"] {
        if let Some(Value::Array(branches)) = map.get_mut(key) {
            branches.iter_mut().for_each(|child| {
                boolean_schema(child);
                schema_tree(child);
            });
        }
    }
}

/// A boolean schema as the object that means the same: `true` → `{}` (anything), `false` → `{"not": {}}`
/// (nothing).
fn boolean_schema(schema: &mut Value) {
    match schema {
        Value::Bool(true) => *schema = Value::Object(Map::new()),
        Value::Bool(false) => *schema = serde_json::json!({"not": {}}),
        _ => {}
    }
}

/// Counts written as integral floats (`2.0`) as integers; other values are left for `openapiv3` to reject.
fn integral_counts(map: &mut Map<String, Value>) {
    for key in ["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"] {
        if let Some(Value::Number(n)) = map.get(key)
            && !n.is_u64()
            && let Some(f) = n.as_f64()
            && f.fract() == 0.0
            && (0.0..9_007_199_254_740_992.0).contains(&f)
        {
            // Exact: integral and below 2^53.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            map.insert(key.to_owned(), Value::from(f as u64));
        }
    }
}

fn schema_object(map: &mut Map<String, Value>) {
    // First: a single branch left after removing `{type: null}` merges into this schema, and the rewrites
    // below must see its keywords (`type: [..]`, `const`, counts).
    null_branches(map, "anyOf");
    null_branches(map, "oneOf");
    integral_counts(map);
    if map.contains_key("prefixItems") {
        map.insert("x-fal-prefix-items".into(), Value::Bool(true));
    }
    ref_with_siblings(map);
    rename(map, "examples", "x-fal-examples");
    if let Some(value) = map.remove("const") {
        if !map.contains_key("type")
            && let Some(ty) = json_type_of(&value)
        {
            map.insert("type".into(), Value::from(ty));
        }
        map.insert("enum".into(), Value::Array(vec![value]));
    }
    type_array(map);
    exclusive_bound(map, "exclusiveMinimum", "minimum", |new, old| new >= old);
    exclusive_bound(map, "exclusiveMaximum", "maximum", |new, old| new <= old);
    if ["allOf", "anyOf", "oneOf"].iter().any(|k| map.contains_key(*k)) {
        rename(map, "type", "x-fal-type");
    }
}

fn rename(map: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(value) = map.remove(from) {
        map.insert(to.to_owned(), value);
    }
}

/// `{$ref, description}` → `{allOf: [{$ref}], description}`.
fn ref_with_siblings(map: &mut Map<String, Value>) {
    if map.len() > 1
        && let Some(reference) = map.remove("$ref")
    {
        let mut only_ref = Map::new();
        only_ref.insert("$ref".into(), reference);
        map.insert("allOf".into(), Value::Array(vec![Value::Object(only_ref)]));
    }
}

/// `type: ["string", "null"]` → `type: "string", nullable: true`.
fn type_array(map: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = map.get("type") else { return };
    let non_null: Vec<Value> = types.iter().filter(|t| t.as_str() != Some("null")).cloned().collect();
    let had_null = non_null.len() < types.len();
    match non_null.as_slice() {
        [single] => {
            map.insert("type".into(), single.clone());
        }
        [] => {
            map.remove("type");
        }
        _ => {
            // Several types: an untyped value (the lowering reports it).
            map.remove("type");
            map.insert("x-fal-type".into(), Value::Array(non_null));
        }
    }
    if had_null {
        map.insert("nullable".into(), Value::Bool(true));
    }
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
        || schema.get("enum").is_some_and(|e| e == &Value::Array(vec![Value::Null]))
}

/// Removes `{type: null}` branches; a single remaining branch replaces the union.
fn null_branches(map: &mut Map<String, Value>, key: &str) {
    let Some(Value::Array(branches)) = map.get(key) else { return };
    if !branches.iter().any(is_null_schema) {
        return;
    }
    let rest: Vec<Value> = branches.iter().filter(|b| !is_null_schema(b)).cloned().collect();
    map.insert("nullable".into(), Value::Bool(true));
    match rest.as_slice() {
        [] => {
            map.remove(key);
        }
        [Value::Object(single)] if single.contains_key("$ref") => {
            map.remove(key);
            map.insert("allOf".into(), Value::Array(rest));
        }
        [Value::Object(single)] => {
            map.remove(key);
            // The outer schema's own keys (title, description, default) win.
            for (k, v) in single {
                if !map.contains_key(k) {
                    map.insert(k.clone(), v.clone());
                }
            }
        }
        _ => {
            map.insert(key.to_owned(), Value::Array(rest));
        }
    }
}

/// Rewrites a numeric exclusive bound into the 3.0 boolean form. When an
/// inclusive bound is present too, the stricter of the two is kept (`stricter(new, old)`
/// tells whether the exclusive one is at least as strict).
fn exclusive_bound(
    map: &mut Map<String, Value>,
    exclusive_key: &str,
    inclusive_key: &str,
    stricter: fn(f64, f64) -> bool,
) {
    let Some(Value::Number(bound)) = map.get(exclusive_key).cloned() else { return };
    let keep_exclusive = match map.get(inclusive_key).and_then(Value::as_f64) {
        Some(old) => bound.as_f64().is_some_and(|new| stricter(new, old)),
        None => true,
    };
    if keep_exclusive {
        map.insert(inclusive_key.to_owned(), Value::Number(bound));
        map.insert(exclusive_key.to_owned(), Value::Bool(true));
    } else {
        map.remove(exclusive_key);
    }
}

fn json_type_of(value: &Value) -> Option<&'static str> {
    match value {
        Value::Bool(_) => Some("boolean"),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some("integer"),
        Value::Number(_) => Some("number"),
        Value::String(_) => Some("string"),
        Value::Array(_) => Some("array"),
        Value::Object(_) => Some("object"),
        Value::Null => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn norm(mut v: Value) -> Value {
        schema_tree(&mut v);
        v
    }

    #[test]
    fn boolean_schemas_and_float_counts_become_what_openapiv3_reads() {
        assert_eq!(
            norm(json!({"type": "object", "properties": {"a": true, "b": false}, "additionalProperties": false})),
            json!({"type": "object", "properties": {"a": {}, "b": {"not": {}}}, "additionalProperties": false})
        );
        assert_eq!(norm(json!({"anyOf": [true, {"type": "string"}]})), json!({"anyOf": [{}, {"type": "string"}]}));
        assert_eq!(norm(json!({"type": "array", "items": false})), json!({"type": "array", "items": {"not": {}}}));
        assert_eq!(
            norm(json!({"type": "string", "maxLength": 2.0, "minLength": 1})),
            json!({"type": "string", "maxLength": 2, "minLength": 1})
        );
        // A fraction is left for openapiv3 to reject (with its pointer).
        assert_eq!(norm(json!({"type": "string", "maxLength": 2.5})), json!({"type": "string", "maxLength": 2.5}));
        let mut doc = json!({"components": {"schemas": {"Anything": true}}});
        document(&mut doc);
        assert_eq!(doc, json!({"components": {"schemas": {"Anything": {}}}}));
    }

    #[test]
    fn numeric_exclusive_minimum_becomes_boolean_form() {
        assert_eq!(
            norm(json!({"type": "number", "exclusiveMinimum": 0})),
            json!({"type": "number", "minimum": 0, "exclusiveMinimum": true})
        );
        // The stricter bound wins when both are given.
        assert_eq!(
            norm(json!({"type": "number", "minimum": 5, "exclusiveMinimum": 0})),
            json!({"type": "number", "minimum": 5})
        );
    }

    #[test]
    fn nullable_ref_keeps_its_description() {
        assert_eq!(
            norm(json!({"anyOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}], "description": "d"})),
            json!({"description": "d", "nullable": true, "allOf": [{"$ref": "#/components/schemas/X"}]})
        );
        assert_eq!(
            norm(json!({"anyOf": [{"type": "string"}, {"type": "null"}], "title": "T"})),
            json!({"title": "T", "nullable": true, "type": "string"})
        );
    }

    #[test]
    fn ref_siblings_examples_const_and_type_arrays() {
        assert_eq!(
            norm(json!({"$ref": "#/a", "description": "d"})),
            json!({"description": "d", "allOf": [{"$ref": "#/a"}]})
        );
        assert_eq!(norm(json!({"$ref": "#/a"})), json!({"$ref": "#/a"}));
        assert_eq!(norm(json!({"examples": [1]})), json!({"x-fal-examples": [1]}));
        assert_eq!(norm(json!({"const": "x"})), json!({"type": "string", "enum": ["x"]}));
        assert_eq!(norm(json!({"type": ["integer", "null"]})), json!({"type": "integer", "nullable": true}));
    }

    #[test]
    fn a_branch_left_beside_null_is_normalized_too() {
        // The branch merges into its parent, whose `type` array must still be rewritten (a fuzzer find).
        let v = norm(json!({"anyOf": [{"type": "null"}, {"type": ["boolean", "number"]}]}));
        assert!(!v["type"].is_array(), "{v}");
        assert_eq!(v["nullable"], json!(true));
        let v = norm(json!({"oneOf": [{"const": 3}, {"type": "null"}]}));
        assert_eq!(v, json!({"nullable": true, "type": "integer", "enum": [3]}));
    }

    #[test]
    fn nested_schemas_are_normalized() {
        let v =
            norm(json!({"type": "object", "properties": {"a": {"type": "array", "items": {"exclusiveMaximum": 3}}}}));
        assert_eq!(v.pointer("/properties/a/items"), Some(&json!({"maximum": 3, "exclusiveMaximum": true})));
    }
}
