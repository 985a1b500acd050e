"""systemd socket activation (`fail2ban.socket`): take over the control socket systemd listens on.

systemd passes listening sockets as file descriptors 3, 4, ... with LISTEN_PID (the process they are meant for)
and LISTEN_FDS (how many). Guarantees: a socket is taken only when LISTEN_PID is this process and the descriptor
is a listening Unix stream socket bound to the control socket path the configuration names (symbolic links
in the path resolved); the
variables are removed from the environment either way, so action commands never believe they were activated.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import MutableMapping

LISTEN_FDS_START = 3
VARIABLES = ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES")


def inherited_listener(
    path: str, environ: MutableMapping[str, str] | None = None, first_fd: int = LISTEN_FDS_START
) -> tuple[socket.socket | None, str]:
    """(the listening socket systemd passed for `path` or None, a line for the log: "" when not activated).
    The caller logs the line once logging is set up."""
    env = os.environ if environ is None else environ
    pid, count = env.get("LISTEN_PID", ""), env.get("LISTEN_FDS", "")
    for name in VARIABLES:
        env.pop(name, None)
    if not (pid.isdigit() and count.isdigit()) or int(pid) != os.getpid():
        return None, ""
    for fd in range(first_fd, first_fd + int(count)):
        try:
            candidate = socket.socket(fileno=fd)
        except OSError:
            continue
        if candidate.family == socket.AF_UNIX and candidate.type == socket.SOCK_STREAM:
            with contextlib.suppress(OSError):
                # /var/run/fail2ban/... (fail2ban.conf) and /run/fail2ban/... (the unit) are one file on Debian.
                if os.path.realpath(candidate.getsockname()) == os.path.realpath(path):
                    candidate.setblocking(False)
                    return candidate, f"Control socket {path} taken over from systemd (socket activation)"
        candidate.detach()  # not ours to close: leave the descriptor as systemd passed it
    return None, (
        f"Socket activation: no listening Unix socket for {path} among {count} passed descriptor(s); "
        "set ListenStream= in fail2ban.socket to the `socket` of fail2ban.conf"
    )
