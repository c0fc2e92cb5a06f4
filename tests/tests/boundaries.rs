//! Boundary tests derived from the schemas themselves: for every constraint
//! of every vendored input schema (numeric bounds, exclusive bounds,
//! `multipleOf`, string length, array length; nested objects, array items and
//! `anyOf` branches included), a value at the bound passes the generated
//! `validate()` and a value one step past it fails with a violation at the
//! right JSON Pointer naming the right constraint.
//!
//! The constraints are read from the raw JSON documents, not from the
//! generator's IR, so this checks the generator against the schemas
//! independently. "One step" is 1 for integers, the next representable
//! `f64` for numbers, one character or one item for lengths, and half the
//! factor for `multipleOf`.

use fal_ltx::ENDPOINTS;
use fal_ltx::endpoint::{EndpointDescriptor, InputError};
use fal_ltx::validation::Constraint;
use integration_tests::support::{resolve, vendored_schema};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    Minimum,
    Maximum,
    ExclusiveMinimum,
    ExclusiveMaximum,
    MultipleOf,
    MinLength,
    MaxLength,
    MinItems,
    MaxItems,
}

impl Rule {
    fn matches(self, constraint: &Constraint) -> bool {
        matches!(
            (self, constraint),
            (Rule::Minimum, Constraint::Minimum(_))
                | (Rule::Maximum, Constraint::Maximum(_))
                | (Rule::ExclusiveMinimum, Constraint::ExclusiveMinimum(_))
                | (Rule::ExclusiveMaximum, Constraint::ExclusiveMaximum(_))
                | (Rule::MultipleOf, Constraint::MultipleOf(_))
                | (Rule::MinLength, Constraint::MinLength(_))
                | (Rule::MaxLength, Constraint::MaxLength(_))
                | (Rule::MinItems, Constraint::MinItems(_))
                | (Rule::MaxItems, Constraint::MaxItems(_))
        )
    }
}

/// A step from a value to a child value, with the child's schema.
#[derive(Debug, Clone)]
enum Step<'a> {
    Property(String, &'a Value),
    FirstItem(&'a Value),
}

#[derive(Debug, Clone)]
struct Case<'a> {
    path: Vec<Step<'a>>,
    rule: Rule,
    ok: Value,
    bad: Value,
}

fn pointer(path: &[Step<'_>]) -> String {
    path.iter()
        .map(|s| match s {
            Step::Property(name, _) => format!("/{}", name.replace('~', "~0").replace('/', "~1")),
            Step::FirstItem(_) => "/0".to_owned(),
        })
        .collect()
}

/// The non-null branches a schema may take (through `$ref`, single `allOf`, `anyOf`/`oneOf`).
fn branches<'a>(doc: &'a Value, schema: &'a Value) -> Vec<&'a Value> {
    let schema = resolve(doc, schema);
    if let Some([single]) = schema.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
        return branches(doc, single);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(list) = schema.get(key).and_then(Value::as_array) {
            return list
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
                .flat_map(|b| branches(doc, b))
                .collect();
        }
    }
    vec![schema]
}

fn num(schema: &Value, key: &str) -> Option<f64> {
    schema.get(key).and_then(Value::as_f64)
}

/// A small valid value for a schema.
fn minimal(doc: &Value, schema: &Value) -> Value {
    let schema =
        branches(doc, schema).into_iter().find(|b| b.get("enum").is_none()).unwrap_or_else(|| branches(doc, schema)[0]);
    if let Some(first) = schema.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
        return first.clone();
    }
    if let Some(example) = schema.get("examples").and_then(Value::as_array).and_then(|e| e.first()) {
        return example.clone();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => json!("a".repeat(schema.get("minLength").and_then(Value::as_u64).unwrap_or(1) as usize)),
        Some("integer") => {
            json!(num(schema, "minimum").or(num(schema, "exclusiveMinimum").map(|m| m + 1.0)).unwrap_or(0.0) as i64)
        }
        Some("number") => {
            json!(num(schema, "minimum").or(num(schema, "exclusiveMinimum").map(|m| m + 0.5)).unwrap_or(0.0))
        }
        Some("boolean") => json!(false),
        Some("array") => {
            let n = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
            Value::Array(vec![minimal(doc, &schema["items"]); n])
        }
        _ => {
            let mut object = Map::new();
            if let (Some(props), Some(required)) =
                (schema.get("properties").and_then(Value::as_object), schema.get("required").and_then(Value::as_array))
            {
                for name in required.iter().filter_map(Value::as_str) {
                    if let Some(prop) = props.get(name) {
                        object.insert(name.to_owned(), minimal(doc, prop));
                    }
                }
            }
            Value::Object(object)
        }
    }
}

