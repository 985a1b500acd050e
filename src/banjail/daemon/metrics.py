"""The server's metrics: the names of hectorjsmith/fail2ban-prometheus-exporter (so dashboards built on it work
unchanged) read from the jails at scrape time, then banjail's own, counted where the work happens, once per batch
or job (never per line).

Exporter-compatible (same names, types and meanings as its socket collector):
    f2b_up, f2b_jail_count, f2b_jail_banned_current{jail}, f2b_jail_banned_total{jail},
    f2b_jail_failed_current{jail}, f2b_jail_failed_total{jail} (all gauges, as the exporter types them),
    f2b_errors{type} (counter; type db = store writes that failed, socket_conn/socket_req stay 0: there is no
    socket between banjail and its metrics), f2b_config_jail_ban_time / _find_time / _max_retries{jail},
    f2b_version{exporter,fail2ban}.
banjail's own:
    banjail_lines_read_total{source}, banjail_lines_matched_total{jail}, banjail_lines_ignored_total{jail},
    banjail_matcher_cpu_seconds_total{jail}, banjail_ban_latency_seconds{jail} (histogram: from the moment the
    batch holding the line that fired was read, a few ms after the line was written with inotify, to the
    moment every action of the jail had applied the ban), banjail_action_runs_total{jail,action,op},
    banjail_action_failures_total{jail,action,op}, banjail_store_commit_seconds (histogram),
    banjail_queue_depth{queue,jail} (actions per jail, the store's pending checkpoints),
    banjail_restored_bans_total{jail}, banjail_fleet_messages_total{direction} (from the fleet's own counters,
    banjail.fleet.counters, when the daemon is in a fleet; else the registry's family others may fill), and
    with a fleet banjail_fleet_entries_total{outcome}, banjail_fleet_outbox, banjail_fleet_reconnects_total,
    banjail_fleet_link_up{link}.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from banjail import FAIL2BAN_COMPAT_VERSION, __version__
from banjail.config.schema import ServerConfig
from banjail.daemon.logging import logger
from banjail.metrics import REGISTRY
from banjail.metrics import textfile as textfile_writer
from banjail.metrics.http import MetricsServer, parse_listen
from banjail.metrics.registry import COUNTER, GAUGE, Family

if TYPE_CHECKING:
    from banjail.daemon.app import Daemon
    from banjail.daemon.jail import Jail
    from banjail.fleet.counters import FleetSnapshot

log_server = logger("server")

ERRORS = REGISTRY.counter("f2b_errors", "Number of errors found since startup", ("type",))
for _kind in ("db", "socket_conn", "socket_req"):
    ERRORS.labels(_kind)
LINES_READ = REGISTRY.counter("banjail_lines_read_total", "Log lines read, per source", ("source",))
MATCHER_CPU = REGISTRY.counter(
    "banjail_matcher_cpu_seconds_total", "CPU seconds spent matching lines, per jail", ("jail",)
)
BAN_LATENCY = REGISTRY.histogram(
    "banjail_ban_latency_seconds",
    "Seconds from reading the line that fired a ban to the ban applied",
    ("jail",),
)
ACTION_RUNS = REGISTRY.counter(
    "banjail_action_runs_total",
    "Action operations run (one per job: a batch of bans)",
    ("jail", "action", "op"),
)
ACTION_FAILURES = REGISTRY.counter(
    "banjail_action_failures_total", "Action operations that failed", ("jail", "action", "op")
)
COMMIT_SECONDS = REGISTRY.histogram(
    "banjail_store_commit_seconds", "Seconds per store transaction (a group of batch checkpoints)"
)
RESTORED = REGISTRY.counter("banjail_restored_bans_total", "Bans restored from the store at start", ("jail",))


def batch_read(jail: str, source: str, lines: int, cpu: float) -> None:
    """One batch of `lines` from `source` matched by `jail` in `cpu` thread CPU seconds (the daemon's reader)."""
    LINES_READ.value(source).inc(lines)
    MATCHER_CPU.value(jail).inc(cpu)


def bans_applied(jail: str, bans: int, read_at: float, now: float) -> None:
    """A ban job of `bans` bans finished on every action at monotonic `now`; its line batch was read at
    `read_at` (0: not from a log line, e.g. a manual or restored ban, which has no latency)."""
    if read_at > 0 and bans:
        BAN_LATENCY.histogram(jail).observe(now - read_at, bans)


def action_ran(jail: str, action: str, op: str, failed: bool) -> None:
    ACTION_RUNS.value(jail, action, op).inc()
    if failed:
        ACTION_FAILURES.value(jail, action, op).inc()


# Per-jail families read at scrape time: (name, help, type, value of one jail).
_PER_JAIL: tuple[tuple[str, str, str, Callable[[Jail], float]], ...] = (
    (
        "f2b_jail_banned_current",
        "Number of IPs currently banned in this jail",
        GAUGE,
        lambda j: len(j.state.book),
    ),
    (
        "f2b_jail_banned_total",
        "Total number of IPs banned by this jail (includes expired bans)",
        GAUGE,
        lambda j: j.state.book.total,
    ),
    (
        "f2b_jail_failed_current",
        "Number of current failures on this jail's filter",
        GAUGE,
        lambda j: len(j.state.counter),
    ),
    (
        "f2b_jail_failed_total",
        "Number of total failures on this jail's filter",
        GAUGE,
        lambda j: j.state.counter.total,
    ),
    (
        "f2b_config_jail_ban_time",
        "How long an IP is banned for in this jail (in seconds)",
        GAUGE,
        lambda j: j.state.policy.bantime,
    ),
    (
        "f2b_config_jail_find_time",
        "How far back will the filter look for failures in this jail (in seconds)",
        GAUGE,
        lambda j: j.state.counter.findtime,
    ),
    (
        "f2b_config_jail_max_retries",
        "The number of failures allowed until the IP is banned by this jail",
        GAUGE,
        lambda j: j.state.counter.maxretry,
    ),
    (
        "banjail_lines_matched_total",
        "Lines a failregex matched, per jail",
        COUNTER,
        lambda j: j.state.stats.matched,
    ),
    (
        "banjail_lines_ignored_total",
        "Lines an ignoreregex dropped, per jail",
        COUNTER,
        lambda j: j.state.stats.ignored,
    ),
)


def _per_jail(daemon: Daemon) -> Iterable[Family]:
    jails = [daemon.jails[name] for name in sorted(daemon.jails)]
    yield Family.snapshot("f2b_up", "Check if the fail2ban server is up", GAUGE, (), [((), 1.0)])
    yield Family.snapshot("f2b_jail_count", "Number of defined jails", GAUGE, (), [((), float(len(jails)))])
    for name, help, kind, read in _PER_JAIL:
        yield Family.snapshot(name, help, kind, ("jail",), (((j.name,), float(read(j))) for j in jails))
    yield Family.snapshot(
        "f2b_version",
        "Version of the exporter and fail2ban server",
        GAUGE,
        ("exporter", "fail2ban"),
        [((f"banjail {__version__}", FAIL2BAN_COMPAT_VERSION), 1.0)],
    )
    fleet = getattr(daemon, "fleet", None)
    if fleet is not None:
        yield from fleet_families(fleet.snapshot())
    depth = [(("actions", j.name), float(j.queue.qsize())) for j in jails]
    depth.append((("store", ""), float(daemon.committer.pending)))
    yield Family.snapshot(
        "banjail_queue_depth",
        "Jobs waiting: per jail's action queue, and store checkpoints",
        GAUGE,
        ("queue", "jail"),
        depth,
    )


def fleet_families(snap: FleetSnapshot) -> Iterable[Family]:
    """The fleet's counters (banjail.fleet.counters) when the daemon is in a fleet."""
    yield Family.snapshot(
        "banjail_fleet_messages_total",
        "Fleet messages received (in) and sent (out)",
        COUNTER,
        ("direction",),
        [(("in",), snap.messages_in), (("out",), snap.messages_out)],
    )
    yield Family.snapshot(
        "banjail_fleet_entries_total",
        "Fleet entries read, by outcome (applied, skipped, ignored by own rules, dropped: signature, malformed)",
        COUNTER,
        ("outcome",),
        [(("applied",), snap.applied), (("skipped",), snap.skipped), (("ignored",), snap.ignored)]
        + [((f"dropped_{reason}",), n) for reason, n in snap.dropped],
    )
    yield Family.snapshot(
        "banjail_fleet_outbox", "Notices waiting to be sent", GAUGE, (), [((), snap.outbox)]
    )
    yield Family.snapshot(
        "banjail_fleet_reconnects_total", "Times a fleet link went down", COUNTER, (), [((), snap.reconnects)]
    )
    yield Family.snapshot(
        "banjail_fleet_link_up",
        "1 when the fleet link is up, 0 when down (absent: off)",
        GAUGE,
        ("link",),
        [
            ((name,), 1.0 if state == "up" else 0.0)
            for name, state in (("publisher", snap.publisher), ("subscriber", snap.subscriber))
            if state != "off"
        ],
    )


@dataclass
class Exporter:
    """The running metrics outputs of one daemon (HTTP endpoint, textfile writer); `close` stops both."""

    daemon: Daemon
    server: MetricsServer | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def collect(self) -> Iterable[Family]:
        return list(_per_jail(self.daemon))

    async def close(self) -> None:
        REGISTRY.remove_collector(self.collect)
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.server is not None:
            await self.server.close()


async def start(daemon: Daemon, config: ServerConfig) -> Exporter:
    """Start what fail2ban.local's `metrics` and `metrics_textfile` ask for (nothing when both are empty). A
    listen address that cannot be bound is logged as an error; the server runs on without metrics."""
    exporter = Exporter(daemon)
    if not (config.metrics.strip() or config.metrics_textfile.strip()):
        return exporter
    REGISTRY.add_collector(exporter.collect)
    if config.metrics.strip():
        host, port = parse_listen(config.metrics)
        server = MetricsServer(host, port, REGISTRY.render)
        try:
            await server.start()
        except OSError as exc:
            log_server.error("cannot serve metrics on %s: %s", config.metrics, exc)
        else:
            exporter.server = server
            log_server.info("Serving metrics at http://%s/metrics", config.metrics.strip())
    if config.metrics_textfile.strip():
        path = config.metrics_textfile.strip()
        exporter.tasks.append(
            asyncio.create_task(
                textfile_writer.run(path, REGISTRY.render, max(1.0, config.metrics_interval)),
                name="metrics-textfile",
            )
        )
    return exporter
