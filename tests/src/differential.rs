//! The generated validators agree with a reference JSON Schema validator.
//!
//! For every endpoint of [`fal_ltx::ENDPOINTS`] this generates random JSON
//! request bodies around every constraint of the endpoint's input schema and
//! checks that `(endpoint.check_input)(&json).is_ok()` (decode into the typed
//! input, `validate()`, re-encode) agrees with the `jsonschema` crate on the
//! same JSON. Inputs both accept must also round-trip: `check_input` returns
//! the input itself (numbers compared by value: `121.0` comes back as `121`),
//! the keys its type does not have included.
//!
//! # The reference schema
//!
//! The oracle validates against the *raw* vendored document with draft 2020-12
//! semantics: the root schema is `{"$ref": "#/components/schemas/<Input>",
//! "components": <the document's components>}`. fal writes its documents with
//! 2020-12 habits (numeric `exclusiveMinimum`, `anyOf [X, {type: null}]`,
//! `examples`), which is exactly what a 2020-12 validator understands, so no
//! rewriting is needed. Not applying `fal_codegen::normalize` is deliberate:
//! the oracle must share no code with the generator it checks, or a bug in
//! the normalization would be invisible here.
//!
//! # The inputs
//!
//! Each input starts as a random valid body (required properties always,
//! optional ones present or absent, `null` for nullable ones now and then,
//! nested objects: LoRA lists, `video_size` as a preset or a `{width, height}`
//! object, the ltxv `video` object) and then gets zero to three mutations at
//! random places: a value at, or one step past, each bound (integers by 1,
//! numbers by ulps and by small epsilons, exclusive bounds), `multipleOf` hits
//! and near misses, strings at and past `minLength`/`maxLength` (characters,
//! with non-ASCII ones), arrays at and past `minItems`/`maxItems`, a value of
//! each wrong JSON type, a removed required property, an unknown property,
//! unknown enum values and case variants of valid ones.
//!
//! (None of the 18 input schemas has `minItems`/`maxItems` today; the LoRA
//! lists get lengths 0 to 3 anyway.) A mutation may land on any property of
//! any object in the body, nested ones as likely as top-level ones.
//!
//! Excluded input classes, where the client deliberately differs from JSON
//! Schema (each explained at its constant, and in `fal_ltx::validation`):
//! numbers within the floating-point tolerance of a `multipleOf` that are not
//! exact decimal multiples ([`NEAR_MULTIPLES`]), and integers beyond 2^53 for
//! a `number` with `multipleOf` ([`HUGE_INTEGERS_FOR_MULTIPLES`]). Included:
//! integral floats such as `121.0` for `integer` fields
//! ([`INTEGRAL_FLOATS_FOR_INTEGERS`]), integers beyond `i64`
//! ([`INTEGERS_BEYOND_I64`]), and `null` over a non-null default
//! ([`NULL_OVER_A_DEFAULT`]).
//!
//! # Reproducibility
//!
//! Each run is seeded (the tests take `VALIDATORS_SEED` and
//! `VALIDATORS_CASES` from the environment) so a failure reproduces exactly. The generator uses `rand`'s `StdRng` rather than
//! `proptest`: the inputs come from a generator driven by the raw schema (not
//! from per-type strategies), a single seeded stream keeps 100,000 inputs
//! cheap, and each failure is reported with the mutations that led to it,
//! which serves the purpose shrinking would.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::support::resolve;
use fal_ltx::validation::json_equal;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use serde_json::{Map, Value, json};

/// Every disagreement is printed in full on stderr as it is found; the panic
/// message repeats at most [`PER_LABEL`] of each label of the mutation that
/// made the difference, and [`PRINT_LIMIT`] in all.
const PRINT_LIMIT: usize = 40;
const PER_LABEL: usize = 2;

/// Integral floats (`121.0`) for `integer` fields are valid JSON Schema
/// integers, and the client decodes them as integers (`serde_helpers::integral`:
/// Python-produced JSON writes counts and seeds that way), so the generator
/// produces them for `integer` fields and integer `enum` values, and checks
/// that they round-trip (`121.0` comes back as `121`, equal as JSON).
pub const INTEGRAL_FLOATS_FOR_INTEGERS: bool = true;

/// Integers beyond `i64` (`2^63` and up, `-2^63 - 1` and down) are valid JSON
/// Schema integers. A field the schema leaves unbounded (the `seed`s) is a
/// `fal_ltx::Integer`, which holds them (beyond `u64` as the nearest `f64`,
/// as serde_json reads them); a field bounded within `i64` refuses them as
/// JSON Schema does. The generator produces `2^63`, `u64::MAX` and `±1.2e52`.
pub const INTEGERS_BEYOND_I64: bool = true;

/// `multipleOf` on numbers: the client, like pydantic-core on fal's side,
/// accepts a number whose quotient by the factor is within `1e-9` (relative) of
/// an integer, so `6.0 * 0.05 = 0.30000000000000004` passes for
/// `multipleOf: 0.05`. JSON Schema (and the `jsonschema` crate) divides the
/// decimal numbers exactly and rejects it. Rejecting the values Rust
/// arithmetic produces for a multiple would be wrong for users, so the
/// tolerance stays; numbers within it of a multiple that are not exact decimal
/// multiples are moved onto the exact multiple by [`snap_near_multiples`], and
/// the test covers exact hits and misses of `1e-6` of the factor and more.
pub const NEAR_MULTIPLES: bool = false;

