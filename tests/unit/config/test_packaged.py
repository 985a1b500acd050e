"""fail2ban's unmodified packaged filter files (md5 as dpkg records it) are not the user's: a name reads banjail's
hardened filter of that name instead, with the user's .local files and the jail's options; `packagedfilter = file`
keeps the file; an edited file is the user's. Upstream's files are copied from /etc/fail2ban at run time into a temp
config dir, and a temp dpkg status file records their md5s."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from banjail.config import packaged
from banjail.config.definition import read_definition_file
from banjail.config.load import STOCK_DIR, load_config, load_filter
from banjail.errors import ConfigError

UPSTREAM = Path("/etc/fail2ban/filter.d")
STOCK = STOCK_DIR / "filter.d"
pytestmark = pytest.mark.skipif(
    not (UPSTREAM / "sshd.conf").is_file(), reason="upstream fail2ban is not installed"
)

STATUS = """\
Package: fail2ban-extra
Status: install ok installed
Conffiles:
 /etc/fail2ban/filter.d/other.conf 11111111111111111111111111111111

Package: fail2ban
Status: deinstall ok config-files
Version: 1.0.2-2
Conffiles:
 /etc/default/fail2ban 66c59a6c990607ec771dbecfa8d9bc8f
 /etc/fail2ban/filter.d/a.conf 0123456789abcdef0123456789abcdef
 /etc/fail2ban/filter.d/old.conf fedcba9876543210fedcba9876543210 obsolete
 /etc/fail2ban/filter.d/going.conf 00000000000000000000000000000000 remove-on-upgrade
 /etc/fail2ban/filter.d/new.conf newconffile
 /etc/fail2ban/filter.d/bad.conf 123
