//! Which JSON Schema keywords the generated types check, and the input's
//! schema as standalone JSON Schema for the rest (ARCHITECTURE.md, "JSON Schema keywords").
//!
//! Rule: no keyword is dropped silently. The generated types and their
//! `validate()` check the keywords listed in [`TYPED`] where the
//! [lowering](super) types them (a `minimum` on an `integer`, an `enum` of
//! strings on a `string`, …). When the input's schema, or a component it
//! reaches, uses any other keyword of the 2020-12 validation vocabulary (or
//! one of those in a position the types do not express, such as `minimum`
//! without `type`), the input's schema is embedded in the generated code as
//! JSON Schema and the input's `validate()` checks the encoded input against
//! it at run time (the runtime's `json-schema` feature); a note lists each
//! such keyword with its JSON Pointer.
//!
//! The check reads the document as published (before [`normalize`](crate::normalize),
//! whose rewrites serve `openapiv3`), translated to draft 2020-12: OpenAPI
//! 3.0's `nullable: true` becomes `anyOf [the schema, {"type": "null"}]` and a
//! boolean `exclusiveMinimum`/`exclusiveMaximum` its numeric form.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::pointer;

/// Keywords that only annotate (2020-12 annotations, OpenAPI 3.0 and fal
/// extensions): nothing to check.
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "default",
    "examples",
    "example",
    "format",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
    "contentMediaType",
    "contentEncoding",
    "contentSchema",
    "externalDocs",
    "xml",
    "discriminator",
    // The dialect of a schema resource: every embedded schema is checked as 2020-12.
    "$schema",
];

/// Keywords the generated types check in the positions the lowering types
/// them; [`gaps`] says where a use falls outside that.
pub const TYPED: &[&str] = &[
    "type",
    "nullable",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "items",
    "properties",
    "required",
    "additionalProperties",
    "anyOf",
    "oneOf",
    "allOf",
    "$ref",
];

/// The JSON types of a schema as far as the lowering can tell: `None` for any
/// type (no `type`, and nothing else that pins one).
fn json_types(schema: &Value, components: Option<&Map<String, Value>>, depth: usize) -> Option<BTreeSet<String>> {
    let map = schema.as_object()?;
    let mut types: BTreeSet<String> = match map.get("type") {
        Some(Value::String(t)) => [t.clone()].into(),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => {
            if let Some(target) = map.get("$ref").and_then(Value::as_str)
                && depth < 16
            {
                let key = target.strip_prefix("#/components/schemas/")?;
                return json_types(components?.get(key)?, components, depth + 1);
            }
            if let Some(values) = map.get("enum").and_then(Value::as_array) {
                values.iter().map(|v| type_of(v).to_owned()).collect()
            } else if let Some(value) = map.get("const") {
                [type_of(value).to_owned()].into()
            } else {
                return None;
            }
        }
    };
    if map.get("nullable") == Some(&Value::Bool(true)) {
        types.insert("null".to_owned());
    }
    // `integer` is a `number`: the two overlap.
    if types.contains("integer") {
        types.insert("number".to_owned());
    }
    Some(types)
}

/// The JSON Schema type of a value (`integer` for a number without a fraction).
fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Where a schema sits, for the keywords whose support depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// A property's schema (nullable is `Option`).
    Property,
    /// A component (a `$ref` target).
    Component,
    /// A branch of `anyOf`/`oneOf` (`{"type": "null"}` there makes the union nullable).
    Branch,
    /// Anywhere else: array items, map values, union branches.
    Other,
}

/// Walks the input's schema and what it reaches.
struct Walk<'a> {
    components: Option<&'a Map<String, Value>>,
    visited: BTreeSet<String>,
    gaps: Vec<(String, String)>,
}

/// The keywords of the input component `input_key`'s schema (and of every
/// component it reaches through `$ref`) that the generated types do not
/// check, as `(JSON Pointer, keyword)` pairs in walk order. `doc` is the
/// document as published.
pub fn gaps(doc: &Value, input_key: &str) -> Vec<(String, String)> {
    let components = doc.pointer("/components/schemas").and_then(Value::as_object);
    let mut walk = Walk { components, visited: BTreeSet::new(), gaps: Vec::new() };
    walk.component(input_key);
    walk.gaps.sort();
    walk.gaps.dedup();
    walk.gaps
}

