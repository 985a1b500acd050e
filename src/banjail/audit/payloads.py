"""What an attacker writes into a free-text field to name a victim: the payload families of issue 9.

- generic shapes that services write around addresses (` from V`, `rhost=V`, `[V]`, `V.nip.io`, ...);
- mimicry: the line's own text after the field, with the victim in place of the address, cut after every word and
  every punctuation mark (a regex anchored on a suffix is fooled by a field that ends like that suffix), and the
  same text followed by the text before the field (a second, forged field);
- control characters that a service or syslog may write unescaped, each followed by a forged copy of the line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

VICTIMS = ("198.51.100.7", "::ffff:198.51.100.7", "2001:db8:ffff::7")

_SHAPES = (
    " from {v}",
    " from {v} port 22 ssh2",
    " from {v} port 22 ssh2:",
    " rhost={v}",
    " [{v}]",
    " ({v})",
    " client {v}",
    " client: {v}",
    ", ip=[{v}]",
    " {hp}:22",
    " user=<x> rip={v}",
    "'@'{v}'",
    " {v}.nip.io",
    " {dash}.nip.io",
    "] Ban {v}",
    " host={v}",
    "@{v}",
)
CONTROLS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\t", "\x00", "\x1b")
_HEAD_CUTS = 4


@dataclass(frozen=True, slots=True)
class Payload:
    """A field value naming `victim`, and the family it belongs to (for the report)."""

    family: str
    value: str
    victim: str


def _host_port(victim: str) -> str:
    return f"[{victim}]" if ":" in victim else victim


def _cuts(text: str, keep: list[tuple[int, int]]) -> Iterator[int]:
    """Cut points after every word and every punctuation mark of `text`, none inside the ranges of `keep`."""
    for i in range(1, len(text) + 1):
        if any(a < i < b for a, b in keep):
            continue
        ch = text[i - 1]
        if ch.isspace():
            continue
        if not ch.isalnum() or i == len(text) or not text[i].isalnum():
            yield i


def _with_victim(text: str, address: str, victim: str) -> tuple[str, list[tuple[int, int]]]:
    """`text` with every `address` replaced by `victim`, and where the victims now stand."""
    if not address:
        return text, []
    out: list[str] = []
    where: list[tuple[int, int]] = []
    rest = text
    length = 0
    while True:
        found = rest.find(address)
        if found < 0:
            out.append(rest)
            break
        out.append(rest[:found])
        length += found
        where.append((length, length + len(victim)))
        out.append(victim)
        length += len(victim)
        rest = rest[found + len(address) :]
    return "".join(out), where


def payloads(line: str, start: int, end: int, address: str) -> Iterator[Payload]:
    """Every payload for the field line[start:end] of one line whose (attacker's) address is written `address`,
    for each victim; each distinct value once."""
    original = line[start:end] or "x"
    tail = line[end:]
    head = line[:start]
    seen: set[str] = set()

    def new(family: str, value: str, victim: str) -> Iterator[Payload]:
        if value not in seen and "\n" not in value:
            seen.add(value)
            yield Payload(family, value, victim)

    for victim in VICTIMS:
        fill = {"v": victim, "hp": _host_port(victim), "dash": victim.replace(".", "-").replace(":", "-")}
        for shape in _SHAPES:
            text = shape.format(**fill)
            label = "generic " + repr(shape.format(v="V", hp="V", dash="V"))
            yield from new(label, original + text, victim)
            yield from new(label, text.strip(), victim)
            yield from new(label, f"{original}{text} {original}", victim)
        mimic, where = _with_victim(tail, address, victim)
        for cut in _cuts(mimic, where):
            yield from new("mimicry", original + mimic[:cut], victim)
        starts = [i for i in range(len(head)) if head[i] != " " and (i == 0 or head[i - 1] == " ")]
        for k in starts[-_HEAD_CUTS:]:
            yield from new("mimicry+forged field", original + mimic + " " + head[k:] + original, victim)
            yield from new("mimicry+forged field", original + mimic + head[k:] + original, victim)
        forged, _ = _with_victim(line, address, victim)
        for ch in CONTROLS:
            yield from new(f"control {ch!r}", original + ch + forged, victim)
            yield from new(f"control {ch!r}", original + ch + f"from {victim} port 22 ssh2", victim)
