"""A stand-in for `journalctl -o json --follow` in unit tests.

Entries come from the JSON-lines file named by $FAKE_JOURNAL (appending to it is "logging"). Honours
--after-cursor=C (exit 1 with journalctl's message when C is unknown), --since=@SECONDS, --lines=0 and
FIELD=VALUE matches with `+` alternatives. Each run appends its argv as JSON to $FAKE_JOURNAL_ARGV. With
$FAKE_JOURNAL_DIE_AFTER=N, a run exits with code 3 after printing N entries (a crash to recover from).
"""

from __future__ import annotations

import json
import os
import sys
import time


def matches(entry: dict[str, object], groups: list[dict[str, set[str]]]) -> bool:
    if not groups:
        return True
    return any(all(str(entry.get(f)) in values for f, values in group.items()) for group in groups)


def main() -> int:
    args = sys.argv[1:]
    with open(os.environ["FAKE_JOURNAL_ARGV"], "a") as out:
        out.write(json.dumps(args) + "\n")
    groups: list[dict[str, set[str]]] = [{}]
    cursor = since = None
    tail = False
    for arg in args:
        if arg.startswith("--after-cursor="):
            cursor = arg.split("=", 1)[1]
        elif arg.startswith("--since=@"):
            since = float(arg.split("@", 1)[1])
        elif arg == "--lines=0":
            tail = True
        elif arg == "+":
            groups.append({})
        elif not arg.startswith("-"):
            field, value = arg.split("=", 1)
            groups[-1].setdefault(field, set()).add(value)
    groups = [g for g in groups if g]
    path = os.environ["FAKE_JOURNAL"]
    die_after = int(os.environ.get("FAKE_JOURNAL_DIE_AFTER", "0"))

    def read_all() -> list[dict[str, object]]:
        with open(path) as f:
            return [json.loads(line) for line in f if line.endswith("\n")]

    entries = read_all()
    start = len(entries) if tail else 0
    if cursor is not None:
        cursors = [e.get("__CURSOR") for e in entries]
        if cursor not in cursors:
            print("Failed to seek to cursor: Invalid argument", file=sys.stderr)
            return 1
        start = cursors.index(cursor) + 1
    elif since is not None:
        start = next(
            (i for i, e in enumerate(entries) if int(str(e.get("__REALTIME_TIMESTAMP", 0))) >= since * 1e6),
            len(entries),
        )
    printed = 0
    while True:
        for entry in entries[start:]:
            if matches(entry, groups):
                sys.stdout.write(json.dumps(entry) + "\n")
                printed += 1
                if die_after and printed >= die_after:
                    sys.stdout.flush()
                    print("fake journalctl: dying on purpose", file=sys.stderr)
                    return 3
        sys.stdout.flush()
        start = len(entries)
        time.sleep(0.02)
        entries = read_all()


if __name__ == "__main__":
    sys.exit(main())
