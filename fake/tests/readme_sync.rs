//! README.md's example is tests/readme.rs (after its `//!` header), so the example compiles and passes.

#[test]
fn the_readme_example_is_tests_readme_rs() {
    let readme = include_str!("../README.md");
    let block = readme.split("```rust\n").nth(1).and_then(|rest| rest.split("```").next()).expect("a ```rust block");
    let file = include_str!("readme.rs");
    let code: String =
        file.lines().skip_while(|line| line.starts_with("//!")).skip(1).map(|line| format!("{line}\n")).collect();
    assert_eq!(block, code, "copy tests/readme.rs (without its header) into README.md's ```rust block");
}
