//! Serde helpers for the generated *input* types, so that decoding a JSON
//! request body accepts exactly what the endpoint's JSON Schema accepts (up to
//! the documented exceptions of [`validation`](crate::validation)).
//!
//! serde's derives are more lenient than JSON Schema in two ways:
//!
//! - an `Option<T>` field accepts an explicit `null`, but a property that is
//!   optional without being nullable must not be `null`: [`some`];
//! - a struct accepts a JSON array of its field values (`[512, 512]` for
//!   `{"width": 512, "height": 512}`), but an object schema accepts only
//!   objects: [`ObjectOnly`].
//!
//! Output types are generated without these helpers: fal's results are
//! decoded leniently, so a `null` where the document promises a value does not
//! fail a finished request.
//!
//! Not part of the stable API: the generator calls these.

use serde::de::{Deserialize, Deserializer, Visitor};

/// `deserialize_with` of an optional, non-nullable property: absent is `None`
/// (with `#[serde(default)]`), present must be a `T`, and `null` is an error.
///
/// # Errors
///
/// When the value is not a `T`, `null` included.
pub fn some<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// `deserialize_with` of a required, nullable property: `null` is `None`, but
/// the property must be present (serde lets a missing `Option` field be `None`).
///
/// # Errors
///
/// When the value is neither `null` nor a `T`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer)
}

/// A deserializer that decodes only maps (JSON objects): a struct's derived
/// `Deserialize` fed through it no longer accepts a sequence of field values.
#[derive(Debug)]
pub struct ObjectOnly<D>(pub D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(remote = "Size", rename = "Size")]
    struct SizeFields {
        #[serde(default, deserialize_with = "super::some")]
        width: Option<i64>,
        #[serde(deserialize_with = "super::nullable")]
        label: Option<String>,
    }

    #[derive(Debug, PartialEq)]
    struct Size {
        width: Option<i64>,
        label: Option<String>,
    }

    impl<'de> Deserialize<'de> for Size {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            SizeFields::deserialize(super::ObjectOnly(deserializer))
        }
    }

    fn decode(value: serde_json::Value) -> Result<Size, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn null_only_where_nullable_and_required_means_present() {
        assert_eq!(decode(json!({"label": null})), Ok(Size { width: None, label: None }));
        assert_eq!(decode(json!({"width": 3, "label": "a"})), Ok(Size { width: Some(3), label: Some("a".into()) }));
        assert!(decode(json!({"width": null, "label": null})).unwrap_err().contains("invalid type: null"));
        assert!(decode(json!({})).unwrap_err().contains("missing field `label`"));
    }

    #[test]
    fn objects_only() {
        let error = decode(json!([3, "a"])).unwrap_err();
        assert!(error.contains("invalid type: sequence, expected struct Size"), "{error}");
        assert!(decode(json!("a")).is_err());
        assert!(decode(json!(null)).is_err());
    }
}
