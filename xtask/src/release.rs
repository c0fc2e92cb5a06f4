//! Releasing `fal-ltx`, `fal-ltx-runtime` and `fal-ltx-cli`: `cargo xtask bump` and
//! `cargo xtask release-check`.
//!
//! # Three crates, one version
//!
//! `fal-ltx` (the generated crate, `generated/`) depends on `fal-ltx-runtime` (the
//! hand-written client, `runtime/`) with an exact requirement, `fal-ltx-runtime =
//! { version = "=x.y.z", path = "../runtime" }`, and `fal-ltx-cli` (the command-line
//! tool, `cli/`) pins `fal-ltx` the same way. The three always carry the same version
//! and are published together, in the order of [`RELEASED`]; [`check_lockstep`] verifies
//! that their manifests, the pins and `Cargo.lock` agree, and both `bump` and
//! `release-check` refuse to go on when they do not.
//!
//! # The last release
//!
//! `bump` compares the working tree's `schemas/` with the schemas of the last
//! release, found in this order:
//!
//! 1. `--against <dir>` (a directory laid out like `schemas/`) or `--since <rev>`
//!    (any git revision), when given;
//! 2. the git tag `fal-ltx-v<version>`, `<version>` being the one in
//!    `generated/Cargo.toml` (tag each published release with it);
//! 3. else the last commit that changed the `version` line of `generated/Cargo.toml`
//!    (the commit of the last bump: the release was published from it but not tagged).
//!
//! When that baseline has no `schemas/endpoints.toml` (the version was set before any
//! schema was vendored), the current version has never been released: it is the
//! first release, and there is nothing to bump.
//!
//! # The next version
//!
//! The change report of [`crate::diff`] decides (nothing is classified here), with
//! semver's rules for `0.x`: any breaking change bumps the minor version
//! (`0.1.3` → `0.2.0`), anything else the patch version (`0.1.3` → `0.1.4`). From
//! `1.0.0` on: breaking → major, a non-breaking change → minor, descriptions or
//! metadata only → patch. Hand-written notes under `## [Unreleased]` in the
//! CHANGELOG count as a patch-level change (the runtime is not diffed);
//! `--breaking` declares the runtime's changes breaking.
//!
//! A bump rewrites the version of the three manifests, the exact `=x.y.z` pins, the three
//! crates' entries of `Cargo.lock` (what `cargo update -p fal-ltx -p fal-ltx-runtime -p
//! fal-ltx-cli --offline` would do), moves the
//! `Unreleased` notes and the change report into a new CHANGELOG section, and
//! updates `fal-ltx = "0.x"` requirements in the READMEs when the requirement changes.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::Duration;

use crate::diff::{Baseline, ChangeReport, Severity};
use crate::{Error, io};

/// The published crate.
pub const PACKAGE: &str = "fal-ltx";
/// The runtime crate it depends on, released with it under the same version (ARCHITECTURE.md, "Versions").
pub const RUNTIME_PACKAGE: &str = "fal-ltx-runtime";
/// Its manifest, relative to the workspace root.
pub const MANIFEST: &str = "generated/Cargo.toml";
/// The runtime's manifest, relative to the workspace root.
pub const RUNTIME_MANIFEST: &str = "runtime/Cargo.toml";
/// The command-line tool, released with both under the same version.
pub const CLI_PACKAGE: &str = "fal-ltx-cli";
/// Its manifest, relative to the workspace root.
pub const CLI_MANIFEST: &str = "cli/Cargo.toml";

/// One of the crates released together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Released {
    /// The package name.
    pub package: &'static str,
    /// Its manifest, relative to the workspace root.
    pub manifest: &'static str,
    /// The released crate it depends on with an exact `=x.y.z` requirement, and that dependency's path.
    pub pins: Option<(&'static str, &'static str)>,
}

/// The crates released under one version, in the order they are published (each after what it pins).
pub const RELEASED: [Released; 3] = [
    Released { package: RUNTIME_PACKAGE, manifest: RUNTIME_MANIFEST, pins: None },
    Released { package: PACKAGE, manifest: MANIFEST, pins: Some((RUNTIME_PACKAGE, "../runtime")) },
    Released { package: CLI_PACKAGE, manifest: CLI_MANIFEST, pins: Some((PACKAGE, "../generated")) },
];