impl Walk<'_> {
    fn component(&mut self, key: &str) {
        if !self.visited.insert(key.to_owned()) {
            return;
        }
        if let Some(schema) = self.components.and_then(|c| c.get(key)) {
            let at = pointer::join("/components/schemas", key);
            self.schema(schema, &at, Position::Component);
        }
    }

    /// `keyword` of the schema at `at` is not checked by the generated types.
    fn gap(&mut self, at: &str, keyword: &str) {
        self.gaps.push((pointer::join(at, keyword), keyword.to_owned()));
    }

    fn schema(&mut self, schema: &Value, at: &str, position: Position) {
        let map = match schema {
            Value::Object(map) => map,
            // Boolean schemas: `true` accepts anything (nothing to check), `false` nothing.
            Value::Bool(true) => return,
            _ => return self.gap(at, "false"),
        };
        let ty = match map.get("type") {
            Some(Value::String(t)) if t != "null" => Some(t.as_str()),
            Some(Value::String(_)) if position == Position::Branch => None,
            Some(_) => {
                self.gap(at, "type");
                None
            }
            None => None,
        };
        let composed = ["anyOf", "oneOf", "allOf"].iter().any(|k| map.contains_key(*k));
        for (key, value) in map {
            let key = key.as_str();
            if key.starts_with("x-") || ANNOTATIONS.contains(&key) {
                continue;
            }
            let supported = match key {
                "type" => true,
                // `Option<T>` for a property, and for a component a property refers to.
                "nullable" => {
                    matches!(position, Position::Property | Position::Component) || value != &Value::Bool(true)
                }
                "enum" => match (ty, value.as_array()) {
                    (Some("string"), Some(values)) => values.iter().all(|v| v.is_string() || v.is_null()),
                    (Some("integer"), Some(values)) => values.iter().all(|v| v.is_i64() || v.is_null()),
                    _ => false,
                },
                // A `const` is an `enum` of one value.
                "const" => match ty.or_else(|| Some(type_of(value))) {
                    Some("string") => value.is_string(),
                    Some("integer") => value.is_i64(),
                    _ => false,
                },
                "minimum" | "maximum" | "multipleOf" => matches!(ty, Some("integer" | "number")) && !composed,
                "exclusiveMinimum" | "exclusiveMaximum" => {
                    matches!(ty, Some("integer" | "number")) && !composed && (value.is_number() || value.is_boolean())
                }
                "minLength" | "maxLength" => ty == Some("string") && !composed,
                "minItems" | "maxItems" => ty == Some("array") && !composed,
                // Typed items compare as JSON only when nothing is lost decoding them: items that are
                // objects (a `null` property left out) or arrays of them are compared as JSON Schema.
                "uniqueItems" => {
                    ty == Some("array")
                        && !composed
                        && map.get("items").is_none_or(|items| {
                            json_types(items, self.components, 0).is_some_and(|types| {
                                types.iter().all(|t| matches!(t.as_str(), "string" | "integer" | "number" | "boolean"))
                            })
                        })
                }
                "items" => ty == Some("array") && value.is_object(),
                // A struct: only with `type: object` (without it, a non-object is valid too).
                "properties" => ty == Some("object") && !composed,
                "required" => {
                    ty == Some("object")
                        && value.as_array().is_some_and(|names| {
                            names.iter().all(|n| {
                                n.as_str().is_some_and(|n| {
                                    map.get("properties").and_then(Value::as_object).is_some_and(|p| p.contains_key(n))
                                })
                            })
                        })
                }
                // A map (`type: object` without `properties`), or `true`.
                "additionalProperties" => {
                    value == &Value::Bool(true)
                        || (ty == Some("object") && value.is_object() && !map.contains_key("properties"))
                }
                "anyOf" | "oneOf" => self.disjoint_branches(value, ty),
                "allOf" => value.as_array().is_some_and(|a| a.len() == 1) && ty.is_none(),
                // A component: `#/components/schemas/<key>`, nothing after the key.
                "$ref" => value
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    .is_some_and(|key| !key.is_empty() && !key.contains('/')),
                // Any other keyword of the vocabulary is checked as JSON Schema; unknown keywords are
                // annotations (2020-12, §4.3.1), except those that change what `$ref` means.
                _ => !is_vocabulary(key),
            };
            if !supported {
                self.gap(at, key);
            }
        }
        self.children(map, at);
    }

    /// Several branches are typed as an untagged union that tries each in turn; that is `anyOf`'s and
    /// `oneOf`'s meaning when no value can match two branches (their JSON types are disjoint).
    fn disjoint_branches(&self, value: &Value, ty: Option<&str>) -> bool {
        let Some(branches) = value.as_array() else { return false };
        if ty.is_some() {
            return false;
        }
        if branches.len() == 1 {
            return true;
        }
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for branch in branches {
            let Some(types) = json_types(branch, self.components, 0) else { return false };
            // A `null` branch is what makes the union nullable.
            for t in types.into_iter().filter(|t| t != "null") {
                if !seen.insert(t) {
                    return false;
                }
            }
        }
        true
    }

    fn children(&mut self, map: &Map<String, Value>, at: &str) {
        for (key, position) in [
            ("items", Position::Other),
            ("additionalProperties", Position::Other),
            ("not", Position::Other),
            ("if", Position::Other),
            ("then", Position::Other),
            ("else", Position::Other),
            ("contains", Position::Other),
            ("propertyNames", Position::Other),
            ("unevaluatedItems", Position::Other),
            ("unevaluatedProperties", Position::Other),
        ] {
            if let Some(child) = map.get(key)
                && (child.is_object() || key != "additionalProperties")
            {
                self.schema(child, &pointer::join(at, key), position);
            }
        }
        for key in ["properties", "patternProperties", "dependentSchemas", "$defs"] {
            if let Some(Value::Object(children)) = map.get(key) {
                let position = if key == "properties" { Position::Property } else { Position::Other };
                for (name, child) in children {
                    self.schema(child, &pointer::join(&pointer::join(at, key), name), position);
                }
            }
        }
        for key in ["anyOf", "oneOf", "allOf", "prefixItems"] {
            if let Some(Value::Array(children)) = map.get(key) {
                // `{"type": "null"}` makes a union of several branches nullable; alone, it is the value's type.
                let position = if matches!(key, "anyOf" | "oneOf") && children.len() > 1 {
                    Position::Branch
                } else {
                    Position::Other
                };
                for (i, child) in children.iter().enumerate() {
                    self.schema(child, &pointer::join(&pointer::join(at, key), &i.to_string()), position);
                }
            }
        }
        if let Some(key) = map.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/"))
        {
            self.component(&key.replace("~1", "/").replace("~0", "~"));
        }
    }
}

