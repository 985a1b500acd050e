"""Addresses as fail2ban sees them: the regex fragments behind <HOST>/<ADDR>/..., and the normalisation that
turns a captured text into the identifier fail2ban counts and bans.

Parsing uses the C library's inet_pton/inet_ntop (through `socket`), the very functions upstream relies on, so a
text is valid, and prints, exactly as it does there (leading zeros are invalid, IPv6 prints in RFC 5952 form).
An IPv4-mapped IPv6 address (::ffff:a.b.c.d) without a prefix length is the IPv4 address.
"""

from __future__ import annotations

import re
import socket

# --- regex fragments (our own spelling of the languages fail2ban's tags accept) -------------------------------
_OCTET = r"\d{1,3}"
IPV4_TEXT = _OCTET + r"(?:\." + _OCTET + r"){3}"
_HEXTET = "[0-9a-fA-F]{1,4}"
# one to seven "hextet:" / "hextet::" / "::" pieces, then a closing hextet or the second colon of a final "::".
IPV6_TEXT = "(?:" + _HEXTET + ":{1,2}|::){1,7}(?:" + _HEXTET + "|(?<=:):)"
DNS_TEXT = r"[-.^\w]*\w"
_MAPPED = "(?:::f{4,6}:)?"  # an IPv4 address written as IPv4-mapped IPv6 is captured as the IPv4 address

IP4_GROUP = _MAPPED + "(?P<ip4>" + IPV4_TEXT + ")"
IP6_GROUP = "(?P<ip6>" + IPV6_TEXT + ")"
DNS_GROUP = "(?P<dns>" + DNS_TEXT + ")"
CIDR_GROUP = r"(?P<cidr>\d+)"
ADDR_GROUP = r"\[?(?:" + IP4_GROUP + "|" + IP6_GROUP + r")\]?"
HOST_GROUP = "(?:" + ADDR_GROUP + "|" + DNS_GROUP + ")"
SUBNET_GROUP = r"\[?(?:" + IP4_GROUP + "|" + IP6_GROUP + ")(?:/" + CIDR_GROUP + r")?\]?"

_PLAIN_ADDRESS = re.compile("(?:(?P<v4>" + IPV4_TEXT + r")|\[?(?P<v6>" + IPV6_TEXT + r")\]?)\Z")
_DNS_NAME = re.compile(DNS_TEXT + r"\Z")

_V4_MAPPED_PREFIX = 0xFFFF << 32
_ALL4 = (1 << 32) - 1
_ALL6 = (1 << 128) - 1

# fail2ban's CIDR sentinels: "unspecified" (parse, either family) and "raw" (keep the text as it is).
UNSPEC = -1
RAW = -2


def host_pattern(usedns: str) -> str:
    """The <HOST> fragment: address or DNS name, or only an address when usedns is "no"."""
    return ADDR_GROUP if usedns == "no" else HOST_GROUP


def _pton(family: int, text: str) -> int | None:
    try:
        packed = socket.inet_pton(family, text)
    except (OSError, UnicodeError, ValueError):
        return None
    return int.from_bytes(packed, "big")


def _ntop(family: int, value: int) -> str:
    size = 4 if family == socket.AF_INET else 16
    return socket.inet_ntop(family, value.to_bytes(size, "big"))


def canonical(text: str, *, family: int = 0, prefix: int = UNSPEC) -> str | None:
    """The canonical text of address `text` (masked and suffixed "/plen" when prefix is below the family's
    width), or None when it is not a valid address of `family` (0 = either).

    An IPv4-mapped IPv6 address with no prefix becomes IPv4. Prefix 0 masks everything and prints no suffix,
    a prefix wider than the family is ignored, as upstream does.
    """
    families = (family,) if family else (socket.AF_INET, socket.AF_INET6)
    for fam in families:
        value = _pton(fam, text)
        if value is None:
            continue
        width = 32 if fam == socket.AF_INET else 128
        full = _ALL4 if fam == socket.AF_INET else _ALL6
        plen = width
        if prefix >= 0:
            value &= ~(full >> prefix) & full if prefix <= width else full
            plen = prefix
        elif fam == socket.AF_INET6 and value >> 32 == _V4_MAPPED_PREFIX >> 32:
            return _ntop(socket.AF_INET, value & _ALL4)
        suffix = f"/{plen}" if 0 < plen < width else ""
        return _ntop(fam, value) + suffix
    return None


def mask_to_prefix(mask: str) -> int:
    """Prefix length of a dotted IPv4 mask ("255.255.255.0" -> 24); -1 when it is not a contiguous mask."""
    value = _pton(socket.AF_INET, mask)
    if value is None:
        return -1
    ones = bin(value).count("1")
    return ones if value == (_ALL4 << (32 - ones)) & _ALL4 else -1


def identifier(text: str, prefix: int = UNSPEC) -> str:
    """The identifier fail2ban derives from a captured text: `prefix` UNSPEC strips "[...]" and reads a
    "/24" or "/255.255.255.0" suffix; a valid address is canonicalised, anything else stays as it was (minus
    brackets and suffix). RAW returns the text untouched.

    Raises ValueError for an unreadable suffix ("user/x"), which upstream also rejects.
    """
    if prefix == RAW:
        return text
    if prefix == UNSPEC:
        if len(text) > 2 and text[0] == "[" and text[-1] == "]":
            text = text[1:-1]
        if "/" in text:
            text, _, mask = text.partition("/")
            if "/" in mask:
                raise ValueError(f"invalid address {text!r}: more than one prefix length")
            prefix = mask_to_prefix(mask) if ("." in mask or ":" in mask) else int(mask)
    found = canonical(text, prefix=prefix)
    return text if found is None else found


def is_address(text: str) -> bool:
    """True when text is one IPv4 or IPv6 address (optionally "[v6]"), as fail2ban's plain-IP check reads it."""
    return plain_address(text) is not None


def plain_address(text: str) -> str | None:
    """The canonical address when `text` is exactly an address (IPv6 may be bracketed), else None."""
    m = _PLAIN_ADDRESS.match(text)
    if m is None:
        return None
    v4 = m.group("v4")
    return canonical(v4) if v4 is not None else canonical(m.group("v6"))


def is_dns_name(text: str) -> bool:
    """True when text has the shape a <DNS>/<HOST> capture can have (word characters, '-', '.', ending in a
    word character). It says nothing about whether the name resolves."""
    return _DNS_NAME.match(text) is not None