/// `cargo update -p … --offline` over every released crate, the command that brings `Cargo.lock` in line.
fn update_command() -> String {
    let packages: Vec<String> = RELEASED.iter().map(|c| format!("-p {}", c.package)).collect();
    format!("cargo update {} --offline", packages.join(" "))
}
/// Its changelog, relative to the workspace root.
pub const CHANGELOG: &str = "generated/CHANGELOG.md";
/// The workspace lock file, relative to the workspace root.
pub const LOCK: &str = "Cargo.lock";
/// Files whose `fal-ltx = "…"` requirements follow the version.
pub const READMES: [&str; 2] = ["generated/README.md", "README.md"];

/// The git tag of a release of `fal-ltx`.
pub fn tag(version: &Version) -> String {
    format!("{PACKAGE}-v{version}")
}

/// A `MAJOR.MINOR.PATCH` version (pre-release and build suffixes are refused:
/// this crate does not publish them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
}

impl FromStr for Version {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('.').collect();
        let number = |p: &str| {
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0')))
                .then(|| p.parse::<u64>().ok())
                .flatten()
        };
        match parts.as_slice() {
            [a, b, c] => match (number(a), number(b), number(c)) {
                (Some(major), Some(minor), Some(patch)) => Ok(Self { major, minor, patch }),
                _ => Err(format!("`{s}` is not a MAJOR.MINOR.PATCH version")),
            },
            _ => Err(format!("`{s}` is not a MAJOR.MINOR.PATCH version")),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Version {
    /// The caret requirement users write for this version: `"0.1"` for `0.1.z`, `"1"` for `1.y.z`.
    pub fn requirement(&self) -> String {
        if self.major == 0 { format!("0.{}", self.minor) } else { self.major.to_string() }
    }

    /// The version after a change of the given level (semver, with `0.x`'s shift).
    pub fn bumped(&self, level: Level) -> Self {
        let Self { major, minor, patch } = *self;
        match (major, level) {
            (0, Level::Breaking) => Self { major, minor: minor + 1, patch: 0 },
            (0, _) | (_, Level::Fix) => Self { major, minor, patch: patch + 1 },
            (_, Level::Feature) => Self { major, minor: minor + 1, patch: 0 },
            (_, Level::Breaking) => Self { major: major + 1, minor: 0, patch: 0 },
        }
    }
}

/// How much changed since the last release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Documentation, metadata or hand-written notes only.
    Fix,
    /// A non-breaking change of the generated API (a new optional field, endpoint, enum value…).
    Feature,
    /// A breaking change.
    Breaking,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Fix => "patch-level (documentation, metadata or notes only)",
            Self::Feature => "non-breaking",
            Self::Breaking => "breaking",
        })
    }
}

/// The level of a change report, `None` when nothing changed.
pub fn level(report: &ChangeReport) -> Option<Level> {
    if report.is_empty() {
        None
    } else if report.is_breaking() {
        Some(Level::Breaking)
    } else if report.count(Severity::NonBreaking) > 0 {
        Some(Level::Feature)
    } else {
        Some(Level::Fix)
    }
}

/// What `bump` compares with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    /// The last release: the tag `fal-ltx-v<version>`, else the commit that last changed the version.
    LastRelease,
    /// A git revision.
    Rev(String),
    /// A directory laid out like `schemas/`.
    Dir(PathBuf),
}

/// Options of [`plan_bump`].
#[derive(Debug, Clone)]
pub struct BumpOptions {
    /// The baseline.
    pub since: Since,
    /// The hand-written runtime changed incompatibly: bump as for a breaking change.
    pub breaking: bool,
    /// The date of the new CHANGELOG section, `YYYY-MM-DD`.
    pub date: String,
}

/// One file a bump rewrites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    /// Relative to the workspace root.
    pub path: String,
    /// Its contents now.
    pub before: String,
    /// Its contents after the bump.
    pub after: String,
}

impl FileEdit {
    /// A unified diff of the edit.
    pub fn diff(&self) -> String {
        similar::TextDiff::from_lines(&self.before, &self.after)
            .unified_diff()
            .context_radius(2)
            .header(&format!("{} (now)", self.path), &format!("{} (bumped)", self.path))
            .to_string()
    }
}

