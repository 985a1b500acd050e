"""fail2ban-client commands from tutorials that test_client_upstream.py does not run, through the installed
`fail2ban-client` against banjail's installed `fail2ban-server`: exact stdout and exit status per command.

The expected outputs are upstream fail2ban 1.0.2's (its client against its server on the same configuration),
except where a case says `ours`: there banjail words an error its own way (naming the problem and the fix) and
only the exit status is upstream's. When Debian's fail2ban is installed (and we are root with `unshare`), the
table itself is checked against upstream's client and server, run in a private network namespace; the jails'
only action appends to a file in the temp dir.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from daemon_run import server_tree, stop_process

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
SRC = str(Path(__file__).resolve().parents[2] / "src")
UPSTREAM_CLIENT = "/usr/bin/fail2ban-client"
UPSTREAM_SERVER = "/usr/bin/fail2ban-server"
NO_JOURNAL = "No journal match filter set\n"


@dataclass(frozen=True)
class Case:
    argv: tuple[str, ...]
    out: str
    status: int = 0
    ours: bool = False  # banjail's own error text: only the exit status is compared with upstream's
    regex: bool = False  # `out` is a regular expression the output matches in full (it holds a time)
    wait: float = 0.0  # asked again (every 0.25 s) until it matches or this many seconds have passed

    def matches(self, out: str) -> bool:
        return re.fullmatch(self.out, out) is not None if self.regex else out == self.out


def _case(
    *argv: str, out: str, status: int = 0, ours: bool = False, regex: bool = False, wait: float = 0.0
) -> Case:
    return Case(argv, out, status, ours, regex, wait)


STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"


def _failed(jail: str, current: int, total: int) -> str:
    """`status JAIL short` with these failure counts (a regex: the file's path and the ban counts vary)."""
    return (
        f"Status for the jail: {jail}\n\\|- Filter\n\\|  \\|- Currently failed:\t{current}\n"
        f"\\|  \\|- Total failed:\t{total}\n\\|  `- File list:\t.*\n`- Actions\n"
        "   \\|- Currently banned:\t\\d+\n   `- Total banned:\t\\d+\n"
    )


# In order, on one server: later cases see what earlier ones changed.
CASES: list[Case] = [
    # A jail reading files has no journal matches, whatever its filter lists (upstream ignores them).
    _case("get", "test", "journalmatch", out=NO_JOURNAL),
    _case("set", "test", "addjournalmatch", "_COMM=other", out=NO_JOURNAL),
    _case("set", "test", "deljournalmatch", "_COMM=sshd", out=NO_JOURNAL),
    # Removing an address the ignore list does not hold fails.
    _case("set", "test", "addignoreip", "192.0.2.9", out="These IP addresses/networks are ignored:\n`- 192.0.2.9\n"),
    _case(
        "set",
        "test",
        "delignoreip",
        "192.0.2.99",
        out="delignoreip: '192.0.2.99' is not in the ignore list of jail 'test' "
        "(`fail2ban-client get test ignoreip` lists it)\n",
        status=255,
        ours=True,
    ),
    _case("set", "test", "delignoreip", "192.0.2.9", out="No IP address/network is ignored\n"),
    # unbanip needs an address.
    _case("set", "test", "unbanip", out="Sorry but the command is invalid\n", status=255),
    _case("set", "test", "unbanip", "--report-absent", out="0\n"),
    # usedns: lower-cased; an unknown mode is `no`.
    _case("set", "test", "usedns", "YES", out="yes\n"),
    _case("set", "test", "usedns", "bogus", out="no\n"),
    _case("get", "test", "usedns", out="no\n"),
    # bantime.* options no one gave are None; given ones (configured or set) their value.
    _case("get", "test", "bantime.increment", out="None\n"),
    _case("get", "test", "bantime.factor", out="None\n"),
    _case("get", "test", "bantime.overalljails", out="None\n"),
    _case("get", "test", "bantime.maxtime", out="None\n"),
    _case("set", "test", "bantime.factor", "2", out="2\n"),
    _case("get", "test", "bantime.factor", out="2\n"),
    _case("get", "web", "bantime.increment", out="True\n"),
    _case("get", "web", "bantime.overalljails", out="False\n"),
    # Times are typed as upstream evaluates them: a float when a number has a point or a term is in mo/y.
    _case("get", "web", "findtime", out="90.0\n"),
    _case("get", "web", "bantime.maxtime", out="2629800.0\n"),
    _case("get", "test", "findtime", out="600\n"),
    _case("set", "test", "findtime", "1.5m", out="90.0\n"),
    _case("get", "test", "findtime", out="90.0\n"),
    _case("set", "test", "findtime", "1y", out="31557600.0\n"),
    _case("set", "test", "findtime", "10m", out="600\n"),
    _case("set", "test", "bantime.maxtime", "1y", out="31557600.0\n"),
    _case("set", "test", "bantime.rndtime", "1.5m", out="90.0\n"),
    _case("set", "test", "bantime.rndtime", "30", out="30\n"),
    # datepattern: upstream's (pattern, template name) pair; "Default Detectors" when many templates are used.
    _case("get", "test", "datepattern", out="Current date pattern set to: Default Detectors\n"),
    *(
        _case("set", "test", "datepattern", pattern, out=f"Current date pattern set to: {shown}\n")
        for pattern, shown in [
            ("{^LN-BEG}", "Default Detectors"),
            ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S (Year-Month-Day 24hour:Minute:Second)"),
            ("^%b %d %H:%M:%S", "^%b %d %H:%M:%S (^MON Day 24hour:Minute:Second)"),
            ("{^LN-BEG}%Y-%m-%d %H:%M:%S", "{^LN-BEG}%Y-%m-%d %H:%M:%S ({^LN-BEG}Year-Month-Day 24hour:Minute:Second)"),
            ("%%Y-%%m-%%d", "%%Y-%%m-%%d (%Y-%m-%d)"),
            ("%Y-%m-%d\n%H:%M:%S", "%Y-%m-%d (Year-Month-Day)"),
            ("%Y-%m-%d\n%H:%M:%S\n%d/%m/%Y", "Default Detectors"),
            ("EPOCH", "Epoch"),
            ("LEPOCH", "LongEpoch"),
            ("{^LN-BEG}TAI64N", "{^LN-BEG}TAI64N"),
            ("ISO8601", "ISO8601 (ISO8601)"),
            ("{NONE}", "{UNB}^ (^)"),
            ("{DATE}", "Default Detectors"),
            ("{DEFAULT}", "Default Detectors"),
        ]
    ),
    _case("get", "web", "datepattern", out="Current date pattern set to: %Y-%m-%d %H:%M:%S (Year-Month-Day 24hour:Minute:Second)\n"),
    # ignorecache: upstream's [key, max-count, max-time] reply, configured or set.
    _case("get", "test", "ignorecache", out="None\n"),
    _case("set", "test", "ignorecache", 'key="<ip>", max-count=100, max-time=5m', out="['<ip>', 100, 300]\n"),
    _case("get", "test", "ignorecache", out="['<ip>', 100, 300]\n"),
    _case("set", "test", "ignorecache", "key=<ip>, max-time=1.5m", out="['<ip>', 100, 90.0]\n"),
    _case("set", "test", "ignorecache", "", out="None\n"),
    _case(
        "set",
        "test",
        "ignorecache",
        "max-count=5",
        out="ignorecache 'max-count=5' has no key (for example: key=\"<ip>\", max-count=100, max-time=5m)\n",
        status=255,
        ours=True,
    ),
    _case("get", "web", "ignorecache", out="['<ip>', 5, 90.0]\n"),
    # Every command operation is a property, empty when the action file has none.
    _case("get", "test", "action", "rec", "actionreban", out="\n"),
    _case("get", "test", "action", "rec", "actionrepair", out="\n"),
    _case("get", "test", "action", "rec", "actioncheck", out="\n"),
    # A refused regex is named as given, not placed in the filter file.
    _case(
        "set",
        "test",
        "addfailregex",
        "^nohost$",
        out="addfailregex = '^nohost$': no failure-id group "
        "(capture the address with <HOST> or <ADDR>, or an id with <F-ID>...</F-ID>)\n",
        status=255,
        ours=True,
    ),
    _case(
        "set",
        "test",
        "addignoreregex",
        "^x (",
        out="addignoreregex = '^x (': cannot compile: missing ), unterminated subpattern at position 3 in '^x ('\n",
        status=255,
        ours=True,
    ),
    # reload/restart of a jail the configuration has no section for fails in the client, even with --if-exists
    # (upstream: "Failed during configuration: No section", nothing on stdout); a configured one that is not
    # running is started by --if-exists.
    _case("reload", "--if-exists", "nojail", out="", status=255),
    _case("restart", "--if-exists", "nojail", out="", status=255),
    _case("reload", "nojail", out="", status=255),
    _case("stop", "web", out="Jail stopped\n"),
    _case("reload", "web", out="Sorry but the jail 'web' does not exist\n", status=255),
    _case("reload", "--if-exists", "web", out="OK\n"),
    _case("status", out="Status\n|- Number of jail:\t3\n`- Jail list:\tidle, test, web\n"),
    # A permanent ban ends at the last second of year 9999.
    _case("set", "test", "bantime", "-1", out="-1\n"),
    _case("set", "test", "banip", "192.0.2.77", out="1\n"),
    _case(
        "get",
        "test",
        "banip",
        "--with-time",
        out=f"192.0.2.77 \t{STAMP} \\+ -1 = 9999-12-31 23:59:59\n",
        regex=True,
    ),
    # An idle jail counts nothing; back from idle it reads on from where it stopped (upstream's polling does so
    # at the file's next change, hence the second line), so what was logged meanwhile counts then.
    _case("set", "idle", "idle", "on", out="True\n"),
    _case("__append", "idle.log", "failure from 198.51.100.40", out=""),
    _case("__sleep", "2.5", out=""),
    _case("status", "idle", "short", out=_failed("idle", 0, 0), regex=True),
    _case("set", "idle", "idle", "off", out="False\n"),
    _case("__sleep", "1", out=""),
    _case("__append", "idle.log", "failure from 198.51.100.40", out=""),
    _case("status", "idle", "short", out=_failed("idle", 1, 2), regex=True, wait=20),
]

# Client options answered without a server.
STR2SEC: list[tuple[str, str]] = [
    ("1.5d", "129600.0\n"),
    ("1d3h", "97200\n"),
    ("1y", "31557600.0\n"),
    ("3mo", "7889400.0\n"),
    ("1.0", "1.0\n"),
    ("0.5", "0.5\n"),
    ("600", "600\n"),
    ("1h30m", "5400\n"),
    ("1m1.5s", "61.5\n"),
    ("1year-6mo", "15778800.0\n"),
    ("-1", "-1\n"),
]


def _write_conf(root: Path) -> Path:
    conf = server_tree(root, "allowipv6 = auto\n")
    (conf / "jail.conf").write_text(
        "[DEFAULT]\nbackend = polling\nfilter = test\naction = rec\nignoreself = false\n"
        f"[test]\nenabled = true\nlogpath = {root}/test.log\n"
        f"[web]\nenabled = true\nlogpath = {root}/web.log\nfindtime = 1.5m\ndatepattern = %%Y-%%m-%%d %%H:%%M:%%S\n"
        'ignorecache = key="<ip>", max-count=5, max-time=1.5m\n'
        "bantime.increment = true\nbantime.overalljails = false\nbantime.maxtime = 1mo\n"
        f"[idle]\nenabled = true\nlogpath = {root}/idle.log\ndatepattern = {{NONE}}\n"
    )
    (conf / "filter.d" / "test.conf").write_text(
        "[Init]\njournalmatch = _COMM=sshd\n[Definition]\nfailregex = ^failure from <HOST>$\n"
    )
    (conf / "action.d" / "rec.conf").write_text(
        f"[Definition]\nactionban = echo ban <ip> >> {root}/actions.log\n"
        f"actionunban = echo unban <ip> >> {root}/actions.log\n"
    )
    for name in ("test.log", "web.log", "idle.log"):
        (root / name).touch()
    return conf


def _run(client: list[str], root: Path, argv: tuple[str, ...]) -> tuple[str, int]:
    env = dict(os.environ, PYTHONPATH=SRC)
    command = [*client, "-c", str(root / "conf"), "-s", str(root / "f2b.sock"), *argv]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=30)
    return done.stdout, done.returncode


