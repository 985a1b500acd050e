"""DateDetector's chunk API (uniform_template, parse_text, note_hits) against find() line by line.

A detector fed chunk by chunk, through the chunk API wherever uniform_template proves a chunk uniform, must give
the same date for every line and end every chunk in the same state as one fed every line with find().
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator

import pytest

from banjail.filter.datedetect import DateDetector, Template

CET = "CET-01CEST-02,M3.5.0,M10.5.0"
NOW = 1124013600.0  # 2005-08-14 12:00 CEST
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# Every test here reads local times in CET/CEST (the fixture is in conftest.py).
pytestmark = pytest.mark.usefixtures("cet")


def _line(rnd: random.Random, kind: str, epoch: float) -> str:
    t = time.localtime(epoch)
    mon, d, h, mi, s = MONTHS[t.tm_mon - 1], t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec
    frac = rnd.choice(["", f".{rnd.randrange(10 ** 6):06d}", f",{rnd.randrange(1000):03d}"])
    msg = rnd.choice(["host sshd[1]: Failed password for root from 192.0.2.1", "x", ""])
    if kind == "syslog":
        return f"{mon} {d:2d} {h:02d}:{mi:02d}:{s:02d} {msg}"
    if kind == "bracket":
        return f"[{mon} {d:2d} {h:02d}:{mi:02d}:{s:02d}] {msg}"
    if kind == "iso":
        zone = rnd.choice(["", "Z", "+02:00", " -0500"])
        return f"{t.tm_year}-{t.tm_mon:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{frac}{zone} {msg}"
    if kind == "epoch":
        return f"{int(epoch)}{rnd.choice(['', '.5', '.123'])} {msg}"
    if kind == "apache":
        return f'192.0.2.1 - - [{d:02d}/{mon}/{t.tm_year}:{h:02d}:{mi:02d}:{s:02d} +0200] "GET /" 200'
    if kind == "time":
        return f"{h:02d}:{mi:02d}:{s:02d} {msg}"
    return rnd.choice(["", "[", "no date", f"Feb 30 {h:02d}:00:00 bad day", f"{mon} {d:2d} 25:00:00 bad hour",
                       f"x {mon} {d:2d} {h:02d}:{mi:02d}:{s:02d} late date"])


KINDS = ("syslog", "syslog", "bracket", "iso", "iso", "epoch", "apache", "time")


START_NOWS = (NOW, 1104537600.0 - 3 * 3600, 1111885200.0 - 3600)
AUTUMN = 1130634000.0 - 3600  # the hour CET repeats: a local time there takes the UTC offset of the date before


def _chunks(seed: int, nows: tuple[float, ...]) -> Iterator[tuple[str, float]]:
    """Chunks of lines (runs of one format, now and then an odd line or a change of format) and their `now`:
    time passes, from each of `nows`, across a new year, a midnight and the DST changes of 2005."""
    rnd = random.Random(seed)
    kind = rnd.choice(KINDS)
    for now in nows:
        epoch = now - 7200
        for _ in range(25):
            if rnd.random() < 0.3:
                kind = rnd.choice(KINDS)
            lines = []
            for _ in range(rnd.randint(1, 12)):
                epoch += rnd.choice([0, 0, 1, 7, 61, 900])
                lines.append(_line(rnd, "odd" if rnd.random() < 0.06 else kind, epoch))
            now += rnd.choice([0, 30, 600])
            yield "\n".join(lines) + rnd.choice(["\n", "\n", ""]), now


def _state(detector: DateDetector) -> object:
    """Everything find() depends on (statistics booked first)."""
    detector._book()
    last = detector._last_hit
    prev = detector._prev
    return ([(e.name, e.hits, e.last_used, e.distance) for e in detector._entries], detector._first_unused,
            detector._last, last.time if last is not None else None, prev.start() if prev is not None else None)


def _dates(detector: DateDetector, lines: list[str], now: float) -> list[float | None]:
    return [None if hit is None else hit.time for hit in (detector.find(line, now) for line in lines)]


PATTERN_SETS = {
    "default": [],
    "line-begin": ["{^LN-BEG}"],
    "own": [r"^%ExY-%Exm-%Exd[T ]%H:%M:%S(?:[.,]%f)?(?:\s*%z)?", "{^LN-BEG}%b %d %H:%M:%S", "^%H:%M:%S"],
}


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("every_line", [True, False])
@pytest.mark.parametrize("patterns", PATTERN_SETS.values(), ids=PATTERN_SETS)
def test_chunk_api_leaves_the_same_state_as_find(seed: int, every_line: bool, patterns: list[str]) -> None:
    """every_line: parse_text for every line; else only for some lines and the last dated one (a caller whose
    composite regex only reaches matching lines). That one may differ from find() in the hour a DST change
    repeats, where the line before decides (parse_text takes the last date it saw): tested with every line."""
    rnd = random.Random(seed)
    by_line, by_chunk = DateDetector(patterns), DateDetector(patterns)
    uniform = 0
    for chunk, now in _chunks(seed, (*START_NOWS, AUTUMN) if every_line else START_NOWS):
        lines = chunk.split("\n")
        if chunk.endswith("\n"):
            lines.pop()
        expected = _dates(by_line, lines, now)
        template = by_chunk.uniform_template(chunk)
        if template is None:
            assert _dates(by_chunk, lines, now) == expected
        else:
            uniform += 1
            assert template.anchored
            texts = [m.group(1) for m in map(template.regex.search, lines) if m is not None]
            assert len(texts) == len(lines)
            embedded = by_chunk.line_pattern(template)
            assert embedded is not None
            assert [m.group(1) for m in re.finditer(f"^(?:{embedded})", chunk, re.MULTILINE)] == texts
            wanted = [i for i in range(len(lines)) if every_line or rnd.random() < 0.3]
            if seed % 2:  # parse_match on the lines' matches, else parse_text on their texts
                matches = list(map(template.regex.search, lines))
                got = {i: by_chunk.parse_match(template, matches[i], now) for i in wanted}  # type: ignore[arg-type]
            else:
                got = {i: by_chunk.parse_text(template, texts[i], now) for i in wanted}
            assert got == {i: expected[i] for i in wanted}
            valid = [i for i in range(len(lines)) if texts[i] and expected[i] is not None]
            last_time = by_chunk.parse_text(template, texts[valid[-1]], now) if valid else None
            by_chunk.note_hits(template, len(lines), last_time, now)
        assert _state(by_chunk) == _state(by_line), chunk
    assert uniform > 10


def _detector_after(lines: list[str], patterns: list[str] | None = None) -> DateDetector:
    detector = DateDetector(patterns or [])
    for line in lines:
        detector.find(line, NOW)
    return detector


SYSLOG_T = r"{^LN-BEG}(?:DAY )?MON Day %k:Minute:Second(?:\.Microseconds)?(?: ExYear)?"
ISO_T = r"{^LN-BEG}ExYear(?P<_sep>[-/.])Month(?P=_sep)Day(?:T|  ?)24hour:Minute:Second(?:[.,]Microseconds)?" \
        r"(?:\s*Zone offset)?"


@pytest.mark.parametrize(("before", "chunk", "expected"), [
    ([], "Aug 14 10:00:00 a\nAug 14 10:00:01 b\n", SYSLOG_T),  # a fresh detector: the first line decides
    (["Aug 14 09:00:00 x"], "Aug 14 10:00:00 a\n[Aug 14 10:00:01] b", SYSLOG_T),
    (["Aug 14 09:00:00 x"], "2005-08-14 10:00:00 a\n2005-08-14 10:00:01.5+02:00 b\n", ISO_T),  # a new format
    (["Aug 14 09:00:00 x"], "Aug 14 10:00:00 a\n\nAug 14 10:00:01 b\n", None),  # an empty line
    (["Aug 14 09:00:00 x"], "Aug 14 10:00:00 a\nno date\n", None),
    (["Aug 14 09:00:00 x"], "Aug 14 10:00:00 a\n2005-08-14 10:00:00 b\n", None),  # a change of format
    (["Aug 14 09:00:00 x"], "[\nAug 14 10:00:00 a\n", None),  # "[" and newline are not the date's prefix
    (["Aug 14 09:00:00 x"], "Aug 14 10:00:00\n", SYSLOG_T),
    (["Aug 14 09:00:00 x"], "", None),
    (['1.2.3.4 - - [14/Aug/2005:09:00:00 +0200] "GET /"'], '1.2.3.4 - - [14/Aug/2005:10:00:00 +0200] "GET /"\n',
     None),  # unanchored: where the date is may differ per line
])
def test_uniform_template(before: list[str], chunk: str, expected: str | None) -> None:
    template = _detector_after(before).uniform_template(chunk)
    assert (template.name if template is not None else None) == expected


@pytest.mark.parametrize(("patterns", "chunk", "uniform"), [
    ([r"^%H:%M:%S\s"], "10:00:00 a\n10:00:01\n", False),  # "\s" may not take the newline
    ([r"^%H:%M:%S\s"], "10:00:00 a\n10:00:01 b\n", True),
    ([r"^[^\[]*\[%H:%M:%S\]"], "x\n[10:00:00] a\n", False),  # "[^\[]*" may not cross lines
    ([r"^[^\[]*\[%H:%M:%S\]"], "x [10:00:00] a\ny [10:00:01] b\n", True),
    ([r"^\W*%H:%M:%S"], "#\n10:00:00 a\n", False),
    ([r"%H:%M:%S$"], "a 10:00:00\nb 10:00:01\n", False),  # anchored at the end only
    ([r"(?s)^%H:.%M:%S"], "10:\n00:00 a\n", False),
])
def test_uniform_template_of_patterns(patterns: list[str], chunk: str, uniform: bool) -> None:
    detector = DateDetector(patterns)
    lines = chunk.rstrip("\n").split("\n")
    assert (detector.uniform_template(chunk) is not None) == uniform
    assert not uniform or all(DateDetector(patterns).find(line, NOW) is not None for line in lines)


def test_parse_text_answers_like_find() -> None:
    detector = _detector_after(["Aug 14 09:00:00 x"])
    template = detector.templates[0]
    assert [detector.parse_text(template, text, NOW) for text in ("Aug 14 09:00:00", "Aug 15 11:59:59",
                                                                  "Aug 15 12:00:01", "Feb 30 10:00:00", "")] \
        == [NOW - 3 * 3600, 1124099999.0, 1092564001.0, None, NOW]  # empty: the last date is a year old


def test_parse_text_keeps_the_fraction_of_an_epoch() -> None:
    detector = _detector_after(["1124013600.500 x"])
    assert detector.parse_text(detector.templates[0], "1124013601.250", NOW) == 1124013601.25


@pytest.mark.parametrize(("call", "message"), [
    (lambda d: d.parse_text(Template("nope", re.compile(""), True), "x", NOW),
     "not a date template of this detector: 'nope'"),
    (lambda d: d.parse_text(d.templates[0], "Aug 14", NOW),
     f"'Aug 14' is not a date text of the template {SYSLOG_T!r}"),
    (lambda d: d.note_hits(Template("Epoch", re.compile(""), False), 1, None, NOW),
     "not a date template of this detector that matches at line start: 'Epoch'"),
])
def test_misuse_is_refused(call: object, message: str) -> None:
    detector = _detector_after(["Aug 14 09:00:00 x"])
    with pytest.raises(ValueError) as raised:
        call(detector)  # type: ignore[operator]
    assert str(raised.value) == message


def test_note_hits_of_a_new_template() -> None:
    by_line = _detector_after(["Aug 14 09:00:00 x"])
    by_chunk = _detector_after(["Aug 14 09:00:00 x"])
    lines = ["2005-08-14 10:00:00 a", "2005-08-14 10:00:01 b", "2005-08-14 10:00:02 c"]
    _dates(by_line, lines, NOW + 5)
    template = by_chunk.uniform_template("\n".join(lines))
    assert template is not None and template.name == ISO_T
    by_chunk.note_hits(template, 3, by_chunk.parse_text(template, "2005-08-14 10:00:02", NOW + 5))
    assert _state(by_chunk) == _state(by_line)
    assert [t.name for t in by_chunk.templates] == [t.name for t in by_line.templates]


def test_line_pattern_of_every_default_template_that_starts_lines() -> None:
    detector = DateDetector()
    patterns = {t.name: detector.line_pattern(t) for t in detector.templates}
    assert sum(p is not None for p in patterns.values()) == 17
    assert all((p is not None) == t.anchored for t, p in zip(detector.templates, patterns.values(), strict=True))
    assert (patterns[SYSLOG_T] or "").startswith(r"^[^\w\n]{0,2}((?:(?P<a>[Ff][Rr]")
    with pytest.raises(ValueError, match="not a date template of this detector: 'x'"):
        detector.line_pattern(Template("x", re.compile(""), True))


def test_datepattern_none_is_uniform_and_its_dates_are_now() -> None:
    by_line, by_chunk = DateDetector(["{NONE}"]), DateDetector(["{NONE}"])
    chunk = "Aug 14 10:00:00 a\nanything\n\n"
    assert _dates(by_line, ["Aug 14 10:00:00 a", "anything", ""], NOW) == [NOW, NOW, NOW]
    template = by_chunk.uniform_template(chunk)
    assert template is not None and template.name == "^"
    assert by_chunk.parse_text(template, "", NOW) == NOW
    by_chunk.note_hits(template, 3, None, NOW)
    assert _state(by_chunk) == _state(by_line)
