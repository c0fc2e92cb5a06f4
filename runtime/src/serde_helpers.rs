//! The `Serialize` and `Deserialize` bodies of the generated types, written
//! once here instead of derived per type.
//!
//! A derived `Deserialize` expands to a field enum, a visitor and a sequence
//! and a map decoder per type: most of a generated crate's code. The generated
//! impls instead call the generic functions below with the type's tables (its
//! JSON keys, its enum values), so the per-type code is a few lines per field
//! and the compiler checks each decoder once.
//!
//! Decoding an *input* type accepts exactly what the endpoint's JSON Schema
//! accepts (up to the documented exceptions of [`validation`](crate::validation)),
//! where serde's derives are more lenient:
//!
//! - an object schema accepts only a JSON object, not an array of its field
//!   values ([`object`]);
//! - an optional property that is not nullable must not be `null` (the
//!   generated decoder reads it as `T`, not `Option<T>`), and a required
//!   nullable one must be present ([`required`]);
//! - an enum accepts only its values as JSON strings or integers, not the
//!   `{"value": null}` map form serde accepts for unit variants
//!   ([`string_enum`], [`integer_enum`]).
//!
//! *Output* types are decoded leniently: a `null` where the document promises
//! an optional value reads as `None`, so it does not fail a finished request.
//!
//! Not part of the stable API: the generator calls these.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

/// A generated struct decoded field by field from a JSON object by [`object`].
pub trait Object: Sized {
    /// The Rust name of the struct, for error messages (`expected struct …`).
    const NAME: &'static str;
    /// The JSON keys of the fields, in declaration order: [`next_field`]
    /// returns indexes into this table.
    const FIELDS: &'static [&'static str];

    /// Reads the object's entries (with [`next_field`], [`value`] and
    /// [`required`]) and builds the struct.
    ///
    /// # Errors
    ///
    /// When a value has the wrong type, a key appears twice, or a required
    /// key is missing.
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
}

/// `Deserialize::deserialize` of an [`Object`]: accepts only a JSON object
/// (a map), unknown keys ignored.
///
/// # Errors
///
/// When the input is not a map, or [`Object::from_map`] fails.
pub fn object<'de, D: Deserializer<'de>, T: Object>(deserializer: D) -> Result<T, D::Error> {
    struct ObjectVisitor<T>(PhantomData<T>);

    impl<'de, T: Object> Visitor<'de> for ObjectVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "struct {}", T::NAME)
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::from_map(map)
        }
    }

    deserializer.deserialize_map(ObjectVisitor(PhantomData))
}

/// The next key of `map` that is one of `fields`, as its index; the value of
/// every other key on the way is skipped. `None` at the end of the map.
///
/// # Errors
///
/// When a key is not a string, or a skipped value is malformed.
pub fn next_field<'de, A: MapAccess<'de>>(
    map: &mut A,
    fields: &'static [&'static str],
) -> Result<Option<usize>, A::Error> {
    /// Decodes a key to `Some(index)` in `fields`, or `None` when unknown.
    struct FieldSeed(&'static [&'static str]);

    impl<'de> DeserializeSeed<'de> for FieldSeed {
        type Value = Option<usize>;

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_identifier(self)
        }
    }

    impl<'de> Visitor<'de> for FieldSeed {
        type Value = Option<usize>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a field name")
        }

        fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
            Ok(self.0.iter().position(|field| *field == key))
        }

        fn visit_bytes<E: de::Error>(self, key: &[u8]) -> Result<Self::Value, E> {
            Ok(self.0.iter().position(|field| field.as_bytes() == key))
        }
    }

    while let Some(found) = map.next_key_seed(FieldSeed(fields))? {
        match found {
            Some(index) => return Ok(Some(index)),
            None => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(None)
}

/// Reads the value of the key [`next_field`] just returned into `slot`, as a
/// `T` (so `null` is accepted only when `T` accepts it: read an `Option<T>`
/// for a nullable or leniently decoded property).
///
/// # Errors
///
/// When the value is not a `T`, or `slot` is already filled: the key
/// `field` appeared twice.
pub fn value<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    field: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(field));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

/// The value of a required property: `slot` filled by [`value`].
///
/// # Errors
///
/// `missing field` when the key `field` was not in the object.
pub fn required<E: de::Error, T>(slot: Option<T>, field: &'static str) -> Result<T, E> {
    slot.ok_or_else(|| E::missing_field(field))
}

