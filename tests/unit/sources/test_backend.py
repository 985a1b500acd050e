"""choose_backend: the table of what a jail's `backend` option becomes."""

from __future__ import annotations

import pytest

from banjail.errors import SourceError
from banjail.sources.backend import backend_name, choose_backend

EXISTING = {"/var/log/auth.log", "/var/log/nginx/*.log"}


@pytest.mark.parametrize(
    ("backend", "logpaths", "journal", "expected"),
    [
        # auto: files when any of them exists, the journal when none does and journalctl is there
        ("auto", ["/var/log/auth.log"], True, "auto"),
        ("auto", ["/var/log/missing.log", "/var/log/nginx/*.log"], True, "auto"),
        ("auto", ["/var/log/missing.log"], True, "systemd"),
        ("auto", [], True, "systemd"),
        ("auto", ["/var/log/missing.log"], False, "auto"),
        ("AUTO", ["/var/log/missing.log"], True, "systemd"),
        # explicit names are kept, whatever exists
        ("systemd", ["/var/log/auth.log"], True, "systemd"),
        ("systemd", [], False, "systemd"),
        ("systemd[journalflags=1]", [], True, "systemd"),
        ("pyinotify", ["/var/log/missing.log"], True, "pyinotify"),
        ("polling", ["/var/log/missing.log"], True, "polling"),
        ("gamin", ["/var/log/auth.log"], True, "polling"),
        (" Polling ", [], True, "polling"),
    ],
)
def test_choose_backend(backend: str, logpaths: list[str], journal: bool, expected: str) -> None:
    assert choose_backend(backend, logpaths, EXISTING.__contains__, journal) == expected


def test_unknown_backend() -> None:
    with pytest.raises(SourceError) as error:
        choose_backend("inotifyx", [], EXISTING.__contains__, True)
    assert (
        str(error.value)
        == "Unknown backend inotifyx. Must be among pyinotify, gamin, polling, systemd or 'auto'"
    )


@pytest.mark.parametrize(
    ("backend", "name"),
    [("systemd[journalpath=/run/log/journal]", "systemd"), ("PyInotify", "pyinotify"), ("auto", "auto")],
)
def test_backend_name(backend: str, name: str) -> None:
    assert backend_name(backend) == name
