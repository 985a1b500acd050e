"""The `upstream_reading` fixture, for the test directories that compare banjail with upstream on upstream's own
installed files (imported by tests/unit/conftest.py and tests/compat/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from banjail.config import packaged


@pytest.fixture(scope="module")
def upstream_reading(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """For a module that compares banjail's reading of upstream's installed files with upstream's own: no dpkg
    record (an empty status file), so fail2ban's packaged filter files are read as any file, as before the
    packaged-file rule; that rule has its own tests (tests/unit/config/test_packaged.py, tests/e2e/test_packaged_daemon.py).
    Subprocesses started by the module inherit it. Yields the empty status file."""
    empty = tmp_path_factory.mktemp("dpkg") / "status"
    empty.write_text("")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(packaged.STATUS_ENV, str(empty))
        yield empty
