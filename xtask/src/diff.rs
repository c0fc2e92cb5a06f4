//! The schema change report behind `cargo xtask diff` (and the report printed by
//! `cargo xtask fetch`).
//!
//! [`diff_documents`] is a pure function over two versions of one endpoint's
//! OpenAPI document. It finds the input component (the `$ref` of the POST
//! request body) and the output component (the `$ref` of the 200 response of
//! `GET …/requests/{request_id}`), follows every component they reference, and
//! lists what changed: fields added or removed, made required or optional, made
//! nullable or not, type changes, enum values, defaults, ranges and descriptions.
//!
//! Each [`Change`] is classified by what it does to the **generated Rust API** of
//! `fal-ltx` (see [`Severity`]):
//!
//! - A Rust type that changes is breaking: a removed field, a type change, a field
//!   whose type turns from `T` into `Option<T>` or back (a field is an `Option` when
//!   it is optional or nullable), a removed enum value (its variant disappears), a
//!   removed default (its `DEFAULT_*` constant disappears).
//! - Inputs: a new required field, or any change of required-ness, changes the
//!   parameters of `Input::new`, so it is breaking; a new optional field is not
//!   (input structs are `#[non_exhaustive]`); a new enum value is not (input enums
//!   are `#[non_exhaustive]`); a tightened range is breaking (values that passed
//!   client-side validation are now rejected), a loosened one is not.
//! - Outputs are judged by what code reading them sees: a new field is not
//!   breaking; a new value of a string enum is not (output string enums are open,
//!   with an `Unknown(String)` variant), but a new value of an integer enum is
//!   (integer enums are closed: the value would fail to deserialize); ranges are
//!   not breaking (outputs are not validated).
//! - A type reached from both input and output gets the stricter classification.
//! - Descriptions are [`Severity::Minor`].

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::{Error, schema_path};

/// How a change affects code that uses the generated crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Documentation only (a description changed); not breaking.
    Minor,
    /// Existing code keeps compiling and behaving the same towards the generated types.
    NonBreaking,
    /// Existing code may stop compiling, or values it sent or received are now rejected.
    Breaking,
}

impl Severity {
    /// True for [`Severity::Breaking`].
    pub fn is_breaking(self) -> bool {
        self == Self::Breaking
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Minor => "minor",
            Self::NonBreaking => "non-breaking",
            Self::Breaking => "breaking",
        })
    }
}

/// Where a type is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Reached from the input (request body) only.
    Input,
    /// Reached from the output (result) only.
    Output,
    /// Reached from both.
    Both,
    /// The endpoint as a whole.
    Endpoint,
}

impl Role {
    fn of(input: bool, output: bool) -> Self {
        match (input, output) {
            (true, true) => Self::Both,
            (false, true) => Self::Output,
            _ => Self::Input,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Input => "input",
            Self::Output => "output",
            Self::Both => "input and output",
            Self::Endpoint => "endpoint",
        })
    }
}

/// What changed.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    /// The endpoint is new.
    EndpointAdded,
    /// The endpoint's document is gone.
    EndpointRemoved,
    /// The input or output component could not be found in the new document.
    ComponentNotFound {
        /// `input` or `output`.
        which: String,
    },
    /// The input or output component has a new name (the Rust type is renamed).
    ComponentRenamed {
        /// The old component key.
        from: String,
        /// The new component key.
        to: String,
    },
    /// A component is newly referenced.
    TypeAdded,
    /// A component is no longer referenced.
    TypeRemoved,
    /// A property was added.
    FieldAdded {
        /// Listed in `required`.
        required: bool,
    },
    /// A property was removed.
    FieldRemoved,
    /// A property is now listed in `required`.
    MadeRequired,
    /// A property is no longer listed in `required`.
    MadeOptional,
    /// A property or value now accepts `null`.
    MadeNullable,
    /// A property or value no longer accepts `null`.
    MadeNonNullable,
    /// The type changed, e.g. `integer` → `number`, `string` → `enum<string>`, `File` → `VideoFile`.
    TypeChanged {
        /// The old type.
        from: String,
        /// The new type.
        to: String,
    },
    /// An enum gained a value.
    EnumValueAdded(Value),
    /// An enum lost a value.
    EnumValueRemoved(Value),
    /// The default was added, removed or changed.
    DefaultChanged {
        /// The old default.
        from: Option<Value>,
        /// The new default.
        to: Option<Value>,
    },
    /// A range keyword (`minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`,
    /// `minLength`, `maxLength`, `minItems`, `maxItems`, `multipleOf`) changed.
    RangeChanged {
        /// The keyword.
        keyword: String,
        /// The old value.
        from: Option<Value>,
        /// The new value.
        to: Option<Value>,
        /// Fewer values are accepted than before.
        tightened: bool,
    },
    /// The description changed.
    DescriptionChanged,
}

