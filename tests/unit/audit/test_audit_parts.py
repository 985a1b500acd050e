"""The audit's pure parts: the regex tree written back as text, free-text parts and their spans, generated lines,
payload families, and the nip.io resolver."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from banjail.audit import payloads, spans, synth, tree
from banjail.audit.probe import nip_resolver
from banjail.config.load import load_filter
from banjail.filter.failregex import compile_regex

ROOT = Path(__file__).resolve().parents[3]
STOCK = ROOT / "src" / "banjail" / "stock" / "filter.d"
SAMPLES = ROOT / "tests" / "filters" / "samples"


def _stock_regexes(config_dir: Path) -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for path in sorted(STOCK.glob("*.conf")):
        if path.stem == "common" or path.stem.endswith("-common"):
            continue
        spec = load_filter(path.stem, config_dir=str(config_dir))
        for text in (*spec.failregex, *((spec.prefregex,) if spec.prefregex else ())):
            out.append((path.stem, compile_regex(text).pattern))
    return out


def test_unparse_is_equivalent_on_every_stock_regex_and_sample_line(tmp_path: Path) -> None:
    """Every stock regex, parsed and written back, matches every sample line exactly as the original does."""
    compared = 0
    for name, pattern in _stock_regexes(tmp_path):
        again = re.compile(tree.unparse(tree.parse(pattern)), pattern.flags)
        lines = [
            ln for ln in (SAMPLES / f"{name}.log").read_text().split("\n") if ln and not ln.startswith("#")
        ]
        for line in lines:
            a, b = pattern.search(line + "\n"), again.search(line + "\n")
            assert (a and (a.span(), a.groupdict())) == (
                b and (b.span(), {k: v for k, v in b.groupdict().items() if not k.startswith("_g")})
            ), (name, pattern.pattern, line)
            compared += 1
    assert compared > 500


@pytest.mark.parametrize(
    ("regex", "parts"),
    [
        (r"^Login failed for (?P<user>.*) from (?P<ip4>\S+)$", ["<F-USER>", ".*"]),
        (r'^GET "[^"]*" \w+ [\w.-]+ x{1,3}', ['[^\\"]*', "[\\w\\.\\-]+"]),
        (r"^a (?:[^\"\\]|\\.)* b", ['(?:[^\\"\\\\]|\\\\.)*']),
        (r"^(?=.*x)(?P<content>\S.*)$", []),  # look-arounds and <F-CONTENT> are no fields
        (r"^\w+ \d+ [a-z]{2,30}$", []),  # no class here can hold an address
    ],
)
def test_free_parts(regex: str, parts: list[str]) -> None:
    assert [p.text for p in spans.free_parts(tree.parse(re.compile(regex)))] == parts


def test_spans_of_a_matched_line() -> None:
    found = spans.spans(
        spans.instrument(re.compile(r"^user (?P<user>\S+) from (?P<ip4>[\d.]+) (.*)$")),
        "user bob from 192.0.2.1 extra text",
    )
    assert [(s.part.text, s.start, s.end) for s in found] == [("<F-USER>", 5, 8), (".*", 24, 34)]


def test_named_group_takes_every_payload_unnamed_part_only_those_it_admits() -> None:
    named, inner = spans.free_parts(tree.parse(re.compile(r"^u=(?P<user>\S+) ")))
    assert named.admits("x from 198.51.100.7") and not inner.admits("x from 198.51.100.7")
    assert inner.admits("x[198.51.100.7]")


@pytest.mark.parametrize(
    ("regex", "line"),
    [
        (
            compile_regex(
                r"^Failed (?:password|publickey) for <F-USER>.*</F-USER> from <HOST> port \d+$"
            ).pattern,
            "Failed password for x from 203.0.113.66 port 0",
        ),
        (compile_regex(r"^\[(?P<x>[IW])\] (?P=x) <HOST>$").pattern, "[I] I 203.0.113.66"),
    ],
)
def test_synthesize(regex: re.Pattern[str], line: str) -> None:
    assert synth.synthesize(tree.parse(regex)) == line
    assert regex.search(line)


def test_payload_families() -> None:
    line = "Failed for bob from 203.0.113.66 port 22"
    found = list(payloads.payloads(line, 11, 14, "203.0.113.66"))
    values = {(p.family, p.value) for p in found if p.victim == "198.51.100.7"}
    assert ("generic ' from V'", "bob from 198.51.100.7") in values
    assert ("mimicry", "bob from 198.51.100.7 port") in values
    assert ("mimicry", "bob from 198.51.100.7 port 22") in values
    assert ("mimicry", "bob from 198.") not in values  # no cut inside the victim's address
    assert ("control '\\r'", "bob\rFailed for bob from 198.51.100.7 port 22") in values
    assert {p.victim for p in found} == set(payloads.VICTIMS)
    assert len({p.value for p in found}) == len(found)


@pytest.mark.parametrize(
    ("name", "addresses"),
    [
        ("198.51.100.7.nip.io", ("198.51.100.7",)),
        ("198-51-100-7.nip.io", ("198.51.100.7",)),
        ("2001-db8-ffff--7.nip.io", ("2001:db8:ffff::7",)),
        ("mail.example.com", ()),
        ("x.nip.io", ()),
    ],
)
def test_nip_resolver(name: str, addresses: tuple[str, ...]) -> None:
    assert tuple(nip_resolver(name)) == addresses
