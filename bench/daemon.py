"""The daemon benchmark: banjail's fail2ban-server against upstream's, on the same jail and the same input.

Both servers run in turn, each in a network namespace of its own (`unshare -n`: upstream never touches the host),
with one jail `bench` (upstream's sshd filter from a copy of /etc/fail2ban, maxretry 3, findtime and bantime 1d,
backend auto) and one command action, written into the temp config dir, that appends `<ip> <epoch>` to a file;
the epoch comes from `date +%s.%N` inside the action, so it is the moment the ban action ran. For each server:

  warm-up   one failure burst; its record proves the pipeline is live end to end
  bulk      one append of an N-line generated auth.log (timestamps ending at now): time until the recorded bans
            stop growing and the server stops using CPU (bounded), server CPU seconds (utime+stime of the server
            process from /proc/PID/stat, children excluded), the number of bans
  idle      server CPU over IDLE_S seconds with no input
  latency   TRIALS appends of one burst (maxretry failure lines from a fresh address, one write): the time from
            just before the write to the action's own timestamp; median and p99 (nearest rank)
  memory    peak RSS of the server (VmHWM) at the end
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import floors
from gen_authlog import LogSpec, write_authlog
from section import Section, Table

NAME = "daemon"
REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
UPSTREAM_FILTER = "/etc/fail2ban/filter.d/sshd.conf"
FLOOR = "floor (re + commands)"
UPSTREAM_SERVER = "/usr/bin/fail2ban-server"
BANJAIL_SERVER = str(floors.VENV / "bin/fail2ban-server")
UPSTREAM_CONFIG = Path("/etc/fail2ban")
MAXRETRY = 3
IDLE_S = 5.0
SETTLE_S = 3.0  # no new ban and (almost) no server CPU for this long ends the bulk phase
BULK_TIMEOUT_S = 150.0
BAN_TIMEOUT_S = 10.0  # one burst's ban
TICK = os.sysconf("SC_CLK_TCK")
TARGET_CPU_RATIO = 20.0  # issue 13 (the recording action; daemon-nft has its own, 50x)
TARGET_P50_MS = 10.0
TARGET_P99_MS = 50.0
TARGET_RSS_MB = 40.0
Progress = Callable[[str], None]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("daemon")
    group.add_argument("--daemon-lines", type=int, default=200_000, help="lines appended in the bulk phase")
    group.add_argument("--trials", type=int, default=30, help="ban-latency trials per server")
    group.add_argument("--daemons", default="upstream,banjail", help="servers to run, comma-separated")


@dataclass(frozen=True)
class Cpu:
    """CPU seconds of a process: its own (all threads) and its waited-for children (the action commands)."""

    own: float
    children: float


def cpu_of(pid: int) -> Cpu:
    """utime+stime and cutime+cstime of pid, from /proc/PID/stat (fields 14-17; the name may hold spaces)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return Cpu((utime + stime) / TICK, (cutime + cstime) / TICK)


