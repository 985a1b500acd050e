"""fail2ban-client compatibility, proven against upstream fail2ban 1.0.2 (Debian) on one scenario.

A. upstream's client against upstream's server: the reference outputs (stdout and exit status per command);
B. banjail's client against banjail's ControlServer whose controller forwards each command to a fresh upstream
   server (recording its replies): byte-identical to A, so client, JSON transport and formatting add nothing;
C. upstream's own client against banjail's ControlServer replaying B's recorded replies: byte-identical to A, so
   the pickle framing, the restricted unpickler and the error classes are what upstream's client expects;
D. banjail's client, then upstream's client, against banjail's real daemon (fail2ban-server) on the same
   configuration and log: byte-identical to A except the commands listed in DAEMON_DIFFERENCES; and the servers'
   log lines about the address given to `set test attempt` (Attempt, Ban, Unban) are upstream's.

Upstream's server runs inside `unshare -n` (a private, empty network namespace), with its own socket, pidfile,
database and log in a temp dir, and a command action that only writes to a file: it can never touch the host's
firewall.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import pickle
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from banjail.cli import client
from banjail.control import legacy
from banjail.control.server import ControlServer
from banjail.errors import ControlError

pytestmark = pytest.mark.e2e

UPSTREAM_SERVER = "/usr/bin/fail2ban-server"
UPSTREAM_CLIENT = "/usr/bin/fail2ban-client"

SCENARIO: list[list[str]] = [
    ["ping"],
    ["status"],
    ["status", "test"],
    ["status", "test", "short"],
    ["banned"],
    ["banned", "10.77.0.2", "192.0.2.200"],
    ["get", "test", "banned"],
    ["get", "test", "banned", "10.77.0.2"],
    ["set", "test", "banip", "192.0.2.1", "192.0.2.2"],
    ["get", "test", "banip"],
    ["get", "test", "banip", ","],
    ["status", "test"],
    ["set", "test", "unbanip", "192.0.2.1"],
    ["set", "test", "unbanip", "--report-absent", "192.0.2.99"],
    ["unban", "192.0.2.2"],
    ["status", "nojail"],
    ["get", "nojail", "maxretry"],
    ["get", "test", "maxretry"],
    ["set", "test", "maxretry", "abc"],
    ["set", "test", "maxretry", "4"],
    ["set", "test", "bantime", "1h"],
    ["get", "test", "logpath"],
    ["get", "test", "failregex"],
    ["get", "test", "ignoreip"],
    ["set", "test", "addignoreip", "10.0.0.0/8", "192.0.2.0/24"],
    ["get", "test", "datepattern"],
    ["get", "test", "actions"],
    ["get", "test", "journalmatch"],
    ["get", "loglevel"],
    ["get", "logtarget"],
    ["get", "dbfile"],
    ["get", "dbpurgeage"],
    ["version"],
    ["echo", "a", "b"],
    ["bogus"],
    ["get", "test", "bogus"],
    ["get", "test", "prefregex"],
    ["get", "test", "ignoreregex"],
    ["set", "test", "addaction", "rec2"],
    ["set", "test", "addaction", "rec2"],
    ["set", "test", "addaction", "rec"],
    ["set", "test", "action", "rec2", "actionban", "echo x"],
    ["get", "test", "action", "rec2", "actionban"],
    ["get", "test", "actions"],
    ["set", "test", "delaction", "rec2"],
    ["set", "test", "delaction", "rec2"],
    ["get", "test", "action", "rec2", "actionban"],
    ["set", "test", "addaction"],
    ["get", "test", "actions"],
    ["set", "test", "addignoreip", "192.0.2.50"],
    ["set", "test", "attempt", "192.0.2.50"],
    ["status", "test"],
    ["set", "test", "attempt", "192.0.2.50", "line 1", "line 2"],
    ["status", "test"],
    ["set", "test", "attempt", "192.0.2.50"],  # the 4th retry: maxretry is 4 by now
    ["set", "dbpurgeage", "2d"],
    ["get", "dbpurgeage"],
    ["set", "dbfile", "/nonexistent/other.sqlite3"],
    # Upstream bans from its actions thread (~0.15 s later when idle): wait well past it, even on a busy machine.
    ["sleep", "1.5"],
    ["status", "test"],
    ["unban", "--all"],
    ["status", "test"],
    ["stop", "--all"],
    ["set", "dbfile", ":memory:"],
    ["get", "dbfile"],
    ["get", "dbpurgeage"],
    ["get", "dbmaxmatches"],
    ["set", "dbfile", "None"],
    ["get", "dbfile"],
    ["get", "dbpurgeage"],
    ["stop"],
]

Outputs = list[tuple[list[str], str, int]]


def _available() -> bool:
    return os.geteuid() == 0 and os.path.exists(UPSTREAM_SERVER) and shutil.which("unshare") is not None


def _write_conf(root: Path) -> Path:
    conf = root / "conf"
    (conf / "filter.d").mkdir(parents=True, exist_ok=True)
    (conf / "action.d").mkdir(exist_ok=True)
    (conf / "fail2ban.conf").write_text(
        "[Definition]\nloglevel = INFO\n"
        f"logtarget = {root}/f2b.log\nsocket = {root}/f2b.sock\npidfile = {root}/f2b.pid\n"
        f"dbfile = {root}/f2b.sqlite3\ndbpurgeage = 1d\nallowipv6 = auto\n"
    )
    (conf / "jail.conf").write_text(
        "[DEFAULT]\nbackend = polling\n\n[test]\nenabled = true\nfilter = test\n"
        f"logpath = {root}/test.log\nmaxretry = 3\nfindtime = 600\nbantime = 600\naction = rec\n"
    )
    (conf / "filter.d" / "test.conf").write_text(
        "[Definition]\nprefregex = ^<F-MLFID>auth</F-MLFID> <F-CONTENT>.+</F-CONTENT>$\n"
        "failregex = ^failure from <HOST>$\n    ^bad user <F-USER>\\S+</F-USER> from <ADDR>$\n"
        "ignoreregex = ^failure from 10\\.77\\.0\\.99$\ndatepattern = {NONE}\n"
    )
    (conf / "action.d" / "rec.conf").write_text(
        f"[Definition]\nactionban = echo ban <ip> >> {root}/actions.log\n"
        f"actionunban = echo unban <ip> >> {root}/actions.log\n"
    )
    return conf


def _client(sock: str, argv: list[str], *, upstream: bool) -> tuple[str, int]:
    if not upstream:  # in-process: the same main() the console script runs, without an interpreter start each
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            status = client.main(["-s", sock, *argv])
        return stdout.getvalue(), status
    done = subprocess.run([UPSTREAM_CLIENT, "-s", sock, *argv], capture_output=True, text=True, timeout=30)
    return done.stdout, done.returncode


# Replies where banjail's daemon knowingly differs from upstream's server (not the client's doing): none now
# (`get test datepattern` of {NONE} is upstream's ('{UNB}^', '^') too).
DAEMON_DIFFERENCES: set[tuple[str, ...]] = set()

BANJAIL_SERVER = [sys.executable, "-c", "import sys; from banjail.cli.server import main; sys.exit(main())"]


class UpstreamServer:
    """Upstream's fail2ban-server in the foreground inside `unshare -n`, with the `test` jail of _write_conf,
    after 3 failures of 10.77.0.2 (banned) and 2 of 10.77.0.9 (counted). With banjail=True, banjail's
    fail2ban-server instead, on the same files."""

    def __init__(self, root: Path, *, banjail: bool = False) -> None:
        for name in ("f2b.sqlite3", "f2b.sock", "f2b.pid", "f2b.log", "actions.log"):
            (root / name).unlink(missing_ok=True)
        (root / "test.log").write_text("")
        self.sock = str(root / "f2b.sock")
        conf = _write_conf(root)
        # unshare execs the server: this process IS the server, so it can be ended by its own pid.
        server = (
            [*BANJAIL_SERVER, "-c", str(conf), "-xf"]
            if banjail
            else [UPSTREAM_SERVER, "-c", str(conf), "-xf", "start"]
        )
        self.proc = subprocess.Popen(
            ["unshare", "-n", *server],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait(lambda: _client(self.sock, ["ping"], upstream=True)[1] == 0, "server start")
        with (root / "test.log").open("a") as log:
            log.write("auth failure from 10.77.0.2\n" * 3 + "auth failure from 10.77.0.9\n" * 2)
        self._wait(
            lambda: (
                "Total failed:\t5" in _client(self.sock, ["status", "test"], upstream=True)[0]
                and "Currently banned:\t1" in _client(self.sock, ["status", "test"], upstream=True)[0]
            ),
            "ban of 10.77.0.2",
        )

    def _wait(self, ready: Any, what: str) -> None:
        deadline = time.monotonic() + 20
        while not ready():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                pytest.fail(f"upstream fail2ban-server: no {what}")
            time.sleep(0.2)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class _UpstreamReply(pickle.Unpickler):
    """Loads upstream's replies (a trusted test oracle), mapping its exceptions to the text its client prints."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "fail2ban.exceptions":
            return {
                "UnknownJailException": lambda j: ControlError(f"Sorry but the jail '{j}' does not exist"),
                "DuplicateJailException": lambda j: ControlError(f"The jail '{j}' already exists"),
            }[name]
        return super().find_class(module, name)


