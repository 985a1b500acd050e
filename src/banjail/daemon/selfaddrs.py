"""The host's own addresses for `ignoreself`: loopback, every address of every interface (IPv4 and IPv6), and
the addresses /etc/hosts gives `localhost` and the host's name (Debian maps the name to 127.0.1.1, which no
interface holds; upstream finds it by resolving the name).

The interface addresses come from the kernel's address list (an RTM_GETADDR dump over a netlink socket, standard
library only), which is small even on a router, unlike /proc/net/fib_trie, which holds every route. No DNS query
is made, so asking never waits on the network. The answer of one network namespace: the daemon's own. Cached
process-wide and read again when older than REFRESH_SECONDS, so an address added to an interface is ignored
within that time (the daemon's housekeeping asks every few seconds).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

LOOPBACK = ("127.0.0.1", "::1")
HOSTS = "/etc/hosts"
REFRESH_SECONDS = 30.0

_RTM_GETADDR = 22
_RTM_NEWADDR = 20
_NLM_F_REQUEST, _NLM_F_DUMP = 0x1, 0x300
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_IFA_ADDRESS, _IFA_LOCAL = 1, 2
_HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port id
_IFADDR = struct.Struct("=BBBBI")  # ifaddrmsg: family, prefix length, flags, scope, interface index
_ATTR = struct.Struct("=HH")  # rtattr: length, type
_FAMILIES = {socket.AF_INET: 4, socket.AF_INET6: 16}


def _align(n: int) -> int:
    return (n + 3) & ~3


def _attributes(data: bytes, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    while start + _ATTR.size <= end:
        length, kind = _ATTR.unpack_from(data, start)
        if length < _ATTR.size:
            return
        yield kind, data[start + _ATTR.size : start + length]
        start += _align(length)


def parse_addresses(data: bytes) -> tuple[list[str], bool]:
    """The addresses in a buffer of RTM_NEWADDR messages, and whether the dump's end (NLMSG_DONE) was in it.

    For IPv4 the interface's own address is IFA_LOCAL (IFA_ADDRESS is the peer of a point-to-point link); IPv6
    gives only IFA_ADDRESS. Raises OSError when the kernel answered with an error."""
    found: list[str] = []
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, kind, _, _, _ = _HEADER.unpack_from(data, offset)
        if length < _HEADER.size or offset + length > len(data):
            break
        if kind == _NLMSG_DONE:
            return found, True
        if kind == _NLMSG_ERROR:
            (code,) = struct.unpack_from("=i", data, offset + _HEADER.size)
            if code:
                raise OSError(-code, "netlink RTM_GETADDR failed")
        elif kind == _RTM_NEWADDR and length >= _HEADER.size + _IFADDR.size:
            family = _IFADDR.unpack_from(data, offset + _HEADER.size)[0]
            size = _FAMILIES.get(family)
            attrs = dict(_attributes(data, offset + _HEADER.size + _IFADDR.size, offset + length))
            raw = attrs.get(_IFA_LOCAL) or attrs.get(_IFA_ADDRESS)
            if size is not None and raw is not None and len(raw) == size:
                found.append(socket.inet_ntop(family, raw))
        offset += _align(length)
    return found, False


def interface_addresses(timeout: float = 2.0) -> list[str]:
    """Every address of every interface of this network namespace, as the kernel lists them."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as sock:
        sock.settimeout(timeout)
        body = struct.pack("=Bxxx", socket.AF_UNSPEC)  # rtgenmsg, padded: every family
        sock.send(_HEADER.pack(_HEADER.size + len(body), _RTM_GETADDR, _NLM_F_REQUEST | _NLM_F_DUMP, 1, 0) + body)
        found: list[str] = []
        for _ in range(10_000):  # a dump is a few messages per interface; bounded all the same
            part, done = parse_addresses(sock.recv(65536))
            found.extend(part)
            if done:
                break
        return found


def hosts_addresses(text: str, names: Iterable[str]) -> list[str]:
    """The addresses an /etc/hosts text gives any of `names` (case-insensitive), in file order."""
    wanted = {n.lower() for n in names}
    found = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) > 1 and wanted.intersection(w.lower() for w in words[1:]):
            found.append(words[0])
    return found


def _own_names() -> list[str]:
    try:
        text = Path(HOSTS).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return hosts_addresses(text, ["localhost", socket.gethostname()])


def local_addresses(
    read: Callable[[], list[str]] = interface_addresses, named: Callable[[], list[str]] = _own_names
) -> tuple[str, ...]:
    """Loopback, every interface address (none when the kernel cannot be asked) and the host's names' addresses
    from /etc/hosts, without duplicates, loopback first."""
    try:
        found = read()
    except OSError:
        found = []
    return tuple(dict.fromkeys([*LOOPBACK, *found, *named()]))


class SelfAddresses:
    """local_addresses() cached for `max_age` seconds (monotonic); safe to call from any thread."""

    def __init__(
        self,
        read: Callable[[], tuple[str, ...]] = local_addresses,
        *,
        max_age: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._value: tuple[str, ...] = ()
        self._at: float | None = None

    def __call__(self) -> tuple[str, ...]:
        """The addresses, read again when the cached ones are older than max_age."""
        with self._lock:
            now = self._clock()
            if self._at is None or now - self._at >= self._max_age:
                self._value = self._read()
                self._at = now
            return self._value


current = SelfAddresses()