def peak_rss_kb(pid: int) -> int:
    """VmHWM of pid in kB (0 if the process is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


@dataclass(frozen=True)
class Server:
    """How to start one implementation: its label, server and client programs, and its config dir."""

    label: str
    server: str
    client: str

    def available(self) -> str:
        """Empty when the programs exist, else why this server cannot run."""
        for program in (self.server, self.client):
            if not os.access(program, os.X_OK):
                return f"{program} is missing (not installed or not executable)"
        return ""


SERVERS = {
    "upstream": Server("upstream", UPSTREAM_SERVER, "/usr/bin/fail2ban-client"),
    "banjail": Server("banjail", BANJAIL_SERVER, str(floors.VENV / "bin/fail2ban-client")),
}


def write_config(work: Path, jail_extra: str = "", action: str = "rec", upstream_tree: bool = True) -> Path:
    """A copy of upstream's /etc/fail2ban (or, with upstream_tree False, nothing: banjail's stock tree serves)
    plus fail2ban.local (socket, pidfile, db, log under work), a jail `bench` on work/auth.log with `action`,
    and the recording action `rec`. Returns the config dir."""
    conf = work / "conf"
    if upstream_tree:
        shutil.copytree(UPSTREAM_CONFIG, conf, ignore=shutil.ignore_patterns("jail.d", "*.local"))
    (conf / "action.d").mkdir(parents=True, exist_ok=True)
    (conf / "fail2ban.local").write_text(
        f"[Definition]\nloglevel = INFO\nlogtarget = {work}/server.log\nsocket = {work}/f2b.sock\n"
        f"pidfile = {work}/f2b.pid\ndbfile = {work}/f2b.sqlite3\n"
    )
    (conf / "jail.local").write_text(
        "[DEFAULT]\nignoreself = false\nignoreip =\n"
        f"[bench]\nenabled = true\nfilter = sshd\nbackend = auto\nlogpath = {work}/auth.log\n"
        f"maxretry = {MAXRETRY}\nfindtime = 1d\nbantime = 1d\naction = {action}\n{jail_extra}"
    )
    # `%%` is a literal `%` in both dialects; the timestamp is taken by the action itself.
    (conf / "action.d" / "rec.conf").write_text(
        f"[Definition]\nactionban = echo <ip> $(date +%%s.%%N) >> {work}/bans\nactionunban = true\n"
    )
    (work / "auth.log").touch()
    return conf


class Running:
    """One server process started in the foreground inside `prefix` (a namespace command); stopped by its PID."""

    def __init__(self, server: Server, work: Path, conf: Path, prefix: list[str]) -> None:
        self.server = server
        self.work = work
        self.sock = str(work / "f2b.sock")
        self.stderr = open(work / "stderr", "wb")  # noqa: SIM115 - closed in stop()
        # unshare and `ip netns exec` exec the command in place, so the PID is the server's own.
        self.proc = subprocess.Popen(
            [*prefix, server.server, "-f", "-x", "-c", str(conf), "start"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.proc.pid

    def client(self, *argv: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.server.client, "-s", self.sock, *argv], capture_output=True, text=True,
                              timeout=timeout, check=False)  # fmt: skip

    def wait_ready(self, jail: str, timeout: float = 30.0) -> None:
        """Until `status JAIL` answers; raises RuntimeError with the server's last words otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.server.label} server exited with {self.proc.returncode}: {self.tail()}")
            if os.path.exists(self.sock) and self.client("status", jail, timeout=10).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.server.label} server not ready after {timeout:.0f} s: {self.tail()}")

    def tail(self) -> str:
        texts = []
        for name in ("stderr", "server.log"):
            with contextlib.suppress(OSError):
                texts += [ln for ln in (self.work / name).read_text(errors="replace").splitlines() if ln.strip()]
        return " | ".join(texts[-3:]) or "no output"

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 20 s; always ends the process."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.stderr.close()


def records(path: Path) -> list[tuple[str, float]]:
    """The recording action's lines as (ip, epoch); a line being written (incomplete) is skipped."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        ip, _, stamp = line.partition(" ")
        with contextlib.suppress(ValueError):
            out.append((ip, float(stamp)))
    return out


def burst(ip: str, at: float, pid: int) -> str:
    """maxretry failed-password lines from ip in syslog format, stamped `at` (local time)."""
    stamp = time.strftime("%b %e %H:%M:%S", time.localtime(at))
    return "".join(f"{stamp} web1 sshd[{pid}]: Failed password for root from {ip} port {40000 + i} ssh2\n"
                   for i in range(MAXRETRY))  # fmt: skip


def append(path: Path, text: str) -> float:
    """Append text in one write; return the wall time just before the write."""
    data = text.encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        t = time.time()
        written = os.write(fd, data)
        while written < len(data):
            written += os.write(fd, data[written:])
    finally:
        os.close(fd)
    return t


def wait_for_ban(path: Path, ip: str, timeout: float) -> float | None:
    """The action's timestamp for ip, or None after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for rec_ip, stamp in records(path):
            if rec_ip == ip:
                return stamp
        time.sleep(0.005)
    return None