/// Keywords of the JSON Schema 2020-12 core and validation vocabularies (and
/// the applicators) that constrain values or what `$ref` resolves to.
fn is_vocabulary(key: &str) -> bool {
    matches!(
        key,
        "not"
            | "if"
            | "then"
            | "else"
            | "pattern"
            | "prefixItems"
            | "contains"
            | "minContains"
            | "maxContains"
            | "unevaluatedItems"
            | "unevaluatedProperties"
            | "patternProperties"
            | "propertyNames"
            | "minProperties"
            | "maxProperties"
            | "dependentRequired"
            | "dependentSchemas"
            | "dependencies"
            | "$defs"
            | "definitions"
            | "$id"
            | "$anchor"
            | "$dynamicRef"
            | "$dynamicAnchor"
            | "$recursiveRef"
            | "$recursiveAnchor"
            | "$vocabulary"
    )
}

/// The input's schema as standalone JSON Schema (draft 2020-12): a `$ref` to
/// the input component, the document's components under `$defs`, each
/// translated ([module docs](self)), as compact JSON text.
///
/// Under `$defs` (not `components/schemas`, which JSON Schema does not know
/// as a place of schemas) the validator finds the `$anchor`s and `$id`s
/// inside the components; `$ref`s to `#/components/schemas/…` become
/// `#/$defs/…`.
pub fn standalone(doc: &Value, input_key: &str) -> String {
    with_defs(doc, json!({ "$ref": defs_ref(input_key) })).to_string()
}

/// The `$schema` dialect, the keywords of `root` (a schema object), and the
/// document's components, translated, as `$defs`.
fn with_defs(doc: &Value, root: Value) -> Value {
    let mut components = doc.pointer("/components/schemas").cloned().unwrap_or_else(|| json!({}));
    to_2020_12(&mut components, true);
    let mut schema = json!({ "$schema": "https://json-schema.org/draft/2020-12/schema" });
    if let (Value::Object(schema), Value::Object(root)) = (&mut schema, root) {
        schema.extend(root);
    }
    schema["$defs"] = components;
    schema
}

/// The `$ref` to component `key` in [`with_defs`]'s form.
fn defs_ref(key: &str) -> String {
    format!("#/$defs/{}", pointer::escape_token(key))
}