/// What [`plan_bump`] decided.
#[derive(Debug, Clone)]
pub enum BumpPlan {
    /// The current version was never released (the baseline predates the schemas): nothing to bump.
    FirstRelease {
        /// The version in `generated/Cargo.toml`.
        current: Version,
        /// What was taken as the last release.
        baseline: String,
        /// The notes under `## [Unreleased]`: they belong in the first release's section.
        notes: String,
    },
    /// Nothing changed since the last release.
    Unchanged {
        /// The version in `generated/Cargo.toml`.
        current: Version,
        /// What was taken as the last release.
        baseline: String,
    },
    /// A new version.
    Bump {
        /// The version in `generated/Cargo.toml`.
        current: Version,
        /// The new version.
        next: Version,
        /// Why.
        level: Level,
        /// What was taken as the last release.
        baseline: String,
        /// The schema change report since the baseline.
        report: ChangeReport,
        /// The files to rewrite.
        edits: Vec<FileEdit>,
    },
}

fn release_error(message: impl Into<String>) -> Error {
    Error::Release { message: message.into() }
}

fn read(root: &Path, relative: &str) -> Result<String, Error> {
    let path = root.join(relative);
    fs::read_to_string(&path).map_err(io(&path))
}

/// The `version` of `[package]` in a manifest (errors name `generated/Cargo.toml`).
///
/// # Errors
///
/// The manifest is not TOML or has no literal `package.version`.
pub fn manifest_version(manifest: &str) -> Result<Version, Error> {
    version_in(MANIFEST, manifest)
}

/// The `version` of `[package]` in the manifest at `path` (used in errors).
fn version_in(path: &str, manifest: &str) -> Result<Version, Error> {
    let table: toml::Table = toml::from_str(manifest).map_err(|e| release_error(format!("{path}: {e}")))?;
    let version = table
        .get("package")
        .and_then(|p| p.get("version"))
        .and_then(toml::Value::as_str)
        .ok_or_else(|| release_error(format!("{path}: no literal `version = \"…\"` in [package]")))?;
    version.parse().map_err(|e| release_error(format!("{path}: {e}")))
}

/// The `version` requirement of the `fal-ltx-runtime` dependency in `generated/Cargo.toml`
/// (`"=0.1.0"`), `None` when there is no such dependency or no literal requirement.
///
/// # Errors
///
/// The manifest is not TOML.
pub fn runtime_requirement(manifest: &str) -> Result<Option<String>, Error> {
    requirement(MANIFEST, manifest, RUNTIME_PACKAGE)
}

/// The `version` requirement of `dependency` in `[dependencies]` of the manifest at `path`
/// (`"=0.1.0"`), `None` when there is no such dependency or no literal requirement.
///
/// # Errors
///
/// The manifest is not TOML (the error names `path`).
pub fn requirement(path: &str, manifest: &str, dependency: &str) -> Result<Option<String>, Error> {
    let table: toml::Table = toml::from_str(manifest).map_err(|e| release_error(format!("{path}: {e}")))?;
    let dependency = table.get("dependencies").and_then(|d| d.get(dependency));
    Ok(dependency.and_then(|d| d.get("version")).and_then(toml::Value::as_str).map(str::to_owned))
}

/// `generated/Cargo.toml` with the exact requirement on the runtime set to `=next`, in the
/// `fal-ltx-runtime = { version = "=…", … }` line of `[dependencies]`; every other byte is kept.
///
/// # Errors
///
/// No such line with an exact (`"=…"`) requirement.
pub fn set_runtime_requirement(manifest: &str, next: &Version) -> Result<String, Error> {
    set_requirement(&RELEASED[1], manifest, next)
}

/// The manifest of `krate` with its exact requirement on the crate it pins set to `=next`, in the
/// `<dependency> = { version = "=…", … }` line of `[dependencies]`; every other byte is kept.
///
/// # Errors
///
/// `krate` pins nothing, or its manifest has no such line with an exact (`"=…"`) requirement.
pub fn set_requirement(krate: &Released, manifest: &str, next: &Version) -> Result<String, Error> {
    let Some((dependency, dependency_path)) = krate.pins else {
        return Err(release_error(format!("{}: {} pins no released crate", krate.manifest, krate.package)));
    };
    let mut in_dependencies = false;
    let mut done = false;
    let mut out = String::with_capacity(manifest.len());
    for line in manifest.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_dependencies = trimmed == "[dependencies]";
        }
        let names_dependency = trimmed.strip_prefix(dependency).is_some_and(|rest| rest.trim_start().starts_with('='));
        if in_dependencies
            && !done
            && names_dependency
            && let Some(start) = line.find("\"=").map(|i| i + 2)
            && let Some(len) = line[start..].find('"')
        {
            out.push_str(&line[..start]);
            out.push_str(&next.to_string());
            out.push_str(&line[start + len..]);
            done = true;
            continue;
        }
        out.push_str(line);
    }
    if !done {
        return Err(release_error(format!(
            "{}: no `{dependency} = {{ version = \"=x.y.z\", path = \"{dependency_path}\" }}` line in \
             [dependencies]: {} must pin {dependency} exactly (they are released under one version)",
            krate.manifest, krate.package
        )));
    }
    Ok(out)
}

