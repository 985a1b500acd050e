"""banjail's DateDetector against upstream fail2ban 1.0.2's, line by line, on generated lines.

Each case is a sequence of lines offered to one detector, so template order and preferences are compared too.
Upstream runs once per time zone in a /usr/bin/python3 subprocess (data/date/oracle.py) and answers in JSON.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from banjail.filter.datedetect import DateDetector

pytestmark = pytest.mark.compat

ORACLE = Path(__file__).parent / "data" / "date" / "oracle.py"
UPSTREAM_PYTHON = "/usr/bin/python3"
CET = "CET-01CEST-02,M3.5.0,M10.5.0"
NEW_YORK = "EST+05EDT,M3.2.0,M11.1.0"
NOW_2005 = 1124013600.0  # 2005-08-14 12:00 CEST, upstream's test "now"

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass
class Case:
    name: str
    tz: str
    now: float
    patterns: list[str]
    lines: list[str]
    logtimezone: str = ""
    nows: list[float] = field(default_factory=list)  # a "now" per line (time passing), else `now` for all


def _date_texts(rnd: random.Random, epoch: float) -> list[str]:
    """The same instant written in every default format (local wall time of the current TZ)."""
    t = time.localtime(epoch)
    y, mo, d, h, mi, s = t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec
    mon, day = MONTHS[mo - 1], DAYS[t.tm_wday]
    frac = rnd.choice(["", ".5", ".123", ".123456"])
    zone = rnd.choice(["", "Z", "+02:00", "-0500", " UTC", " +0100"])
    h12 = h % 12 or 12
    ampm = rnd.choice(["AM", "PM", "am"]) if rnd.random() < 0.2 else ("PM" if h >= 12 else "AM")
    return [
        f"{mon} {d:2d} {h:02d}:{mi:02d}:{s:02d}",
        f"{day} {mon} {d:2d} {h:02d}:{mi:02d}:{s:02d}{frac} {y}",
        f"{mon} {d:02d} {h:2d}:{mi:02d}:{s:02d}{frac}",
        f"{day} {mon} {d} {y} {h:02d}:{mi:02d}:{s:02d}",
        f"{y}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{frac}{zone}",
        f"{y}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}{frac.replace('.', ',')}",
        f"{y}/{mo:02d}/{d:02d} {h:2d}:{mi:02d}:{s:02d}",
        f"{y}.{mo}.{d} {h:02d}:{mi:02d}:{s:02d}",
        f"{d:02d}/{mo:02d}/{y} {h:02d}:{mi:02d}:{s:02d}",
        f"{d:02d}-{mo:02d}-{y % 100:02d} {h:02d}:{mi:02d}:{s:02d}",
        f"{d:02d}/{mon}/{y}:{h:02d}:{mi:02d}:{s:02d} {rnd.choice(['+0100', '-0000', '+05:30'])}",
        f"{d:02d}-{mon}-{y} {h:02d}:{mi:02d}:{s:02d}{frac}",
        f"{mo:02d}/{d:02d}/{y}:{h:02d}:{mi:02d}:{s:02d}",
        f"{mo:02d}-{d:02d}-{y} {h:02d}:{mi:02d}:{s:02d}{frac}",
        f"{int(epoch)}",
        f"{int(epoch)}.{rnd.randint(0, 999):03d}",
        f"{h:02d}:{mi:02d}:{s:02d}",
        f"<{mo:02d}/{d:02d}/{y % 100:02d}@{h:02d}:{mi:02d}:{s:02d}>",
        f"{y % 100:02d}{mo:02d}{d:02d} {h:2d}:{mi:02d}:{s:02d}",
        f"{mon} {d}, {y} {h12}:{mi:02d}:{s:02d} {ampm}",
        f"{mon}-{d:02d}-{y % 100:02d} {h:02d}:{mi:02d}:{s:02d}",
        f"{y}{mo:02d}{d:02d}T{h:02d}{mi:02d}{s:02d}{zone.strip()}",
        f"{y}{mo:02d}{d:02d} {h:02d}{mi:02d}{s:02d}",
        f"{rnd.choice(['PDT', 'CET', 'UTC', 'XYZ'])} {mon} {d:2d} {h:02d}:{mi:02d}:{s:02d}",
        f"{rnd.choice(['+00:00', '-0700', 'GMT'])} {day} {mon} {d:2d} {h:02d}:{mi:02d}:{s:02d}.011 {y}",
        f"@4000000{int(epoch):09x}{rnd.randint(0, 2**32 - 1):08x}",
    ]


PREFIXES = ("", "", "", "host sshd[123]: ", "[", "## ", "x", "bogus-prefix ", "<13>1 ")
SUFFIXES = (" sshd[123]: Failed password for root from 192.0.2.1", "", "x", "[sshd] error", "] GET /")
ODD = (
    "no date line", "Feb 30 12:00:00 host x", "2005-02-29 10:00:00 x", "1999-12-31 23:59:59 old",
    "2038-01-01 00:00:00 ahead", "Jan 23 21:59:59123456789 x", "TestJan 23 21:59:59.011 2015 x",
    "audit(1106513999.000:987): avc denied", "[1106513999.000] nsd", "[1106513999.000 nsd",
    "1106513999A x", "A1106513999 x", "123456789 x", "some free text 030324  0:03:59 -- 2003-03-07 17:05:01 ...",
    "server mysqld[1000]: 030324  0:04:00 [Warning] foreign-input text 2003-03-07 17:05:01 test",
    "server mysqld[1020]: Sep 16 21:30:26 server mysqld: 030916 21:30:26 [Warning] Access denied",
    "Aug 8 11:25:50 20030f2329b8 Authentication failed", "[Aug 8 11:25:50] 20030f2329b8 x",
    "0000-12-30 00:00:00 - 2003-12-30 00:00:00", "text:200333 010203 | date:20031230 010203",
    "11-Aug-2013 03:36:11.372 error x", "Jan 23 21:59:59 2005 x", "Sun Jan 23 2005 21:59:59 x", "",
    "12:00:00", "00:00:01 time", "23:59:59 late", "Dec 31 23:59:59 host", "Jan  1 00:00:01 host",
)


def _random_epoch(rnd: random.Random) -> float:
    return float(rnd.randint(946684800, 1861920000))  # 2000 .. 2029


def _default_cases(tz: str, seed: int) -> Iterator[Case]:
    rnd = random.Random(seed)
    os.environ["TZ"] = tz
    time.tzset()
    try:
        mixed: list[str] = []
        for _ in range(12):
            texts = _date_texts(rnd, _random_epoch(rnd))
            for text in texts:
                mixed.append(rnd.choice(PREFIXES) + text + rnd.choice(SUFFIXES))
        rnd.shuffle(mixed)
        yield Case(f"{tz}-mixed", tz, NOW_2005, [], mixed + list(ODD))
        # one format per case: the order the detector settles in, then a change of format
        texts_by_format = [_date_texts(rnd, _random_epoch(rnd)) for _ in range(8)]
        for index in range(len(texts_by_format[0])):
            lines = [rnd.choice(PREFIXES[:4]) + texts[index] + SUFFIXES[0] for texts in texts_by_format]
            lines += [ODD[index % len(ODD)], lines[0]]
            yield Case(f"{tz}-format{index}", tz, NOW_2005, [], lines)
        # year roll-over and time-only: "now" near the turn of a year and of a day
        for now in (1104537600.0 + 1800, 1104537600.0 - 1800, 1136073600.0 + 86400 * 59.5, 1124013600.0 + 43000):
            lines = [f"{m} {d:2d} {h:02d}:00:00 host x" for m in ("Dec", "Jan", "Feb", "Mar", "Aug")
                     for d in (1, 28, 29, 31) for h in (0, 12, 23)]
            yield Case(f"{tz}-rollover-{int(now)}", tz, now, [], lines)
            yield Case(f"{tz}-timeonly-{int(now)}", tz, now, ["{^LN-BEG}%H:%M:%S"],
                       [f"{h:02d}:{m:02d}:00 x" for h in range(0, 24, 3) for m in (0, 59)])
    finally:
        os.environ.pop("TZ", None)
        time.tzset()


CUSTOM: list[tuple[list[str], list[str], str]] = [
    ([r"{^LN-BEG}%ExY(?P<_sep>[-/.])%m(?P=_sep)%d[T ]%H:%M:%S(?:[.,]%f)?(?:\s*%z)?"],
     ["2005-01-23 21:59:59 x", "[2005/01/23T21:59:59.5 +0100] x", "x 2005-01-23 21:59:59"], ""),
    ([r"^[^\[]*\[({DATE})"],
     ["host [Jan 23 21:59:59] x", "[2005-01-23 21:59:59] x", "a [1106513999] b", "a [Epoch] b", "no bracket"], ""),
    ([r"^[^\[]*(\[{DATE}\s*\])"], ["x [23/Jan/2005:21:59:59 +0100 ] y", "x [Jan 23 21:59:59] y"], ""),
    ([r"^{DATE}"], ["1106513999 x", "Jan 23 21:59:59 x", " Jan 23 21:59:59 x", "@4000000041f4104f00000000 x"], ""),
    ([r"^<\d+>\d+\s+{DATE}"], ["<13>1 2005-01-23T21:59:59.003Z host x", "<13>1 Jan 23 21:59:59 x"], ""),
    ([r"^t=%Y-%m-%dT%H:%M:%S%z"], ["t=2005-01-23T21:59:59+0200 lvl=x", "t=2005-01-23T21:59:59Z x"], ""),
    ([r"^\[%d/%b/%Y %H:%M:%S\]"], ["[17/Jun/2011 17:00:45] Attempt", "[17/jun/2011 17:00:45] x"], ""),
    ([r"^L %d/%m/%Y - %H:%M:%S"], ["L 23/01/2005 - 21:59:59: x"], ""),
    ([r"%d/%b[^/]*/%Y:%H:%M:%S %z"], ['1.2.3.4 - - [23/Jan/2005:21:59:59 +0100] "GET /"'], ""),
    ([r"^%b %d, %ExY %I:%M:%S %p"], ["Jan 23, 2005 9:59:59 PM x", "Jan 23, 2005 12:00:01 AM x"], ""),
    ([r"^(?:%Y-)?%m-%d[ T]%H:%M:%S(?:\.%f)?"], ["2005-01-23 21:59:59.5 x", "01-23 21:59:59 x", "09-01 10:00:00"], ""),
    ([r"^%y %U %A %ExH:%ExM:%ExS**"], ["01 11 Wednesday 21:59:59", "05 00 Saturday 10:00:00"], ""),
    ([r"^%y %W %w %ExH:%ExM:%ExS**"], ["01 11 0 21:59:59", "01 11 6 21:59:59", "07 00 3 00:00:00"], ""),
    ([r"^%B %Exd %I:%ExM:%ExS**"], ["January 23 12:59:59", "MARCH 01 01:00:00"], ""),
    ([r"^%m/%d %ExH:%ExM:%ExS**"], ["09/01 21:59:59", "08/14 12:00:00", "08/15 11:00:00", "08/16 13:00:00"], ""),
    ([r"^%Y-%m-%d**"], ["2004-09-01"], ""),
    ([r"^%Y-%m-%d%z**"], ["2004-09-01Z", "2004-09-01+0130"], ""),
    ([r"^%j %Y %H:%M:%S"], ["023 2005 21:59:59", "366 2004 00:00:00", "366 2005 00:00:00"], ""),
    ([r"%H:%M:%S %d.%m.%Y$"], ["192.0.2.1 at 20:00:00 01.02.2003"], ""),
    ([r"\[%H:%M:%S %d.%m.%Y\]"], ["192.0.2.1[20:00:00 01.02.2003]", "[20:00:00 01.02.2003]192.0.2.1"], ""),
    ([r"**%H:%M:%S %d.%m.%Y**"], ["192.0.2.1x20:00:00 01.02.2003", "20:00:00 01.02.2003x192"], ""),
    ([r"\**%H:%M:%S %d.%m.%Y\**"], ["test*20:00:00 01.02.2003*test"], ""),
    ([r"{^LN-BEG}%ExY%Exm%Exd %ExH%ExM%ExS"], ["00001230 010203 - 20030101 000000", "20031230 010203 - x"], ""),
    ([r"{^LN-BEG}%ExY%Exm%Exd%ExH%ExM%ExS**"], ["2003123001020320030101000000", "##20031230010203x"], ""),
    ([r"{^LN-BEG}%ExY-%Exm-%Exd %ExH:%ExM:%ExS(?: %z)?"],
     ["[2003-12-30 01:02:03] s", "[2003-12-30 01:02:03 UTC] s", "[2003-12-30 01:02:03 +0000] s"], ""),
    ([r"{^LN-BEG}%ExY-%Exm-%Exd %ExH:%ExM:%ExS(?: %Z)?"],
     ["[2003-12-30 01:02:03 Z] s", "[2003-12-30 01:02:03 CEST] s", "[2003-12-30 01:02:03 ABC] s"], ""),
    ([r"^%ExY-%Exm-%Exd %H:%M:%S(?: ?%Exz)?"],
     ["2017-01-23 15:00:00", "2017-01-23 15:00:00 GMT", "2017-01-23 15:00:00 -10:45", "2017-01-23 15:00:00 CET",
      "2017-01-23 15:00:00 CET+0130", "2017-01-23 15:00:00 Z"], "UTC+0300"),
    ([r"^%ExY-%Exm-%Exd %H:%M:%S(?: ?%Exz)?"], ["2017-01-23 15:00:00", "2017-01-23 15:00:00 +0945"], "CEST-01"),
    ([r"^%ExY-%Exm-%Exd %H:%M:%S"], ["2017-01-23 15:00:00"], "GMT+12"),
    (["{^LN-BEG}"], ["Jan 23 21:59:59 x", "x Jan 23 21:59:59", "21:59:59 x", "<01/23/05@21:59:59> x"], ""),
    (["{DEFAULT}"], ["Jan 23 21:59:59 x", "x 2005-01-23 21:59:59 y"], ""),
    (["{NONE}"], ["Jan 23 21:59:59 x", "anything"], ""),
    (["EPOCH"], ["1138049999 x", "[1138049999.555] x", "audit(1138049999.555:101) x", "x 1138049999"], ""),
    (["{^LN-BEG}Epoch"], ["1138049999 x", "[1138049999.555] x", "x 1138049999"], ""),
    (["LEPOCH"], ["1138049999000 x", "1138049999000000 x", "[1138049999123.5] x", "1138049999 x"], ""),
    ([r"(?<=\|\s){LEPOCH}(?=\s\|)"], ["auth-error | 1138049999000 | bad", "test-right | 1138049999test"], ""),
    (["{^LN-BEG}TAI64N"], ["@4000000041f4104f00000000 x", "x @4000000041f4104f00000000"], ""),
    (["TAI64N"], ["x @4000000041f4104f00000000"], ""),
    (["%H:%M:%S"], ["00:01:02 test", "test 00:01:2", "test 0:1:2", "  0:1:2 test", "00:01:02 test"], ""),
    (["{UNB}%H:%M:%S"], ["00:01:02 test", "test 00:01:2", "x0:1:2x", "00:01:02 test"], ""),
    ([r"%H:%M:%S %d.%m.%Y$", "{^LN-BEG}"], ["Jan 23 21:59:59 x", "at 20:00:00 01.02.2003"], ""),
    ([r"%m/%d/%Y %H:%M:%S", r"%d.%m.%Y %H:%M"], ["12/31/2004 23:00:00 x", "31.12.2004 23:00 x"], ""),
    ([r"^%c"], ["Sun Jan 23 21:59:59 2005 x"], ""),
    ([r"^%x %X"], ["01/23/05 21:59:59 x"], ""),
    ([r"^%d %b %Y %l:%M:%S %p"], ["23 Jan 2005  9:59:59 pm x", "23 Jan 2005 12:00:00 am x"], ""),
    ([r"^%Exd %b %ExY %Exk:%M:%S %Exl"], ["23 Jan 2005  9:59:59 11 x"], ""),
    ([r"^%ExY-%Exm-%Exd %ExH:%ExM:%ExS %ExZ"], ["2005-01-23 21:59:59 EST x", "2005-01-23 21:59:59 A x"], ""),
]


def _passing_time_cases(tz: str, seed: int) -> Iterator[Case]:
    """Time passes while the same date texts come back: cached answers must follow the roll-over rules."""
    rnd = random.Random(seed)
    # new years, a midnight, DST changes (CET spring and autumn, New York autumn)
    turns = (1104537600.0, 1136073600.0, 1123970400.0, 1111885200.0, 1130634000.0, 1130652000.0)
    for turn in turns:
        nows = sorted(turn + rnd.uniform(-3 * 86400, 3 * 86400) for _ in range(150))
        nows += sorted(turn + rnd.uniform(-3 * 3600, 3 * 3600) for _ in range(100))
        texts = [f"{m} {d:2d} {h:02d}:{mi:02d}:00" for m, d in (("Dec", 31), ("Jan", 1), ("Jan", 2), ("Dec", 30),
                                                                   ("Aug", 13), ("Aug", 14), ("Mar", 27),
                                                                   ("Oct", 30), ("Oct", 31))
                 for h in (0, 1, 2, 11, 23) for mi in (0, 59)]
        lines = [rnd.choice(texts) + " host x" for _ in nows]
        yield Case(f"{tz}-passing-{int(turn)}", tz, nows[0], [], lines, nows=nows)
        times = [f"{h:02d}:{mi:02d}:00 x" for h in (0, 1, 2, 11, 12, 22, 23) for mi in (0, 30, 59)]
        yield Case(f"{tz}-passing-time-{int(turn)}", tz, nows[0], ["{^LN-BEG}%H:%M:%S"],
                   [rnd.choice(times) for _ in nows], nows=nows)
        yield Case(f"{tz}-passing-zone-{int(turn)}", tz, nows[0], ["{^LN-BEG}%H:%M:%S"],
                   [rnd.choice(times) for _ in nows], "UTC-0600", nows)


SAMPLE_LOGS = Path("/usr/lib/python3/dist-packages/fail2ban/tests/files/logs")
FILTERS = Path("/etc/fail2ban/filter.d")
_DATEPATTERN = re.compile(r"^datepattern\s*=[ \t]*(.*(?:\n[ \t]+\S.*)*)", re.MULTILINE)


def _datepattern(name: str) -> list[str]:
    """The filter's own datepattern when it is plain text (no interpolation), else the defaults."""
    path = FILTERS / f"{name}.conf"
    found = _DATEPATTERN.search(path.read_text(errors="replace")) if path.exists() else None
    if found is None or "%(" in found.group(1) or "<" in found.group(1):
        return []
    return [line.strip().replace("%%", "%") for line in found.group(1).splitlines() if line.strip()]


