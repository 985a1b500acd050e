"""Log sources: where lines come from (the contract is base.LogSource).

- file.FileSource: one `logpath` value (a path or a glob, including files that appear later), followed with
  inotify (inotify.py, through ctypes) or by polling (watch.py), across rotation and restarts; tail.FileReader
  reads the complete lines of one open file.
- journal.JournalSource: the systemd journal through `journalctl -o json --follow`; journalentry.py builds each
  line the way upstream does.
- backend.choose_backend: what a jail's `backend` option means on this machine.

A source has no jail in it, so one source can feed every jail that watches the same log.
"""
