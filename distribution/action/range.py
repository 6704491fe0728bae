"""Which commits the keyguard GitHub Action scans, from the event GitHub
sends the workflow (the JSON file at GITHUB_EVENT_PATH).

    python3 range.py EVENT_NAME EVENT_PATH

prints `range=REV` (for `keyguard --history REV`) and `reason=...`, or
`range=` when there is nothing to scan (a deleted branch), in the
`key=value` form of GITHUB_OUTPUT:

  pull_request(_target)  base.sha..head.sha: the pull request's commits
  push                   before..after: the pushed commits
  push, new branch       (before is all zeros) origin/DEFAULT..after: the
                         commits the branch has that the default branch has
                         not; on the default branch itself, after's history
  push, forced           the same as a new branch: the old tip may be gone
                         from the clone, and what matters is what the
                         branch now holds
  anything else          HEAD's whole history
"""

import json
import sys


def is_zero(sha):
    return not sha or set(sha) == {"0"}


def commits_to_scan(event_name, event):
    if event_name in ("pull_request", "pull_request_target"):
        pr = event["pull_request"]
        return f"{pr['base']['sha']}..{pr['head']['sha']}", "the pull request's commits"
    if event_name == "push":
        if event.get("deleted"):
            return "", "the branch was deleted: nothing to scan"
        after = event["after"]
        default = (event.get("repository") or {}).get("default_branch") or "main"
        if is_zero(event.get("before")) or event.get("forced"):
            why = "a new branch" if is_zero(event.get("before")) else "a forced push"
            if event.get("ref") == f"refs/heads/{default}":
                return after, f"{why} of the default branch: its whole history"
            return f"origin/{default}..{after}", f"{why}: its commits not on {default}"
        return f"{event['before']}..{after}", "the pushed commits"
    return "HEAD", f"event {event_name}: HEAD's whole history"


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    event_name, event_path = argv[1], argv[2]
    try:
        with open(event_path, encoding="utf-8") as f:
            event = json.load(f)
        rev, reason = commits_to_scan(event_name, event)
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit(f"keyguard action: cannot read the {event_name} event at {event_path}: {e!r}")
    print(f"range={rev}")
    print(f"reason={reason}")


if __name__ == "__main__":
    main(sys.argv)