fn collect<'a>(doc: &'a Value, schema: &'a Value, path: Vec<Step<'a>>, out: &mut Vec<Case<'a>>) {
    if path.len() > 8 {
        return;
    }
    for branch in branches(doc, schema) {
        let ty = branch.get("type").and_then(Value::as_str);
        let integer = ty == Some("integer");
        let mut push = |rule, ok: Value, bad: Value| out.push(Case { path: path.clone(), rule, ok, bad });
        let step = |v: f64, up: bool| {
            if integer {
                if up { v + 1.0 } else { v - 1.0 }
            } else if up {
                v.next_up()
            } else {
                v.next_down()
            }
        };
        let val = |v: f64| if integer { json!(v as i64) } else { json!(v) };
        if matches!(ty, Some("integer" | "number")) {
            if let Some(m) = num(branch, "minimum") {
                push(Rule::Minimum, val(m), val(step(m, false)));
            }
            if let Some(m) = num(branch, "exclusiveMinimum") {
                push(Rule::ExclusiveMinimum, val(step(m, true)), val(m));
            }
            if let Some(m) = num(branch, "maximum") {
                push(Rule::Maximum, val(m), val(step(m, true)));
            }
            if let Some(m) = num(branch, "exclusiveMaximum") {
                push(Rule::ExclusiveMaximum, val(step(m, false)), val(m));
            }
            if let Some(k) = num(branch, "multipleOf") {
                let lo = num(branch, "minimum").unwrap_or(0.0);
                let ok = (lo / k).ceil() * k;
                let bad = ok + k / 2.0;
                if !(integer && k <= 1.0) && num(branch, "maximum").is_none_or(|hi| bad <= hi) {
                    push(Rule::MultipleOf, val(ok), val(bad));
                }
            }
        }
        if ty == Some("string") {
            if let Some(n) = branch.get("minLength").and_then(Value::as_u64).filter(|n| *n > 0) {
                push(Rule::MinLength, json!("a".repeat(n as usize)), json!("a".repeat(n as usize - 1)));
            }
            if let Some(n) = branch.get("maxLength").and_then(Value::as_u64) {
                push(Rule::MaxLength, json!("a".repeat(n as usize)), json!("a".repeat(n as usize + 1)));
            }
        }
        if ty == Some("array") {
            let item = minimal(doc, &branch["items"]);
            if let Some(n) = branch.get("minItems").and_then(Value::as_u64).filter(|n| *n > 0) {
                push(
                    Rule::MinItems,
                    Value::Array(vec![item.clone(); n as usize]),
                    Value::Array(vec![item.clone(); n as usize - 1]),
                );
            }
            if let Some(n) = branch.get("maxItems").and_then(Value::as_u64) {
                push(
                    Rule::MaxItems,
                    Value::Array(vec![item.clone(); n as usize]),
                    Value::Array(vec![item; n as usize + 1]),
                );
            }
            if let Some(items) = branch.get("items") {
                let mut child = path.clone();
                child.push(Step::FirstItem(items));
                collect(doc, items, child, out);
            }
        }
        if let Some(props) = branch.get("properties").and_then(Value::as_object) {
            for (name, prop) in props {
                let mut child = path.clone();
                child.push(Step::Property(name.clone(), prop));
                collect(doc, prop, child, out);
            }
        }
    }
}

