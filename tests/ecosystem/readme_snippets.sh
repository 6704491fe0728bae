#!/usr/bin/env bash
# The README's integration snippets, each taken from README.md by its heading
# and fenced block, checked with the tools that read them:
#   GitHub Actions  check-jsonschema --builtin-schema vendor.github-workflows,
#                   expected steps, and its keyguard commands run for real
#   GitLab CI       check-jsonschema --builtin-schema vendor.gitlab-ci,
#                   expected keys, and its keyguard commands run for real
#   husky           sh -n, then the hook file as a real husky v9 hook (npm),
#                   blocking a staged key; skipped with a note without npm
#   lefthook        PyYAML keys, `lefthook validate`, then a real lefthook
#                   hook (the lefthook binary from PyPI) blocking a staged key
#   pre-commit      `pre-commit validate-config`, and its hook ids are in
#                   .pre-commit-hooks.yaml (`pre-commit validate-manifest`)
set -euo pipefail
# shellcheck source=tests/ecosystem/lib.sh
source "$(dirname "$0")/lib.sh"

eco_tmpdir snippets
eco_isolate_git
eco_python_tools
eco_keyguard
export NO_COLOR=1

readme="$ECO_ROOT/README.md"
snip="$ECO_TMP/snippets"
mkdir -p "$snip"
echo "check-jsonschema: $(check-jsonschema --version)"
echo "pre-commit: $(pre-commit --version)"
echo "lefthook: $(lefthook version)"

# extract NAME HEADING [FIRST_LINE_PREFIX]: the snippet into $snip/NAME.
extract() {
    local name=$1
    shift
    if python3 "$ECO_DIR/snippets.py" extract "$readme" "$@" >"$snip/$name"; then
        eco_pass "README: found the snippet under \"$1\""
    else
        eco_fail "README: found the snippet under \"$1\""
        return 1
    fi
}

# validate NAME COMMAND...: COMMAND must succeed; its output is shown if not.
validate() {
    local name=$1
    shift
    eco_capture "$@"
    if [ "$RC" -eq 0 ]; then eco_pass "$name"; else eco_fail "$name" "exit $RC: $*"; eco_show "$OUT" 30; fi
}

# A repository with two commits (for --history ranges) and, with "dirty", a
# fake key in the second one.
ci_repo() {
    local dir=$1 kind=$2
    eco_new_repo "$dir"
    if [ "$kind" = dirty ]; then
        printf 'STRIPE_SECRET_KEY = "%s"\n' "$(eco_stripe_key)" >"$dir/app.py"
    else
        printf 'import os\nSTRIPE_SECRET_KEY = os.environ["STRIPE_SECRET_KEY"]\n' >"$dir/app.py"
    fi
    git -C "$dir" add app.py
    git -C "$dir" commit -q --no-verify -m "app"
}

# run_ci_commands NAME KIND SNIPPET: runs the snippet's keyguard commands in a
# clean repository (each must exit 0) and in one with a key (some must exit 1),
# with the CI variables they use pointing at the repositories' two commits.
run_ci_commands() {
    local name=$1 kind=$2 file=$3 repo cmd rc any_blocked=0 all_clean=1
    mapfile -t cmds < <(python3 "$ECO_DIR/snippets.py" keyguard-commands "$kind" "$file")
    if [ "${#cmds[@]}" -eq 0 ]; then
        eco_fail "$name: the snippet runs keyguard"
        return
    fi
    for repo in clean dirty; do
        ci_repo "$snip/$name-$repo" "$repo"
        for cmd in "${cmds[@]}"; do
            cmd=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1]))' "$cmd")
            set +e
            (
                cd "$snip/$name-$repo"
                BASE_SHA=$(git rev-parse HEAD~1) HEAD_SHA=$(git rev-parse HEAD) \
                    CI_MERGE_REQUEST_DIFF_BASE_SHA=$(git rev-parse HEAD~1) \
                    bash -euo pipefail -c "$cmd" >"$snip/$name-$repo.out" 2>&1
            )
            rc=$?
            set -e
            if [ "$repo" = clean ] && [ "$rc" -ne 0 ]; then
                all_clean=0
                eco_fail "$name: \`$cmd\` passes on a clean repository" "exit $rc"
                eco_show "$(cat "$snip/$name-$repo.out")"
            fi
            if [ "$repo" = dirty ]; then
                if [ "$rc" -eq 1 ]; then any_blocked=1; elif [ "$rc" -ne 0 ]; then
                    eco_fail "$name: \`$cmd\` runs on a repository with a key" "exit $rc (2 = could not scan)"
                    eco_show "$(cat "$snip/$name-$repo.out")"
                fi
            fi
        done
    done
    [ "$all_clean" = 1 ] && eco_pass "$name: its keyguard commands pass on a clean repository (${#cmds[@]} commands)"
    if [ "$any_blocked" = 1 ]; then eco_pass "$name: its keyguard commands fail the job on a key"; else
        eco_fail "$name: its keyguard commands fail the job on a key" "every command exited 0"; fi
}

