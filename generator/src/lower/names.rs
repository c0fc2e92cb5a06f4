//! Where lowered types go and what they are called.
//!
//! Rule: inline types are named after their property (`Duration`) in an
//! endpoint's module, `<Parent><Property>` in the shared module, and
//! `<Parent><Property>` (then a numeric suffix) when that name is taken by a
//! different shape; an identical inline type of the same name is reused.

use openapiv3::Schema;

use super::{Ctx, DocLowerer, Target, schema_docs, scope_of};
use crate::ir::{TypeDef, TypeKind, TypeName};

impl DocLowerer<'_> {
    /// Adds an inline type, reusing an identical one of the same name.
    pub(super) fn add_inline(&mut self, kind: TypeKind, schema: &Schema, pointer: &str, ctx: &Ctx) -> TypeName {
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
            // The marker, input and output names are never reused.
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
    pub(super) fn pick_name(&mut self, ctx: &Ctx, base: Option<String>) -> String {
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

    /// The types lowered so far into `target`.
    pub(super) fn defs(&self, target: &Target) -> &[TypeDef] {
        match target {
            Target::Local => &self.local,
            Target::Shared(key) => self.shared_defs.get(key).map_or(&[], Vec::as_slice),
        }
    }

    pub(super) fn push_def(&mut self, target: &Target, def: TypeDef) {
        match target {
            Target::Local => self.local.push(def),
            Target::Shared(key) => self.shared_defs.entry(key.clone()).or_default().push(def),
        }
    }

    /// Replaces the type of the same name (a placeholder), else adds it.
    pub(super) fn replace_def(&mut self, target: &Target, def: TypeDef) {
        let defs = match target {
            Target::Local => &mut self.local,
            Target::Shared(key) => self.shared_defs.entry(key.clone()).or_default(),
        };
        match defs.iter_mut().find(|d| d.name == def.name) {
            Some(slot) => *slot = def,
            None => defs.push(def),
        }
    }
}
