"""The generator: every case of a service spec (see spec.py), as the log lines the service would write.

A case is one attacked line (with the unattacked lines of its session around it) or a control: the same lines
with every field at its default, a genuine failure of the attacker that the filter must catch.

Payload families, each rendered for every victim spelling (IPv4, IPv4-mapped IPv6, IPv6):
  generic  shapes that other services write around an address (" from V port 22 ssh2", "rhost=V", "[V]", ...)
  mimic    the text the service itself writes after the field, with the victim in place of the attacker, cut
           after every word and every punctuation mark; also the whole message so cut
  raw      a control character (the ones str.splitlines() and universal newlines break on) followed by a whole
           forged line for the victim, then the service's and the transport's escaping
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass

from .spec import ATTACKER4, ATTACKER6, ISO, SYSLOG, VICTIMS, Field, Prefix, Service, Template

GENERIC = (
    "{V}", " {V} ", "x {V}", "{V} x", "x from {V}", " from {V}", "x from {V} port 22", "x from {V} port 22 ssh2",
    "x from {V} port 22 ssh2:", "x from {V} port 22 ssh2: RSA SHA256:x", "x from {V} on", "x from {V} port 22 [preauth]",
    "rhost={V}", "x rhost={V}", "x rhost={V} user=x", " ruser= rhost={V}", "[{V}]", "x [{V}]", "x [{V}] x",
    "({V})", "x ({V})", "x ({V}) x", "<{V}>", "client {V}", "[client {V}]", "[client {V}:22]", "x] [client {V}]",
    "client: {V}", "x, client: {V}", "x, client: {V}, server: x", "ip=[{V}]", "x, ip=[{V}]", "ip={V}",
    "x ip={V}", "{V}:22", "x {V}:22", "[{V}]:22", "user=<x> rip={V}", "x, rip={V}, lip=10.0.0.1",
    "user=<x>, method=PLAIN, rip={V}, lip=10.0.0.1", "x'@'{V}'", "'x'@'{V}' (using password: YES)",
    "{V}.nip.io", "x.{V}.nip.io", "{DASH}.nip.io", "{REV}.in-addr.arpa", "unknown[{V}]", "x unknown[{V}]",
    "x[{V}]", "] Ban {V}", "x] Ban {V}", "\"] Ban {V}", "x@{V}", "\"{V}\"", "x\" {V}", ",{V},", "x,{V},",
    "x,{V},<abc>", "x,{V},<abc>): unknown user", "host={V}", "remote={V}", "IP: {V}", "from={V}", "{V} port 22",
    "x {V} port 22", "- {V}", "{V} - -", "{V} - - [25/Nov/2026:08:44:15 +0000]", "x remote_addr={V}",
    "x clientip={V}", "\"clientip\":\"{V}\"", "\",\"ClientHost\":\"{V}\"", "x ClientHost={V}", "x for {V}",
    "x from {V}: x", "x - {V}", "x; rhost={V}", "x\";rhost={V}", "x Login failed for {V}",
)
CONTROLS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\t\x00"
ATTACKERS = (ATTACKER4, ATTACKER6)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_CONSTANTS = {
    "port": "48741",
    "sess": "Kz9qX1bXwOYAAAAA",
    "clf": "25/Nov/2026:08:44:15 +0000",
    "apache": "Wed Nov 25 08:44:15.123456 2026",
    "iso": "2026-11-25T08:44:15Z",
    "ngx": "2026/11/25 08:44:15",
    "syslog": "Nov 25 08:44:15",
}


@dataclass(frozen=True)
class Case:
    """Lines to write in this order; `control` cases must give a failure for `attacker`, others must give none
    for a victim."""

    template: str
    field: str  # "" in a control
    family: str  # control, generic, mimic, raw
    prefix: str
    attacker: str
    victim: str  # "" in a control
    lines: tuple[str, ...]
    control: bool
    fails_under: tuple[dict[str, str], ...]


def render(text: str, values: dict[str, str]) -> str:
    """Replace each {name} once; payloads are inserted as values, never read as placeholders."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _spellings(victim: str) -> dict[str, str]:
    ip = ipaddress.ip_address(victim)
    plain = str(ip.ipv4_mapped) if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else str(ip)
    rev = ipaddress.ip_address(plain).reverse_pointer.removesuffix(".in-addr.arpa").removesuffix(".ip6.arpa")
    return {"V": victim, "DASH": plain.replace(".", "-").replace(":", "-"), "REV": rev}


def cuts(text: str) -> list[str]:
    """Every prefix of `text` that ends after a word or after a punctuation mark (and the whole)."""
    out = []
    for i in range(1, len(text) + 1):
        before, after = text[i - 1], text[i] if i < len(text) else ""
        if not before.isalnum() or not after.isalnum():
            out.append(text[:i])
    return out


def _values(template: Template, address: str, pid: int) -> dict[str, str]:
    values = dict(_CONSTANTS)
    values.update({f.name: f.escape(f.default) for f in template.fields})
    values.update({name: escape(f.default) for f in template.fields for name, escape in f.alias})
    values["A"] = address
    values["pid"] = str(pid)
    return values


