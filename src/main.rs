//! The `keyguard` binary: parse the command line, resolve it once into
//! settings, run, map the outcome to an exit code (0 clean, 1 findings,
//! 2 could not scan; 10/11/12 in the shim's `--hook-protocol`).

use std::process::ExitCode;

use keyguard::settings::Settings;

fn main() -> ExitCode {
    let cli = keyguard::cli::Cli::from_env();
    if let Some(error) = keyguard::cli::mistyped_subcommand(&cli) {
        error.exit();
    }
    let settings = Settings::resolve(cli);
    let outcome = keyguard::run(&settings).unwrap_or_else(|err| {
        keyguard::report_error(&settings, &err);
        keyguard::Outcome::Incomplete
    });
    ExitCode::from(outcome.exit_code_for(settings.hook_protocol))
}