def _step(client: list[str], root: Path, case: Case) -> tuple[str, int]:
    """One case: a client command, or `__append LOG TEXT` (a line for the jail to read), `__sleep SECONDS`."""
    argv = case.argv
    if argv[0] == "__append":
        with open(root / argv[1], "a") as log:
            log.write(argv[2] + "\n")
        return "", 0
    if argv[0] == "__sleep":
        time.sleep(float(argv[1]))
        return "", 0
    deadline = time.monotonic() + case.wait
    answer = _run(client, root, argv)
    while not case.matches(answer[0]) and time.monotonic() < deadline:
        time.sleep(0.25)
        answer = _run(client, root, argv)
    return answer


def _serve(root: Path, server: list[str], client: list[str]) -> list[tuple[str, int]]:
    """Start `server` on _write_conf(root) inside `unshare -n` (it execs the server: the PID is the server's),
    run CASES with `client`, stop the server by its PID."""
    conf = _write_conf(root)
    env = dict(os.environ, PYTHONPATH=SRC)
    proc = subprocess.Popen(
        ["unshare", "-n", *server, "-c", str(conf), "-xf", "start"],
        stdout=subprocess.DEVNULL,
        stderr=open(root / "server.err", "wb"),  # noqa: SIM115 - closed with the process
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while _run(client, root, ("ping",))[1] != 0:
            assert proc.poll() is None, (root / "server.err").read_text()
            assert time.monotonic() < deadline, "the server did not answer ping in 30 s"
            time.sleep(0.2)
        return [_step(client, root, case) for case in CASES]
    finally:
        stop_process(proc)


def _can_unshare() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None


@pytest.fixture(scope="module")
def banjail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[tuple[str, int]]]:
    if not _can_unshare():
        pytest.skip("needs root and unshare (the server runs in a private network namespace)")
    yield _serve(tmp_path_factory.mktemp("banjail"), [str(BIN / "fail2ban-server")], [str(BIN / "fail2ban-client")])


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[tuple[str, int]]]:
    if not _can_unshare() or not os.path.exists(UPSTREAM_SERVER):
        pytest.skip("needs root, unshare and Debian's fail2ban (upstream oracle)")
    yield _serve(tmp_path_factory.mktemp("upstream"), [UPSTREAM_SERVER], [UPSTREAM_CLIENT])


