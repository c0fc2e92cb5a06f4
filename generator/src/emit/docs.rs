//! Doc comments: what a type or field is, its role, its constraints, default,
//! example and the JSON Pointer of its schema, in Markdown that rustdoc
//! renders as the schema wrote it.

use std::fmt::Write as _;

use super::Emitter;
use super::defaults::DefaultConst;
use crate::ir::{Field, Kind, Type, TypeDef};
use crate::{naming, pointer};

/// One `#[doc]` line per line of `text`, so prettyplease prints `///` comments.
pub(super) fn doc_lines(text: &str) -> Vec<String> {
    text.lines().map(|line| if line.is_empty() { String::new() } else { format!(" {line}") }).collect()
}

impl Emitter<'_> {
    /// A type's doc: its role (the endpoint's input or output), the schema's
    /// description (else its title, else the name), and where its schema is.
    pub(super) fn type_doc(&self, def: &TypeDef) -> String {
        let role = self.endpoint.and_then(|e| {
            if def.name == e.input {
                Some(format!("The input (request body) of `{}`.", e.id))
            } else if def.name == e.output {
                Some(format!("The output (result) of `{}`.", e.id))
            } else {
                None
            }
        });
        let described = def.docs.as_deref().map(doc_text);
        let mut doc = match (role, described) {
            (Some(role), Some(text)) => format!("{role}\n\n{text}"),
            (Some(role), None) => role,
            (None, Some(text)) => text,
            (None, None) => format!("`{}`.", def.name),
        };
        // A placeholder of the lowering has no pointer; every real type names its schema.
        if !def.pointer.is_empty() {
            let _ = write!(doc, "\n\nSchema: `{}` in {}.", def.pointer, self.source_text());
        }
        doc
    }

    /// The schema file in an endpoint module; the shared module names no
    /// single file ("the schemas that use it").
    fn source_text(&self) -> String {
        if self.endpoint.is_some() { format!("`{}`", self.source) } else { self.source.to_owned() }
    }

    /// A field's doc: the description, then one bullet per fact (required or
    /// not, default, rejected default, constraints, example, JSON key, why it
    /// is untyped, the schema's JSON Pointer).
    pub(super) fn field_doc(&self, def: &TypeDef, field: &Field, default: &DefaultConst) -> String {
        let mut doc = field.docs.as_deref().map(doc_text).unwrap_or_else(|| format!("`{}`.", field.wire));
        let mut facts = Vec::new();
        facts.push(if field.required && !field.nullable {
            "Required.".to_owned()
        } else if field.required {
            "Required, may be `null` (`None`).".to_owned()
        } else {
            "Optional: `None` is not sent.".to_owned()
        });
        if let Some(value) = &field.default {
            match default {
                DefaultConst::Const { .. } => {
                    facts.push(format!("Default: `{value}` ([`Self::DEFAULT_{}`]).", naming::constant(&field.wire)))
                }
                DefaultConst::DocOnly => facts.push(format!("Default: `{value}`.")),
            }
        }
        // An invalid default is documented, never emitted (lowering rule).
        if let Some((value, reason)) = &field.rejected_default {
            facts.push(format!("The schema's default `{value}` is not used by this crate: {reason}."));
        }
        facts.extend(constraint_facts(&field.ty));
        // The first example only, and only when it is short enough to read in a bullet.
        if let Some(example) = field.examples.first() {
            let text = example.to_string();
            if text.len() <= 300 {
                facts.push(format!("Example: `{}`.", text.replace('`', "'")));
            }
        }
        if field.ident != field.wire {
            facts.push(format!("JSON key: `{}`.", field.wire));
        }
        // Nothing is dropped silently: an untyped field says why.
        if let Kind::Json { reason: Some(reason) } = &field.ty.kind {
            facts.push(format!("Untyped (`serde_json::Value`): {}.", doc_text(reason)));
        }
        facts.push(format!("Schema: `{}/properties/{}`.", def.pointer, pointer::escape_token(&field.wire)));
        doc.push_str("\n\n");
        doc.push_str(&facts.iter().map(|f| format!("- {f}")).collect::<Vec<_>>().join("\n"));
        doc
    }
}

/// A number for docs: `9`, `0.85`.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{v:.0}") } else { format!("{v}") }
}

