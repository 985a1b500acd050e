"""Prometheus metrics of the running server, by hand in the text exposition format 0.0.4 (stdlib only).

Turned on in fail2ban.local, section [Definition]: `metrics = 127.0.0.1:9191` serves `GET /metrics` from the
server's own event loop (banjail.metrics.http); `metrics_textfile = PATH` writes the same text atomically every
15 s for node_exporter's textfile collector (banjail.metrics.textfile). Both are off when empty (the default).

The registry API, for any part of banjail that counts something (the fleet, for one):

    from banjail.metrics import REGISTRY, FLEET_MESSAGES

    FLEET_MESSAGES.labels("in").inc()                       # a message received from the fleet
    FLEET_MESSAGES.labels("out").inc(len(batch))            # a batch of messages sent
    sent = REGISTRY.counter("banjail_fleet_bytes_total", "Bytes sent to the fleet", ("peer",))
    sent.labels("redis-1").inc(512)
    depth = REGISTRY.gauge("banjail_fleet_backlog", "Messages waiting to be sent")
    depth.labels().set(3)
    seconds = REGISTRY.histogram("banjail_fleet_send_seconds", "Time to send one batch", buckets=(0.01, 0.1, 1))
    seconds.labels().observe(0.004)

`REGISTRY.counter/gauge/histogram` return the family of that name (the same object when asked again with the
same type and labels; a different type or label set raises ValueError). `labels(*values)` returns the child for
those label values (keep it: an increment is then one float addition, cheap enough for a batch path, though not
meant for a per-line loop); children only grow (each distinct label set stays until the process ends), so label
values must come from a bounded set (jail, action, source file, direction), never from addresses. Everything runs
on the event loop: no locks, and no call from another thread.
"""

from __future__ import annotations

from banjail.metrics.registry import Registry

REGISTRY = Registry()

# Filled by the fleet (banjail.fleet): one message received ("in") or sent ("out").
FLEET_MESSAGES = REGISTRY.counter(
    "banjail_fleet_messages_total", "Fleet messages received (in) and sent (out)", ("direction",)
)

__all__ = ["FLEET_MESSAGES", "REGISTRY", "Registry"]
