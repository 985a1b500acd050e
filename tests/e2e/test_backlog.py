"""Issue 14 item 11: a flood the daemon cannot keep up with. A real fail2ban-server gets a burst of failures of
distinct addresses that never reach maxretry (a no-ban flood) written at once: while it is behind, `status
<jail>` shows the lag per file (a banjail row, also in --json) and the socket answers; when it has caught up the
row is gone, every failure was counted, and the database keeps at most `dbmaxfailures` counted failures for the
jail (before the fix every pending failure stayed in the file with its line: 148 MB after 1M lines)."""

from __future__ import annotations

import ipaddress
import json
import sqlite3
from pathlib import Path

from daemon_run import Server, client, wait_for, write_config

LINES = 60_000
CAP = 2_000


def _rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM banjail_failures WHERE jail = 'test'").fetchone()[0])


def test_flood_backlog_is_shown_and_stored_failures_stay_bounded(tmp_path: Path) -> None:
    conf = write_config(tmp_path, maxretry=1000)
    with open(conf / "fail2ban.local", "a") as out:
        out.write(f"dbmaxfailures = {CAP}\n")
    log = tmp_path / "test.log"
    server = Server(tmp_path)
    try:
        server.start()
        base = int(ipaddress.IPv4Address("10.0.0.0"))
        with open(log, "a") as out:  # the bounded writer: LINES distinct addresses at once
            out.write("".join(f"fail from {ipaddress.IPv4Address(base + n)} port 1\n" for n in range(LINES)))
        value = server.ask("status", "test")  # straight through the socket: the first look must be quick
        lag = dict(value[0][1])["Lag"]  # type: ignore[index]
        assert lag[0].startswith(f"{log} ") and lag[0].endswith(" bytes"), lag
        behind = client(server.sock, "status", "test")
        assert f"|  `- Lag:\t{log} " in behind or f"Total failed:\t{LINES}\n" in behind, behind
        as_json = json.loads(client(server.sock, "--json", "status", "test"))
        rows = as_json["filter"]  # --json prints objects (README): the Lag row is the filter's `lag` field
        assert "lag" not in rows or rows["lag"][0].startswith(f"{log} "), rows  # unless caught up meanwhile
        assert client(server.sock, "ping").strip() == "Server replied: pong"

        def caught_up() -> bool:
            return f"Total failed:\t{LINES}\n" in client(server.sock, "status", "test")

        wait_for(caught_up, 180, "the daemon to catch up")
        status = client(server.sock, "status", "test")
        assert "Lag" not in status
        assert _rows(tmp_path / "f2b.sqlite3") <= CAP + CAP // 10 + 1
    finally:
        server.stop()
