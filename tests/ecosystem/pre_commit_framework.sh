#!/usr/bin/env bash
# The pre-commit framework (https://pre-commit.com), the real tool from PyPI,
# running keyguard's hooks in throwaway repositories, in three ways:
#   rust    this checkout's .pre-commit-hooks.yaml, hook ids keyguard and
#           keyguard-pre-push (`language: rust`): pre-commit clones the
#           checkout's HEAD commit and builds it with `cargo install` once,
#           into PRE_COMMIT_HOME
#   mirror  the toolchain-free mirror (distribution/pre-commit-mirror/),
#           copied into a fresh git repository tagged v<version> as it is
#           published: `language: python` installs the keyguard-hook wheel
#           built from this checkout, from a local wheel folder only
#           (PIP_FIND_LINKS, PIP_NO_INDEX=1), with no cargo on PATH
#   system  this checkout's keyguard-system hooks with keyguard on PATH; an
#           impostor keyguard, or none, blocks the commit
# Uncommitted changes in the checkout are therefore not what the rust and
# system ways test; KEYGUARD_ECO_TRY_REPO=1 adds a `pre-commit try-repo`
# case, which does test the working tree (at the cost of a second build).
#
# Cases, for each way:
#   a) at commit time a staged fake key blocks `git commit`, the output names
#      the rule and gives keyguard's guidance (`keyguard:allow`,
#      `SKIP=keyguard`); a clean change passes; an unstaged key is not judged;
#      a staged .env is blocked by its name; a commit adding a clean line to
#      a file that holds an old key passes (at commit time the hook judges
#      what the commit adds, as keyguard's own hook does, not whole files)
#   e) `git merge` runs the hook at the pre-merge-commit stage
#   b) `pre-commit run --all-files` finds a key in a committed file
#   c) `pre-commit run --files X` finds a key in X with nothing staged
#   d) the pre-push hook blocks `git push` of a commit with a key to a
#      local bare remote, and lets a clean push through; d4/d5: the pushed
#      range is what is scanned (a key on another branch is caught, an old key
#      already on the remote does not block later pushes); d6/d7: a push
#      holding a root commit, for which the framework names no range, scans
#      the pushed branch (a key in an orphan branch blocks; a clean one passes
#      whatever HEAD's history holds)
#
# Usage: bash tests/ecosystem/pre_commit_framework.sh   (run.sh runs it)
# KEYGUARD_ECO_FAST_BUILD=0 builds the rust hook with the crate's release
# profile (fat LTO) instead of a quicker one; the behaviour tested is the same.
set -euo pipefail
# shellcheck source=tests/ecosystem/lib.sh
source "$(dirname "$0")/lib.sh"

eco_tmpdir pre-commit
eco_isolate_git
eco_python_tools

checkout=$ECO_ROOT
rev=$(git -C "$checkout" rev-parse HEAD)
echo "pre-commit version: $(pre-commit --version)"
echo "hooks from: $checkout at $rev"
if [ -n "$(git -C "$checkout" status --porcelain --untracked-files=no)" ]; then
    echo "note: the checkout has uncommitted changes; the hooks are built from $rev"
fi

# One build for every case: a shared PRE_COMMIT_HOME (run.sh passes one).
export PRE_COMMIT_HOME=${KEYGUARD_ECO_PRE_COMMIT_HOME:-$ECO_TMP/pre-commit-home}
if [ "${KEYGUARD_ECO_FAST_BUILD:-1}" = 1 ]; then
    # Inherited by the `cargo install` that pre-commit runs: a thin, parallel
    # release build instead of the crate's fat-LTO one (minutes less on 2 cores).
    export CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
        CARGO_PROFILE_RELEASE_OPT_LEVEL=1
fi
unset CARGO_TARGET_DIR
export NO_COLOR=1

# The way under test: the hook repository, its rev, the two hook ids.
HOOK_REPO=$checkout
HOOK_REV=$rev
COMMIT_ID=keyguard
PUSH_ID=keyguard-pre-push

write_config() {
    cat >.pre-commit-config.yaml <<EOF
repos:
  - repo: $HOOK_REPO
    rev: $HOOK_REV
    hooks:
      - id: $COMMIT_ID
      - id: $PUSH_ID
EOF
}

# A repository with the config committed and the hooks installed.
new_hooked_repo() {
    eco_new_repo "$1"
    cd "$1"
    write_config
    git add .pre-commit-config.yaml
    git commit -q --no-verify -m "add pre-commit config"
    pre-commit install --hook-type pre-commit --hook-type pre-merge-commit --hook-type pre-push >/dev/null
}

