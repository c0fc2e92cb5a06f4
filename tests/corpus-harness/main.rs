//! The generated validators of the corpus crate, one input at a time, for
//! the differential test in `tests/tests/corpus.rs` (which copies this file
//! into the crate it generates from fal's corpus as `src/main.rs`).
//!
//! Reads lines `<endpoint id>\t<JSON body>` on stdin and answers each with
//! one JSON line on stdout: `{"ok": <the input as check_input re-encodes
//! it>}` or `{"err": "<why it was rejected>"}`; an unknown endpoint id or a
//! line that is not JSON ends the process with an error.

use std::io::{BufRead, Write};

use fal_ltx_corpus::ENDPOINTS;
use fal_ltx_corpus::endpoint::InputError;
use serde_json::{Value, json};

fn main() -> Result<(), String> {
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lines() {
        let line = line.map_err(|e| format!("reading stdin: {e}"))?;
        let (id, body) = line.split_once('\t').ok_or_else(|| format!("no tab in {line:?}"))?;
        let endpoint = ENDPOINTS.iter().find(|e| e.id == id).ok_or_else(|| format!("unknown endpoint id {id:?}"))?;
        let input: Value = serde_json::from_str(body).map_err(|e| format!("{id}: input is not JSON: {e}"))?;
        let answer = match (endpoint.check_input)(&input) {
            Ok(checked) => json!({ "ok": checked.body }),
            Err(InputError::Invalid(e)) => json!({ "err": e.to_string() }),
            Err(InputError::Decode(e)) => json!({ "err": format!("(decode) {e}") }),
        };
        writeln!(stdout, "{answer}").and_then(|()| stdout.flush()).map_err(|e| format!("writing stdout: {e}"))?;
    }
    Ok(())
}
