//! `cargo xtask`: regenerate the fal-ltx crate from `schemas/` and check it for drift;
//! fetch, add and diff the OpenAPI documents in `schemas/`; bump and check a release of fal-ltx.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use xtask::diff::{Baseline, ChangeReport};
use xtask::fetch::{self, FetchOptions};
use xtask::release::{self, BumpOptions, BumpPlan, Since, Step};

/// Workspace tasks for the fal LTX code generator.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Regenerate generated/src/endpoints/ and cli/src/generated/ from schemas/ (offline).
    Regen {
        /// Also print every note on what was represented approximately.
        #[arg(long)]
        verbose: bool,
    },
    /// Fail if generated/src/endpoints/ or cli/src/generated/ differs from what `regen` would write (the CI drift check).
    Check,
    /// Download every endpoint's OpenAPI document from fal into schemas/ (all or nothing).
    Fetch {
        /// Write nothing; exit 1 and print the change report if any document differs from fal's.
        #[arg(long)]
        check: bool,
        #[command(flatten)]
        http: HttpArgs,
    },
    /// Add an endpoint: fetch its document, list it in schemas/endpoints.toml, run regen.
    Add {
        /// The fal endpoint id, `owner/alias[/path…]`, e.g. `fal-ai/ltx-2/text-to-video`.
        endpoint_id: String,
        #[command(flatten)]
        http: HttpArgs,
    },
    /// Generate one crate from every document of fal's published corpus into DIR, for
    /// benchmarking the generator and `cargo check` at scale (see tests/tests/corpus.rs).
    Corpus {
        /// Where to write the crate (created if missing).
        out: PathBuf,
        /// The corpus directory [default: $FAL_OPENAPI_DIR, else ../shared/fal-openapi].
        #[arg(long, value_name = "DIR")]
        corpus: Option<PathBuf>,
    },
    /// Report what changed in the endpoints' input and output types, breaking or not.
    Diff {
        /// Compare with this directory (laid out like schemas/) instead of the committed schemas/ (git HEAD).
        #[arg(long, value_name = "DIR")]
        against: Option<PathBuf>,
    },
    /// Propose and write the next version of fal-ltx and fal-ltx-runtime (always the same version, the runtime
    /// pinned exactly) from the schema changes since the last release (the tag fal-ltx-v<version>, else the
    /// commit that last changed generated/Cargo.toml's version).
    Bump {
        /// Print the new version and the edits; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Compare with this directory (laid out like schemas/) instead of the last release.
        #[arg(long, value_name = "DIR", conflicts_with = "since")]
        against: Option<PathBuf>,
        /// Compare with the schemas at this git revision instead of the last release.
        #[arg(long, value_name = "REV")]
        since: Option<String>,
        /// The hand-written runtime changed incompatibly: bump as for a breaking change.
        #[arg(long)]
        breaking: bool,
    },
    /// Everything a release needs: fal-ltx and fal-ltx-runtime in lockstep (one version, the exact pin,
    /// Cargo.lock), the drift check, `cargo publish --dry-run -p fal-ltx-runtime -p fal-ltx` (packages
    /// and builds both crates) and `cargo doc` with warnings denied.
    ReleaseCheck {
        /// Pass --allow-dirty to `cargo publish --dry-run` (to try uncommitted changes; a real
        /// publish packages what is committed).
        #[arg(long)]
        allow_dirty: bool,
    },
}

/// How `fetch` and `add` talk to fal.
#[derive(Debug, Args)]
struct HttpArgs {
    /// Base URL of fal's site [default: $FAL_OPENAPI_BASE_URL, else https://fal.ai].
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Timeout per request, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    timeout: f64,
    /// Retries per endpoint on 429, 5xx and transport errors (exponential backoff, honours Retry-After).
    #[arg(long, value_name = "N", default_value_t = 3)]
    retries: u32,
    /// Delay before the first retry, in milliseconds (doubles each retry).
    #[arg(long, value_name = "MS", default_value_t = 500)]
    backoff_ms: u64,
    /// How many requests run at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    concurrency: usize,
}

