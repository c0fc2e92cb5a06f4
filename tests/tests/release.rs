//! Releasing `fal-ltx`: `cargo xtask bump` (`xtask::release`).
//!
//! The version a change report leads to, on fal's older/newer pairs in
//! `../shared/fal-openapi/alt/` (read in place) and on edits of vendored documents; the
//! rewriting of the released crates' `Cargo.toml` (version and the exact pins),
//! `Cargo.lock`, the CHANGELOG and the READMEs; the lockstep of `fal-ltx` and
//! `fal-ltx-runtime`; and whole bumps in a temporary git repository laid out like this
//! workspace (tag, fallback commit, first release, `--dry-run`, a second bump before
//! committing the first, crates out of lockstep).

use std::fs;
use std::path::Path;

use integration_tests::support::{alt_pairs, snapshot_dir, vendored_schema};
use serde_json::{Value, json};
use xtask::diff::{ChangeReport, diff_documents};
use xtask::release::{self, BumpOptions, BumpPlan, Level, Since, Version};
use xtask::{Error, workspace_root};

const TEXT: &str = "fal-ai/ltx-2/text-to-video";
const IMAGE: &str = "fal-ai/ltx-2/image-to-video";
const RETAKE: &str = "fal-ai/ltx-2/retake-video";
const DATE: &str = "2026-12-01";

fn v(s: &str) -> Version {
    s.parse().expect("a version")
}

fn report_of(id: &str, old: &Value, new: &Value) -> ChangeReport {
    ChangeReport { endpoints: vec![diff_documents(id, Some(old), Some(new))] }
}

// ---------------------------------------------------------------------------
// Versions and levels.

#[test]
fn versions_parse_print_and_bump_by_semver_with_the_0x_shift() {
    assert_eq!(v("0.1.0").to_string(), "0.1.0");
    for bad in ["0.1", "0.1.0-rc.1", "01.2.3", "1.2.3.4", "a.b.c", ""] {
        assert!(bad.parse::<Version>().is_err(), "{bad:?}");
    }
    let cases = [
        ("0.1.3", Level::Breaking, "0.2.0"),
        ("0.1.3", Level::Feature, "0.1.4"),
        ("0.1.3", Level::Fix, "0.1.4"),
        ("1.4.2", Level::Breaking, "2.0.0"),
        ("1.4.2", Level::Feature, "1.5.0"),
        ("1.4.2", Level::Fix, "1.4.3"),
    ];
    for (from, level, to) in cases {
        assert_eq!(v(from).bumped(level), v(to), "{from} {level:?}");
    }
    assert_eq!(v("0.1.7").requirement(), "0.1");
    assert_eq!(v("2.3.4").requirement(), "2");
    assert_eq!(release::tag(&v("0.2.0")), "fal-ltx-v0.2.0");
}

#[test]
fn alt_pairs_bump_minor_exactly_when_the_report_is_breaking() {
    let mut seen = (0, 0);
    for (id, path, old, new) in alt_pairs() {
        let report = report_of(&id, &old, &new);
        let schemas_differ = old["components"]["schemas"] != new["components"]["schemas"];
        let level = release::level(&report).unwrap_or_else(|| panic!("{}: documents differ", path.display()));
        let next = v("0.1.0").bumped(level);
        if report.is_breaking() {
            assert_eq!((level, next), (Level::Breaking, v("0.2.0")), "{}", path.display());
            seen.0 += 1;
        } else {
            assert_ne!(level, Level::Breaking, "{}", path.display());
            assert_eq!(next, v("0.1.1"), "{}", path.display());
            seen.1 += 1;
        }
        // A document changed only outside the input and output types is a patch.
        if !schemas_differ {
            assert_eq!(level, Level::Fix, "{}", path.display());
        }
        // The same documents: no change, no bump.
        assert_eq!(release::level(&xtask::diff::diff(&id, &new, &new)), None);
    }
    assert!(seen.0 > 0 && seen.1 > 0, "the alt/ pairs hold breaking and non-breaking changes: {seen:?}");
}