fn show(value: Option<&Value>) -> String {
    value.map_or_else(|| "none".to_owned(), |v| format!("`{v}`"))
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EndpointAdded => f.write_str("endpoint added"),
            Self::EndpointRemoved => f.write_str("endpoint removed"),
            Self::ComponentNotFound { which } => write!(f, "{which} component not found in the new document"),
            Self::ComponentRenamed { from, to } => write!(f, "component renamed `{from}` → `{to}`"),
            Self::TypeAdded => f.write_str("type added"),
            Self::TypeRemoved => f.write_str("type no longer used"),
            Self::FieldAdded { required: true } => f.write_str("required field added"),
            Self::FieldAdded { required: false } => f.write_str("optional field added"),
            Self::FieldRemoved => f.write_str("field removed"),
            Self::MadeRequired => f.write_str("made required"),
            Self::MadeOptional => f.write_str("made optional"),
            Self::MadeNullable => f.write_str("made nullable"),
            Self::MadeNonNullable => f.write_str("made non-nullable"),
            Self::TypeChanged { from, to } => write!(f, "type changed `{from}` → `{to}`"),
            Self::EnumValueAdded(v) => write!(f, "enum value `{v}` added"),
            Self::EnumValueRemoved(v) => write!(f, "enum value `{v}` removed"),
            Self::DefaultChanged { from, to } => {
                write!(f, "default changed {} → {}", show(from.as_ref()), show(to.as_ref()))
            }
            Self::RangeChanged { keyword, from, to, tightened } => write!(
                f,
                "`{keyword}` {} {} → {}",
                if *tightened { "tightened" } else { "loosened" },
                show(from.as_ref()),
                show(to.as_ref())
            ),
            Self::DescriptionChanged => f.write_str("description changed"),
        }
    }
}

/// One change of one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// What changed, e.g. `Ltx2TextToVideoInput.duration` or `VideoFile.width` (a
    /// component key, then property names; `[]` for array items, `{}` for map values).
    pub location: String,
    /// Whether the type is part of the input, the output or both.
    pub role: Role,
    /// What changed.
    pub kind: ChangeKind,
    /// Breaking or not for the generated Rust API.
    pub severity: Severity,
    /// Why it has that severity.
    pub why: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = if self.severity.is_breaking() { "**breaking**".to_owned() } else { self.severity.to_string() };
        write!(f, "{severity} `{}` ({}): {}", self.location, self.role, self.kind)?;
        if !self.why.is_empty() {
            write!(f, " — {}", self.why)?;
        }
        Ok(())
    }
}

/// The changes of one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointChanges {
    /// The endpoint id.
    pub endpoint_id: String,
    /// The input component key in the new document (else the old one).
    pub input: Option<String>,
    /// The output component key in the new document (else the old one).
    pub output: Option<String>,
    /// The documents differ at all (even if only outside the input and output types).
    pub document_changed: bool,
    /// The changes, input first, then output, then the types they reference.
    pub changes: Vec<Change>,
}

impl EndpointChanges {
    /// True if any change is breaking.
    pub fn is_breaking(&self) -> bool {
        self.changes.iter().any(|c| c.severity.is_breaking())
    }

    /// The changes with the given severity.
    pub fn with_severity(&self, severity: Severity) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(move |c| c.severity == severity)
    }

    /// The first change at `location` whose kind satisfies `matches`.
    pub fn find(&self, location: &str, matches: impl Fn(&ChangeKind) -> bool) -> Option<&Change> {
        self.changes.iter().find(|c| c.location == location && matches(&c.kind))
    }
}

/// The change report over several endpoints.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeReport {
    /// One entry per endpoint whose document differs.
    pub endpoints: Vec<EndpointChanges>,
}

impl ChangeReport {
    /// True if any change of any endpoint is breaking.
    pub fn is_breaking(&self) -> bool {
        self.endpoints.iter().any(EndpointChanges::is_breaking)
    }

    /// True when no endpoint's document differs.
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// The entry of one endpoint.
    pub fn endpoint(&self, endpoint_id: &str) -> Option<&EndpointChanges> {
        self.endpoints.iter().find(|e| e.endpoint_id == endpoint_id)
    }

    /// How many changes have the given severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.endpoints.iter().map(|e| e.with_severity(severity).count()).sum()
    }

    /// The report as Markdown (which also reads as plain text).
    pub fn render_markdown(&self) -> String {
        let mut out = String::new();
        if self.endpoints.is_empty() {
            out.push_str("# Schema changes\n\nNo document changed.\n");
            return out;
        }
        out.push_str(&format!(
            "# Schema changes\n\nBreaking: **{}** — {} breaking, {} non-breaking, {} minor change(s) in {} changed document(s).\n",
            if self.is_breaking() { "yes" } else { "no" },
            self.count(Severity::Breaking),
            self.count(Severity::NonBreaking),
            self.count(Severity::Minor),
            self.endpoints.len()
        ));
        for endpoint in &self.endpoints {
            out.push_str(&format!(
                "\n## `{}`{}\n\n",
                endpoint.endpoint_id,
                if endpoint.is_breaking() { " (breaking)" } else { "" }
            ));
            if let (Some(input), Some(output)) = (&endpoint.input, &endpoint.output) {
                out.push_str(&format!("Input `{input}`, output `{output}`.\n\n"));
            }
            if endpoint.changes.is_empty() {
                out.push_str(
                    "The document changed outside the input and output types (metadata, paths or unused \
                     components); the generated API is unaffected.\n",
                );
            }
            for change in &endpoint.changes {
                out.push_str(&format!("- {change}\n"));
            }
        }
        out
    }
}

impl fmt::Display for ChangeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render_markdown())
    }
}

