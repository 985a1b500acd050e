"""`status <jail> cymru`: the ASN, country and registry (RIR) of each banned address, from Team Cymru's DNS
service (the TXT record of the reversed address under origin.asn.cymru.com, origin6.asn.cymru.com for IPv6), as
upstream fail2ban 1.0.2's banmanager looks them up: with dnspython, which nothing else in banjail needs.

Upstream's replies, kept here:
- dnspython cannot be imported: every list is ["error"] (the tree shows `error`), and the server logs
  "dnspython package is required but could not be imported" (an ERROR, at every such status);
- a lookup fails (no network, no resolver, a timeout): the lookups stop there, the lists keep what was found
  before, and the server logs "DNSException ... querying Cymru for <name> TXT";
- no such name: "nxdomain"; an answer: "ASN[, ASN...]", the country, the registry ("unknown" for a blank field).

Unlike upstream, the lookups run on a thread (the control socket and the jails go on meanwhile), all of them
within LOOKUP_SECONDS, and an id that is not an address (an <F-ID>) is "unknown" without a lookup. An answer is
network data: its fields are only split and stripped, and shown as text.
"""

from __future__ import annotations

import importlib
import ipaddress
import time
from collections.abc import Iterable
from typing import Any

from banjail.daemon.logging import logger

TIMEOUT = 10.0  # upstream's lifetime of one lookup (each try half of it)
LOOKUP_SECONDS = 30.0  # all the lookups of one status command (upstream has no such bound)
KEYS = ("asn", "country", "rir")

log_banmanager = logger("banmanager")


def _question(fid: str) -> str | None:
    """The Cymru name of `fid`'s address, or None when it is not an address (a network: its first address)."""
    try:
        address = ipaddress.ip_network(fid, strict=False).network_address if "/" in fid else ipaddress.ip_address(fid)
    except ValueError:
        return None
    if address.version == 4:
        return ".".join(reversed(str(address).split("."))) + ".origin.asn.cymru.com"
    return ".".join(reversed(address.exploded.replace(":", ""))) + ".origin6.asn.cymru.com"


def _blank(value: str) -> str:
    return value if value else "unknown"


def lookup(fids: Iterable[str], timeout: float = TIMEOUT, budget: float = LOOKUP_SECONDS) -> dict[str, list[str]]:
    """ASN, country and RIR lists for the banned ids, in their order (upstream's getBanListExtendedCymruInfo)."""
    found: dict[str, list[str]] = {key: [] for key in KEYS}
    try:  # (by name: the type checker knows no such module where it is not installed)
        exception: Any = importlib.import_module("dns.exception")
        resolvers: Any = importlib.import_module("dns.resolver")
    except ImportError:
        log_banmanager.error("dnspython package is required but could not be imported")
        return {key: ["error"] for key in KEYS}
    resolver: Any = resolvers.Resolver()
    resolver.lifetime = timeout
    resolver.timeout = timeout / 2
    deadline = time.monotonic() + budget
    for fid in fids:
        question = _question(fid)
        if question is None:
            for key in KEYS:
                found[key].append("unknown")
            continue
        if time.monotonic() >= deadline:
            log_banmanager.error("Cymru lookups stopped after %ss at %s TXT", budget, question)
            break
        try:
            answers = resolver.resolve(question, "TXT")
            if not answers:
                raise ValueError("No data retrieved")
            asns: set[str] = set()
            countries: set[str] = set()
            rirs: set[str] = set()
            for rdata in answers:
                asn, _net, country, rir, _changed = [part.strip("'\" ") for part in rdata.to_text().split("|")]
                asns.add(_blank(asn))
                countries.add(_blank(country))
                rirs.add(_blank(rir))
            found["asn"].append(", ".join(sorted(asns)))
            found["country"].append(", ".join(sorted(countries)))
            found["rir"].append(", ".join(sorted(rirs)))
        except resolvers.NXDOMAIN:
            for key in KEYS:
                found[key].append("nxdomain")
        except exception.DNSException as error:
            log_banmanager.error("DNSException %r querying Cymru for %s TXT", error, question)
            break
        except Exception as error:  # an answer of another shape: upstream stops the same way
            log_banmanager.error("Unhandled Exception %r querying Cymru for %s TXT", error, question)
            break
    return found


def rows(found: dict[str, list[str]]) -> list[tuple[str, object]]:
    """The three rows upstream appends to the Actions group of `status <jail> cymru`."""
    return [
        ("Banned ASN list", list(found["asn"])),
        ("Banned Country list", list(found["country"])),
        ("Banned RIR list", list(found["rir"])),
    ]