/// `doc` without the `pattern`s and `patternProperties` keys among `gaps`
/// (as [`gaps`] returns them) that the runtime's check cannot compile, and a
/// note for each: `(JSON Pointer, message)`.
///
/// JSON Schema's patterns are ECMA-262 regular expressions. The check
/// (`jsonschema` in the runtime's `json-schema` feature) translates them to
/// Rust syntax (`\d` is `[0-9]`, `\w` `[A-Za-z0-9_]`, `\s` ECMA-262's white
/// space and line terminators, `\cX` a control character) and runs them with
/// `fancy-regex`, which has lookaround and backreferences. A pattern it still
/// cannot compile would make the whole schema fail, and every input with it;
/// compiling each here, with the same crate, finds them before run time.
pub fn without_unreadable_patterns(doc: &Value, gaps: &[(String, String)]) -> (Value, Vec<(String, String)>) {
    let compiles = |schema: Value| jsonschema::draft202012::new(&schema).map(drop).map_err(|e| e.to_string());
    let mut doc = doc.clone();
    let mut notes = Vec::new();
    for (at, keyword) in gaps {
        let Some((parent, _)) = at.rsplit_once('/') else { continue };
        match keyword.as_str() {
            "pattern" => {
                let Some(pattern) = doc.pointer(at).and_then(Value::as_str).map(str::to_owned) else { continue };
                if let Err(error) = compiles(json!({ "pattern": pattern })) {
                    if let Some(Value::Object(schema)) = doc.pointer_mut(parent) {
                        schema.remove("pattern");
                    }
                    notes.push((at.clone(), unreadable(&pattern, &error)));
                }
            }
            "patternProperties" => {
                let keys: Vec<String> =
                    doc.pointer(at).and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default();
                for pattern in keys {
                    if let Err(error) = compiles(json!({ "patternProperties": { pattern.clone(): true } })) {
                        if let Some(Value::Object(map)) = doc.pointer_mut(at) {
                            map.remove(&pattern);
                        }
                        notes.push((pointer::join(at, &pattern), unreadable(&pattern, &error)));
                    }
                }
            }
            _ => {}
        }
    }
    (doc, notes)
}

/// Why the components `keys` of `doc`, as JSON Schema ([`standalone`]'s
/// form), do not compile with the runtime's check (a `$ref` it cannot
/// resolve), if they do not.
pub fn compile_error(doc: &Value, keys: &[&str]) -> Option<String> {
    let all: Vec<Value> = keys.iter().map(|k| json!({ "$ref": defs_ref(k) })).collect();
    let schema = with_defs(doc, json!({ "allOf": all }));
    jsonschema::draft202012::new(&schema).err().map(|e| e.to_string())
}

fn unreadable(pattern: &str, error: &str) -> String {
    format!(
        "the pattern `{pattern}` cannot be compiled by the client's regex engine ({error}): it is not checked \
         client-side (fal's validator still checks it)"
    )
}