class ProxyController:
    """Forwards each command to upstream's server over its own socket; records (argv, ok, value or message)."""

    def __init__(self, sock: str) -> None:
        self.sock = sock
        self.records: list[dict[str, Any]] = []

    def _send(self, argv: list[Any]) -> tuple[int, Any]:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(self.sock)
            s.sendall(legacy.dump_request(argv))
            data = b""
            while not data.endswith(legacy.END):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            reply: tuple[int, Any] = _UpstreamReply(io.BytesIO(data[: -len(legacy.END)])).load()
            return reply

    async def dispatch(self, argv: list[Any]) -> object:
        code, value = await asyncio.to_thread(self._send, argv)
        if code == 0:
            self.records.append({"argv": argv, "ok": True, "value": value})
            return value
        if isinstance(value, IndexError):
            message = "Sorry but the command is invalid"
        else:
            message = str(value) if not isinstance(value, ControlError) else value.args[0]
        self.records.append({"argv": argv, "ok": False, "error": message})
        raise ControlError(message)


class ReplayController:
    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = list(records)

    async def dispatch(self, argv: list[Any]) -> object:
        record = self.records.pop(0)
        assert record["argv"] == argv
        if not record["ok"]:
            raise ControlError(record["error"])
        return record["value"]


class BanjailSocket:
    """A ControlServer around `controller` on its own loop in a thread."""

    def __init__(self, path: str, controller: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = ControlServer(path, controller)
        self.path = path
        started = threading.Event()

        def run() -> None:
            self.loop.run_until_complete(self.server.start())
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert started.wait(5)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def _run(sock: str, *, upstream: bool) -> Outputs:
    return [(argv, *_client(sock, argv, upstream=upstream)) for argv in SCENARIO]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outputs]]:
    if not _available():
        pytest.skip("needs root, unshare and Debian's fail2ban (upstream oracle)")
    root = tmp_path_factory.mktemp("upstream")
    results: dict[str, Outputs] = {}
    # A: upstream against upstream.
    server = UpstreamServer(root)
    try:
        results["upstream"] = _run(server.sock, upstream=True)
    finally:
        server.close()
    results["upstream-log"] = _logged(root, ATTEMPTED)
    # B: banjail's client -> banjail's socket -> a fresh upstream server (same paths, same state).
    server = UpstreamServer(root)
    proxy = ProxyController(server.sock)
    ours = BanjailSocket(str(root / "banjail.sock"), proxy)
    try:
        results["banjail-client"] = _run(ours.path, upstream=False)
    finally:
        ours.close()
        server.close()
    # C: upstream's client -> banjail's socket replaying B's replies.
    ours = BanjailSocket(str(root / "banjail.sock"), ReplayController(proxy.records))
    try:
        results["upstream-client"] = _run(ours.path, upstream=True)
    finally:
        ours.close()
    # D: both clients against banjail's own daemon (the scenario ends with `stop`, so one fresh daemon each).
    for name, upstream in (("banjail-daemon", False), ("banjail-daemon-upstream-client", True)):
        server = UpstreamServer(root, banjail=True)
        try:
            results[name] = _run(server.sock, upstream=upstream)
        finally:
            server.close()
        results[f"{name}-log"] = _logged(root, ATTEMPTED)
    yield results


