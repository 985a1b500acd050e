"""The run-time tags of a ban, as upstream's action info provides them: <ip> <family> <ip-rev> <ip-host> <fid>
<failures> <time> <bantime> <bancount> <matches> <ipmatches> <ipjailmatches> <ipfailures> <ipjailfailures>
<restored> <raw-ticket> <F-*> <fq-hostname> <sh-hostname> <br> <sp>, the jail's name <jail.name> (upstream
1.1) and its counters <jail.banned> <jail.banned_total> <jail.found> <jail.found_total>.

Values are computed only when a command uses them (`BanInfo.value` is lazy and caches), because some are
costly (a DNS lookup for <ip-host>, a store query for <ipmatches>). The history tags are upstream's merged bans
of the address: <ipmatches>/<ipfailures> over every jail, <ipjailmatches>/<ipjailfailures> in the ban's jail;
without a database (or when the query fails) the ban itself stands in, as upstream. Nothing here quotes:
render.py does that.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from banjail.model import Ban

F_TAG = re.compile(r"F-([A-Z0-9_\-]+)\Z")  # upper case only, as upstream
# Upstream renames two filter groups when storing them: <F-ID> is the fid, <F-PORT> is kept as "fport".
_GROUP_ALIAS = {"id": "fid", "port": "fport"}


@dataclass(frozen=True, slots=True)
class History:
    """Merged past bans of an address (from the store): all its matches and failures."""

    matches: tuple[str, ...]
    failures: int


# (ban, all jails?) -> merged history, or None when unknown (then the ban itself stands in, as upstream).
HistoryLookup = Callable[[Ban, bool], History | None]
# The jail's <jail.*> values: its name (upstream 1.1's <jail.name>) and its counters.
Counters = Callable[[], Mapping[str, int | str]]

# The tags read from the store's history, and whether each merges the bans of all jails (else the ban's jail).
HISTORY_TAGS = {"ipmatches": True, "ipfailures": True, "ipjailmatches": False, "ipjailfailures": False}

log = logging.getLogger("banjail.actions")


@cache
def fq_hostname() -> str:
    """This host's fully qualified name, as upstream finds it: the canonical names of gethostname(),
    preferring one that extends the host name, else the first; socket.getfqdn() when there is none.
    Cached: asked at most once per process (it may block on DNS)."""
    name = socket.gethostname()
    try:
        infos = socket.getaddrinfo(name, None, 0, socket.SOCK_DGRAM, 0, socket.AI_CANONNAME)
    except (OSError, UnicodeError):
        infos = []
    canonical = [info[3] for info in infos if info[3]]
    preferred = [c for c in canonical if c.startswith(name + ".")]
    return (preferred or canonical or [socket.getfqdn(name)])[0]


@cache
def sh_hostname() -> str:
    """This host's name as gethostname() gives it (upstream's <sh-hostname>)."""
    return socket.gethostname()


def family_of(ban: Ban) -> str:
    """`inet6` for an IPv6 address, `inet4` otherwise (also for ids that are not addresses)."""
    if ban.ip is not None and ":" in ban.ip:
        return "inet6"
    return "inet4"


def reverse_name(ip: str) -> str:
    """The PTR owner name of an address without the arpa suffix, with a trailing dot: `4.3.2.1.`; "" if not
    an address (upstream's <ip-rev>)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    pointer = address.reverse_pointer
    return pointer.rsplit(".", 2)[0] + "." if pointer else ""


def host_name(ip: str) -> str:
    """The DNS name of `ip` (blocking reverse lookup), "" when there is none."""
    try:
        return socket.gethostbyaddr(ip)[0]
    except (OSError, UnicodeError):
        return ""


class BanInfo:
    """Lazy tag values of one ban for one family (the family an action runs a command for)."""

    def __init__(
        self,
        ban: Ban | None,
        family: str,
        *,
        history: HistoryLookup | None = None,
        counters: Counters | None = None,
        now: float = 0.0,
    ) -> None:
        self.ban = ban
        self.family = family
        self._history = history
        self._counters = counters
        self._now = now
        self._cache: dict[str, str | None] = {}
        self._histories: dict[bool, History] = {}

    def value(self, tag: str) -> str | None:
        """The value of run-time tag `tag`, or None when it is not a run-time tag (it then stays in place).

        Unknown <F-NAME> groups are "" (upstream drops them). Without a ban (start, stop, flush) only <family>,
        <time>, host names, <br>, <sp> and jail counters have values.
        """
        if tag not in self._cache:
            self._cache[tag] = self._compute(tag)
        return self._cache[tag]

    def load_history(self, tags: Iterable[str]) -> None:
        """Query the store for the history tags among `tags` (blocking: callers on the event loop run it in a
        thread first, so `value` then finds them computed). One query per scope (this jail, all jails)."""
        if self.ban is None:
            return
        for all_jails in {HISTORY_TAGS[t] for t in tags if t in HISTORY_TAGS}:
            self._merged(self.ban, all_jails)

    def preset(self, tag: str, value: str) -> None:
        """Give `tag` a value computed elsewhere (e.g. <ip-host> looked up off the event loop)."""
        self._cache[tag] = value

    def _compute(self, tag: str) -> str | None:
        constant = _CONSTANTS.get(tag)
        if constant is not None:
            return constant
        if tag == "fq-hostname":
            return fq_hostname()
        if tag == "sh-hostname":
            return sh_hostname()
        if tag == "family":
            return self.family
        if tag.startswith("jail."):
            counters = self._counters() if self._counters is not None else {}
            found = counters.get(tag[5:])
            return None if found is None else str(found)
        ban = self.ban
        if ban is None:
            return str(self._now) if tag == "time" else None
        return self._from_ban(ban, tag)

    def _from_ban(self, ban: Ban, tag: str) -> str | None:
        compute = _FROM_BAN.get(tag)
        if compute is not None:
            return compute(self, ban, ban.ip if ban.ip is not None else ban.fid)
        m = F_TAG.match(tag)
        if m is None:
            return None
        name = m.group(1).lower()
        name = _GROUP_ALIAS.get(name, name)
        if name == "fid":
            return ban.fid
        return next((value for key, value in ban.groups if key == name), "")

    def _merged(self, ban: Ban, all_jails: bool) -> History:
        known = self._histories.get(all_jails)
        if known is not None:
            return known
        found = None
        if self._history is not None:
            try:
                found = self._history(ban, all_jails)
            except Exception as exc:  # a tag must never keep the ban from being applied
                scope = "all" if all_jails else "jail"
                log.error("Failed to get %s bans merged, jail '%s': %s", scope, ban.jail, exc)
        merged = found if found is not None else History(ban.lines, ban.failures)
        self._histories[all_jails] = merged
        return merged


_CONSTANTS = {"br": "\n", "sp": " "}
# The tags a ban gives values to, by name: (info, ban, its address or else its fid) -> value. A table made once,
# not a dict of closures per tag asked (an action asks for <ip> at every ban).
_FROM_BAN: dict[str, Callable[[BanInfo, Ban, str], str]] = {
    "ip": lambda info, ban, ip: ip,
    "ip-rev": lambda info, ban, ip: reverse_name(ip),
    "ip-host": lambda info, ban, ip: host_name(ip) if ban.ip is not None else "",
    "fid": lambda info, ban, ip: ban.fid,
    "failures": lambda info, ban, ip: str(ban.failures),
    "time": lambda info, ban, ip: str(ban.at),
    "bantime": lambda info, ban, ip: str(int(ban.bantime)),
    "bancount": lambda info, ban, ip: str(ban.count),
    "matches": lambda info, ban, ip: "\n".join(ban.lines),
    "restored": lambda info, ban, ip: "1" if ban.restored else "0",
    "raw-ticket": lambda info, ban, ip: repr(ban),
    "ipmatches": lambda info, ban, ip: "\n".join(info._merged(ban, True).matches),
    "ipjailmatches": lambda info, ban, ip: "\n".join(info._merged(ban, False).matches),
    "ipfailures": lambda info, ban, ip: str(info._merged(ban, True).failures),
    "ipjailfailures": lambda info, ban, ip: str(info._merged(ban, False).failures),
}
