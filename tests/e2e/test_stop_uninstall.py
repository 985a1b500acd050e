"""Stopping and uninstalling (issue 10 item 2), through the installed commands, with banjail's native nftables
and ipset actions in namespaces the test creates.

- `fail2ban-client stop` keeps native kernel bans, each with its kernel timeout (the restart promise);
- `fail2ban-client unban --all` lifts them, the server keeps running;
- `fail2ban-client stop --unban` lifts them and stops: nothing is restored at the next start;
- `tools/uninstall`, in a private mount + network namespace (the host's files and firewall are never seen),
  removes what a killed server left in the kernel (tables, sets, chains and rules), then, against a running
  server, lifts and stops it, and removes the unit, the logrotate snippet, the commands and the prefix.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from lab import site as site_lab
from lab import testjail
from lab.banjail import BIN, Banjail
from lab.netns import in_netns
from lab.poll import until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
HEAD = "[DEFAULT]\nignoreself = false\n[sshd]\nenabled = false\n"
NATIVE = {"port": "2222", "bantime": "1h", "action": "%(action_)s"}


def _jail_local(log: Path) -> str:
    """Jail `test` with banjail's native nftables action, `test6` with its native ipset one."""
    return (
        HEAD
        + testjail.jail("test", log, banaction="nftables", **NATIVE)
        + testjail.jail("test6", log, banaction="iptables-ipset-proto6", **NATIVE)
    )


ATTACKER = "10.79.5.5"


def _timeouts(netns: str) -> list[tuple[str, int]]:
    """(address, seconds left) of each element of the native nftables action's set of jail `test`."""
    run = in_netns(netns, ["nft", "-j", "list", "set", "inet", "banjail", "addr-set-test"], timeout=10)
    if run.returncode != 0:
        return []
    found = []
    for item in json.loads(run.stdout)["nftables"]:
        for element in item.get("set", {}).get("elem", []):
            if isinstance(element, dict):
                found.append((str(element["elem"]["val"]), int(element["elem"].get("expires", 0))))
            else:
                found.append((str(element), 0))
    return found


def _ipset(netns: str, name: str) -> list[str]:
    run = in_netns(netns, ["ipset", "list", name], timeout=10)
    return run.stdout.split("Members:\n", 1)[1].split() if run.returncode == 0 else []


@contextlib.contextmanager
def _daemon(tmp: Path) -> Iterator[tuple[Banjail, str]]:
    (tmp / "test.log").touch()
    with testjail.served(tmp, _jail_local(tmp / "test.log"), tag="st") as (lab, _host, daemon):
        yield daemon, lab.server.netns


def test_stop_keeps_kernel_bans_and_unban_all_or_stop_unban_lift_them(tmp_path: Path) -> None:
    with _daemon(tmp_path) as (daemon, netns):
        daemon.start()
        for jail in ("test", "test6"):
            assert daemon.client("set", jail, "banip", ATTACKER) == ("1\n", 0)
        assert until(lambda: _timeouts(netns) and _ipset(netns, "f2b-test6")), daemon.output()
        kept = _timeouts(netns)
        assert [a for a, _ in kept] == [ATTACKER] and 3500 < kept[0][1] <= 3600, kept
        assert _ipset(netns, "f2b-test6")[:2] == [ATTACKER, "timeout"]

        daemon.stop()  # fail2ban-client stop: the kernel keeps the bans with their timeouts
        after_stop = _timeouts(netns)
        assert [a for a, _ in after_stop] == [ATTACKER] and 0 < after_stop[0][1] <= kept[0][1], after_stop
        assert _ipset(netns, "f2b-test6")[:1] == [ATTACKER]

        daemon.start()
        assert until(lambda: _timeouts(netns))  # restored
        assert daemon.client("unban", "--all") == ("2\n", 0)
        assert until(lambda: (_timeouts(netns), _ipset(netns, "f2b-test6")) == ([], []))
        assert "Currently banned:\t0" in daemon.client("status", "test")[0]

        for jail in ("test", "test6"):
            daemon.client("set", jail, "banip", ATTACKER)
        assert until(lambda: [a for a, _ in _timeouts(netns)] == [ATTACKER] and _ipset(netns, "f2b-test6"))
        daemon.stop("--unban")  # lifted, and gone from the database
        assert (_timeouts(netns), _ipset(netns, "f2b-test6")) == ([], [])
        daemon.start()
        assert "Currently banned:\t0" in daemon.client("status", "test")[0]
        assert _timeouts(netns) == []
        daemon.stop()