/// Integers beyond 2^53 for a `number` with `multipleOf`: the Rust type of a
/// `number` is `f64`, so the check sees the nearest double (`2^64 - 1` is read
/// as `2^64`, a multiple of 2) where JSON Schema divides the integer exactly.
/// `integer` fields are exact (`i64`); a `number` that must be a multiple of
/// something and is beyond 2^53 is not a value fal's models take. The
/// generator does not produce them for a `number` with `multipleOf`.
pub const HUGE_INTEGERS_FOR_MULTIPLES: bool = false;

/// `null` for a nullable property whose default is not `null` is valid JSON
/// Schema, and for fal it differs from leaving the property out (which
/// applies the default). The typed input has one `None` for both, but
/// `check_input` keeps the `null` in the body it returns (it puts back what
/// the typed decode left out), so the generator produces such `null`s and
/// the round trip must keep them. (A caller building the typed input in Rust
/// cannot write that `null`: ARCHITECTURE.md, "JSON Schema keywords".)
pub const NULL_OVER_A_DEFAULT: bool = true;

/// OpenAPI 3.0's `nullable: true`, which draft 2020-12 does not know, as
/// JSON Schema: every schema object with it becomes `anyOf [the schema
/// without it, {"type": "null"}]`. fal's documents say `openapi: 3.0.4`, so
/// `nullable` is part of their meaning (and fal's pydantic accepts `null`
/// there). Written here, independently of the generator's normalization.
pub fn nullable_as_json_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut map: Map<String, Value> =
                map.iter().map(|(k, v)| (k.clone(), nullable_as_json_schema(v))).collect();
            if map.get("nullable") == Some(&Value::Bool(true)) {
                map.remove("nullable");
                return json!({"anyOf": [Value::Object(map), {"type": "null"}]});
            }
            Value::Object(map)
        }
        Value::Array(items) => Value::Array(items.iter().map(nullable_as_json_schema).collect()),
        other => other.clone(),
    }
}

/// Moves a number within the `multipleOf` tolerance of a multiple of the
/// branch's factor onto the exact (decimal) multiple, unless [`NEAR_MULTIPLES`].
fn snap_near_multiples(branch: &Value, value: Value) -> Value {
    let (Some(k), Some(v)) = (num(branch, "multipleOf"), value.as_f64()) else { return value };
    if NEAR_MULTIPLES || value.is_i64() || value.is_u64() || !v.is_finite() {
        return value;
    }
    let quotient = v / k;
    let nearest = quotient.round();
    let near = (quotient - nearest).abs() <= 1e-9 * nearest.abs().max(1.0);
    if !near {
        return value;
    }
    // The exact decimal multiple: `nearest * k` printed with the factor's decimals.
    let decimals = format!("{k}").split_once('.').map_or(0, |(_, d)| d.len());
    let exact: f64 = format!("{:.*}", decimals, nearest * k).parse().expect("a number");
    json!(exact)
}

// ---------------------------------------------------------------------------
// The schema model: the raw document, read through `$ref`, single-branch
// `allOf` and `anyOf`/`oneOf` with `null` branches.
// ---------------------------------------------------------------------------

struct Model<'a> {
    doc: &'a Value,
}

fn num(schema: &Value, key: &str) -> Option<f64> {
    schema.get(key).and_then(Value::as_f64)
}