IDS = [" ".join(c.argv) for c in CASES]


@pytest.mark.parametrize("index", range(len(CASES)), ids=IDS)
def test_banjail_answers_as_expected(banjail: list[tuple[str, int]], index: int) -> None:
    case = CASES[index]
    out, status = banjail[index]
    assert (status, case.matches(out)) == (case.status, True), out


@pytest.mark.parametrize("index", range(len(CASES)), ids=IDS)
def test_expectations_are_upstreams(upstream: list[tuple[str, int]], index: int) -> None:
    case = CASES[index]
    out, status = upstream[index]
    assert status == case.status
    if not case.ours:
        assert case.matches(out), out


@pytest.mark.parametrize(("text", "out"), STR2SEC)
@pytest.mark.parametrize("command", ["fail2ban-client", "fail2ban-server"])
def test_str2sec_prints_upstreams_number(command: str, text: str, out: str) -> None:
    env = dict(os.environ, PYTHONPATH=SRC)
    done = subprocess.run([str(BIN / command), "--str2sec", text], capture_output=True, text=True, env=env, timeout=30)
    assert (done.stdout, done.returncode) == (out, 0)
    if os.path.exists(f"/usr/bin/{command}"):
        theirs = subprocess.run([f"/usr/bin/{command}", "--str2sec", text], capture_output=True, text=True, timeout=30)
        assert (theirs.stdout, theirs.returncode) == (out, 0)


