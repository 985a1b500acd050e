"""SqliteStore and NullStore: the Store contract, and interchange with upstream's own Fail2BanDb."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from banjail.core.banpolicy import BanHistory
from banjail.model import Ban, Position
from banjail.store import StoreError
from banjail.store.null import NullStore
from banjail.store.sqlite import SqliteStore

NOW = 1_700_000_000.0
UPSTREAM_PYTHON = "/usr/bin/python3"
ORACLE = Path(__file__).with_name("oracle_database.py")
HAS_UPSTREAM = Path("/usr/lib/python3/dist-packages/fail2ban/server/database.py").exists()


def ban(
    fid: str,
    at: float,
    length: float | None,
    *,
    jail: str = "sshd",
    count: int = 1,
    lines: tuple[str, ...] = ("Failed password for root from x",),
    groups: tuple[tuple[str, str], ...] = (),
    failures: int = 3,
) -> Ban:
    return Ban(
        jail=jail,
        fid=fid,
        ip=fid if fid[0].isdigit() or ":" in fid else None,
        at=at,
        until=None if length is None else at + length,
        count=count,
        failures=failures,
        lines=lines,
        groups=groups,
    )


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqliteStore]:
    path = ":memory:" if request.param == "memory" else str(tmp_path / "banjail.sqlite3")
    opened = SqliteStore(path)
    yield opened
    opened.close()


def restored(b: Ban) -> Ban:
    return Ban(b.jail, b.fid, b.ip, b.at, b.until, b.count, b.failures, b.lines, b.groups, restored=True)


def test_active_bans_are_those_in_force(store: SqliteStore) -> None:
    active = ban("192.0.2.1", NOW - 100, 600)
    permanent = ban("192.0.2.2", NOW - 10**7, None, count=4)
    expired = ban("192.0.2.3", NOW - 700, 600)
    other_jail = ban("2001:db8::1", NOW - 5, 3600, jail="recidive", groups=(("user", "bob"),))
    store.add_bans([active, permanent, expired, other_jail])
    assert store.active_bans(NOW) == [restored(other_jail), restored(permanent), restored(active)]
    assert store.active_bans(NOW, jail="sshd") == [restored(permanent), restored(active)]
    assert store.active_bans(NOW + 600, jail="sshd") == [restored(permanent)]


def test_bans_sharing_one_data_text_are_read_each_whole(store: SqliteStore) -> None:
    # Identical data texts are parsed once: every ban still gets its own fid, ip, times and the shared fields.
    bans = [
        ban(f"192.0.2.{i}", NOW - i, 600, lines=("same line",), groups=(("user", "bob"),))
        for i in range(1, 4)
    ]
    named = Ban(
        "sshd", "bob", None, NOW - 9, NOW + 99, 2, 3, ("same line",), (("ip", "192.0.2.9"), ("user", "bob"))
    )
    store.add_bans([*bans, named])
    assert store.active_bans(NOW) == [
        Ban("sshd", "bob", "192.0.2.9", NOW - 9, NOW + 99, 2, 3, named.lines, named.groups, restored=True),
        *(restored(b) for b in reversed(bans)),
    ]


def test_newest_ban_replaces_the_current_one_and_history_counts(store: SqliteStore) -> None:
    store.add_ban(ban("192.0.2.1", NOW - 5000, 600, count=1))
    store.add_ban(ban("192.0.2.1", NOW - 100, 1200, count=2))
    store.add_ban(ban("192.0.2.1", NOW - 50, 600, jail="apache", count=1))
    assert [(b.jail, b.until) for b in store.active_bans(NOW)] == [
        ("apache", NOW + 550),
        ("sshd", NOW + 1100),
    ]
    assert store.ban_history("192.0.2.1", "sshd") == BanHistory(2, NOW - 100, 1200)
    assert store.ban_history("192.0.2.1", None) == BanHistory(3, NOW - 50, 1800)  # overalljails: sums
    assert store.ban_count("192.0.2.1", "apache") == 1
    assert store.ban_history("192.0.2.9", "sshd") is None
    assert store.ban_count("192.0.2.9", None) == 0


def test_manual_unban_deletes_and_expiry_keeps(store: SqliteStore) -> None:
    store.add_bans(
        [ban("192.0.2.1", NOW, 600), ban("192.0.2.2", NOW, 600), ban("192.0.2.3", NOW, 600, jail="x")]
    )
    store.del_ban("sshd", "192.0.2.1")
    assert [b.fid for b in store.active_bans(NOW)] == ["192.0.2.2", "192.0.2.3"]
    assert store.ban_count("192.0.2.1", "sshd") == 0
    assert store.ban_count("192.0.2.2", "sshd") == 1
    assert store.active_bans(NOW + 601) == []
    assert store.ban_count("192.0.2.2", "sshd") == 1  # expired, still remembered for bantime.increment
    store.del_ban("sshd")
    assert store.ban_count("192.0.2.2", "sshd") == 0
    assert store.ban_count("192.0.2.3", "x") == 1


def test_matches_are_bounded_by_max_matches(tmp_path: Path) -> None:
    lines = tuple(f"line {i}" for i in range(15))
    for max_matches, expected in [(10, lines[-10:]), (3, lines[-3:]), (0, ())]:
        store = SqliteStore(":memory:", max_matches=max_matches)
        store.add_ban(ban("192.0.2.1", NOW, 600, lines=lines))
        assert store.active_bans(NOW)[0].lines == expected
        store.close()


def test_positions(store: SqliteStore) -> None:
    assert store.get_position("sshd", "/var/log/auth.log") is None
    store.set_position("sshd", "/var/log/auth.log", Position(offset=1234, first_line_hash="abc"))
    store.set_position("sshd", "/var/log/auth.log", Position(offset=5678, first_line_hash="abc"))
    store.set_position("sshd", "journal:sshd", Position(offset=17, cursor="s=1;i=2"))
    assert store.get_position("sshd", "/var/log/auth.log") == Position(5678, "abc")
    assert store.get_position("sshd", "journal:sshd") == Position(17, cursor="s=1;i=2")
    assert store.get_position("other", "/var/log/auth.log") is None


def test_purge(store: SqliteStore) -> None:
    day = 86400.0
    store.add_jail("gone")
    store.add_bans(
        [
            ban("192.0.2.1", NOW - 2 * day, 600),  # old and long over: dropped everywhere
            ban("192.0.2.2", NOW - 2 * day, None),  # permanent: stays current, history dropped
            ban("192.0.2.3", NOW - 2 * day, 20 * day),  # still active: stays current
            ban("192.0.2.4", NOW - 100, 600),
        ]
    )
    store.disable_jail("gone")
    store.purge(NOW, day)
    assert [b.fid for b in store.active_bans(NOW)] == ["192.0.2.2", "192.0.2.3", "192.0.2.4"]
    assert [store.ban_count(f"192.0.2.{i}", "sshd") for i in range(1, 5)] == [0, 1, 1, 1]
    tables = sqlite3.connect(store.path) if store.path != ":memory:" else store._db
    assert tables.execute("SELECT count(*) FROM bans").fetchone() == (1,)
    assert tables.execute("SELECT name FROM jails ORDER BY name").fetchall() == [("sshd",)]


def test_file_is_wal_and_survives_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sqlite3")
    store = SqliteStore(path)
    store.add_ban(ban("192.0.2.1", NOW, 600))
    # No close: the ban must already be committed (as after kill -9).
    other = SqliteStore(path)
    assert [b.fid for b in other.active_bans(NOW)] == ["192.0.2.1"]
    assert other._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    other.close()
    store.close()


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (
            "CREATE TABLE fail2banDb(version INTEGER); INSERT INTO fail2banDb VALUES(5);",
            "has schema version 5",
        ),
        (
            "CREATE TABLE fail2banDb(version INTEGER); INSERT INTO fail2banDb VALUES(2);",
            "has schema version 2",
        ),
    ],
)
def test_unusable_databases_are_refused(tmp_path: Path, setup: str, message: str) -> None:
    path = tmp_path / "db.sqlite3"
    sqlite3.connect(path).executescript(setup)
    with pytest.raises(StoreError, match=message):
        SqliteStore(str(path))


def test_garbage_file_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError) as caught:
        SqliteStore(str(path))
    assert str(caught.value) == (
        f"cannot use the database {str(path)!r}: file is not a database (move the file away to start with an "
        "empty database, or set dbfile = None)"
    )


def test_null_store_remembers_nothing() -> None:
    store = NullStore()
    store.add_ban(ban("192.0.2.1", NOW, 600))
    store.set_position("sshd", "/var/log/auth.log", Position(10))
    assert store.active_bans(NOW) == []
    assert store.ban_history("192.0.2.1", "sshd") is None
    assert store.ban_count("192.0.2.1", None) == 0
    assert store.get_position("sshd", "/var/log/auth.log") is None


# -- interchange with upstream's Fail2BanDb ----------------------------------------------------------------------


def upstream(command: str, path: Path, plan: dict[str, object]) -> dict[str, object]:
    out = subprocess.run(
        [UPSTREAM_PYTHON, str(ORACLE), command, str(path), str(NOW)],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


@pytest.mark.compat
@pytest.mark.skipif(not HAS_UPSTREAM, reason="upstream fail2ban not installed")
def test_restores_bans_from_a_database_upstream_wrote(tmp_path: Path) -> None:
    path = tmp_path / "fail2ban.sqlite3"
    matches = [["", "Nov 25 10:00:01", " sshd[1]: Failed password for root from 192.0.2.1"], "plain line"]
    plan = {
        "jails": ["sshd", "recidive"],
        "bans": [
            {"jail": "sshd", "ip": "192.0.2.1", "time": NOW - 100, "bantime": 600, "count": 1,
             "data": {"matches": matches, "failures": 5, "user": "root"}},
            {"jail": "sshd", "ip": "192.0.2.2", "time": NOW - 10**6, "bantime": -1, "count": 3,
             "data": {"failures": 3}},
            {"jail": "sshd", "ip": "192.0.2.3", "time": NOW - 700, "bantime": 600, "count": 1,
             "data": {"failures": 3}},
            {"jail": "recidive", "ip": "192.0.2.1", "time": NOW - 50, "bantime": 604800, "count": 2,
             "data": {"failures": 5}},
        ],
        "logs": [["sshd", "/var/log/auth.log", 4242, "d41d8cd98f00b204e9800998ecf8427e"]],
    }  # fmt: skip
    upstream("write", path, plan)
    store = SqliteStore(str(path))
    assert [(b.jail, b.fid, b.at, b.until, b.count, b.failures) for b in store.active_bans(NOW)] == [
        ("recidive", "192.0.2.1", NOW - 50, NOW - 50 + 604800, 2, 5),
        ("sshd", "192.0.2.2", NOW - 10**6, None, 3, 3),
        ("sshd", "192.0.2.1", NOW - 100, NOW + 500, 1, 5),
    ]
    first = store.active_bans(NOW, "sshd")[1]
    assert first.lines == (
        "Nov 25 10:00:01 sshd[1]: Failed password for root from 192.0.2.1",
        "plain line",
    )
    assert (first.ip, first.groups, first.restored) == ("192.0.2.1", (("user", "root"),), True)
    assert store.ban_history("192.0.2.1", None) == BanHistory(3, NOW - 50, 604800 + 600)
    assert store.get_position("sshd", "/var/log/auth.log") == Position(
        4242, "d41d8cd98f00b204e9800998ecf8427e"
    )
    store.close()


@pytest.mark.compat
@pytest.mark.skipif(not HAS_UPSTREAM, reason="upstream fail2ban not installed")
def test_upstream_reads_a_database_banjail_wrote(tmp_path: Path) -> None:
    path = tmp_path / "banjail.sqlite3"
    store = SqliteStore(str(path))
    store.add_bans(
        [
            ban("192.0.2.1", NOW - 100.4, 600, lines=("l1", "l2"), groups=(("user", "root"),)),
            ban("192.0.2.1", NOW - 30, 1200, count=2, lines=("l3",)),
            ban("192.0.2.2", NOW - 10**6, None, count=7),
            ban("192.0.2.3", NOW - 700, 600),
            ban("2001:db8::5", NOW - 10, 3600, jail="recidive"),
        ]
    )
    store.set_position("sshd", "/var/log/auth.log", Position(99, "0123456789abcdef0123456789abcdef"))
    store.close()
    plan = {
        "jails": ["sshd", "recidive"],
        "history": [["192.0.2.1", "sshd"], ["192.0.2.1", ""], ["192.0.2.9", "sshd"]],
        "logs": [
            ["sshd", "/var/log/auth.log", "0123456789abcdef0123456789abcdef"],
            ["sshd", "/var/log/auth.log", "ffffffffffffffffffffffffffffffff"],
        ],
    }
    theirs = upstream("read", path, plan)
    assert theirs["current"] == [
        ["sshd", "192.0.2.1", NOW - 30, 1200, 2, 3, ["l3"]],
        ["sshd", "192.0.2.2", NOW - 10**6, -1, 7, 3, ["Failed password for root from x"]],
        ["recidive", "2001:db8::5", NOW - 10, 3600, 1, 3, ["Failed password for root from x"]],
    ]
    assert theirs["history"] == {
        "192.0.2.1|sshd": [[2, NOW - 30, 1200]],
        "192.0.2.1|": [[2, NOW - 30, 1200]],
        "192.0.2.9|sshd": [],
    }
    # The saved offset is offered back only for a file whose first line still has the same hash.
    assert theirs["logs"] == [99, None]
    # Re-open with banjail after upstream touched the file (it switches the journal mode): still readable.
    again = SqliteStore(str(path))
    assert [b.fid for b in again.active_bans(NOW)] == ["2001:db8::5", "192.0.2.2", "192.0.2.1"]
    again.close()


WRITER = """
import sys
from banjail.model import Ban
from banjail.store.sqlite import SqliteStore
store = SqliteStore(sys.argv[1], fsync=sys.argv[2] == "1")
for i in range(100000):
    fid = "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)
    store.add_ban(Ban("sshd", fid, fid, 1.7e9, 1.7e9 + 600, 1, 3, ("line",)))
    print(fid, flush=True)
