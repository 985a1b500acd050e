"""build_actions: a jail's `action` entries become Action objects, in order."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from banjail.actions.command import CommandAction
from banjail.actions.python import PythonAction
from banjail.actions.registry import build_actions
from banjail.actions.runner import Runner
from banjail.config.load import load_config
from banjail.config.schema import JailConfig
from banjail.errors import ConfigError
from banjail.model import Ban

UPSTREAM = Path("/etc/fail2ban")
pytestmark = pytest.mark.skipif(
    not (UPSTREAM / "jail.conf").exists(), reason="upstream fail2ban not installed"
)


def test_entries_are_resolved_when_the_loader_did_not() -> None:
    jail = JailConfig(
        "sshd",
        actions=(
            "iptables-multiport[port=ssh]",
            "sendmail[name=other, dest=x@example.org]",
            "smtp.py[host=h]",
        ),
        options={"protocol": "tcp", "chain": "INPUT"},
    )
    actions = build_actions(jail, config_dir=UPSTREAM)
    assert [type(a) for a in actions] == [CommandAction, CommandAction, PythonAction]
    assert [a.name for a in actions] == ["iptables-multiport", "sendmail-other", "smtp"]
    assert actions[0].properties()["port"] == "ssh"
    assert actions[1].properties()["dest"] == "x@example.org"


def test_unknown_action_names_the_problem() -> None:
    with pytest.raises(ConfigError, match="action 'nosuch' not found"):
        build_actions(JailConfig("sshd", actions=("nosuch",)), config_dir=UPSTREAM)


def test_a_jail_from_upstreams_config_with_action_mwl(tmp_path: Path) -> None:
    config = tmp_path / "fail2ban"
    shutil.copytree(UPSTREAM, config)
    log = tmp_path / "auth.log"
    log.write_text("")
    (config / "jail.local").write_text(
        f"[sshd]\nenabled = true\nlogpath = {log}\nbackend = polling\naction = %(action_mwl)s\n"
        f"banaction = dummy[target={tmp_path}/dummy.txt]\nmta = sendmail\ndestemail = admin@example.org\n"
    )
    (jail,) = load_config(config).jails
    dummy, mail = build_actions(jail, config_dir=config, runner=Runner(env={"PATH": "/nonexistent"}))
    assert (dummy.name, mail.name) == ("dummy", "sendmail-whois-lines")
    assert mail.properties()["dest"] == "admin@example.org"
    assert isinstance(dummy, CommandAction)
    asyncio.run(dummy.ban([Ban("sshd", "192.0.2.1", "192.0.2.1", 1.0, 601.0, 1, 5)]))
    assert (tmp_path / "dummy.txt").read_text() == "+192.0.2.1\n"
