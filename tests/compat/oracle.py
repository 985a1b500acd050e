"""Upstream fail2ban's own engine behind the harness's engine interface. Runs under the system Python that has the
`fail2ban` package (not banjail's venv): reads a JSON plan on stdin, writes JSON results on stdout.

Plan:    {"config_dir": DIR, "now": EPOCH, "variants": [{"filter": NAME, "options": {...}, "journal": BOOL,
          "lines": [TEXT, ...]}, ...]}
Results: [{"error": TEXT|null, "found": [[{"fid", "time", "groups", "lines"}, ...] per line],
          "spec": {"prefregex", "failregex", "ignoreregex", "maxlines", "datepattern"}|null} per variant]

The filter is set up as upstream's sample test sets it up: raw hosts (no DNS), every failregex tried, no findtime
check, and only prefregex/failregex/ignoreregex/maxlines/datepattern taken from the filter file. The caller sets TZ.
Failures that are pending or NOFAIL are left out, as the sample test leaves them out.
"""

from __future__ import annotations

import datetime
import json
import sys
from typing import Any

from fail2ban.client.filterreader import FilterReader  # type: ignore[import-not-found]
from fail2ban.server.filter import Filter  # type: ignore[import-not-found]
from fail2ban.server.mytime import MyTime  # type: ignore[import-not-found]


def _plain(value: Any) -> Any:
    """Ticket data as JSON: sets become sorted lists, tuples lists."""
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _filter(name: str, options: dict[str, str], config_dir: str) -> tuple[Any, dict[str, Any]]:
    flt = Filter(None)
    flt.returnRawHost = True
    flt.checkAllRegex = True
    flt.checkFindTime = False
    flt.active = True
    reader = FilterReader(name, "jail", dict(options), basedir=config_dir, share_config={})
    if not reader.read():
        raise ValueError(f"cannot read filter {name!r} from {config_dir}")
    reader.getOptions({})
    setters = {
        "prefregex": lambda v: setattr(flt, "prefRegex", v),
        "addfailregex": flt.addFailRegex,
        "addignoreregex": flt.addIgnoreRegex,
        "maxlines": flt.setMaxLines,
        "datepattern": flt.setDatePattern,
    }
    spec: dict[str, Any] = {
        "prefregex": "",
        "failregex": [],
        "ignoreregex": [],
        "maxlines": 1,
        "datepattern": [],
    }
    for token in reader.convert():
        values = token[3] if token[0] == "multi-set" else [token[3]]
        setter = setters.get(token[2])
        if setter is not None:
            for value in values:
                setter(value)
                _record(spec, token[2], value)
    return flt, spec


def _record(spec: dict[str, Any], option: str, value: Any) -> None:
    """The reader's resolved options, in the shape of banjail's FilterSpec."""
    if option in ("addfailregex", "addignoreregex"):
        spec[option[3:]].append(value)
    elif option == "maxlines":
        spec["maxlines"] = int(value)
    elif option == "datepattern":
        spec["datepattern"] = [line for line in str(value).splitlines() if line.strip()]
    else:
        spec[option] = value


def run_variant(variant: dict[str, Any], config_dir: str, now: float) -> dict[str, Any]:
    try:
        flt, spec = _filter(variant["filter"], variant["options"], config_dir)
    except Exception as e:
        return {"error": f"{type(e).__name__}: {e}", "found": [], "spec": None}
    # The journal gives the time; upstream's test passes it as ISO text in UTC.
    now_text = datetime.datetime.fromtimestamp(now, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    found_per_line: list[list[dict[str, Any]]] = []
    for text in variant["lines"]:
        journal = variant["journal"]
        results = flt.processLine(("", now_text, text), now) if journal else flt.processLine(text)
        found = []
        for _index, fid, when, data in results or ():
            if fid is None or data.get("nofail"):
                continue
            groups = {k: _plain(v) for k, v in data.items() if k != "matches"}
            found.append(
                {"fid": _plain(fid), "time": when, "groups": groups, "lines": len(data.get("matches", ()))}
            )
        found_per_line.append(found)
    return {"error": None, "found": found_per_line, "spec": spec}


def main() -> int:
    plan = json.load(sys.stdin)
    now = float(plan["now"])
    MyTime.setTime(now)
    out = [run_variant(v, plan["config_dir"], now) for v in plan["variants"]]
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
