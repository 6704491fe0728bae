#!/usr/bin/env bash
# The GitHub Action (action.yml) and the release workflow, as far as they can
# be checked without GitHub:
#   v1-v4  action.yml against check-jsonschema's vendored github-actions
#          schema, .github/workflows/*.yml against github-workflows, and
#          zizmor (offline) on both
#   r1-r8  distribution/action/range.py on synthetic event payloads: push,
#          new branch, new default branch, force push, deleted branch, pull
#          request, another event, a broken payload
#   g1-g6  the action's own step scripts (install.sh with the wheel built
#          from this checkout, range.py, scan.sh) in a full clone of a local
#          remote, each event built from the remote's real commits: a push,
#          a new branch and a pull request that add a key fail (exit 1, a
#          SARIF report with the finding); a clean push, a clean new branch
#          off a main that holds an old key, and a force push that dropped
#          the key pass
set -euo pipefail
# shellcheck source=tests/ecosystem/lib.sh
source "$(dirname "$0")/lib.sh"

eco_tmpdir action
eco_isolate_git
eco_python_tools
export NO_COLOR=1
range_py=$ECO_ROOT/distribution/action/range.py

eco_section "validation (offline)"
eco_capture check-jsonschema --builtin-schema vendor.github-actions "$ECO_ROOT/action.yml"
eco_check "v1 action.yml is valid against the GitHub action schema" test "$RC" -eq 0
[ "$RC" -eq 0 ] || eco_show "$OUT"
eco_capture check-jsonschema --builtin-schema vendor.github-workflows "$ECO_ROOT"/.github/workflows/*.yml
eco_check "v2 .github/workflows/*.yml are valid against the GitHub workflow schema" test "$RC" -eq 0
[ "$RC" -eq 0 ] || eco_show "$OUT"
echo "zizmor: $(zizmor --version)"
eco_capture zizmor --offline "$ECO_ROOT/action.yml"
eco_check "v3 zizmor finds nothing in action.yml" test "$RC" -eq 0
[ "$RC" -eq 0 ] || eco_show "$OUT" 40
eco_capture zizmor --offline "$ECO_ROOT"/.github/workflows/*.yml
eco_check "v4 zizmor finds nothing in the release workflow" test "$RC" -eq 0
[ "$RC" -eq 0 ] || eco_show "$OUT" 40

eco_section "range.py on synthetic events"
A=1111111111111111111111111111111111111111
B=2222222222222222222222222222222222222222
Z=0000000000000000000000000000000000000000
# range_of NAME EVENT JSON EXPECTED
range_of() {
    local name=$1 event=$2 json=$3 expected=$4 got
    printf '%s' "$json" >"$ECO_TMP/event.json"
    got=$(python3 "$range_py" "$event" "$ECO_TMP/event.json" | sed -n 's/^range=//p')
    if [ "$got" = "$expected" ]; then
        eco_pass "$name: range=$expected"
    else
        eco_fail "$name" "expected range=$expected, got range=$got"
    fi
}
repo='"repository": {"default_branch": "main"}'
range_of "r1 push" push "{\"ref\": \"refs/heads/main\", \"before\": \"$A\", \"after\": \"$B\", $repo}" "$A..$B"
range_of "r2 new branch" push "{\"ref\": \"refs/heads/feature\", \"before\": \"$Z\", \"after\": \"$B\", \"created\": true, $repo}" "origin/main..$B"
range_of "r3 new default branch" push "{\"ref\": \"refs/heads/main\", \"before\": \"$Z\", \"after\": \"$B\", \"created\": true, $repo}" "$B"
range_of "r4 force push" push "{\"ref\": \"refs/heads/feature\", \"before\": \"$A\", \"after\": \"$B\", \"forced\": true, $repo}" "origin/main..$B"
range_of "r5 deleted branch" push "{\"ref\": \"refs/heads/feature\", \"before\": \"$A\", \"after\": \"$Z\", \"deleted\": true, $repo}" ""
range_of "r6 pull request" pull_request "{\"pull_request\": {\"base\": {\"sha\": \"$A\"}, \"head\": {\"sha\": \"$B\"}}}" "$A..$B"
range_of "r7 another event" workflow_dispatch "{}" "HEAD"
printf '{"ref": ' >"$ECO_TMP/broken.json"
eco_capture python3 "$range_py" push "$ECO_TMP/broken.json"
if [ "$RC" -ne 0 ] && [[ $OUT == *"cannot read the push event"* ]]; then
    eco_pass "r8 a broken payload is an error that says so"
else
    eco_fail "r8 a broken payload is an error that says so" "exit $RC: $OUT"
fi

eco_section "the action's steps on real commits"
wheels=$(eco_wheel_dir)
export RUNNER_TEMP=$ECO_TMP/runner
mkdir -p "$RUNNER_TEMP"
export GITHUB_PATH=$ECO_TMP/github_path GITHUB_OUTPUT=$ECO_TMP/github_output
: >"$GITHUB_PATH"
eco_capture env WHEEL="$wheels" bash "$ECO_ROOT/distribution/action/install.sh"
if [ "$RC" -eq 0 ] && [[ $OUT == "keyguard $(eco_crate_version) ("* ]] && [ -x "$(cat "$GITHUB_PATH")/keyguard" ]; then
    eco_pass "g0 install.sh installs the wheel and puts its bin folder on GITHUB_PATH"
else
    eco_fail "g0 install.sh installs the wheel and puts its bin folder on GITHUB_PATH" "exit $RC"
    eco_show "$OUT"
fi
action_path="$(cat "$GITHUB_PATH"):$PATH"

# The remote, with an old key on main (committed before keyguard was used).
remote=$ECO_TMP/remote.git
git init -q --bare "$remote"
eco_new_repo "$ECO_TMP/dev"
cd "$ECO_TMP/dev"
git remote add origin "$remote"
printf 'STRIPE_SECRET_KEY = "%s"\n' "$(eco_stripe_key)" >legacy.py
git add legacy.py
git commit -q -m "legacy settings"
printf 'import os\nSTRIPE_SECRET_KEY = os.environ["STRIPE_SECRET_KEY"]\n' >legacy.py
git commit -q -am "load the key from the environment"
git push -q origin main

# run_action NAME EVENT JSON EXPECTED_STATUS: the range and scan steps in a
# fresh full clone at the event's commit, as actions/checkout with
# fetch-depth: 0 makes it.
run_action() {
    local name=$1 event=$2 json=$3 expected=$4 head status
    head=$(python3 -c 'import json, sys; e = json.loads(sys.argv[1]); print(e["pull_request"]["head"]["sha"] if "pull_request" in e else e["after"])' "$json")
    rm -rf "$ECO_TMP/checkout"
    git clone -q "$remote" "$ECO_TMP/checkout"
    (
        cd "$ECO_TMP/checkout"
        git checkout -q --detach "$head"
        printf '%s' "$json" >"$ECO_TMP/event.json"
        : >"$GITHUB_OUTPUT"
        python3 "$range_py" "$event" "$ECO_TMP/event.json" >>"$GITHUB_OUTPUT"
        RANGE=$(sed -n 's/^range=//p' "$GITHUB_OUTPUT") REASON=$(sed -n 's/^reason=//p' "$GITHUB_OUTPUT") \
            SARIF_FILE=$ECO_TMP/keyguard.sarif PATH="$action_path" \
            bash "$ECO_ROOT/distribution/action/scan.sh" >"$ECO_TMP/scan.log" 2>&1
    )
    status=$(sed -n 's/^status=//p' "$GITHUB_OUTPUT")
    if [ "$status" != "$expected" ]; then
        eco_fail "$name" "expected status=$expected, got status=$status"
        eco_show "$(cat "$ECO_TMP/scan.log")"
        return
    fi
    if [ "$expected" = 1 ]; then
        local results
        results=$(python3 -c 'import json, sys; print(sum(len(r["results"]) for r in json.load(open(sys.argv[1]))["runs"]))' "$ECO_TMP/keyguard.sarif" 2>/dev/null || echo none)
        if [ "$results" = none ] || [ "$results" -lt 1 ]; then
            eco_fail "$name" "status=1 but the SARIF report has no result ($results)"
            return
        fi
        eco_pass "$name: status=1, $results SARIF result(s)"
    else
        eco_pass "$name: status=$expected"
    fi
}
event_push() { printf '{"ref": "refs/heads/%s", "before": "%s", "after": "%s", "forced": %s, "repository": {"default_branch": "main"}}' "$@"; }

before=$(git rev-parse main)
printf 'print("hello")\n' >hello.py
git add hello.py
git commit -q -m "hello"
git push -q origin main
run_action "g1 a clean push to main passes" push "$(event_push main "$before" "$(git rev-parse main)" false)" 0

before=$(git rev-parse main)
printf 'STRIPE_SECRET_KEY = "%s"\n' "$(eco_stripe_key)" >billing.py
git add billing.py
git commit -q -m "billing with a key"
git commit -q --allow-empty -m "a later commit"
git push -q origin main
run_action "g2 a push whose first commit adds a key fails" push "$(event_push main "$before" "$(git rev-parse main)" false)" 1
git rm -q billing.py
git commit -q -m "remove the key again"
git push -q origin main

git checkout -q -b clean-topic
printf 'x = 1\n' >x.py
git add x.py
git commit -q -m "x"
git push -q origin clean-topic
run_action "g3 a new clean branch passes (main's old keys are not its commits)" push "$(event_push clean-topic "$Z" "$(git rev-parse HEAD)" false)" 0

git checkout -q -b key-topic main
printf 'TOKEN = "%s"\n' "$(eco_stripe_key)" >deploy.py
git add deploy.py
git commit -q -m "deploy with a key"
git push -q origin key-topic
run_action "g4 a new branch with a key fails" push "$(event_push key-topic "$Z" "$(git rev-parse HEAD)" false)" 1
run_action "g5 a pull request with a key fails" pull_request \
    "{\"pull_request\": {\"base\": {\"sha\": \"$(git rev-parse main)\"}, \"head\": {\"sha\": \"$(git rev-parse HEAD)\"}}}" 1

old_tip=$(git rev-parse HEAD)
git reset -q --hard main
printf 'import os\nTOKEN = os.environ["TOKEN"]\n' >deploy.py
git add deploy.py
git commit -q -m "deploy, reading the key from the environment"
git push -q --force origin key-topic
run_action "g6 a force push that dropped the key passes" push "$(event_push key-topic "$old_tip" "$(git rev-parse HEAD)" true)" 0

eco_finish action
