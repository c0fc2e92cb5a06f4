//! The generator never panics on input: real documents (the vendored schemas
//! and fal's published corpus) are mutated at random — keys deleted, values
//! replaced by other types or extreme numbers, `$ref`s broken, odd strings
//! inserted, subtrees swapped — and every case must end in generated code or
//! in an error that names the file and a JSON Pointer.
//!
//! `cargo test` runs `FUZZ_CASES` cases (default 3,000, a few seconds in
//! debug); the full run of the issue is
//! `FUZZ_CASES=100000 cargo test --release -p integration-tests --test fuzz`.
//! The seed is fixed (`FUZZ_SEED` to change it), so a failure reproduces.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use fal_codegen::{Source, generate};
use integration_tests::support::shared_dir;
use serde_json::{Map, Value, json};
use xtask::workspace_root;

/// splitmix64: a tiny deterministic generator, so a failing case is
/// reproduced from its seed and index alone.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Values that stress each place a schema value can sit.
fn odd_value(rng: &mut Rng) -> Value {
    let choices = [
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(1e308),
        json!(-1e308),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(""),
        json!("x"),
        json!("🙂 ünïcödé"),
        json!("self"),
        json!("Self"),
        json!("type"),
        json!("#/components/schemas/"),
        json!("#/components/schemas/DoesNotExist"),
        json!("http://example.com/schema.json"),
        json!([]),
        json!([null]),
        json!({}),
        json!({"$ref": "#/components/schemas/QueueStatus"}),
        json!({"type": ["string", "null"]}),
        json!({"anyOf": [{"type": "null"}]}),
        json!({"enum": []}),
        json!({"enum": [1, "a", null, 2.5]}),
        json!({"const": {"a": 1}}),
        json!({"type": "integer", "minimum": 10, "maximum": 1}),
        json!({"type": "number", "multipleOf": 0}),
        json!({"type": "array", "items": {"0": {"type": "string"}}}),
        json!({"type": "object", "additionalProperties": {"type": "integer"}}),
        json!({"allOf": [{"$ref": "#/components/schemas/Missing"}, {"type": "object"}]}),
    ];
    rng.pick(&choices).clone()
}

fn odd_key(rng: &mut Rng) -> String {
    let keys = [
        "",
        "0",
        "type",
        "$ref",
        "enum",
        "self",
        "crate",
        "super",
        "fn",
        "match",
        "🙂",
        "a b",
        "123abc",
        "default",
        "exclusiveMinimum",
        "x-fal-order-properties",
        "required",
        "properties",
        "anyOf",
        "items",
        "nullable",
    ];
    (*rng.pick(&keys)).to_owned()
}

/// JSON Pointers of every value in `doc`.
fn pointers(doc: &Value, at: String, out: &mut Vec<String>) {
    match doc {
        Value::Object(map) => {
            for (k, v) in map {
                pointers(v, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

fn mutate(doc: &mut Value, rng: &mut Rng) {
    let mut all = Vec::new();
    pointers(doc, String::new(), &mut all);
    // Mutations near the schemas matter most: prefer pointers under components.
    let schema_pointers: Vec<&String> = all.iter().filter(|p| p.starts_with("/components/schemas/")).collect();
    let target = if !schema_pointers.is_empty() && rng.below(4) != 0 {
        (*rng.pick(&schema_pointers)).clone()
    } else {
        rng.pick(&all).clone()
    };
    let donor = rng.pick(&all).clone();
    let donor_value = doc.pointer(&donor).cloned().unwrap_or(Value::Null);
    let Some(slot) = doc.pointer_mut(&target) else { return };
    match rng.below(6) {
        // Delete a key of an object (or empty an array).
        0 => match slot {
            Value::Object(map) if !map.is_empty() => {
                let key = map.keys().nth(rng.below(map.len())).cloned().unwrap_or_default();
                map.shift_remove(&key);
            }
            Value::Array(items) => items.clear(),
            other => *other = Value::Null,
        },
        // Replace with a value of another type or an odd schema.
        1 | 2 => *slot = odd_value(rng),
        // Insert an odd key.
        3 => {
            if let Value::Object(map) = slot {
                map.insert(odd_key(rng), odd_value(rng));
            } else {
                let mut map = Map::new();
                map.insert(odd_key(rng), odd_value(rng));
                *slot = Value::Object(map);
            }
        }
        // Copy another subtree here (cycles of refs, wrong shapes).
        4 => *slot = donor_value,
        // Break or redirect a $ref.
        _ => {
            let broken = [
                "#/components/schemas/Missing",
                "#/components/schemas",
                "#/components/schemas/",
                "#/paths",
                "other.json#/A",
                "#",
                "",
                "#/components/schemas/QueueStatus",
            ];
            let reference = (*rng.pick(&broken)).to_owned();
            *slot = json!({ "$ref": reference });
        }
    }
}

fn documents() -> Vec<(String, String, Value)> {
    let mut docs = Vec::new();
    let root = workspace_root();
    for id in xtask::endpoint_ids(&root).expect("endpoints.toml") {
        let path = root.join(xtask::schema_path(&id));
        docs.push((id, path.display().to_string(), read(&path)));
    }
    // A spread of fal's published documents (every 20th file, by name).
    let corpus = std::env::var_os("FAL_OPENAPI_DIR").map_or_else(|| shared_dir().join("fal-openapi"), PathBuf::from);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap_or_else(|e| panic!("the fal OpenAPI corpus is missing at {}: {e}", corpus.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for path in files.iter().step_by(20) {
        let id = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().replace("__", "/");
        docs.push((id, path.display().to_string(), read(path)));
    }
    docs
}

fn read(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read document")).expect("a valid JSON document")
}

#[test]
fn mutated_documents_generate_or_fail_with_file_and_pointer() {
    let cases: usize = std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3_000);
    let seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x00fa_1c0d_e6e0);
    let docs = documents();
    let mut rng = Rng(seed);
    let (mut generated, mut rejected) = (0_usize, 0_usize);
    let mut failures = Vec::new();
    for case in 0..cases {
        let (id, file, original) = rng.pick(&docs);
        let mut doc = original.clone();
        for _ in 0..=rng.below(3) {
            mutate(&mut doc, &mut rng);
        }
        let text = if rng.below(50) == 0 {
            // Now and then, not JSON at all (truncated).
            let full = doc.to_string();
            full.chars().take(full.chars().count() / 2).collect()
        } else {
            doc.to_string()
        };
        let source = Source { endpoint_id: id.clone(), file: file.clone(), text };
        match catch_unwind(AssertUnwindSafe(|| generate(std::slice::from_ref(&source)))) {
            Ok(Ok(_)) => generated += 1,
            Ok(Err(error)) if error.file == *file && (error.pointer.is_empty() || error.pointer.starts_with('/')) => {
                rejected += 1;
            }
            Ok(Err(error)) => failures.push(format!("case {case}: error without file/pointer: {error:?}")),
            Err(_) => failures.push(format!("case {case} ({id}): the generator panicked (seed {seed:#x})")),
        }
    }
    eprintln!("{cases} mutated documents: {generated} generated, {rejected} rejected with file and pointer");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert!(generated > 0 && rejected > 0, "the mutations must exercise both outcomes");
}
