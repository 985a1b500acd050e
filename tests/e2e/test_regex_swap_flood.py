"""Issue 14 item 11: a control command that replaces a jail's regexes (`set <jail> addfailregex` /
`delfailregex`) while the jail's scan thread matches a backlog. A real fail2ban-server gets a burst of failures
of distinct addresses; while it works through them, the installed fail2ban-client swaps the jail's failregex list
again and again. The batch in flight keeps the matcher it started with (banjail.daemon.scanning's snapshot), the
next batch takes the new one: every line is counted exactly once, each command answers with the list it made,
the server logs no error, and a line only the last added regex matches is counted after the swaps."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from daemon_run import Server, client, wait_for, write_config

LINES = 30_000
SWAPS = 5
FIRST = r"^fail from <HOST> port \d+$"  # the filter's own (daemon_run.write_config)
SECOND = r"^fail from <HOST> port 1$"
EXTRA = r"^other from <HOST> port \d+$"


def _listed(reply: str) -> list[str]:
    """The regexes of a `set <jail> addfailregex/delfailregex` reply (`|- [0]: ...` rows)."""
    return [line.split("]: ", 1)[1] for line in reply.splitlines() if "]: " in line]


def _total(sock: str) -> int:
    status = client(sock, "status", "test")
    return int(status.split("Total failed:\t", 1)[1].split("\n", 1)[0])


def test_regexes_swapped_while_a_backlog_is_matched(tmp_path: Path) -> None:
    write_config(tmp_path, maxretry=1_000_000)
    log = tmp_path / "test.log"
    server = Server(tmp_path)
    try:
        server.start()
        base = int(ipaddress.IPv4Address("10.0.0.0"))
        with open(log, "a") as out:
            out.write("".join(f"fail from {ipaddress.IPv4Address(base + n)} port 1\n" for n in range(LINES)))
        behind_seen = False
        for _ in range(SWAPS):  # the list always matches the flood's lines; each command builds a new matcher
            behind_seen = behind_seen or _total(server.sock) < LINES
            for regex, other in ((SECOND, "port \\d+$"), (FIRST, "port 1$")):
                added = client(server.sock, "set", "test", "addfailregex", regex)
                assert len(_listed(added)) == 2, added
                kept = _listed(client(server.sock, "set", "test", "delfailregex", "0"))
                assert len(kept) == 1 and kept[0].endswith(regex.rsplit(" ", 1)[1]) and not kept[0].endswith(other)
        client(server.sock, "set", "test", "addfailregex", EXTRA)
        wait_for(lambda: _total(server.sock) >= LINES, 120, "the backlog to be counted")
        assert _total(server.sock) == LINES  # each line once, whichever matcher matched its batch
        with open(log, "a") as out:
            out.write("other from 10.200.0.1 port 2\n")
        wait_for(lambda: _total(server.sock) > LINES, 30, "the line only the new regex matches")
        assert _total(server.sock) == LINES + 1
        text = (tmp_path / "f2b.log").read_text()
        assert " ERROR " not in text and "Traceback" not in text, text[-2000:]
        assert behind_seen, "the swaps all came after the backlog was counted (the test proved nothing)"
    finally:
        server.stop()
