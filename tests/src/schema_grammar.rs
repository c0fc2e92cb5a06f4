//! Random JSON Schemas from a grammar of keywords, wrapped as fal-style
//! OpenAPI documents, for the schema fuzzer (`tests/tests/schema_fuzz.rs`).
//!
//! [`Grammar::schema`] draws a schema of bounded depth: scalars with their
//! constraints, arrays, objects, enums and unions, nested and combined, with
//! `$ref`s to shared components the document defines. Which keywords may
//! appear is the grammar's [`Keyword`] set, so the fuzzer can run on what the
//! generator enforces while the rest is being built. [`document`] wraps a
//! schema as the one required property `v` of an endpoint's input.

use std::collections::BTreeSet;

use rand::RngExt;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use serde_json::{Map, Value, json};

/// The keywords a [`Grammar`] may use beyond the always-present `type`,
/// `properties`, `items` and `required`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Keyword {
    /// `minimum`, `maximum` on integers and numbers.
    Bounds,
    /// `exclusiveMinimum`, `exclusiveMaximum` (2020-12 numeric form).
    ExclusiveBounds,
    /// `multipleOf`.
    MultipleOf,
    /// `minLength`, `maxLength`.
    Length,
    /// `pattern`.
    Pattern,
    /// `minItems`, `maxItems`.
    ItemCount,
    /// `uniqueItems`.
    UniqueItems,
    /// `prefixItems` (with `items` for the rest).
    PrefixItems,
    /// `enum` of strings or of integers.
    ScalarEnum,
    /// `enum` of any JSON values (arrays, objects, numbers with fractions, null).
    AnyEnum,
    /// `const`.
    Const,
    /// `anyOf` of differently typed branches.
    AnyOf,
    /// `oneOf`.
    OneOf,
    /// `allOf` of two or more schemas.
    AllOf,
    /// OpenAPI 3.0's `nullable: true` on object properties (where fal's documents have it).
    Nullable,
    /// `nullable: true` anywhere: array items, union branches, shared components.
    NullableAnywhere,
    /// Union branches of any kind, so that they may overlap (nested unions, an integer and a number).
    OverlappingBranches,
    /// `type` as an array, and `type: "null"`.
    TypeArrays,
    /// `additionalProperties: false` or a schema.
    AdditionalProperties,
    /// `patternProperties`.
    PatternProperties,
    /// `minProperties`, `maxProperties`.
    PropertyCount,
    /// `$ref` to a shared component.
    Ref,
    /// Keywords without `type` (an untyped schema with constraints).
    Untyped,
}

impl Keyword {
    /// Every keyword of the grammar.
    pub const ALL: [Self; 23] = [
        Self::Bounds,
        Self::ExclusiveBounds,
        Self::MultipleOf,
        Self::Length,
        Self::Pattern,
        Self::ItemCount,
        Self::UniqueItems,
        Self::PrefixItems,
        Self::ScalarEnum,
        Self::AnyEnum,
        Self::Const,
        Self::AnyOf,
        Self::OneOf,
        Self::AllOf,
        Self::Nullable,
        Self::NullableAnywhere,
        Self::OverlappingBranches,
        Self::TypeArrays,
        Self::AdditionalProperties,
        Self::PatternProperties,
        Self::PropertyCount,
        Self::Ref,
        Self::Untyped,
    ];
}

/// Patterns `pattern` and `patternProperties` draw from: ECMA-262 syntax that
/// means the same in Rust's `regex` crate.
const PATTERNS: [&str; 6] = ["^a*$", "^[0-9]+$", "b", "^x.?y$", "^[a-f]{2,4}$", "^(ab|cd)+$"];

/// A random schema drawer over a set of keywords.
#[derive(Debug)]
pub struct Grammar<'a> {
    /// The keywords it may use.
    pub keywords: &'a BTreeSet<Keyword>,
    /// The random source.
    pub rng: StdRng,
    /// Shared components drawn so far (`Shared0`, …), referred to by `$ref`.
    pub shared: Vec<Value>,
    /// The deepest nesting of objects, arrays and unions.
    pub max_depth: usize,
}