def _sample_cases(tz: str) -> Iterator[Case]:
    """Upstream's sample logs, every line in order, with the default templates and with the filter's own."""
    if not SAMPLE_LOGS.is_dir():
        return
    for path in sorted(p for p in SAMPLE_LOGS.iterdir() if p.is_file()):
        lines = path.read_text(errors="replace").splitlines()
        yield Case(f"{tz}-sample-{path.name}", tz, NOW_2005, [], lines)
        own = _datepattern(path.name)
        if own:
            yield Case(f"{tz}-sample-{path.name}-own", tz, NOW_2005, own, lines)


EDGE_PATTERNS = [
    ["{^LN-BEG}{DATE}"], ["{UNB}{DATE}"], ["x{DATE}y"], ["{DATE}"], ["EPOCH", "{^LN-BEG}EPOCH"], ["(?i)%H:%M:%S"],
    ["{^LN-BEG}^%H:%M:%S"], ["(^%H:%M:%S)"], ["(?:^|x)%H:%M:%S"], ["%H:%M:%S$"], [r"%H:%M:%S\b"],
    [r"%H:%M:%S\s"], ["**%H:%M:%S"], ["(%H:%M:%S)"], ["[(]%H:%M:%S"], ["%b %d"], ["%m/%d"], ["%d"], ["%Y"],
    ["%p %I:%M"], ["%Z"], ["%ExZ"], ["%a %H:%M"], ["{^LN-BEG}%b %d %H:%M:%S", "{^LN-BEG}%Y-%m-%d %H:%M:%S"],
    ["^LEPOCH"], ["{^LN-BEG}LEPOCH"], ["^TAI64N"], ["tai64n"], ["epoch"], ["{LEPOCH}"], ["[{EPOCH}]"],
    ["%H:%M:%S", "{DEFAULT}"], ["{DEFAULT}", "{DEFAULT}"], ["{^LN-BEG}", "%H:%M:%S %d.%m.%Y"],
    ["{NONE}", "%H:%M:%S"],
]
EDGE_LINES = [
    "Jan 23 21:59:59 x", "x Jan 23 21:59:59", "21:59:59 x", "x 21:59:59", "(21:59:59) x", "x21:59:59 ",
    "2005-01-23 21:59:59 x", "[1106513999] x", "1106513999123 x", "@4000000041f4104f00000000 x", "CET 12:00",
    "pm 09:30", "Sun 12:00", "01/23 x", "23 x", "2005 x", "xJan 23 21:59:59y", "20:00:00 01.02.2003 x",
    "21:59:59\tx", "a21:59:59", "|1106513999|", "x 1106513999 y",
]


