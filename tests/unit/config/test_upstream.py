"""banjail's reader against upstream fail2ban's own (the Debian package), on upstream's stock configuration.

Upstream runs once per test session in its own interpreter (upstream_oracle.py) and its answers are cached; each
filter, action and jail is then compared as its own test case.
"""

from __future__ import annotations

import functools
import json
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from banjail.config.jail import load_config
from banjail.config.load import load_action, load_filter
from banjail.config.tags import substitute
from banjail.errors import ConfigError

ETC = Path("/etc/fail2ban")
UPSTREAM_PYTHON = "/usr/bin/python3"
ORACLE = Path(__file__).with_name("upstream_oracle.py")
HAVE_UPSTREAM = (ETC / "jail.conf").is_file() and Path(
    "/usr/lib/python3/dist-packages/fail2ban/client/filterreader.py"
).is_file()

# upstream is run on the same files: banjail reads fail2ban's packaged filters as files here (tests/dpkg_status.py)
pytestmark = [
    pytest.mark.usefixtures("upstream_reading"),
    pytest.mark.compat,
    pytest.mark.skipif(
        not HAVE_UPSTREAM, reason="upstream fail2ban (Debian package) and /etc/fail2ban not installed"
    ),
]


def _names(kind: str) -> list[str]:
    return sorted(p.name[:-5] for p in (ETC / kind).glob("*.conf")) if HAVE_UPSTREAM else []


FILTERS = _names("filter.d")
ACTIONS = _names("action.d")
# Variants that exercise [Init] modes and arguments, besides every filter with no arguments.
FILTER_VARIANTS = (
    [(name, {}) for name in FILTERS]
    + [("sshd", {"mode": mode}) for mode in ("normal", "ddos", "extra", "aggressive")]
    + [
        ("postfix", {"mode": "aggressive"}),
        ("postfix", {"mode": "auth"}),
        ("dovecot", {"mode": "aggressive"}),
        ("nginx-http-auth", {"mode": "fallback"}),
        ("apache-fakegooglebot", {"logtype": "journal"}),
        ("sshd", {"logtype": "journal"}),
        ("recidive", {"_jailname": "other"}),
    ]
)
# Upstream itself cannot load these on their own (include-only libraries with unresolved references).
UPSTREAM_REJECTS = {"selinux-common"}


def _key(name: str, args: dict[str, str]) -> str:
    return name + json.dumps(args, sort_keys=True)


