"""Fixtures for the control socket tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from control_fakes import ReplayController, ServerThread


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    srv = ServerThread(str(tmp_path / "f2b.sock"), ReplayController())
    yield srv
    srv.close()
