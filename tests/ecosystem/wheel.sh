#!/usr/bin/env bash
# The keyguard-hook wheel as a user gets it: built from this checkout with
# `python3 -m pip wheel . --no-deps -w DIR` (run.sh builds it once), installed
# into a fresh venv with no index and no Rust on PATH, then used:
#   w1 `keyguard --version`: the crate's version and this checkout's commit
#   w2 the binary is static on Linux (no ELF interpreter), as install.sh's is
#   w3 `keyguard install` in a new repository, then a staged key built here
#      blocks `git commit` (exit 1, the rule named, the key not printed)
#   w4 a clean commit goes through; `keyguard --all` passes
set -euo pipefail
# shellcheck source=tests/ecosystem/lib.sh
source "$(dirname "$0")/lib.sh"

eco_tmpdir wheel
eco_isolate_git
export NO_COLOR=1

wheels=$(eco_wheel_dir)
wheel=$(compgen -G "$wheels/keyguard_hook-*.whl" | head -n 1)
echo "wheel: ${wheel##*/} ($(du -k "$wheel" | cut -f1) KiB)"

eco_section "install into a fresh venv (no index)"
seconds_since() { python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$1"; }
start=$(date +%s.%N)
python3 -m venv "$ECO_TMP/venv"
echo "    python3 -m venv: $(seconds_since "$start") s"
start=$(date +%s.%N)
"$ECO_TMP/venv/bin/pip" install --quiet --no-index --find-links "$wheels" keyguard-hook
echo "    pip install keyguard-hook (the wheel): $(seconds_since "$start") s"
bin=$ECO_TMP/venv/bin/keyguard
# Only the venv and the system's programs: no cargo bin, no checkout build.
export PATH="$ECO_TMP/venv/bin:/usr/local/bin:/usr/bin:/bin"
eco_check "w0 the venv has bin/keyguard" test -x "$bin"

version=$(eco_crate_version)
commit=$(git -C "$ECO_ROOT" rev-parse --short=12 HEAD)
eco_capture "$bin" --version
if [ "$RC" -eq 0 ] && [ "$OUT" = "keyguard $version (commit $commit)" ]; then
    eco_pass "w1 --version: $OUT"
else
    eco_fail "w1 --version says keyguard $version (commit $commit)" "exit $RC: $OUT"
fi

# PT_INTERP (program header type 3) names the dynamic loader; a static
# binary has none.
has_interp() {
    python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:4] == b"\x7fELF", "not an ELF file"
is64, little = data[4] == 2, data[5] == 1
e = "<" if little else ">"
if is64:
    phoff, = struct.unpack_from(e + "Q", data, 0x20)
    phentsize, phnum = struct.unpack_from(e + "HH", data, 0x36)
else:
    phoff, = struct.unpack_from(e + "I", data, 0x1C)
    phentsize, phnum = struct.unpack_from(e + "HH", data, 0x2A)
types = [struct.unpack_from(e + "I", data, phoff + i * phentsize)[0] for i in range(phnum)]
sys.exit(0 if 3 in types else 1)
PY
}
if [ "$(uname -s)" = Linux ]; then
    if has_interp "$bin"; then
        eco_fail "w2 the binary is static (no ELF interpreter)" "$(file "$bin" 2>/dev/null || echo dynamic)"
    else
        eco_pass "w2 the binary is static (no ELF interpreter)"
    fi
fi

eco_section "the wheel's keyguard as the commit hook"
eco_new_repo "$ECO_TMP/repo"
cd "$ECO_TMP/repo"
eco_capture keyguard install
eco_check "w3 keyguard install (exit $RC)" test "$RC" -eq 0
key=$(eco_stripe_key)
printf 'STRIPE_SECRET_KEY = "%s"\n' "$key" >settings.py
git add settings.py
before=$(git rev-parse HEAD)
eco_capture git commit -m "settings"
if [ "$RC" -eq 1 ] && [[ $OUT == *stripe-secret-key* ]] && [[ $OUT != *"$key"* ]] &&
    [ "$(git rev-parse HEAD)" = "$before" ]; then
    eco_pass "w3 a staged Stripe key blocks the commit (exit 1, redacted, no commit made)"
else
    eco_fail "w3 a staged Stripe key blocks the commit" "exit $RC"
    [[ $OUT == *"$key"* ]] && echo "     (the output held the full key: not shown)" || eco_show "$OUT"
fi
printf 'import os\nSTRIPE_SECRET_KEY = os.environ["STRIPE_SECRET_KEY"]\n' >settings.py
git add settings.py
eco_capture git commit -q -m "settings"
if [ "$RC" -eq 0 ] && [ "$(git rev-parse HEAD)" != "$before" ]; then
    eco_pass "w4 a clean commit goes through"
else
    eco_fail "w4 a clean commit goes through" "exit $RC"
    eco_show "$OUT"
fi
eco_capture keyguard --all
eco_check "w4 keyguard --all on the clean repository exits 0 (exit $RC)" test "$RC" -eq 0

eco_finish wheel
