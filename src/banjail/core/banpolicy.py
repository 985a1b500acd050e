"""Ban length decisions: bantime and upstream's `bantime.*` options (increment, factor, formula, multipliers,
maxtime, rndtime, overalljails), as upstream 1.0.2 computes them.

A ban lasts from the time of the fid's last failure for `bantime` seconds (-1: permanent). With
`bantime.increment` and a positive bantime, a fid the store has seen banned `n` times before (in this jail, or in
any jail with `overalljails`) is banned for f(bantime, n), where f is:

* with `multipliers` m0 m1 ...: bantime * factor * m[min(n, len(m) - 1)];
* otherwise max(bantime, formula) with formula (default `ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) *
  banFactor`) evaluated by banjail.core.formula (safe, no eval);
* then capped by `maxtime`, then `rndtime` adds random() * rndtime seconds (random source injected).

The first ban of a fid (n = 0) is never incremented, and without `increment` every ban counts as the first.
Such a ban follows the jail's bantime (Ban.follows: its end moves with `set bantime`); an incremented one has
its own length.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from banjail.core.formula import Formula, parse
from banjail.errors import ConfigError, Problem
from banjail.model import Ban, BanRequest

DEFAULT_FORMULA = "ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor"


@dataclass(frozen=True, slots=True)
class BanHistory:
    """What the store knows about a fid's previous bans (upstream's `bips` row, or its sum over jails).

    count: bans recorded; last_at: time of the newest recorded ban; last_bantime: its length (sum over jails with
    overalljails, as upstream).
    """

    count: int
    last_at: float
    last_bantime: float


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one BanRequest.

    ban: the Ban to apply, or None when it would already have ended at `now` (upstream logs "Ignore <ip>,
    expired bantime"). recorded: the store already holds this ban (the request's time is not after the newest
    recorded ban: lines re-read after a restart), so it must not be added again. error: why an increment formula
    failed (the base bantime was used), else "".
    """

    ban: Ban | None
    recorded: bool = False
    error: str = ""


def _number(text: str, option: str) -> float:
    try:
        return parse(text, option).evaluate()
    except ConfigError:
        raise
    except (ArithmeticError, ValueError) as exc:
        raise ConfigError(Problem(f"cannot be computed: {exc}", option=option, value=text)) from None


