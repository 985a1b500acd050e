"""banjail.config.overlay: which files a name reads, in which order, through the config-dir/stock overlay."""

from __future__ import annotations

from pathlib import Path

import pytest

from banjail.config.overlay import STOCK_DIR, Overlay
from banjail.errors import Problem


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def order(tmp_path: Path, config: dict[str, str], stock: dict[str, str], name: str) -> list[str]:
    write(tmp_path / "etc", config)
    write(tmp_path / "stock", stock)
    overlay = Overlay(tmp_path / "etc", tmp_path / "stock")
    return [str(Path(f).relative_to(tmp_path)) for f in overlay.read_name(name).files]


S = "[s]\n"


@pytest.mark.parametrize(
    ("config", "stock", "expected"),
    [
        # X.conf, X.d/*.conf sorted, X.local, X.d/*.local sorted
        (
            {"x.conf": S, "x.local": S, "x.d/b.conf": S, "x.d/a.conf": S, "x.d/b.local": S, "x.d/a.local": S},
            {},
            [
                "etc/x.conf",
                "etc/x.d/a.conf",
                "etc/x.d/b.conf",
                "etc/x.local",
                "etc/x.d/a.local",
                "etc/x.d/b.local",
            ],
        ),
        # a .conf missing in the config dir comes from the stock tree; .local only from the config dir
        ({"x.local": S}, {"x.conf": S, "x.d/a.conf": S}, ["stock/x.conf", "etc/x.local"]),
        # a .conf in the config dir replaces the stock one
        ({"x.conf": S}, {"x.conf": S}, ["etc/x.conf"]),
        # before/after includes relative to the including file, each followed by its .local sibling
        (
            {
                "x.conf": "[INCLUDES]\nbefore = a.conf\nafter = b.conf\n" + S,
                "a.conf": S,
                "a.local": S,
                "b.conf": S,
            },
            {},
            ["etc/a.conf", "etc/a.local", "etc/x.conf", "etc/b.conf"],
        ),
        # includes resolve through the overlay
        ({"x.conf": "[INCLUDES]\nbefore = a.conf\n"}, {"a.conf": S}, ["stock/a.conf", "etc/x.conf"]),
        # recursive, and loop-safe: a file already an ancestor is skipped
        (
            {
                "x.conf": "[INCLUDES]\nbefore = a.conf\n",
                "a.conf": "[INCLUDES]\nbefore = b.conf\n",
                "b.conf": "[INCLUDES]\nbefore = x.conf\n",
            },
            {},
            ["etc/b.conf", "etc/a.conf", "etc/x.conf"],
        ),
        # several includes on several lines, in order; the include list may use %(...)s
        (
            {"x.conf": "[INCLUDES]\nd = c\nbefore = a.conf\n  %(d)s.conf\n", "a.conf": S, "c.conf": S},
            {},
            ["etc/a.conf", "etc/c.conf", "etc/x.conf"],
        ),
        # includes in sub-directories resolve relative to the including file
        (
            {"filter.d/x.conf": "[INCLUDES]\nbefore = common.conf\n"},
            {"filter.d/common.conf": S},
            ["stock/filter.d/common.conf", "etc/filter.d/x.conf"],
        ),
    ],
)
def test_reading_order(
    tmp_path: Path, config: dict[str, str], stock: dict[str, str], expected: list[str]
) -> None:
    name = "filter.d/x" if any(k.startswith("filter.d/x") for k in config) else "x"
    assert order(tmp_path, config, stock, name) == expected


def test_later_files_override_and_keep_known(tmp_path: Path) -> None:
    write(tmp_path, {"x.conf": "[s]\na = 1\nb = 1\n", "x.local": "[s]\na = %(known/a)s+2\n"})
    merged = Overlay(tmp_path, tmp_path / "none").read_name("x")
    assert (merged.get("s", "a"), merged.get("s", "b")) == ("1+2", "1")


def test_jail_conf_local_is_read_after_jail_local_with_a_notice(tmp_path: Path) -> None:
    write(tmp_path, {"jail.local": "[s]\na = 1\n", "jail.conf.local": "[s]\na = 2\n", "jail.d/z.local": S})
    overlay = Overlay(tmp_path, STOCK_DIR)
    merged = overlay.read_name("jail", conf_local=True)
    assert [Path(f).name for f in merged.files][-3:] == ["jail.local", "jail.conf.local", "z.local"]
    assert merged.get("s", "a") == "2"
    assert overlay.notices == [
        f"read {tmp_path}/jail.conf.local after jail.local: upstream fail2ban ignores jail.conf.local, "
        "banjail reads it; consider renaming it to jail.local"
    ]


def test_missing_include_is_a_warning_but_missing_local_include_is_silent(tmp_path: Path) -> None:
    write(tmp_path, {"x.conf": "[INCLUDES]\nbefore = gone.conf\nafter = gone.local\n"})
    merged = Overlay(tmp_path, tmp_path / "none").read_name("x")
    assert merged.problems == [
        Problem(
            "included file 'gone.conf' not found",
            str(tmp_path / "x.conf"),
            2,
            "INCLUDES",
            "before",
            severity="warning",
            fix="create it or remove it from the list",
        )
    ]


def test_stock_dir_is_the_packaged_tree() -> None:
    assert (STOCK_DIR / "jail.conf").is_file()
    assert (STOCK_DIR / "filter.d" / "sshd.conf").is_file()
