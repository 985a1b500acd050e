"""The fleet benchmark (issue 12): bans through one Redis stream to three banjail hosts in network namespaces.

The lab is the one the e2e tests use (tests/e2e/lab/fleet.py): a redis-server in the lab's server namespace,
hosts a, b, c each a `fail2ban-server -f` in a namespace of its own with the native nftables action, jail `test`
with `fleet = both`. Attacks are failure lines appended to a's log. Rows:

  latency      one ban at a time (--fleet-latency-bans of them): from a's `[test] Ban` log line (written right
               after the ban's commit, millisecond stamp) to the address entering b's and c's nftables set, as
               `nft monitor` in their namespaces reports it
  throughput   --fleet-bans failure lines (one per address) appended at once: bans/s from a's first ban to the
               last address in b's (and c's) set, i.e. through a's commit, its outbox, XADD, XREAD, b's commit
               and b's nft
  cost         CPU seconds (utime + stime from /proc) of b's server and of redis-server during the throughput
               row, per ban: what one subscriber pays per remote ban, and what Redis pays per notice (one XADD
               and three deliveries); bench/fleet_sim.py takes Redis's cost per delivery from there to N hosts
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from daemon import cpu_of
from section import Section, Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from daemon_run import wait_for  # noqa: E402
from lab.fleet import FleetLab, percentile  # noqa: E402

NAME = "fleet"
TARGET_P50_MS = 100.0
TARGET_P99_MS = 1000.0
Progress = Callable[[str], None]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("fleet")
    group.add_argument(
        "--fleet-bans", type=int, default=2000, help="addresses banned at once (throughput row)"
    )
    group.add_argument("--fleet-latency-bans", type=int, default=50, help="bans one at a time (latency row)")


def cpu_seconds(pid: int) -> float:
    return cpu_of(pid).own


def addresses(net: int, count: int) -> list[str]:
    return [f"10.{net}.{i >> 8 & 255}.{i & 255}" for i in range(1, count + 1)]


def run(args: argparse.Namespace, progress: Progress) -> Section:
    with tempfile.TemporaryDirectory(prefix="bjfleet-") as tmp:
        lab = FleetLab(Path(tmp)).open()
        try:
            return _measure(lab, args, progress)
        finally:
            lab.close()


def _measure(lab: FleetLab, args: argparse.Namespace, progress: Progress) -> Section:
    a, b, c = lab["a"], lab["b"], lab["c"]
    assert lab.redis is not None and lab.redis.proc is not None and b.server.proc is not None
    progress(f"latency: {args.fleet_latency_bans} bans one at a time")
    single = addresses(80, args.fleet_latency_bans)
    for address in single:
        a.fail([address])
        wait_for(lambda x=address: x in b.monitor.added and x in c.monitor.added, 10, address)  # type: ignore[misc]
    committed = a.bans_logged()
    rows = []
    figures: dict[str, object] = {}
    for host in (b, c):
        ms = [(host.monitor.added[x] - committed[x]) * 1000 for x in single]
        p50, p99 = percentile(ms, 50), percentile(ms, 99)
        figures[f"latency_a_{host.name}_ms"] = {
            "p50": round(p50, 1),
            "p99": round(p99, 1),
            "max": round(max(ms), 1),
        }
        rows.append(
            (
                f"latency a -> {host.name}",
                str(len(ms)),
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(ms):.1f} ms",
            )
        )
    progress(f"throughput: {args.fleet_bans} bans at once")
    flood = addresses(90, args.fleet_bans)
    redis_cpu, b_cpu = cpu_seconds(lab.redis.proc.pid), cpu_seconds(b.server.proc.pid)
    a.fail(flood)
    for host in (b, c):
        wait_for(lambda h=host: all(x in h.monitor.added for x in flood), 120, f"{host.name} complete")  # type: ignore[misc]
    redis_cpu, b_cpu = cpu_seconds(lab.redis.proc.pid) - redis_cpu, cpu_seconds(b.server.proc.pid) - b_cpu
    committed = a.bans_logged()
    first = min(committed[x] for x in flood)
    for host in (b, c):
        last = max(host.monitor.added[x] for x in flood)
        rate = len(flood) / (last - first)
        figures[f"throughput_a_{host.name}_bans_per_s"] = round(rate)
        rows.append(
            (f"throughput a -> {host.name}", str(len(flood)), f"{rate:,.0f} bans/s ({last - first:.2f} s)")
        )
    twice = sum(1 for h in (b, c) for x in flood if h.monitor.adds.get(x, 0) != 1)
    per_b = b_cpu / len(flood) * 1e6
    per_redis = redis_cpu / len(flood) * 1e6
    figures.update(
        subscriber_cpu_us_per_ban=round(per_b, 1), redis_cpu_us_per_notice=round(per_redis, 1), not_once=twice
    )
    rows.append(("cost on b (subscriber)", str(len(flood)), f"{per_b:.0f} µs CPU per remote ban"))
    rows.append(
        (
            "cost on redis-server",
            str(len(flood)),
            f"{per_redis:.1f} µs CPU per notice (1 XADD + 3 deliveries)",
        )
    )
    p99 = max(v["p99"] for k, v in figures.items() if k.startswith("latency") and isinstance(v, dict))
    p50 = max(v["p50"] for k, v in figures.items() if k.startswith("latency") and isinstance(v, dict))
    return Section(
        NAME,
        "Fleet: bans through one Redis stream, 3 hosts in network namespaces",
        (Table("a's bans enforced on b and c", ("row", "bans", "result"), tuple(rows)),),
        (
            f"targets: p50 < {TARGET_P50_MS:.0f} ms ({'met' if p50 < TARGET_P50_MS else 'NOT met'}: {p50:.1f}), "
            f"p99 < {TARGET_P99_MS:.0f} ms ({'met' if p99 < TARGET_P99_MS else 'NOT met'}: {p99:.1f})",
            f"addresses not added exactly once to b's or c's set: {twice}",
            "latency is measured from a's ban log line (after its commit) to the kernel's nft monitor event",
        ),
        figures,
    )
