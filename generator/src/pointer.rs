//! JSON Pointers ([RFC 6901]) into the input documents: the one place that
//! escapes a reference token.
//!
//! Errors, notes and generated docs all name a place in a document by JSON
//! Pointer (`/components/schemas/X/properties/y`). A token containing `~` or
//! `/` (a property named `a/b`) must be escaped, or the pointer names another
//! place. (The runtime has its own copy for the paths of validation
//! violations: the runtime and the generator never depend on each other.)
//!
//! [RFC 6901]: https://www.rfc-editor.org/rfc/rfc6901

/// Escapes one reference token: `~` → `~0`, then `/` → `~1` (RFC 6901 §3;
/// in this order, so `~1` in a key stays `~01` and is not read back as `/`).
///
/// `escape_token("a/b~c")` is `"a~1b~0c"`.
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Appends `token`, escaped, to the pointer `base`: `join("/paths", "/a/b")`
/// is `"/paths/~1a~1b"`. `base` is `""` for the whole document.
pub fn join(base: &str, token: &str) -> String {
    format!("{base}/{}", escape_token(token))
}

#[cfg(test)]
mod tests {
    use super::{escape_token, join};

    #[test]
    fn tokens_are_escaped_tilde_first() {
        assert_eq!(escape_token("plain"), "plain");
        assert_eq!(escape_token("a/b~c"), "a~1b~0c");
        // `~1` in a key is a tilde then `1`, not an escaped slash.
        assert_eq!(escape_token("~1"), "~01");
        assert_eq!(join("", "x"), "/x");
        assert_eq!(join("/paths", "/{id}/status"), "/paths/~1{id}~1status");
    }
}
