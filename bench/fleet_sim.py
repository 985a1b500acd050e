"""How far one Redis carries a fleet: N = 10, 100, 1000 subscribers on one redis-server (a script, not a test).

    .venv/bin/python bench/fleet_sim.py [--sizes 10,100,1000] [--messages 200] [--rate 50]

A real redis-server on 127.0.0.1 (random port, temp dir, no persistence) and N real subscriber connections, each
a blocking XREAD loop as banjail's subscriber runs it (COUNT 100, BLOCK; lean raw-socket clients, all in this one
process); one publisher
XADDs --messages signed ban notices (banjail.fleet.notice, the real encoding) at --rate per second (capped at
DELIVERIES_PER_S / N so that the subscribers keep up). Measured per N:

  redis CPU per notice      utime + stime of redis-server over the run, less its idle CPU with the same N clients
                            blocked (measured for IDLE_S before), / messages: one XADD plus N deliveries
  redis CPU per delivery    the slope of that cost over N (least squares over the sizes run)
  delivery latency          XADD to each subscriber's receipt (p50/p99); at large N the subscribers' own Python
                            (N clients in one process) dominates it, not Redis: see the notes

From the measured cost the script derives where one Redis core saturates: a fleet whose hosts decide R bans per
second in total sends R notices/s, each delivered N times, so Redis needs R × (xadd + N × delivery) CPU-seconds per
second; the largest R below one core is printed per N (and extrapolated to 10,000 hosts). A banjail host's own
cost per remote ban (bench/fleet.py, `cost on b`) does not grow with N.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from daemon import cpu_of, percentile

from banjail.fleet.notice import ban_notice, encode

STREAM = "banjail:bans"
KEY = b"simulation-key-0123456789"
IDLE_S = 3.0
DELIVERIES_PER_S = 20_000  # what the subscribers (one Python process) keep up with; the rate is capped by it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def reply(reader: asyncio.StreamReader) -> object:
    """One RESP2 reply (arrays, bulk and simple strings, integers); raises on an error reply."""
    line = await reader.readline()
    kind, rest = line[:1], line[1:-2]
    if kind == b"*":
        count = int(rest)
        return None if count < 0 else [await reply(reader) for _ in range(count)]
    if kind == b"$":
        size = int(rest)
        return None if size < 0 else (await reader.readexactly(size + 2))[:-2]
    if kind in (b"+", b":"):
        return rest
    raise RuntimeError(f"redis: {line!r}")


def command(*words: bytes) -> bytes:
    return b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words)


async def subscriber(
    port: int, expected: int, latencies: list[float], deadline: float, ready: asyncio.Event
) -> None:
    """A blocking-XREAD loop on a raw connection (a lean client, so that N of them in one process keep up):
    the latency of each entry is its receipt time less its id's milliseconds (Redis's clock at XADD)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    last, seen = b"0-0", 0
    try:
        while seen < expected and time.monotonic() < deadline:
            writer.write(
                command(b"XREAD", b"COUNT", b"100", b"BLOCK", b"1000", b"STREAMS", STREAM.encode(), last)
            )
            ready.set()
            found = await reply(reader)
            now = time.time() * 1000
            for _name, items in found or ():  # type: ignore[attr-defined]
                for entry_id, _fields in items:
                    last = entry_id
                    seen += 1
                    latencies.append((now - int(entry_id.split(b"-")[0])) / 1000)
    finally:
        writer.close()


