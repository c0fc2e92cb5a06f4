//! Benchmarks of the generator and of the code it emits, at two scales: the
//! 18 vendored endpoints (`schemas/`) and fal's whole published corpus
//! (`../shared/fal-openapi`, or `FAL_OPENAPI_DIR`). Numbers are printed,
//! never asserted.
//!
//! ```text
//! cargo run --release -p xtask --bin bench-generator [runs] [--no-cargo]
//! ```
//!
//! Measured:
//! - generator wall time (median of `runs`, default 5) and the process's peak
//!   resident memory after each scale (`VmHWM` from `/proc/self/status`,
//!   Linux; the corpus figure includes the vendored run before it);
//! - lines of generated Rust, in all and per endpoint;
//! - unless `--no-cargo`: `cargo check` and `cargo build` (debug) of the
//!   corpus crate ([`xtask::corpus::write_crate`]), wall time and peak memory
//!   (`/usr/bin/time -f %M`, when that program is installed), in a target
//!   directory of its own under `target/bench-corpus` (the crate itself is
//!   written to `target/bench-corpus/crate`): each twice, first as
//!   it comes (the dependencies are built too on the first run of a fresh
//!   target directory), then after touching `src/lib.rs`, which rebuilds the
//!   generated crate alone.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fal_codegen::{Source, generate};

/// Peak resident memory of this process so far, in MiB (`VmHWM`, Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Generates `sources` `runs` times; prints the median and the lines per endpoint.
fn bench_generator(label: &str, sources: &[Source], runs: usize) {
    let mut times = Vec::new();
    let mut summary = None;
    for _ in 0..runs {
        let started = Instant::now();
        let generation = generate(sources).unwrap_or_else(|e| panic!("{label}: {e}"));
        times.push(started.elapsed());
        let lines: usize = generation.files.iter().map(|f| f.contents.lines().count()).sum();
        summary = Some((generation.api.endpoints.len(), generation.files.len(), lines));
    }
    let (endpoints, files, lines) = summary.expect("at least one run");
    let peak = peak_rss_mib().map_or_else(|| "n/a".to_owned(), |m| format!("{m:.0} MiB"));
    println!(
        "generator, {label}: {endpoints} endpoints, {files} files, {lines} lines ({} per endpoint); \
         median {:.1?} of {runs} runs ({:.2?} per endpoint); peak RSS so far {peak}",
        lines / endpoints.max(1),
        median(times.clone()),
        median(times) / endpoints.max(1) as u32,
    );
}

/// Runs `cargo <args>` in `dir`, under `/usr/bin/time -f %M` when available;
/// returns the wall time and the peak RSS of the largest process, in MiB.
fn timed_cargo(dir: &Path, target: &Path, args: &[&str]) -> (Duration, Option<f64>) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let gnu_time = Path::new("/usr/bin/time");
    let mut command = if gnu_time.exists() {
        let mut c = Command::new(gnu_time);
        c.arg("-f").arg("%M").arg(&cargo);
        c
    } else {
        Command::new(&cargo)
    };
    command.args(args).current_dir(dir).env("CARGO_TARGET_DIR", target);
    let started = Instant::now();
    let output = command.output().expect("run cargo");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "cargo {args:?} failed:\n{stderr}");
    let peak = gnu_time.exists().then(|| stderr.lines().last()?.trim().parse::<f64>().ok()).flatten();
    (elapsed, peak.map(|kib| kib / 1024.0))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(5).max(1);
    let with_cargo = !args.iter().any(|a| a == "--no-cargo");
    let root = xtask::workspace_root();

    let vendored = xtask::load_sources(&root).unwrap_or_else(|e| panic!("{e}"));
    bench_generator("vendored schemas/", &vendored, runs);

    let dir = xtask::corpus::default_dir(&root);
    let corpus = xtask::corpus::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    bench_generator(&format!("corpus {}", dir.display()), &corpus, runs.min(3));

    if !with_cargo {
        return;
    }
    let target = root.join("target").join("bench-corpus");
    let out = target.join("crate");
    let krate = xtask::corpus::write_crate(&root, &corpus, &out).unwrap_or_else(|e| panic!("{e}"));
    let endpoints = krate.generation.api.endpoints.len();
    for (what, args) in
        [("check", ["check", "--offline", "--quiet", "--lib"]), ("build", ["build", "--offline", "--quiet", "--lib"])]
    {
        for pass in ["as it comes", "crate only"] {
            if pass == "crate only" {
                let lib = out.as_path().join("src/lib.rs");
                let file = std::fs::File::options().append(true).open(&lib).expect("open lib.rs");
                file.set_modified(std::time::SystemTime::now()).expect("touch lib.rs");
            }
            let (time, peak) = timed_cargo(out.as_path(), &target, &args);
            let peak = peak.map_or_else(|| "n/a (no /usr/bin/time)".to_owned(), |m| format!("{m:.0} MiB"));
            println!(
                "cargo {what} of the corpus crate, {pass} ({endpoints} endpoints, {} lines): {time:.1?} ({:.1?} per endpoint), peak RSS {peak}",
                krate.lines,
                time / endpoints.max(1) as u32,
            );
        }
    }
}
