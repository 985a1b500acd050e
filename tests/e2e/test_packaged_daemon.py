"""Through the user's door, on a copy of Debian's /etc/fail2ban filters (copied at run time) and the host's real
/var/lib/dpkg/status: the injection generator's line aimed at a victim through upstream's sshd filter bans nobody
but the attacker's genuine failure when the copy is fail2ban's unmodified packaged file (banjail's hardened sshd
is read), and bans the victim with `packagedfilter = file` or an edited copy (so the protection is what changed).
fail2ban-regex: a name reads banjail's filter and says so on stderr; a path reads the file as given, stdout as
without the rule; `fail2ban-client -t`/`-d` say it too."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from daemon_run import Server, append, lines, wait_for, write_jails
from tests.filters.injection.generate import Case, cases
from tests.filters.injection.run import engine_api, run_cases
from tests.filters.injection.services import load

from banjail.config import packaged
from banjail.config.load import STOCK_DIR

UPSTREAM = Path("/etc/fail2ban/filter.d")
BIN = Path(sys.executable).parent
STAMP = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ")
NOTE = (
    "filter.d/sshd.conf is fail2ban's unmodified packaged file; using banjail's hardened sshd filter "
    f"({STOCK_DIR / 'filter.d/sshd.conf'}, with filter.d/common.conf) and your .local files; to use the file "
    "anyway set packagedfilter = file in [guard] or [DEFAULT] of jail.local"
)


def _pristine() -> bool:
    return not os.environ.get(packaged.STATUS_ENV) and all(
        packaged.is_packaged(UPSTREAM / n, f"filter.d/{n}") for n in ("sshd.conf", "common.conf")
    )


pytestmark = pytest.mark.skipif(
    not (UPSTREAM / "sshd.conf").is_file() or not _pristine(),
    reason="needs Debian's fail2ban with unmodified sshd/common filters recorded in /var/lib/dpkg/status",
)


def _attack(tmp: Path) -> tuple[str, str]:
    """The first one-line case of the generator that upstream's sshd file (read as a file) turns into a failure
    of a victim address over the traditional syslog prefix: (line, victim)."""
    conf = tmp / "generator"
    (conf / "filter.d").mkdir(parents=True)
    shutil.copy(UPSTREAM / "sshd.conf", conf / "filter.d/sshd.conf")
    shutil.copy(UPSTREAM / "common.conf", conf / "filter.d/common.conf")
    status = tmp / "no-dpkg-status"
    status.write_text("")
    old = os.environ.get(packaged.STATUS_ENV)
    os.environ[packaged.STATUS_ENV] = str(status)
    try:
        single: list[Case] = [c for c in cases(load("sshd")) if len(c.lines) == 1 and STAMP.match(c.lines[0])]
        verdict = run_cases(single, engine_api("sshd", {}, str(conf)), {})
    finally:
        if old is None:
            del os.environ[packaged.STATUS_ENV]
        else:
            os.environ[packaged.STATUS_ENV] = old
    for case, ident in verdict.hits:
        if re.fullmatch(r"[\d.]+", ident) and ident == case.victim:
            return case.lines[0], ident
    raise AssertionError("the generator found no IPv4 victim line for upstream's sshd")


def _now(line: str) -> str:
    return STAMP.sub(time.strftime("%b %d %H:%M:%S ").replace(" 0", "  ", 1), line, count=1)


GENUINE = "Dec  1 00:00:00 host sshd[4242]: Failed password for root from 10.0.0.9 port 2222 ssh2"


@pytest.mark.parametrize(
    ("extra", "edit", "victim_banned"),
    [("", False, False), ("packagedfilter = file\n", False, True), ("", True, True)],
    ids=["packaged-file-replaced", "opt-out", "edited-copy-is-the-users"],
)
def test_the_daemon_reads_banjails_sshd_for_the_packaged_file(
    tmp_path: Path, extra: str, edit: bool, victim_banned: bool
) -> None:
    line, victim = _attack(tmp_path)
    conf = write_jails(tmp_path, {"guard": f"filter = sshd\n{extra}"})
    for name in ("sshd.conf", "common.conf"):
        shutil.copy(UPSTREAM / name, conf / "filter.d" / name)
    if edit:
        with open(conf / "filter.d/sshd.conf", "a") as handle:
            handle.write("\n# my own edit\n")
    server = Server(tmp_path)
    try:
        server.start()
        append(tmp_path / "guard.log", [_now(line), _now(GENUINE)])
        rec = tmp_path / "rec"
        wait_for(lambda: "ban 10.0.0.9 0" in lines(rec), 30, "the attacker's genuine failure banned")
        if victim_banned:
            wait_for(lambda: f"ban {victim} 0" in lines(rec), 30, "the victim banned through the file")
        assert (f"ban {victim} 0" in lines(rec)) is victim_banned
        log = (tmp_path / "f2b.log").read_text()
        assert (f"NOTICE  [guard] {NOTE}" in log) is not (edit or bool(extra)), log
    finally:
        server.stop()


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != packaged.STATUS_ENV}
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=120, check=False, env={**env, "TZ": "UTC"}
    )


def test_fail2ban_regex_by_name_and_by_path(tmp_path: Path) -> None:
    line, victim = _attack(tmp_path)
    conf = tmp_path / "conf"
    (conf / "filter.d").mkdir(parents=True)
    for name in ("sshd.conf", "common.conf"):
        shutil.copy(UPSTREAM / name, conf / "filter.d" / name)
    log = tmp_path / "auth.log"
    log.write_text(line + "\n")
    regex = str(BIN / "fail2ban-regex")
    by_name = _run(regex, "-c", str(conf), "--json", str(log), "sshd")
    assert by_name.returncode == 0, by_name.stderr
    assert victim not in _ids(by_name.stdout)  # banjail's sshd takes the address sshd wrote, not the victim
    assert by_name.stderr.splitlines()[0] == (
        "fail2ban-regex: filter.d/sshd.conf is fail2ban's unmodified packaged file; using banjail's hardened sshd "
        f"filter ({STOCK_DIR / 'filter.d/sshd.conf'}) and your .local files; to test the file itself give its "
        f"path: {conf / 'filter.d/sshd.conf'}"
    )
    path = str(conf / "filter.d/sshd.conf")
    by_path = _run(regex, "-c", str(conf), "--json", str(log), path)
    assert by_path.returncode == 0, by_path.stderr
    assert victim in _ids(by_path.stdout)
    assert by_path.stderr.splitlines()[0] == (
        f"fail2ban-regex: {path} is fail2ban's unmodified packaged file, used as given; the daemon and the name "
        f"'sshd' use banjail's hardened filter ({STOCK_DIR / 'filter.d/sshd.conf'}) instead"
    )
    # stdout is what it was before the rule (no status file: nothing is packaged), byte for byte
    status = tmp_path / "empty-status"
    status.write_text("")
    before = subprocess.run(
        [regex, "-c", str(conf), str(log), path],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "TZ": "UTC", packaged.STATUS_ENV: str(status)},
    )
    now = _run(regex, "-c", str(conf), str(log), path)
    assert _untimed(now.stdout) == _untimed(before.stdout)
    assert "packaged" not in before.stderr


def _ids(stdout: str) -> set[str]:
    return {json.loads(row)["id"] for row in stdout.splitlines()}


def _untimed(text: str) -> str:
    return re.sub(r"\[processed in [\d.]+ sec\]", "", text)


def test_client_test_and_dump_say_it(tmp_path: Path) -> None:
    conf = write_jails(tmp_path, {"guard": "filter = sshd\n"})
    for name in ("sshd.conf", "common.conf"):
        shutil.copy(UPSTREAM / name, conf / "filter.d" / name)
    client = str(BIN / "fail2ban-client")
    tested = _run(client, "-c", str(conf), "-v", "-t")
    assert tested.returncode == 0, tested.stderr
    assert f"INFO    {NOTE}" in tested.stderr
    assert tested.stdout.endswith("OK: configuration test is successful\n")
    dumped = _run(client, "-c", str(conf), "-v", "-d")
    assert f"INFO    {NOTE}" in dumped.stderr
    for name in ("sshd.conf", "common.conf"):
        (conf / "filter.d" / name).unlink()
    without_copies = _run(client, "-c", str(conf), "-d")
    # the stream is the one of a host without fail2ban's files: banjail's sshd, no option of banjail's own
    assert "F-METHOD" in dumped.stdout and "packagedfilter" not in dumped.stdout
    assert dumped.stdout == without_copies.stdout
