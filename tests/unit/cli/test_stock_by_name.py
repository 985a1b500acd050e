"""fail2ban-regex runs every stock filter by name on a machine without upstream fail2ban: `-c` names an empty
directory, so the filter comes from banjail's own stock tree only.

Each block of each sample log (tests/filters/samples/NAME.log, read with tests/filters/samplefile.py) is written
to a plain log file and run once per argument set of the block (`NAME`, `NAME[mode=aggressive]`, ...), with
`--now` at the sample's "now". The sample's expectations give the exact answer: the lines that complete a
failure (their line numbers and ids, from --json), and the report's `Lines:` summary.

The summary is derived from the expectations (every line completing a failure is "matched", the rest "missed")
except where sshd's session regexes are at work (see SESSION_SUMMARIES). Upstream's fail2ban-regex 1.0.2, run on
the same blocks with banjail's filter files, prints exactly these summaries for all 57 runs of the first 35 filters (checked by hand,
~55 s; not part of the suite).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from banjail.cli import regex

FILTERS = Path(__file__).resolve().parents[2] / "filters"
sys.path.insert(0, str(FILTERS))
import samplefile  # noqa: E402  (beside the filter tests, not a package)


@dataclass(frozen=True)
class Run:
    """One fail2ban-regex run: a filter spec over some sample lines, and what it must find."""

    spec: str
    lines: tuple[str, ...]
    now: float
    # (1-based line number in `lines`, failure id) for every line expected to complete a failure
    failures: tuple[tuple[int, str], ...]
    # the report's "Lines: ..." line
    summary: str


def _spec(name: str, args: dict[str, str]) -> str:
    if not args:
        return name
    return name + "[" + ", ".join(f'{key}="{value}"' for key, value in args.items()) + "]"


# sshd's <F-NOFAIL> and session regexes: fail2ban-regex counts a line that matched only a no-fail regex
# ("Connection from", "Accepted", a publickey probe) as ignored, and a line that completes a failure of lines
# seen earlier in its session as matched whether or not it is a failure itself. The samples record failures,
# not these counts, so they are written here: (spec, the block's first date) -> (ignored, matched).
SESSION_SUMMARIES = {
    ("sshd", "Nov 25 08:44:15"): (5, 29),
    ('sshd[mode="aggressive"]', "Nov 25 08:44:15"): (5, 30),
    ('sshd[mode="ddos"]', "Nov 25 09:00:01"): (2, 10),
    ('sshd[mode="aggressive"]', "Nov 25 09:00:01"): (2, 10),
    ('sshd[mode="extra"]', "Nov 25 09:10:01"): (2, 2),
    ('sshd[mode="normal"]', "Nov 25 09:20:01"): (1, 0),
    # sessions of the text log (upstream 1.0.2 prints the same summary for this block)
    ("mongodb-auth", '{"t":{"$date":"'): (1, 7),
}


def _summary(spec: str, lines: tuple[str, ...], failures: int) -> str:
    ignored, matched = SESSION_SUMMARIES.get((spec, lines[0][:15]), (0, failures))
    missed = len(lines) - ignored - matched
    return f"Lines: {len(lines)} lines, {ignored} ignored, {matched} matched, {missed} missed"


def _runs() -> list[Run]:
    runs: list[Run] = []
    for path in sorted(samplefile.SAMPLES.glob("*.log")):
        sample = samplefile.load(path)
        for block in sample.blocks:
            lines = tuple(case.line for case in block.cases)
            failures = tuple(
                (number, case.expect.fid)
                for number, case in enumerate(block.cases, 1)
                if case.expect.fid is not None
            )
            for args in block.options:
                spec = _spec(sample.name, args)
                runs.append(Run(spec, lines, sample.now, failures, _summary(spec, lines, len(failures))))
    return runs


RUNS = _runs()


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    # Sample times are UTC; dates without a zone are read in the local zone.
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = regex.main(args)
    return code, capsys.readouterr().out


def test_the_runs_cover_every_stock_filter_and_every_expectation() -> None:
    names = sorted({run.spec.split("[", 1)[0] for run in RUNS})
    stock = sorted(
        p.stem
        for p in (Path(regex.__file__).resolve().parents[1] / "stock" / "filter.d").glob("*.conf")
        if p.stem != "common" and not p.stem.endswith("-common")
    )
    assert names == stock
    assert sum(len(run.failures) for run in RUNS) > len(stock)


@pytest.mark.parametrize("run", RUNS, ids=[f"{r.spec}@{r.lines[0][:24]}" for r in RUNS])
def test_filter_by_name_finds_what_the_sample_expects(
    run: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "etc-fail2ban"
    empty.mkdir()
    log = tmp_path / "sample.log"
    log.write_text("".join(line + "\n" for line in run.lines), encoding="utf-8")
    common = ["-c", str(empty), "--now", str(int(run.now)), "--usedns", "raw"]

    code, out = _main([*common, "--json", str(log), run.spec], capsys)
    assert code == 0, out
    found = [json.loads(row) for row in out.splitlines()]
    assert [(row["line"], row["id"]) for row in found] == list(run.failures)

    code, out = _main([*common, str(log), run.spec], capsys)
    assert code == 0, out
    assert f"Use   failregex filter file : {run.spec.split('[', 1)[0]}, basedir: {empty}\n" in out
    assert run.summary in out.splitlines()


def test_every_session_summary_belongs_to_a_run() -> None:
    keys = {(run.spec, run.lines[0][:15]) for run in RUNS}
    assert set(SESSION_SUMMARIES) <= keys
    assert len(RUNS) == 65
