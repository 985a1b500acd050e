"""banjail.config.load: filters and actions resolved from small trees written per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from banjail.config.load import load_action, load_filter
from banjail.errors import ConfigError, Problem
from banjail.model import FilterSpec

COMMON = """[DEFAULT]
_daemon = \\S*
__prefix = %(_daemon)s\\[\\d+\\]:
"""

FILTER = """[INCLUDES]
before = common.conf

[Init]
mode = normal

[Definition]
_daemon = food
mdre-normal = ^bad login from <HOST>$
mdre-extra = <mdre-normal>
              ^worse from <HOST>$
failregex = <mdre-<mode>>
ignoreregex =
prefregex = ^%(__prefix)s <F-CONTENT>.+</F-CONTENT>$
datepattern = ^%%Y-%%m-%%d
              {^LN-BEG}
journalmatch = _SYSTEMD_UNIT=food.service
logtypeseen = <logtype>
"""


@pytest.fixture
def etc(tmp_path: Path) -> Path:
    root = tmp_path / "etc"
    (root / "filter.d").mkdir(parents=True)
    (root / "action.d").mkdir()
    (root / "filter.d" / "common.conf").write_text(COMMON)
    (root / "filter.d" / "food.conf").write_text(FILTER)
    return root


def load(etc: Path, spec: str = "food", **kwargs: object) -> FilterSpec:
    return load_filter(spec, config_dir=etc, stock_dir=etc.parent / "nostock", **kwargs)  # type: ignore[arg-type]


def test_filter_resolves_includes_tags_and_percent(etc: Path) -> None:
    assert load(etc) == FilterSpec(
        failregex=("^bad login from <HOST>$",),
        ignoreregex=(),
        prefregex=r"^food\[\d+\]: <F-CONTENT>.+</F-CONTENT>$",
        datepattern=("^%Y-%m-%d", "{^LN-BEG}"),
        maxlines=1,
        journalmatch=("_SYSTEMD_UNIT=food.service",),
        usedns="warn",
        name="food",
        file=str(etc / "filter.d" / "food.conf"),
    )


@pytest.mark.parametrize(
    ("spec", "args", "failregex"),
    [
        ("food[mode=extra]", None, ("^bad login from <HOST>$", "^worse from <HOST>$")),
        ("food", {"mode": "extra"}, ("^bad login from <HOST>$", "^worse from <HOST>$")),
        ("food[mode=extra]", {"mode": "normal"}, ("^bad login from <HOST>$",)),  # args over the spec's
        ("food[failregex=^x <HOST>$]", None, ("^x <HOST>$",)),  # args over [Definition]
    ],
)
def test_filter_arguments(
    etc: Path, spec: str, args: dict[str, str] | None, failregex: tuple[str, ...]
) -> None:
    assert load(etc, spec, args=args).failregex == failregex


def test_args_reach_percent_interpolation(etc: Path) -> None:
    assert load(etc, "food[_daemon=drink]").prefregex == r"^drink\[\d+\]: <F-CONTENT>.+</F-CONTENT>$"


def test_local_overrides_and_known(etc: Path) -> None:
    (etc / "filter.d" / "food.local").write_text(
        "[Definition]\nfailregex = %(known/failregex)s\n            ^also <HOST>$\n"
    )
    assert load(etc).failregex == ("^bad login from <HOST>$", "^also <HOST>$")


def test_init_values_are_known_too(etc: Path) -> None:
    # known/<opt> is the [Init] value, even when an argument overrides the option itself.
    (etc / "filter.d" / "food.local").write_text("[Definition]\nignoreregex = <known/mode>\n")
    spec = load(etc, "food[mode=extra]")
    assert (len(spec.failregex), spec.ignoreregex) == (2, ("normal",))


def test_undefined_reference_is_reported(etc: Path) -> None:
    (etc / "filter.d" / "food.local").write_text("[Definition]\nfailregex = %(undefined)s\n")
    with pytest.raises(ConfigError) as info:
        load(etc)
    assert str(info.value) == (
        f"{etc}/filter.d/food.local:2: [Definition] failregex = '%(undefined)s': %(undefined)s refers to an option "
        "that is not defined (define undefined in [Definition] or [DEFAULT], or fix the name)"
    )


@pytest.mark.parametrize(
    ("jail_options", "field", "value"),
    [
        ({"failregex": "^jail <HOST>$\n^two <HOST>$"}, "failregex", ("^jail <HOST>$", "^two <HOST>$")),
        ({"maxlines": "3"}, "maxlines", 3),
        ({"usedns": "no"}, "usedns", "no"),
        ({"logtimezone": "UTC"}, "logtimezone", "UTC"),
        ({"datepattern": "%%s"}, "datepattern", ("%%s",)),  # jail values arrive interpolated already
        ({"_daemon": "x"}, "prefregex", r"^x\[\d+\]: <F-CONTENT>.+</F-CONTENT>$"),
    ],
)
def test_jail_options_override(etc: Path, jail_options: dict[str, str], field: str, value: object) -> None:
    assert getattr(load(etc, jail_options=jail_options), field) == value


def test_logtype_follows_the_backend(etc: Path) -> None:
    (etc / "filter.d" / "food.local").write_text("[Definition]\nignoreregex = <logtype>\n")
    assert load(etc).ignoreregex == ("file",)
    assert load(etc, backend="systemd").ignoreregex == ("journal",)
    assert load(etc, "food[logtype=short]", backend="systemd").ignoreregex == ("short",)


@pytest.mark.parametrize(
    "form", ["{d}/filter.d/food.conf", "{d}/filter.d/food", "{d}/filter.d/food.conf[mode=extra]"]
)
def test_path_inside_filter_d_reads_the_whole_name(etc: Path, form: str) -> None:
    (etc / "filter.d" / "food.local").write_text("[Definition]\nignoreregex = local-seen\n")
    spec = load(
        etc,
        form.format(d=etc),
    )
    assert spec.ignoreregex == ("local-seen",)
    assert spec.name == "food"


def test_foreign_file_with_sibling_local_and_relative_include(etc: Path, tmp_path: Path) -> None:
    other = tmp_path / "mine"
    other.mkdir()
    (other / "common.conf").write_text(COMMON)
    (other / "x.conf").write_text(FILTER)
    (other / "x.local").write_text("[Definition]\nignoreregex = sibling\n")
    spec = load(etc, f"{other}/x[mode=extra]")
    assert (len(spec.failregex), spec.ignoreregex, spec.file) == (2, ("sibling",), str(other / "x.conf"))


def test_stock_tree_supplies_missing_filters(etc: Path) -> None:
    spec = load_filter("sshd", config_dir=etc)
    assert spec.file.endswith("banjail/stock/filter.d/sshd.conf")
    assert spec.failregex


@pytest.mark.parametrize(
    ("spec", "local", "problems"),
    [
        (
            "nope",
            "",
            [
                Problem(
                    "filter 'nope' not found",
                    fix="looked for {etc}/filter.d/nope.conf and {stock}/filter.d/nope.conf",
                )
            ],
        ),
        (
            "food[mode",
            "",
            [
                Problem(
                    "invalid filter specification: arguments of 'food' must end with ']': 'food[mode'",
                    value="food[mode",
                    fix="write name[key=value, ...]",
                )
            ],
        ),
        (
            "food",
            "[Definition]\nmaxlines = many\nusedns = perhaps\n",
            [
                Problem(
                    "must be a whole number of at least 1",
                    "{etc}/filter.d/food.local",
                    2,
                    "Definition",
                    "maxlines",
                    "many",
                    "for example maxlines = 2",
                ),
                Problem(
                    "is not a known DNS mode",
                    "{etc}/filter.d/food.local",
                    3,
                    "Definition",
                    "usedns",
                    "perhaps",
                    "use one of yes, warn, no, raw",
                ),
            ],
        ),
        (
            "food",
            "[Definition]\nfailregex = once\nfailregex = twice\n",
            [
                Problem(
                    "option is given twice in this section of the same file",
                    "{etc}/filter.d/food.local",
                    3,
                    "Definition",
                    "failregex",
                    fix="keep only one of them (a later file such as a .local may override it)",
                ),
            ],
        ),
        (
            "food",
            "[Definition]\nfailregex = <a>\na = <failregex>\n",
            [
                Problem(
                    "tag <failregex> refers to itself (failregex -> a -> failregex)",
                    "{etc}/filter.d/food.local",
                    2,
                    "Definition",
                    "failregex",
                    fix="break the cycle between these tags",
                )
            ],
        ),
    ],
)
def test_filter_errors_collect_every_problem(
    etc: Path, spec: str, local: str, problems: list[Problem]
) -> None:
    if local:
        (etc / "filter.d" / "food.local").write_text(local)
    with pytest.raises(ConfigError) as info:
        load(etc, spec)
    stock = etc.parent / "nostock"

    def fill(text: str) -> str:
        return text.format(etc=etc, stock=stock)

    expected = [
        Problem(fill(p.message), fill(p.file), p.line, p.section, p.option, p.value, fill(p.fix), p.severity)
        for p in problems
    ]
    assert info.value.problems == expected


ACTION = """[INCLUDES]
before = base.conf

