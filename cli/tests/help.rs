//! The `--help` of every command of `fal-ltx`, snapshotted (`tests/snapshots/help__*.snap`), so that
//! every change of a help text (a schema's description, a range, a default, the flag syntax, the exit
//! codes) is reviewed. The commands are found by walking the `Commands:` lists of the help texts
//! themselves, so a new endpoint gets its snapshot; a snapshot file no command produces is rejected.
//!
//! Review changes with `cargo insta review`, or accept them with `INSTA_UPDATE=always cargo test -p
//! fal-ltx-cli --test help`.

use std::collections::BTreeSet;
use std::process::Command;

/// `fal-ltx <path…> --help`, without any FAL_* variable of the caller's environment.
fn help(path: &[String]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fal-ltx"));
    command.args(path).arg("--help");
    for variable in ["FAL_KEY", "FAL_QUEUE_URL", "FAL_RUN_URL", "FAL_REST_URL"] {
        command.env_remove(variable);
    }
    let output = command.output().expect("run fal-ltx --help");
    assert!(output.status.success(), "{path:?} --help: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8 help")
}

/// The subcommands a help text lists (without `help`).
fn subcommands(text: &str) -> Vec<String> {
    let Some(start) = text.find("\nCommands:\n") else { return Vec::new() };
    text[start + "\nCommands:\n".len()..]
        .lines()
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Every command path, depth first, with its help text.
fn every_help() -> Vec<(Vec<String>, String)> {
    let mut out = Vec::new();
    let mut pending = vec![Vec::new()];
    while let Some(path) = pending.pop() {
        let text = help(&path);
        for name in subcommands(&text).into_iter().rev() {
            let mut child = path.clone();
            child.push(name);
            pending.push(child);
        }
        out.push((path, text));
    }
    out
}

fn snapshot_name(path: &[String]) -> String {
    if path.is_empty() { "fal-ltx".to_owned() } else { path.join("__") }
}

#[test]
fn every_command_help_is_snapshotted_and_no_snapshot_is_orphaned() {
    let helps = every_help();
    // The top level, four families, 18 endpoints; submit with its four families and 18 endpoints;
    // status, result, cancel, batch, completions.
    assert_eq!(helps.len(), 1 + 4 + 18 + 1 + 4 + 18 + 5, "{:?}", helps.iter().map(|(p, _)| p).collect::<Vec<_>>());
    let mut expected = BTreeSet::new();
    for (path, text) in &helps {
        let name = snapshot_name(path);
        insta::assert_snapshot!(name.clone(), text);
        expected.insert(format!("help__{name}.snap"));
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let present: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("help__") && name.ends_with(".snap"))
        .collect();
    let orphans: Vec<&String> = present.difference(&expected).collect();
    assert!(
        orphans.is_empty(),
        "snapshots of commands that no longer exist: delete them from {}: {orphans:?}",
        dir.display()
    );
}

#[test]
fn help_shows_ranges_defaults_values_syntax_and_exit_codes() {
    let top = help(&[]);
    assert!(top.contains("Exit codes:\n  0  success"), "{top}");
    let endpoint = help(&["ltx-2-3-22b".into(), "distilled-text-to-video-lora".into()]);
    for fact in
        ["Range: 9 ..= 481.", "Default: 121.", "Repeat the flag for each item.", "WIDTHxHEIGHT", "--input <FILE>"]
    {
        assert!(endpoint.contains(fact), "{fact}:\n{endpoint}");
    }
    let enums = help(&["ltx-2-3".into(), "text-to-video".into()]);
    assert!(enums.contains("[possible values: 24, 25, 48, 50]"), "{enums}");
}
