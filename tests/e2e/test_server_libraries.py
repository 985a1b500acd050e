"""The running fail2ban-server maps neither OpenSSL library: asyncio's ssl, hashlib's md5 and the fleet's HMAC
would each map libcrypto (about 3.4 MB resident, 6 MB with libssl) into a daemon that never uses them. Read from
/proc/PID/maps of the installed command, after it has read and banned."""

from __future__ import annotations

from pathlib import Path

import pytest
from daemon_run import INSTALLED_SERVER, Server, append, lines, wait_for, write_config

pytestmark = pytest.mark.e2e


def _mapped(pid: int) -> set[str]:
    rows = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {row.split()[-1].rsplit("/", 1)[-1] for row in rows if "/" in row}


def test_server_maps_no_openssl_library_after_a_ban(tmp_path: Path) -> None:
    write_config(tmp_path, maxretry=2)
    server = Server(tmp_path, command=INSTALLED_SERVER)
    try:
        server.start()
        assert server.proc is not None
        append(tmp_path / "test.log", ["fail from 10.0.0.9 port 1", "fail from 10.0.0.9 port 2"])
        wait_for(lambda: "ban 10.0.0.9 0" in lines(tmp_path / "rec"), 15, "the ban")
        openssl = sorted(name for name in _mapped(server.proc.pid) if name.startswith(("libcrypto", "libssl")))
        assert openssl == []
    finally:
        server.stop()
