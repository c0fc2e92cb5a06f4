//! Object schemas → structs: components (input, output, shared) and inline
//! objects, and their fields.

use indexmap::IndexMap;
use openapiv3::{ReferenceOr, Schema};
use serde_json::Value;

use super::flat::{Flat, flat};
use super::{Ctx, DocLowerer, Target, schema_docs, scope_of};
use crate::error::GenError;
use crate::ir::{Field, Kind, TypeDef, TypeKind, TypeName, UnionVariant};
use crate::{naming, pointer};

impl<'a> DocLowerer<'a> {
    /// Lowers a component (input, output or shared) as a named type.
    pub(super) fn lower_component_struct(
        &mut self,
        key: &str,
        name: &str,
        target: Target,
        output: bool,
    ) -> Result<(), GenError> {
        let at = pointer::join("/components/schemas", key);
        let schema = match self.component(key, &at) {
            Ok(schema) => schema,
            Err(error) if target == Target::Local => {
                // The input or output itself is a dangling reference: keep the
                // endpoint, with an untyped body.
                let ty = self.untyped(&at, error.message);
                let kind =
                    TypeKind::Union { variants: vec![UnionVariant { ident: "Value".to_owned(), ty, tag: None }] };
                self.push_def(&target, TypeDef { name: name.to_owned(), docs: None, pointer: format!("#{at}"), kind });
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
                let fields = self.lower_fields(schema, &f, &at, name, &ctx)?;
                let def = TypeDef {
                    name: name.to_owned(),
                    docs: schema_docs(schema),
                    pointer: format!("#{at}"),
                    kind: TypeKind::Struct { fields },
                };
                self.replace_def(&target, def);
            }
            _ => {
                // An enum or union component becomes that named type; anything
                // else is wrapped in a one-branch untagged union named after it.
                // An input or output that may be `null` itself (no property holds it, so no `Option`) is
                // untyped.
                let ty = if target == Target::Local && self.accepts_null(&ReferenceOr::Item(schema)) {
                    self.untyped(&at, "a body that may be `null`")
                } else {
                    self.lower_schema_item(schema, &at, &ctx)?
                };
                if !matches!(&ty.kind, Kind::Named(n) if n.name == name) {
                    let def = TypeDef {
                        name: name.to_owned(),
                        docs: schema_docs(schema),
                        pointer: format!("#{at}"),
                        kind: TypeKind::Union {
                            variants: vec![UnionVariant { ident: "Value".to_owned(), ty, tag: None }],
                        },
                    };
                    self.push_def(&target, def);
                }
            }
        }
        Ok(())
    }

    /// An inline object with properties: a struct named after its property.
    pub(super) fn inline_struct(
        &mut self,
        schema: &'a Schema,
        f: &Flat<'a>,
        pointer: &str,
        ctx: &Ctx,
    ) -> Result<Kind, GenError> {
        // Name first, so nested inline types can use it as their parent: `pick_name` reserves it with a
        // placeholder, which `replace_def` below replaces (a second placeholder here stayed behind as a
        // second, empty type of the same name: "defined multiple times").
        let name = self.pick_name(ctx, None);
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

    /// The fields of an object schema, in order, with unique Rust names.
    fn lower_fields(
        &mut self,
        schema: &'a Schema,
        f: &Flat<'a>,
        pointer: &str,
        parent: &str,
        ctx: &Ctx,
    ) -> Result<Vec<Field>, GenError> {
        let Some(props) = f.properties else { return Ok(Vec::new()) };
        let mut fields = Vec::new();
        for wire in property_order(schema, props) {
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
            // Rule: a property that accepts `null` is `Option<X>`: `anyOf [X, null]` (made `nullable: true`
            // by `normalize`), a branch or a component that accepts it (a `$ref` to a nullable component
            // makes the field nullable, as the schema inline would).
            let nullable = self.accepts_null(prop);
            let mut field = Field {
                wire: wire.to_owned(),
                ident: naming::snake(wire),
                ty,
                required,
                nullable,
                default: None,
                rejected_default: None,
                // Rule: the description, else the title, is the docs; the
                // title never names a type.
                docs: data.and_then(|d| d.description.clone().or_else(|| d.title.clone())),
                examples: data.map(examples_of).unwrap_or_default(),
            };
            // Rule: a default is checked against the field's type and constraints.
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
}

/// An object schema's `properties`.
type Properties = IndexMap<String, ReferenceOr<Box<Schema>>>;

/// Rule: fields follow `x-fal-order-properties` (the order of fal's
/// playground form), then document order for the properties it leaves out.
fn property_order<'p>(schema: &'p Schema, props: &'p Properties) -> Vec<&'p str> {
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
    order
}

/// A property's examples: fal's `examples` (kept as `x-fal-examples` by
/// `normalize`), then the OpenAPI `example`.
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