#[test]
fn named_alt_pairs() {
    let level = |stem: &str| {
        let (id, _, old, new) = alt_pairs()
            .into_iter()
            .find(|(_, p, ..)| p.file_name().is_some_and(|n| n.to_string_lossy() == format!("{stem}.json")))
            .unwrap_or_else(|| panic!("alt/{stem}.json"));
        release::level(&report_of(&id, &old, &new))
    };
    // VideoFile.file_data removed from the output.
    assert_eq!(level("clarityai__crystal-video-upscaler.alt2"), Some(Level::Breaking));
    // Image.content_type made nullable (optional already): non-breaking, a patch in 0.x.
    assert_eq!(level("fal-ai__flux__dev.alt2"), Some(Level::Feature));
}

fn edited(edit: impl FnOnce(&mut Value)) -> Option<Level> {
    let old = vendored_schema(TEXT);
    let mut new = vendored_schema(TEXT);
    edit(&mut new);
    release::level(&xtask::diff::diff(TEXT, &old, &new))
}

fn input(doc: &mut Value) -> &mut Value {
    &mut doc["components"]["schemas"]["Ltx2TextToVideoInput"]
}

#[test]
fn synthetic_edits_classify_as_patch_minor_or_nothing() {
    let (patch, minor) = (v("0.1.1"), v("0.2.0"));
    let optional = edited(|d| input(d)["properties"]["negative_prompt"] = json!({"type": "string"}));
    assert_eq!(optional.map(|l| v("0.1.0").bumped(l)), Some(patch), "a new optional field is a patch");
    let required = edited(|d| {
        input(d)["properties"]["negative_prompt"] = json!({"type": "string"});
        input(d)["required"].as_array_mut().expect("required").push(json!("negative_prompt"));
    });
    assert_eq!(required.map(|l| v("0.1.0").bumped(l)), Some(minor), "a new required field is a minor bump");
    let removed = edited(|d| {
        input(d)["properties"].as_object_mut().expect("properties").shift_remove("generate_audio");
    });
    assert_eq!(removed.map(|l| v("0.1.0").bumped(l)), Some(minor), "a removed field is a minor bump");
    let description = edited(|d| input(d)["properties"]["prompt"]["description"] = json!("Say what you want."));
    assert_eq!(description, Some(Level::Fix));
    assert_eq!(edited(|_| {}), None, "no change, no bump");
}

// ---------------------------------------------------------------------------
// Rewriting the files.

#[test]
fn the_manifest_version_is_rewritten_and_nothing_else() {
    let manifest = fs::read_to_string(workspace_root().join(release::MANIFEST)).expect("manifest");
    let current = release::manifest_version(&manifest).expect("a version");
    let next = current.bumped(Level::Breaking);
    let bumped = release::set_manifest_version(&manifest, &next).expect("rewritten");
    assert_eq!(release::manifest_version(&bumped).expect("version"), next);
    let changed: Vec<(&str, &str)> = manifest.lines().zip(bumped.lines()).filter(|(a, b)| a != b).collect();
    assert_eq!(changed, [(format!("version = \"{current}\"").as_str(), format!("version = \"{next}\"").as_str())]);
    assert_eq!(manifest.lines().count(), bumped.lines().count());

    // Only [package]'s version: a dependency's `version` key and other tables are left alone.
    let text =
        "[package]\nname = \"x\"\nversion   =   \"0.1.0\" # the crate\n\n[dependencies.y]\nversion = \"0.1.0\"\n";
    let bumped = release::set_manifest_version(text, &v("0.1.1")).expect("rewritten");
    assert_eq!(
        bumped,
        "[package]\nname = \"x\"\nversion = \"0.1.1\" # the crate\n\n[dependencies.y]\nversion = \"0.1.0\"\n"
    );
    assert!(release::set_manifest_version("[package]\nversion.workspace = true\n", &v("0.1.1")).is_err());
}

