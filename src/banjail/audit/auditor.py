"""The audit: can text that a client writes into a log line make a filter capture an address of its choosing?

Without knowing the service: take lines each failregex matches (given lines: a log or sample lines; for a
failregex none of them matches, a line written from its own tree, banjail.audit.synth), find the spans of each
line that free-text parts of the regexes matched (banjail.audit.spans), write each payload family
(banjail.audit.payloads) into each span for IPv4, IPv4-mapped IPv6 and IPv6 victims, and run every such line
through the engine (banjail.audit.probe). A finding is a (capturing failregex, span) pair with the shortest line
that showed it.

Pure: no I/O; the caller supplies lines and `now`, and may pass a progress callback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from banjail.audit import payloads, spans, synth, tree
from banjail.audit.probe import Probe, canonical_victim
from banjail.model import FilterSpec

BASES_PER_REGEX = 2
GENERATED_PER_REGEX = 3
LOG, SAMPLE, GENERATED = "log", "sample", "generated"
PREFREGEX = -1  # the span's regex: the prefregex

Progress = Callable[[int, int, int], None]  # (spans done, spans in all, lines tried so far)


@dataclass(frozen=True, slots=True)
class Base:
    """A real or generated text (one or more lines) that failregex `regex` matches, and where it came from."""

    regex: int
    source: str
    lines: tuple[str, ...]
    address: str  # the address text the regex captured in it


@dataclass(frozen=True, slots=True)
class Finding:
    """A victim address captured by failregex `regex` when a payload was written into a span that the free-text
    part `part` (of failregex `span_regex`, or PREFREGEX) matched in a line of failregex `base_regex`."""

    regex: int
    failregex: str
    span_regex: int
    part: str
    field: str  # the span's text in the base line
    family: str
    victim: str
    how: str  # "failure" (the engine counted a failure) or "match" (a helper or session match named it)
    line: str  # the shortest line that showed it (lines joined by "\n")
    base_regex: int
    source: str  # where the line it was written into came from: LOG, SAMPLE or GENERATED (no date)


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the audit did and found."""

    failregex: tuple[str, ...]
    bases: tuple[Base, ...]
    unaudited: tuple[int, ...]  # failregexes with no line (none given matched, none could be written)
    spans: int
    cases: int
    findings: tuple[Finding, ...]


_VICTIMS = frozenset(str(canonical_victim(v)) for v in payloads.VICTIMS)


def _base_from(probe: Probe, regex: int, source: str, lines: Sequence[str]) -> Base | None:
    if regex not in probe.hits(lines):
        return None
    address = probe.address_text(regex, probe.searched(lines).text)
    if canonical_victim(address) in _VICTIMS:
        return None
    return Base(regex, source, tuple(lines), address)


def given_bases(probe: Probe, lines: Iterable[str], source: str) -> list[Base]:
    """Up to BASES_PER_REGEX bases per failregex from real lines (each line alone, or with the lines before it
    when the filter reads several lines at once)."""
    found: dict[int, list[Base]] = {}
    window: list[str] = []
    everyone = len(probe.failregex)
    for line in lines:
        if len(found) == everyone and all(len(kept) >= BASES_PER_REGEX for kept in found.values()):
            break  # every failregex has its lines: the rest of a long log adds nothing
        window = [*window, line][-probe.maxlines :]
        for regex in sorted(probe.hits(window)):
            kept = found.setdefault(regex, [])
            if len(kept) >= BASES_PER_REGEX or any(b.lines[-1] == line for b in kept):
                continue
            base = _base_from(probe, regex, source, window if probe.maxlines > 1 else [line])
            if base is not None:
                kept.append(base)
    return [b for regex in sorted(found) for b in found[regex]]


