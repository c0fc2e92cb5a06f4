//! The schema change report behind `cargo xtask diff` (and the report printed by
//! `cargo xtask fetch` and `cargo xtask bump`).
//!
//! Both sides are run through the generator's front end ([`fal_codegen::lower::lower`]:
//! parse, normalize, lower; what [`fal_codegen::generate`] runs before it emits Rust) and
//! the report compares the two [`ir::Api`](fal_codegen::ir::Api) models, so it sees the documents
//! exactly as `cargo xtask regen` does (fal's habits such as `anyOf [X, null]`, a
//! `$ref` wrapped in `allOf`, numeric `exclusiveMinimum` or `examples` are already
//! normalized away). [`diff_documents`] lowers one endpoint's two documents;
//! [`diff_workspace`] lowers each side's `schemas/` as a whole and compares
//! endpoints by id.
//!
//! For each endpoint it compares the input type (the submit request body) and the
//! output type (the result), follows every component type they reach, and lists
//! what changed: fields added or removed, made required or optional, made nullable or
//! not, type changes, enum values, defaults, ranges (`minimum` … `multipleOf`,
//! `uniqueItems`) and documentation. Locations name the component key, then the
//! property names (`VideoFile.width`); inline enums, objects and unions are compared
//! as part of the field they belong to.
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
//! - Documentation (descriptions, else titles) is [`Severity::Minor`].
//! - A new document the generator rejects is breaking (`cargo xtask regen` fails).
//!
//! What the generated API does not carry is not reported: the nullability of array
//! items and map values, the values of a `number` enum (typed `f64`), examples, the
//! order of properties.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use fal_codegen::ir::{
    Api, Constraints, Endpoint, Field, IntegerVariant, Kind, Scope, StringVariant, Type, TypeDef, TypeKind, TypeName,
};
use fal_codegen::{GenError, Source};
use fal_ltx_runtime::validation::json_equal;
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
    /// The generator rejects one of the documents, so its types cannot be compared
    /// (breaking when it is the new one: `cargo xtask regen` fails on it).
    NotGenerated {
        /// `old` or `new`.
        document: String,
        /// The generator's error: the file, the JSON Pointer and what is wrong.
        message: String,
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
    /// `minLength`, `maxLength`, `minItems`, `maxItems`, `multipleOf`, `uniqueItems`) of
    /// the generated validation changed. Exclusive bounds are given in the JSON Schema
    /// 2020 form (the bound itself), whatever form the document used.
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
    /// The documentation changed: the description, else the title (what the
    /// generated doc comment shows).
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
            Self::NotGenerated { document, message } => {
                write!(f, "the generator rejects the {document} document: {message}")
            }
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
///
/// Each document is lowered on its own ([`fal_codegen::lower::lower`]) and the two
/// [`ir::Api`](fal_codegen::ir::Api) models are compared. A document the generator
/// rejects is reported as [`ChangeKind::NotGenerated`].
pub fn diff_documents(endpoint_id: &str, old: Option<&Value>, new: Option<&Value>) -> EndpointChanges {
    let old_api = old.map(|d| lower_document(endpoint_id, "old", d));
    let new_api = new.map(|d| lower_document(endpoint_id, "new", d));
    compare_endpoint(
        endpoint_id,
        &Side::of(old_api.as_ref(), endpoint_id),
        &Side::of(new_api.as_ref(), endpoint_id),
        old != new,
    )
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

/// Runs one document through the generator's front end (no Rust is emitted: the
/// comparison needs the model only, and lowering is about four times faster than
/// generating).
fn lower_document(endpoint_id: &str, label: &str, document: &Value) -> Result<Api, GenError> {
    Ok(fal_codegen::lower::lower(&[source(endpoint_id, label, document)])?.api)
}

/// The generator's input for one document; `label` says which side it is in errors.
fn source(endpoint_id: &str, label: &str, document: &Value) -> Source {
    Source {
        endpoint_id: endpoint_id.to_owned(),
        file: format!("{} ({label})", schema_path(endpoint_id)),
        text: document.to_string(),
    }
}

/// The changes of one endpoint between two sides.
fn compare_endpoint(endpoint_id: &str, old: &Side<'_>, new: &Side<'_>, document_changed: bool) -> EndpointChanges {
    let keys = |side: &Side<'_>| match side {
        Side::Lowered(model) => (model.input().map(|d| model.key_of(d)), model.output().map(|d| model.key_of(d))),
        _ => (None, None),
    };
    let ((old_input, old_output), (new_input, new_output)) = (keys(old), keys(new));
    let mut result = EndpointChanges {
        endpoint_id: endpoint_id.to_owned(),
        input: new_input.or(old_input),
        output: new_output.or(old_output),
        document_changed,
        changes: Vec::new(),
    };
    let change = match (old, new) {
        (Side::Absent, Side::Absent) => return result,
        (Side::Absent, _) => {
            endpoint_change(ChangeKind::EndpointAdded, Severity::NonBreaking, "a new module and types")
        }
        (_, Side::Absent) => endpoint_change(
            ChangeKind::EndpointRemoved,
            Severity::Breaking,
            "its module and types disappear from the crate",
        ),
        (_, Side::Rejected(message)) => endpoint_change(
            ChangeKind::NotGenerated { document: "new".to_owned(), message: message.clone() },
            Severity::Breaking,
            "`cargo xtask regen` fails on it: fix the document (or the generator) before releasing",
        ),
        (Side::Rejected(message), Side::Lowered(_)) => endpoint_change(
            ChangeKind::NotGenerated { document: "old".to_owned(), message: message.clone() },
            Severity::NonBreaking,
            "the old types cannot be compared; the new document generates",
        ),
        (Side::Lowered(old), Side::Lowered(new)) => {
            let mut differ = Differ { old: *old, new: *new, changes: Vec::new() };
            differ.compare();
            result.changes = differ.changes;
            return result;
        }
    };
    result.changes.push(change);
    result
}

/// One endpoint on one side of a comparison.
enum Side<'a> {
    /// The endpoint does not exist on this side.
    Absent,
    /// The generator rejects its document, with this message.
    Rejected(String),
    /// The generator's model of it.
    Lowered(Model<'a>),
}

impl<'a> Side<'a> {
    fn of(api: Option<&'a Result<Api, GenError>>, endpoint_id: &str) -> Self {
        match api {
            None => Self::Absent,
            Some(Err(e)) => Self::Rejected(e.to_string()),
            Some(Ok(api)) => Self::in_api(api, endpoint_id),
        }
    }

    fn in_api(api: &'a Api, endpoint_id: &str) -> Self {
        match api.endpoints.iter().find(|e| e.id == endpoint_id) {
            Some(endpoint) => Self::Lowered(Model { endpoint, shared: &api.shared }),
            None => Self::Absent,
        }
    }
}

/// The generator's models of every document on one side of [`diff_workspace`].
enum Lowering {
    /// All documents lowered together, as `cargo xtask regen` does.
    Whole(Api),
    /// The generator rejects a document: each one lowered on its own, so that the
    /// rejection is reported for its endpoint only.
    PerDocument(Vec<(String, Result<Api, GenError>)>),
}

impl Lowering {
    fn of(documents: &[(String, Option<Value>)], label: &str) -> Self {
        let present = documents.iter().filter_map(|(id, doc)| doc.as_ref().map(|doc| (id, doc)));
        let sources: Vec<Source> = present.clone().map(|(id, doc)| source(id, label, doc)).collect();
        match fal_codegen::lower::lower(&sources) {
            Ok(lowered) => Self::Whole(lowered.api),
            Err(_) => {
                Self::PerDocument(present.map(|(id, doc)| (id.clone(), lower_document(id, label, doc))).collect())
            }
        }
    }

    fn side(&self, endpoint_id: &str) -> Side<'_> {
        match self {
            Self::Whole(api) => Side::in_api(api, endpoint_id),
            Self::PerDocument(apis) => {
                Side::of(apis.iter().find(|(id, _)| id == endpoint_id).map(|(_, api)| api), endpoint_id)
            }
        }
    }
}

