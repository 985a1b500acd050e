"""The fleet (issue 12) with real components: a redis-server and three banjail hosts, each a fail2ban-server in
a network namespace of its own with the native nftables action (tests/e2e/lab/fleet.py).

Every host runs jail `test` with `fleet = both`; an attack is failure lines written to one host's log. The
firewall entries are what `nft monitor` reports in each host's namespace. The latency figures are printed (a
benchmark figure, not an assert: see bench/fleet.py for the bench row)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_run import wait_for
from lab.fleet import FleetLab, percentile

pytestmark = pytest.mark.e2e


def addresses(first: int, count: int, net: int = 50) -> list[str]:
    return [f"10.{net}.{(first + i) >> 8 & 255}.{(first + i) & 255}" for i in range(count)]


@pytest.fixture
def fleet(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[FleetLab]:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    marker = request.node.get_closest_marker("fleet")
    options = dict(marker.kwargs) if marker else {}
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