impl Grammar<'_> {
    fn has(&self, keyword: Keyword) -> bool {
        self.keywords.contains(&keyword)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    /// A random schema.
    pub fn schema(&mut self, depth: usize) -> Value {
        let nested = depth < self.max_depth;
        let mut kinds = vec!["integer", "number", "string", "boolean"];
        if nested {
            kinds.extend(["array", "object", "object"]);
        }
        if self.has(Keyword::ScalarEnum) {
            kinds.push("scalar-enum");
        }
        if self.has(Keyword::AnyEnum) {
            kinds.push("any-enum");
        }
        if self.has(Keyword::Const) {
            kinds.push("const");
        }
        if nested && self.has(Keyword::AnyOf) {
            kinds.push("anyOf");
        }
        if nested && self.has(Keyword::OneOf) {
            kinds.push("oneOf");
        }
        if nested && self.has(Keyword::AllOf) {
            kinds.push("allOf");
        }
        if nested && self.has(Keyword::Ref) {
            kinds.push("ref");
        }
        if self.has(Keyword::TypeArrays) {
            kinds.push("type-array");
        }
        if self.has(Keyword::Untyped) {
            kinds.push("untyped");
        }
        let kind = *kinds.choose(&mut self.rng).expect("kinds");
        let mut schema = match kind {
            "integer" => self.integer(),
            "number" => self.number(),
            "string" => self.string(),
            "boolean" => json!({"type": "boolean"}),
            "array" => self.array(depth),
            "object" => self.object(depth),
            "scalar-enum" => self.scalar_enum(),
            "any-enum" => {
                let count = self.rng.random_range(1..4);
                json!({"enum": self.values(count)})
            }
            "const" => json!({"const": self.value(0)}),
            "anyOf" | "oneOf" => {
                let branches = self.distinct_branches(depth);
                json!({ kind: branches })
            }
            "allOf" => self.all_of(depth),
            "ref" => self.reference(depth),
            "type-array" => self.type_array(),
            _ => self.untyped(),
        };
        if self.has(Keyword::NullableAnywhere) && kind != "ref" && self.chance(0.15) {
            schema["nullable"] = json!(true);
        }
        schema
    }

    /// A schema of one JSON type (no union, `$ref`, `const` or untyped schema), as a union branch.
    fn typed(&mut self, depth: usize) -> Value {
        let nested = depth < self.max_depth;
        let mut kinds = vec!["integer", "number", "string", "boolean"];
        if nested {
            kinds.extend(["array", "object"]);
        }
        if self.has(Keyword::ScalarEnum) {
            kinds.push("scalar-enum");
        }
        match *kinds.choose(&mut self.rng).expect("kinds") {
            "integer" => self.integer(),
            "number" => self.number(),
            "string" => self.string(),
            "boolean" => json!({"type": "boolean"}),
            "array" => self.array(depth),
            "object" => self.object(depth),
            _ => self.scalar_enum(),
        }
    }

    fn bounds(&mut self, schema: &mut Value, low: f64, high: f64, integer: bool) {
        let number = |x: f64| if integer { json!(x.round() as i64) } else { json!(x) };
        if self.has(Keyword::Bounds) && self.chance(0.5) {
            schema["minimum"] = number(low);
        } else if self.has(Keyword::ExclusiveBounds) && self.chance(0.3) {
            schema["exclusiveMinimum"] = number(low);
        }
        if self.has(Keyword::Bounds) && self.chance(0.5) {
            schema["maximum"] = number(high);
        } else if self.has(Keyword::ExclusiveBounds) && self.chance(0.3) {
            schema["exclusiveMaximum"] = number(high);
        }
    }

    fn integer(&mut self) -> Value {
        let mut schema = json!({"type": "integer"});
        let low = self.rng.random_range(-100..50) as f64;
        let high = low + self.rng.random_range(0..200) as f64;
        self.bounds(&mut schema, low, high, true);
        if self.has(Keyword::MultipleOf) && self.chance(0.3) {
            schema["multipleOf"] = json!(*[2, 3, 5, 8].choose(&mut self.rng).expect("factors"));
        }
        schema
    }

    fn number(&mut self) -> Value {
        let mut schema = json!({"type": "number"});
        let low = f64::from(self.rng.random_range(-1000..500)) / 10.0;
        let high = low + f64::from(self.rng.random_range(0..2000)) / 10.0;
        self.bounds(&mut schema, low, high, false);
        if self.has(Keyword::MultipleOf) && self.chance(0.3) {
            schema["multipleOf"] = json!(*[0.5, 0.25, 2.0, 0.1].choose(&mut self.rng).expect("factors"));
        }
        schema
    }

    fn string(&mut self) -> Value {
        let mut schema = json!({"type": "string"});
        if self.has(Keyword::Length) && self.chance(0.5) {
            let min = self.rng.random_range(0..4);
            schema["minLength"] = json!(min);
            if self.chance(0.7) {
                schema["maxLength"] = json!(min + self.rng.random_range(0..8));
            }
        }
        if self.has(Keyword::Pattern) && self.chance(0.4) {
            schema["pattern"] = json!(*PATTERNS.choose(&mut self.rng).expect("patterns"));
        }
        schema
    }

    fn array(&mut self, depth: usize) -> Value {
        let mut schema = json!({"type": "array", "items": self.schema(depth + 1)});
        if self.has(Keyword::PrefixItems) && self.chance(0.25) {
            let first = (0..self.rng.random_range(1..3)).map(|_| self.schema(depth + 1)).collect::<Vec<_>>();
            schema["prefixItems"] = Value::Array(first);
        }
        if self.has(Keyword::ItemCount) && self.chance(0.5) {
            let min = self.rng.random_range(0..3);
            schema["minItems"] = json!(min);
            if self.chance(0.7) {
                schema["maxItems"] = json!(min + self.rng.random_range(0..4));
            }
        }
        if self.has(Keyword::UniqueItems) && self.chance(0.25) {
            schema["uniqueItems"] = json!(true);
        }
        schema
    }

    fn object(&mut self, depth: usize) -> Value {
        let count = self.rng.random_range(1..4);
        let mut properties = Map::new();
        let mut required = Vec::new();
        for i in 0..count {
            let name = format!("p{i}");
            if self.chance(0.5) {
                required.push(json!(name.clone()));
            }
            let mut property = self.schema(depth + 1);
            if self.has(Keyword::Nullable) && property.get("$ref").is_none() && self.chance(0.15) {
                property["nullable"] = json!(true);
            }
            properties.insert(name, property);
        }
        let mut schema = json!({"type": "object", "properties": properties});
        if !required.is_empty() {
            schema["required"] = Value::Array(required);
        }
        if self.has(Keyword::AdditionalProperties) && self.chance(0.3) {
            schema["additionalProperties"] = if self.chance(0.5) { json!(false) } else { self.schema(self.max_depth) };
        }
        if self.has(Keyword::PatternProperties) && self.chance(0.2) {
            let pattern = *PATTERNS.choose(&mut self.rng).expect("patterns");
            schema["patternProperties"] = json!({ pattern: self.schema(self.max_depth) });
        }
        if self.has(Keyword::PropertyCount) && self.chance(0.25) {
            schema["minProperties"] = json!(self.rng.random_range(0..3));
            if self.chance(0.5) {
                schema["maxProperties"] = json!(self.rng.random_range(2..5));
            }
        }
        schema
    }

    fn scalar_enum(&mut self) -> Value {
        if self.chance(0.5) {
            let values: BTreeSet<&str> = (0..self.rng.random_range(1..5))
                .map(|_| *["a", "b", "c d", "1080p", "é"].choose(&mut self.rng).expect("v"))
                .collect();
            json!({"type": "string", "enum": values.into_iter().collect::<Vec<_>>()})
        } else {
            let values: BTreeSet<i64> =
                (0..self.rng.random_range(1..5)).map(|_| self.rng.random_range(-3..30)).collect();
            json!({"type": "integer", "enum": values.into_iter().collect::<Vec<_>>()})
        }
    }

    /// A random JSON value (for `enum` and `const`).
    fn value(&mut self, depth: usize) -> Value {
        match self.rng.random_range(0..if depth < 2 { 8 } else { 6 }) {
            0 => Value::Null,
            1 => json!(self.chance(0.5)),
            2 => json!(self.rng.random_range(-5..5)),
            3 => json!(f64::from(self.rng.random_range(-50..50)) / 4.0),
            4 | 5 => json!(*["", "a", "b", "ab"].choose(&mut self.rng).expect("strings")),
            6 => Value::Array((0..self.rng.random_range(0..3)).map(|_| self.value(depth + 1)).collect()),
            _ => {
                let mut map = Map::new();
                for key in ["a", "b"] {
                    if self.chance(0.5) {
                        map.insert(key.to_owned(), self.value(depth + 1));
                    }
                }
                Value::Object(map)
            }
        }
    }

    fn values(&mut self, count: usize) -> Vec<Value> {
        let mut values: Vec<Value> = Vec::new();
        while values.len() < count {
            let value = self.value(0);
            if !values.contains(&value) {
                values.push(value);
            }
        }
        values
    }

    /// Two or three branches of different JSON types (so `anyOf` and `oneOf` mean the same), or of any kinds
    /// with [`Keyword::OverlappingBranches`].
    fn distinct_branches(&mut self, depth: usize) -> Vec<Value> {
        let count = self.rng.random_range(2..4);
        let mut seen = BTreeSet::new();
        let mut branches = Vec::new();
        for _ in 0..count * 4 {
            if branches.len() == count {
                break;
            }
            let branch =
                if self.has(Keyword::OverlappingBranches) { self.schema(depth + 1) } else { self.typed(depth + 1) };
            let ty = branch.get("type").map(Value::to_string).unwrap_or_default();
            // integer and number overlap: keep one of them.
            let class = if ty == "\"integer\"" { "\"number\"".to_owned() } else { ty };
            if seen.insert(class) {
                branches.push(branch);
            }
        }
        branches
    }

    fn all_of(&mut self, depth: usize) -> Value {
        // Constraints on one type split over branches, or object parts that combine.
        if self.chance(0.5) {
            let (a, b) = (self.integer(), self.integer());
            json!({"allOf": [a, b]})
        } else {
            let (a, b) = (self.object(depth), self.object(depth));
            json!({"allOf": [a, b]})
        }
    }

    fn reference(&mut self, depth: usize) -> Value {
        let index = if self.shared.is_empty() || self.chance(0.4) {
            let schema = self.schema(depth + 1);
            self.shared.push(schema);
            self.shared.len() - 1
        } else {
            self.rng.random_range(0..self.shared.len())
        };
        json!({"$ref": format!("#/components/schemas/Shared{index}")})
    }

    fn type_array(&mut self) -> Value {
        let count = self.rng.random_range(1..3);
        let mut types: Vec<&str> =
            ["integer", "string", "boolean", "null", "number"].sample(&mut self.rng, count).copied().collect();
        types.sort_unstable();
        if types.len() == 1 { json!({"type": types[0]}) } else { json!({"type": types}) }
    }

    fn untyped(&mut self) -> Value {
        match self.rng.random_range(0..4) {
            0 => json!({"minimum": self.rng.random_range(-5..5)}),
            1 => json!({"maxLength": self.rng.random_range(0..4)}),
            2 => json!({"minItems": self.rng.random_range(0..3)}),
            _ => json!({"required": ["a"]}),
        }
    }
}