#[test]
fn the_lock_entries_of_both_crates_follow_the_version() {
    let lock = fs::read_to_string(workspace_root().join(release::LOCK)).expect("Cargo.lock");
    let manifest = fs::read_to_string(workspace_root().join(release::MANIFEST)).expect("manifest");
    let current = release::manifest_version(&manifest).expect("version");
    let next = current.bumped(Level::Fix);
    let bumped = release::set_lock_version(&lock, &current, &next).expect("the lock lists the three crates");
    let lines: Vec<(&str, &str)> = lock.lines().zip(bumped.lines()).filter(|(a, b)| a != b).collect();
    let line = (format!("version = \"{current}\""), format!("version = \"{next}\""));
    assert_eq!(lines, [(line.0.as_str(), line.1.as_str()); 3], "one line per crate, nothing else");
    let table: toml::Table = toml::from_str(&bumped).expect("still TOML");
    for name in release::RELEASED.map(|c| c.package) {
        let entry = table["package"]
            .as_array()
            .expect("packages")
            .iter()
            .find(|p| p["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(entry["version"].as_str(), Some(next.to_string().as_str()), "{name}");
    }
    assert!(release::set_lock_version(&lock, &next, &current).is_err(), "the lock does not list {next}");
    // A lock where only one of the two is at `current` is refused, not half-rewritten.
    let runtime_only = lock.replace(
        &format!("name = \"{}\"\nversion = \"{current}\"", release::PACKAGE),
        &format!("name = \"{}\"\nversion = \"{next}\"", release::PACKAGE),
    );
    let error = release::set_lock_version(&runtime_only, &current, &next).expect_err("refused");
    assert!(
        error.to_string().contains("cargo update -p fal-ltx-runtime -p fal-ltx -p fal-ltx-cli --offline"),
        "{error}"
    );
}

#[test]
fn the_runtime_pin_is_rewritten_and_nothing_else() {
    let manifest = fs::read_to_string(workspace_root().join(release::MANIFEST)).expect("manifest");
    let current = release::manifest_version(&manifest).expect("version");
    assert_eq!(release::runtime_requirement(&manifest).expect("TOML"), Some(format!("={current}")));
    let next = current.bumped(Level::Breaking);
    let bumped = release::set_runtime_requirement(&manifest, &next).expect("rewritten");
    assert_eq!(release::runtime_requirement(&bumped).expect("TOML"), Some(format!("={next}")));
    assert_eq!(release::manifest_version(&bumped).expect("version"), current, "the package version is separate");
    let changed: Vec<(&str, &str)> = manifest.lines().zip(bumped.lines()).filter(|(a, b)| a != b).collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].0.replace(&format!("={current}"), &format!("={next}")), changed[0].1);

    // Only the exact pin in [dependencies]; a caret requirement or a dev-dependency is not it.
    let text = "[package]\nversion = \"0.1.0\"\n\n[dependencies]\nfal-ltx-runtime = { version = \"=0.1.0\", path = \"../runtime\" } # pinned\n\n[dev-dependencies]\nfal-ltx-runtime = { version = \"=0.1.0\" }\n";
    assert_eq!(
        release::set_runtime_requirement(text, &v("0.2.0")).expect("rewritten"),
        text.replacen("=0.1.0", "=0.2.0", 1)
    );
    let caret = "[dependencies]\nfal-ltx-runtime = { version = \"0.1\", path = \"../runtime\" }\n";
    let error = release::set_runtime_requirement(caret, &v("0.2.0")).expect_err("not an exact pin");
    assert!(error.to_string().contains("must pin fal-ltx-runtime exactly"), "{error}");
}

// ---------------------------------------------------------------------------
// Lockstep: one version for fal-ltx-runtime, fal-ltx and fal-ltx-cli.

fn workspace_files() -> (String, String, String, String) {
    let read = |f: &str| fs::read_to_string(workspace_root().join(f)).expect(f);
    (read(release::MANIFEST), read(release::RUNTIME_MANIFEST), read(release::CLI_MANIFEST), read(release::LOCK))
}

/// `lockstep_problems` over the three manifests, given in the order the tests read them.
fn lockstep_problems(manifest: &str, runtime: &str, cli: &str, lock: &str) -> Vec<String> {
    release::lockstep_problems(&[runtime, manifest, cli], lock).expect("parsed")
}

#[test]
fn this_workspace_is_in_lockstep() {
    let (manifest, runtime, cli, lock) = workspace_files();
    assert_eq!(lockstep_problems(&manifest, &runtime, &cli, &lock), Vec::<String>::new());
    let version = release::check_lockstep(&workspace_root()).expect("in lockstep");
    assert_eq!(version, release::manifest_version(&manifest).expect("version"));
}

