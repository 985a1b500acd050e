"""A fleet lab: a real redis-server and N banjail hosts, each a `fail2ban-server -f` in a network namespace of
its own with the native nftables action, all on the lab bridge (banjail.fleet, issue 12).

    server namespace 10.78.0.1   redis-server (temp dir; RDB off; AOF on when asked)
    host namespaces  10.78.0.2.. fail2ban-server, jail `test` (file log, maxretry 1, fleet = both)

`nft monitor` runs in every host namespace from the start, so the moment each address enters a host's firewall
is recorded as the kernel reports it, without polling. Every process is stopped by its PID and every namespace
deleted in `close()`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from daemon_run import Server, wait_for

from .netns import SERVER_ADDRESS, Lab, in_netns

SET = "addr-set-test"
_ELEMENT = re.compile(r"^add element inet banjail " + SET + r" \{ (.*) \}")
_ADDRESS = re.compile(r"(\d+\.\d+\.\d+\.\d+)")
_BAN_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) .*\[test\] Ban (\S+)$")


@dataclass
class Monitor:
    """`nft monitor` of one namespace: when each address was first added to the jail's set, and how often."""

    netns: str
    added: dict[str, float] = field(default_factory=dict)
    adds: dict[str, int] = field(default_factory=dict)
    proc: subprocess.Popen[str] | None = None

    def start(self) -> Monitor:
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.netns, "nft", "monitor", "elements"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            now = time.time()
            found = _ELEMENT.match(line.strip())
            if not found:
                continue
            for address in _ADDRESS.findall(found.group(1)):
                self.added.setdefault(address, now)
                self.adds[address] = self.adds.get(address, 0) + 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


class Host:
    """One banjail host of the fleet."""

    def __init__(
        self,
        name: str,
        netns: str,
        tmp: Path,
        redis_url: str,
        key: str,
        extra_jail: str = "",
        extra_fleet: str = "",
    ) -> None:
        self.name = name
        self.netns = netns
        self.tmp = tmp
        self.log = tmp / "test.log"
        conf = tmp / "conf"
        (conf / "filter.d").mkdir(parents=True)
        (conf / "fail2ban.local").write_text(
            f"[Definition]\nlogtarget = {tmp}/f2b.log\nsocket = {tmp}/f2b.sock\npidfile = {tmp}/f2b.pid\n"
            f"dbfile = {tmp}/f2b.sqlite3\nloglevel = INFO\n"
            f"[fleet]\nredis = {redis_url}\nstream = banjail:bans\nkey = {key}\nhost = {name}\n{extra_fleet}"
        )
        (conf / "jail.local").write_text(
            "[DEFAULT]\nignoreself = false\n[sshd]\nenabled = false\n"
            f"[test]\nenabled = true\nfilter = test\nlogpath = {self.log}\naction = nftables[port=2222]\n"
            f"maxretry = 1\nfindtime = 1h\nbantime = 1h\nfleet = both\n{extra_jail}"
        )
        (conf / "filter.d" / "test.conf").write_text(
            "[Definition]\nfailregex = fail from <HOST> port \\d+$\n"
        )
        self.log.touch()
        self.server = Server(tmp, prefix=("ip", "netns", "exec", netns))
        self.monitor = Monitor(netns).start()

    def start(self) -> Host:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def fail(self, addresses: Sequence[str]) -> None:
        """Write one failure line per address to the jail's log."""
        with open(self.log, "a") as out:
            out.write("".join(f"fail from {a} port 22\n" for a in addresses))

    def client(self, *argv: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "banjail.cli.client", "-s", self.server.sock, *argv],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
            env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[3] / "src")),
        )
        return done.stdout + done.stderr

    def firewall(self) -> set[str]:
        """The addresses in the jail's nftables set now."""
        run = in_netns(self.netns, ["nft", "list", "set", "inet", "banjail", SET], timeout=10)
        return (
            set(_ADDRESS.findall(run.stdout.split("elements", 1)[1])) if "elements" in run.stdout else set()
        )

    def daemon_log(self) -> str:
        try:
            return (self.tmp / "f2b.log").read_text()
        except FileNotFoundError:
            return ""

    def bans_logged(self) -> dict[str, float]:
        """Address -> time of the daemon's `[test] Ban` line (the line is written right after the commit)."""
        found: dict[str, float] = {}
        for line in self.daemon_log().splitlines():
            m = _BAN_LINE.match(line)
            if m:
                stamp = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + int(m.group(2)) / 1000
                found.setdefault(m.group(3), stamp)
        return found

    def ban_lines(self, address: str) -> int:
        """How many `[test] Ban <address>` lines the daemon logged (Restore Ban lines are not counted)."""
        return sum(1 for line in self.daemon_log().splitlines() if line.endswith(f"[test] Ban {address}"))

    def cut(self, on: bool) -> None:
        """Drop (or stop dropping) every packet between this host and the Redis namespace."""
        verb = "-I" if on else "-D"
        for chain, way in (("INPUT", "-s"), ("OUTPUT", "-d")):
            run = in_netns(self.netns, ["iptables", "-w", verb, chain, way, SERVER_ADDRESS, "-j", "DROP"])
            assert run.returncode == 0, run.stderr

    def close(self) -> None:
        self.server.stop()
        self.monitor.stop()


