"""run_process / Runner with a real /bin/sh: exit statuses, captured output, stdin, PATH lookup, timeouts and
cancellation that kill the whole process group, and no descriptor left behind."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from banjail.actions import runner as runner_module
from banjail.actions.render import Script
from banjail.actions.runner import Outcome, Runner, run_process


@pytest.fixture(params=["posix_spawn", "asyncio"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of starting a command: the lean one, and asyncio's subprocess where pidfds are missing."""
    if request.param == "asyncio":
        monkeypatch.setattr(runner_module, "_LEAN", False)
    return str(request.param)


def _run(text: str, timeout: float = 10.0, env: dict[str, str] | None = None) -> Outcome:
    return asyncio.run(Runner(env=env or {}).run(Script(text, {}), timeout))


@pytest.mark.parametrize(
    ("script", "returncode", "stdout", "stderr"),
    [
        ("true", 0, "", ""),
        ("echo out; echo err >&2; exit 3", 3, "out\n", "err\n"),
        ("printf 'a\\377b'", 0, "a\ufffdb", ""),  # undecodable bytes are replaced, not fatal
        ("kill -TERM $$", -signal.SIGTERM, "", ""),
        ("read x; echo \"[$x]\"", 0, "[]\n", ""),  # stdin is /dev/null
        ("   ", 0, "", ""),
        ("yes | head -c 2", 0, "y\n", ""),  # SIGPIPE is the default again in the command (Python ignores it)
        ("kill -PIPE $$", -signal.SIGPIPE, "", ""),
    ],
)
def test_exit_status_and_output(script: str, returncode: int, stdout: str, stderr: str, way: str) -> None:
    outcome = _run(script)
    assert (outcome.returncode, outcome.stdout, outcome.stderr) == (returncode, stdout, stderr)


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 300_000])
def test_output_keeps_its_last_64_kib(size: int, way: str) -> None:
    outcome = _run(f"head -c {size} /dev/zero | tr '\\0' x; echo -n END")
    expected = ("x" * size + "END")[-65536:]
    assert outcome.stdout == expected


@pytest.mark.parametrize("data", [b"", b"one line\n", b"x" * 200_000, bytes(range(256))])
def test_stdin_bytes_reach_the_program(data: bytes, way: str) -> None:
    outcome = asyncio.run(
        run_process(("/bin/sh", "-c", "wc -c"), env=dict(os.environ), label="wc", stdin=data, timeout=10)
    )
    assert (outcome.returncode, outcome.stdout.strip()) == (0, str(len(data)))


def test_programs_are_found_in_the_commands_own_path(tmp_path: Path, way: str) -> None:
    tool = tmp_path / "banjail-test-tool"
    tool.write_text("#!/bin/sh\necho found \"$@\"\n")
    tool.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:/usr/bin:/bin"}
    found = asyncio.run(run_process(("banjail-test-tool", "a b"), env=env, label="t", stdin=None, timeout=10))
    assert (found.returncode, found.stdout) == (0, "found a b\n")
    missing = asyncio.run(run_process(("no-such-tool-x",), env=env, label="t", stdin=None, timeout=10))
    assert (missing.returncode, missing.stderr) == (
        127,
        "cannot run no-such-tool-x: [Errno 2] No such file or directory: 'no-such-tool-x'",
    )


def _alive(pid: int) -> bool:
    """Whether pid still runs, 2 s after its group was signalled at most (delivery is asynchronous)."""
    for _ in range(200):
        try:
            if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                return False
        except FileNotFoundError:
            return False
        time.sleep(0.01)
    return True


def _child_pid(path: Path) -> int:
    for _ in range(200):
        if path.exists() and path.read_text().strip():
            return int(path.read_text())
        asyncio.run(asyncio.sleep(0.01))
    raise AssertionError("the command never wrote its child's pid")


def test_timeout_kills_the_group_and_reaps(tmp_path: Path, way: str) -> None:
    pidfile = tmp_path / "pid"
    outcome = _run(f"sleep 30 & echo $! > {pidfile}; wait", timeout=0.5)
    assert outcome.returncode is None
    assert outcome.describe().startswith("timed out after ")
    assert not _alive(int(pidfile.read_text()))


def test_a_command_ignoring_sigterm_is_killed() -> None:
    outcome = _run("trap '' TERM; sleep 30", timeout=0.3)
    assert outcome.returncode is None and outcome.seconds < 10


def test_cancellation_kills_the_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"

    async def cancel() -> None:
        task = asyncio.ensure_future(Runner().run(Script(f"sleep 30 & echo $! > {pidfile}; wait", {}), 60))
        for _ in range(500):
            await asyncio.sleep(0.01)
            if pidfile.exists() and pidfile.read_text().strip():
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel())
    assert not _alive(int(pidfile.read_text()))


def test_a_daemonised_grandchild_does_not_hold_the_result(tmp_path: Path) -> None:
    """The result is the shell's exit, even while a background child still has stdout open."""
    pidfile = tmp_path / "pid"
    outcome = _run(f"(sleep 20 & echo $! > {pidfile}); echo started", timeout=10)
    try:
        assert (outcome.returncode, outcome.stdout) == (0, "started\n")
        assert outcome.seconds < 10
    finally:
        os.kill(_child_pid(pidfile), signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts /proc/self/fd")
def test_no_descriptor_is_left_open() -> None:
    before = len(os.listdir("/proc/self/fd"))
    for script in ("true", "exit 1", "echo x", "sleep 5"):
        _run(script, timeout=0.2)
    asyncio.run(run_process(("/bin/cat",), env=dict(os.environ), label="cat", stdin=b"x", timeout=5))
    assert len(os.listdir("/proc/self/fd")) == before
