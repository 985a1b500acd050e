"""Issue 14 item 10: `fail2ban-client set <jail> banip` refuses what is not an address or network (and, in a jail
whose filter captures <F-ID>, what cannot be an identifier) with a clear error, and bans nothing of a command
with a bad value. Before the fix `$(...)`, `not-an-ip` and `10.0.0.300` were listed as banned.

The values are generated; upstream's own IPAddr (the installed fail2ban package) is the oracle for which texts
are addresses and for the canonical text of those that are."""

from __future__ import annotations

import ipaddress
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_run import Server, write_config

CLIENT = str(Path(sys.executable).parent / "fail2ban-client")
UPSTREAM = "/usr/lib/python3/dist-packages"


def _upstream_ipaddr() -> type:
    if UPSTREAM not in sys.path:
        sys.path.append(UPSTREAM)  # appended: the venv's packages keep precedence
    from fail2ban.server.ipdns import IPAddr  # type: ignore[import-not-found]

    return IPAddr  # type: ignore[no-any-return]


def _invalid(rng: random.Random) -> list[str]:
    """Texts that are not addresses: wrong octets or groups, shell syntax, blanks, words."""
    octets = [str(rng.randint(0, 255)) for _ in range(4)]
    bad = octets.copy()
    bad[rng.randrange(4)] = str(rng.randint(256, 999))
    groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(8)]
    return [
        ".".join(bad),
        ".".join(octets[:3]),
        ".".join([*octets, str(rng.randint(0, 255))]),
        ".".join(octets).replace(".", " ", 1),
        ":".join([*groups, "1"]),
        ":".join(groups[:3]) + ":::1",
        ":".join(groups).replace(groups[2][0], "g", 1) if groups[2] else "g::1",
        f"$({rng.choice(['id', 'touch /tmp/x', 'reboot'])})",
        f"`{rng.choice(['id', 'ls'])}`",
        f"{'.'.join(octets)};{rng.choice(['id', 'ls'])}",
        rng.choice(["not-an-ip", "localhost", "banjail.test", "-", "*"]),
        " " + ".".join(octets),
    ]


def _bad_prefixes(rng: random.Random) -> list[str]:
    address = ".".join(str(rng.randint(0, 255)) for _ in range(4))
    return [f"{address}/{rng.randint(33, 99)}", f"{address}/0", f"2001:db8::{rng.randint(1, 99)}/129"]


def _valid(rng: random.Random) -> list[str]:
    v4 = ".".join(str(rng.randint(1, 254)) for _ in range(4))
    v6 = str(ipaddress.IPv6Address(rng.getrandbits(128) | (0x2001 << 112)))
    return [v4, v6, f"[{v6}]", f"{v4}/{rng.randint(8, 31)}", f"{v6}/{rng.randint(16, 127)}", f"{v4}/255.255.0.0"]


def _client(sock: str, *argv: str) -> tuple[int, str]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"))
    run = subprocess.run([CLIENT, "-s", sock, *argv], capture_output=True, text=True, timeout=30, env=env)
    return run.returncode, run.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("banip")
    conf = write_config(tmp)
    (conf / "filter.d" / "ids.conf").write_text("[Definition]\nfailregex = ^session <F-ID>\\S+</F-ID> failed$\n")
    with open(conf / "jail.local", "a") as out:
        out.write(f"[ids]\nenabled = true\nfilter = ids\nlogpath = {tmp}/test.log\naction = rec\n")
    running = Server(tmp)
    try:
        yield running.start()
    finally:
        running.stop()


def _banned(sock: str, jail: str) -> list[str]:
    code, out = _client(sock, "get", jail, "banip")
    assert code == 0
    return out.split()


@pytest.mark.parametrize("seed", [11, 12])
def test_banip_refuses_what_is_not_an_address(server: Server, seed: int) -> None:
    ipaddr = _upstream_ipaddr()
    rng = random.Random(seed)
    before = {jail: _banned(server.sock, jail) for jail in ("test", "ids")}
    invalid = _invalid(rng)
    for value in invalid:
        assert not ipaddr(value).isValid, value  # upstream agrees it is no address
        code, out = _client(server.sock, "set", "test", "banip", value)
        assert (code, out) == (
            255,
            f"set test banip: {value!r} is not an address or network (for example 192.0.2.7, 2001:db8::7, "
            "192.0.2.0/24 or 2001:db8::/64); nothing was banned\n",
        )
    for value in _bad_prefixes(rng):
        code, out = _client(server.sock, "set", "test", "banip", value)
        width = 128 if ":" in value else 32
        assert code == 255, value
        assert f"{value!r} is not a network: the prefix length must be 1..{width}" in out
    valid = _valid(rng)
    # one bad value refuses the whole command
    code, _ = _client(server.sock, "set", "test", "banip", *valid, invalid[0])
    assert code == 255
    assert _banned(server.sock, "test") == before["test"]
    code, out = _client(server.sock, "set", "test", "banip", *valid)
    assert code == 0
    expected = {str(ipaddr(value)) for value in valid}
    assert set(_banned(server.sock, "test")) == set(before["test"]) | expected
    # an <F-ID> jail takes identifiers, but not blanks nor a mistyped address
    ids = [f"user-{rng.randint(0, 999)}", f"sess{rng.getrandbits(32):x}@host"]
    assert _client(server.sock, "set", "ids", "banip", *ids)[0] == 0
    assert set(_banned(server.sock, "ids")) == set(before["ids"]) | set(ids)
    for value in ("a b", "10.0.0.300", "", "x\ty"):
        code, out = _client(server.sock, "set", "ids", "banip", value)
        assert (code, out) == (
            255,
            f"set ids banip: {value!r} is not an address or network or an <F-ID> identifier without spaces "
            "(for example 192.0.2.7, 2001:db8::7, 192.0.2.0/24 or 2001:db8::/64); nothing was banned\n",
        )
