"""fail2ban-client -d / --dp against upstream's own: the same configuration directory must print the same
command stream byte for byte, with the same exit status. Each case is a copy of /etc/fail2ban (Debian's
jail.d/defaults-debian.conf, which enables sshd, removed unless the case keeps it) plus a jail.local, an
optional fail2ban.local and optional extra files. Upstream 1.0.2 is the oracle; skipped where it is missing."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from banjail.cli import client

UPSTREAM = "/usr/bin/fail2ban-client"
ETC = Path("/etc/fail2ban")

# upstream is run on the same files: banjail reads fail2ban's packaged filters as files here (tests/dpkg_status.py)
pytestmark = [
    pytest.mark.usefixtures("upstream_reading"),
    pytest.mark.compat,
    pytest.mark.skipif(
        not (Path(UPSTREAM).exists() and ETC.is_dir()), reason="upstream fail2ban-client is not installed"
    ),
]

MY_FILTER = r"""[INCLUDES]
before = common.conf
[Init]
maxlines = 2
journalmatch = _COMM=myd
[Definition]
_daemon = myd
prefregex =
failregex = ^%(__prefix_line)sbad login from <HOST>$
datepattern = ^%%Y-%%m-%%d %%H:%%M:%%S
            {^LN-BEG}
ignoreregex =
"""
MY_ACTION = """[Definition]
actionstart = echo start <name> <port>
actionban = echo ban <ip> <port> <mytag>
actionunban = echo unban <ip>
norestored = 1
actionstart_on_demand = false
mytag = <port>-x
[Init]
port = 22
mytag?family=inet6 = six
"""
ONE_ACTION = "[Definition]\nactionban = echo one <ip>\n"

# Every jail jail.conf defines (sshd, dropbear, ... recidive: 91 in 1.0.2), for the cases that enable them all.
STOCK_JAILS = [
    m.group(1)
    for m in re.finditer(r"^\[([^\]]+)\]", (ETC / "jail.conf").read_text() if ETC.is_dir() else "", re.M)
    if m.group(1) not in ("INCLUDES", "DEFAULT")
]
SSHD = "[sshd]\nenabled = true\nbackend = polling\nlogpath = {logs}/auth.log\n"
# name: (jail.local, fail2ban.local, extra files, client options); {logs} is a directory holding auth.log,
# other.log and a dangling link dangling.log.
CASES: dict[str, tuple[str, str, dict[str, str], list[str]]] = {
    "debian defaults, sshd via jail.d": ("", "", {"keep-debian": ""}, ["-d"]),
    "sshd polling": (SSHD, "", {}, ["-d"]),
    "sshd pretty": (SSHD, "", {}, ["--dp"]),
    "sshd pretty, long option": (SSHD, "", {}, ["--dump-pretty"]),
    "no jail enabled": ("[sshd]\nenabled = false\n", "", {}, ["-d"]),
    "disabled jails among enabled": (
        SSHD + "[dovecot]\nenabled = false\n[postfix]\nenabled = true\nlogpath = {logs}/other.log\n",
        "",
        {},
        ["-d"],
    ),
    "server options": (
        SSHD,
        "[Definition]\ndbpurgeage = 2d\nloglevel = NOTICE\nallowipv6 = yes\ndbfile = :memory:\n"
        "[Thread]\nstacksize = 64\n",
        {},
        ["-d"],
    ),
    "server options from the command line": (
        SSHD,
        "",
        {},
        ["--loglevel", "DEBUG", "--logtarget", "STDOUT", "--syslogsocket", "/dev/log", "-d"],
    ),
    "without dbmaxmatches": (SSHD, "", {"fail2ban.conf": "[Definition]\nloglevel = INFO\n"}, ["-d"]),
    "ignoreip and bantime.increment": (
        "[DEFAULT]\nignoreip = 127.0.0.1/8 ::1, 10.0.0.0/8\n   10.1.2.3\nbantime.increment = true\n"
        "bantime.factor = 2\nbantime.formula = ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor\n"
        "bantime.multipliers = 1 2 4 8\nbantime.maxtime = 5w\nbantime.rndtime = 10m\n"
        "bantime.overalljails = yes\nignoreself = false\nignorecommand = /bin/true <ip>\n" + SSHD,
        "",
        {},
        ["-d"],
    ),
    "empty ignoreip": (SSHD + "ignoreip =\n", "", {}, ["-d"]),
    "times and counts": (
        SSHD + "maxretry = 3\nfindtime = 1h\nbantime = -1\nmaxmatches = 7\n",
        "",
        {},
        ["-d"],
    ),
    "journal backend, timezone, datepattern": (
        "[sshd]\nenabled = true\nbackend = systemd\nlogpath = {logs}/auth.log\nlogtimezone = UTC+2\n"
        "datepattern = ^%%Y-%%m-%%d\nmaxlines = 2\n",
        "",
        {},
        ["-d"],
    ),
    "journal matches and usedns in the jail": (
        "[sshd]\nenabled = true\nbackend = systemd\nusedns = raw\nmaxlines = 3\n"
        'journalmatch = _COMM=x "A=b c"\n   _COMM=y\n',
        "",
        {},
        ["-d"],
    ),
    "jail regexes, prefregex and ignoreregex": (
        "[postfix]\nenabled = true\nlogpath = {logs}/auth.log\nfailregex = ^x <HOST>$\n   ^y <HOST>$\n"
        "ignoreregex = ^ignore\nprefregex = ^<F-CONTENT>.+</F-CONTENT>$\nusedns = no\nlogencoding = utf-8\n"
        "[dovecot]\nenabled = true\nlogpath = {logs}/other.log\n",
        "",
        {},
        ["-d"],
    ),
    "no filter, one failregex": (
        "[sshd]\nenabled = true\nlogpath = {logs}/auth.log\nfilter =\nfailregex = ^only <HOST>\n",
        "",
        {},
        ["-d"],
    ),
    "filter arguments and several actions": (
        "[sshd]\nenabled = true\nlogpath = {logs}/*.log\nfilter = sshd[mode=aggressive]\n"
        'action = iptables-multiport[name=SSH, port="22,2222", protocol=tcp]\n'
        "    sendmail-whois[name=SSH, dest=root@localhost, sender=f2b@localhost]\n  nftables[type=allports]\n",
        "",
        {},
        ["-d"],
    ),
    "action_mwl and a python action": (
        SSHD + "action = %(action_mwl)s\n  badips.py[agent=x]\n",
        "",
        {},
        ["-d"],
    ),
    "own filter and actions": (
        "[myjail]\nenabled = true\nfilter = myf\nlogpath = {logs}/auth.log\n"
        'action = mya[port=2222]\n  mya[name=other, extra="a, b"]\n  one[actname=single]\n',
        "",
        {"filter.d/myf.conf": MY_FILTER, "action.d/mya.conf": MY_ACTION, "action.d/one.conf": ONE_ACTION},
        ["-d"],
    ),
    "stock filters": (
        "".join(
            f"[{name}]\nenabled = true\nlogpath = {{logs}}/auth.log\n"
            for name in ("selinux-ssh", "nginx-botsearch", "pam-generic", "php-url-fopen", "recidive")
        ),
        "",
        {},
        ["-d"],
    ),
    "log files: glob, tail, missing, dangling link": (
        "[sshd]\nenabled = true\nlogpath = {logs}/auth.log\n  {logs}/other.log tail\n  {logs}/nothere.log\n"
        "  {logs}/dangling.log\n[recidive]\nenabled = true\nlogpath = {logs}/none*.log\n",
        "",
        {},
        ["-d"],
    ),
    "missing filter: config-error, others go on": (
        SSHD + "[dovecot]\nenabled = true\nfilter = nope\n",
        "",
        {},
        ["-d"],
    ),
    "missing action, the only jail: status 255": ("[sshd]\nenabled = true\naction = nope\n", "", {}, ["-d"]),
    "every stock jail": (
        "".join(f"[{name}]\nenabled = true\nlogpath = {{logs}}/auth.log\n" for name in STOCK_JAILS),
        "",
        {},
        ["-d"],
    ),
    "every stock jail: systemd, nftables, action_mwl, default log paths": (
        "[DEFAULT]\nbackend = systemd\nbanaction = nftables\nbanaction_allports = nftables[type=allports]\n"
        "action = %(action_mwl)s\n" + "".join(f"[{name}]\nenabled = true\n" for name in STOCK_JAILS),
        "",
        {},
        ["-d"],
    ),
    "invalid filter spec: config-error": (
        "[sshd]\nenabled = true\nfilter = sshd[mode=aggressive\n[dovecot]\nenabled = true\n"
        "logpath = {logs}/auth.log\n",
        "",
        {},
        ["-d"],
    ),
    "bad values: as written, a bad number as None": (
        SSHD + "maxretry = lots\nbantime.increment = maybe\nignoreself = nah\n",
        "[Definition]\ndbpurgeage = soon\ndbmaxmatches = x\n",
        {},
        ["-d"],
    ),
    "undefined %(reference)s: no stream, status 255": (SSHD + "bantime = %(nope)s\n", "", {}, ["-d"]),
    "unparsable jail.local: no stream, status 255": (SSHD + "this is not ini\n", "", {}, ["-d"]),
    "dump, then test (-d -t), log file missing": (
        "[sshd]\nenabled = true\nlogpath = {logs}/nothere.log\n",
        "",
        {},
        ["-d", "-t"],
    ),
    "missing filter, pretty": ("[dovecot]\nenabled = true\nfilter = nope\n" + SSHD, "", {}, ["--dp"]),
}


def _confdir(tmp_path: Path, jail: str, server: str, files: dict[str, str]) -> Path:
    logs = tmp_path / "logs"
    logs.mkdir()
    for name in ("auth.log", "other.log"):
        (logs / name).write_text("")
    (logs / "dangling.log").symlink_to(logs / "gone.log")
    conf = tmp_path / "conf"
    shutil.copytree(ETC, conf, symlinks=True)
    if "keep-debian" not in files:
        for path in (conf / "jail.d").glob("*"):
            path.unlink()
    (conf / "jail.local").write_text(jail.replace("{logs}", str(logs)))
    if server:
        (conf / "fail2ban.local").write_text(server)
    for name, text in files.items():
        if name != "keep-debian":
            (conf / name).write_text(text)
    return conf


@pytest.mark.parametrize("case", [pytest.param(case, id=name) for name, case in CASES.items()])
def test_same_dump_as_upstream(
    case: tuple[str, str, dict[str, str], list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jail, server, files, options = case
    conf = _confdir(tmp_path, jail, server, files)
    argv = ["-c", str(conf), *options]
    want = subprocess.run([UPSTREAM, *argv], capture_output=True, text=True, timeout=60)
    code = client.main(argv)
    got = capsys.readouterr().out
    assert got == want.stdout
    assert code == want.returncode
    assert want.stdout.endswith("\n")  # upstream printed something: the comparison is not vacuous


def test_missing_config_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["-c", str(tmp_path / "none"), "-d"]
    want = subprocess.run([UPSTREAM, *argv], capture_output=True, text=True, timeout=60)
    assert client.main(argv) == want.returncode == 255
    assert (
        capsys.readouterr().out
        == want.stdout
        == f"ERROR: Base configuration directory {tmp_path}/none does not exist \n"
    )
