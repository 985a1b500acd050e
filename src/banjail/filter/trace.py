"""What fail2ban-regex -v lists under the prefregex and each failregex, as upstream 1.0.2 lists it: the groups of
the first lines the prefregex matched, and every failregex match that counted a hit, <F-NOFAIL> matches and
<F-MLFID> sessions still waiting for their identifier included (which no Failure stands for).

Filled by the general step (banjail.filter.step) when LogState.trace is set; only the Python reference runs it,
one line at a time (banjail.filter.matcher's `trace`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

PENDING = "None"  # how upstream prints the id of a session that has none yet


@dataclass(frozen=True, slots=True)
class Match:
    """One hit of failregex `index`: the id as printed, the line's date (None: the line has none) and whether
    more than one match of the line that is not <F-NOFAIL> came before it (upstream's "multiple regex matched")."""

    index: int
    fid: str
    time: float | None
    several: bool


@dataclass(slots=True)
class Trace:
    """The matches of a run, and the prefregex groups of its first `limit` prefregex matches ("..." after them)."""

    limit: int = 20
    matches: list[Match] = field(default_factory=list)
    pref_groups: list[str] = field(default_factory=list)
    _line_real: int = 0  # matches of the current line that are not <F-NOFAIL>
    _last_groups: str = ""

    def new_line(self) -> None:
        self._line_real = 0

    def prefregex(self, groups: dict[str, Any] | None = None) -> None:
        """A line the prefregex matched, with these groups; None: the last line's again (upstream reads the
        prefregex's last match for a line an ignoreregex took before the prefregex ran)."""
        if groups is not None:
            self._last_groups = repr(groups)
        if len(self.pref_groups) < self.limit:
            self.pref_groups.append(self._last_groups)
        elif len(self.pref_groups) == self.limit:
            self.pref_groups.append("...")

    def failregex(self, index: int, ids: Sequence[tuple[str, str | None]] | None, date: float | None,
                  nofail: bool) -> None:
        for fid in [PENDING] if ids is None else [fid for fid, _ in ids]:
            self.matches.append(Match(index, fid, date, self._line_real > 1))
            if not nofail:
                self._line_real += 1
