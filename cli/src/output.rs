//! Delivering an output: `--json` prints it on standard output; otherwise
//! each file it links to is printed as `<path>: <url>`; with `--out-dir` or
//! `--output` the files are downloaded (with the runtime's atomic download)
//! and each saved file is reported on standard error as `saved <bytes> bytes
//! to <path>` (standard output stays the output alone).

use std::path::{Path, PathBuf};

use fal_ltx::Client;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use crate::exit::{Failure, OTHER};

/// Where the output goes.
#[derive(Debug, Default)]
pub struct Delivery {
    /// Print the output JSON on standard output.
    pub json: bool,
    /// Download every linked file into this directory.
    pub out_dir: Option<PathBuf>,
    /// Download the first linked file to this path (the others beside it).
    pub output: Option<PathBuf>,
}

/// Prints and downloads `output` as `delivery` says.
///
/// # Errors
///
/// A download that fails (exit code 3) or a directory that cannot be created (exit code 1).
pub async fn deliver(client: &Client, output: &Value, delivery: &Delivery) -> Result<(), Failure> {
    let files = linked_files(output);
    if delivery.json {
        println!("{}", serde_json::to_string_pretty(output).unwrap_or_default());
    } else {
        for (name, url) in &files {
            println!("{name}: {url}");
        }
        if files.is_empty() {
            println!("{}", serde_json::to_string_pretty(output).unwrap_or_default());
        }
    }
    let targets: Vec<(PathBuf, &str)> = match (&delivery.out_dir, &delivery.output) {
        (Some(dir), _) => files.iter().map(|(name, url)| (dir.join(name), url.as_str())).collect(),
        (None, Some(first)) => files
            .iter()
            .enumerate()
            .map(|(i, (name, url))| {
                let path = if i == 0 { first.clone() } else { first.with_file_name(name) };
                (path, url.as_str())
            })
            .collect(),
        (None, None) => Vec::new(),
    };
    if targets.is_empty() && (delivery.out_dir.is_some() || delivery.output.is_some()) {
        eprintln!("the output links to no file: nothing to download");
    }
    for (path, url) in targets {
        download(client, url, &path).await?;
    }
    Ok(())
}

async fn download(client: &Client, url: &str, path: &Path) -> Result<(), Failure> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| Failure::new(OTHER, format!("cannot create {}: {e}", parent.display())))?;
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} downloading {bytes}") {
        bar.set_style(style);
    }
    let saved = client
        .download(url, path, |progress| {
            if let Some(total) = progress.total {
                bar.set_length(total);
            }
            bar.set_position(progress.downloaded);
        })
        .await;
    bar.finish_and_clear();
    let bytes = saved?;
    // On standard error with --json, so standard output stays one JSON document.
    eprintln!("saved {bytes} bytes to {}", path.display());
    Ok(())
}

/// Every file an output links to (an object with an `http(s)` `url`), named
/// by its place in the output: `video.url` → `video.mp4`, `frames[1].url` →
/// `frames.1.png`. The same naming as the batch runner's `files/<key>/`.
pub fn linked_files(output: &Value) -> Vec<(String, String)> {
    fn clean(segment: &str) -> String {
        segment.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
    }
    fn walk(value: &Value, path: &mut Vec<String>, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(url)) = map.get("url")
                    && (url.starts_with("https://") || url.starts_with("http://"))
                {
                    let last = url.split(['?', '#']).next().unwrap_or_default().rsplit('/').next().unwrap_or_default();
                    let ext = last
                        .rsplit_once('.')
                        .map(|(_, ext)| clean(ext))
                        .filter(|ext| !ext.is_empty() && ext.len() <= 8)
                        .unwrap_or_else(|| "bin".to_owned());
                    let stem = if path.is_empty() { "file".to_owned() } else { path.join(".") };
                    out.push((format!("{stem}.{ext}"), url.clone()));
                }
                for (name, child) in map {
                    path.push(clean(name));
                    walk(child, path, out);
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    path.push(index.to_string());
                    walk(child, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(output, &mut Vec::new(), &mut out);
    out
}
