"""`set JAIL bantime` moves the end of the bans that follow the jail's bantime, through the installed
`fail2ban-client` and `fail2ban-server`: `get JAIL banip --with-time`, the unban at the new time, a prolonged and
an incremented ban that keep their own length, and a restart after kill -9 and after a clean stop.

The same steps run against Debian's fail2ban 1.0.2 when it is installed (root, `unshare -n`, actions that only
append to a file), and must give the same answers, except two deliberate improvements (`upstream` gives
upstream's answer there): a lowered bantime lifts bans at once (upstream: at the unban time it planned before),
and after a kill -9 the raised end comes back (upstream: the bantime stored at ban time, capped at the
configured one)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from daemon_run import server_tree

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
SRC = str(Path(__file__).resolve().parents[2] / "src")
UPSTREAM = ("/usr/bin/fail2ban-server", "/usr/bin/fail2ban-client")
OURS = (str(BIN / "fail2ban-server"), str(BIN / "fail2ban-client"))
ROW = re.compile(r"(\S+) \t(\S+ \S+) \+ (-?\d+) = (\S+ \S+)")
FOREVER = "9999-12-31 23:59:59"


def rows(text: str) -> list[tuple[str, int]]:
    """`--with-time` rows as (address, bantime), each checked to end at its start + its bantime."""
    found = []
    for line in text.splitlines():
        if not line:
            continue  # no ban in force: the client prints an empty line
        match = ROW.fullmatch(line)
        assert match, line
        fid, start, length, end = match.groups()
        if int(length) == -1:
            assert end == FOREVER, line
        else:
            began = datetime.strptime(start, "%Y-%m-%d %H:%M:%S").timestamp()
            ends = datetime.strptime(end, "%Y-%m-%d %H:%M:%S").timestamp()
            assert ends - began in (int(length), int(length) + 1), line  # each side is shown to the second
        found.append((fid, int(length)))
    return found


@dataclass(frozen=True)
class Step:
    argv: tuple[str, ...]
    out: object  # the client's stdout, or for --with-time the rows() it must give
    upstream: object = None  # upstream's answer where banjail deliberately differs (None: the same)
    wait: float = 0.0  # asked again (every 0.25 s) until it answers `out` or this many seconds passed


def step(*argv: str, out: object, upstream: object = None, wait: float = 0.0) -> Step:
    return Step(argv, out, upstream, wait)


def times(jail: str, out: list[tuple[str, int]], upstream: object = None, wait: float = 0.0) -> Step:
    return step("get", jail, "banip", "--with-time", out=out, upstream=upstream, wait=wait)


A, B, C, D = "10.77.0.2", "10.77.0.3", "10.77.0.5", "10.77.0.6"
I1, I2 = "10.77.1.1", "10.77.1.2"

# In order, on one server: `test` (configured bantime 10) and `inc` (bantime 10, bantime.increment). The lengths
# leave several seconds between a ban and any end a step does not wait for: a loaded CI runs each client slowly.
STEPS: list[Step] = [
    step("set", "test", "banip", A, out="1\n"),
    times("test", [(A, 10)]),
    step("set", "test", "bantime", "30", out="30\n"),
    times("test", [(A, 30)]),
    step("set", "test", "bantime", "-1", out="-1\n"),
    times("test", [(A, -1)]),
    step("set", "test", "bantime", "15", out="15\n"),
    times("test", [(A, 15)]),
    # B banned twice 2 s apart: prolonged to 14 + 2, its own length from then on
    step("set", "test", "bantime", "14", out="14\n"),
    step("set", "test", "banip", B, out="1\n"),
    step("__sleep", "2", out=""),
    step("set", "test", "banip", B, out="0\n"),
    times("test", [(A, 14), (B, 16)]),
    step("set", "test", "bantime", "90", out="90\n"),
    times("test", [(B, 16), (A, 90)]),
    # B ends at its own time; A, past its old end (14), stays until its raised one
    step("get", "test", "banip", out=f"{A}\n", wait=30),
    times("test", [(A, 90)]),
    # lowered below the time gone: lifted at once (upstream: at the end it planned, 90 s after the ban)
    step("set", "test", "bantime", "2", out="2\n"),
    step("get", "test", "banip", out="\n", upstream=f"{A}\n", wait=3),
    step("set", "test", "unbanip", A, out="0\n", upstream="1\n"),  # so that both end this part alike
    step("get", "test", "banip", out="\n"),
    # increment: the first ban follows the bantime, the second (incremented to 20) has its own length
    step("set", "inc", "banip", I1, out="1\n"),
    times("inc", [(I1, 10)]),
    step("get", "inc", "banip", out="\n", wait=20),
    step("set", "inc", "banip", I1, out="1\n"),
    times("inc", [(I1, 20)]),
    step("set", "inc", "banip", I2, out="1\n"),
    step("set", "inc", "bantime", "60", out="60\n"),
    times("inc", [(I1, 20), (I2, 60)]),
    # a raised end across kill -9 (upstream restores the stored 20, capped at the configured 10)
    step("set", "test", "bantime", "20", out="20\n"),
    step("set", "test", "banip", C, out="1\n"),
    step("set", "test", "bantime", "600", out="600\n"),
    step("__kill9", out=""),
    step("__start", out=""),
    # a server answers its socket before it has restored the stored bans: asked again until it has
    times("test", [(C, 600)], upstream=[(C, 10)], wait=10),
    step("get", "test", "bantime", out="10\n"),  # the configured bantime again
    step("set", "test", "bantime", "30", out="30\n"),  # a restored ban keeps its length
    times("test", [(C, 600)], upstream=[(C, 10)]),
    step("set", "test", "unbanip", C, out="1\n"),
    # after a clean stop both cap a stored length at the configured bantime
    step("set", "test", "bantime", "600", out="600\n"),
    step("set", "test", "banip", D, out="1\n"),
    step("__stop", out=""),
    step("__start", out=""),
    times("test", [(D, 10)], wait=10),
]


def _write_conf(root: Path) -> Path:
    conf = server_tree(root)
    (conf / "jail.conf").write_text(
        "[DEFAULT]\nbackend = polling\nfilter = test\naction = rec\nignoreself = false\n"
        f"[test]\nenabled = true\nlogpath = {root}/test.log\nbantime = 10\n"
        f"[inc]\nenabled = true\nlogpath = {root}/inc.log\nbantime = 10\nbantime.increment = true\n"
    )
    (conf / "filter.d" / "test.conf").write_text("[Definition]\nfailregex = ^failure from <HOST>$\n")
    (conf / "action.d" / "rec.conf").write_text(
        f"[Definition]\nactionban = echo ban <ip> <bantime> >> {root}/actions.log\n"
        f"actionunban = echo unban <ip> >> {root}/actions.log\n"
    )
    for name in ("test.log", "inc.log"):
        (root / name).touch()
    return conf


class Run:
    """One server (banjail's or upstream's) in `unshare -n` on _write_conf(root); stopped by its PID."""

    def __init__(self, root: Path, programs: tuple[str, str]) -> None:
        self.root = root
        self.server, self.client = programs
        self.conf = _write_conf(root)
        self.proc: subprocess.Popen[bytes] | None = None

    def ask(self, *argv: str) -> tuple[str, int]:
        env = dict(os.environ, PYTHONPATH=SRC)
        command = [self.client, "-c", str(self.conf), "-s", str(self.root / "f2b.sock"), *argv]
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=30)
        return done.stdout, done.returncode

    def start(self) -> None:
        env = dict(os.environ, PYTHONPATH=SRC)
        # unshare execs the server: the PID is the server's
        self.proc = subprocess.Popen(
            ["unshare", "-n", self.server, "-c", str(self.conf), "-xf", "start"],
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "server.err", "ab"),  # noqa: SIM115 - closed with the process
            env=env,
        )
        deadline = time.monotonic() + 30
        while self.ask("ping")[1] != 0:
            assert self.proc.poll() is None, (self.root / "server.err").read_text()
            assert time.monotonic() < deadline, "the server did not answer ping in 30 s"
            time.sleep(0.2)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signum)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def step(self, case: Step, expected: object) -> object:
        argv = case.argv
        if argv[0] == "__sleep":
            time.sleep(float(argv[1]))
            return ""
        if argv[0] in ("__kill9", "__stop"):
            self.stop(signal.SIGKILL if argv[0] == "__kill9" else signal.SIGTERM)
            return ""
        if argv[0] == "__start":
            self.start()
            return ""
        deadline = time.monotonic() + case.wait
        while True:
            out, status = self.ask(*argv)
            answer: object = out if status == 0 else ("exit", status, out)
            if status == 0 and argv[-1] == "--with-time":
                answer = rows(out)
            if answer == expected or time.monotonic() >= deadline:
                return answer
            time.sleep(0.25)


def _serve(root: Path, programs: tuple[str, str], upstream: bool) -> list[object]:
    run = Run(root, programs)
    answers: list[object] = []
    try:
        run.start()
        for case in STEPS:
            expected = case.upstream if upstream and case.upstream is not None else case.out
            answers.append(run.step(case, expected))
            if answers[-1] != expected:
                break  # later steps build on this one: stop here, the test names the first difference
        return answers
    finally:
        run.stop()


def _can_unshare() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None


@pytest.fixture(scope="module")
def banjail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[object]]:
    if not _can_unshare():
        pytest.skip("needs root and unshare (the server runs in a private network namespace)")
    yield _serve(tmp_path_factory.mktemp("banjail"), OURS, upstream=False)


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[object]]:
    if not _can_unshare() or not os.path.exists(UPSTREAM[0]):
        pytest.skip("needs root, unshare and Debian's fail2ban (upstream oracle)")
    yield _serve(tmp_path_factory.mktemp("upstream"), UPSTREAM, upstream=True)


IDS = [f"{n:02d} " + " ".join(c.argv) for n, c in enumerate(STEPS)]


@pytest.mark.parametrize("index", range(len(STEPS)), ids=IDS)
def test_banjail(banjail: list[object], index: int) -> None:
    assert len(banjail) > index, "an earlier step gave another answer"
    assert banjail[index] == STEPS[index].out


@pytest.mark.parametrize("index", range(len(STEPS)), ids=IDS)
def test_upstream_answers_the_same(upstream: list[object], index: int) -> None:
    case = STEPS[index]
    assert len(upstream) > index, "an earlier step gave another answer"
    assert upstream[index] == (case.out if case.upstream is None else case.upstream)
