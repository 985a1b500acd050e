"""<F-MLFID> sessions: what a multi-line failure id (a connection or process id) has gathered so far.

The cache keeps fail2ban's bounds exactly, because they decide which sessions survive a busy log: at most 100
sessions, each forgotten 5 minutes after it was stored (times are the caller's `now`), and when full, the oldest
entries are dropped first-in-first-out: expired ones all, plus one that is still alive if needed to make room.
Updating a session that is already stored keeps its place in that order and its expiry.

Unlike upstream, what one session gathers is bounded too, because log text decides its size (any local user can
write `sshd[123]` lines): at most MAX_USERS distinct user names (MAX_USER_CHARS in all; the second name is always
kept, so "several users" is decided exactly), and at most MAX_LINES of its newest lines (MAX_LINE_CHARS in all,
the newest always kept) in its matches and its parked NOFAIL matches. Sessions below these bounds (every one in
upstream's sample logs) give upstream's results; a failure carries at most that much, so the memory and the
database rows of a long session grow linearly with its lines, not with their square.
"""

from __future__ import annotations

from typing import Any

MAX_SESSIONS = 100
SESSION_TTL = 5 * 60.0
MAX_USERS = 16
MAX_USER_CHARS = 4096
MAX_LINES = 50
MAX_LINE_CHARS = 1 << 16

Fail = dict[str, Any]
USER_PAIRS = "users-pairs"  # a session's users as sorted ("users", name) group pairs (see _add_user)


class SessionCache:
    """mlfid -> the merged failure data of that session.

    entries: mlfid -> (data, expiry), a plain dict in the order the sessions were stored (a dict keeps insertion
    order, and a stored session is only ever updated in place, never stored again), so its first key is the
    oldest. The native engine's one-line step (banjail.filter._native_step.c) reads and changes this dict as
    get/set/unset do, so the two engines can take turns on one log's sessions."""

    __slots__ = ("entries", "max_count", "ttl")

    def __init__(self, max_count: int = MAX_SESSIONS, ttl: float = SESSION_TTL) -> None:
        self.entries: dict[str, tuple[Fail, float]] = {}
        self.max_count = max_count
        self.ttl = ttl

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: str, now: float) -> Fail | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if entry[1] > now:
            return entry[0]
        del self.entries[key]
        return None

    def set(self, key: str, value: Fail, now: float) -> None:
        entries = self.entries
        if len(entries) >= self.max_count:
            while entries:
                _value, expiry = entries.pop(next(iter(entries)))  # the oldest first
                if expiry > now and len(entries) < self.max_count:
                    break
        entries[key] = (value, now + self.ttl)

    def unset(self, key: str) -> None:
        self.entries.pop(key, None)


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
        fail["matches"] = newest(lines)
    elif (flags & 3) == 1:
        fail["nofail-matches"] = newest(fail.get("nofail-matches", []) + matched)
    return fail


def newest(lines: list[Any]) -> list[Any]:
    """The newest of `lines` (tuple lines: sequences of texts) within MAX_LINES and MAX_LINE_CHARS, in order;
    the last line is always kept."""
    if len(lines) <= 1:
        return lines
    start = max(0, len(lines) - MAX_LINES)
    chars = 0
    for k in range(len(lines) - 1, start - 1, -1):
        chars += sum(map(len, lines[k]))
        if chars > MAX_LINE_CHARS and k < len(lines) - 1:
            start = k + 1
            break
    return lines[start:] if start else lines


def _add_user(fail: Fail, user: Any) -> set[str] | None:
    users: set[str] | None = fail.get("users")
    if user:
        if not users:
            users = set()
            fail["users"] = users
        if user in users:
            return users
        if len(users) < 2 or (len(users) < MAX_USERS and sum(map(len, users)) + len(user) <= MAX_USER_CHARS):
            users.add(user)
            # the groups every later failure of the session carries, built once per new name and shared
            # (a name that is not text, from a <F-TUPLE_USER> group, shown as its repr, as failure_of shows groups)
            fail[USER_PAIRS] = tuple(
                [("users", name if name.__class__ is str else repr(name)) for name in sorted(users, key=by_text)]
            )
    return users


def by_text(name: Any) -> tuple[int, str]:
    """A session's user names in text order; a name a <F-TUPLE_USER> group made a tuple comes after them (in its
    repr's order), instead of failing the sort as str < tuple would."""
    return (0, name) if isinstance(name, str) else (1, repr(name))
