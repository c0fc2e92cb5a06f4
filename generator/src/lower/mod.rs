//! Lowering: normalized OpenAPI documents → the intermediate model ([`crate::ir`]).
//!
//! Rules (ARCHITECTURE.md, "The generator"), each commented where it is applied:
//! - types are named by component key, never by `title` (titles are docs only);
//!   inline types are named after their property (`Duration`), or
//!   `<Parent><Property>` when that name is taken by a different shape (`names`);
//! - field order follows `x-fal-order-properties`, then document order (`objects`);
//! - `anyOf [X, null]` is `Option<X>`; a single-`$ref` `allOf` is the referenced
//!   type (the outer description stays on the field) (`schema`); `anyOf [ImageSize,
//!   preset enum]` is an untagged union `Custom(ImageSize)` / `Preset(…Preset)` (`unions`);
//! - components other than an endpoint's input and output go to the shared
//!   `types` module, one type per distinct shape: the shape used by most
//!   documents keeps the component key, each other shape is prefixed with the
//!   key of the first endpoint that uses it (`shared`);
//! - every `default` is checked against its own type and constraints; an
//!   invalid one is documented, reported, and not emitted (`defaults`);
//! - what cannot be typed becomes `serde_json::Value` with the reason in the
//!   field docs and in the report. Nothing is dropped silently (`DocLowerer::untyped`).
//!
//! One submodule per concern: `parse` (text → `openapiv3`), `endpoint` (input,
//! output, module path, marker), `objects` (structs and fields), `schema` (type
//! expressions), `enums`, `unions`, `names` (naming and placing inline types),
//! `defaults` (checking defaults), `shared` (merging shared components), `flat`
//! (one view over `openapiv3`'s schema kinds).

mod cycles;
mod defaults;
mod endpoint;
mod enums;
mod flat;
pub mod keywords;
mod names;
mod objects;
mod parse;
mod schema;
mod shared;
mod unions;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use indexmap::IndexMap;
use openapiv3::{OpenAPI, ReferenceOr, Schema};
use serde_json::Value;

pub use endpoint::module_path;

use crate::error::{GenError, Note};
use crate::ir::{Api, Endpoint, Kind, Scope, Type, TypeDef};

/// One input document.
#[derive(Debug, Clone)]
pub struct Source {
    /// The endpoint id the document describes, e.g. `fal-ai/ltx-2/text-to-video`.
    pub endpoint_id: String,
    /// Where the document was read from, used in errors and generated headers
    /// (e.g. `schemas/fal-ai/ltx-2/text-to-video.json`).
    pub file: String,
    /// The document's JSON text.
    pub text: String,
}

/// The model and the notes on what was represented approximately.
#[derive(Debug, Clone)]
pub struct Lowered {
    /// The intermediate model.
    pub api: Api,
    /// Approximations, sorted by file and pointer.
    pub notes: Vec<Note>,
}

const COMPONENT_PREFIX: &str = "#/components/schemas/";

/// Parses, normalizes and lowers every source, in endpoint-id order, then
/// merges the component types they share.
///
/// # Errors
///
/// The first document that is not valid JSON, not an OpenAPI document, or
/// uses a construct the generator rejects (a dangling `$ref`, an input that is
/// not an object, two endpoints with the same id).
pub fn lower(sources: &[Source]) -> Result<Lowered, GenError> {
    let mut sorted: Vec<&Source> = sources.iter().collect();
    sorted.sort_by(|a, b| a.endpoint_id.cmp(&b.endpoint_id));
    for pair in sorted.windows(2) {
        if pair[0].endpoint_id == pair[1].endpoint_id {
            return Err(GenError::new(
                &pair[1].file,
                "",
                format!("endpoint id `{}` is listed twice", pair[1].endpoint_id),
            ));
        }
    }

    // Each document is parsed and lowered on its own, on every core; their shared components are merged
    // afterwards, in endpoint-id order. The first error in that order is the one returned, as if the documents
    // had been lowered one after another.
    let lowered = crate::parallel::map(&sorted, |source| lower_document(source));
    let mut notes = Vec::new();
    let mut endpoints = Vec::new();
    let mut bundles = Vec::new();
    for result in lowered {
        let (endpoint, doc_bundles, doc_notes) = result?;
        endpoints.push(endpoint);
        bundles.push(doc_bundles);
        notes.extend(doc_notes);
    }

    let shared = shared::merge(&mut endpoints, bundles)?;
    notes.sort();
    notes.dedup();
    Ok(Lowered { api: Api { endpoints, shared }, notes })
}

/// One lowered document: its endpoint, its shared components and its notes.
type LoweredDocument = (Endpoint, Vec<shared::Bundle>, Vec<Note>);

/// Parses and lowers one document.
fn lower_document(source: &Source) -> Result<LoweredDocument, GenError> {
    let (published, raw, doc) = parse::parse(source)?;
    let mut notes = Vec::new();
    let mut lowerer = DocLowerer::new(source, &published, &raw, &doc, &mut notes)?;
    let endpoint = lowerer.lower_endpoint()?;
    let bundles = lowerer.finish_bundles();
    Ok((endpoint, bundles, notes))
}