#[test]
fn every_disagreement_between_the_released_crates_is_named() {
    let (manifest, runtime, cli, lock) = workspace_files();
    let current = release::manifest_version(&manifest).expect("version");
    let other = current.bumped(Level::Fix);
    let problems = |manifest: &str, runtime: &str, lock: &str| lockstep_problems(manifest, runtime, &cli, lock);

    // The runtime at another version (its lock entry following it).
    let runtime_ahead = release::set_manifest_version(&runtime, &other).expect("runtime version");
    let lock_runtime_ahead = lock.replace(
        &format!("name = \"fal-ltx-runtime\"\nversion = \"{current}\""),
        &format!("name = \"fal-ltx-runtime\"\nversion = \"{other}\""),
    );
    let found = problems(&manifest, &runtime_ahead, &lock_runtime_ahead);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains(&format!("{} has version {other}", release::RUNTIME_MANIFEST)), "{}", found[0]);
    assert!(found[0].contains("released together"), "{}", found[0]);

    // The pin: another exact version, a caret requirement, none at all.
    let pinned_elsewhere = release::set_runtime_requirement(&manifest, &other).expect("pin");
    let caret = manifest.replace(&format!("\"={current}\""), &format!("\"{current}\""));
    let unpinned = manifest.replace(&format!("version = \"={current}\", "), "");
    for (manifest, shown) in [
        (&pinned_elsewhere, format!("`={other}`")),
        (&caret, format!("`{current}`")),
        (&unpinned, "without".to_owned()),
    ] {
        let found = problems(manifest, &runtime, &lock);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].contains(&shown) && found[0].contains(&format!("\"={current}\"")), "{}", found[0]);
    }

    // The command-line tool's pin on fal-ltx, and its version.
    let cli_crate = &release::RELEASED[2];
    let cli_pinned_elsewhere = release::set_requirement(cli_crate, &cli, &other).expect("pin");
    let found = lockstep_problems(&manifest, &runtime, &cli_pinned_elsewhere, &lock);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with(&format!("{} requires fal-ltx `={other}`", release::CLI_MANIFEST)), "{}", found[0]);
    let cli_ahead = release::set_manifest_version(&cli, &other).expect("cli version");
    let found = lockstep_problems(&manifest, &runtime, &cli_ahead, &lock);
    assert_eq!(found.len(), 2, "version and lock entry: {found:#?}");
    assert!(found[0].contains(&format!("{} has version {other}", release::CLI_MANIFEST)), "{}", found[0]);

    // The lock behind the three manifests.
    let all_ahead = (
        release::set_runtime_requirement(&release::set_manifest_version(&manifest, &other).expect("v"), &other)
            .expect("pin"),
        runtime_ahead,
        release::set_requirement(cli_crate, &cli_ahead, &other).expect("pin"),
    );
    let found = lockstep_problems(&all_ahead.0, &all_ahead.1, &all_ahead.2, &lock);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found.iter().all(|p| p.contains(&format!("at {current} but its manifest has {other}"))), "{found:#?}");
    assert!(found[0].contains("cargo update -p fal-ltx-runtime --offline"), "{}", found[0]);
    assert!(found[2].contains("cargo update -p fal-ltx-cli --offline"), "{}", found[2]);
    // Bumped together, the lock too: in lockstep again.
    let lock_all = release::set_lock_version(&lock, &current, &other).expect("lock");
    assert!(lockstep_problems(&all_ahead.0, &all_ahead.1, &all_ahead.2, &lock_all).is_empty());
}

#[test]
fn a_bump_refuses_crates_out_of_lockstep_and_writes_nothing() {
    let dir = repo(true);
    let root = dir.path();
    edit_schema(root, TEXT, |d| input(d)["properties"]["negative_prompt"] = json!({"type": "string"}));
    let path = root.join(release::RUNTIME_MANIFEST);
    let runtime = fs::read_to_string(&path).expect("runtime manifest");
    let ahead = current(root).bumped(Level::Fix);
    fs::write(&path, release::set_manifest_version(&runtime, &ahead).expect("version")).expect("write");
    let before = snapshot_dir(root);
    let error = release::bump(root, &last_release(), false).expect_err("refused");
    assert!(
        matches!(&error, Error::Release { message } if message.contains("not in lockstep") && message.contains(&ahead.to_string())),
        "{error}"
    );
    assert_eq!(snapshot_dir(root), before, "a refused bump wrote something");
    let error = release::check_lockstep(root).expect_err("out of lockstep");
    assert!(error.to_string().contains(release::RUNTIME_MANIFEST), "{error}");
    // `cargo xtask release-check` fails on its first step.
    let outcome = release::run_step(root, release::Step::Lockstep, false);
    assert!(outcome.result.as_ref().is_err_and(|e| e.contains("not in lockstep")), "{:?}", outcome.result);
}