/// `Deserialize::deserialize` of a generated string enum: the JSON string
/// `name(value)` of one of `values`.
///
/// # Errors
///
/// When the input is not a string, or not one of the values (`unknown
/// variant`, listing them).
pub fn string_enum<'de, D: Deserializer<'de>, T: Copy + 'static>(
    deserializer: D,
    values: &'static [T],
    name: fn(T) -> &'static str,
) -> Result<T, D::Error> {
    struct EnumVisitor<T: 'static> {
        values: &'static [T],
        name: fn(T) -> &'static str,
    }

    impl<T: Copy + 'static> EnumVisitor<T> {
        fn one_of(&self) -> OneOf<'_, T, &'static str> {
            OneOf { values: self.values, show: self.name }
        }
    }

    impl<T: Copy + 'static> Visitor<'_> for EnumVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}", self.one_of())
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
            match self.values.iter().copied().find(|v| (self.name)(*v) == value) {
                Some(found) => Ok(found),
                None => Err(E::custom(format_args!("unknown variant `{value}`, expected {}", self.one_of()))),
            }
        }
    }

    deserializer.deserialize_str(EnumVisitor { values, name })
}

/// `Deserialize::deserialize` of a generated integer enum: the JSON integer
/// `number(value)` of one of `values`.
///
/// # Errors
///
/// When the input is not an integer in `i64`, or not one of the values
/// (listing them).
pub fn integer_enum<'de, D: Deserializer<'de>, T: Copy + 'static>(
    deserializer: D,
    values: &'static [T],
    number: fn(T) -> i64,
) -> Result<T, D::Error> {
    let value = i64::deserialize(deserializer)?;
    values.iter().copied().find(|v| number(*v) == value).ok_or_else(|| {
        de::Error::invalid_value(de::Unexpected::Signed(value), &OneOf { values, show: number }.to_string().as_str())
    })
}

/// "one of `a`, `b`": the values of an enum, as serde lists expected variants.
struct OneOf<'a, T, S> {
    values: &'a [T],
    show: fn(T) -> S,
}

impl<T: Copy, S: fmt::Display> fmt::Display for OneOf<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self.values.iter().map(|v| format!("`{}`", (self.show)(*v))).collect();
        match shown.as_slice() {
            [] => f.write_str("no value (the enum is empty)"),
            [one] => f.write_str(one),
            [a, b] => write!(f, "{a} or {b}"),
            _ => write!(f, "one of {}", shown.join(", ")),
        }
    }
}

/// Visits the fields of a generated type that take a file URL (`image_url`,
/// `video_urls`, a LoRA's `path`), through nested structs, lists and
/// options. Generated for every struct; [`EndpointInput::file_urls`](crate::EndpointInput::file_urls)
/// and [`file_urls_mut`](crate::EndpointInput::file_urls_mut) call it. A
/// `String` is a file URL itself: the generated code calls this only on file
/// fields.
pub trait FileFields {
    /// Calls `visit` with every file URL.
    fn visit_files(&self, visit: &mut dyn FnMut(&str));
    /// Calls `visit` with every file URL, to replace it.
    fn visit_files_mut(&mut self, visit: &mut dyn FnMut(&mut String));
}

impl FileFields for String {
    fn visit_files(&self, visit: &mut dyn FnMut(&str)) {
        visit(self);
    }

    fn visit_files_mut(&mut self, visit: &mut dyn FnMut(&mut String)) {
        visit(self);
    }
}

impl<T: FileFields> FileFields for Option<T> {
    fn visit_files(&self, visit: &mut dyn FnMut(&str)) {
        if let Some(value) = self {
            value.visit_files(visit);
        }
    }

    fn visit_files_mut(&mut self, visit: &mut dyn FnMut(&mut String)) {
        if let Some(value) = self {
            value.visit_files_mut(visit);
        }
    }
}

impl<T: FileFields> FileFields for Vec<T> {
    fn visit_files(&self, visit: &mut dyn FnMut(&str)) {
        self.iter().for_each(|value| value.visit_files(visit));
    }

    fn visit_files_mut(&mut self, visit: &mut dyn FnMut(&mut String)) {
        self.iter_mut().for_each(|value| value.visit_files_mut(visit));
    }
}

impl<T: FileFields> FileFields for Box<T> {
    fn visit_files(&self, visit: &mut dyn FnMut(&str)) {
        (**self).visit_files(visit);
    }

