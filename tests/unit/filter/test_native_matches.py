"""Program.start (banjail.filter._native_pipe.c): a chunk's matching shared between the caller's thread and a
thread of its own must give Program.scan's rows exactly, in the same order, whoever matched which batch: with
and without the worker thread, with batches of 1 to 40 lines (1: the threads meet at every line), with the
default patience and with none (the caller then matches again every batch the worker holds), on chunks cut at
random points; and it must take scan's arguments with scan's errors, and be dropped at any point safely."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.config.load import load_filter
from banjail.filter import native
from banjail.filter.matcher import Matcher
from banjail.model import FilterSpec

pytestmark = pytest.mark.skipif(not native.built(), reason="the native engine is not built")

UPSTREAM = Path("/etc/fail2ban")
SSHD_LOG = Path("/usr/lib/python3/dist-packages/fail2ban/tests/files/logs/sshd")

# a prefregex whose content is not the rest of the line (the failregexes then run on a copy of the content)
CONTENT_INSIDE = FilterSpec(
    prefregex=r"^\S+ <F-CONTENT>.+?</F-CONTENT>(?: \[end\])?$",
    failregex=(r"^Failed \S+ for <F-USER>\S+</F-USER> from <HOST>", r"^bad <F-ID>\w+</F-ID>", r"from <HOST>$"),
)
NO_PREFREGEX = FilterSpec(failregex=(r"auth failed for <F-USER>\S+</F-USER> from <HOST>", r"(?:bad )?key <F-ID>\w+</F-ID>"))
LINES = (
    "host1 Failed password for root from 192.0.2.1 port 22 [end]",
    "host2 Failed publickey for eve from 2001:db8::1",
    "host3 bad k1 from 198.51.100.7 [end]",
    "host4 nothing to see",
    "auth failed for bob from 192.0.2.9",
    "key abc",
    "",
    "x",
)


def _program(spec: FilterSpec) -> Any:
    return native.compile_c(Matcher(spec).program)


def _specs() -> dict[str, FilterSpec]:
    specs = {"content-inside": CONTENT_INSIDE, "no-prefregex": NO_PREFREGEX}
    if (UPSTREAM / "filter.d" / "sshd.conf").exists():
        for mode in ("normal", "aggressive"):
            specs[f"upstream-sshd-{mode}"] = load_filter("sshd", config_dir=UPSTREAM, args={"mode": mode})
    return specs


# where a line's date ends (the engine's cut for it: matching starts after the date)
DATE = re.compile(r"^(?:[A-Z][a-z]{2} +\d+ \d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\d[T ][\d:.,+-]+)")


def _corpus() -> list[tuple[str, int]]:
    """(line, where matching starts in it): the lines above, then upstream's sshd sample lines with their date
    cut off as the engine cuts it"""
    lines = [(x, 0) for x in LINES] * 20
    if SSHD_LOG.exists():
        for x in SSHD_LOG.read_text(encoding="utf-8", errors="replace").splitlines():
            date = DATE.match(x)
            if x.isascii() and not x.startswith("#") and date:
                lines.append((x, date.end()))
    return lines


SPECS = _specs()
PROGRAMS = {name: _program(spec) for name, spec in SPECS.items()}
CORPUS = _corpus()


def _chunk(rng: random.Random, count: int) -> tuple[str, list[int]]:
    """count lines from the corpus, most cut where their date ends, some at a random point"""
    rows = [rng.choice(CORPUS) for _ in range(count)]
    cuts = [cut if rng.random() < 0.9 else rng.randint(0, len(text)) for text, cut in rows]
    return "".join(text + "\n" for text, _ in rows), cuts


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(1, 700),
    name=st.sampled_from(sorted(SPECS)),
    worker=st.booleans(),
    patience=st.sampled_from([0, native.PATIENCE_NS]),
    batch=st.sampled_from([1, 2, 7, 31, 32, 33, 40]),
)
def test_start_gives_scans_rows(seed: int, count: int, name: str, worker: bool, patience: int, batch: int) -> None:
    chunk, cuts = _chunk(random.Random(seed), count)
    program = PROGRAMS[name]
    assert list(program.start(chunk, cuts, worker, patience, batch)) == program.scan(chunk, cuts)


def test_every_batch_size_up_to_the_chunk_and_beyond() -> None:
    rng = random.Random(7)
    program = PROGRAMS["content-inside"]
    for count in (1, 2, 31, 32, 33, 63, 64, 65, 257):
        chunk, cuts = _chunk(rng, count)
        want = program.scan(chunk, cuts)
        assert want or count < 31, count  # the longer chunks have hits
        for batch in (1, 5, 32, count, count + 1, 1000000):
            for patience in (0, native.PATIENCE_NS):
                assert list(program.start(chunk, cuts, True, patience, batch)) == want, (count, batch, patience)


@pytest.mark.parametrize("patience", [0, native.PATIENCE_NS])
def test_a_late_worker_is_taken_over_and_changes_nothing(patience: int) -> None:
    """A worker the system stops (here it sleeps 0.3 ms before each batch it claims) holds a batch the caller
    reaches first: the caller matches it again, at once or after its patience, into its own copy. Over 10
    chunks of 3,000 lines (a hit every 7th line, batches of one line) that happens more than once within a
    chunk (the copy is reused), and the rows stay scan's."""
    program = PROGRAMS["content-inside"]
    miss = "host4 " + "nothing to see " * 40
    counts = []
    for k in range(10):
        rows = [LINES[k % 3] if n % 7 == 0 else miss for n in range(3000)]
        chunk, cuts = "".join(r + "\n" for r in rows), [0] * len(rows)
        matches = program.start(chunk, cuts, True, patience, 1, 300_000)
        assert list(matches) == program.scan(chunk, cuts)
        counts.append(matches.takeovers)
    assert sum(counts) >= 3 and max(counts) >= 2, counts


