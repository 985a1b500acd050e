"""banjail's sample-log format for stock filters, and a checker that runs a filter over one sample file.

Format (see README.md beside this file): a sample file `samples/NAME.log` holds log lines of the filter NAME.

    # now: 2026-11-25T12:00:00          the "current" time (UTC) the lines are read at; once, before any line
    # options: mode=ddos | mode=aggressive
                                        filter arguments for the lines below, until the next options line; each
                                        `|`-separated set is run with a fresh filter and must satisfy every line
    #> 192.0.2.7 user=root @2026-11-25T08:44:15
                                        the next line completes exactly one failure with fid 192.0.2.7, groups
                                        user=root, at that UTC time (`@` part optional; groups optional)
    #> -                                the next line completes no failure
    # anything else                    a comment

Every log line must carry an expectation: a line without one is an error in the sample file.
The address 198.51.100.7 is reserved for injection attempts: no sample line may ever yield it.

Run directly to check samples with an engine:  python3 tests/filters/samplefile.py [--engine upstream] [NAME ...]
"""

from __future__ import annotations

import calendar
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = HERE / "samples"
INJECTED = "198.51.100.7"

# One failure as the checker needs it: fid, time, groups.
Seen = tuple[str, float, dict[str, str]]
# process(line, now) -> failures that line completed
LineFn = Callable[[str, float], list[Seen]]
# make(filter name, args) -> LineFn with a fresh filter state
MakeFn = Callable[[str, dict[str, str]], LineFn]


@dataclass(frozen=True)
class Expectation:
    fid: str | None  # None: no failure
    groups: tuple[tuple[str, str], ...] = ()
    time: float | None = None


@dataclass(frozen=True)
class Case:
    lineno: int
    line: str
    expect: Expectation


@dataclass
class Block:
    """Lines read under one options line, to be run with each of its argument sets."""

    options: list[dict[str, str]]
    cases: list[Case] = field(default_factory=list)


@dataclass
class SampleFile:
    name: str
    now: float
    blocks: list[Block]


def _utc(text: str) -> float:
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%S")))


def parse_expectation(text: str) -> Expectation:
    words = shlex.split(text)
    if not words:
        raise ValueError("empty expectation")
    if words[0] == "-":
        if len(words) > 1:
            raise ValueError("'-' takes nothing after it")
        return Expectation(None)
    groups: list[tuple[str, str]] = []
    when: float | None = None
    for word in words[1:]:
        if word.startswith("@"):
            when = _utc(word[1:])
        elif "=" in word:
            key, _, value = word.partition("=")
            groups.append((key, value))
        else:
            raise ValueError(f"cannot read {word!r} (want key=value or @time)")
    return Expectation(words[0], tuple(groups), when)


def _options(text: str) -> list[dict[str, str]]:
    sets = []
    for part in text.split("|"):
        args = dict(word.split("=", 1) for word in shlex.split(part))
        sets.append(args)
    return sets or [{}]


def load(path: Path) -> SampleFile:
    """Read a sample file; raises ValueError naming the line for anything malformed."""
    now: float | None = None
    blocks = [Block([{}])]
    pending: Expectation | None = None
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            if raw.startswith("#>"):
                if pending is not None:
                    raise ValueError("two expectations in a row")
                pending = parse_expectation(raw[2:])
            elif raw.startswith("# now:"):
                now = _utc(raw[6:].strip())
            elif raw.startswith("# options:"):
                blocks.append(Block(_options(raw[10:])))
            elif raw.startswith("#") or not raw.strip():
                continue
            else:
                if pending is None:
                    raise ValueError("log line without an expectation")
                blocks[-1].cases.append(Case(lineno, raw, pending))
                pending = None
        except ValueError as exc:
            raise ValueError(f"{path}:{lineno}: {exc}") from exc
    if now is None:
        raise ValueError(f"{path}: no '# now:' line")
    return SampleFile(path.stem, now, [b for b in blocks if b.cases])


def judge(case: Case, seen: list[Seen]) -> str:
    """'' when the failures a line completed meet its expectation, else what is wrong."""
    exp = case.expect
    bad = [s for s in seen if s[0] == INJECTED or s[2].get("ip4") == INJECTED or s[2].get("ip6") == INJECTED]
    if bad:
        return f"yielded the injected address {INJECTED}"
    if exp.fid is None:
        return f"unexpected failure for {seen[0][0]}" if seen else ""
    if len(seen) != 1:
        return f"want one failure for {exp.fid}, got {[s[0] for s in seen]}"
    fid, when, groups = seen[0]
    if fid != exp.fid:
        return f"fid {fid!r} != {exp.fid!r}"
    for key, value in exp.groups:
        if groups.get(key) != value:
            return f"group {key}: {groups.get(key)!r} != {value!r}"
    if exp.time is not None and abs(when - exp.time) > 1e-6:
        return f"time {when} != {exp.time}"
    return ""


def check(sample: SampleFile, make: MakeFn) -> tuple[int, list[str]]:
    """Run every block of a sample file; return (cases run, problems)."""
    problems: list[str] = []
    runs = 0
    for block in sample.blocks:
        for args in block.options:
            process = make(sample.name, args)
            for case in block.cases:
                runs += 1
                problem = judge(case, process(case.line, sample.now))
                if problem:
                    problems.append(f"{sample.name}.log:{case.lineno} {args}: {problem}\n    {case.line}")
    return runs, problems


def banjail_maker(config_dir: str) -> MakeFn:
    """Fresh banjail matchers over the stock tree (config_dir must be an empty directory)."""
    from banjail.config.load import load_filter
    from banjail.filter.datedetect import DateDetector
    from banjail.filter.matcher import Matcher

    def make(name: str, args: dict[str, str]) -> LineFn:
        # host names are reported as written: tests never query DNS
        spec = load_filter(name, config_dir=config_dir, args=args or None, jail_options={"usedns": "raw"})
        detector = DateDetector(spec.datepattern, logtimezone=spec.logtimezone)
        matcher = Matcher(spec, detector=detector, check_all=False)
        count = [0]

        def process(line: str, now: float) -> list[Seen]:
            count[0] += 1
            out = matcher.process(line, now, count[0])
            return [(f.fid, f.time, {k: v for k, v in f.groups}) for f in out.failures]

        return process

    return make


def upstream_maker() -> MakeFn:
    """fail2ban's Filter over our filter files (oracle engine, for validating samples)."""
    import crosscheck
    from fail2ban.server.mytime import MyTime

    def make(name: str, args: dict[str, str]) -> LineFn:
        run = crosscheck.upstream_engine(name, args)

        def process(line: str, now: float) -> list[Seen]:
            MyTime.setTime(now)
            found = run(line, False)
            return [(fid, when, {k: str(v) for k, v in g.items()}) for _, fid, when, g in found]

        return process

    return make


def main(argv: list[str]) -> int:
    import os
    import tempfile

    os.environ["TZ"] = "UTC"
    time.tzset()
    engine = "banjail"
    if argv[:1] == ["--engine"]:
        engine, argv = argv[1], argv[2:]
    empty = tempfile.TemporaryDirectory()
    make = upstream_maker() if engine == "upstream" else banjail_maker(empty.name)
    names = argv or sorted(p.stem for p in SAMPLES.glob("*.log"))
    total = bad = 0
    for name in names:
        runs, problems = check(load(SAMPLES / f"{name}.log"), make)
        total += runs
        bad += len(problems)
        print(f"{name:<22} {runs:>5} cases {len(problems):>3} problems")
        for p in problems:
            print("   ", p)
    print(f"TOTAL {total} cases, {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main(sys.argv[1:]))
