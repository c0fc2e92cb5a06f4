//! Lowering: normalized OpenAPI documents → the intermediate model ([`crate::ir`]).
//!
//! Rules (ARCHITECTURE.md, "The generator"):
//! - types are named by component key, never by `title` (titles are docs only);
//!   inline types are named after their property (`Duration`), or
//!   `<Parent><Property>` when that name is taken by a different shape;
//! - field order follows `x-fal-order-properties`, then document order;
//! - `anyOf [X, null]` is `Option<X>`; a single-`$ref` `allOf` is the referenced
//!   type (the outer description stays on the field); `anyOf [ImageSize, preset enum]`
//!   is an untagged union `Custom(ImageSize)` / `Preset(…Preset)`;
//! - components other than an endpoint's input and output go to the shared
//!   `types` module, one type per distinct shape: the shape used by most
//!   documents keeps the component key, each other shape is prefixed with the
//!   key of the first endpoint that uses it;
//! - every `default` is checked against its own type and constraints; an
//!   invalid one is documented, reported, and not emitted;
//! - what cannot be typed becomes `serde_json::Value` with the reason in the
//!   field docs and in the report. Nothing is dropped silently.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use indexmap::IndexMap;
use openapiv3::{AdditionalProperties, OpenAPI, ReferenceOr, Schema, SchemaKind, StatusCode, Type as OaType};
use serde_json::Value;

use crate::error::{GenError, Note};
use crate::ir::{
    Api, Constraints, Endpoint, Field, IntegerVariant, Kind, Scope, StringVariant, Type, TypeDef, TypeKind, TypeName,
    UnionVariant,
};
use crate::naming::{self, IntegerUnit};
use crate::normalize;
use crate::pointer;

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

/// Parses, normalizes and lowers every source.
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

    let mut notes = Vec::new();
    let mut endpoints = Vec::new();
    let mut bundles: Vec<Vec<Bundle>> = Vec::new();
    for source in sorted {
        let (raw, doc) = parse(source)?;
        let mut lowerer = DocLowerer::new(source, &raw, &doc, &mut notes)?;
        let endpoint = lowerer.lower_endpoint()?;
        bundles.push(lowerer.finish_bundles());
        endpoints.push(endpoint);
    }

    let shared = merge_shared(&mut endpoints, bundles)?;
    notes.sort();
    notes.dedup();
    Ok(Lowered { api: Api { endpoints, shared }, notes })
}

/// Parses JSON, normalizes fal's habits, and reads the result with `openapiv3`.
fn parse(source: &Source) -> Result<(Value, OpenAPI), GenError> {
    let mut raw: Value = serde_json::from_str(&source.text)
        .map_err(|e| GenError::new(&source.file, "", format!("not valid JSON: {e}")))?;
    if !raw.is_object() {
        return Err(GenError::new(&source.file, "", "an OpenAPI document must be a JSON object"));
    }
    normalize::document(&mut raw);
    let doc: OpenAPI = serde_path_to_error::deserialize(&raw).map_err(|e| {
        let pointer = path_to_pointer(e.path());
        GenError::new(&source.file, &pointer, format!("not a valid OpenAPI 3.0 document: {}", e.inner()))
    })?;
    Ok((raw, doc))
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer = pointer::join(&pointer, &index.to_string()),
            Segment::Map { key } => pointer = pointer::join(&pointer, key),
            Segment::Enum { variant } => pointer = pointer::join(&pointer, variant),
            Segment::Unknown => {}
        }
    }
    pointer
}

/// A shared component as lowered in one document: the component's own type
/// first, then its inline types (named `<key><suffix>`).
#[derive(Debug, Clone)]
struct Bundle {
    key: String,
    shape: String,
    defs: Vec<TypeDef>,
    endpoint_key: String,
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

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Local,
    Shared(String),
}

struct DocLowerer<'a> {
    source: &'a Source,
    raw: &'a Value,
    doc: &'a OpenAPI,
    notes: &'a mut Vec<Note>,
    input_key: String,
    output_key: String,
    local: Vec<TypeDef>,
    reserved_local: BTreeSet<String>,
    shared_defs: BTreeMap<String, Vec<TypeDef>>,
    shared_todo: Vec<String>,
    shape_cache: HashMap<String, String>,
}

