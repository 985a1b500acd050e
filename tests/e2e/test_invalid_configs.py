"""The invalid-config corpus (invalid_configs/<case>/): each case is a small config tree laid over a valid base (one
jail `test` that works, one jail `other`), with its stage and its expected message in the header of its file:

    # stage: jail | load | warning | skipped
    # expect: <the problem exactly as banjail prints it; {conf} is the tree's directory>

- `jail`: the configuration loads, but the server refuses to start the jail: `fail2ban-client -t` fails with the
  message (exit 255); `start` starts the server, logs "Failed to start jail 'test': <message>" and runs `other`;
  `reload` into the case fails with the message (exit 255) and `test` keeps banning with its previous config.
- `load`: the configuration does not load: -t, start and reload fail with the message (exit 255).
- `warning`: -t warns with the message and succeeds; the server starts the jail and logs the warning.
- `skipped`: -t warns with the message and succeeds; the server does not start the jail (skip_if_nologs).
`fail2ban-server -t` reports what `fail2ban-client -t` does. Every command is the installed one, run as a subprocess; servers run in a private network namespace.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CLIENT = str(Path(sys.executable).with_name("fail2ban-client"))
SERVER = str(Path(sys.executable).with_name("fail2ban-server"))
CORPUS = Path(__file__).with_name("invalid_configs")
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
_LOG_LINE = re.compile(r"^\S+ \S+ \S+\s+\[\d+\]: (?P<level>[A-Z]+)\s+(?P<message>.*)$")
_HEADER = re.compile(r"^# (stage|expect): (.*)$")


def _header(case: str) -> tuple[str, str]:
    found: dict[str, str] = {}
    for file in (CORPUS / case).rglob("*"):
        if file.is_file():
            for line in file.read_text().splitlines():
                m = _HEADER.match(line)
                if m:
                    found[m.group(1)] = m.group(2)
    return found["stage"], found["expect"]


def _base(conf: Path, work: Path) -> None:
    (conf / "filter.d").mkdir(parents=True)
    (conf / "action.d").mkdir()
    (conf / "fail2ban.conf").write_text(
        f"[Definition]\nlogtarget = {work}/f2b.log\nsocket = {work}/f2b.sock\n"
        f"pidfile = {work}/f2b.pid\ndbfile = {work}/f2b.sqlite3\n"
    )
    jails = ""
    for jail in ("test", "other"):
        jails += (
            f"[{jail}]\nenabled = true\nfilter = {jail}\nbackend = polling\nmaxretry = 1\n"
            f"logpath = {work}/{jail}.log\naction = {'rec' if jail == 'test' else 'rec-other'}\n\n"
        )
        (work / f"{jail}.log").write_text("")
        (conf / "filter.d" / f"{jail}.conf").write_text(
            "[Definition]\nfailregex = ^fail <HOST>$\ndatepattern = {NONE}\n"
        )
    (conf / "jail.conf").write_text(jails)
    for action in ("rec", "rec-other"):
        (conf / "action.d" / f"{action}.conf").write_text(
            f"[Definition]\nactionban = echo ban <name> <ip> >> {work}/actions.log\nactionunban = true\n"
        )


def _overlay(case: str, conf: Path) -> None:
    for file in (CORPUS / case).rglob("*"):
        if file.is_file():
            target = conf / file.relative_to(CORPUS / case)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(file.read_text().replace("{conf}", str(conf)))


def _case(case: str, conf: Path) -> tuple[str, str]:
    """Lay the case over the base tree at `conf`; its stage and its expected message (for this tree)."""
    _overlay(case, conf)
    stage, expect = _header(case)
    return stage, expect.replace("{conf}", str(conf))


def _client(conf: Path, *args: str, netns: bool = False) -> subprocess.CompletedProcess[str]:
    argv = [CLIENT, "-c", str(conf), *args]
    if netns:
        argv = ["unshare", "-n", *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def _messages(text: str) -> list[tuple[str, str]]:
    return [(m["level"], m["message"]) for m in map(_LOG_LINE.match, text.splitlines()) if m]


def _wait_for(path: Path, text: str, seconds: float = 15.0) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        content = path.read_text() if path.exists() else ""
        if text in content:
            return content
        time.sleep(0.1)
    return path.read_text() if path.exists() else ""


@pytest.fixture
def work(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    conf = tmp_path / "conf"
    if (tmp_path / "f2b.sock").exists():
        subprocess.run([CLIENT, "-c", str(conf), "stop"], capture_output=True, timeout=30, check=False)


@pytest.fixture
def conf(work: Path) -> Path:
    """The valid base tree (jails `test` and `other`) at work/conf."""
    _base(work / "conf", work)
    return work / "conf"


@pytest.fixture
def server_conf(conf: Path) -> Path:
    """The base tree, where a server can be run (root, unshare)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare for a server in a private network namespace")
    return conf


