"""The daemon's second pass: a batch's position, counted failures and bans are committed together before anything
of it is reported; counters survive a restart; persistent actions keep their bans over a shutdown."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from daemon_harness import START, Harness, RecordingAction, jail_config, run

from banjail.model import Position
from banjail.store.checkpoint import Checkpoint

IP = "192.0.2.7"


class PersistentAction(RecordingAction):
    persistent = True


def with_actions(h: Harness, *, persistent: bool) -> None:
    kind = PersistentAction if persistent else RecordingAction
    h.daemon.make_actions = lambda config: [kind("rec", h.recorder)]


@pytest.mark.parametrize(
    ("persistent", "how", "stopped"),
    [
        (False, "shutdown", True),
        (True, "shutdown", False),  # the kernel keeps the bans until the next start re-adds them
        (True, "stop jail", True),  # an explicit `fail2ban-client stop <jail>` still removes them
        (False, "stop jail", True),
    ],
)
def test_shutdown_stops_only_actions_whose_bans_die_with_the_daemon(
    tmp_path: Path, persistent: bool, how: str, stopped: bool
) -> None:
    async def scenario() -> list[str]:
        h = Harness(tmp_path, [jail_config()])
        with_actions(h, persistent=persistent)
        await h.daemon.start()
        h.source().feed(*[f"fail from {IP}"] * 3)
        await h.settle()
        if how == "shutdown":
            await h.daemon.stop()
        else:
            await h.controller.dispatch(["stop", "test"])
            await h.daemon.stop()
        return [c[1] for c in h.recorder.calls]

    assert run(scenario()) == ["start", "ban", "stop"] if stopped else ["start", "ban"]


def test_nothing_of_a_batch_is_reported_before_its_commit(tmp_path: Path) -> None:
    """The store's commit is held: no Found, no Ban, no action call until it returns; then all of it."""

    async def scenario() -> None:
        h = Harness(tmp_path, [jail_config()])
        h.capture_log()
        gate = asyncio.Event()
        write = h.daemon.store.commit
        seen: list[list[Checkpoint]] = []

        async def held(call: Any, checkpoints: list[Checkpoint]) -> None:
            await gate.wait()
            seen.append(list(checkpoints))
            await h.daemon.db(write, checkpoints)

        h.daemon.committer._run = held  # type: ignore[assignment]
        try:
            await h.daemon.start()
            h.source().feed(*[f"fail from {IP}"] * 3, "fail from 198.51.100.1")
            for _ in range(20):
                await asyncio.sleep(0)
            assert [m for m in h.messages() if "Found" in m or "Ban" in m] == []
            assert h.recorder.of("ban") == []
            gate.set()
            await h.settle()
            assert h.recorder.of("ban") == [(IP,)]
            (checkpoint,) = seen[0]
            assert checkpoint.positions == (("/log/test", Position(4 * 20 + 3, "hash")),)
            assert [(f.fid, f.count) for f in checkpoint.failures] == [("198.51.100.1", 1)]
            assert checkpoint.cleared == (IP,)
            assert [b.fid for b in checkpoint.bans] == [IP]
            await h.daemon.stop()
        finally:
            h.release_log()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(START))
        assert [m for m in h.messages() if "Found" in m or "Ban" in m] == [
            *[f"INFO    [test] Found {IP} - {stamp}"] * 3,
            f"INFO    [test] Found 198.51.100.1 - {stamp}",
            f"NOTICE  [test] Ban {IP}",
        ]

    run(scenario())


def test_counted_failures_survive_a_restart_and_complete_a_ban(tmp_path: Path) -> None:
    async def scenario() -> None:
        h = Harness(tmp_path, [jail_config()])
        await h.daemon.start()
        h.source().feed(*[f"fail from {IP}"] * 2)
        await h.settle()
        h2 = await h.restart()
        await h2.daemon.start()
        await h2.settle()
        assert h2.daemon.jails["test"].state.counter.retries(IP) == 2
        h2.source().feed(f"fail from {IP}")
        await h2.settle()
        assert h2.recorder.of("ban") == [(IP,)]
        # The ban took the stored failures with it: a third start counts nothing for IP.
        h3 = await h2.restart()
        await h3.daemon.start()
        await h3.settle()
        assert h3.daemon.jails["test"].state.counter.retries(IP) == 0
        await h3.daemon.stop()

    run(scenario())


def test_group_commit_shares_a_transaction_between_jails(tmp_path: Path) -> None:
    async def scenario() -> int:
        h = Harness(tmp_path, [jail_config("a"), jail_config("b")])
        await h.daemon.start()
        before = h.daemon.committer.transactions
        h.source("a").feed("fail from 192.0.2.1")
        h.source("b").feed("fail from 192.0.2.2")
        await h.settle()
        made = h.daemon.committer.transactions - before
        await h.daemon.stop()
        return made

    assert run(scenario()) == 1


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("nftables", True),
        ("nftables-multiport", True),
        ("nftables-allports", True),
        ("iptables-ipset", True),
        ("iptables-ipset-proto6-allports", True),
        ("iptables-multiport", False),  # plain rules have no timeout: a rule left behind would ban forever
        ("iptables", False),
        ("dummy", False),
        ("sendmail-whois", False),
    ],
)
def test_only_kernel_sets_with_timeouts_are_persistent(tmp_path: Path, name: str, expected: bool) -> None:
    from banjail.actions.base import persistent
    from banjail.actions.registry import build_action
    from banjail.config.load import load_action

    options = {"port": "ssh", "protocol": "tcp", "chain": "<known/chain>"}
    spec = load_action(name, config_dir=tmp_path, jail="sshd", jail_options=options)
    assert persistent(build_action(spec, jail="sshd")) is expected
    plain = load_action(name, config_dir=tmp_path, jail="sshd", jail_options=options, args={"native": ""})
    assert persistent(build_action(plain, jail="sshd")) is False  # run as commands: upstream's behaviour
