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

from banjail.filter.failure import INTERNAL
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
            found.append(
                tuple(Found(f.fid, f.time, _groups(f.groups), len(f.lines)) for f in outcome.failures)
            )
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


REGEX_COMMAND = Path(sys.executable).with_name("fail2ban-regex")
JSON, OUT = "--json", "-o row"


def _filter_argument(variant: Variant) -> str:
    if not variant.options:
        return variant.filter
    return variant.filter + "[" + ", ".join(f'{k}="{v}"' for k, v in variant.options.items()) + "]"


def _row_groups(groups: Mapping[str, Any]) -> dict[str, Any]:
    # -o row writes upstream's whole data: its set literal for `users` (the annotations compare lists), groups
    # that matched nothing (None) and upstream's bookkeeping keys, which a Failure's groups leave out
    return {
        k: sorted(v) if isinstance(v, set) else v
        for k, v in groups.items()
        if v is not None and (k == "users" or k not in INTERNAL)
    }


class CommandEngine:
    """banjail's installed `fail2ban-regex`, run as a user runs it: per variant, one log file holding the
    variant's lines (line n of the file is feed n) and two subprocesses, one with `--json` and one with `-o row`.

    The rows of `-o row` carry no line number: they come in the order of the `--json` objects, which give each
    row its line and its `matches` count (a row that names another id than its object is an error)."""

    name = "fail2ban-regex"

    def __init__(self, config_dir: Path = CONFIG_DIR, now: float = TEST_NOW, command: Path = REGEX_COMMAND):
        self.config_dir = config_dir
        self.now = now
        self.command = command

    def run(self, variants: Sequence[Variant]) -> list[Run]:
        return self.run_modes(variants)[JSON]

    def run_modes(self, variants: Sequence[Variant]) -> dict[str, list[Run]]:
        """{JSON: runs, OUT: runs}, one Run per variant each."""
        import tempfile
        from concurrent.futures import ThreadPoolExecutor

        with tempfile.TemporaryDirectory(prefix="banjail-compat-") as tmp, ThreadPoolExecutor(2) as pool:
            pairs = list(
                pool.map(lambda iv: self._run_one(iv[1], Path(tmp) / f"{iv[0]}.log"), enumerate(variants))
            )
        return {JSON: [p[0] for p in pairs], OUT: [p[1] for p in pairs]}

    def _invoke(self, log: Path, variant: Variant, *mode: str) -> tuple[list[str], str | None]:
        argv = [str(self.command), "-c", str(self.config_dir), "--now", repr(self.now), "--usedns", "raw"]
        env = {**os.environ, "TZ": TEST_TZ}
        proc = subprocess.run(
            [*argv, *mode, str(log), _filter_argument(variant)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            return [], f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[:300]}"
        return proc.stdout.splitlines(), None

    def _run_one(self, variant: Variant, log: Path) -> tuple[Run, Run]:
        import ast

        log.write_text("".join(f.text + "\n" for f in variant.feeds), encoding="utf-8")
        rows, error = self._invoke(log, variant, "--json")
        if error is not None:
            return Run(error=error), Run(error=error)
        objects = [json.loads(row) for row in rows]
        by_json: list[list[Found]] = [[] for _ in variant.feeds]
        for o in objects:
            by_json[o["line"] - 1].append(Found(o["id"], o["time"], o["groups"], len(o["matches"])))
        json_run = Run(found=tuple(tuple(f) for f in by_json))
        printed, error = self._invoke(log, variant, "-o", "row")
        if error is None and len(printed) != len(objects):
            error = f"-o row printed {len(printed)} failures, --json {len(objects)}"
        if error is not None:
            return json_run, Run(error=error)
        by_row: list[list[Found]] = [[] for _ in variant.feeds]
        for o, text in zip(objects, printed, strict=True):
            fid, when, groups = ast.literal_eval(text.rstrip(","))
            if fid != o["id"]:
                return json_run, Run(error=f"-o row printed {fid!r} where --json printed {o['id']!r}")
            # a line without a date: -o row prints None, as upstream; --json has the --now time
            when = o["time"] if when is None else when
            by_row[o["line"] - 1].append(Found(fid, when, _row_groups(groups), len(o["matches"])))
        return json_run, Run(found=tuple(tuple(f) for f in by_row))
