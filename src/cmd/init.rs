//! `keyguard init`: the starter `.keyguard.toml` and the protective
//! `.gitignore` lines (the work is `crate::init`; this says what it did).

use anyhow::Result;

use super::Context;
use crate::messages::Message;
use crate::settings::Settings;
use crate::Outcome;

pub fn run(settings: &Settings) -> Result<Outcome> {
    let context = Context::open()?;
    let root = context.require_worktree("keyguard init")?;
    for line in crate::init::run(root)? {
        settings.say(&Message::Init(&line));
    }
    Ok(Outcome::Clean)
}
