"""What `set <jail> banip` accepts: an IPv4 or IPv6 address or network, and, in a jail whose filter captures
<F-ID>, an identifier. Pure: the daemon checks every value before it bans any.

Addresses and networks are read as upstream's IPAddr reads them (its isValid is the oracle in the tests): "[v6]"
brackets, a "/len" or dotted "/mask" suffix, IPv4-mapped IPv6 as IPv4; the canonical text is what is banned.
Stricter than upstream where upstream bans something the user cannot have meant: a prefix outside 1..32 (IPv4)
or 1..128 (IPv6) (upstream ignores /33 and bans everything for /0). An identifier (F-ID jails only) is any text
without whitespace or control characters, as a failregex capture of <F-ID> can give (upstream accepts any
string, even in a jail that can only ever ban addresses).
"""

from __future__ import annotations

import socket

from banjail import netaddr

_EXAMPLES = "for example 192.0.2.7, 2001:db8::7, 192.0.2.0/24 or 2001:db8::/64"


class TargetError(ValueError):
    """A value `banip` refuses; the message says why and what would be accepted."""


def ban_target(text: str, *, ids: bool) -> str:
    """The canonical form of `text` to ban, or TargetError. `ids`: the jail's filter captures <F-ID>, so a value
    that is not an address is taken as an identifier."""
    if text and not any(c.isspace() or not c.isprintable() for c in text):
        found = _network(text)
        if found is not None:
            return found
        if ids and not _looks_numeric(text):
            return text
    what = "an address or network" + (" or an <F-ID> identifier without spaces" if ids else "")
    return _refuse(text, what)


def _refuse(text: str, what: str) -> str:
    raise TargetError(f"{text!r} is not {what} ({_EXAMPLES})")


def _network(text: str) -> str | None:
    address, slash, suffix = text.partition("/")
    if len(address) > 2 and address[0] == "[" and address[-1] == "]":
        address = address[1:-1]
    plain = netaddr.canonical(address)
    if plain is None:
        return None
    if not slash:
        return plain
    width = 128 if ":" in plain else 32
    if "." in suffix or ":" in suffix:
        prefix = netaddr.mask_to_prefix(suffix) if width == 32 else -1
    else:
        prefix = int(suffix) if suffix.isdigit() else -1
    if not 0 < prefix <= width:
        raise TargetError(
            f"{text!r} is not a network: the prefix length must be 1..{width} (or an IPv4 mask like 255.255.255.0)"
        )
    family = socket.AF_INET6 if width == 128 else socket.AF_INET
    return netaddr.canonical(plain, family=family, prefix=prefix)


def _looks_numeric(text: str) -> bool:
    """Digits, dots, colons and slashes only: a mistyped address (10.0.0.300), never taken as an identifier."""
    return all(c.isdigit() or c in ".:/[]" for c in text)