# Inside `unshare --mount --net`: private tmpfs over every place tools/install writes, a fake install whose
# commands run this checkout's, a server with native nftables and ipset bans at the default socket path.
UNINSTALL = r"""
set -eu
for d in /opt /usr/local/bin /etc/systemd/system /etc/logrotate.d /run /var/lib/fail2ban; do
    mkdir -p "$d"; mount -t tmpfs tmpfs "$d"
done
ip link set lo up
install_fake() {
    mkdir -p /opt/banjail/bin /run/fail2ban
    for c in banjail fail2ban-regex fail2ban-client fail2ban-server fail2ban-python; do
        printf '#!/bin/sh\nexec %s/%s "$@"\n' "$VENV" "$c" > /opt/banjail/bin/$c
        chmod +x /opt/banjail/bin/$c
        ln -sf /opt/banjail/bin/$c /usr/local/bin/$c
    done
    cp "$ROOT/packaging/fail2ban.service" /etc/systemd/system/fail2ban.service
    cp "$ROOT/packaging/fail2ban.logrotate" /etc/logrotate.d/fail2ban
}
serve() {
    /usr/local/bin/fail2ban-server -f -x -c "$CONF" start >>"$WORK/server.out" 2>&1 &
    SERVER=$!
    for i in $(seq 200); do /usr/local/bin/fail2ban-client ping >/dev/null 2>&1 && return 0; sleep 0.05; done
    echo "server did not answer" >&2; cat "$WORK/server.out" >&2; exit 1
}
state() {
    echo "== $1"
    # iptables-nft's own `filter` tables hold no banjail rule once the f2b chains are gone
    nft list tables | grep -vx 'table ip6\{0,1\} filter' | sed 's/^/nft: /' || true
    ipset list -n | sed 's/^/ipset: /'
    iptables -w -S | grep f2b | sed 's/^/iptables: /' || true
    for d in /opt /usr/local/bin /etc/systemd/system /etc/logrotate.d; do ls -A "$d"; done | sed 's/^/file: /'
}
install_fake
serve
/usr/local/bin/fail2ban-client set test banip 10.79.5.5 >/dev/null
/usr/local/bin/fail2ban-client set test6 banip 10.79.5.5 >/dev/null
kill -9 $SERVER; wait $SERVER 2>/dev/null || true
state "killed"
"$ROOT/tools/uninstall" | sed 's/^/out: /'
state "uninstalled after a kill"
install_fake
serve
/usr/local/bin/fail2ban-client set test banip 10.79.5.6 >/dev/null
/usr/local/bin/fail2ban-client set test6 banip 10.79.5.6 >/dev/null
state "running"
"$ROOT/tools/uninstall" | sed 's/^/out: /'
wait $SERVER 2>/dev/null || true
state "uninstalled while running"
"""


def _sections(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith("== "):
            current = line[3:]
            found[current] = []
        elif current:
            found[current].append(line)
    return found


def test_uninstall_removes_kernel_bans_unit_and_files_in_a_private_namespace(tmp_path: Path) -> None:
    reason = site_lab.kernel_support()
    if reason:
        pytest.skip(reason)
    conf = tmp_path / "conf"
    testjail.write_filter(conf)
    (tmp_path / "test.log").touch()
    (conf / "jail.local").write_text(_jail_local(tmp_path / "test.log"))
    (conf / "fail2ban.local").write_text(
        f"[Definition]\nlogtarget = {tmp_path}/f2b.log\ndbfile = {tmp_path}/f2b.sqlite3\n"
    )  # socket and pidfile: the defaults, under the namespace's private /run
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "VENV": str(BIN), "ROOT": str(ROOT), "CONF": str(conf),
           "WORK": str(tmp_path)}  # fmt: skip
    argv = ["unshare", "--mount", "--net", "--fork", "--propagation", "private", "--kill-child",
            "bash", "-c", UNINSTALL]  # fmt: skip
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    print(done.stdout, done.stderr[-3000:], sep="\n")
    assert done.returncode == 0, done.stderr
    seen = _sections(done.stdout)
    installed = {"file: banjail", "file: fail2ban-client", "file: fail2ban.service", "file: fail2ban"}
    for left in ("killed", "running"):
        assert {"nft: table inet banjail", "ipset: f2b-test6"} <= set(seen[left]), (left, seen[left])
        assert installed <= set(seen[left])
    for after in ("uninstalled after a kill", "uninstalled while running"):
        assert seen[after] == [], (after, seen[after])
    outs = [line for line in done.stdout.splitlines() if line.startswith("out: ")]
    assert "out: uninstall: removed nftables table inet banjail" in outs
    assert "out: uninstall: lifted every ban" in outs and "out: uninstall: stopped the server" in outs
