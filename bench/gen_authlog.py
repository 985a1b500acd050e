"""A deterministic generator of a realistic Debian ``auth.log`` for benchmarks.

Guarantees: the same ``LogSpec`` (lines, seed, format, end, host) always yields byte-identical output; times never
decrease and the last line is at or before ``end``; about 30 % of lines belong to attack connections (about 10 % of
those from IPv6 addresses, drawn from ``ADDRESSES`` attacker addresses with Zipf frequencies) and the rest is the
ordinary noise of a server (logins, pam sessions, cron, logind, sudo). Every sshd connection has its own pid, and
connections interleave the way a busy sshd writes them.

Usage: ``gen_authlog.py --lines N --seed S --out FILE [--format syslog|iso] [--end EPOCH]``, or
``gen_authlog.py --selftest``. Importable: ``write_authlog(out, spec) -> GenStats``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

FORMATS = ("syslog", "iso")
ADDRESSES = 50_000
ZIPF_EXPONENT = 1.0
ATTACK_SHARE = 0.30
MEAN_GAP_S = 0.05  # 20 lines/s: 1M lines span about 14 hours
# Connections open at once; more of them interleave lines of different pids more.
ATTACK_CONCURRENCY = 6
NOISE_CONCURRENCY = 4

ATTACK_USERS = (
    "root", "root", "root", "admin", "test", "user", "ubuntu", "oracle", "postgres", "git", "ftpuser", "guest",
    "pi", "deploy", "support", "mysql", "hadoop", "jenkins", "dev", "www-data", "teamspeak", "minecraft", "sol",
    "validator", "ansible", "user1", "Admin", "administrator", "steam", "es",
)  # fmt: skip
LEGIT_USERS = (("alice", 1000), ("bob", 1001), ("carol", 1002), ("deploy", 1003))
LEGIT_ADDRS = ("192.168.1.23", "192.168.1.57", "10.0.4.11", "2001:db8:4:2::17")
CRON_COMMANDS = (
    "cd / && run-parts --report /etc/cron.hourly",
    "command -v debian-sa1 > /dev/null && debian-sa1 1 1",
    "[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi",
    "/usr/local/bin/backup.sh >/dev/null 2>&1",
)
SUDO_COMMANDS = ("/usr/bin/apt update", "/usr/bin/systemctl restart nginx", "/usr/bin/journalctl -u ssh -n 50")
KEX_OFFERS = ("diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1")


@dataclass(frozen=True)
class LogSpec:
    """What to generate. ``end`` is the epoch of the last line (the caller's "now" minus a margin)."""

    lines: int
    end: int
    seed: int = 1
    format: str = "syslog"
    host: str = "web1"


@dataclass
class GenStats:
    """What was generated, for reports and the self-test."""

    lines: int = 0
    attack_lines: int = 0
    ipv6_attack_lines: int = 0
    first: float = 0.0
    last: float = 0.0
    addresses: set[str] = field(default_factory=set)


# A connection: program tag (with pid), the messages still to write, and whether it is an attack from IPv6.
@dataclass
class _Session:
    tag: str
    messages: list[str]
    attack: bool
    ipv6: bool
    addr: str


def _attacker_addresses(rng: random.Random) -> list[str]:
    """ADDRESSES distinct public-looking addresses; every tenth rank is IPv6 (about 10 % of Zipf traffic)."""
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < ADDRESSES:
        if len(out) % 10 == 3:
            # Canonical form: no zero groups, one "::" run of three zero groups.
            g = [1 + int(rng.random() * 0xFFFF) for _ in range(4)]
            addr = f"2a0{rng.randrange(1, 10)}:{g[0]:x}:{g[1]:x}:{g[2]:x}::{g[3]:x}"
        else:
            first = rng.choice((5, 23, 31, 45, 61, 78, 91, 103, 116, 122, 141, 159, 177, 185, 193, 212, 218))
            b = rng.getrandbits(24)
            addr = f"{first}.{b >> 16}.{(b >> 8) & 255}.{1 + (b & 255) % 254}"
        if addr not in seen:
            seen.add(addr)
            out.append(addr)
    return out


class _Writer:
    """Turns sessions into lines; keeps the random stream, the pid counter and the session pools."""

    def __init__(self, spec: LogSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.addrs = _attacker_addresses(self.rng)
        self.cum_weights = list(itertools.accumulate(1.0 / (r + 1) ** ZIPF_EXPONENT for r in range(ADDRESSES)))
        self.pid = 1000 + self.rng.randrange(5000)
        self.session_no = 100 + self.rng.randrange(900)
        self.attack_kinds: list[Callable[[str, int, str], list[str]]] = [
            self._invalid_user, self._password_guess, self._max_attempts, self._no_ident, self._kex_error,
            self._invalid_closed, self._auth_fail, self._negotiate, self._no_methods, self._pubkey_probe,
        ]  # fmt: skip
        self.attack_weights = list(itertools.accumulate((25, 20, 6, 10, 10, 10, 6, 5, 4, 4)))

    def _next_pid(self) -> int:
        self.pid += 1 + self.rng.randrange(12)
        return self.pid

    def _user(self, invalid: bool = True) -> str:
        """An attacked user name; sshd calls root "authenticating", never "invalid"."""
        r = self.rng.random()
        if r < 0.005:
            return ""  # real scanners send empty user names
        if r < 0.1:
            return f"user{self.rng.randrange(1000)}"
        user = self.rng.choice(ATTACK_USERS)
        return "admin" if invalid and user == "root" else user

    # Attack shapes, as OpenSSH 9.x and pam_unix write them. Each takes address, port and user.
    def _invalid_user(self, a: str, p: int, u: str) -> list[str]:
        tail = (
            [f"Received disconnect from {a} port {p}:11: Bye Bye [preauth]",
             f"Disconnected from invalid user {u} {a} port {p} [preauth]"]
            if self.rng.random() < 0.6
            else [f"Connection closed by invalid user {u} {a} port {p} [preauth]"]
        )  # fmt: skip
        return [
            f"Invalid user {u} from {a} port {p}",
            "pam_unix(sshd:auth): check pass; user unknown",
            f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={a}",
            f"Failed password for invalid user {u} from {a} port {p} ssh2",
            *tail,
        ]

    def _password_guess(self, a: str, p: int, u: str) -> list[str]:
        u = "root" if self.rng.random() < 0.7 else u or "root"
        out = [f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={a}  user={u}"]
        out += [f"Failed password for {u} from {a} port {p} ssh2"] * (1 + self.rng.randrange(3))
        out.append(f"Connection closed by authenticating user {u} {a} port {p} [preauth]")
        return out

    def _max_attempts(self, a: str, p: int, u: str) -> list[str]:
        u = u or "root"
        return [
            f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={a}  user={u}",
            *[f"Failed password for {u} from {a} port {p} ssh2"] * 6,
            f"error: maximum authentication attempts exceeded for {u} from {a} port {p} ssh2 [preauth]",
            f"Disconnecting authenticating user {u} {a} port {p}: Too many authentication failures [preauth]",
            f"PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost={a}  user={u}",
        ]

    def _no_ident(self, a: str, p: int, u: str) -> list[str]:
        return [f"Did not receive identification string from {a} port {p}"]

    def _kex_error(self, a: str, p: int, u: str) -> list[str]:
        r = self.rng.randrange(3)
        if r == 0:
            return ["error: kex_exchange_identification: Connection closed by remote host",
                    f"Connection closed by {a} port {p}"]  # fmt: skip
        if r == 1:
            return ["error: kex_exchange_identification: read: Connection reset by peer",
                    f"Connection reset by {a} port {p}"]  # fmt: skip
        return [
            'error: kex_exchange_identification: client sent invalid protocol identifier "GET / HTTP/1.1"',
            f"banner exchange: Connection from {a} port {p}: invalid format",
        ]

    def _invalid_closed(self, a: str, p: int, u: str) -> list[str]:
        return [f"Invalid user {u} from {a} port {p}",
                f"Connection closed by invalid user {u} {a} port {p} [preauth]"]  # fmt: skip

    def _auth_fail(self, a: str, p: int, u: str) -> list[str]:
        if self.rng.random() < 0.5:
            first = f"Received disconnect from {a} port {p}:3: com.jcraft.jsch.JSchException: Auth fail [preauth]"
        else:
            first = f"Received disconnect from {a} port {p}:11: Bye Bye [preauth]"
        return [first, f"Disconnected from authenticating user {u or 'root'} {a} port {p} [preauth]"]

    def _negotiate(self, a: str, p: int, u: str) -> list[str]:
        offer = self.rng.choice(KEX_OFFERS)
        return [f"Unable to negotiate with {a} port {p}: no matching key exchange method found. "
                f"Their offer: {offer} [preauth]"]  # fmt: skip

    def _no_methods(self, a: str, p: int, u: str) -> list[str]:
        return [f"Received disconnect from {a} port {p}:14: No supported authentication methods available [preauth]",
                f"Disconnected from authenticating user {u or 'root'} {a} port {p} [preauth]"]  # fmt: skip

    def _pubkey_probe(self, a: str, p: int, u: str) -> list[str]:
        return [f"Invalid user {u} from {a} port {p}",
                f"Failed publickey for invalid user {u} from {a} port {p} ssh2: RSA SHA256:"
                f"{hashlib.sha256(a.encode()).hexdigest()[:43]}",
                f"Connection closed by invalid user {u} {a} port {p} [preauth]"]  # fmt: skip

    def new_attack(self) -> _Session:
        rng = self.rng
        addr = rng.choices(self.addrs, cum_weights=self.cum_weights)[0]
        kind = rng.choices(self.attack_kinds, cum_weights=self.attack_weights)[0]
        messages = kind(addr, 1024 + rng.randrange(64000), self._user())
        return _Session(f"sshd[{self._next_pid()}]", messages, True, ":" in addr, addr)

    def new_noise(self) -> _Session:
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            pid = self._next_pid()
            return _Session(f"CRON[{pid}]", [
                "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
                f"(root) CMD ({rng.choice(CRON_COMMANDS)})",
                "pam_unix(cron:session): session closed for user root",
            ], False, False, "")  # fmt: skip
        user, uid = rng.choice(LEGIT_USERS)
        if r < 0.55:
            cmd = rng.choice(SUDO_COMMANDS)
            return _Session("sudo", [
                f"   {user} : TTY=pts/{rng.randrange(4)} ; PWD=/home/{user} ; USER=root ; COMMAND={cmd}",
                f"pam_unix(sudo:session): session opened for user root(uid=0) by {user}(uid={uid})",
                "pam_unix(sudo:session): session closed for user root",
            ], False, False, "")  # fmt: skip
        # A legitimate login: sshd lines, then logind, with logind's lines spliced into the same session by
        # tagging them individually (the tag prefix "@" marks a line that carries its own program tag).
        addr, port = rng.choice(LEGIT_ADDRS), 1024 + rng.randrange(64000)
        if rng.random() < 0.3:
            accepted = f"Accepted password for {user} from {addr} port {port} ssh2"
        else:
            key = hashlib.sha256(user.encode()).hexdigest()[:43]
            accepted = f"Accepted publickey for {user} from {addr} port {port} ssh2: ED25519 SHA256:{key}"
        self.session_no += 1
        n = self.session_no
        logind = "@systemd-logind[612]: "
        bye = (
            [f"Received disconnect from {addr} port {port}:11: disconnected by user",
             f"Disconnected from user {user} {addr} port {port}"]
            if rng.random() < 0.8
            else [f"Connection closed by {addr} port {port}"]
        )  # fmt: skip
        return _Session(f"sshd[{self._next_pid()}]", [
            accepted,
            f"pam_unix(sshd:session): session opened for user {user}(uid={uid}) by (uid=0)",
            f"{logind}New session {n} of user {user}.",
            *bye,
            f"pam_unix(sshd:session): session closed for user {user}",
            f"{logind}Session {n} logged out. Waiting for processes to exit.",
            f"{logind}Removed session {n}.",
        ], False, False, "")  # fmt: skip


def _stamp_functions(fmt: str) -> Callable[[int], str]:
    """Return a function from integer microseconds to the timestamp text (cached per second)."""
    cache: dict[int, str] = {}
    if fmt == "syslog":

        def syslog(us: int) -> str:
            sec = us // 1_000_000
            text = cache.get(sec)
            if text is None:
                cache.clear()  # times only increase: one entry is enough
                text = cache[sec] = time.strftime("%b %e %H:%M:%S", time.localtime(sec))
            return text

        return syslog
    if fmt == "iso":

        def iso(us: int) -> str:
            sec = us // 1_000_000
            text = cache.get(sec)
            if text is None:
                cache.clear()
                text = cache[sec] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
            return f"{text}.{us % 1_000_000:06d}+00:00"

        return iso
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def write_authlog(out: TextIO, spec: LogSpec) -> GenStats:
    """Write ``spec.lines`` lines to ``out`` and return what was written (see the module docstring)."""
    stamp = _stamp_functions(spec.format)
    w = _Writer(spec)
    rng = w.rng
    stats = GenStats()
    mean_us = int(MEAN_GAP_S * 1_000_000)
    end_us = spec.end * 1_000_000
    # Start early enough that the sum of gaps (sd = mean * sqrt(n/3)) ends before `end` by a wide margin; the
    # clamp below keeps the invariant even in the impossible tail.
    now_us = end_us - spec.lines * mean_us - int(4 * mean_us * math.sqrt(spec.lines))
    attacks: list[_Session] = []
    noise: list[_Session] = []
    prefix_host = f" {spec.host} "
    buf: list[str] = []
    # random() instead of randrange(): a third of the cost per line, and just as deterministic.
    rand = rng.random
    two_mean = 2 * mean_us
    for _ in range(spec.lines):
        now_us = min(now_us + int(rand() * two_mean), end_us)
        is_attack = rand() < ATTACK_SHARE
        pool = attacks if is_attack else noise
        limit = ATTACK_CONCURRENCY if is_attack else NOISE_CONCURRENCY
        if len(pool) < limit and (not pool or rand() < 0.5):
            pool.append(w.new_attack() if is_attack else w.new_noise())
        i = int(rand() * len(pool))
        session = pool[i]
        msg = session.messages.pop(0)
        if not session.messages:
            pool[i] = pool[-1]
            pool.pop()
        if msg.startswith("@"):
            buf.append(f"{stamp(now_us)}{prefix_host}{msg[1:]}\n")
        else:
            buf.append(f"{stamp(now_us)}{prefix_host}{session.tag}: {msg}\n")
        if session.attack:
            stats.attack_lines += 1
            stats.ipv6_attack_lines += session.ipv6
            stats.addresses.add(session.addr)
        if len(buf) >= 8192:
            out.write("".join(buf))
            buf.clear()
        if not stats.lines:
            stats.first = now_us / 1e6
        stats.lines += 1
    out.write("".join(buf))
    stats.last = now_us / 1e6
    return stats


def _selftest() -> int:
    """Check determinism and the promised shape on a small log; print one line per check; 0 when all pass."""
    problems: list[str] = []
    end = 1_795_600_000

    def digest(spec: LogSpec) -> tuple[str, GenStats, str]:
        buf = io.StringIO()
        stats = write_authlog(buf, spec)
        text = buf.getvalue()
        return hashlib.sha256(text.encode()).hexdigest(), stats, text

    for fmt in FORMATS:
        spec = LogSpec(lines=30_000, end=end, seed=7, format=fmt)
        h1, stats, text = digest(spec)
        h2, _, _ = digest(spec)
        h3, _, _ = digest(LogSpec(lines=30_000, end=end, seed=8, format=fmt))
        lines = text.splitlines()
        checks = {
            "same seed, same bytes": h1 == h2,
            "other seed, other bytes": h1 != h3,
            "line count": len(lines) == spec.lines == stats.lines,
            "attack share 30 % +- 2": abs(stats.attack_lines / stats.lines - ATTACK_SHARE) < 0.02,
            "IPv6 share of attacks 10 % +- 4": abs(stats.ipv6_attack_lines / stats.attack_lines - 0.10) < 0.04,
            "times within end": stats.first <= stats.last <= end,
            "syslog shape" if fmt == "syslog" else "iso shape": (
                lines[0][3] == " " and lines[0][15:21] == " web1 " if fmt == "syslog"
                else lines[0][10] == "T" and lines[0][26:32] == "+00:00"
            ),
        }  # fmt: skip
        for name, ok in checks.items():
            print(f"{fmt:6} {'ok  ' if ok else 'FAIL'} {name}")
            if not ok:
                problems.append(f"{fmt}: {name}")
    print("selftest: " + ("all checks passed" if not problems else f"{len(problems)} failed: {problems}"))
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=FORMATS, default="syslog")
    parser.add_argument("--end", type=int, default=None, help="epoch of the last line (default: now)")
    parser.add_argument("--host", default="web1")
    parser.add_argument("--out", default="-", help="file to write, - for stdout")
    parser.add_argument("--selftest", action="store_true", help="check determinism and shape, write nothing")
    args = parser.parse_args(argv)
    if args.selftest:
        return _selftest()
    spec = LogSpec(args.lines, int(time.time()) if args.end is None else args.end, args.seed, args.format, args.host)
    if args.out == "-":
        write_authlog(sys.stdout, spec)
    else:
        with open(args.out, "w", encoding="utf-8") as f:
            write_authlog(f, spec)
    return 0


if __name__ == "__main__":
    sys.exit(main())
