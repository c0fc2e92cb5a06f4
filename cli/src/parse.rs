//! Flag text → JSON, by the value's shape ([`ValueSpec`]).
//!
//! | shape | written as |
//! |---|---|
//! | bool | `true`, `false` |
//! | integer, number | `121`, `0.8` |
//! | enum | one of the listed values, as on the wire (`16:9`, `1080p`) |
//! | object | `key=value,key=value` (values parsed by their key's shape; a value containing `,` is quoted: `key="a,b"`), `WIDTHxHEIGHT` for an image size, or a JSON object |
//! | list | the flag repeated, one item each |
//! | union | the first shape that parses (`--image-size 1280x720` or `--image-size landscape_16_9`) |
//! | JSON | a JSON value |

use serde_json::{Map, Number, Value};

use crate::spec::{FieldSpec, ValueSpec};

/// Parses one flag value (one item of a list) of shape `spec`.
///
/// # Errors
///
/// A message saying what was expected, for clap to show (exit code 2).
pub fn value(spec: &ValueSpec, text: &str) -> Result<Value, String> {
    match spec {
        ValueSpec::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("`{text}` is not a boolean: write true or false")),
        },
        // Any size: a field the schema bounds within `i64` refuses what is past its bounds.
        ValueSpec::Integer => text
            .parse::<fal_ltx::Integer>()
            .ok()
            .and_then(|n| serde_json::to_value(n).ok())
            .ok_or_else(|| format!("`{text}` is not a whole number")),
        ValueSpec::Number => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("`{text}` is not a number")),
        ValueSpec::String => Ok(Value::String(text.to_owned())),
        ValueSpec::Json => serde_json::from_str(text).map_err(|e| format!("`{text}` is not JSON: {e}")),
        ValueSpec::Enum(values) => match values.iter().find(|v| **v == text) {
            Some(v) => Ok(Value::from(*v)),
            None => Err(format!("`{text}` is not one of: {}", values.join(", "))),
        },
        ValueSpec::IntEnum(values) => match text.trim().parse::<i64>().ok().filter(|n| values.contains(n)) {
            Some(n) => Ok(Value::from(n)),
            None => {
                let listed: Vec<String> = values.iter().map(ToString::to_string).collect();
                Err(format!("`{text}` is not one of: {}", listed.join(", ")))
            }
        },
        ValueSpec::Object(fields) => object(fields, text),
        ValueSpec::List(item) => value(item, text),
        ValueSpec::Union(branches) => {
            let mut errors = Vec::new();
            for branch in *branches {
                match value(branch, text) {
                    Ok(parsed) => return Ok(parsed),
                    Err(e) => errors.push(e),
                }
            }
            Err(errors.join("; or "))
        }
    }
}

/// An object: a JSON object, `WIDTHxHEIGHT` (objects with integer `width`
/// and `height`), or `key=value` pairs separated by `,`.
fn object(fields: &'static [FieldSpec], text: &str) -> Result<Value, String> {
    let keys = || fields.iter().map(|f| f.wire).collect::<Vec<_>>().join(", ");
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|e| format!("`{text}` is not a JSON object: {e}"));
    }
    if let Some((width, height)) = text.split_once(['x', 'X'])
        && let (Ok(width), Ok(height)) = (width.trim().parse::<i64>(), height.trim().parse::<i64>())
        && fields.iter().any(|f| f.wire == "width")
        && fields.iter().any(|f| f.wire == "height")
    {
        let mut map = Map::new();
        map.insert("width".into(), width.into());
        map.insert("height".into(), height.into());
        return Ok(Value::Object(map));
    }
    let mut map = Map::new();
    for pair in split_pairs(text) {
        let Some((key, raw)) = pair.split_once('=') else {
            return Err(format!("`{text}`: expected key=value,… with keys {}", keys()));
        };
        let key = key.trim();
        let Some(field) = fields.iter().find(|f| f.wire == key || f.flag() == key) else {
            return Err(format!("`{key}` is not a key of this value; the keys are {}", keys()));
        };
        let raw = raw.trim();
        let raw = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')).unwrap_or(raw);
        let parsed = match &field.value {
            ValueSpec::List(item) => Value::Array(
                raw.split(';')
                    .map(|part| value(item, part))
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("{key}: {e}"))?,
            ),
            shape => value(shape, raw).map_err(|e| format!("{key}: {e}"))?,
        };
        map.insert(field.wire.to_owned(), parsed);
    }
    Ok(Value::Object(map))
}

/// `a=1,b="x,y"` → `["a=1", "b=\"x,y\""]`: commas inside double quotes do not split.
fn split_pairs(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::value;
    use crate::spec::{FieldSpec as F, ValueSpec as V};

    const LORA: V =
        V::Object(&[F::new("path", "", true, true, V::String), F::new("scale", "", false, false, V::Number)]);
    const SIZE: V = V::Union(&[
        V::Object(&[F::new("width", "", false, false, V::Integer), F::new("height", "", false, false, V::Integer)]),
        V::Enum(&["square_hd", "landscape_16_9"]),
    ]);

    #[test]
    fn nested_values_have_a_flag_syntax() {
        assert_eq!(
            value(&LORA, "path=https://h/l.safetensors,scale=0.8"),
            Ok(json!({"path": "https://h/l.safetensors", "scale": 0.8}))
        );
        assert_eq!(value(&LORA, r#"path="a,b",scale=1"#), Ok(json!({"path": "a,b", "scale": 1.0})));
        assert_eq!(value(&LORA, r#"{"path": "p"}"#), Ok(json!({"path": "p"})));
        assert_eq!(value(&SIZE, "1280x720"), Ok(json!({"width": 1280, "height": 720})));
        assert_eq!(value(&SIZE, "landscape_16_9"), Ok(json!("landscape_16_9")));
        assert!(value(&SIZE, "portrait").unwrap_err().contains("square_hd, landscape_16_9"));
        assert!(value(&LORA, "weight=1").unwrap_err().contains("the keys are path, scale"));
        assert!(value(&LORA, "scale=big").unwrap_err().contains("scale: `big` is not a number"));
    }

    #[test]
    fn scalars_are_typed() {
        assert_eq!(value(&V::Integer, "121"), Ok(json!(121)));
        assert_eq!(value(&V::Integer, "18446744073709551615"), Ok(json!(18_446_744_073_709_551_615u64)));
        assert!(value(&V::Integer, "1.5").is_err());
        assert_eq!(value(&V::Bool, "false"), Ok(json!(false)));
        assert_eq!(value(&V::IntEnum(&[6, 8]), "8"), Ok(json!(8)));
        assert!(value(&V::IntEnum(&[6, 8]), "7").unwrap_err().contains("6, 8"));
    }
}