# commit_test NAME DIR: in DIR (hooks installed), a staged key blocks the
# commit and a clean change commits.
commit_test() {
    local name=$1 dir=$2 key
    key=$(eco_stripe_key)
    printf 'STRIPE_SECRET_KEY = "%s"\n' "$key" >"$dir/config.py"
    git -C "$dir" add config.py
    eco_capture git -C "$dir" commit -m "config"
    if [ "$RC" -ne 0 ] && [[ $OUT == *stripe-secret-key* ]] && [[ $OUT != *"$key"* ]]; then
        eco_pass "$name: a staged key blocks the commit, naming the rule"
    else
        eco_fail "$name: a staged key blocks the commit, naming the rule" "exit $RC"
        eco_show "$OUT"
    fi
    printf 'import os\nSTRIPE_SECRET_KEY = os.environ["STRIPE_SECRET_KEY"]\n' >"$dir/config.py"
    git -C "$dir" add config.py
    eco_capture git -C "$dir" commit -m "config"
    if [ "$RC" -eq 0 ]; then eco_pass "$name: a clean change commits"; else
        eco_fail "$name: a clean change commits" "exit $RC"; eco_show "$OUT"; fi
}

# ------------------------------------------------------------ GitHub Actions
eco_section "In CI: GitHub Actions"
if extract github.yml "## In CI: GitHub Actions"; then
    validate "github: valid against vendor.github-workflows" \
        check-jsonschema --builtin-schema vendor.github-workflows "$snip/github.yml"
    validate "github: uses the action with its own inputs, fetch-depth 0, security-events: write" \
        python3 "$ECO_DIR/snippets.py" check-keys github "$snip/github.yml" "$ECO_ROOT/action.yml"
    sed 's/^    runs-on:/    run-on:/' "$snip/github.yml" >"$snip/github-broken.yml"
    eco_capture check-jsonschema --builtin-schema vendor.github-workflows "$snip/github-broken.yml"
    if [ "$RC" -ne 0 ]; then eco_pass "github: the schema rejects a job with runs-on misspelt"; else
        eco_fail "github: the schema rejects a job with runs-on misspelt" "check-jsonschema accepted it"; fi
    # What the action does on real commits is action.sh's to test.
fi

# ----------------------------------------------------------------- GitLab CI
eco_section "In CI: GitLab CI"
if extract gitlab-ci.yml "## In CI: GitLab CI"; then
    validate "gitlab: valid against vendor.gitlab-ci" \
        check-jsonschema --builtin-schema vendor.gitlab-ci "$snip/gitlab-ci.yml"
    validate "gitlab: installs and runs keyguard, keeps the report" \
        python3 "$ECO_DIR/snippets.py" check-keys gitlab "$snip/gitlab-ci.yml"
    sed 's/^  script:/  scripts:/' "$snip/gitlab-ci.yml" >"$snip/gitlab-broken.yml"
    eco_capture check-jsonschema --builtin-schema vendor.gitlab-ci "$snip/gitlab-broken.yml"
    if [ "$RC" -ne 0 ]; then eco_pass "gitlab: the schema rejects a job with script misspelt"; else
        eco_fail "gitlab: the schema rejects a job with script misspelt" "check-jsonschema accepted it"; fi
    run_ci_commands gitlab gitlab "$snip/gitlab-ci.yml"
fi

# --------------------------------------------------------------------- husky
eco_section "With husky"
if extract husky-pre-commit "## With husky" "# .husky/pre-commit"; then
    validate "husky: the hook file is valid sh (sh -n)" sh -n "$snip/husky-pre-commit"
    eco_new_repo "$snip/husky-missing"
    eco_capture env -C "$snip/husky-missing" PATH=/usr/bin:/bin sh "$snip/husky-pre-commit"
    if [ "$RC" -ne 0 ] && [[ $OUT == *"keyguard is not installed"* ]]; then
        eco_pass "husky: without keyguard on PATH the hook blocks and says why"
    else
        eco_fail "husky: without keyguard on PATH the hook blocks and says why" "exit $RC"
        eco_show "$OUT"
    fi
    if command -v npm >/dev/null 2>&1; then
        dir="$snip/husky"
        eco_new_repo "$dir"
        (
            cd "$dir"
            npm init -y >/dev/null
            npm install --save-dev --no-audit --no-fund --silent husky
            npx --no-install husky init >/dev/null
        ) >"$snip/husky-install.log" 2>&1 || true
        if [ -f "$dir/.husky/pre-commit" ] && [ "$(git -C "$dir" config core.hooksPath)" = .husky/_ ]; then
            echo "husky: $(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' "$dir/node_modules/husky/package.json")"
            cp "$snip/husky-pre-commit" "$dir/.husky/pre-commit"
            commit_test "husky (real husky)" "$dir"
        else
            eco_fail "husky: npm install husky && npx husky init" "see below"
            eco_show "$(cat "$snip/husky-install.log")"
        fi
    else
        echo "note: npm is not installed; the hook file was checked with sh only"
    fi
