"""banjail's stock jail.conf and paths-*.conf: every filter of the library has a jail, every jail loads on every
distribution with nothing but the stock tree (an empty config dir), and resolves to the log locations, backends,
ports and actions each distribution's services really use.

A distribution other than Debian is chosen the way jail.conf tells users to: `[INCLUDES] before =
paths-<distribution>.conf` in jail.local. A copy of the stock tree whose jail.conf includes that file directly
must give the same jails (so the jail.local route leaves no Debian value behind).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from banjail.config import STOCK_DIR, load_config
from banjail.config.ini import Entry
from banjail.config.overlay import Overlay
from banjail.config.schema import Config, JailConfig

JAIL_CONF = STOCK_DIR / "jail.conf"
DISTRIBUTIONS = ("debian", "fedora", "arch", "opensuse")


def _jail_names() -> list[str]:
    sections = re.findall(r"^\[([^\]]+)\]", JAIL_CONF.read_text(encoding="utf-8"), re.MULTILINE)
    return [s for s in sections if s not in ("INCLUDES", "DEFAULT")]


def _filter_names() -> list[str]:
    return sorted(
        p.stem
        for p in (STOCK_DIR / "filter.d").glob("*.conf")
        if p.stem != "common" and not p.stem.endswith("-common")
    )


def _enable_all(distribution: str | None = None) -> str:
    head = f"[INCLUDES]\nbefore = paths-{distribution}.conf\n\n" if distribution else ""
    return head + "".join(f"[{name}]\nenabled = true\n\n" for name in _jail_names())


def _load(config_dir: Path, jail_local: str | None, stock_dir: Path = STOCK_DIR) -> Config:
    if jail_local is not None:
        (config_dir / "jail.local").write_text(jail_local, encoding="utf-8")
    return load_config(config_dir, stock_dir=stock_dir)


def _where(jail: JailConfig) -> tuple[str, ...]:
    return (jail.backend, *jail.logpath)


_WEB_ERROR = ("apache-auth", "apache-noscript", "apache-overflows", "apache-nohome", "apache-botsearch")
_MAIL = ("postfix", "postfix-sasl", "dovecot", "courier-auth", "sendmail-auth")


def _same_everywhere() -> dict[str, tuple[str, ...]]:
    return {
        "selinux-ssh": ("auto", "/var/log/audit/audit.log"),
        "nginx-http-auth": ("auto", "/var/log/nginx/*error.log"),
        "nginx-limit-req": ("auto", "/var/log/nginx/*error.log"),
        "nginx-botsearch": ("auto", "/var/log/nginx/*error.log", "/var/log/nginx/*access.log"),
        "nginx-bad-request": ("auto", "/var/log/nginx/*access.log"),
        "traefik-auth": ("auto", "/var/log/traefik/access.log"),
        "grafana": ("auto", "/var/log/grafana/grafana.log"),
        "gitea": ("auto", "/var/lib/gitea/log/gitea.log"),
        "vaultwarden": ("auto", "/var/log/vaultwarden.log"),
        "proxmox": ("systemd",),
        "vsftpd": ("auto", "/var/log/vsftpd.log"),
        "named-refused": ("auto", "/var/log/named/security.log"),
        "named-refused-udp": ("auto", "/var/log/named/security.log"),
        "openvpn": ("auto", "/var/log/openvpn/openvpn.log"),
        "recidive": ("auto", "/var/log/fail2ban.log"),
        "asterisk": ("auto", "/var/log/asterisk/messages"),
        "haproxy-http-auth": ("auto", "/var/log/haproxy.log"),
        "lighttpd-auth": ("auto", "/var/log/lighttpd/error.log"),
        "mongodb-auth": ("auto", "/var/log/mongodb/mongod.log"),
        "monit": ("auto", "/var/log/monit.log"),
        "murmur": ("auto", "/var/log/mumble-server/mumble-server.log"),
        "portsentry": ("auto", "/var/lib/portsentry/portsentry.history"),
        "znc-adminlog": ("auto", "/var/lib/znc/moddata/adminlog/znc.log"),
    }


def _distribution(
    *,
    ssh: tuple[str, str],
    authpriv: tuple[str, str],
    apache: str,
    apache_suffix: str,
    roundcube: str,
    proftpd: tuple[str, str],
    pureftpd: tuple[str, str],
    mail: tuple[str, str],
    exim: str,
    mysql: tuple[str, ...],
) -> dict[str, tuple[str, ...]]:
    """The jails' (backend, logpath...) on one distribution, from that distribution's facts."""
    error_log = f"{apache}/*error{apache_suffix}"
    access_log = f"{apache}/*access{apache_suffix}"
    where = _same_everywhere()
    where |= {name: ("auto", error_log) for name in _WEB_ERROR}
    where |= {
        "sshd": ssh,
        "pam-generic": authpriv,
        "phpmyadmin-syslog": authpriv,
        "apache-badbots": ("auto", access_log),
        "php-url-fopen": ("auto", access_log, "/var/log/nginx/*access.log"),
        "roundcube-auth": ("auto", roundcube),
        "proftpd": proftpd,
        "pure-ftpd": pureftpd,
        "exim": ("auto", exim),
        "mysqld-auth": mysql,
    }
    where |= {name: mail for name in _MAIL}
    return where


# On Arch the journal is the system log: services without files of their own are read there, and the log paths
# of those jails are never opened (a syslog-ng install would use them once the backend is changed).
EXPECTED: dict[str, dict[str, tuple[str, ...]]] = {
    "debian": _distribution(
        ssh=("auto", "/var/log/auth.log"),
        authpriv=("auto", "/var/log/auth.log"),
        apache="/var/log/apache2",
        apache_suffix=".log",
        roundcube="/var/log/roundcube/errors.log",
        proftpd=("auto", "/var/log/proftpd/proftpd.log"),
        pureftpd=("auto", "/var/log/syslog"),
        mail=("auto", "/var/log/mail.log"),
        exim="/var/log/exim4/mainlog",
        mysql=("auto", "/var/log/mysql/error.log"),
    ),
    "fedora": _distribution(
        ssh=("systemd", "/var/log/secure"),
        authpriv=("auto", "/var/log/secure"),
        apache="/var/log/httpd",
        apache_suffix="_log",
        roundcube="/var/log/roundcubemail/errors.log",
        proftpd=("auto", "/var/log/secure"),
        pureftpd=("auto", "/var/log/messages"),
        mail=("auto", "/var/log/maillog"),
        exim="/var/log/exim/main.log",
        mysql=("auto", "/var/log/mariadb/mariadb.log", "/var/log/mysqld.log"),
    ),
    "arch": _distribution(
        ssh=("systemd", "/var/log/auth.log"),
        authpriv=("systemd", "/var/log/auth.log"),
        apache="/var/log/httpd",
        apache_suffix="_log",
        roundcube="/var/log/roundcubemail/errors.log",
        proftpd=("systemd", "/var/log/messages"),
        pureftpd=("systemd", "/var/log/messages"),
        mail=("systemd", "/var/log/mail.log"),
        exim="/var/log/exim/main.log",
        mysql=("systemd", "/var/log/messages"),
    ),
    "opensuse": _distribution(
        ssh=("systemd", "/var/log/messages"),
        authpriv=("auto", "/var/log/messages"),
        apache="/var/log/apache2",
        apache_suffix="_log",
        roundcube="/var/log/roundcube/errors.log",
        proftpd=("auto", "/var/log/messages"),
        pureftpd=("auto", "/var/log/messages"),
        mail=("auto", "/var/log/mail"),
        exim="/var/log/exim/main.log",
        mysql=("auto", "/var/log/mysql/mysqld.log"),
    ),
}

# jail -> (ports closed, protocol, nftables type): the services' own ports.
HTTP = ("http,https", "tcp", "multiport")
FTP = ("ftp,ftp-data,ftps,ftps-data", "tcp", "multiport")
SMTP = ("smtp,465,submission", "tcp", "multiport")
MAIL_AUTH = ("smtp,465,submission,imap,imaps,pop3,pop3s", "tcp", "multiport")
ALL_PORTS = ("0:65535", "tcp", "allports")
PORTS: dict[str, tuple[str, str, str]] = {
    "sshd": ("ssh", "tcp", "multiport"),
    "selinux-ssh": ("ssh", "tcp", "multiport"),
    "pam-generic": ALL_PORTS,
    **{name: HTTP for name in (*_WEB_ERROR, "apache-badbots", "php-url-fopen")},
    **{name: HTTP for name in ("nginx-http-auth", "nginx-limit-req", "nginx-botsearch", "nginx-bad-request")},
    **{name: HTTP for name in ("traefik-auth", "roundcube-auth", "phpmyadmin-syslog", "gitea", "vaultwarden")},
    "grafana": ("3000", "tcp", "multiport"),
    "proxmox": ("https,8006", "tcp", "multiport"),
    "vsftpd": FTP,
    "proftpd": FTP,
    "pure-ftpd": FTP,
    "postfix": SMTP,
    "postfix-sasl": MAIL_AUTH,
    "dovecot": ("pop3,pop3s,imap,imaps,submission,465,sieve", "tcp", "multiport"),
    "courier-auth": MAIL_AUTH,
    "exim": SMTP,
    "sendmail-auth": ("submission,465,smtp", "tcp", "multiport"),
    "named-refused": ("domain,953", "tcp", "multiport"),
    "named-refused-udp": ("domain,953", "udp", "multiport"),
    "mysqld-auth": ("3306", "tcp", "multiport"),
    "openvpn": ("1194", "udp", "multiport"),
    "recidive": ALL_PORTS,
    # issue 9's added services
    "asterisk": ALL_PORTS,
    "haproxy-http-auth": HTTP,
    "lighttpd-auth": HTTP,
    "mongodb-auth": ("27017", "tcp", "multiport"),
    "monit": ("2812", "tcp", "multiport"),
    "murmur": ("64738", "tcp", "multiport"),
    "portsentry": ALL_PORTS,
    "znc-adminlog": ("6697", "tcp", "multiport"),
}


def test_every_filter_of_the_library_has_a_jail_and_every_jail_a_filter() -> None:
    config_names = {name for name in _jail_names() if name != "named-refused-udp"}
    assert sorted(config_names) == _filter_names()
    assert len(_jail_names()) == 43


def test_only_sshd_is_enabled_by_default(tmp_path: Path) -> None:
    config = _load(tmp_path, None)
    assert [j.name for j in config.jails] == ["sshd"]
    assert config.warnings == ()
    assert config.notices == ()
    sshd = config.jails[0]
    assert sshd.filter_spec == "sshd[mode=normal]"
    assert sshd.actions == ('nftables[port="ssh", protocol="tcp", chain="<known/chain>"]',)
    assert (sshd.maxretry, sshd.findtime, sshd.bantime) == (5, 600.0, 600.0)


def test_a_machine_with_only_jail_local_is_protected(tmp_path: Path) -> None:
    etc = tmp_path / "etc" / "fail2ban"
    etc.mkdir(parents=True)
    config = _load(etc, "[sshd]\nenabled = true\n")
    assert [(j.name, _where(j)) for j in config.jails] == [("sshd", ("auto", "/var/log/auth.log"))]
    assert config.warnings == ()
    assert config.files[-1] == str(etc / "jail.local")
    assert config.jails[0].filter.failregex
    assert [a.name for a in config.jails[0].action_specs] == ["nftables"]


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_every_jail_enabled_loads_without_a_warning(distribution: str, tmp_path: Path) -> None:
    # Debian is jail.conf's own choice: its jail.local names no paths file.
    config = _load(tmp_path, _enable_all(None if distribution == "debian" else distribution))
    assert config.warnings == ()
    assert config.notices == ()
    assert [j.name for j in config.jails] == _jail_names()
    assert {j.name: _where(j) for j in config.jails} == EXPECTED[distribution]


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_jail_local_include_equals_a_stock_tree_that_includes_the_distribution(
    distribution: str, tmp_path: Path
) -> None:
    stock = tmp_path / "stock"
    shutil.copytree(STOCK_DIR, stock)
    text = (stock / "jail.conf").read_text(encoding="utf-8")
    assert text.count("before = paths-debian.conf\n") == 1
    (stock / "jail.conf").write_text(
        text.replace("before = paths-debian.conf\n", f"before = paths-{distribution}.conf\n"), encoding="utf-8"
    )
    empty = tmp_path / "etc"
    empty.mkdir()
    copied = _load(empty, _enable_all(), stock_dir=stock)
    assert copied.warnings == ()
    assert {j.name: _where(j) for j in copied.jails} == EXPECTED[distribution]


def test_every_jail_resolves_its_filter_and_actions(tmp_path: Path) -> None:
    config = _load(tmp_path, _enable_all())
    for jail in config.jails:
        stem = "named-refused" if jail.name == "named-refused-udp" else jail.name
        assert jail.filter.file == str(STOCK_DIR / "filter.d" / f"{stem}.conf"), jail.name
        assert jail.filter.failregex, jail.name
        assert [a.name for a in jail.action_specs] == ["nftables"], jail.name
        init = jail.action_specs[0].init
        assert (init["port"], init["protocol"], init["type"]) == PORTS[jail.name], jail.name


@pytest.mark.parametrize(
    ("jail", "option", "value"),
    [
        ("postfix", "filter_spec", "postfix[mode=more]"),
        ("named-refused-udp", "filter_spec", "named-refused"),
        ("apache-badbots", "maxretry", 1),
        ("apache-badbots", "bantime", 172800.0),
        ("recidive", "bantime", 604800.0),
        ("recidive", "findtime", 86400.0),
        ("recidive", "maxretry", 5),
        ("proftpd", "journalmatch", ("_SYSTEMD_UNIT=proftpd.service",)),
        ("proxmox", "journalmatch", ("_SYSTEMD_UNIT=pvedaemon.service",)),
        ("phpmyadmin-syslog", "journalmatch", ("SYSLOG_IDENTIFIER=phpMyAdmin",)),
        ("sshd", "journalmatch", ("_SYSTEMD_UNIT=sshd.service + _SYSTEMD_UNIT=ssh.service + _COMM=sshd + _COMM=sshd-session",)),
    ],
)
def test_jail_specific_values(jail: str, option: str, value: object, tmp_path: Path) -> None:
    config = _load(tmp_path, _enable_all())
    (found,) = [j for j in config.jails if j.name == jail]
    assert getattr(found, option) == value


def test_journal_jails_have_a_journalmatch(tmp_path: Path) -> None:
    # A systemd backend without a journalmatch would read every entry of the journal.
    for distribution in DISTRIBUTIONS:
        jail_local = _enable_all(None if distribution == "debian" else distribution)
        config = _load(tmp_path, jail_local)
        bare = [j.name for j in config.jails if j.backend == "systemd" and not j.journalmatch]
        # Both log under names that vary (any PAM service; imapd, pop3d-ssl, ...): said so in jail.conf.
        expected = ["pam-generic", "courier-auth"] if distribution == "arch" else []
        assert bare == expected, distribution


def _paths_variables() -> list[str]:
    """The %(name)s values jail sections take from paths-*.conf (those ending in _log or _backend, and the
    syslog_* facilities)."""
    text = JAIL_CONF.read_text(encoding="utf-8").split("# --- Jails", 1)[1]
    names = set(re.findall(r"%\((\w+)\)s", text))
    return sorted(n for n in names if n.endswith(("_log", "_backend")) or n.startswith("syslog_"))


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_each_paths_file_defines_every_variable_the_jails_use(distribution: str, tmp_path: Path) -> None:
    tree = Overlay(tmp_path).read_name(f"paths-{distribution}")
    assert tree.problems == []
    tree.defaults["backend"] = Entry("auto")  # jail.conf's, which the paths files refer to
    used = _paths_variables()
    assert len(used) >= 15
    values = {name: tree.get("DEFAULT", name) for name in used}
    assert [name for name, value in values.items() if not (value or "").strip()] == []
