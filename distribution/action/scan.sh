#!/usr/bin/env bash
# The keyguard GitHub Action's scan step: keyguard --history over RANGE
# (from range.py), the human report in the log, SARIF into SARIF_FILE. The
# exit code goes to GITHUB_OUTPUT as `status`, so that the SARIF is uploaded
# before the job fails.
set -uo pipefail
if [ -z "${RANGE:-}" ]; then
    echo "keyguard: $REASON"
    echo "status=0" >>"${GITHUB_OUTPUT:?}"
    exit 0
fi
echo "keyguard: scanning $REASON (keyguard --history $RANGE)"
keyguard --history "$RANGE"
status=$?
keyguard --history "$RANGE" --format sarif >"${SARIF_FILE:?}"
sarif_status=$?
if [ "$sarif_status" -ne "$status" ]; then
    echo "keyguard: the SARIF run exited $sarif_status, the report $status" >&2
    [ "$status" -ge "$sarif_status" ] || status=$sarif_status
fi
echo "status=$status" >>"$GITHUB_OUTPUT"
