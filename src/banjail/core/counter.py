"""FailureCounter: fail2ban's findtime/maxretry counting, per failure id (fid), for one jail.

The semantics are upstream 1.0.2's (FailManager + FailTicket), which are NOT a sliding window:

* The first failure of a fid opens an entry: retry = count (1 for a log line), attempts = 1, first = last = time.
* A later failure at time t, if t is newer than the entry's last failure, first rescales the entry when its first
  failure lies outside findtime (first < t - findtime): retry becomes round(retry / (t - first) * findtime) (round
  half to even, as Python's round) and first moves to t - findtime; then last = t. An older t changes no time.
  Then retry += count, attempts += 1, and the failure's lines are appended (only the newest `maxmatches` kept).
* When retry >= maxretry the entry leaves the counter and becomes a BanRequest (at = the newest failure time).
* Entries whose newest failure is at or before now - findtime are dropped by `expire(now)`; until then they keep
  counting (rescaled), exactly as upstream between two of its clean-ups.

Time handling of the reader (upstream's Filter.processLine): when catching up on old lines a failure older than
now - findtime is dropped; in operation a timestamp more than 60 s from now is taken as now; a failure in the
future is taken as now.
"""

from __future__ import annotations

from itertools import islice

from banjail.model import BanRequest, Failure, Groups

# In operation, a timestamp further than this from now is a clock or zone problem: upstream treats it as now.
CLAMP_SECONDS = 60


_NEVER = float("inf")
MAX_FIDS = 100_000  # fids counted at once per jail (about 50 MB): the same bound as the stored ones (dbmaxfailures)


class _Entry:
    """The running state of one fid. Mutable and private: it never leaves the counter."""

    __slots__ = ("attempts", "first", "groups", "ip", "last", "lines", "retry")

    def __init__(self, failure: Failure, time: float, count: int) -> None:
        self.first = time
        self.last = time
        self.retry = count
        self.attempts = 1
        # Upstream keeps the first failure's lines untruncated; truncation happens on the next failure.
        self.lines: list[str] = list(failure.lines)
        self.ip = failure.ip
        self.groups: Groups = failure.groups


class FailureCounter:
    """Counts failures per fid for one jail and says when a fid must be banned.

    Guarantees: `add` returns a BanRequest exactly when upstream's FailManager would hand the fid to its jail for
    banning, with the same time, attempt count and kept lines; the fid's entry is then removed, so its next failure
    starts a new count. `findtime`, `maxretry` and `maxmatches` may be changed at any time (`set findtime` etc.);
    the change applies from the next call on.

    Bounded (banjail; upstream keeps every fid): at most `max_fids` fids are counted at once; a new fid beyond
    that evicts the fids counted first (a tenth of max_fids at a time) (a flood of distinct addresses that never reach maxretry keeps memory flat;
    the fids it evicts start again from zero).
    """

    __slots__ = ("_entries", "_floor", "findtime", "jail", "max_fids", "maxmatches", "maxretry", "total")

    def __init__(self, jail: str, *, maxretry: int = 3, findtime: float = 600, maxmatches: int = 5) -> None:
        self.jail = jail
        self.maxretry = maxretry
        self.findtime = findtime
        self.maxmatches = maxmatches
        self.total = 0  # failures counted since start ("Total failed")
        self.max_fids = MAX_FIDS
        self._entries: dict[str, _Entry] = {}
        # At most the oldest `last` of any entry (a lower bound: entries' `last` only grow, and removals only
        # raise the minimum): `expire` skips its walk over every entry while nothing can be stale.
        self._floor = _NEVER

    def __len__(self) -> int:
        """How many fids currently have failures counted ("Currently failed")."""
        return len(self._entries)

    def __contains__(self, fid: object) -> bool:
        return fid in self._entries

    def retries(self, fid: str) -> int:
        """The current (possibly rescaled) retry count of fid, 0 when it has none."""
        entry = self._entries.get(fid)
        return 0 if entry is None else entry.retry

    def admit_time(self, time: float, now: float, *, catching_up: bool = False) -> float | None:
        """The time a failure at `time` is counted at, or None when it must be dropped (catch-up, too old)."""
        if catching_up:
            if time < now - self.findtime:
                return None
        elif abs(int(time - now)) > CLAMP_SECONDS:
            return now
        return now if time > now else time

    def add(
        self, failure: Failure, now: float, *, catching_up: bool = False, count: int = 1
    ) -> BanRequest | None:
        """Count one failure seen at `now`; return the BanRequest when its fid reaches maxretry.

        `catching_up` is True while reading lines written before the daemon started (they are dropped when older
        than findtime); otherwise timestamps far from now are taken as now. `count` > 1 adds that many retries
        but one attempt (upstream's manual `attempt` with several lines, and its bad-IP boost).
        """
        time = self.admit_time(failure.time, now, catching_up=catching_up)
        if time is None:
            return None
        return self.count(failure, time, count)

    def count(self, failure: Failure, time: float, count: int = 1) -> BanRequest | None:
        """Count a failure at an already admitted `time` (see admit_time); the hot path."""
        fid = failure.fid
        entries = self._entries
        entry = entries.get(fid)
        self.total += 1
        if entry is None:
            if len(entries) >= self.max_fids:
                # the fids counted first (insertion order), a tenth at a time: deleting the first key one by one
                # makes every next(iter()) walk the holes left before it
                for old in list(islice(entries, max(1, self.max_fids // 10))):
                    del entries[old]
            entry = entries[fid] = _Entry(failure, time, count)
            if time < self._floor:
                self._floor = time
        else:
            if time > entry.last:
                findtime = self.findtime
                if entry.first < time - findtime:
                    # Estimate the rate over the known interval and keep only findtime's worth of it.
                    entry.retry = round(entry.retry / float(time - entry.first) * findtime)
                    entry.first = time - findtime
                entry.last = time
            entry.retry += count
            entry.attempts += 1
            maxmatches = self.maxmatches
            lines = entry.lines
            if maxmatches > 0:
                lines.extend(failure.lines)
                if len(lines) > maxmatches:
                    del lines[:-maxmatches]
            elif lines:
                lines.clear()
        if entry.retry >= self.maxretry:
            del entries[fid]
            # positional (BanRequest's field order: jail, fid, ip, at, failures, lines, groups)
            return BanRequest(self.jail, fid, entry.ip, entry.last, entry.attempts, tuple(entry.lines), entry.groups)
        return None

    def forget(self, fid: str) -> None:
        """Drop fid's counted failures (for instance when it is banned by hand)."""
        self._entries.pop(fid, None)

    def expire(self, now: float) -> int:
        """Drop every fid whose newest failure is at or before now - findtime; return how many were dropped.

        Upstream runs this at most every 5 s (and every 100 lines); call it on a similar rhythm, since a stale
        entry that is not yet expired is rescaled rather than restarted by its next failure.
        """
        limit = now - self.findtime
        if self._floor > limit:
            return 0  # every entry's newest failure is after the limit (the daemon ticks at every ban)
        stale: list[str] = []
        floor = _NEVER
        for fid, entry in self._entries.items():
            last = entry.last
            if last <= limit:
                stale.append(fid)
            elif last < floor:
                floor = last
        self._floor = floor
        if len(stale) == len(self._entries):
            self._entries = {}
        else:
            for fid in stale:
                del self._entries[fid]
        return len(stale)
