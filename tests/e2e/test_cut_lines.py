"""Issue 14 item 9 (and the `maxlinelength` option of item 4): a line longer than the limit is cut, and the cut is
told: counted in `fail2ban-client status <jail>` (a banjail row, shown only when lines were cut), logged as a
warning (once a minute at most), and counted in fail2ban-regex's report. Before the fix a line over 64 KiB was cut
silently and the address at its end was never seen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from daemon_run import Server, append, lines, wait_for, write_config

BIN = Path(sys.executable).parent
SHORT = ("x" * 97 + " ") * 100  # 9,800 bytes before the failure: past the default 8192
LONG = ("x" * 97 + " ") * 700  # 68,600 bytes: past 64 KiB, the largest maxlinelength (and the old fixed cut)


def _status(sock: str, jail: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"))
    run = subprocess.run(
        [str(BIN / "fail2ban-client"), "-s", sock, "status", jail], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


@pytest.mark.parametrize(
    ("maxlinelength", "padding", "cut"), [(None, SHORT, True), (16384, SHORT, False), (65536, LONG, True)]
)
def test_cut_lines_are_counted_shown_and_logged(
    tmp_path: Path, maxlinelength: int | None, padding: str, cut: bool
) -> None:
    conf = write_config(tmp_path, maxretry=1)
    if maxlinelength is not None:
        with open(conf / "jail.local", "a") as out:
            out.write(f"maxlinelength = {maxlinelength}\n")  # in [test], the last section
    server = Server(tmp_path)
    try:
        server.start()
        log = tmp_path / "test.log"
        append(log, [f"{padding}fail from 10.0.0.5 port 1", "fail from 10.0.0.6 port 2"])
        wait_for(lambda: "ban 10.0.0.6 0" in lines(tmp_path / "rec"), 20, "the short line's ban")
        status = _status(server.sock, "test")
        if cut:
            assert lines(tmp_path / "rec") == ["ban 10.0.0.6 0"]  # the address after the cut is not seen
            assert "|  `- Lines cut:\t1\n`- Actions\n" in status
            warning = (
                f"WARNING [test] 1 line(s) longer than maxlinelength = {maxlinelength or 8192} bytes were cut "
                "(1 since start): what "
                "follows the cut is not matched (raise maxlinelength for this jail if its addresses come late)"
            )
            assert any(warning in line for line in lines(tmp_path / "f2b.log"))
        else:
            wait_for(lambda: "ban 10.0.0.5 0" in lines(tmp_path / "rec"), 20, "the long line's ban")
            assert "Lines cut" not in status  # upstream's tree, unchanged
            assert status.startswith("Status for the jail: test\n|- Filter\n|  |- Currently failed:\t0\n")
    finally:
        server.stop()


def test_fail2ban_regex_reports_cut_lines(tmp_path: Path) -> None:
    log = tmp_path / "long.log"
    log.write_text(
        "Nov 25 08:44:15 host sshd[49]: Invalid user " + "a" * 70_000 + " from 192.0.2.7 port 4242\n"
        "Nov 25 08:44:16 host sshd[49]: Invalid user bob from 192.0.2.8 port 4242\n"
    )
    run = subprocess.run(
        [str(BIN / "fail2ban-regex"), "--print-no-missed", str(log), "sshd"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "\nLines: 2 lines, 0 ignored, 1 matched, 1 missed\n" in run.stdout
    assert "\nLines cut: 1 longer than 65536 characters (what follows the cut was not matched)\n" in run.stdout
    short = tmp_path / "short.log"
    short.write_text("Nov 25 08:44:16 host sshd[49]: Invalid user bob from 192.0.2.8 port 4242\n")
    plain = subprocess.run([str(BIN / "fail2ban-regex"), str(short), "sshd"], capture_output=True, text=True)
    assert "Lines cut" not in plain.stdout
