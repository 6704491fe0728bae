#!/usr/bin/env bash
# The test command (README): installs the programs the real-tool tests
# drive when they are missing, then runs `cargo test` with those tests
# required, so a missing program fails instead of skipping.
#   Debian: openssh-client openssl gnupg age wireguard-tools putty-tools,
#           and kubernetes-client only when no kubectl is present (its
#           binary collides with the other kubectl packages).
#   PyPI:   Django (below 6, which needs Python 3.12), PyJWT, pymacaroons, awscli.
# Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing_debs=()
for pair in git:git ssh-keygen:openssh-client openssl:openssl gpg:gnupg \
            age-keygen:age wg:wireguard-tools puttygen:putty-tools; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing_debs+=("${pair#*:}")
done
command -v kubectl >/dev/null 2>&1 || missing_debs+=(kubernetes-client)
if [ ${#missing_debs[@]} -gt 0 ]; then
    echo "test.sh: installing from Debian: ${missing_debs[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_debs[@]}"
fi

missing_pips=()
python3 -c 'import django, sys; sys.exit(django.VERSION[0] >= 6)' 2>/dev/null || missing_pips+=('Django>=4.2,<6')
python3 -c 'import jwt' 2>/dev/null || missing_pips+=('PyJWT>=2,<3')
python3 -c 'import pymacaroons' 2>/dev/null || missing_pips+=('pymacaroons==0.13.0')
command -v aws >/dev/null 2>&1 || missing_pips+=('awscli>=1.33,<2')
if [ ${#missing_pips[@]} -gt 0 ]; then
    echo "test.sh: installing from PyPI: ${missing_pips[*]}"
    python3 -m pip install --quiet --disable-pip-version-check "${missing_pips[@]}"
    # pyenv puts new console scripts (aws) on PATH through its shims.
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
fi

KEYGUARD_REAL_TOOLS=require exec cargo test --locked "$@"