@dataclass
class Result:
    """One server's figures; `error` set when it could not finish (the figures then are partial)."""

    label: str
    error: str = ""
    bulk_lines: int = 0
    bulk_s: float = 0.0
    bulk_cpu_s: float = 0.0
    bulk_children_cpu_s: float = 0.0
    bans: int = 0
    bulk_timed_out: bool = False
    idle_cpu_pct: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    missed_trials: int = 0
    rss_kb: int = 0

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q) if self.latencies_ms else 0.0


def bulk_phase(run: Running, log: Path, text: str, progress: Progress) -> tuple[float, Cpu, int, bool]:
    """Append text; poll bans and CPU until both settle. Returns (seconds, CPU used, new bans, timed out).

    The end time is the last poll at which a ban was added or the server was busy (>= half a core), so a quiet
    tail of polling does not count."""
    bans_file = run.work / "bans"
    before_bans = len(records(bans_file))
    cpu0 = cpu_of(run.pid)
    t0 = append(log, text)
    last_active = time.time()
    count, prev_cpu, prev_t = before_bans, cpu0.own, time.time()
    while True:
        time.sleep(0.1)
        now = time.time()
        new_count = len(records(bans_file))
        cpu = cpu_of(run.pid).own
        if new_count != count or (cpu - prev_cpu) >= 0.5 * (now - prev_t):
            last_active = now
        count, prev_cpu, prev_t = new_count, cpu, now
        if now - last_active >= SETTLE_S:
            timed_out = False
            break
        if now - t0 >= BULK_TIMEOUT_S:
            timed_out = True
            break
    cpu1 = cpu_of(run.pid)
    used = Cpu(cpu1.own - cpu0.own, cpu1.children - cpu0.children)
    progress(f"{run.server.label}: bulk done in {last_active - t0:.1f} s, {count - before_bans} bans, "
             f"{used.own:.2f} CPU s" + (" (timed out)" if timed_out else ""))  # fmt: skip
    return last_active - t0, used, count - before_bans, timed_out


def bench_server(server: Server, lines: int, trials: int, log_text: str, progress: Progress) -> Result:
    """Run every phase on one server (see the module doc); never raises: errors land in Result.error."""
    result = Result(server.label, bulk_lines=lines)
    missing = server.available()
    if missing:
        result.error = missing
        return result
    with tempfile.TemporaryDirectory(prefix=f"bench-daemon-{server.label}-") as tmp:
        work = Path(tmp)
        conf = write_config(work)
        try:
            run = Running(server, work, conf, ["unshare", "-n"])
        except OSError as exc:
            result.error = f"cannot start {server.label}'s server: {exc}"
            return result
        try:
            run.wait_ready("bench")
            log, bans_file = work / "auth.log", work / "bans"
            if wait_for_ban(bans_file, "198.18.255.1", 0.0) is None:
                append(log, burst("198.18.255.1", time.time(), 9000))
                if wait_for_ban(bans_file, "198.18.255.1", 30.0) is None:
                    raise RuntimeError(f"warm-up burst not banned within 30 s: {run.tail()}")
            progress(f"{server.label}: ready (pid {run.pid}), appending {lines:,} lines")
            result.bulk_s, used, result.bans, result.bulk_timed_out = bulk_phase(run, log, log_text, progress)
            result.bulk_cpu_s, result.bulk_children_cpu_s = used.own, used.children
            cpu0 = cpu_of(run.pid).own
            time.sleep(IDLE_S)
            result.idle_cpu_pct = 100 * (cpu_of(run.pid).own - cpu0) / IDLE_S
            for i in range(trials):
                ip = f"198.18.{i // 250}.{1 + i % 250}"
                t = append(log, burst(ip, time.time(), 10000 + i))
                stamp = wait_for_ban(bans_file, ip, BAN_TIMEOUT_S)
                if stamp is None:
                    result.missed_trials += 1
                else:
                    result.latencies_ms.append(1000 * (stamp - t))
                time.sleep(0.2)  # separate trials: no batching of two bursts
            progress(f"{server.label}: latency p50 {result.p(0.5):.1f} ms, p99 {result.p(0.99):.1f} ms")
            result.rss_kb = peak_rss_kb(run.pid)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            result.error = str(exc)
            progress(f"{server.label}: failed: {exc}")
        finally:
            run.stop()
    return result


