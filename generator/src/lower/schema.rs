//! One schema → a type expression ([`Type`]): references, compositions,
//! primitive types with their constraints, arrays, maps and inline objects.

use openapiv3::{AdditionalProperties, ReferenceOr, Schema};

use super::flat::flat;
use super::{Ctx, DocLowerer, component_key};
use crate::error::GenError;
use crate::ir::{Constraints, Kind, Scope, Type, TypeName};
use crate::naming;

impl<'a> DocLowerer<'a> {
    /// A `$ref` to a component: the input or output (local), else a shared
    /// type, queued for lowering the first time it is seen.
    pub(super) fn lower_ref(&mut self, reference: &str, pointer: &str) -> Result<Type, GenError> {
        // Rule: a `$ref` to a place inside this document other than a component (`$defs`, a property of a
        // component, an anchor) is untyped; the input is checked as JSON Schema, which resolves it
        // (`keywords`). A reference to another document is refused: nothing here could resolve it.
        if component_key(reference).is_none() && reference.starts_with('#') {
            return Ok(self.untyped(pointer, format!("`$ref` to `{reference}`, which is not a component")));
        }
        // Rule: a `$ref` to another resource (`item.json`, `urn:…`, a URL) is untyped and left to the JSON
        // Schema check, which resolves it through the `$id`s of the document; `lower_endpoint` refuses the
        // document when the check cannot (a resource elsewhere: nothing here fetches one).
        if !reference.starts_with('#') {
            self.uri_refs.push((pointer.to_owned(), reference.to_owned()));
            return Ok(self.untyped(
                pointer,
                format!("`$ref` to `{reference}`, resolved through `$id` by the JSON Schema check"),
            ));
        }
        let key = component_key(reference).ok_or_else(|| self.unsupported_ref(reference, pointer))?.to_owned();
        // Resolve aliases (`A: {$ref: B}`) and check the target exists: a
        // dangling reference (fal publishes a few) becomes an untyped field.
        if self.component(&key, pointer).is_err() {
            return Ok(self.untyped(pointer, format!("`$ref` to `{reference}`, which the document does not define")));
        }
        let key = self.resolve_alias(&key);
        // Rule: types are named by component key, never by `title`.
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

    /// Whether a schema accepts `null` as far as the types go: `nullable: true`
    /// (what `normalize` makes of `anyOf [X, {type: null}]` and `type: [X,
    /// "null"]`), `null` among its `enum` values, a union with a branch that
    /// accepts it, or a `$ref` to a component that does. Only a property can
    /// hold `null` typed (`Option<T>`); elsewhere (array items, map values)
    /// such a schema is untyped, and the input is checked as JSON Schema
    /// (`keywords` notes `nullable` there).
    pub(super) fn accepts_null<S: std::borrow::Borrow<Schema>>(&self, schema: &ReferenceOr<S>) -> bool {
        self.accepts_null_within(schema, 16)
    }

    fn accepts_null_within<S: std::borrow::Borrow<Schema>>(&self, schema: &ReferenceOr<S>, depth: usize) -> bool {
        let schema = match schema {
            ReferenceOr::Item(schema) => schema.borrow(),
            ReferenceOr::Reference { reference } => {
                match component_key(reference).and_then(|key| self.component(key, "").ok()) {
                    Some(target) if depth > 0 => {
                        return self.accepts_null_within(&ReferenceOr::Item(target), depth - 1);
                    }
                    _ => return false,
                }
            }
        };
        if schema.schema_data.nullable {
            return true;
        }
        let Some(f) = flat(schema) else { return false };
        f.enumeration.contains(&serde_json::Value::Null)
            || (depth > 0
                && (f.any_of.iter().chain(f.one_of).any(|b| self.accepts_null_within(b, depth - 1))
                    || matches!(f.all_of, [single] if self.accepts_null_within(single, depth - 1))))
    }

    /// The component key at the end of a chain of aliases (`A: {$ref: B}`).
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

    pub(super) fn lower_schema(
        &mut self,
        schema: &'a ReferenceOr<Schema>,
        pointer: &str,
        ctx: &Ctx,
    ) -> Result<Type, GenError> {
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

    /// A schema object (not a reference).
    pub(super) fn lower_schema_item(&mut self, schema: &'a Schema, pointer: &str, ctx: &Ctx) -> Result<Type, GenError> {
        let Some(f) = flat(schema) else {
            return Ok(self.untyped(pointer, "`not` schemas are not supported"));
        };
        // Rule: a single-`$ref` `allOf` (what `normalize` makes of a `$ref`
        // with siblings) is the referenced type; the outer description stays
        // on the field.
        if !f.all_of.is_empty() {
            return match f.all_of {
                [single] => self.lower_schema(single, &format!("{pointer}/allOf/0"), ctx),
                _ => Ok(self.untyped(pointer, format!("`allOf` of {} schemas is not supported", f.all_of.len()))),
            };
        }
        // Rule: a one-branch `anyOf`/`oneOf` (`anyOf [X, null]` after
        // `normalize`) is its branch; several branches are a union.
        let (union, union_key) = if f.any_of.is_empty() { (f.one_of, "oneOf") } else { (f.any_of, "anyOf") };
        if !union.is_empty() {
            return match union {
                [single] => self.lower_schema(single, &format!("{pointer}/{union_key}/0"), ctx),
                _ => self.lower_union(union, &format!("{pointer}/{union_key}"), schema, ctx),
            };
        }
        // Each type keeps the constraints that apply to it; enums and structs none.
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
                    // `items` beside `prefixItems` applies past the prefix only: the prefix's items may be
                    // anything `prefixItems` says (checked as JSON Schema).
                    Some(_) if schema.schema_data.extensions.contains_key("x-fal-prefix-items") => {
                        self.untyped(&format!("{pointer}/items"), "`items` beside `prefixItems`")
                    }
                    Some(items) if self.accepts_null(items) => {
                        self.untyped(&format!("{pointer}/items"), "array items that may be `null`")
                    }
                    Some(items) => self.lower_boxed(items, &format!("{pointer}/items"), &item_ctx)?,
                    None => Type::plain(Kind::Json { reason: None }),
                };
                Kind::Array(Box::new(item))
            }
            // Rule: `properties` without `type: object` lets non-objects through; untyped, the input is
            // checked as JSON Schema (`keywords` notes `properties` there).
            None if f.properties.is_some_and(|p| !p.is_empty()) => {
                return Ok(
                    self.untyped(pointer, "`properties` without `type: object`, which a non-object also satisfies")
                );
            }
            Some("object") if f.properties.is_some_and(|p| !p.is_empty()) => {
                constraints = Constraints::default();
                self.inline_struct(schema, &f, pointer, ctx)?
            }
            Some("object") => match f.additional {
                Some(AdditionalProperties::Schema(value)) if self.accepts_null(value) => Kind::Map(Box::new(
                    self.untyped(&format!("{pointer}/additionalProperties"), "map values that may be `null`"),
                )),
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
            // Rule: what cannot be typed is `serde_json::Value`, with the reason.
            None if !f.enumeration.is_empty() => {
                return Ok(self.untyped(pointer, "an `enum` without a `type`"));
            }
            None => Kind::Json { reason: None },
            Some(other) => return Ok(self.untyped(pointer, format!("unknown `type` `{other}`"))),
        };
        Ok(Type { kind, constraints })
    }
}
