"""Cross-check banjail's stock filters against upstream fail2ban's annotated sample logs.

Upstream ships, for most of its filters, a sample log in which every line is preceded by a `# failJSON: {...}`
comment saying whether the line is a failure, for which host, at what time, with which groups; blocks may be run
under several filter options (`# filterOptions: [...]`) and extra files appended (`# addFILE: "name"`). This tool
reads those annotations itself and checks OUR filter file of the same name against each of them.

The engine that runs the filter is pluggable:
  * "banjail": banjail's own config loader and matcher (the default once they exist);
  * "upstream": fail2ban's Filter class used purely as a regex engine over our filter files (an oracle to
    validate the filters while banjail's engine is being written).

Usage:  python3 tests/filters/crosscheck.py [--engine banjail|upstream] [-v] [NAME ...]
Prints a table: filter, annotations, agreeing, differing; with -v every difference.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

UPSTREAM_LOGS = Path("/usr/lib/python3/dist-packages/fail2ban/tests/files/logs")
STOCK = Path(__file__).resolve().parents[2] / "src" / "banjail" / "stock"
TEST_TZ = "CET-01CEST-02,M3.5.0,M10.5.0"
TEST_NOW = 1124013600.0
_ANNOTATION = re.compile(r"^#+ ?(failJSON|fileOptions|filterOptions|addFILE):(.+)$")

# One found failure: (failregex index, fid, time, groups).
Found = tuple[int, str, float, dict[str, object]]
# process(line, journal) -> failures the line completed (NOFAIL and pending ones left out)
Process = Callable[[str, bool], list[Found]]
Engine = Callable[[str, dict[str, str]], Process]


@dataclass
class Report:
    name: str
    annotations: int = 0
    agree: int = 0
    differences: list[str] = field(default_factory=list)


def upstream_engine(name: str, opts: dict[str, str]) -> Process:
    """fail2ban's Filter over our filter file, configured the way its own sample test does it."""
    from fail2ban.client.filterreader import FilterReader
    from fail2ban.server.filter import Filter

    flt = Filter(None)
    flt.returnRawHost = True
    flt.checkAllRegex = True
    flt.checkFindTime = False
    flt.active = True
    reader = FilterReader(name, "jail", dict(opts), basedir=str(STOCK))
    if not reader.read():
        raise SystemExit(f"cannot read filter {name} from {STOCK}")
    reader.getOptions({})
    for opt in reader.convert():
        values = opt[3] if opt[0] == "multi-set" else [opt[3]]
        for value in values:
            if opt[2] == "prefregex":
                flt.prefRegex = value
            elif opt[2] == "addfailregex":
                flt.addFailRegex(value)
            elif opt[2] == "addignoreregex":
                flt.addIgnoreRegex(value)
            elif opt[2] == "maxlines":
                flt.setMaxLines(value)
            elif opt[2] == "datepattern":
                flt.setDatePattern(value)

    def process(line: str, journal: bool) -> list[Found]:
        if journal:
            ret = flt.processLine(
                ("", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(TEST_NOW)), line), TEST_NOW
            )
        else:
            ret = flt.processLine(line)
        found: list[Found] = []
        for idx, fid, when, fail in ret or ():
            if fid is None or fail.get("nofail"):
                continue
            found.append((idx, fid, when, dict(fail)))
        return found

    return process


@functools.cache
def _empty_config() -> tempfile.TemporaryDirectory[str]:
    """One empty config dir for every engine this process makes (it is removed when the process ends)."""
    return tempfile.TemporaryDirectory(prefix="banjail-xc-")


def banjail_engine(name: str, opts: dict[str, str]) -> Process:
    """banjail's loader and matcher over our stock tree (config dir empty, so only the stock files are read)."""
    from banjail.config.load import load_filter
    from banjail.filter.datedetect import DateDetector
    from banjail.filter.matcher import Matcher

    empty = _empty_config().name
    # like upstream's sample test (returnRawHost): host names are reported as written, never resolved
    spec = load_filter(
        name, config_dir=empty, stock_dir=STOCK, args=dict(opts) or None, jail_options={"usedns": "raw"}
    )
    detector = DateDetector(spec.datepattern, logtimezone=spec.logtimezone)
    # journal entries carry their time beside the text: like upstream's systemd backend, take "now" for it
    matcher = Matcher(spec, detector=detector, live=opts.get("logtype") == "journal")
    counter = [0]

    def process(line: str, journal: bool) -> list[Found]:
        counter[0] += 1
        outcome = matcher.process(line, TEST_NOW, counter[0])
        found: list[Found] = []
        for failure in outcome.failures:
            groups: dict[str, object] = dict(failure.groups)
            groups.setdefault("matches", list(failure.lines))
            found.append((failure.regex_index, failure.fid, failure.time, groups))
        return found

    return process


ENGINES: dict[str, Engine] = {"upstream": upstream_engine, "banjail": banjail_engine}


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8", errors="replace") as fh:
        for raw in fh:
            yield raw.rstrip("\r\n")


