"""The Failure record of one identifier in a failregex match's data (upstream's ticket data, minus its
bookkeeping keys)."""

from __future__ import annotations

from typing import Any

from banjail.filter.session import USER_PAIRS
from banjail.model import Failure

# upstream's bookkeeping in a failure's data, not groups ("users" is added as one pair per user)
INTERNAL = frozenset({"matches", "nofail-matches", "users", USER_PAIRS, "mlfpending", "nofail", "mlfgained", "mlfforget"})


def failure_of(fid: str, ip: str | None, fail: dict[str, Any], date: float, lineno: int, index: int) -> Failure:
    """The failure of `fid` (address `ip`) at `date`: the match's groups (values that are not text shown as
    their repr), then one ("users", name) pair per user the session tried, sorted; its lines are the matched
    tuple lines joined."""
    groups = tuple(
        [
            (key, value if value.__class__ is str else repr(value))
            for key, value in fail.items()
            if value is not None and key not in INTERNAL
        ]
    )
    users = fail.get(USER_PAIRS)
    if users:  # the users a session tried, shared by its failures (banjail.filter.session)
        groups += users
    lines = tuple([t[0] + t[1] + t[2] for t in fail.get("matches", ())])
    return Failure(fid, ip, date, lines, groups, lineno, index)