impl<'a> DocLowerer<'a> {
    fn new(source: &'a Source, raw: &'a Value, doc: &'a OpenAPI, notes: &'a mut Vec<Note>) -> Result<Self, GenError> {
        let (input_key, output_key) = find_io(source, doc)?;
        Ok(Self {
            source,
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

    fn lower_endpoint(&mut self) -> Result<Endpoint, GenError> {
        let id = self.source.endpoint_id.clone();
        let (family, module) = module_path(&id)
            .ok_or_else(|| self.err("", format!("`{id}` is not an endpoint id of the form `owner/alias[/path]`")))?;
        let input = naming::type_name(&self.input_key);
        let output = naming::type_name(&self.output_key);
        let marker = marker_name(&self.input_key, &id);
        if input == output || marker == input || marker == output {
            return Err(self.err("/paths", format!("input `{input}` and output `{output}` need distinct names")));
        }
        self.reserved_local.extend([marker.clone(), input.clone(), output.clone()]);

        let input_key = self.input_key.clone();
        let output_key = self.output_key.clone();
        self.lower_component_struct(&input_key, &input, Target::Local, false)?;
        self.lower_component_struct(&output_key, &output, Target::Local, true)?;
        while let Some(key) = self.shared_todo.pop() {
            let name = naming::type_name(&key);
            self.lower_component_struct(&key, &name, Target::Shared(key.clone()), false)?;
        }

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
        })
    }

    fn finish_bundles(&mut self) -> Vec<Bundle> {
        let endpoint_key = marker_name(&self.input_key, &self.source.endpoint_id);
        let defs = std::mem::take(&mut self.shared_defs);
        defs.into_iter()
            .map(|(key, defs)| {
                let shape = self.shape_of_component(&key, &mut BTreeSet::new());
                Bundle { key, shape, defs, endpoint_key: endpoint_key.clone() }
            })
            .collect()
    }

    /// Lowers a component (input, output or shared) as a named type.
    fn lower_component_struct(&mut self, key: &str, name: &str, target: Target, output: bool) -> Result<(), GenError> {
        let pointer = pointer::join("/components/schemas", key);
        let schema = match self.component(key, &pointer) {
            Ok(schema) => schema,
            Err(error) if target == Target::Local => {
                // The input or output itself is a dangling reference: keep the
                // endpoint, with an untyped body.
                let ty = self.untyped(&pointer, error.message);
                let kind = TypeKind::Union { variants: vec![UnionVariant { ident: "Value".to_owned(), ty }] };
                self.push_def(
                    &target,
                    TypeDef { name: name.to_owned(), docs: None, pointer: format!("#{pointer}"), kind },
                );
                return Ok(());
            }
            Err(error) => return Err(error),
        };
        let ctx =
            Ctx { target: target.clone(), parent: name.to_owned(), property: String::new(), output, description: None };
        match flat(schema) {
            Some(f) if f.is_object() => {
                // Placeholder first: inline types follow their parent, and a
                // recursive reference finds the name taken.
                let placeholder = TypeDef {
                    name: name.to_owned(),
                    docs: None,
                    pointer: String::new(),
                    kind: TypeKind::Struct { fields: Vec::new() },
                };
                self.push_def(&target, placeholder);
                let fields = self.lower_fields(schema, &f, &pointer, name, &ctx)?;
                let def = TypeDef {
                    name: name.to_owned(),
                    docs: schema_docs(schema),
                    pointer: format!("#{pointer}"),
                    kind: TypeKind::Struct { fields },
                };
                self.replace_def(&target, def);
            }
            _ => {
                // An enum or union component becomes that named type; anything
                // else is wrapped in a one-branch untagged union named after it.
                let ty = self.lower_schema_item(schema, &pointer, &ctx)?;
                if !matches!(&ty.kind, Kind::Named(n) if n.name == name) {
                    let def = TypeDef {
                        name: name.to_owned(),
                        docs: schema_docs(schema),
                        pointer: format!("#{pointer}"),
                        kind: TypeKind::Union { variants: vec![UnionVariant { ident: "Value".to_owned(), ty }] },
                    };
                    self.push_def(&target, def);
                }
            }
        }
        Ok(())
    }

    fn lower_fields(
        &mut self,
        schema: &'a Schema,
        f: &Flat<'a>,
        pointer: &str,
        parent: &str,
        ctx: &Ctx,
    ) -> Result<Vec<Field>, GenError> {
        let Some(props) = f.properties else { return Ok(Vec::new()) };
        let mut order: Vec<&str> = Vec::new();
        if let Some(Value::Array(listed)) = schema.schema_data.extensions.get("x-fal-order-properties") {
            for name in listed.iter().filter_map(Value::as_str) {
                if props.contains_key(name) && !order.contains(&name) {
                    order.push(name);
                }
            }
        }
        for name in props.keys() {
            if !order.contains(&name.as_str()) {
                order.push(name);
            }
        }
        let mut fields = Vec::new();
        for wire in order {
            let Some(prop) = props.get(wire) else { continue };
            let field_ptr = pointer::join(&pointer::join(pointer, "properties"), wire);
            let (data, ty) = match prop {
                ReferenceOr::Reference { reference } => (None, self.lower_ref(reference, &field_ptr)?),
                ReferenceOr::Item(schema) => {
                    let prop_ctx = Ctx {
                        target: ctx.target.clone(),
                        parent: parent.to_owned(),
                        property: naming::type_name(wire),
                        output: ctx.output,
                        description: schema.schema_data.description.clone(),
                    };
                    (Some(&schema.schema_data), self.lower_schema_item(schema, &field_ptr, &prop_ctx)?)
                }
            };
            let required = f.required.iter().any(|r| r == wire);
            let nullable = data.is_some_and(|d| d.nullable);
            let mut field = Field {
                wire: wire.to_owned(),
                ident: naming::snake(wire),
                ty,
                required,
                nullable,
                default: None,
                rejected_default: None,
                docs: data.and_then(|d| d.description.clone().or_else(|| d.title.clone())),
                examples: data.map(examples_of).unwrap_or_default(),
            };
            if let Some(default) = data.and_then(|d| d.default.clone()) {
                match self.check_default(&field.ty, nullable, &default) {
                    Ok(true) => field.default = Some(default),
                    Ok(false) => {}
                    Err(reason) => {
                        self.note(&field_ptr, format!("default {default} not emitted: {reason}"));
                        field.rejected_default = Some((default, reason));
                    }
                }
            }
            fields.push(field);
        }
        let mut idents: Vec<String> = fields.iter().map(|f| f.ident.clone()).collect();
        if naming::dedupe(&mut idents) {
            self.note(pointer, "property names collide as Rust identifiers; later ones get a numeric suffix");
        }
        for (field, ident) in fields.iter_mut().zip(idents) {
            field.ident = ident;
        }
        Ok(fields)
    }

    fn lower_ref(&mut self, reference: &str, pointer: &str) -> Result<Type, GenError> {
        let key = component_key(reference).ok_or_else(|| self.unsupported_ref(reference, pointer))?.to_owned();
        // Resolve aliases (`A: {$ref: B}`) and check the target exists: a
        // dangling reference (fal publishes a few) becomes an untyped field.
        if self.component(&key, pointer).is_err() {
            return Ok(self.untyped(pointer, format!("`$ref` to `{reference}`, which the document does not define")));
        }
        let key = self.resolve_alias(&key);
        if key == self.input_key || key == self.output_key {
            let name = naming::type_name(&key);
            return Ok(Type::plain(Kind::Named(TypeName { scope: Scope::Local, name })));
        }
        if !self.shared_defs.contains_key(&key) && !self.shared_todo.contains(&key) {
            // Reserve the slot so recursion terminates.
            self.shared_defs.insert(key.clone(), Vec::new());
            self.shared_todo.push(key.clone());
        }
        Ok(Type::plain(Kind::Named(TypeName { scope: Scope::Shared, name: naming::type_name(&key) })))
    }

    fn resolve_alias(&self, key: &str) -> String {
        let mut key = key.to_owned();
        for _ in 0..32 {
            match self.components().and_then(|c| c.get(&key)) {
                Some(ReferenceOr::Reference { reference }) => match component_key(reference) {
                    Some(next) => key = next.to_owned(),
                    None => break,
                },
                _ => break,
            }
        }
        key
    }

    fn lower_schema(&mut self, schema: &'a ReferenceOr<Schema>, pointer: &str, ctx: &Ctx) -> Result<Type, GenError> {
        match schema {
            ReferenceOr::Reference { reference } => self.lower_ref(reference, pointer),
            ReferenceOr::Item(schema) => self.lower_schema_item(schema, pointer, ctx),
        }
    }

    fn lower_boxed(
        &mut self,
        schema: &'a ReferenceOr<Box<Schema>>,
        pointer: &str,
        ctx: &Ctx,
    ) -> Result<Type, GenError> {
        match schema {
            ReferenceOr::Reference { reference } => self.lower_ref(reference, pointer),
            ReferenceOr::Item(schema) => self.lower_schema_item(schema, pointer, ctx),
        }
    }

    fn untyped(&mut self, pointer: &str, reason: impl Into<String>) -> Type {
        let reason = reason.into();
        self.note(pointer, format!("untyped (`serde_json::Value`): {reason}"));
        Type::plain(Kind::Json { reason: Some(reason) })
    }

    fn lower_schema_item(&mut self, schema: &'a Schema, pointer: &str, ctx: &Ctx) -> Result<Type, GenError> {
        let Some(f) = flat(schema) else {
            return Ok(self.untyped(pointer, "`not` schemas are not supported"));
        };
        if !f.all_of.is_empty() {
            return match f.all_of {
                [single] => self.lower_schema(single, &format!("{pointer}/allOf/0"), ctx),
                _ => Ok(self.untyped(pointer, format!("`allOf` of {} schemas is not supported", f.all_of.len()))),
            };
        }
        let (union, union_key) = if f.any_of.is_empty() { (f.one_of, "oneOf") } else { (f.any_of, "anyOf") };
        if !union.is_empty() {
            return match union {
                [single] => self.lower_schema(single, &format!("{pointer}/{union_key}/0"), ctx),
                _ => self.lower_union(union, &format!("{pointer}/{union_key}"), schema, ctx),
            };
        }
        let mut constraints = f.constraints();
        let kind = match f.typ {
            Some("string") if !f.enumeration.is_empty() => {
                constraints = Constraints::default();
                self.string_enum(&f, schema, pointer, ctx)?
            }
            Some("string") => {
                constraints.retain_string();
                Kind::String
            }
            Some("integer") if !f.enumeration.is_empty() => {
                constraints = Constraints::default();
                self.integer_enum(&f, schema, pointer, ctx)?
            }
            Some("integer") => {
                constraints.retain_numeric();
                Kind::Integer
            }
            Some("number") => {
                if !f.enumeration.is_empty() {
                    self.note(pointer, "an `enum` of numbers is typed as `f64`; membership is not checked client-side");
                }
                constraints.retain_numeric();
                Kind::Number
            }
            Some("boolean") => Kind::Boolean,
            Some("array") => {
                constraints.retain_items();
                let item_ctx = Ctx { property: format!("{}Item", ctx.property), description: None, ..ctx.clone() };
                let item = match f.items {
                    Some(items) => self.lower_boxed(items, &format!("{pointer}/items"), &item_ctx)?,
                    None => Type::plain(Kind::Json { reason: None }),
                };
                Kind::Array(Box::new(item))
            }
            Some("object") | None if f.properties.is_some_and(|p| !p.is_empty()) => {
                constraints = Constraints::default();
                self.inline_struct(schema, &f, pointer, ctx)?
            }
            Some("object") => match f.additional {
                Some(AdditionalProperties::Schema(value)) => {
                    let value_ctx =
                        Ctx { property: format!("{}Value", ctx.property), description: None, ..ctx.clone() };
                    Kind::Map(Box::new(self.lower_schema(
                        value,
                        &format!("{pointer}/additionalProperties"),
                        &value_ctx,
                    )?))
                }
                // `{"type": "object"}` alone: an object with any keys and values, not any JSON
                // value (in a union such as `anyOf [object, number]`, a catch-all would swallow
                // the number and skip its bounds).
                _ => Kind::Map(Box::new(Type::plain(Kind::Json { reason: None }))),
            },
            None if !f.enumeration.is_empty() => {
                return Ok(self.untyped(pointer, "an `enum` without a `type`"));
            }
            None => Kind::Json { reason: None },
            Some(other) => return Ok(self.untyped(pointer, format!("unknown `type` `{other}`"))),
        };
        Ok(Type { kind, constraints })
    }

    fn string_enum(&mut self, f: &Flat<'a>, schema: &Schema, pointer: &str, ctx: &Ctx) -> Result<Kind, GenError> {
        let mut wires = Vec::new();
        for value in &f.enumeration {
            match value {
                Value::String(s) if !wires.contains(s) => wires.push(s.clone()),
                Value::String(_) | Value::Null => {}
                other => return Ok(self.untyped(pointer, format!("string `enum` contains {other}")).kind),
            }
        }
        let mut idents: Vec<String> = wires.iter().map(|w| naming::string_variant(w)).collect();
        if naming::dedupe(&mut idents) {
            self.note(pointer, "enum values collide as Rust identifiers; later ones get a numeric suffix");
        }
        if ctx.output && idents.iter().any(|i| i == "Unknown") {
            self.note(pointer, "an enum value is named `Unknown`; the catch-all variant is `Unknown2`");
        }
        let variants = idents.into_iter().zip(wires).map(|(ident, wire)| StringVariant { ident, wire }).collect();
        let kind = TypeKind::StringEnum { variants, open: ctx.output };
        Ok(Kind::Named(self.add_inline(kind, schema, pointer, ctx)))
    }

    fn integer_enum(&mut self, f: &Flat<'a>, schema: &Schema, pointer: &str, ctx: &Ctx) -> Result<Kind, GenError> {
        let mut values = Vec::new();
        for value in &f.enumeration {
            match value.as_i64() {
                Some(v) if !values.contains(&v) => values.push(v),
                Some(_) => {}
                None if value.is_null() => {}
                None => return Ok(self.untyped(pointer, format!("integer `enum` contains {value}")).kind),
            }
        }
        let unit = IntegerUnit::infer(&naming::snake(&ctx.property), ctx.description.as_deref());
        let variants = values
            .into_iter()
            .map(|value| IntegerVariant { ident: naming::integer_variant(value, unit), value })
            .collect();
        Ok(Kind::Named(self.add_inline(TypeKind::IntegerEnum { variants }, schema, pointer, ctx)))
    }

    fn inline_struct(&mut self, schema: &'a Schema, f: &Flat<'a>, pointer: &str, ctx: &Ctx) -> Result<Kind, GenError> {
        // Name first, so nested inline types can use it as their parent.
        let name = self.pick_name(ctx, None);
        let placeholder = TypeDef {
            name: name.clone(),
            docs: None,
            pointer: format!("#{pointer}"),
            kind: TypeKind::Struct { fields: Vec::new() },
        };
        self.push_def(&ctx.target, placeholder);
        let fields = self.lower_fields(schema, f, pointer, &name, &Ctx { parent: name.clone(), ..ctx.clone() })?;
        let def = TypeDef {
            name: name.clone(),
            docs: schema_docs(schema),
            pointer: format!("#{pointer}"),
            kind: TypeKind::Struct { fields },
        };
        self.replace_def(&ctx.target, def);
        Ok(Kind::Named(TypeName { scope: scope_of(&ctx.target), name }))
    }

    fn lower_union(
        &mut self,
        branches: &'a [ReferenceOr<Schema>],
        pointer: &str,
        schema: &Schema,
        ctx: &Ctx,
    ) -> Result<Type, GenError> {
        let union_name = self.pick_name(ctx, None);
        let mut lowered = Vec::new();
        for (i, branch) in branches.iter().enumerate() {
            let branch_ctx = Ctx {
                parent: union_name.clone(),
                property: format!("{}Preset", ctx.property),
                description: None,
                ..ctx.clone()
            };
            let ty = self.lower_schema(branch, &format!("{pointer}/{i}"), &branch_ctx)?;
            lowered.push(ty);
        }
        let is_enum = |t: &Type| matches!(&t.kind, Kind::Named(n) if self.is_enum(n));
        let is_object = |t: &Type| matches!(&t.kind, Kind::Named(n) if !self.is_enum(n));
        let mut idents: Vec<String> = if lowered.len() == 2
            && lowered.iter().filter(|t| is_enum(t)).count() == 1
            && lowered.iter().filter(|t| is_object(t)).count() == 1
        {
            lowered.iter().map(|t| if is_enum(t) { "Preset".to_owned() } else { "Custom".to_owned() }).collect()
        } else {
            lowered.iter().map(branch_ident).collect()
        };
        naming::dedupe(&mut idents);
        let variants = idents.into_iter().zip(lowered).map(|(ident, ty)| UnionVariant { ident, ty }).collect();
        let def = TypeDef {
            name: union_name.clone(),
            docs: schema_docs(schema),
            pointer: format!("#{pointer}"),
            kind: TypeKind::Union { variants },
        };
        self.replace_def(&ctx.target, def);
        Ok(Type::plain(Kind::Named(TypeName { scope: scope_of(&ctx.target), name: union_name })))
    }

    fn is_enum(&self, name: &TypeName) -> bool {
        let defs: Box<dyn Iterator<Item = &TypeDef>> = match name.scope {
            Scope::Local => Box::new(self.local.iter()),
            Scope::Shared => Box::new(self.shared_defs.values().flatten()),
        };
        defs.filter(|d| d.name == name.name)
            .any(|d| matches!(d.kind, TypeKind::StringEnum { .. } | TypeKind::IntegerEnum { .. }))
    }

    /// Adds an inline type, reusing an identical one of the same name.
    fn add_inline(&mut self, kind: TypeKind, schema: &Schema, pointer: &str, ctx: &Ctx) -> TypeName {
        let def = TypeDef { name: String::new(), docs: schema_docs(schema), pointer: format!("#{pointer}"), kind };
        let name = self.insert_or_reuse(&ctx.target, def, ctx);
        TypeName { scope: scope_of(&ctx.target), name }
    }

    fn insert_or_reuse(&mut self, target: &Target, mut def: TypeDef, ctx: &Ctx) -> String {
        let existing = |this: &Self, name: &str| -> Option<TypeKind> {
            this.defs(target).iter().find(|d| d.name == name).map(|d| d.kind.clone())
        };
        let preferred = self.preferred_name(ctx);
        for candidate in [preferred.clone(), format!("{}{}", ctx.parent, ctx.property)] {
            if matches!(target, Target::Local) && self.reserved_local.contains(&candidate) {
                continue;
            }
            match existing(self, &candidate) {
                Some(kind) if kind == def.kind => return candidate,
                Some(_) => {}
                None => {
                    def.name = candidate.clone();
                    self.push_def(target, def);
                    return candidate;
                }
            }
        }
        let name = self.pick_name(ctx, Some(preferred));
        def.name = name.clone();
        self.replace_def(target, def);
        name
    }

    /// Property-named for local types; parent-prefixed in the shared module.
    fn preferred_name(&self, ctx: &Ctx) -> String {
        match ctx.target {
            Target::Local if !ctx.property.is_empty() => ctx.property.clone(),
            _ => format!("{}{}", ctx.parent, ctx.property),
        }
    }

    /// A fresh name (a numeric suffix if needed), reserved with a placeholder.
    fn pick_name(&mut self, ctx: &Ctx, base: Option<String>) -> String {
        let base = base.unwrap_or_else(|| self.preferred_name(ctx));
        let taken = |this: &Self, n: &str| {
            this.defs(&ctx.target).iter().any(|d| d.name == n)
                || (ctx.target == Target::Local && this.reserved_local.contains(n))
        };
        let mut name = base.clone();
        if taken(self, &name) {
            name = format!("{}{}", ctx.parent, ctx.property);
        }
        let mut n = 2;
        while taken(self, &name) {
            name = format!("{base}{n}");
            n += 1;
        }
        let placeholder = TypeDef {
            name: name.clone(),
            docs: None,
            pointer: String::new(),
            kind: TypeKind::Struct { fields: Vec::new() },
        };
        self.push_def(&ctx.target, placeholder);
        name
    }

    fn defs(&self, target: &Target) -> &[TypeDef] {
        match target {
            Target::Local => &self.local,
            Target::Shared(key) => self.shared_defs.get(key).map_or(&[], Vec::as_slice),
        }
    }

    fn push_def(&mut self, target: &Target, def: TypeDef) {
        match target {
            Target::Local => self.local.push(def),
            Target::Shared(key) => self.shared_defs.entry(key.clone()).or_default().push(def),
        }
    }

    fn replace_def(&mut self, target: &Target, def: TypeDef) {
        let defs = match target {
            Target::Local => &mut self.local,
            Target::Shared(key) => self.shared_defs.entry(key.clone()).or_default(),
        };
        match defs.iter_mut().find(|d| d.name == def.name) {
            Some(slot) => *slot = def,
            None => defs.push(def),
        }
    }

    /// Checks a default against the field's type and constraints.
    /// `Ok(false)`: a `null` default of a nullable field (no default to emit).
    fn check_default(&self, ty: &Type, nullable: bool, value: &Value) -> Result<bool, String> {
        if value.is_null() {
            return if nullable { Ok(false) } else { Err("`null` for a field that is not nullable".to_owned()) };
        }
        self.value_fits(ty, value)?;
        Ok(true)
    }

    fn value_fits(&self, ty: &Type, value: &Value) -> Result<(), String> {
        let c = &ty.constraints;
        match &ty.kind {
            Kind::Boolean if value.is_boolean() => Ok(()),
            Kind::Integer if value.is_i64() => number_fits(c, value),
            Kind::Number if value.is_number() => number_fits(c, value),
            Kind::String => {
                let s = value.as_str().ok_or_else(|| format!("{value} is not a string"))?;
                let len = s.chars().count() as u64;
                if c.min_length.is_some_and(|m| len < m) || c.max_length.is_some_and(|m| len > m) {
                    return Err(format!("length {len} is outside the allowed length"));
                }
                Ok(())
            }
            Kind::Array(item) => {
                let items = value.as_array().ok_or_else(|| format!("{value} is not an array"))?;
                items.iter().try_for_each(|v| self.value_fits(item, v))
            }
            Kind::Map(_) | Kind::Json { .. } => Ok(()),
            Kind::Named(name) => self.value_fits_named(name, value),
            Kind::Boolean => Err(format!("{value} is not a boolean")),
            Kind::Integer => Err(format!("{value} is not an integer")),
            Kind::Number => Err(format!("{value} is not a number")),
        }
    }

    fn value_fits_named(&self, name: &TypeName, value: &Value) -> Result<(), String> {
        let defs: Vec<&TypeDef> = match name.scope {
            Scope::Local => self.local.iter().collect(),
            Scope::Shared => self.shared_defs.values().flatten().collect(),
        };
        let Some(def) = defs.into_iter().find(|d| d.name == name.name) else { return Ok(()) };
        match &def.kind {
            TypeKind::StringEnum { variants, .. } => {
                if variants.iter().any(|v| Some(v.wire.as_str()) == value.as_str()) {
                    Ok(())
                } else {
                    Err(format!("{value} is not one of the enum's values"))
                }
            }
            TypeKind::IntegerEnum { variants } => {
                if variants.iter().any(|v| Some(v.value) == value.as_i64()) {
                    Ok(())
                } else {
                    Err(format!("{value} is not one of the enum's values"))
                }
            }
            TypeKind::Union { variants } => {
                if variants.iter().any(|v| self.value_fits(&v.ty, value).is_ok()) {
                    Ok(())
                } else {
                    Err(format!("{value} matches none of the union's branches"))
                }
            }
            TypeKind::Struct { .. } if value.is_object() => Ok(()),
            TypeKind::Struct { .. } => Err(format!("{value} is not an object")),
        }
    }

    /// The shape of a component: its normalized schema without documentation
    /// keys, with `$ref`s replaced by the shapes they point to.
    fn shape_of_component(&mut self, key: &str, visiting: &mut BTreeSet<String>) -> String {
        if let Some(shape) = self.shape_cache.get(key) {
            return shape.clone();
        }
        if !visiting.insert(key.to_owned()) {
            return format!("cycle:{key}");
        }
        let pointer = pointer::join("/components/schemas", key);
        let raw = self.raw.pointer(&pointer).cloned().unwrap_or(Value::Null);
        let shape = canonical(&self.strip_docs(&raw, visiting));
        visiting.remove(key);
        self.shape_cache.insert(key.to_owned(), shape.clone());
        shape
    }

    fn strip_docs(&mut self, value: &Value, visiting: &mut BTreeSet<String>) -> Value {
        match value {
            Value::Object(map) => {
                let mut out = serde_json::Map::new();
                for (k, v) in map {
                    match k.as_str() {
                        "title" | "description" | "x-fal-examples" | "example" | "x-fal-order-properties" => {}
                        "$ref" => {
                            let target = v.as_str().and_then(component_key).map(str::to_owned);
                            let shape = match target {
                                Some(t) => self.shape_of_component(&t, visiting),
                                None => v.to_string(),
                            };
                            out.insert("$ref".into(), Value::String(shape));
                        }
                        _ => {
                            out.insert(k.clone(), self.strip_docs(v, visiting));
                        }
                    }
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.strip_docs(v, visiting)).collect()),
            other => other.clone(),
        }
    }
}

fn number_fits(c: &Constraints, value: &Value) -> Result<(), String> {
    let Some(v) = value.as_f64() else { return Err(format!("{value} is not a number")) };
    let below = c.minimum.is_some_and(|m| v < m) || c.exclusive_minimum.is_some_and(|m| v <= m);
    let above = c.maximum.is_some_and(|m| v > m) || c.exclusive_maximum.is_some_and(|m| v >= m);
    if below || above {
        return Err(format!("{value} is outside the field's range"));
    }
    if let Some(m) = c.multiple_of {
        let q = v / m;
        if (q - q.round()).abs() > 1e-9 * q.round().abs().max(1.0) {
            return Err(format!("{value} is not a multiple of {m}"));
        }
    }
    Ok(())
}

fn scope_of(target: &Target) -> Scope {
    match target {
        Target::Local => Scope::Local,
        Target::Shared(_) => Scope::Shared,
    }
}

fn branch_ident(ty: &Type) -> String {
    match &ty.kind {
        Kind::Named(name) => name.name.clone(),
        Kind::Boolean => "Boolean".into(),
        Kind::Integer => "Integer".into(),
        Kind::Number => "Number".into(),
        Kind::String => "Text".into(),
        Kind::Array(_) => "List".into(),
        Kind::Map(_) => "Map".into(),
        Kind::Json { .. } => "Other".into(),
    }
}

/// Documentation of a type: its description, else its title.
fn schema_docs(schema: &Schema) -> Option<String> {
    schema.schema_data.description.clone().or_else(|| schema.schema_data.title.clone())
}

fn examples_of(data: &openapiv3::SchemaData) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(Value::Array(list)) = data.extensions.get("x-fal-examples") {
        out.extend(list.iter().cloned());
    }
    if let Some(example) = &data.example {
        out.push(example.clone());
    }
    out
}

