//! Rust identifiers for wire names.
//!
//! Names must explain themselves: `VideoOutputType::X264Mp4` for `"X264 (.mp4)"`,
//! `AspectRatio::Ratio16x9` for `"16:9"`, `Resolution::P1080` for `"1080p"`,
//! `Duration::Seconds6` for the integer `6` of a duration in seconds.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Rust keywords (2024 edition, strict and reserved) that cannot be identifiers.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn", "else",
    "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod",
    "move", "mut", "override", "priv", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait",
    "true", "try", "type", "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Type names the generated code uses unqualified; a schema type with one of
/// these names gets a `Type` suffix so it cannot shadow them.
const RESERVED_TYPES: &[&str] = &[
    "Option",
    "Some",
    "None",
    "Vec",
    "String",
    "Box",
    "Result",
    "Ok",
    "Err",
    "Value",
    "Map",
    "Validate",
    "Violation",
    "Endpoint",
    "EndpointInput",
    "Serialize",
    "Deserialize",
    "Bounds",
    "Default",
    "Self",
];

/// Splits a wire name into alphanumeric words.
fn words(raw: &str) -> Vec<&str> {
    raw.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect()
}

/// Joins words in UpperCamelCase; two numbers in a row are joined with `x`
/// (`landscape_16_9` → `Landscape16x9`) so they stay readable.
fn camel_words(raw: &str) -> String {
    let mut out = String::new();
    let mut previous: Option<&str> = None;
    for word in words(raw) {
        // "GIF (.gif)" → Gif: a word repeated right after itself adds nothing.
        if previous.is_some_and(|p| p.eq_ignore_ascii_case(word)) {
            continue;
        }
        previous = Some(word);
        let ends_digit = out.chars().last().is_some_and(|c| c.is_ascii_digit());
        let starts_digit = word.starts_with(|c: char| c.is_ascii_digit());
        if ends_digit && starts_digit {
            out.push('x');
        }
        out.push_str(&word.to_upper_camel_case());
    }
    out
}

/// The cargo feature that enables an endpoint family: the family module's
/// name in kebab case (`ltx_2_3_22b` → `ltx-2-3-22b`).
pub fn feature_name(family: &str) -> String {
    family.replace('_', "-")
}

/// A type name: a component key stays as written when it is already a valid
/// UpperCamelCase identifier (`LoRAInput`), else it is converted.
pub fn type_name(raw: &str) -> String {
    let valid = raw.starts_with(|c: char| c.is_ascii_uppercase()) && raw.chars().all(|c| c.is_ascii_alphanumeric());
    let mut name = if valid { raw.to_owned() } else { camel_words(raw) };
    if name.is_empty() {
        name = "Unnamed".to_owned();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'T');
    }
    if RESERVED_TYPES.contains(&name.as_str()) {
        name.push_str("Type");
    }
    name
}

/// A field, module or function name in snake_case.
pub fn snake(raw: &str) -> String {
    let mut name = words(raw).join("_").to_snake_case();
    if name.is_empty() {
        name = "field".to_owned();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "n_");
    }
    if KEYWORDS.contains(&name.as_str()) {
        name.push('_');
    }
    name
}

/// A `SCREAMING_SNAKE_CASE` constant name.
pub fn constant(raw: &str) -> String {
    snake(raw).trim_end_matches('_').to_uppercase()
}

/// The variant for a string enum value.
pub fn string_variant(wire: &str) -> String {
    let trimmed = wire.trim();
    // "1080p" → P1080
    if let Some(num) = trimmed.strip_suffix('p')
        && !num.is_empty()
        && num.chars().all(|c| c.is_ascii_digit())
    {
        return format!("P{num}");
    }
    let camel = camel_words(trimmed);
    if camel.is_empty() {
        return if trimmed.is_empty() { "Empty".to_owned() } else { format!("U{}", hex(trimmed)) };
    }
    if camel.starts_with(|c: char| c.is_ascii_digit()) {
        // "16:9" → Ratio16x9; other numbers → V…
        let ratio = trimmed.split(':').count() == 2
            && trimmed.split(':').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        return if ratio { format!("Ratio{camel}") } else { format!("V{camel}") };
    }
    if camel == "Self" {
        // The one UpperCamelCase keyword: "self" → SelfValue.
        return "SelfValue".to_owned();
    }
    camel
}

