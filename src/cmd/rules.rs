//! `keyguard rules`: the rules in force, id and description.

use std::io::Write;

use anyhow::Result;

use super::Context;
use crate::settings::Settings;
use crate::Outcome;

pub fn run(settings: &Settings) -> Result<Outcome> {
    let context = Context::open_if_any();
    let (_, scanner) = super::load_scanner(settings, context.as_ref().and_then(Context::root))?;
    let mut out = std::io::stdout().lock();
    let rules = scanner.detector().rules();
    let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for rule in rules {
        writeln!(out, "{:width$}  {}", rule.id, rule.description)?;
    }
    let secret_file = "File whose name marks it as a secrets file (.env, id_rsa, *.key, ...)";
    writeln!(out, "{:width$}  {secret_file}", "secret-file")?;
    Ok(Outcome::Clean)
}