def _edge_cases(tz: str) -> Iterator[Case]:
    """Unusual datepattern forms (anchors, groups, flags, bounds, special words) on a common set of lines."""
    for index, patterns in enumerate(EDGE_PATTERNS):
        yield Case(f"{tz}-edge{index}", tz, NOW_2005, patterns, EDGE_LINES)


def _custom_cases(tz: str) -> Iterator[Case]:
    for index, (patterns, lines, logtimezone) in enumerate(CUSTOM):
        yield Case(f"{tz}-custom{index}", tz, NOW_2005, patterns, lines, logtimezone)


CASES = [*_default_cases(CET, 1), *_custom_cases(CET), *_edge_cases(CET), *_passing_time_cases(CET, 3),
         *_sample_cases(CET),
         *_default_cases(NEW_YORK, 2), *_passing_time_cases(NEW_YORK, 4), *_custom_cases("UTC")]
_ANSWERED: dict[str, list[object]] = {}


def _upstream(case: Case) -> list[object]:
    if not _ANSWERED:
        if not Path(UPSTREAM_PYTHON).exists():
            pytest.skip("upstream fail2ban (Debian package) is not installed")
        by_tz: dict[str, list[Case]] = {}
        for c in CASES:
            by_tz.setdefault(c.tz, []).append(c)
        for group in by_tz.values():
            payload = [{"tz": c.tz, "now": c.now, "patterns": c.patterns, "logtimezone": c.logtimezone,
                        "lines": c.lines, "nows": c.nows} for c in group]
            run = subprocess.run([UPSTREAM_PYTHON, str(ORACLE)], input=json.dumps(payload), capture_output=True,
                                 text=True, check=False, timeout=120)
            if run.returncode:
                pytest.skip(f"upstream oracle failed: {run.stderr[-500:]}")
            for c, found in zip(group, json.loads(run.stdout), strict=True):
                _ANSWERED[c.name] = found
    return _ANSWERED[case.name]


