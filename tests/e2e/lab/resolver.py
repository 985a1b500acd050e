"""A host name resolver that never answers, for a daemon under test: a network namespace (named with the pid)
where 10.79.0.0/24 is a veth pair whose far end has no address (a query to the nameserver 10.79.0.53 leaves and
nothing answers), and a resolv.conf naming that nameserver, to bind over /etc/resolv.conf in a private mount
namespace (`prefix`). The namespace is deleted on exit."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lab.netns import ip

NAMESERVER = "10.79.0.53"


@contextmanager
def silent_resolver(tmp: Path, options: str = "", tag: str = "") -> Iterator[tuple[str, ...]]:
    """Yield the argv prefix that runs a command in the namespace with the silent resolver."""
    netns = f"bjdns{tag}{os.getpid()}"
    ip("netns", "add", netns)
    try:
        ip("-n", netns, "link", "set", "lo", "up")
        ip("-n", netns, "link", "add", "sink0", "type", "veth", "peer", "name", "sink1")
        ip("-n", netns, "addr", "add", "10.79.0.1/24", "dev", "sink0")
        ip("-n", netns, "link", "set", "sink0", "up")
        ip("-n", netns, "link", "set", "sink1", "up")
        ip("-n", netns, "neigh", "add", NAMESERVER, "lladdr", "02:00:00:00:00:53", "dev", "sink0", "nud", "permanent")
        resolv = tmp / "resolv.conf"
        resolv.write_text(f"nameserver {NAMESERVER}\n" + (f"options {options}\n" if options else ""))
        mount = f'mount --bind {resolv} /etc/resolv.conf && exec "$@"'
        yield ("ip", "netns", "exec", netns, "unshare", "--mount", "sh", "-c", mount, "sh")
    finally:
        ip("netns", "delete", netns)
