"""`fail2ban-client status JAIL cymru` through the installed `fail2ban-client` and `fail2ban-server`, the server in
`unshare -n` (no network), against upstream's server on the same configuration when Debian's fail2ban is
installed: the same tree, ending with upstream's Banned ASN/Country/RIR rows, and the same ERROR in the log.

Upstream looks the addresses up with dnspython. Without it (Debian's fail2ban does not depend on it) every row is
`error` and the log says "dnspython package is required but could not be imported"; with it and no network the
lookups fail at the first address: the rows are empty and the log names the DNS error. banjail does the same.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from daemon_run import server_tree, stop_process

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
SRC = str(Path(__file__).resolve().parents[2] / "src")
UPSTREAM = ("/usr/bin/fail2ban-server", "/usr/bin/fail2ban-client")
OURS = (str(BIN / "fail2ban-server"), str(BIN / "fail2ban-client"))


def _tree(banned: str, value: str) -> str:
    count = len(banned.split())
    return (
        "Status for the jail: test\n|- Filter\n|  |- Currently failed:\t0\n|  |- Total failed:\t0\n"
        "|  `- File list:\tROOT/test.log\n`- Actions\n"
        f"   |- Currently banned:\t{count}\n   |- Total banned:\t{count}\n   |- Banned IP list:\t{banned}\n"
        f"   |- Banned ASN list:\t{value}\n   |- Banned Country list:\t{value}\n   `- Banned RIR list:\t{value}\n"
    )


def _expected(dnspython: bool) -> tuple[list[str], str]:
    """The trees before and after two bans, and the ERROR the lookups log, with or without dnspython."""
    if not dnspython:
        return [_tree("", "error"), _tree("192.0.2.1 2001:db8::1", "error")], (
            "ERROR   dnspython package is required but could not be imported"
        )
    return [_tree("", ""), _tree("192.0.2.1 2001:db8::1", "")], "ERROR   DNSException "


def _serve(root: Path, server: str, client: str) -> tuple[list[str], list[str]]:
    conf = server_tree(root)
    (conf / "jail.conf").write_text(
        f"[test]\nenabled = true\nbackend = polling\nfilter = test\naction = rec\nlogpath = {root}/test.log\n"
    )
    (conf / "filter.d" / "test.conf").write_text("[Definition]\nfailregex = failure from <HOST>$\n")
    (conf / "action.d" / "rec.conf").write_text(f"[Definition]\nactionban = echo ban <ip> >> {root}/rec\n")
    (root / "test.log").touch()
    env = dict(os.environ, PYTHONPATH=SRC)

    def ask(*argv: str) -> str:
        done = subprocess.run(
            [client, "-c", str(conf), "-s", str(root / "f2b.sock"), *argv],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.replace(str(root), "ROOT")

    proc = subprocess.Popen(
        ["unshare", "-n", server, "-c", str(conf), "-xf", "start"],
        stdout=subprocess.DEVNULL,
        stderr=open(root / "server.err", "wb"),  # noqa: SIM115 - closed with the process
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if ask("ping").startswith("Server replied: pong"):
                    break
            except AssertionError:
                pass
            assert time.monotonic() < deadline, "the server did not answer ping in 30 s"
            time.sleep(0.2)
        trees = [ask("status", "test", "cymru")]
        ask("set", "test", "banip", "192.0.2.1", "2001:db8::1")
        trees.append(ask("status", "test", "cymru"))
    finally:
        stop_process(proc)
    logged = re.findall(r"fail2ban\.banmanager\s+\[\d+\]: (.*)", (root / "f2b.log").read_text())
    return trees, logged


def _can_unshare() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None


def _check(trees: list[str], logged: list[str], dnspython: bool) -> None:
    expected, error = _expected(dnspython)
    assert trees == expected
    assert len(logged) == 2 and all(line.startswith(error) for line in logged), logged


@pytest.mark.skipif(not _can_unshare(), reason="needs root and unshare (the server runs without a network)")
def test_status_cymru(tmp_path: Path) -> None:
    _check(*_serve(tmp_path, *OURS), importlib.util.find_spec("dns") is not None)


@pytest.mark.skipif(
    not _can_unshare() or not all(os.path.exists(p) for p in UPSTREAM),
    reason="needs root, unshare and Debian's fail2ban (upstream oracle)",
)
def test_status_cymru_is_upstreams(tmp_path: Path) -> None:
    dnspython = subprocess.run(["/usr/bin/python3", "-c", "import dns.resolver"], capture_output=True).returncode == 0
    _check(*_serve(tmp_path, *UPSTREAM), dnspython)
