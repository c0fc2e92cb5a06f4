//! Schema defaults: a `DEFAULT_*` constant and an `*_or_default()` accessor
//! per default that has a const form, and `schema_defaults()`, the list the
//! test suite compares with the schemas.
//!
//! Rule: a default with no const form for its type (an object, a non-empty
//! array, a union without a matching enum branch) is documented on the field
//! and reported as a note, never dropped silently.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use super::docs::doc_lines;
use super::{Emitter, ident};
use crate::error::Note;
use crate::ir::{Field, Kind, Scope, TypeDef, TypeKind, TypeName};
use crate::{naming, pointer};

/// How a field's default is exposed.
pub(super) enum DefaultConst {
    /// `pub const DEFAULT_X: T = expr;` plus an `x_or_default()` accessor returning `ret`.
    Const { ty: TokenStream, expr: TokenStream, accessor: TokenStream, ret: TokenStream },
    /// Documented only.
    DocOnly,
}

impl Emitter<'_> {
    /// How the default of `field` (of struct `def`) is exposed; a default with
    /// no const form is noted in `notes`.
    pub(super) fn default_const(&self, def: &TypeDef, field: &Field, notes: &mut Vec<Note>) -> DefaultConst {
        let Some(value) = &field.default else { return DefaultConst::DocOnly };
        let fid = ident(&field.ident);
        let ty = &field.ty;
        let base = self.rust_type(ty);
        let const_name = format_ident!("DEFAULT_{}", naming::constant(&field.wire));
        // `Copy` values are returned as they are, others cloned; strings and
        // slices are borrowed (`&str`, `&[T]`).
        let unwrap = if self.is_copy(ty) {
            quote!(self.#fid.unwrap_or(Self::#const_name))
        } else {
            quote!(self.#fid.clone().unwrap_or(Self::#const_name))
        };
        let borrow = quote!(self.#fid.as_deref().unwrap_or(Self::#const_name));
        let result = match (&ty.kind, value) {
            (Kind::Boolean, Value::Bool(b)) => Some((quote!(bool), quote!(#b), unwrap, quote!(bool))),
            (Kind::Integer, Value::Number(n)) => n.as_i64().map(|i| {
                let expr = if ty.is_any_size_integer() { quote!(crate::Integer::new(#i)) } else { quote!(#i) };
                (base.clone(), expr, unwrap, base.clone())
            }),
            (Kind::Number, Value::Number(n)) => n.as_f64().map(|f| {
                let lit = Literal::f64_unsuffixed(f);
                (quote!(f64), quote!(#lit), unwrap, quote!(f64))
            }),
            (Kind::String, Value::String(s)) => Some((quote!(&'static str), quote!(#s), borrow, quote!(&str))),
            // Only the empty array has a const form (`&[]`).
            (Kind::Array(item), Value::Array(items)) if items.is_empty() => {
                let item_ty = self.rust_type(item);
                Some((quote!(&'static [#item_ty]), quote!(&[]), borrow, quote!(&[#item_ty])))
            }
            (Kind::Named(name), _) => {
                self.named_const(name, value).map(|expr| (base.clone(), expr, unwrap, base.clone()))
            }
            _ => None,
        };
        match result {
            Some((ty, expr, accessor, ret)) => DefaultConst::Const { ty, expr, accessor, ret },
            None => {
                notes.push(Note {
                    file: self.endpoint.map_or_else(|| "types".to_owned(), |e| e.source.clone()),
                    pointer: format!(
                        "{}/properties/{}",
                        def.pointer.trim_start_matches('#'),
                        pointer::escape_token(&field.wire)
                    ),
                    message: format!("default {value} is documented but has no constant (no const form for this type)"),
                });
                DefaultConst::DocOnly
            }
        }
    }

    /// A const expression of named type `name` for a default value: an enum's
    /// variant, or a union's variant wrapping one.
    fn named_const(&self, name: &TypeName, value: &Value) -> Option<TokenStream> {
        let def = self.lookup(name)?;
        let path = self.type_path(name);
        match &def.kind {
            TypeKind::StringEnum { variants, .. } => {
                let v = variants.iter().find(|v| Some(v.wire.as_str()) == value.as_str())?;
                let variant = ident(&v.ident);
                Some(quote!(#path::#variant))
            }
            TypeKind::IntegerEnum { variants } => {
                let v = variants.iter().find(|v| Some(v.value) == value.as_i64())?;
                let variant = ident(&v.ident);
                Some(quote!(#path::#variant))
            }
            TypeKind::Union { variants } => variants.iter().find_map(|v| {
                let Kind::Named(inner) = &v.ty.kind else { return None };
                let expr = self.named_const(inner, value)?;
                let variant = ident(&v.ident);
                Some(quote!(#path::#variant(#expr)))
            }),
            TypeKind::Struct { .. } => None,
        }
    }

    /// `schema_defaults()`: every emitted default constant with the JSON
    /// Pointer of its property in the document.
    pub(super) fn defaults_fn(&self, defs: Vec<(&TypeDef, Scope)>, doc: &str) -> TokenStream {
        let mut entries = Vec::new();
        for (def, scope) in defs {
            let TypeKind::Struct { fields } = &def.kind else { continue };
            let ty = self.type_path(&TypeName { scope, name: def.name.clone() });
            for field in fields {
                if field.default.is_none()
                    || !matches!(self.default_const(def, field, &mut Vec::new()), DefaultConst::Const { .. })
                {
                    continue;
                }
                let const_name = format_ident!("DEFAULT_{}", naming::constant(&field.wire));
                let property = format!("{}/properties/{}", def.pointer, pointer::escape_token(&field.wire));
                entries.push(
                    quote!((#property, serde_json::to_value(#ty::#const_name).unwrap_or(serde_json::Value::Null))),
                );
            }
        }
        let doc = format!(
            "{doc}: `(JSON Pointer of the property in the document, value of the generated constant)`.\n\nUsed by the test suite to prove every constant equals the schema."
        );
        let doc = doc_lines(&doc);
        quote! {
            #(#[doc = #doc])*
            #[doc(hidden)]
            pub fn schema_defaults() -> Vec<(&'static str, serde_json::Value)> {
                vec![#(#entries),*]
            }
        }
    }
}

/// The constant and accessor of a field's default, in its struct's `impl`
/// (`None` for a default that is only documented).
pub(super) fn default_items(field: &Field, default: &DefaultConst) -> Option<TokenStream> {
    let DefaultConst::Const { ty, expr, accessor, ret } = default else { return None };
    let const_name = format_ident!("DEFAULT_{}", naming::constant(&field.wire));
    let const_doc = format!(
        " The schema's default for [`{0}`](Self::{0}): `{1}`.",
        field.ident,
        field.default.as_ref().map(Value::to_string).unwrap_or_default()
    );
    let accessor_name = format_ident!("{}_or_default", field.ident.trim_end_matches('_'));
    let accessor_doc =
        format!(" [`{0}`](Self::{0}), or [`Self::{1}`] when unset (what fal uses then).", field.ident, const_name);
    Some(quote! {
        #[doc = #const_doc]
        pub const #const_name: #ty = #expr;
        #[doc = #accessor_doc]
        pub fn #accessor_name(&self) -> #ret {
            #accessor
        }
    })
}
