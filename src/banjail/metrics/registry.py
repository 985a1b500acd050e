"""Metric families (counter, gauge, histogram) with labelled children, and the registry that renders them.

A family is what one `# HELP`/`# TYPE` pair describes; its children are its samples, one per label-value tuple.
Scrape-time values (a jail's current bans) come from collectors: callables the registry calls at each render,
returning families built for that render (`Family.snapshot`). Rendering follows the text exposition format 0.0.4
(banjail.metrics.exposition).
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable, Iterable, Sequence

from banjail.metrics.exposition import family_text

COUNTER, GAUGE, HISTOGRAM = "counter", "gauge", "histogram"
# Seconds: from a millisecond (a batched nft transaction) to half a minute (a command action timing out).
DEFAULT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class Value:
    """The child of a counter or gauge: one float. `inc` on a counter must be given amount >= 0."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def dec(self, amount: float = 1.0) -> None:
        self.value -= amount

    def set(self, value: float) -> None:
        self.value = float(value)


class Buckets:
    """The child of a histogram: per-bucket counts (not cumulative; rendering sums them), sum and count."""

    __slots__ = ("bounds", "count", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float, times: int = 1) -> None:
        """Record `value` `times` times (a batch of bans applied together shares one latency)."""
        self.counts[bisect.bisect_left(self.bounds, value)] += times
        self.sum += value * times
        self.count += times


Child = Value | Buckets


class Family:
    """One metric family: name, help, type, label names, and its children by label values."""

    def __init__(
        self,
        name: str,
        help: str,
        kind: str,
        labels: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        if not _NAME.match(name):
            raise ValueError(f"bad metric name {name!r}")
        bad = [label for label in labels if not _LABEL.match(label) or label.startswith("__")]
        if bad or (kind == HISTOGRAM and "le" in labels):
            raise ValueError(f"bad label name(s) {bad or ['le']} for {name}")
        if kind not in (COUNTER, GAUGE, HISTOGRAM):
            raise ValueError(f"bad metric type {kind!r}")
        bounds = tuple(sorted(float(b) for b in buckets if not math.isinf(b)))
        self.name = name
        self.help = help
        self.kind = kind
        self.label_names = tuple(labels)
        self.bounds = bounds
        self.children: dict[tuple[str, ...], Child] = {}

    def labels(self, *values: str) -> Child:
        """The child for these label values (created at 0 on first use)."""
        if len(values) != len(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}, given {values}")
        # the daemon passes strings, several times per ban: look them up as given, converting only on a miss
        # (a non-str value never equals its str key, so it takes the miss path and finds the converted key)
        child = self.children.get(values)
        if child is not None:
            return child
        key = tuple(str(v) for v in values)
        child = self.children.get(key)
        if child is None:
            child = self.children[key] = Buckets(self.bounds) if self.kind == HISTOGRAM else Value()
        return child

    def value(self, *values: str) -> Value:
        """The child of a counter or gauge (typed for callers that inc/set it)."""
        child = self.labels(*values)
        assert isinstance(child, Value), f"{self.name} is a histogram"
        return child

    def histogram(self, *values: str) -> Buckets:
        """The child of a histogram."""
        child = self.labels(*values)
        assert isinstance(child, Buckets), f"{self.name} is not a histogram"
        return child

    @classmethod
    def snapshot(
        cls,
        name: str,
        help: str,
        kind: str,
        labels: Sequence[str],
        samples: Iterable[tuple[Sequence[str], float]],
    ) -> Family:
        """A counter or gauge family built for one render, from (label values, value) pairs."""
        family = cls(name, help, kind, labels)
        for values, number in samples:
            family.value(*values).set(number)
        return family

    def text(self) -> str:
        return family_text(self)


Collector = Callable[[], Iterable[Family]]


class Registry:
    """Named families plus scrape-time collectors; `render` gives the whole exposition text."""

    def __init__(self) -> None:
        self._families: dict[str, Family] = {}
        self._collectors: list[Collector] = []

    def _family(
        self, name: str, help: str, kind: str, labels: Sequence[str], buckets: Sequence[float]
    ) -> Family:
        found = self._families.get(name)
        if found is not None:
            if found.kind != kind or found.label_names != tuple(labels):
                raise ValueError(f"metric {name} exists as a {found.kind} with labels {found.label_names}")
            return found
        family = self._families[name] = Family(name, help, kind, labels, buckets)
        return family

    def counter(self, name: str, help: str, labels: Sequence[str] = ()) -> Family:
        return self._family(name, help, COUNTER, labels, DEFAULT_BUCKETS)

    def gauge(self, name: str, help: str, labels: Sequence[str] = ()) -> Family:
        return self._family(name, help, GAUGE, labels, DEFAULT_BUCKETS)

    def histogram(
        self, name: str, help: str, labels: Sequence[str] = (), buckets: Sequence[float] = DEFAULT_BUCKETS
    ) -> Family:
        return self._family(name, help, HISTOGRAM, labels, buckets)

    def add_collector(self, collector: Collector) -> None:
        self._collectors.append(collector)

    def remove_collector(self, collector: Collector) -> None:
        if collector in self._collectors:
            self._collectors.remove(collector)

    def families(self) -> list[Family]:
        """Every family: the collectors' first (in their order), then the registered ones by name. A collected
        family hides a registered one of the same name (a name appears once in the text)."""
        collected: list[Family] = []
        for collector in list(self._collectors):
            collected.extend(collector())
        seen = {f.name for f in collected}
        return collected + [self._families[n] for n in sorted(self._families) if n not in seen]

    def render(self) -> str:
        """The exposition text of every family (each family's lines together; the text ends with a newline)."""
        return "".join(f.text() for f in self.families())