    fn visit_files_mut(&mut self, visit: &mut dyn FnMut(&mut String)) {
        (**self).visit_files_mut(visit);
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde::de::MapAccess;
    use serde_json::json;

    /// What the generator emits for `{width?: integer, label: string|null (required), tags?: [string]|null}`.
    #[derive(Debug, PartialEq)]
    struct Size {
        width: Option<i64>,
        label: Option<String>,
        tags: Option<Vec<String>>,
    }

    impl super::Object for Size {
        const NAME: &'static str = "Size";
        const FIELDS: &'static [&'static str] = &["width", "label", "tags"];

        fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
            let mut f0: Option<i64> = None;
            let mut f1: Option<Option<String>> = None;
            let mut f2: Option<Option<Vec<String>>> = None;
            while let Some(index) = super::next_field(&mut map, Self::FIELDS)? {
                match index {
                    0 => super::value(&mut map, &mut f0, "width")?,
                    1 => super::value(&mut map, &mut f1, "label")?,
                    2 => super::value(&mut map, &mut f2, "tags")?,
                    _ => {}
                }
            }
            Ok(Self { width: f0, label: super::required::<A::Error, _>(f1, "label")?, tags: f2.flatten() })
        }
    }

    impl<'de> Deserialize<'de> for Size {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            super::object(deserializer)
        }
    }

    fn decode(value: serde_json::Value) -> Result<Size, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn null_only_where_nullable_and_required_means_present() {
        assert_eq!(decode(json!({"label": null})), Ok(Size { width: None, label: None, tags: None }));
        assert_eq!(
            decode(json!({"width": 3, "label": "a", "tags": null, "other": [1, {"x": 2}]})),
            Ok(Size { width: Some(3), label: Some("a".into()), tags: None })
        );
        assert_eq!(
            decode(json!({"tags": ["x"], "label": "a"})),
            Ok(Size { width: None, label: Some("a".into()), tags: Some(vec!["x".into()]) })
        );
        assert!(decode(json!({"width": null, "label": null})).unwrap_err().contains("invalid type: null"));
        assert!(decode(json!({"width": "3", "label": null})).unwrap_err().contains("invalid type: string"));
        assert!(decode(json!({})).unwrap_err().contains("missing field `label`"));
    }

    #[test]
    fn objects_only() {
        let error = decode(json!([3, "a"])).unwrap_err();
        assert!(error.contains("invalid type: sequence, expected struct Size"), "{error}");
        assert!(decode(json!("a")).is_err());
        assert!(decode(json!(null)).is_err());
    }

    #[test]
    fn a_repeated_key_is_an_error() {
        let error = serde_json::from_str::<Size>(r#"{"label": "a", "width": 1, "width": 2}"#).unwrap_err();
        assert!(error.to_string().contains("duplicate field `width`"), "{error}");
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Fps {
        Fps24,
        Fps25,
        Fps50,
    }

    impl Fps {
        const ALL: &'static [Self] = &[Self::Fps24, Self::Fps25, Self::Fps50];
        const fn as_str(self) -> &'static str {
            match self {
                Self::Fps24 => "24fps",
                Self::Fps25 => "25fps",
                Self::Fps50 => "50fps",
            }
        }
        const fn value(self) -> i64 {
            match self {
                Self::Fps24 => 24,
                Self::Fps25 => 25,
                Self::Fps50 => 50,
            }
        }
    }

    fn by_name(value: serde_json::Value) -> Result<Fps, String> {
        super::string_enum(value, Fps::ALL, Fps::as_str).map_err(|e| e.to_string())
    }

    fn by_number(value: serde_json::Value) -> Result<Fps, String> {
        super::integer_enum(value, Fps::ALL, Fps::value).map_err(|e| e.to_string())
    }

    #[test]
    fn string_enums_accept_exactly_their_values() {
        assert_eq!(by_name(json!("25fps")), Ok(Fps::Fps25));
        assert_eq!(
            by_name(json!("30fps")),
            Err("unknown variant `30fps`, expected one of `24fps`, `25fps`, `50fps`".to_owned())
        );
        assert!(by_name(json!({"25fps": null})).unwrap_err().contains("invalid type: map"));
        assert!(by_name(json!(25)).unwrap_err().contains("invalid type: integer"));
    }

    #[test]
    fn integer_enums_accept_exactly_their_values() {
        assert_eq!(by_number(json!(50)), Ok(Fps::Fps50));
        assert_eq!(
            by_number(json!(30)),
            Err("invalid value: integer `30`, expected one of `24`, `25`, `50`".to_owned())
        );
        assert!(by_number(json!("50")).unwrap_err().contains("invalid type: string"));
        assert!(by_number(json!(50.5)).unwrap_err().contains("invalid type: floating point"));
    }
}
