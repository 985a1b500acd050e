"""The regex floor: how fast any exact engine built on CPython's `re` can go with a filter's own regexes.

Usage: refloor.py [--first] LOG FILTER [NOW]   (FILTER as fail2ban-regex takes it: a file, optionally with [args])

It times only the regex calls an exact engine cannot avoid, on lines prepared beforehand (untimed): the prefregex
on every line holding one of the filter's required literals, then every failregex that may start with the
content's first character (banjail's dispatch; upstream runs them all), or with --first up to the first that
matches (the daemon's mode). No date parsing, no sessions, no counting,
no output. Prints one JSON object: {"lines": input lines, "searched": lines searched, "calls": regex calls,
"regex_s": seconds}. lines / regex_s is an upper bound on the lines/s of banjail (or any exact reimplementation
on `re`) with this filter and log.
"""

from __future__ import annotations

import json
import sys
import time

from banjail.cli.source import resolve_filter
from banjail.filter.datedetect import DateDetector
from banjail.filter.matcher import Matcher


def main(argv: list[str]) -> int:
    first = argv[:1] == ["--first"]
    if first:
        argv = argv[1:]
    log, spec_arg = argv[0], argv[1]
    now = float(argv[2]) if len(argv) > 2 else time.time()
    spec = resolve_filter(spec_arg, "/etc/fail2ban").spec
    matcher = Matcher(spec, detector=DateDetector(spec.datepattern, logtimezone=spec.logtimezone))
    program = matcher.program
    candidates = program.candidates
    texts: list[str] = []
    lines = 0
    with open(log, encoding="utf-8", errors="replace") as f:
        for raw in f:
            lines += 1
            tup = matcher.date_split(raw.rstrip("\n"), now)[0]
            text = tup[0] + tup[2] + "\n"
            if candidates is None or candidates.search(text) is not None:
                texts.append(text)
    pref = program.pref_search
    by_first, anyone, regexes = program.by_first or {}, program.any_first, program.searches
    calls = 0
    t0 = time.perf_counter()
    for text in texts:
        buf = text
        if pref is not None:
            calls += 1
            m = pref(text)
            if m is None:
                continue
            content = m.group("content")
            if content:
                buf = content + "\n"
        for index in by_first.get(buf[0], anyone):
            calls += 1
            if regexes[index](buf) is not None and first:
                break
    elapsed = time.perf_counter() - t0
    print(json.dumps({"lines": lines, "searched": len(texts), "calls": calls, "regex_s": round(elapsed, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