#[test]
fn the_changelog_gets_a_section_with_the_notes_and_the_report() {
    let old = vendored_schema(TEXT);
    let mut new = vendored_schema(TEXT);
    input(&mut new)["properties"].as_object_mut().expect("properties").shift_remove("generate_audio");
    let report = xtask::diff::diff(TEXT, &old, &new);
    let changelog = "# Changelog\n\nIntro.\n\n## [Unreleased]\n\n### Fixed\n\n- A runtime fix.\n\n## [0.1.0] - 2026-01-01\n\n- First.\n";
    let out = release::changelog_with_release(changelog, &v("0.2.0"), DATE, &report).expect("rewritten");
    let expected_start = "# Changelog\n\nIntro.\n\n## [Unreleased]\n\n## [0.2.0] - 2026-12-01\n\n### Fixed\n\n- A runtime fix.\n\n### Schema changes\n\nBreaking: **yes**";
    assert!(out.starts_with(expected_start), "{out}");
    assert!(
        out.contains(&format!("\n#### `{TEXT}` (breaking)\n")),
        "endpoint headings below ### Schema changes: {out}"
    );
    assert!(out.contains("`Ltx2TextToVideoInput.generate_audio` (input): field removed"), "{out}");
    assert!(out.ends_with("\n\n## [0.1.0] - 2026-01-01\n\n- First.\n"), "the older sections are kept: {out}");
    assert_eq!(release::unreleased_notes(&out).expect("notes"), "", "Unreleased is emptied");
    assert!(release::changelog_with_release(&out, &v("0.2.0"), DATE, &report).is_err(), "0.2.0 exists already");
    assert!(release::changelog_with_release("# Changelog\n", &v("0.2.0"), DATE, &report).is_err());
}

#[test]
fn the_crates_changelog_has_unreleased_and_the_current_version() {
    let changelog = fs::read_to_string(workspace_root().join(release::CHANGELOG)).expect("CHANGELOG");
    let manifest = fs::read_to_string(workspace_root().join(release::MANIFEST)).expect("manifest");
    let current = release::manifest_version(&manifest).expect("version");
    release::unreleased_notes(&changelog).expect("an Unreleased section");
    assert!(
        changelog.lines().any(|l| l.starts_with(&format!("## [{current}] - "))),
        "{} has no section for {current}",
        release::CHANGELOG
    );
}

#[test]
fn readme_requirements_change_only_with_the_requirement() {
    let text = "fal-ltx = \"0.1\"\nfal-ltx = { version = \"0.1\", default-features = false }\nother = \"0.1\"\n";
    assert_eq!(release::set_readme_requirement(text, &v("0.1.0"), &v("0.1.1")), text);
    assert_eq!(
        release::set_readme_requirement(text, &v("0.1.4"), &v("0.2.0")),
        "fal-ltx = \"0.2\"\nfal-ltx = { version = \"0.2\", default-features = false }\nother = \"0.1\"\n"
    );
}

#[test]
fn civil_dates() {
    assert_eq!(release::civil_date(0), "1970-01-01");
    assert_eq!(release::civil_date(11_016), "2000-02-29");
    assert_eq!(release::civil_date(20_788), "2026-12-01");
    assert_eq!(release::today_utc().len(), 10);
}

// ---------------------------------------------------------------------------
// Whole bumps in a temporary repository.

