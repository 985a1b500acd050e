"""The daemon's pipeline in process: lines -> failures -> ban committed -> logged -> actions; unban at the end;
restore at start before any line; positions written ahead of counting."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from daemon_harness import START, Harness, jail_config, run

from banjail.filter import engine as engines
from banjail.filter.program import compile_program
from banjail.model import FilterSpec, Position

IP = "192.0.2.7"
# the engine the jail's filter runs on here (native when the extension is built)
ENGINE = engines.describe(*engines.choose(compile_program(jail_config().filter, check_all=False, live=True)))


def test_failures_ban_then_unban_after_bantime(tmp_path: Path) -> None:
    async def scenario() -> None:
        h = Harness(tmp_path, [jail_config()])
        h.capture_log()
        try:
            await h.daemon.start()
            h.source().feed(*[f"fail from {IP}"] * 3)
            await h.settle()
            assert h.recorder.of("ban") == [(IP,)]
            stored = h.daemon.store.active_bans(h.clock.now(), "test")
            assert [(b.fid, b.until) for b in stored] == [(IP, START + 600)]
            h.clock.advance(601)
            await h.daemon.tick(h.clock.now())
            await h.settle()
            assert h.recorder.of("unban") == [(IP,)]
            # Expiry keeps the ban in the store's history (bantime.increment), it is just no longer active.
            assert h.daemon.store.active_bans(h.clock.now(), "test") == []
            await h.daemon.stop()
        finally:
            h.release_log()
        assert h.messages() == [
            "INFO    " + "-" * 50,
            "INFO    Starting Fail2ban v1.0.2",
            "INFO    Creating new jail 'test'",
            f"INFO    Jail 'test' uses matching engine {ENGINE}",
            "INFO    Jail 'test' started",
            f"INFO    [test] Found {IP} - {_local(START)}",
            f"INFO    [test] Found {IP} - {_local(START)}",
            f"INFO    [test] Found {IP} - {_local(START)}",
            f"NOTICE  [test] Ban {IP}",
            f"NOTICE  [test] Unban {IP}",
            "INFO    Shutdown in progress...",
            "INFO    Stopping all jails",
            "INFO    Jail 'test' stopped",
            "INFO    Exiting Fail2ban",
        ]
        assert [c[1] for c in h.recorder.calls] == ["start", "ban", "unban", "stop"]

    run(scenario())


def test_log_line_layout_is_upstreams(tmp_path: Path) -> None:
    async def scenario() -> str:
        h = Harness(tmp_path, [jail_config()])
        h.capture_log()
        try:
            await h.daemon.start()
            await h.controller.dispatch(["set", "test", "banip", IP])
            await h.settle()
            await h.daemon.stop()
        finally:
            h.release_log()
        return next(line for line in h.log.getvalue().splitlines() if " Ban " in line)

    line = run(scenario())
    # `2026-11-25 08:44:15,123 fail2ban.actions        [1234]: NOTICE  [sshd] Ban 192.0.2.7`
    stamp, rest = line[:23], line[24:]
    assert stamp[4] == "-" and stamp[10] == " " and stamp[19] == ","
    assert rest.startswith("fail2ban.actions        [")
    assert rest.endswith(f"]: NOTICE  [test] Ban {IP}")


def test_attempt_logs_upstreams_attempt_line_and_skips_ignoreip(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[object], list[str]]:
        h = Harness(tmp_path, [jail_config(ignoreip=(IP,))])
        h.capture_log()
        try:
            await h.daemon.start()
            replies = [
                await h.controller.dispatch(["set", "test", "attempt", IP]),
                await h.controller.dispatch(["set", "test", "attempt", IP, "line one", "line two"]),
            ]
            await h.settle()
            await h.daemon.stop()
        finally:
            h.release_log()
        return replies, [m for m in h.messages() if "[test]" in m]

    replies, lines = run(scenario())
    assert replies == [1, 1]
    assert lines == [
        f"INFO    [test] Attempt {IP} - {_local(START)}",
        f"INFO    [test] Attempt {IP} - {_local(START)}",
        f"NOTICE  [test] Ban {IP}",
    ]


def test_restart_restores_bans_before_reading(tmp_path: Path) -> None:
    async def scenario() -> None:
        h = Harness(tmp_path, [jail_config()])
        h.capture_log()
        try:
            await h.daemon.start()
            h.source().feed(*[f"fail from {IP}"] * 3, "fail from 198.51.100.1")
            await h.settle()
            h2 = await h.restart()
            await h2.daemon.start()
            await h2.settle()
            # The restored ban reached the actions before the new source existed... and was not decided again.
            assert h2.recorder.calls[-2:] == [("rec", "start", (), ()), ("rec", "ban", (IP,), (True,))]
            # The failure of 198.51.100.1 is still counted (the counters survive a restart).
            status = await h2.controller.dispatch(["status", "test"])
            assert status == [
                ("Filter", [("Currently failed", 1), ("Total failed", 0), ("File list", ["/log/test"])]),
                ("Actions", [("Currently banned", 1), ("Total banned", 1), ("Banned IP list", [IP])]),
            ]
            assert h2.daemon.jails["test"].state.counter.retries("198.51.100.1") == 1
            # The source resumes at the position committed with the last batch.
            assert h2.source().saved == Position(offset=4 * 20 + 3, first_line_hash="hash")
            await h2.daemon.stop()
        finally:
            h.release_log()
        assert f"NOTICE  [test] Restore Ban {IP}" in h.messages()

    run(scenario())


def test_restore_skips_expired_and_now_ignored(tmp_path: Path) -> None:
    async def scenario() -> None:
        h = Harness(tmp_path, [jail_config()])
        await h.daemon.start()
        await h.controller.dispatch(["set", "test", "banip", "192.0.2.1", "192.0.2.2"])
        await h.daemon.stop()
        h.clock.advance(300)
        ignoring = jail_config(ignoreip=("192.0.2.2",))
        h2 = Harness(tmp_path, [ignoring], clock=h.clock)
        h2.capture_log()
        try:
            await h2.daemon.start()
            await h2.settle()
            assert await h2.controller.dispatch(["get", "test", "banip"]) == ["192.0.2.1"]
            await h2.daemon.stop()
        finally:
            h2.release_log()
        assert "INFO    [test] Ignore 192.0.2.2 by ip" in h2.messages()
        h.clock.advance(400)  # past the ban end
        h3 = Harness(tmp_path, [jail_config()], clock=h.clock)
        await h3.daemon.start()
        await h3.settle()
        assert await h3.controller.dispatch(["get", "test", "banip"]) == []
        assert h3.recorder.of("ban") == []
        await h3.daemon.stop()

    run(scenario())


@pytest.mark.parametrize("enabled", [True, False])
def test_restore_leaves_the_collector_as_it_found_it(tmp_path: Path, enabled: bool) -> None:
    # The restore pauses the cyclic collector (speed); it must come back on, and stay off if it was off.
    async def scenario() -> None:
        h = Harness(tmp_path, [jail_config()])
        await h.daemon.start()
        await h.controller.dispatch(["set", "test", "banip", "192.0.2.1"])
        await h.daemon.stop()
        h2 = Harness(tmp_path, [jail_config()], clock=h.clock)
        (gc.enable if enabled else gc.disable)()
        try:
            await h2.daemon.start()
            await h2.settle()
            assert (gc.isenabled(), [fid for fids in h2.recorder.of("ban") for fid in fids]) == (
                enabled,
                ["192.0.2.1"],
            )
            await h2.daemon.stop()
        finally:
            gc.enable()

    run(scenario())


def test_ban_is_committed_before_the_actions_see_it(tmp_path: Path) -> None:
    seen: list[list[str]] = []

    async def scenario() -> None:
        h = Harness(tmp_path, [jail_config()])
        await h.daemon.start()
        jail = h.daemon.jails["test"]
        action = next(iter(jail.actions.values()))
        original = action.ban

        async def checking_ban(bans: object) -> None:
            seen.append([b.fid for b in h.daemon.store.active_bans(h.clock.now(), "test")])
            await original(bans)  # type: ignore[arg-type]

        action.ban = checking_ban  # type: ignore[method-assign]
        h.source().feed(*[f"fail from {IP}"] * 3)
        await h.settle()
        await h.daemon.stop()

    run(scenario())
    assert seen == [[IP]]


def test_ignorecommand_decides(tmp_path: Path) -> None:
    async def scenario() -> list[tuple[str, ...]]:
        config = jail_config(ignorecommand="test <ip> = 192.0.2.9")
        h = Harness(tmp_path, [config])
        await h.daemon.start()
        h.source().feed(*["fail from 192.0.2.9"] * 3, *["fail from 192.0.2.8"] * 3)
        for _ in range(50):
            await h.settle()
            if h.recorder.of("ban"):
                break
        await h.daemon.stop()
        return h.recorder.of("ban")

    assert run(scenario()) == [("192.0.2.8",)]


def test_reload_keeps_bans_and_applies_new_options(tmp_path: Path) -> None:
    async def scenario() -> None:
        h = Harness(tmp_path, [jail_config()])
        await h.daemon.start()
        await h.controller.dispatch(["set", "test", "banip", IP])
        h.next_config = h.config.__class__(
            server=h.config.server, jails=(jail_config(maxretry=7), jail_config("other"))
        )
        assert await h.controller.dispatch(["reload"]) == "OK"
        await h.settle()
        assert await h.controller.dispatch(["get", "test", "banip"]) == [IP]
        assert await h.controller.dispatch(["get", "test", "maxretry"]) == 7
        assert await h.controller.dispatch(["status"]) == [
            ("Number of jail", 2),
            ("Jail list", "other, test"),
        ]
        assert h.recorder.of("ban") == [(IP,)]  # the ban was not applied twice
        h.next_config = h.config.__class__(server=h.config.server, jails=(jail_config("other"),))
        await h.controller.dispatch(["reload", "--all", [], []])  # upstream client's form
        assert await h.controller.dispatch(["status"]) == [("Number of jail", 1), ("Jail list", "other")]
        await h.daemon.stop()

    run(scenario())


def test_reload_restart_brings_bans_back_from_the_store(tmp_path: Path) -> None:
    async def scenario() -> None:
        h = Harness(tmp_path, [jail_config()])
        await h.daemon.start()
        await h.controller.dispatch(["set", "test", "banip", IP])
        await h.controller.dispatch(["reload", "--restart", "test"])
        await h.settle()
        assert await h.controller.dispatch(["get", "test", "banip"]) == [IP]
        assert [c[1:] for c in h.recorder.calls] == [
            ("start", (), ()),
            ("ban", (IP,), (False,)),
            ("stop", (), ()),
            ("start", (), ()),
            ("ban", (IP,), (True,)),
        ]
        await h.controller.dispatch(["reload", "--unban", "test"])
        assert await h.controller.dispatch(["get", "test", "banip"]) == []
        await h.daemon.stop()

    run(scenario())


def _local(when: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))


def test_catch_up_keeps_dates_and_drops_lines_older_than_findtime(tmp_path: Path) -> None:
    import time

    def stamp(when: float) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))

    backlog = [f"{stamp(START - 3600)} fail from 192.0.2.1", f"{stamp(START - 100)} fail from 192.0.2.2"]
    log = tmp_path / "auth.log"
    log.write_text("".join(line + "\n" for line in backlog))

    async def scenario() -> list[str]:
        dated = FilterSpec(failregex=(r"fail from <HOST>$",))  # unanchored: the date precedes the message
        h = Harness(tmp_path, [jail_config(logpath=(str(log),), filter=dated)])
        h.capture_log()
        try:
            await h.daemon.start()
            source = h.source(path=str(log))
            source.feed(*backlog)
            await h.settle()
            source.feed(f"{stamp(START - 3600)} fail from 192.0.2.3")  # written after the start: in operation
            await h.settle()
            await h.daemon.stop()
        finally:
            h.release_log()
        return [m for m in h.messages() if "Found" in m]

    assert run(scenario()) == [
        f"INFO    [test] Found 192.0.2.2 - {stamp(START - 100)}",
        f"INFO    [test] Found 192.0.2.3 - {stamp(START)}",
    ]