/// `base` with `value` placed at `path`, creating parents as needed.
fn with_value(doc: &Value, base: &Value, path: &[Step<'_>], value: Value) -> Value {
    let mut root = base.clone();
    let mut slot = &mut root;
    for (i, step) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        match step {
            Step::Property(name, schema) => {
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                let object = slot.as_object_mut().expect("made an object");
                let fresh = || {
                    // The branch of this property the rest of the path walks into.
                    let next_is_object = matches!(path.get(i + 1), Some(Step::Property(..)));
                    let candidates = branches(doc, schema);
                    let chosen = candidates
                        .iter()
                        .find(|b| if next_is_object { b.get("properties").is_some() } else { b.get("enum").is_none() })
                        .copied()
                        .unwrap_or(schema);
                    minimal(doc, chosen)
                };
                let entry = object.entry(name.clone()).or_insert_with(fresh);
                if !last && matches!(path.get(i + 1), Some(Step::Property(..))) && !entry.is_object() {
                    *entry = fresh();
                }
                slot = entry;
            }
            Step::FirstItem(items) => {
                if !slot.is_array() {
                    *slot = Value::Array(Vec::new());
                }
                let array = slot.as_array_mut().expect("made an array");
                if array.is_empty() {
                    array.push(minimal(doc, items));
                }
                slot = &mut array[0];
            }
        }
    }
    *slot = value;
    root
}

fn run(endpoint: &EndpointDescriptor) -> (usize, Vec<String>) {
    let doc = vendored_schema(endpoint.id);
    let input_ref = doc["paths"]
        .as_object()
        .and_then(|paths| paths.values().find_map(|p| p.pointer("/post/requestBody/content/application~1json/schema")))
        .expect("submit operation has an input schema");
    let input = resolve(&doc, input_ref);
    let base = minimal(&doc, input);
    let mut failures = Vec::new();
    if let Err(e) = (endpoint.check_input)(&base) {
        failures.push(format!("{}: the minimal input {base} is rejected: {e}", endpoint.id));
        return (0, failures);
    }
    let mut cases = Vec::new();
    collect(&doc, input, Vec::new(), &mut cases);
    for case in &cases {
        let at = pointer(&case.path);
        let ok = with_value(&doc, &base, &case.path, case.ok.clone());
        if let Err(e) = (endpoint.check_input)(&ok) {
            failures
                .push(format!("{} {at} {:?}: value at the bound {} rejected: {e}", endpoint.id, case.rule, case.ok));
        }
        let bad = with_value(&doc, &base, &case.path, case.bad.clone());
        match (endpoint.check_input)(&bad) {
            Err(InputError::Invalid(error)) => {
                if !error.violations.iter().any(|v| v.path == at && case.rule.matches(&v.constraint)) {
                    failures.push(format!(
                        "{} {at} {:?}: {} rejected without the expected violation: {error}",
                        endpoint.id, case.rule, case.bad
                    ));
                }
                if let Some(stray) = error.violations.iter().find(|v| v.path != at) {
                    failures
                        .push(format!("{} {at} {:?}: unexpected violation elsewhere: {stray}", endpoint.id, case.rule));
                }
            }
            Err(InputError::Decode(e)) => {
                failures.push(format!("{} {at} {:?}: {} does not even decode: {e}", endpoint.id, case.rule, case.bad))
            }
            Ok(_) => failures
                .push(format!("{} {at} {:?}: value past the bound {} accepted", endpoint.id, case.rule, case.bad)),
        }
    }
    (cases.len(), failures)
}

#[test]
fn every_constraint_holds_at_its_bound_and_fails_one_step_past() {
    let mut total = 0;
    let mut failures = Vec::new();
    for endpoint in ENDPOINTS {
        let (count, mut f) = run(endpoint);
        assert!(count > 0 || !f.is_empty(), "{}: no constraints found", endpoint.id);
        total += count;
        failures.append(&mut f);
    }
    assert!(failures.is_empty(), "{} failures over {total} boundary cases:\n{}", failures.len(), failures.join("\n"));
}
