"""The PEP 517 build backend of the keyguard-hook wheel: maturin, plus the
two settings install.sh also makes, so that `pip wheel .` gives the same
binary as `./install.sh`.

On Linux with glibc the binary is linked statically (+crt-static), and not
position-independent (relocation-model=static: nothing to relocate at
start): it starts in half the time, and the hook runs on every commit; a
static binary also runs on any Linux, whatever its glibc. The flag must reach only the binary,
not the proc-macros cargo builds for the host (they cannot be static), so
cargo gets an explicit --target: then RUSTFLAGS apply to that target only.
maturin takes extra arguments for its PEP 517 build from MATURIN_PEP517_ARGS.
"""

import os
import subprocess

import maturin
from maturin import (  # noqa: F401  (the hooks this backend passes through)
    build_sdist,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_wheel,
)


def _host_triple():
    """rustc's host triple, or None when rustc cannot say (maturin then
    reports the missing toolchain itself)."""
    try:
        out = subprocess.run(
            ["rustc", "-vV"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in out.splitlines():
        if line.startswith("host: "):
            return line[len("host: "):].strip()
    return None


def _link_statically_on_glibc():
    """An explicit --target and +crt-static for a *-linux-gnu host, unless
    the caller already chose a target (a cross build sets its own)."""
    args = os.environ.get("MATURIN_PEP517_ARGS", "")
    if "--target" in args or os.environ.get("CARGO_BUILD_TARGET"):
        return
    host = _host_triple()
    if host is None or not host.endswith("-linux-gnu"):
        return
    os.environ["MATURIN_PEP517_ARGS"] = f"{args} --target {host}".strip()
    flags = os.environ.get("RUSTFLAGS", "")
    os.environ["RUSTFLAGS"] = f"{flags} -C target-feature=+crt-static -C relocation-model=static".strip()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _link_statically_on_glibc()
    return maturin.build_wheel(wheel_directory, config_settings, metadata_directory)