/// The manifest with `[package]`'s `version` set to `next`; every other byte is kept.
///
/// # Errors
///
/// No `version = "…"` line in `[package]`.
pub fn set_manifest_version(manifest: &str, next: &Version) -> Result<String, Error> {
    let mut in_package = false;
    let mut done = false;
    let mut out = String::with_capacity(manifest.len());
    for line in manifest.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_package = trimmed == "[package]";
        }
        if in_package
            && !done
            && let Some(rest) = trimmed.strip_prefix("version")
        {
            let rest = rest.trim_start();
            if let Some(value) = rest.strip_prefix('=') {
                let value = value.trim();
                if value.starts_with('"') && value[1..].contains('"') {
                    let indent = &line[..line.len() - line.trim_start().len()];
                    let newline = if line.ends_with("\r\n") {
                        "\r\n"
                    } else if line.ends_with('\n') {
                        "\n"
                    } else {
                        ""
                    };
                    let end = value[1..].find('"').map_or(value.len(), |i| i + 2);
                    out.push_str(&format!("{indent}version = \"{next}\"{}{newline}", &value[end..]));
                    done = true;
                    continue;
                }
            }
        }
        out.push_str(line);
    }
    if !done {
        return Err(release_error(format!("{MANIFEST}: no `version = \"…\"` line in [package]")));
    }
    Ok(out)
}

/// `Cargo.lock` with the versions of the released packages ([`RELEASED`]) set to `next` (what
/// `cargo update -p fal-ltx-runtime -p fal-ltx -p fal-ltx-cli --offline` writes for path packages).
///
/// # Errors
///
/// The lock file does not list each of them at `current` exactly once.
pub fn set_lock_version(lock: &str, current: &Version, next: &Version) -> Result<String, Error> {
    let mut out = lock.to_owned();
    for Released { package, .. } in RELEASED {
        let needle = format!("[[package]]\nname = \"{package}\"\nversion = \"{current}\"\n");
        match out.matches(&needle).count() {
            1 => out = out.replace(&needle, &format!("[[package]]\nname = \"{package}\"\nversion = \"{next}\"\n")),
            n => {
                return Err(release_error(format!(
                    "{LOCK}: expected one `{package}` {current} entry, found {n}; run `{}` first",
                    update_command()
                )));
            }
        }
    }
    Ok(out)
}

/// What disagrees between the versions of the released crates: their manifests'
/// `[package] version` (`manifests` holds each manifest's text, in the order of [`RELEASED`]),
/// the exact requirements `=x.y.z` between them, and their entries in `Cargo.lock`. Empty when
/// they are in lockstep. Each problem says what to change.
///
/// # Errors
///
/// A manifest is not TOML or has no literal version; the lock file is not TOML.
pub fn lockstep_problems(manifests: &[&str; RELEASED.len()], lock: &str) -> Result<Vec<String>, Error> {
    let version = version_in(MANIFEST, manifests[1])?;
    let mut problems = Vec::new();
    let mut versions = Vec::new();
    for (krate, manifest) in RELEASED.iter().zip(manifests) {
        let own = version_in(krate.manifest, manifest)?;
        versions.push((krate.package, own));
        if own != version {
            problems.push(format!(
                "{} has version {own} but {MANIFEST} has {version}: {} are released together under one version; \
                 set them to the same version (`cargo xtask bump` does)",
                krate.manifest,
                RELEASED.map(|c| c.package).join(", ")
            ));
        }
        if let Some((dependency, path)) = krate.pins {
            let pin = format!("={version}");
            match requirement(krate.manifest, manifest, dependency)? {
                Some(found) if found == pin => {}
                found => problems.push(format!(
                    "{} requires {dependency} {}: it must pin the crate of the same release exactly, \
                     `{dependency} = {{ version = \"{pin}\", path = \"{path}\" }}`",
                    krate.manifest,
                    found.map_or_else(|| "without a version".to_owned(), |r| format!("`{r}`"))
                )),
            }
        }
    }
    let table: toml::Table = toml::from_str(lock).map_err(|e| release_error(format!("{LOCK}: {e}")))?;
    let packages = table.get("package").and_then(toml::Value::as_array).map_or(&[][..], Vec::as_slice);
    for (package, expected) in versions {
        let locked: Vec<&str> = packages
            .iter()
            .filter(|p| p.get("name").and_then(toml::Value::as_str) == Some(package))
            .filter_map(|p| p.get("version").and_then(toml::Value::as_str))
            .collect();
        if locked != [expected.to_string().as_str()] {
            problems.push(format!(
                "{LOCK} lists {package} at {} but its manifest has {expected}: run `cargo update -p {package} --offline`",
                if locked.is_empty() { "no version".to_owned() } else { locked.join(", ") }
            ));
        }
    }
    Ok(problems)
}

