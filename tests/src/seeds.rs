//! The examples in fal's docs pages (`../shared/seeds/`), the project's
//! source of truth for the endpoints it was created from.
//!
//! Two page formats exist: Markdown pages (`- **Model ID**: ...`, with
//! "Required Parameters Example", "Full Example" and "Example Response" code
//! blocks) and a plain-text docs page whose first line is the endpoint id and
//! whose "5. Schema" section holds an input and an output example.

use std::path::Path;

use serde_json::Value;

/// One example from a seed page.
#[derive(Debug, Clone)]
pub struct SeedExample {
    /// The seed file name.
    pub file: String,
    /// The endpoint id the page documents.
    pub endpoint_id: String,
    /// "Required Parameters Example", "Full Example", "Example Response", "Input example", "Output example".
    pub label: &'static str,
    /// Whether it is an input (request body) or an output (result).
    pub is_input: bool,
    /// The example JSON.
    pub json: Value,
}

/// Every example of every seed page in `dir`, sorted by file.
///
/// # Panics
///
/// On a page whose format is not recognised or whose example is not JSON:
/// the seeds are fixed inputs, so that is a test failure.
pub fn examples(dir: &Path) -> Vec<SeedExample> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        out.extend(page_examples(&file, &text));
    }
    out
}

fn page_examples(file: &str, text: &str) -> Vec<SeedExample> {
    let mut out = Vec::new();
    let mut push = |endpoint_id: &str, label: &'static str, is_input: bool, json: Value| {
        out.push(SeedExample { file: file.to_owned(), endpoint_id: endpoint_id.to_owned(), label, is_input, json });
    };
    if let Some(id) = text.lines().find_map(|l| l.strip_prefix("- **Model ID**: `")).and_then(|l| l.strip_suffix('`')) {
        for (label, is_input) in
            [("Required Parameters Example", true), ("Full Example", true), ("Example Response", false)]
        {
            let marker = format!("**{label}**:");
            let start = text.find(&marker).unwrap_or_else(|| panic!("{file}: no {label}"));
            let json = first_object(&text[start..]).unwrap_or_else(|| panic!("{file}: {label} is not JSON"));
            push(id, label, is_input, json);
        }
    } else {
        let id = text.lines().next().unwrap_or_default().trim();
        assert!(id.contains('/'), "{file}: unrecognised seed page format");
        let schema = text.find("5. Schema").unwrap_or_else(|| panic!("{file}: no schema section"));
        let input = schema + text[schema..].find("Input#").unwrap_or_else(|| panic!("{file}: no Input section"));
        let output = input + text[input..].find("Output#").unwrap_or_else(|| panic!("{file}: no Output section"));
        let json = first_object(&text[input..output]).unwrap_or_else(|| panic!("{file}: no input example"));
        push(id, "Input example", true, json);
        let json = first_object(&text[output..]).unwrap_or_else(|| panic!("{file}: no output example"));
        push(id, "Output example", false, json);
    }
    out
}

/// The first balanced `{...}` in `text` that parses as JSON.
fn first_object(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    let mut start = 0;
    while let Some(offset) = text[start..].find('{') {
        let open = start + offset;
        let (mut depth, mut in_string, mut escaped) = (0_i32, false, false);
        for (i, &b) in bytes.iter().enumerate().skip(open) {
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        if let Ok(value) = serde_json::from_str(&text[open..=i]) {
                            return Some(value);
                        }
                        break;
                    }
                }
                _ => {}
            }
        }
        start = open + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::first_object;
    use serde_json::json;

    #[test]
    fn finds_the_first_json_object_past_prose() {
        let text = "see {not json} then ```json\n{\"a\": \"}{\", \"b\": {\"c\": 1}}\n``` {\"d\": 2}";
        assert_eq!(first_object(text), Some(json!({"a": "}{", "b": {"c": 1}})));
    }
}
