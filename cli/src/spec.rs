//! The types of the generated tables (`generated/`): an endpoint's
//! subcommand and the shape of each of its flags' values. The generator
//! (`fal_codegen::emit::cli`) writes only these tables; every behaviour
//! lives in the hand-written modules.

use fal_ltx::Endpoint;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// One endpoint's subcommand, `fal-ltx <family> <command>`.
#[derive(Debug)]
pub struct EndpointSpec {
    /// The endpoint id, such as `fal-ai/ltx-2.3/text-to-video`.
    pub id: &'static str,
    /// The family subcommand: the generated family module with `-` (`ltx-2-3`).
    pub family: &'static str,
    /// The endpoint subcommand: the generated endpoint module with `-` (`text-to-video`).
    pub command: &'static str,
    /// One line for `--help`: the id, its category and the schema's description.
    pub about: &'static str,
    /// The input's fields, in the schema's order: one flag each.
    pub fields: &'static [FieldSpec],
}

/// One field of an input object: a flag at the top level, a `key=value` key in a nested object.
#[derive(Debug)]
pub struct FieldSpec {
    /// The JSON key, such as `num_frames` (the flag is `--num-frames`).
    pub wire: &'static str,
    /// The help text: description, required, default, range, syntax.
    pub help: &'static str,
    /// Required by the schema (and not nullable).
    pub required: bool,
    /// Takes a file URL: a local path given here is uploaded first.
    pub file: bool,
    /// The value's shape.
    pub value: ValueSpec,
}

impl FieldSpec {
    /// A field (the generated tables call this).
    pub const fn new(wire: &'static str, help: &'static str, required: bool, file: bool, value: ValueSpec) -> Self {
        Self { wire, help, required, file, value }
    }

    /// The flag's name without `--`: the JSON key with `-` for `_`.
    pub fn flag(&self) -> String {
        self.wire.replace('_', "-").to_ascii_lowercase()
    }
}

/// The shape of a value, and so how its text on the command line is parsed
/// (see [`crate::parse`]).
#[derive(Debug)]
pub enum ValueSpec {
    /// `true` / `false`.
    Bool,
    /// A whole number.
    Integer,
    /// A number.
    Number,
    /// Text, as given.
    String,
    /// Any JSON value, written as JSON.
    #[allow(dead_code, reason = "the tables use it only for a schema's untyped fields")]
    Json,
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// One of these integers.
    IntEnum(&'static [i64]),
    /// An object: `key=value,key=value` (or a JSON object).
    Object(&'static [FieldSpec]),
    /// A list: the flag repeated, one item each.
    List(&'static ValueSpec),
    /// The first of these shapes that parses.
    Union(&'static [ValueSpec]),
}

/// Something done with one endpoint's generated types, chosen at run time by
/// endpoint id (`generated::visit`).
pub trait Visit {
    /// What the visit returns.
    type Output;
    /// Called with the endpoint's marker type.
    fn visit<E: Endpoint>(self) -> Self::Output
    where
        E::Input: DeserializeOwned,
        E::Output: Serialize;
}
