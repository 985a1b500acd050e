"""banjail.filter.engine: which engine runs a program, and the contract every engine keeps (the equality tests
in test_scan.py are parametrized over every available engine)."""

from __future__ import annotations

import pytest

from banjail.filter import engine as engines
from banjail.filter.matcher import Matcher
from banjail.model import FilterSpec

SPEC = FilterSpec(failregex=(r"^\s*auth failed from <HOST>$",))


@pytest.mark.parametrize(
    ("forced", "name", "note"),
    [
        ("python", "python", "BANJAIL_ENGINE=python"),
        ("no-such-engine", "python", "engine 'no-such-engine' is not available"),
    ],
)
def test_forced_engine(forced: str, name: str, note: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(engines.FORCE_ENV, forced)
    m = Matcher(SPEC)
    assert (m.engine.name, m.engine_note) == (name, note)
    assert (Matcher(SPEC, engine=forced).engine.name, Matcher(SPEC, engine=forced).engine_note) == (name, note)


def test_the_reference_is_always_available_and_last() -> None:
    available = engines.available()
    assert available[-1] is engines.PYTHON
    assert engines.PYTHON.accepts(Matcher(SPEC).program) is None