def generated_bases(probe: Probe, regex: int) -> list[Base]:
    """Up to GENERATED_PER_REGEX lines written from the tree of failregex `regex` (inside a line of the
    prefregex) that the engine confirms the regex matches, shortest first (different choices take different
    alternatives of the regex, and so different fields); [] when no choice gives one."""
    fail_tree = tree.parse(probe.failregex[regex].pattern)
    pref_tree = tree.parse(probe.prefregex.pattern) if probe.prefregex is not None else None

    def line(fail_choice: synth.Choice, pref_choice: synth.Choice) -> str:
        content = synth.synthesize(fail_tree, fail_choice)
        if pref_tree is None:
            return content
        return synth.synthesize(pref_tree, pref_choice, {"content": content.rstrip("\n")})

    default = synth.Choice()
    texts = synth.candidates(lambda c: line(c, default)) + synth.candidates(lambda c: line(default, c))
    found: list[Base] = []
    for text in sorted(set(texts), key=lambda t: (len(t), t)):
        lines = text.rstrip("\n").split("\n")
        base = _base_from(probe, regex, GENERATED, lines)
        if base is not None:
            found.append(base)
            if len(found) >= GENERATED_PER_REGEX:
                break
    return found


@dataclass(frozen=True, slots=True)
class _Field:
    base: Base
    span_regex: int
    part: spans.Part
    line_index: int  # which of the base's lines holds the span
    start: int  # columns in that line
    end: int


def _fields(probe: Probe, base: Base) -> list[_Field]:
    """The free-text fields of a base: the spans its failregex's free-text parts matched, in raw-line columns.

    Only the failregex's own parts: the prefregex's text outside <F-CONTENT> is the logging system's prefix
    (host, program, pid), which no client writes."""
    starts = [0]
    for line in base.lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    searched = probe.searched(base.lines)
    instrumented = spans.instrument(probe.failregex[base.regex].pattern)
    found: list[_Field] = []
    seen: set[tuple[int, int, int]] = set()
    for span in spans.spans(instrumented, searched.text):
        a = searched.origin[span.start]
        b = searched.origin[span.end - 1] + 1 if span.end > span.start else a
        index = max(i for i, s in enumerate(starts) if s <= a)
        if b > starts[index] + len(base.lines[index]) or (index, a, b) in seen:
            continue  # a span across lines is no field of one line
        seen.add((index, a, b))
        found.append(_Field(base, base.regex, span.part, index, a - starts[index], b - starts[index]))
    return found


def audit(
    spec: FilterSpec,
    now: float,
    given: Sequence[tuple[str, Sequence[str]]] = (),
    progress: Progress | None = None,
) -> Report:
    """Audit `spec`. `given`: (source name, lines) pairs of real lines (a log, sample lines), in order of
    preference; every failregex also gets generated lines (other alternatives of it than the real lines show)."""
    probe = Probe(spec, now)
    bases: list[Base] = []
    covered: set[int] = set()
    for source, lines in given:  # a later source only adds lines for failregexes the earlier ones missed
        bases += [b for b in given_bases(probe, lines, source) if b.regex not in covered]
        covered = {b.regex for b in bases}
    unaudited: list[int] = []
    for regex in range(len(probe.failregex)):
        generated = generated_bases(probe, regex)
        if not generated and regex not in covered:
            unaudited.append(regex)
        bases.extend(generated)
    fields = [field for base in bases for field in _fields(probe, base)]
    best: dict[tuple[int, int, str, int], Finding] = {}
    cases = 0
    for done, field in enumerate(fields):
        if progress is not None:
            progress(done, len(fields), cases)
        lines = list(field.base.lines)
        line = lines[field.line_index]
        for payload in payloads.payloads(line, field.start, field.end, field.base.address):
            if not field.part.admits(payload.value):
                continue
            cases += 1
            lines[field.line_index] = line[: field.start] + payload.value + line[field.end :]
            for capture in probe.captures(lines, _VICTIMS):
                key = (capture.regex, field.span_regex, field.part.text, field.base.regex)
                text = "\n".join(lines)
                old = best.get(key)
                if old is None or len(text) < len(old.line):
                    best[key] = Finding(
                        capture.regex,
                        spec.failregex[capture.regex],
                        field.span_regex,
                        field.part.text,
                        line[field.start : field.end],
                        payload.family,
                        capture.victim,
                        capture.how,
                        text,
                        field.base.regex,
                        field.base.source,
                    )
        lines[field.line_index] = line
    if progress is not None:
        progress(len(fields), len(fields), cases)
    findings = tuple(sorted(best.values(), key=lambda f: (f.regex, f.span_regex, f.part, f.base_regex)))
    return Report(tuple(spec.failregex), tuple(bases), tuple(unaudited), len(fields), cases, findings)
