//! Every generated `DEFAULT_*` constant equals the `default` its schema gives,
//! and every default of an input property has a constant.

use fal_ltx::ENDPOINTS;
use fal_ltx::validation::json_equal;
use integration_tests::support::vendored_schema;
use serde_json::Value;

#[test]
fn generated_defaults_equal_the_schema_defaults() {
    for endpoint in ENDPOINTS {
        let mut checked = 0;
        let doc = vendored_schema(endpoint.id);
        for (pointer, value) in (endpoint.defaults)() {
            let schema = doc
                .pointer(pointer.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("{}: {pointer} does not exist in the schema", endpoint.id));
            let expected = schema.get("default").unwrap_or_else(|| panic!("{}: {pointer} has no default", endpoint.id));
            assert!(
                json_equal(&value, expected),
                "{}: {pointer}: constant is {value}, schema says {expected}",
                endpoint.id
            );
            checked += 1;
        }
        let in_schema = count_defaults(&doc["components"]["schemas"]);
        assert_eq!(checked, in_schema, "{}: {checked} constants for {in_schema} schema defaults", endpoint.id);
    }
}

#[test]
fn every_input_default_has_a_constant() {
    for endpoint in ENDPOINTS {
        let doc = vendored_schema(endpoint.id);
        let input = input_component(&doc);
        let emitted: Vec<String> = (endpoint.defaults)().into_iter().map(|(p, _)| p.to_owned()).collect();
        let props = doc
            .pointer(&format!("/components/schemas/{input}/properties"))
            .and_then(Value::as_object)
            .expect("input has properties");
        for (name, schema) in props {
            if schema.get("default").is_some_and(|d| !d.is_null()) {
                let pointer = format!("#/components/schemas/{input}/properties/{name}");
                assert!(emitted.contains(&pointer), "{}: no constant for the default of {pointer}", endpoint.id);
            }
        }
    }
}

fn input_component(doc: &Value) -> String {
    doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .find_map(|item| {
            item.pointer("/post/requestBody/content/application~1json/schema/$ref").and_then(Value::as_str)
        })
        .and_then(|reference| reference.rsplit('/').next())
        .expect("the submit operation references the input component")
        .to_owned()
}

/// The non-null `default`s anywhere under `node`.
fn count_defaults(node: &Value) -> usize {
    match node {
        Value::Object(map) => {
            usize::from(map.get("default").is_some_and(|d| !d.is_null()))
                + map.values().map(count_defaults).sum::<usize>()
        }
        Value::Array(items) => items.iter().map(count_defaults).sum(),
        _ => 0,
    }
}