/// OpenAPI 3.0 → 2020-12 in every schema under `value` (`container`: `value`
/// maps names to schemas rather than being one).
fn to_2020_12(value: &mut Value, container: bool) {
    if container {
        if let Value::Object(map) = value {
            map.values_mut().for_each(|schema| to_2020_12(schema, false));
        }
        return;
    }
    let Value::Object(map) = value else { return };
    for (bound, limit) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        match map.get(bound) {
            Some(Value::Bool(true)) => {
                if let Some(limit) = map.remove(limit) {
                    map.insert(bound.to_owned(), limit);
                } else {
                    map.remove(bound);
                }
            }
            Some(Value::Bool(false)) => {
                map.remove(bound);
            }
            _ => {}
        }
    }
    for (key, child) in map.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" | "dependentSchemas" | "$defs" | "definitions" => {
                to_2020_12(child, true);
            }
            "items"
            | "additionalProperties"
            | "not"
            | "if"
            | "then"
            | "else"
            | "contains"
            | "propertyNames"
            | "unevaluatedItems"
            | "unevaluatedProperties" => to_2020_12(child, false),
            "anyOf" | "oneOf" | "allOf" | "prefixItems" => {
                if let Value::Array(children) = child {
                    children.iter_mut().for_each(|c| to_2020_12(c, false));
                }
            }
            _ => {}
        }
    }
    for key in ["$ref", "$dynamicRef"] {
        if let Some(Value::String(target)) = map.get_mut(key)
            && let Some(rest) = target.strip_prefix("#/components/schemas/")
        {
            *target = format!("#/$defs/{rest}");
        }
    }
    if map.remove("nullable") == Some(Value::Bool(true)) {
        let inner = Value::Object(std::mem::take(map));
        map.insert("anyOf".to_owned(), json!([inner, {"type": "null"}]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(input: Value) -> Value {
        json!({"components": {"schemas": {"In": input, "Shared": {"type": "string", "pattern": "^a$"}}}})
    }

    fn keywords(input: Value) -> Vec<String> {
        gaps(&doc(input), "In").into_iter().map(|(at, k)| format!("{at} {k}")).collect()
    }

    #[test]
    fn patterns_the_check_cannot_compile_are_left_out_with_a_note() {
        let doc = doc(json!({
            "type": "object",
            "properties": {
                // A property named `pattern` is not the keyword.
                "pattern": {"type": "string", "pattern": "^(?<=a)b\\d$"},
                "broken": {"type": "string", "pattern": "(unclosed"},
                "map": {"type": "object", "patternProperties": {"^x": {}, "[z-a]": {}}}
            }
        }));
        let (cleaned, notes) = without_unreadable_patterns(&doc, &gaps(&doc, "In"));
        let at: Vec<&str> = notes.iter().map(|(at, _)| at.as_str()).collect();
        assert_eq!(
            at,
            [
                "/components/schemas/In/properties/broken/pattern",
                "/components/schemas/In/properties/map/patternProperties/[z-a]"
            ]
        );
        assert!(notes[0].1.contains("`(unclosed` cannot be compiled"), "{}", notes[0].1);
        let props = &cleaned["components"]["schemas"]["In"]["properties"];
        assert_eq!(props["broken"], json!({"type": "string"}));
        assert_eq!(props["pattern"]["pattern"], json!("^(?<=a)b\\d$"), "lookbehind compiles (fancy-regex)");
        assert_eq!(props["map"]["patternProperties"], json!({"^x": {}}));
    }

    #[test]
    fn typed_keywords_in_typed_positions_are_no_gap() {
        let input = json!({"type": "object", "required": ["a"], "properties": {
            "a": {"type": "integer", "minimum": 1, "maximum": 9, "multipleOf": 2, "nullable": true},
            "b": {"type": "string", "enum": ["x", "y"], "maxLength": 3, "title": "B", "x-fal-order": 1},
            "c": {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}, "minItems": 1, "uniqueItems": true},
            "d": {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
            "e": {"type": "object", "additionalProperties": {"type": "boolean"}},
        }});
        assert_eq!(keywords(input), Vec::<String>::new());
    }

    #[test]
    fn every_other_use_is_a_gap_with_its_pointer() {
        let input = json!({"type": "object", "properties": {
            "a": {"minimum": 1},
            "b": {"type": ["integer", "string"]},
            "c": {"$ref": "#/components/schemas/Shared"},
            "d": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
            "e": {"type": "object", "properties": {"x": {}}, "additionalProperties": false},
            "f": {"enum": [[1], {"a": 2}]},
            "g": {"type": "array", "items": {"type": "string", "nullable": true}},
            "h": {"not": {"type": "string"}},
        }});
        assert_eq!(
            keywords(input),
            [
                "/components/schemas/In/properties/a/minimum minimum",
                "/components/schemas/In/properties/b/type type",
                "/components/schemas/In/properties/d/oneOf oneOf",
                "/components/schemas/In/properties/e/additionalProperties additionalProperties",
                "/components/schemas/In/properties/f/enum enum",
                "/components/schemas/In/properties/g/items/nullable nullable",
                "/components/schemas/In/properties/h/not not",
                "/components/schemas/Shared/pattern pattern",
            ]
        );
    }

    #[test]
    fn the_standalone_schema_is_2020_12() -> Result<(), Box<dyn std::error::Error>> {
        let doc = json!({"components": {"schemas": {"In": {"type": "object", "properties": {
            "a": {"type": "integer", "nullable": true, "minimum": 0, "exclusiveMinimum": true},
        }}}}});
        let schema: Value = serde_json::from_str(&standalone(&doc, "In"))?;
        assert_eq!(schema["$ref"], "#/$defs/In");
        assert_eq!(
            schema["$defs"]["In"]["properties"]["a"],
            json!({"anyOf": [{"type": "integer", "exclusiveMinimum": 0}, {"type": "null"}]})
        );
        // References follow the components to `$defs`; an anchor inside one is found.
        let doc = json!({"components": {"schemas": {
            "In": {"type": "object", "properties": {"s": {"$ref": "#/components/schemas/S"}, "t": {"$ref": "#t"}}},
            "S": {"type": "string", "pattern": "^a"},
            "T": {"$anchor": "t", "type": "integer"},
        }}});
        let schema: Value = serde_json::from_str(&standalone(&doc, "In"))?;
        assert_eq!(schema["$defs"]["In"]["properties"]["s"]["$ref"], "#/$defs/S");
        let validator = jsonschema::draft202012::new(&schema).map_err(|e| e.to_string())?;
        assert!(validator.is_valid(&json!({"s": "ab", "t": 1})));
        assert!(!validator.is_valid(&json!({"s": "b"})));
        assert!(!validator.is_valid(&json!({"t": "1"})));
        Ok(())
    }
}