/// Compares two versions of one endpoint's document (`None`: the endpoint did not
/// exist on that side). Pure: reads nothing but its arguments.
pub fn diff_documents(endpoint_id: &str, old: Option<&Value>, new: Option<&Value>) -> EndpointChanges {
    let (old_io, new_io) = (old.map(|d| io_components(d, endpoint_id)), new.map(|d| io_components(d, endpoint_id)));
    let pick = |new: Option<&Option<String>>, old: Option<&Option<String>>| {
        new.and_then(Clone::clone).or_else(|| old.and_then(Clone::clone))
    };
    let mut result = EndpointChanges {
        endpoint_id: endpoint_id.to_owned(),
        input: pick(new_io.as_ref().map(|io| &io.0), old_io.as_ref().map(|io| &io.0)),
        output: pick(new_io.as_ref().map(|io| &io.1), old_io.as_ref().map(|io| &io.1)),
        document_changed: old != new,
        changes: Vec::new(),
    };
    let (old, new, old_io, new_io) = match (old, new, old_io, new_io) {
        (Some(old), Some(new), Some(old_io), Some(new_io)) => (old, new, old_io, new_io),
        (None, Some(_), ..) => {
            result.changes.push(endpoint_change(
                ChangeKind::EndpointAdded,
                Severity::NonBreaking,
                "a new module and types",
            ));
            return result;
        }
        (Some(_), None, ..) => {
            result.changes.push(endpoint_change(
                ChangeKind::EndpointRemoved,
                Severity::Breaking,
                "its module and types disappear from the crate",
            ));
            return result;
        }
        _ => return result,
    };
    let mut differ = Differ { old, new, changes: Vec::new() };
    differ.compare(&old_io, &new_io);
    result.changes = differ.changes;
    result
}

/// Convenience over [`diff_documents`]: a report of one endpoint, empty when the documents are equal.
pub fn diff(endpoint_id: &str, old: &Value, new: &Value) -> ChangeReport {
    if old == new {
        return ChangeReport::default();
    }
    ChangeReport { endpoints: vec![diff_documents(endpoint_id, Some(old), Some(new))] }
}

fn endpoint_change(kind: ChangeKind, severity: Severity, why: &str) -> Change {
    Change { location: "endpoint".to_owned(), role: Role::Endpoint, kind, severity, why: why.to_owned() }
}

const COMPONENTS: &str = "#/components/schemas/";

fn ref_name(reference: &str) -> String {
    reference.strip_prefix(COMPONENTS).unwrap_or(reference).to_owned()
}

fn schema_ref(media: Option<&Value>) -> Option<String> {
    media?.pointer("/content/application~1json/schema/$ref")?.as_str().map(ref_name)
}

/// The input and output component keys of a document.
fn io_components(doc: &Value, endpoint_id: &str) -> (Option<String>, Option<String>) {
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else { return (None, None) };
    let own = format!("/{endpoint_id}");
    let result_path = format!("{own}/requests/{{request_id}}");
    let input = paths.get(&own).and_then(|p| p.pointer("/post/requestBody")).or_else(|| {
        paths.iter().filter(|(k, _)| !k.contains("/requests/")).find_map(|(_, p)| p.pointer("/post/requestBody"))
    });
    let output = paths.get(&result_path).and_then(|p| p.pointer("/get/responses/200")).or_else(|| {
        paths
            .iter()
            .filter(|(k, _)| k.ends_with("/requests/{request_id}"))
            .find_map(|(_, p)| p.pointer("/get/responses/200"))
    });
    (schema_ref(input), schema_ref(output))
}

fn component<'a>(doc: &'a Value, name: &str) -> Option<&'a Value> {
    doc.get("components")?.get("schemas")?.get(name)
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) if r.starts_with(COMPONENTS) => out.push(ref_name(r)),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The components reachable from `root`, `root` first, in discovery order.
fn reachable(doc: &Value, root: Option<&str>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let Some(root) = root else { return seen };
    let mut queue = vec![root.to_owned()];
    while let Some(name) = queue.pop() {
        if seen.contains(&name) {
            continue;
        }
        let mut refs = Vec::new();
        if let Some(schema) = component(doc, &name) {
            collect_refs(schema, &mut refs);
        }
        seen.push(name);
        refs.reverse();
        queue.extend(refs);
    }
    seen
}

/// JSON equality where numbers compare by value (`24` equals `24.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

/// The layers of a schema, outermost first: `anyOf [X, null]`, `oneOf [X, null]`
/// and `allOf [X]` are unwrapped into X. Also whether `null` is accepted.
fn layers(schema: &Value) -> (Vec<&Value>, bool) {
    let mut layers = vec![schema];
    let mut nullable = false;
    let mut current = schema;
    loop {
        nullable |= current.get("nullable").and_then(Value::as_bool) == Some(true);
        nullable |= current.get("type").and_then(Value::as_array).is_some_and(|t| t.iter().any(|t| t == "null"));
        let mut next = None;
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = current.get(key).and_then(Value::as_array) {
                let non_null: Vec<&Value> = branches.iter().filter(|b| !is_null_schema(b)).collect();
                nullable |= non_null.len() < branches.len();
                if non_null.len() == 1 {
                    next = Some(non_null[0]);
                }
            }
        }
        if let Some(all) = current.get("allOf").and_then(Value::as_array)
            && all.len() == 1
        {
            next = Some(&all[0]);
        }
        match next {
            Some(inner) => {
                layers.push(inner);
                current = inner;
            }
            None => return (layers, nullable),
        }
    }
}