ATTEMPTED = "192.0.2.50"


def _logged(root: Path, ip: str) -> Outputs:
    """The server log's lines about `ip`, without time stamp, logger and pid (`INFO    [test] Attempt ...`), the
    time at the end of `Attempt`/`Found` lines masked; in the Outputs shape so the fixture keeps one type."""
    lines = []
    for line in (root / "f2b.log").read_text().splitlines():
        if ip in line and "]: " in line:
            message = line.split("]: ", 1)[1]
            lines.append(message.rsplit(" - ", 1)[0] + " - <time>" if " - " in message else message)
    return [(["log"], "\n".join(lines), 0)]


def _compare(expected: Outputs, actual: Outputs, skip: set[tuple[str, ...]] | None = None) -> None:
    assert len(actual) == len(expected)
    for (argv, out, status), (_, got_out, got_status) in zip(expected, actual, strict=True):
        if skip and tuple(argv) in skip:
            continue
        assert (argv, got_out, got_status) == (argv, out, status)


def test_scenario_reaches_bans(runs: dict[str, Outputs]) -> None:
    outputs = runs["upstream"]
    assert outputs[2][0] == ["status", "test"]
    assert "Banned IP list:\t10.77.0.2\n" in outputs[2][1]
    assert outputs[-1] == (["stop"], "Shutdown successful\n", 0)


def test_banjail_client_output_is_byte_identical(runs: dict[str, Outputs]) -> None:
    _compare(runs["upstream"], runs["banjail-client"])


def test_upstream_client_works_against_banjail_server(runs: dict[str, Outputs]) -> None:
    _compare(runs["upstream"], runs["upstream-client"])


@pytest.mark.parametrize("run", ["banjail-daemon", "banjail-daemon-upstream-client"])
def test_banjail_daemon_output_is_byte_identical(runs: dict[str, Outputs], run: str) -> None:
    _compare(runs["upstream"], runs[run], skip=DAEMON_DIFFERENCES)


@pytest.mark.parametrize("run", ["banjail-daemon", "banjail-daemon-upstream-client"])
def test_banjail_daemon_logs_attempts_as_upstream(runs: dict[str, Outputs], run: str) -> None:
    expected = runs["upstream-log"][0][1]
    assert expected.splitlines() == [
        "INFO    [test] Attempt 192.0.2.50 - <time>",
        "INFO    [test] Attempt 192.0.2.50 - <time>",
        "INFO    [test] Attempt 192.0.2.50 - <time>",
        "NOTICE  [test] Ban 192.0.2.50",
        "NOTICE  [test] Unban 192.0.2.50",
    ]
    assert runs[f"{run}-log"][0][1] == expected