/// What the lowering of one schema is for.
#[derive(Debug, Clone)]
struct Ctx {
    /// The module new inline types go to.
    target: Target,
    /// Name of the enclosing type (for `<Parent><Property>` names).
    parent: String,
    /// The property (UpperCamelCase) the schema belongs to.
    property: String,
    /// Reached from the output: string enums accept unknown values.
    output: bool,
    /// The property's description, for unit inference.
    description: Option<String>,
}

/// The module a lowered type goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// The endpoint's own module.
    Local,
    /// The shared `types` module, as part of the component with this key.
    Shared(String),
}

fn scope_of(target: &Target) -> Scope {
    match target {
        Target::Local => Scope::Local,
        Target::Shared(_) => Scope::Shared,
    }
}

/// Lowers one document: its endpoint, its local types, and its shared
/// components (merged across documents afterwards by `shared::merge`).
struct DocLowerer<'a> {
    source: &'a Source,
    /// The document as published (for the keywords the types do not check).
    published: &'a Value,
    /// The normalized JSON (for `x-fal-*` keys and component shapes).
    raw: &'a Value,
    doc: &'a OpenAPI,
    notes: &'a mut Vec<Note>,
    input_key: String,
    output_key: String,
    /// The endpoint module's types, in lowering order.
    local: Vec<TypeDef>,
    /// Names an inline local type may not take (marker, input, output).
    reserved_local: BTreeSet<String>,
    /// The shared components reached so far: key → the component's type and its inline types.
    shared_defs: BTreeMap<String, Vec<TypeDef>>,
    /// Shared components referenced but not lowered yet.
    shared_todo: Vec<String>,
    /// Component key → shape (see `shared`).
    shape_cache: HashMap<String, String>,
    /// `$ref`s to other resources (`(JSON Pointer, reference)`), left to the JSON Schema check: it resolves
    /// those an `$id` in the document defines; the document is refused when it cannot (`lower_endpoint`).
    uri_refs: Vec<(String, String)>,
}

impl<'a> DocLowerer<'a> {
    fn new(
        source: &'a Source,
        published: &'a Value,
        raw: &'a Value,
        doc: &'a OpenAPI,
        notes: &'a mut Vec<Note>,
    ) -> Result<Self, GenError> {
        let (input_key, output_key) = endpoint::find_io(source, doc)?;
        Ok(Self {
            source,
            published,
            raw,
            doc,
            notes,
            input_key,
            output_key,
            local: Vec::new(),
            reserved_local: BTreeSet::new(),
            shared_defs: BTreeMap::new(),
            shared_todo: Vec::new(),
            shape_cache: HashMap::new(),
            uri_refs: Vec::new(),
        })
    }

    fn file(&self) -> &str {
        &self.source.file
    }

    fn err(&self, pointer: &str, message: impl Into<String>) -> GenError {
        GenError::new(&self.source.file, pointer, message)
    }

    fn note(&mut self, pointer: &str, message: impl Into<String>) {
        self.notes.push(Note { file: self.source.file.clone(), pointer: pointer.to_owned(), message: message.into() });
    }

    /// Rule: nothing is dropped silently. A value the generator cannot type is
    /// `serde_json::Value`, the reason noted here and documented on the field.
    fn untyped(&mut self, pointer: &str, reason: impl Into<String>) -> Type {
        let reason = reason.into();
        self.note(pointer, format!("untyped (`serde_json::Value`): {reason}"));
        Type::plain(Kind::Json { reason: Some(reason) })
    }

    fn components(&self) -> Option<&'a IndexMap<String, ReferenceOr<Schema>>> {
        self.doc.components.as_ref().map(|c| &c.schemas)
    }

    /// Resolves a component key to its schema, following `$ref` chains.
    fn component(&self, key: &str, pointer: &str) -> Result<&'a Schema, GenError> {
        let mut key = key.to_owned();
        for _ in 0..32 {
            let found = self.components().and_then(|c| c.get(&key)).ok_or_else(|| {
                self.err(pointer, format!("`$ref` to `{COMPONENT_PREFIX}{key}`, which the document does not define"))
            })?;
            match found {
                ReferenceOr::Item(schema) => return Ok(schema),
                ReferenceOr::Reference { reference } => {
                    key = component_key(reference).ok_or_else(|| self.unsupported_ref(reference, pointer))?.to_owned()
                }
            }
        }
        Err(self.err(pointer, format!("`$ref` chain from `{key}` does not end")))
    }

    fn unsupported_ref(&self, reference: &str, pointer: &str) -> GenError {
        self.err(
            pointer,
            format!("unsupported `$ref` `{reference}`: only `{COMPONENT_PREFIX}<key>` references are supported"),
        )
    }
}

/// The component key of a local `$ref` (`#/components/schemas/<key>`).
fn component_key(reference: &str) -> Option<&str> {
    reference.strip_prefix(COMPONENT_PREFIX).filter(|k| !k.is_empty() && !k.contains('/'))
}

/// Documentation of a type: its description, else its title.
fn schema_docs(schema: &Schema) -> Option<String> {
    schema.schema_data.description.clone().or_else(|| schema.schema_data.title.clone())
}
