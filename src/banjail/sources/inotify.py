"""Linux inotify through ctypes on libc: no third-party package, no thread.

The descriptor is non-blocking so it can be registered with the event loop (`loop.add_reader`) and drained until
EAGAIN from the reader callback.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct
from dataclasses import dataclass

IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000

# What a watched file reports: new data, and its own disappearance (the directory watch sees the new name).
FILE_EVENTS = IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF
# What a watched directory reports: names appearing or vanishing, never writes to the files in it (a busy
# /var/log would otherwise wake every source on every write to any log).
DIR_EVENTS = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR

_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC
_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len


@dataclass(frozen=True, slots=True)
class Event:
    wd: int
    mask: int
    name: str


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def parse_events(data: bytes) -> list[Event]:
    """The events packed in one read() of an inotify descriptor."""
    events = []
    at = 0
    while at + _HEADER.size <= len(data):
        wd, mask, _cookie, length = _HEADER.unpack_from(data, at)
        at += _HEADER.size
        name = data[at : at + length].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        at += length
        events.append(Event(wd, mask, name))
    return events


class Inotify:
    """One inotify instance. Raises OSError at construction when the kernel or libc does not provide one."""

    def __init__(self) -> None:
        self._lib = _libc()
        fd = self._lib.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            code = ctypes.get_errno()
            raise OSError(code, f"inotify_init1: {os.strerror(code)}")
        self._fd: int = fd

    def fileno(self) -> int:
        return self._fd

    def add_watch(self, path: str, mask: int) -> int:
        """The watch descriptor for `path` (the same one again if the inode is already watched).

        Raises OSError (ENOENT for a missing path, ENOSPC when max_user_watches is reached)."""
        wd = self._lib.inotify_add_watch(self._fd, os.fsencode(path), ctypes.c_uint32(mask))
        if wd < 0:
            code = ctypes.get_errno()
            raise OSError(code, f"inotify_add_watch {path}: {os.strerror(code)}")
        return int(wd)

    def rm_watch(self, wd: int) -> None:
        """Stop watching; a watch the kernel already dropped (file deleted) is no error."""
        self._lib.inotify_rm_watch(self._fd, wd)

    def read(self) -> list[Event]:
        """Every event queued now; an empty list when none is (never blocks)."""
        events: list[Event] = []
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return events
            except OSError as error:
                if error.errno == errno.EINTR:
                    continue
                raise
            if not data:
                return events
            events.extend(parse_events(data))

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
