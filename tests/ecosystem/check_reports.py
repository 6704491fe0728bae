"""Checks on keyguard's machine output beyond schema validity; used by sarif_schema.sh.

    python3 check_reports.py SECRETS_FILE SCHEMA CASE_DIR...

Each CASE_DIR holds the outputs of one scan: report.json, report.sarif,
human.txt, and expect.json ({"mode": ..., "source": ..., "findings": N,
"rules": [...], "files": [...]}). SECRETS_FILE has one fake secret a line.
Prints a FAIL line per failed check (and an ok line per passed one with
KEYGUARD_ECO_VERBOSE=1), then the counts; exits 1 if any failed.
"""

import copy
import json
import os
import sys
from pathlib import Path
from urllib.parse import unquote

import jsonschema

failed = 0
passed = 0
verbose = os.environ.get("KEYGUARD_ECO_VERBOSE") == "1"


def check(name, condition, detail=""):
    global failed, passed
    if condition:
        passed += 1
        if verbose:
            print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}" + (f"\n     {detail}" if detail else ""))


def strict(schema):
    """The schema with additionalProperties false on every object, so that a
    field the schema does not document is reported (the published schema
    allows unknown fields, as the versioning policy says)."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if node.get("additionalProperties") is True:
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def main():
    secrets = [s for s in Path(sys.argv[1]).read_text().splitlines() if s]
    schema = json.loads(Path(sys.argv[2]).read_text())
    strict_validator = jsonschema.Draft202012Validator(strict(schema))
    for case in map(Path, sys.argv[3:]):
        name = case.name
        expect = json.loads((case / "expect.json").read_text())
        raw = {f: (case / f).read_text(encoding="utf-8") for f in ("report.json", "report.sarif", "human.txt")}

        # No full secret in any format.
        leaks = [(f, s[:6]) for f, text in raw.items() for s in secrets if s in text]
        check(f"{name}: no full secret in json, sarif or human output", not leaks, f"leaked: {leaks}")

        report = json.loads(raw["report.json"])
        sarif = json.loads(raw["report.sarif"])

        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in strict_validator.iter_errors(report)]
        check(f"{name}: json has no field the schema does not document", not errors, "; ".join(errors[:5]))

        findings = report["findings"]
        check(f"{name}: json has {expect['findings']} findings", len(findings) == expect["findings"],
              f"got {len(findings)}: {[(f['rule_id'], f['file']) for f in findings]}")
        check(f"{name}: json rules are {sorted(expect['rules'])}",
              sorted({f["rule_id"] for f in findings}) == sorted(expect["rules"]),
              f"got {sorted({f['rule_id'] for f in findings})}")
        check(f"{name}: json files are {sorted(expect['files'])}",
              sorted({f["file"] for f in findings}) == sorted(expect["files"]),
              f"got {sorted({f['file'] for f in findings})}")
        if findings:
            check(f"{name}: json source is {expect['source']}",
                  all(f["source"] == expect["source"] for f in findings),
                  f"got {sorted({f['source'] for f in findings})}")

        # SARIF agrees with the JSON report.
        run = sarif["runs"][0]
        results = run.get("results", [])
        rules = run["tool"]["driver"].get("rules", [])
        check(f"{name}: sarif has as many results as json has findings", len(results) == len(findings),
              f"{len(results)} vs {len(findings)}")
        bad_index = [r["ruleId"] for r in results
                     if "ruleIndex" in r and rules[r["ruleIndex"]]["id"] != r["ruleId"]]
        check(f"{name}: sarif ruleIndex points at the result's rule", not bad_index, f"{bad_index}")
        check(f"{name}: sarif lists each rule once",
              len({r["id"] for r in rules}) == len(rules), f"{[r['id'] for r in rules]}")
        sarif_files = sorted({unquote(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
                              for r in results})
        check(f"{name}: sarif artifact URIs decode to the json files",
              sarif_files == sorted({f["file"] for f in findings}), f"{sarif_files}")
        check(f"{name}: sarif partialFingerprints are the json fingerprints",
              sorted(r["partialFingerprints"]["keyguardFingerprint/v2"] for r in results)
              == sorted(f["fingerprint"] for f in findings))
        if expect["source"] == "commit" and findings:
            commits = {f["commit"] for f in findings}
            check(f"{name}: sarif results carry the commit",
                  {r.get("properties", {}).get("commit") for r in results} == commits, f"{commits}")
        for uri in (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results):
            if " " in unquote(uri):
                check(f"{name}: sarif percent-encodes a space in a path ({uri})", " " not in uri)

        # The human format names each rule too.
        missing = [r for r in expect["rules"] if r not in raw["human.txt"]]
        check(f"{name}: human output names every rule", not missing, f"missing {missing}")

    print(f"content checks on {len(sys.argv) - 3} scans: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