/// The manifests of the released crates, in the order of [`RELEASED`].
fn read_manifests(root: &Path) -> Result<[String; RELEASED.len()], Error> {
    Ok([read(root, RELEASED[0].manifest)?, read(root, RELEASED[1].manifest)?, read(root, RELEASED[2].manifest)?])
}

/// Checks that the released crates are in lockstep ([`lockstep_problems`]) and returns their version.
///
/// # Errors
///
/// A file cannot be read or parsed, or [`Error::Release`] listing every disagreement.
pub fn check_lockstep(root: &Path) -> Result<Version, Error> {
    let manifests = read_manifests(root)?;
    let problems = lockstep_problems(&manifests.each_ref().map(String::as_str), &read(root, LOCK)?)?;
    if !problems.is_empty() {
        return Err(release_error(format!(
            "{} are not in lockstep:\n  {}",
            RELEASED.map(|c| c.package).join(", "),
            problems.join("\n  ")
        )));
    }
    manifest_version(&manifests[1])
}

/// A README with `fal-ltx = "<old requirement>"` (or `{ version = "<old>"…`) rewritten
/// to the new version's requirement, on the lines that name `fal-ltx`.
pub fn set_readme_requirement(text: &str, current: &Version, next: &Version) -> String {
    let (old, new) = (format!("\"{}\"", current.requirement()), format!("\"{}\"", next.requirement()));
    if old == new {
        return text.to_owned();
    }
    text.split_inclusive('\n')
        .map(|line| {
            if line.trim_start().starts_with(&format!("{PACKAGE} =")) {
                line.replacen(&old, &new, 1)
            } else {
                line.to_owned()
            }
        })
        .collect()
}

