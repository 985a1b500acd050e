"""The filter under audit, run through banjail's engine (banjail.filter.matcher.Matcher, as fail2ban-regex runs
it: every failregex tried on every line): what a text makes each regex see, and which victim addresses a text
makes the filter capture.

A victim is captured when the engine reports a failure whose id or address is the victim, or when a failregex
that the engine counted as a hit on the line (not ignored) captured the victim in its address or id group
without a failure of its own (an <F-NOFAIL> helper, an <F-MLFID> session waiting for its address): those name
the address a session's later failures are charged to.

Host names are resolved only in the `V.nip.io` form the payloads use (to the address they spell); no DNS query is
ever made.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from banjail import netaddr
from banjail.filter import session
from banjail.filter.datedetect import DateDetector
from banjail.filter.failregex import CompiledRegex
from banjail.filter.matcher import Matcher
from banjail.filter.outcome import LineOutcome
from banjail.model import FilterSpec

_NIP = re.compile(r"(?P<addr>[\w.:-]+)\.nip\.io\.?\Z", re.IGNORECASE)


def nip_resolver(name: str) -> Sequence[str]:
    """`198.51.100.7.nip.io` and `198-51-100-7.nip.io` resolve to 198.51.100.7 (as the public service does);
    every other name resolves to nothing."""
    m = _NIP.match(name)
    if m is None:
        return ()
    text = m.group("addr")
    for candidate in (text, text.replace("-", ".") if "." not in text else text, text.replace("-", ":")):
        address = netaddr.canonical(candidate)
        if address is not None:
            return (address,)
    return ()


def canonical_victim(text: str | None) -> str | None:
    """The address `text` names (IPv4-mapped folded to IPv4), or None."""
    if not text:
        return None
    return netaddr.canonical(text.strip("[]"))


@dataclass(frozen=True, slots=True)
class Searched:
    """What one regex searches for a run of raw lines: the text, and for each of its characters (and its end)
    the offset in the raw text (the lines joined by "\\n") it came from."""

    text: str
    origin: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Capture:
    """A victim captured: by which failregex (0-based) and how ("failure" or "match")."""

    regex: int
    victim: str
    how: str


class Probe:
    """One filter, compiled once, run on many short texts (each with fresh per-log state)."""

    def __init__(self, spec: FilterSpec, now: float) -> None:
        self.spec = spec
        self.now = now
        self.detector = DateDetector(spec.datepattern, logtimezone=spec.logtimezone)
        self.matcher = Matcher(spec, detector=self.detector, resolver=nip_resolver, check_all=True, live=True)
        self.failregex: tuple[CompiledRegex, ...] = self.matcher.regexes.failregex
        self.prefregex: CompiledRegex | None = self.matcher.regexes.prefregex
        self.maxlines = self.matcher.maxlines

    def run(self, lines: Sequence[str]) -> list[LineOutcome]:
        """The engine's outcome for each line, starting from a fresh state."""
        self.matcher.sessions = session.SessionCache()
        for _ in range(self.maxlines - 1):
            self.matcher.process("", self.now)  # empties a multi-line buffer
        return [self.matcher.process(line, self.now) for line in lines]

    def hits(self, lines: Sequence[str]) -> set[int]:
        """The failregexes the engine counted as hits on the last line."""
        outcomes = self.run(lines)
        return set(outcomes[-1].failregex) if outcomes else set()

    def buffer(self, lines: Sequence[str]) -> Searched:
        """The buffer text the prefregex (or, without one, the failregexes) searches: the last `maxlines` lines,
        each without its date, joined by "\\n" and ending with one."""
        chars: list[str] = []
        origin: list[int] = []
        base = 0
        first = max(0, len(lines) - self.maxlines)
        for index, line in enumerate(lines):
            if index >= first:
                hit = self.detector.find(line, self.now)
                cut = (hit.start, hit.end) if hit is not None and hit.end > hit.start else (0, 0)
                for col, ch in enumerate(line):
                    if not cut[0] <= col < cut[1]:
                        chars.append(ch)
                        origin.append(base + col)
                chars.append("\n")
                origin.append(base + len(line))
            base += len(line) + 1
        origin.append(base - 1 if lines else 0)
        return Searched("".join(chars), tuple(origin))

    def _cut(self, line: str) -> str:
        hit = self.detector.find(line, self.now)
        return line[: hit.start] + line[hit.end :] if hit is not None and hit.end > hit.start else line

    def searched_text(self, lines: Sequence[str]) -> str:
        """searched(lines).text, faster (no origin)."""
        text = "\n".join(self._cut(line) for line in lines[-self.maxlines :]) + "\n"
        if self.prefregex is None:
            return text
        m = self.prefregex.pattern.search(text)
        if m is None or "content" not in m.re.groupindex or not m.group("content"):
            return text
        return m.group("content") + "\n"

    def searched(self, lines: Sequence[str]) -> Searched:
        """The text the failregexes search (the prefregex's <F-CONTENT> when it has one and it matches)."""
        whole = self.buffer(lines)
        if self.prefregex is None:
            return whole
        m = self.prefregex.pattern.search(whole.text)
        if m is None or "content" not in m.re.groupindex or not m.group("content"):
            return whole
        start, end = m.span("content")
        return Searched(whole.text[start:end] + "\n", (*whole.origin[start:end], whole.origin[end]))

    def address_text(self, index: int, text: str) -> str:
        """The address (or id) text failregex `index` captures in `text`, "" when none."""
        regex = self.failregex[index]
        m = regex.pattern.search(text)
        if m is None:
            return ""
        groups = regex.groups(m)
        for key in ("ip4", "ip6", "dns", "fid"):
            value = groups.get(key)
            if isinstance(value, str) and value:
                return value
        return ""

    def _session_end(self, index: int, text: str) -> bool:
        """Whether failregex `index` matches `text` as the end of an <F-MLFID> session (<F-MLFGAINED>, or
        <F-MLFFORGET> without a failure): the address it names is not charged with anything."""
        m = self.failregex[index].pattern.search(text)
        if m is None:
            return False
        groups = m.groupdict()
        return bool(groups.get("mlfgained") or groups.get("mlfforget"))

    def captures(self, lines: Sequence[str], victims: frozenset[str]) -> list[Capture]:
        """The victims (canonical addresses) that `lines` make the filter capture."""
        outcomes = self.run(lines)
        found: list[Capture] = []
        for outcome in outcomes:
            for failure in outcome.failures:
                for text in (failure.fid, failure.ip):
                    victim = canonical_victim(text)
                    if victim in victims:
                        found.append(Capture(failure.regex_index, str(victim), "failure"))
                        break
        last = outcomes[-1] if outcomes else None
        if found or last is None or not last.failregex or last.ignoreregex >= 0:
            return found
        text = self.searched_text(lines)
        for index in sorted(set(last.failregex)):
            if self._session_end(index, text):
                continue
            captured = self.address_text(index, text)
            names = nip_resolver(captured) if captured and canonical_victim(captured) is None else (captured,)
            for name in names:
                victim = canonical_victim(name)
                if victim in victims:
                    found.append(Capture(index, str(victim), "match"))
                    break
        return found