def test_the_corpus_covers_every_kind() -> None:
    stages = {_header(case)[0] for case in CASES}
    assert stages == {"jail", "load", "warning", "skipped"}
    assert len(CASES) >= 9


@pytest.mark.parametrize("case", CASES)
def test_t_reports_the_problem(case: str, conf: Path) -> None:
    assert _client(conf, "-t").stdout == "OK: configuration test is successful\n"
    stage, expect = _case(case, conf)
    proc = _client(conf, "-t")
    if stage in ("warning", "skipped"):
        assert (proc.returncode, proc.stdout) == (0, "OK: configuration test is successful\n")
        assert _messages(proc.stderr) == [("WARNING", expect)]
    else:
        assert (proc.returncode, proc.stdout) == (255, "")
        assert _messages(proc.stderr) == [("ERROR", expect), ("ERROR", "ERROR: test configuration failed")]
    # fail2ban-server -t runs the same checks
    server = subprocess.run(
        [SERVER, "-c", str(conf), "-t"], capture_output=True, text=True, timeout=60, check=False
    )
    level = "ERROR" if stage in ("jail", "load") else "WARNING"
    assert server.stderr.splitlines() == [f"{level}  {expect}"]
    assert server.returncode == (255 if level == "ERROR" else 0)


@pytest.mark.e2e
@pytest.mark.parametrize("case", CASES)
def test_server_start_refuses_what_t_refuses(case: str, work: Path, server_conf: Path) -> None:
    conf = server_conf
    stage, expect = _case(case, conf)
    started = _client(conf, "start", netns=True)
    if stage == "load":
        assert started.returncode == 255
        assert ("ERROR", expect) in _messages(started.stderr)
        return
    assert (started.returncode, started.stdout) == (0, "Server ready\n"), started.stderr
    log = _wait_for(work / "f2b.log", "Jail 'other' started")
    messages = _messages(log)
    if stage in ("jail", "skipped"):
        if stage == "jail":
            assert ("ERROR", f"Failed to start jail 'test': {expect}") in messages
        else:
            assert any(level == "WARNING" and m.startswith("Skipping jail 'test': ") for level, m in messages)
        assert _client(conf, "status").stdout == "Status\n|- Number of jail:\t1\n`- Jail list:\tother\n"
    else:
        assert ("WARNING", expect) in messages
        assert "Jail 'test' started" in log
        # banjail waits for the missing file and reads it once it appears
        (work / "later.log").write_text("fail 192.0.2.9\n")
        assert "ban test 192.0.2.9" in _wait_for(work / "actions.log", "ban test 192.0.2.9")


@pytest.mark.e2e
@pytest.mark.parametrize("case", CASES)
def test_reload_into_the_case_fails_and_keeps_the_old_config(
    case: str, work: Path, server_conf: Path
) -> None:
    conf = server_conf
    started = _client(conf, "start", netns=True)
    assert (started.returncode, started.stdout) == (0, "Server ready\n"), started.stderr
    stage, expect = _case(case, conf)
    reloaded = _client(conf, "reload")
    if stage in ("warning", "skipped"):
        assert (reloaded.returncode, reloaded.stdout) == (0, "OK\n")
        return
    assert reloaded.returncode == 255
    if stage == "load":
        assert ("ERROR", expect) in _messages(reloaded.stderr)
    else:
        assert (
            reloaded.stdout
            == f"Reload of jail 'test' failed, it keeps its previous configuration:\n{expect}\n"
        )
    # the jail still bans with its previous configuration
    with (work / "test.log").open("a") as log:
        log.write("fail 192.0.2.8\n")
    assert "ban test 192.0.2.8" in _wait_for(work / "actions.log", "ban test 192.0.2.8")
