"""CommandAction: upstream's action.d lifecycle, failure handling, timeouts and concurrency, with real /bin/sh."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from banjail.actions.command import CommandAction
from banjail.actions.runner import Runner
from banjail.config.load import load_action
from banjail.errors import ActionError
from banjail.model import Ban

V4 = Ban("sshd", "192.0.2.1", "192.0.2.1", 1000.0, 1600.0, 1, 5, ("l1",), (("user", "bob"),))
V4B = Ban("sshd", "192.0.2.2", "192.0.2.2", 1000.0, 1600.0, 1, 5)
V6 = Ban("sshd", "2001:db8::1", "2001:db8::1", 1000.0, None, 1, 5)


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def make(tmp_path: Path, body: str, spec: str = "test", **kw: Any) -> tuple[CommandAction, Path]:
    """An action file in tmp_path/action.d whose commands append to tmp_path/log (`<log>`)."""
    (tmp_path / "action.d").mkdir(exist_ok=True)
    (tmp_path / "action.d" / "test.conf").write_text(body)
    log = tmp_path / "log"
    loaded = load_action(spec, config_dir=tmp_path, jail="sshd", args={"log": str(log), "dir": str(tmp_path)})
    return CommandAction(loaded, jail="sshd", **kw), log


def lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


PLAIN = """[Definition]
actionstart = echo start >> <log>
actionstop = echo stop >> <log>
actioncheck =
actionban = echo "ban <ip> <family> f=<failures> t=<bantime> c=<bancount> u=<F-USER> r=<restored>" >> <log>
actionunban = echo "unban <ip>" >> <log>
actionflush = echo flush >> <log>
actionreload = echo reload >> <log>
"""


def test_plain_lifecycle(tmp_path: Path) -> None:
    action, log = make(tmp_path, PLAIN)

    async def scenario() -> None:
        await action.start()
        await action.ban([V4, V6])
        await action.unban([V4])
        await action.reload()
        await action.flush()
        await action.stop()

    run(scenario())
    assert lines(log) == [
        "start",
        "ban 192.0.2.1 inet4 f=5 t=600 c=1 u=bob r=0",
        "ban 2001:db8::1 inet6 f=5 t=-1 c=1 u= r=0",
        "unban 192.0.2.1",
        "reload",
        "flush",
        "stop",
    ]
    assert action.name == "test"


FAMILIES = """[Definition]
actionstart = echo "start <set> <family>" >> <log>
actionstop = echo "stop <set>" >> <log>
actionstop_same = x
actionban = echo "ban <ip> into <set>" >> <log>
actionunban = echo "unban <ip> from <set>" >> <log>
actionflush = echo "flush <set>" >> <log>
[Init]
set = v4set
[Init?family=inet6]
set = v6set
"""


def test_families_start_on_demand_and_each_runs_its_own_commands(tmp_path: Path) -> None:
    action, log = make(tmp_path, FAMILIES)
    assert action.on_demand

    async def scenario() -> None:
        await action.start()  # on demand: nothing yet
        await action.ban([V4])
        await action.ban([V4B])
        await action.ban([V6])
        await action.unban([V6])
        await action.flush()
        await action.stop()

    run(scenario())
    assert lines(log) == [
        "start v4set inet4",
        "ban 192.0.2.1 into v4set",
        "ban 192.0.2.2 into v4set",
        "start v6set inet6",
        "ban 2001:db8::1 into v6set",
        "unban 2001:db8::1 from v6set",
        "flush v4set",  # as upstream: a family that ever held bans is flushed
        "flush v6set",
        "stop v4set",
        "stop v6set",
    ]


def test_start_not_on_demand_starts_both_families_and_runs_identical_commands_once(tmp_path: Path) -> None:
    body = FAMILIES.replace('echo "stop <set>"', "echo stop").replace(
        "[Init]", "[Init]\nactionstart_on_demand = false"
    )
    action, log = make(tmp_path, body)

    async def scenario() -> None:
        await action.start()
        await action.ban([V6])
        await action.stop()

    run(scenario())
    assert lines(log) == ["start v4set inet4", "start v6set inet6", "ban 2001:db8::1 into v6set", "stop"]


# actionban fails while <dir>/broken exists; actioncheck fails likewise; repair removes it.
REPAIRABLE = """[Definition]
actionstart = echo start >> <log>
actionstop = echo stop >> <log>
actioncheck = echo check >> <log>; test ! -e <dir>/broken
actionrepair = echo repair >> <log>; rm -f <dir>/broken
actionban = echo "ban <ip>" >> <log>; test ! -e <dir>/broken
actionunban = echo "unban <ip>" >> <log>; test ! -e <dir>/broken
"""


def test_failed_ban_checks_repairs_and_retries_once(tmp_path: Path) -> None:
    action, log = make(tmp_path, REPAIRABLE)
    (tmp_path / "broken").touch()

    async def scenario() -> None:
        await action.start()
        await action.ban([V4])

    run(scenario())
    assert lines(log) == ["start", "ban 192.0.2.1", "check", "repair", "check", "ban 192.0.2.1"]
    assert action.epoch == 1
    assert action.failed == ()


def test_without_repair_the_action_restarts(tmp_path: Path) -> None:
    action, log = make(
        tmp_path, REPAIRABLE.replace("actionrepair = echo repair >> <log>; ", "actionrepair =\n#")
    )
    (tmp_path / "broken").touch()

    async def scenario() -> None:
        await action.start()
        (tmp_path / "broken").unlink()
        (tmp_path / "broken").touch()
        await action.ban([V4])

    # start does not repair anything: the check still fails after the restart, so the ban fails
    with pytest.raises(ActionError) as caught:
        run(scenario())
    assert lines(log) == ["start", "ban 192.0.2.1", "check", "stop", "start", "check"]
    assert "[sshd] action test: error banning 192.0.2.1: exit status 1; command: " in str(caught.value)


def test_unban_does_not_repair(tmp_path: Path) -> None:
    action, log = make(tmp_path, REPAIRABLE)

    async def scenario() -> None:
        await action.ban([V4])
        (tmp_path / "broken").touch()
        await action.unban([V4])

    with pytest.raises(ActionError, match=r"error unbanning 192\.0\.2\.1: exit status 1"):
        run(scenario())
    assert lines(log) == ["ban 192.0.2.1", "unban 192.0.2.1", "check"]


def test_failed_ban_is_kept_and_retried_before_the_next_operation(tmp_path: Path) -> None:
    body = """[Definition]
