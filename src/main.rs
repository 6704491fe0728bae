//! The `keyguard` binary: parse the command line, run, map the outcome to
//! an exit code (0 clean, 1 findings, 2 could not scan).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = keyguard::cli::Cli::parse();
    let protocol = cli.hook_protocol;
    match keyguard::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code_for(protocol)),
        Err(err) => {
            let message = keyguard::text::escape_message(&format!("{err:#}"));
            eprintln!("keyguard: error: {message}");
            ExitCode::from(keyguard::Outcome::Incomplete.exit_code_for(protocol))
        }
    }
}
