"""Issue 14 item 11 figures: a no-ban flood from a bounded writer (RATE lines/s of distinct addresses for SECONDS
seconds) into a real fail2ban-server. Samples every 0.5 s: the socket's `status` latency, the lag `status` shows
(banjail's row; on a build without it, file size minus the stored position), the server's RSS and the database
size. Prints the worst lag, the catch-up time after the writer stopped, the worst socket latency, the peak RSS and
the final database size (database + WAL). The socket is asked every 0.1 s: the latency percentiles (p50, p99,
worst) are over those requests. FLOOD_PYSPY=FILE records the server with py-spy (if installed) into FILE.

    .venv/bin/python bench/stall/flood.py [RATE] [SECONDS]
"""

from __future__ import annotations

import ipaddress
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "e2e"))
from daemon_run import Server, write_config

from banjail.control.client import request


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _db_mib(tmp: Path) -> float:
    return sum(p.stat().st_size for p in tmp.glob("f2b.sqlite3*")) / 2**20


def _write(log: Path, rate: int, seconds: int) -> None:
    """The bounded writer, in a process of its own (so that its work does not hold the sampler's interpreter)."""
    base = int(ipaddress.IPv4Address("10.0.0.0"))
    start = time.monotonic()
    with open(log, "a") as out:
        for second in range(seconds):
            chunk = range(second * rate, (second + 1) * rate)
            for part in range(10):  # ten slices a second
                lines = chunk[part * rate // 10 : (part + 1) * rate // 10]
                out.write("".join(f"fail from {ipaddress.IPv4Address(base + n)} port 1\n" for n in lines))
                out.flush()
                delay = start + second + (part + 1) / 10 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)


def _pct(values: list[float]) -> str:
    if not values:
        return "-"
    values = sorted(values)
    p50, p99 = values[len(values) // 2], values[min(len(values) - 1, len(values) * 99 // 100)]
    return f"p50 {p50:.3f} p99 {p99:.3f} worst {values[-1]:.3f} s ({len(values)})"


def main() -> None:
    rate = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    tmp = Path(tempfile.mkdtemp(prefix="stall-flood-"))
    write_config(tmp, maxretry=1_000_000)
    log = tmp / "test.log"
    server = Server(tmp).start()
    assert server.proc is not None
    pid = server.proc.pid
    total = rate * seconds

    profile = os.environ.get("FLOOD_PYSPY")
    spy = None
    if profile:
        spy = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "-p",
                str(pid),
                "-o",
                profile,
                "-f",
                "raw",
                "--threads",
                "-r",
                "50",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    worst_lag = peak_rss = 0.0
    latencies: list[float] = []  # while the writer writes
    behind: list[float] = []  # after it stopped, while the server catches up
    sampled = 0.0
    writer = multiprocessing.Process(target=_write, args=(log, rate, seconds))
    begin = time.monotonic()
    writer.start()
    stopped_at = None
    caught = None
    try:
        while time.monotonic() - begin < seconds + 600:
            t0 = time.monotonic()
            status = request(server.sock, ["status", "test"], timeout=60)
            (latencies if writer.is_alive() else behind).append(time.monotonic() - t0)
            if not writer.is_alive() and stopped_at is None:
                stopped_at = t0
            if t0 - sampled < 0.5:
                time.sleep(0.1)
                continue
            sampled = t0
            peak_rss = max(peak_rss, _rss_mib(pid))
            rows = dict(status[0][1])  # type: ignore[index]
            lag = sum(int(str(entry).rsplit(" ", 2)[1]) for entry in rows.get("Lag", []))
            worst_lag = max(worst_lag, lag)
            if not writer.is_alive() and rows["Total failed"] >= total:
                caught = time.monotonic()
                break
            time.sleep(0.1)
    finally:
        writer.join()
        if spy is not None:
            spy.send_signal(2)
            spy.wait(60)
        db = _db_mib(tmp)
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    after = (caught - stopped_at) if caught and stopped_at else float("nan")
    load = os.getloadavg()
    print(
        f"rate={rate}/s for {seconds} s ({total} lines): caught up {after:.1f} s after the writer stopped; "
        f"worst lag {worst_lag / 2**20:.1f} MiB; status latency writing {_pct(latencies)}, "
        f"catching up {_pct(behind)}; peak RSS {peak_rss:.0f} MiB; "
        f"database {db:.1f} MiB; load average {load[0]:.1f} {load[1]:.1f}"
    )


if __name__ == "__main__":
    main()
