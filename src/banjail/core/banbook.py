"""BanBook: the bans in force in one jail, and when each one ends (upstream's BanManager semantics).

* A fid is banned at most once at a time. A new ban for a banned fid only prolongs it, when it would end later:
  the ban then ends when the new one would (for a new ban at or before the old one's time: the old time plus the
  new length), as upstream's "Increase Ban"/prolong does.
* A prolonged ban has its own length from then on (upstream's `oldticket.setBanTime`).
* A ban that follows the jail's bantime (Ban.follows) ends at its time plus the bantime in force: `rebase` moves
  the end of every such ban when the jail's bantime changes, up or down, to or from -1.
* A ban is due for unbanning once now is strictly after its end; permanent bans never are.
* `banned()` lists bans by end time (permanent last), as `fail2ban-client status` and `banned` show them.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass

from banjail.model import Ban, Unban

BANNED = "banned"
PROLONGED = "prolonged"
ALREADY = "already banned"
EXPIRED = "expired"

_FOREVER = float("inf")


@dataclass(frozen=True, slots=True)
class Admission:
    """What happened to a ban offered to the book: kind is BANNED (apply it), PROLONGED (the ban in force now
    lasts longer: `ban` is the updated one), ALREADY (nothing to do; `ban` is the one in force) or EXPIRED (it
    would have ended before now; `ban` is the offered one)."""

    kind: str
    ban: Ban


def _end(ban: Ban) -> float:
    return _FOREVER if ban.until is None else ban.until


class BanBook:
    """The current bans of one jail. Pure: every call takes `now`; nothing is applied here."""

    def __init__(self, jail: str) -> None:
        self.jail = jail
        self.total = 0  # bans admitted since start ("Total banned")
        self._bans: dict[str, Ban] = {}
        self._heap: list[tuple[float, int, str]] = []  # (end, sequence, fid); stale rows are skipped lazily
        self._sequence = 0

    def __len__(self) -> int:
        """How many fids are banned now ("Currently banned")."""
        return len(self._bans)

    def __contains__(self, fid: object) -> bool:
        return fid in self._bans

    def get(self, fid: str) -> Ban | None:
        return self._bans.get(fid)

    def _schedule(self, ban: Ban) -> None:
        if ban.until is not None:
            self._sequence += 1
            heapq.heappush(self._heap, (ban.until, self._sequence, ban.fid))

    def admit(self, ban: Ban, now: float) -> Admission:
        """Offer a ban (new, manual or restored)."""
        kind, ban = self.offer(ban, now)
        return Admission(kind, ban)

    def holds(self, fid: str, until: float | None) -> Ban | None:
        """The ban in force of fid that a new ban ending at `until` (None: never) would not outlast (`admit`
        says ALREADY), else None."""
        old = self._bans.get(fid)
        if old is None or (_FOREVER if until is None else until) > _end(old):
            return None
        return old

    def offer(self, ban: Ban, now: float) -> tuple[str, Ban]:
        """`admit` as (kind, ban), without the Admission: a flood's batch decides thousands of bans."""
        until = ban.until
        if until is not None and until < now:
            return EXPIRED, ban
        fid = ban.fid
        bans = self._bans
        old = bans.get(fid)
        if old is None:
            bans[fid] = ban
            self.total += 1
            if until is not None:  # _schedule, inlined
                self._sequence += 1
                heapq.heappush(self._heap, (until, self._sequence, fid))
            return BANNED, ban
        if _end(ban) <= _end(old):
            return ALREADY, old
        # The new length counted from the newer of the two ban times.
        if until is not None:
            until = max(ban.at, old.at) + (until - ban.at)
        # replace(old, until=, count=, follows=False), positional (Ban's field order): a third of replace()'s cost
        o = old
        longer = Ban(o.jail, o.fid, o.ip, o.at, until, max(o.count, ban.count), o.failures, o.lines, o.groups,
                     o.restored, False)  # fmt: skip
        bans[fid] = longer
        self._schedule(longer)
        return PROLONGED, longer

    def restore(self, bans: Iterable[Ban], now: float) -> tuple[list[Ban], list[Admission]]:
        """Admit many bans at once (the start-up restore of stored bans), as `admit` of each in order would,
        without the expired ones. Returns the bans admitted as BANNED (in order; one list, no Admission per ban:
        a restore brings 100k) and the admissions of any other kind (a fid stored twice, or a restore over a ban
        already in force), in order. The ends are scheduled with one heapify."""
        banned: list[Ban] = []
        others: list[Admission] = []
        book = self._bans
        heap = self._heap
        sequence = self._sequence
        keep, push = banned.append, heap.append
        for ban in bans:
            until = ban.until
            if until is not None and until < now:
                continue
            fid = ban.fid
            if fid in book:  # rare: a fid stored twice, or a restore over a live ban
                self._sequence = sequence
                others.append(self.admit(ban, now))
                sequence = self._sequence
                continue
            book[fid] = ban
            if until is not None:
                sequence += 1
                push((until, sequence, fid))
            keep(ban)
        self.total += len(banned)
        self._sequence = sequence
        # admit() above may have pushed onto the unordered list; heapify restores the invariant for all rows.
        heapq.heapify(heap)
        return banned, others

    def rebase(self, bantime: float) -> list[Ban]:
        """The jail's bantime is now `bantime` (-1: permanent): every ban that follows it ends at its time plus
        bantime from now on. Returns the bans whose end moved, as they are now, in ban order. An end moved into
        the past is due at the next `due` (upstream only looks again at the end it had planned before; banjail
        lifts such a ban at once). O(n), one heapify: a `set bantime` is rare, a book may hold 100k bans."""
        moved: list[Ban] = []
        book = self._bans
        for fid, ban in book.items():
            if not ban.follows:
                continue
            until = None if bantime == -1 else ban.at + bantime
            if until != ban.until:
                # positional (Ban's field order): about half replace()'s cost, 100k times
                b = ban
                book[fid] = ban = Ban(
                    b.jail, b.fid, b.ip, b.at, until, b.count, b.failures, b.lines, b.groups, b.restored, True
                )
                moved.append(ban)
        if moved:
            # every end anew: rows pushed for the old ends would otherwise pile up until their time comes
            base = self._sequence
            self._heap = [
                (b.until, base + i, fid) for i, (fid, b) in enumerate(book.items()) if b.until is not None
            ]
            self._sequence = base + len(book)
            heapq.heapify(self._heap)
        return moved

    def current(self, ban: Ban) -> Ban:
        """The book's version of `ban` (same fid and time) when it is in force, else `ban` itself: a ban decided
        before a `rebase` or a prolongation is applied and stored with the end it has now."""
        found = self._bans.get(ban.fid)
        return found if found is not None and found.at == ban.at else ban

    def remove(self, fid: str, now: float, *, manual: bool = True) -> Unban | None:
        """End fid's ban now (`unbanip`); None when it is not banned."""
        ban = self._bans.pop(fid, None)
        if ban is None:
            return None
        return Unban(jail=self.jail, fid=fid, ip=ban.ip, at=now, manual=manual)

    def remove_all(self, now: float) -> list[Unban]:
        """End every ban now (`unban --all`, jail stop), in ban order."""
        unbans = [
            Unban(jail=self.jail, fid=fid, ip=ban.ip, at=now, manual=True) for fid, ban in self._bans.items()
        ]
        self._bans.clear()
        self._heap.clear()
        return unbans

    def next_end(self) -> float | None:
        """When the next ban ends (the scheduler's next wake-up), or None when none will."""
        heap = self._heap
        while heap:
            end, _, fid = heap[0]
            current = self._bans.get(fid)
            if current is not None and current.until == end:
                return end
            heapq.heappop(heap)  # unbanned or prolonged since it was scheduled
        return None

    def due(self, now: float) -> list[Unban]:
        """Remove and return the bans that have ended (now strictly after their end), earliest first."""
        unbans: list[Unban] = []
        heap = self._heap
        while heap and heap[0][0] < now:
            end, _, fid = heapq.heappop(heap)
            current = self._bans.get(fid)
            if current is None or current.until != end:
                continue
            del self._bans[fid]
            unbans.append(Unban(jail=self.jail, fid=fid, ip=current.ip, at=now))
        return unbans

    def banned(self) -> list[Ban]:
        """The bans in force, by end time (permanent last; ties in ban order)."""
        return sorted(self._bans.values(), key=_end)
