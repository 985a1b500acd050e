"""The fleet (issue 12) with real components: a redis-server and three banjail hosts, each a fail2ban-server in
a network namespace of its own with the native nftables action (tests/e2e/lab/fleet.py).

Every host runs jail `test` with `fleet = both`; an attack is failure lines written to one host's log. The
firewall entries are what `nft monitor` reports in each host's namespace. The latency figures are printed (a
benchmark figure, not an assert: see bench/fleet.py for the bench row)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_run import wait_for
from lab.fleet import FleetLab, Host, percentile, timeouts

from banjail.fleet.notice import ban_notice, encode

pytestmark = pytest.mark.e2e


def addresses(first: int, count: int, net: int = 50) -> list[str]:
    return [f"10.{net}.{(first + i) >> 8 & 255}.{(first + i) & 255}" for i in range(count)]


@pytest.fixture
def fleet(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[FleetLab]:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    options = getattr(request, "param", {})  # FleetLab options, given with parametrize(indirect=True)
    lab = FleetLab(tmp_path, **options).open()
    try:
        yield lab
    finally:
        lab.close()


def test_an_attack_on_a_is_enforced_on_b_and_c(fleet: FleetLab) -> None:
    a, b, c = fleet["a"], fleet["b"], fleet["c"]
    targets = addresses(1, 50)
    for address in targets:  # one ban at a time: each latency is a ban's own, not a batch's
        a.fail([address])
        wait_for(lambda x=address: x in b.monitor.added and x in c.monitor.added, 10, f"{address} on b and c")  # type: ignore[misc]
    committed = a.bans_logged()
    assert set(committed) == set(targets)
    for host in (b, c):
        latencies = [host.monitor.added[x] - committed[x] for x in targets]
        print(
            f"fleet latency a->{host.name} over {len(latencies)} bans: "
            f"p50 {percentile(latencies, 50) * 1000:.1f} ms, p99 {percentile(latencies, 99) * 1000:.1f} ms, "
            f"max {max(latencies) * 1000:.1f} ms"
        )
        assert host.firewall() >= set(targets)
        assert all(host.ban_lines(x) == 1 for x in targets)
        assert all(host.monitor.adds[x] == 1 for x in targets)
    # status on b tells where the bans came from
    status = b.client("status", "test")
    assert f"{targets[0]} (from a)" in status
    # the origin's own ban is never applied twice by its own subscription
    assert all(a.ban_lines(x) == 1 for x in targets)
    # unbanip --fleet on a lifts the ban everywhere
    assert a.client("set", "test", "unbanip", "--fleet", targets[0]).strip() == "1"
    for host in (a, b, c):
        wait_for(lambda h=host: targets[0] not in h.firewall(), 10, f"{targets[0]} lifted on {host.name}")  # type: ignore[misc]
        assert targets[1] in host.firewall()


def signed(lab: FleetLab, key: str, target: str, start: float, end: float, origin: str = "d") -> list[str]:
    """The XADD argv (field value ...) of a ban notice signed with `key`."""
    entry = encode(
        ban_notice("test", target, start, end, 1, origin, "test, 1 failures", time.time()), key.encode()
    )
    return [word for pair in entry.items() for word in pair]


B_IGNORES = 'ignoreip = 10.9.9.0/24\nignoreself = true\nignorecommand = [ "<ip>" = 10.9.8.8 ]\n'


@pytest.mark.parametrize("fleet", [{"extra": {"b": B_IGNORES}}], indirect=True, ids=["b-ignores"])
def test_forged_ignored_and_skewed_notices(fleet: FleetLab) -> None:
    a, b, c = fleet["a"], fleet["b"], fleet["c"]
    redis = fleet.redis
    assert redis is not None
    # addresses b's own ignore rules cover (ignoreip, ignoreself: b's own address, ignorecommand): c bans
    # them, b does not, and says why
    own = fleet.lab["b"].address
    a.fail(["10.9.9.9", own, "10.9.8.8"])
    wait_for(lambda: {"10.9.9.9", own, "10.9.8.8"} <= set(c.monitor.added), 10, "the three on c")
    for address, source in (("10.9.9.9", "ip"), (own, "ignoreself rule"), ("10.9.8.8", "command")):
        wait_for(
            lambda x=f"[test] Ignore {address} by {source}": x in b.daemon_log(), 10, f"b ignoring {address}"
        )  # type: ignore[misc]
    assert not {"10.9.9.9", own, "10.9.8.8"} & set(b.monitor.added)
    # a notice signed with another key is dropped, logged and not applied; a good one after it is
    now = time.time()
    redis.cli(
        "XADD", "banjail:bans", "*", *signed(fleet, "wrong-key-0123456789", "10.66.0.1", now, now + 600)
    )
    redis.cli("XADD", "banjail:bans", "*", *signed(fleet, fleet.key, "10.66.0.2", now, now + 600))
    for host in (b, c):
        wait_for(lambda h=host: "10.66.0.2" in h.monitor.added, 10, f"good notice on {host.name}")  # type: ignore[misc]
        assert "10.66.0.1" not in host.monitor.added
        assert "does not verify with this host's key" in host.daemon_log()
    # clocks that differ: a notice from a clock 5 s ahead lasts its length from now, one 5 s behind keeps its
    # end, one whose end is past by our clock is not applied
    now = time.time()
    redis.cli("XADD", "banjail:bans", "*", *signed(fleet, fleet.key, "10.66.1.1", now + 5, now + 605))
    redis.cli("XADD", "banjail:bans", "*", *signed(fleet, fleet.key, "10.66.1.2", now - 5, now + 595))
    redis.cli("XADD", "banjail:bans", "*", *signed(fleet, fleet.key, "10.66.1.3", now - 20, now - 10))
    redis.cli("XADD", "banjail:bans", "*", *signed(fleet, fleet.key, "10.66.1.4", now, now + 600))
    wait_for(lambda: "10.66.1.4" in b.monitor.added, 10, "the last skewed notice on b")
    left = timeouts(b)
    # An element's timeout is what was left of the ban when b applied it, some time between `now` and the
    # listing: on a loaded machine that is seconds, so the lower bounds move by that much.
    late = math.ceil(time.time() - now)
    assert 598 - late <= left["10.66.1.1"] <= 601, (left, late)
    assert 592 - late <= left["10.66.1.2"] <= 596, (left, late)
    assert "10.66.1.3" not in left


def every_ban_once(hosts: list[Host], targets: list[str], what: str) -> None:
    for host in hosts:
        wait_for(lambda h=host: set(targets) <= h.firewall(), 30, f"{what}: every ban on {host.name}")  # type: ignore[misc]
    for host in hosts:
        twice = {x: host.ban_lines(x) for x in targets if host.ban_lines(x) != 1}
        assert not twice, f"{what}: {host.name} applied these not exactly once: {twice}"


@pytest.mark.parametrize("fleet", [{"aof": True}], indirect=True, ids=["aof"])
def test_redis_down_host_down_and_network_cut(fleet: FleetLab) -> None:
    a, b, c = fleet["a"], fleet["b"], fleet["c"]
    redis = fleet.redis
    assert redis is not None
    # 1. Redis killed in the middle of a flood, restarted a second later: A bans on alone, its outbox goes out
    flood = addresses(1, 150, net=60)
    a.fail(flood[:50])
    redis.kill()
    a.fail(flood[50:100])
    wait_for(lambda: set(flood[:100]) <= a.firewall(), 10, "local bans on a while Redis is down")
    wait_for(lambda: "publisher lost" in a.daemon_log(), 10, "a noticing Redis is gone")
    time.sleep(1.0)
    redis.start()
    a.fail(flood[100:])
    every_ban_once([a, b, c], flood, "redis restart")
    assert a.daemon_log().count("fleet: publisher lost") == 1  # one line per state change, not per retry
    # 2. B down for a while: it replays exactly what it missed, once
    b.stop()
    missed = addresses(1, 30, net=61)
    a.fail(missed)
    wait_for(lambda: set(missed) <= c.firewall(), 10, "c while b is down")
    before = b.daemon_log().count("[test] Ban ")
    b.start()
    every_ban_once([b], missed, "b restarted")
    assert b.daemon_log().count("[test] Ban ") - before == len(missed)
    # 3. C cut off from Redis by the network (packets dropped), then healed
    losses = c.daemon_log().count("subscriber lost")
    c.cut(True)
    wait_for(lambda: c.daemon_log().count("subscriber lost") > losses, 15, "c noticing the cut")
    cut = addresses(1, 30, net=62)
    a.fail(cut)
    wait_for(lambda: set(cut) <= b.firewall(), 10, "b during the cut")
    assert not set(cut) & c.firewall()
    c.cut(False)
    every_ban_once([c], cut, "c healed")
    print("c's fleet log lines:\n" + "\n".join(x for x in c.daemon_log().splitlines() if "fleet:" in x))
    assert all(c.ban_lines(x) == 1 for x in flood + missed)
    # 4. A cut off, bans in its outbox, killed with -9: its next start sends them
    losses = a.daemon_log().count("publisher lost")
    a.cut(True)
    held = addresses(1, 20, net=63)
    a.fail(held)
    wait_for(lambda: set(held) <= a.firewall(), 10, "a's bans while cut off")
    wait_for(lambda: a.daemon_log().count("publisher lost") > losses, 15, "a noticing the cut")
    a.server.kill()
    a.server.wait()
    a.cut(False)
    a.start()
    every_ban_once([b, c], held, "a's outbox after kill -9")


@pytest.mark.parametrize("fleet", [{"hosts": ("a",), "late": ("d",)}], indirect=True, ids=["join"])
def test_a_new_host_loads_the_bans_in_force_from_the_stream(fleet: FleetLab) -> None:
    a, d = fleet["a"], fleet["d"]
    redis = fleet.redis
    assert redis is not None
    # an entry older than the longest bantime (1h) is trimmed by the next XADD (MINID)
    now = time.time()
    redis.cli("XADD", "banjail:bans", "1000-0", *signed(fleet, fleet.key, "10.70.0.1", now - 7200, now + 600))
    targets = addresses(1, 20, net=71)
    a.fail(targets)
    wait_for(lambda: set(targets) <= a.firewall(), 10, "a's bans")
    assert a.client("set", "test", "unbanip", "--fleet", targets[0]).strip() == "1"
    wait_for(
        lambda: redis.cli("XLEN", "banjail:bans").strip() == "21", 10, "20 bans and an unban in the stream"
    )
    assert "1000-0" not in redis.cli("XRANGE", "banjail:bans", "-", "+", "COUNT", "1")
    fleet.join("d")
    wait_for(lambda: set(targets[1:]) <= d.firewall(), 10, "d loading the bans in force")
    wait_for(lambda: "[test] Unban " + targets[0] in d.daemon_log(), 10, "d replaying the unban")
    wait_for(lambda: d.firewall() == set(targets[1:]), 10, "d's firewall without the unbanned address")
    assert all(d.ban_lines(x) == 1 for x in targets)
    assert "10.70.0.1" not in d.daemon_log()


@pytest.mark.parametrize("fleet", [{"hosts": ("a", "b"), "tls": True}], indirect=True, ids=["tls"])
def test_rediss_with_a_password(fleet: FleetLab) -> None:
    a, b = fleet["a"], fleet["b"]
    assert fleet.url.startswith("rediss://:")
    a.fail(["10.72.0.1"])
    wait_for(lambda: "10.72.0.1" in b.monitor.added, 10, "the ban on b over TLS")
    status = b.client("status", "test").splitlines()
    assert status[-2:] == [
        "   |- Banned IP list:\t10.72.0.1",
        "   `- Banned by the fleet:\t10.72.0.1 (from a)",
    ]


@pytest.mark.parametrize(
    "fleet", [{"hosts": ("a", "b"), "replica_for": ("b",)}], indirect=True, ids=["replica"]
)
def test_a_host_reads_from_a_replica(fleet: FleetLab) -> None:
    a, b = fleet["a"], fleet["b"]
    assert fleet.replica is not None
    a.fail(["10.73.0.1"])
    wait_for(lambda: "10.73.0.1" in b.monitor.added, 10, "the ban on b through the replica")
    assert f"subscriber connected to {fleet.replica.url}" in b.daemon_log()
    assert fleet.replica.cli("XLEN", "banjail:bans").strip() == "1"
