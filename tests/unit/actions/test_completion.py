"""Completion marks (banjail.actions.completion) with a real /bin/sh, and how the daemon settles the marks a killed
server left (banjail.daemon.completions)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from banjail.actions import completion
from banjail.actions.completion import Left
from banjail.actions.render import Script
from banjail.daemon.completions import Completions
from banjail.model import Ban
from banjail.store.actionruns import ActionRun

BAN = Ban("sshd", "10.0.0.1", "10.0.0.1", 1000.4, 1600.0, 1, 3)


def _run(script: Script) -> int:
    return subprocess.run(
        ["/bin/sh", "-c", script.text], env={**os.environ, **script.env}, check=False
    ).returncode


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("true", 0),
        ("false", 1),
        ("exit 3", 3),
        ("echo x > /dev/null; exit 0", 0),
        ("sh -c 'exit 7'", 7),
        ("f() { return 5; }; f", 5),
        ("# a comment at the end", 0),
    ],
)
def test_the_shell_appends_its_exit_status(tmp_path: Path, body: str, status: int) -> None:
    mark = completion.write(tmp_path, "sshd", "mail", "ban", BAN, 1000.5)
    assert completion.read(Path(mark.path)) == Left(mark, None)
    assert _run(completion.script(mark, Script(body))) == status
    assert completion.read(Path(mark.path)) == Left(mark, status)
    assert (mark.fid, mark.timeofban, mark.action) == ("10.0.0.1", 1000, "mail")


def test_a_program_run_by_argv_gets_the_same_trap(tmp_path: Path) -> None:
    mark = completion.write(tmp_path, "sshd", "mail", "ban", BAN, 1.0)
    argv, env = completion.argv(mark, ("sh", "-c", "cat > /dev/null; exit 4", "x y"), b"mail")
    found = subprocess.run(argv, input=b"mail", env={**os.environ, **env}, check=False)
    assert found.returncode == 4
    assert completion.read(Path(mark.path)) == Left(mark, 4)


@pytest.mark.parametrize("text", ["", "{", '{"jail": "sshd"}\n', "not json\n0\n"])
def test_a_file_that_is_no_whole_mark_is_none(tmp_path: Path, text: str) -> None:
    (tmp_path / "x").write_text(text)
    assert completion.read(tmp_path / "x") is None


def test_a_live_process_carrying_the_mark_is_found(tmp_path: Path) -> None:
    mark = completion.write(tmp_path, "sshd", "mail", "ban", BAN, 1.0)
    other = str(tmp_path / "other")
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], env={**os.environ, completion.ENV: mark.path}
    )
    try:
        assert completion.running({mark.path, other}) == {mark.path}
    finally:
        child.kill()
        child.wait()
    assert completion.running({mark.path}) == set()


def test_settle_records_the_ended_keeps_the_live_and_forgets_the_cut_short(tmp_path: Path) -> None:
    recorded: list[ActionRun] = []
    marks = Completions(tmp_path, lambda runs, then: recorded.extend(runs))
    ended = completion.write(tmp_path, "sshd", "mail", "ban", BAN, 1.0)
    completion.finish(ended, 0)
    failed = completion.write(tmp_path, "sshd", "whois", "ban", BAN, 2.0)
    completion.finish(failed, 2)
    live = completion.write(tmp_path, "sshd", "report", "ban", BAN, 3.0)
    cut = completion.write(tmp_path, "sshd", "other", "ban", BAN, 4.0)
    (tmp_path / "half").write_text('{"jail"')
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], env={**os.environ, completion.ENV: live.path}
    )
    try:
        runs = marks.settle()
        marks.forget_settled()
    finally:
        child.kill()
        child.wait()
    assert sorted((r.action, r.status, r.started) for r in runs) == [("mail", 0, 1.0), ("whois", 2, 2.0)]
    assert list(marks.orphans) == [("sshd", "10.0.0.1", 1000, "report")]
    assert sorted(os.listdir(tmp_path)) == [Path(live.path).name]
    assert not Path(cut.path).exists()
    assert recorded == []