@functools.cache
def oracle(basedir: str, jails: bool) -> dict[str, Any]:
    request = {
        "basedir": basedir,
        "filters": [[name, args] for name, args in FILTER_VARIANTS] if not jails else [],
        "actions": [[name, {}] for name in ACTIONS] if not jails else [],
        "jails": jails,
    }
    done = subprocess.run(
        [UPSTREAM_PYTHON, str(ORACLE)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _filter_view(spec: Any) -> dict[str, Any]:
    return {
        "failregex": list(spec.failregex),
        "ignoreregex": list(spec.ignoreregex),
        "prefregex": spec.prefregex,
        "datepattern": list(spec.datepattern),
        "maxlines": spec.maxlines,
        "journalmatch": [" ".join(shlex.split(line)) for line in spec.journalmatch],
    }


def _upstream_filter_view(up: dict[str, Any]) -> dict[str, Any]:
    return {
        "failregex": up["failregex"],
        "ignoreregex": up["ignoreregex"],
        "prefregex": up["prefregex"],
        "datepattern": [line.strip() for line in up["datepattern"].split("\n") if line.strip()],
        "maxlines": int(up["maxlines"] or 1),
        "journalmatch": up["journalmatch"],
    }


@pytest.mark.parametrize(("name", "args"), FILTER_VARIANTS, ids=[_key(n, a) for n, a in FILTER_VARIANTS])
def test_filter_resolves_as_upstream(name: str, args: dict[str, str]) -> None:
    up = oracle(str(ETC), False)["filters"][_key(name, args)]
    if name in UPSTREAM_REJECTS:
        assert "error" in up
        with pytest.raises(ConfigError) as info:
            load_filter(name, config_dir=ETC, args=args)
        assert info.value.problems[0].file == str(ETC / "filter.d" / f"{name}.conf")
        return
    backend = "systemd" if args.get("logtype") == "journal" else "auto"
    mine = load_filter(name, config_dir=ETC, args=args, backend=backend)
    assert _filter_view(mine) == _upstream_filter_view(up)


BOOLEAN_OPTIONS = {"actionstart_on_demand", "actionrepair_on_unban", "norestored"}
RUNTIME = {"matches", "ipmatches", "ipjailmatches", "timeout", "bantime"}


def _upstream_action_view(options: dict[str, str]) -> dict[str, str]:
    # Upstream sends [Init] values raw and substitutes them in the server; substitute them here the same way so
    # the comparison is of meaning, not of when the substitution happens.
    options = {k: v for k, v in options.items() if v != "None"}
    skipped = {key.split("?", 1)[0] for key in options if "?" in key}
    return substitute(options, ignore=RUNTIME | skipped)


def _action_view(action: Any) -> dict[str, str]:
    view = dict(action.options)
    for key in BOOLEAN_OPTIONS & view.keys():
        view[key] = str(view[key].lower() in ("1", "on", "true", "yes"))
    for family, values in action.family_options.items():
        view.update({f"{key}?family={family}": value for key, value in values.items()})
    return view


@pytest.mark.parametrize("name", ACTIONS)
def test_action_resolves_as_upstream(name: str) -> None:
    up = oracle(str(ETC), False)["actions"][_key(name, {})]
    mine = load_action(name, config_dir=ETC, jail="jail")
    assert mine.name == up["name"]
    assert _action_view(mine) == _upstream_action_view(up["options"])


@functools.cache
def all_jails_tree(tmp: str) -> Path:
    root = Path(tmp) / "etc-all-jails"
    shutil.copytree(ETC, root)
    (root / "jail.local").write_text("[DEFAULT]\nenabled = true\n")
    return root


@pytest.fixture(scope="module")
def jails_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    root = all_jails_tree(str(tmp_path_factory.mktemp("upstream")))
    up = oracle(str(root), True)["jails"]
    mine = {jail.name: jail for jail in load_config(root).jails}
    return up, mine


def test_every_upstream_jail_loads(jails_pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    up, mine = jails_pair
    assert sorted(mine) == sorted(up)


def test_jails_resolve_as_upstream(jails_pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    up, mine = jails_pair
    differences = {}
    for name, theirs in up.items():
        jail = mine[name]
        ours = _filter_view(jail.filter)
        ref = _upstream_filter_view(
            {
                "failregex": theirs["failregex"],
                "ignoreregex": theirs["ignoreregex"],
                "prefregex": theirs["set"].get("prefregex", ""),
                "datepattern": theirs["set"].get("datepattern", ""),
                "maxlines": theirs["set"].get("maxlines", ""),
                "journalmatch": theirs["set"].get("addjournalmatch", []),
            }
        )
        ours_simple = {
            "backend": jail.backend,
            "maxretry": str(jail.maxretry),
            "findtime": jail.options.get("findtime"),
            "bantime": jail.options.get("bantime"),
            "actions": {
                a.name: {k: v for k, v in _action_view(a).items() if k.startswith("action")}
                for a in jail.action_specs
            },
        }
        ref_simple = {
            "backend": theirs["backend"],
            "maxretry": theirs["set"].get("maxretry"),
            "findtime": theirs["set"].get("findtime"),
            "bantime": theirs["set"].get("bantime"),
            "actions": {
                n: {k: v for k, v in _upstream_action_view(o).items() if k.startswith("action")}
                for n, o in theirs["actions"].items()
            },
        }
        if (ours, ours_simple) != (ref, ref_simple):
            differences[name] = {"ours": (ours, ours_simple), "upstream": (ref, ref_simple)}
    assert differences == {}
