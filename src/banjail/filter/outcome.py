"""What the matcher reports per line and per chunk: the contract between banjail.filter.matcher and its callers
(fail2ban-regex, the daemon's jails)."""

from __future__ import annotations

from dataclasses import dataclass, field

from banjail.model import Failure

MISSED = 0
MATCHED = 1
IGNORED = 2


@dataclass(frozen=True, slots=True)
class LineOutcome:
    """The result of offering one line to a filter.

    kind: MATCHED if any failregex matched the line (including <F-NOFAIL> matches, as fail2ban-regex counts them),
    IGNORED if an ignoreregex matched it, else MISSED.
    failregex: indices (0-based) of the failregexes that matched this line.
    failures: the failures this line completed (several with maxlines buffers; none for a NOFAIL match).
    template: display name of the date template that found this line's date, None if none did.
    """

    lineno: int
    line: str
    kind: int
    failregex: tuple[int, ...] = ()
    ignoreregex: int = -1
    failures: tuple[Failure, ...] = ()
    template: str | None = None


@dataclass(slots=True)
class ScanStats:
    """Counts accumulated over every line a Matcher.scan saw, whether or not an outcome was returned for it."""

    lines: int = 0
    matched: int = 0
    ignored: int = 0
    missed: int = 0
    prefregex_hits: int = 0  # lines the prefregex matched (fail2ban-regex prints `Prefregex: N total`)
    failregex_hits: list[int] = field(default_factory=list)  # per failregex index
    ignoreregex_hits: list[int] = field(default_factory=list)  # per ignoreregex index
    template_hits: dict[str, int] = field(default_factory=dict)  # date template display name -> lines
    native_lines: int = 0  # lines whose regexes the native engine ran (banjail.filter.native)


@dataclass(frozen=True, slots=True)
class Keep:
    """Which outcomes a chunk scan returns: missed, ignored and matched lines (a line that completed failures is
    always returned), and whether failures are built at all (they cost an object each; the counts never depend
    on them)."""

    missed: bool = False
    ignored: bool = True
    matched: bool = True
    failures: bool = True


def kind_of(ignored_by: int, nofail: bool, hits: object) -> int:
    """A line's kind from its step: IGNORED when an ignoreregex (or a NOFAIL match) took it, MATCHED when a
    failregex hit, else MISSED (`hits`: the failregex hits, any sized or truthy collection)."""
    if ignored_by >= 0 or nofail:
        return IGNORED
    return MATCHED if hits else MISSED


def wanted(keep: Keep, kind: int, failures: tuple[Failure, ...]) -> bool:
    """Whether a chunk scan returns the outcome of a line of this kind (one that completed failures always)."""
    if failures:
        return True
    if kind == MATCHED:
        return keep.matched
    return keep.ignored if kind == IGNORED else keep.missed
