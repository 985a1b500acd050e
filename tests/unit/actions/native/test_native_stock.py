"""banjail's own action.d: every file loads, runs as the implementation it declares, and the stock jail.conf
macros work on a machine whose /etc/fail2ban holds only a jail.local."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from banjail.actions.base import Action
from banjail.actions.command import CommandAction
from banjail.actions.ipset import IpsetAction
from banjail.actions.mail import MailAction
from banjail.actions.native import native_action
from banjail.actions.nftables import NftablesAction
from banjail.actions.registry import build_action, build_actions
from banjail.actions.runner import Runner
from banjail.config.load import STOCK_DIR, load_action, load_config
from banjail.config.schema import ActionSpec
from banjail.errors import ConfigError
from banjail.model import Ban

KINDS: dict[str, type[Action]] = {
    "dummy": CommandAction,
    "firewallcmd-ipset": CommandAction,
    "firewallcmd-rich-rules": CommandAction,
    "hostsdeny": CommandAction,
    "iptables": CommandAction,
    "iptables-allports": CommandAction,
    "iptables-ipset": IpsetAction,
    "iptables-ipset-proto4": IpsetAction,
    "iptables-ipset-proto6": IpsetAction,
    "iptables-ipset-proto6-allports": IpsetAction,
    "iptables-multiport": CommandAction,
    "mail": MailAction,
    "mail-whois": MailAction,
    "mail-whois-lines": MailAction,
    "nftables": NftablesAction,
    "nftables-allports": NftablesAction,
    "nftables-multiport": NftablesAction,
    "route": CommandAction,
    "sendmail": MailAction,
    "sendmail-whois": MailAction,
    "sendmail-whois-lines": MailAction,
    "smtp": MailAction,
    "ufw": CommandAction,
}


def test_the_table_lists_every_stock_action() -> None:
    files = {p.stem for p in (STOCK_DIR / "action.d").glob("*.conf")}
    assert files - {"sendmail-common"} == set(KINDS)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_stock_action_loads_natively_and_as_commands(name: str, tmp_path: Path) -> None:
    options = {"port": "ssh", "protocol": "tcp", "chain": "<known/chain>"}
    spec = load_action(name, config_dir=tmp_path, jail="sshd", jail_options=options)
    assert spec.file == str(STOCK_DIR / "action.d" / f"{name}.conf")
    assert isinstance(build_action(spec, jail="sshd"), KINDS[name])
    if name != "smtp":  # smtp exists only natively
        plain = load_action(name, config_dir=tmp_path, jail="sshd", jail_options=options, args={"native": ""})
        assert isinstance(build_action(plain, jail="sshd"), CommandAction)
        assert plain.options["actionban"].strip()


def test_an_unknown_native_kind_is_a_config_error() -> None:
    spec = ActionSpec("x", "/etc/fail2ban/action.d/x.conf", {"native": "pf"})
    with pytest.raises(ConfigError) as caught:
        native_action(spec, jail="sshd")
    assert str(caught.value) == (
        "/etc/fail2ban/action.d/x.conf: [Init] native = 'pf': unknown native action "
        "(use one of nftables, ipset, mail, or leave it empty to run the commands)"
    )


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ("", [("nftables", NftablesAction)]),
        ("action = %(action_mw)s\n", [("nftables", NftablesAction), ("sendmail-whois", MailAction)]),
        ("action = %(action_mwl)s\n", [("nftables", NftablesAction), ("sendmail-whois-lines", MailAction)]),
        (
            "action = %(action_mwl)s\nmta = mail\nbanaction = iptables-multiport\n",
            [("iptables-multiport", CommandAction), ("mail-whois-lines", MailAction)],
        ),
        ("banaction = iptables-ipset\n", [("iptables-ipset", IpsetAction)]),
        ("action = %(banaction_allports)s\n", [("nftables", NftablesAction)]),
    ],
)
def test_jail_local_alone_with_the_stock_macros(
    tmp_path: Path, settings: str, expected: list[tuple[str, type[Action]]]
) -> None:
    log = tmp_path / "auth.log"
    log.write_text("")
    (tmp_path / "jail.local").write_text(
        f"[sshd]\nenabled = true\nlogpath = {log}\nbackend = polling\ndestemail = ops@example.org\n{settings}"
    )
    (jail,) = load_config(tmp_path).jails
    actions = build_actions(jail, config_dir=tmp_path)
    assert [(a.name, type(a)) for a in actions] == expected
    first = actions[0].properties()
    assert first.get("port") == "ssh"
    if len(actions) > 1:
        mail = actions[1].properties()
        assert (mail["dest"], mail["sender"], mail["sendername"]) == (
            "ops@example.org",
            "root@<fq-hostname>",
            "Fail2Ban",
        )
        if "lines" in actions[1].name:
            assert mail["logpath"] == str(log)


def test_allports_macro_closes_every_port(tmp_path: Path) -> None:
    (tmp_path / "jail.local").write_text(
        "[sshd]\nenabled = true\nlogpath = /dev/null\nbackend = polling\naction = %(banaction_allports)s\n"
    )
    (jail,) = load_config(tmp_path).jails
    (action,) = build_actions(jail, config_dir=tmp_path)
    assert isinstance(action, NftablesAction)
    assert action.layout.match == "meta l4proto { tcp }"


def test_dummy_and_hostsdeny_record_bans_in_files(tmp_path: Path) -> None:
    target, deny = tmp_path / "dummy.txt", tmp_path / "hosts.deny"
    deny.write_text("sshd: 10.0.0.9\n")
    dummy = build_action(load_action("dummy", config_dir=tmp_path, args={"target": str(target)}), jail="j")
    hosts = build_action(load_action("hostsdeny", config_dir=tmp_path, args={"file": str(deny)}), jail="j")
    v4 = Ban("j", "10.0.0.1", "10.0.0.1", 1.0, 601.0, 1, 5)
    v6 = Ban("j", "2001:db8::1", "2001:db8::1", 1.0, 601.0, 1, 5)

    async def scenario() -> None:
        for action in (dummy, hosts):
            await action.start()
            await action.ban([v4, v6])
        assert target.read_text() == "+10.0.0.1\n+2001:db8::1\n"
        assert deny.read_text() == "sshd: 10.0.0.9\nALL: 10.0.0.1\nALL: [2001:db8::1]\n"
        for action in (dummy, hosts):
            await action.unban([v4])
        assert target.read_text() == "+10.0.0.1\n+2001:db8::1\n-10.0.0.1\n"
        assert deny.read_text() == "sshd: 10.0.0.9\nALL: [2001:db8::1]\n"
        await dummy.stop()

    asyncio.run(scenario())
    assert not target.exists()


def test_command_form_of_the_mail_quotes_log_values(tmp_path: Path) -> None:
    out = tmp_path / "mail.txt"
    fake = tmp_path / "sendmail"
    fake.write_text(f"#!/bin/sh\ncat > {out}\n")
    fake.chmod(0o755)
    spec = load_action(
        "sendmail",
        config_dir=tmp_path,
        jail="sshd",
        args={"native": "", "sendmail": str(fake), "dest": "a@example.org", "sender": "b@example.org"},
    )
    action = build_action(spec, jail="sshd", runner=Runner())
    asyncio.run(action.ban([Ban("sshd", "10.0.0.1", "10.0.0.1", 1.0, 601.0, 1, 4)]))
    text = out.read_text()
    assert text.startswith("Subject: [Fail2Ban] sshd: banned 10.0.0.1 from ")
    assert "From: Fail2Ban <b@example.org>\nTo: a@example.org\n\n" in text
    assert text.endswith(
        "\n\nHi,\n\nThe IP 10.0.0.1 has just been banned by Fail2Ban after\n4 attempts against sshd.\n\n"
        "Regards,\n\nFail2Ban\n"
    )