/// A temporary workspace with three LTX-2 schemas, the three released manifests, the CHANGELOG,
/// READMEs and the workspace's Cargo.lock, committed, and tagged `fal-ltx-v<version>` if `tag`.
fn repo(tag: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let real = workspace_root();
    let ids = [TEXT, IMAGE, RETAKE];
    let manifest: String = ids.iter().map(|id| format!("  \"{id}\",\n")).collect();
    write(root, "schemas/endpoints.toml", &format!("endpoints = [\n{manifest}]\n"));
    for id in ids {
        write(root, &xtask::schema_path(id), &fs::read_to_string(real.join(xtask::schema_path(id))).expect("schema"));
    }
    for file in [
        release::MANIFEST,
        release::RUNTIME_MANIFEST,
        release::CLI_MANIFEST,
        release::CHANGELOG,
        release::LOCK,
        "generated/README.md",
        "README.md",
    ] {
        write(root, file, &released(&real, file));
    }
    git(root, &["init", "--quiet"]);
    git(root, &["add", "."]);
    git(root, &["commit", "--quiet", "-m", "release"]);
    if tag {
        git(root, &["tag", &release::tag(&current(root))]);
    }
    dir
}

/// The workspace's `relative` as it was right after a release: the CHANGELOG's
/// `Unreleased` section emptied of the notes written since (the tests add their own).
fn released(real: &Path, relative: &str) -> String {
    let text = fs::read_to_string(real.join(relative)).expect(relative);
    if relative != release::CHANGELOG {
        return text;
    }
    let (head, _notes, rest) = release::split_unreleased(&text).expect("an Unreleased section");
    format!("{head}## [Unreleased]\n\n{rest}")
}

fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    fs::write(path, text).expect("write");
}

