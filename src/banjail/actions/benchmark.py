"""Measuring firewall actions: banjail's native nftables action against upstream fail2ban's nftables action.

    python -m banjail.actions.benchmark [--bans 10000] [--restore 100000] [--upstream 1000] [--json]

Runs as root. Creates a private network namespace (deleted at the end, whatever happens) and measures there:
- bans/s of the native action for one batch of `--bans` new bans (the daemon hands a flood over as one batch);
- the time to restore `--restore` bans from the store at start (start + one ban() call with restored bans);
- bans/s of upstream's /etc/fail2ban/action.d/nftables.conf run as a command action, one ban at a time (one
  process per ban, as upstream does), over `--upstream` bans (0 skips it).
Nothing touches the host's own namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from banjail.actions.command import CommandAction
from banjail.actions.nftables import NftablesAction
from banjail.actions.runner import Runner
from banjail.config.load import load_action
from banjail.model import Ban

UPSTREAM = Path("/etc/fail2ban")


@dataclass(frozen=True, slots=True)
class Figures:
    native_bans: int
    native_seconds: float
    native_bans_per_second: float
    restore_bans: int
    restore_seconds: float
    upstream_bans: int
    upstream_seconds: float
    upstream_bans_per_second: float


def addresses(count: int, offset: int = 0) -> list[str]:
    """`count` distinct IPv4 addresses in 10.0.0.0/8 (private: nothing real is banned)."""
    return [f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}" for i in range(offset, offset + count)]


def bans(
    jail: str, count: int, *, offset: int = 0, restored: bool = False, now: float | None = None
) -> list[Ban]:
    at = time.time() if now is None else now
    return [Ban(jail, ip, ip, at, at + 3600, 1, 5, restored=restored) for ip in addresses(count, offset)]


def native(runner: Runner, jail: str) -> NftablesAction:
    empty = Path("/nonexistent-banjail-config")  # banjail's stock action.d only
    spec = load_action("nftables", config_dir=empty, jail=jail, args={"port": "ssh", "protocol": "tcp"})
    return NftablesAction(spec, jail=jail, runner=runner)


async def native_bans_per_second(runner: Runner, count: int = 10_000) -> tuple[float, float]:
    """(seconds, bans/s) for one batch of `count` new bans (chain and sets created beforehand)."""
    action = native(runner, "bench")
    await action.start()
    batch = bans("bench", count)
    started = time.perf_counter()
    await action.ban(batch)
    seconds = time.perf_counter() - started
    await action.stop()
    return seconds, count / seconds


async def restore_seconds(runner: Runner, count: int = 100_000) -> float:
    """Seconds from a cold start to `count` restored bans in the kernel (start + one restore batch)."""
    action = native(runner, "restore")
    batch = bans("restore", count, restored=True)
    started = time.perf_counter()
    await action.start()
    await action.ban(batch)
    seconds = time.perf_counter() - started
    await action.stop()
    return seconds


async def upstream_bans_per_second(runner: Runner, count: int = 1000) -> tuple[float, float]:
    """(seconds, bans/s) of upstream's nftables action file, one ban (one process) at a time."""
    spec = load_action("nftables", config_dir=UPSTREAM, jail="up", args={"port": "ssh", "protocol": "tcp"})
    action = CommandAction(spec, jail="up", runner=runner)
    batch = bans("up", count)
    await action.ban(batch[:1])  # actionstart on demand happens at the first ban: not counted
    started = time.perf_counter()
    for ban in batch[1:]:
        await action.ban([ban])
    seconds = time.perf_counter() - started
    await action.stop()
    return seconds, (count - 1) / seconds if count > 1 else 0.0


async def measure(runner: Runner, ban_count: int, restore_count: int, upstream_count: int) -> Figures:
    seconds, rate = await native_bans_per_second(runner, ban_count)
    restore = await restore_seconds(runner, restore_count)
    up_seconds, up_rate = 0.0, 0.0
    if upstream_count > 1 and (UPSTREAM / "action.d" / "nftables.conf").exists():
        up_seconds, up_rate = await upstream_bans_per_second(runner, upstream_count)
    return Figures(ban_count, seconds, rate, restore_count, restore, upstream_count, up_seconds, up_rate)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m banjail.actions.benchmark", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--bans", type=int, default=10_000)
    parser.add_argument("--restore", type=int, default=100_000)
    parser.add_argument("--upstream", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("needs root (it creates a network namespace)", file=sys.stderr)
        return 2
    namespace = f"bj-bench-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    try:
        runner = Runner(prefix=("ip", "netns", "exec", namespace))
        figures = asyncio.run(measure(runner, args.bans, args.restore, args.upstream))
    finally:
        subprocess.run(["ip", "netns", "delete", namespace], check=False)
    if args.json:
        print(json.dumps(asdict(figures)))
    else:
        print(
            f"native nftables: {figures.native_bans} bans in {figures.native_seconds:.3f} s "
            f"= {figures.native_bans_per_second:,.0f} bans/s"
        )
        print(f"restore: {figures.restore_bans} bans in {figures.restore_seconds:.3f} s")
        if figures.upstream_bans:
            print(
                f"upstream nftables.conf: {figures.upstream_bans} bans in {figures.upstream_seconds:.3f} s "
                f"= {figures.upstream_bans_per_second:,.0f} bans/s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
