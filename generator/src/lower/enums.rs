//! `enum` schemas → string and integer enums.
//!
//! Rules: a string enum reached from an output is open (`Unknown(String)`);
//! repeated values are listed once; `null` in an `enum` is what `nullable`
//! already says; an enum with a value of another type is untyped. Integer
//! variants are named by unit (`Seconds6`, `Fps25`), inferred from the
//! property name and description.

use openapiv3::Schema;
use serde_json::Value;

use super::flat::Flat;
use super::{Ctx, DocLowerer};
use crate::error::GenError;
use crate::ir::{IntegerVariant, Kind, StringVariant, TypeKind};
use crate::naming::{self, IntegerUnit};

impl<'a> DocLowerer<'a> {
    pub(super) fn string_enum(
        &mut self,
        f: &Flat<'a>,
        schema: &Schema,
        pointer: &str,
        ctx: &Ctx,
    ) -> Result<Kind, GenError> {
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

    pub(super) fn integer_enum(
        &mut self,
        f: &Flat<'a>,
        schema: &Schema,
        pointer: &str,
        ctx: &Ctx,
    ) -> Result<Kind, GenError> {
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
}
