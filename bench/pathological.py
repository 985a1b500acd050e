"""Bench section `filters`: the worst time per line of every stock filter on pathological input.

For each filter of banjail's stock library, 64 KiB runs of characters and words that log regexes typically repeat
are put before, inside and after a real line of the filter's sample log (tests/filters/samples/NAME.log) and fed
to the matcher one line at a time. The table reports the worst and the median time per line: a regex that
backtracks catastrophically shows up as seconds, a linear one as milliseconds (the engine cuts lines at 64 KiB).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from section import Section, Table

from banjail.config.load import STOCK_DIR, load_filter
from banjail.filter.datedetect import DateDetector
from banjail.filter.matcher import Matcher

NAME = "filters"
SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "filters" / "samples"
CHARS = [" ", "a", "0", ".", ":", "-", "/", "[", "]", '"', "=", "(", "\t"]
WORDS = [" from 198.51.100.7 port 22", " rhost=198.51.100.7", " user ", "[preauth] "]
NOW = 1_795_600_000.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(NAME)
    group.add_argument("--run-kib", type=int, default=64, help="length of each pathological run, KiB")


def _base_line(name: str) -> str:
    """The first log line of the filter's sample (a line the filter is written for)."""
    path = SAMPLES / f"{name}.log"
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                return line
    return f"Nov 25 08:44:15 host {name}[123]: authentication failure from 192.0.2.1"


def _lines(base: str, run_len: int) -> list[str]:
    runs = [c * run_len for c in CHARS] + [(w * (run_len // len(w) + 1))[:run_len] for w in WORDS]
    middle = len(base) // 2
    return [line for run in runs for line in (base + run, base[:middle] + run + base[middle:], run + base)]


def run(args: argparse.Namespace, progress: Callable[[str], None]) -> Section:
    names = sorted(p.stem for p in (STOCK_DIR / "filter.d").glob("*.conf") if not p.stem.endswith("common"))
    rows: list[tuple[str, ...]] = []
    worst_all = ("", 0.0)
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as empty:
        for name in names:
            spec = load_filter(name, config_dir=empty)
            matcher = Matcher(spec, detector=DateDetector(spec.datepattern, logtimezone=spec.logtimezone))
            times: list[float] = []
            for line in _lines(_base_line(name), args.run_kib * 1024):
                start = time.perf_counter()
                matcher.process(line, NOW)
                times.append(time.perf_counter() - start)
            worst, median = max(times), statistics.median(times)
            figures[name] = {"worst_s": worst, "median_s": median, "lines": len(times)}
            if worst > worst_all[1]:
                worst_all = (name, worst)
            rows.append((name, str(len(times)), f"{median * 1000:.1f}", f"{worst * 1000:.1f}"))
            progress(f"{name}: worst {worst * 1000:.1f} ms per line")
    table = Table(
        title=f"Pathological lines ({args.run_kib} KiB runs), time per line",
        columns=("filter", "lines", "median ms", "worst ms"),
        rows=tuple(rows),
    )
    notes = (
        f"Worst of all filters: {worst_all[0]} at {worst_all[1] * 1000:.1f} ms for one {args.run_kib} KiB line.",
        "Lines are cut at 64 KiB by the engine, so no line can cost more than one such run.",
    )
    return Section(
        name=NAME,
        title="Stock filters on pathological input",
        tables=(table,),
        notes=notes,
        figures={"filters": figures, "worst": {"filter": worst_all[0], "seconds": worst_all[1]}},
    )