@pytest.mark.parametrize("read", [0, 1, 50, 400])
def test_dropped_after_reading_some_rows(read: int) -> None:
    """A Matches dropped at any point (a step that failed) stops its worker and frees what it used: 200 rounds"""
    rng = random.Random(read)
    program = PROGRAMS["content-inside"]
    chunk, cuts = _chunk(rng, 3000)
    want = program.scan(chunk, cuts)
    for _ in range(200):
        matches = program.start(chunk, cuts)
        got = [row for _, row in zip(range(read), matches, strict=False)]
        assert got == want[:read]
        del matches
    assert list(program.start(chunk, cuts)) == want


def test_finished_once_read_and_the_worker_stopped() -> None:
    program = PROGRAMS["content-inside"]
    chunk, cuts = _chunk(random.Random(3), 500)
    alone = program.start(chunk, cuts, False)
    assert alone.finished  # no worker
    assert alone.takeovers == 0
    assert list(alone) == program.scan(chunk, cuts)
    assert alone.own == (500 + native.BATCH_LINES - 1) // native.BATCH_LINES  # the caller matched every batch
    matches = program.start(chunk, cuts)
    rows = list(matches)
    assert rows == program.scan(chunk, cuts)
    for _ in range(2000):  # the worker ends with its last batch: bounded, a few ms at most
        if matches.finished:
            break
        __import__("time").sleep(0.001)
    assert matches.finished


@pytest.mark.parametrize(
    ("chunk", "cuts", "extra", "error", "message"),
    [
        ("a\n", [0], (), None, None),
        ("é\n", [0], (), ValueError, "scan takes ASCII text only"),
        ("a", [0], (), ValueError, "scan takes complete lines, each ending with a newline"),
        ("", [], (), ValueError, "scan takes complete lines, each ending with a newline"),
        ("a\nb\n", [0], (), ValueError, "cuts must hold one offset per line"),
        ("a\nb\n", [0, 2], (), ValueError, "a cut beyond its line"),
        ("a\nb\n", [0, 5, 0], (), ValueError, "cuts must hold one offset per line"),
        ("a\nb\n", [-1, 0], (), ValueError, "a cut beyond its line"),
        ("a\n", ["0"], (), TypeError, None),
        ("a\n", [0], (True, -1), ValueError, "patience, stall: 0 to 999999999 ns"),
        ("a\n", [0], (True, 10**9), ValueError, "patience, stall: 0 to 999999999 ns"),
        ("a\n", [0], (True, 0, 1, -1), ValueError, "patience, stall: 0 to 999999999 ns"),
        ("a\n", [0], (True, 0, 0), ValueError, "batch: 1 to 1000000 lines"),
    ],
)
def test_start_takes_scans_arguments_with_its_errors(
    chunk: str, cuts: list[Any], extra: tuple[Any, ...], error: type[Exception] | None, message: str | None
) -> None:
    program = PROGRAMS["content-inside"]
    if error is None:
        assert list(program.start(chunk, cuts, *extra)) == program.scan(chunk, cuts)
        return
    with pytest.raises(error) as raised:
        list(program.start(chunk, cuts, *extra))
    if message is not None:
        assert str(raised.value) == message
    if not extra:  # scan says the same
        with pytest.raises(error) as raised:
            program.scan(chunk, cuts)
        if message is not None:
            assert str(raised.value) == message