fn git(root: &Path, args: &[&str]) {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"])
        .args(["-c", "tag.gpgsign=false"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

fn current(root: &Path) -> Version {
    release::manifest_version(&fs::read_to_string(root.join(release::MANIFEST)).expect("manifest")).expect("version")
}

fn edit_schema(root: &Path, id: &str, edit: impl FnOnce(&mut Value)) {
    let path = root.join(xtask::schema_path(id));
    let mut document: Value = serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("JSON");
    edit(&mut document);
    fs::write(&path, xtask::fetch::canonical_text(&document)).expect("write");
}

fn options(since: Since) -> BumpOptions {
    BumpOptions { since, breaking: false, date: DATE.to_owned() }
}

fn last_release() -> BumpOptions {
    options(Since::LastRelease)
}

#[test]
fn nothing_changed_since_the_tag_writes_nothing() {
    let dir = repo(true);
    let before = snapshot_dir(dir.path());
    let plan = release::bump(dir.path(), &last_release(), false).expect("bump");
    let BumpPlan::Unchanged { baseline, .. } = plan else { panic!("{plan:?}") };
    assert!(baseline.contains("tag `fal-ltx-v"), "{baseline}");
    assert_eq!(snapshot_dir(dir.path()), before);
}

#[test]
fn a_new_optional_field_is_a_patch_release() {
    let dir = repo(true);
    let root = dir.path();
    let start = current(root);
    edit_schema(root, TEXT, |d| input(d)["properties"]["negative_prompt"] = json!({"type": "string"}));
    let readmes =
        (fs::read(root.join("README.md")).expect("r"), fs::read(root.join("generated/README.md")).expect("r"));
    let plan = release::bump(root, &last_release(), false).expect("bump");
    let BumpPlan::Bump { next, level, .. } = &plan else { panic!("{plan:?}") };
    assert_eq!((*level, *next), (Level::Feature, start.bumped(Level::Fix)));
    assert_eq!(current(root), *next);
    assert_eq!(release::check_lockstep(root).expect("still in lockstep"), *next, "runtime, pin and lock follow");
    let runtime = fs::read_to_string(root.join(release::RUNTIME_MANIFEST)).expect("runtime manifest");
    assert!(runtime.contains(&format!("\nversion = \"{next}\"\n")), "{runtime}");
    let lock = fs::read_to_string(root.join(release::LOCK)).expect("lock");
    assert!(lock.contains(&format!("name = \"fal-ltx\"\nversion = \"{next}\"\n")), "Cargo.lock follows");
    assert!(lock.contains(&format!("name = \"fal-ltx-runtime\"\nversion = \"{next}\"\n")), "Cargo.lock follows");
    let changelog = fs::read_to_string(root.join(release::CHANGELOG)).expect("changelog");
    assert!(
        changelog.contains(&format!("## [Unreleased]\n\n## [{next}] - {DATE}\n\n### Schema changes\n")),
        "{changelog}"
    );
    assert!(changelog.contains("`Ltx2TextToVideoInput.negative_prompt` (input): optional field added"), "{changelog}");
    assert!(changelog.contains(&format!("## [{start}] - ")), "the earlier section stays");
    let after = (fs::read(root.join("README.md")).expect("r"), fs::read(root.join("generated/README.md")).expect("r"));
    assert_eq!(after, readmes, "the `0.x` requirement is unchanged by a patch");
}

#[test]
fn a_removed_field_or_a_new_required_field_is_a_minor_release() {
    for edit in [
        Box::new(|d: &mut Value| {
            input(d)["properties"].as_object_mut().expect("properties").shift_remove("generate_audio");
        }) as Box<dyn Fn(&mut Value)>,
        Box::new(|d: &mut Value| {
            input(d)["properties"]["negative_prompt"] = json!({"type": "string"});
            input(d)["required"].as_array_mut().expect("required").push(json!("negative_prompt"));
        }),
    ] {
        let dir = repo(true);
        let root = dir.path();
        let start = current(root);
        edit_schema(root, TEXT, edit);
        let plan = release::bump(root, &last_release(), false).expect("bump");
        let BumpPlan::Bump { next, level, edits, .. } = &plan else { panic!("{plan:?}") };
        assert_eq!((*level, *next), (Level::Breaking, start.bumped(Level::Breaking)));
        let written: Vec<&str> = edits.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            written,
            [
                release::RUNTIME_MANIFEST,
                release::MANIFEST,
                release::CLI_MANIFEST,
                release::LOCK,
                release::CHANGELOG,
                "generated/README.md",
                "README.md"
            ]
        );
        assert_eq!(release::check_lockstep(root).expect("in lockstep"), *next);
        for readme in ["generated/README.md", "README.md"] {
            let text = fs::read_to_string(root.join(readme)).expect("readme");
            assert!(text.contains(&format!("fal-ltx = {{ version = \"{}\"", next.requirement())), "{readme}");
            assert!(!text.contains(&format!("\"{}\"", start.requirement())), "{readme}: the old requirement is gone");
        }
        let changelog = fs::read_to_string(root.join(release::CHANGELOG)).expect("changelog");
        assert!(changelog.contains(&format!("#### `{TEXT}` (breaking)")), "{changelog}");
    }
}

#[test]
fn dry_run_writes_nothing() {
    let dir = repo(true);
    let root = dir.path();
    edit_schema(root, TEXT, |d| {
        input(d)["properties"].as_object_mut().expect("properties").shift_remove("generate_audio");
    });
    let before = snapshot_dir(root);
    let plan = release::bump(root, &last_release(), true).expect("dry run");
    let BumpPlan::Bump { edits, .. } = &plan else { panic!("{plan:?}") };
    assert!(edits.iter().all(|e| e.before != e.after && e.diff().contains("+++")), "it shows what it would write");
    assert_eq!(snapshot_dir(root), before, "--dry-run wrote something");
}

#[test]
fn unreleased_notes_alone_are_a_patch_and_move_into_the_section() {
    let dir = repo(true);
    let root = dir.path();
    let path = root.join(release::CHANGELOG);
    let changelog = fs::read_to_string(&path).expect("changelog");
    fs::write(
        &path,
        changelog.replace("## [Unreleased]\n", "## [Unreleased]\n\n### Fixed\n\n- Retries honour `Retry-After`.\n"),
    )
    .expect("write");
    let plan = release::bump(root, &last_release(), false).expect("bump");
    let BumpPlan::Bump { next, level, .. } = &plan else { panic!("{plan:?}") };
    assert_eq!(*level, Level::Fix);
    let changelog = fs::read_to_string(&path).expect("changelog");
    assert!(
        changelog.contains(&format!(
            "## [Unreleased]\n\n## [{next}] - {DATE}\n\n### Fixed\n\n- Retries honour `Retry-After`.\n\n## ["
        )),
        "{changelog}"
    );
    assert!(!changelog.contains("### Schema changes"), "no schema changed");

    // `--breaking` makes the same notes a minor release.
    let dir = repo(true);
    let path = dir.path().join(release::CHANGELOG);
    let changelog = fs::read_to_string(&path).expect("changelog");
    fs::write(&path, changelog.replace("## [Unreleased]\n", "## [Unreleased]\n\n### Removed\n\n- `Client::old`.\n"))
        .expect("write");
    let start = current(dir.path());
    let plan = release::bump(dir.path(), &BumpOptions { breaking: true, ..last_release() }, true).expect("bump");
    let BumpPlan::Bump { next, .. } = plan else { panic!("{plan:?}") };
    assert_eq!(next, start.bumped(Level::Breaking));
}

#[test]
fn without_a_tag_the_commit_of_the_last_bump_is_the_release() {
    let dir = repo(false);
    let root = dir.path();
    // The only commit that sets the version also has the schemas: it is the release.
    assert!(matches!(release::bump(root, &last_release(), true).expect("plan"), BumpPlan::Unchanged { .. }));
    edit_schema(root, TEXT, |d| input(d)["properties"]["negative_prompt"] = json!({"type": "string"}));
    let plan = release::bump(root, &last_release(), false).expect("bump");
    let BumpPlan::Bump { next, baseline, .. } = &plan else { panic!("{plan:?}") };
    assert!(baseline.contains("the last change of generated/Cargo.toml's version"), "{baseline}");

    // A second bump before the first is committed would bump twice: refused.
    let before = snapshot_dir(root);
    let error = release::bump(root, &last_release(), false).expect_err("refused");
    assert!(matches!(&error, Error::Release { message } if message.contains("not committed")), "{error}");
    assert_eq!(snapshot_dir(root), before);

    // Committed (published, not tagged): the bump commit is the new baseline.
    git(root, &["commit", "--quiet", "-am", &format!("fal-ltx {next}")]);
    assert!(matches!(release::bump(root, &last_release(), true).expect("plan"), BumpPlan::Unchanged { .. }));
}

#[test]
fn a_version_set_before_any_schema_is_the_first_release() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let real = workspace_root();
    for file in [release::MANIFEST, release::RUNTIME_MANIFEST, release::CLI_MANIFEST, release::CHANGELOG, release::LOCK]
    {
        write(root, file, &released(&real, file));
    }
    git(root, &["init", "--quiet"]);
    git(root, &["add", "."]);
    git(root, &["commit", "--quiet", "-m", "skeleton"]);
    write(root, "schemas/endpoints.toml", &format!("endpoints = [\"{TEXT}\"]\n"));
    write(root, &xtask::schema_path(TEXT), &fs::read_to_string(real.join(xtask::schema_path(TEXT))).expect("schema"));
    git(root, &["add", "."]);
    git(root, &["commit", "--quiet", "-m", "schemas"]);
    let path = root.join(release::CHANGELOG);
    let changelog = fs::read_to_string(&path).expect("changelog");
    fs::write(&path, changelog.replace("## [Unreleased]\n", "## [Unreleased]\n\n- Webhooks.\n")).expect("write");
    let before = snapshot_dir(root);
    let plan = release::bump(root, &last_release(), false).expect("plan");
    let BumpPlan::FirstRelease { current: first, notes, .. } = &plan else { panic!("{plan:?}") };
    assert_eq!((*first, notes.as_str()), (current(root), "- Webhooks."), "the notes are reported, not moved");
    assert_eq!(snapshot_dir(root), before);
    // An explicit baseline still works: against the schemas commit only the notes changed.
    let plan = release::bump(root, &options(Since::Rev("HEAD".to_owned())), true).expect("plan");
    assert!(matches!(plan, BumpPlan::Bump { level: Level::Fix, .. }), "{plan:?}");
}

#[test]
fn against_a_directory() {
    let dir = repo(true);
    let root = dir.path();
    let baseline = tempfile::tempdir().expect("tempdir");
    for id in [TEXT, IMAGE] {
        write(
            baseline.path(),
            &format!("{id}.json"),
            &fs::read_to_string(root.join(xtask::schema_path(id))).expect("s"),
        );
    }
    // RETAKE is only in the working tree: an added endpoint, non-breaking.
    let plan = release::bump(root, &options(Since::Dir(baseline.path().to_owned())), true).expect("plan");
    let BumpPlan::Bump { level, report, .. } = &plan else { panic!("{plan:?}") };
    assert_eq!(*level, Level::Feature);
    assert_eq!(report.endpoints.len(), 1, "{report}");
    assert_eq!(report.endpoints[0].endpoint_id, RETAKE);
}