# expect_blocked NAME RULE_ID SECRET: OUT/RC hold a run that must fail and
# name RULE_ID, without printing SECRET.
expect_blocked() {
    local name=$1 rule=$2 secret=$3
    if [ "$RC" -eq 0 ]; then
        eco_fail "$name" "expected a non-zero exit, got 0"
        eco_show "$OUT"
    elif [[ $OUT != *"$rule"* ]]; then
        eco_fail "$name" "exit $RC, but the output does not name rule $rule"
        eco_show "$OUT"
    elif [ -n "$secret" ] && [[ $OUT == *"$secret"* ]]; then
        eco_fail "$name" "the output prints the full secret"
    else
        eco_pass "$name"
    fi
}
expect_ok() {
    local name=$1
    if [ "$RC" -eq 0 ]; then
        eco_pass "$name"
    else
        eco_fail "$name" "expected exit 0, got $RC"
        eco_show "$OUT"
    fi
}

run_cases() {
    # ------------------------------------------------------- a) at commit time
    eco_section "$WAY a) git commit with pre-commit's $COMMIT_ID hook"
    cd "$ECO_TMP/$WAY-commit"
    key=$(eco_stripe_key)
    mkdir -p app
    printf 'import os\n\nSTRIPE_SECRET_KEY = "%s"\n' "$key" >app/settings.py
    git add app/settings.py
    head_before=$(git rev-parse HEAD)
    eco_capture git commit -m "add settings"
    expect_blocked "$WAY a1 a staged Stripe key blocks the commit" stripe-secret-key "$key"
    if [ "$(git rev-parse HEAD)" = "$head_before" ]; then
        eco_pass "$WAY a1 no commit was made"
    else
        eco_fail "$WAY a1 no commit was made" "HEAD moved to $(git rev-parse HEAD)"
    fi
    if [[ $OUT == *keyguard:allow* && $OUT == *"SKIP=keyguard git commit"* && $OUT == *"was blocked"* ]]; then
        eco_pass "$WAY a1 the output gives keyguard's guidance (keyguard:allow, SKIP=keyguard)"
    else
        eco_fail "$WAY a1 the output gives keyguard's guidance (keyguard:allow, SKIP=keyguard)"
        eco_show "$OUT"
    fi

    printf 'import os\n\nSTRIPE_SECRET_KEY = os.environ["STRIPE_SECRET_KEY"]\n' >app/settings.py
    git add app/settings.py
    eco_capture git commit -m "add settings"
    expect_ok "$WAY a2 a clean change commits"
    if [ "$(git rev-parse HEAD)" != "$head_before" ]; then
        eco_pass "$WAY a2 the commit was made"
    else
        eco_fail "$WAY a2 the commit was made" "HEAD did not move"
    fi

    # An unstaged key in a file that is also partly staged: pre-commit stashes the
    # unstaged part, so the hook judges what is committed, and puts it back.
    printf 'DEBUG = False\n' >app/flags.py
    git add app/flags.py
    aws=$(eco_aws_key_id)
    printf 'aws_access_key_id = %s\n' "$aws" >>app/flags.py
    eco_capture git commit -m "add flags"
    expect_ok "$WAY a3 a key that is only in the working tree (unstaged) does not block"
    if grep -q "$aws" app/flags.py; then
        eco_pass "$WAY a3 pre-commit restored the unstaged change"
    else
        eco_fail "$WAY a3 pre-commit restored the unstaged change" "app/flags.py lost its unstaged line"
    fi
    git checkout -q -- app/flags.py

    printf 'API_TOKEN=\n' >.env
    git add .env
    eco_capture git commit -m "add env"
    expect_blocked "$WAY a4 a staged .env is blocked by its name" secret-file ""
    git rm -q --cached .env
    rm .env

    # A key committed past the hook stays in app/old.py; a commit that adds a
    # clean line to that file adds no secret: the staged scan lets it through
    # (a whole-file scan of the names passed would block it).
    key=$(eco_stripe_key)
    printf 'STRIPE_SECRET_KEY = "%s"\n' "$key" >app/old.py
    git add app/old.py
    git commit -q --no-verify -m "an old key, committed past the hook"
    printf 'TIMEOUT = 30\n' >>app/old.py
    git add app/old.py
    eco_capture git commit -m "a clean line in a file with an old key"
    expect_ok "$WAY a5 at commit time only what the commit adds is judged"
    git rm -q app/old.py
    git commit -q --no-verify -m "remove the old key"

    # -------------------------------------------- e) pre-merge-commit stage
    eco_section "$WAY e) git merge runs the hook (pre-merge-commit)"
    git checkout -q -b topic
    printf 'x = 1\n' >topic.py
    git add topic.py
    git commit -q --no-verify -m "topic"
    git checkout -q main
    printf 'y = 2\n' >main.py
    git add main.py
    git commit -q --no-verify -m "main moves on"
    eco_capture git merge --no-edit topic
    if [ "$RC" -eq 0 ] && [[ $OUT == *"keyguard (block API keys"*Passed* ]]; then
        eco_pass "$WAY e1 git merge ran the hook, which passed a clean merge"
    else
        eco_fail "$WAY e1 git merge ran the hook, which passed a clean merge" "exit $RC"
        eco_show "$OUT"
    fi

    # ------------------------------------------------- b) run --all-files
    eco_section "$WAY b) pre-commit run --all-files"
    cd "$ECO_TMP/$WAY-commit"
    eco_capture pre-commit run --all-files
    expect_ok "$WAY b1 --all-files on a clean repository passes"
    key=$(eco_stripe_key)
    mkdir -p deploy
    printf 'stripe:\n  secret_key: "%s"\n' "$key" >deploy/values.yaml
    git add deploy/values.yaml
    git commit -q --no-verify -m "committed past the hook"
    eco_capture pre-commit run --all-files
    expect_blocked "$WAY b2 --all-files finds a key in a committed file" stripe-secret-key "$key"
    if [[ $OUT == *deploy/values.yaml* ]]; then
        eco_pass "$WAY b2 the finding names deploy/values.yaml"
    else
        eco_fail "$WAY b2 the finding names deploy/values.yaml"
        eco_show "$OUT"
    fi
    git rm -q deploy/values.yaml
    git commit -q --no-verify -m "remove it again"

    # ---------------------------------------------------- c) run --files X
    eco_section "$WAY c) pre-commit run --files X, nothing staged"
    cd "$ECO_TMP/$WAY-commit"
    aws=$(eco_aws_key_id)
    printf '[default]\naws_access_key_id = %s\n' "$aws" >notes.ini
    if [ -z "$(git diff --cached --name-only)" ]; then
        eco_capture pre-commit run --files notes.ini
        expect_blocked "$WAY c1 --files finds a key in an untracked file" aws-access-key-id "$aws"
    else
        eco_fail "$WAY c1 precondition: nothing staged" "$(git diff --cached --name-only)"
    fi
    rm notes.ini
    aws=$(eco_aws_key_id)
    printf 'AWS_KEY = "%s"\n' "$aws" >>app/settings.py
    eco_capture pre-commit run --files app/settings.py
    expect_blocked "$WAY c2 --files finds a key in an unstaged change to a tracked file" aws-access-key-id "$aws"
    eco_capture pre-commit run --files README.md
    expect_ok "$WAY c3 --files on a clean file passes"
    git checkout -q -- app/settings.py

    # ------------------------------------------------------- d) pre-push
    eco_section "$WAY d) hook id $PUSH_ID, git push to a local bare remote"
    git init -q --bare "$ECO_TMP/$WAY-remote.git"
    new_hooked_repo "$ECO_TMP/$WAY-push"
    git remote add origin "$ECO_TMP/$WAY-remote.git"
    eco_capture git push -q origin main
    expect_ok "$WAY d1 a clean push goes through"
    printf 'print("hello")\n' >hello.py
    git add hello.py
    eco_capture git commit -q -m "hello"
    [ "$RC" -eq 0 ] || { eco_fail "$WAY d2 committing a clean file (through the hook)" "exit $RC"; eco_show "$OUT"; }
    eco_capture git push -q origin main
    expect_ok "$WAY d2 pushing a clean commit goes through"
    remote_before=$(git --git-dir="$ECO_TMP/$WAY-remote.git" rev-parse main)
    key=$(eco_stripe_key)
    printf 'import stripe\nstripe.api_key = "%s"\n' "$key" >billing.py
    git add billing.py
    git commit -q --no-verify -m "billing (committed past the pre-commit hook)"
    eco_capture git push origin main
    expect_blocked "$WAY d3 pushing a commit with a key is blocked" stripe-secret-key "$key"
    if [ "$(git --git-dir="$ECO_TMP/$WAY-remote.git" rev-parse main)" = "$remote_before" ]; then
        eco_pass "$WAY d3 the remote did not receive the commit"
    else
        eco_fail "$WAY d3 the remote did not receive the commit" "remote main moved"
    fi

    # The entry is `keyguard --history`; under pre-commit's pre-push stage it
    # scans the pushed range that pre-commit names in PRE_COMMIT_FROM_REF/_TO_REF,
    # not HEAD's history.
    git reset -q --hard origin/main
    git checkout -q -b feature
    key=$(eco_stripe_key)
    printf 'STRIPE_SECRET_KEY=%s\n' "$key" >deploy.sh
    git add deploy.sh
    git commit -q --no-verify -m "deploy script with a key"
    git checkout -q main
    eco_capture git push origin feature
    rc_d4=1
    [ "$RC" -ne 0 ] && [[ $OUT == *stripe-secret-key* ]] && rc_d4=0
    eco_check "$WAY d4 pushing another branch than the checked-out one, with a key, is blocked" test "$rc_d4" -eq 0
    git push -q --no-verify origin feature 2>/dev/null || true
    git checkout -q feature
    printf 'x = 1\n' >x.py
    git add x.py
    eco_capture git commit -q -m "a clean commit"
    [ "$RC" -eq 0 ] || { eco_fail "$WAY d5 committing a clean file (through the hook)" "exit $RC"; eco_show "$OUT"; }
    eco_capture git push origin feature
    eco_check "$WAY d5 after a key reached the remote, pushing a clean commit goes through" test "$RC" -eq 0

    # A push that holds a root commit (an orphan branch, a first push): the
    # framework names no range, only PRE_COMMIT_LOCAL_BRANCH and the remote;
    # keyguard scans that branch's commits that no remote-tracking ref has.
    git checkout -q main
    git checkout -q --orphan fresh
    git rm -q -r --cached . >/dev/null
    key=$(eco_stripe_key)
    printf 'STRIPE_SECRET_KEY=%s\n' "$key" >fresh.sh
    git add fresh.sh
    git commit -q --no-verify -m "an orphan branch with a key"
    git checkout -q -f main
    eco_capture git push origin fresh
    expect_blocked "$WAY d6 pushing an orphan branch with a key (no range named) is blocked" stripe-secret-key "$key"
    # HEAD's history holds the key that reached the remote in d4: a push of an
    # unrelated clean orphan branch does not scan it.
    git checkout -q -f feature
    git checkout -q --orphan tidy
    git rm -q -r --cached . >/dev/null
    printf 't = 1\n' >tidy.py
    git add tidy.py
    git commit -q --no-verify -m "a clean orphan branch"
    git checkout -q -f feature
    eco_capture git push origin tidy
    eco_check "$WAY d7 pushing a clean orphan branch goes through, whatever HEAD's history holds" test "$RC" -eq 0

}

