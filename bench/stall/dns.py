"""Issue 14 item 1 figures: how long one jail's unanswered host name lookups hold up another jail's ban and the
control socket. A real fail2ban-server in a test-made network namespace whose nameserver (10.79.0.53, behind a
veth with no far end) never answers, with the resolver's default options (5 s per try, 2 tries). Jail `dns`
reads N distinct names (usedns = yes), then jail `other` one address: prints the delay of `other`'s ban after its
line was written, the worst `ping` latency on the socket meanwhile, and when `dns` counted its address.

    .venv/bin/python bench/stall/dns.py [N]       (root; about N x 10 s before the fix, seconds after)
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "e2e"))
from daemon_run import Server, append, lines, write_config
from lab.netns import ip

from banjail.control.client import request


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    tmp = Path(tempfile.mkdtemp(prefix="stall-dns-"))
    conf = write_config(tmp, maxretry=1)
    (conf / "jail.local").write_text(
        "[DEFAULT]\nignoreself = false\naction = rec\nmaxretry = 1\nfilter = test\n[sshd]\nenabled = false\n"
        f"[dns]\nenabled = true\nlogpath = {tmp}/dns.log\nusedns = yes\n"
        f"[other]\nenabled = true\nlogpath = {tmp}/other.log\n"
    )
    for name in ("dns.log", "other.log"):
        (tmp / name).touch()
    resolv = tmp / "resolv.conf"
    resolv.write_text("nameserver 10.79.0.53\n")
    netns = f"bjdnsb{os.getpid()}"
    ip("netns", "add", netns)
    server = None
    try:
        ip("-n", netns, "link", "set", "lo", "up")
        ip("-n", netns, "link", "add", "sink0", "type", "veth", "peer", "name", "sink1")
        ip("-n", netns, "addr", "add", "10.79.0.1/24", "dev", "sink0")
        ip("-n", netns, "link", "set", "sink0", "up")
        ip("-n", netns, "link", "set", "sink1", "up")
        ip(
            "-n",
            netns,
            "neigh",
            "add",
            "10.79.0.53",
            "lladdr",
            "02:00:00:00:00:53",
            "dev",
            "sink0",
            "nud",
            "permanent",
        )
        mount = f'mount --bind {resolv} /etc/resolv.conf && exec "$@"'
        server = Server(
            tmp, ("ip", "netns", "exec", netns, "unshare", "--mount", "sh", "-c", mount, "sh")
        ).start()
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
    finally:
        if server is not None:
            server.stop()
        ip("netns", "delete", netns)


if __name__ == "__main__":
    main()
