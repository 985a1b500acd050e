"""Linear-time regexes: a structural check of every regex of every stock filter (regexshape.py), then 64 KiB
runs of the characters the regexes repeat, pushed through the filter to show they complete."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import stock_filter_names
from regexshape import problems, repeated_chars
from samplefile import SAMPLES, banjail_maker, load

from banjail.config.load import load_filter

RUN = 64 * 1024
# A small set of characters and words regexes of log filters typically repeat; each filter uses those its own
# regexes can repeat.
CANDIDATES = [" ", "a", "0", ".", ":", "-", "/", "[", "]", '"', "=", "(", "\t"]
WORDS = [" from 198.51.100.7 port 22", " rhost=198.51.100.7", " user ", "[preauth] "]


def _option_sets(name: str) -> list[dict[str, str]]:
    sample = load(SAMPLES / f"{name}.log")
    sets: list[dict[str, str]] = []
    for block in sample.blocks:
        for args in block.options:
            if args not in sets:
                sets.append(args)
    return sets


@pytest.mark.parametrize("name", stock_filter_names())
def test_regexes_have_no_backtracking_shapes(name: str, empty_config_dir: Path) -> None:
    for args in _option_sets(name):
        spec = load_filter(name, config_dir=empty_config_dir, args=args or None)
        found = {}
        for regex in (spec.prefregex, *spec.failregex, *spec.ignoreregex):
            if regex and problems(regex):
                found[regex] = problems(regex)
        assert found == {}, f"{name} {args}"


@pytest.mark.parametrize("name", stock_filter_names())
def test_pathological_lines_complete(name: str, empty_config_dir: Path) -> None:
    sample = load(SAMPLES / f"{name}.log")
    spec = load_filter(name, config_dir=empty_config_dir)
    chars: set[str] = set()
    for regex in (spec.prefregex, *spec.failregex):
        chars |= repeated_chars(regex)
    runs = [c * RUN for c in CANDIDATES if c in chars]
    runs += [(w * (RUN // len(w) + 1))[:RUN] for w in WORDS]
    bases = [c.line for b in sample.blocks for c in b.cases if c.expect.fid is not None][:1]
    process = banjail_maker(str(empty_config_dir))(name, {})
    done = 0
    for base in bases:
        middle = len(base) // 2
        for run in runs:
            for line in (base + run, base[:middle] + run + base[middle:], run + base):
                process(line, sample.now)
                done += 1
    assert done == len(bases) * len(runs) * 3