const COMPONENTS: &str = "#/components/schemas/";

/// The component key of a type lowered from `#/components/schemas/<key>` (the
/// generator records each type's JSON Pointer); `None` for inline types.
fn component_key(def: &TypeDef) -> Option<String> {
    let key = def.pointer.strip_prefix(COMPONENTS).filter(|k| !k.is_empty() && !k.contains('/'))?;
    Some(key.replace("~1", "/").replace("~0", "~"))
}

/// What a [`TypeName`] refers to.
enum Named<'a> {
    /// A component's type, by component key.
    Component(String),
    /// A type lowered from an inline schema (an enum, a nested object, a union).
    Inline(&'a TypeDef),
    /// Not in the model (does not happen for the generator's output).
    Missing,
}

/// One endpoint of a lowered model: its module's types and the shared ones.
#[derive(Clone, Copy)]
struct Model<'a> {
    endpoint: &'a Endpoint,
    shared: &'a [TypeDef],
}

impl<'a> Model<'a> {
    fn def(&self, name: &TypeName) -> Option<&'a TypeDef> {
        let defs = match name.scope {
            Scope::Local => self.endpoint.types.as_slice(),
            Scope::Shared => self.shared,
        };
        defs.iter().find(|d| d.name == name.name)
    }

    fn named(&self, name: &TypeName) -> Named<'a> {
        match self.def(name) {
            Some(def) => component_key(def).map_or(Named::Inline(def), Named::Component),
            None => Named::Missing,
        }
    }

    fn input(&self) -> Option<&'a TypeDef> {
        self.endpoint.types.iter().find(|d| d.name == self.endpoint.input)
    }

    fn output(&self) -> Option<&'a TypeDef> {
        self.endpoint.types.iter().find(|d| d.name == self.endpoint.output)
    }

    /// A type's component key, else its Rust name.
    fn key_of(&self, def: &TypeDef) -> String {
        component_key(def).unwrap_or_else(|| def.name.clone())
    }

    /// The components reachable from `root` (by component key, with the type this
    /// endpoint uses), `root` first, in field order, depth first.
    fn reachable(&self, root: Option<&'a TypeDef>) -> Vec<(String, &'a TypeDef)> {
        fn visit<'a>(
            model: &Model<'a>,
            def: &'a TypeDef,
            seen: &mut Vec<&'a TypeDef>,
            out: &mut Vec<(String, &'a TypeDef)>,
        ) {
            // By identity: inline types are told apart by where they sit, not by their name.
            if seen.iter().any(|d| std::ptr::eq(*d, def)) {
                return;
            }
            seen.push(def);
            if let Some(key) = component_key(def)
                && !out.iter().any(|(k, _)| *k == key)
            {
                out.push((key, def));
            }
            let types: Vec<&Type> = match &def.kind {
                TypeKind::Struct { fields } => fields.iter().map(|f| &f.ty).collect(),
                TypeKind::Union { variants } => variants.iter().map(|v| &v.ty).collect(),
                TypeKind::StringEnum { .. } | TypeKind::IntegerEnum { .. } => Vec::new(),
            };
            for mut ty in types {
                while let Kind::Array(inner) | Kind::Map(inner) = &ty.kind {
                    ty = inner;
                }
                if let Kind::Named(name) = &ty.kind
                    && let Some(def) = model.def(name)
                {
                    visit(model, def, seen, out);
                }
            }
        }
        let mut out = Vec::new();
        if let Some(root) = root {
            visit(self, root, &mut Vec::new(), &mut out);
        }
        out
    }

    /// A type as a short string, e.g. `string`, `enum<integer>`, `array<File>`,
    /// `ImageSize | enum<string>`: a component by its key, an inline type by its shape.
    /// Optionality and nullability are not part of it.
    fn type_desc(&self, ty: &Type) -> String {
        match &ty.kind {
            Kind::Boolean => "boolean".to_owned(),
            Kind::Integer => "integer".to_owned(),
            Kind::Number => "number".to_owned(),
            Kind::String => "string".to_owned(),
            Kind::Array(item) => format!("array<{}>", self.type_desc(item)),
            Kind::Map(value) => format!("map<{}>", self.type_desc(value)),
            Kind::Json { .. } => "any".to_owned(),
            Kind::Named(name) => match self.named(name) {
                Named::Component(key) => key,
                Named::Inline(def) => self.def_desc(def),
                Named::Missing => name.name.clone(),
            },
        }
    }

    /// The shape of a named type, as [`Model::type_desc`] writes it.
    fn def_desc(&self, def: &TypeDef) -> String {
        match &def.kind {
            TypeKind::Struct { .. } => "object".to_owned(),
            TypeKind::StringEnum { .. } => "enum<string>".to_owned(),
            TypeKind::IntegerEnum { .. } => "enum<integer>".to_owned(),
            // A component that is neither an object, an enum nor a union is wrapped in
            // a one-branch union named after it: its shape is the branch's.
            TypeKind::Union { variants } => {
                variants.iter().map(|v| self.type_desc(&v.ty)).collect::<Vec<_>>().join(" | ")
            }
        }
    }
}