async def one_size(port: int, pid: int, n: int, messages: int, rate: float) -> dict[str, float]:
    admin = aioredis.Redis(port=port, decode_responses=True)
    await admin.delete(STREAM)
    latencies: list[float] = []
    deadline = time.monotonic() + 60 + messages / rate
    readies = [asyncio.Event() for _ in range(n)]
    tasks = [asyncio.create_task(subscriber(port, messages, latencies, deadline, r)) for r in readies]
    for ready in readies:
        await ready.wait()
    await asyncio.sleep(0.5)  # every subscriber blocked in XREAD
    # Redis's own cost with N blocked clients and nothing to deliver (cron, re-blocks)
    idle = cpu_of(pid).own
    await asyncio.sleep(IDLE_S)
    idle = (cpu_of(pid).own - idle) / IDLE_S
    before = cpu_of(pid).own
    started = time.monotonic()
    for i in range(messages):
        now = time.time()
        entry = encode(
            ban_notice(
                "sshd",
                f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}",
                now,
                now + 600,
                1,
                "pub",
                "sshd, 5 failures",
                now,
            ),
            KEY,
        )
        await admin.xadd(STREAM, dict(entry))  # type: ignore[arg-type]
        await asyncio.sleep(max(0.0, started + (i + 1) / rate - time.monotonic()))
    await asyncio.gather(*tasks)
    used = cpu_of(pid).own - before - idle * (time.monotonic() - started)
    await admin.aclose()
    delivered = len(latencies)
    return {
        "n": n,
        "messages": messages,
        "delivered": delivered,
        "redis_cpu_us_per_notice": max(0.0, used) / messages * 1e6,
        "rate": rate,
        "idle_cpu_percent": idle * 100,
        "p50_ms": percentile(latencies, 0.50) * 1000 if latencies else float("nan"),
        "p99_ms": percentile(latencies, 0.99) * 1000 if latencies else float("nan"),
    }


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least squares y = a + b x."""
    k = len(points)
    sx = sum(x for x, _ in points)
    sy = sum(y for _, y in points)
    sxx = sum(x * x for x, _ in points)
    sxy = sum(x * y for x, y in points)
    b = (k * sxy - sx * sy) / (k * sxx - sx * sx)
    return (sy - b * sx) / k, b


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="notices per second the publisher writes")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * max(sizes) + 256)), hard))
    tmp = tempfile.mkdtemp(prefix="bjsim-")
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp, "--save", "", "--appendonly", "no",
         "--maxclients", str(max(sizes) + 100), "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True
            ).stdout.strip()
            != "PONG"
        ):
            if time.monotonic() > deadline:
                raise SystemExit("redis-server did not start")
            time.sleep(0.05)
        rows = [
            asyncio.run(one_size(port, redis.pid, n, args.messages, min(args.rate, DELIVERIES_PER_S / n)))
            for n in sizes
        ]
    finally:
        redis.terminate()
        redis.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    xadd_us, delivery_us = fit([(r["n"], r["redis_cpu_us_per_notice"]) for r in rows])
    xadd_us = max(xadd_us, 1.0)
    print(f"# one redis-server, {args.messages} notices per size (measured)\n")
    print(
        "| subscribers | notices/s | delivered | redis idle CPU | redis CPU per notice | delivery p50 | delivery p99 |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['n']:.0f} | {r['rate']:g} | {r['delivered']:.0f}/{r['n'] * r['messages']:.0f} | {r['idle_cpu_percent']:.1f}% "
              f"| {r['redis_cpu_us_per_notice']:.0f} µs | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms |")  # fmt: skip
    print(f"\nfit: redis CPU per notice = {xadd_us:.1f} µs + N × {delivery_us:.2f} µs\n")
    print("# where one Redis core stops (derived from the fit)\n")
    print("| subscribers | redis CPU per notice | fleet-wide notices/s at 100% of one core | at 50% |")
    print("|---|---|---|---|")
    for n in (10, 100, 1000, 10000):
        cost = xadd_us + n * delivery_us
        print(f"| {n} | {cost:,.0f} µs | {1e6 / cost:,.0f} | {0.5e6 / cost:,.0f} |")
    print(
        "\nnotes: every delivery here is one XREAD round (one notice per read, the dearest case: a burst of bans "
        "is read up to 500 at a time by banjail's subscriber); all subscribers share this one Python process, "
        "whose own work adds to the delivery latency at large N; Redis's CPU is measured on its own process. A "
        "replica per site (`replica =` in [fleet]) divides the deliveries one server makes by the number of sites."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
