"""banjail.config.jail.load_config: whole trees, laid over the stock tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from banjail.config.jail import load_config
from banjail.config.schema import ServerConfig
from banjail.errors import ConfigError, Problem

# The stock action library is another part's work; these tests bring a stand-in nftables action.
NFTABLES = (
    "[Definition]\nactionban = nft add <ip> <port>\nactionunban = nft del <ip>\n[Init]\ntype = multiport\n"
)


@pytest.fixture
def etc(tmp_path: Path) -> Path:
    root = tmp_path / "etc"
    (root / "action.d").mkdir(parents=True)
    (root / "action.d" / "nftables.conf").write_text(NFTABLES)
    return root


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_stock_tree_alone_gives_the_sshd_jail(etc: Path) -> None:
    config = load_config(etc)
    assert config.server == ServerConfig()
    assert [j.name for j in config.jails] == ["sshd"]
    sshd = config.jails[0]
    assert (sshd.logpath, sshd.backend, sshd.maxretry, sshd.findtime, sshd.bantime) == (
        ("/var/log/auth.log",),
        "auto",
        5,
        600.0,
        600.0,
    )
    assert sshd.filter_spec == "sshd[mode=normal]"
    assert sshd.filter.file.endswith("stock/filter.d/sshd.conf") and sshd.filter.failregex
    assert sshd.actions == ('nftables[port="ssh", protocol="tcp", chain="<known/chain>"]',)
    assert sshd.action_specs[0].options["actionban"] == "nft add <ip> ssh"
    assert (sshd.ignoreip, sshd.ignoreself, sshd.usedns, sshd.maxmatches) == (
        ("127.0.0.1/8", "::1"),
        True,
        "warn",
        5,
    )
    assert config.notices == () and config.warnings == ()


def test_jail_local_only_machine(etc: Path) -> None:
    write(etc, "jail.local", "[DEFAULT]\nbantime = 1h\n[sshd]\nmaxretry = 3\nport = 2222\n")
    write(etc, "fail2ban.local", "[Definition]\nloglevel = DEBUG\ndbpurgeage = 2d\n")
    config = load_config(etc)
    sshd = config.jails[0]
    assert (sshd.bantime, sshd.maxretry, sshd.maxmatches) == (3600.0, 3, 3)
    assert sshd.action_specs[0].options["actionban"] == "nft add <ip> 2222"
    assert (config.server.loglevel, config.server.dbpurgeage) == ("DEBUG", 172800.0)


def test_jail_conf_local_is_honoured_with_a_notice(etc: Path) -> None:
    write(etc, "jail.local", "[sshd]\nmaxretry = 3\n")
    write(etc, "jail.conf.local", "[sshd]\nmaxretry = 2\n")
    config = load_config(etc)
    assert config.jails[0].maxretry == 2
    assert config.notices == (
        f"read {etc}/jail.conf.local after jail.local: upstream fail2ban ignores jail.conf.local, banjail reads it; "
        "consider renaming it to jail.local",
    )


def test_jail_options_and_known_filter_values(etc: Path) -> None:
    write(etc, "filter.d/web.conf", "[Definition]\nfailregex = ^bad <HOST>$\nmaxlines = 2\n")
    write(
        etc,
        "jail.d/web.local",
        "[web]\nenabled = yes\nlogpath = /var/log/a.log\n   /var/log/b*.log tail\n"
        "failregex = %(known/failregex)s\n            ^worse <HOST>$\n"
        "bantime.increment = on\nbantime.multipliers = 1 2 4\nbantime.maxtime = 1w\nbantime.factor = 1.5\n"
        "ignoreip = 10.0.0.0/8, 192.0.2.1 ::1\nbackend = polling\nusedns = no\nlogtimezone = UTC\n",
    )
    web = next(j for j in load_config(etc).jails if j.name == "web")
    assert web.filter.failregex == ("^bad <HOST>$", "^worse <HOST>$")
    assert (web.filter.maxlines, web.filter.usedns, web.filter.logtimezone) == (2, "no", "UTC")
    assert web.logpath == ("/var/log/a.log", "/var/log/b*.log tail")
    assert (web.bantime_increment, web.bantime_multipliers, web.bantime_maxtime, web.bantime_factor) == (
        True,
        (1, 2, 4),
        604800.0,
        1.5,
    )
    assert web.ignoreip == ("10.0.0.0/8", "192.0.2.1", "::1")
    assert web.backend == "polling"


def test_disabled_jails_are_left_out(etc: Path) -> None:
    write(etc, "jail.local", "[sshd]\nenabled = false\n[other]\nfilter = sshd\n")
    assert load_config(etc).jails == ()


STOCK_JAIL = Path(__file__).resolve().parents[3] / "src/banjail/stock/jail.conf"
TIME_FIX = "use seconds or units, e.g. 600, 10m, 1h, 1d12h, 1w; -1 means permanent"


def test_every_bad_value_is_reported_at_once(etc: Path) -> None:
    local = str(
        write(
            etc,
            "jail.local",
            "[sshd]\nmaxretry = abc\nbantime = 1x\nfindtime = soon\nbantime.increment = perhaps\n"
            "bantime.multipliers = 1 x\naction = broken[port\n[typo]\nenabled = ture\n",
        )
    )
    maxmatches_line = STOCK_JAIL.read_text().splitlines().index("maxmatches = %(maxretry)s") + 1
    with pytest.raises(ConfigError) as info:
        load_config(etc)
    assert info.value.problems == [
        Problem(
            "invalid action specification: arguments of 'broken' must end with ']': 'broken[port'",
            local,
            7,
            "sshd",
            "action",
            "broken[port",
            'write name[key=value, key="value, with commas"]',
        ),
        Problem("is not a whole number", local, 2, "sshd", "maxretry", "abc", "use digits only, e.g. 5"),
        Problem(
            "is not a whole number (written '%(maxretry)s')",
            str(STOCK_JAIL),
            maxmatches_line,
            "sshd",
            "maxmatches",
            "abc",
            "use digits only, e.g. 5",
        ),
        Problem("is not a time value", local, 4, "sshd", "findtime", "soon", TIME_FIX),
        Problem("is not a time value", local, 3, "sshd", "bantime", "1x", TIME_FIX),
        Problem(
            "is not a boolean",
            local,
            5,
            "sshd",
            "bantime.increment",
            "perhaps",
            "use true or false (also yes/no, on/off, 1/0)",
        ),
        Problem(
            "is not a list of whole numbers",
            local,
            6,
            "sshd",
            "bantime.multipliers",
            "1 x",
            "list numbers separated by spaces, e.g. 1 2 4 8 16",
        ),
        Problem(
            "is not a boolean",
            local,
            9,
            "typo",
            "enabled",
            "ture",
            "use true or false (also yes/no, on/off, 1/0)",
        ),
    ]
    assert str(info.value).splitlines()[1] == (
        f"{local}:2: [sshd] maxretry = 'abc': is not a whole number (use digits only, e.g. 5)"
    )


@pytest.mark.parametrize(
    ("local", "problem"),
    [
        (
            "[sshd]\nmaxretries = 3\n",
            Problem(
                "unknown option: banjail does not use it and no other option refers to it",
                "{f}",
                2,
                "sshd",
                "maxretries",
                "3",
                "did you mean maxretry?",
                "warning",
            ),
        ),
        (
            "[DEFAULT]\nbantime.incremnt = true\nmy_helper = 1\n",
            Problem(
                "unknown option: banjail does not use it and no other option refers to it",
                "{f}",
                2,
                "DEFAULT",
                "bantime.incremnt",
                "true",
                "did you mean bantime.increment?",
                "warning",
            ),
        ),
        (
            "[sshd]\nfilter =\n",
            Problem(
                "no filter set: this jail reads its logs but can never ban",
                "{f}",
                2,
                "sshd",
                "filter",
                fix="set filter = <name of a file in filter.d>",
                severity="warning",
            ),
        ),
        (
            "[sshd]\nfrobnicate = 1\n",
            Problem(
                "unknown option: banjail does not use it and no other option refers to it",
                "{f}",
                2,
                "sshd",
                "frobnicate",
                "1",
                "remove it, or check its spelling",
                "warning",
            ),
        ),
    ],
)
def test_unknown_options_are_warned_about(etc: Path, local: str, problem: Problem) -> None:
    f = str(write(etc, "jail.local", local))
    config = load_config(etc)
    assert config.warnings == (
        Problem(
            problem.message,
            f,
            problem.line,
            problem.section,
            problem.option,
            problem.value,
            problem.fix,
            problem.severity,
        ),
    )


def test_options_referenced_elsewhere_are_not_unknown(etc: Path) -> None:
    write(etc, "jail.local", "[DEFAULT]\nmyport = 2222\nport = %(myport)s\n[sshd]\nmyport = 22\n")
    config = load_config(etc)
    assert config.warnings == ()
    assert config.jails[0].action_specs[0].options["actionban"] == "nft add <ip> ssh"


@pytest.mark.parametrize(
    ("local", "message"),
    [
        ("[sshd]\nfilter = nothere\n", "filter 'nothere' not found"),
        ("[sshd]\naction = nothere\n", "action 'nothere' not found"),
    ],
)
def test_missing_filter_or_action_names_the_jail_line(etc: Path, local: str, message: str) -> None:
    f = str(write(etc, "jail.local", local))
    with pytest.raises(ConfigError) as info:
        load_config(etc)
    [problem] = info.value.problems
    assert (problem.message, problem.file, problem.line, problem.section) == (message, f, 2, "sshd")


def test_server_options_bad_values(etc: Path) -> None:
    f = str(write(etc, "fail2ban.local", "[Definition]\ndbmaxmatches = lots\n"))
    with pytest.raises(ConfigError) as info:
        load_config(etc)
    assert info.value.problems == [
        Problem(
            "is not a whole number", f, 2, "Definition", "dbmaxmatches", "lots", "use digits only, e.g. 5"
        )
    ]


def test_missing_config_dir_falls_back_to_stock_with_a_warning(tmp_path: Path) -> None:
    config_dir = tmp_path / "absent"
    stock = tmp_path / "stock"
    stock.mkdir()
    (stock / "jail.conf").write_text("[DEFAULT]\nenabled = false\n[sshd]\n")
    config = load_config(config_dir, stock_dir=stock)
    assert config.jails == ()
    assert config.warnings == (
        Problem(
            f"config directory {config_dir} does not exist; only banjail's stock configuration is used",
            str(config_dir),
            fix="create it, or pass the right directory with -c",
            severity="warning",
        ),
    )
