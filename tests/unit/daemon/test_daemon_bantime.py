"""`set <jail> bantime` on a running daemon (FakeClock, real store): the bans that follow the jail's bantime end
at the new time in the book, the store and the actions (`prolong`); a lowered bantime lifts them at the next
tick; a restart after a kill -9 keeps the moved ends, a clean one caps them as upstream (banjail.daemon.bantime,
banjail.daemon.restore)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from daemon_harness import START, Harness, RecordingAction, jail_config, run

from banjail.model import Ban

IP = "192.0.2.7"


class Prolonging(RecordingAction):
    """A recording action that also takes `prolong` (as the native nftables and ipset actions do), keeping each
    call's (fid, until)."""

    prolonged: list[list[tuple[str, float | None]]]

    async def prolong(self, bans: Sequence[Ban]) -> None:
        self.prolonged.append([(b.fid, b.until) for b in bans])

    async def unban(self, bans: Sequence[Ban]) -> None:
        await super().unban(bans)
        self.prolonged.append([("unban " + b.fid, b.until) for b in bans])


def harness(tmp: Path, **options: Any) -> tuple[Harness, list[list[tuple[str, float | None]]]]:
    h = Harness(tmp, [jail_config(**options)])
    calls: list[list[tuple[str, float | None]]] = []

    def actions(config: Any) -> list[Any]:
        action = Prolonging("rec", h.recorder)
        action.prolonged = calls
        return [action]

    h.daemon.make_actions = actions
    return h, calls


def rows(h: Harness, table: str) -> list[tuple[str, int, int]]:
    db = h.daemon.store._db  # type: ignore[attr-defined]
    return [tuple(r) for r in db.execute(f"SELECT ip, timeofban, bantime FROM {table} ORDER BY rowid")]


async def ask(h: Harness, *argv: str) -> object:
    reply = await h.controller.dispatch(list(argv))
    await h.settle()
    return reply


STEPS = [
    # (bantime set, seconds after the ban the clock is then, end in the book, prolong handed (end), unbanned)
    ("86400", 601, START + 86400, START + 86400, False),  # raised: the old end passes, the ban stays
    ("60", 100, START + 60, None, True),  # lowered below the time gone: lifted at once (upstream: at 600)
    ("300", 100, START + 300, START + 300, False),  # lowered, still ahead: the kernel timeout shortens
    ("-1", 10**7, None, None, False),  # permanent: the kernel element loses its timeout
]


@pytest.mark.parametrize(("bantime", "later", "end", "prolonged", "unbanned"), STEPS)
def test_set_bantime_moves_the_end(
    tmp_path: Path, bantime: str, later: float, end: float | None, prolonged: float | None, unbanned: bool
) -> None:
    async def scenario() -> None:
        h, calls = harness(tmp_path)
        await h.daemon.start()
        try:
            assert await ask(h, "set", "test", "banip", IP) == 1
            h.clock.advance(later)
            assert await ask(h, "set", "test", "bantime", bantime) == int(bantime)
            await h.daemon.tick(h.clock.now())
            await h.settle()
            ban = h.daemon.jails["test"].state.book.get(IP)
            assert (None if ban is None else ban.until) == (None if unbanned else end)
            assert h.recorder.of("unban") == ([(IP,)] if unbanned else [])
            # lifted at once: the unban carries the end the action holds (a native one deletes the element)
            assert calls == ([[("unban " + IP, START + 600)]] if unbanned else [[(IP, end)]])
            stored = int(bantime)
            assert rows(h, "bips") == [(IP, int(START), stored)]
            assert rows(h, "bans") == [(IP, int(START), stored)]
            assert prolonged == (None if end is None or unbanned else end)
        finally:
            await h.daemon.stop()

    run(scenario())


def test_set_bantime_from_permanent_ends_bans_in_the_past(tmp_path: Path) -> None:
    async def scenario() -> None:
        h, calls = harness(tmp_path, bantime=-1)
        await h.daemon.start()
        try:
            await ask(h, "set", "test", "banip", IP)
            h.clock.advance(1000)
            await ask(h, "set", "test", "bantime", "600")  # ended at START + 600: lifted now
            assert h.recorder.of("unban") == [(IP,)] and calls == [[("unban " + IP, None)]]
            assert rows(h, "bips") == [(IP, int(START), 600)]
        finally:
            await h.daemon.stop()

    run(scenario())


