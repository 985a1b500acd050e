"""JournalSource against a real systemd-journald, started by the test in a private pid+mount+uts namespace.

Run as a script (`python test_journal.py scenario`) this file is the scenario inside the namespace: it logs sshd
failures through journald's syslog socket with `logger`, reads them back with JournalSource, matches them with
banjail's stock sshd filter (so the date in front of journal lines is found), kills journalctl to see it
restarted from the cursor, and restarts the source from its saved cursor. It prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from banjail.model import LogBatch, LogLine

JOURNALD = Path("/lib/systemd/systemd-journald")
SYSLOG_SOCKET = "/run/systemd/journal/dev-log"
ATTACKER = "10.77.0.2"

# The namespace's own /run, a tmpfs over /var/log/journal (nothing reaches the host's journal), a read-only
# cgroup2 for journald, its own hostname; then journald, and the scenario once its syslog socket exists.
SETUP = f"""
set -e
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/journal
if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal; fi
mount -t cgroup2 -o ro cgroup2 /sys/fs/cgroup 2>/dev/null || true
hostname srv
{JOURNALD} &
for i in $(seq 100); do [ -S {SYSLOG_SOCKET} ] && break; sleep 0.05; done
exec "$@"
"""


def _missing() -> str:
    if os.geteuid() != 0:
        return "needs root for unshare --mount --pid"
    for tool in ("unshare", "journalctl", "logger"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt package util-linux / systemd / bsdutils)"
    if not JOURNALD.exists():
        return f"{JOURNALD} is missing (apt package systemd)"
    probe = subprocess.run(
        ["unshare", "--mount", "--pid", "--fork", "true"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        return "unshare --mount --pid is refused here: " + probe.stderr.decode(errors="replace").strip()
    return ""


@pytest.mark.e2e
def test_real_journald() -> None:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    namespace = ["unshare", "--mount", "--uts", "--pid", "--fork", "--mount-proc", "--propagation", "private"]
    run = subprocess.run(
        [*namespace, "sh", "-c", SETUP, "setup", sys.executable, __file__, "scenario"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    line = re.compile(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})? srv sshd\[\d+\]: Failed password for (\w+) from "
    )
    assert [bool(line.match(text)) for text in result["first"]] == [True] * 3, result["first"]
    assert [text.rsplit(": ", 1)[1] for text in result["first"]] == [
        f"Failed password for user{n} from {ATTACKER} port 4000 ssh2" for n in range(3)
    ]
    # The stock sshd filter finds each one, with the entry's time (so the date in front of the line was found).
    assert [fid for fid, _age in result["failures"]] == [ATTACKER] * 3
    assert all(0 <= age < 30 for _fid, age in result["failures"]), result["failures"]
    # journalctl killed: restarted from the cursor, nothing lost or repeated.
    assert result["restarts"] == 1
    assert result["after_kill"] == ["user3", "user4"]
    # A new source from the saved cursor reads only what came after it.
    assert result["resumed"] == ["user5"]


# --- the scenario, inside the namespace ------------------------------------------------------------------------


def _log(message: str, tag: str = "sshd") -> None:
    subprocess.run(["logger", "-u", SYSLOG_SOCKET, "-t", tag, "-i", message], check=True)


def _fail(n: int) -> None:
    _log(f"Failed password for user{n} from {ATTACKER} port 4000 ssh2")


def _lines(batch: LogBatch) -> list[LogLine]:
    """A LogBatch's lines as LogLines (with the batch's source and end position)."""
    return [LogLine(batch.source, text, batch.position) for text in batch.lines]


async def _scenario() -> dict[str, object]:
    from banjail.config.load import load_filter
    from banjail.filter.datedetect import DateDetector
    from banjail.filter.matcher import Matcher
    from banjail.sources.journal import JournalSource

    def user(line: LogLine) -> str:
        return line.text.split("Failed password for ", 1)[1].split()[0]

    source = JournalSource(["SYSLOG_IDENTIFIER=sshd"], backoff=0.1)
    batches = source.batches()
    first: list[LogLine] = []
    reading = asyncio.ensure_future(anext(batches))
    await asyncio.sleep(0.3)  # journalctl is following
    _log("CRON noise that the match leaves out", tag="cron")
    for n in range(3):
        _fail(n)
    async with asyncio.timeout(10):
        first.extend(_lines(await reading))
        while len(first) < 3:
            first.extend(_lines(await anext(batches)))

    spec = load_filter("sshd", config_dir="/nonexistent", backend="systemd")
    matcher = Matcher(spec, detector=DateDetector(spec.datepattern, logtimezone=spec.logtimezone))
    now = time.time()
    failures = [
        (failure.fid, now - failure.time)
        for line in first
        for failure in matcher.process(line.text, now).failures
    ]

    pid = source.pid
    assert pid is not None
    os.kill(pid, 9)
    await asyncio.sleep(0.2)
    _fail(3)
    _fail(4)
    after_kill: list[LogLine] = []
    async with asyncio.timeout(10):
        while len(after_kill) < 2:
            after_kill.extend(_lines(await anext(batches)))
    saved = source.position()
    restarts = source.restarts
    await batches.aclose()  # type: ignore[attr-defined]

    _fail(5)
    again = JournalSource(["SYSLOG_IDENTIFIER=sshd"], cursor=saved.cursor)
    resumed: list[LogLine] = []
    more = again.batches()
    async with asyncio.timeout(10):
        while not resumed:
            resumed.extend(_lines(await anext(more)))
    try:
        async with asyncio.timeout(0.5):
            resumed.extend(_lines(await anext(more)))
    except TimeoutError:
        pass
    await more.aclose()  # type: ignore[attr-defined]
    return {
        "first": [line.text for line in first],
        "failures": failures,
        "restarts": restarts,
        "after_kill": [user(line) for line in after_kill],
        "resumed": [user(line) for line in resumed],
    }


if __name__ == "__main__" and sys.argv[1:] == ["scenario"]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    print(json.dumps(asyncio.run(_scenario())))
