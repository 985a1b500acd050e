"""The engine contract: what runs a compiled filter (banjail.filter.program.Program) over a chunk of one log
(banjail.filter.state.LogState).

    engine.scan(program, state, chunk, now, first_lineno, stats, keep) -> outcomes

scans every complete line of `chunk` (lines joined by "\\n", optionally ending with one; line numbers from
first_lineno), adds every line to `stats`, changes `state` as the lines do, and returns the outcomes `keep` asks
for. Every engine gives the same outcomes, stats and state as the Python reference (banjail.filter.scan) line by
line; an engine that cannot promise that for a program refuses it in `accepts`, and the reference runs instead.
"""

from __future__ import annotations

import os
from typing import Protocol

from banjail.filter import native
from banjail.filter.outcome import Keep, LineOutcome, ScanStats
from banjail.filter.program import Program
from banjail.filter.scan import scan_chunk
from banjail.filter.state import LogState

FORCE_ENV = "BANJAIL_ENGINE"  # "python" forces the reference engine


class Engine(Protocol):
    @property
    def name(self) -> str: ...

    def accepts(self, program: Program) -> str | None:
        """None when this engine runs `program` exactly, else why not (a short phrase)."""
        ...

    def scan(
        self,
        program: Program,
        state: LogState,
        chunk: str,
        now: float,
        first_lineno: int,
        stats: ScanStats,
        keep: Keep,
    ) -> list[LineOutcome]: ...


class PythonEngine:
    """The reference: Python's re and the steps of banjail.filter.scan."""

    name = "python"

    def accepts(self, program: Program) -> str | None:
        return None

    def scan(
        self,
        program: Program,
        state: LogState,
        chunk: str,
        now: float,
        first_lineno: int,
        stats: ScanStats,
        keep: Keep,
    ) -> list[LineOutcome]:
        return scan_chunk(program, state, chunk, now, first_lineno, stats, keep)


PYTHON = PythonEngine()
NATIVE = native.NativeEngine()


def available() -> list[Engine]:
    """Every engine this installation has, fastest first; the reference is always last."""
    return [NATIVE, PYTHON] if native.built() else [PYTHON]


def choose(program: Program, forced: str | None = None) -> tuple[Engine, str]:
    """The engine for `program` and why it was chosen: the first available one that accepts the program;
    `forced` (default: the BANJAIL_ENGINE environment variable) names the one to try alone ("python" forces
    the reference). An engine that refuses, or a name that is not available, leaves the reference."""
    if forced is None:
        forced = os.environ.get(FORCE_ENV, "")
    if forced == PYTHON.name:
        return PYTHON, f"{FORCE_ENV}=python"
    engines = available()
    if forced:
        engines = [e for e in engines if e.name == forced]
        if not engines:
            return PYTHON, f"engine {forced!r} is not available"
    reasons: list[str] = [] if native.built() else ["the native engine is not built"]
    for engine in engines:
        refused = engine.accepts(program)
        if refused is None:
            return engine, "; ".join(reasons)
        reasons.append(f"{engine.name}: {refused}")
    return PYTHON, "; ".join(reasons)


def describe(engine: Engine, note: str, lines: int | None = None, native_lines: int = 0) -> str:
    """One line naming the engine that ran (for fail2ban-regex and the daemon's log): `native (PCRE2 10.42
    JIT)` with how many lines it ran itself, or `python` with why the native engine did not run."""
    if engine.name == "native":
        text = f"native ({native.version()})"
        if lines is not None:
            text += f", {native_lines} of {lines} lines natively (the rest on Python: non-ASCII or not uniform)"
        return text
    return "python" + (f" ({note})" if note else "")
