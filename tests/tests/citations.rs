//! Every citation of the repository's own documents resolves inside the repository: each
//! "protocol.md §N" names a numbered section of `docs/protocol.md`, each `ARCHITECTURE.md, "Title"` a section
//! of `ARCHITECTURE.md`, and nothing points at the notes outside it (`../shared/docs`, `fal-protocol.md`,
//! `DESIGN.md`) that a clone elsewhere, or the published crates, cannot open.

use std::path::{Path, PathBuf};

use xtask::workspace_root;

/// The repository's text files that may cite the documents (sources, manifests, scripts, Markdown), skipping
/// build output, git's directory and the snapshots (generated text).
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if path.is_dir() {
            if !matches!(name, "target" | ".git" | "node_modules" | "snapshots") {
                files(&path, out);
            }
        } else if ["rs", "toml", "md", "sh", "py", "mjs"].iter().any(|x| name.ends_with(&format!(".{x}"))) {
            out.push(path);
        }
    }
}

/// The headings (`## …`) of a Markdown file.
fn headings(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().filter_map(|l| l.strip_prefix("## ")).map(str::to_owned).collect()
}

/// The section numbers cited right after each "protocol.md" in `text` (`protocol.md §1, §3` → 1, 3).
fn protocol_sections(text: &str) -> Vec<u32> {
    let mut sections = Vec::new();
    for (at, _) in text.match_indices("protocol.md") {
        let rest = &text[at + "protocol.md".len()..];
        // The citation is the run of "§N" (with separators) that starts within a few characters.
        let Some(first) = rest.find('§').filter(|&i| i <= 4) else { continue };
        let mut tail = &rest[first..];
        while let Some(after) = tail.strip_prefix('§') {
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            let Ok(number) = digits.parse() else { break };
            sections.push(number);
            let after = &after[digits.len()..];
            let next = after.trim_start_matches([',', ' ', '–', '-', '\n', '/', '&']);
            let next = next.trim_start_matches("and ").trim_start_matches("//! ").trim_start_matches("/// ");
            if !next.starts_with('§') {
                break;
            }
            tail = next;
        }
    }
    sections
}

#[test]
fn citations_point_inside_the_repository() {
    let root = workspace_root();
    let protocol: Vec<u32> = headings(&root.join("docs/protocol.md"))
        .iter()
        .filter_map(|h| h.split_once('.').and_then(|(n, _)| n.parse().ok()))
        .collect();
    assert_eq!(protocol, (1..=9).collect::<Vec<_>>(), "docs/protocol.md keeps the sections §1–§9");
    let architecture = headings(&root.join("ARCHITECTURE.md"));

    let mut paths = Vec::new();
    files(&root, &mut paths);
    let (mut cited, mut problems) = (0, Vec::new());
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let shown = path.strip_prefix(&root).unwrap_or(path).display().to_string();
        if shown == "tests/tests/citations.rs" {
            continue; // this file spells the patterns out
        }
        for section in protocol_sections(&text) {
            cited += 1;
            if !protocol.contains(&section) {
                problems.push(format!("{shown}: protocol.md §{section} does not exist"));
            }
        }
        for (at, _) in text.match_indices("ARCHITECTURE.md, \"") {
            let title = text[at + "ARCHITECTURE.md, \"".len()..].split('"').next().unwrap_or_default();
            cited += 1;
            if title != "<section title>" && !architecture.iter().any(|h| h == title) {
                problems.push(format!("{shown}: ARCHITECTURE.md has no section \"{title}\""));
            }
        }
        for outside in ["shared/docs", "fal-protocol.md", "DESIGN.md"] {
            if text.contains(outside) {
                problems.push(format!("{shown}: cites `{outside}`, which is outside the repository"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(cited > 50, "only {cited} citations found: is the scan looking at the sources?");
}

#[test]
fn the_citation_scanner_reads_lists_and_ranges() {
    assert_eq!(protocol_sections("see protocol.md §1, §3 and more"), [1, 3]);
    assert_eq!(protocol_sections("(protocol.md §4)."), [4]);
    assert_eq!(protocol_sections("protocol.md\n/// §2"), Vec::<u32>::new());
    assert_eq!(protocol_sections("`docs/protocol.md` §5; protocol.md §1–§4"), [5, 1, 4]);
}
