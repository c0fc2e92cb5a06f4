//! Workspace automation behind `cargo xtask` (matklad's xtask convention).
//!
//! - [`regen`]: read `schemas/`, regenerate `generated/src/endpoints/` (the client) and
//!   `cli/src/generated/` (the command-line tool), remove generated files that no longer
//!   correspond to a schema. Offline.
//! - [`check`]: the CI drift check: compare what the generator produces with
//!   what is committed, and report every stale, missing or orphaned file with a diff.
//! - [`fetch`]: download the endpoints' OpenAPI documents from fal (`cargo xtask fetch`,
//!   `fetch --check`, `add`), all or nothing.
//! - [`diff`]: the schema change report (`cargo xtask diff`): what changed in each
//!   endpoint's input and output types, classified as breaking or not for the generated crate.
//! - [`release`]: `cargo xtask bump` (the next version of `fal-ltx` from the change report
//!   since the last release) and `cargo xtask release-check` (drift, package, docs).
//!
//! All take the workspace root, so tests run them on a temporary copy.

pub mod corpus;
pub mod diff;
pub mod fetch;
pub mod release;

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use fal_codegen::emit::{Generation, REGEN_COMMAND};
use fal_codegen::{GenError, Source, generate};

/// What can go wrong in an xtask.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `schemas/endpoints.toml` is malformed.
    #[error("{path}: {message}")]
    Manifest {
        /// The manifest's path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The generator rejected a schema.
    #[error(transparent)]
    Generate(#[from] GenError),
    /// Fetching documents from fal failed for at least one endpoint; nothing was written.
    #[error(transparent)]
    Fetch(#[from] fetch::FetchFailures),
    /// `cargo xtask add` was given an id that is not of the form `owner/alias[/path…]`.
    #[error(
        "`{id}` is not a fal endpoint id: {reason}; expected `owner/alias[/path…]`, e.g. `fal-ai/ltx-2/text-to-video`"
    )]
    InvalidEndpointId {
        /// The id given.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `cargo xtask add` was given an id that `schemas/endpoints.toml` already lists.
    #[error("`{id}` is already listed in schemas/endpoints.toml; run `cargo xtask fetch` to refresh its document")]
    DuplicateEndpoint {
        /// The id given.
        id: String,
    },
    /// A `git` command failed (`cargo xtask diff` without `--against`).
    #[error("git: {message}")]
    Git {
        /// What failed, with git's own message.
        message: String,
    },
    /// `cargo xtask bump` cannot work out or write the next version.
    #[error("{message}")]
    Release {
        /// What is wrong.
        message: String,
    },
    /// A schema document is not valid JSON.
    #[error("{path}: not valid JSON: {message}")]
    Json {
        /// The document's path (or a git revision and path).
        path: String,
        /// The parser's message.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.to_owned(), source }
}

/// The workspace root: the parent of the `xtask` crate.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().map_or(manifest_dir.clone(), Path::to_path_buf)
}

/// `schemas/endpoints.toml`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    endpoints: Vec<String>,
}

/// The endpoint ids listed in `schemas/endpoints.toml`, in file order.
///
/// # Errors
///
/// The file is missing, is not TOML, or lists an id twice.
pub fn endpoint_ids(root: &Path) -> Result<Vec<String>, Error> {
    endpoint_ids_in(&root.join("schemas/endpoints.toml"))
}

/// The endpoint ids listed in a manifest laid out like `schemas/endpoints.toml`.
///
/// # Errors
///
/// The file is missing, is not TOML, or lists an id twice.
pub fn endpoint_ids_in(path: &Path) -> Result<Vec<String>, Error> {
    let path = path.to_owned();
    let text = fs::read_to_string(&path).map_err(io(&path))?;
    let manifest: Manifest =
        toml::from_str(&text).map_err(|e| Error::Manifest { path: path.clone(), message: e.to_string() })?;
    let mut seen = std::collections::BTreeSet::new();
    for id in &manifest.endpoints {
        if !seen.insert(id) {
            return Err(Error::Manifest { path, message: format!("endpoint id `{id}` is listed twice") });
        }
    }
    Ok(manifest.endpoints)
}

/// The schema file of an endpoint id, relative to the workspace root.
pub fn schema_path(id: &str) -> String {
    format!("schemas/{id}.json")
}

/// Reads every schema listed in `schemas/endpoints.toml`.
///
/// # Errors
///
/// The manifest is invalid or a listed schema cannot be read.
pub fn load_sources(root: &Path) -> Result<Vec<Source>, Error> {
    endpoint_ids(root)?
        .into_iter()
        .map(|id| {
            let file = schema_path(&id);
            let path = root.join(&file);
            let text = fs::read_to_string(&path).map_err(io(&path))?;
            Ok(Source { endpoint_id: id, file, text })
        })
        .collect()
}

/// Runs the generator on the workspace's schemas.
///
/// # Errors
///
/// A schema cannot be read or the generator rejects it.
pub fn generate_workspace(root: &Path) -> Result<Generation, Error> {
    Ok(generate(&load_sources(root)?)?)
}

/// The generated crate's `src/` directory.
pub fn generated_src(root: &Path) -> PathBuf {
    root.join("generated/src")
}

/// The directories `regen` owns, relative to the workspace root: the client's endpoint modules
/// (`generated/src/endpoints`) and the command-line tool's tables (`cli/src/generated`). Each
/// holds generated files only.
pub const GENERATED_DIRS: [&str; 2] = ["generated/src/endpoints", "cli/src/generated"];

/// Where each tree of generated files goes: the `src/` its paths are relative to.
const CLIENT_SRC: &str = "generated/src";
const CLI_SRC: &str = "cli/src";