class Redis:
    """A redis-server in the lab's server namespace, on a temp dir, stopped by its PID."""

    def __init__(
        self, netns: str, tmp: Path, port: int, aof: bool, tls: bool = False, replicaof: int = 0
    ) -> None:
        self.replicaof = replicaof  # the port of the primary this one replicates, 0: a primary
        self.netns, self.tmp, self.port, self.aof = netns, tmp, port, aof
        self.proc: subprocess.Popen[bytes] | None = None
        tmp.mkdir(parents=True, exist_ok=True)
        self.password = secrets.token_hex(8) if tls else ""
        self.ca = tmp / "ca.pem"
        if tls:
            certificates(tmp)

    @property
    def url(self) -> str:
        if self.password:
            return f"rediss://:{self.password}@{SERVER_ADDRESS}:{self.port}/0?ssl_ca_certs={self.ca}"
        return f"redis://{SERVER_ADDRESS}:{self.port}/0"

    def start(self) -> Redis:
        argv = [
            "redis-server", "--port", str(self.port), "--bind", SERVER_ADDRESS, "--dir", str(self.tmp),
            "--save", "", "--daemonize", "no", "--protected-mode", "no",
            "--appendonly", "yes" if self.aof else "no", "--appendfsync", "always",
        ]  # fmt: skip
        if self.replicaof:
            argv += ["--replicaof", SERVER_ADDRESS, str(self.replicaof)]
        if self.password:
            t = self.tmp
            argv[2] = "0"  # no plain port: TLS only, with a password
            argv += ["--tls-port", str(self.port), "--tls-cert-file", str(t / "server.pem"),
                     "--tls-key-file", str(t / "server.key"), "--tls-ca-cert-file", str(self.ca),
                     "--tls-auth-clients", "no", "--requirepass", self.password]  # fmt: skip
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.netns, *argv],
            stdout=open(self.tmp / "redis.log", "ab"),  # noqa: SIM115 - closed with the process
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: self.cli("PING").strip() == "PONG", 10, "redis-server")
        return self

    def cli(self, *argv: str) -> str:
        secure = (
            ["--tls", "--cacert", str(self.ca), "--no-auth-warning", "-a", self.password]
            if self.password
            else []
        )
        where = ["-h", SERVER_ADDRESS, "-p", str(self.port)]
        run = in_netns(self.netns, ["redis-cli", *secure, *where, *argv], timeout=10)
        return run.stdout

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


class FleetLab:
    """Redis plus `hosts` banjail hosts; `extra` maps a host name to lines added to its jail section."""

    def __init__(self, tmp: Path, hosts: Sequence[str] = ("a", "b", "c"), *, aof: bool = False,
                 extra: dict[str, str] | None = None, late: Sequence[str] = (), tls: bool = False,
                 replica_for: Sequence[str] = ()) -> None:  # fmt: skip
        self.tmp = tmp
        self.key = secrets.token_hex(16)
        self.lab = Lab([*hosts, *late], tag="fl")
        self.names = list(hosts)
        self.late = list(late)  # hosts made but not started: `join` starts them
        self.extra = extra or {}
        self.port = 20000 + os.getpid() % 20000
        self.aof = aof
        self.tls = tls
        self.replica_for = list(replica_for)  # hosts that read the stream from a replica of the primary
        self.replica: Redis | None = None
        self.redis: Redis | None = None
        self.hosts: dict[str, Host] = {}

    @property
    def url(self) -> str:
        assert self.redis is not None
        return self.redis.url

    def open(self) -> FleetLab:
        try:
            self.lab.open()
            self.redis = Redis(
                self.lab.server.netns, self.tmp / "redis", self.port, self.aof, self.tls
            ).start()
            netns = self.lab.server.netns
            if self.replica_for:
                self.replica = Redis(
                    netns, self.tmp / "replica", self.port + 1, False, replicaof=self.port
                ).start()
            for name in self.names + self.late:
                reads = f"replica = {self.replica.url}\n" if self.replica and name in self.replica_for else ""
                host = Host(
                    name,
                    self.lab[name].netns,
                    self.tmp / name,
                    self.url,
                    self.key,
                    self.extra.get(name, ""),
                    reads,
                )
                self.hosts[name] = host
            for name in self.names:
                self.join(name)
        except BaseException:
            self.close()
            raise
        return self

    def join(self, name: str) -> Host:
        """Start host `name` and wait until it follows the stream."""
        host = self.hosts[name].start()
        wait_for(lambda: "subscriber connected" in host.daemon_log(), 15, f"{name} subscribed")
        return host

    def __getitem__(self, name: str) -> Host:
        return self.hosts[name]

    def close(self) -> None:
        for host in self.hosts.values():
            with contextlib.suppress(Exception):
                host.close()
        for redis in (self.replica, self.redis):
            if redis is not None:
                redis.stop()
        self.lab.close()


def certificates(where: Path) -> None:
    """A CA and a server certificate for SERVER_ADDRESS (an IP subjectAltName), made with openssl."""

    def openssl(*argv: str) -> None:
        subprocess.run(["openssl", *argv], cwd=where, capture_output=True, check=True, timeout=30)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=banjail test CA")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", f"/CN={SERVER_ADDRESS}")  # fmt: skip
    (where / "san.ext").write_text(f"subjectAltName = IP:{SERVER_ADDRESS}\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "san.ext")  # fmt: skip
    for name in ("server.key", "ca.pem", "server.pem"):
        (where / name).chmod(0o644)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def timeouts(host: Host) -> dict[str, int]:
    """Address -> the timeout (seconds) its element was added with to the host's set."""
    run = in_netns(host.netns, ["nft", "-j", "list", "set", "inet", "banjail", SET], timeout=10)
    found: dict[str, int] = {}
    for item in json.loads(run.stdout or '{"nftables": []}')["nftables"]:
        for element in item.get("set", {}).get("elem", []):
            if isinstance(element, dict) and "elem" in element:
                found[str(element["elem"]["val"])] = int(element["elem"].get("timeout", 0))
    return found
