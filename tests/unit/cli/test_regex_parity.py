"""The installed fail2ban-regex against upstream's 1.0.2 on upstream's own sample logs and filters, run as a
sysadmin runs them (a subprocess, TZ=UTC): the same stdout (the processing time masked) and exit status. Each case
is one that differed before; the exact expectations below hold without upstream installed too."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

UPSTREAM = "/usr/bin/fail2ban-regex"
BANJAIL = str(Path(sys.executable).with_name("fail2ban-regex"))
LOGS = Path("/usr/lib/python3/dist-packages/fail2ban/tests/files/logs")
FILTERS = Path("/etc/fail2ban/filter.d")

# upstream is run on the same files: banjail reads fail2ban's packaged filters as files here (tests/dpkg_status.py)
pytestmark = [
    pytest.mark.usefixtures("upstream_reading"),
    pytest.mark.skipif(not (LOGS / "sshd").exists() or not (FILTERS / "nsd.conf").exists(),
                       reason="fail2ban's sample logs and filters are not installed"),
]

_TIME = re.compile(r"^\[processed in \d+\.\d\d sec\]$", re.MULTILINE)
LINE = "2005-08-14 11:59:59 host sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2"
FAILED = r"Failed \S+ for (?:invalid user )?<F-USER>\S+</F-USER> from <HOST>"


def _run(command: str, *args: str) -> tuple[int, str]:
    env = {**os.environ, "TZ": "UTC", "LANG": "C.UTF-8"}
    done = subprocess.run([command, *args], capture_output=True, text=True, env=env, timeout=120)
    return done.returncode, _TIME.sub("[processed in X sec]", done.stdout)


def _same_as_upstream(*args: str) -> str:
    code, out = _run(BANJAIL, *args)
    if Path(UPSTREAM).exists():
        assert (code, out) == _run(UPSTREAM, *args)
    assert code == 0
    return out


NSD_TEMPLATES = [
    "Date template hits:",
    "|- [# of hits] date format",
    "|  [2] {^LN-BEG}Epoch",
    "|  [1] {^LN-BEG}ExYear(?P<_sep>[-/.])Month(?P=_sep)Day(?:T|  ?)24hour:Minute:Second(?:[.,]Microseconds)?"
    r"(?:\s*Zone offset)?",
    "`-",
]


@pytest.mark.parametrize("verbose", [[], ["-v"]], ids=["report", "verbose"])
def test_a_datepattern_line_that_is_a_default_keeps_its_place(verbose: list[str]) -> None:
    # nsd's datepattern is {^LN-BEG}Epoch then {^LN-BEG}: that Epoch is the default set's own line-begin Epoch
    # (weight 100), so the ISO date of the third line, found once, does not move in front of it
    out = _same_as_upstream(*verbose, str(LOGS / "nsd"), "nsd").splitlines()
    at = out.index("Date template hits:")
    if verbose:
        assert [line for line in out[at:] if "] {^LN-BEG}E" in line][:2] == NSD_TEMPLATES[2:4]
    else:
        assert out[at : at + 5] == NSD_TEMPLATES


OUT_CASES = {
    # tags upstream's ticket knows; a <F-NAME> the failure has not is empty; any other tag stays as written
    "known, group and unknown tags": (
        "<ip>|<fid>|<time>|<F-USER>|<F-NOPE>|<user>|<ip4>|<nope>|<IP>|<F-user>",
        LINE,
        FAILED,
        ["192.0.2.1|192.0.2.1|1124020799.0|root||<user>|<ip4>|<nope>|<IP>|<F-user>"],
    ),
    "no user group: empty": (
        "<ip> <F-USER>.",
        "Aug 14 11:59:59 host sshd[1]: refused connect from 192.0.2.9",
        r"refused connect from <HOST>",
        ["192.0.2.9 ."],
    ),
    "counters, family, spacing": (
        "<failures><bancount><restored> <family><sp><br><F-ID>",
        LINE,
        FAILED,
        ["000 inet4 ", ""],
    ),
    "family of an IPv6 address": (
        "<family>",
        "Aug 14 11:59:59 host sshd[1]: Failed password for root from 2001:db8::1 port 22 ssh2",
        FAILED,
        ["inet6"],
    ),
}


@pytest.mark.parametrize(("fmt", "log", "regex", "expected"), list(OUT_CASES.values()), ids=list(OUT_CASES))
def test_out_template_tags(fmt: str, log: str, regex: str, expected: list[str]) -> None:
    assert _same_as_upstream("-o", fmt, log, regex).split("\n")[:-1] == expected


@pytest.mark.parametrize(
    ("log", "filt"), [("sshd", "sshd"), ("dropbear", "dropbear"), ("nginx-http-auth", "nginx-http-auth")]
)
def test_out_template_on_samples(log: str, filt: str) -> None:
    out = _same_as_upstream("-o", "<ip> <F-USER> <user> <failures> <family>", str(LOGS / log), filt)
    assert out.count("\n") > 3


def _stderr(*args: str) -> str:
    env = {**os.environ, "TZ": "UTC", "LANG": "C.UTF-8"}
    done = subprocess.run([BANJAIL, *args], capture_output=True, text=True, env=env, timeout=120)
    return "".join(line + "\n" for line in done.stderr.splitlines() if not line.startswith("engine: "))


@pytest.mark.parametrize(
    ("path", "what"),
    [("/no/such/auth.log", "does not exist"), ("/tmp", "is a directory"), ("/dev/null", "is not a regular file")],
)
def test_a_log_path_that_is_no_file_is_tested_as_a_line_with_a_note(path: str, what: str) -> None:
    # upstream tests the text itself as a log line and exits 0; banjail does the same and says why on stderr
    out = _same_as_upstream(path, FAILED)
    assert f"Use      single line : {path}\n" in out
    assert "Lines: 1 lines, 0 ignored, 0 matched, 1 missed\n" in out
    assert _stderr(path, FAILED) == (
        f"fail2ban-regex: log file {path} {what}: testing {path!r} itself as a log line, as fail2ban does; give a "
        "readable log file\n"
    )


def _code_and_last_line(*args: str) -> tuple[int, str]:
    code, out = _run(BANJAIL, *args)
    if Path(UPSTREAM).exists():
        assert code == _run(UPSTREAM, *args)[0]
    return code, out.splitlines()[-1] if out else ""


@pytest.mark.parametrize(
    ("args", "code", "last"),
    [
        # upstream stops with a traceback (exit status 1); banjail with one line naming the problem
        (["-l", "bogus", str(LOGS / "sshd"), "sshd"], 1, "ERROR: invalid log level 'bogus' (-l); use one of "),
        (["-e", "bogus", str(LOGS / "sshd"), "sshd"], 1, "ERROR: unknown encoding: bogus; give a known encoding"),
        # the encoding of a log line given as text is never used
        (["-e", "bogus", LINE, FAILED], 0, ""),
        (["-l", "HeavyDebug", LINE, FAILED], 0, ""),
        (["-l", "7", LINE, FAILED], 0, ""),
        (["-l", "warning", LINE, FAILED], 0, ""),
        (["systemd-journal[x=1]", FAILED], 1, "ERROR: 'systemd-journal[x=1]': unknown journal option 'x'; "),
        (["systemd-journal[journalflags=x]", FAILED], 1, "ERROR: 'systemd-journal[journalflags=x]': journalflags "),
        (["systemd-journal[x", FAILED], 1, "ERROR: wrong journal options in 'systemd-journal[x': "),
        (["--timezone", "bogus", LINE, FAILED], 255, "ERROR: logtimezone = 'bogus': unknown or unsupported time zone"),
        ([LINE, "Failed ("], 255, "ERROR: failregex = 'Failed (': line 1: cannot compile: missing ), "),
        ([LINE, FAILED, "ignore("], 255, "ERROR: ignoreregex = 'ignore(': line 1: cannot compile: missing ), "),
        ([LINE, "Failed from"], 255, "ERROR: failregex = 'Failed from': line 1: no failure-id group"),
    ],
)
def test_exit_status_as_upstream(args: list[str], code: int, last: str) -> None:
    got_code, got_last = _code_and_last_line(*args)
    assert got_code == code
    if code:
        assert got_last.startswith(last)


NOFAIL_LINE = (
    "2005-07-05 18:22:44 mercury sshd[4669]: Failed publickey for invalid user graysky from 127.0.0.1 port 37954 "
    "ssh2: RSA SHA256:x"
)


def test_verbose_lists_prefregex_groups_and_every_match() -> None:
    # the line's failure (regex 3) and its <F-NOFAIL> match (regex 4) are both listed, as upstream lists them;
    # the prefregex's groups are listed under it
    out = _same_as_upstream("-v", NOFAIL_LINE, str(FILTERS / "sshd.conf")).splitlines()
    groups = "|      {'mlfid': ' mercury sshd[4669]: ', 'content': '" + NOFAIL_LINE[40:] + "'}"
    assert out[out.index("Prefregex: 1 total") + 2] == groups
    listed = [line for line in out if line.startswith(("|   3) ", "|   4) ", "|      127."))]
    assert [line[:10] for line in listed] == ["|   3) [1]", "|      127", "|   4) [1]", "|      127"]
    assert set(listed[1::2]) == {"|      127.0.0.1  Tue Jul 05 18:22:44 2005"}


@pytest.mark.parametrize(
    "args",
    [
        ["-v", str(LOGS / "sshd"), "sshd"],  # pending sessions ("None"), NOFAIL matches, 20 groups then "..."
        ["-v", str(LOGS / "sshd"), "sshd", "Failed"],  # an ignoreregex before the prefregex: its last groups again
        ["-v", "-L", "5", str(LOGS / "dropbear"), "dropbear"],
        ["-v", str(LOGS / "mongodb-auth"), "mongodb-auth"],
        ["--verbosity", "1", str(LOGS / "sshd"), "sshd[mode=aggressive]"],
    ],
    ids=["sshd", "sshd-ignoreregex", "dropbear-L5", "mongodb-auth", "sshd-aggressive"],
)
def test_verbose_report_on_samples(args: list[str]) -> None:
    assert "\n|      " in _same_as_upstream(*args)  # the listing under the regexes is there


BROKEN_FILTERS = {
    # what upstream stops on with a traceback (1), and what it reports as an error (255)
    "datepattern not a regex": ("failregex = ^x <HOST>\ndatepattern = bogus(\n", 1, "ERROR: datepattern = 'bogus(': "),
    "datepattern repeats a directive": (
        "failregex = ^x <HOST>\ndatepattern = %%Y %%Y\n", 1, "ERROR: datepattern = '%Y %Y': "
    ),
    "lone % in datepattern": ("failregex = ^x <HOST>\ndatepattern = %Y\n", 1, "ERROR: {file}:3: [Definition] "),
    "lone % in failregex": ("failregex = ^x %Y <HOST>\n", 1, "ERROR: {file}:2: [Definition] failregex = "),
    "undefined %(name)s": ("failregex = ^x %(nope)s <HOST>\n", 1, "ERROR: {file}:2: [Definition] failregex = "),
    "failregex not a regex": ("failregex = ^x( <HOST>\n", 255, "ERROR: {file}: failregex = '^x( <HOST>': "),
}


@pytest.mark.parametrize(("body", "code", "last"), list(BROKEN_FILTERS.values()), ids=list(BROKEN_FILTERS))
def test_broken_filter_file_exit_status(tmp_path: Path, body: str, code: int, last: str) -> None:
    path = tmp_path / "broken.conf"
    path.write_text("[Definition]\n" + body)
    got_code, got_last = _code_and_last_line("x 192.0.2.1", str(path))
    assert (got_code, got_last[: len(last.format(file=path))]) == (code, last.format(file=path))


def test_datepattern_option_not_a_regex_exits_1() -> None:
    assert _code_and_last_line("-d", "bogus(", LINE, FAILED)[0] == 1


@pytest.mark.parametrize(
    "args",
    [
        # an <F-MLFID> session's <F-NOFAIL> match ends the line with nothing found: no hit, the line missed
        ["--no-check-all", str(LOGS / "sshd"), "sshd"],
        ["--no-check-all", "-v", str(LOGS / "sshd"), "sshd"],
        ["--no-check-all", str(LOGS / "sshd"), "sshd[mode=aggressive]"],
    ],
    ids=["report", "verbose", "aggressive"],
)
def test_no_check_all_counts(args: list[str]) -> None:
    out = _same_as_upstream(*args)
    if args[1:] == [str(LOGS / "sshd"), "sshd"]:
        assert "Lines: 148 lines, 0 ignored, 66 matched, 82 missed\n" in out
        assert "Failregex: 66 total\n" in out


def test_no_check_all_same_on_both_engines() -> None:
    args = ["--no-check-all", str(LOGS / "sshd"), "sshd"]
    env = {**os.environ, "TZ": "UTC", "BANJAIL_ENGINE": "python"}
    done = subprocess.run([BANJAIL, *args], capture_output=True, text=True, env=env, timeout=120)
    assert _TIME.sub("[processed in X sec]", done.stdout) == _run(BANJAIL, *args)[1]