/// The type of a schema as a short string, e.g. `string`, `enum<integer>`,
/// `array<File>`, `ImageSize | enum<string>`. Nullability is not part of it.
fn type_desc(schema: &Value) -> String {
    let (layers, _) = layers(schema);
    let core = *layers.last().expect("at least one layer");
    if let Some(r) = core.get("$ref").and_then(Value::as_str) {
        return ref_name(r);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = core.get(key).and_then(Value::as_array) {
            let parts: Vec<String> = branches.iter().filter(|b| !is_null_schema(b)).map(type_desc).collect();
            if !parts.is_empty() {
                return parts.join(" | ");
            }
        }
    }
    if let Some(all) = core.get("allOf").and_then(Value::as_array).filter(|a| a.len() > 1) {
        return format!("allOf({})", all.iter().map(type_desc).collect::<Vec<_>>().join(", "));
    }
    let declared: Option<String> = match core.get("type") {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Array(types)) => {
            let names: Vec<&str> = types.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect();
            (!names.is_empty()).then(|| names.join(" | "))
        }
        _ => None,
    };
    let enumeration = core.get("enum").and_then(Value::as_array);
    let ty = declared.unwrap_or_else(|| match enumeration {
        Some(values) if values.iter().all(|v| v.is_string() || v.is_null()) => "string".to_owned(),
        Some(values) if values.iter().all(|v| v.is_i64() || v.is_u64() || v.is_null()) => "integer".to_owned(),
        Some(_) => "any".to_owned(),
        None if core.get("properties").is_some() => "object".to_owned(),
        None => "any".to_owned(),
    });
    if enumeration.is_some() {
        return format!("enum<{ty}>");
    }
    match ty.as_str() {
        "array" => format!("array<{}>", core.get("items").map_or_else(|| "any".to_owned(), type_desc)),
        "object" => match core.get("additionalProperties") {
            Some(extra @ Value::Object(_)) if core.get("properties").is_none() => format!("map<{}>", type_desc(extra)),
            _ => "object".to_owned(),
        },
        _ => ty,
    }
}

const RANGE_KEYWORDS: [&str; 9] = [
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "multipleOf",
];

/// What the report compares about one schema.
struct Facts<'a> {
    ty: String,
    core: &'a Value,
    enum_values: Option<Vec<Value>>,
    default: Option<&'a Value>,
    description: Option<&'a str>,
    ranges: Vec<(&'static str, &'a Value)>,
}

impl<'a> Facts<'a> {
    fn of(schema: &'a Value) -> Self {
        let (layers, _) = layers(schema);
        let first = |key: &str| layers.iter().find_map(|l| l.get(key));
        let core = *layers.last().expect("at least one layer");
        let mut enum_values: Option<Vec<Value>> =
            first("enum").and_then(Value::as_array).map(|v| v.iter().filter(|v| !v.is_null()).cloned().collect());
        if enum_values.is_none() {
            // Enum branches of a union, e.g. `anyOf [{$ref: ImageSize}, {enum: [presets]}]`.
            for key in ["anyOf", "oneOf"] {
                for branch in core.get(key).and_then(Value::as_array).into_iter().flatten() {
                    if let Some(values) = branch.get("enum").and_then(Value::as_array) {
                        enum_values
                            .get_or_insert_with(Vec::new)
                            .extend(values.iter().filter(|v| !v.is_null()).cloned());
                    }
                }
            }
        }
        let ranges = RANGE_KEYWORDS.iter().filter_map(|k| first(k).map(|v| (*k, v))).collect();
        Self {
            ty: type_desc(schema),
            core,
            enum_values,
            default: first("default"),
            description: first("description").and_then(Value::as_str),
            ranges,
        }
    }

    fn range(&self, keyword: &str) -> Option<&'a Value> {
        self.ranges.iter().find(|(k, _)| *k == keyword).map(|(_, v)| *v)
    }

    fn properties(&self) -> Option<&'a serde_json::Map<String, Value>> {
        self.core.get("properties").and_then(Value::as_object)
    }

    fn required(&self) -> BTreeSet<&'a str> {
        self.core.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect()
    }
}

/// Whether a range keyword's new value accepts fewer values than the old one.
fn tightened(keyword: &str, old: Option<&Value>, new: Option<&Value>) -> bool {
    match (old, new) {
        (_, None) => false,
        (None, Some(v)) => v != &Value::Bool(false),
        (Some(Value::Bool(a)), Some(Value::Bool(b))) => !a && *b,
        (Some(a), Some(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => match keyword {
                "minimum" | "exclusiveMinimum" | "minLength" | "minItems" => b > a,
                "maximum" | "exclusiveMaximum" | "maxLength" | "maxItems" => b < a,
                // `multipleOf`: every value accepted before is still accepted only if
                // the old step is a multiple of the new one.
                _ => {
                    let ratio = a / b;
                    (ratio - ratio.round()).abs() > 1e-9
                }
            },
            _ => true,
        },
    }
}

/// Severities of one change for the input and the output side, and why.
struct Rule {
    input: Severity,
    input_why: &'static str,
    output: Severity,
    output_why: &'static str,
}

impl Rule {
    fn same(severity: Severity, why: &'static str) -> Self {
        Self { input: severity, input_why: why, output: severity, output_why: why }
    }

    fn apply(&self, role: Role) -> (Severity, &'static str) {
        match role {
            Role::Input => (self.input, self.input_why),
            Role::Output => (self.output, self.output_why),
            Role::Both | Role::Endpoint => {
                if self.output > self.input {
                    (self.output, self.output_why)
                } else {
                    (self.input, self.input_why)
                }
            }
        }
    }
}

struct Differ<'a> {
    old: &'a Value,
    new: &'a Value,
    changes: Vec<Change>,
}

