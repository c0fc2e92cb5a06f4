//! `cargo xtask`: regenerate the fal-ltx crate from `schemas/` and check it for drift.

use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

/// Workspace tasks for the fal LTX code generator.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Regenerate generated/src/endpoints/ from schemas/ (offline).
    Regen {
        /// Also print every note on what was represented approximately.
        #[arg(long)]
        verbose: bool,
    },
    /// Fail if generated/src/endpoints/ differs from what `regen` would write (the CI drift check).
    Check,
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
                        println!("wrote    generated/src/{path}");
                    }
                    for path in &report.removed {
                        println!("removed  generated/src/{path}");
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
    }
}
