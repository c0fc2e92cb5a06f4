//! The hand-written `Serialize`/`Deserialize` impl skeletons of generated types.
//!
//! Rule: `Deserialize` is never derived. The derive's expansion is dozens of
//! lines per type; the runtime's helpers (`crate::serde_helpers`) do the same
//! work in a few lines per type, and the generated crate compiles faster.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The hand-written serde impls of generated type `name`: `Deserialize` with
/// `deserialize` as the body of `deserialize(deserializer)`, and `Serialize`
/// with `serialize` as the body of `serialize(&self, serializer)` when given
/// (otherwise the type derives it).
pub(super) fn serde_impls(name: &Ident, serialize: Option<TokenStream>, deserialize: TokenStream) -> TokenStream {
    let serialize = serialize.map(|body| {
        quote! {
            impl Serialize for #name {
                fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    #body
                }
            }
        }
    });
    quote! {
        #serialize

        impl<'de> Deserialize<'de> for #name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #deserialize
            }
        }
    }
}
