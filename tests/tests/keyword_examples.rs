//! One readable example per JSON Schema keyword (issue 11): a schema using
//! the keyword, values it accepts and values it refuses. Each schema is
//! wrapped twice in a fal-style document: as the required property `v` of the
//! input (an example is sent as `{"v": <example>}`) and as the input schema
//! itself (the example is the whole body). All documents are generated into
//! one crate, built with `-D warnings`, and every example goes through the
//! generated `check_input`. Each example's
//! verdict is also checked with the `jsonschema` crate, so a wrong example
//! fails here rather than passing for the wrong reason.
//!
//! The schema fuzzer (`schema_fuzz.rs`) and the JSON Schema test suite
//! (`schema_suite.rs`) cover the same keywords at random and at length; this
//! file is the table to read first.

use fal_codegen::{Source, generate};
use fal_ltx::validation::json_equal;
use integration_tests::corpus_crate::{self, Harness};
use integration_tests::differential::{input_component, reference_schema};
use integration_tests::schema_grammar;
use serde_json::{Value, json};

/// A keyword, a schema using it, and values it accepts and refuses.
struct Example {
    keyword: &'static str,
    schema: Value,
    valid: Vec<Value>,
    invalid: Vec<Value>,
}

fn example(keyword: &'static str, schema: Value, valid: Vec<Value>, invalid: Vec<Value>) -> Example {
    Example { keyword, schema, valid, invalid }
}