def payloads(service: Service, template: Template, fld: Field, victim: str) -> list[tuple[str, str]]:
    """(family, raw payload) pairs for one field and victim; controls come from raw_payloads."""
    spell = _spellings(victim)
    found: dict[str, str] = {}
    # the generic shapes for the IPv4 and the IPv6 victim; the IPv4-mapped spelling is tried where the service's
    # own text is mimicked (services that write mapped addresses, such as courier and vsftpd)
    for shape in GENERIC if not victim.startswith("::ffff:") else ():
        found.setdefault(render(shape, spell), "generic")
    if fld.names_only:  # an address literal as a PTR name: left out (see Field.names_only)
        found = {p: f for p, f in found.items() if not _is_address(fld.escape(p))}
    # mimicry: what the service writes after the field, then the whole message, with the victim as client
    values = _values(template, victim, 0)
    _, _, tail = template.text.partition("{" + fld.name + "}")
    after = render(tail, values)
    whole = render(template.text, values)
    # the text after the field, cut at every word and punctuation mark (where the holes are); the whole message
    # and the session's other lines, cut at every word
    wholes = [whole, *(render(t, values) for t in (*template.before, *template.after))]
    for cut in [*cuts(after), *(c for text in wholes for c in cuts(text) if c.endswith(" ") or c == text)]:
        for payload in (cut, fld.default + cut):
            found.setdefault(payload, "mimic")
    # cross-template mimicry: the other line shapes of the service, whole and from their first field on, so a
    # regex of one shape cannot be completed by a field of another
    for other in service.templates:
        if other is template:
            continue
        other_values = _values(other, victim, 0)
        texts = [render(other.text, other_values)]
        if other.fields:
            texts.append(render(other.text.partition("{" + other.fields[0].name + "}")[2], other_values))
        for text in texts:
            found.setdefault(fld.default + " " + text.lstrip(), "cross")
    if fld.names_only:
        found = {p: f for p, f in found.items() if not _is_address(fld.escape(p))}
    return [(family, payload) for payload, family in found.items()]


def every_field_payloads(template: Template, victim: str) -> list[dict[str, str]]:
    """Payloads for all fields of a template at once: each field mimics what the service writes after it, cut
    at the same word count, so regexes with two free parts are tried with both forged together."""
    values = _values(template, victim, 0)
    tails = {f.name: cuts(render(template.text.partition("{" + f.name + "}")[2], values)) or [""]
             for f in template.fields}
    longest = max(len(t) for t in tails.values())
    return [{name: t[min(n, len(t) - 1)] for name, t in tails.items()} for n in range(longest)]


def _is_address(text: str) -> bool:
    """An address literal, or a name made only of digits and dots / hex and colons ("198.51.100.722"), which
    address patterns read as one."""
    return re.fullmatch(r"[\d.]+|[\da-fA-F:.]*:[\da-fA-F:.]*", text) is not None


def raw_payloads(service: Service, template: Template, prefix: Prefix, victim: str) -> list[str]:
    """A control character, then a whole forged line of the service for the victim (prefix included)."""
    forged = prefix.render(service.daemon, 4242) + render(template.text, _values(template, victim, 4242))
    return [f"x{ch}{forged}" for ch in CONTROLS] + [f"x{ch}{forged[len(prefix.render(service.daemon, 4242)):]}"
                                                      for ch in CONTROLS]


def _lines(service: Service, template: Template, prefix: Prefix, address: str, pid: int,
           attack: tuple[Field, str] | None, more: dict[str, str] | None = None) -> tuple[str, ...]:
    values = _values(template, address, pid)
    attacks = [attack] if attack is not None else []
    attacks += [(f, more[f.name]) for f in template.fields if more and f.name in more]
    for fld, payload in attacks:
        values[fld.name] = fld.escape(payload)
        for name, escape in fld.alias:
            values[name] = escape(payload)
    head = prefix.render(service.daemon, pid)
    base = _values(template, address, pid)
    out = [head + prefix.transport(render(t, base)) for t in template.before]
    out.append(head + prefix.transport(render(template.text, values)))
    out.extend(head + prefix.transport(render(t, base)) for t in template.after)
    return tuple(out)


def cases(service: Service) -> Iterator[Case]:
    """Every case of the service: controls for each template x prefix x attacker address, then the attacks
    (generic and mimic payloads over the traditional syslog prefix for each victim spelling; raw controls, which
    test line ends rather than address forms, for the IPv4 victim over each transport)."""
    pid = 10000
    for template in service.templates:
        attackers = tuple(a for a in ATTACKERS if ("6" if ":" in a else "4") in template.families)
        prefixes = template.prefixes or service.prefixes
        for prefix in prefixes:
            for attacker in attackers:
                pid += 1
                yield Case(template.name, "", "control", prefix.name, attacker, "",
                           _lines(service, template, prefix, attacker, pid, None), True, template.fails_under)
        for fld in template.fields:
            for n, victim in enumerate(VICTIMS):
                # each victim spelling against one attacker address, the families crossed where the template
                # writes both
                for attacker in (attackers[n % len(attackers)],):
                    prefix = SYSLOG if SYSLOG in prefixes else prefixes[0]
                    for family, payload in payloads(service, template, fld, victim):
                        pid += 1
                        yield Case(template.name, fld.name, family, prefix.name, attacker, victim,
                                   _lines(service, template, prefix, attacker, pid, (fld, payload)), False, ())
                if len(template.fields) > 1 and victim != VICTIMS[1]:
                    for more in every_field_payloads(template, victim):
                        pid += 1
                        yield Case(template.name, "*", "every-field", prefix.name, attacker, victim,
                                   _lines(service, template, prefix, attacker, pid, None, more), False, ())
                # the escaping differs by transport (rsyslog, journald, the service's own file), not by date form
                for prefix in [p for p in prefixes if p is not ISO and victim == VICTIMS[0]]:
                    for payload in raw_payloads(service, template, prefix, victim):
                        pid += 1
                        yield Case(template.name, fld.name, "raw", prefix.name, ATTACKER4, victim,
                                   _lines(service, template, prefix, ATTACKER4, pid, (fld, payload)), False, ())
