"""Issue 14 item 4 figures: how long regex-heavy lines in one jail hold up another jail's ban and the control
socket. A real fail2ban-server; jail `slow` uses upstream's pam-generic filter (read from /etc/fail2ban at run
time), whose failregex backtracks on a run of "(" (the worst shape bench/pathological.py finds for it); jail
`other` bans on its first failure. N lines of KIB KiB are written to `slow`'s log, then one failure to `other`'s:
prints the delay of `other`'s ban after its line was written and the worst `ping` latency meanwhile.

    .venv/bin/python bench/stall/slowline.py [N] [KIB] [MAXLINELENGTH]
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "e2e"))
from daemon_run import Server, append, lines, write_config

from banjail.control.client import request

BASE = "Nov 25 08:44:15 host sshd[49]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.1"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    kib = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    limit = sys.argv[3] if len(sys.argv) > 3 else ""
    tmp = Path(tempfile.mkdtemp(prefix="stall-slow-"))
    conf = write_config(tmp, maxretry=1)
    for name in ("pam-generic.conf", "common.conf"):
        shutil.copy(f"/etc/fail2ban/filter.d/{name}", conf / "filter.d" / name)
    (conf / "jail.local").write_text(
        "[DEFAULT]\nignoreself = false\naction = rec\nmaxretry = 1\n[sshd]\nenabled = false\n"
        + (f"maxlinelength = {limit}\n" if limit else "")
        + f"[slow]\nenabled = true\nfilter = pam-generic\nlogpath = {tmp}/slow.log\n"
        f"[other]\nenabled = true\nfilter = test\nlogpath = {tmp}/other.log\n"
    )
    if limit:  # the option is read in [DEFAULT] (banjail); upstream would ignore it there
        text = (conf / "jail.local").read_text().replace("[sshd]\nenabled = false\n" + f"maxlinelength = {limit}\n", "[sshd]\nenabled = false\n")
        (conf / "jail.local").write_text(text.replace("[DEFAULT]\n", f"[DEFAULT]\nmaxlinelength = {limit}\n"))
    for name in ("slow.log", "other.log"):
        (tmp / name).touch()
    server = Server(tmp).start()
    try:
        append(tmp / "slow.log", ["(" * (kib * 1024) + BASE] * count)
        time.sleep(0.2)
        start = time.monotonic()
        append(tmp / "other.log", ["fail from 10.0.0.7 port 3"])
        other = None
        worst_ping = 0.0
        deadline = start + 600
        while time.monotonic() < deadline and other is None:
            t0 = time.monotonic()
            with contextlib.suppress(TimeoutError, OSError):
                request(server.sock, ["ping"], timeout=600)
            worst_ping = max(worst_ping, time.monotonic() - t0)
            if "ban 10.0.0.7 0" in lines(tmp / "rec"):
                other = time.monotonic() - start
            time.sleep(0.02)
        print(
            f"lines={count} x {kib} KiB maxlinelength={limit or 'default'}: other jail's ban after "
            f"{other:.2f} s; worst socket ping {worst_ping:.3f} s"
        )
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
