"""A jail `test` for tests that need no real service: a filter matching `fail from <HOST> port N` and the dated
lines the test appends to its log.

`write_filter` puts `FILTER` in the config's filter.d as `banjail-test.conf`; `fail` appends one dated line per
address (dated, so lines read after a restart keep their time); `served` opens a lab, its server host and a
banjail on such a jail.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest

from . import site
from .banjail import BANJAIL, Banjail, Program
from .netns import Lab
from .serverhost import ServerHost

FILTER_NAME = "banjail-test"
FILTER = "[Definition]\nfailregex = fail from <HOST> port \\d+$\n"


def jail(name: str, log: Path, **options: str) -> str:
    """A jail.local section `name` on `log` with the test filter and `options` (port, banaction, ...)."""
    lines = [f"[{name}]", "enabled = true", f"filter = {FILTER_NAME}", f"logpath = {log}"]
    return "\n".join([*lines, *(f"{key} = {value}" for key, value in options.items())]) + "\n"


def write_filter(conf: Path) -> None:
    """Put the test filter in `conf`/filter.d."""
    (conf / "filter.d").mkdir(parents=True, exist_ok=True)
    (conf / "filter.d" / f"{FILTER_NAME}.conf").write_text(FILTER)


def fail(log: Path, addresses: Iterable[str]) -> None:
    """Append one failure line per address to `log`, in one write."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    with log.open("a") as out:
        out.write("".join(f"{stamp} fail from {ip} port 1\n" for ip in addresses))


@contextlib.contextmanager
def served(
    tmp: Path, jail_local: str, *, clients: Sequence[str] = (), tag: str = "tj", program: Program = BANJAIL
) -> Iterator[tuple[Lab, ServerHost, Banjail]]:
    """The lab (server and `clients` namespaces), its private server host, and a banjail (not started) with
    `jail_local` and the test filter; everything closed in reverse order. Skips without namespace support."""
    reason = site.kernel_support()
    if reason:
        pytest.skip(reason)
    lab = Lab(list(clients), tag=tag).open()
    try:
        host = ServerHost(lab.server.netns, tmp).open()
        try:
            daemon = Banjail(host, tmp / "banjail", jail_local, program)
            write_filter(daemon.conf)
            try:
                yield lab, host, daemon
            finally:
                daemon.close()
                print(daemon.output()[-2500:])
        finally:
            host.close()
    finally:
        lab.close()