/// Human-readable constraint lines for docs: `Range: `0 ..= 1`.` for an
/// inclusive range, else each bound with its operator; lengths, item counts,
/// uniqueness, and the constraints of an array's items.
pub(super) fn constraint_facts(ty: &Type) -> Vec<String> {
    let c = &ty.constraints;
    let mut facts = Vec::new();
    let lower = c.minimum.map(|v| (v, false)).or(c.exclusive_minimum.map(|v| (v, true)));
    let upper = c.maximum.map(|v| (v, false)).or(c.exclusive_maximum.map(|v| (v, true)));
    match (lower, upper) {
        (Some((lo, false)), Some((hi, false))) => facts.push(format!("Range: `{} ..= {}`.", num(lo), num(hi))),
        (lo, hi) => {
            let mut parts = Vec::new();
            if let Some((v, exclusive)) = lo {
                parts.push(format!("`{} {}`", if exclusive { ">" } else { ">=" }, num(v)));
            }
            if let Some((v, exclusive)) = hi {
                parts.push(format!("`{} {}`", if exclusive { "<" } else { "<=" }, num(v)));
            }
            if !parts.is_empty() {
                facts.push(format!("Range: {}.", parts.join(" and ")));
            }
        }
    }
    if let Some(m) = c.multiple_of {
        facts.push(format!("Multiple of `{}`.", num(m)));
    }
    match (c.min_length, c.max_length) {
        (Some(a), Some(b)) => facts.push(format!("Length: {a} to {b} characters.")),
        (Some(a), None) => facts.push(format!("Length: at least {a} characters.")),
        (None, Some(b)) => facts.push(format!("Length: at most {b} characters.")),
        (None, None) => {}
    }
    match (c.min_items, c.max_items) {
        (Some(a), Some(b)) => facts.push(format!("Items: {a} to {b}.")),
        (Some(a), None) => facts.push(format!("Items: at least {a}.")),
        (None, Some(b)) => facts.push(format!("Items: at most {b}.")),
        (None, None) => {}
    }
    if c.unique_items {
        facts.push("Items must be unique.".to_owned());
    }
    if let Kind::Array(item) = &ty.kind {
        let inner = constraint_facts(item);
        if !inner.is_empty() {
            facts.push(format!("Each item: {}", inner.join(" ")));
        }
    }
    facts
}

/// Schema prose as Markdown that rustdoc renders as written: brackets and
/// angle brackets escaped outside code spans, bare URLs made into autolinks.
pub fn doc_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, part) in text.trim().split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        // Odd parts are inside a code span: as written.
        if i % 2 == 1 {
            out.push_str(part);
            continue;
        }
        let words: Vec<String> = part.split(' ').map(prose_word).collect();
        out.push_str(&words.join(" "));
    }
    // An unclosed code span is closed, so it does not swallow what follows.
    if text.matches('`').count() % 2 == 1 {
        out.push('`');
    }
    out
}

/// One word of prose: a URL in it becomes an autolink (`<https://…>`, without
/// trailing punctuation), the rest is escaped.
fn prose_word(word: &str) -> String {
    let Some(start) = word.find("http://").or_else(|| word.find("https://")) else { return escape_md(word) };
    let (before, rest) = word.split_at(start);
    let end = rest.find(|c: char| c.is_whitespace() || matches!(c, ')' | '>' | '"' | '\'')).unwrap_or(rest.len());
    let url = rest[..end].trim_end_matches(['.', ',', ';', ':']);
    let after = &word[start + url.len()..];
    format!("{}<{url}>{}", escape_md(before), escape_md(after))
}

/// Escapes the characters rustdoc's Markdown would read as markup.
fn escape_md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '[' | ']' | '<' | '>' | '*' | '_' | '#' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::doc_text;

    #[test]
    fn doc_text_escapes_markdown_outside_code() {
        assert_eq!(doc_text("If `True`, use [x] <y>"), "If `True`, use \\[x\\] \\<y\\>");
        assert_eq!(doc_text("See https://fal.ai/docs."), "See <https://fal.ai/docs>.");
        assert_eq!(doc_text("a_b `c_d`"), "a\\_b `c_d`");
        assert_eq!(doc_text("odd ` tick"), "odd ` tick`");
    }
}
