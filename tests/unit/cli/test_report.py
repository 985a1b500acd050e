"""The report layout, compared with text upstream's fail2ban-regex 1.0.2 printed for the same counts."""

from __future__ import annotations

import pytest

from banjail.cli import report


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("short", "short"),
        ("x" * 53, "x" * 53),
        ("x" * 54, "x" * 50 + "..."),
        (
            "Aug 14 11:59:59 host sshd[1]: Failed password for root from 1.2.3.4 port 22 ssh2",
            "Aug 14 11:59:59 host sshd[1]: Failed password for ...",
        ),
    ],
)
def test_shorten(text: str, expected: str) -> None:
    assert report.shorten(text) == expected


@pytest.mark.parametrize(
    ("what", "value", "expected"),
    [
        ("failregex line", "x <HOST>", "Use   failregex line : x <HOST>"),
        ("ignoreregex line", "y", "Use ignoreregex line : y"),
        ("log file", "/var/log/auth.log", "Use         log file : /var/log/auth.log"),
        ("encoding", "UTF-8", "Use         encoding : UTF-8"),
        ("maxlines", "1", "Use         maxlines : 1"),
        (
            "datepattern",
            "{^LN-BEG} : Default Detectors",
            "Use      datepattern : {^LN-BEG} : Default Detectors",
        ),
        ("single line", "abc", "Use      single line : abc"),
        ("filter options", "{'mode': 'aggressive'}", "Use   filter options : {'mode': 'aggressive'}"),
        (
            "  failregex filter file",
            "sshd, basedir: /etc/fail2ban",
            "Use   failregex filter file : sshd, basedir: /etc/fail2ban",
        ),
    ],
)
def test_use_line(what: str, value: str, expected: str) -> None:
    assert report.use_line(what, value) == expected


def test_multi_line_preview() -> None:
    lines = ["a", "# c", "", "b" * 60, "5", "6", "7"]
    assert report.multi_line_preview(lines) == [
        "Use      multi line : 7 line(s)",
        "|  1: a",
        "|  2: # c",
        "|  3: ",
        "|  4: " + "b" * 50 + "...",
        "|  5: 5",
        "| ...",
        "`-",
    ]


def _results(**kw: object) -> report.Results:
    base: dict[str, object] = {
        "failregex": (report.RegexCount("Failed \\S+ for .* from <HOST>", 29),),
        "ignoreregex": (),
        "templates": (("^MON Day 24hour:Minute:Second", 144),),
        "counts": report.LineCounts(148, 0, 29, 119),
        "listing": report.Listing(bound=20, missed=tuple(f"line {i}" for i in range(21))),
        "elapsed": 0.01,
    }
    base.update(kw)
    return report.Results(**base)  # type: ignore[arg-type]


# What upstream printed for: fail2ban-regex -d '^%b %d %H:%M:%S' tests/files/logs/sshd 'Failed \S+ for .* from <HOST>'
UPSTREAM_TOO_MANY = """
Results
=======

Failregex: 29 total
|-  #) [# of hits] regular expression
|   1) [29] Failed \\S+ for .* from <HOST>
`-

Ignoreregex: 0 total

Date template hits:
|- [# of hits] date format
|  [144] ^MON Day 24hour:Minute:Second
`-

Lines: 148 lines, 0 ignored, 29 matched, 119 missed
[processed in 0.01 sec]

Missed line(s): too many to print.  Use --print-all-missed to print all 119 lines"""


def test_results_too_many_missed() -> None:
    assert "\n".join(report.results_lines(_results())) == UPSTREAM_TOO_MANY


# fail2ban-regex -L 2 with a 4-line literal log, --print-all-matched
UPSTREAM_LISTED = """
Results
=======

Failregex: 1 total
|-  #) [# of hits] regular expression
|   1) [1] Failed password for <F-USER>\\S+</F-USER> from <HOST>
`-

Ignoreregex: 0 total

Date template hits:
|- [# of hits] date format
|  [2] {^LN-BEG}(?:DAY )?MON Day %k:Minute:Second(?:\\.Microseconds)?(?: ExYear)?
`-

Lines: 2 lines, 0 ignored, 1 matched, 1 missed
[processed in 0.00 sec]

|- Matched line(s):
|  Aug 14 11:59:59 host sshd[1]: Failed password for root from 1.2.3.4 port 22 ssh2
`-
|- Missed line(s):
|  Aug 14 11:59:59 host sshd[1]: hi
`-"""


def test_results_listed_lines() -> None:
    results = _results(
        failregex=(report.RegexCount("Failed password for <F-USER>\\S+</F-USER> from <HOST>", 1),),
        templates=(("{^LN-BEG}(?:DAY )?MON Day %k:Minute:Second(?:\\.Microseconds)?(?: ExYear)?", 2),),
        counts=report.LineCounts(2, 0, 1, 1),
        listing=report.Listing(
            bound=2,
            matched=("Aug 14 11:59:59 host sshd[1]: Failed password for root from 1.2.3.4 port 22 ssh2  ",),
            missed=("Aug 14 11:59:59 host sshd[1]: hi",),
            all_matched=True,
        ),
        elapsed=0.001,
    )
    assert "\n".join(report.results_lines(results)) == UPSTREAM_LISTED


def test_results_nothing_found_prefregex_and_zero_hit_regexes() -> None:
    results = _results(
        failregex=(report.RegexCount("a <HOST>", 0), report.RegexCount("b <HOST>", 3)),
        ignoreregex=(report.RegexCount("c", 2),),
        templates=(("T1", 0), ("T2", 5)),
        counts=report.LineCounts(7, 2, 3, 2),
        listing=report.Listing(bound=20, ignored=None, missed=None),
        prefregex="^(?P<content>.+)$",
        prefregex_hits=7,
        elapsed=None,
    )
    assert report.results_lines(results) == [
        "", "Results", "=======",
        "", "Prefregex: 7 total", "|  ^(?P<content>.+)$", "`-",
        "", "Failregex: 3 total", "|-  #) [# of hits] regular expression", "|   2) [3] b <HOST>", "`-",
        "", "Ignoreregex: 2 total", "|-  #) [# of hits] regular expression", "|   1) [2] c", "`-",
        "", "Date template hits:", "|- [# of hits] date format", "|  [5] T2", "`-",
        "", "Lines: 7 lines, 2 ignored, 3 matched, 2 missed",
        "",
    ]  # fmt: skip


def test_verbose_lists_every_regex_and_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    results = _results(
        failregex=(
            report.RegexCount("a <HOST>", 0),
            report.RegexCount(
                "b <HOST>", 2, (report.Hit("1.2.3.4", 0.0, False), report.Hit("::1", 60.0, True))
            ),
        ),
        verbose=1,
    )
    lines = report.results_lines(results)
    assert lines[3:10] == [
        "",
        "Failregex: 2 total",
        "|-  #) [# of hits] regular expression",
        "|   1) [0] a <HOST>",
        "|   2) [2] b <HOST>",
        "|      1.2.3.4  Thu Jan 01 00:00:00 1970",
        "|      ::1  Thu Jan 01 00:01:00 1970 (multiple regex matched)",
    ]
