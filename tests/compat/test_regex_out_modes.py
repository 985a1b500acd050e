"""`fail2ban-regex -o TOKEN` through both installed commands, banjail's and upstream's 1.0.2, over upstream's sample
logs with the filter of the same name (in the sample tests' zone): the same stdout byte for byte and the same
exit status, for every token upstream's --help offers and tags of its templates.

What upstream prints differently from run to run is made comparable first, and nothing else: a time that is the
current time (a line whose empty date takes now: upstream calls time() per line, banjail once per run), and the
order of a set's members (upstream's follows Python's string hashes; banjail's is text order). `-o row` runs over
every sample log; the other tokens over a few that hold their cases (sessions with users, dates with a zone,
lines without a date, multi-line buffers, an empty date match), to keep the run short. (The same comparison of
every token over every log: see the report of the branch that added this file.)"""

from __future__ import annotations

import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .corpus import CONFIG_DIR, SAMPLES_DIR, TEST_TZ
from .engines import REGEX_COMMAND

UPSTREAM = "/usr/bin/fail2ban-regex"

pytestmark = [
    pytest.mark.compat,
    pytest.mark.skipif(
        not Path(UPSTREAM).exists() or not SAMPLES_DIR.is_dir(), reason="upstream fail2ban-regex is not installed"
    ),
]

# every sample log named like one of upstream's filters
LOGS = sorted(p.name for p in SAMPLES_DIR.glob("*") if (CONFIG_DIR / "filter.d" / f"{p.name}.conf").exists())
# the logs holding each case: <F-MLFID> sessions and users (sshd, pam-generic), zoned dates (dovecot,
# mongodb-auth, monit), undated lines (murmur, named-refused), empty date matches (guacamole, ejabberd-auth),
# a multi-line buffer (mongodb-auth), <F-ID> and a prefregex (selinux-ssh, nginx-http-auth)
CASES = ["sshd", "pam-generic", "dovecot", "mongodb-auth", "monit", "murmur", "named-refused", "guacamole",
         "ejabberd-auth", "selinux-ssh", "nginx-http-auth"]  # fmt: skip
SIMPLE = ["sshd", "murmur"]
SIMPLE_TOKENS = ["id", "fid", "ip", "msg", "dns", "host", "ip4", "ip6", "user", "mlfid", "USER", "F-USER",
                 "<time>", "<ip>", "<F-USER>", "<msg>", "<matches>", "<F-ID> <fid> <ip4> <user> <users>"]  # fmt: skip
TOKENS = {
    "row": LOGS,
    "matches": CASES,
    "users": CASES,
    "<ip> <time> <F-USER>": CASES,
    **{token: SIMPLE for token in SIMPLE_TOKENS},
}

_STR = r"(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
_SET = re.compile(r"\{(" + _STR + r"(?:, " + _STR + r")+)\}")
_FLOAT = re.compile(r"\b(\d{10})\.\d+\b")


def _comparable(text: str, started: float) -> str:
    def members(m: re.Match[str]) -> str:
        return "{" + ", ".join(sorted(re.findall(_STR, m.group(1)))) + "}"

    def now_or_date(m: re.Match[str]) -> str:
        # a current time (not a date of the 2005-2020 samples) and its float digits differ per run
        return "NOW" if int(m.group(1)) >= started - 60 else m.group(0)

    return _FLOAT.sub(now_or_date, _SET.sub(members, text))


def _run(command: str, token: str, log: str) -> tuple[int, str]:
    env = {**os.environ, "TZ": TEST_TZ, "LANG": "C.UTF-8"}
    started = time.time()
    done = subprocess.run(
        [command, "-o", token, str(SAMPLES_DIR / log), log], capture_output=True, text=True, env=env, timeout=120
    )
    return done.returncode, _comparable(done.stdout, started)


def _differs(job: tuple[str, str]) -> str | None:
    token, log = job
    ours, theirs = _run(str(REGEX_COMMAND), token, log), _run(UPSTREAM, token, log)
    if ours == theirs:
        return None
    mine, upstream = ours[1].splitlines(), theirs[1].splitlines()
    width = max(len(mine), len(upstream))
    pairs = zip(mine + [""] * (width - len(mine)), upstream + [""] * (width - len(upstream)), strict=True)
    first = next(((a, b) for a, b in pairs if a != b), ("", ""))
    return f"-o {token!r} {log}: exit {ours[0]} vs {theirs[0]}; first differing line: {first[0]!r} vs {first[1]!r}"


def test_every_out_token_prints_as_upstream() -> None:
    jobs = [(token, log) for token, logs in TOKENS.items() for log in logs]
    with ThreadPoolExecutor(2) as pool:  # two commands at a time: the machines have two cores
        differing = [d for d in pool.map(_differs, jobs) if d is not None]
    assert len(LOGS) > 80
    assert differing == []