/// Every file the generator produces, keyed by its path relative to the workspace root
/// (`generated/src/endpoints/…`, `cli/src/generated/…`), with the generation itself.
///
/// # Errors
///
/// A schema cannot be read or the generator rejects it.
pub fn expected_files(root: &Path) -> Result<(Generation, BTreeMap<String, String>), Error> {
    let generation = generate_workspace(root)?;
    let mut files = BTreeMap::new();
    for file in &generation.files {
        files.insert(format!("{CLIENT_SRC}/{}", file.path), file.contents.clone());
    }
    for file in fal_codegen::emit::cli::files(&generation.api)? {
        files.insert(format!("{CLI_SRC}/{}", file.path), file.contents);
    }
    Ok((generation, files))
}

/// Every file currently under the generated directories, keyed by its path
/// relative to the workspace root.
fn files_on_disk(root: &Path) -> Result<BTreeMap<String, String>, Error> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) -> Result<(), Error> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::Io { path: dir.to_owned(), source: e }),
        };
        let mut paths: Vec<PathBuf> =
            entries.map(|e| e.map(|e| e.path()).map_err(io(dir))).collect::<Result<_, _>>()?;
        paths.sort();
        for path in paths {
            if path.is_dir() {
                walk(&path, root, out)?;
            } else {
                let relative = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                let contents = fs::read(&path).map_err(io(&path))?;
                out.insert(relative, String::from_utf8_lossy(&contents).into_owned());
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    for dir in GENERATED_DIRS {
        walk(&root.join(dir), root, &mut out)?;
    }
    Ok(out)
}

/// What [`regen`] changed. Paths are relative to the workspace root.
#[derive(Debug, Default)]
pub struct RegenReport {
    /// Files written because they were new or different.
    pub written: Vec<String>,
    /// Files that were already up to date.
    pub unchanged: usize,
    /// Orphaned generated files that were deleted.
    pub removed: Vec<String>,
    /// The generator's notes on approximations.
    pub notes: Vec<fal_codegen::Note>,
    /// Lines of generated code.
    pub lines: usize,
}

/// Regenerates `generated/src/endpoints/` and `cli/src/generated/` from `schemas/`.
///
/// Files whose contents already match are not touched; files in the
/// generated directories that the generator no longer produces are removed.
///
/// # Errors
///
/// A schema cannot be read, the generator rejects it, or a file cannot be written.
/// Nothing is written when the generator fails.
pub fn regen(root: &Path) -> Result<RegenReport, Error> {
    let (generation, files) = expected_files(root)?;
    let existing = files_on_disk(root)?;
    let mut report = RegenReport { notes: generation.notes, ..RegenReport::default() };
    for (relative, contents) in &files {
        report.lines += contents.lines().count();
        if existing.get(relative) == Some(contents) {
            report.unchanged += 1;
            continue;
        }
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        fs::write(&path, contents).map_err(io(&path))?;
        report.written.push(relative.clone());
    }
    for orphan in existing.keys().filter(|p| !files.contains_key(*p)) {
        let path = root.join(orphan);
        fs::remove_file(&path).map_err(io(&path))?;
        report.removed.push(orphan.clone());
    }
    for dir in GENERATED_DIRS {
        remove_empty_dirs(&root.join(dir))?;
    }
    Ok(report)
}

fn remove_empty_dirs(dir: &Path) -> Result<(), Error> {
    let Ok(entries) = fs::read_dir(dir) else { return Ok(()) };
    for entry in entries {
        let path = entry.map_err(io(dir))?.path();
        if path.is_dir() {
            remove_empty_dirs(&path)?;
            if fs::read_dir(&path).map_err(io(&path))?.next().is_none() {
                fs::remove_dir(&path).map_err(io(&path))?;
            }
        }
    }
    Ok(())
}

/// One file that differs from what the generator produces. Paths are relative
/// to the workspace root (`generated/src/endpoints/…`, `cli/src/generated/…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// The file's contents differ; holds a unified diff (committed → expected).
    Stale {
        /// Path relative to the workspace root.
        path: String,
        /// Unified diff from the file on disk to the generator's output.
        diff: String,
    },
    /// The generator produces the file but it does not exist.
    Missing {
        /// Path relative to the workspace root.
        path: String,
    },
    /// The file exists in a generated directory but the generator does not produce it.
    Orphan {
        /// Path relative to the workspace root.
        path: String,
    },
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stale { path, diff } => write!(f, "{path} differs from the generator's output:\n{diff}"),
            Self::Missing { path } => write!(f, "{path} is missing"),
            Self::Orphan { path } => write!(
                f,
                "{path} is not produced by the generator (an orphan, or a hand-written file in a generated directory)"
            ),
        }
    }
}

/// Compares the generated directories with the generator's output.
/// An empty list means no drift.
///
/// # Errors
///
/// A schema cannot be read or the generator rejects it.
pub fn check(root: &Path) -> Result<Vec<Drift>, Error> {
    let (_, files) = expected_files(root)?;
    let mut existing = files_on_disk(root)?;
    let mut drift = Vec::new();
    for (path, contents) in files {
        match existing.remove(&path) {
            None => drift.push(Drift::Missing { path }),
            Some(actual) if actual != contents => {
                let diff = similar::TextDiff::from_lines(&actual, &contents)
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("{path} (on disk)"), &format!("{path} (expected)"))
                    .to_string();
                drift.push(Drift::Stale { path, diff });
            }
            Some(_) => {}
        }
    }
    drift.extend(existing.into_keys().map(|path| Drift::Orphan { path }));
    Ok(drift)
}

/// The advice printed after drift is found.
pub fn drift_advice() -> String {
    format!(
        "run `{REGEN_COMMAND}` and commit the result; if you edited a generated file by hand, change the schema or the generator instead"
    )
}
