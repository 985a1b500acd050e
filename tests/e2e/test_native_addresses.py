"""The native step's address table and its own reading of plain IPv4 addresses, through the installed
fail2ban-regex --json with upstream's sshd filter: a log of sshd sessions whose addresses are generated from
what <HOST> captures (dotted quads with leading zeros, octets past 255, the extremes, IPv4-mapped and IPv6 forms)
and 3,000 distinct plain addresses (more than the table's 1024 slots, so slots are taken over), each address
seen in several sessions, in random order. The native engine's output must be the Python engine's, byte for
byte."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from banjail.filter import native

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not native.built(), reason="the native engine is not built"),
    pytest.mark.skipif(not Path("/etc/fail2ban/filter.d/sshd.conf").exists(), reason="needs upstream's sshd filter"),
]

REGEX = str(Path(sys.executable).parent / "fail2ban-regex")
NOW = 1_800_000_000


def _edge_addresses() -> list[str]:
    """Each octet position taking each form <HOST>'s \\d{1,3} admits that reads differently: 0, 00, 000, 01, 001,
    010, 255, 256, 999; plus the mapped and IPv6 spellings of a few."""
    forms = ("0", "00", "000", "01", "001", "010", "7", "255", "256", "999")
    out = []
    for at in range(4):
        for form in forms:
            octets = ["10", "1", "2", "3"]
            octets[at] = form
            out.append(".".join(octets))
    return [*out, "::ffff:10.1.2.3", "::FFFF:010.1.2.3", "2001:db8::1", "2001:0db8:0000::0001", "::1"]


def _log(path: Path) -> int:
    rng = random.Random(5)
    texts = _edge_addresses() * 6 + [f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}" for n in range(3000)] * 2
    rng.shuffle(texts)
    lines = []
    for k, ip in enumerate(texts):
        stamp = f"Jan 15 0{k // 3600 % 10}:{k // 60 % 60:02d}:{k % 60:02d}"
        pid = 1000 + k
        lines += [
            f"{stamp} host sshd[{pid}]: Connection from {ip} port 22 on 10.0.0.1 port 22",
            f"{stamp} host sshd[{pid}]: Invalid user u{k % 7} from {ip} port 22",
            f"{stamp} host sshd[{pid}]: Failed password for invalid user u{k % 7} from {ip} port 22 ssh2",
        ]
    path.write_text("".join(line + "\n" for line in lines))
    return len(lines)


def _run(log: Path, engine: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "BANJAIL_ENGINE"}
    if engine is not None:
        env["BANJAIL_ENGINE"] = engine
    return subprocess.run(
        [REGEX, "--json", "--now", str(NOW), str(log), "/etc/fail2ban/filter.d/sshd.conf"],
        capture_output=True, text=True, env=env, timeout=300, check=True,
    )  # fmt: skip


def test_native_addresses_equal_the_python_engine(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    count = _log(log)
    reference, candidate = _run(log, "python"), _run(log, None)
    assert candidate.stderr.splitlines()[-1].startswith(
        f"engine: native ({native.version()}), {count} of {count} lines natively"
    ), candidate.stderr
    assert candidate.stdout == reference.stdout
    failures = reference.stdout.count('"id": ')
    assert failures > 6000  # the edge addresses and the plain ones all reach failures
    assert '"id": "001.2.3.4"' in reference.stdout or '"id": "001.1.2.3"' in reference.stdout