impl<'a> Differ<'a> {
    fn push(&mut self, location: &str, role: Role, kind: ChangeKind, rule: &Rule) {
        let (severity, why) = rule.apply(role);
        self.changes.push(Change { location: location.to_owned(), role, kind, severity, why: why.to_owned() });
    }

    fn compare(&mut self, old_io: &(Option<String>, Option<String>), new_io: &(Option<String>, Option<String>)) {
        let old_in = reachable(self.old, old_io.0.as_deref());
        let old_out = reachable(self.old, old_io.1.as_deref());
        let new_in = reachable(self.new, new_io.0.as_deref());
        let new_out = reachable(self.new, new_io.1.as_deref());
        let is_input = |name: &str| old_in.iter().chain(&new_in).any(|n| n == name);
        let is_output = |name: &str| old_out.iter().chain(&new_out).any(|n| n == name);

        // The roots: compared with each other even when renamed.
        let mut roots = Vec::new();
        for (which, old_root, new_root, role) in
            [("input", &old_io.0, &new_io.0, Role::Input), ("output", &old_io.1, &new_io.1, Role::Output)]
        {
            match (old_root, new_root) {
                (_, None) => self.push(
                    which,
                    role,
                    ChangeKind::ComponentNotFound { which: which.to_owned() },
                    &Rule::same(Severity::Breaking, "the generator cannot find the type"),
                ),
                (Some(o), Some(n)) => {
                    if o != n {
                        self.push(
                            which,
                            role,
                            ChangeKind::ComponentRenamed { from: o.clone(), to: n.clone() },
                            &Rule::same(Severity::Breaking, "the Rust type is renamed"),
                        );
                    }
                    if let (Some(os), Some(ns)) = (component(self.old, o), component(self.new, n)) {
                        self.schema(n, role, os, ns);
                    }
                    roots.push(o.clone());
                    roots.push(n.clone());
                }
                (None, Some(n)) => roots.push(n.clone()),
            }
        }

        // Every other referenced component, in the new document's discovery order, then removed ones.
        let mut names: Vec<String> = Vec::new();
        for name in new_in.iter().chain(&new_out).chain(&old_in).chain(&old_out) {
            if !names.contains(name) && !roots.contains(name) {
                names.push(name.clone());
            }
        }
        for name in names {
            let role = Role::of(is_input(&name), is_output(&name));
            let reached_new = new_in.contains(&name) || new_out.contains(&name);
            let reached_old = old_in.contains(&name) || old_out.contains(&name);
            match (component(self.old, &name), component(self.new, &name)) {
                (Some(o), Some(n)) if reached_old && reached_new => self.schema(&name, role, o, n),
                (_, Some(_)) if reached_new => self.push(
                    &name,
                    role,
                    ChangeKind::TypeAdded,
                    &Rule::same(Severity::NonBreaking, "a new type; the fields that use it are listed separately"),
                ),
                _ if reached_old && !reached_new => self.push(
                    &name,
                    role,
                    ChangeKind::TypeRemoved,
                    &Rule::same(Severity::NonBreaking, "the fields that used it are listed separately"),
                ),
                _ => {}
            }
        }
    }

    /// Compares two schemas at `location` (a component, a property, array items…).
    fn schema(&mut self, location: &str, role: Role, old: &'a Value, new: &'a Value) {
        let (o, n) = (Facts::of(old), Facts::of(new));
        if o.ty != n.ty {
            self.push(
                location,
                role,
                ChangeKind::TypeChanged { from: o.ty.clone(), to: n.ty.clone() },
                &Rule::same(Severity::Breaking, "the Rust type changes"),
            );
        } else {
            self.enums(location, role, &o, &n);
            self.ranges(location, role, &o, &n);
            if let (Some(op), Some(np)) = (o.properties(), n.properties()) {
                self.properties(location, role, (op, o.required()), (np, n.required()));
            }
            if let (Some(oi), Some(ni)) = (o.core.get("items"), n.core.get("items")) {
                self.nested(&format!("{location}[]"), role, oi, ni);
            }
            if let (Some(oa @ Value::Object(_)), Some(na @ Value::Object(_))) =
                (o.core.get("additionalProperties"), n.core.get("additionalProperties"))
            {
                self.nested(&format!("{location}{{}}"), role, oa, na);
            }
        }
        self.default(location, role, o.default, n.default);
        if o.description != n.description {
            self.push(location, role, ChangeKind::DescriptionChanged, &Rule::same(Severity::Minor, ""));
        }
    }

