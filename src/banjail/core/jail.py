"""JailState: one jail's pure pipeline, line in, events out.

    lines --Matcher.scan--> Failure --IgnoreSet--> (AskIgnore: the daemon runs ignorecommand, then `resume`)
         --FailureCounter--> BanRequest --BanPolicy (+ ban history)--> Ban --BanBook--> BanDecided
    tick(now) --BanBook--> Unban

Nothing here does I/O or reads a clock: `now` is an argument, the ban history comes from an injected lookup (the
store's `ban_history`, consulted only with bantime.increment), and every effect (store, actions, log lines) is an
event the daemon carries out in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from banjail.core.banbook import ALREADY, BANNED, EXPIRED, PROLONGED, BanBook
from banjail.core.banpolicy import BanHistory, BanPolicy
from banjail.core.counter import CLAMP_SECONDS, FailureCounter
from banjail.core.events import AskIgnore, BanDecided, Event, Found, Ignored, PrefixSplit, Restored
from banjail.core.ignore import IgnoreSet, parse_address, parse_network
from banjail.core.prefix import BanPrefix
from banjail.filter.matcher import Matcher
from banjail.filter.outcome import LineOutcome, ScanStats
from banjail.model import Ban, BanRequest, Failure, Unban

HistoryLookup = Callable[[str, str | None], BanHistory | None]

# Bound on remembered ban histories (bantime.increment); past it the memo starts over.
_HISTORY_MEMO = 65536
# Bound on the networks whose ignored address was already reported (PrefixSplit); past it they are told again.
_SPLITS_TOLD = 4096


def _no_history(_fid: str, _jail: str | None) -> BanHistory | None:
    return None


class JailState:
    """The state of one running jail: its matcher, ignore rules, failure counter, ban policy and ban book."""

    def __init__(
        self,
        name: str,
        *,
        matcher: Matcher | None,
        counter: FailureCounter,
        policy: BanPolicy,
        ignore: IgnoreSet | None = None,
        history: HistoryLookup = _no_history,
        ignorecommand: bool = False,
        prefix: BanPrefix | None = None,
    ) -> None:
        """prefix: count and ban failures by network (banprefix4/banprefix6); None counts every address."""
        self.name = name
        self.matcher = matcher
        self.counter = counter
        self.policy = policy
        self.ignore = ignore or IgnoreSet(ignoreself=False)
        self.book = BanBook(name)
        self.ignorecommand = ignorecommand
        self._history = history
        self._memo: dict[tuple[str, bool], BanHistory | None] = {}
        self.stats = ScanStats()
        self.prefix = None if prefix is None or prefix.per_address else prefix
        self._splits_told: set[str] = set()

    # -- lines and failures -------------------------------------------------------------------------------------

    def feed(self, line: str, now: float, *, catching_up: bool = False, lineno: int = 0) -> list[Event]:
        """Offer one complete log line; return the events it caused, in order."""
        if self.matcher is None:
            return []
        outcome = self.matcher.process(line, now, lineno)
        if not outcome.failures:
            return []
        events: list[Event] = []
        for failure in outcome.failures:
            self.failure(failure, now, events, catching_up=catching_up)
        return events

    def scan(self, lines: Sequence[str], now: float, *, catching_up: bool = False) -> list[Event]:
        """Offer a batch of complete log lines (the daemon's hot path); return the events they caused, in order.

        The matcher's own mode decides how dates are read (the daemon's is live: a dateless failure takes now);
        FailureCounter.admit_time then applies the time rule: in operation a time more than a minute from now, or
        in the future, counts as now; while `catching_up`, failures older than findtime are dropped. The caller
        sets `matcher.live` to False for catch-up batches, so their lines keep their own dates.
        """
        return self.count(self.match(lines, now), now, catching_up=catching_up)

    def match(self, lines: Sequence[str], now: float, *, matcher: Matcher | None = None) -> list[LineOutcome]:
        """The first half of `scan`: the outcomes of the lines that completed failures. Touches only the matcher
        and `stats`, so the daemon may run it off the event loop (one call at a time per jail, in order).
        matcher: the one to match with (the daemon's snapshot of `self.matcher` taken on the loop); default the
        jail's own."""
        if matcher is None:
            matcher = self.matcher
        if matcher is None or not lines:
            return []
        # ending the chunk with "\n" lets the matcher take its uniform-chunk path (banjail.filter.uniform)
        chunk = "\n".join(lines) + "\n"
        return matcher.scan(chunk, now, 1, self.stats, keep_ignored=False, keep_matched=False)

    def count(self, outcomes: Sequence[LineOutcome], now: float, *, catching_up: bool = False) -> list[Event]:
        """The second half of `scan`: count the failures of `outcomes` (from `match`), in order."""
        if not outcomes:
            return []
        events: list[Event] = []
        if self.prefix is not None or self.ignorecommand or self.policy.increment:
            failure = self.failure
            for outcome in outcomes:
                for found in outcome.failures:
                    failure(found, now, events, catching_up=catching_up)
            return events
        self._count_plain(outcomes, now, catching_up, events)
        return events

    def _count_plain(
        self, outcomes: Sequence[LineOutcome], now: float, catching_up: bool, events: list[Event]
    ) -> None:
        """`failure` then `_count` for each failure of a jail without banprefix, ignorecommand or
        bantime.increment (the daemon's usual case), inlined: a flood's batch counts 4096 failures here, and the
        four calls per failure were a third of counting's CPU. Same events, same counter state
        (tests/unit/core/test_jail_plain.py compares it with the per-failure path)."""
        counter = self.counter
        count = counter.count
        # no ignore rule (ignoreself off, no ignoreip): nothing to ask; rules change only between two calls
        ignore = None if self.ignore.ignores_nothing() else self.ignore.contains
        append = events.append
        decide = self._decide_plain  # this path is taken only without bantime.increment
        # FailureCounter.admit_time, inlined (findtime cannot change during this synchronous loop). In operation
        # its two clamps are one test without calls: abs(int(d)) > CLAMP_SECONDS (int truncates toward zero) is
        # d >= CLAMP_SECONDS + 1 or d <= -(CLAMP_SECONDS + 1), and the first half is within `time > now`, d > 0.
        oldest = now - counter.findtime
        late = -float(CLAMP_SECONDS + 1)
        for outcome in outcomes:
            for failure in outcome.failures:
                time = failure.time
                if catching_up:
                    if time < oldest:
                        continue
                    if time > now:
                        time = now
                else:
                    delta = time - now
                    if delta > 0.0 or delta <= late:
                        time = now
                source = None if ignore is None else ignore(failure.ip or failure.fid)
                if source is not None:
                    append(Ignored(failure, source))
                    continue
                append(Found(failure, time))
                request = count(failure, time, 1)
                if request is not None:
                    append(decide(request, now))

    def recount(self, failures: Iterable[tuple[Failure, float, int]], now: float) -> list[Event]:
        """Rebuild the counter from failures counted before a restart (failure, admitted time, retries), in their
        order. No Found events: they were reported then. A fid that reaches maxretry (maxretry was lowered) is
        decided as any other; "Total failed" restarts from zero, as upstream's."""
        events: list[Event] = []
        counter = self.counter
        total = counter.total
        for failure, time, count in failures:
            request = counter.count(failure, time, count)
            if request is not None:
                events.append(self._decide(request, now))
        counter.total = total
        return events

    def failure(
        self, failure: Failure, now: float, events: list[Event], *, catching_up: bool = False, count: int = 1
    ) -> None:
        """Count one failure (from the matcher, or a manual `attempt`), appending its events to `events`."""
        time = self.counter.admit_time(failure.time, now, catching_up=catching_up)
        if time is None:
            return
        source = self.ignore.contains(failure.ip or failure.fid)
        if source is not None:
            events.append(Ignored(failure, source))
            return
        if self.ignorecommand:
            events.append(AskIgnore(failure, time))
            return
        self._count(failure, time, now, events, count)

    def resume(self, ask: AskIgnore, ignored: bool, now: float) -> list[Event]:
        """Finish a failure the daemon checked with ignorecommand (ignored: the command said so)."""
        if ignored:
            return [Ignored(ask.failure, "command")]
        events: list[Event] = []
        self._count(ask.failure, ask.time, now, events, 1)
        return events

    def attempt(self, fid: str, lines: Iterable[str], now: float) -> list[Event]:
        """A manual failure (`set <jail> attempt <ip> [line ...]`) at `now`: counts len(lines) retries, at least
        one. As upstream's addAttempt, it is counted as given: no ignore rule, no ignorecommand, and no extra
        weight from the fid's ban history (bantime.increment)."""
        matches = tuple(lines)
        address = parse_address(fid)
        ip = None if address is None else str(address)
        failure = Failure(fid=ip or fid, ip=ip, time=now, lines=matches)
        events: list[Event] = []
        self._count(failure, now, now, events, max(1, len(matches)), attempt=True)
        return events

    def _count(
        self, failure: Failure, time: float, now: float, events: list[Event], count: int, *, attempt: bool = False
    ) -> None:
        if self.prefix is not None and not attempt:
            failure = self._widen(failure, events)
        if self.policy.increment and not attempt:
            known = self.history(failure.fid, overall=False)
            count = max(count, self.policy.failure_weight(time, known, self.counter.maxretry))
        events.append(Found(failure, time, count, attempt))
        request = self.counter.count(failure, time, count)
        if request is not None:
            events.append(self._decide(request, now))

    def _widen(self, failure: Failure, events: list[Event]) -> Failure:
        """The failure counted under its network (banprefix4/banprefix6), unless an ignore rule covers an address
        of that network: then it stays the address's own (told once per network by a PrefixSplit)."""
        prefix = self.prefix
        ip = failure.ip
        if prefix is None or ip is None or failure.fid != ip:
            return failure  # an <F-ID> fid, or no address: nothing to widen
        network = prefix.network(ip)
        if network is None:
            return failure
        rule = self.ignore.overlap(network)
        if rule is None:
            return replace(failure, fid=network, ip=network)
        if network not in self._splits_told:
            if len(self._splits_told) >= _SPLITS_TOLD:
                self._splits_told.clear()
            self._splits_told.add(network)
            events.append(PrefixSplit(failure, network, rule))
        return failure

    # -- bans ---------------------------------------------------------------------------------------------------

    def history(self, fid: str, *, overall: bool) -> BanHistory | None:
        """fid's ban history from the injected lookup (memoised until fid is banned or unbanned again)."""
        key = (fid, overall)
        if key in self._memo:
            return self._memo[key]
        if len(self._memo) >= _HISTORY_MEMO:
            self._memo.clear()
        found = self._memo[key] = self._history(fid, None if overall else self.name)
        return found

    def _forget_history(self, fid: str) -> None:
        self._memo.pop((fid, False), None)
        self._memo.pop((fid, True), None)

    def _decide(self, request: BanRequest, now: float) -> BanDecided:
        if not self.policy.increment:
            return self._decide_plain(request, now)
        return self._decide_any(request, now)

    def _decide_plain(self, request: BanRequest, now: float) -> BanDecided:
        """_decide_any without bantime.increment (no history to read, no ban recorded before, no formula error),
        through BanPolicy.plain and BanBook.offer: no Verdict or Admission per decision, and no Ban for a fid whose
        ban in force lasts longer (a flood's batch makes thousands of decisions, most of them "already banned":
        4,040-5,201 of the daemon bench's 6,726; tests/unit/core/test_decide_plain.py compares it with
        _decide_any)."""
        policy, book = self.policy, self.book
        until = policy.plain_end(request.at)
        if until is not None and until < now:
            return BanDecided(EXPIRED, _expired(request), False, "")
        held = book.holds(request.fid, until)
        if held is not None:
            return BanDecided(ALREADY, held, False, "")
        kind, ban = book.offer(policy.plain(request, until), now)
        store = kind in (BANNED, PROLONGED)
        if store and self._memo:  # memoised while increment was on (`set <jail> bantime.increment`)
            self._forget_history(request.fid)
        return BanDecided(kind, ban, store, "")

    def _decide_any(self, request: BanRequest, now: float) -> BanDecided:
        known = self.history(request.fid, overall=self.policy.overalljails) if self.policy.increment else None
        verdict = self.policy.decide(request, known, now)
        if verdict.ban is None:
            return BanDecided(EXPIRED, _expired(request), False, verdict.error)
        admission = self.book.admit(verdict.ban, now)
        store = admission.kind in (BANNED, PROLONGED) and not verdict.recorded
        if store:
            self._forget_history(request.fid)
        return BanDecided(admission.kind, admission.ban, store, verdict.error)

    def ban(self, fid: str, now: float) -> BanDecided:
        """A manual ban (`set <jail> banip <ip>`): as a failure ban at now, with no failures or lines."""
        address = parse_address(fid)
        ip = None if address is None else str(address)
        self.counter.forget(ip or fid)
        return self._decide(
            BanRequest(jail=self.name, fid=ip or fid, ip=ip, at=now, failures=0, lines=()), now
        )

    def restore(self, bans: Iterable[Ban], now: float, *, cap: bool = True) -> list[Event]:
        """Re-apply bans read from the store at start (restored=True; nothing to store again). Bans of fids that
        are ignored now are skipped with an Ignored event, expired ones dropped; with `cap`, a ban longer than
        the policy's max_bantime is shortened to it first (BanPolicy.cap_restored, as upstream). Restored bans
        keep their length (Ban.follows is False). Events: the Ignored ones first, then one Restored with every
        ban newly in force (in the order given), then a BanDecided for each ban that met one already in force
        (prolonged or already banned), in the order given."""
        if cap:
            bans = self.policy.cap_restored(bans, now)
        events: list[Event] = []
        kept: list[Ban] = []
        contains = self.ignore.contains
        keep = kept.append
        for ban in bans:
            source = contains(ban.ip or ban.fid)
            if source is None:
                keep(ban)
            else:
                events.append(Ignored(_as_failure(ban), source))
        # Bans are independent, so only the order within each kind matters; a fid's first admission is in
        # Restored, so its later prolongation (a BanDecided) correctly comes after it.
        banned, others = self.book.restore(kept, now)
        if banned:
            events.append(Restored(tuple(banned)))
        events.extend(BanDecided(a.kind, a.ban, False) for a in others)
        return events

    def set_bantime(self, bantime: float) -> list[Ban]:
        """The jail's bantime is now `bantime` (-1: permanent): new bans get it, and every ban in force that
        follows the jail's bantime ends at its time plus it (BanBook.rebase). Returns the bans whose end moved."""
        self.policy = replace(self.policy, bantime=bantime)
        return self.book.rebase(bantime)

    def unban(self, target: str, now: float) -> list[Unban]:
        """A manual unban (`set <jail> unbanip`): the fid itself, or every banned address in a network; the
        daemon deletes each from the store. An empty list means it was not banned."""
        address = parse_address(target)
        fid = target if address is None else str(address)
        if fid in self.book:
            self._forget_history(fid)
            unban = self.book.remove(fid, now)
            return [] if unban is None else [unban]
        network = parse_network(target) if "/" in target else None
        if network is None:
            return []
        unbans = []
        for ban in self.book.banned():
            banned = parse_address(ban.ip or ban.fid)
            if banned is not None and banned.version == network.version and banned in network:
                self._forget_history(ban.fid)
                unban = self.book.remove(ban.fid, now)
                if unban is not None:
                    unbans.append(unban)
        return unbans

    def tick(self, now: float) -> list[Unban]:
        """Time passes: return the bans that ended (and drop failures that left findtime)."""
        self.counter.expire(now)
        unbans = self.book.due(now)
        for unban in unbans:
            self._forget_history(unban.fid)
        return unbans

    def next_wakeup(self) -> float | None:
        """When `tick` next has work: the earliest ban end (None: no ban ends)."""
        return self.book.next_end()


def _expired(request: BanRequest) -> Ban:
    return Ban(
        jail=request.jail,
        fid=request.fid,
        ip=request.ip,
        at=request.at,
        until=request.at,
        count=1,
        failures=request.failures,
        lines=request.lines,
        groups=request.groups,
    )


def _as_failure(ban: Ban) -> Failure:
    return Failure(fid=ban.fid, ip=ban.ip, time=ban.at, lines=ban.lines, groups=ban.groups)


__all__ = [
    "ALREADY",
    "BANNED",
    "EXPIRED",
    "PROLONGED",
    "AskIgnore",
    "BanDecided",
    "Event",
    "Found",
    "Ignored",
    "JailState",
    "PrefixSplit",
    "Restored",
]