/// The fal-style document of endpoint `id` whose input is `{"v": <schema>}` (required), with the grammar's
/// shared components, and whose component names start with `prefix`.
pub fn document(id: &str, prefix: &str, mut schema: Value, shared: &[Value]) -> Value {
    // Shared components are per document: their names carry the prefix, and the `$ref`s are rewritten.
    let rename = |target: &str| {
        target
            .strip_prefix("#/components/schemas/Shared")
            .map(|index| format!("#/components/schemas/{prefix}Shared{index}"))
    };
    map_refs(&mut schema, &rename);
    let mut components = Map::new();
    for (i, shared) in shared.iter().enumerate() {
        let mut shared = shared.clone();
        map_refs(&mut shared, &rename);
        components.insert(format!("{prefix}Shared{i}"), shared);
    }
    fal_document(id, prefix, "schema-fuzz", schema, components)
}

/// A fal-style OpenAPI document for endpoint `id` (the queue's submit and result paths, as fal publishes them):
/// the input component `<prefix>Input` has one required property `v` with `schema`, the output `<prefix>Output`
/// one boolean; `components` are added beside them.
pub fn fal_document(
    id: &str,
    prefix: &str,
    category: &str,
    schema: Value,
    mut components: Map<String, Value>,
) -> Value {
    let (input, output) = (format!("{prefix}Input"), format!("{prefix}Output"));
    components.insert(input.clone(), json!({"type": "object", "properties": {"v": schema}, "required": ["v"]}));
    components.insert(output.clone(), json!({"type": "object", "properties": {"ok": {"type": "boolean"}}}));
    json!({
        "openapi": "3.0.4",
        "info": {
            "title": format!("Queue OpenAPI for {id}"),
            "version": "1.0.0",
            "x-fal-metadata": {"endpointId": id, "category": category}
        },
        "components": {"schemas": components},
        "paths": {
            format!("/{id}"): {"post": {
                "requestBody": {"required": true, "content": {"application/json": {
                    "schema": {"$ref": format!("#/components/schemas/{input}")}
                }}},
                "responses": {"200": {"description": "The request status."}}
            }},
            format!("/{id}/requests/{{request_id}}"): {"get": {"responses": {"200": {
                "description": "Result of the request.",
                "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{output}")}}}
            }}}}
        }
    })
}

/// Rewrites every `"$ref"` and `"$dynamicRef"` string under `value` for which `rewrite` returns a new target
/// (not inside `enum`, `const`, `default` or `examples`, which hold data).
pub fn map_refs(value: &mut Value, rewrite: &impl Fn(&str) -> Option<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match (key.as_str(), &*child) {
                    ("$ref" | "$dynamicRef", Value::String(target)) => {
                        if let Some(new) = rewrite(target) {
                            *child = Value::String(new);
                        }
                    }
                    ("enum" | "const" | "default" | "examples", _) => {}
                    _ => map_refs(child, rewrite),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| map_refs(v, rewrite)),
        _ => {}
    }
}