@dataclass(frozen=True, slots=True)
class BanPolicy:
    """How long bans last in one jail. Immutable; build it with `from_options` from the config's values."""

    bantime: float = 600.0
    increment: bool = False
    factor: float = 1.0
    formula: Formula | None = None  # None: DEFAULT_FORMULA
    multipliers: tuple[float, ...] = ()
    maxtime: float | None = None
    rndtime: float | None = None
    overalljails: bool = False
    rand: Callable[[], float] = field(default=random.random, compare=False)

    @classmethod
    def from_options(
        cls,
        *,
        bantime: float,
        increment: bool = False,
        factor: str = "",
        formula: str = "",
        multipliers: str = "",
        maxtime: float | None = None,
        rndtime: float | None = None,
        overalljails: bool = False,
        rand: Callable[[], float] = random.random,
    ) -> BanPolicy:
        """Build a policy from option texts (`bantime.factor`, `.formula`, `.multipliers`; times already in
        seconds). Empty texts mean the defaults. Raises ConfigError listing every bad option."""
        problems: list[Problem] = []
        factor_value = 1.0
        if factor.strip():
            try:
                factor_value = _number(factor, "bantime.factor")
            except ConfigError as exc:
                problems.extend(exc.problems)
        compiled: Formula | None = None
        if formula.strip() and formula.strip() != DEFAULT_FORMULA:
            try:
                compiled = parse(formula, "bantime.formula")
            except ConfigError as exc:
                problems.extend(exc.problems)
        steps: list[float] = []
        for word in multipliers.split():
            try:
                steps.append(float(word))
            except ValueError:
                problems.append(
                    Problem(
                        f"{word!r} is not a number",
                        option="bantime.multipliers",
                        value=multipliers,
                        fix="give numbers separated by spaces, e.g. 1 2 4 8 16",
                    )
                )
        if problems:
            raise ConfigError(problems)
        return cls(
            bantime=bantime,
            increment=increment,
            factor=factor_value,
            formula=compiled,
            multipliers=tuple(steps),
            maxtime=maxtime,
            rndtime=rndtime,
            overalljails=overalljails,
            rand=rand,
        )

    def incremented(self, previous: int) -> float:
        """The ban length for a fid banned `previous` times before (previous > 0), under increment.

        Raises ArithmeticError or ValueError if the formula cannot be computed for these values.
        """
        base = self.bantime
        if self.multipliers:
            steps = self.multipliers
            length = base * self.factor * steps[previous if previous < len(steps) else -1]
        else:
            formula = self.formula or _DEFAULT
            length = max(base, formula.evaluate(time=base, count=previous, factor=self.factor))
        if self.maxtime is not None:
            length = min(length, self.maxtime)
        if self.rndtime is not None:
            length += self.rand() * self.rndtime
        return float(length)

    def decide(self, request: BanRequest, history: BanHistory | None, now: float) -> Verdict:
        """Turn a BanRequest into a Ban, given the fid's ban history from the store (None if it has none; look it
        up across jails when `overalljails`)."""
        base = self.bantime
        length = base
        count = 1
        error = ""
        recorded = False
        # Upstream gives a ban a length of its own as soon as increment finds the fid in the store, even when the
        # incremented length equals the base (multipliers `1 1`: checked on 1.0.2); every other ban (the first
        # one, a failed formula, bantime -1, no increment) follows the jail's bantime (Ban.follows).
        follows = True
        if self.increment and base > 0 and history is not None:
            count = max(1, history.count + 1)
            recorded = request.at <= history.last_at
            follows = False
            if history.count > 0:
                try:
                    length = self.incremented(history.count)
                except (ArithmeticError, ValueError) as exc:
                    error = f"bantime.formula failed for count {history.count}: {exc}"
                    length = base
                    follows = True
        # Upstream drops a request whose ban at the jail's own bantime would already be over.
        if base != -1 and request.at + base < now:
            return Verdict(None, recorded, error)
        until = None if base == -1 or length == -1 else request.at + length
        ban = Ban(
            jail=request.jail,
            fid=request.fid,
            ip=request.ip,
            at=request.at,
            until=until,
            count=count,
            failures=request.failures,
            lines=request.lines,
            groups=request.groups,
            follows=follows,
        )
        return Verdict(ban, recorded, error)

    def plain_end(self, at: float) -> float | None:
        """When the ban of a fid with no ban history (always so without increment), banned at `at`, ends (None:
        never). decide() drops it (Verdict(None)) when that end is before now."""
        base = self.bantime
        return None if base == -1 else at + base

    def plain(self, request: BanRequest, until: float | None) -> Ban:
        """decide(request, None, now).ban, without the Verdict, for its end `until` (plain_end; not before now):
        nothing recorded, no error, count 1, following the jail's bantime."""
        r = request  # positional (Ban's field order)
        return Ban(r.jail, r.fid, r.ip, r.at, until, 1, r.failures, r.lines, r.groups, False, True)

    @property
    def max_bantime(self) -> float | None:
        """The longest a restored ban may last (upstream's getMaxBanTime): `bantime.maxtime` with increment,
        else bantime; None when there is no cap (bantime -1, or increment without maxtime)."""
        cap = (-1.0 if self.maxtime is None else self.maxtime) if self.increment else self.bantime
        return None if cap < 0 else cap

    def cap_restored(self, bans: Iterable[Ban], now: float) -> list[Ban]:
        """Bans read back from the store, as upstream's getCurrentBans corrects them: a ban longer than
        `max_bantime`, or permanent, lasts max_bantime from its time; those then over at `now` are left out."""
        cap = self.max_bantime
        if cap is None:
            return list(bans)
        kept: list[Ban] = []
        for ban in bans:
            if ban.until is None or ban.until - ban.at > cap:
                ban = replace(ban, until=ban.at + cap)
            if ban.until is not None and ban.until <= now:
                continue
            kept.append(ban)
        return kept

    def failure_weight(self, failure_time: float, history: BanHistory | None, maxretry: int) -> int:
        """How many retries a new failure of a known bad fid counts for (upstream's observer boost): 1 normally;
        with increment, for a fid banned n >= 1 times in this jail, min(2**(n-1) + 1, maxretry), unless the
        failure is not after the newest recorded ban. Pass the history of this jail only (not overalljails)."""
        if not self.increment or history is None or history.count < 1 or failure_time <= history.last_at:
            return 1
        boost = (1 << min(history.count, 20)) // 2 + 1
        return max(1, min(boost, maxretry))


_DEFAULT = parse(DEFAULT_FORMULA)