fn is_null_branch(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

impl<'a> Model<'a> {
    /// The non-null branches a value of `schema` may take.
    fn branches(&self, schema: &'a Value) -> Vec<&'a Value> {
        let schema = resolve(self.doc, schema);
        if let Some([single]) = schema.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
            return self.branches(single);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(list) = schema.get(key).and_then(Value::as_array) {
                return list.iter().filter(|b| !is_null_branch(b)).flat_map(|b| self.branches(b)).collect();
            }
        }
        vec![schema]
    }

    /// `null` is a valid value of `schema`.
    fn nullable(&self, schema: &'a Value) -> bool {
        let schema = resolve(self.doc, schema);
        if let Some([single]) = schema.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
            return self.nullable(single);
        }
        ["anyOf", "oneOf"]
            .iter()
            .filter_map(|k| schema.get(*k).and_then(Value::as_array))
            .any(|list| list.iter().any(|b| is_null_branch(b) || self.nullable(b)))
    }

    /// `null` is valid for `schema` and means something else than its
    /// non-null default (see [`NULL_OVER_A_DEFAULT`]).
    fn null_over_a_default(&self, schema: &'a Value) -> bool {
        self.nullable(schema) && resolve(self.doc, schema).get("default").is_some_and(|d| !d.is_null())
    }

    /// The object branch of `schema`, if any.
    fn object_branch(&self, schema: &'a Value) -> Option<&'a Value> {
        self.branches(schema).into_iter().find(|b| b.get("properties").is_some())
    }

    /// The properties of an object schema in the order the generated struct
    /// has its fields (`x-fal-order-properties`, then document order).
    fn ordered_properties(&self, object: &'a Value) -> Vec<(&'a str, &'a Value)> {
        let Some(props) = object.get("properties").and_then(Value::as_object) else { return Vec::new() };
        let mut names: Vec<&str> = object
            .get("x-fal-order-properties")
            .and_then(Value::as_array)
            .map(|order| order.iter().filter_map(Value::as_str).filter(|n| props.contains_key(*n)).collect())
            .unwrap_or_default();
        for name in props.keys() {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        names.into_iter().map(|n| (n, &props[n])).collect()
    }

    /// A value of `schema` has constraints beyond its type, or nested values.
    fn constrained(&self, schema: &'a Value) -> bool {
        const KEYS: &[&str] = &[
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "multipleOf",
            "minLength",
            "maxLength",
            "minItems",
            "maxItems",
            "enum",
            "properties",
            "items",
        ];
        self.branches(schema).iter().any(|b| KEYS.iter().any(|k| b.get(*k).is_some()))
    }

    fn required(object: &Value) -> Vec<&str> {
        object
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

fn ty(branch: &Value) -> &str {
    match branch.get("type").and_then(Value::as_str) {
        Some(t) => t,
        None if branch.get("properties").is_some() => "object",
        None => match branch.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
            Some(Value::String(_)) => "string",
            Some(Value::Number(n)) if n.is_i64() => "integer",
            Some(Value::Number(_)) => "number",
            Some(Value::Bool(_)) => "boolean",
            _ => "any",
        },
    }
}

/// Inclusive integer range of an integer schema (within ±1e6 when unbounded on a side).
fn integer_range(branch: &Value) -> (i64, i64, bool) {
    let lo = num(branch, "minimum")
        .map(|m| m.ceil())
        .into_iter()
        .chain(num(branch, "exclusiveMinimum").map(|m| m.floor() + 1.0))
        .fold(None, |acc: Option<f64>, m| Some(acc.map_or(m, |a| a.max(m))));
    let hi = num(branch, "maximum")
        .map(|m| m.floor())
        .into_iter()
        .chain(num(branch, "exclusiveMaximum").map(|m| m.ceil() - 1.0))
        .fold(None, |acc: Option<f64>, m| Some(acc.map_or(m, |a| a.min(m))));
    let bounded = lo.is_some() || hi.is_some();
    (lo.unwrap_or(-1e6) as i64, hi.unwrap_or(1e6) as i64, bounded)
}

/// Closed number range of a number schema (exclusive bounds moved one ulp inwards).
fn number_range(branch: &Value) -> (f64, f64) {
    let mut lo = num(branch, "minimum").unwrap_or(-1e6);
    if let Some(m) = num(branch, "exclusiveMinimum") {
        lo = lo.max(m.next_up());
    }
    let mut hi = num(branch, "maximum").unwrap_or(1e6);
    if let Some(m) = num(branch, "exclusiveMaximum") {
        hi = hi.min(m.next_down());
    }
    (lo, hi)
}

/// Characters strings are made of: ASCII, 2-, 3- and 4-byte UTF-8 (the last
/// two UTF-16 units), and a combining mark (one character of its own).
const CHARS: &[char] = &['a', 'Z', '7', ' ', '~', 'é', 'ß', '中', '語', '🎬', '😀', '\u{301}', '"', '\\', '\n'];

/// A string of exactly `len` characters.
fn string_of(rng: &mut StdRng, len: usize) -> String {
    // Cheap for the 5,000-character bounds: a short random pattern, repeated.
    let pattern: Vec<char> = (0..rng.random_range(1..=8)).map(|_| *CHARS.choose(rng).expect("non-empty")).collect();
    pattern.iter().cycle().take(len).collect()
}

/// A labelled candidate value.
type Candidate = (Value, &'static str);

struct Gen<'a> {
    model: Model<'a>,
    rng: StdRng,
}

impl<'a> Gen<'a> {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    // -- valid values --------------------------------------------------------

    fn valid(&mut self, schema: &'a Value, depth: usize) -> Value {
        // A schema of null branches only (`anyOf [{type: null}]`) has `null` as its one value.
        match self.model.branches(schema).choose(&mut self.rng) {
            Some(branch) => self.valid_branch(branch, depth),
            None => Value::Null,
        }
    }

    fn valid_branch(&mut self, branch: &'a Value, depth: usize) -> Value {
        if let Some(values) = branch.get("enum").and_then(Value::as_array) {
            return values.choose(&mut self.rng).cloned().unwrap_or(Value::Null);
        }
        match ty(branch) {
            "integer" => {
                let (lo, hi, _) = integer_range(branch);
                // An empty range (an unsatisfiable schema, which the fuzzer draws): any value.
                if lo > hi {
                    return json!(lo);
                }
                if let Some(k) = num(branch, "multipleOf") {
                    let k = k as i64;
                    let (first, last) = ((lo + k - 1).div_euclid(k), hi.div_euclid(k));
                    // No multiple in the range (an unsatisfiable schema, which the fuzzer draws): any value.
                    if first > last {
                        return json!(lo);
                    }
                    let n = self.rng.random_range(first..=last);
                    return json!(n * k);
                }
                let v = match self.rng.random_range(0..10) {
                    0 => lo,
                    1 => hi,
                    _ => self.rng.random_range(lo..=hi),
                };
                json!(v)
            }
            "number" => {
                let (lo, hi) = number_range(branch);
                if lo > hi {
                    return json!(lo);
                }
                if let Some(k) = num(branch, "multipleOf") {
                    let (first, last) = ((lo / k).ceil() as i64, (hi / k).floor() as i64);
                    if first > last {
                        return json!(lo);
                    }
                    let n = self.rng.random_range(first..=last);
                    return snap_near_multiples(branch, json!(n as f64 * k));
                }
                let v = match self.rng.random_range(0..10) {
                    0 => lo,
                    1 => hi,
                    // An integral number, where the range has one.
                    2 if lo.ceil() <= hi.floor() => self.rng.random_range(lo.ceil() as i64..=hi.floor() as i64) as f64,
                    _ => self.rng.random_range(lo..=hi),
                };
                // Integral numbers go out as JSON integers half the time.
                if v.fract() == 0.0 && v.abs() < 1e15 && self.chance(0.5) { json!(v as i64) } else { json!(v) }
            }
            "string" => {
                let min = branch.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
                let max = branch.get("maxLength").and_then(Value::as_u64).map_or(min + 24, |m| m as usize);
                let len = if self.chance(0.05) { max } else { self.rng.random_range(min..=max.min(min + 24)) };
                json!(string_of(&mut self.rng, len))
            }
            "boolean" => json!(self.chance(0.5)),
            "array" => {
                let min = branch.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
                let max = branch.get("maxItems").and_then(Value::as_u64).map_or(min + 3, |m| m as usize);
                let len = if depth > 3 { min } else { self.rng.random_range(min..=max.min(min + 3)) };
                let items = &branch["items"];
                Value::Array((0..len).map(|_| self.valid(items, depth + 1)).collect())
            }
            "object" => {
                let mut object = Map::new();
                let required = Model::required(branch);
                for (name, prop) in self.model.ordered_properties(branch) {
                    if !required.contains(&name) && self.chance(0.5) {
                        continue;
                    }
                    let null_ok = NULL_OVER_A_DEFAULT || !self.model.null_over_a_default(prop);
                    let value = if null_ok && self.model.nullable(prop) && self.chance(0.15) {
                        Value::Null
                    } else {
                        self.valid(prop, depth + 1)
                    };
                    object.insert(name.to_owned(), value);
                }
                Value::Object(object)
            }
            _ => json!("anything"),
        }
    }

    // -- values around the constraints -----------------------------------------

    /// A value for a place whose schema is `schema`: valid, at a bound, past
    /// one, of a wrong type, ... (labelled, for the summary).
    fn edge(&mut self, schema: &'a Value, depth: usize) -> Candidate {
        let branches = self.model.branches(schema);
        let Some(&branch) = branches.choose(&mut self.rng) else {
            return if self.chance(0.5) { (Value::Null, "null") } else { (json!(0), "wrong type: number") };
        };
        let (value, label) = match self.rng.random_range(0..100) {
            0..10 => (self.valid_branch(branch, depth), "valid"),
            10..14 if NULL_OVER_A_DEFAULT || !self.model.null_over_a_default(schema) => (Value::Null, "null"),
            10..14 => (self.valid_branch(branch, depth), "valid"),
            14..30 => self.wrong_type(branch, depth),
            _ => self.around(branch, depth),
        };
        (snap_near_multiples(branch, value), label)
    }

    fn wrong_type(&mut self, branch: &'a Value, depth: usize) -> Candidate {
        let own = ty(branch);
        loop {
            let candidate: Candidate = match self.rng.random_range(0..10) {
                0 => (json!(string_of(&mut self.rng, 3)), "wrong type: string"),
                1 => (json!("5"), "wrong type: numeric string"),
                2 => (json!(self.rng.random_range(-3..=600)), "wrong type: integer"),
                3 => (json!(0.5), "wrong type: number"),
                4 => (json!(self.chance(0.5)), "wrong type: boolean"),
                5 => (json!({}), "wrong type: empty object"),
                6 => (json!({"width": 512, "url": "u", "path": "p"}), "wrong type: object"),
                7 => (json!([]), "wrong type: empty array"),
                8 => (json!(["a", 1]), "wrong type: array"),
                _ => match self.model.object_branch(branch) {
                    // An object written as the array of its property values, in
                    // field order (what a serde struct would accept as a sequence).
                    Some(object) if depth < 4 => {
                        let values = self
                            .model
                            .ordered_properties(object)
                            .into_iter()
                            .map(|(_, prop)| self.valid(prop, depth + 1))
                            .collect();
                        (Value::Array(values), "wrong type: object as array of its values")
                    }
                    _ => continue,
                },
            };
            let kind = match &candidate.0 {
                Value::String(_) => "string",
                Value::Number(n) if n.is_i64() => "integer",
                Value::Number(_) => "number",
                Value::Bool(_) => "boolean",
                Value::Object(_) => "object",
                Value::Array(_) => "array",
                Value::Null => "null",
            };
            // Skip candidates of the branch's own type (an integer is a number too).
            if kind == own || (own == "number" && kind == "integer") {
                continue;
            }
            return candidate;
        }
    }

    /// A value at, near or past one of the branch's constraints.
    fn around(&mut self, branch: &'a Value, depth: usize) -> Candidate {
        if let Some(values) = branch.get("enum").and_then(Value::as_array) {
            return self.around_enum(values);
        }
        match ty(branch) {
            "integer" => self.around_integer(branch),
            "number" => self.around_number(branch),
            "string" => self.around_string(branch),
            "array" => self.around_array(branch, depth),
            "object" => self.around_object(branch, depth),
            _ => (self.valid_branch(branch, depth), "valid"),
        }
    }

    fn around_enum(&mut self, values: &[Value]) -> Candidate {
        let member = values.choose(&mut self.rng).cloned().unwrap_or(Value::Null);
        match (member, self.rng.random_range(0..6)) {
            (Value::String(s), 0) => (json!(s.to_uppercase()), "enum: upper case"),
            (Value::String(s), 1) => {
                let mut chars = s.chars();
                let first: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
                (json!(first + chars.as_str()), "enum: capitalized")
            }
            (Value::String(s), 2) => (json!(format!(" {s}")), "enum: padded"),
            (Value::String(_), 3) => (json!("not_a_member"), "enum: unknown"),
            (Value::String(_), 4) => (json!(""), "enum: empty string"),
            (Value::Number(n), 0) => (json!(n.as_i64().unwrap_or(0) + 1), "enum: unknown integer"),
            (Value::Number(n), 1) => (json!(n.to_string()), "enum: integer as string"),
            (Value::Number(n), 2) if INTEGRAL_FLOATS_FOR_INTEGERS => {
                (json!(n.as_f64().unwrap_or(0.0)), "enum: integral float")
            }
            (Value::Number(n), 3) => (json!(n.as_f64().unwrap_or(0.0) + 0.5), "enum: fractional"),
            (Value::Number(_), 4) => (json!(0), "enum: zero"),
            (member, _) => (member, "enum: member"),
        }
    }

    fn around_integer(&mut self, branch: &Value) -> Candidate {
        let (lo, hi, _) = integer_range(branch);
        // An empty range (an unsatisfiable schema): values around both bounds all the same.
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        let mut bounds: Vec<(f64, bool)> = Vec::new(); // (bound, exclusive)
        for (key, exclusive) in
            [("minimum", false), ("maximum", false), ("exclusiveMinimum", true), ("exclusiveMaximum", true)]
        {
            if let Some(b) = num(branch, key) {
                bounds.push((b, exclusive));
            }
        }
        // `multipleOf` is rare (one nested field): its cases get extra weight.
        let pick = if num(branch, "multipleOf").is_some() && self.chance(0.4) {
            self.rng.random_range(6..8)
        } else {
            self.rng.random_range(0..12)
        };
        match pick {
            0..6 if !bounds.is_empty() => {
                let (b, _) = *bounds.choose(&mut self.rng).expect("non-empty");
                let step = *[-2i64, -1, 0, 1, 2].choose(&mut self.rng).expect("non-empty");
                // A bound beyond `i64` saturates (values beyond `i64` are excluded, see above).
                let at = b as i64;
                (json!(at.checked_add(step).unwrap_or(at)), "integer: at or next to a bound")
            }
            6 if num(branch, "multipleOf").is_some() => {
                let k = num(branch, "multipleOf").expect("checked") as i64;
                let n = self.rng.random_range(lo.div_euclid(k) - 1..=hi.div_euclid(k) + 1);
                (json!(n * k), "integer: multipleOf hit (maybe out of range)")
            }
            7 if num(branch, "multipleOf").is_some() => {
                let k = num(branch, "multipleOf").expect("checked") as i64;
                let n = self.rng.random_range(lo.div_euclid(k)..=hi.div_euclid(k));
                let off = self.rng.random_range(1..k.max(2));
                (json!(n * k + off), "integer: multipleOf miss")
            }
            8 => {
                let v = *[i64::MIN, i64::MAX, i64::MIN + 1, i64::MAX - 1, 0, -1, 1 << 53, (1 << 53) + 1]
                    .choose(&mut self.rng)
                    .expect("non-empty");
                (json!(v), "integer: extreme i64")
            }
            9 if INTEGERS_BEYOND_I64 && self.chance(0.5) => {
                let beyond = [json!(9_223_372_036_854_775_808u64), json!(u64::MAX), json!(1.2e52), json!(-1.2e52)];
                (beyond.choose(&mut self.rng).cloned().unwrap_or_default(), "integer: beyond i64")
            }
            9 if INTEGRAL_FLOATS_FOR_INTEGERS => (json!(lo as f64), "integer: integral float"),
            10 => {
                // Far from 0, `+ 0.5` is lost to rounding: an integral float (excluded above).
                let v = self.rng.random_range(lo..=hi) as f64 + 0.5;
                (json!(if v.fract() == 0.0 { 0.5 } else { v }), "integer: fractional")
            }
            11 => (json!(-(self.rng.random_range(1..1000i64))), "integer: negative"),
            _ => (json!(self.rng.random_range(lo..=hi)), "integer: in range"),
        }
    }

    fn around_number(&mut self, branch: &Value) -> Candidate {
        let (lo, hi) = number_range(branch);
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        let mut bounds = Vec::new();
        for key in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] {
            if let Some(b) = num(branch, key) {
                bounds.push(b);
            }
        }
        const EPSILONS: &[f64] = &[1e-15, 1e-12, 1e-9, 1e-6, 1e-3, 0.01, 0.5, 1.0];
        let pick = if num(branch, "multipleOf").is_some() && self.chance(0.4) {
            self.rng.random_range(9..11)
        } else {
            self.rng.random_range(0..14)
        };
        match pick {
            0..3 if !bounds.is_empty() => {
                let b = *bounds.choose(&mut self.rng).expect("non-empty");
                let v = if b.fract() == 0.0 && self.chance(0.5) { json!(b as i64) } else { json!(b) };
                (v, "number: at a bound")
            }
            3..6 if !bounds.is_empty() => {
                let b = *bounds.choose(&mut self.rng).expect("non-empty");
                let ulps = self.rng.random_range(1..=3);
                let mut v = b;
                let up = self.chance(0.5);
                for _ in 0..ulps {
                    v = if up { v.next_up() } else { v.next_down() };
                }
                (json!(v), "number: ulps from a bound")
            }
            6..9 if !bounds.is_empty() => {
                let b = *bounds.choose(&mut self.rng).expect("non-empty");
                let eps = *EPSILONS.choose(&mut self.rng).expect("non-empty");
                let v = if self.chance(0.5) { b + eps } else { b - eps };
                (json!(v), "number: epsilon from a bound")
            }
            9 if num(branch, "multipleOf").is_some() => {
                let k = num(branch, "multipleOf").expect("checked");
                let n = self.rng.random_range((lo / k).floor() as i64 - 1..=(hi / k).ceil() as i64 + 1);
                (json!(n as f64 * k), "number: multipleOf hit")
            }
            10 if num(branch, "multipleOf").is_some() => {
                let k = num(branch, "multipleOf").expect("checked");
                // floor..=ceil: never empty, even when no multiple lies in the range.
                let n = self.rng.random_range((lo / k).floor() as i64..=(hi / k).ceil() as i64);
                let frac = *[0.5, 0.25, 0.1, 0.01, 1e-3, 1e-6].choose(&mut self.rng).expect("non-empty");
                (json!(n as f64 * k + frac * k), "number: multipleOf miss")
            }
            11 => {
                let v = *[-0.0, f64::MAX, f64::MIN, f64::MIN_POSITIVE, 1e300, -1e300, 5e-324]
                    .choose(&mut self.rng)
                    .expect("non-empty");
                (json!(v), "number: extreme")
            }
            // Beyond 2^53 a `number` is an `f64`: `multipleOf` sees the nearest double (HUGE_INTEGERS_FOR_MULTIPLES).
            12 if HUGE_INTEGERS_FOR_MULTIPLES || num(branch, "multipleOf").is_none() => {
                let v = *[u64::MAX, i64::MAX as u64, 1 << 53].choose(&mut self.rng).expect("non-empty");
                (json!(v), "number: huge integer")
            }
            _ => (json!(self.rng.random_range(lo..=hi)), "number: in range"),
        }
    }

    fn around_string(&mut self, branch: &Value) -> Candidate {
        let min = branch.get("minLength").and_then(Value::as_u64).map(|n| n as usize);
        let max = branch.get("maxLength").and_then(Value::as_u64).map(|n| n as usize);
        let mut lengths = vec![0, 1];
        for n in [min, max].into_iter().flatten() {
            lengths.extend([n.saturating_sub(1), n, n + 1]);
        }
        let len = *lengths.choose(&mut self.rng).expect("non-empty");
        (json!(string_of(&mut self.rng, len)), "string: length at or past a bound")
    }

    fn around_array(&mut self, branch: &'a Value, depth: usize) -> Candidate {
        let items = &branch["items"];
        let min = branch.get("minItems").and_then(Value::as_u64).map(|n| n as usize);
        let max = branch.get("maxItems").and_then(Value::as_u64).map(|n| n as usize);
        let mut lengths = vec![0, 1, 2];
        for n in [min, max].into_iter().flatten() {
            lengths.extend([n.saturating_sub(1), n, n + 1]);
        }
        let len = *lengths.choose(&mut self.rng).expect("non-empty");
        let mut array: Vec<Value> = (0..len).map(|_| self.valid(items, depth + 1)).collect();
        if !array.is_empty() && self.chance(0.5) {
            let i = self.rng.random_range(0..array.len());
            let (value, _) = self.edge(items, depth + 1);
            array[i] = value;
            return (Value::Array(array), "array: with an item around its constraints");
        }
        (Value::Array(array), "array: length at or past a bound")
    }

    fn around_object(&mut self, branch: &'a Value, depth: usize) -> Candidate {
        let mut value = self.valid_branch(branch, depth);
        let label = self.mutate_object(branch, &mut value, depth, &mut Vec::new(), "");
        (value, if label.is_empty() { "object: a property around its constraints" } else { label })
    }

    // -- mutations -------------------------------------------------------------

    /// Mutates one place in `value`, the body: picks an object in it (the
    /// body, a nested object, an item of an object array) with a probability
    /// proportional to its number of properties, so that every property of
    /// every object is as likely to change.
    fn mutate_somewhere(&mut self, schema: &'a Value, value: &mut Value, trace: &mut Trace) {
        let mut objects = Vec::new();
        self.objects(schema, value, &mut Vec::new(), &mut objects);
        let total: usize = objects.iter().map(|(_, _, weight)| weight).sum();
        if total == 0 {
            return self.mutate(schema, value, 0, trace, "");
        }
        let mut pick = self.rng.random_range(0..total);
        let (path, object, _) = objects
            .into_iter()
            .find(|(_, _, weight)| {
                pick < *weight || {
                    pick -= weight;
                    false
                }
            })
            .expect("a pick below the total");
        let mut node = &mut *value;
        let mut at = String::new();
        for seg in &path {
            node = match seg {
                Ok(key) => &mut node[key.as_str()],
                Err(index) => &mut node[*index],
            };
            let _ = match seg {
                Ok(key) => write!(at, "/{key}"),
                Err(index) => write!(at, "/{index}"),
            };
        }
        let label = self.mutate_object(object, node, path.len(), trace, &at);
        if !label.is_empty() {
            trace.push((format!("{at}: {label}"), label));
        }
    }

    /// The objects in `value` (a value of `schema`): their path (`Ok(key)`,
    /// `Err(index)`), object schema and number of properties (at least 1).
    #[allow(clippy::type_complexity)]
    fn objects(
        &self,
        schema: &'a Value,
        value: &Value,
        path: &mut Vec<Result<String, usize>>,
        out: &mut Vec<(Vec<Result<String, usize>>, &'a Value, usize)>,
    ) {
        match value {
            Value::Object(map) => {
                let Some(object) = self.model.object_branch(schema) else { return };
                let props = object.get("properties").and_then(Value::as_object).expect("an object branch");
                out.push((path.clone(), object, props.len().max(1)));
                for (key, child) in map {
                    if let Some(prop) = props.get(key) {
                        path.push(Ok(key.clone()));
                        self.objects(prop, child, path, out);
                        path.pop();
                    }
                }
            }
            Value::Array(items) => {
                let Some(array) = self.model.branches(schema).into_iter().find(|b| ty(b) == "array") else { return };
                for (index, item) in items.iter().enumerate() {
                    path.push(Err(index));
                    self.objects(&array["items"], item, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    /// Mutates one place in `value` (a value of `schema`), recording it in `trace`.
    fn mutate(&mut self, schema: &'a Value, value: &mut Value, depth: usize, trace: &mut Trace, at: &str) {
        if value.is_object()
            && let Some(object) = self.model.object_branch(schema)
        {
            let label = self.mutate_object(object, value, depth, trace, at);
            if !label.is_empty() {
                trace.push((format!("{at}: {label}"), label));
            }
            return;
        }
        if let Value::Array(items) = value
            && !items.is_empty()
            && self.chance(0.6)
            && let Some(array) = self.model.branches(schema).into_iter().find(|b| ty(b) == "array")
        {
            let i = self.rng.random_range(0..items.len());
            self.mutate(&array["items"], &mut items[i], depth + 1, trace, &format!("{at}/{i}"));
            return;
        }
        let (new, label) = self.edge(schema, depth);
        trace.push((format!("{at} = {}: {label}", short(&new)), label));
        *value = new;
    }

    /// Mutates one place of an object; returns a label for the summary when
    /// the mutation is at this level, `""` when it recursed (and traced).
    fn mutate_object(
        &mut self,
        object: &'a Value,
        value: &mut Value,
        depth: usize,
        trace: &mut Trace,
        at: &str,
    ) -> &'static str {
        let props = self.model.ordered_properties(object);
        let Value::Object(map) = value else { return "" };
        match self.rng.random_range(0..100) {
            0..8 => {
                let required = Model::required(object);
                match required.choose(&mut self.rng) {
                    Some(name) => {
                        map.remove(*name);
                        "object: required property removed"
                    }
                    None => {
                        map.clear();
                        "object: every property removed"
                    }
                }
            }
            8..14 => {
                let name = match self.rng.random_range(0..4) {
                    0 => "unknown_property".to_owned(),
                    1 => props.choose(&mut self.rng).map_or("X".to_owned(), |(n, _)| n.to_uppercase()),
                    2 => props.choose(&mut self.rng).map_or("x ".to_owned(), |(n, _)| format!("{n} ")),
                    _ => "$ref".to_owned(),
                };
                let extra = match self.rng.random_range(0..4) {
                    0 => Value::Null,
                    1 => json!(42),
                    2 => json!({"nested": [1, "two"]}),
                    _ => json!("extra"),
                };
                map.insert(name, extra);
                "object: unknown property added"
            }
            _ => {
                // Half the time, a property with constraints (bounds, lengths, an enum, nested values).
                let constrained: Vec<_> = props.iter().filter(|(_, p)| self.model.constrained(p)).copied().collect();
                let pool = if !constrained.is_empty() && self.chance(0.5) { &constrained } else { &props };
                let Some(&(name, prop)) = pool.choose(&mut self.rng) else { return "object: no properties" };
                match map.get_mut(name) {
                    Some(child) if (child.is_object() || child.is_array()) && depth < 6 && self.chance(0.3) => {
                        self.mutate(prop, child, depth + 1, trace, &format!("{at}/{name}"));
                        ""
                    }
                    _ => {
                        let (new, label) = self.edge(prop, depth + 1);
                        trace.push((format!("{at}/{name} = {}: {label}", short(&new)), label));
                        map.insert(name.to_owned(), new);
                        ""
                    }
                }
            }
        }
    }
}

/// The mutations applied to an input: a description and a label each.
type Trace = Vec<(String, &'static str)>;

/// A value for a trace line (long strings summarised).
fn short(value: &Value) -> String {
    match value {
        Value::String(s) if s.chars().count() > 24 => {
            format!("\"{}…\" ({} chars)", s.chars().take(12).collect::<String>(), s.chars().count())
        }
        other => {
            let text = other.to_string();
            if text.len() > 200 {
                format!("{}…", &text[..text.char_indices().nth(200).map_or(text.len(), |(i, _)| i)])
            } else {
                text
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The round trip
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------

/// What [`run`] found, accumulated over endpoints.
#[derive(Debug, Default)]
pub struct Report {
    /// Inputs checked.
    pub inputs: usize,
    /// Inputs both validators accepted.
    pub accepted: usize,
    /// Inputs one validator accepted and the other rejected.
    pub disagreements: usize,
    /// Inputs both accepted whose round trip differs from the input (up to
    /// the losses by design: unknown properties and `null` for a nullable
    /// property without a default are dropped).
    pub round_trip_failures: usize,
    /// Disagreements and round-trip failures by the label of the mutation that made the difference.
    pub by_label: BTreeMap<String, usize>,
    /// The first few of each label, repeated in the panic message.
    pub printed: Vec<String>,
    /// Coverage: for each mutation label, the inputs it was applied to and how many of those both accepted.
    pub coverage: BTreeMap<String, (usize, usize)>,
}

impl Report {
    fn failure(&mut self, label: String, text: String) {
        eprintln!("{text}\n");
        let seen = self.by_label.entry(label).or_default();
        *seen += 1;
        if *seen <= PER_LABEL && self.printed.len() < PRINT_LIMIT {
            self.printed.push(text);
        }
    }
}

/// The component key of the document's input schema: the `$ref` of the
/// submit operation's JSON body. `None` when the body is not a `$ref` to a
/// component (fal's documents always use one; a few corpus documents have no
/// body schema at all).
pub fn input_component(doc: &Value) -> Option<String> {
    let reference = doc["paths"]
        .as_object()
        .and_then(|paths| paths.values().find_map(|p| p.pointer("/post/requestBody/content/application~1json/schema")))
        .and_then(|s| s.get("$ref"))
        .and_then(Value::as_str)?;
    Some(reference.strip_prefix("#/components/schemas/")?.to_owned())
}

/// The oracle's schema for the input component `input` of `doc`: draft 2020-12
/// on the raw document (see the [module docs](self)), OpenAPI 3.0's
/// `nullable` written as JSON Schema ([`nullable_as_json_schema`]).
pub fn reference_schema(doc: &Value, input: &str) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/components/schemas/{input}"),
        "components": nullable_as_json_schema(&doc["components"]),
    })
}

/// A generated validator's verdict on one input: the re-encoded input when
/// it is accepted, else why it was rejected (for the failure report).
pub type Verdict = Result<Value, String>;

fn describe(result: &Verdict) -> String {
    match result {
        Ok(_) => "accepted".to_owned(),
        Err(e) => format!("rejected: {}", e.replace('\n', "\n      ")),
    }
}

/// Checks `cases` random inputs of the endpoint `id`, whose OpenAPI document
/// is `doc`, with the generated validator `check` against `jsonschema`
/// (draft 2020-12 on the raw document), adding what it finds to `report`.
///
/// # Errors
///
/// The input schema does not compile as JSON Schema (such as a `$ref` to a
/// component the document does not define): nothing was checked.
///
/// # Panics
///
/// When the document has no input component ([`input_component`]).
pub fn run(
    id: &str,
    doc: &Value,
    check: &mut dyn FnMut(&Value) -> Verdict,
    seed: u64,
    cases: usize,
    report: &mut Report,
) -> Result<(), String> {
    let input = input_component(doc).unwrap_or_else(|| panic!("{id}: the submit operation has no input schema $ref"));
    let root = reference_schema(doc, &input);
    let oracle = jsonschema::draft202012::new(&root).map_err(|e| format!("{id}: schema does not compile: {e}"))?;
    let input_schema = &root;
    let mut generator = Gen { model: Model { doc: &root }, rng: StdRng::seed_from_u64(seed) };

    for case in 0..cases {
        let mut value = generator.valid(input_schema, 0);
        let mut trace = Vec::new();
        // The value before each mutation, to name the mutation that made a difference.
        let mut before = Vec::new();
        let mutations = [0, 1, 1, 1, 2, 2, 3].choose(&mut generator.rng).copied().unwrap_or(1);
        for _ in 0..mutations {
            before.push(value.clone());
            if generator.chance(0.01) {
                // The whole body of a wrong type (an array of the property values included).
                let (new, label) = generator.edge(input_schema, 0);
                trace.push((format!("/ = {}: {label}", short(&new)), label));
                value = new;
            } else {
                generator.mutate_somewhere(input_schema, &mut value, &mut trace);
            }
        }

        let ours = check(&value);
        let theirs = oracle.is_valid(&value);
        report.inputs += 1;
        // The label of the first mutation after which the two disagree (or fail to round-trip).
        let mut differs = |value: &Value| match check(value) {
            Ok(out) => !oracle.is_valid(value) || !json_equal(&out, value),
            Err(_) => oracle.is_valid(value),
        };
        let mut label = || {
            // `before[i]` is the value after mutation `i - 1`; the final value is after the last one.
            let first =
                (1..before.len()).find(|&i| differs(&before[i])).map_or(before.len().saturating_sub(1), |i| i - 1);
            match (before.first(), trace.get(first)) {
                (Some(start), Some((_, label))) if !differs(start) => (*label).to_owned(),
                _ => "the random valid input itself".to_owned(),
            }
        };
        for (_, label) in &trace {
            let entry = report.coverage.entry((*label).to_owned()).or_default();
            entry.0 += 1;
            entry.1 += usize::from(ours.is_ok() && theirs);
        }
        match (&ours, theirs) {
            (Ok(out), true) => {
                report.accepted += 1;
                let expected = &value;
                if !json_equal(out, expected) {
                    report.round_trip_failures += 1;
                    let text = format!(
                        "{} case {case}: accepted by both, but the round trip differs\n  mutations: {}\n  input:    {value}\n  expected: {expected}\n  got:      {out}",
                        id,
                        trace.iter().map(|(line, _)| line.as_str()).collect::<Vec<_>>().join("; ")
                    );
                    report.failure(format!("round trip: {}", label()), text);
                }
            }
            (Err(_), false) => {}
            _ => {
                report.disagreements += 1;
                let mut text = format!(
                    "{} case {case}: disagreement\n  mutations: {}\n  input: {value}\n  generated validator: {}\n  jsonschema: ",
                    id,
                    trace.iter().map(|(line, _)| line.as_str()).collect::<Vec<_>>().join("; "),
                    describe(&ours)
                );
                if theirs {
                    text.push_str("accepted");
                } else {
                    text.push_str("rejected:");
                    for error in oracle.iter_errors(&value) {
                        let _ = write!(text, "\n      {}: {error}", error.instance_path());
                    }
                }
                report.failure(label(), text);
            }
        }
    }
    Ok(())
}

/// Mutation labels every full run must apply (the generator's coverage).
pub const EXPECTED_LABELS: &[&str] = &[
    "valid",
    "null",
    "wrong type: string",
    "wrong type: numeric string",
    "wrong type: integer",
    "wrong type: number",
    "wrong type: boolean",
    "wrong type: empty object",
    "wrong type: object",
    "wrong type: empty array",
    "wrong type: array",
    "wrong type: object as array of its values",
    "enum: upper case",
    "enum: capitalized",
    "enum: padded",
    "enum: unknown",
    "enum: empty string",
    "enum: unknown integer",
    "enum: integer as string",
    "enum: fractional",
    "integer: at or next to a bound",
    "integer: multipleOf hit (maybe out of range)",
    "integer: multipleOf miss",
    "integer: extreme i64",
    "integer: beyond i64",
    "integer: integral float",
    "integer: fractional",
    "number: at a bound",
    "number: ulps from a bound",
    "number: epsilon from a bound",
    "number: multipleOf hit",
    "number: multipleOf miss",
    "number: extreme",
    "number: huge integer",
    "string: length at or past a bound",
    "array: length at or past a bound",
    "array: with an item around its constraints",
    "object: required property removed",
    "object: unknown property added",
    "object: a property around its constraints",
];

/// The environment variable `name` parsed as a `T`, else `default` (the
/// tests' `VALIDATORS_SEED` and `VALIDATORS_CASES`).
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
