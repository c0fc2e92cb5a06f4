//! Never silent (issue 11): every keyword of the JSON Schema 2020-12 validation
//! vocabulary and applicators, and of OpenAPI 3.0 schema objects, is either
//! checked by the generated types or named in a note (file and JSON Pointer)
//! with the input then checked against its JSON Schema at run time
//! (`fal_codegen::lower::keywords`).
//!
//! For each keyword, a document whose input has one property using it, with
//! and without a `type` beside it: the generation must either carry no note
//! about it and leave the input to the typed checks (the keyword is one of
//! `keywords::TYPED`, in a position the types express), or note the keyword
//! at its pointer and embed the input's JSON Schema.

use fal_codegen::lower::keywords::TYPED;
use fal_codegen::{Source, generate};
use serde_json::{Value, json};

/// Every keyword that constrains values, with a sample value and the `type` it applies to.
fn vocabulary() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        ("type", json!("integer"), "integer"),
        ("enum", json!(["a", "b"]), "string"),
        ("const", json!("a"), "string"),
        ("multipleOf", json!(2), "integer"),
        ("maximum", json!(9), "integer"),
        ("exclusiveMaximum", json!(9), "number"),
        ("minimum", json!(1), "integer"),
        ("exclusiveMinimum", json!(0), "number"),
        ("maxLength", json!(3), "string"),
        ("minLength", json!(1), "string"),
        ("pattern", json!("^a+$"), "string"),
        ("maxItems", json!(3), "array"),
        ("minItems", json!(1), "array"),
        ("uniqueItems", json!(true), "array"),
        ("maxContains", json!(2), "array"),
        ("minContains", json!(1), "array"),
        ("maxProperties", json!(3), "object"),
        ("minProperties", json!(1), "object"),
        ("required", json!(["x"]), "object"),
        ("dependentRequired", json!({"x": ["y"]}), "object"),
        ("prefixItems", json!([{"type": "string"}]), "array"),
        ("items", json!({"type": "string"}), "array"),
        ("contains", json!({"type": "string"}), "array"),
        ("additionalProperties", json!(false), "object"),
        ("properties", json!({"x": {"type": "string"}}), "object"),
        ("patternProperties", json!({"^x": {"type": "string"}}), "object"),
        ("dependentSchemas", json!({"x": {"required": ["y"]}}), "object"),
        ("propertyNames", json!({"maxLength": 3}), "object"),
        ("unevaluatedItems", json!(false), "array"),
        ("unevaluatedProperties", json!(false), "object"),
        ("allOf", json!([{"minimum": 1}, {"maximum": 9}]), "integer"),
        ("anyOf", json!([{"type": "string"}, {"type": "integer"}]), ""),
        ("oneOf", json!([{"type": "integer"}, {"minimum": 2}]), ""),
        ("not", json!({"type": "string"}), ""),
        ("if", json!({"minimum": 5}), "integer"),
        ("nullable", json!(true), "string"),
    ]
}

fn document(property: Value) -> Source {
    let doc = json!({
        "openapi": "3.0.4",
        "info": {"title": "t", "version": "1", "x-fal-metadata": {"endpointId": "fal-ai/keywords/one"}},
        "components": {"schemas": {
            "OneInput": {"type": "object", "properties": {"v": property}, "required": ["v"]},
            "OneOutput": {"type": "object", "properties": {"ok": {"type": "boolean"}}}
        }},
        "paths": {
            "/fal-ai/keywords/one": {"post": {
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/OneInput"}}}},
                "responses": {"200": {"description": "queued"}}
            }},
            "/fal-ai/keywords/one/requests/{request_id}": {"get": {"responses": {"200": {
                "description": "result",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OneOutput"}}}
            }}}}
        }
    });
    Source { endpoint_id: "fal-ai/keywords/one".into(), file: "one.json".into(), text: doc.to_string() }
}

#[test]
fn every_keyword_is_checked_by_the_types_or_noted_and_checked_as_json_schema() {
    let mut failures = Vec::new();
    for (keyword, value, ty) in vocabulary() {
        let mut typed = serde_json::Map::new();
        if !ty.is_empty() && keyword != "type" {
            typed.insert("type".into(), json!(ty));
        }
        typed.insert(keyword.into(), value.clone());
        let untyped = json!({ keyword: value });
        for (form, property) in [("with its type", Value::Object(typed)), ("without a type", untyped)] {
            let generation = match generate(&[document(property.clone())]) {
                Ok(generation) => generation,
                Err(e) => {
                    failures.push(format!("{keyword} {form}: refused: {e}"));
                    continue;
                }
            };
            let pointer = format!("/components/schemas/OneInput/properties/v/{keyword}");
            let noted = generation.notes.iter().any(|n| n.pointer == pointer && n.message.contains(keyword));
            let embedded = generation.api.endpoints[0].json_schema.is_some();
            let typed_here = TYPED.contains(&keyword) && !noted;
            match (typed_here, noted, embedded) {
                // Checked by the types: nothing noted about it.
                (true, false, _) => {}
                // Noted at its pointer, and the input checked as JSON Schema.
                (false, true, true) => {}
                _ => failures.push(format!(
                    "{keyword} {form} ({property}): typed {typed_here}, noted {noted}, JSON Schema embedded {embedded}; notes: {:?}",
                    generation.notes
                )),
            }
            // A keyword outside the typed set is never left to the types.
            if !(TYPED.contains(&keyword) || noted && embedded) {
                failures.push(format!("{keyword} {form}: not typed, yet neither noted nor checked as JSON Schema"));
            }
        }
    }
    assert!(failures.is_empty(), "{} keyword uses are silent:\n{}", failures.len(), failures.join("\n"));
}
