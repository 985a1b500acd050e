"""The native engine's floor: only the C part of banjail's native engine (PCRE2-JIT running the literal
prefilter, the prefregex and the dispatched failregexes of upstream's filter on every line), on chunks prepared
beforehand. Its lines/s bounds what the native engine can reach while Python keeps dates, sessions and
identities; the gap to the `banjail` row is that Python work.

    .venv/bin/python bench/nativefloor.py LOG FILTER [NOW]   ->   {"lines": N, "matched": M, "native_s": S}
"""

from __future__ import annotations

import json
import sys
import time

from banjail.cli.source import resolve_filter
from banjail.filter import native
from banjail.filter.datedetect import DateDetector
from banjail.filter.matcher import Matcher
from banjail.filter.uniform import read_dates

CHUNK = 1 << 20


def main(argv: list[str]) -> int:
    log, spec_arg = argv[0], argv[1]
    now = float(argv[2]) if len(argv) > 2 else time.time()
    spec = resolve_filter(spec_arg, "/etc/fail2ban").spec
    matcher = Matcher(spec, detector=DateDetector(spec.datepattern, logtimezone=spec.logtimezone))
    compiled = native.compile_c(matcher.program)
    work: list[tuple[str, list[int]]] = []
    lines = 0
    with open(log, encoding="utf-8", errors="replace") as f:
        while True:
            text = f.read(CHUNK)
            if not text:
                break
            text += f.readline()
            rows = text.split("\n")
            rows.pop()
            lines += len(rows)
            found = read_dates(matcher.program, matcher.state, rows, now, judge=False)
            if found is None:
                continue
            cuts = [found.ends[i] if found.dates[i] is not None else 0 for i in range(len(rows))]
            work.append((text, cuts))
    t0 = time.perf_counter()
    matched = sum(len(compiled.scan(text, cuts)) for text, cuts in work)
    elapsed = time.perf_counter() - t0
    print(json.dumps({"lines": lines, "matched": matched, "native_s": round(elapsed, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