@pytest.mark.parametrize("increment", [True, False])
def test_own_lengths_stay(tmp_path: Path, increment: bool) -> None:
    """An incremented ban (increment: the second ban of .1) or a prolonged one (.2 banned again 2 s later) keeps
    its length; only a first ban follows. A prolongation hands the longer end to `prolong`."""

    async def scenario() -> None:
        h, calls = harness(tmp_path, bantime=100, bantime_increment=increment)
        await h.daemon.start()
        try:
            await ask(h, "set", "test", "banip", "192.0.2.1")
            h.clock.advance(101)
            await h.daemon.tick(h.clock.now())
            await h.settle()
            await ask(h, "set", "test", "banip", "192.0.2.1")  # with increment: 2 x 100, its own
            book = h.daemon.jails["test"].state.book
            if not increment:
                await ask(h, "set", "test", "banip", "192.0.2.2")
                h.clock.advance(2)
                await ask(h, "set", "test", "banip", "192.0.2.2")  # 100 + 2 s: its own (upstream: `+ 102`)
                assert calls[1:] == [[("192.0.2.2", START + 101 + 102)]]
            await ask(h, "set", "test", "bantime", "1000")
            expected = {"192.0.2.1": (START + 101 + 200, False)} if increment else {
                "192.0.2.1": (START + 101 + 1000, True),
                "192.0.2.2": (START + 101 + 102, False),
            }
            assert {b.fid: (b.until, b.follows) for b in book.banned()} == expected
            # without increment .1's second ban is a first one again: it follows, and its end moves
            expired = [("unban 192.0.2.1", START + 100)]  # the first ban of .1, at its end
            assert calls == [expired] + ([] if increment else [[("192.0.2.2", START + 203)], [("192.0.2.1", START + 1101)]])
        finally:
            await h.daemon.stop()

    run(scenario())


def test_a_ban_decided_before_the_change_is_stored_and_applied_with_the_new_end(tmp_path: Path) -> None:
    """The batch that decided a ban awaited (ignorecommand, a socket turn) while `set bantime` moved it: its row
    and its action get the moved end, not the one it was decided with."""

    async def scenario() -> None:
        h, _calls = harness(tmp_path)
        await h.daemon.start()
        try:
            jail = h.daemon.jails["test"]
            decided = jail.state.ban(IP, h.clock.now())
            assert jail.state.set_bantime(86400)[0].until == START + 86400  # before the batch is carried out
            await h.daemon.carry_out(jail, [decided], h.clock.now())
            await h.settle()
            assert rows(h, "bips") == [(IP, int(START), 86400)]
            assert jail.applied[IP].until == START + 86400
        finally:
            await h.daemon.stop()

    run(scenario())


@pytest.mark.parametrize(("killed", "end"), [(True, START + 86400), (False, START + 600)])
def test_restart_keeps_the_raised_end_after_a_kill_and_caps_it_after_a_stop(
    tmp_path: Path, killed: bool, end: float
) -> None:
    """After a kill -9 the moved end comes back (upstream: the bantime stored at ban time, capped); after a
    clean stop the configured bantime caps it again, as upstream (`set` lasts until the server stops)."""

    async def scenario() -> None:
        h, _ = harness(tmp_path)
        await h.daemon.start()
        await ask(h, "set", "test", "bantime", "86400")
        await ask(h, "set", "test", "banip", IP)
        if not killed:
            await h.daemon.stop()
        # killed: the first daemon never stops (its store still says it is running): the next start is unclean
        h.clock.advance(700)
        again, _ = harness(tmp_path)
        await again.daemon.start()
        try:
            assert again.daemon.unclean is killed
            ban = again.daemon.jails["test"].state.book.get(IP)
            assert ban is not None and (ban.until, ban.follows, ban.restored) == (end, False, True)
        finally:
            await again.daemon.stop()
            if killed:
                await h.daemon.stop()

    run(scenario())


def test_reload_with_another_bantime_moves_the_followers(tmp_path: Path) -> None:
    async def scenario() -> None:
        h, calls = harness(tmp_path)
        await h.daemon.start()
        try:
            await ask(h, "set", "test", "banip", IP)
            jails = tuple(dataclasses.replace(j, bantime=7200) for j in h.config.jails)
            h.next_config = dataclasses.replace(h.config, jails=jails)
            assert await ask(h, "reload") == "OK"
            assert calls == [[(IP, START + 7200)]]
            assert rows(h, "bips") == [(IP, int(START), 7200)]
        finally:
            await h.daemon.stop()

    run(scenario())
