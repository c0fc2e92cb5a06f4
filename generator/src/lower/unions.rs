//! `anyOf`/`oneOf` of several non-null branches → untagged unions.
//!
//! Rule: `anyOf [ImageSize, preset enum]` is `Custom(ImageSize)` /
//! `Preset(…Preset)`; other branches are named after their type
//! (`ImageSize`, `Integer`, `Text`, `List`, …), repeats numbered.

use openapiv3::{ReferenceOr, Schema};

use super::{Ctx, DocLowerer, schema_docs, scope_of};
use crate::error::GenError;
use crate::ir::{Kind, Scope, Tag, Type, TypeDef, TypeKind, TypeName, UnionVariant};
use crate::naming;

impl<'a> DocLowerer<'a> {
    pub(super) fn lower_union(
        &mut self,
        branches: &'a [ReferenceOr<Schema>],
        pointer: &str,
        schema: &Schema,
        ctx: &Ctx,
    ) -> Result<Type, GenError> {
        let union_name = self.pick_name(ctx, None);
        let mut lowered = Vec::new();
        for (i, branch) in branches.iter().enumerate() {
            // An inline enum branch is named `<Union><Property>Preset`.
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
        let tags = branches.iter().map(|b| discriminator_tag(schema, b)).collect::<Vec<_>>();
        let variants = idents
            .into_iter()
            .zip(lowered)
            .zip(tags)
            .map(|((ident, ty), tag)| UnionVariant { ident, ty, tag })
            .collect();
        let def = TypeDef {
            name: union_name.clone(),
            docs: schema_docs(schema),
            pointer: format!("#{pointer}"),
            kind: TypeKind::Union { variants },
        };
        self.replace_def(&ctx.target, def);
        Ok(Type::plain(Kind::Named(TypeName { scope: scope_of(&ctx.target), name: union_name })))
    }

    /// Whether a named type lowered so far is a string or integer enum.
    fn is_enum(&self, name: &TypeName) -> bool {
        let defs: Box<dyn Iterator<Item = &TypeDef>> = match name.scope {
            Scope::Local => Box::new(self.local.iter()),
            Scope::Shared => Box::new(self.shared_defs.values().flatten()),
        };
        defs.filter(|d| d.name == name.name)
            .any(|d| matches!(d.kind, TypeKind::StringEnum { .. } | TypeKind::IntegerEnum { .. }))
    }
}

/// Rule: with an OpenAPI `discriminator`, a branch is named by the `mapping`
/// keys whose value is its `$ref` (or its component key), else by its
/// component key, else (inline) by the `const` or one-value `enum` of its
/// discriminator property. JSON Schema validation ignores the keyword (an
/// annotation); decoding uses it to pick the branch.
fn discriminator_tag(union: &Schema, branch: &ReferenceOr<Schema>) -> Option<Tag> {
    let discriminator = union.schema_data.discriminator.as_ref()?;
    let property = discriminator.property_name.clone();
    let values: Vec<String> = match branch {
        ReferenceOr::Reference { reference } => {
            let key = super::component_key(reference).unwrap_or(reference);
            let mapped: Vec<String> = discriminator
                .mapping
                .iter()
                .filter(|(_, target)| *target == reference || *target == key)
                .map(|(value, _)| value.clone())
                .collect();
            if mapped.is_empty() { vec![key.to_owned()] } else { mapped }
        }
        ReferenceOr::Item(schema) => {
            let f = super::flat::flat(schema)?;
            let prop = f.properties?.get(&property)?;
            let ReferenceOr::Item(prop) = prop else { return None };
            let values = super::flat::flat(prop)?.enumeration;
            match values.as_slice() {
                [serde_json::Value::String(value)] => vec![value.clone()],
                _ => return None,
            }
        }
    };
    Some(Tag { property, values })
}

/// A union branch's variant name, from its type.
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
