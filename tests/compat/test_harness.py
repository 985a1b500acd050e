"""The harness's own rules, on small sample files beside this test (data/) and hand-made engine outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .agreement import annotation_time, judge, regressions, table, tally
from .corpus import Annotation, CorpusError, Feed, Variant, condition_holds, read_test
from .differential import difference
from .engines import Found, Run
from .harness import in_test_zone
from .readers import differences

DATA = Path(__file__).with_name("data")


def _feeds(variant: Variant) -> list[tuple[str, int, str, bool | None]]:
    return [
        (f.file, f.lineno, f.text, None if f.annotation is None else f.annotation.match)
        for f in variant.feeds
    ]


def test_read_test_blocks_constraints_and_added_files() -> None:
    variants = read_test("demo", DATA)
    assert [(v.label, v.journal) for v in variants] == [
        ("demo", False),
        ("demo[mode=aggressive]", False),
        ("demo[logtype=journal]", True),
    ]
    plain, aggressive, journal = variants
    assert _feeds(plain) == [
        ("demo", 3, "Mar  7 18:53:23 host demo[1]: failure from 192.0.2.1", True),
        ("demo", 6, "Mar  7 18:53:24 host demo[1]: accepted from 192.0.2.1", None),
    ]
    assert _feeds(aggressive) == [
        ("demo", 9, "# a commented line offered because an annotation precedes it", True),
    ]
    assert _feeds(journal) == [
        ("demo-journal", 4, "srv demo[2]: failure for root from 192.0.2.3", True),
        ("demo-journal", 7, "line without prefix", False),
    ]
    assert journal.feeds[0].annotation == Annotation(match=True, expected=(("user", "root"), ("attempts", 2)))


def test_read_lines_like_upstream_reader() -> None:
    (variant,) = read_test("demo-bytes", DATA)
    assert _feeds(variant) == [
        ("demo-bytes", 2, "bad \ufffd byte", False),
        ("demo-bytes", 3, "no newline at end", None),
    ]


@pytest.mark.parametrize(
    ("expression", "name", "options", "holds"),
    [
        ("name == 'sshd'", "sshd", {}, True),
        ("name=='sshd'", "sshd-journal", {}, False),
        ("opts.get('mode') == 'aggressive'", "sshd", {"mode": "aggressive"}, True),
        ("opts.get('mode') != 'aggressive'", "sshd", {}, True),
        ("opts.get('mode') != 'aggressive'", "sshd", {"mode": "aggressive"}, False),
    ],
)
def test_condition_holds(expression: str, name: str, options: dict[str, str], holds: bool) -> None:
    assert condition_holds(expression, name, options) is holds


def test_condition_refuses_other_python() -> None:
    with pytest.raises(CorpusError, match=r"^unsupported condition \"__import__\('os'\)\"$"):
        condition_holds("__import__('os')", "sshd", {})


def _found(fid: str = "192.0.2.1", when: float | None = 1110218003.0, lines: int = 1, **groups: Any) -> Found:
    return Found(fid, when, groups, lines)


@pytest.mark.parametrize(
    ("annotation", "found", "verdict"),
    [
        ({"match": False}, [], None),
        ({"match": True}, [], "no match"),
        ({"match": False}, [_found()], "matched, should not"),
        ({"match": True}, [_found(), _found()], "2 failures, expected exactly one"),
        ({"match": True, "host": "192.0.2.1", "time": "2005-03-07T18:53:23"}, [_found()], None),
        (
            {"match": True, "time": "2005-03-07T18:53:24"},
            [_found()],
            "time=2005-03-07T18:53:23 (expected 2005-03-07T18:53:24)",
        ),
        ({"match": True, "time": "2005-03-07T18:53:23.250"}, [_found(when=1110218003.25)], None),
        (
            {"match": True, "time": "2005-03-07T18:53:23"},
            [_found(when=None)],
            "time=none (expected 2005-03-07T18:53:23)",
        ),
        # host falls back to the id, compared as an address; attempts to the number of lines
        ({"match": True, "host": "2001:DB8::1"}, [_found("2001:db8::1")], None),
        ({"match": True, "host": "192.0.2.9"}, [_found()], "host='192.0.2.1' (expected '192.0.2.9')"),
        ({"match": True, "host": "example.com"}, [_found("example.com")], None),
        ({"match": True, "attempts": 3}, [_found(lines=3)], None),
        ({"match": True, "attempts": 3}, [_found(lines=1)], "attempts=1 (expected 3)"),
        # any other key compares with the group; null means absent; lists as sorted
        ({"match": True, "user": ""}, [_found(user="")], None),
        ({"match": True, "user": "root"}, [_found()], "user=None (expected 'root')"),
        ({"match": True, "dns": None}, [_found()], None),
        ({"match": True, "users": ["root", "known"]}, [_found(users=["known", "root"])], None),
        (
            {"match": True, "users": ["root", "known"]},
            [_found(users="root,known")],
            "users='root,known' (expected ['root', 'known'])",
        ),
        ({"match": True, "desc": "not compared", "constraint": "name == 'x'"}, [_found()], None),
    ],
)
def test_judge(annotation: dict[str, Any], found: list[Found], verdict: str | None) -> None:
    with in_test_zone():
        assert judge(Annotation.from_json(annotation), found) == verdict


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        ("2005-08-14T12:00:00", 1124013600.0),  # CEST, the test "now"
        ("2005-03-07T18:53:23", 1110218003.0),  # CET
        ("2005-03-07T18:53:23.5", 1110218003.5),
    ],
)
def test_annotation_time_is_local_to_the_test_zone(text: str, epoch: float) -> None:
    with in_test_zone():
        assert annotation_time(text) == epoch


def test_tally_table_and_regressions() -> None:
    match = Annotation(match=True, expected=(("host", "192.0.2.1"),))
    variant = Variant("demo", "demo", {"mode": "ddos"}, False)
    variant.feeds = [Feed("demo", 2, "a", match), Feed("demo", 4, "b", match), Feed("demo", 5, "c", None)]
    score = tally(variant, Run(found=((_found(),), (), (_found(),))))
    assert (score.annotations, score.agreed, score.missed, score.extra) == (2, 1, 1, 1)
    assert [(d.feed.lineno, d.problem) for d in score.disagreements] == [
        (4, "no match"),
        (5, "matched, unannotated"),
    ]
    failed = tally(
        Variant("other", "other", {}, False, [Feed("other", 2, "x", match)]), Run(error="load: boom")
    )
    assert table([score, failed]).splitlines() == [
        "filter           annotations  agreed  missed  extra",
        "demo[mode=ddos]            2       1       1      1",
        "other                      1       0       1      0  (load: boom)",
        "Total: 1/3 annotations agree (33.3 %), 1 unannotated lines matched, 1 variants failed to run",
        "Annotated lines: 1/3 agree in every variant",
    ]
    baseline = {"demo[mode=ddos]": {"annotations": 2, "agreed": 2, "extra": 0}}
    assert regressions([score, failed], baseline) == [
        "demo[mode=ddos]: 1/2 agree, baseline 2",
        "demo[mode=ddos]: 1 unannotated lines matched, baseline 0",
        "other: not in the baseline (record it)",
    ]


def test_regression_when_the_reader_stops_resolving_like_upstream() -> None:
    score = tally(Variant("demo", "demo", {}, False), Run(found=()))
    score.resolved = False
    baseline = {"demo": {"annotations": 0, "agreed": 0, "extra": 0, "resolved": 1}}
    assert regressions([score], baseline) == [
        "demo: the reader no longer resolves the filter to upstream's texts"
    ]


@pytest.mark.parametrize(
    ("ours", "theirs", "found"),
    [
        ({"prefregex": "a", "failregex": ["x", "y"]}, {"prefregex": "a", "failregex": ["x", "y"]}, []),
        ({"prefregex": "a"}, None, []),
        (None, {"prefregex": "a"}, ["not resolved"]),
        (
            {"failregex": ["x", "<lt_journal/p>"]},
            {"failregex": ["x", "z"]},
            ["failregex[1]:\n    banjail:  <lt_journal/p>\n    upstream: z"],
        ),
        (
            {"failregex": ["x"], "maxlines": 1},
            {"failregex": ["x", "z"], "maxlines": 2},
            [
                "failregex:\n    banjail:  ['x']\n    upstream: ['x', 'z']",
                "maxlines:\n    banjail:  1\n    upstream: 2",
            ],
        ),
    ],
)
def test_reader_differences(
    ours: dict[str, Any] | None, theirs: dict[str, Any] | None, found: list[str]
) -> None:
    assert differences(ours, theirs) == found


@pytest.mark.parametrize(
    ("ours", "theirs", "verdict"),
    [
        ([], [], None),
        ([_found(user="root")], [_found(user="root", ip6=None, nofail=None)], None),
        ([_found(users=["b", "a"])], [_found(users=["a", "b"])], None),
        ([], [_found()], "0 failures, upstream 1"),
        ([_found("192.0.2.2")], [_found()], "fid '192.0.2.2', upstream '192.0.2.1'"),
        ([_found(when=1.0)], [_found(when=2.0)], "time 1.0, upstream 2.0"),
        ([_found(lines=2)], [_found(lines=3)], "lines 2, upstream 3"),
        ([_found()], [_found(users=["root"])], "group users None, upstream ['root']"),
    ],
)
def test_differential_difference(ours: list[Found], theirs: list[Found], verdict: str | None) -> None:
    assert difference(ours, theirs) == verdict