MISSING = "/nonexistent-banjail-conf"
NO_CONF = f"ERROR: Base configuration directory {MISSING} does not exist \n"
# A -c naming no directory stops every command (a -t that said OK would pass a typo'd path); the options that
# need no configuration still answer.
WITHOUT_SERVER: list[tuple[tuple[str, ...], str, int]] = [
    (("-c", MISSING, "-t"), NO_CONF, 255),
    (("-c", MISSING, "-d"), NO_CONF, 255),
    (("-c", MISSING, "status"), NO_CONF, 255),
    (("--conf", MISSING, "-s", "/nonexistent.sock", "ping"), NO_CONF, 255),
    (("-c", MISSING, "--str2sec", "1d"), "86400\n", 0),
    (("-c", MISSING, "-V"), "1.0.2\n", 0),
]


@pytest.mark.parametrize(("argv", "out", "status"), WITHOUT_SERVER, ids=[" ".join(c[0]) for c in WITHOUT_SERVER])
def test_client_without_server(argv: tuple[str, ...], out: str, status: int) -> None:
    env = dict(os.environ, PYTHONPATH=SRC)
    clients = [str(BIN / "fail2ban-client")] + ([UPSTREAM_CLIENT] if os.path.exists(UPSTREAM_CLIENT) else [])
    for client in clients:
        done = subprocess.run([client, *argv], capture_output=True, text=True, env=env, timeout=30)
        assert (client, done.stdout, done.returncode) == (client, out, status)


@pytest.mark.parametrize("command", ["fail2ban-client", "fail2ban-server"])
def test_str2sec_refusal_is_on_stdout(command: str) -> None:
    """A bad --str2sec value: exit 255 and an `ERROR: ...` line on stdout (the wording is banjail's)."""
    env = dict(os.environ, PYTHONPATH=SRC)
    done = subprocess.run([str(BIN / command), "--str2sec", "soon"], capture_output=True, text=True, env=env, timeout=30)
    assert (done.stdout.startswith("ERROR: invalid time value 'soon'"), done.returncode) == (True, 255)
    if os.path.exists(f"/usr/bin/{command}"):
        theirs = subprocess.run([f"/usr/bin/{command}", "--str2sec", "soon"], capture_output=True, text=True, timeout=30)
        assert (theirs.stdout.startswith("ERROR: "), theirs.returncode) == (True, 255)