Description: ban hosts
 /etc/fail2ban/filter.d/not-a-conffile.conf 22222222222222222222222222222222
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            STATUS,
            {
                "filter.d/a.conf": "0123456789abcdef0123456789abcdef",
                "filter.d/old.conf": "fedcba9876543210fedcba9876543210",
                "filter.d/going.conf": "00000000000000000000000000000000",
            },
        ),
        ("", {}),
        ("Package: fail2ban\nConffiles:\n", {}),
        ("garbage\n\n\n \x00 /etc/fail2ban/x 1\n", {}),
        (
            "Package: fail2ban\nConffiles:\n /etc/fail2ban/with space.conf 0123456789abcdef0123456789abcdef\n",
            {"with space.conf": "0123456789abcdef0123456789abcdef"},
        ),
    ],
    ids=["stanzas", "empty", "no-entries", "garbage", "space-in-path"],
)
def test_conffiles_are_read_from_dpkg_status(text: str, expected: dict[str, str]) -> None:
    assert packaged.conffiles(text) == expected


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config dir holding copies of upstream's sshd, common and apache-fakegooglebot filters, and a status file
    recording their md5s (as dpkg does for /etc/fail2ban)."""
    conf = tmp_path / "conf"
    (conf / "filter.d").mkdir(parents=True)
    rows = []
    for name in ("sshd.conf", "common.conf", "apache-fakegooglebot.conf"):
        shutil.copy(UPSTREAM / name, conf / "filter.d" / name)
        rows.append(f" /etc/fail2ban/filter.d/{name} {_md5(UPSTREAM / name)}")
    status = tmp_path / "status"
    status.write_text(
        "Package: fail2ban\nStatus: install ok installed\nConffiles:\n" + "\n".join(rows) + "\n"
    )
    monkeypatch.setenv(packaged.STATUS_ENV, str(status))
    (tmp_path / "empty").mkdir()
    return conf


@pytest.mark.parametrize("spec", ["sshd", "sshd[mode=aggressive]", "sshd[mode=ddos]", "sshd[mode=extra]"])
def test_a_packaged_filter_reads_as_banjails_own(tree: Path, spec: str) -> None:
    mine = load_filter(spec, config_dir=tree)
    assert mine.file == str(STOCK / "sshd.conf")
    assert mine == load_filter(spec, config_dir=tree.parent / "empty")
    # the file itself, as given or with the opt-out
    assert load_filter(spec, config_dir=tree, packaged=packaged.FILE).file == str(tree / "filter.d/sshd.conf")
    assert load_filter(str(tree / "filter.d/sshd.conf") + spec[4:], config_dir=tree).file == str(
        tree / "filter.d/sshd.conf"
    )


def test_the_users_local_file_still_applies(tree: Path) -> None:
    local = "[Definition]\nignoreregex = ^ignored <HOST>$\n"
    (tree / "filter.d/sshd.local").write_text(local)
    only_local = tree.parent / "local"
    (only_local / "filter.d").mkdir(parents=True)
    (only_local / "filter.d/sshd.local").write_text(local)
    mine = load_filter("sshd", config_dir=tree)
    assert mine.ignoreregex == ("^ignored <HOST>$",)
    assert mine == load_filter("sshd", config_dir=only_local)


def test_an_edited_file_is_the_users(tree: Path) -> None:
    edited = tree / "filter.d/sshd.conf"
    edited.write_text(edited.read_text() + "\n# mine\n")
    assert load_filter("sshd", config_dir=tree).file == str(edited)


def test_without_a_status_file_nothing_is_packaged(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(packaged.STATUS_ENV, str(tree / "no-such-status"))
    assert load_filter("sshd", config_dir=tree).file == str(tree / "filter.d/sshd.conf")


def _jail(tree: Path, extra: str) -> None:
    (tree / "jail.local").write_text(
        f"[DEFAULT]\nbackend = polling\n[sshd]\nenabled = true\nlogpath = {tree}/auth.log\n{extra}"
        f"[bot]\nenabled = true\nfilter = apache-fakegooglebot\nlogpath = {tree}/auth.log\n"
    )


REPLACED = (
    "filter.d/sshd.conf is fail2ban's unmodified packaged file; using banjail's hardened sshd filter "
    f"({STOCK / 'sshd.conf'}, with filter.d/common.conf) and your .local files; to use the file anyway set "
    "packagedfilter = file in [sshd] or [DEFAULT] of jail.local"
)
KEPT = (
    "filter.d/apache-fakegooglebot.conf is fail2ban's unmodified packaged file and banjail has no filter of that "
    "name: it is used as it is; `banjail audit apache-fakegooglebot` tells whether a client can aim it at another "
    "address"
)


@pytest.mark.parametrize(
    ("extra", "note", "file"),
    [
        ("filter = sshd[mode=aggressive]\n", REPLACED, STOCK / "sshd.conf"),
        ("filter = sshd\npackagedfilter = hardened\n", REPLACED, STOCK / "sshd.conf"),
        ("filter = sshd\npackagedfilter = File\n", "", Path("filter.d/sshd.conf")),
    ],
    ids=["default", "hardened", "file"],
)
def test_the_jail_says_which_filter_it_reads(tree: Path, extra: str, note: str, file: Path) -> None:
    _jail(tree, extra)
    config = load_config(tree)
    sshd, bot = config.jails
    assert sshd.filter_note == note
    assert sshd.filter.file == str(file if file.is_absolute() else tree / file)
    assert bot.filter_note == KEPT
    assert bot.filter.file == str(tree / "filter.d/apache-fakegooglebot.conf")
    assert config.notices == tuple(n for n in (note, KEPT) if n)


def test_a_bad_packagedfilter_value_is_an_error(tree: Path) -> None:
    _jail(tree, "filter = sshd\npackagedfilter = yes\n")
    with pytest.raises(ConfigError) as info:
        load_config(tree)
    assert [str(p) for p in info.value.problems] == [
        f"{tree}/jail.local:7: [sshd] packagedfilter = 'yes': is not a known choice for fail2ban's unmodified "
        "packaged filter files (use hardened (banjail's filter of the same name, the default) or file (read the "
        "packaged file as it is))"
    ]


def _replaced_names() -> list[str]:
    return sorted(
        p.stem
        for p in STOCK.glob("*.conf")
        if (UPSTREAM / p.name).is_file() and not p.stem.endswith("common")
    )


def _upstream_modes(text: str) -> list[str]:
    """The `mode` values upstream's file defines: X of every `PREFIX-X = ...` whose PREFIX is used as
    `<PREFIX-<mode>>`."""
    modes: set[str] = set()
    for prefix in set(re.findall(r"<([\w-]+)-<mode>>", text)):
        modes |= set(re.findall(rf"(?m)^{re.escape(prefix)}-(\w+)\s*=", text))
    return sorted(modes)


CASES = [
    (name, mode)
    for name in _replaced_names()
    for mode in [None, *_upstream_modes((UPSTREAM / f"{name}.conf").read_text())]
]


@pytest.mark.parametrize(("name", "mode"), CASES, ids=[f"{n}[{m}]" if m else n for n, m in CASES])
def test_banjails_filter_takes_upstreams_options(name: str, mode: str | None, tmp_path: Path) -> None:
    # every mode upstream's file of that name knows resolves in banjail's, and a journal selection upstream's
    # file makes is made by banjail's too (a `backend = systemd` jail reads only the service's entries)
    spec = f"{name}[mode={mode}]" if mode else name
    mine = load_filter(spec, config_dir=tmp_path, backend="systemd")
    assert mine.failregex
    assert not [
        r for r in mine.failregex if "<mode>" in r or re.search(r"<[\w-]+-" + re.escape(mode or "@"), r)
    ]
    theirs = load_filter(str(UPSTREAM / f"{name}.conf"), backend="systemd", packaged=packaged.FILE)
    assert bool(mine.journalmatch) >= bool(theirs.journalmatch)


@pytest.mark.parametrize(
    ("name", "edit", "replaced"),
    [
        ("sshd", False, ["filter.d/sshd.conf", "filter.d/common.conf"]),
        ("sshd", True, []),  # the user's own sshd reads the includes it names, as they are
        ("openvpn", False, ["filter.d/common.conf"]),  # banjail's own filter (stock only): banjail's includes
        ("apache-fakegooglebot", False, ["filter.d/apache-fakegooglebot.conf"]),  # kept as it is
    ],
)
def test_which_packaged_files_give_way(tree: Path, name: str, edit: bool, replaced: list[str]) -> None:
    if edit:
        with open(tree / "filter.d/sshd.conf", "a") as handle:
            handle.write("# mine\n")
    found: list[packaged.Replacement] = []
    read_definition_file(name, "filter", tree, STOCK_DIR, [], replaced=found)
    assert [r.rel for r in found] == replaced
