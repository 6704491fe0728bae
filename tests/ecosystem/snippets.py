"""README snippet helpers for readme_snippets.sh.

    python3 snippets.py extract README.md "## Heading" [FIRST_LINE_PREFIX]
        prints the fenced code block under that heading (the first one, or the
        first whose first line starts with FIRST_LINE_PREFIX); exits 1 if none
    python3 snippets.py check-keys KIND FILE [MANIFEST]
        structural checks on a snippet, KIND one of github, gitlab, lefthook,
        pre-commit; MANIFEST is action.yml for github, the hook repository's
        .pre-commit-hooks.yaml for pre-commit; prints what is wrong and
        exits 1
    python3 snippets.py keyguard-commands KIND FILE
        prints, one per line as JSON strings, the shell commands of a CI
        snippet that run keyguard (cargo install lines left out)
"""

import json
import re
import sys

import yaml


def section(readme, heading):
    lines = readme.splitlines()
    level = len(heading) - len(heading.lstrip("#"))
    try:
        start = lines.index(heading)
    except ValueError:
        sys.exit(f"README has no heading {heading!r}")
    out = []
    fenced = False
    for line in lines[start + 1:]:
        if line.startswith("```"):
            fenced = not fenced
        m = re.match(r"^(#+) ", line)
        if not fenced and m and len(m.group(1)) <= level:
            break
        out.append(line)
    return out


def blocks(lines):
    found, current, lang = [], None, None
    for line in lines:
        if current is None and line.startswith("```"):
            current, lang = [], line[3:].strip()
        elif current is not None and line.startswith("```"):
            found.append((lang, "\n".join(current) + "\n"))
            current = None
        elif current is not None:
            current.append(line)
    return found


def extract(readme_path, heading, prefix=None):
    readme = open(readme_path, encoding="utf-8").read()
    for _lang, text in blocks(section(readme, heading)):
        if prefix is None or text.startswith(prefix):
            sys.stdout.write(text)
            return 0
    print(f"no fenced block under {heading!r}" + (f" starting with {prefix!r}" if prefix else ""), file=sys.stderr)
    return 1


def check_keys(kind, path):
    doc = yaml.safe_load(open(path, encoding="utf-8"))
    problems = []

    def need(cond, what):
        if not cond:
            problems.append(what)

    if kind == "github":
        action = yaml.safe_load(open(sys.argv[4], encoding="utf-8"))
        steps = [s for job in doc["jobs"].values() for s in job.get("steps", [])]
        ours = [s for s in steps if s.get("uses", "").startswith("keyguard/keyguard@")]
        need(ours, "a step uses keyguard/keyguard@<rev>, the action")
        for step in ours:
            for key in step.get("with", {}):
                need(key in action["inputs"], f"input {key} is one of action.yml's")
        need(doc.get("permissions", {}).get("security-events") == "write", "permissions: security-events: write")
        need(any(s.get("with", {}).get("fetch-depth") == 0 for s in steps), "checkout with fetch-depth: 0")
    elif kind == "gitlab":
        jobs = [j for k, j in doc.items() if isinstance(j, dict) and "script" in j]
        need(len(jobs) == 1, "one job")
        script = "\n".join(jobs[0]["script"]) if jobs else ""
        need("pip install keyguard-hook" in script, "the script installs keyguard-hook from PyPI")
        need(re.search(r"\bkeyguard --all\b", script), "the script runs keyguard --all")
        need(re.search(r"\bkeyguard --history\b", script), "the script runs keyguard --history")
        need(jobs and jobs[0].get("artifacts", {}).get("when") == "always", "artifacts are kept when the job fails")
    elif kind == "lefthook":
        run = (doc or {}).get("pre-commit", {}).get("commands", {}).get("keyguard", {}).get("run", "")
        need(re.match(r"^keyguard( --staged)?$", run), "pre-commit.commands.keyguard.run is `keyguard --staged`")
    elif kind == "pre-commit":
        manifest = yaml.safe_load(open(sys.argv[4], encoding="utf-8"))
        ids = {h["id"] for h in manifest}
        for repo in doc["repos"]:
            for hook in repo["hooks"]:
                need(hook["id"] in ids, f"hook id {hook['id']} is in .pre-commit-hooks.yaml")
        need(all(r["repo"].startswith("https://github.com/keyguard/keyguard") for r in doc["repos"]),
             "the repo is keyguard's or its mirror")
    else:
        sys.exit(f"unknown kind {kind}")
    for p in problems:
        print(f"missing: {p}")
    return 1 if problems else 0


def keyguard_commands(kind, path):
    doc = yaml.safe_load(open(path, encoding="utf-8"))
    if kind == "github":
        cmds = [s["run"] for job in doc["jobs"].values() for s in job.get("steps", []) if "run" in s]
    else:
        cmds = [c for j in doc.values() if isinstance(j, dict) for c in j.get("script", [])]
    for cmd in cmds:
        if "keyguard" in cmd and "cargo install" not in cmd and "pip install" not in cmd:
            print(json.dumps(cmd))
    return 0


if __name__ == "__main__":
    verb = sys.argv[1]
    if verb == "extract":
        sys.exit(extract(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None))
    if verb == "check-keys":
        sys.exit(check_keys(sys.argv[2], sys.argv[3]))
    if verb == "keyguard-commands":
        sys.exit(keyguard_commands(sys.argv[2], sys.argv[3]))
    sys.exit(__doc__)