# ---------------------------------------------------------------- way: rust
WAY=rust
eco_section "rust: building the hook environment (language: rust, cargo install)"
new_hooked_repo "$ECO_TMP/$WAY-commit"
start=$SECONDS
eco_capture pre-commit install-hooks
if [ "$RC" -ne 0 ]; then
    eco_fail "rust: pre-commit install-hooks builds keyguard" "exit $RC"
    eco_show "$OUT" 40
    [ -f "$PRE_COMMIT_HOME/pre-commit.log" ] && eco_show "$(cat "$PRE_COMMIT_HOME/pre-commit.log")" 40
    eco_finish pre_commit_framework
    exit 1
fi
eco_pass "rust: pre-commit install-hooks builds keyguard ($((SECONDS - start)) s)"
run_cases

# -------------------------------------------------------------- way: mirror
WAY=mirror
eco_section "mirror: the toolchain-free hook repository (language: python, the wheel)"
version=$(eco_crate_version)
mirror_src=$ECO_ROOT/distribution/pre-commit-mirror
pin=$(sed -n 's/^dependencies = \["keyguard-hook==\(.*\)"\]$/\1/p' "$mirror_src/pyproject.toml")
mirror_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$mirror_src/pyproject.toml")
if [ "$pin" = "$version" ] && [ "$mirror_version" = "$version" ]; then
    eco_pass "mirror: pyproject.toml pins keyguard-hook==$version, Cargo.toml's version"
