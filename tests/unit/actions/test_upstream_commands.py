"""Differential: for every upstream action.d file, the commands banjail runs (start, stop, check, ban, unban,
flush, repair; IPv4 and IPv6) are exactly the ones upstream runs, for ban values that need no quoting.

(Values that need quoting differ on purpose: see render.py; test_render proves those.)
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from banjail.actions.command import CommandAction
from banjail.actions.render import render
from banjail.actions.tags import BanInfo
from banjail.config.load import load_action
from banjail.errors import ConfigError
from banjail.model import Ban

UPSTREAM = Path("/etc/fail2ban")
ORACLE = Path(__file__).with_name("upstream_commands.py")
ARGS = {"port": "ssh", "protocol": "tcp", "chain": "INPUT", "logpath": "/var/log/auth.log"}
BANS = {
    "inet4": Ban("sshd", "192.0.2.1", "192.0.2.1", 1700000000.0, 1700000600.0, 2, 5, ("safe line one",)),
    "inet6": Ban("sshd", "2001:db8::1", "2001:db8::1", 1700000000.0, 1700000600.0, 2, 5, ("safe line one",)),
}
OPS = ("actionstart", "actionstop", "actioncheck", "actionban", "actionunban", "actionflush", "actionrepair")
NAMES = sorted(p.stem for p in (UPSTREAM / "action.d").glob("*.conf")) if UPSTREAM.is_dir() else []
# Tags the oracle's ban carries (upstream's action info keys, computed the way upstream does).
TAGS = (
    "ip",
    "fid",
    "failures",
    "time",
    "bantime",
    "bancount",
    "matches",
    "restored",
    "ip-rev",
    "ipmatches",
    "ipjailmatches",
    "ipfailures",
    "ipjailfailures",
    "ip-host",
)


def _oracle() -> dict[str, dict[str, str]]:
    ban = {family: {tag: BanInfo(b, family).value(tag) for tag in TAGS} for family, b in BANS.items()}
    request = {"basedir": str(UPSTREAM), "actions": [[name, ARGS] for name in NAMES], "ban": ban}
    done = subprocess.run(
        ["/usr/bin/python3", str(ORACLE)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, dict[str, str]] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def upstream() -> dict[str, dict[str, str]]:
    if not Path("/usr/bin/python3").exists() or not NAMES:
        pytest.skip("upstream fail2ban not installed")
    return _oracle()


def _ours(name: str) -> dict[str, str]:
    spec = load_action(name, config_dir=UPSTREAM, jail="sshd", args=ARGS)
    action = CommandAction(spec, jail="sshd")
    out = {}
    for family, ban in BANS.items():
        for op in OPS:
            text = action.definition.command(op, family)
            info = BanInfo(ban if op in ("actionban", "actionunban") else None, family)
            out[f"{op}/{family}"] = render(text, info.value if info.ban else _static(info)).text
    return out


def _static(info: BanInfo) -> Callable[[str], str | None]:
    """Outside ban operations and without a jail, upstream fills <family> and its constant tags only."""

    def value(tag: str) -> str | None:
        return info.value(tag) if tag in ("family", "br", "sp", "fq-hostname", "sh-hostname") else None

    return value


@pytest.mark.parametrize("name", NAMES)
def test_commands_equal_upstreams(upstream: dict[str, dict[str, str]], name: str) -> None:
    expected = upstream[name]
    if "error" in expected:
        with pytest.raises(ConfigError):
            _ours(name)
        return
    ours = _ours(name)
    # A library file without the option: upstream would run the tag text ("<actionstart>"); banjail runs nothing.
    different = {
        key: (ours[key], expected[key])
        for key in expected
        if ours[key] != expected[key] and not (ours[key] == "" and expected[key] == f"<{key.split('/')[0]}>")
    }
    assert different == {}