def generate(lines: int) -> str:
    """The bulk input: a generated auth.log whose last line is one second before now."""
    buf = io.StringIO()
    write_authlog(buf, LogSpec(lines=lines, end=int(time.time()) - 1, seed=1, format="syslog"))
    return buf.getvalue()


def run(args: argparse.Namespace, progress: Progress) -> Section:
    """Run the chosen servers in turn and return the section."""
    lines = min(args.daemon_lines, 50_000) if args.quick else args.daemon_lines
    trials = min(args.trials, 20) if args.quick else args.trials
    labels = [d for d in args.daemons.split(",") if d]
    unknown = [d for d in labels if d not in SERVERS]
    if unknown:
        raise SystemExit(f"bench daemon: unknown server(s) {', '.join(unknown)}; known: {', '.join(SERVERS)}")
    results = []
    for label in labels:
        text = generate(lines)  # per server: timestamps near the moment of its append
        results.append(bench_server(SERVERS[label], lines, trials, text, progress))
    bans = max((r.bans for r in results), default=0)
    return _section(results, lines, trials, floors.measure(generate(lines), bans, progress))


def _section(
    results: list[Result], lines: int, trials: int, found: dict[str, float] | None = None
) -> Section:
    upstream = next((r for r in results if r.label == "upstream" and not r.error), None)
    rows: list[tuple[str, ...]] = []
    figures: list[dict[str, Any]] = []
    for r in results:
        if r.error and not r.bulk_s:
            rows.append((r.label, "failed", "", "", "", "", "", "", "", "", r.error[:200]))
            figures.append({"server": r.label, "error": r.error})
            continue
        ratio = upstream.bulk_cpu_s / r.bulk_cpu_s if upstream and r is not upstream and r.bulk_cpu_s else 0.0
        rows.append((
            r.label, f"{r.bulk_s:.2f}" + (" (timeout)" if r.bulk_timed_out else ""),
            f"{lines / r.bulk_s:,.0f}" if r.bulk_s else "", f"{r.bulk_cpu_s:.2f}",
            f"{ratio:.1f}x" if ratio else "", str(r.bans), f"{r.idle_cpu_pct:.2f}",
            f"{r.p(0.5):.1f}", f"{r.p(0.99):.1f}", f"{r.rss_kb / 1024:.1f}",
            _targets(r, ratio) if r.label != "upstream" else (r.error[:200] or "(reference)"),
        ))  # fmt: skip
        figures.append({
            "server": r.label, "error": r.error, "bulk_lines": r.bulk_lines, "bulk_s": round(r.bulk_s, 3),
            "bulk_cpu_s": r.bulk_cpu_s, "action_cpu_s": round(r.bulk_children_cpu_s, 2), "bans": r.bans,
            "bulk_timed_out": r.bulk_timed_out, "cpu_ratio": round(ratio, 1), "idle_cpu_pct": round(r.idle_cpu_pct, 3),
            "latency_ms": {"p50": round(r.p(0.5), 2), "p99": round(r.p(0.99), 2),
                           "mean": round(statistics.fmean(r.latencies_ms), 2) if r.latencies_ms else None,
                           "all": [round(x, 2) for x in r.latencies_ms]},
            "missed_trials": r.missed_trials, "peak_rss_kb": r.rss_kb,
        })  # fmt: skip
    if found is not None:
        rows += floors.rows(found, upstream.bulk_cpu_s if upstream else 0.0)
    notes = [
        f"targets: >= {TARGET_CPU_RATIO:.0f}x less server CPU than upstream for the same bans; ban latency "
        f"p50 <= {TARGET_P50_MS:.0f} ms, p99 <= {TARGET_P99_MS:.0f} ms (upstream: 0.36 s median); idle CPU 0 %; "
        f"peak RSS <= {TARGET_RSS_MB:.0f} MB",
        f"bulk: one append of {lines:,} generated auth.log lines (gen_authlog seed 1, syslog format, ending now) "
        f"to the watched file; time = until the last new ban or busy poll, {SETTLE_S:.0f} s of quiet after it "
        "ends the phase; CPU = server process utime+stime (action commands excluded: see action_cpu_s in JSON)",
        f"latency: {trials} trials, one write of {MAXRETRY} failure lines from a fresh address; time from just "
        "before the write to `date +%s.%N` inside the ban action (includes the action's fork and exec)",
        f"idle: server CPU over {IDLE_S:.0f} s with no input, after the bulk phase (resolution: one clock tick, "
        f"{100 / TICK / IDLE_S:.1f} %)",
        "load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) +
        " on " + str(os.cpu_count()) + " CPUs (other work on the machine slows both servers alike)",
        "both servers: same config (a copy of /etc/fail2ban, upstream's sshd filter, backend auto), each inside "
        "`unshare -n`; jail findtime and bantime 1d so every line of the log counts",
        f"{FLOOR}: the server CPU no daemon built on Python's re can go below for this bulk: upstream's sshd "
        "regexes called in first-match mode on the lines holding a required literal (refloor.py --first), plus "
        "starting and reaping one command per ban through banjail's Runner (spawnfloor.py, the recording "
        "action's count); its ratio is the most such a daemon can gain over upstream; `floor (native + commands)` "
        "the same with the native engine's C part alone (nativefloor.py) instead of re; `spawn floor` the "
        "commands alone, and the same commands started as the Runner did before (asyncio's subprocess, output "
        "through pipes and communicate())",
    ]
    for r in results:
        if r.missed_trials:
            notes.append(f"{r.label}: {r.missed_trials} trial(s) not banned within {BAN_TIMEOUT_S:.0f} s")
        if r.error and r.bulk_s:
            notes.append(f"{r.label}: stopped early: {r.error}")
    bans = {r.bans for r in results if not r.error}
    if len(bans) > 1:
        notes.append("the servers banned different numbers of addresses: " +
                     ", ".join(f"{r.label} {r.bans}" for r in results))  # fmt: skip
    return Section(
        name=NAME,
        title=f"daemon: fail2ban-server on a {lines:,}-line append, ban latency, idle CPU and memory",
        tables=(Table("Server side by side", (
            "server", "bulk s", "lines/s", "server CPU s", "CPU vs upstream", "bans", "idle CPU %",
            "ban p50 ms", "ban p99 ms", "peak RSS MB", "targets met"), tuple(rows)),),
        notes=tuple(notes),
        figures={"lines": lines, "trials": trials, "servers": figures, "floor": found},
    )


def _targets(r: Result, ratio: float) -> str:
    checks: tuple[tuple[str, bool | None], ...] = (
        ("cpu", ratio >= TARGET_CPU_RATIO if ratio else None),  # None: no upstream figure to compare with
        ("p50", bool(r.latencies_ms) and r.p(0.5) <= TARGET_P50_MS),
        ("p99", bool(r.latencies_ms) and r.p(0.99) <= TARGET_P99_MS),
        ("idle", r.idle_cpu_pct == 0.0),
        ("rss", 0 < r.rss_kb <= TARGET_RSS_MB * 1024),
    )
    return " ".join(f"{name}:{'n/a' if ok is None else 'yes' if ok else 'no'}" for name, ok in checks)