#[allow(clippy::too_many_lines)]
fn examples() -> Vec<Example> {
    vec![
        // Checked by the generated types.
        example("type", json!({"type": "integer"}), vec![json!(3), json!(3.0)], vec![json!(3.5), json!("3")]),
        example(
            "type: integer beyond i64",
            json!({"type": "integer", "minimum": 0}),
            vec![json!(9_223_372_036_854_775_808u64), json!(u64::MAX), json!(1.2e52)],
            vec![json!(-1.2e52), json!(-1)],
        ),
        example(
            "type: integer bounded within i64",
            json!({"type": "integer", "minimum": 0, "maximum": 100}),
            vec![json!(100)],
            vec![json!(u64::MAX), json!(1.2e52)],
        ),
        example("minimum", json!({"type": "integer", "minimum": 2}), vec![json!(2)], vec![json!(1)]),
        example("maximum", json!({"type": "number", "maximum": 2.5}), vec![json!(2.5)], vec![json!(2.6)]),
        example("exclusiveMinimum", json!({"type": "number", "exclusiveMinimum": 0}), vec![json!(0.1)], vec![json!(0)]),
        example("exclusiveMaximum", json!({"type": "integer", "exclusiveMaximum": 9}), vec![json!(8)], vec![json!(9)]),
        example("multipleOf", json!({"type": "number", "multipleOf": 0.5}), vec![json!(1.5)], vec![json!(1.25)]),
        example("minLength", json!({"type": "string", "minLength": 2}), vec![json!("ab")], vec![json!("a")]),
        example("maxLength", json!({"type": "string", "maxLength": 2}), vec![json!("éé")], vec![json!("abc")]),
        example("minItems", json!({"type": "array", "minItems": 1}), vec![json!([1])], vec![json!([])]),
        example("maxItems", json!({"type": "array", "maxItems": 1}), vec![json!([1])], vec![json!([1, 2])]),
        example(
            "uniqueItems",
            json!({"type": "array", "uniqueItems": true}),
            vec![json!([1, "1"])],
            vec![json!([1, 1.0])],
        ),
        example("items", json!({"type": "array", "items": {"type": "string"}}), vec![json!(["a"])], vec![json!([1])]),
        example(
            "enum (strings)",
            json!({"type": "string", "enum": ["x264", "vp9"]}),
            vec![json!("vp9")],
            vec![json!("VP9")],
        ),
        example("const (string)", json!({"type": "string", "const": "a"}), vec![json!("a")], vec![json!("b")]),
        example(
            "properties, required",
            json!({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}),
            vec![json!({"a": 1}), json!({"a": 1, "other": true})],
            vec![json!({}), json!({"a": "1"}), json!([])],
        ),
        example(
            "nullable",
            json!({"type": "object", "properties": {"a": {"type": "integer", "nullable": true}}}),
            vec![json!({"a": null}), json!({"a": 1})],
            vec![json!({"a": "x"})],
        ),
        example(
            "anyOf (disjoint types)",
            json!({"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]}),
            vec![json!(1), json!("a")],
            vec![json!(-1), json!(true)],
        ),
        // Checked as JSON Schema at run time (the input embeds its schema).
        example("pattern", json!({"type": "string", "pattern": "^a+$"}), vec![json!("aaa")], vec![json!("abc")]),
        example(
            "additionalProperties: false",
            json!({"type": "object", "properties": {"a": {}}, "additionalProperties": false}),
            vec![json!({"a": 1})],
            vec![json!({"a": 1, "b": 2})],
        ),
        example(
            "additionalProperties (a schema, beside properties)",
            json!({"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "boolean"}}),
            vec![json!({"a": 1, "b": true})],
            vec![json!({"a": 1, "b": 2})],
        ),
        example(
            "patternProperties",
            json!({"type": "object", "patternProperties": {"^x_": {"type": "integer"}}}),
            vec![json!({"x_a": 1, "y": "s"})],
            vec![json!({"x_a": "s"})],
        ),
        example("minProperties", json!({"type": "object", "minProperties": 1}), vec![json!({"a": 1})], vec![json!({})]),
        example(
            "maxProperties",
            json!({"type": "object", "maxProperties": 1}),
            vec![json!({"a": 1})],
            vec![json!({"a": 1, "b": 2})],
        ),
        example(
            "required (without properties)",
            json!({"type": "object", "required": ["a"]}),
            vec![json!({"a": null})],
            vec![json!({"b": 1})],
        ),
        example(
            "properties (without type)",
            json!({"properties": {"a": {"type": "integer"}}}),
            vec![json!({"a": 1}), json!([]), json!("not an object")],
            vec![json!({"a": "1"})],
        ),
        example(
            "oneOf (exactly one)",
            json!({"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 2}]}),
            vec![json!(1), json!(2.5)],
            vec![json!(3)],
        ),
        example(
            "oneOf with discriminator",
            json!({
                "oneOf": [
                    {"type": "object", "properties": {"kind": {"const": "a"}, "x": {"type": "integer"}}, "required": ["kind"]},
                    {"type": "object", "properties": {"kind": {"const": "b"}, "y": {"type": "string"}}, "required": ["kind"]}
                ],
                "discriminator": {"propertyName": "kind"}
            }),
            vec![json!({"kind": "a", "x": 1}), json!({"kind": "b", "y": "s"})],
            vec![json!({"kind": "c"}), json!({"kind": "a", "x": "1"})],
        ),
        example(
            "allOf (several schemas)",
            json!({"allOf": [{"type": "integer", "minimum": 0}, {"type": "integer", "maximum": 9}]}),
            vec![json!(5)],
            vec![json!(10), json!(-1)],
        ),
        example(
            "enum (any JSON values)",
            json!({"enum": [1, [1, 2], {"a": null}, null]}),
            vec![json!(1.0), json!([1, 2]), json!({"a": null}), json!(null)],
            vec![json!(2), json!([2, 1]), json!({"a": 0})],
        ),
        example(
            "const (an object)",
            json!({"const": {"a": [false]}}),
            vec![json!({"a": [false]})],
            vec![json!({"a": [0]}), json!({"a": [false], "b": 1})],
        ),
        example(
            "type (an array)",
            json!({"type": ["integer", "string"]}),
            vec![json!(1), json!("a")],
            vec![json!(1.5), json!(null)],
        ),
        example("type: null", json!({"type": "null"}), vec![json!(null)], vec![json!(0), json!("")]),
        example(
            "prefixItems with items",
            json!({"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "integer"}}),
            vec![json!(["x", 2, 3]), json!([])],
            vec![json!([1, 2]), json!(["x", "y"])],
        ),
        example("boolean schema true", json!(true), vec![json!(1), json!(null), json!({"a": []})], vec![]),
        example("boolean schema false", json!(false), vec![], vec![json!(1), json!(null)]),
        example(
            "counts written as floats",
            json!({"type": "string", "maxLength": 2.0}),
            vec![json!("ab")],
            vec![json!("abc")],
        ),
        example("not", json!({"type": "integer", "not": {"multipleOf": 3}}), vec![json!(4)], vec![json!(6)]),
        example(
            "if, then, else",
            json!({"if": {"type": "integer"}, "then": {"minimum": 0}, "else": {"type": "string"}}),
            vec![json!(1), json!("a")],
            vec![json!(-1), json!(true)],
        ),
        example(
            "contains, minContains",
            json!({"type": "array", "contains": {"type": "string"}, "minContains": 2}),
            vec![json!(["a", 1, "b"])],
            vec![json!(["a", 1])],
        ),
        example(
            "propertyNames",
            json!({"type": "object", "propertyNames": {"maxLength": 3}}),
            vec![json!({"abc": 1})],
            vec![json!({"abcd": 1})],
        ),
        example(
            "dependentRequired",
            json!({"type": "object", "dependentRequired": {"a": ["b"]}}),
            vec![json!({"a": 1, "b": 2}), json!({"b": 2})],
            vec![json!({"a": 1})],
        ),
        example(
            "unevaluatedProperties",
            json!({"type": "object", "allOf": [{"properties": {"a": {}}}], "unevaluatedProperties": false}),
            vec![json!({"a": 1})],
            vec![json!({"a": 1, "b": 2})],
        ),
        example(
            "nullable array items",
            json!({"type": "array", "items": {"type": "integer", "nullable": true}}),
            vec![json!([1, null])],
            vec![json!([1, "2"])],
        ),
        example(
            "a nullable union branch",
            json!({"anyOf": [{"type": "integer", "nullable": true}, {"type": "string"}]}),
            vec![json!(null), json!(1), json!("a")],
            vec![json!(true)],
        ),
    ]
}

#[test]
fn every_keyword_accepts_its_valid_examples_and_refuses_the_invalid_ones() {
    let examples = examples();
    let mut sources = Vec::new();
    // Each schema twice: as the required property `v` of the input (the data sent as `{"v": data}`), and as
    // the input schema itself (the data is the whole body).
    let mut docs = Vec::new();
    for (i, example) in examples.iter().enumerate() {
        for wrapped in [true, false] {
            let (id, prefix) = if wrapped {
                (format!("keywords/examples/k{i}"), format!("K{i}"))
            } else {
                (format!("keywords/bodies/k{i}"), format!("B{i}"))
            };
            let mut doc = schema_grammar::document(&id, &prefix, example.schema.clone(), &[]);
            if !wrapped {
                doc["components"]["schemas"][format!("{prefix}Input")] = example.schema.clone();
            }
            let source = Source {
                endpoint_id: id,
                file: format!("keyword-examples/{prefix}.json"),
                text: serde_json::to_string_pretty(&doc).expect("JSON"),
            };
            generate(std::slice::from_ref(&source)).unwrap_or_else(|e| panic!("{}: {e}", example.keyword));
            sources.push(source);
            docs.push((example, wrapped, doc));
        }
    }
    let built = corpus_crate::build(&sources, "keyword-examples").unwrap_or_else(|e| panic!("{e}"));
    let mut harness = Harness::start(&built);
    let mut failures = Vec::new();
    for ((example, wrapped, doc), source) in docs.iter().zip(&sources) {
        let oracle = oracle(doc);
        let cases = example.valid.iter().map(|v| (v, true)).chain(example.invalid.iter().map(|v| (v, false)));
        let how = if *wrapped { "as `v`" } else { "as the body" };
        for (value, valid) in cases {
            let input = if *wrapped { json!({ "v": value }) } else { value.clone() };
            assert_eq!(oracle.is_valid(&input), valid, "{}: the example {value} is mislabelled", example.keyword);
            let verdict = harness.check(&source.endpoint_id, &input);
            let keyword = example.keyword;
            match (&verdict, valid) {
                (Ok(body), true) if json_equal(body, &input) => {}
                (Ok(body), true) => failures.push(format!("{keyword} ({how}): {value} comes back as {body}")),
                (Err(_), false) => {}
                (Ok(_), false) => failures.push(format!("{keyword} ({how}): the invalid {value} is accepted")),
                (Err(why), true) => failures.push(format!("{keyword} ({how}): the valid {value} is refused: {why}")),
            }
        }
    }
    harness.finish();
    assert!(failures.is_empty(), "{} examples disagree:\n  {}", failures.len(), failures.join("\n  "));
}

/// The `jsonschema` crate on the document's input, as the differentials use it.
fn oracle(doc: &Value) -> jsonschema::Validator {
    let input = input_component(doc).expect("an input component");
    jsonschema::draft202012::new(&reference_schema(doc, &input)).expect("the schema compiles")
}
