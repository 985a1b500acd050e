"""HostResolver: cached answers (positive and negative, each with its TTL), a bound on the wait, one lookup per
name in flight. The lookup function is a fake that records calls and can be held; the clock is a fake."""

from __future__ import annotations

import threading

from banjail.daemon.dns import HostResolver


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_answers_are_cached_with_their_ttl() -> None:
    calls: list[str] = []
    answers = {"good.test": ("192.0.2.1", "2001:db8::1")}

    def lookup(name: str) -> tuple[str, ...]:
        calls.append(name)
        return answers.get(name, ())

    clock = Clock()
    resolver = HostResolver(lookup, timeout=5, positive_ttl=300, negative_ttl=60, clock=clock)
    steps = [
        (0, "good.test", ("192.0.2.1", "2001:db8::1")),
        (0, "bad.test", ()),
        (59, "bad.test", ()),  # negative answer still cached
        (61, "bad.test", ()),  # expired: asked again
        (299, "good.test", ("192.0.2.1", "2001:db8::1")),
        (301, "good.test", ("192.0.2.1", "2001:db8::1")),  # expired: asked again
    ]
    for at, name, expected in steps:
        clock.now = at
        assert resolver(name) == expected
    assert calls == ["good.test", "bad.test", "bad.test", "good.test"]
    resolver.close()


def test_a_lookup_that_hangs_is_given_up_on_and_asked_once() -> None:
    release = threading.Event()
    calls: list[str] = []

    def lookup(name: str) -> tuple[str, ...]:
        calls.append(name)
        release.wait(10)
        return ("192.0.2.9",)

    clock = Clock()
    resolver = HostResolver(lookup, timeout=0.05, negative_ttl=60, clock=clock)
    assert [resolver("slow.test") for _ in range(3)] == [(), (), ()]
    assert (calls, resolver.timeouts) == (["slow.test"], 1)  # cached as unresolved after the first wait
    release.set()  # the late answer replaces the negative entry
    for _ in range(200):
        if resolver("slow.test"):
            break
        threading.Event().wait(0.01)
    assert resolver("slow.test") == ("192.0.2.9",)
    assert calls == ["slow.test"]
    resolver.close()


def test_the_cache_stays_bounded() -> None:
    resolver = HostResolver(lambda name: ("192.0.2.1",), max_names=8, clock=Clock())
    for n in range(100):
        resolver(f"h{n}.test")
    assert len(resolver._cache) <= 8
    resolver.close()
