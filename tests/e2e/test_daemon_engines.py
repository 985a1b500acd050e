"""The daemon on both engines, through a real `fail2ban-server` and the installed `fail2ban-client`: two servers,
one forced to the Python reference (BANJAIL_ENGINE=python), one on the native engine, read the same generated
sshd log appended in the same random pieces (cut anywhere, mid-line included) and must end with the same
failures, the same bans and the same action commands, jail by jail: upstream's sshd filter in normal and
aggressive mode (its packaged file, read as it is) and banjail's own sshd filter.

The log is bench/gen_authlog.py's (sessions with pids, NOFAIL and success lines, IPv4/IPv6/::ffff: addresses)
with hostile lines mixed in by a seeded generator: user names carrying forged ` from ADDR port N` tails,
control and non-ASCII characters (which send their chunk to the Python path), and dates that are no date
(Feb 30)."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_run import Server, client, lines, write_config

from banjail.filter import native

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not native.built(), reason="the native engine is not built"),
    pytest.mark.skipif(not Path("/etc/fail2ban/filter.d/sshd.conf").exists(), reason="needs upstream's sshd.conf"),
]

REPO = Path(__file__).resolve().parents[2]
UPSTREAM = Path("/etc/fail2ban/filter.d")
JAILS = {
    "upnormal": "filter = sshd[mode=normal]\npackagedfilter = file\n",
    "upaggr": "filter = sshd[mode=aggressive]\npackagedfilter = file\n",
    "stock": "filter = sshd\n",  # the packaged copy gives way to banjail's hardened filter of the same name
}
VICTIMS = frozenset({"10.0.0.1", "2001:db8::1", "10.9.9.9", "10.1.1.1"})  # named inside HOSTILE_USERS
LINES = 12_000
SEEDS = (11, 12)
# attacker-chosen user names: forged tails naming a victim, controls, non-ASCII, shell and regex metacharacters
HOSTILE_USERS = (
    "root from 10.0.0.1 port 22",
    "x from 2001:db8::1 port 22 ssh2",
    "a\x1bb",
    "ünï",
    "$(id)",
    "u;rm -rf /",
    ".*",
    "::ffff:10.1.1.1",
    "",
    "admin port 22 ssh2: from 10.9.9.9",
)


def _log(seed: int, now: int) -> list[str]:
    """gen_authlog's lines with hostile ones mixed in (seeded; the same for both servers)."""
    made = subprocess.run(
        [sys.executable, str(REPO / "bench" / "gen_authlog.py"), "--lines", str(LINES), "--seed", str(seed),
         "--end", str(now - 60), "--out", "-"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.splitlines()  # fmt: skip
    rnd = random.Random(seed)
    out: list[str] = []
    for line in made:
        out.append(line)
        if rnd.random() < 0.08:
            stamp, _, rest = line.partition(" web1 ")
            pid = rnd.choice((rnd.randrange(2, 99999), int(rest.split("[")[1].split("]")[0]) if "[" in rest else 1))
            ip = rnd.choice(("198.51.100.", "203.0.113.", "::ffff:192.0.2.", "2001:db8:77::")) + str(rnd.randrange(1, 40))
            user = rnd.choice(HOSTILE_USERS)
            text = rnd.choice((
                f"Failed password for invalid user {user} from {ip} port {rnd.randrange(1024, 65535)} ssh2",
                f"Invalid user {user} from {ip} port {rnd.randrange(1024, 65535)}",
                f"Failed password for {user} from {ip} port 22 ssh2",
                f"Connection closed by invalid user {user} {ip} port 22 [preauth]",
                f"Disconnected from authenticating user {user} {ip} port 22 [preauth]",
            ))  # fmt: skip
            if rnd.random() < 0.1:
                stamp = "Feb 30 " + stamp[7:]
            out.append(f"{stamp} web1 sshd[{pid}]: {text}")
    return out


def _config(tmp: Path) -> Path:
    conf = write_config(tmp, maxretry=3, findtime="1d", bantime="1d")
    for name in ("sshd.conf", "common.conf"):
        shutil.copy(UPSTREAM / name, conf / "filter.d" / name)
    (conf / "action.d" / "rec.conf").write_text(f"[Definition]\nactionban = echo <name> ban <ip> >> {tmp}/rec\n")
    text = "[DEFAULT]\nignoreself = false\naction = rec\nmaxretry = 3\nfindtime = 1d\nbantime = 1d\n"
    text += "[sshd]\nenabled = false\n"
    for name, extra in JAILS.items():
        text += f"[{name}]\nenabled = true\nlogpath = {tmp}/auth.log\n{extra}"
    (conf / "jail.local").write_text(text)
    (tmp / "auth.log").touch()
    return conf


@pytest.fixture(params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def seed(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def servers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Server]]:
    started: dict[str, Server] = {}
    try:
        for engine in ("python", "native"):
            tmp = tmp_path / engine
            tmp.mkdir()
            _config(tmp)
            monkeypatch.setenv("BANJAIL_ENGINE", engine)
            started[engine] = Server(tmp).start()
        monkeypatch.delenv("BANJAIL_ENGINE")
        yield started
    finally:
        for server in started.values():
            server.stop()


def _status(server: Server, jail: str) -> dict[str, object]:
    return dict(json.loads(client(server.sock, "status", jail, "--json")))


def _settled(servers: dict[str, Server], total: int, timeout: float) -> None:
    """Waits (bounded) until every jail of every server has read the whole file and its counts stop moving."""
    deadline = time.monotonic() + timeout
    last: object = None
    steady = 0
    while time.monotonic() < deadline:
        now = [
            [_status(s, j)["filter"] for j in JAILS] + [len(lines(s.tmp / "rec"))] for s in servers.values()
        ]
        read = all((s.tmp / "auth.log").stat().st_size == total for s in servers.values())
        steady = steady + 1 if now == last and read else 0
        if steady >= 4:
            return
        last = now
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for both servers to settle")


def test_both_engines_give_the_daemon_the_same_failures_and_bans(servers: dict[str, Server], seed: int) -> None:
    engines = {name: client(s.sock, "get", "stock", "engine").strip() for name, s in servers.items()}
    assert engines["python"].startswith("python (")
    assert engines["native"] == f"native ({native.version()})"
    data = "".join(line + "\n" for line in _log(seed, int(time.time()))).encode()
    rnd = random.Random(seed)
    at = 0
    pieces = 0
    while at < len(data) and pieces < 5_000:  # cut anywhere: mid-line, mid-address, between lines
        size = rnd.choice((1, 7, 100, 1_000, 4_096, 20_000))
        piece = data[at : at + size]
        for server in servers.values():
            with open(server.tmp / "auth.log", "ab") as out:
                out.write(piece)
        at += len(piece)
        pieces += 1
        if rnd.random() < 0.2:
            time.sleep(rnd.choice((0.0, 0.01, 0.05)))
    assert at == len(data)
    _settled(servers, len(data), 90)
    got = {}
    for name, server in servers.items():
        jails = {jail: _status(server, jail) for jail in JAILS}
        for one in jails.values():
            one.pop("engine", None)
            one["filter"].pop("file_list", None)  # type: ignore[union-attr]
            one["actions"]["banned"] = sorted(one["actions"]["banned"])  # type: ignore[index]
        got[name] = (jails, sorted(lines(server.tmp / "rec")))
    python, native_ = got["python"], got["native"]
    for jail in JAILS:
        assert native_[0][jail] == python[0][jail], jail
    assert native_[1] == python[1]
    banned = {jail: python[0][jail]["actions"]["total_banned"] for jail in JAILS}  # type: ignore[index]
    failed = {jail: python[0][jail]["filter"]["total_failed"] for jail in JAILS}  # type: ignore[index]
    print(f"seed {seed}: {len(data.splitlines())} lines in {pieces} pieces; failed {failed}; banned {banned}")
    assert all(n > 50 for n in banned.values()), banned  # the log bans many, but not every address
    # the addresses the hostile user names forge are never banned by banjail's own filter, on either engine
    assert not VICTIMS & set(python[0]["stock"]["actions"]["banned"]), VICTIMS  # type: ignore[index]