    /// Array items and map values: a change of nullability changes the Rust type.
    fn nested(&mut self, location: &str, role: Role, old: &'a Value, new: &'a Value) {
        let (o, n) = (layers(old).1, layers(new).1);
        if o != n {
            let kind = if n { ChangeKind::MadeNullable } else { ChangeKind::MadeNonNullable };
            self.push(
                location,
                role,
                kind,
                &Rule::same(Severity::Breaking, "the element type changes to or from `Option`"),
            );
        }
        self.schema(location, role, old, new);
    }

    fn enums(&mut self, location: &str, role: Role, o: &Facts<'_>, n: &Facts<'_>) {
        let (Some(old_values), Some(new_values)) = (&o.enum_values, &n.enum_values) else { return };
        let integer = n.ty.contains("enum<integer>");
        for value in new_values.iter().filter(|v| !old_values.iter().any(|w| json_eq(v, w))) {
            let rule = Rule {
                input: Severity::NonBreaking,
                input_why: "input enums are `#[non_exhaustive]`",
                output: if integer { Severity::Breaking } else { Severity::NonBreaking },
                output_why: if integer {
                    "output integer enums are closed: the new value fails to deserialize"
                } else {
                    "output string enums are open (`Unknown(String)`)"
                },
            };
            self.push(location, role, ChangeKind::EnumValueAdded(value.clone()), &rule);
        }
        for value in old_values.iter().filter(|v| !new_values.iter().any(|w| json_eq(v, w))) {
            self.push(
                location,
                role,
                ChangeKind::EnumValueRemoved(value.clone()),
                &Rule::same(Severity::Breaking, "its variant disappears"),
            );
        }
    }

    fn ranges(&mut self, location: &str, role: Role, o: &Facts<'_>, n: &Facts<'_>) {
        for keyword in RANGE_KEYWORDS {
            let (old, new) = (o.range(keyword), n.range(keyword));
            let same = match (old, new) {
                (Some(a), Some(b)) => json_eq(a, b),
                (None, None) => true,
                _ => false,
            };
            if same {
                continue;
            }
            let tight = tightened(keyword, old, new);
            let rule = Rule {
                input: if tight { Severity::Breaking } else { Severity::NonBreaking },
                input_why: if tight {
                    "values that passed validation before are now rejected"
                } else {
                    "every value accepted before is still accepted"
                },
                output: Severity::NonBreaking,
                output_why: "outputs are not validated",
            };
            let kind = ChangeKind::RangeChanged {
                keyword: keyword.to_owned(),
                from: old.cloned(),
                to: new.cloned(),
                tightened: tight,
            };
            self.push(location, role, kind, &rule);
        }
    }

    fn default(&mut self, location: &str, role: Role, old: Option<&Value>, new: Option<&Value>) {
        let rule = match (old, new) {
            (None, None) => return,
            (Some(a), Some(b)) if json_eq(a, b) => return,
            (Some(_), None) => Rule::same(Severity::Breaking, "its `DEFAULT_*` constant disappears"),
            (None, Some(_)) => Rule::same(Severity::NonBreaking, "a new `DEFAULT_*` constant"),
            (Some(_), Some(_)) => {
                Rule::same(Severity::NonBreaking, "fal applies a different value when the field is unset")
            }
        };
        self.push(location, role, ChangeKind::DefaultChanged { from: old.cloned(), to: new.cloned() }, &rule);
    }

    fn properties(
        &mut self,
        location: &str,
        role: Role,
        (old_props, old_required): (&'a serde_json::Map<String, Value>, BTreeSet<&'a str>),
        (new_props, new_required): (&'a serde_json::Map<String, Value>, BTreeSet<&'a str>),
    ) {
        for (name, new) in new_props {
            let here = format!("{location}.{name}");
            let new_req = new_required.contains(name.as_str());
            let Some(old) = old_props.get(name) else {
                let rule = if new_req {
                    Rule {
                        input: Severity::Breaking,
                        input_why: "`new` gains a parameter",
                        output: Severity::NonBreaking,
                        output_why: "output structs are `#[non_exhaustive]`",
                    }
                } else {
                    Rule::same(Severity::NonBreaking, "structs are `#[non_exhaustive]`; the field is an `Option`")
                };
                self.push(&here, role, ChangeKind::FieldAdded { required: new_req }, &rule);
                continue;
            };
            let old_req = old_required.contains(name.as_str());
            let (old_null, new_null) = (layers(old).1, layers(new).1);
            // The field is an `Option` in Rust when it is optional or nullable.
            let option_changes = (!old_req || old_null) != (!new_req || new_null);
            let option_rule = |to_option: bool| {
                if option_changes {
                    Rule::same(
                        Severity::Breaking,
                        if to_option {
                            "the field's type changes from `T` to `Option<T>`"
                        } else {
                            "the field's type changes from `Option<T>` to `T`"
                        },
                    )
                } else {
                    Rule::same(Severity::NonBreaking, "the field's Rust type is unchanged")
                }
            };
            if old_req != new_req {
                let mut rule = option_rule(!new_req);
                rule.input = Severity::Breaking;
                rule.input_why = if new_req {
                    "`new` gains a parameter; code that left the field unset must set it"
                } else {
                    "`new` loses a parameter"
                };
                let kind = if new_req { ChangeKind::MadeRequired } else { ChangeKind::MadeOptional };
                self.push(&here, role, kind, &rule);
            }
            if old_null != new_null {
                let kind = if new_null { ChangeKind::MadeNullable } else { ChangeKind::MadeNonNullable };
                self.push(&here, role, kind, &option_rule(new_null));
            }
            self.schema(&here, role, old, new);
        }
        for name in old_props.keys().filter(|k| !new_props.contains_key(*k)) {
            self.push(
                &format!("{location}.{name}"),
                role,
                ChangeKind::FieldRemoved,
                &Rule::same(Severity::Breaking, "the field disappears from the Rust struct"),
            );
        }
    }
}