@pytest.fixture
def tz_env() -> Iterator[None]:
    saved = os.environ.get("TZ")
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


def _normalised(answer: object) -> object:
    """Upstream's answer as ours is expected to be: a date text that does not parse gives None; the display
    name of %Exk/%Exl depends on upstream's string hashing ("%Exk" or "Ex%k"), we always say "%Exk"."""
    if not isinstance(answer, list):
        return answer
    if answer[0] is None and answer[1] != answer[2]:
        return None
    return [*answer[:3], answer[3].replace("Ex%k", "%Exk").replace("Ex%l", "%Exl")]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_same_dates_as_upstream(case: Case, tz_env: None) -> None:
    expected = _upstream(case)
    os.environ["TZ"] = case.tz
    time.tzset()
    detector = DateDetector(case.patterns, logtimezone=case.logtimezone)
    got: list[object] = []
    for line, now in zip(case.lines, case.nows or [case.now] * len(case.lines), strict=True):
        hit = detector.find(line, now)
        if hit is None:
            got.append(None)
        elif hit.start == hit.end:  # empty date: upstream leaves the time to the filter
            got.append([None, hit.start, hit.end, hit.template])
        else:
            got.append([hit.time, hit.start, hit.end, hit.template])
    mismatches = [(line, g, w) for line, g, w in zip(case.lines, got, map(_normalised, expected), strict=True)
                  if g != w]
    assert mismatches == []
