//! The drift check: the committed generated code (the client's
//! `generated/src/endpoints/` and the command-line tool's
//! `cli/src/generated/`) equals the generator's output, and in a temporary
//! copy of the workspace a hand edit, a changed schema, a deleted file and an
//! orphan file in either directory each make `xtask::check` fail, while
//! `xtask::regen` repairs them and is idempotent. Paths are relative to the
//! workspace root.

use std::fs;
use std::path::Path;

use xtask::Drift;
use xtask::workspace_root;

#[test]
fn committed_generated_code_is_up_to_date() {
    let drift = xtask::check(&workspace_root()).expect("check runs");
    let report: Vec<String> = drift.iter().map(ToString::to_string).collect();
    assert!(drift.is_empty(), "{}\n{}", report.join("\n"), xtask::drift_advice());
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create dir");
    for entry in fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// A temporary workspace with `schemas/`, `generated/src/endpoints/` and `cli/src/generated/`.
fn temp_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = workspace_root();
    copy_dir(&root.join("schemas"), &dir.path().join("schemas"));
    for generated in xtask::GENERATED_DIRS {
        copy_dir(&root.join(generated), &dir.path().join(generated));
    }
    dir
}

const EDITED: &str = "generated/src/endpoints/ltx_2/text_to_video.rs";
const CLI_EDITED: &str = "cli/src/generated/ltx_2.rs";

#[test]
fn a_hand_edit_is_drift_with_a_diff() {
    let dir = temp_workspace();
    let root = dir.path();
    assert_eq!(xtask::check(root).expect("check"), Vec::new());
    let file = root.join(EDITED);
    let text = fs::read_to_string(&file).expect("read");
    fs::write(&file, text.replacen("pub struct Ltx2TextToVideoInput", "pub struct Ltx2TextToVideoInputEdited", 1))
        .expect("write");
    let drift = xtask::check(root).expect("check");
    match drift.as_slice() {
        [Drift::Stale { path, diff }] => {
            assert_eq!(path, EDITED);
            assert!(diff.contains("-pub struct Ltx2TextToVideoInputEdited"), "{diff}");
            assert!(diff.contains("+pub struct Ltx2TextToVideoInput {"), "{diff}");
        }
        other => panic!("expected one stale file, got {other:?}"),
    }
    let report = xtask::regen(root).expect("regen");
    assert_eq!(report.written, vec![EDITED.to_owned()]);
    assert_eq!(xtask::check(root).expect("check"), Vec::new());
}

#[test]
fn a_changed_schema_is_drift() {
    let dir = temp_workspace();
    let root = dir.path();
    let schema = root.join("schemas/fal-ai/ltx-2/text-to-video.json");
    let text = fs::read_to_string(&schema).expect("read");
    let changed = text.replacen("\"maxLength\": 5000", "\"maxLength\": 4000", 1);
    assert_ne!(text, changed, "the schema has the expected maxLength");
    fs::write(&schema, changed).expect("write");
    let drift = xtask::check(root).expect("check");
    assert!(
        drift.iter().any(|d| matches!(d, Drift::Stale { path, diff } if path == EDITED && diff.contains("4000"))),
        "{drift:?}"
    );
    xtask::regen(root).expect("regen");
    assert_eq!(xtask::check(root).expect("check"), Vec::new());
}

#[test]
fn missing_and_orphan_files_are_drift_and_regen_is_idempotent() {
    let dir = temp_workspace();
    let root = dir.path();
    const ORPHAN: &str = "generated/src/endpoints/ltx_2/hand_written.rs";
    fs::remove_file(root.join(EDITED)).expect("remove");
    fs::write(root.join(ORPHAN), "// not generated\n").expect("write");
    let drift = xtask::check(root).expect("check");
    assert!(drift.contains(&Drift::Missing { path: EDITED.to_owned() }), "{drift:?}");
    assert!(drift.contains(&Drift::Orphan { path: ORPHAN.to_owned() }), "{drift:?}");
    assert_eq!(drift.len(), 2, "{drift:?}");
    assert_eq!(drift[0].to_string(), format!("{EDITED} is missing"));

    let first = xtask::regen(root).expect("regen");
    assert_eq!(first.written, vec![EDITED.to_owned()]);
    assert_eq!(first.removed, vec![ORPHAN.to_owned()]);
    let second = xtask::regen(root).expect("regen");
    assert!(second.written.is_empty() && second.removed.is_empty(), "second regen changed files: {second:?}");
    assert_eq!(xtask::check(root).expect("check"), Vec::new());
}

#[test]
fn a_bad_schema_names_its_file_and_pointer_and_writes_nothing() {
    let dir = temp_workspace();
    let root = dir.path();
    let schema = root.join("schemas/fal-ai/ltx-2/text-to-video.json");
    let mut doc: serde_json::Value = serde_json::from_str(&fs::read_to_string(&schema).expect("read")).expect("json");
    doc["components"]["schemas"]["Ltx2TextToVideoOutput"]["properties"]["video"]["allOf"][0]["$ref"] =
        serde_json::json!("https://example.com/NoSuchFile.json#/Video");
    fs::write(&schema, serde_json::to_string_pretty(&doc).expect("json")).expect("write");
    let before = fs::read_to_string(root.join(EDITED)).expect("read");
    let cli_before = fs::read_to_string(root.join(CLI_EDITED)).expect("read");
    let error = xtask::regen(root).expect_err("a $ref outside the document is an error").to_string();
    assert!(
        error.starts_with(
            "schemas/fal-ai/ltx-2/text-to-video.json#/components/schemas/Ltx2TextToVideoOutput/properties/video"
        ),
        "{error}"
    );
    assert!(error.contains("NoSuchFile"), "{error}");
    assert_eq!(fs::read_to_string(root.join(EDITED)).expect("read"), before);
    assert_eq!(fs::read_to_string(root.join(CLI_EDITED)).expect("read"), cli_before);
}

#[test]
fn the_cli_tables_are_covered_hand_edits_missing_files_and_orphans() {
    let dir = temp_workspace();
    let root = dir.path();
    const ORPHAN: &str = "cli/src/generated/hand_written.rs";
    const DELETED: &str = "cli/src/generated/types.rs";
    let file = root.join(CLI_EDITED);
    let text = fs::read_to_string(&file).expect("read");
    fs::write(&file, text.replacen("command: \"text-to-video\"", "command: \"t2v\"", 1)).expect("write");
    fs::remove_file(root.join(DELETED)).expect("remove");
    fs::write(root.join(ORPHAN), "// not generated\n").expect("write");
    let drift = xtask::check(root).expect("check");
    assert_eq!(drift.len(), 3, "{drift:?}");
    match &drift[0] {
        Drift::Stale { path, diff } => {
            assert_eq!(path, CLI_EDITED);
            assert!(diff.contains("-    command: \"t2v\""), "{diff}");
            assert!(drift[0].to_string().starts_with("cli/src/generated/ltx_2.rs differs"), "{}", drift[0]);
        }
        other => panic!("expected the edited CLI table to be stale, got {other:?}"),
    }
    assert!(drift.contains(&Drift::Missing { path: DELETED.to_owned() }), "{drift:?}");
    assert!(drift.contains(&Drift::Orphan { path: ORPHAN.to_owned() }), "{drift:?}");
    let report = xtask::regen(root).expect("regen");
    assert_eq!(report.written, vec![CLI_EDITED.to_owned(), DELETED.to_owned()]);
    assert_eq!(report.removed, vec![ORPHAN.to_owned()]);
    assert_eq!(xtask::check(root).expect("check"), Vec::new());
}
