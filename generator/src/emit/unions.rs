//! Untagged unions (`anyOf`/`oneOf` of several non-null branches).
//!
//! Rules: sent as the inner value itself; decoded by trying each branch in
//! document order, as serde's `untagged` derive does; `From<T>` for each
//! branch type that only one branch has (two branches of one Rust type would
//! make the conversion ambiguous).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use proc_macro2::TokenStream;
use quote::quote;

use super::docs::{constraint_facts, doc_lines};
use super::serde_impls::serde_impls;
use super::{Emitter, ident};
use crate::ir::{Kind, TypeDef, UnionVariant};

impl Emitter<'_> {
    /// With an OpenAPI `discriminator` (`UnionVariant::tag`): the union's doc
    /// gains a line, and decoding first tries the branch its discriminator
    /// value names (then every branch in order, as without one). Each value
    /// goes to the first branch that claims it.
    fn tag_dispatch(&self, mut doc: String, variants: &[UnionVariant]) -> (String, TokenStream) {
        let Some(property) = variants.iter().find_map(|v| v.tag.as_ref()).map(|t| t.property.clone()) else {
            return (doc, quote!());
        };
        let mut claimed = BTreeSet::new();
        let mut arms = Vec::new();
        for v in variants {
            let values: Vec<&String> = v
                .tag
                .iter()
                .filter(|t| t.property == property)
                .flat_map(|t| &t.values)
                .filter(|value| claimed.insert((*value).clone()))
                .collect();
            if values.is_empty() {
                continue;
            }
            let (vid, ty) = (ident(&v.ident), self.rust_type(&v.ty));
            arms.push(quote! {
                Some(#(#values)|*) => {
                    if let Ok(inner) = crate::serde_helpers::integral::<#ty, _>(&value) {
                        return Ok(Self::#vid(inner));
                    }
                }
            });
        }
        let _ = write!(doc, "\n\nDecoded by its `{property}` property first (OpenAPI `discriminator`).");
        let dispatch = quote! {
            match value.get(#property).and_then(serde_json::Value::as_str) {
                #(#arms)*
                _ => {}
            }
        };
        (doc, dispatch)
    }

    /// The enum, its `Deserialize`, its `From` impls and its `Validate`.
    pub(super) fn union_def(&self, def: &TypeDef, doc: &str, variants: &[UnionVariant]) -> TokenStream {
        let name = ident(&def.name);
        let doc = format!("{doc}\n\nOne of several shapes (JSON Schema `anyOf`), sent as the inner value itself.");
        let mut items = Vec::new();
        let mut arms = Vec::new();
        let mut froms = Vec::new();
        // `Deserialize`: each variant in order on the buffered value, as
        // serde's `untagged` derive does, without its per-type expansion.
        let mut attempts = Vec::new();
        let mut seen_types = BTreeSet::new();
        let duplicate_types = self.duplicate_types(variants);
        for v in variants {
            let vid = ident(&v.ident);
            let ty = self.rust_type(&v.ty);
            let vdoc = self.variant_doc(v, &ty);
            items.push(quote! {
                #[doc = #vdoc]
                #vid(#ty),
            });
            attempts.push(quote! {
                if let Ok(inner) = crate::serde_helpers::integral::<#ty, _>(&value) {
                    return Ok(Self::#vid(inner));
                }
            });
            if self.is_validated(&v.ty) {
                let stmt = self.check_stmt(&v.ty, quote!(value), quote!(path));
                arms.push(quote!(Self::#vid(value) => { #stmt }));
            }
            let key = ty.to_string();
            if !duplicate_types.contains(&key) && seen_types.insert(key) {
                froms.push(quote! {
                    impl From<#ty> for #name {
                        fn from(value: #ty) -> Self {
                            Self::#vid(value)
                        }
                    }
                });
            }
        }
        // Rule: an input checked as JSON Schema checks that instead (`INPUT_SCHEMA`, `modules`), as structs do.
        let body = if self.checks_input_schema(def) {
            quote!(INPUT_SCHEMA.check(path, self, out);)
        } else if arms.is_empty() {
            quote!(let _ = (path, out);)
        } else {
            quote! {
                #[allow(unreachable_patterns)]
                match self {
                    #(#arms)*
                    _ => {}
                }
            }
        };
        let (doc, by_tag) = self.tag_dispatch(doc, variants);
        let doc = doc_lines(&doc);
        let no_match = format!("data did not match any variant of untagged enum {}", def.name);
        let deserialize = serde_impls(
            &name,
            None,
            quote! {
                let value = serde_json::Value::deserialize(deserializer)?;
                #by_tag
                #(#attempts)*
                Err(serde::de::Error::custom(#no_match))
            },
        );
        quote! {
            #(#[doc = #doc])*
            #[derive(Debug, Clone, PartialEq, Serialize)]
            #[serde(untagged)]
            #[non_exhaustive]
            pub enum #name {
                #(#items)*
            }

            #deserialize

            #(#froms)*

            impl Validate for #name {
                fn collect_violations(&self, path: &str, out: &mut Vec<Violation>) {
                    #body
                }
            }
        }
    }

    /// The Rust types (as token text) that more than one branch has.
    fn duplicate_types(&self, variants: &[UnionVariant]) -> BTreeSet<String> {
        let mut all = BTreeSet::new();
        let mut dup = BTreeSet::new();
        for v in variants {
            let key = self.rust_type(&v.ty).to_string();
            if !all.insert(key.clone()) {
                dup.insert(key);
            }
        }
        dup
    }

    /// A branch's doc: `Preset`/`Custom` (the `anyOf [ImageSize, preset enum]`
    /// pair) and named types link to their type; other branches state their
    /// Rust type and constraints.
    fn variant_doc(&self, v: &UnionVariant, ty: &TokenStream) -> String {
        match &v.ty.kind {
            Kind::Named(n) if v.ident == "Preset" => format!(" A named preset ({}).", self.link(n)),
            Kind::Named(n) if v.ident == "Custom" => format!(" A custom value ({}).", self.link(n)),
            Kind::Named(n) => format!(" A {}.", self.link(n)),
            _ => {
                let facts = constraint_facts(&v.ty);
                if facts.is_empty() {
                    format!(" A `{ty}` value.")
                } else {
                    format!(" A `{ty}` value: {}", facts.join(" "))
                }
            }
        }
    }
}