/// The change report as a CHANGELOG subsection: its headings moved below `### Schema changes`.
pub fn report_section(report: &ChangeReport) -> String {
    let markdown = report.render_markdown();
    let mut out = String::from("### Schema changes\n");
    for line in markdown.lines().skip_while(|l| l.starts_with("# ")) {
        if line.starts_with('#') {
            out.push_str("##");
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The CHANGELOG with a new `## [next] - date` section below an emptied
/// `## [Unreleased]`, holding the Unreleased notes and then the change report.
///
/// # Errors
///
/// No `## [Unreleased]` heading, or a section for `next` already exists.
pub fn changelog_with_release(
    changelog: &str,
    next: &Version,
    date: &str,
    report: &ChangeReport,
) -> Result<String, Error> {
    if changelog.lines().any(|l| l.starts_with(&format!("## [{next}]"))) {
        return Err(release_error(format!("{CHANGELOG} already has a section for {next}")));
    }
    let (head, notes, rest) = split_unreleased(changelog)?;
    let mut out = String::from(head);
    out.push_str("## [Unreleased]\n\n");
    out.push_str(&format!("## [{next}] - {date}\n\n"));
    let notes = notes.trim();
    if !notes.is_empty() {
        out.push_str(notes);
        out.push_str("\n\n");
    }
    if !report.is_empty() {
        out.push_str(&report_section(report));
        out.push('\n');
    }
    if notes.is_empty() && report.is_empty() {
        out.push_str("No changes to the generated API.\n\n");
    }
    out.push_str(rest);
    Ok(out)
}

/// `(text before the Unreleased heading, the Unreleased notes, the text from the next section on)`.
///
/// # Errors
///
/// No `## [Unreleased]` heading.
pub fn split_unreleased(changelog: &str) -> Result<(&str, &str, &str), Error> {
    let mut offset = 0;
    let mut start = None;
    for line in changelog.split_inclusive('\n') {
        let heading = line.trim_end();
        match start {
            None if heading.eq_ignore_ascii_case("## [unreleased]") => start = Some((offset, offset + line.len())),
            Some((begin, body)) if heading.starts_with("## ") => {
                return Ok((&changelog[..begin], &changelog[body..offset], &changelog[offset..]));
            }
            _ => {}
        }
        offset += line.len();
    }
    match start {
        Some((begin, body)) => Ok((&changelog[..begin], &changelog[body..], "")),
        None => Err(release_error(format!("{CHANGELOG}: no `## [Unreleased]` heading"))),
    }
}

/// The notes under `## [Unreleased]` (trimmed; empty when there are none).
///
/// # Errors
///
/// No `## [Unreleased]` heading.
pub fn unreleased_notes(changelog: &str) -> Result<String, Error> {
    Ok(split_unreleased(changelog)?.1.trim().to_owned())
}

/// Runs `git -C root <args>`.
fn git(root: &Path, args: &[&str]) -> Result<String, Error> {
    crate::diff::git(root, args).map_err(|message| Error::Git { message: format!("git {}: {message}", args.join(" ")) })
}

/// The last release's baseline and a description of it, or `None` when the
/// baseline has no schemas (the current version is the first release).
fn resolve_baseline(root: &Path, since: &Since, current: &Version) -> Result<Option<(Baseline, String)>, Error> {
    let rev = match since {
        Since::Dir(dir) => return Ok(Some((Baseline::Dir(dir.clone()), format!("the schemas in {}", dir.display())))),
        Since::Rev(rev) => (rev.clone(), format!("git revision `{rev}`")),
        Since::LastRelease => {
            let tag = tag(current);
            if git(root, &["rev-parse", "--verify", "--quiet", &format!("refs/tags/{tag}^{{commit}}")]).is_ok() {
                (tag.clone(), format!("tag `{tag}`"))
            } else {
                let commit = git(root, &["log", "-1", "--format=%H", "-G", "^version *=", "--", MANIFEST])?;
                let commit = commit.trim();
                if commit.is_empty() {
                    return Err(release_error(format!(
                        "no tag `{tag}` and no commit that sets {MANIFEST}'s version; pass `--since <rev>` or `--against <dir>`"
                    )));
                }
                let short = &commit[..commit.len().min(12)];
                (commit.to_owned(), format!("commit {short} (the last change of {MANIFEST}'s version; no tag `{tag}`)"))
            }
        }
    };
    let (rev, description) = rev;
    // The version must be the committed one: a second bump before committing the
    // first would compare with the release before it and bump twice.
    let committed = git(root, &["show", &format!("HEAD:./{MANIFEST}")]).ok().and_then(|t| manifest_version(&t).ok());
    if committed.is_some_and(|v| v != *current) {
        return Err(release_error(format!(
            "{MANIFEST}'s version {current} is not committed (HEAD has {}): commit the last bump or revert it first",
            committed.map_or_else(String::new, |v| v.to_string())
        )));
    }
    if git(root, &["cat-file", "-e", &format!("{rev}:./schemas/endpoints.toml")]).is_err() {
        return Ok(None);
    }
    Ok(Some((Baseline::Rev(rev), description)))
}

/// Decides the next version and the files to rewrite; writes nothing.
///
/// # Errors
///
/// A file cannot be read or parsed, the two crates are not in lockstep ([`check_lockstep`]),
/// `git` fails, or the CHANGELOG or lock file is not as expected.
pub fn plan_bump(root: &Path, options: &BumpOptions) -> Result<BumpPlan, Error> {
    let current = check_lockstep(root)?;
    let changelog = read(root, CHANGELOG)?;
    let notes = unreleased_notes(&changelog)?;
    let Some((baseline, description)) = resolve_baseline(root, &options.since, &current)? else {
        return Ok(BumpPlan::FirstRelease {
            current,
            baseline: match &options.since {
                Since::Rev(rev) => format!("git revision `{rev}`, which has no schemas/"),
                _ => format!("no release before {current}: the version was set before schemas/ existed"),
            },
            notes,
        });
    };
    let report = crate::diff::diff_workspace(root, &baseline)?;
    let level =
        [level(&report), (!notes.is_empty()).then_some(Level::Fix), options.breaking.then_some(Level::Breaking)]
            .into_iter()
            .flatten()
            .max();
    let Some(level) = level else {
        return Ok(BumpPlan::Unchanged { current, baseline: description });
    };
    let next = current.bumped(level);
    let lock = read(root, LOCK)?;
    let mut edits = Vec::new();
    for (krate, before) in RELEASED.iter().zip(read_manifests(root)?) {
        let mut after = set_manifest_version(&before, &next)?;
        if krate.pins.is_some() {
            after = set_requirement(krate, &after, &next)?;
        }
        edits.push(FileEdit { path: krate.manifest.to_owned(), before, after });
    }
    edits.push(FileEdit { path: LOCK.to_owned(), after: set_lock_version(&lock, &current, &next)?, before: lock });
    edits.push(FileEdit {
        path: CHANGELOG.to_owned(),
        after: changelog_with_release(&changelog, &next, &options.date, &report)?,
        before: changelog,
    });
    for readme in READMES {
        if let Ok(before) = read(root, readme) {
            let after = set_readme_requirement(&before, &current, &next);
            if after != before {
                edits.push(FileEdit { path: readme.to_owned(), before, after });
            }
        }
    }
    Ok(BumpPlan::Bump { current, next, level, baseline: description, report, edits })
}

/// Writes a plan's edits (nothing for [`BumpPlan::FirstRelease`] and [`BumpPlan::Unchanged`]).
///
/// # Errors
///
/// A file cannot be written.
pub fn apply(root: &Path, plan: &BumpPlan) -> Result<(), Error> {
    if let BumpPlan::Bump { edits, .. } = plan {
        for edit in edits {
            let path = root.join(&edit.path);
            fs::write(&path, &edit.after).map_err(io(&path))?;
        }
    }
    Ok(())
}

/// `cargo xtask bump`: [`plan_bump`], then [`apply`] unless `dry_run`.
///
/// # Errors
///
/// As [`plan_bump`] and [`apply`]; nothing is written when planning fails.
pub fn bump(root: &Path, options: &BumpOptions, dry_run: bool) -> Result<BumpPlan, Error> {
    let plan = plan_bump(root, options)?;
    if !dry_run {
        apply(root, &plan)?;
    }
    Ok(plan)
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today_utc() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    civil_date(secs / 86_400)
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub fn civil_date(days: u64) -> String {
    let z = days.cast_signed() + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

// ---------------------------------------------------------------------------
// release-check

/// One step of `cargo xtask release-check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// [`check_lockstep`]: the [`RELEASED`] crates have the same version, each pins the one it depends
    /// on exactly at it, and `Cargo.lock` agrees.
    Lockstep,
    /// `cargo xtask check`: generated code matches `schemas/`.
    Drift,
    /// `cargo publish --dry-run -p fal-ltx-runtime -p fal-ltx -p fal-ltx-cli`: packages the three crates and
    /// builds them from the packages.
    Publish,
    /// `cargo doc -p fal-ltx-runtime -p fal-ltx --no-deps --all-features` with `RUSTDOCFLAGS=-D warnings`.
    Doc,
}

impl Step {
    /// Every step, in the order they run.
    pub const ALL: [Self; 4] = [Self::Lockstep, Self::Drift, Self::Publish, Self::Doc];

    /// Its name in the output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lockstep => "versions in lockstep",
            Self::Drift => "drift check",
            Self::Publish => "cargo publish --dry-run",
            Self::Doc => "cargo doc (-D warnings)",
        }
    }

    /// The command a step runs (`None` for the lockstep and drift checks, which run in-process).
    pub fn command(self, root: &Path, allow_dirty: bool) -> Option<Command> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command.current_dir(root);
        // `cargo xtask` is `cargo run`, which sets the package variables of xtask itself
        // (CARGO_MANIFEST_DIR, CARGO_PKG_NAME, …) for this process. Build scripts that track
        // them (ring's tracks CARGO_MANIFEST_DIR) would see them change between this step and
        // any plain `cargo` build and rebuild every time; the child cargo gets them unset.
        for (key, _) in std::env::vars_os() {
            if key.to_str().is_some_and(is_package_variable) {
                command.env_remove(&key);
            }
        }
        match self {
            Self::Lockstep | Self::Drift => return None,
            Self::Publish => {
                // The three crates in one call: cargo packages them in dependency order and builds each package
                // against the packages before it (none is on crates.io until it is published).
                command.args(["publish", "--dry-run", "--locked"]);
                for krate in RELEASED {
                    command.args(["-p", krate.package]);
                }
                if allow_dirty {
                    command.arg("--allow-dirty");
                }
            }
            Self::Doc => {
                command.args(["doc", "-p", RUNTIME_PACKAGE, "-p", PACKAGE, "--no-deps", "--all-features", "--locked"]);
                command.env("RUSTDOCFLAGS", "-D warnings");
            }
        }
        Some(command)
    }
}

/// The variables `cargo run` sets for the program it runs (those describing its package), which
/// a child cargo must not inherit.
pub fn is_package_variable(key: &str) -> bool {
    key.starts_with("CARGO_PKG_")
        || key.starts_with("CARGO_MANIFEST_")
        || matches!(key, "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE" | "CARGO_RUSTC_CURRENT_DIR")
}

/// The outcome of one step.
#[derive(Debug)]
pub struct StepOutcome {
    /// The step.
    pub step: Step,
    /// Passed or why not.
    pub result: Result<(), String>,
    /// How long it took.
    pub elapsed: Duration,
}

/// Runs one step; its output goes to this process's stdout and stderr.
pub fn run_step(root: &Path, step: Step, allow_dirty: bool) -> StepOutcome {
    let started = std::time::Instant::now();
    let result = match step.command(root, allow_dirty) {
        None if step == Step::Lockstep => match check_lockstep(root) {
            Ok(version) => {
                println!(
                    "lockstep: {} are all {version}, each pinning the one it depends on at ={version}",
                    RELEASED.map(|c| c.package).join(", ")
                );
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        },
        None => match crate::check(root) {
            Ok(drift) if drift.is_empty() => {
                println!("check: generated code is up to date with schemas/");
                Ok(())
            }
            Ok(drift) => {
                for item in &drift {
                    eprintln!("{item}");
                }
                Err(format!("{} generated file(s) out of date: {}", drift.len(), crate::drift_advice()))
            }
            Err(e) => Err(e.to_string()),
        },
        Some(mut command) => {
            let shown = std::iter::once("cargo".into())
                .chain(command.get_args().map(|a| a.to_string_lossy()))
                .collect::<Vec<_>>()
                .join(" ");
            match command.status() {
                Ok(status) if status.success() => Ok(()),
                Ok(status) => Err(format!("`{shown}` exited with {status}")),
                Err(e) => Err(format!("`{shown}` could not start: {e}")),
            }
        }
    };
    StepOutcome { step, result, elapsed: started.elapsed() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreleased_may_be_the_last_section_and_its_heading_any_case() {
        let text = "# Changelog\n\n## [unreleased]\n\n- Note.\n";
        assert_eq!(unreleased_notes(text).expect("notes"), "- Note.");
        let out = changelog_with_release(text, &"0.1.1".parse().expect("v"), "2026-12-01", &ChangeReport::default())
            .expect("rewritten");
        assert_eq!(out, "# Changelog\n\n## [Unreleased]\n\n## [0.1.1] - 2026-12-01\n\n- Note.\n\n");
    }

    #[test]
    fn the_report_section_demotes_the_reports_headings() {
        let report = ChangeReport {
            endpoints: vec![crate::diff::diff_documents("o/a", None, Some(&serde_json::json!({"openapi": "3.0.4"})))],
        };
        let section = report_section(&report);
        assert!(section.starts_with("### Schema changes\n\nBreaking: **no**"), "{section}");
        assert!(section.contains("\n#### `o/a`\n"), "{section}");
        assert!(!section.lines().any(|l| l.starts_with("# ") || l.starts_with("## ")), "{section}");
    }

    #[test]
    fn steps_run_the_documented_commands() {
        let root = Path::new("/nowhere");
        assert!(Step::Drift.command(root, false).is_none());
        assert!(Step::Lockstep.command(root, false).is_none());
        assert_eq!(Step::ALL[0], Step::Lockstep, "the cheapest check first");
        let publish = format!("{:?}", Step::Publish.command(root, false).expect("a command"));
        assert!(publish.contains("\"publish\" \"--dry-run\"") && !publish.contains("allow-dirty"), "{publish}");
        let dirty = format!("{:?}", Step::Publish.command(root, true).expect("a command"));
        assert!(dirty.contains("--allow-dirty"), "{dirty}");
        let doc = Step::Doc.command(root, false).expect("a command");
        assert!(doc.get_envs().any(|(k, v)| k == "RUSTDOCFLAGS" && v == Some("-D warnings".as_ref())));
        // Under `cargo test`, CARGO_MANIFEST_DIR is set, as under `cargo xtask`: the child does not inherit it.
        assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
        assert!(doc.get_envs().any(|(k, v)| k == "CARGO_MANIFEST_DIR" && v.is_none()), "{doc:?}");
        assert!(is_package_variable("CARGO_PKG_NAME") && !is_package_variable("CARGO_HOME"));
        assert!(!is_package_variable("CARGO_TARGET_DIR") && !is_package_variable("CARGO"));
    }
}