fn hex(raw: &str) -> String {
    raw.bytes().map(|b| format!("{b:02X}")).collect()
}

/// The unit an integer enum counts in, from its property name and description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegerUnit {
    /// Seconds (`duration`, "in seconds").
    Seconds,
    /// Frames per second (`fps`, `frame_rate`).
    Fps,
    /// Anything else.
    Plain,
}

impl IntegerUnit {
    /// Guesses the unit of an integer enum property.
    pub fn infer(property: &str, description: Option<&str>) -> Self {
        let prop = property.to_ascii_lowercase();
        let desc = description.unwrap_or_default().to_ascii_lowercase();
        if prop == "fps" || prop.ends_with("frame_rate") || desc.contains("frames per second") {
            Self::Fps
        } else if prop.contains("duration") || desc.contains("in seconds") {
            Self::Seconds
        } else {
            Self::Plain
        }
    }
}

/// The variant for an integer enum value.
pub fn integer_variant(value: i64, unit: IntegerUnit) -> String {
    let magnitude = value.unsigned_abs();
    let sign = if value < 0 { "Minus" } else { "" };
    match unit {
        IntegerUnit::Seconds => format!("Seconds{sign}{magnitude}"),
        IntegerUnit::Fps => format!("Fps{sign}{magnitude}"),
        IntegerUnit::Plain => format!("Value{sign}{magnitude}"),
    }
}

/// Makes every name in `names` unique by appending `2`, `3`, … to repeats,
/// in order. Returns whether anything was renamed.
pub fn dedupe(names: &mut [String]) -> bool {
    let mut renamed = false;
    let mut seen = std::collections::HashSet::new();
    for name in names.iter_mut() {
        if !seen.insert(name.clone()) {
            let mut n = 2;
            while seen.contains(&format!("{name}{n}")) {
                n += 1;
            }
            *name = format!("{name}{n}");
            seen.insert(name.clone());
            renamed = true;
        }
    }
    renamed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_values_become_explanatory_variants() {
        assert_eq!(string_variant("X264 (.mp4)"), "X264Mp4");
        assert_eq!(string_variant("PRORES4444 (.mov)"), "Prores4444Mov");
        assert_eq!(string_variant("GIF (.gif)"), "Gif");
        assert_eq!(string_variant("16:9"), "Ratio16x9");
        assert_eq!(string_variant("1080p"), "P1080");
        assert_eq!(string_variant("landscape_16_9"), "Landscape16x9");
        assert_eq!(string_variant("replace_audio_and_video"), "ReplaceAudioAndVideo");
        assert_eq!(string_variant("auto"), "Auto");
        assert_eq!(string_variant("self"), "SelfValue");
        assert_eq!(string_variant(""), "Empty");
        assert_eq!(string_variant("4k"), "V4k");
        assert_eq!(string_variant("!!"), "U2121");
        assert_eq!(integer_variant(6, IntegerUnit::infer("duration", None)), "Seconds6");
        assert_eq!(integer_variant(25, IntegerUnit::infer("fps", None)), "Fps25");
        assert_eq!(integer_variant(-1, IntegerUnit::Plain), "ValueMinus1");
    }

    #[test]
    fn identifiers_avoid_keywords_and_digits() {
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("loop"), "loop_");
        assert_eq!(snake("Video URL"), "video_url");
        assert_eq!(snake("3d"), "n_3d");
        assert_eq!(snake("fal-ai"), "fal_ai");
        assert_eq!(snake("ltx-2.3-22b"), "ltx_2_3_22b");
        assert_eq!(type_name("LoRAInput"), "LoRAInput");
        assert_eq!(type_name("image size"), "ImageSize");
        assert_eq!(type_name("String"), "StringType");
        assert_eq!(type_name("2d"), "T2d");
        assert_eq!(constant("num_frames"), "NUM_FRAMES");
        assert_eq!(constant("type"), "TYPE");
    }

    #[test]
    fn dedupe_appends_numbers() {
        let mut names = vec!["A".to_owned(), "A".to_owned(), "A2".to_owned(), "A".to_owned()];
        assert!(dedupe(&mut names));
        assert_eq!(names, ["A", "A2", "A22", "A3"]);
    }
}