fi

# ------------------------------------------------------------------ lefthook
eco_section "With lefthook"
if extract lefthook.yml "## With lefthook"; then
    validate "lefthook: YAML with pre-commit.commands.keyguard.run" \
        python3 "$ECO_DIR/snippets.py" check-keys lefthook "$snip/lefthook.yml"
    dir="$snip/lefthook"
    eco_new_repo "$dir"
    cp "$snip/lefthook.yml" "$dir/lefthook.yml"
    validate "lefthook: lefthook validate" env -C "$dir" lefthook validate
    validate "lefthook: lefthook install" env -C "$dir" lefthook install
    commit_test "lefthook (real lefthook)" "$dir"
fi

# ----------------------------------------------------------------- pre-commit
eco_section "With the pre-commit framework"
mirror_first=$'repos:\n  - repo: https://github.com/keyguard/keyguard-pre-commit\n'
own_first=$'repos:\n  - repo: https://github.com/keyguard/keyguard\n'
if extract pre-commit-mirror.yaml "## With the pre-commit framework" "$mirror_first"; then
    validate "pre-commit: the mirror snippet passes pre-commit validate-config" \
        pre-commit validate-config "$snip/pre-commit-mirror.yaml"
    validate "pre-commit: the mirror's .pre-commit-hooks.yaml passes pre-commit validate-manifest" \
        pre-commit validate-manifest "$ECO_ROOT/distribution/pre-commit-mirror/.pre-commit-hooks.yaml"
    validate "pre-commit: the mirror snippet's hook ids are the mirror's" \
        python3 "$ECO_DIR/snippets.py" check-keys pre-commit "$snip/pre-commit-mirror.yaml" \
        "$ECO_ROOT/distribution/pre-commit-mirror/.pre-commit-hooks.yaml"
fi
if extract pre-commit-config.yaml "## With the pre-commit framework" "$own_first"; then
    validate "pre-commit: pre-commit validate-config" pre-commit validate-config "$snip/pre-commit-config.yaml"
    validate "pre-commit: .pre-commit-hooks.yaml passes pre-commit validate-manifest" \
        pre-commit validate-manifest "$ECO_ROOT/.pre-commit-hooks.yaml"
    validate "pre-commit: the snippet's hook ids are in .pre-commit-hooks.yaml" \
        python3 "$ECO_DIR/snippets.py" check-keys pre-commit "$snip/pre-commit-config.yaml" "$ECO_ROOT/.pre-commit-hooks.yaml"
    commented=$(sed -n 's/^      # - id: \(.*\)$/      - id: \1/p' "$snip/pre-commit-config.yaml")
    printf 'repos:\n  - repo: https://github.com/keyguard/keyguard\n    rev: v0\n    hooks:\n%s\n' "$commented" >"$snip/pre-commit-rust.yaml"
    validate "pre-commit: the commented-out build hooks are in .pre-commit-hooks.yaml too" \
        python3 "$ECO_DIR/snippets.py" check-keys pre-commit "$snip/pre-commit-rust.yaml" "$ECO_ROOT/.pre-commit-hooks.yaml"
fi

# --------------------------------------------------------------------- try it
eco_section "Try it"
if extract try-it.sh "### Try it"; then
    eco_capture env TMPDIR="$ECO_TMP" sh "$snip/try-it.sh"
    leaked=$(printf '%s' "$OUT" | grep -cE 'sk_live_[A-Za-z0-9]{24}' || true)
    if [ "$RC" -ne 0 ] && [[ $OUT == *stripe-secret-key* && $OUT == *"The commit was blocked"* ]] && [ "$leaked" -eq 0 ]; then
        eco_pass "try it: the snippet shows a blocked commit, the made-up key redacted"
    else
        eco_fail "try it: the snippet shows a blocked commit, the made-up key redacted" "exit $RC, full keys printed: $leaked"
        [ "$leaked" -eq 0 ] && eco_show "$OUT"
    fi
fi

eco_section "JSON output"
if grep -q 'docs/keyguard-report.schema.json' "$readme" && [ -f "$ECO_ROOT/docs/keyguard-report.schema.json" ]; then
    eco_pass "README points to docs/keyguard-report.schema.json, which exists"
else
    eco_fail "README points to docs/keyguard-report.schema.json, which exists"
fi

eco_finish readme_snippets
