//! An endpoint's identity: its input and output components (from the queue
//! paths), its module path (from its id) and its marker type's name.

use openapiv3::{OpenAPI, ReferenceOr, StatusCode};
use serde_json::Value;

use super::{DocLowerer, Source, Target, component_key};
use crate::error::GenError;
use crate::ir::Endpoint;
use crate::{naming, pointer};

impl DocLowerer<'_> {
    /// The document's endpoint: its input and output structs, then every
    /// shared component they reach (lowered into `shared_defs`), and fal's
    /// metadata (category, pages).
    pub(super) fn lower_endpoint(&mut self) -> Result<Endpoint, GenError> {
        let id = self.source.endpoint_id.clone();
        let (family, module) = module_path(&id)
            .ok_or_else(|| self.err("", format!("`{id}` is not an endpoint id of the form `owner/alias[/path]`")))?;
        // Rule: types are named by component key, never by `title`.
        let input = naming::type_name(&self.input_key);
        let output = naming::type_name(&self.output_key);
        let marker = marker_name(&self.input_key, &id);
        if input == output || marker == input || marker == output {
            return Err(self.err("/paths", format!("input `{input}` and output `{output}` need distinct names")));
        }
        self.reserved_local.extend([marker.clone(), input.clone(), output.clone()]);

        let input_key = self.input_key.clone();
        let output_key = self.output_key.clone();
        // Rule: what the output reaches decodes leniently and its string enums are open.
        self.lower_component_struct(&input_key, &input, Target::Local, false)?;
        self.lower_component_struct(&output_key, &output, Target::Local, true)?;
        // Rule: components other than the input and output go to the shared `types` module.
        while let Some(key) = self.shared_todo.pop() {
            let name = naming::type_name(&key);
            self.lower_component_struct(&key, &name, Target::Shared(key.clone()), false)?;
        }

        let recursive = self.break_value_cycles();
        // Rule: a keyword the types do not check makes the input checked as JSON Schema (keywords.rs); so
        // does a recursive type untyped to keep its size finite (cycles.rs).
        let gaps = super::keywords::gaps(self.published, &input_key);
        for (at, keyword) in &gaps {
            self.note(
                at,
                format!(
                    "`{keyword}` is not checked by the generated types: the input is checked against its JSON \
                     Schema at run time (the runtime's `json-schema` feature)"
                ),
            );
        }
        // A pattern the check's regex engine cannot compile would make every input fail: it is left out,
        // with a note (fal's own validator still checks it).
        let json_checked = !gaps.is_empty() || recursive;
        let checked = (json_checked || !self.uri_refs.is_empty()).then(|| {
            let (doc, unreadable) = super::keywords::without_unreadable_patterns(self.published, &gaps);
            for (at, message) in unreadable {
                self.note(&at, message);
            }
            doc
        });
        // A `$ref` to another resource, in the input or the output, must resolve inside the document.
        if let Some((at, reference)) = self.uri_refs.first()
            && let Some(error) =
                checked.as_ref().and_then(|doc| super::keywords::compile_error(doc, &[&input_key, &output_key]))
        {
            return Err(self.err(
                at,
                format!(
                    "unsupported `$ref` `{reference}`: only `#/components/schemas/<key>` references, and references \
                     to an `$id` the document defines, are supported ({error})"
                ),
            ));
        }
        let json_schema = checked.filter(|_| json_checked).map(|doc| super::keywords::standalone(&doc, &input_key));

        let meta = self.raw.pointer("/info/x-fal-metadata");
        let text = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str).map(str::to_owned);
        Ok(Endpoint {
            id,
            source: self.file().to_owned(),
            family,
            module,
            marker,
            input,
            output,
            category: text("category"),
            playground_url: text("playgroundUrl"),
            documentation_url: text("documentationUrl"),
            types: std::mem::take(&mut self.local),
            json_schema,
        })
    }
}

/// The input and output component keys: the submit operation's request body
/// and the result operation's 200 response (protocol.md §1).
pub(super) fn find_io(source: &Source, doc: &OpenAPI) -> Result<(String, String), GenError> {
    let mut input = None;
    let mut output = None;
    for (path, item) in &doc.paths.paths {
        let ReferenceOr::Item(item) = item else { continue };
        let at = pointer::join("/paths", path);
        // The queue submit path: a POST whose JSON request body is a `$ref`.
        if let Some(post) = &item.post
            && let Some(ReferenceOr::Item(body)) = &post.request_body
            && let Some(ReferenceOr::Reference { reference }) =
                body.content.get("application/json").and_then(|m| m.schema.as_ref())
        {
            let key = component_key(reference).ok_or_else(|| {
                GenError::new(
                    &source.file,
                    &format!("{at}/post/requestBody"),
                    format!("unsupported `$ref` `{reference}`"),
                )
            })?;
            input = Some(key.to_owned());
        }
        // The queue result path: `GET …/requests/{request_id}`, its 200 response a `$ref`.
        if path.ends_with("/requests/{request_id}")
            && let Some(get) = &item.get
            && let Some(ReferenceOr::Item(response)) = get.responses.responses.get(&StatusCode::Code(200))
            && let Some(ReferenceOr::Reference { reference }) =
                response.content.get("application/json").and_then(|m| m.schema.as_ref())
        {
            let key = component_key(reference).ok_or_else(|| {
                GenError::new(
                    &source.file,
                    &format!("{at}/get/responses/200"),
                    format!("unsupported `$ref` `{reference}`"),
                )
            })?;
            output = Some(key.to_owned());
        }
    }
    let input = input.ok_or_else(|| {
        GenError::new(
            &source.file,
            "/paths",
            "no POST operation with an `application/json` request body `$ref` (the queue submit path)",
        )
    })?;
    let output = output.ok_or_else(|| {
        GenError::new(
            &source.file,
            "/paths",
            "no GET `…/requests/{request_id}` operation whose 200 response is a `$ref` (the queue result path)",
        )
    })?;
    Ok((input, output))
}

/// `(family module, endpoint module)` for an endpoint id (protocol.md §1):
/// `fal-ai/ltx-2.3-22b/extend-video/lora` → `("ltx_2_3_22b", "extend_video_lora")`.
/// The owner prefixes the family unless it is `fal-ai`.
pub fn module_path(id: &str) -> Option<(String, String)> {
    let segments: Vec<&str> = id.split('/').collect();
    let (owner, alias, rest) = match segments.as_slice() {
        [ns, owner, alias, rest @ ..] if *ns == "workflows" || *ns == "comfy" => {
            (format!("{ns}-{owner}"), *alias, rest)
        }
        [owner, alias, rest @ ..] => ((*owner).to_owned(), *alias, rest),
        _ => return None,
    };
    if owner.is_empty() || alias.is_empty() || rest.iter().any(|s| s.is_empty()) {
        return None;
    }
    let family = if owner == "fal-ai" { naming::snake(alias) } else { naming::snake(&format!("{owner}_{alias}")) };
    let module = if rest.is_empty() { "base".to_owned() } else { naming::snake(&rest.join("_")) };
    Some((family, module))
}

/// The marker type's name: the input key without `Input` (fal's convention),
/// else the endpoint id in UpperCamelCase without the owner.
pub(super) fn marker_name(input_key: &str, id: &str) -> String {
    match input_key.strip_suffix("Input") {
        Some(stem) if !stem.is_empty() => naming::type_name(stem),
        _ => naming::type_name(&id.split('/').skip(1).collect::<Vec<_>>().join("-")),
    }
}
