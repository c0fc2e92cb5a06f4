//! The request body: `--input` (a file or `-`) with the flags laid over it,
//! the required fields checked, and local files where the schema takes a
//! file URL uploaded to fal's storage (after validation, so a bad input
//! uploads nothing).

use std::io::Read as _;
use std::path::Path;

use clap::ArgMatches;
use fal_ltx::storage::{UploadEvent, is_file_url};
use fal_ltx::{Client, EndpointInput};
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
        (ValueSpec::String, Value::String(text)) if field.file && !is_file_url(text) => on_path(text),
        (ValueSpec::List(item), Value::Array(items)) => {
            items.iter().for_each(|v| visit_value(field, item, v, on_path));
        }
        (ValueSpec::Object(fields), _) => visit_files(fields, value, on_path),
        (ValueSpec::Union(branches), _) => branches.iter().for_each(|b| visit_value(field, b, value, on_path)),
        _ => {}
    }
}

/// Uploads the local files the typed input names (`Client::upload_files`: each path once, its URL
/// put in its place), with a spinner and a line per file.
///
/// # Errors
///
/// A failed upload.
pub async fn upload_files<I: EndpointInput>(client: &Client, input: &mut I) -> Result<(), Failure> {
    let mut progress = None;
    let uploaded = client
        .upload_files(input, |event| match event {
            UploadEvent::Uploading { path, .. } => {
                progress = Some(Progress::new(format!("uploading {}", path.display())));
            }
            UploadEvent::Uploaded { path, file } => {
                if let Some(progress) = progress.take() {
                    progress.finish();
                }
                eprintln!("uploaded {} ({} bytes) to {}", path.display(), file.size, file.url);
            }
            _ => {}
        })
        .await;
    if let Some(progress) = progress {
        progress.finish();
    }
    uploaded?;
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