impl HttpArgs {
    fn options(self) -> Result<FetchOptions, String> {
        let timeout = Duration::try_from_secs_f64(self.timeout)
            .ok()
            .filter(|t| !t.is_zero())
            .ok_or_else(|| format!("--timeout {} is not a positive number of seconds", self.timeout))?;
        if self.concurrency == 0 {
            return Err("--concurrency must be at least 1".to_owned());
        }
        Ok(FetchOptions {
            base_url: FetchOptions::resolve_base_url(self.base_url),
            timeout,
            max_retries: self.retries,
            initial_backoff: Duration::from_millis(self.backoff_ms),
            concurrency: self.concurrency,
            ..FetchOptions::default()
        })
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime starts")
}

fn print_report(report: &ChangeReport) {
    if !report.is_empty() {
        println!("{}", report.render_markdown().trim_end());
    }
}

fn run_fetch(root: &Path, check: bool, http: HttpArgs) -> ExitCode {
    let options = match http.options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let runtime = runtime();
    let result = if check {
        runtime.block_on(fetch::check(root, &options))
    } else {
        runtime.block_on(fetch::fetch(root, &options))
    };
    match result {
        Ok(report) if check => {
            if report.is_up_to_date() {
                println!(
                    "fetch --check: all {} document(s) match fal's ({:.2?})",
                    report.unchanged.len(),
                    started.elapsed()
                );
                ExitCode::SUCCESS
            } else {
                print_report(&report.changes);
                eprintln!(
                    "fetch --check: {} of {} document(s) differ from fal's: run `cargo xtask fetch`, then `cargo xtask regen`",
                    report.changed.len(),
                    report.changed.len() + report.unchanged.len()
                );
                ExitCode::FAILURE
            }
        }
        Ok(report) => {
            for id in &report.changed {
                println!("wrote    {}", xtask::schema_path(id));
            }
            println!(
                "fetch: {} written, {} unchanged ({:.2?})",
                report.changed.len(),
                report.unchanged.len(),
                started.elapsed()
            );
            if !report.is_up_to_date() {
                print_report(&report.changes);
                println!(
                    "next: run `cargo xtask regen`, review the changes, and commit schemas/ and generated/ together"
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_add(root: &Path, endpoint_id: &str, http: HttpArgs) -> ExitCode {
    let options = match http.options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime().block_on(fetch::add(root, endpoint_id, &options)) {
        Ok(report) => {
            println!("wrote    {}", report.schema);
            println!("added    `{endpoint_id}` to schemas/endpoints.toml");
            for path in &report.regen.written {
                println!("wrote    {path}");
            }
            println!(
                "regen: {} written, {} unchanged; review, run `cargo test --workspace`, and commit schemas/ and generated/ together",
                report.regen.written.len(),
                report.regen.unchanged
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_diff(root: &Path, against: Option<PathBuf>) -> ExitCode {
    let baseline = against.map_or(Baseline::Head, Baseline::Dir);
    match xtask::diff::diff_workspace(root, &baseline) {
        Ok(report) => {
            println!("{}", report.render_markdown().trim_end());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_bump(root: &Path, dry_run: bool, since: Since, breaking: bool) -> ExitCode {
    let options = BumpOptions { since, breaking, date: release::today_utc() };
    let plan = match release::bump(root, &options, dry_run) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match &plan {
        BumpPlan::FirstRelease { current, baseline, notes } => {
            if !notes.is_empty() {
                println!(
                    "bump: {} has notes under `## [Unreleased]`; before publishing {current}, move them into its section:\n{notes}",
                    release::CHANGELOG
                );
            }
            println!(
                "bump: {baseline}; {current} is the first release of {}: nothing to bump. After publishing it, tag it: \
                 `git tag {}`",
                release::PACKAGE,
                release::tag(current)
            );
            return ExitCode::SUCCESS;
        }
        BumpPlan::Unchanged { current, baseline } => {
            println!(
                "bump: nothing changed since {baseline} (no schema change, no Unreleased notes): {} stays {current}; nothing written",
                release::PACKAGE
            );
            return ExitCode::SUCCESS;
        }
        BumpPlan::Bump { current, next, level, baseline, report, edits } => {
            print_report(report);
            println!(
                "bump: {} {current} → {next}: {level} changes since {baseline}{}",
                release::RELEASED.map(|c| c.package).join(", "),
                if dry_run { " (dry run: nothing written)" } else { "" }
            );
            for edit in edits {
                if dry_run {
                    print!("{}", edit.diff());
                } else {
                    println!("wrote    {}", edit.path);
                }
            }
            if !dry_run {
                println!(
                    "next: review {}, commit, `cargo xtask release-check`, `cargo publish {}`, `git tag {}`",
                    release::CHANGELOG,
                    release::RELEASED.map(|c| format!("-p {}", c.package)).join(" "),
                    release::tag(next)
                );
            }
        }
    }
    ExitCode::SUCCESS
}

fn run_release_check(root: &Path, allow_dirty: bool) -> ExitCode {
    let mut outcomes = Vec::new();
    for step in Step::ALL {
        println!("== release-check: {}", step.name());
        outcomes.push(release::run_step(root, step, allow_dirty));
    }
    println!("== release-check summary");
    for outcome in &outcomes {
        match &outcome.result {
            Ok(()) => println!("ok      {:<26} {:>8.1?}", outcome.step.name(), outcome.elapsed),
            Err(why) => println!("FAILED  {:<26} {:>8.1?}  {why}", outcome.step.name(), outcome.elapsed),
        }
    }
    let failed: Vec<&str> = outcomes.iter().filter(|o| o.result.is_err()).map(|o| o.step.name()).collect();
    if failed.is_empty() {
        println!("release-check: {} are ready to publish", release::RELEASED.map(|c| c.package).join(", "));
        ExitCode::SUCCESS
    } else {
        eprintln!("release-check failed: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}

fn run_corpus(root: &Path, out: &Path, corpus: Option<PathBuf>) -> ExitCode {
    let dir = corpus.unwrap_or_else(|| xtask::corpus::default_dir(root));
    let result = xtask::corpus::load(&dir).and_then(|sources| xtask::corpus::write_crate(root, &sources, out));
    match result {
        Ok(krate) => {
            let endpoints = krate.generation.api.endpoints.len();
            println!(
                "corpus: {endpoints} endpoints from {}, {} files, {} lines ({} per endpoint), {} notes; generated in {:.2?}",
                dir.display(),
                krate.generation.files.len(),
                krate.lines,
                krate.lines / endpoints.max(1),
                krate.generation.notes.len(),
                krate.generate_time
            );
            println!("wrote {}; build it with `cargo check --offline` there", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = xtask::workspace_root();
    match cli.command {
        Command::Regen { verbose } => {
            let started = Instant::now();
            match xtask::regen(&root) {
                Ok(report) => {
                    for path in &report.written {
                        println!("wrote    {path}");
                    }
                    for path in &report.removed {
                        println!("removed  {path}");
                    }
                    println!(
                        "regen: {} written, {} unchanged, {} removed; {} lines of generated code; {:.2?}",
                        report.written.len(),
                        report.unchanged,
                        report.removed.len(),
                        report.lines,
                        started.elapsed()
                    );
                    if !report.notes.is_empty() {
                        println!(
                            "{} note(s) on approximations{}",
                            report.notes.len(),
                            if verbose { ":" } else { " (--verbose lists them)" }
                        );
                        if verbose {
                            for note in &report.notes {
                                println!("  {note}");
                            }
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    eprintln!("nothing was written");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Check => match xtask::check(&root) {
            Ok(drift) if drift.is_empty() => {
                println!("check: generated code is up to date with schemas/");
                ExitCode::SUCCESS
            }
            Ok(drift) => {
                for item in &drift {
                    eprintln!("{item}");
                }
                eprintln!("check: {} generated file(s) out of date: {}", drift.len(), xtask::drift_advice());
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Fetch { check, http } => run_fetch(&root, check, http),
        Command::Add { endpoint_id, http } => run_add(&root, &endpoint_id, http),
        Command::Diff { against } => run_diff(&root, against),
        Command::Corpus { out, corpus } => run_corpus(&root, &out, corpus),
        Command::Bump { dry_run, against, since, breaking } => {
            let since = match (against, since) {
                (Some(dir), _) => Since::Dir(dir),
                (None, Some(rev)) => Since::Rev(rev),
                (None, None) => Since::LastRelease,
            };
            run_bump(&root, dry_run, since, breaking)
        }
        Command::ReleaseCheck { allow_dirty } => run_release_check(&root, allow_dirty),
    }
}
