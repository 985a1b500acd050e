"""Issue 14 item 1 figures: how long one jail's unanswered host name lookups hold up another jail's ban and the
control socket. A real fail2ban-server in a test-made network namespace whose nameserver (10.79.0.53, behind a
veth with no far end) never answers, with the resolver's default options (5 s per try, 2 tries). Jail `dns`
reads N distinct names (usedns = yes), then jail `other` one address: prints the delay of `other`'s ban after its
line was written, the worst `ping` latency on the socket meanwhile, and when `dns` counted its address.

    .venv/bin/python bench/stall/dns.py [N]       (root; about N x 10 s before the fix, seconds after)
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "e2e"))
from daemon_run import Server, append, lines, write_jails
from lab.resolver import silent_resolver

from banjail.control.client import request


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    tmp = Path(tempfile.mkdtemp(prefix="stall-dns-"))
    write_jails(tmp, {"dns": "usedns = yes\n", "other": ""})
    server = None
    try:
        with silent_resolver(tmp, tag="b") as prefix:
            server = Server(tmp, prefix).start()
            _measure(tmp, server, count)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _measure(tmp: Path, server: Server, count: int) -> None:
    append(tmp / "dns.log", [f"fail from host-{n}.banjail.test port 1" for n in range(count)])
    append(tmp / "dns.log", ["fail from 10.0.0.9 port 2"])
    time.sleep(0.5)
    start = time.monotonic()
    append(tmp / "other.log", ["fail from 10.0.0.7 port 3"])
    other = dns = None
    worst_ping = 0.0
    deadline = start + 15 * count + 30
    while time.monotonic() < deadline and (other is None or dns is None):
        t0 = time.monotonic()
        with contextlib.suppress(TimeoutError, OSError):
            request(server.sock, ["ping"], timeout=60)
        worst_ping = max(worst_ping, time.monotonic() - t0)
        got = lines(tmp / "rec")
        now = time.monotonic() - start
        if other is None and "ban 10.0.0.7 0" in got:
            other = now
        if dns is None and "ban 10.0.0.9 0" in got:
            dns = now
        time.sleep(0.05)
    print(
        f"names={count} other-jail ban after {other:.2f} s; dns jail's address banned after {dns:.2f} s; "
        f"worst socket ping {worst_ping:.3f} s"
    )


if __name__ == "__main__":
    main()
