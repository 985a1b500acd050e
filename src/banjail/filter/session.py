"""<F-MLFID> sessions: what a multi-line failure id (a connection or process id) has gathered so far.

The cache keeps fail2ban's bounds exactly, because they decide which sessions survive a busy log: at most 100
sessions, each forgotten 5 minutes after it was stored (times are the caller's `now`), and when full, the oldest
entries are dropped first-in-first-out: expired ones all, plus one that is still alive if needed to make room.
Updating a session that is already stored keeps its place in that order and its expiry.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

MAX_SESSIONS = 100
SESSION_TTL = 5 * 60.0

Fail = dict[str, Any]


class SessionCache:
    """mlfid -> the merged failure data of that session."""

    __slots__ = ("_entries", "max_count", "ttl")

    def __init__(self, max_count: int = MAX_SESSIONS, ttl: float = SESSION_TTL) -> None:
        self._entries: OrderedDict[str, tuple[Fail, float]] = OrderedDict()
        self.max_count = max_count
        self.ttl = ttl

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str, now: float) -> Fail | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] > now:
            return entry[0]
        del self._entries[key]
        return None

    def set(self, key: str, value: Fail, now: float) -> None:
        entries = self._entries
        if len(entries) >= self.max_count:
            while entries:
                _key, (_value, expiry) = entries.popitem(last=False)
                if expiry > now and len(entries) < self.max_count:
                    break
        entries[key] = (value, now + self.ttl)

    def unset(self, key: str) -> None:
        self._entries.pop(key, None)


def merge(cache: SessionCache, mlfid: str, fail: Fail, matched: list[Any], now: float) -> Fail:
    """Merge one failregex match `fail` (its groups; may carry nofail/mlfforget/mlfgained/user) into the
    session `mlfid` and return the data that now stands for the failure, with "matches" holding the lines that
    belong to it. Mirrors upstream's rules: a NOFAIL match parks its lines in "nofail-matches" until a real
    failure of the same session; GAINED (a login succeeded) drops pending failures; FORGET ends the session;
    several users tried in one session cancel NOFAIL.
    """
    stored = cache.get(mlfid, now)
    users: set[str] | None = None
    flags = 0  # 1 nofail, 2 forget, 4 stored session had nofail/gained, 8 gained
    if fail.get("mlfgained"):
        flags |= 8 | 1
        if not fail.get("nofail"):
            fail["nofail"] = fail["mlfgained"]
    elif fail.get("nofail"):
        flags |= 1
    if fail.pop("mlfforget", None):
        flags |= 2
    if stored is not None:
        users = _add_user(stored, fail.get("user"))
        if stored.pop("nofail", None):
            flags |= 4
        if stored.pop("mlfgained", None):
            flags |= 4
        if flags & 8:
            stored.pop("mlfpending", None)
        if (flags & 4) == 0 and not stored.get("mlfpending", 0):
            stored.pop("matches", None)
        stored.update({k: v for k, v in fail.items() if v is not None})
        fail = stored
        if flags & 2:
            cache.unset(mlfid)
    elif not flags & 2:
        users = _add_user(fail, fail.get("user"))
        cache.set(mlfid, fail, now)
    if fail.pop("mlfpending", 0) or (users and len(users) > 1):
        fail.pop("nofail", None)
        fail.pop("mlfgained", None)
        flags &= ~(8 | 1)
    if (flags & 1) == 0:
        lines = fail.pop("nofail-matches", [])
        lines += fail.get("matches", [])
        if (flags & 8) == 0:
            lines += matched
        fail["matches"] = lines
    elif (flags & 3) == 1:
        fail["nofail-matches"] = fail.get("nofail-matches", []) + matched
    return fail


def _add_user(fail: Fail, user: Any) -> set[str] | None:
    users: set[str] | None = fail.get("users")
    if user:
        if not users:
            users = set()
            fail["users"] = users
        users.add(user)
    return users
