//! The `keyguard` binary: parse the command line, run, map the outcome to
//! an exit code (0 clean, 1 findings, 2 could not scan).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = keyguard::cli::Cli::parse();
    match keyguard::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(err) => {
            let message = keyguard::text::escape_message(&format!("{err:#}"));
            eprintln!("keyguard: error: {message}");
            ExitCode::from(2)
        }
    }
}
