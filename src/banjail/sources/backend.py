"""Which source a jail's `backend` option means, given what exists on this machine.

Upstream's `auto` tries pyinotify, gamin, polling and only then systemd, so on a Debian 12 machine without
rsyslog a jail whose log file does not exist waits forever for it. banjail's `auto` reads the journal when none
of the jail's log paths matches a file and journalctl is present; otherwise it follows the files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from banjail.errors import SourceError

# Upstream's names (gamin is long gone: upstream falls through to polling without it, so do we).
KNOWN = ("auto", "pyinotify", "gamin", "polling", "systemd")


def backend_name(backend: str) -> str:
    """The backend's name without its `[option=value, ...]` arguments, lower-cased (`systemd[journalflags=1]`
    -> `systemd`)."""
    return backend.split("[", 1)[0].strip().lower()


def choose_backend(
    backend: str,
    logpaths: Sequence[str],
    exists: Callable[[str], bool],
    journal_available: bool,
) -> str:
    """The source to build: "systemd" (a JournalSource) or a FileSource backend: "auto" (inotify, polling when
    the kernel refuses), "pyinotify" or "polling".

    `exists(logpath)` says whether a path or glob matches a file now. Raises SourceError for an unknown name,
    with the names that are accepted.
    """
    name = backend_name(backend)
    if name not in KNOWN:
        raise SourceError(f"Unknown backend {name}. Must be among {', '.join(KNOWN[1:])} or 'auto'")
    if name == "gamin":
        return "polling"
    if name != "auto":
        return name
    if journal_available and not any(exists(path) for path in logpaths):
        return "systemd"
    return "auto"
