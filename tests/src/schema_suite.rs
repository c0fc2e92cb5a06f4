//! The JSON Schema test suite's cases as fal-style OpenAPI documents.
//!
//! The suite (<https://github.com/json-schema-org/JSON-Schema-Test-Suite>, its
//! `tests/draft2020-12/` directory) is third-party data: it is read from the
//! directory `JSON_SCHEMA_TEST_SUITE` names, never copied into the project;
//! `.ci/run` takes it from the source distribution of Python's `jsonschema`
//! package, which ships it.
//!
//! Each file (`minimum.json`, …) holds groups of one schema and tests (data,
//! valid or not). A group becomes one document in fal's layout, endpoint id
//! `suite/kw-<file>/case-<n>`: the schema is the component
//! `<File>Case<n>V`, and the input is an object with the one required
//! property `v` referring to it, so every schema, including booleans, numbers
//! and arrays, is reachable from an input (`$ref`s into the schema's root,
//! `#…`, are rewritten to point at the component). A test's input is
//! `{"v": <data>}`; the generated client agrees with the suite when it accepts
//! exactly the valid data.

use std::path::Path;

use fal_codegen::Source;
use serde_json::{Map, Value, json};

use crate::schema_grammar::{fal_document, map_refs};

/// One test of a group: data and whether it is valid.
#[derive(Debug, Clone)]
pub struct Test {
    /// The suite's description.
    pub description: String,
    /// The instance.
    pub data: Value,
    /// Whether it is valid against the group's schema.
    pub valid: bool,
}

/// One group of the suite: a schema and its tests.
#[derive(Debug, Clone)]
pub struct Case {
    /// The file it comes from, without `.json` (`minimum`, `if-then-else`).
    pub file: String,
    /// Its place in the file, from 0.
    pub index: usize,
    /// The suite's description.
    pub description: String,
    /// The schema as written.
    pub schema: Value,
    /// Its tests.
    pub tests: Vec<Test>,
}

/// Files of the suite's `optional/` directory that are loaded too (as
/// `optional-<name>`): the sizes of numbers (integers beyond 64 bits, a
/// quotient beyond `f64`), which a client must decode rather than refuse.
pub const OPTIONAL: [&str; 2] = ["bignum", "float-overflow"];

/// Every group of every `*.json` file directly under `dir`, sorted by file
/// name, then those of the [`OPTIONAL`] files.
///
/// # Errors
///
/// The directory or a file cannot be read, or a file is not a list of groups.
pub fn load(dir: &Path) -> Result<Vec<Case>, String> {
    let mut paths: Vec<(String, std::path::PathBuf)> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned(), p))
        .collect();
    paths.sort();
    for name in OPTIONAL {
        let path = dir.join("optional").join(format!("{name}.json"));
        if path.is_file() {
            paths.push((format!("optional-{name}"), path));
        }
    }
    let mut cases = Vec::new();
    for (file, path) in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let groups: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        for (index, group) in
            groups.as_array().ok_or_else(|| format!("{}: not a list", path.display()))?.iter().enumerate()
        {
            let tests = group["tests"]
                .as_array()
                .ok_or_else(|| format!("{}: group {index} has no tests", path.display()))?
                .iter()
                .map(|t| Test {
                    description: t["description"].as_str().unwrap_or_default().to_owned(),
                    data: t["data"].clone(),
                    valid: t["valid"].as_bool().unwrap_or(false),
                })
                .collect();
            cases.push(Case {
                file: file.clone(),
                index,
                description: group["description"].as_str().unwrap_or_default().to_owned(),
                schema: group["schema"].clone(),
                tests,
            });
        }
    }
    Ok(cases)
}

impl Case {
    /// Its endpoint id: `suite/kw-<file>/case-<n>`.
    pub fn endpoint_id(&self) -> String {
        format!("suite/kw-{}/case-{}", self.file, self.index)
    }

    /// The prefix of its component names, and so of every type generated from it: `IfThenElseCase3`.
    pub fn component_prefix(&self) -> String {
        let camel: String = self
            .file
            .split(|c: char| !c.is_ascii_alphanumeric())
            .flat_map(|word| {
                let mut chars = word.chars();
                chars.next().map(|c| c.to_ascii_uppercase()).into_iter().chain(chars)
            })
            .collect();
        format!("{camel}Case{}", self.index)
    }

    /// The file name its document goes by in generator messages: `suite/<file>/<n>.json`.
    pub fn file_name(&self) -> String {
        format!("suite/{}/{}.json", self.file, self.index)
    }

    /// The document (see the [module docs](self)).
    pub fn document(&self) -> Source {
        let id = self.endpoint_id();
        let prefix = self.component_prefix();
        let value = format!("#/components/schemas/{prefix}V");
        let mut schema = self.schema.clone();
        // JSON Pointers (`#`, `#/...`) move with the schema, unless it has an `$id`: then they are relative to
        // that resource, wherever it sits. Anchors (`#foo`) stay: they name a place, not a path.
        let own_resource = schema.get("$id").is_some();
        map_refs(&mut schema, &|target| {
            if own_resource {
                return None;
            }
            target
                .strip_prefix('#')
                .filter(|rest| rest.is_empty() || rest.starts_with('/'))
                .map(|rest| format!("{value}{rest}"))
        });
        let mut components = Map::new();
        components.insert(format!("{prefix}V"), schema);
        let doc = fal_document(&id, &prefix, "json-schema-test-suite", json!({"$ref": value}), components);
        Source { endpoint_id: id, file: self.file_name(), text: serde_json::to_string_pretty(&doc).expect("JSON") }
    }

    /// A test's request body: `{"v": data}`.
    pub fn input(test: &Test) -> Value {
        json!({ "v": test.data })
    }
}

/// The prefix of the nearest type name at or above line `line` (1-based) of
/// generated `text` that belongs to a case (`RefCase0` of `RefCase0VFoo`):
/// which case's code a compiler error is in.
pub fn case_prefix_near(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    lines[..line.min(lines.len())].iter().rev().find_map(|l| prefix_in(l))
}

/// The first `<Letters>Case<digits>` in a line.
fn prefix_in(line: &str) -> Option<String> {
    let bytes = line.as_bytes();
    let mut from = 0;
    while let Some(at) = line[from..].find("Case").map(|i| i + from) {
        let digits = bytes[at + 4..].iter().take_while(|b| b.is_ascii_digit()).count();
        let start = line[..at].rfind(|c: char| !c.is_ascii_alphabetic()).map_or(0, |i| i + 1);
        if digits > 0 && start < at && bytes[start].is_ascii_uppercase() {
            return Some(line[start..at + 4 + digits].to_owned());
        }
        from = at + 4;
    }
    None
}
