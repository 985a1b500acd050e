"""The ignore rules' memo of answers (banjail.core.ignore) never outlives a change made through the daemon: an
address counted before `set <jail> addignoreip` / `delignoreip` / `reload` is judged by the new rules after."""

from __future__ import annotations

from pathlib import Path

import pytest
from daemon_harness import Harness, jail_config, run

A = "192.0.2.77"
OTHER = "192.0.2.250"  # keeps the rules non-empty, so the memo is used from the first failure on


async def _failures_then(
    h: Harness, change: list[str] | None, reload_ignoreip: tuple[str, ...] | None
) -> list[str]:
    await h.daemon.start()
    h.capture_log()
    h.source().feed(f"fail from {A}")
    await h.settle()
    if change is not None:
        await h.controller.dispatch(["set", "test", *change])
    if reload_ignoreip is not None:
        h.next_config = h.config.__class__(server=h.config.server,
                                           jails=(jail_config(ignoreip=reload_ignoreip, maxretry=10),))  # fmt: skip
        assert await h.controller.dispatch(["reload"]) == "OK"
        await h.settle()
    h.source().feed(f"fail from {A}")
    await h.settle()
    await h.daemon.stop()
    h.release_log()
    return [m for m in h.messages() if A in m and ("Found" in m or "Ignore" in m)]


CASES = [
    ("addignoreip", (OTHER,), ["addignoreip", A], None, "Ignore"),
    ("addignoreip network", (OTHER,), ["addignoreip", "192.0.2.0/24"], None, "Ignore"),
    ("delignoreip", (OTHER, A), ["delignoreip", A], None, "Found"),
    ("reload", (OTHER,), None, (OTHER, A), "Ignore"),
]


@pytest.mark.parametrize(
    ("label", "ignoreip", "change", "reloaded", "second"), CASES, ids=[c[0] for c in CASES]
)
def test_a_rule_change_applies_to_an_address_seen_before(
    tmp_path: Path, label: str, ignoreip: tuple[str, ...], change: list[str] | None,
    reloaded: tuple[str, ...] | None, second: str,
) -> None:  # fmt: skip
    h = Harness(tmp_path, [jail_config(ignoreip=ignoreip, maxretry=10)])
    lines = run(_failures_then(h, change, reloaded))
    first = f"INFO    [test] Ignore {A} by ip" if A in ignoreip else f"INFO    [test] Found {A}"
    assert [line.split(" - ")[0] for line in lines] == [
        first,
        f"INFO    [test] {second} {A}" + (" by ip" if second == "Ignore" else ""),
    ]
