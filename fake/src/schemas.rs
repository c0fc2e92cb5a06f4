//! The endpoints the fake knows from their OpenAPI documents: a directory of
//! fal's per-endpoint documents (fal's own
//! `https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=…` answers
//! saved as files, such as the `schemas/` directory of the fal-ltx
//! repository), read once.
//!
//! Each `*.json` file under the directory, at any depth, is one endpoint.
//! Its endpoint id is the document's `info.x-fal-metadata.endpointId`, else
//! the file's path below the directory without `.json`
//! (`fal-ai/ltx-2/text-to-video.json` → `fal-ai/ltx-2/text-to-video`).
//!
//! The fake uses a document for two things: the input schema checks every
//! submit and run body (fal's 422 answer, see [`validate`](crate::validate)),
//! and [`Schemas::example_output`] builds an output from the output schema's
//! examples.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The OpenAPI documents of a directory, by endpoint id.
#[derive(Debug, Clone, Default)]
pub struct Schemas {
    documents: BTreeMap<String, Value>,
}

/// A document that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not JSON.
    #[error("{path}: not JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
}

impl Schemas {
    /// No endpoints: nothing is validated.
    #[must_use]
    pub fn empty() -> Self {
        Self::default()
    }

    /// Reads every `*.json` file under `dir`.
    ///
    /// # Errors
    ///
    /// [`SchemaError`] naming the file that cannot be read or is not JSON.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self, SchemaError> {
        fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<String, Value>) -> Result<(), SchemaError> {
            let io = |path: &Path| {
                let path = path.to_owned();
                move |source| SchemaError::Io { path, source }
            };
            let mut entries: Vec<PathBuf> =
                std::fs::read_dir(dir).map_err(io(dir))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
            entries.sort();
            for path in entries {
                if path.is_dir() {
                    walk(&path, base, out)?;
                } else if path.extension().is_some_and(|x| x == "json") {
                    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
                    let doc: Value = serde_json::from_str(&text)
                        .map_err(|source| SchemaError::Json { path: path.clone(), source })?;
                    let relative = path.strip_prefix(base).unwrap_or(&path).with_extension("");
                    let from_path = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>();
                    let id = doc
                        .pointer("/info/x-fal-metadata/endpointId")
                        .and_then(Value::as_str)
                        .map_or_else(|| from_path.join("/"), str::to_owned);
                    out.insert(id, doc);
                }
            }
            Ok(())
        }
        let dir = dir.as_ref();
        let mut documents = BTreeMap::new();
        walk(dir, dir, &mut documents)?;
        Ok(Self { documents })
    }

    /// Adds (or replaces) the document of one endpoint.
    #[must_use]
    pub fn with_document(mut self, endpoint_id: &str, document: Value) -> Self {
        self.documents.insert(endpoint_id.to_owned(), document);
        self
    }

    /// The endpoint ids, sorted.
    pub fn endpoint_ids(&self) -> impl Iterator<Item = &str> {
        self.documents.keys().map(String::as_str)
    }

    /// The document of `endpoint_id`.
    #[must_use]
    pub fn document(&self, endpoint_id: &str) -> Option<&Value> {
        self.documents.get(endpoint_id)
    }

    /// An output of `endpoint_id` built from its document's examples: each
    /// property of the result schema (the `200` answer of `GET
    /// …/requests/{request_id}`) takes its first example. This is the
    /// response fal's docs pages show. `None` when the endpoint is unknown or
    /// its document has no result schema.
    #[must_use]
    pub fn example_output(&self, endpoint_id: &str) -> Option<Value> {
        let doc = self.document(endpoint_id)?;
        let schema = doc["paths"]
            .as_object()?
            .iter()
            .find(|(path, _)| path.ends_with("/requests/{request_id}"))?
            .1
            .pointer("/get/responses/200/content/application~1json/schema")?;
        let schema = resolve(doc, schema);
        let props = schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
        let output: serde_json::Map<String, Value> = props
            .iter()
            .filter_map(|(name, schema)| Some((name.clone(), schema.get("examples")?.get(0)?.clone())))
            .collect();
        Some(Value::Object(output))
    }
}

/// Follows local `$ref`s (`#/components/schemas/X`) of `doc`, at most 16 deep.
pub(crate) fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let mut current = schema;
    for _ in 0..16 {
        match current.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')).and_then(|p| doc.pointer(p))
        {
            Some(target) => current = target,
            None => return current,
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_come_from_the_metadata_else_the_path() {
        let dir = std::env::temp_dir().join(format!("fake-fal-schemas-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("owner/app")).unwrap();
        std::fs::write(dir.join("owner/app/run.json"), "{}").unwrap();
        std::fs::write(dir.join("owner/named.json"), r#"{"info":{"x-fal-metadata":{"endpointId":"x/y"}}}"#).unwrap();
        std::fs::write(dir.join("owner/notes.txt"), "not a schema").unwrap();
        let schemas = Schemas::load(&dir).unwrap();
        assert_eq!(schemas.endpoint_ids().collect::<Vec<_>>(), ["owner/app/run", "x/y"]);
        std::fs::write(dir.join("owner/bad.json"), "{").unwrap();
        let error = Schemas::load(&dir).unwrap_err().to_string();
        assert!(error.contains("bad.json") && error.contains("not JSON"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn example_output_takes_each_first_example() {
        let doc = json!({
            "paths": {"/a/b/requests/{request_id}": {"get": {"responses": {"200": {"content": {"application/json":
                {"schema": {"$ref": "#/components/schemas/Out"}}}}}}}},
            "components": {"schemas": {"Out": {"properties": {
                "seed": {"type": "integer", "examples": [7, 8]},
                "video": {"type": "object"}
            }}}}
        });
        let schemas = Schemas::empty().with_document("a/b", doc);
        assert_eq!(schemas.example_output("a/b"), Some(json!({"seed": 7})));
        assert_eq!(schemas.example_output("c/d"), None);
    }
}
