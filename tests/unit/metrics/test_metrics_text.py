"""The metrics text: the format's rules (checked by a strict reader written from the spec, and by promtool when
installed), label escaping of hostile values, and the Grafana dashboard naming only exported metrics."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from exposition_spec import FormatError, parse

from banjail.daemon import metrics as daemon_metrics
from banjail.metrics import REGISTRY
from banjail.metrics.registry import Registry

DASHBOARD = Path(__file__).resolve().parents[3] / "packaging" / "grafana-dashboard.json"
HOSTILE = ['"', "\\", "\n", "\\n", '\\"', "}", ",", "=", " ", "é", "#", "le"]


def hostile_names(seed: int, count: int = 20) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice([*HOSTILE, "a", "b", "_"]) for _ in range(rng.randint(1, 8))) for _ in range(count)]


@pytest.mark.parametrize("seed", range(10))
def test_hostile_label_values_come_back_unchanged(seed: int) -> None:
    registry = Registry()
    banned = registry.gauge("test_banned", 'Bans "now"\\ with\nnewline', ("jail",))
    seconds = registry.histogram("test_seconds", "Latency", ("jail",), buckets=(0.1, 1.0))
    names = sorted(set(hostile_names(seed)))
    for n, name in enumerate(names):
        banned.value(name).set(n)
        seconds.histogram(name).observe(0.5, 2)
    families = parse(registry.render())
    assert families["test_banned"].help == 'Bans "now"\\ with\nnewline'
    assert {labels["jail"]: value for _, labels, value in families["test_banned"].samples} == {
        name: float(n) for n, name in enumerate(names)
    }
    counts = {lab["jail"]: v for n, lab, v in families["test_seconds"].samples if n == "test_seconds_count"}
    assert counts == dict.fromkeys(names, 2.0)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("a 1", "end with a line feed"),
        ('a{j="x\\q"} 1\n', "bad escape"),
        ("# TYPE a gauge\n# TYPE a gauge\na 1\n", "TYPE of a must come once"),
        ("a 1\nb 1\na 2\n", "not contiguous"),
        ("# TYPE a counter\na -1\n", "counter a is -1"),
        ('# TYPE h histogram\nh_bucket{le="1"} 2\nh_sum 1\nh_count 2\n', 'le="+Inf"'),
        ('# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n', "cumulative"),
        ('a{j="x",j="y"} 1\n', "label j twice"),
        ("a 1\na 2\n", "twice"),
        ("a{1x=\"y\"} 1\n", "bad label name"),
    ],
)
def test_the_reader_is_strict(text: str, rule: str) -> None:
    with pytest.raises(FormatError, match=re.escape(rule)):
        parse(text)


def daemon_text() -> str:
    """The full text of a server with no jails (every family with its HELP and TYPE)."""
    fake: Any = SimpleNamespace(jails={}, committer=SimpleNamespace(pending=0))
    exporter = daemon_metrics.Exporter(fake)
    REGISTRY.add_collector(exporter.collect)
    try:
        return REGISTRY.render()
    finally:
        REGISTRY.remove_collector(exporter.collect)


# The exporter's names that break promtool's naming lint: dashboards read them by these names.
COMPAT_LINT = [
    'f2b_errors counter metrics should have "_total" suffix',
    'f2b_jail_banned_total non-counter metrics should not have "_total" suffix',
    'f2b_jail_count non-histogram and non-summary metrics should not have "_count" suffix',
    'f2b_jail_failed_total non-counter metrics should not have "_total" suffix',
]


def promtool(text: str) -> list[str]:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.skip("promtool (Debian prometheus) is not installed")
    done = subprocess.run([tool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    return sorted(line for line in (done.stdout + done.stderr).splitlines() if line.strip())


def test_promtool_finds_only_the_exporter_compatible_names() -> None:
    text = daemon_text()  # no jail: the per-jail families have no samples, so promtool lints fewer of them
    parse(text)
    found = promtool(text)
    assert found and set(found) <= set(COMPAT_LINT)


def test_promtool_finds_nothing_in_hostile_labels() -> None:
    registry = Registry()
    family = registry.counter("test_events_total", "Events", ("jail",))
    for name in hostile_names(99):
        family.value(name).inc()
    assert promtool(registry.render()) == []


def exported_names() -> set[str]:
    names = set()
    for family in parse(daemon_text()).values():
        names.add(family.name)
        if family.kind == "histogram":
            names |= {family.name + s for s in ("_bucket", "_sum", "_count")}
    return names


def test_the_grafana_dashboard_reads_only_exported_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [
        target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        if "expr" in target
    ]
    assert len(exprs) >= 10
    used = {name for expr in exprs for name in re.findall(r"\b(?:f2b|banjail)_[a-z_]+\b", expr)}
    assert used - exported_names() == set()
    assert {"f2b_jail_banned_current", "banjail_ban_latency_seconds_bucket", "f2b_up"} <= used


def test_the_fleet_counters_follow_the_format() -> None:
    from banjail.fleet.counters import FleetSnapshot

    snap = FleetSnapshot(7, 3, 5, 1, 1, (("malformed", 1), ("signature", 2)), 4, 1, "up", "down")
    text = "".join(f.text() for f in daemon_metrics.fleet_families(snap))
    families = parse(text)
    assert {lab["direction"]: v for _, lab, v in families["banjail_fleet_messages_total"].samples} == {
        "in": 7.0,
        "out": 3.0,
    }
    assert {lab["outcome"]: v for _, lab, v in families["banjail_fleet_entries_total"].samples} == {
        "applied": 5.0,
        "skipped": 1.0,
        "ignored": 1.0,
        "dropped_malformed": 1.0,
        "dropped_signature": 2.0,
    }
    assert families["banjail_fleet_link_up"].samples == [
        ("banjail_fleet_link_up", {"link": "publisher"}, 1.0),
        ("banjail_fleet_link_up", {"link": "subscriber"}, 0.0),
    ]
    assert promtool(text) == []
