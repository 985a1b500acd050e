"""The daemon's files under /run: the pidfile and the control socket path (stale-socket checks for `-x`)."""

from __future__ import annotations

import contextlib
import os
import socket
import stat


class RuntimeFileError(Exception):
    """The socket or pidfile cannot be used; the message says why and what to do."""


def ensure_parent(path: str) -> None:
    """Create the last directory level of `path` when missing (mode 0700 under umask 077)."""
    parent = os.path.dirname(path)
    if parent and os.path.isabs(parent) and not os.path.isdir(parent):
        os.makedirs(parent, exist_ok=True)


def socket_alive(path: str, timeout: float = 1.0) -> bool:
    """Whether a server accepts connections on the Unix socket `path`."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except OSError:
            return False
    return True


def claim_socket(path: str, *, force: bool) -> None:
    """Make `path` free for our socket. An existing one is removed with `force` (-x); without it a live server
    means "already running" and a stale file is an error telling to use -x."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        ensure_parent(path)
        return
    if force:
        os.unlink(path)
        return
    if stat.S_ISSOCK(st.st_mode) and socket_alive(path):
        raise RuntimeFileError("Server already running")
    raise RuntimeFileError(
        f"Fail2ban seems to be in unexpected state (not running but the socket {path} exists); "
        "start with -x to remove it"
    )


def write_pidfile(path: str) -> None:
    ensure_parent(path)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="ascii") as out:
        out.write(f"{os.getpid()}\n")
    os.replace(tmp, path)


def remove_pidfile(path: str) -> None:
    """Remove the pidfile if it is still ours."""
    with contextlib.suppress(OSError):
        with open(path, encoding="ascii") as handle:
            if handle.read().strip() != str(os.getpid()):
                return
        os.unlink(path)
