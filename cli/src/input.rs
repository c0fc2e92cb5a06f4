//! The request body: `--input` (a file or `-`) with the flags laid over it,
//! the required fields checked, and local files where the schema takes a
//! file URL uploaded to fal's storage (after validation, so a bad input
//! uploads nothing).

use std::io::Read as _;
use std::path::Path;

use clap::ArgMatches;
use fal_ltx::Client;
use serde_json::{Map, Value};

use crate::commands::{INPUT, field_id};
use crate::exit::{Failure, INVALID_INPUT};
use crate::progress::Progress;
use crate::spec::{EndpointSpec, FieldSpec, ValueSpec};

/// The JSON input of `spec` from `--input` and the flags, with every missing required field named.
///
/// # Errors
///
/// An unreadable or non-object `--input`, or missing required fields (exit code 2).
pub fn build(spec: &EndpointSpec, matches: &ArgMatches) -> Result<Value, Failure> {
    let mut object = match matches.get_one::<String>(INPUT) {
        Some(source) => read_object(source)?,
        None => Map::new(),
    };
    for field in spec.fields {
        let id = field_id(field);
        let values: Vec<Value> = matches.get_many::<Value>(&id).map(|v| v.cloned().collect()).unwrap_or_default();
        if values.is_empty() {
            continue;
        }
        let value = match field.value {
            ValueSpec::List(_) => Value::Array(values),
            _ => values.into_iter().next_back().unwrap_or(Value::Null),
        };
        object.insert(field.wire.to_owned(), value);
    }
    let missing: Vec<String> = spec
        .fields
        .iter()
        .filter(|f| f.required && !object.contains_key(f.wire))
        .map(|f| format!("--{}", f.flag()))
        .collect();
    if !missing.is_empty() {
        return Err(Failure::new(
            INVALID_INPUT,
            format!(
                "missing required input: {} (give the flags, or the fields in --input); nothing was sent",
                missing.join(", ")
            ),
        ));
    }
    Ok(Value::Object(object))
}

fn read_object(source: &str) -> Result<Map<String, Value>, Failure> {
    let text = if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::new(INVALID_INPUT, format!("--input -: cannot read standard input: {e}")))?;
        text
    } else {
        std::fs::read_to_string(source)
            .map_err(|e| Failure::new(INVALID_INPUT, format!("--input {source}: cannot read it: {e}")))?
    };
    match serde_json::from_str(&text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => {
            Err(Failure::new(INVALID_INPUT, format!("--input {source}: expected a JSON object of the input's fields")))
        }
        Err(e) => Err(Failure::new(INVALID_INPUT, format!("--input {source}: not JSON: {e}"))),
    }
}

/// Whether a file field's value is already something fal fetches itself: a URL or a data URI.
pub fn is_url(text: &str) -> bool {
    ["http://", "https://", "data:"].iter().any(|prefix| text.starts_with(prefix))
}

/// The local paths given for file fields, anywhere in the input (nested objects and lists too).
pub fn local_files(fields: &'static [FieldSpec], input: &Value) -> Vec<String> {
    let mut out = Vec::new();
    visit_files(fields, input, &mut |text| out.push(text.to_owned()));
    out
}

fn visit_files(fields: &'static [FieldSpec], value: &Value, on_path: &mut dyn FnMut(&str)) {
    let Value::Object(object) = value else { return };
    for field in fields {
        let Some(value) = object.get(field.wire) else { continue };
        visit_value(field, &field.value, value, on_path);
    }
}

fn visit_value(field: &FieldSpec, shape: &'static ValueSpec, value: &Value, on_path: &mut dyn FnMut(&str)) {
    match (shape, value) {
        (ValueSpec::String, Value::String(text)) if field.file && !is_url(text) => on_path(text),
        (ValueSpec::List(item), Value::Array(items)) => {
            items.iter().for_each(|v| visit_value(field, item, v, on_path));
        }
        (ValueSpec::Object(fields), _) => visit_files(fields, value, on_path),
        (ValueSpec::Union(branches), _) => branches.iter().for_each(|b| visit_value(field, b, value, on_path)),
        _ => {}
    }
}

/// Checks that every local path exists (before anything is sent), then uploads each one once and
/// puts its URL in its place.
///
/// # Errors
///
/// A path that is not a readable file (exit code 2, nothing sent), or a failed upload.
pub async fn upload_local_files(client: &Client, spec: &EndpointSpec, input: &mut Value) -> Result<(), Failure> {
    let paths = local_files(spec.fields, input);
    check_paths(&paths)?;
    let mut urls = std::collections::BTreeMap::new();
    for path in paths {
        if urls.contains_key(&path) {
            continue;
        }
        let progress = Progress::new(format!("uploading {path}"));
        let uploaded = client.upload_file(&path).await;
        progress.finish();
        let uploaded = uploaded?;
        eprintln!("uploaded {path} ({} bytes) to {}", uploaded.size, uploaded.url);
        urls.insert(path, uploaded.url);
    }
    replace(spec.fields, input, &urls);
    Ok(())
}

/// Every path must be a file: checked before validation's success leads to any upload or submit.
pub fn check_paths(paths: &[String]) -> Result<(), Failure> {
    let bad: Vec<String> = paths
        .iter()
        .filter(|p| !Path::new(p).is_file())
        .map(|p| format!("`{p}` is neither a URL (http://, https://, data:) nor a local file"))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(INVALID_INPUT, format!("{}; nothing was sent", bad.join("; "))))
    }
}

fn replace(fields: &'static [FieldSpec], value: &mut Value, urls: &std::collections::BTreeMap<String, String>) {
    let Value::Object(object) = value else { return };
    for field in fields {
        if let Some(value) = object.get_mut(field.wire) {
            replace_value(field, &field.value, value, urls);
        }
    }
}

fn replace_value(
    field: &FieldSpec,
    shape: &'static ValueSpec,
    value: &mut Value,
    urls: &std::collections::BTreeMap<String, String>,
) {
    match (shape, &mut *value) {
        (ValueSpec::String, Value::String(text)) if field.file => {
            if let Some(url) = urls.get(text.as_str()) {
                *text = url.clone();
            }
        }
        (ValueSpec::List(item), Value::Array(items)) => {
            items.iter_mut().for_each(|v| replace_value(field, item, v, urls));
        }
        (ValueSpec::Object(fields), _) => replace(fields, value, urls),
        (ValueSpec::Union(branches), _) => {
            for branch in *branches {
                replace_value(field, branch, value, urls);
            }
        }
        _ => {}
    }
}
