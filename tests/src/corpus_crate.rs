//! Many documents generated into one crate, built, and asked about inputs.
//!
//! [`build`] generates a set of documents together with
//! [`xtask::corpus::write_crate`], adds `tests/corpus-harness/main.rs` as the
//! crate's binary and builds it with `-D warnings` (the workspace's lock file,
//! a target directory of its own under the workspace's `target/`, so reruns
//! only rebuild the crate). [`Harness`] runs that binary and sends it one input
//! at a time over a pipe: `check_input` of the endpoint (decode into the typed
//! input, `validate()`, re-encode) answers accepted, with the re-encoded input,
//! or rejected, with why.
//!
//! Used by `tests/tests/corpus.rs` (fal's corpus) and `tests/tests/schema_suite.rs`
//! (the JSON Schema test suite as fal-style documents).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use fal_codegen::Source;
use serde_json::Value;

use crate::differential::Verdict;

/// A built crate: its generation and its harness binary.
#[derive(Debug)]
pub struct Built {
    /// The generated crate's files, notes and model.
    pub crate_: xtask::corpus::CorpusCrate,
    /// The harness binary.
    pub harness: PathBuf,
    /// Keeps the crate's directory alive while the harness is used.
    pub dir: tempfile::TempDir,
}

/// Why [`build`] failed.
#[derive(Debug)]
pub enum BuildError {
    /// The generator refused the documents taken together.
    Generate(String),
    /// `cargo build` failed: its standard error (`--message-format=short`: one `path:line:col: error…` line each).
    Compile {
        /// The files the errors and warnings are in, relative to the crate's `src/`.
        files: Vec<String>,
        /// Where each error is: a file relative to `src/`, and its 1-based line.
        locations: Vec<(String, usize)>,
        /// Up to 40 lines of errors.
        errors: String,
        /// The crate, kept so the lines at fault can be read.
        dir: tempfile::TempDir,
    },
    /// Anything else (I/O, cargo not found).
    Other(String),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Generate(e) | Self::Other(e) => f.write_str(e),
            Self::Compile { files, errors, .. } => {
                write!(f, "cargo build failed in {} file(s) ({}):\n{errors}", files.len(), files.join(", "))
            }
        }
    }
}

/// Generates `sources` into one crate and builds it with its harness binary, in
/// `target/<target_name>` (or under `CARGO_TARGET_DIR`).
///
/// # Errors
///
/// [`BuildError`]: generation, the build (with the files at fault), or I/O.
pub fn build(sources: &[Source], target_name: &str) -> Result<Built, BuildError> {
    let root = xtask::workspace_root();
    let dir = tempfile::tempdir().map_err(|e| BuildError::Other(format!("temp dir: {e}")))?;
    let crate_ = xtask::corpus::write_crate(&root, sources, dir.path()).map_err(|e| match e {
        xtask::Error::Generate(e) => BuildError::Generate(e.to_string()),
        e => BuildError::Other(e.to_string()),
    })?;
    std::fs::copy(root.join("tests/corpus-harness/main.rs"), dir.path().join("src/main.rs"))
        .map_err(|e| BuildError::Other(format!("copying the harness: {e}")))?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from).join(target_name);
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--offline", "--quiet", "--message-format=short", "--bins"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", "-D warnings")
        .output()
        .map_err(|e| BuildError::Other(format!("running cargo build: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        // `src/endpoints/types.rs:6839:13: error: …`
        let locations: Vec<(String, usize)> = stderr
            .lines()
            .filter_map(|l| {
                let mut parts = l.strip_prefix("src/")?.splitn(3, ':');
                Some((parts.next()?.to_owned(), parts.next()?.parse().ok()?))
            })
            .collect();
        let mut files: Vec<String> = locations.iter().map(|(f, _)| f.clone()).collect();
        files.sort();
        files.dedup();
        let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).take(40).collect();
        return Err(BuildError::Compile { files, locations, errors: errors.join("\n"), dir });
    }
    let harness = target.join("debug").join(format!("fal-ltx-corpus{}", std::env::consts::EXE_SUFFIX));
    Ok(Built { crate_, harness, dir })
}

/// A running harness binary (see the [module docs](self)).
#[derive(Debug)]
pub struct Harness {
    child: Child,
    to: Option<ChildStdin>,
    from: BufReader<ChildStdout>,
}

impl Harness {
    /// Starts the harness of a [`Built`] crate.
    ///
    /// # Panics
    ///
    /// The binary cannot be started.
    pub fn start(built: &Built) -> Self {
        let mut child = Command::new(&built.harness)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", built.harness.display()));
        let to = child.stdin.take();
        let from = BufReader::new(child.stdout.take().expect("piped stdout"));
        Self { child, to, from }
    }

    /// `check_input` of endpoint `id` on `value`: `Ok(the re-encoded input)` or `Err(why)`.
    ///
    /// # Panics
    ///
    /// The harness exited or answered something else than one JSON line.
    pub fn check(&mut self, id: &str, value: &Value) -> Verdict {
        let to = self.to.as_mut().expect("the harness is running");
        writeln!(to, "{id}\t{value}").and_then(|()| to.flush()).expect("write to the harness");
        let mut line = String::new();
        self.from.read_line(&mut line).expect("read from the harness");
        let mut answer: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{id}: the harness answered {line:?} ({e}); did it exit?"));
        match (answer.get_mut("ok").map(Value::take), answer["err"].as_str()) {
            (Some(encoded), _) => Ok(encoded),
            (None, Some(why)) => Err(why.to_owned()),
            (None, None) => panic!("{id}: unexpected harness answer {line:?}"),
        }
    }

    /// Closes its input and waits for it to exit.
    ///
    /// # Panics
    ///
    /// It exited unsuccessfully.
    pub fn finish(mut self) {
        drop(self.to.take());
        let status = self.child.wait().expect("wait for the harness");
        assert!(status.success(), "the harness exited with {status}");
    }
}