def _local_epoch(text: str) -> float:
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in text else "%Y-%m-%dT%H:%M:%S"
    when = datetime.datetime.strptime(text, fmt)
    return time.mktime(when.timetuple()) + when.microsecond / 1e6


def _compare(expect: dict[str, object], found: list[Found]) -> str:
    """'' when the found failures satisfy the annotation, else what differs."""
    if not found:
        return "missed" if expect.get("match") else ""
    if not expect.get("match"):
        return f"unexpected failure for {found[0][1]} (regex {found[0][0]})"
    if len(found) != 1:
        return f"{len(found)} failures (regexes {[f[0] for f in found]})"
    _, fid, when, groups = found[0]
    for key, want in expect.items():
        if key in ("time", "match", "desc", "constraint"):
            continue
        got = groups.get(key)
        if got is None and key == "host":
            got = fid
        if got is None and key == "attempts":
            matches = groups.get("matches")
            got = len(matches) if isinstance(matches, list | tuple) else None
        if isinstance(got, set | list | tuple | dict) and isinstance(want, list):
            if sorted(map(str, got)) != sorted(map(str, want)):
                return f"{key}: {sorted(map(str, got))} != {want}"
        elif got != want:
            return f"{key}: {got!r} != {want!r}"
    if "time" in expect and abs(when - _local_epoch(str(expect["time"]))) > 1e-6:
        return f"time: {when} != {_local_epoch(str(expect['time']))}"
    return ""


def crosscheck(name: str, engine: Engine, logs: Path = UPSTREAM_LOGS) -> Report:
    """Run our filter `name` over upstream's sample log of that name with every option block it declares."""
    report = Report(name)
    files = [name]
    common: dict[str, object] = {}
    cache: dict[str, Process] = {}
    runs: list[tuple[str, Process, dict[str, object]]] = []
    i = 0
    while i < len(files):
        lines = _lines(logs / files[i])
        i += 1
        lineno = 0
        skip = False
        expect: dict[str, object] = {}
        for line in lines:
            lineno += 1
            m = _ANNOTATION.match(line)
            if m:
                data = json.loads(m.group(2))
                kind = m.group(1)
                if kind == "fileOptions":
                    common = data
                    continue
                if kind == "addFILE":
                    files.append(data)
                    continue
                if kind == "filterOptions":
                    runs, skip = [], False
                    for block in data if isinstance(data, list) else [data]:
                        opts = {**common, **block}
                        cond = opts.get("test.condition")
                        if cond and not eval(str(cond), {"name": name}):  # upstream's own expressions
                            skip = True
                            continue
                        fopts = {k: str(v) for k, v in opts.items() if not k.startswith("test.")}
                        key = json.dumps(fopts, sort_keys=True)
                        if key not in cache:
                            cache[key] = engine(name, fopts)
                        runs.append((key, cache[key], opts))
                    continue
                expect = data
                try:
                    line = next(lines)
                except StopIteration:
                    break
                lineno += 1
            elif skip or line.startswith("#") or not line.strip():
                continue
            else:
                expect = {}
            if skip:
                continue
            if not runs:
                fopts = {k: str(v) for k, v in common.items() if not k.startswith("test.")}
                key = json.dumps(fopts, sort_keys=True)
                cache.setdefault(key, engine(name, fopts))
                runs = [(key, cache[key], dict(common))]
            for key, process, opts in runs:
                if expect.get("constraint") and not eval(
                    str(expect["constraint"]), {"name": name, "opts": opts}
                ):
                    continue
                journal = opts.get("logtype") == "journal"
                text = str(opts.get("test.prefix-line", "")) + line if journal else line
                report.annotations += 1
                problem = _compare(expect, process(text, journal))
                if problem:
                    report.differences.append(f"{files[i - 1]}:{lineno} {key}: {problem}\n    {line}")
                else:
                    report.agree += 1
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=sorted(ENGINES), default="banjail")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    os.environ["TZ"] = TEST_TZ
    time.tzset()
    if args.engine == "upstream":
        from fail2ban.server.mytime import MyTime

        MyTime.setTime(TEST_NOW)
    names = args.names or sorted(
        p.stem
        for p in (STOCK / "filter.d").glob("*.conf")
        if p.stem != "common" and (UPSTREAM_LOGS / p.stem).exists()
    )
    total = Report("TOTAL")
    print(f"{'filter':<22} {'annotations':>11} {'agree':>6} {'differ':>6}")
    for name in names:
        try:
            rep = crosscheck(name, ENGINES[args.engine])
        except Exception as exc:  # a filter the engine cannot load counts as all-different
            print(f"{name:<22} cannot run: {exc}")
            continue
        total.annotations += rep.annotations
        total.agree += rep.agree
        print(f"{name:<22} {rep.annotations:>11} {rep.agree:>6} {len(rep.differences):>6}")
        if args.verbose:
            for diff in rep.differences:
                print("   ", diff)
    print(f"{'TOTAL':<22} {total.annotations:>11} {total.agree:>6} {total.annotations - total.agree:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
