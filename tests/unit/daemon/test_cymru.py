"""banjail.daemon.cymru with a stand-in dnspython (not installed here): the names asked, the answers' parsing, and
upstream's replies to NXDOMAIN, a DNS error (the lookups stop) and an answer of another shape."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest

from banjail.daemon import cymru


class DNSException(Exception):
    pass


class NXDOMAIN(DNSException):
    pass


class Rdata:
    def __init__(self, text: str) -> None:
        self.text = text

    def to_text(self) -> str:
        return self.text


ANSWERS: dict[str, object] = {
    "1.2.0.192.origin.asn.cymru.com": ['"64496 | 192.0.2.0/24 | ZZ | arin | 2010-01-01"'],
    "2.2.0.192.origin.asn.cymru.com": ['"64497 | 192.0.2.0/24 |  | ripencc | "', '"64498 | x | ZZ | ripencc | "'],
    "1." + "0." * 23 + "8.b.d.0.1.0.0.2.origin6.asn.cymru.com": ['"64499 | 2001:db8::/32 | ZZ | apnic | "'],
    "3.2.0.192.origin.asn.cymru.com": NXDOMAIN("none"),
    "4.2.0.192.origin.asn.cymru.com": ['"not | enough"'],
    "5.2.0.192.origin.asn.cymru.com": DNSException("no nameservers"),
}
ASKED: list[str] = []


class Resolver:
    lifetime = timeout = 0.0

    def resolve(self, question: str, kind: str) -> list[Rdata]:
        assert kind == "TXT"
        ASKED.append(question)
        answer = ANSWERS[question]
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, list)
        return [Rdata(text) for text in answer]


@pytest.fixture
def dnspython(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    package = types.ModuleType("dns")
    exception = types.ModuleType("dns.exception")
    resolver = types.ModuleType("dns.resolver")
    exception.DNSException = DNSException  # type: ignore[attr-defined]
    resolver.NXDOMAIN = NXDOMAIN  # type: ignore[attr-defined]
    resolver.Resolver = Resolver  # type: ignore[attr-defined]
    for name, module in (("dns", package), ("dns.exception", exception), ("dns.resolver", resolver)):
        monkeypatch.setitem(sys.modules, name, module)
    ASKED.clear()
    yield


def test_answers_nxdomain_and_ids_that_are_no_address(dnspython: None) -> None:
    fids = ["192.0.2.1", "192.0.2.2", "2001:db8::1", "192.0.2.3", "alice", "192.0.2.0/24"]
    ANSWERS["0.2.0.192.origin.asn.cymru.com"] = ['"64500 | n | ZZ | arin | "']
    assert cymru.lookup(fids) == {
        "asn": ["64496", "64497, 64498", "64499", "nxdomain", "unknown", "64500"],
        "country": ["ZZ", "ZZ, unknown", "ZZ", "nxdomain", "unknown", "ZZ"],
        "rir": ["arin", "ripencc", "apnic", "nxdomain", "unknown", "arin"],
    }
    assert "alice" not in " ".join(ASKED)


@pytest.mark.parametrize("bad", ["192.0.2.5", "192.0.2.4"], ids=["dns-error", "other-shape"])
def test_an_error_stops_the_lookups(dnspython: None, bad: str, caplog: pytest.LogCaptureFixture) -> None:
    assert cymru.lookup(["192.0.2.1", bad, "192.0.2.2"]) == {"asn": ["64496"], "country": ["ZZ"], "rir": ["arin"]}
    assert ASKED[-1].startswith(bad.split(".")[-1] + ".")  # nothing asked after it
    (record,) = [r for r in caplog.records if r.name == "fail2ban.banmanager"]
    kind = "DNSException" if bad.endswith("5") else "Unhandled Exception"
    assert record.getMessage().startswith(kind) and record.getMessage().endswith(f"querying Cymru for {ASKED[-1]} TXT")


def test_without_dnspython(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "dns", None)  # import fails
    monkeypatch.setitem(sys.modules, "dns.exception", None)
    assert cymru.lookup(["192.0.2.1"]) == {"asn": ["error"], "country": ["error"], "rir": ["error"]}
    assert [r.getMessage() for r in caplog.records] == ["dnspython package is required but could not be imported"]