/// The constraints of a type as JSON Schema keywords and values.
fn range_keywords(c: &Constraints) -> [(&'static str, Option<Value>); 10] {
    [
        ("minimum", c.minimum.map(number)),
        ("exclusiveMinimum", c.exclusive_minimum.map(number)),
        ("maximum", c.maximum.map(number)),
        ("exclusiveMaximum", c.exclusive_maximum.map(number)),
        ("minLength", c.min_length.map(Value::from)),
        ("maxLength", c.max_length.map(Value::from)),
        ("minItems", c.min_items.map(Value::from)),
        ("maxItems", c.max_items.map(Value::from)),
        ("multipleOf", c.multiple_of.map(number)),
        ("uniqueItems", c.unique_items.then_some(Value::Bool(true))),
    ]
}

/// A bound as JSON: whole numbers as integers (`50`, not `50.0`), as fal writes them.
fn number(x: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53: every whole f64 below it is an exact i64.
    if x.fract() == 0.0 && x.abs() < EXACT {
        #[allow(clippy::cast_possible_truncation)]
        Value::from(x as i64)
    } else {
        Value::from(x)
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
    old: Model<'a>,
    new: Model<'a>,
    changes: Vec<Change>,
}

impl<'a> Differ<'a> {
    fn push(&mut self, location: &str, role: Role, kind: ChangeKind, rule: &Rule) {
        let (severity, why) = rule.apply(role);
        self.changes.push(Change { location: location.to_owned(), role, kind, severity, why: why.to_owned() });
    }

    fn compare(&mut self) {
        let (old, new) = (self.old, self.new);
        let old_in = old.reachable(old.input());
        let old_out = old.reachable(old.output());
        let new_in = new.reachable(new.input());
        let new_out = new.reachable(new.output());
        let listed = |list: &[(String, &TypeDef)], key: &str| list.iter().any(|(k, _)| k == key);

        // The roots: compared with each other even when renamed.
        let mut roots = Vec::new();
        for (which, old_root, new_root, role) in
            [("input", old.input(), new.input(), Role::Input), ("output", old.output(), new.output(), Role::Output)]
        {
            let (Some(o), Some(n)) = (old_root, new_root) else { continue };
            let (old_key, new_key) = (old.key_of(o), new.key_of(n));
            if old_key != new_key {
                self.push(
                    which,
                    role,
                    ChangeKind::ComponentRenamed { from: old_key.clone(), to: new_key.clone() },
                    &Rule::same(Severity::Breaking, "the Rust type is renamed"),
                );
            }
            self.component(&new_key, role, o, n);
            roots.push(old_key);
            roots.push(new_key);
        }

        // Every other reachable component, in the new model's order, then removed ones.
        let mut keys: Vec<&str> = Vec::new();
        for (key, _) in new_in.iter().chain(&new_out).chain(&old_in).chain(&old_out) {
            if !keys.contains(&key.as_str()) && !roots.contains(key) {
                keys.push(key);
            }
        }
        for key in keys {
            let role =
                Role::of(listed(&old_in, key) || listed(&new_in, key), listed(&old_out, key) || listed(&new_out, key));
            let find = |lists: [&[(String, &'a TypeDef)]; 2]| {
                lists.into_iter().flatten().find(|(k, _)| k == key).map(|(_, def)| *def)
            };
            match (find([&old_in, &old_out]), find([&new_in, &new_out])) {
                (Some(o), Some(n)) => self.component(key, role, o, n),
                (None, Some(_)) => self.push(
                    key,
                    role,
                    ChangeKind::TypeAdded,
                    &Rule::same(Severity::NonBreaking, "a new type; the fields that use it are listed separately"),
                ),
                (Some(_), None) => self.push(
                    key,
                    role,
                    ChangeKind::TypeRemoved,
                    &Rule::same(Severity::NonBreaking, "the fields that used it are listed separately"),
                ),
                (None, None) => {}
            }
        }
    }

    /// Compares two versions of a component's type at `location` (its key).
    fn component(&mut self, location: &str, role: Role, old: &'a TypeDef, new: &'a TypeDef) {
        let (o, n) = (self.old.def_desc(old), self.new.def_desc(new));
        if o == n {
            self.body(location, role, old, new);
        } else {
            self.push(
                location,
                role,
                ChangeKind::TypeChanged { from: o, to: n },
                &Rule::same(Severity::Breaking, "the Rust type changes"),
            );
        }
        self.docs(location, role, old.docs.as_ref(), new.docs.as_ref());
    }

    /// Compares the contents of two named types of the same shape: fields, enum values, union branches.
    fn body(&mut self, location: &str, role: Role, old: &'a TypeDef, new: &'a TypeDef) {
        match (&old.kind, &new.kind) {
            (TypeKind::Struct { fields: o }, TypeKind::Struct { fields: n }) => self.fields(location, role, o, n),
            (TypeKind::StringEnum { variants: o, .. }, TypeKind::StringEnum { variants: n, .. }) => {
                let values = |v: &[StringVariant]| v.iter().map(|v| Value::from(v.wire.as_str())).collect::<Vec<_>>();
                self.enums(location, role, &values(o), &values(n), false);
            }
            (TypeKind::IntegerEnum { variants: o }, TypeKind::IntegerEnum { variants: n }) => {
                let values = |v: &[IntegerVariant]| v.iter().map(|v| Value::from(v.value)).collect::<Vec<_>>();
                self.enums(location, role, &values(o), &values(n), true);
            }
            (TypeKind::Union { variants: o }, TypeKind::Union { variants: n }) => {
                for (o, n) in o.iter().zip(n) {
                    self.ty(location, role, &o.ty, &n.ty);
                }
            }
            _ => {}
        }
    }

    /// Compares two type expressions at `location` (a field, array items, map values…).
    fn ty(&mut self, location: &str, role: Role, old: &'a Type, new: &'a Type) {
        let (o, n) = (self.old.type_desc(old), self.new.type_desc(new));
        if o != n {
            self.push(
                location,
                role,
                ChangeKind::TypeChanged { from: o, to: n },
                &Rule::same(Severity::Breaking, "the Rust type changes"),
            );
            return;
        }
        match (&old.kind, &new.kind) {
            // An inline type is part of the field: its contents are compared here. A
            // component (same key, as the descriptions are equal) is compared on its own.
            (Kind::Named(o), Kind::Named(n)) => {
                if let (Named::Inline(o), Named::Inline(n)) = (self.old.named(o), self.new.named(n)) {
                    self.body(location, role, o, n);
                }
            }
            (Kind::Array(o), Kind::Array(n)) => self.ty(&format!("{location}[]"), role, o, n),
            (Kind::Map(o), Kind::Map(n)) => self.ty(&format!("{location}{{}}"), role, o, n),
            _ => {}
        }
        self.ranges(location, role, &old.constraints, &new.constraints);
    }

    fn docs(&mut self, location: &str, role: Role, old: Option<&String>, new: Option<&String>) {
        if old != new {
            self.push(location, role, ChangeKind::DescriptionChanged, &Rule::same(Severity::Minor, ""));
        }
    }

    fn enums(&mut self, location: &str, role: Role, old_values: &[Value], new_values: &[Value], integer: bool) {
        for value in new_values.iter().filter(|v| !old_values.iter().any(|w| json_equal(v, w))) {
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
        for value in old_values.iter().filter(|v| !new_values.iter().any(|w| json_equal(v, w))) {
            self.push(
                location,
                role,
                ChangeKind::EnumValueRemoved(value.clone()),
                &Rule::same(Severity::Breaking, "its variant disappears"),
            );
        }
    }

    fn ranges(&mut self, location: &str, role: Role, old: &Constraints, new: &Constraints) {
        for ((keyword, old), (_, new)) in range_keywords(old).into_iter().zip(range_keywords(new)) {
            let same = match (&old, &new) {
                (Some(a), Some(b)) => json_equal(a, b),
                (None, None) => true,
                _ => false,
            };
            if same {
                continue;
            }
            let tight = tightened(keyword, old.as_ref(), new.as_ref());
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
            let kind = ChangeKind::RangeChanged { keyword: keyword.to_owned(), from: old, to: new, tightened: tight };
            self.push(location, role, kind, &rule);
        }
    }

    /// The default a field documents: the one the generator emits as `DEFAULT_*`, else
    /// the one it rejected (documented only).
    fn default(&mut self, location: &str, role: Role, old: &Field, new: &Field) {
        fn value(f: &Field) -> Option<&Value> {
            f.default.as_ref().or(f.rejected_default.as_ref().map(|(v, _)| v))
        }
        let (old_value, new_value) = (value(old), value(new));
        let rule = match (old.default.is_some(), new.default.is_some()) {
            (true, false) => Rule::same(Severity::Breaking, "its `DEFAULT_*` constant disappears"),
            (false, true) => Rule::same(Severity::NonBreaking, "a new `DEFAULT_*` constant"),
            (emitted, _) => match (old_value, new_value) {
                (None, None) => return,
                (Some(a), Some(b)) if json_equal(a, b) => return,
                _ if emitted => {
                    Rule::same(Severity::NonBreaking, "fal applies a different value when the field is unset")
                }
                _ => Rule::same(Severity::NonBreaking, "the generator rejects the default: it is documented only"),
            },
        };
        self.push(
            location,
            role,
            ChangeKind::DefaultChanged { from: old_value.cloned(), to: new_value.cloned() },
            &rule,
        );
    }

    fn fields(&mut self, location: &str, role: Role, old_fields: &'a [Field], new_fields: &'a [Field]) {
        for new in new_fields {
            let here = format!("{location}.{}", new.wire);
            let Some(old) = old_fields.iter().find(|f| f.wire == new.wire) else {
                let rule = if new.required {
                    Rule {
                        input: Severity::Breaking,
                        input_why: "`new` gains a parameter",
                        output: Severity::NonBreaking,
                        output_why: "output structs are `#[non_exhaustive]`",
                    }
                } else {
                    Rule::same(Severity::NonBreaking, "structs are `#[non_exhaustive]`; the field is an `Option`")
                };
                self.push(&here, role, ChangeKind::FieldAdded { required: new.required }, &rule);
                continue;
            };
            // The field is an `Option` in Rust when it is optional or nullable.
            let option_changes = (!old.required || old.nullable) != (!new.required || new.nullable);
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
            if old.required != new.required {
                let mut rule = option_rule(!new.required);
                rule.input = Severity::Breaking;
                rule.input_why = if new.required {
                    "`new` gains a parameter; code that left the field unset must set it"
                } else {
                    "`new` loses a parameter"
                };
                let kind = if new.required { ChangeKind::MadeRequired } else { ChangeKind::MadeOptional };
                self.push(&here, role, kind, &rule);
            }
            if old.nullable != new.nullable {
                let kind = if new.nullable { ChangeKind::MadeNullable } else { ChangeKind::MadeNonNullable };
                self.push(&here, role, kind, &option_rule(new.nullable));
            }
            self.ty(&here, role, &old.ty, &new.ty);
            self.default(&here, role, old, new);
            self.docs(&here, role, old.docs.as_ref(), new.docs.as_ref());
        }
        for old in old_fields.iter().filter(|o| !new_fields.iter().any(|n| n.wire == o.wire)) {
            self.push(
                &format!("{location}.{}", old.wire),
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
/// Each side's documents are lowered together by the generator, as `cargo xtask regen`
/// does, and endpoints are compared by id. When the generator rejects a document of a
/// side, that side's documents are lowered one by one and the rejected endpoint is
/// reported as [`ChangeKind::NotGenerated`].
///
/// # Errors
///
/// A manifest or document cannot be read or parsed, or `git` fails for [`Baseline::Head`].
pub fn diff_workspace(root: &Path, baseline: &Baseline) -> Result<ChangeReport, Error> {
    let old = baseline_documents(root, baseline)?;
    let current = crate::endpoint_ids(root)?;
    let mut new = Vec::new();
    for id in &current {
        let path = root.join(schema_path(id));
        let document = match fs::read_to_string(&path) {
            Ok(text) => Some(parse(&path.display().to_string(), &text)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(Error::Io { path, source }),
        };
        new.push((id.clone(), document));
    }
    let document = |side: &[(String, Option<Value>)], id: &str| {
        side.iter().find(|(o, _)| o == id).and_then(|(_, d)| d.as_ref()).cloned()
    };
    let mut ids: Vec<String> = current.clone();
    ids.extend(old.iter().map(|(id, _)| id.clone()).filter(|id| !current.contains(id)));
    ids.retain(|id| document(&old, id) != document(&new, id));
    let mut report = ChangeReport::default();
    if ids.is_empty() {
        return Ok(report);
    }
    let (old_models, new_models) = (Lowering::of(&old, "baseline"), Lowering::of(&new, "working tree"));
    for id in ids {
        report.endpoints.push(compare_endpoint(&id, &old_models.side(&id), &new_models.side(&id), true));
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
            "info": { "title": "t", "version": "1" },
            "paths": {
                "/o/a": { "post": { "requestBody": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/In" } } } }, "responses": {} } },
                "/o/a/requests/{request_id}": { "get": { "responses": { "200": { "description": "ok", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Out" } } } } } } }
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
                "video": {"allOf": [{"$ref": "#/components/schemas/File"}], "description": "The video."},
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
        assert_eq!((report.input.as_deref(), report.output.as_deref()), (Some("In"), Some("Out")));
        assert!(diff("o/a", &base(), &base()).is_empty());
    }

    #[test]
    fn allof_ref_equals_ref_and_anyof_null_is_nullability() {
        let report = changes(|d| {
            d["components"]["schemas"]["Out"]["properties"]["video"] =
                json!({"$ref": "#/components/schemas/File", "description": "The video."});
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
        assert_eq!(sev(|d| input(d)["properties"]["steps"]["default"] = json!(20)), Severity::NonBreaking);
        assert_eq!(
            sev(|d| input(d)["properties"]["steps"]["default"] = json!(70)),
            Severity::Breaking,
            "out of range: dropped"
        );
        assert_eq!(sev(|d| input(d)["properties"]["steps"]["type"] = json!("number")), Severity::Breaking);
        let unchanged = changes(|d| d["components"]["schemas"]["In"]["properties"]["steps"]["maximum"] = json!(50.0));
        assert!(unchanged.changes.is_empty(), "50 and 50.0 are the same bound: {:?}", unchanged.changes);
        let exclusive = changes(|d| input(d)["properties"]["steps"]["exclusiveMaximum"] = json!(50));
        let kinds: Vec<String> = exclusive.changes.iter().map(|c| c.kind.to_string()).collect();
        assert_eq!(kinds, ["`maximum` loosened `50` → none", "`exclusiveMaximum` tightened none → `50`"]);
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
    fn components_renamed_added_and_removed() {
        let report = changes(|d| {
            let schemas = d["components"]["schemas"].as_object_mut().expect("schemas");
            let file = schemas.shift_remove("File").expect("File");
            schemas.insert("VideoFile".to_owned(), file);
            let text = d.to_string().replace("#/components/schemas/File", "#/components/schemas/VideoFile");
            *d = serde_json::from_str(&text).expect("JSON");
        });
        let kind = |loc: &str| report.find(loc, |_| true).map(|c| (c.kind.clone(), c.severity));
        assert_eq!(
            kind("In.file"),
            Some((ChangeKind::TypeChanged { from: "File".into(), to: "VideoFile".into() }, Severity::Breaking))
        );
        assert_eq!(kind("VideoFile"), Some((ChangeKind::TypeAdded, Severity::NonBreaking)));
        assert_eq!(kind("File"), Some((ChangeKind::TypeRemoved, Severity::NonBreaking)));
    }

    #[test]
    fn a_document_the_generator_rejects_is_breaking() {
        let report = changes(|d| {
            d["paths"].as_object_mut().expect("paths").shift_remove("/o/a/requests/{request_id}");
        });
        assert_eq!(report.changes.len(), 1, "{:?}", report.changes);
        let change = &report.changes[0];
        assert!(matches!(&change.kind, ChangeKind::NotGenerated { document, .. } if document == "new"), "{change}");
        assert!(change.to_string().contains("queue result path"), "the generator's reason is shown: {change}");
        assert!(report.is_breaking());
        assert_eq!(report.output.as_deref(), Some("Out"), "the old document's output");
    }

    #[test]
    fn tightening() {
        assert!(tightened("maximum", Some(&json!(10)), Some(&json!(5))));
        assert!(!tightened("maximum", Some(&json!(10)), None));
        assert!(tightened("minLength", None, Some(&json!(1))));
        assert!(tightened("multipleOf", Some(&json!(2)), Some(&json!(4))), "4, 8, … is fewer than 2, 4, 6, …");
        assert!(!tightened("multipleOf", Some(&json!(4)), Some(&json!(2))));
        assert!(tightened("multipleOf", Some(&json!(0.5)), Some(&json!(0.2))));
        assert!(tightened("uniqueItems", None, Some(&json!(true))));
        assert!(!tightened("uniqueItems", Some(&json!(true)), None));
    }

    #[test]
    fn bounds_print_as_fal_writes_them() {
        assert_eq!(number(50.0), json!(50));
        assert_eq!(number(-3.0), json!(-3));
        assert_eq!(number(0.05), json!(0.05));
        assert_eq!(number(1e300), json!(1e300));
    }
}
