//! `keyguard install` / `keyguard uninstall`: the shims in every hook
//! through which git creates a commit, and pre-push on request (the work
//! is `crate::install`; this picks the hooks and says what it did).

use anyhow::{Context as _, Result};

use crate::install::{self, Hook, COMMIT_HOOKS};
use crate::messages::Message;
use crate::settings::Settings;
use crate::Outcome;

/// The hooks a command acts on: the commit hooks, and pre-push on request.
fn hooks(pre_push: bool) -> impl Iterator<Item = Hook> {
    COMMIT_HOOKS
        .into_iter()
        .chain(pre_push.then_some(Hook::PrePush))
}

pub fn install(settings: &Settings, force: bool, pre_push: bool) -> Result<Outcome> {
    let dir = install::hooks_dir()?;
    let binary = std::env::current_exe().context("cannot tell where the keyguard binary is")?;
    for hook in hooks(pre_push) {
        let what = install::install(&dir, hook, &binary, force)?;
        settings.say(&Message::Installed { hook, what: &what });
    }
    Ok(Outcome::Clean)
}

/// Removes every hook keyguard installed, pre-push included whether or not
/// `--pre-push` is given: a shim left behind would go on running keyguard.
/// A pre-push hook that is not keyguard's is mentioned only when asked for.
pub fn uninstall(settings: &Settings, pre_push: bool) -> Result<Outcome> {
    let dir = install::hooks_dir()?;
    for hook in hooks(true) {
        let what = install::uninstall(&dir, hook)?;
        let unasked = hook == Hook::PrePush && !pre_push;
        if unasked && matches!(what, install::Uninstalled::NotInstalled { .. }) {
            continue;
        }
        settings.say(&Message::Uninstalled { hook, what: &what });
    }
    Ok(Outcome::Clean)
}
