"""The engines the corpus is replayed through: banjail's reader and matcher, or upstream fail2ban's own (in a
subprocess of the system Python, see oracle.py). Both give, per variant, what each fed line produced."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from banjail.model import FilterSpec

from .corpus import CONFIG_DIR, TEST_NOW, TEST_TZ, Variant

SYSTEM_PYTHON = Path("/usr/bin/python3")
ORACLE = Path(__file__).with_name("oracle.py")


@dataclass(frozen=True, slots=True)
class Found:
    """One failure (not pending, not NOFAIL) a line produced, in engine-neutral terms.

    groups: the failure's named data (lower-case keys; values are strings, None, or lists for sets).
    lines: how many log lines the failure carries (upstream's `matches`, banjail's Failure.lines).
    """

    fid: str | None
    time: float | None
    groups: Mapping[str, Any]
    lines: int


@dataclass(frozen=True, slots=True)
class Run:
    """What one variant produced: error (the filter did not load or the engine failed) or one list per feed.

    spec: what the engine's config reader made of the filter file (prefregex, failregex, ignoreregex, maxlines,
    datepattern; see spec_of), None when it did not get that far.
    """

    found: tuple[tuple[Found, ...], ...] = ()
    error: str | None = None
    spec: Mapping[str, Any] | None = None


def spec_of(spec: FilterSpec) -> dict[str, Any]:
    """The parts of a resolved filter that upstream's sample test uses, as plain data."""
    return {
        "prefregex": spec.prefregex,
        "failregex": list(spec.failregex),
        "ignoreregex": list(spec.ignoreregex),
        "maxlines": spec.maxlines,
        "datepattern": list(spec.datepattern),
    }


class Engine(Protocol):
    name: str

    def run(self, variants: Sequence[Variant]) -> list[Run]:
        """One Run per variant, in order. Must be called with TZ = TEST_TZ in effect (see corpus)."""
        ...


def _groups(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A failure's group pairs as a mapping. A key given several times is a set (upstream's `users`), as a list;
    `users` is always a set upstream, so it is a list even with one name."""
    groups: dict[str, Any] = {}
    for key, value in pairs:
        if key in groups:
            previous = groups[key]
            groups[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            groups[key] = [value] if key == "users" else value
    return groups


class JournalDates:
    """Date detection for lines from the journal: the journal gives the time, so no date is looked for and the
    matcher uses now (banjail.filter.matcher's DateDetector shape)."""

    none = True

    def find(self, line: str, now: float) -> None:
        return None


class BanjailEngine:
    """banjail's config reader (load_filter on upstream's filter files) and Matcher, line by line."""

    name = "banjail"

    def __init__(self, config_dir: Path = CONFIG_DIR, now: float = TEST_NOW) -> None:
        self.config_dir = config_dir
        self.now = now

    def run(self, variants: Sequence[Variant]) -> list[Run]:
        return [self._run_one(v) for v in variants]

    def _run_one(self, variant: Variant) -> Run:
        # Imported here so the harness (and the oracle check) work while banjail's parts are still missing.
        try:
            from banjail.config.load import load_filter
            from banjail.errors import BanjailError
            from banjail.filter.matcher import Matcher
        except ImportError as e:
            return Run(error=f"import: {e}")
        try:
            spec = load_filter(variant.filter, config_dir=self.config_dir, args=dict(variant.options))
        except BanjailError as e:
            return Run(error=f"load: {e}")
        resolved = spec_of(spec)
        # Upstream's sample test returns hosts raw (no DNS lookups): banjail's usedns=raw.
        spec = dataclasses.replace(spec, usedns="raw")
        try:
            if variant.journal:
                matcher = Matcher(spec, detector=JournalDates())
            else:
                from banjail.filter.datedetect import DateDetector

                matcher = Matcher(spec, detector=DateDetector(spec.datepattern, logtimezone=spec.logtimezone))
        except ImportError as e:
            return Run(error=f"import: {e}", spec=resolved)
        except BanjailError as e:
            return Run(error=f"compile: {e}", spec=resolved)
        found: list[tuple[Found, ...]] = []
        for lineno, feed in enumerate(variant.feeds, 1):
            try:
                outcome = matcher.process(feed.text, self.now, lineno)
            except Exception as e:  # an engine crash is a result to report, not a harness failure
                return Run(error=f"{feed.file}:{feed.lineno}: {type(e).__name__}: {e}", spec=resolved)
            found.append(tuple(Found(f.fid, f.time, _groups(f.groups), len(f.lines)) for f in outcome.failures))
        return Run(found=tuple(found), spec=resolved)


class UpstreamEngine:
    """Upstream fail2ban's Filter, run by the system Python in one subprocess for all variants."""

    name = "upstream"

    def __init__(self, config_dir: Path = CONFIG_DIR, now: float = TEST_NOW, python: Path = SYSTEM_PYTHON):
        self.config_dir = config_dir
        self.now = now
        self.python = python

    def run(self, variants: Sequence[Variant]) -> list[Run]:
        plan = {
            "config_dir": str(self.config_dir),
            "now": self.now,
            "variants": [
                {
                    "filter": v.filter,
                    "options": v.options,
                    "journal": v.journal,
                    "lines": [f.text for f in v.feeds],
                }
                for v in variants
            ],
        }
        env = {**os.environ, "TZ": TEST_TZ, "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("PYTHONPATH", None)  # the system Python must not see the venv's packages
        proc = subprocess.run(
            [str(self.python), "-I", str(ORACLE)],
            input=json.dumps(plan),
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            raise RuntimeError(f"upstream oracle failed with exit status {proc.returncode}")
        runs = []
        for result in json.loads(proc.stdout):
            found = tuple(
                tuple(Found(d["fid"], d["time"], d["groups"], d["lines"]) for d in line)
                for line in result["found"]
            )
            runs.append(Run(found=found, error=result["error"], spec=result["spec"]))
        return runs
