#!/usr/bin/env bash
# The keyguard GitHub Action's install step: keyguard-hook into a venv of its
# own, from WHEEL (a .whl file or a folder of wheels, installed with no
# index) or else from PyPI at VERSION; its bin folder goes on GITHUB_PATH.
set -euo pipefail
venv="${RUNNER_TEMP:?}/keyguard-venv"
python3 -m venv "$venv"
if [ -d "$venv/Scripts" ]; then bin="$venv/Scripts"; else bin="$venv/bin"; fi
if [ -n "${WHEEL:-}" ]; then
    if [ -d "$WHEEL" ]; then
        "$bin/python" -m pip install --quiet --no-index --find-links "$WHEEL" keyguard-hook
    else
        "$bin/python" -m pip install --quiet --no-index "$WHEEL"
    fi
else
    "$bin/python" -m pip install --quiet "keyguard-hook==${VERSION:?}"
fi
"$bin/keyguard" --version
echo "$bin" >>"${GITHUB_PATH:?}"
