"""Run by /usr/bin/python3 (Debian's fail2ban 1.0.2): read cases as JSON on stdin, print upstream's answers.

Input: [{"tz": TZ, "now": epoch, "patterns": [...], "logtimezone": str, "lines": [...], "nows": [...]}, ...];
"nows" (optional) gives each line its own "now". All cases of one
run share the TZ of the first one (TZ is set before fail2ban is imported). Output: for every case, for every line,
null (no date) or [epoch or null, start, end, template name], in order.
"""

import json
import os
import sys
import time

cases = json.load(sys.stdin)
os.environ["TZ"] = cases[0]["tz"] if cases else "UTC"
time.tzset()

from fail2ban.server.datedetector import DateDetector  # noqa: E402
from fail2ban.server.mytime import MyTime  # noqa: E402

answers = []
for case in cases:
    MyTime.setTime(case["now"])
    dd = DateDetector()
    dd.default_tz = case.get("logtimezone") or None
    for pattern in case["patterns"]:
        dd.appendTemplate(pattern)
    found = []
    nows = case.get("nows") or [case["now"]] * len(case["lines"])
    for line, now in zip(case["lines"], nows, strict=True):
        MyTime.setTime(now)
        match, template = dd.matchTime(line)
        if not match:
            found.append(None)
            continue
        start, end = match.span(1)
        epoch = None
        if end > start:
            try:
                date = dd.getTime(line[start:end], (match, template))
            except Exception:  # upstream lets some errors through (unknown zone abbreviation)
                date = None
            epoch = None if date is None else float(date[0])
        found.append([epoch, start, end, template.name])
    answers.append(found)
json.dump(answers, sys.stdout)