"""


@pytest.mark.parametrize("trial", range(4))
def test_a_reported_ban_survives_kill_9(tmp_path: Path, trial: int) -> None:
    path = tmp_path / "db.sqlite3"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(trial % 2)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    first = writer.stdout.readline()  # the store is open and writing
    time.sleep(0.05 + 0.05 * trial)
    writer.send_signal(signal.SIGKILL)
    reported = [first.strip(), *(line.strip() for line in writer.stdout)]
    writer.wait()
    store = SqliteStore(str(path))
    stored = {b.fid for b in store.active_bans(1.7e9)}
    store.close()
    assert len(reported) > 1
    assert set(reported) <= stored
    assert len(stored) - len(reported) <= 1  # at most the one committed but not yet printed


MERGED_BANS = [
    ban("192.0.2.1", NOW - 300, 600, lines=("a1", "a2"), failures=2),
    ban("192.0.2.1", NOW - 200, 600, count=2, lines=("b1", "b2", "b3"), failures=3),
    ban("192.0.2.1", NOW - 100, 600, jail="recidive", lines=("c1",), failures=5),
    ban("192.0.2.2", NOW - 100, 600, lines=()),
]
# (fid, jail or "" for all jails, dbmaxmatches) -> (matches, failures) or None
MERGED_CASES: list[tuple[tuple[str, str, int], tuple[tuple[str, ...], int] | None]] = [
    (("192.0.2.1", "sshd", 10), (("a1", "a2", "b1", "b2", "b3"), 5)),
    (("192.0.2.1", "", 10), (("a1", "a2", "b1", "b2", "b3", "c1"), 10)),
    (("192.0.2.1", "", 3), (("b2", "b3", "c1"), 10)),  # the newest bans' lines, oldest first
    (("192.0.2.1", "recidive", 10), (("c1",), 5)),
    (("192.0.2.2", "sshd", 10), ((), 3)),
    (("192.0.2.9", "sshd", 10), None),
]


@pytest.mark.parametrize(("query", "expected"), MERGED_CASES, ids=[str(c[0]) for c in MERGED_CASES])
def test_merged_bans(tmp_path: Path, query: tuple[str, str, int], expected: object) -> None:
    fid, jail, max_matches = query
    store = SqliteStore(str(tmp_path / "db.sqlite3"), max_matches=max_matches, fsync=False)
    store.add_bans(MERGED_BANS)
    found = store.merged_bans(fid, jail or None)
    store.close()
    assert (None if found is None else (found.matches, found.failures)) == expected
    assert NullStore().merged_bans(fid, jail or None) is None


@pytest.mark.compat
@pytest.mark.skipif(not HAS_UPSTREAM, reason="upstream fail2ban not installed")
def test_merged_bans_are_upstreams_get_bans_merged(tmp_path: Path) -> None:
    path = tmp_path / "banjail.sqlite3"
    store = SqliteStore(str(path), fsync=False)
    store.add_bans(MERGED_BANS)
    store.close()
    plan = {"jails": ["sshd"], "history": [], "logs": [], "merged": [list(q) for q, _ in MERGED_CASES]}
    theirs = upstream("read", path, plan)["merged"]
    assert theirs == [None if e is None else [list(e[0]), e[1]] for _, e in MERGED_CASES]
