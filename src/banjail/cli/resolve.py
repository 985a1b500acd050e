"""Host name lookups for fail2ban-regex: with usedns yes/warn, a <HOST> that matched a name counts the name's
addresses, as upstream resolves them. Each name is asked once per run."""

from __future__ import annotations

import functools
import socket


@functools.lru_cache(maxsize=4096)
def resolve(name: str) -> tuple[str, ...]:
    """The addresses `name` resolves to, in the resolver's order without repeats; () when it does not resolve."""
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return ()
    found: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in found:
            found.append(address)
    return tuple(found)