else
    eco_fail "mirror: pyproject.toml pins keyguard-hook==$version, Cargo.toml's version" \
        "pin $pin, mirror version $mirror_version"
fi
# The wheel folder: this checkout's wheel and the mirror's build backend.
wheels=$ECO_TMP/mirror-wheels
mkdir -p "$wheels"
cp "$(eco_wheel_dir)"/keyguard_hook-*.whl "$wheels/"
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$wheels" "setuptools>=70.1"
# The mirror as it is published: its own repository, the folder at its root.
mirror_repo=$ECO_TMP/keyguard-pre-commit
cp -R "$mirror_src" "$mirror_repo"
git -C "$mirror_repo" init -q
git -C "$mirror_repo" add -A
git -C "$mirror_repo" commit -q -m "keyguard $version"
git -C "$mirror_repo" tag "v$version"
HOOK_REPO=$mirror_repo HOOK_REV=v$version COMMIT_ID=keyguard PUSH_ID=keyguard-pre-push
export PIP_FIND_LINKS=$wheels PIP_NO_INDEX=1
no_cargo_path=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v -e '\.cargo' -e rustup | paste -sd: -)
new_hooked_repo "$ECO_TMP/$WAY-commit"
start=$(date +%s.%N)
eco_capture env PATH="$no_cargo_path" pre-commit install-hooks
took=$(python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$start")
if [ "$RC" -eq 0 ]; then
    eco_pass "mirror: pre-commit install-hooks installs the wheel, no cargo on PATH ($took s)"
    run_cases
else
    eco_fail "mirror: pre-commit install-hooks installs the wheel, no cargo on PATH" "exit $RC"
    eco_show "$OUT" 40
fi
unset PIP_FIND_LINKS PIP_NO_INDEX

# -------------------------------------------------------------- way: system
WAY=system
eco_section "system: hook ids keyguard-system / keyguard-system-pre-push, keyguard on PATH"
HOOK_REPO=$checkout HOOK_REV=$rev COMMIT_ID=keyguard-system PUSH_ID=keyguard-system-pre-push
eco_keyguard
new_hooked_repo "$ECO_TMP/$WAY-commit"
start=$(date +%s.%N)
eco_capture pre-commit install-hooks
took=$(python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$start")
if [ "$RC" -eq 0 ]; then
    eco_pass "system: pre-commit install-hooks ($took s)"
    run_cases
else
    eco_fail "system: pre-commit install-hooks" "exit $RC"
    eco_show "$OUT" 40
fi

# The framework reads only the exit code: a keyguard on PATH that is not
# keyguard (exit 0, as the crates.io placeholder or any stray script would
# give) must block, and so must no keyguard at all.
eco_section "system: an impostor keyguard, or none, on PATH"
new_hooked_repo "$ECO_TMP/system-impostor"
mkdir -p "$ECO_TMP/impostor-bin"
printf '#!/bin/sh\nexit 0\n' >"$ECO_TMP/impostor-bin/keyguard"
chmod +x "$ECO_TMP/impostor-bin/keyguard"
printf 'x = 1\n' >x.py
git add x.py
before=$(git rev-parse HEAD)
eco_capture env PATH="$ECO_TMP/impostor-bin:$PATH" git commit -m "x"
if [ "$RC" -ne 0 ] && [[ $OUT == *"did not answer as keyguard does"* ]] && [ "$(git rev-parse HEAD)" = "$before" ]; then
    eco_pass "system s1 an impostor keyguard that exits 0 blocks the commit, saying why"
else
    eco_fail "system s1 an impostor keyguard that exits 0 blocks the commit, saying why" "exit $RC"
    eco_show "$OUT"
fi
eco_capture env PATH="$(dirname "$(command -v git)"):/usr/bin:/bin:$(dirname "$(command -v pre-commit)")" git commit -m "x"
if [ "$RC" -ne 0 ] && [[ $OUT == *"no keyguard on PATH"* ]]; then
    eco_pass "system s2 no keyguard on PATH blocks the commit, saying why"
else
    eco_fail "system s2 no keyguard on PATH blocks the commit, saying why" "exit $RC"
    eco_show "$OUT"
fi

# ------------------------------------------ optional: try-repo (working tree)
if [ "${KEYGUARD_ECO_TRY_REPO:-0}" = 1 ]; then
    eco_section "try-repo: the checkout's working tree"
    eco_new_repo "$ECO_TMP/try"
    cd "$ECO_TMP/try"
    key=$(eco_stripe_key)
    printf 'STRIPE_SECRET_KEY=%s\n' "$key" >config.sh
    git add config.sh
    eco_capture pre-commit try-repo "$checkout" keyguard
    expect_blocked "try-repo: the working tree's hook blocks a staged key" stripe-secret-key "$key"
fi

eco_finish pre_commit_framework
