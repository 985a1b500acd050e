"""A strict reader of the Prometheus text exposition format 0.0.4, written from its specification
(https://prometheus.io/docs/instrumenting/exposition_formats/), to check banjail's output against the rules and
not against its own writer. `parse(text)` returns the families or raises FormatError naming the line and rule."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class FormatError(ValueError):
    pass


@dataclass
class ParsedFamily:
    name: str
    kind: str = "untyped"
    help: str | None = None
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)


def _unescape(text: str, allowed: str, where: str) -> str:
    out = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 >= len(text) or text[i + 1] not in allowed:
                raise FormatError(f"{where}: bad escape {text[i : i + 2]!r}")
            out.append("\n" if text[i + 1] == "n" else text[i + 1])
            i += 2
            continue
        if char == "\n":
            raise FormatError(f"{where}: raw line feed")
        out.append(char)
        i += 1
    return "".join(out)


def _labels(text: str, where: str) -> tuple[dict[str, str], str]:
    """Parse `{a="x",b="y"}` at the start of text; return the labels and the rest."""
    labels: dict[str, str] = {}
    i = 1
    while True:
        if text[i] == "}":
            return labels, text[i + 1 :]
        match = LABEL.match(text, i)
        if match is None:
            raise FormatError(f"{where}: bad label name at {text[i:]!r}")
        name = match.group()
        i = match.end()
        if text[i : i + 2] != '="':
            raise FormatError(f"{where}: label {name} without =\"")
        i += 2
        start = i
        while text[i] != '"':
            i += 2 if text[i] == "\\" else 1
        if name in labels:
            raise FormatError(f"{where}: label {name} twice")
        labels[name] = _unescape(text[start:i], '\\"n', where)
        i += 1
        if text[i] == ",":
            i += 1
        elif text[i] != "}":
            raise FormatError(f"{where}: expected , or }} after label {name}")


def _value(text: str, where: str) -> float:
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise FormatError(f"{where}: bad value {text!r}") from None


def _family_of(name: str, families: dict[str, ParsedFamily]) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)]
        if name.endswith(suffix) and base in families and families[base].kind == "histogram":
            return base
    return name


def parse(text: str) -> dict[str, ParsedFamily]:
    if text and not text.endswith("\n"):
        raise FormatError("the text must end with a line feed")
    families: dict[str, ParsedFamily] = {}
    finished: set[str] = set()
    current = ""
    series: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for number, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {number}"
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not NAME.fullmatch(name):
                    raise FormatError(f"{where}: bad metric name {name!r}")
                if name in finished or (current and name != current and name in families):
                    raise FormatError(f"{where}: {name} is not contiguous")
                if current and current != name:
                    finished.add(current)
                family = families.setdefault(name, ParsedFamily(name))
                current = name
                rest = parts[3] if len(parts) > 3 else ""
                if parts[1] == "HELP":
                    if family.help is not None:
                        raise FormatError(f"{where}: second HELP for {name}")
                    family.help = _unescape(rest, "\\n", where)
                else:
                    if family.samples or family.kind != "untyped" or rest not in TYPES:
                        raise FormatError(f"{where}: TYPE of {name} must come once, before its samples")
                    family.kind = rest
            continue
        match = NAME.match(line)
        if match is None:
            raise FormatError(f"{where}: bad metric name in {line!r}")
        name = match.group()
        rest = line[match.end() :]
        labels: dict[str, str] = {}
        if rest.startswith("{"):
            labels, rest = _labels(rest, where)
        words = rest.split()
        if not rest.startswith(" ") or len(words) not in (1, 2):
            raise FormatError(f"{where}: expected ' value [timestamp]' after {name}")
        value = _value(words[0], where)
        base = _family_of(name, families)
        if base != current:
            if base in families:
                raise FormatError(f"{where}: {base} is not contiguous")
            if current:
                finished.add(current)
            current = base
        family = families.setdefault(base, ParsedFamily(base))
        key = (name, tuple(sorted(labels.items())))
        if key in series:
            raise FormatError(f"{where}: series {key} twice")
        series.add(key)
        if family.kind == "counter" and not value >= 0:
            raise FormatError(f"{where}: counter {name} is {value}")
        family.samples.append((name, labels, value))
    for family in families.values():
        if family.kind == "histogram":
            _check_histogram(family)
    return families


def _check_histogram(family: ParsedFamily) -> None:
    groups: dict[tuple[tuple[str, str], ...], list[tuple[str, dict[str, str], float]]] = {}
    for name, labels, value in family.samples:
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        groups.setdefault(key, []).append((name, labels, value))
    for key, samples in groups.items():
        buckets = [(_value(lab["le"], family.name), v) for n, lab, v in samples if n.endswith("_bucket")]
        counts = [v for n, _, v in samples if n == family.name + "_count"]
        sums = [v for n, _, v in samples if n == family.name + "_sum"]
        if not buckets or buckets[-1][0] != math.inf:
            raise FormatError(f"{family.name}{key}: the last bucket must be le=\"+Inf\"")
        if [b for b, _ in buckets] != sorted(b for b, _ in buckets):
            raise FormatError(f"{family.name}{key}: buckets out of order")
        if any(a[1] > b[1] for a, b in itertools.pairwise(buckets)):
            raise FormatError(f"{family.name}{key}: buckets are not cumulative")
        if len(counts) != 1 or len(sums) != 1 or counts[0] != buckets[-1][1]:
            raise FormatError(f"{family.name}{key}: _count must equal the +Inf bucket, with one _sum")
