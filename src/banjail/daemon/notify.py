"""systemd's readiness protocol (Type=notify): one datagram to $NOTIFY_SOCKET; nothing when it is not set."""

from __future__ import annotations

import os
import socket


def notify(state: str) -> bool:
    """Send `state` ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...") to systemd; False if not under it."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(state.encode(), address)
    except OSError:
        return False
    return True
