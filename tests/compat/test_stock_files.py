"""Every file in upstream's filter.d and action.d loads with banjail's reader without error (warnings are
allowed), and every filter compiles into a matcher."""

from __future__ import annotations

from pathlib import Path

import pytest

from banjail.errors import ConfigError

from .corpus import CONFIG_DIR
from .harness import upstream_present

pytestmark = [
    pytest.mark.compat,
    pytest.mark.skipif(
        not upstream_present(), reason="upstream fail2ban (Debian package `fail2ban`) is not installed"
    ),
]


# Include-only files that upstream's own reader refuses as well (options they use are defined by the includers).
INCLUDE_ONLY = {"selinux-common.conf": "%(_type)s and friends are defined by selinux-ssh.conf"}


def _names(kind: str, *suffixes: str) -> list[object]:
    directory = CONFIG_DIR / f"{kind}.d"
    if not directory.is_dir():
        return []
    names = sorted(p.name for p in directory.iterdir() if p.is_file() and p.suffix in suffixes)
    return [
        pytest.param(n, marks=pytest.mark.xfail(raises=ConfigError, strict=True, reason=INCLUDE_ONLY[n]))
        if n in INCLUDE_ONLY
        else n
        for n in names
    ]


@pytest.mark.parametrize("name", _names("filter", ".conf"))
def test_filter_loads_and_compiles(name: str) -> None:
    from banjail.config.load import load_filter
    from banjail.filter.matcher import Matcher

    spec = load_filter(Path(name).stem, config_dir=CONFIG_DIR)
    assert spec.file == str(CONFIG_DIR / "filter.d" / name)
    Matcher(spec)


@pytest.mark.parametrize("name", _names("action", ".conf", ".py"))
def test_action_loads(name: str) -> None:
    from banjail.config.load import load_action

    spec = name if name.endswith(".py") else Path(name).stem
    load_action(spec, config_dir=CONFIG_DIR, jail="compat")