[Definition]
actionstart = <cmd> -N f2b-<name>
actionban = <cmd> -I f2b-<name> -s <ip> -j <blocktype> # <bantime> <matches>
actionunban = <cmd> -D f2b-<name> -s <ip> -j <blocktype>
helper = not an action option

[Init]
cmd = iptables <lock>
lock = -w
blocktype = REJECT

[Init?family=inet6]
cmd = ip6tables <lock>
"""


def test_action_resolution(etc: Path) -> None:
    (etc / "action.d" / "base.conf").write_text("[Init]\nport = 0:65535\n")
    (etc / "action.d" / "fw.conf").write_text(ACTION)
    action = load_action("fw[blocktype=DROP]", config_dir=etc, stock_dir=etc, jail="sshd")
    assert action.name == "fw"
    assert action.file == str(etc / "action.d" / "fw.conf")
    assert action.options == {
        "actionstart": "<cmd> -N f2b-sshd",
        "actionban": "<cmd> -I f2b-sshd -s <ip> -j DROP # <bantime> <matches>",
        "actionunban": "<cmd> -D f2b-sshd -s <ip> -j DROP",
        "blocktype": "DROP",
        "name": "sshd",
        "actname": "fw",
        "port": "0:65535",
        "cmd": "iptables <lock>",
        "lock": "-w",
    }
    assert action.init == {
        "blocktype": "DROP",
        "name": "sshd",
        "actname": "fw",
        "port": "0:65535",
        "cmd": "iptables <lock>",
        "lock": "-w",
    }
    assert action.family_options == {"inet6": {"cmd": "ip6tables -w"}}


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("fw", "fw"),
        ("fw[name=sshd-udp]", "fw-udp"),
        ("fw[name=other]", "fw-other"),
        ("fw[actname=mine]", "mine"),
    ],
)
def test_action_names_are_unique_per_jail(etc: Path, spec: str, name: str) -> None:
    (etc / "action.d" / "fw.conf").write_text("[Definition]\nactionban = x\n")
    assert load_action(spec, config_dir=etc, stock_dir=etc, jail="sshd").name == name


def test_python_action(etc: Path) -> None:
    action = load_action("smtp.py[host=x]", config_dir=etc, stock_dir=etc, jail="j")
    assert (action.name, action.python, action.options) == ("smtp", True, {"host": "x"})


def test_foreign_file_falls_back_to_the_filter_library_for_bare_includes(etc: Path, tmp_path: Path) -> None:
    # Upstream silently loses common.conf here and then fails on %(__prefix)s; banjail finds it in filter.d.
    other = tmp_path / "home"
    other.mkdir()
    (other / "mine.conf").write_text(FILTER)
    spec = load(etc, str(other / "mine.conf"))
    assert spec.prefregex == r"^food\[\d+\]: <F-CONTENT>.+</F-CONTENT>$"