actionban = echo "ban <ip>" >> <log>; test ! -e <dir>/down
actionunban = echo "unban <ip>" >> <log>
"""
    action, log = make(tmp_path, body)
    (tmp_path / "down").touch()
    with pytest.raises(ActionError, match=r"error banning 192\.0\.2\.1: exit status 1"):
        run(action.ban([V4]))
    assert list(action.failed) == [V4]
    assert lines(log) == ["ban 192.0.2.1", "ban 192.0.2.1"]  # no actioncheck: retried once at once
    (tmp_path / "down").unlink()
    run(action.ban([V4B]))
    assert list(action.failed) == []
    assert lines(log)[2:] == ["ban 192.0.2.1", "ban 192.0.2.2"]


def test_unban_of_a_ban_that_never_applied_runs_nothing(tmp_path: Path) -> None:
    body = '[Definition]\nactionban = false\nactionunban = echo "unban <ip>" >> <log>\n'
    action, log = make(tmp_path, body)
    with pytest.raises(ActionError):
        run(action.ban([V4]))
    run(action.unban([V4]))
    assert lines(log) == []
    assert action.failed == ()


def test_norestored_skips_restored_bans(tmp_path: Path) -> None:
    action, log = make(tmp_path, PLAIN + "norestored = 1\n")
    restored = Ban("sshd", "192.0.2.9", "192.0.2.9", 1.0, 2.0, 1, 1, restored=True)
    run(action.ban([restored, V4]))
    assert lines(log) == ["ban 192.0.2.1 inet4 f=5 t=600 c=1 u=bob r=0"]
    (tmp_path / "x").mkdir()
    plain, log2 = make(tmp_path / "x", PLAIN)
    run(plain.ban([restored]))
    assert lines(log2)[-1] == "ban 192.0.2.9 inet4 f=1 t=1 c=1 u= r=1"


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    body = """[Definition]
actionban = sh -c 'echo $$ > <dir>/child; exec sleep 30' & sleep 30
[Init]
timeout = 1
"""
    action, _ = make(tmp_path, body)
    began = time.monotonic()
    with pytest.raises(ActionError, match=r"timed out after 1(\.\d+)? s \(process group killed\)"):
        run(action.ban([V4]))
    # two attempts of 1 s plus the grace periods, where without the timeout each would wait for its sleep 30
    assert time.monotonic() - began < 30
    child = int((tmp_path / "child").read_text())
    stat = Path(f"/proc/{child}/stat")

    def ended() -> bool:
        # gone, or a zombie waiting for a PID 1 that does not reap: either way it no longer runs
        try:
            return stat.read_text().split(") ", 1)[1][0] == "Z"
        except FileNotFoundError:
            return True

    deadline = time.monotonic() + 10  # SIGKILL is delivered at once, but a loaded machine runs the exit late
    while not ended() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ended()


def test_injection_through_the_action(tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    body = """[Definition]
actionban = printf '%%s|%%s|%%s\\n' "<F-USER>" '<matches>' <fid> >> <log>
"""
    action, log = make(tmp_path, body)
    user = f"x$(touch {pwned})`touch {pwned}`;touch {pwned}|'\""
    lines_ = (f"Failed password for {user} from 192.0.2.1", "second; line")
    ban = Ban("sshd", user, None, 1.0, 2.0, 1, 2, lines_, (("user", user),))
    run(action.ban([ban]))
    assert not pwned.exists()
    assert log.read_text() == f"{user}|{lines_[0]}\n{lines_[1]}|{user}\n"


def test_actions_of_different_jails_run_concurrently_one_action_serialises(tmp_path: Path) -> None:
    body = "[Definition]\nactionban = sleep 0.6\n"
    first, _ = make(tmp_path, body)
    second, _ = make(tmp_path, body)

    async def timed(*coros: Coroutine[Any, Any, None]) -> float:
        began = time.monotonic()
        await asyncio.gather(*coros)
        return time.monotonic() - began

    assert run(timed(first.ban([V4]), second.ban([V4]))) < 1.1
    assert run(timed(first.ban([V4]), first.ban([V4B]))) >= 1.2


def test_properties_and_argv_prefix(tmp_path: Path) -> None:
    action, log = make(tmp_path, PLAIN, runner=Runner(prefix=("env", "EXTRA=1")))
    assert action.properties()["actionunban"] == f'echo "unban <ip>" >> {log}'
    assert action.properties()["timeout"] == "60"
    action.set_property("actionunban", 'echo "gone <ip> $EXTRA" >> ' + str(log))
    run(action.unban([V4]))  # nothing banned yet in this family: nothing to run
    run(action.ban([V4]))
    run(action.unban([V4]))
    assert lines(log)[-1] == "gone 192.0.2.1 1"


EXTRAS = """[Definition]
actionstart = echo start >> <log>
actionstop = echo stop >> <log>
actioncheck = echo check >> <log>; test ! -e <dir>/broken
actionrepair = echo repair >> <log>; rm -f <dir>/broken
actionban = echo "ban <ip>" >> <log>
actionreban = echo "reban <ip>" >> <log>
actionprolong = echo "prolong <ip> <bantime>" >> <log>
actionunban = echo "unban <ip>" >> <log>
actionreload = echo reload >> <log>
"""


def test_reban_prolong_reload_and_consistency_check(tmp_path: Path) -> None:
    action, log = make(tmp_path, EXTRAS)

    async def scenario() -> list[bool]:
        await action.start()
        await action.ban([V4])
        await action.prolong([Ban("sshd", "192.0.2.1", "192.0.2.1", 1000.0, 4600.0, 2, 5)])
        await action.reload()
        healthy = await action.consistency_check()
        (tmp_path / "broken").touch()
        repaired = await action.consistency_check()
        await action.reban([V4])
        return [healthy, repaired]

    assert run(scenario()) == [True, True]
    assert lines(log) == [
        "start",
        "ban 192.0.2.1",
        "prolong 192.0.2.1 3600",
        "reload",  # once: the same command for the family-less start and for inet4
        "check",  # each started family is checked ("" and inet4)
        "check",
        "check",
        "repair",
        "check",
        "check",
        "reban 192.0.2.1",
    ]
    assert action.epoch == 1


def test_without_actionreban_or_actionprolong(tmp_path: Path) -> None:
    body = EXTRAS.replace("actionreban =", "actionreban_x =").replace("actionprolong =", "actionprolong_x =")
    action, log = make(tmp_path, body)
    run(action.prolong([V4]))
    run(action.reban([V4]))
    assert lines(log) == ["ban 192.0.2.1"]


def test_a_batch_is_applied_in_order_and_failures_do_not_stop_the_rest(tmp_path: Path) -> None:
    body = '[Definition]\nactionban = test "<ip>" != 192.0.2.13 && echo "ban <ip>" >> <log>\n'
    action, log = make(tmp_path, body)
    batch = [
        Ban("sshd", f"192.0.2.{i}", f"192.0.2.{i}", 1.0, 2.0, 1, 1, restored=True) for i in range(10, 16)
    ]
    with pytest.raises(ActionError) as caught:
        run(action.ban(batch))
    assert lines(log) == [f"ban 192.0.2.{i}" for i in (10, 11, 12, 14, 15)]
    assert str(caught.value).startswith(
        "[sshd] action test: error banning 192.0.2.13: exit status 1; command: "
    )
    assert [b.fid for b in action.failed] == ["192.0.2.13"]


def test_nested_shells_with_log_values_are_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make(
        tmp_path, "[Definition]\nactionban = sh -c 'echo <F-USER> <matches>'\nactionunban = sh -c 'x <ip>'\n"
    )
    assert [r.getMessage() for r in caplog.records] == [
        "[sshd] action test: actionban passes <F-USER>, <matches> to a nested shell (sh -c): "
        "those values may be run as code"
    ]