/// What `cargo xtask diff` compares the working tree's `schemas/` with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Baseline {
    /// The committed documents: `git show HEAD:schemas/…`.
    Head,
    /// The documents at a git revision (a tag, a commit): `git show <rev>:schemas/…`
    /// (`cargo xtask bump` compares with the last release this way).
    Rev(String),
    /// Another directory laid out like `schemas/` (`<dir>/<endpoint id>.json`, and
    /// optionally `<dir>/endpoints.toml`).
    Dir(PathBuf),
}

/// One side of a comparison: endpoint ids and a way to read their documents.
fn baseline_documents(root: &Path, baseline: &Baseline) -> Result<Vec<(String, Option<Value>)>, Error> {
    match baseline {
        Baseline::Head | Baseline::Rev(_) => {
            let rev = match baseline {
                Baseline::Rev(rev) => rev.as_str(),
                _ => "HEAD",
            };
            git(root, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")]).map_err(|message| {
                Error::Git {
                    message: format!(
                        "{} has no commit `{rev}` ({message}); commit first or compare with a directory: `--against <dir>`",
                        root.display()
                    ),
                }
            })?;
            let ids = match git(root, &["show", &format!("{rev}:./schemas/endpoints.toml")]) {
                Ok(text) => {
                    toml::from_str::<Manifest>(&text)
                        .map_err(|e| Error::Manifest {
                            path: format!("{rev}:schemas/endpoints.toml").into(),
                            message: e.to_string(),
                        })?
                        .endpoints
                }
                Err(_) => Vec::new(),
            };
            let mut out = Vec::new();
            for id in ids {
                let spec = format!("{rev}:./{}", schema_path(&id));
                let doc = match git(root, &["show", &spec]) {
                    Ok(text) => Some(parse(&spec, &text)?),
                    Err(_) => None,
                };
                out.push((id, doc));
            }
            Ok(out)
        }
        Baseline::Dir(dir) => {
            let manifest = dir.join("endpoints.toml");
            let ids = if manifest.is_file() {
                crate::endpoint_ids_in(&manifest)?
            } else {
                let mut ids = Vec::new();
                json_files(dir, dir, &mut ids)?;
                ids.sort();
                ids
            };
            ids.into_iter()
                .map(|id| {
                    let path = dir.join(format!("{id}.json"));
                    let doc = match fs::read_to_string(&path) {
                        Ok(text) => Some(parse(&path.display().to_string(), &text)?),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                        Err(source) => return Err(Error::Io { path, source }),
                    };
                    Ok((id, doc))
                })
                .collect()
        }
    }
}

#[derive(serde::Deserialize)]
struct Manifest {
    endpoints: Vec<String>,
}

fn parse(path: &str, text: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|e| Error::Json { path: path.to_owned(), message: e.to_string() })
}

