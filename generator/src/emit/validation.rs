//! The statements of `Validate::collect_violations`: one runtime check per
//! constraint the schema states (`crate::validation::check`), recursing into
//! items, map values and nested types.
//!
//! Rule: only what the schema constrains is checked; a module whose types have
//! no constraint never imports `check`.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::Emitter;
use crate::ir::{Constraints, Kind, Type};

impl Emitter<'_> {
    /// A statement checking `value` (a reference to a value of type `ty`) at `path` (a `&str` expression).
    pub(super) fn check_stmt(&self, ty: &Type, value: TokenStream, path: TokenStream) -> TokenStream {
        let c = &ty.constraints;
        let mut stmts = Vec::new();
        match &ty.kind {
            // Numbers: every bound in one call (`check::Bounds`).
            Kind::Integer | Kind::Number if c.has_numeric() => {
                let bounds = bounds_expr(c);
                let func = match ty.kind {
                    Kind::Integer if ty.is_any_size_integer() => quote!(check::any_integer),
                    Kind::Integer => quote!(check::integer),
                    _ => quote!(check::number),
                };
                stmts.push(quote!(#func(#path, *#value, &#bounds, out);));
            }
            Kind::String if c.min_length.is_some() || c.max_length.is_some() => {
                let (min, max) = (opt_u64(c.min_length), opt_u64(c.max_length));
                stmts.push(quote!(check::string(#path, #value, #min, #max, out);));
            }
            // Arrays: the item count, uniqueness, then each item at `<path>/<index>`.
            Kind::Array(item) => {
                if c.min_items.is_some() || c.max_items.is_some() {
                    let (min, max) = (opt_u64(c.min_items), opt_u64(c.max_items));
                    stmts.push(quote!(check::items(#path, #value.len(), #min, #max, out);));
                }
                if c.unique_items {
                    stmts.push(quote!(check::unique_items(#path, #value, out);));
                }
                if self.is_validated(item) {
                    let inner = self.check_stmt(item, quote!(item), quote!(&item_path));
                    stmts.push(quote! {
                        for (index, item) in #value.iter().enumerate() {
                            let item_path = check::item(#path, index);
                            #inner
                        }
                    });
                }
            }
            // Maps: each value at `<path>/<key>`.
            Kind::Map(item) if self.is_validated(item) => {
                let inner = self.check_stmt(item, quote!(item), quote!(&item_path));
                stmts.push(quote! {
                    for (key, item) in #value {
                        let item_path = check::child(#path, key);
                        #inner
                    }
                });
            }
            // Structs and unions validate themselves.
            Kind::Named(_) if self.is_validated(ty) => {
                stmts.push(quote!(check::nested(#path, #value, out);));
            }
            _ => {}
        }
        quote!(#(#stmts)*)
    }
}

/// A `check::Bounds { .. }` literal of the numeric constraints.
fn bounds_expr(c: &Constraints) -> TokenStream {
    let f = |v: Option<f64>| match v {
        Some(v) => {
            let lit = Literal::f64_unsuffixed(v);
            quote!(Some(#lit))
        }
        None => quote!(None),
    };
    let (min, max, xmin, xmax, mult) =
        (f(c.minimum), f(c.maximum), f(c.exclusive_minimum), f(c.exclusive_maximum), f(c.multiple_of));
    quote! {
        check::Bounds {
            minimum: #min,
            maximum: #max,
            exclusive_minimum: #xmin,
            exclusive_maximum: #xmax,
            multiple_of: #mult,
        }
    }
}

fn opt_u64(v: Option<u64>) -> TokenStream {
    match v {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    }
}