/// Deterministic text of a JSON value with sorted keys.
fn canonical(value: &Value) -> String {
    fn sort(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let sorted: BTreeMap<&String, Value> = map.iter().map(|(k, v)| (k, sort(v))).collect();
                Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(value).to_string()
}

fn component_key(reference: &str) -> Option<&str> {
    reference.strip_prefix(COMPONENT_PREFIX).filter(|k| !k.is_empty() && !k.contains('/'))
}

/// The input and output component keys: the submit operation's request body
/// and the result operation's 200 response (protocol.md §1).
fn find_io(source: &Source, doc: &OpenAPI) -> Result<(String, String), GenError> {
    let mut input = None;
    let mut output = None;
    for (path, item) in &doc.paths.paths {
        let ReferenceOr::Item(item) = item else { continue };
        let pointer = pointer::join("/paths", path);
        if let Some(post) = &item.post
            && let Some(ReferenceOr::Item(body)) = &post.request_body
            && let Some(ReferenceOr::Reference { reference }) =
                body.content.get("application/json").and_then(|m| m.schema.as_ref())
        {
            let key = component_key(reference).ok_or_else(|| {
                GenError::new(
                    &source.file,
                    &format!("{pointer}/post/requestBody"),
                    format!("unsupported `$ref` `{reference}`"),
                )
            })?;
            input = Some(key.to_owned());
        }
        if path.ends_with("/requests/{request_id}")
            && let Some(get) = &item.get
            && let Some(ReferenceOr::Item(response)) = get.responses.responses.get(&StatusCode::Code(200))
            && let Some(ReferenceOr::Reference { reference }) =
                response.content.get("application/json").and_then(|m| m.schema.as_ref())
        {
            let key = component_key(reference).ok_or_else(|| {
                GenError::new(
                    &source.file,
                    &format!("{pointer}/get/responses/200"),
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
fn marker_name(input_key: &str, id: &str) -> String {
    match input_key.strip_suffix("Input") {
        Some(stem) if !stem.is_empty() => naming::type_name(stem),
        _ => naming::type_name(&id.split('/').skip(1).collect::<Vec<_>>().join("-")),
    }
}

/// Picks one shared type per distinct shape and renames references to match.
fn merge_shared(endpoints: &mut [Endpoint], bundles: Vec<Vec<Bundle>>) -> Result<Vec<TypeDef>, GenError> {
    // key → shape → (endpoint indexes, bundle)
    let mut groups: BTreeMap<String, Vec<(String, Vec<usize>, Bundle)>> = BTreeMap::new();
    for (index, doc_bundles) in bundles.into_iter().enumerate() {
        for bundle in doc_bundles {
            let shapes = groups.entry(bundle.key.clone()).or_default();
            match shapes.iter_mut().find(|(shape, _, _)| *shape == bundle.shape) {
                Some((_, users, _)) => users.push(index),
                None => shapes.push((bundle.shape.clone(), vec![index], bundle)),
            }
        }
    }
    let mut renames: Vec<HashMap<String, String>> = vec![HashMap::new(); endpoints.len()];
    let mut shared = Vec::new();
    for (key, mut shapes) in groups {
        // Most used first; ties by first user (endpoints are sorted by id).
        shapes.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.1[0].cmp(&b.1[0])));
        let base = naming::type_name(&key);
        for (rank, (_, users, bundle)) in shapes.into_iter().enumerate() {
            let final_name = if rank == 0 { base.clone() } else { format!("{}{base}", bundle.endpoint_key) };
            for def in bundle.defs {
                let renamed = format!("{final_name}{}", def.name.strip_prefix(&base).unwrap_or(&def.name));
                for &user in &users {
                    renames[user].insert(def.name.clone(), renamed.clone());
                }
                shared.push((users.clone(), TypeDef { name: renamed, ..def }));
            }
        }
    }
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (users, mut def) in shared {
        let user = users[0];
        rename_in_def(&mut def, &renames[user]);
        if !seen.insert(def.name.clone()) {
            let endpoint = &endpoints[user];
            return Err(GenError::new(
                &endpoint.source,
                def.pointer.trim_start_matches('#'),
                format!("shared type name `{}` is produced twice; rename one of the components", def.name),
            ));
        }
        out.push(def);
    }
    for (endpoint, map) in endpoints.iter_mut().zip(&renames) {
        for def in &mut endpoint.types {
            rename_in_def(def, map);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn rename_in_def(def: &mut TypeDef, map: &HashMap<String, String>) {
    match &mut def.kind {
        TypeKind::Struct { fields } => fields.iter_mut().for_each(|f| rename_in_type(&mut f.ty, map)),
        TypeKind::Union { variants } => variants.iter_mut().for_each(|v| rename_in_type(&mut v.ty, map)),
        TypeKind::StringEnum { .. } | TypeKind::IntegerEnum { .. } => {}
    }
}

fn rename_in_type(ty: &mut Type, map: &HashMap<String, String>) {
    match &mut ty.kind {
        Kind::Named(name) if name.scope == Scope::Shared => {
            if let Some(new) = map.get(&name.name) {
                name.name.clone_from(new);
            }
        }
        Kind::Array(item) | Kind::Map(item) => rename_in_type(item, map),
        _ => {}
    }
}

/// One view over `openapiv3`'s typed and catch-all schema kinds.
struct Flat<'s> {
    typ: Option<&'s str>,
    enumeration: Vec<Value>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    exclusive_minimum: bool,
    exclusive_maximum: bool,
    multiple_of: Option<f64>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    min_items: Option<usize>,
    max_items: Option<usize>,
    unique_items: bool,
    properties: Option<&'s IndexMap<String, ReferenceOr<Box<Schema>>>>,
    required: &'s [String],
    additional: Option<&'s AdditionalProperties>,
    items: Option<&'s ReferenceOr<Box<Schema>>>,
    all_of: &'s [ReferenceOr<Schema>],
    any_of: &'s [ReferenceOr<Schema>],
    one_of: &'s [ReferenceOr<Schema>],
}

impl Flat<'_> {
    fn is_object(&self) -> bool {
        self.all_of.is_empty()
            && self.any_of.is_empty()
            && self.one_of.is_empty()
            && (self.typ == Some("object") || (self.typ.is_none() && self.properties.is_some_and(|p| !p.is_empty())))
    }

    fn constraints(&self) -> Constraints {
        let (minimum, exclusive_minimum) =
            if self.exclusive_minimum { (None, self.minimum) } else { (self.minimum, None) };
        let (maximum, exclusive_maximum) =
            if self.exclusive_maximum { (None, self.maximum) } else { (self.maximum, None) };
        Constraints {
            minimum,
            maximum,
            exclusive_minimum,
            exclusive_maximum,
            multiple_of: self.multiple_of.filter(|m| *m > 0.0),
            min_length: self.min_length.map(|n| n as u64),
            max_length: self.max_length.map(|n| n as u64),
            min_items: self.min_items.map(|n| n as u64),
            max_items: self.max_items.map(|n| n as u64),
            unique_items: self.unique_items,
        }
    }
}

impl Constraints {
    fn retain_numeric(&mut self) {
        *self = Self {
            min_length: None,
            max_length: None,
            min_items: None,
            max_items: None,
            unique_items: false,
            ..self.clone()
        };
    }
    fn retain_string(&mut self) {
        *self = Self { min_length: self.min_length, max_length: self.max_length, ..Self::default() };
    }
    fn retain_items(&mut self) {
        *self = Self {
            min_items: self.min_items,
            max_items: self.max_items,
            unique_items: self.unique_items,
            ..Self::default()
        };
    }
}

/// `None` for a `not` schema.
fn flat(schema: &Schema) -> Option<Flat<'_>> {
    let empty = Flat {
        typ: None,
        enumeration: Vec::new(),
        minimum: None,
        maximum: None,
        exclusive_minimum: false,
        exclusive_maximum: false,
        multiple_of: None,
        min_length: None,
        max_length: None,
        min_items: None,
        max_items: None,
        unique_items: false,
        properties: None,
        required: &[],
        additional: None,
        items: None,
        all_of: &[],
        any_of: &[],
        one_of: &[],
    };
    Some(match &schema.schema_kind {
        SchemaKind::Type(OaType::String(s)) => Flat {
            typ: Some("string"),
            enumeration: s.enumeration.iter().map(|v| v.clone().map_or(Value::Null, Value::String)).collect(),
            min_length: s.min_length,
            max_length: s.max_length,
            ..empty
        },
        SchemaKind::Type(OaType::Number(n)) => Flat {
            typ: Some("number"),
            enumeration: n.enumeration.iter().map(|v| v.map_or(Value::Null, Value::from)).collect(),
            minimum: n.minimum,
            maximum: n.maximum,
            exclusive_minimum: n.exclusive_minimum,
            exclusive_maximum: n.exclusive_maximum,
            multiple_of: n.multiple_of,
            ..empty
        },
        #[allow(clippy::cast_precision_loss)]
        SchemaKind::Type(OaType::Integer(i)) => Flat {
            typ: Some("integer"),
            enumeration: i.enumeration.iter().map(|v| v.map_or(Value::Null, Value::from)).collect(),
            minimum: i.minimum.map(|v| v as f64),
            maximum: i.maximum.map(|v| v as f64),
            exclusive_minimum: i.exclusive_minimum,
            exclusive_maximum: i.exclusive_maximum,
            multiple_of: i.multiple_of.map(|v| v as f64),
            ..empty
        },
        SchemaKind::Type(OaType::Boolean(_)) => Flat { typ: Some("boolean"), ..empty },
        SchemaKind::Type(OaType::Object(o)) => Flat {
            typ: Some("object"),
            properties: Some(&o.properties),
            required: &o.required,
            additional: o.additional_properties.as_ref(),
            ..empty
        },
        SchemaKind::Type(OaType::Array(a)) => Flat {
            typ: Some("array"),
            items: a.items.as_ref(),
            min_items: a.min_items,
            max_items: a.max_items,
            unique_items: a.unique_items,
            ..empty
        },
        SchemaKind::OneOf { one_of } => Flat { one_of, ..empty },
        SchemaKind::AllOf { all_of } => Flat { all_of, ..empty },
        SchemaKind::AnyOf { any_of } => Flat { any_of, ..empty },
        SchemaKind::Not { .. } => return None,
        SchemaKind::Any(any) => Flat {
            typ: any.typ.as_deref(),
            enumeration: any.enumeration.clone(),
            minimum: any.minimum,
            maximum: any.maximum,
            exclusive_minimum: any.exclusive_minimum.unwrap_or(false),
            exclusive_maximum: any.exclusive_maximum.unwrap_or(false),
            multiple_of: any.multiple_of,
            min_length: any.min_length,
            max_length: any.max_length,
            min_items: any.min_items,
            max_items: any.max_items,
            unique_items: any.unique_items.unwrap_or(false),
            properties: Some(&any.properties).filter(|p| !p.is_empty()),
            required: &any.required,
            additional: any.additional_properties.as_ref(),
            items: any.items.as_ref(),
            all_of: &any.all_of,
            any_of: &any.any_of,
            one_of: &any.one_of,
        },
    })
}