fn json_files(dir: &Path, base: &Path, out: &mut Vec<String>) -> Result<(), Error> {
    let entries = fs::read_dir(dir).map_err(|source| Error::Io { path: dir.to_owned(), source })?;
    for entry in entries {
        let path = entry.map_err(|source| Error::Io { path: dir.to_owned(), source })?.path();
        if path.is_dir() {
            json_files(&path, base, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            let relative = path.strip_prefix(base).unwrap_or(&path).with_extension("");
            out.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// Runs `git -C root <args>`; its stdout, or its stderr as the error.
pub(crate) fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .map_err(|e| format!("could not run git: {e}; install git or use `--against <dir>`"))?;
    if output.status.success() {
        String::from_utf8(output.stdout).map_err(|e| format!("git printed non-UTF-8 output: {e}"))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

/// `cargo xtask diff`: the change report from `baseline` to the working tree's
/// `schemas/` (the ids in `schemas/endpoints.toml` and in the baseline). Only
/// endpoints whose documents differ are listed.
///
/// # Errors
///
/// A manifest or document cannot be read or parsed, or `git` fails for [`Baseline::Head`].
pub fn diff_workspace(root: &Path, baseline: &Baseline) -> Result<ChangeReport, Error> {
    let old = baseline_documents(root, baseline)?;
    let current = crate::endpoint_ids(root)?;
    let mut report = ChangeReport::default();
    let mut ids: Vec<String> = current.clone();
    ids.extend(old.iter().map(|(id, _)| id.clone()).filter(|id| !current.contains(id)));
    for id in ids {
        let path = root.join(schema_path(&id));
        let new = if current.contains(&id) {
            match fs::read_to_string(&path) {
                Ok(text) => Some(parse(&path.display().to_string(), &text)?),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(source) => return Err(Error::Io { path, source }),
            }
        } else {
            None
        };
        let old = old.iter().find(|(o, _)| *o == id).and_then(|(_, d)| d.as_ref());
        if old != new.as_ref() {
            report.endpoints.push(diff_documents(&id, old, new.as_ref()));
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(input: Value, output: Value, extra: Value) -> Value {
        let mut schemas = json!({ "In": input, "Out": output });
        for (k, v) in extra.as_object().expect("object") {
            schemas[k] = v.clone();
        }
        json!({
            "openapi": "3.0.4",
            "paths": {
                "/o/a": { "post": { "requestBody": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/In" } } } } } },
                "/o/a/requests/{request_id}": { "get": { "responses": { "200": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Out" } } } } } } }
            },
            "components": { "schemas": schemas }
        })
    }

    fn base() -> Value {
        doc(
            json!({"type": "object", "required": ["prompt"], "properties": {
                "prompt": {"type": "string", "maxLength": 100},
                "steps": {"type": "integer", "minimum": 1, "maximum": 50, "default": 30},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "file": {"$ref": "#/components/schemas/File"}
            }}),
            json!({"type": "object", "required": ["video"], "properties": {
                "video": {"allOf": [{"$ref": "#/components/schemas/File"}], "title": "Video"},
                "kind": {"type": "string", "enum": ["x"]},
                "frames": {"type": "integer", "enum": [24]}
            }}),
            json!({"File": {"type": "object", "required": ["url"], "properties": {
                "url": {"type": "string"}, "size": {"type": "integer"}
            }}}),
        )
    }

    fn changes(edit: impl FnOnce(&mut Value)) -> EndpointChanges {
        let old = base();
        let mut new = base();
        edit(&mut new);
        diff_documents("o/a", Some(&old), Some(&new))
    }

    #[test]
    fn identical_documents_have_no_changes() {
        let report = changes(|_| {});
        assert!(report.changes.is_empty(), "{:?}", report.changes);
        assert!(diff("o/a", &base(), &base()).is_empty());
    }

    #[test]
    fn allof_ref_equals_ref_and_anyof_null_is_nullability() {
        let report = changes(|d| {
            d["components"]["schemas"]["Out"]["properties"]["video"] = json!({"$ref": "#/components/schemas/File"});
            d["components"]["schemas"]["File"]["properties"]["size"] =
                json!({"anyOf": [{"type": "integer"}, {"type": "null"}]});
        });
        assert_eq!(report.changes.len(), 1, "{:?}", report.changes);
        let change = &report.changes[0];
        assert_eq!(change.location, "File.size");
        assert_eq!(change.kind, ChangeKind::MadeNullable);
        assert_eq!(change.role, Role::Both);
        assert_eq!(change.severity, Severity::NonBreaking, "optional already: still an Option");
    }

    #[test]
    fn classification() {
        let sev = |edit: fn(&mut Value)| {
            let report = changes(edit);
            assert_eq!(report.changes.len(), 1, "{:?}", report.changes);
            report.changes[0].severity
        };
        fn input(d: &mut Value) -> &mut Value {
            &mut d["components"]["schemas"]["In"]
        }
        assert_eq!(sev(|d| input(d)["properties"]["new"] = json!({"type": "string"})), Severity::NonBreaking);
        assert_eq!(
            sev(|d| {
                input(d)["properties"]["new"] = json!({"type": "string"});
                input(d)["required"] = json!(["prompt", "new"]);
            }),
            Severity::Breaking
        );
        assert_eq!(sev(|d| input(d)["properties"]["steps"]["maximum"] = json!(40)), Severity::Breaking);
        assert_eq!(sev(|d| input(d)["properties"]["steps"]["maximum"] = json!(60)), Severity::NonBreaking);
        let unchanged = changes(|d| d["components"]["schemas"]["In"]["properties"]["steps"]["maximum"] = json!(50.0));
        assert!(unchanged.changes.is_empty(), "50 and 50.0 are the same bound: {:?}", unchanged.changes);
    }

    #[test]
    fn enums_by_role_and_kind() {
        let report = changes(|d| {
            let out = &mut d["components"]["schemas"]["Out"]["properties"];
            out["kind"]["enum"] = json!(["x", "y"]);
            out["frames"]["enum"] = json!([24, 30]);
            d["components"]["schemas"]["In"]["properties"]["mode"]["enum"] = json!(["a", "c"]);
        });
        let find = |loc: &str, added: bool| {
            report
                .find(loc, |k| {
                    if added {
                        matches!(k, ChangeKind::EnumValueAdded(_))
                    } else {
                        matches!(k, ChangeKind::EnumValueRemoved(_))
                    }
                })
                .unwrap_or_else(|| panic!("{loc}: {:?}", report.changes))
                .severity
        };
        assert_eq!(find("Out.kind", true), Severity::NonBreaking);
        assert_eq!(find("Out.frames", true), Severity::Breaking);
        assert_eq!(find("In.mode", true), Severity::NonBreaking);
        assert_eq!(find("In.mode", false), Severity::Breaking);
    }

    #[test]
    fn tightening() {
        assert!(tightened("maximum", Some(&json!(10)), Some(&json!(5))));
        assert!(!tightened("maximum", Some(&json!(10)), None));
        assert!(tightened("minLength", None, Some(&json!(1))));
        assert!(tightened("multipleOf", Some(&json!(2)), Some(&json!(4))), "4, 8, … is fewer than 2, 4, 6, …");
        assert!(!tightened("multipleOf", Some(&json!(4)), Some(&json!(2))));
        assert!(tightened("multipleOf", Some(&json!(0.5)), Some(&json!(0.2))));
    }
}
