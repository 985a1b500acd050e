"""Oracle: upstream fail2ban's own journal line formatting (filtersystemd.formatJournalEntry), run under Debian's
/usr/bin/python3. Reads JSON entries (as `journalctl -o json` prints them) one per line on stdin, converts their
fields the way python-systemd's Reader hands them to upstream (ints, datetimes, timedeltas, bytes when a
conversion fails), and prints upstream's line for each as a JSON string. python-systemd itself is not needed: the
module is stubbed, only the formatter runs. Not imported by banjail; used by test_journal_source.py.
"""

from __future__ import annotations

import datetime
import json
import sys
import types

stub = types.ModuleType("systemd")
journal = types.ModuleType("systemd.journal")
journal.__version__ = "252"  # type: ignore[attr-defined]
stub.journal = journal  # type: ignore[attr-defined]
sys.modules["systemd"] = stub
sys.modules["systemd.journal"] = journal

from fail2ban.server.filtersystemd import FilterSystemd  # type: ignore[import-not-found]  # noqa: E402

INTS = {"_PID", "SYSLOG_PID"}


def value(raw: object) -> bytes:
    if isinstance(raw, list):
        return bytes(raw)
    return str(raw).encode("utf-8")


def convert(key: str, raw: object) -> object:
    """What python-systemd's Reader gives for one field: its converter's result, or the raw bytes when the
    converter raises ValueError."""
    if isinstance(raw, list) and not all(isinstance(i, int) for i in raw):
        return [convert(key, item) for item in raw]
    data = value(raw)
    try:
        if key in INTS:
            return int(data)
        if key in ("_SOURCE_REALTIME_TIMESTAMP", "__REALTIME_TIMESTAMP"):
            return datetime.datetime.fromtimestamp(int(data) / 1e6)
        if key == "_SOURCE_MONOTONIC_TIMESTAMP":
            return datetime.timedelta(microseconds=int(data))
        if key == "__MONOTONIC_TIMESTAMP":
            return (datetime.timedelta(microseconds=int(data)), None)
        return data.decode("utf-8")
    except ValueError:
        return data


def main() -> None:
    self = types.SimpleNamespace(jailName="oracle", getLogEncoding=lambda: "utf-8")
    self.getJrnEntTime = lambda entry: FilterSystemd.getJrnEntTime(self, entry)
    for line in sys.stdin:
        entry = {k: convert(k, v) for k, v in json.loads(line).items() if v is not None}
        parts, _time = FilterSystemd.formatJournalEntry(self, entry)
        print(json.dumps("".join(parts)))


main()
